"""``np`` functions that are not plain elementwise table rows."""

from __future__ import annotations

from typing import Any

import numpy

from ..device import gpu
from ..nd import _create, _misc, _reduce, _shape
from ..nd._base import BaseArray, array_class
from ..nd._elemwise import _assign_out, is_scalar

__all__ = [
    "sum", "prod", "mean", "std", "var", "max", "min", "amax", "amin", "all", "any", "argmax",
    "argmin", "cumsum", "cumprod", "reshape", "ravel", "transpose", "swapaxes", "expand_dims",
    "squeeze", "broadcast_to", "concatenate", "concat", "stack", "split", "tile", "repeat",
    "flip", "diag", "clip", "where", "dot", "matmul", "sort", "argsort", "take", "nonzero",
    "round", "around", "round_", "shape", "size", "ndim", "from_dlpack", "copy",
]

def _arr(x: Any, op: str) -> BaseArray:
    if isinstance(x, BaseArray):
        return x
    if isinstance(x, numpy.ndarray):
        raise TypeError(f"{op}: got a numpy.ndarray; convert it with np.array(x) first")
    return _create.array(x)


def _out(res: Any, out: Any) -> Any:
    if out is None:
        return res
    return _assign_out("out", out, res)


def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
        keepdims: bool = False, initial: Any = None) -> Any:
    res = _reduce.reduce("sum", _arr(a, "sum"), axis, dtype, keepdims)
    if initial is not None:
        res = res + initial  # type: ignore[operator]
    return _out(res, out)


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("prod", _arr(a, "prod"), axis, dtype, keepdims), out)


def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("mean", _arr(a, "mean"), axis, dtype, keepdims), out)


def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
        keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("std", _arr(a, "std"), axis, dtype, keepdims, ddof), out)


def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
        keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("var", _arr(a, "var"), axis, dtype, keepdims, ddof), out)


def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("max", _arr(a, "max"), axis, None, keepdims), out)


def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("min", _arr(a, "min"), axis, None, keepdims), out)


amax = max
amin = min


def all(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("all", _arr(a, "all"), axis, None, keepdims), out)


def any(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("any", _arr(a, "any"), axis, None, keepdims), out)


def argmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.argreduce("argmax", _arr(a, "argmax"), axis, keepdims), out)


def argmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_reduce.argreduce("argmin", _arr(a, "argmin"), axis, keepdims), out)


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    return _out(_reduce.cumulative("cumsum", _arr(a, "cumsum"), axis, dtype), out)


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    return _out(_reduce.cumulative("cumprod", _arr(a, "cumprod"), axis, dtype), out)


def reshape(a: Any, newshape: Any = None, order: str = "C", shape: Any = None) -> Any:
    if newshape is None:
        newshape = shape
    if newshape is None:
        raise TypeError("reshape: a shape is required")
    return _shape.reshape(_arr(a, "reshape"), newshape, order)


def ravel(a: Any, order: str = "C") -> Any:
    return _shape.ravel(_arr(a, "ravel"))


def transpose(a: Any, axes: Any = None) -> Any:
    return _shape.transpose(_arr(a, "transpose"), axes)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    return _shape.swapaxes(_arr(a, "swapaxes"), axis1, axis2)


def expand_dims(a: Any, axis: Any) -> Any:
    return _shape.expand_dims(_arr(a, "expand_dims"), axis)


def squeeze(a: Any, axis: Any = None) -> Any:
    return _shape.squeeze(_arr(a, "squeeze"), axis)


def broadcast_to(array: Any, shape: Any) -> Any:
    return _shape.broadcast_to(_arr(array, "broadcast_to"), shape)


def concatenate(seq: Any, axis: Any = 0, out: Any = None, dtype: Any = None) -> Any:
    return _out(_shape.concatenate(seq, axis, dtype), out)


concat = concatenate


def stack(arrays: Any, axis: int = 0, out: Any = None) -> Any:
    return _out(_shape.stack(arrays, axis), out)


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    return _shape.split(_arr(ary, "split"), indices_or_sections, axis)


def tile(A: Any, reps: Any) -> Any:
    return _shape.tile(_arr(A, "tile"), reps)


def repeat(a: Any, repeats: int, axis: Any = None) -> Any:
    return _shape.repeat(_arr(a, "repeat"), repeats, axis)


def flip(m: Any, axis: Any = None) -> Any:
    return _shape.flip(_arr(m, "flip"), axis)


def diag(v: Any, k: int = 0) -> Any:
    return _shape.diag(_arr(v, "diag"), k)


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None) -> Any:
    return _out(_shape.clip(_arr(a, "clip"), a_min, a_max), out)


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``where(c, x, y)``; ``where(c)`` is ``nonzero(c)``. Scalars take the other's dtype."""
    cond = _arr(condition, "where")
    if x is None and y is None:
        return _misc.nonzero(cond)
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y should be given")
    ref = x if isinstance(x, BaseArray) else y if isinstance(y, BaseArray) else None
    dev = cond._device
    if is_scalar(x):
        x = _create.full((), x, dtype=ref._dtype if ref is not None else None, device=dev)
    if is_scalar(y):
        y = _create.full((), y, dtype=ref._dtype if ref is not None else x._dtype, device=dev)
    return _shape.where(cond, _arr(x, "where"), _arr(y, "where"))


def dot(a: Any, b: Any, out: Any = None) -> Any:
    return _out(_misc.dot(_arr(a, "dot"), _arr(b, "dot")), out)


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    return _out(_misc.matmul(_arr(a, "matmul"), _arr(b, "matmul")), out)


def sort(a: Any, axis: Any = -1, kind: str | None = None, order: Any = None,
         descending: bool = False) -> Any:
    return _misc.sort(_arr(a, "sort"), axis, descending)


def argsort(a: Any, axis: Any = -1, kind: str | None = None, order: Any = None,
            descending: bool = False) -> Any:
    return _misc.argsort(_arr(a, "argsort"), axis, descending)


def take(a: Any, indices: Any, axis: Any = None, mode: str = "clip", out: Any = None) -> Any:
    a = _arr(a, "take")
    if not isinstance(indices, BaseArray):
        indices = _create.array(indices, dtype=numpy.int64, device=a._device)
    return _out(_misc.take(a, indices, axis, mode), out)


def nonzero(a: Any) -> Any:
    return _misc.nonzero(_arr(a, "nonzero"))


def round(x: Any, decimals: int = 0, out: Any = None) -> Any:
    return _out(_misc.round_(_arr(x, "round"), decimals), out)


around = round
round_ = round


def shape(a: Any) -> tuple[int, ...]:
    return _arr(a, "shape")._shape


def size(a: Any, axis: int | None = None) -> int:
    x = _arr(a, "size")
    return x.size if axis is None else x._shape[axis]


def ndim(a: Any) -> int:
    return _arr(a, "ndim").ndim


def copy(a: Any) -> Any:
    return _shape.copy(_arr(a, "copy"))


def from_dlpack(x: Any, device: Any = None, copy: bool | None = None) -> Any:
    """An array sharing memory with any DLPack producer (NumPy, PyTorch, CuPy...)."""
    dev = getattr(x, "__dlpack_device__", lambda: (1, 0))()
    if dev[0] == 2:
        d = gpu(dev[1])
        return array_class()._wrap(d.xp.from_dlpack(x), d)
    host = numpy.from_dlpack(x)
    return _create.from_numpy(host, zero_copy=not copy)

