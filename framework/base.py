"""Error classes shared by every layer.

``MXNetError`` is an alias of :class:`FrameworkError`, so ``except mx.base.MXNetError`` in MXNet
code catches our errors. Like MXNet's, it is a ``RuntimeError``.
"""

from __future__ import annotations

__all__ = ["FrameworkError", "MXNetError", "NotImplementedForSymbol", "ShapeError", "DTypeError"]


class FrameworkError(RuntimeError):
    """Base error of the framework (MXNet's ``MXNetError``)."""


MXNetError = FrameworkError


class NotImplementedForSymbol(FrameworkError):
    """Raised when a traced (hybridized) value is used in data-dependent Python control flow."""


class ShapeError(FrameworkError, ValueError):
    """A shape mismatch found when an op is called. It is both MXNet's ``MXNetError`` and a
    ``ValueError`` (what NumPy raises), so either ``except`` clause catches it."""


class DTypeError(FrameworkError, TypeError):
    """A dtype an op cannot take; both ``MXNetError`` and ``TypeError``."""
