"""``__getitem__`` and ``__setitem__`` with NumPy's full indexing.

- Basic indexing (ints, slices with any step, ``None``, ``...``) whose result is contiguous
  (``x[0]``, ``x[1:3]``) is a writable view sharing the buffer; other basic results
  (``x[:, 1]``, ``x[::-1]``) are copies, as in MXNet (API.md §2 item 4).
- Advanced indexing with integer arrays (lists, NumPy arrays, framework arrays; float index arrays
  are truncated to integers, since MXNet's arrays are float32 by default) and boolean masks.
  Integer index arrays that live on the device stay asynchronous; a framework boolean mask has a
  data-dependent result shape, so it is read first.
- The output shape and out-of-range indices known on the host are checked at the call, by
  indexing a stand-in array with zero-byte elements that has the same shape.
"""

from __future__ import annotations

from typing import Any

import numpy

from ..base import ShapeError
from . import _create, _shape  # module references: both import this module in turn
from ._base import BaseArray, broadcast_shapes, execute
from ._elemwise import _unbroadcast
from ._op import Op, apply, register
from ._tape import ACTIVE, STATE, check_write, record

__all__ = ["getitem", "setitem"]

_EMPTY = numpy.dtype([])


def _dummy(shape: tuple[int, ...]) -> numpy.ndarray:
    return numpy.empty(shape, dtype=_EMPTY)


def _is_basic(k: Any) -> bool:
    return (k is None or k is Ellipsis or isinstance(k, slice)
            or (isinstance(k, (int, numpy.integer)) and not isinstance(k, (bool, numpy.bool_))))


def _prepare(x: BaseArray, key: Any) -> tuple[tuple[Any, ...], bool, list[tuple[int, BaseArray]]]:
    """Normalise ``key``: (components, all basic?, [(position, device index array)])."""
    if not isinstance(key, tuple):
        key = (key,)
    comps: list[Any] = []
    dev_idx: list[tuple[int, BaseArray]] = []
    basic = True
    for i, k in enumerate(key):
        if _is_basic(k):
            comps.append(int(k) if isinstance(k, numpy.integer) else k)
            continue
        basic = False
        if isinstance(k, BaseArray):
            if k._device != x._device:
                raise IndexError(f"index array is on {k._device}, the indexed array on "
                                 f"{x._device}")
            if k._dtype.kind == "b":
                comps.append(k._host().copy())  # data-dependent result shape: read the mask
            elif k._dtype.kind in "iu":
                comps.append(k)
                dev_idx.append((i, k))
            elif k._dtype.kind == "f":
                k2 = _shape.astype(k, numpy.int64)
                comps.append(k2)
                dev_idx.append((i, k2))
            else:
                raise IndexError(f"arrays used as indices must be of integer or boolean type, "
                                 f"got {k._dtype}")
        elif isinstance(k, (list, numpy.ndarray, bool, numpy.bool_)):
            arr = numpy.asarray(k)
            if arr.dtype.kind == "f":
                arr = arr.astype(numpy.int64)
            elif arr.dtype.kind not in "iub" and arr.size:
                raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), "
                                 f"numpy.newaxis (`None`) and integer or boolean arrays are "
                                 f"valid indices, got {k!r}")
            elif arr.size == 0:
                arr = arr.astype(numpy.intp)
            comps.append(arr)
        elif isinstance(k, float):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), numpy.newaxis "
                             f"(`None`) and integer or boolean arrays are valid indices, got "
                             f"float {k!r}")
        else:
            raise IndexError(f"unsupported index type {type(k).__name__}: {k!r}")
    return tuple(comps), basic, dev_idx


def _shape_of(x: BaseArray, comps: tuple[Any, ...]) -> tuple[int, ...]:
    """Result shape of ``x[comps]``; raises NumPy's IndexError for bad host indices."""
    key = tuple(numpy.zeros(k._shape, dtype=numpy.intp) if isinstance(k, BaseArray) else k
                for k in comps)
    return _dummy(x._shape)[key].shape


def _run_key(comps: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(k._buf if isinstance(k, BaseArray) else k for k in comps)


@register("getitem")
class GetItem(Op):
    """Advanced (or non-contiguous basic) indexing, computed into new memory."""

    def __init__(self, comps: tuple[Any, ...], shape: tuple[int, ...]) -> None:
        self.comps = comps
        self.shape = shape

    def infer(self, x: BaseArray, *idx: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        return [(self.shape, x._dtype)]

    def forward(self, xp: Any, x: Any, *idx: Any) -> Any:
        it = iter(idx)
        key = tuple(next(it) if isinstance(k, BaseArray) else k for k in self.comps)
        r = x[key]
        return xp.array(r, copy=True) if r.base is not None or r is x else r

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, idx = inputs[0], inputs[1:]
        if x._dtype.kind not in "fc":
            return [None] * len(inputs)
        return [_scatter_op(x._shape, x._dtype, self.comps, out_grads[0], idx)] + [None] * len(idx)


@register("_scatter")
class Scatter(Op):
    """``zeros(shape)`` with ``g`` added at ``key`` (repeated indices accumulate): the gradient
    of indexing. Its own gradient is indexing again, so gradients of gradients work."""

    def __init__(self, comps: tuple[Any, ...], shape: tuple[int, ...], dtype: Any) -> None:
        self.comps = comps
        self.shape = shape
        self.dtype = dtype

    def infer(self, g: BaseArray, *idx: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        return [(self.shape, self.dtype)]

    def forward(self, xp: Any, g: Any, *idx: Any) -> Any:
        it = iter(idx)
        key = tuple(next(it) if isinstance(k, BaseArray) else k for k in self.comps)
        z = xp.zeros(self.shape, self.dtype)
        if all(_is_basic(k) for k in key):
            z[key] = g  # basic indexing never selects a position twice
        else:
            xp.add.at(z, key, g)
        return z

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        idx = inputs[1:]
        return [apply(GetItem(self.comps, inputs[0]._shape), (out_grads[0], *idx))] + \
            [None] * len(idx)


def _scatter_op(shape: tuple[int, ...], dtype: Any, comps: tuple[Any, ...], g: BaseArray,
                idx: Any = ()) -> BaseArray:
    return apply(Scatter(comps, shape, dtype), (g, *idx))


def scatter(shape: tuple[int, ...], dtype: Any, key: Any, g: BaseArray) -> BaseArray:
    """``zeros(shape, dtype)`` with ``g`` added at ``key`` (host index arrays or slices)."""
    key = key if isinstance(key, tuple) else (key,)
    dev_idx = [k for k in key if isinstance(k, BaseArray)]
    return _scatter_op(shape, dtype, key, g, dev_idx)


def _record_view(x: BaseArray, out: BaseArray, comps: tuple[Any, ...]) -> BaseArray:
    if ACTIVE.count and STATE.recording:
        record(_IndexView(comps), (x,), (out,))
    return out


class _IndexView(Op):
    """Stands for a basic-indexing view in the autograd graph."""

    name = "getitem_view"

    def __init__(self, comps: tuple[Any, ...]) -> None:
        self.comps = comps

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,) = inputs
        if x._dtype.kind not in "fc":
            return [None]
        return [_scatter_op(x._shape, x._dtype, self.comps, out_grads[0])]

    def replay(self, inputs: Any) -> Any:
        return getitem(inputs[0], self.comps)


@register("setitem")
class SetItem(Op):
    """Records ``x[key] = value``: inputs are ``(x, value if an array, *index arrays)``.

    ``x`` itself gets no gradient: while autograd records, writing into an array that is in the
    graph raises, so ``x``'s old content never needs one.
    """

    def __init__(self, comps: tuple[Any, ...], has_value: bool, scalar: Any) -> None:
        self.comps = comps
        self.has_value = has_value
        self.scalar = scalar

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        if not self.has_value:
            return [None] * len(inputs)
        val, idx = inputs[1], inputs[2:]
        part = apply(GetItem(self.comps, _shape_of(outputs[0], self.comps)), (out_grads[0], *idx))
        return [None, _unbroadcast(part, val)] + [None] * len(idx)

    def replay(self, inputs: Any) -> Any:
        x = inputs[0]
        rest = list(inputs[1:])
        val = rest.pop(0) if self.has_value else self.scalar
        it = iter(rest)
        key = tuple(next(it) if isinstance(k, BaseArray) else k for k in self.comps)
        setitem(x, key, val)
        return x


def getitem(x: BaseArray, key: Any) -> BaseArray:
    comps, basic, dev_idx = _prepare(x, key)
    if basic:
        if not any(k is Ellipsis for k in comps):
            # a trailing `...` makes NumPy return a 0-d view instead of a scalar for `x1d[0]`
            comps = (*comps, Ellipsis)
        buf = x._buf
        if buf is None:
            # decide view-or-copy from strides alone, without touching memory
            probe = numpy.lib.stride_tricks.as_strided(
                numpy.empty(1, dtype=x._dtype), shape=x._shape,
                strides=_c_strides(x._shape, x._dtype.itemsize))
            sub = probe[comps]
            if sub.flags.c_contiguous:
                return _record_view(x, x._view(x._alloc_buffer()[comps]), comps)
            return apply(GetItem(comps, sub.shape), (x,))
        sub = buf[comps]
        if sub.flags.c_contiguous:
            return _record_view(x, x._view(sub), comps)
        return apply(GetItem(comps, sub.shape), (x,))
    shape = _shape_of(x, comps)
    return apply(GetItem(comps, shape), (x, *[a for _, a in dev_idx]))


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides = []
    acc = itemsize
    for d in reversed(shape):
        strides.append(acc)
        acc *= max(d, 1)
    return tuple(reversed(strides))


def setitem(x: BaseArray, key: Any, value: Any) -> None:
    """``x[key] = value`` as an engine task that writes ``x``."""
    check_write(x)
    comps, basic, dev_idx = _prepare(x, key)
    target = _shape_of(x, comps)
    if isinstance(value, BaseArray):
        if value._device != x._device:
            value = _create.to_device(value, x._device)
        val: Any = value
        vshape = value._shape
    elif isinstance(value, (int, float, bool, complex, numpy.generic)):
        val = value.item() if isinstance(value, numpy.generic) else value
        vshape = ()
    else:
        val = _create.array(value, dtype=x._dtype, device=x._device)
        vshape = val._shape
    try:
        if broadcast_shapes(vshape, target, "setitem") != target:
            raise ShapeError("")
    except ShapeError:
        raise ShapeError(f"could not broadcast input array from shape {vshape} into shape "
                         f"{target}") from None
    reads = [a for _, a in dev_idx]
    if isinstance(val, BaseArray):
        reads.append(val)

    def run() -> None:
        xb = x._buf if x._buf is not None else x._alloc_buffer()
        v = val._buf if isinstance(val, BaseArray) else val
        xb[_run_key(comps)] = v

    execute("setitem", run, reads, (), mutated=(x,))
    if ACTIVE.count and STATE.recording:
        is_arr = isinstance(val, BaseArray)
        record(SetItem(comps, is_arr, None if is_arr else val),
               (x, *((val,) if is_arr else ()), *[a for _, a in dev_idx]), (x,))
