"""Top-level linear algebra of ``np``: ``outer inner vdot tensordot einsum kron cross trace``.

Products of integer arrays stay integer (MXNet's ``dot`` rule); mixed integer/float inputs take
the float type (``float32 @ int32 -> float32``, where NumPy gives float64).
"""

from __future__ import annotations

from typing import Any

from ..nd import _linalg
from ..nd._base import BaseArray
from ._funcs import _arr, _out

__all__ = ["outer", "inner", "vdot", "tensordot", "einsum", "kron", "cross", "trace"]


def outer(a: Any, b: Any, out: Any = None) -> BaseArray:
    return _out(_linalg.outer(_arr(a, "outer"), _arr(b, "outer")), out)


def inner(a: Any, b: Any, /) -> BaseArray:
    return _linalg.inner(_arr(a, "inner"), _arr(b, "inner"))


def vdot(a: Any, b: Any, /) -> BaseArray:
    return _linalg.vdot(_arr(a, "vdot"), _arr(b, "vdot"))


def tensordot(a: Any, b: Any, axes: Any = 2) -> BaseArray:
    return _linalg.tensordot(_arr(a, "tensordot"), _arr(b, "tensordot"), axes)


def _sublist(sub: Any, i: int) -> str:
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
            continue
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 52:
            raise ValueError(f"einsum: subscript {s!r} in sublist {i} must be an integer in "
                             "[0, 52) or Ellipsis")
        out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
    return "".join(out)


def einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> BaseArray:
    """``dtype``, ``order`` and ``casting`` are not supported; the operands are cast to their
    common dtype (MXNet's promotion) before the product."""
    if kwargs:
        raise TypeError(f"einsum: unsupported keyword argument(s) {sorted(kwargs)}")
    if not operands:
        raise ValueError("einsum: no subscripts and operands given")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        rest = list(operands)
        out_sub = _sublist(rest.pop(), len(rest) // 2) if len(rest) % 2 else None
        arrays = rest[0::2]
        subscripts = ",".join(_sublist(s, i) for i, s in enumerate(rest[1::2]))
        if out_sub is not None:
            subscripts += "->" + out_sub
    xs = [_arr(a, "einsum") for a in arrays]
    return _out(_linalg.einsum(subscripts, *xs, optimize=optimize), out)


def kron(a: Any, b: Any) -> BaseArray:
    return _linalg.kron(_arr(a, "kron"), _arr(b, "kron"))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> BaseArray:
    """Also accepts 2-element vectors without NumPy 2's deprecation warning."""
    return _linalg.cross(_arr(a, "cross"), _arr(b, "cross"), axisa, axisb, axisc, axis)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> BaseArray:
    """Integer input accumulates in int64 (as ``sum`` does)."""
    return _out(_linalg.trace(_arr(a, "trace"), offset, axis1, axis2, dtype), out)
