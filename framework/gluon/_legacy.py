"""Gluon on legacy arrays: networks called with ``nd.NDArray`` behave as in MXNet 1.x.

The design is type-driven at the block call boundary, with zero-copy conversions
(``as_np_ndarray``/``as_nd_ndarray`` share buffer and engine variable, and record a view op
while autograd records or hybridize traces, so gradients and replays cross them):

- A ``HybridBlock`` called with ``NDArray`` inputs converts them to ``np.ndarray``, runs as
  usual (imperative or hybridized: the cached graph is traced on ``np`` arrays) and converts its
  outputs back to ``NDArray`` (a 0-d output becomes shape ``(1,)``). Built-in layers and losses
  are written with ``np``/``npx`` and need nothing else; their outputs (losses included) are
  ``NDArray``, and ``loss.backward()`` reaches the parameters through the conversions.
- While such a call runs (``LEGACY.root``), a block written 1.x-style with
  ``hybrid_forward(self, F, x, ...)`` gets ``F = framework.nd``, its inputs and parameters as
  ``NDArray`` (``LEGACY.user``); its outputs go back to ``np`` for the enclosing block. A graph
  traced this way is cached apart from the ``F = np`` one of the same input signature.
- A plain ``Block`` called with ``NDArray`` inputs runs its ``forward`` on them unchanged (it is
  user code written for legacy arrays); ``Parameter.data()`` then returns ``NDArray`` views, and
  the children it calls convert at their own boundary.

Without ``NDArray`` inputs nothing here runs: NumPy-style code pays one type test per call.
The Trainer and the optimizers work on the parameters' ``np`` arrays in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nd as _nd
from ..nd._base import BaseArray
from ..nd._legacy import LEGACY, as_nd, is_legacy, to_nd_nested, to_np_nested

__all__ = ["is_legacy", "call_legacy", "hybrid_forward_nd", "for_mode", "legacy_key", "LEGACY"]


def call_legacy(block: Any, args: tuple[Any, ...], call: Callable[..., Any],
                hybrid: bool) -> Any:
    """Call ``block`` with ``args`` holding NDArrays (``call(block, args)`` runs the usual
    block machinery); see the module docstring."""
    prev = LEGACY.root, LEGACY.user
    LEGACY.root = True
    try:
        if hybrid:
            LEGACY.user = False
            out = call(block, to_np_nested(args))
            return to_nd_nested(out, one_d_scalars=True)
        LEGACY.user = True
        return call(block, args)
    finally:
        LEGACY.root, LEGACY.user = prev


def hybrid_forward_nd(block: Any, x: Any, args: tuple[Any, ...]) -> Any:
    """Run ``block.hybrid_forward(F=nd, ...)`` on NDArray views of ``x``, ``args`` and the
    parameters; the outputs come back as ``np`` arrays."""
    prev = LEGACY.user
    LEGACY.user = False
    try:
        device = x.device if isinstance(x, BaseArray) else None
        params = {name: as_nd(p.data(device)) for name, p in block._reg_params.items()}
        LEGACY.user = True
        out = block.hybrid_forward(_nd, to_nd_nested(x), *to_nd_nested(args), **params)
    finally:
        LEGACY.user = prev
    return to_np_nested(out)


def for_mode(arr: Any) -> Any:
    """A parameter's array as legacy code expects it: an NDArray view inside legacy code."""
    return as_nd(arr) if LEGACY.user else arr


def legacy_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The hybridize cache key of a call: ``F = nd`` graphs apart from ``F = np`` ones (the key
    keeps its ``(structure, training)`` form)."""
    if not LEGACY.root:
        return key
    return (("legacy", key[0]), key[1])
