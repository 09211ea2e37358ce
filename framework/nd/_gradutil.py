"""Helpers for writing gradients in framework ops, and the gather/scatter pair they need.

Gradients must be written in framework ops (never ``xp`` on buffers) so that they are
differentiable themselves. Data-movement ops whose gradient moves data back (sort, take,
take_along_axis, quantiles, pad, insert, delete...) share one primitive pair here:
``gather_along`` (``take_along_axis``) and ``scatter_along`` (its adjoint, an index-add into
zeros), each the other's backward.

This module is imported while ``nd`` is still being initialised (``_reduce`` uses it), so it
imports the op families as modules and looks names up at call time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from ..base import FrameworkError
from . import _create, _elemwise, _reduce, _shape
from ._base import BaseArray
from ._op import Op, apply, register
from ._tape import requires_grad

__all__ = [
    "out_grads", "wants", "mul", "div", "add", "sub", "neg", "const", "sum_to", "expand",
    "keep_shape", "cast_like", "gather_along", "scatter_along", "scatter_flat", "inverse_perm",
    "take_range", "place_range",
]

Shape = tuple[int, ...]


def out_grads(op: Op, grads: Sequence[Any], outputs: Sequence[Any]) -> list[Any]:
    """The output gradients ``op.backward`` gets when some of its outputs received one: zeros
    for an output that none reached, None for an auxiliary output (``Op.aux_outputs``)."""
    aux = op.aux_outputs
    return [g if g is not None or i in aux else _create.zeros_like(o)
            for i, (g, o) in enumerate(zip(grads, outputs))]


def wants(x: Any, inputs: Sequence[Any] = ()) -> bool:
    """Whether ``x`` needs a gradient: a real floating array that takes part in the graph (or
    any real floating array, when no input does: ``backward`` called directly). Complex
    arrays in the graph raise: these gradients are written for real inputs."""
    if not isinstance(x, BaseArray) or x._dtype.kind != "f":
        if isinstance(x, BaseArray) and x._dtype.kind == "c" and requires_grad(x):
            raise FrameworkError("gradients with respect to complex arrays are not supported "
                                 "by this operator")
        return False
    return requires_grad(x) or not any(isinstance(y, BaseArray) and requires_grad(y)
                                       for y in inputs)


def mul(a: Any, b: Any) -> Any:
    return _elemwise.binary("multiply", a, b)


def div(a: Any, b: Any) -> Any:
    return _elemwise.binary("true_divide", a, b)


def add(a: Any, b: Any) -> Any:
    return _elemwise.binary("add", a, b)


def sub(a: Any, b: Any) -> Any:
    return _elemwise.binary("subtract", a, b)


def neg(a: Any) -> Any:
    return _elemwise.unary("negative", a)


def cast_like(g: Any, x: BaseArray) -> Any:
    return _elemwise._cast_like(g, x)


def const(host: Any, like: BaseArray, dtype: Any = None) -> BaseArray:
    """A constant array (from host data) on ``like``'s device, of ``like``'s class."""
    arr = numpy.array(host, dtype=dtype, copy=True, order="C")
    return _create._place(arr, like._device, type(like))


def inverse_perm(perm: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in numpy.argsort(perm))


def keep_shape(shape: Shape, axes: Sequence[int]) -> Shape:
    """``shape`` with the reduced ``axes`` kept as size 1."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def expand(g: BaseArray, shape: Shape, axes: Sequence[int], keepdims: bool = False) -> BaseArray:
    """The gradient of a reduction over ``axes`` of an array of ``shape``: ``g`` broadcast back."""
    ks = keep_shape(shape, axes)
    if g._shape != ks:
        g = _shape.reshape(g, ks)
    if ks != shape:
        g = _shape.broadcast_to(g, shape)
    return g


def sum_to(g: BaseArray, shape: Shape) -> BaseArray:
    """Sum ``g`` over the axes broadcasting added, back to ``shape``."""
    if g._shape == tuple(shape):
        return g
    extra = len(g._shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, d in enumerate(shape) if d == 1 and g._shape[i + extra] != 1)
    if axes:
        g = _reduce.reduce("sum", g, axis=axes, keepdims=True)
    if g._shape != tuple(shape):
        g = _shape.reshape(g, shape)
    return g


# -- gather / scatter along an axis ---------------------------------------------------------------

def _norm_index(xp: Any, idx: Any, n: int) -> Any:
    idx = idx.astype(numpy.int64, copy=False)
    return xp.where(idx < 0, idx + n, idx)


@register("_gather_along_axis")
class GatherAlong(Op):
    """``take_along_axis(x, idx, axis)`` with ``idx`` broadcasting against ``x`` off the axis;
    the output has ``x``'s shape with ``idx``'s length along ``axis``. Indices are checked by
    the caller (negative ones wrap)."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def infer(self, x: BaseArray, idx: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        a = self.axis
        return [(x._shape[:a] + (idx._shape[a],) + x._shape[a + 1:], x._dtype)]

    def forward(self, xp: Any, x: Any, idx: Any) -> Any:
        a = self.axis
        shape = x.shape[:a] + (idx.shape[a],) + x.shape[a + 1:]
        idx = xp.broadcast_to(_norm_index(xp, idx, x.shape[a]), shape)
        return xp.take_along_axis(x, idx, axis=a)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, idx), (g,) = inputs, out_grads
        if x._dtype.kind != "f":
            return [None, None]
        return [scatter_along(g, idx, self.axis, x._shape[self.axis]), None]


@register("_scatter_add_along_axis")
class ScatterAlong(Op):
    """The adjoint of :class:`GatherAlong`: zeros of ``g``'s shape with length ``n`` along
    ``axis``, and ``g`` added at ``idx`` along it (repeated indices accumulate)."""

    def __init__(self, axis: int, n: int) -> None:
        self.axis = axis
        self.n = n

    def infer(self, g: BaseArray, idx: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        a = self.axis
        return [(g._shape[:a] + (self.n,) + g._shape[a + 1:], g._dtype)]

    def forward(self, xp: Any, g: Any, idx: Any) -> Any:
        a, n = self.axis, self.n
        out_shape = g.shape[:a] + (n,) + g.shape[a + 1:]
        idx = xp.broadcast_to(_norm_index(xp, idx, n), g.shape)
        # flat positions in the output: idx along the axis, the element's own position elsewhere
        strides = numpy.cumprod((1,) + out_shape[:0:-1])[::-1]
        lin = idx * int(strides[a])
        for k, d in enumerate(g.shape):
            if k != a and d > 1:
                pos = xp.arange(d, dtype=numpy.int64).reshape((d,) + (1,) * (g.ndim - k - 1))
                lin = lin + pos * int(strides[k])
        size = int(numpy.prod(out_shape))
        # bincount sums repeated positions on both NumPy and CuPy (add.at is slow or missing)
        r = xp.bincount(lin.reshape(-1), weights=g.reshape(-1), minlength=size)
        return r.astype(g.dtype, copy=False).reshape(out_shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (_, idx), (gg,) = inputs, out_grads
        return [gather_along(gg, idx, self.axis), None]


def gather_along(x: BaseArray, idx: BaseArray, axis: int) -> BaseArray:
    return apply(GatherAlong(axis), (x, idx))


def scatter_along(g: BaseArray, idx: BaseArray, axis: int, n: int) -> BaseArray:
    return apply(ScatterAlong(axis, n), (g, idx))


def scatter_flat(g: BaseArray, source: numpy.ndarray, x: BaseArray) -> BaseArray:
    """The gradient of an op whose output element ``i`` copies element ``source.flat[i]`` of
    ``x`` (``-1``: no element of ``x``, e.g. padding): ``g`` added back at the sources."""
    src = numpy.asarray(source, dtype=numpy.int64).reshape(-1)
    gf = _shape.reshape(g, (g.size,))
    hit = src >= 0
    if not hit.all():
        gf = mul(gf, const(hit, g))
        src = numpy.where(hit, src, 0)
    out = scatter_along(gf, const(src, g), 0, x.size)
    return _shape.reshape(out, x._shape)


def take_range(x: BaseArray, lo: int, hi: int, axis: int) -> BaseArray:
    """``x[lo:hi]`` along ``axis``, as a differentiable gather."""
    shape = [1] * x.ndim
    shape[axis] = hi - lo
    return gather_along(x, const(numpy.arange(lo, hi).reshape(shape), x), axis)


def place_range(g: BaseArray, lo: int, n: int, axis: int) -> BaseArray:
    """Zeros of length ``n`` along ``axis`` with ``g`` at ``lo:lo+len(g)`` (take_range's
    adjoint)."""
    k = g._shape[axis]
    shape = [1] * g.ndim
    shape[axis] = k
    return scatter_along(g, const(numpy.arange(lo, lo + k).reshape(shape), g), axis, n)
