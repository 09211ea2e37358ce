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
from ._base import BaseArray
from ._op import Op, apply, register

__all__ = ["normalize_axis", "reduce", "argreduce", "cumulative", "norm", "REDUCTIONS"]


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
_EMPTY_NAME = {"max": "maximum", "min": "minimum"}


class Reduce(Op):
    """A reduction over ``axis`` with ``keepdims``; ``ddof`` for std/var."""

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
        fn = getattr(xp, _NP_NAME.get(self.name, self.name))
        axis = self.axes if x.ndim else None
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
        return fn(x, **kw)


for _n in REDUCTIONS:
    register(_n)(type(f"Reduce_{_n}", (Reduce,), {}))


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


register("cumprod")(type("CumProd", (Cumulative,), {}))


def cumulative(name: str, x: BaseArray, axis: Any = None, dtype: Any = None) -> BaseArray:
    return apply(Cumulative(name, axis, dtype), (x,))


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


def norm(x: BaseArray, ord: Any = None, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(Norm(ord, axis, keepdims), (x,))


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
