"""Reductions: sum, prod, mean, std, var, max, min, argmax, argmin, all, any, norm, cumsum.

MXNet's dtype rules: ``mean``/``std``/``var``/``norm`` of integers give float32; ``argmax`` and
``argmin`` give int64; ``all``/``any`` give bool; ``sum``/``prod``/``cumsum`` of bool or small
integers accumulate in int64 (uint64 for unsigned), as NumPy does. Reductions return 0-d arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy
from numpy.exceptions import AxisError

from .. import dtype as _dt
from ..base import DTypeError
from . import _create, _elemwise, _shape
from . import _gradutil as _gu
from ._base import BaseArray
from ._op import Op, apply, get_op, register

__all__ = [
    "normalize_axis", "channel_sum", "sum_but", "reduce", "argreduce", "cumulative", "norm",
    "REDUCTIONS",
]


def normalize_axis(axis: Any, ndim: int, op: str, allow_tuple: bool = True) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints; errors name the op and the bad axis."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        if not allow_tuple:
            raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
        axes = tuple(axis)
    else:
        axes = (axis,)
    out = []
    for a in axes:
        if not isinstance(a, (int, numpy.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):  # a 0-d array takes axis 0 or -1 (MXNet)
            raise AxisError(a, ndim, f"{op}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: duplicate value in 'axis': {axis!r}")
    return tuple(sorted(out))


def _accum_dtype(dt: numpy.dtype) -> numpy.dtype:
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return numpy.dtype(numpy.int64)
    if dt.kind == "u" and dt.itemsize < 8:
        return numpy.dtype(numpy.uint64)
    return dt


#: name -> dtype rule ('accum', 'float', 'same', 'bool') and whether an empty input is an error
REDUCTIONS = {
    "sum": ("accum", False), "prod": ("accum", False), "mean": ("float", False),
    "std": ("float", False), "var": ("float", False), "max": ("same", True),
    "min": ("same", True), "all": ("bool", False), "any": ("bool", False),
    "nansum": ("accum", False), "nanprod": ("accum", False),
}
_NP_NAME = {"max": "amax", "min": "amin"}
#: reductions that NumPy and CuPy arrays have as methods
_METHODS = frozenset({"sum", "prod", "mean", "std", "var", "max", "min", "all", "any"})
_EMPTY_NAME = {"max": "maximum", "min": "minimum"}


def channel_sum(xp: Any, x: Any, ax: int, dtype: Any = None) -> Any:
    """The sum of buffer ``x`` over every axis but ``ax``: shape ``(x.shape[ax],)``. What a
    bias gradient or a BatchNorm statistic needs, in two stages: the slabs before ``ax`` added
    elementwise, then each channel's contiguous run summed (NumPy's pairwise sum). NumPy's own
    ``x.sum(axis=(0, 2, 3))`` walks the array in a slower order: for (32, 16, 16, 16) float32,
    42 us against 18 (``x.sum(axis=(0, 2, 3))`` and this differ in rounding only)."""
    c = x.shape[ax]
    lead = math.prod(x.shape[:ax])
    rest = math.prod(x.shape[ax + 1:])
    if rest == 1:
        return x.reshape(lead, c).sum(axis=0, dtype=dtype)
    v = xp.ascontiguousarray(x).reshape(lead, c, rest)
    part = v[0] if lead == 1 else v.sum(axis=0, dtype=dtype)
    return part.sum(axis=1, dtype=dtype)


@register("_channel_sum")
class ChannelSum(Op):
    """The sum over every axis but ``axis`` (a convolution's bias gradient), with
    :func:`channel_sum`'s staged kernel. float32/float64 only: float16 keeps ``sum``'s
    accumulation."""

    fresh_output = True

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        if x._dtype not in _STAGED or not 0 <= self.axis < x.ndim:
            raise DTypeError(f"_channel_sum: float32/float64 data with axis in [0, ndim) "
                             f"expected, got {x._dtype} of shape {x._shape}, axis "
                             f"{self.axis}")
        return [((x._shape[self.axis],), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return channel_sum(xp, x, self.axis)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        view = tuple(d if i == self.axis else 1 for i, d in enumerate(x._shape))
        return [_shape.broadcast_to(_shape.reshape(g, view), x._shape)]


_STAGED = frozenset({numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)})


def sum_but(x: BaseArray, axis: int) -> BaseArray:
    """``x`` summed over every axis but ``axis`` (a bias gradient): the staged
    :class:`ChannelSum` for float32/float64, ``sum`` otherwise."""
    if x._dtype in _STAGED:
        return apply(ChannelSum(axis), (x,))  # type: ignore[no-any-return]
    return reduce("sum", x, axis=tuple(i for i in range(x.ndim) if i != axis))


class Reduce(Op):
    """A reduction over ``axis`` with ``keepdims``; ``ddof`` for std/var."""

    #: the result is a new array, never a view of the input (for a fused program's in-place
    #: pass)
    fresh_output = True

    def __init__(self, name: str, axis: Any = None, keepdims: bool = False,
                 dtype: Any = None, ddof: int = 0) -> None:
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.keepdims = bool(keepdims)
        self.dtype = _dt.normalize(dtype)
        self.ddof = ddof

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        rule, no_empty = REDUCTIONS[self.name]
        axes = normalize_axis(self.axis, x.ndim, self.name)
        self.axes = axes
        if no_empty and any(x._shape[a] == 0 for a in axes if a < x.ndim) or (
                no_empty and x.ndim == 0 and x.size == 0):
            raise ValueError(f"zero-size array to reduction operation "
                             f"{_EMPTY_NAME[self.name]} which has no identity")
        if self.keepdims:
            shape = tuple(1 if i in axes else d for i, d in enumerate(x._shape))
        else:
            shape = tuple(d for i, d in enumerate(x._shape) if i not in axes)
        if self.dtype is not None and rule != "bool":
            dt = self.dtype
        elif rule == "accum":
            dt = _accum_dtype(x._dtype)
        elif rule == "float":
            dt = _dt.float_result(x._dtype)
        elif rule == "bool":
            dt = numpy.dtype(numpy.bool_)
        else:
            dt = x._dtype
        self.out_dtype = dt
        return [(shape, dt)]

    def forward(self, xp: Any, x: Any) -> Any:
        axis = self.axes if x.ndim else None
        if self.name == "sum":  # (the common case first: a bias gradient, a loss)
            return x.sum(axis=axis, dtype=self.out_dtype, keepdims=self.keepdims)
        kw: dict[str, Any] = {"axis": axis, "keepdims": self.keepdims}
        rule = REDUCTIONS[self.name][0]
        if rule in ("accum", "float"):
            kw["dtype"] = self.out_dtype
            if rule == "float" and self.out_dtype == numpy.float16:
                # mean/std/var of float16 accumulate in float32 (MXNet's safe accumulation);
                # the result is cast back to float16
                kw["dtype"] = numpy.float32
        if self.name in ("std", "var"):
            kw["ddof"] = self.ddof
        if self.name in _METHODS:  # the array's own method skips NumPy's Python wrapper
            return getattr(x, self.name)(**kw)
        return getattr(xp, _NP_NAME.get(self.name, self.name))(x, **kw)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(x) or self.out_dtype.kind != "f":
            return [None]  # integer and bool inputs, all/any
        axes = self.axes if x.ndim else ()
        gx = _REDUCE_GRAD[self.name](x, y, g, axes, self.keepdims, self.ddof)
        return [_gu.cast_like(gx, x)]


for _n in REDUCTIONS:
    register(_n)(type(f"Reduce_{_n}", (Reduce,), {}))


# -- gradients of the reductions -------------------------------------------------------------------

def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axes)


def _sum_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    return _gu.expand(g, x._shape, axes, keep)


def _mean_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    return _gu.div(_gu.expand(g, x._shape, axes, keep), float(max(_count(x._shape, axes), 1)))


def _var_terms(x: Any, axes: Any, ddof: int) -> tuple[Any, float]:
    """(x - mean(x), N - ddof)."""
    mean = reduce("mean", x, axis=axes, keepdims=True, dtype=x._dtype)
    return _gu.sub(x, mean), float(_count(x._shape, axes) - ddof)


def _var_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    d, n = _var_terms(x, axes, ddof)
    return _gu.mul(_gu.expand(g, x._shape, axes, keep), _gu.mul(d, 2.0 / n))


def _std_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    d, n = _var_terms(x, axes, ddof)
    yk = _gu.expand(y, x._shape, axes, keep)
    # a constant slice (std 0) gets gradient 0, not 0/0
    safe = _gu.add(yk, _elemwise.binary("equal", yk, 0))
    return _gu.mul(_gu.expand(g, x._shape, axes, keep), _gu.div(d, _gu.mul(safe, n)))


def _extreme_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    """max/min: the gradient goes to the positions equal to the result, divided equally among
    ties (as NumPy-autograd does; MXNet gives each tie the full gradient)."""
    hit = _elemwise.binary("equal", x, _gu.expand(y, x._shape, axes, keep))
    return tie_split(hit, _gu.expand(g, x._shape, axes, keep), axes, x)


def tie_split(hit: Any, g: Any, axes: Any, x: Any) -> Any:
    """``g`` at the True positions of ``hit``, divided by their number over ``axes``."""
    cnt = reduce("sum", hit, axis=axes, keepdims=True)
    cnt = _elemwise.binary("maximum", _shape.astype(cnt, x._dtype), 1.0)  # an all-NaN slice
    return _gu.mul(g, _gu.div(_shape.astype(hit, x._dtype), cnt))


def _nansum_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    ok = _elemwise.unary("logical_not", _elemwise.unary("isnan", x))
    return _gu.mul(_gu.expand(g, x._shape, axes, keep), ok)


def _flatten_axes(x: Any, axes: Any) -> tuple[Any, tuple[int, ...]]:
    """``x`` with the reduced axes moved last and merged: shape (kept..., n); and the order."""
    kept = [i for i in range(x.ndim) if i not in axes]
    order = tuple(kept) + tuple(axes)
    xt = _shape.transpose(x, order) if order != tuple(range(x.ndim)) else x
    return _shape.reshape(xt, tuple(x._shape[i] for i in kept) + (_count(x._shape, axes),)), order


def _unflatten_axes(gr: Any, x: Any, order: tuple[int, ...]) -> Any:
    gt = _shape.reshape(gr, tuple(x._shape[i] for i in order))
    if order != tuple(range(x.ndim)):
        gt = _shape.transpose(gt, _gu.inverse_perm(order))
    return gt


def exclusive_products(xr: Any) -> Any:
    """For each position along the last axis, the product of all the other elements: prefix
    times suffix products (exclusive cumprods), valid when elements are zero (y / x is not)."""
    n = xr._shape[-1]
    if n <= 1:
        return _create.ones(xr._shape, dtype=xr._dtype, device=xr._device)
    lead = (1,) * (xr.ndim - 1)

    def shifted(src: list[int], keep: list[bool]) -> Any:
        # xr gathered at positions ``src``, with 1 where ``keep`` is False
        idx = _gu.const(numpy.array(src).reshape(lead + (n,)), xr)
        mask = numpy.array(keep).reshape(lead + (n,))
        picked = _gu.mul(_gu.gather_along(xr, idx, xr.ndim - 1), _gu.const(mask, xr))
        return _gu.add(picked, _gu.const(~mask, xr, xr._dtype))

    def reverse(a: Any) -> Any:
        return _gu.gather_along(a, _gu.const(numpy.arange(n)[::-1].reshape(lead + (n,)), a),
                                a.ndim - 1)

    # left[k] = x[0] ... x[k-1]; right[k] = x[k+1] ... x[n-1]
    left = cumulative("cumprod", shifted([0] + list(range(n - 1)), [False] + [True] * (n - 1)),
                      axis=-1)
    tail = shifted(list(range(1, n)) + [n - 1], [True] * (n - 1) + [False])
    right = reverse(cumulative("cumprod", reverse(tail), axis=-1))
    return _gu.mul(left, right)


def _prod_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    if x.size == 0 or not axes:
        return _gu.expand(g, x._shape, axes, keep) if not axes else _create.zeros_like(x)
    xr, order = _flatten_axes(x, axes)
    others = _unflatten_axes(exclusive_products(xr), x, order)
    return _gu.mul(_gu.expand(g, x._shape, axes, keep), others)


def _nanprod_grad(x: Any, y: Any, g: Any, axes: Any, keep: bool, ddof: int) -> Any:
    nan = _elemwise.unary("isnan", x)
    filled = _shape.where(nan, _create.ones((), dtype=x._dtype, device=x._device), x)
    gx = _prod_grad(filled, y, g, axes, keep, ddof)
    return _gu.mul(gx, _elemwise.unary("logical_not", nan))


_REDUCE_GRAD = {
    "sum": _sum_grad, "mean": _mean_grad, "var": _var_grad, "std": _std_grad,
    "max": _extreme_grad, "min": _extreme_grad, "prod": _prod_grad, "nansum": _nansum_grad,
    "nanprod": _nanprod_grad,
}


def reduce(name: str, x: BaseArray, axis: Any = None, dtype: Any = None,
           keepdims: bool = False, ddof: int = 0) -> BaseArray:
    """Run the reduction ``name`` (see :data:`REDUCTIONS`)."""
    return apply(Reduce(name, axis, keepdims, dtype, ddof), (x,))


class ArgReduce(Op):
    """argmax / argmin along one axis (or the flattened array); int64 indices."""

    def __init__(self, name: str, axis: Any = None, keepdims: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.keepdims = bool(keepdims)

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        if self.axis is None:
            if x.size == 0:
                raise ValueError(f"attempt to get {self.name} of an empty sequence")
            shape = (1,) * x.ndim if self.keepdims else ()
        else:
            (ax,) = normalize_axis(self.axis, x.ndim, self.name, allow_tuple=False)
            self.ax = ax
            if x.ndim and x._shape[ax] == 0:
                raise ValueError(f"attempt to get {self.name} of an empty sequence")
            if self.keepdims:
                shape = tuple(1 if i == ax else d for i, d in enumerate(x._shape))
            else:
                shape = tuple(d for i, d in enumerate(x._shape) if i != ax)
        return [(shape, numpy.dtype(numpy.int64))]

    def forward(self, xp: Any, x: Any) -> Any:
        axis = None if self.axis is None else self.ax
        return getattr(xp, self.name)(x, axis=axis, keepdims=self.keepdims)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None]  # integer positions: piecewise constant


register("argmax")(type("ArgMax", (ArgReduce,), {}))
register("argmin")(type("ArgMin", (ArgReduce,), {}))


def argreduce(name: str, x: BaseArray, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(ArgReduce(name, axis, keepdims), (x,))


@register("cumsum")
class Cumulative(Op):
    """cumsum / cumprod along ``axis`` (flattened when None)."""

    def __init__(self, name: str = "cumsum", axis: Any = None, dtype: Any = None) -> None:
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.dtype = _dt.normalize(dtype)

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        dt = self.dtype or _accum_dtype(x._dtype)
        if self.axis is not None:
            normalize_axis(self.axis, x.ndim, self.name, allow_tuple=False)
        if self.axis is None or x.ndim == 0:  # NumPy: a 0-d input gives shape (1,)
            return [((x.size,), dt)]
        return [(x._shape, dt)]

    def forward(self, xp: Any, x: Any) -> Any:
        return getattr(xp, self.name)(x, axis=self.axis, dtype=self.infer_dtype(x))

    def infer_dtype(self, x: Any) -> numpy.dtype:
        return self.dtype or _accum_dtype(x.dtype)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(x) or y._dtype.kind != "f":
            return [None]
        if self.axis is None or x.ndim == 0:
            xf, ax = _shape.reshape(x, (x.size,)), 0
        else:
            xf, ax = x, normalize_axis(self.axis, x.ndim, self.name, False)[0]
        g = _gu.cast_like(g, xf)
        if self.name == "cumsum":
            gx = reverse_cumsum(g, ax)
        else:
            gx = cumprod_grad(xf, _gu.cast_like(y, xf), g, ax)
        return [_gu.cast_like(_shape.reshape(gx, x._shape), x)]


register("cumprod")(type("CumProd", (Cumulative,), {}))


def cumulative(name: str, x: BaseArray, axis: Any = None, dtype: Any = None) -> BaseArray:
    return apply(Cumulative(name, axis, dtype), (x,))


def _reverse(a: Any, ax: int) -> Any:
    n = a._shape[ax]
    idx = numpy.arange(n)[::-1].reshape((1,) * ax + (n,) + (1,) * (a.ndim - ax - 1))
    return _gu.gather_along(a, _gu.const(idx, a), ax)


def reverse_cumsum(g: Any, ax: int) -> Any:
    """sum(g[k:]) at each position k along ``ax`` (the adjoint of cumsum)."""
    return _reverse(cumulative("cumsum", _reverse(g, ax), axis=ax), ax)


def cumprod_grad(x: Any, y: Any, g: Any, ax: int) -> Any:
    """The gradient of ``y = cumprod(x)`` along ``ax``: exact with zeros in ``x``, and so is its
    own derivative (the double backward).

    With z1 and z2 the first two zeros of a slice: before z1, ``sum_{i>=k} g_i y_i / x_k`` (the
    later y are 0); at z1, ``sum_{i>=k} g_i y1_i`` with ``y1`` the cumprod with x[z1] set to 1;
    between z1 and z2 and at z2, the same kind of sums times x[z1] (0, but their derivatives
    with respect to x[z1] are not); after z2 the gradient is O(x[z1] x[z2]), so 0 to second
    order."""
    eq, both = _elemwise.binary, (lambda a, b: _elemwise.binary("logical_and", a, b))
    zero = eq("equal", x, 0)
    seen = cumulative("cumsum", zero, axis=ax)
    before = eq("equal", seen, 0)
    one_seen = eq("equal", seen, 1)
    first = both(zero, one_seen)
    mid = both(one_seen, _not(zero))
    second = both(zero, eq("equal", seen, 2))

    def ones_at(mask: Any, v: Any) -> Any:  # v, with the constant 1 where mask holds
        return _gu.add(_gu.mul(v, _not(mask)), mask)

    part1 = _gu.mul(_gu.div(reverse_cumsum(_gu.mul(g, y), ax), ones_at(_not(before), x)), before)
    u = ones_at(first, x)
    r1 = reverse_cumsum(_gu.mul(g, cumulative("cumprod", u, axis=ax)), ax)
    part2 = _gu.mul(r1, first)
    x_first = reduce("sum", _gu.mul(x, first), axis=ax, keepdims=True)  # 0, with its derivative
    part3 = _gu.mul(_gu.div(r1, ones_at(_not(mid), u)), mid)
    r2 = reverse_cumsum(_gu.mul(g, cumulative("cumprod", ones_at(second, u), axis=ax)), ax)
    part4 = _gu.mul(r2, second)
    return _gu.add(_gu.add(part1, part2), _gu.mul(x_first, _gu.add(part3, part4)))


def _not(mask: Any) -> Any:
    return _elemwise.unary("logical_not", mask)


@register("norm")
class Norm(Op):
    """Vector and matrix norms (``numpy.linalg.norm`` semantics); float32 for integers."""

    def __init__(self, ord: Any = None, axis: Any = None, keepdims: bool = False) -> None:
        self.ord = ord
        self.axis = axis
        self.keepdims = bool(keepdims)

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        if self.axis is None:
            if self.ord is not None and x.ndim > 2:
                raise ValueError(f"norm: ord={self.ord!r} needs axis for a {x.ndim}-d array")
            axes = tuple(range(x.ndim))
        else:
            axes = normalize_axis(self.axis, x.ndim, "norm")
            if len(axes) > 2:
                raise ValueError(f"norm: axis must name 1 or 2 axes, got {self.axis!r}")
        self.axes = axes
        if x._dtype.kind == "b":
            raise DTypeError("norm: bool input is not supported")
        if self.keepdims:
            shape = tuple(1 if i in axes else d for i, d in enumerate(x._shape))
        else:
            shape = tuple(d for i, d in enumerate(x._shape) if i not in axes)
        dt = _dt.float_result(x._dtype)
        if dt.kind == "c":
            dt = numpy.dtype(numpy.float64 if dt.itemsize == 16 else numpy.float32)
        self.out_dtype = dt
        return [(shape, dt)]

    def forward(self, xp: Any, x: Any) -> Any:
        if x.dtype.kind not in "fc":
            x = x.astype(self.out_dtype)
        if self.ord is None and self.axis is None:
            r = xp.sqrt(xp.sum(xp.abs(x) ** 2 if x.dtype.kind == "c" else x * x))
            if self.keepdims:
                r = r.reshape((1,) * x.ndim)
            return r
        axis = self.axes if len(self.axes) == 2 else self.axes[0]
        return xp.linalg.norm(x, ord=self.ord, axis=axis, keepdims=self.keepdims)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # numpy.linalg.norm semantics, as linalg's norm op: use its gradient (looked up by name,
        # since linalg sits on top of this module)
        (x,) = inputs
        twin = get_op("linalg_norm")(self.ord, self.axis, self.keepdims)
        twin.infer(x)
        return twin.backward(inputs, outputs, out_grads)  # type: ignore[no-any-return]


def norm(x: BaseArray, ord: Any = None, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(Norm(ord, axis, keepdims), (x,))


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
