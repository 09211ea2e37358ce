"""Statistics, comparison, searching and set operators (the ``np`` functions of the same names).

MXNet's dtype rules apply: float-valued statistics of integers (``average``, ``percentile``,
``median``, ``nanmean``, ``cov``...) give float32; indices are int64; reductions give 0-d arrays.

Every op here whose output shape follows from the input shapes runs asynchronously; argument
checks happen at the call, and checks that need the data (weights summing to zero, indices out of
range...) fail inside the task and surface at the next sync point. The few functions whose
output *shape* depends on the data (``unique``, ``bincount``, ``argwhere``, ``compress``, the set
operations...) wait for their inputs and compute on the host, like ``nonzero``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy
from numpy.exceptions import AxisError

from .. import dtype as _dt
from ..base import DTypeError, ShapeError
from ..device import Device
from . import _create, _elemwise, _misc, _reduce, _shape
from . import _gradutil as _gu
from ._base import BaseArray, array_class, broadcast_shapes
from ._op import Op, apply, common_device, register
from ._reduce import normalize_axis

__all__ = [
    "QUANTILE_METHODS", "average", "quantile", "count_nonzero", "histogram", "nan_reduce",
    "nan_argreduce", "nan_cumulative", "ptp", "cov", "isclose", "all_equal", "nan_to_num",
    "searchsorted", "diff", "ediff1d", "interp", "take_along_axis", "digitize", "choose",
    "select", "lexsort", "partition", "isin", "wrap_host", "host_call", "hist_dtype", "promote_all",
    "bincount_weights",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]
I64 = numpy.dtype(numpy.int64)
F64 = numpy.dtype(numpy.float64)
BOOL = numpy.dtype(numpy.bool_)


# -- helpers --------------------------------------------------------------------------------------

def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Sorted reduction axes; a 0-d array reduces over nothing."""
    axes = normalize_axis(axis, ndim, op)
    return axes if ndim else ()


def _reduced(shape: Shape, axes: tuple[int, ...], keepdims: bool) -> Shape:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _slicer(ndim: int, axis: int, sl: slice) -> tuple[slice, ...]:
    key = [slice(None)] * ndim
    key[axis] = sl
    return tuple(key)


def promote_all(dts: Sequence[numpy.dtype]) -> numpy.dtype:
    """MXNet's promotion folded over several dtypes."""
    out = dts[0]
    for d in dts[1:]:
        out = _dt.binary_result(out, d)
    return out


def _check_index_dtype(x: BaseArray, what: str, op: str) -> None:
    if x._dtype.kind not in "iu":
        raise DTypeError(f"{op}: {what} must be an integer array, got dtype {x._dtype}")


def wrap_host(ref: BaseArray | Device, host: Any, dtype: Any = None,
              cls: type | None = None) -> BaseArray:
    """A computed array on ``ref``'s device holding ``host`` (new memory the caller gives up)."""
    device = ref if isinstance(ref, Device) else ref._device
    if cls is None:
        cls = type(ref) if isinstance(ref, BaseArray) else array_class()
    host = numpy.asarray(host, dtype=dtype)
    if not host.flags.c_contiguous:
        host = numpy.ascontiguousarray(host)
    _dt.normalize(host.dtype)
    if device.device_type == "gpu":
        xp = device.xp
        with xp.cuda.Device(device.device_id):
            return cls._wrap(xp.asarray(host), device)
    return cls._wrap(host, device)


def host_call(op: str, arrays: Sequence[BaseArray], fn: Any) -> Any:
    """Wait for ``arrays``, run ``fn(*host_arrays)`` with NumPy (for data-dependent shapes)."""
    if len(arrays) > 1:
        common_device(arrays, op)
    return fn(*[a._host() for a in arrays])


@register("_bincount_weights")
class BincountWeights(Op):
    """``bincount(x, weights)`` with the length ``n`` already read from ``x`` by the caller
    (values checked non-negative): linear in the weights, whose gradient is the output
    gradient gathered at ``x`` (a gather whose own gradient is a scatter); none to ``x``."""

    def __init__(self, n: int, dtype: numpy.dtype) -> None:
        self.n = int(n)
        self.dtype = numpy.dtype(dtype)

    def infer(self, x: BaseArray, w: BaseArray) -> Specs:
        if w._dtype.kind == "c":
            raise TypeError(f"bincount: cannot cast the weights from {w._dtype} to float64 "
                            "(complex weights are not supported)")
        return [((self.n,), self.dtype)]

    def forward(self, xp: Any, x: Any, w: Any) -> Any:
        # sums in float64 (as NumPy's bincount), then the result dtype
        r = xp.bincount(x.astype(I64), weights=w.astype(F64), minlength=self.n)
        return r.astype(self.dtype, copy=False)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, w), (g,) = inputs, out_grads
        if not _gu.wants(w, inputs):
            return [None, None]
        idx = x if x._dtype.kind in "iu" else _shape.astype(x, I64)
        return [None, _gu.cast_like(_gu.gather_along(g, idx, 0), w)]


def bincount_weights(x: BaseArray, w: BaseArray, n: int, dtype: Any) -> BaseArray:
    """Weighted counts of the non-negative integers ``x`` (1-D, length ``n`` >= max(x) + 1)."""
    return apply(BincountWeights(n, dtype), (x, w))  # type: ignore[no-any-return]


# -- average --------------------------------------------------------------------------------------

@register("average")
class Average(Op):
    """``numpy.average``; float32 for integers, ``returned`` gives the sum of weights too."""

    def __init__(self, axis: Any = None, keepdims: bool = False, returned: bool = False) -> None:
        self.axis = axis
        self.keepdims = bool(keepdims)
        self.returned = bool(returned)
        self.nout = 2 if returned else 1  # type: ignore[misc]

    def infer(self, a: BaseArray, w: BaseArray | None = None) -> Specs:
        axes = _axes(self.axis, a.ndim, "average")
        self.axes = axes
        self.count = math.prod(a._shape[i] for i in axes)
        self.wperm: tuple[int, ...] | None = None
        if w is None:
            dt = _dt.float_result(a._dtype)
        else:
            dt = _dt.float_result(_dt.binary_result(a._dtype, w._dtype))
            if w._shape != a._shape:
                if self.axis is None:
                    raise TypeError("average: axis must be specified when shapes of a "
                                    f"{a._shape} and weights {w._shape} differ")
                given = self.axis if isinstance(self.axis, (tuple, list)) else (self.axis,)
                given = tuple(int(g) % a.ndim for g in given)
                if w._shape != tuple(a._shape[g] for g in given):
                    raise ShapeError(
                        f"average: shape of weights {w._shape} must be consistent with shape "
                        f"of a {a._shape} along axis {self.axis!r}")
                self.wperm = tuple(int(i) for i in numpy.argsort(given))
                self.wshape = tuple(d if i in axes else 1 for i, d in enumerate(a._shape))
        self.out_dtype = dt
        shape = _reduced(a._shape, axes, self.keepdims)
        return [(shape, dt)] * self.nout

    def forward(self, xp: Any, a: Any, w: Any = None) -> Any:
        dt = self.out_dtype
        axis = self.axes if a.ndim else None
        if w is None:
            avg = xp.mean(a, axis=axis, dtype=None if a.dtype == dt else dt,
                          keepdims=self.keepdims)
            scl = xp.full(numpy.shape(avg), self.count, dtype=dt)
        else:
            if self.wperm is not None:
                w = xp.transpose(w, self.wperm).reshape(self.wshape)
            w = xp.broadcast_to(w.astype(dt, copy=False), a.shape)
            scl = xp.sum(w, axis=axis, keepdims=self.keepdims)
            if bool((scl == 0).any()):
                raise ZeroDivisionError("average: weights sum to zero, can't be normalized")
            avg = xp.sum(xp.multiply(a, w, dtype=dt), axis=axis, keepdims=self.keepdims) / scl
        if self.returned:
            return avg, xp.array(xp.broadcast_to(scl, numpy.shape(avg)), dtype=dt)
        return avg

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        a, w = inputs[0], (inputs[1] if len(inputs) > 1 else None)
        want_a, want_w = _gu.wants(a, inputs), _gu.wants(w, inputs)
        if not (want_a or want_w):
            return [None] * len(inputs)
        axes, keep = self.axes, self.keepdims
        gk = _gu.expand(_gu.cast_like(out_grads[0], a), a._shape, axes, keep)
        if w is None:
            return [_gu.cast_like(_gu.div(gk, float(max(self.count, 1))), a)]
        wb = w
        if self.wperm is not None:
            wb = _shape.reshape(_shape.transpose(w, self.wperm), self.wshape)
        wb = _shape.broadcast_to(_shape.astype(wb, a._dtype, copy=False), a._shape)
        scl = _reduce.reduce("sum", wb, axis=axes, keepdims=True)
        ga = _gu.cast_like(_gu.div(_gu.mul(gk, wb), scl), a) if want_a else None
        gw = None
        if want_w:
            avg = _gu.expand(outputs[0], a._shape, axes, keep)
            gfull = _gu.div(_gu.mul(gk, _gu.sub(a, avg)), scl)
            if self.returned:  # the sum of weights
                gfull = _gu.add(gfull, _gu.expand(_gu.cast_like(out_grads[1], a), a._shape, axes,
                                                  keep))
            if self.wperm is not None:
                gw = _gu.sum_to(gfull, self.wshape)
                moved = tuple(w._shape[i] for i in self.wperm)
                gw = _shape.transpose(_shape.reshape(gw, moved), _gu.inverse_perm(self.wperm))
            else:
                gw = gfull
            gw = _gu.cast_like(gw, w)
        return [ga, gw]


def average(a: BaseArray, weights: BaseArray | None = None, axis: Any = None,
            returned: bool = False, keepdims: bool = False) -> Any:
    inputs = (a,) if weights is None else (a, weights)
    return apply(Average(axis, keepdims, returned), inputs)


# -- quantiles ------------------------------------------------------------------------------------

#: continuous methods: (alpha, beta) of Hyndman & Fan's virtual index n*q + alpha + q*(1-a-b) - 1
_CONTINUOUS = {
    "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
    "linear": (1.0, 1.0), "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8),
}
_DISCRETE = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation", "lower", "higher",
             "midpoint", "nearest")
QUANTILE_METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                    *_CONTINUOUS, *_DISCRETE[3:])


@register("quantile")
class Quantile(Op):
    """Quantiles along ``axis`` by sorting, for every method ``numpy.quantile`` has.

    ``mode``: 'plain' (an empty slice is an IndexError, as in NumPy's percentile), 'median' (an
    empty slice gives NaN) or 'nan' (NaNs are ignored). ``q`` is either known now (``q_host``,
    already scaled to [0, 1]) or a second input array (checked in the task).
    """

    def __init__(self, q_host: numpy.ndarray | None, axis: Any = None, method: str = "linear",
                 keepdims: bool = False, mode: str = "plain", name: str = "quantile",
                 percent: bool = False) -> None:
        if method not in QUANTILE_METHODS:
            raise ValueError(f"{name}: {method!r} is not a valid method; use one of "
                             f"{', '.join(QUANTILE_METHODS)}")
        self.name = name  # type: ignore[misc]
        self.q_host = q_host
        self.axis = axis
        self.method = method
        self.keepdims = bool(keepdims)
        self.mode = mode
        self.percent = percent

    def infer(self, a: BaseArray, q: BaseArray | None = None) -> Specs:
        if a._dtype.kind not in "iuf":
            raise DTypeError(f"{self.name}: a must be an array of real numbers, got dtype "
                             f"{a._dtype}")
        axes = _axes(self.axis, a.ndim, self.name)
        self.axes = axes
        self.n = math.prod(a._shape[i] for i in axes)
        if q is None:
            assert self.q_host is not None
            q_shape: Shape = self.q_host.shape
        else:
            if q._dtype.kind not in "iuf":
                raise DTypeError(f"{self.name}: q must be real numbers, got dtype {q._dtype}")
            q_shape = q._shape
        self.q_shape = q_shape
        rest = _reduced(a._shape, axes, self.keepdims)
        shape = q_shape + rest
        if self.n == 0 and self.mode == "plain" and math.prod(shape):
            raise IndexError(f"{self.name}: cannot take a quantile of an empty slice (a has "
                             f"shape {a._shape}, axis={self.axis!r})")
        self.out_dtype = _dt.float_result(a._dtype)
        return [(shape, self.out_dtype)]

    def _virtual(self, xp: Any, n: Any, q: Any) -> Any:
        m = self.method
        if m in ("linear", "lower", "higher", "midpoint", "nearest"):
            return (n - 1) * q
        if m in ("inverted_cdf", "averaged_inverted_cdf"):
            return n * q - 1
        if m == "closest_observation":
            return n * q - 1.5
        alpha, beta = _CONTINUOUS[m]
        return n * q + (alpha + q * (1 - alpha - beta)) - 1

    def _gamma(self, xp: Any, frac: Any, fl: Any) -> Any:
        m = self.method
        if m in _CONTINUOUS:
            return frac
        if m == "lower":
            return xp.zeros_like(frac)
        if m in ("higher", "inverted_cdf"):
            return (frac > 0).astype(F64)
        if m == "nearest":  # round half to even
            odd = xp.remainder(fl, 2) == 1
            return ((frac > 0.5) | ((frac == 0.5) & odd)).astype(F64)
        if m == "midpoint":
            return xp.where(frac == 0, 0.0, 0.5)
        if m == "averaged_inverted_cdf":
            return xp.where(frac == 0, 0.5, 1.0)
        # closest_observation: the nearest even order statistic (1-based) when exactly between
        odd = xp.remainder(fl, 2) == 1
        return xp.where((frac == 0) & odd, 0.0, 1.0)

    def _qv(self, xp: Any, q: Any) -> Any:
        """The quantiles as a flat float64 array in [0, 1]."""
        if q is None:
            return xp.asarray(self.q_host, dtype=F64).reshape(-1)
        qv = q.astype(F64).reshape(-1)
        if self.percent:
            qv = qv / 100
        if bool(((qv < 0) | (qv > 1) | xp.isnan(qv)).any()):
            what = ("Percentiles must be in the range [0, 100]" if self.percent
                    else "Quantiles must be in the range [0, 1]")
            raise ValueError(f"{self.name}: {what}")
        return qv

    def forward(self, xp: Any, a: Any, q: Any = None) -> Any:
        out_dt = self.out_dtype
        qv = self._qv(xp, q)
        axes = self.axes
        rest = [i for i in range(a.ndim) if i not in axes]
        rest_shape = tuple(a.shape[i] for i in rest)
        out_shape = self.q_shape + _reduced(a.shape, axes, self.keepdims)
        n = self.n
        if n == 0 or qv.size == 0 or math.prod(rest_shape) == 0:
            return xp.full(out_shape, numpy.nan, dtype=out_dt)
        cdt = a.dtype if a.dtype.kind == "f" else F64
        x = xp.transpose(a, rest + list(axes)).reshape(rest_shape + (n,)).astype(cdt)
        x = xp.sort(x, axis=-1)  # NaNs sort last
        if self.mode == "nan":
            cnt = xp.sum(~xp.isnan(x), axis=-1, keepdims=True).astype(F64)
        else:
            cnt = xp.full(rest_shape + (1,), float(n), dtype=F64)
        v = self._virtual(xp, cnt, qv)
        fl = xp.floor(v)
        frac = v - fl
        top = xp.maximum(cnt - 1, 0)
        lo = xp.minimum(xp.maximum(fl, 0), top).astype(I64)
        hi = xp.minimum(xp.maximum(fl + 1, 0), top).astype(I64)
        g = self._gamma(xp, frac, fl).astype(cdt)
        lo_v = xp.take_along_axis(x, lo, axis=-1)
        hi_v = xp.take_along_axis(x, hi, axis=-1)
        d = hi_v - lo_v
        res = xp.where(g >= 0.5, hi_v - d * (1 - g), lo_v + d * g)
        res = xp.where((lo_v == hi_v) | (g == 0), lo_v, res)
        if self.mode != "nan":
            res = xp.where(xp.isnan(x[..., -1:]), numpy.nan, res)
        res = xp.moveaxis(res, -1, 0).reshape(out_shape)
        return res.astype(out_dt)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """The gradient flows to the two order statistics each quantile interpolates (weights
        1 - gamma and gamma); none to ``q``."""
        a, (g,) = inputs[0], out_grads
        grads: list[Any] = [None] * len(inputs)
        if not _gu.wants(a, inputs):
            return grads
        axes = self.axes
        rest = [i for i in range(a.ndim) if i not in axes]
        rest_shape = tuple(a._shape[i] for i in rest)
        nq = math.prod(self.q_shape)
        if self.n == 0 or nq == 0 or math.prod(rest_shape) == 0:
            grads[0] = _create.zeros_like(a)
            return grads
        lo, hi, w = apply(_QuantilePositions(self), inputs)
        gr = _shape.reshape(_gu.cast_like(g, a), (nq,) + rest_shape)
        gr = _shape.transpose(gr, list(range(1, len(rest) + 1)) + [0])  # (rest..., nq)
        w = _shape.astype(w, a._dtype)
        ax = len(rest)
        gx = _gu.add(_gu.scatter_along(_gu.mul(gr, _gu.sub(1.0, w)), lo, ax, self.n),
                     _gu.scatter_along(_gu.mul(gr, w), hi, ax, self.n))
        gx = _shape.reshape(gx, rest_shape + tuple(a._shape[i] for i in axes))
        grads[0] = _gu.cast_like(_shape.transpose(gx, _gu.inverse_perm(rest + list(axes))), a)
        return grads


@register("_quantile_positions")
class _QuantilePositions(Op):
    """For each quantile of a :class:`Quantile` op (laid out as (rest..., nq)): the positions,
    along a's reduced axes flattened, of the two order statistics it interpolates, and the
    weight of the upper one. Piecewise constant in ``a``: used by Quantile's gradient."""

    nout = 3

    def __init__(self, op: Quantile) -> None:
        self.op = op

    def infer(self, a: BaseArray, q: BaseArray | None = None) -> Specs:
        rest = tuple(d for i, d in enumerate(a._shape) if i not in self.op.axes)
        shape = rest + (math.prod(self.op.q_shape),)
        return [(shape, I64), (shape, I64), (shape, F64)]

    def forward(self, xp: Any, a: Any, q: Any = None) -> Any:
        op = self.op
        qv = op._qv(xp, q)
        axes = op.axes
        rest = [i for i in range(a.ndim) if i not in axes]
        rest_shape = tuple(a.shape[i] for i in rest)
        cdt = a.dtype if a.dtype.kind == "f" else F64
        x = xp.transpose(a, rest + list(axes)).reshape(rest_shape + (op.n,)).astype(cdt)
        order = xp.argsort(x, axis=-1, kind="stable")  # NaNs sort last
        if op.mode == "nan":
            cnt = xp.sum(~xp.isnan(x), axis=-1, keepdims=True).astype(F64)
        else:
            cnt = xp.full(rest_shape + (1,), float(op.n), dtype=F64)
        v = op._virtual(xp, cnt, qv)
        fl = xp.floor(v)
        top = xp.maximum(cnt - 1, 0)
        lo = xp.minimum(xp.maximum(fl, 0), top).astype(I64)
        hi = xp.minimum(xp.maximum(fl + 1, 0), top).astype(I64)
        w = op._gamma(xp, v - fl, fl).astype(F64)
        shape = rest_shape + (qv.size,)
        return (xp.take_along_axis(order, xp.broadcast_to(lo, shape), axis=-1),
                xp.take_along_axis(order, xp.broadcast_to(hi, shape), axis=-1),
                xp.array(xp.broadcast_to(w, shape)))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def quantile(a: BaseArray, q: BaseArray | numpy.ndarray, axis: Any = None,
             method: str = "linear", keepdims: bool = False, mode: str = "plain",
             name: str = "quantile", percent: bool = False) -> BaseArray:
    """``q`` as a host array (scaled to [0, 1] and checked) or a framework array (raw)."""
    if isinstance(q, BaseArray):
        return apply(Quantile(None, axis, method, keepdims, mode, name, percent), (a, q))
    return apply(Quantile(q, axis, method, keepdims, mode, name, percent), (a,))


# -- simple reductions ----------------------------------------------------------------------------

@register("count_nonzero")
class CountNonzero(Op):
    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = bool(keepdims)

    def infer(self, x: BaseArray) -> Specs:
        self.axes = _axes(self.axis, x.ndim, "count_nonzero")
        return [(_reduced(x._shape, self.axes, self.keepdims), I64)]

    def forward(self, xp: Any, x: Any) -> Any:
        axis = self.axes if x.ndim else None
        return xp.sum(x != 0, axis=axis, keepdims=self.keepdims, dtype=I64)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def count_nonzero(x: BaseArray, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(CountNonzero(axis, keepdims), (x,))


_NAN_RULES = {"nanmean": "float", "nanstd": "float", "nanvar": "float", "nanmax": "same",
              "nanmin": "same"}
_PLAIN = {"nanmean": "mean", "nanstd": "std", "nanvar": "var", "nanmax": "max", "nanmin": "min",
          "nanargmax": "argmax", "nanargmin": "argmin", "nancumsum": "cumsum",
          "nancumprod": "cumprod"}


@register("nan_reduce")
class NanReduce(Op):
    """nanmean / nanstd / nanvar / nanmax / nanmin; integers take the plain reduction."""

    def __init__(self, name: str, axis: Any = None, keepdims: bool = False, dtype: Any = None,
                 ddof: int = 0) -> None:
        if name not in _NAN_RULES:
            raise ValueError(f"unknown nan-reduction {name!r}")
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.keepdims = bool(keepdims)
        self.dtype = _dt.normalize(dtype)
        self.ddof = ddof

    def infer(self, x: BaseArray) -> Specs:
        axes = _axes(self.axis, x.ndim, self.name)
        self.axes = axes
        rule = _NAN_RULES[self.name]
        if rule == "same" and (x.size == 0 and (not axes or any(x._shape[a] == 0
                                                                  for a in axes))):
            raise ValueError(f"{self.name}: zero-size array to reduction operation "
                             f"{'fmax' if self.name == 'nanmax' else 'fmin'} which has no "
                             "identity")
        if rule == "float":
            dt = self.dtype or _dt.float_result(x._dtype)
        else:
            dt = x._dtype
        self.out_dtype = dt
        return [(_reduced(x._shape, axes, self.keepdims), dt)]

    def forward(self, xp: Any, x: Any) -> Any:
        name = self.name if x.dtype.kind in "fc" else _PLAIN[self.name]
        kw: dict[str, Any] = {"axis": self.axes if x.ndim else None, "keepdims": self.keepdims}
        if _NAN_RULES[self.name] == "float" and x.dtype != self.out_dtype:
            kw["dtype"] = self.out_dtype
        if self.name in ("nanstd", "nanvar"):
            kw["ddof"] = self.ddof
        return getattr(xp, name)(x, **kw)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(x) or self.out_dtype.kind != "f":
            return [None]
        axes, keep = self.axes, self.keepdims
        gk = _gu.expand(_gu.cast_like(g, x), x._shape, axes, keep)
        if self.name in ("nanmax", "nanmin"):  # NaN never equals the result
            hit = _elemwise.binary("equal", x, _gu.expand(y, x._shape, axes, keep))
            return [_gu.cast_like(_reduce.tie_split(hit, gk, axes, x), x)]
        ok = _elemwise.unary("logical_not", _elemwise.unary("isnan", x))
        cnt = _shape.astype(_reduce.reduce("sum", ok, axis=axes, keepdims=True), x._dtype)
        if self.name == "nanmean":
            return [_gu.cast_like(_gu.mul(_gu.div(gk, cnt), ok), x)]
        zero = _create.zeros((), dtype=x._dtype, device=x._device)
        mean = _gu.div(_reduce.reduce("sum", _shape.where(ok, x, zero), axis=axes,
                                      keepdims=True), cnt)
        d = _shape.where(ok, _gu.sub(x, mean), zero)
        dof = _gu.sub(cnt, float(self.ddof))
        if self.name == "nanvar":
            return [_gu.cast_like(_gu.mul(gk, _gu.div(_gu.mul(d, 2.0), dof)), x)]
        yk = _gu.cast_like(_gu.expand(y, x._shape, axes, keep), x)
        safe = _gu.add(yk, _elemwise.binary("equal", yk, 0))
        return [_gu.cast_like(_gu.mul(gk, _gu.div(d, _gu.mul(dof, safe))), x)]


def nan_reduce(name: str, x: BaseArray, axis: Any = None, dtype: Any = None,
               keepdims: bool = False, ddof: int = 0) -> BaseArray:
    return apply(NanReduce(name, axis, keepdims, dtype, ddof), (x,))


@register("nanargmax")
class NanArgReduce(Op):
    """nanargmax / nanargmin (int64); an all-NaN slice fails in the task (ValueError)."""

    def __init__(self, name: str = "nanargmax", axis: Any = None,
                 keepdims: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.keepdims = bool(keepdims)

    def infer(self, x: BaseArray) -> Specs:
        if self.axis is None:
            if x.size == 0:
                raise ValueError(f"{self.name}: attempt to get argmax of an empty sequence")
            shape: Shape = (1,) * x.ndim if self.keepdims else ()
            self.ax = None
        else:
            (ax,) = normalize_axis(self.axis, x.ndim, self.name, allow_tuple=False)
            if x.ndim == 0:
                return [((), I64)]
            self.ax = ax
            if x._shape[ax] == 0:
                raise ValueError(f"{self.name}: attempt to get argmax of an empty sequence")
            shape = _reduced(x._shape, (ax,), self.keepdims)
        return [(shape, I64)]

    def forward(self, xp: Any, x: Any) -> Any:
        name = self.name if x.dtype.kind in "fc" else _PLAIN[self.name]
        ax = self.ax if x.ndim else None
        r = getattr(xp, name)(x, axis=ax)
        if self.keepdims:
            r = xp.reshape(r, (1,) * x.ndim) if ax is None else xp.expand_dims(r, ax)
        return r

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None]


register("nanargmin")(type("NanArgMin", (NanArgReduce,), {}))


def nan_argreduce(name: str, x: BaseArray, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(NanArgReduce(name, axis, keepdims), (x,))


@register("nancumsum")
class NanCumulative(Op):
    """nancumsum / nancumprod (NaN counts as 0 / 1); small integers accumulate in int64."""

    def __init__(self, name: str = "nancumsum", axis: Any = None, dtype: Any = None) -> None:
        self.name = name  # type: ignore[misc]
        self.axis = axis
        self.dtype = _dt.normalize(dtype)

    def infer(self, x: BaseArray) -> Specs:
        dt = self.dtype
        if dt is None:
            k = x._dtype
            dt = (numpy.dtype(numpy.int64) if k.kind == "b" or (k.kind == "i" and k.itemsize < 8)
                  else numpy.dtype(numpy.uint64) if k.kind == "u" and k.itemsize < 8 else k)
        self.out_dtype = dt
        if self.axis is not None:
            (self.ax,) = normalize_axis(self.axis, x.ndim, self.name, allow_tuple=False)
        if self.axis is None or x.ndim == 0:  # NumPy: a 0-d input gives shape (1,)
            return [((x.size,), dt)]
        return [(x._shape, dt)]

    def forward(self, xp: Any, x: Any) -> Any:
        name = self.name if x.dtype.kind in "fc" else _PLAIN[self.name]
        if self.axis is None or x.ndim == 0:
            x, ax = x.reshape(-1), 0
        else:
            ax = self.ax
        return getattr(xp, name)(x, axis=ax, dtype=self.out_dtype)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(x) or self.out_dtype.kind != "f":
            return [None]
        if self.axis is None or x.ndim == 0:
            xf, ax = _shape.reshape(x, (x.size,)), 0
        else:
            xf, ax = x, self.ax
        nan = _elemwise.unary("isnan", xf)
        ok = _elemwise.unary("logical_not", nan)
        g = _gu.cast_like(g, xf)
        if self.name == "nancumsum":
            gx = _reduce.reverse_cumsum(g, ax)
        else:  # NaN counts as 1
            filled = _shape.where(nan, _create.ones((), dtype=x._dtype, device=x._device), xf)
            gx = _reduce.cumprod_grad(filled, _gu.cast_like(y, xf), g, ax)
        return [_gu.cast_like(_shape.reshape(_gu.mul(gx, ok), x._shape), x)]


register("nancumprod")(type("NanCumProd", (NanCumulative,), {}))


def nan_cumulative(name: str, x: BaseArray, axis: Any = None, dtype: Any = None) -> BaseArray:
    return apply(NanCumulative(name, axis, dtype), (x,))


@register("ptp")
class Ptp(Op):
    """Peak to peak (max - min) along ``axis``; the input's dtype."""

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = bool(keepdims)

    def infer(self, x: BaseArray) -> Specs:
        if x._dtype.kind == "b":
            raise DTypeError("ptp: boolean input is not supported (subtraction of booleans)")
        axes = _axes(self.axis, x.ndim, "ptp")
        self.axes = axes
        if x.size == 0 and (not axes or any(x._shape[a] == 0 for a in axes)):
            raise ValueError("ptp: zero-size array to reduction operation maximum which has "
                             "no identity")
        return [(_reduced(x._shape, axes, self.keepdims), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        axis = self.axes if x.ndim else None
        return (xp.max(x, axis=axis, keepdims=self.keepdims)
                - xp.min(x, axis=axis, keepdims=self.keepdims))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x):
            return [None]
        axes, keep = self.axes, self.keepdims
        gk = _gu.expand(g, x._shape, axes, keep)
        parts = []
        for name in ("max", "min"):
            ext = _reduce.reduce(name, x, axis=axes, keepdims=True) if axes else x
            hit = _elemwise.binary("equal", x, ext)
            parts.append(_reduce.tie_split(hit, gk, axes, x))
        return [_gu.cast_like(_gu.sub(parts[0], parts[1]), x)]


def ptp(x: BaseArray, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(Ptp(axis, keepdims), (x,))


# -- histogram ------------------------------------------------------------------------------------

def hist_dtype(a: numpy.dtype, w: numpy.dtype | None, density: bool) -> numpy.dtype:
    """Counts are int64, weighted sums take the weights' dtype, densities are floating
    (float32 unless the data or weights are float64)."""
    if density:
        dt = _dt.float_result(w if w is not None else a)
        return F64 if a == F64 and dt.kind == "f" else dt
    return w if w is not None else I64


@register("histogram")
class Histogram(Op):
    """``numpy.histogram`` with integer or array ``bins``; edges are float32 for integer data."""

    nout = 2

    def __init__(self, bins: int | None, range_: tuple[float, float] | None, density: bool,
                 weighted: bool) -> None:
        if bins is not None and bins < 1:
            raise ValueError(f"histogram: `bins` must be positive, when an integer, got {bins}")
        if range_ is not None:
            lo, hi = range_
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError(f"histogram: supplied range of [{lo}, {hi}] is not finite")
            if lo > hi:
                raise ValueError("histogram: max must be larger than min in range parameter")
        self.bins = bins
        self.range = range_
        self.density = bool(density)
        self.weighted = weighted

    def infer(self, a: BaseArray, *rest: BaseArray) -> Specs:
        it = iter(rest)
        b = next(it) if self.bins is None else None
        w = next(it) if self.weighted else None
        if b is not None:
            if b.ndim != 1:
                raise ShapeError(f"histogram: `bins` must be 1d, when an array, got shape "
                                 f"{b._shape}")
            if b.size < 1:
                raise ValueError("histogram: `bins` must have at least one edge")
            edges: tuple[Shape, numpy.dtype] = (b._shape, b._dtype)
            nbins = b.size - 1
        else:
            assert self.bins is not None
            edges = ((self.bins + 1,), _dt.float_result(a._dtype))
            nbins = self.bins
        if w is not None and w._shape != a._shape:
            raise ShapeError(f"histogram: weights should have the same shape as a: {w._shape} "
                             f"vs {a._shape}")
        hdt = hist_dtype(a._dtype, None if w is None else w._dtype, self.density)
        return [((nbins,), hdt), edges]

    def forward(self, xp: Any, a: Any, *rest: Any) -> Any:
        it = iter(rest)
        bins = next(it) if self.bins is None else self.bins
        w = next(it) if self.weighted else None
        h, e = xp.histogram(a, bins=bins, range=self.range, weights=w, density=self.density)
        return h, e


def histogram(a: BaseArray, bins: int | BaseArray = 10,
              range: tuple[float, float] | None = None,
              weights: BaseArray | None = None, density: bool | None = None) -> Any:
    inputs: list[BaseArray] = [a]
    nb = None
    if isinstance(bins, BaseArray):
        inputs.append(bins)
    else:
        nb = int(bins)
    if weights is not None:
        inputs.append(weights)
    return apply(Histogram(nb, range, bool(density), weights is not None), inputs)


# -- cov / corrcoef -------------------------------------------------------------------------------

@register("cov")
class Cov(Op):
    """Covariance (``corr=True``: correlation coefficients) of the rows (``rowvar``) of m."""

    def __init__(self, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
                 dtype: Any = None, has_y: bool = False, has_f: bool = False,
                 has_a: bool = False, corr: bool = False) -> None:
        self.name = "corrcoef" if corr else "cov"  # type: ignore[misc]
        if ddof is not None and (not isinstance(ddof, (int, numpy.integer))
                                 or isinstance(ddof, bool)):
            raise ValueError(f"{self.name}: ddof must be integer, got {ddof!r}")
        self.rowvar = bool(rowvar)
        self.bias = bool(bias)
        self.ddof = ddof
        self.dtype = _dt.normalize(dtype)
        self.has_y, self.has_f, self.has_a = has_y, has_f, has_a
        self.corr = corr

    def _split(self, rest: Sequence[Any]) -> tuple[Any, Any, Any]:
        it = iter(rest)
        y = next(it) if self.has_y else None
        f = next(it) if self.has_f else None
        aw = next(it) if self.has_a else None
        return y, f, aw

    def _as_rows(self, shape: Shape, is_y: bool) -> tuple[Shape, bool]:
        s = (1,) * (2 - len(shape)) + shape
        flip = (not self.rowvar and s[0] != 1) if is_y else (not self.rowvar and len(shape) != 1)
        return (s[::-1] if flip else s), flip

    def infer(self, m: BaseArray, *rest: BaseArray) -> Specs:
        y, f, aw = self._split(rest)
        name = self.name
        if m.ndim > 2:
            raise ShapeError(f"{name}: m has more than 2 dimensions (shape {m._shape})")
        if y is not None and y.ndim > 2:
            raise ShapeError(f"{name}: y has more than 2 dimensions (shape {y._shape})")
        dts = [m._dtype] + ([y._dtype] if y is not None else [])
        dt = self.dtype or _dt.float_result(promote_all(dts))
        if dt.kind not in "fc":
            dt = _dt.default_float()
        self.out_dtype = dt
        (vm, obs), self.flip_m = self._as_rows(m._shape, False)
        if vm == 0:
            return [((0, 0), dt)]
        nvar = vm
        if y is not None:
            (vy, oy), self.flip_y = self._as_rows(y._shape, True)
            if oy != obs:
                raise ShapeError(f"{name}: m and y must have the same number of observations, "
                                 f"got {obs} and {oy}")
            nvar += vy
        for wt, what in ((f, "fweights"), (aw, "aweights")):
            if wt is None:
                continue
            if what == "fweights" and wt._dtype.kind not in "iub":
                raise DTypeError(f"{name}: fweights must be integer, got dtype {wt._dtype}")
            if wt.ndim > 1:
                raise ShapeError(f"{name}: {what} must be one dimensional, got shape "
                                 f"{wt._shape}")
            if wt.size != obs:
                raise ShapeError(f"{name}: incompatible numbers of samples ({obs}) and {what} "
                                 f"({wt.size})")
        return [(() if nvar == 1 else (nvar, nvar), dt)]

    def forward(self, xp: Any, m: Any, *rest: Any) -> Any:
        y, f, aw = self._split(rest)
        dt = self.out_dtype
        X = m.astype(dt).reshape((1,) * (2 - m.ndim) + m.shape)
        if self.flip_m:
            X = X.T
        if X.shape[0] == 0:
            return xp.empty((0, 0), dtype=dt)
        if y is not None:
            Y = y.astype(dt).reshape((1,) * (2 - y.ndim) + y.shape)
            if self.flip_y:
                Y = Y.T
            X = xp.concatenate((X, Y), axis=0)
        w = None
        if f is not None:
            if bool((f < 0).any()):
                raise ValueError(f"{self.name}: fweights cannot be negative")
            w = f.reshape(-1).astype(F64)
        if aw is not None:
            if bool((aw < 0).any()):
                raise ValueError(f"{self.name}: aweights cannot be negative")
            aw = aw.reshape(-1).astype(F64)
            w = aw if w is None else w * aw
        n_obs = X.shape[1]
        if w is None:
            avg = X.mean(axis=1)
            w_sum: Any = float(n_obs)
        else:
            w_sum = float(w.sum())
            if w_sum == 0:
                raise ZeroDivisionError(f"{self.name}: weights sum to zero, can't be normalized")
            avg = (X * w).sum(axis=1) / w_sum
        ddof = self.ddof if self.ddof is not None else (0 if self.bias else 1)
        if w is None:
            fact = n_obs - ddof
        elif ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * float((w * aw).sum()) / w_sum
        if fact <= 0:
            warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
            fact = 0.0
        Xc = (X - avg[:, None]).astype(dt)
        Xw = Xc if w is None else (Xc * w).astype(dt)
        c = xp.true_divide(Xc @ Xw.T.conj(), fact).astype(dt)
        if self.corr:
            c = self._corr(xp, c)
        return c.squeeze()

    @staticmethod
    def _corr(xp: Any, c: Any) -> Any:
        if c.size == 1:
            return c / c
        d = xp.diagonal(c)
        sd = xp.sqrt(d.real)
        c = c / sd[:, None]
        c = c / sd[None, :]
        if c.dtype.kind == "c":
            return xp.clip(c.real, -1, 1) + 1j * xp.clip(c.imag, -1, 1)
        return xp.clip(c, -1, 1)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """C = Xc W Xc^T / fact with Xc the centred rows: gX = (G + G^T) Xc W / fact (the
        centring needs no correction: the rows of that sum to zero). corrcoef goes through
        R = C / (s s^T), s = sqrt(diag C), ignoring the final clip to [-1, 1]. The weights get
        no gradient."""
        m = inputs[0]
        y, f, aw = self._split(inputs[1:])
        grads: list[Any] = [None] * len(inputs)
        want_m, want_y = _gu.wants(m, inputs), _gu.wants(y, inputs)
        if not (want_m or want_y) or self.out_dtype.kind != "f":
            return grads
        (c,), (g,) = outputs, out_grads
        dt = self.out_dtype

        def rows(v: BaseArray, flip: bool) -> BaseArray:
            r = _shape.reshape(_shape.astype(v, dt, copy=False), (1,) * (2 - v.ndim) + v._shape)
            return _shape.transpose(r) if flip else r

        xm = rows(m, self.flip_m)
        if xm._shape[0] == 0:
            return [_create.zeros_like(m)] + grads[1:]
        x = xm if y is None else _shape.concatenate([xm, rows(y, self.flip_y)], axis=0)
        nvar, nobs = x._shape
        w = None
        for wt in (f, aw):
            if wt is not None:
                wt = _shape.astype(_shape.reshape(wt, (nobs,)), dt)
                w = wt if w is None else _gu.mul(w, wt)
        ddof = self.ddof if self.ddof is not None else (0 if self.bias else 1)
        if w is None:
            xc = _gu.sub(x, _reduce.reduce("mean", x, axis=1, keepdims=True))
            fact: Any = float(nobs - ddof)
            xw = xc
        else:
            w_sum = _reduce.reduce("sum", w)
            avg = _gu.div(_reduce.reduce("sum", _gu.mul(x, w), axis=1, keepdims=True), w_sum)
            xc = _gu.sub(x, avg)
            xw = _gu.mul(xc, w)
            if ddof == 0:
                fact = w_sum
            elif aw is None:
                fact = _gu.sub(w_sum, float(ddof))
            else:
                awf = _shape.astype(_shape.reshape(aw, (nobs,)), dt)
                fact = _gu.sub(w_sum, _gu.div(_gu.mul(_reduce.reduce("sum", _gu.mul(w, awf)),
                                                      float(ddof)), w_sum))
        gm = _shape.reshape(_gu.cast_like(g, xc), (nvar, nvar))
        if self.corr:
            if nvar == 1:
                return [_create.zeros_like(m) if want_m else None] + grads[1:]
            cm = _gu.div(_misc.matmul(xc, _shape.transpose(xw)), fact)
            d = _linalg_diag(cm)
            sd = _elemwise.unary("sqrt", d)
            scale = _gu.mul(_shape.reshape(sd, (nvar, 1)), _shape.reshape(sd, (1, nvar)))
            gr = _gu.mul(gm, c)
            gd = _gu.div(_gu.mul(_gu.add(_reduce.reduce("sum", gr, axis=1),
                                         _reduce.reduce("sum", gr, axis=0)), -0.5), d)
            eye = _gu.const(numpy.eye(nvar), gm, gm._dtype)
            gm = _gu.add(_gu.div(gm, scale), _gu.mul(_shape.reshape(gd, (nvar, 1)), eye))
        gx = _gu.div(_misc.matmul(_gu.add(gm, _shape.transpose(gm)), xw), fact)
        vm = xm._shape[0]
        for i, (v, flip, lo, hi) in enumerate(((m, self.flip_m, 0, vm),
                                               (y, getattr(self, "flip_y", False), vm, nvar))):
            if v is None or not _gu.wants(v, inputs):
                continue
            part = _gu.take_range(gx, lo, hi, 0)
            if flip:
                part = _shape.transpose(part)
            grads[i] = _gu.cast_like(_shape.reshape(part, v._shape), v)
        return grads


def _linalg_diag(x: BaseArray) -> BaseArray:
    """The diagonal of a square matrix, differentiably (a gather of the flat positions)."""
    n = x._shape[0]
    flat = _shape.reshape(x, (n * n,))
    return _gu.gather_along(flat, _gu.const(numpy.arange(n) * (n + 1), flat), 0)


def cov(m: BaseArray, y: BaseArray | None = None, rowvar: bool = True, bias: bool = False,
        ddof: int | None = None, fweights: BaseArray | None = None,
        aweights: BaseArray | None = None, dtype: Any = None, corr: bool = False) -> BaseArray:
    inputs = [m] + [x for x in (y, fweights, aweights) if x is not None]
    op = Cov(rowvar, bias, ddof, dtype, y is not None, fweights is not None,
             aweights is not None, corr)
    return apply(op, inputs)


# -- comparison -----------------------------------------------------------------------------------

@register("isclose")
class IsClose(Op):
    """Elementwise closeness; ``reduce_all`` gives the 0-d ``all`` of it (``allclose``)."""

    def __init__(self, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False,
                 reduce_all: bool = False) -> None:
        self.rtol = float(rtol)
        self.atol = float(atol)
        self.equal_nan = bool(equal_nan)
        self.reduce_all = reduce_all

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        op = "allclose" if self.reduce_all else "isclose"
        shape = broadcast_shapes(a._shape, b._shape, op)
        return [((() if self.reduce_all else shape), BOOL)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        r = xp.isclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
        return xp.all(r) if self.reduce_all else r

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def isclose(a: BaseArray, b: BaseArray, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False, reduce_all: bool = False) -> BaseArray:
    return apply(IsClose(rtol, atol, equal_nan, reduce_all), (a, b))


@register("all_equal")
class AllEqual(Op):
    """0-d bool: every (broadcast) element of a equals b's (NaN == NaN with ``equal_nan``)."""

    def __init__(self, equal_nan: bool = False) -> None:
        self.equal_nan = bool(equal_nan)

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        broadcast_shapes(a._shape, b._shape, "array_equal")
        return [((), BOOL)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        eq = a == b
        if self.equal_nan and (a.dtype.kind in "fc" or b.dtype.kind in "fc"):
            eq = eq | (xp.isnan(a) & xp.isnan(b))
        return xp.all(eq)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def all_equal(a: BaseArray, b: BaseArray, equal_nan: bool = False) -> BaseArray:
    return apply(AllEqual(equal_nan), (a, b))


@register("nan_to_num")
class NanToNum(Op):
    """NaN and infinities replaced by finite numbers; non-floating input is copied."""

    def __init__(self, nan: float = 0.0, posinf: float | None = None,
                 neginf: float | None = None) -> None:
        self.nan = nan
        self.posinf = posinf
        self.neginf = neginf

    def infer(self, x: BaseArray) -> Specs:
        return [(x._shape, x._dtype)]

    def _fix(self, xp: Any, x: Any) -> Any:
        info = numpy.finfo(x.dtype)
        big = info.max if self.posinf is None else self.posinf
        small = info.min if self.neginf is None else self.neginf
        with numpy.errstate(over="ignore"):
            vals = [x.dtype.type(v) for v in (self.nan, big, small)]
        out = xp.where(xp.isnan(x), vals[0], x)
        out = xp.where(out == numpy.inf, vals[1], out)
        return xp.where(out == -numpy.inf, vals[2], out).astype(x.dtype)

    def forward(self, xp: Any, x: Any) -> Any:
        if x.dtype.kind == "f":
            return self._fix(xp, x)
        if x.dtype.kind == "c":
            return (self._fix(xp, x.real) + 1j * self._fix(xp, x.imag)).astype(x.dtype)
        return x.copy()

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # the replaced NaNs and infinities are constants
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x):
            return [None]
        return [_gu.mul(g, _elemwise.unary("isfinite", x))]


def nan_to_num(x: BaseArray, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> BaseArray:
    return apply(NanToNum(nan, posinf, neginf), (x,))


# -- searching ------------------------------------------------------------------------------------

@register("searchsorted")
class SearchSorted(Op):
    def __init__(self, side: str = "left") -> None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right' (got {side!r})")
        self.side = side

    def infer(self, a: BaseArray, v: BaseArray, sorter: BaseArray | None = None) -> Specs:
        if a.ndim != 1:
            raise ShapeError(f"searchsorted: a must be 1-dimensional, got shape {a._shape}")
        if sorter is not None:
            _check_index_dtype(sorter, "sorter", "searchsorted")
            if sorter._shape != a._shape:
                raise ShapeError(f"searchsorted: sorter.size must equal a.size, got shape "
                                 f"{sorter._shape} for a of shape {a._shape}")
        return [(v._shape, I64)]

    def forward(self, xp: Any, a: Any, v: Any, sorter: Any = None) -> Any:
        if sorter is not None:
            if bool(((sorter < 0) | (sorter >= a.shape[0])).any()):
                raise ValueError("searchsorted: sorter index out of range")
            a = xp.take(a, sorter)
        dt = numpy.promote_types(a.dtype, v.dtype)
        return xp.searchsorted(a.astype(dt, copy=False), v.astype(dt, copy=False),
                               side=self.side)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def searchsorted(a: BaseArray, v: BaseArray, side: str = "left",
                 sorter: BaseArray | None = None) -> BaseArray:
    inputs = (a, v) if sorter is None else (a, v, sorter)
    return apply(SearchSorted(side), inputs)


@register("diff")
class Diff(Op):
    """n-th discrete difference along ``axis`` of ``prepend ++ a ++ append`` (given as arrays
    that already have a's shape except along ``axis``)."""

    def __init__(self, n: int = 1, axis: int = -1, has_prepend: bool = False,
                 has_append: bool = False) -> None:
        if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool):
            raise TypeError(f"diff: n must be an integer, got {n!r}")
        if n < 0:
            raise ValueError(f"diff: order must be non-negative but got {n}")
        self.n = int(n)
        self.axis = axis
        self.pre = has_prepend
        self.app = has_append

    def infer(self, a: BaseArray, *extra: BaseArray) -> Specs:
        if a.ndim == 0:
            raise ValueError("diff requires input that is at least one dimensional")
        (ax,) = normalize_axis(self.axis, a.ndim, "diff", allow_tuple=False)
        self.ax = ax
        length = a._shape[ax]
        for e in extra:
            if e.ndim != a.ndim or any(e._shape[i] != a._shape[i] for i in range(a.ndim)
                                       if i != ax):
                raise ShapeError(f"diff: prepend/append of shape {e._shape} does not match a "
                                 f"of shape {a._shape} except along axis {ax}")
            length += e._shape[ax]
        dt = promote_all([a._dtype] + [e._dtype for e in extra])
        self.out_dtype = dt
        shape = list(a._shape)
        shape[ax] = max(length - self.n, 0)
        return [(tuple(shape), dt)]

    def forward(self, xp: Any, a: Any, *extra: Any) -> Any:
        dt, ax = self.out_dtype, self.ax
        it = iter(extra)
        parts = ([next(it)] if self.pre else []) + [a] + ([next(it)] if self.app else [])
        x = (xp.concatenate([p.astype(dt, copy=False) for p in parts], axis=ax)
             if len(parts) > 1 else a.astype(dt))
        nd = x.ndim
        for _ in range(self.n):
            if x.shape[ax] == 0:
                break
            hi = x[_slicer(nd, ax, slice(1, None))]
            lo = x[_slicer(nd, ax, slice(None, -1))]
            x = xp.not_equal(hi, lo) if dt.kind == "b" else hi - lo
        return x

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,) = out_grads
        need = [_gu.wants(x, inputs) for x in inputs]
        if not any(need) or self.out_dtype.kind != "f":
            return [None] * len(inputs)
        ax = self.ax
        lengths = [x._shape[ax] for x in inputs]
        it = iter(lengths[1:])
        parts = ([next(it)] if self.pre else []) + [lengths[0]] + ([next(it)] if self.app else [])
        total = sum(parts)
        for _ in range(min(self.n, total)):
            g = _diff_adjoint(g, ax)
        order = ([1] if self.pre else []) + [0] + ([len(inputs) - 1] if self.app else [])
        grads: list[Any] = [None] * len(inputs)
        lo = 0
        for k, size in zip(order, parts):
            if need[k]:
                grads[k] = _gu.cast_like(_gu.take_range(g, lo, lo + size, ax), inputs[k])
            lo += size
        return grads


def _diff_adjoint(g: BaseArray, ax: int) -> BaseArray:
    """The adjoint of one difference step along ``ax``: out[i] = g[i-1] - g[i] (length + 1)."""
    n = g._shape[ax] + 1
    return _gu.sub(_gu.place_range(g, 1, n, ax), _gu.place_range(g, 0, n, ax))


def diff(a: BaseArray, n: int = 1, axis: int = -1, prepend: BaseArray | None = None,
         append: BaseArray | None = None) -> BaseArray:
    inputs = [a] + [e for e in (prepend, append) if e is not None]
    return apply(Diff(n, axis, prepend is not None, append is not None), inputs)


@register("ediff1d")
class Ediff1d(Op):
    """Differences of the flattened array, with ``to_begin``/``to_end`` (cast to a's dtype)."""

    def __init__(self, has_begin: bool = False, has_end: bool = False) -> None:
        self.begin = has_begin
        self.end = has_end

    def infer(self, a: BaseArray, *extra: BaseArray) -> Specs:
        if a._dtype.kind == "b":
            raise DTypeError("ediff1d: boolean input is not supported (subtraction of "
                             "booleans); cast it first")
        for e, what in zip(extra, [w for w, h in (("to_begin", self.begin),
                                                   ("to_end", self.end)) if h]):
            if not numpy.can_cast(e._dtype, a._dtype, "same_kind"):
                raise DTypeError(f"ediff1d: dtype of `{what}` ({e._dtype}) must be compatible "
                                 f"with input `ary` ({a._dtype}) under the `same_kind` rule")
        n = max(a.size - 1, 0) + sum(e.size for e in extra)
        return [((n,), a._dtype)]

    def forward(self, xp: Any, a: Any, *extra: Any) -> Any:
        d = a.reshape(-1)
        parts = [d[1:] - d[:-1]]
        it = iter(extra)
        if self.begin:
            parts.insert(0, next(it).reshape(-1).astype(a.dtype))
        if self.end:
            parts.append(next(it).reshape(-1).astype(a.dtype))
        return xp.concatenate(parts)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,) = out_grads
        a = inputs[0]
        need = [_gu.wants(x, inputs) for x in inputs]
        if not any(need) or a._dtype.kind != "f":
            return [None] * len(inputs)
        extra = list(inputs[1:])
        begin = extra.pop(0) if self.begin else None
        end = extra.pop(0) if self.end else None
        nb = begin.size if begin is not None else 0
        nmid = max(a.size - 1, 0)
        grads: list[Any] = [None] * len(inputs)
        if need[0]:
            if a.size == 0:
                grads[0] = _create.zeros_like(a)
            else:
                gmid = _diff_adjoint(_gu.take_range(g, nb, nb + nmid, 0), 0)
                grads[0] = _gu.cast_like(_shape.reshape(gmid, a._shape), a)
        k = 1
        for e, lo in ((begin, 0), (end, nb + nmid)):
            if e is None:
                continue
            if need[k]:
                part = _gu.take_range(g, lo, lo + e.size, 0)
                grads[k] = _gu.cast_like(_shape.reshape(part, e._shape), e)
            k += 1
        return grads


def ediff1d(a: BaseArray, to_end: BaseArray | None = None,
            to_begin: BaseArray | None = None) -> BaseArray:
    inputs = [a] + [e for e in (to_begin, to_end) if e is not None]
    return apply(Ediff1d(to_begin is not None, to_end is not None), inputs)


@register("interp")
class Interp(Op):
    """1-D linear interpolation; float32 unless ``fp`` is float64 or complex."""

    def __init__(self, left: Any = None, right: Any = None, period: Any = None) -> None:
        if period is not None and period == 0:
            raise ValueError("interp: period must be a non-zero value")
        self.left, self.right, self.period = left, right, period

    def infer(self, x: BaseArray, xp_: BaseArray, fp: BaseArray) -> Specs:
        if xp_.ndim != 1 or fp.ndim != 1:
            raise ShapeError(f"interp: xp and fp must be 1-D, got shapes {xp_._shape} and "
                             f"{fp._shape}")
        if xp_.size != fp.size:
            raise ShapeError(f"interp: fp and xp are not of the same length ({fp.size} and "
                             f"{xp_.size})")
        if xp_.size == 0:
            raise ValueError("interp: array of sample points is empty")
        if x._dtype.kind == "c" or xp_._dtype.kind == "c":
            raise DTypeError("interp: x and xp must be real")
        dt = _dt.float_result(fp._dtype)
        self.out_dtype = dt
        return [(x._shape, dt)]

    def forward(self, xp: Any, x: Any, xs: Any, fp: Any) -> Any:
        fdt = numpy.dtype(numpy.complex128) if fp.dtype.kind == "c" else F64
        r = xp.interp(x.astype(F64), xs.astype(F64), fp.astype(fdt), left=self.left,
                      right=self.right, period=self.period)
        return xp.asarray(r).astype(self.out_dtype)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """Linear in ``fp`` (each output mixes two of its entries); with respect to ``x`` the
        slope of the segment (0 outside the sample points); none to ``xp``."""
        (x, xs, fp), (g,) = inputs, out_grads
        want_x, want_fp = _gu.wants(x, inputs), _gu.wants(fp, inputs)
        if not (want_x or want_fp):
            return [None, None, None]
        lo, hi, c_lo, c_hi, slope, base, lin = apply(_InterpWeights(self), (x, xs))
        gf = _shape.reshape(_gu.cast_like(g, fp) if want_fp else g, (x.size,))
        k = fp.size
        gx = gfp = None
        if want_fp:
            # the weights move with x inside a segment: t = (x - xp[j]) / (xp[j+1] - xp[j]),
            # written in ops of x so that the gradient of this gradient reaches x
            xv = _shape.astype(_shape.reshape(x, (x.size,)), F64)
            if self.period is not None:
                xv = _elemwise.binary("remainder", xv, abs(float(self.period)))
            t = _gu.mul(_shape.where(lin, _gu.sub(xv, base), _create.zeros_like(slope)), slope)
            wl = _shape.astype(_gu.sub(c_lo, t), fp._dtype)
            wh = _shape.astype(_gu.add(c_hi, t), fp._dtype)
            gfp = _gu.add(_gu.scatter_along(_gu.mul(gf, wl), lo, 0, k),
                          _gu.scatter_along(_gu.mul(gf, wh), hi, 0, k))
        if want_x:
            rise = _gu.sub(_gu.gather_along(fp, hi, 0), _gu.gather_along(fp, lo, 0))
            gx = _gu.mul(_gu.mul(_shape.reshape(g, (x.size,)), rise),
                         _shape.astype(slope, g._dtype))
            gx = _gu.cast_like(_shape.reshape(gx, x._shape), x)
        return [gx, None, gfp]


@register("_interp_weights")
class _InterpWeights(Op):
    """For each (flattened) x of ``interp``: the indices into fp of the two samples it mixes,
    the parts of their weights that do not move with x, d(upper weight)/dx, the lower sample
    point of the segment, and where the weights move with x (there the upper weight is
    ``(x - base) * slope``, added to the constant parts). Piecewise constant in x: used by
    Interp's gradient, which writes the moving part with ops of x."""

    nout = 7

    def __init__(self, op: Interp) -> None:
        self.op = op

    def infer(self, x: BaseArray, xs: BaseArray) -> Specs:
        n = (x.size,)
        return [(n, I64), (n, I64), (n, F64), (n, F64), (n, F64), (n, F64), (n, BOOL)]

    def forward(self, xp: Any, x: Any, xs: Any) -> Any:
        op = self.op
        xv = x.astype(F64).reshape(-1)
        pts = xs.astype(F64)
        idx = xp.arange(pts.shape[0])
        left, right = op.left, op.right
        if op.period is not None:  # as NumPy: sort the points mod period, wrap one each side
            period = abs(float(op.period))
            pts = xp.remainder(pts, period)
            order = xp.argsort(pts, kind="stable")
            pts = pts[order]
            pts = xp.concatenate([pts[-1:] - period, pts, pts[:1] + period])
            idx = xp.concatenate([order[-1:], order, order[:1]])
            xv = xp.remainder(xv, period)
            left = right = None
        k = pts.shape[0]
        if k == 1:
            j = xp.zeros(xv.shape, dtype=I64)
            j1 = j
            t = xp.zeros(xv.shape, dtype=F64)
            slope = t
        else:
            j = xp.clip(xp.searchsorted(pts, xv, side="right") - 1, 0, k - 2)
            j1 = j + 1
            with numpy.errstate(divide="ignore", invalid="ignore"):
                width = pts[j1] - pts[j]
                t = (xv - pts[j]) / width
                slope = 1.0 / width
        inside = (xv >= pts[0]) & (xv <= pts[-1])
        w_hi = xp.where(inside, t, 0.0)
        w_lo = xp.where(inside, 1.0 - t, 0.0)
        lin = inside & (xv < pts[-1])
        slope = xp.where(lin, slope, 0.0)
        if left is None:
            w_lo = xp.where(xv < pts[0], 1.0, w_lo)
        if right is None:
            w_hi = xp.where(xv > pts[-1], 1.0, w_hi)
            if k == 1:
                w_lo = xp.where(xv > pts[-1], 1.0, w_lo)
                w_hi = xp.zeros_like(w_hi)
        base = xp.where(lin, pts[j], 0.0)
        w_lo = xp.where(lin, 1.0, w_lo)
        w_hi = xp.where(lin, 0.0, w_hi)
        return idx[j], idx[j1], w_lo, w_hi, slope, base, lin

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def interp(x: BaseArray, xp_: BaseArray, fp: BaseArray, left: Any = None, right: Any = None,
           period: Any = None) -> BaseArray:
    return apply(Interp(left, right, period), (x, xp_, fp))


@register("take_along_axis")
class TakeAlongAxis(Op):
    def __init__(self, axis: Any) -> None:
        self.axis = axis

    def infer(self, arr: BaseArray, idx: BaseArray) -> Specs:
        if idx._dtype.kind not in "iu":
            raise IndexError(f"take_along_axis: `indices` must be an integer array, got dtype "
                             f"{idx._dtype}")
        if self.axis is None:
            if idx.ndim != 1:
                raise ShapeError("take_along_axis: when axis=None, `indices` must be 1-D, got "
                                 f"shape {idx._shape}")
            self.ax = None
            return [(idx._shape, arr._dtype)]
        if idx.ndim != arr.ndim:
            raise ShapeError(f"take_along_axis: `indices` and `arr` must have the same number "
                             f"of dimensions, got {idx.ndim} and {arr.ndim}")
        (ax,) = normalize_axis(self.axis, arr.ndim, "take_along_axis", allow_tuple=False)
        self.ax = ax
        shape = []
        for i, (da, di) in enumerate(zip(arr._shape, idx._shape)):
            if i == ax:
                shape.append(di)
            elif da == di or da == 1 or di == 1:
                shape.append(di if da == 1 else da)
            else:
                raise ShapeError(f"take_along_axis: shape mismatch: indices {idx._shape} "
                                 f"cannot be broadcast against arr {arr._shape}")
        n = arr._shape[ax]
        if n == 0 and idx.size:
            raise IndexError("take_along_axis: cannot take from an empty axis")
        return [(tuple(shape), arr._dtype)]

    def forward(self, xp: Any, arr: Any, idx: Any) -> Any:
        if self.ax is None:
            arr, ax = arr.reshape(-1), 0
        else:
            ax = self.ax
        n = arr.shape[ax]
        if idx.size and bool(((idx >= n) | (idx < -n)).any()):
            raise IndexError(f"take_along_axis: index out of bounds for axis {ax} with size {n}")
        if self.ax is not None:
            bshape = tuple(max(a, i) if k != ax else a
                           for k, (a, i) in enumerate(zip(arr.shape, idx.shape)))
            arr = xp.broadcast_to(arr, bshape)
            ishape = tuple(max(a, i) if k != ax else i
                           for k, (a, i) in enumerate(zip(arr.shape, idx.shape)))
            idx = xp.broadcast_to(idx, ishape)
        return xp.take_along_axis(arr, idx.astype(I64, copy=False), axis=ax)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (arr, idx), (g,) = inputs, out_grads
        if not _gu.wants(arr):
            return [None, None]
        if self.ax is None:
            gx = _shape.reshape(_gu.scatter_along(g, idx, 0, arr.size), arr._shape)
        else:
            gx = _gu.sum_to(_gu.scatter_along(g, idx, self.ax, arr._shape[self.ax]),
                            arr._shape)
        return [gx, None]


def take_along_axis(arr: BaseArray, indices: BaseArray, axis: Any) -> BaseArray:
    return apply(TakeAlongAxis(axis), (arr, indices))


@register("digitize")
class Digitize(Op):
    def __init__(self, right: bool = False) -> None:
        self.right = bool(right)

    def infer(self, x: BaseArray, bins: BaseArray) -> Specs:
        if bins.ndim != 1:
            raise ShapeError(f"digitize: bins must be 1-dimensional, got shape {bins._shape}")
        if x._dtype.kind == "c":
            raise DTypeError("digitize: x may not be complex")
        return [(x._shape, I64)]

    def forward(self, xp: Any, x: Any, bins: Any) -> Any:
        dt = numpy.promote_types(x.dtype, bins.dtype)
        x = x.astype(dt, copy=False)
        bins = bins.astype(dt, copy=False)
        side = "left" if self.right else "right"
        if bins.shape[0] > 1:
            d = bins[1:] >= bins[:-1]
            inc = bool(d.all())
            if not inc and not bool((bins[1:] <= bins[:-1]).all()):
                raise ValueError("digitize: bins must be monotonically increasing or decreasing")
        else:
            inc = True
        if inc:
            return xp.searchsorted(bins, x, side=side)
        return bins.shape[0] - xp.searchsorted(bins[::-1], x, side=side)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def digitize(x: BaseArray, bins: BaseArray, right: bool = False) -> BaseArray:
    return apply(Digitize(right), (x, bins))


@register("choose")
class Choose(Op):
    def __init__(self, mode: str = "raise") -> None:
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"choose: mode must be one of 'clip', 'raise' or 'wrap' (got "
                             f"{mode!r})")
        self.mode = mode

    def infer(self, a: BaseArray, *choices: BaseArray) -> Specs:
        if not choices:
            raise ValueError("choose: choices must not be empty")
        if a._dtype.kind not in "biu":
            raise DTypeError(f"choose: a must be an integer array, got dtype {a._dtype}")
        shape = a._shape
        for c in choices:
            shape = broadcast_shapes(shape, c._shape, "choose")
        self.shape = shape
        self.out_dtype = promote_all([c._dtype for c in choices])
        return [(shape, self.out_dtype)]

    def forward(self, xp: Any, a: Any, *choices: Any) -> Any:
        n = len(choices)
        idx = a.astype(I64)
        if self.mode == "raise":
            if idx.size and bool(((idx < 0) | (idx >= n)).any()):
                raise ValueError("choose: invalid entry in choice array")
        elif self.mode == "wrap":
            idx = xp.remainder(idx, n)
        else:
            idx = xp.clip(idx, 0, n - 1)
        stacked = xp.stack([xp.broadcast_to(c.astype(self.out_dtype, copy=False), self.shape)
                            for c in choices])
        idx = xp.broadcast_to(idx, self.shape)[None]
        return xp.take_along_axis(stacked, idx, axis=0)[0]

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,) = out_grads
        a, choices = inputs[0], inputs[1:]
        n = len(choices)
        idx = _shape.astype(a, I64)
        if self.mode == "wrap":
            idx = _elemwise.binary("mod", idx, n)
        elif self.mode == "clip":
            idx = _shape.clip(idx, 0, n - 1)
        grads: list[Any] = [None]
        for i, c in enumerate(choices):
            if not _gu.wants(c, inputs):
                grads.append(None)
                continue
            gi = _gu.mul(g, _elemwise.binary("equal", idx, i))
            grads.append(_gu.cast_like(_gu.sum_to(gi, c._shape), c))
        return grads


def choose(a: BaseArray, choices: Sequence[BaseArray], mode: str = "raise") -> BaseArray:
    return apply(Choose(mode), (a, *choices))


@register("select")
class Select(Op):
    """The first choice whose condition holds, else ``default`` (inputs: conds, choices,
    default)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def infer(self, *xs: BaseArray) -> Specs:
        n = self.n
        conds, choices, default = xs[:n], xs[n:2 * n], xs[2 * n]
        shape = default._shape
        for i, c in enumerate(conds):
            if c._dtype.kind != "b":
                raise DTypeError(f"select: invalid entry {i} in condlist: should be boolean "
                                 f"ndarray, got dtype {c._dtype}")
            shape = broadcast_shapes(shape, c._shape, "select")
        for c in choices:
            shape = broadcast_shapes(shape, c._shape, "select")
        self.out_dtype = promote_all([c._dtype for c in choices] + [default._dtype])
        self.shape = shape
        return [(shape, self.out_dtype)]

    def forward(self, xp: Any, *xs: Any) -> Any:
        n, dt = self.n, self.out_dtype
        out = xp.array(xp.broadcast_to(xs[2 * n].astype(dt, copy=False), self.shape))
        for c, v in zip(reversed(xs[:n]), reversed(xs[n:2 * n])):
            out = xp.where(c, v.astype(dt, copy=False), out)
        return out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,) = out_grads
        n = self.n
        grads: list[Any] = [None] * len(inputs)
        taken = None  # some earlier condition holds
        masks = []
        for c in inputs[:n]:
            masks.append(c if taken is None else _elemwise.binary(
                "logical_and", c, _elemwise.unary("logical_not", taken)))
            taken = c if taken is None else _elemwise.binary("logical_or", taken, c)
        masks.append(_elemwise.unary("logical_not", taken) if taken is not None else None)
        for k, (v, mask) in enumerate(zip(inputs[n:], masks)):
            if not _gu.wants(v, inputs):
                continue
            gv = g if mask is None else _gu.mul(g, mask)
            grads[n + k] = _gu.cast_like(_gu.sum_to(_shape.broadcast_to(gv, self.shape)
                                                    if gv._shape != self.shape else gv,
                                                    v._shape), v)
        return grads


def select(condlist: Sequence[BaseArray], choicelist: Sequence[BaseArray],
           default: BaseArray) -> BaseArray:
    return apply(Select(len(condlist)), (*condlist, *choicelist, default))


@register("lexsort")
class Lexsort(Op):
    """Indirect stable sort by several keys, the last the primary one (int64 indices)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def infer(self, *keys: BaseArray) -> Specs:
        if not keys:
            raise TypeError("lexsort: need sequence of keys with len > 0")
        shape = keys[0]._shape
        for k in keys[1:]:
            if k._shape != shape:
                raise ShapeError(f"lexsort: all keys need to be the same shape, got {shape} "
                                 f"and {k._shape}")
        if not shape:
            self.ax = None
            return [((), I64)]
        (self.ax,) = normalize_axis(self.axis, len(shape), "lexsort", allow_tuple=False)
        return [(shape, I64)]

    def forward(self, xp: Any, *keys: Any) -> Any:
        if self.ax is None:
            return xp.zeros((), dtype=I64)
        ax = self.ax
        idx = xp.argsort(keys[0], axis=ax, kind="stable")
        for k in keys[1:]:
            kk = xp.take_along_axis(k, idx, axis=ax)
            idx = xp.take_along_axis(idx, xp.argsort(kk, axis=ax, kind="stable"), axis=ax)
        return idx

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def lexsort(keys: Sequence[BaseArray], axis: int = -1) -> BaseArray:
    return apply(Lexsort(axis), tuple(keys))


@register("partition")
class Partition(Op):
    """``partition``/``argpartition``: the k-th elements in sorted position, smaller ones
    before, larger after (the order within each side is unspecified)."""

    def __init__(self, kth: Any, axis: Any = -1, indices: bool = False) -> None:
        ks = numpy.asarray(kth)
        if ks.dtype.kind not in "iu":
            raise TypeError(f"partition: kth must be an integer or a sequence of integers, got "
                            f"{kth!r}")
        self.kth = ks
        self.axis = axis
        self.indices = indices

    def infer(self, x: BaseArray) -> Specs:
        name = "argpartition" if self.indices else "partition"
        if self.axis is None:
            shape: Shape = (x.size,)
            self.ax = 0
        else:
            if x.ndim == 0:
                raise AxisError(self.axis, 0, name)
            (self.ax,) = normalize_axis(self.axis, x.ndim, name, allow_tuple=False)
            shape = x._shape
        n = shape[self.ax]
        for k in self.kth.reshape(-1):
            if not -n <= int(k) < n:
                raise ValueError(f"{name}: kth(={int(k)}) out of bounds ({n})")
        return [(shape, I64 if self.indices else x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        if self.axis is None:
            x = x.reshape(-1)
        kth = self.kth.tolist() if self.kth.ndim else int(self.kth)
        if self.indices:
            return xp.argpartition(x, kth, axis=self.ax)
        return xp.partition(x, kth, axis=self.ax)


def partition(x: BaseArray, kth: Any, axis: Any = -1, indices: bool = False) -> BaseArray:
    return apply(Partition(kth, axis, indices), (x,))


# -- set membership -------------------------------------------------------------------------------

@register("isin")
class IsIn(Op):
    """Whether each element of a is in b (shape of a; flattened with ``flat``)."""

    def __init__(self, invert: bool = False, flat: bool = False) -> None:
        self.invert = bool(invert)
        self.flat = flat

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        return [((a.size,) if self.flat else a._shape, BOOL)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        dt = numpy.promote_types(a.dtype, b.dtype)
        t = xp.sort(b.reshape(-1).astype(dt, copy=False))
        v = a.reshape(-1).astype(dt, copy=False)
        if t.shape[0] == 0:
            found = xp.zeros(v.shape, dtype=BOOL)
        else:
            pos = xp.minimum(xp.searchsorted(t, v), t.shape[0] - 1)
            found = t[pos] == v
        if self.invert:
            found = ~found
        return found if self.flat else found.reshape(a.shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [None] * len(inputs)


def isin(a: BaseArray, b: BaseArray, invert: bool = False, flat: bool = False) -> BaseArray:
    return apply(IsIn(invert, flat), (a, b))
