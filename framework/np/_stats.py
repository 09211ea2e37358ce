"""Statistics, comparison, searching, set and dtype-utility functions of ``np``.

Differences from NumPy that hold throughout (MXNet's rules, API.md §2 items 1-3):

- float-valued statistics of integers (``average``, ``percentile``/``quantile``/``median``,
  ``nanmean``/``nanstd``/``nanvar``, ``cov``/``corrcoef``, ``interp``, histogram densities)
  give float32, not float64, and so do the ``lower``/``higher``/``nearest`` quantile methods;
  indices are int64; reductions return 0-d arrays, never Python or NumPy scalars;
- Python lists that hold data become float32 arrays, as everywhere in ``np``; lists that hold
  indices, counts or conditions (``take_along_axis`` indices, ``bincount``, ``select``
  conditions...) keep NumPy's natural dtype (int64 / bool);
- everything runs asynchronously on the input's device, except the functions whose output
  *shape* depends on the data (``unique*``, ``bincount``, ``argwhere``, ``flatnonzero``,
  ``extract``, ``compress``, ``intersect1d``/``setdiff1d``/``setxor1d``/``union1d``,
  ``histogram`` with a string ``bins``, ``apply_along_axis``), which wait for their inputs;
- ``allclose``, ``array_equal``, ``array_equiv``, ``may_share_memory`` and ``shares_memory``
  return Python bools as NumPy does (they wait for the data), not 0-d arrays;
- ``result_type``/``promote_types`` follow the framework's promotion (``float32 + int32`` is
  float32; a Python scalar never changes an array's type), so they predict what ops return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy

from .. import dtype as _dt
from ..base import DTypeError, ShapeError
from ..nd import _create, _index, _reduce, _shape
from ..nd import _stats as _st
from ..nd._base import BaseArray, broadcast_shapes
from ..nd._elemwise import is_scalar
from ..nd._op import common_device
from ._funcs import _out

__all__ = [
    # reductions and statistics
    "average", "percentile", "quantile", "median", "count_nonzero", "histogram", "bincount",
    "nansum", "nanprod", "nanmean", "nanstd", "nanvar", "nanmax", "nanmin", "nanargmax",
    "nanargmin", "nancumsum", "nancumprod", "nanmedian", "nanpercentile", "nanquantile", "ptp",
    "cov", "corrcoef",
    # comparison
    "allclose", "isclose", "array_equal", "array_equiv", "nan_to_num",
    # searching, sorting, indexing
    "unique", "unique_values", "unique_counts", "unique_inverse", "unique_all", "searchsorted",
    "argwhere", "flatnonzero", "diff", "ediff1d", "interp", "take_along_axis", "digitize",
    "extract", "compress", "choose", "select", "lexsort", "partition", "argpartition",
    # sets
    "in1d", "isin", "intersect1d", "setdiff1d", "setxor1d", "union1d",
    # dtypes and memory
    "result_type", "promote_types", "can_cast", "min_scalar_type", "may_share_memory",
    "shares_memory", "apply_along_axis", "apply_over_axes",
]

I64 = numpy.dtype(numpy.int64)


# -- argument conversion --------------------------------------------------------------------------

def _no_numpy(x: Any, op: str) -> None:
    if isinstance(x, numpy.ndarray):
        raise TypeError(f"{op}: got a numpy.ndarray; convert it with np.array(x) first")


def _device(*xs: Any) -> Any:
    for x in xs:
        if isinstance(x, BaseArray):
            return x._device
    return None


def _data(x: Any, op: str, device: Any = None) -> BaseArray:
    """Data: lists and scalars become float32 arrays (MXNet's default)."""
    if isinstance(x, BaseArray):
        return x
    _no_numpy(x, op)
    return _create.array(x, device=device)


def _natural(x: Any, op: str, device: Any = None, empty: Any = None) -> BaseArray:
    """Indices and conditions: lists keep NumPy's dtype (int64, bool); ``empty`` is the dtype
    of an empty list."""
    if isinstance(x, BaseArray):
        return x
    _no_numpy(x, op)
    host = numpy.asarray(x)
    if empty is not None and host.size == 0:
        host = host.astype(empty)
    if host.dtype.kind not in "biufc":
        raise TypeError(f"{op}: cannot make a numeric array from {type(x).__name__}")
    return _create.array(host, device=device)


def _scalar(s: Any, dtype: numpy.dtype, device: Any) -> BaseArray:
    return _create.array(numpy.asarray(s, dtype=dtype), device=device)


def _pair(a: Any, b: Any, op: str) -> tuple[BaseArray, BaseArray]:
    """Two operands of a comparison; a Python scalar takes NumPy's weak promotion against the
    array (``isclose(int_arr, 0.5)`` compares in floating point)."""
    dev = _device(a, b)
    if isinstance(a, BaseArray) and is_scalar(b):
        return a, _scalar(b, numpy.result_type(a._dtype, b), dev)
    if isinstance(b, BaseArray) and is_scalar(a):
        return _scalar(a, numpy.result_type(b._dtype, a), dev), b
    return _data(a, op, dev), _data(b, op, dev)


def _q(q: Any, op: str, percent: bool) -> Any:
    if isinstance(q, BaseArray):
        return q
    _no_numpy(q, op)
    try:
        host = numpy.asarray(q, dtype=numpy.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: q must be a number, a sequence of numbers or an ndarray, got "
                        f"{q!r}") from None
    if percent:
        host = host / 100
    if host.size and not bool(((host >= 0) & (host <= 1)).all()):
        raise ValueError(f"{op}: " + ("Percentiles must be in the range [0, 100]" if percent
                                      else "Quantiles must be in the range [0, 1]"))
    return host


def _method(method: str, interpolation: str | None) -> str:
    return method if interpolation is None else interpolation


# -- reductions and statistics ----------------------------------------------------------------

def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:
    """Integers (and integer weights) give float32; with ``returned`` the weight sums are
    arrays of the average's shape and dtype."""
    x = _data(a, "average")
    w = None if weights is None else _data(weights, "average", x._device)
    return _st.average(x, w, axis, returned, keepdims)


def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, *,
             interpolation: str | None = None) -> Any:
    """Every NumPy method; integers give float32 for all of them. ``interpolation`` is the
    MXNet 1.x name of ``method``. A framework-array ``q`` is range-checked in the task."""
    x = _data(a, "quantile")
    res = _st.quantile(x, _q(q, "quantile", False), axis, _method(method, interpolation),
                       keepdims, "plain", "quantile")
    return _out(res, out)


def percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False, *,
               interpolation: str | None = None) -> Any:
    """See :func:`quantile`; ``q`` in [0, 100]."""
    x = _data(a, "percentile")
    res = _st.quantile(x, _q(q, "percentile", True), axis, _method(method, interpolation),
                       keepdims, "plain", "percentile", percent=True)
    return _out(res, out)


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Any:
    """Integers give float32; an empty slice gives NaN."""
    x = _data(a, "median")
    res = _st.quantile(x, numpy.asarray(0.5), axis, "linear", keepdims, "median", "median")
    return _out(res, out)


def nanquantile(a: Any, q: Any, axis: Any = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False, *, interpolation: str | None = None) -> Any:
    """See :func:`quantile`; an all-NaN or empty slice gives NaN without a warning."""
    x = _data(a, "nanquantile")
    res = _st.quantile(x, _q(q, "nanquantile", False), axis, _method(method, interpolation),
                       keepdims, "nan", "nanquantile")
    return _out(res, out)


def nanpercentile(a: Any, q: Any, axis: Any = None, out: Any = None,
                  overwrite_input: bool = False, method: str = "linear",
                  keepdims: bool = False, *, interpolation: str | None = None) -> Any:
    """See :func:`nanquantile`; ``q`` in [0, 100]."""
    x = _data(a, "nanpercentile")
    res = _st.quantile(x, _q(q, "nanpercentile", True), axis, _method(method, interpolation),
                       keepdims, "nan", "nanpercentile", percent=True)
    return _out(res, out)


def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              keepdims: bool = False) -> Any:
    """Integers give float32; an all-NaN or empty slice gives NaN without a warning."""
    x = _data(a, "nanmedian")
    res = _st.quantile(x, numpy.asarray(0.5), axis, "linear", keepdims, "nan", "nanmedian")
    return _out(res, out)


def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    """An int64 array (0-d for ``axis=None``), not a Python int."""
    return _st.count_nonzero(_data(a, "count_nonzero"), axis, keepdims)


def histogram(a: Any, bins: Any = 10, range: Any = None,
              density: bool | None = None, weights: Any = None) -> tuple[Any, Any]:
    """``(hist, bin_edges)``. Edges are float32 for integer data; densities are float32 unless
    the data or weights are float64. A string ``bins`` (an estimator) waits for the data."""
    x = _data(a, "histogram")
    dev = x._device
    w = None if weights is None else _data(weights, "histogram", dev)
    rng = None
    if range is not None:
        try:
            lo, hi = range
            rng = (float(lo), float(hi))
        except (TypeError, ValueError):
            raise TypeError(f"histogram: range must be a pair of numbers, got {range!r}") from None
    if isinstance(bins, str):
        arrays = [x] if w is None else [x, w]

        def run(xh: numpy.ndarray, *wh: numpy.ndarray) -> tuple[Any, Any]:
            return numpy.histogram(xh, bins, rng, weights=wh[0] if wh else None,
                                   density=density)

        h, e = _st.host_call("histogram", arrays, run)
        hdt = _st.hist_dtype(x._dtype, None if w is None else w._dtype, bool(density))
        return (_st.wrap_host(x, h, hdt), _st.wrap_host(x, e, _dt.float_result(x._dtype)))
    if isinstance(bins, (int, numpy.integer)) and not isinstance(bins, bool):
        b: Any = int(bins)
    else:
        b = _data(bins, "histogram", dev)
    return _st.histogram(x, b, rng, w, density)


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """Waits for ``x`` (the length depends on its values). Weighted counts are float32 unless
    the weights are float64 (NumPy: always float64)."""
    xs = _natural(x, "bincount", empty=I64)
    if xs.ndim != 1:
        raise ShapeError(f"bincount: x must be 1-dimensional, got shape {xs._shape}")
    if xs._dtype.kind not in "biu":
        raise DTypeError(f"bincount: x must hold non-negative integers, got dtype {xs._dtype}")
    if not isinstance(minlength, (int, numpy.integer)) or isinstance(minlength, bool):
        raise TypeError(f"bincount: minlength must be an integer, got {minlength!r}")
    if minlength < 0:
        raise ValueError("bincount: 'minlength' must not be negative")
    arrays = [xs]
    if weights is not None:
        w = _data(weights, "bincount", xs._device)
        if w._shape != xs._shape:
            raise ShapeError(f"bincount: the weights and list don't have the same length "
                             f"({w._shape} and {xs._shape})")
        arrays.append(w)

    def length(xh: numpy.ndarray) -> int:
        if xh.size and xh.min() < 0:
            raise ValueError("bincount: 'list' argument must have no negative elements")
        return max(int(xh.max()) + 1 if xh.size else 0, int(minlength))

    if len(arrays) > 1:  # weighted: only the length is read on the host; a recorded op sums
        common_device(arrays, "bincount")
        n = length(xs._host())
        return _st.bincount_weights(xs, arrays[1], n, _dt.float_result(arrays[1]._dtype))

    def run(xh: numpy.ndarray) -> numpy.ndarray:
        return numpy.bincount(xh.astype(numpy.int64), minlength=length(xh))

    return _st.wrap_host(xs, _st.host_call("bincount", arrays, run), I64)


def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("nansum", _data(a, "nansum"), axis, dtype, keepdims), out)


def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Any:
    return _out(_reduce.reduce("nanprod", _data(a, "nanprod"), axis, dtype, keepdims), out)


def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Any:
    """Integers give float32."""
    return _out(_st.nan_reduce("nanmean", _data(a, "nanmean"), axis, dtype, keepdims), out)


def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
           keepdims: bool = False) -> Any:
    """Integers give float32."""
    return _out(_st.nan_reduce("nanstd", _data(a, "nanstd"), axis, dtype, keepdims, ddof), out)


def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
           keepdims: bool = False) -> Any:
    """Integers give float32."""
    return _out(_st.nan_reduce("nanvar", _data(a, "nanvar"), axis, dtype, keepdims, ddof), out)


def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_st.nan_reduce("nanmax", _data(a, "nanmax"), axis, None, keepdims), out)


def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_st.nan_reduce("nanmin", _data(a, "nanmin"), axis, None, keepdims), out)


def nanargmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """An all-NaN slice raises ValueError at the next sync point (the check needs the data)."""
    return _out(_st.nan_argreduce("nanargmax", _data(a, "nanargmax"), axis, keepdims), out)


def nanargmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    """An all-NaN slice raises ValueError at the next sync point (the check needs the data)."""
    return _out(_st.nan_argreduce("nanargmin", _data(a, "nanargmin"), axis, keepdims), out)


def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    return _out(_st.nan_cumulative("nancumsum", _data(a, "nancumsum"), axis, dtype), out)


def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    return _out(_st.nan_cumulative("nancumprod", _data(a, "nancumprod"), axis, dtype), out)


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return _out(_st.ptp(_data(a, "ptp"), axis, keepdims), out)


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """Integers give float32 (NumPy: float64). Negative weights fail at the next sync point."""
    x = _data(m, "cov")
    dev = x._device
    ya = None if y is None else _data(y, "cov", dev)
    fw = None if fweights is None else _natural(fweights, "cov", dev, empty=I64)
    aw = None if aweights is None else _data(aweights, "cov", dev)
    return _st.cov(x, ya, rowvar, bias, ddof, fw, aw, dtype)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Integers give float32 (NumPy: float64)."""
    xa = _data(x, "corrcoef")
    ya = None if y is None else _data(y, "corrcoef", xa._device)
    return _st.cov(xa, ya, rowvar, dtype=dtype, corr=True)


# -- comparison -----------------------------------------------------------------------------------

def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:
    x, y = _pair(a, b, "isclose")
    return _st.isclose(x, y, rtol, atol, equal_nan)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """A Python bool, as in NumPy (it waits for the data)."""
    x, y = _pair(a, b, "allclose")
    return bool(_st.isclose(x, y, rtol, atol, equal_nan, reduce_all=True))


def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> bool:
    """A Python bool, as in NumPy (it waits for the data unless the shapes differ)."""
    x, y = _pair(a1, a2, "array_equal")
    if x._shape != y._shape:
        return False
    return bool(_st.all_equal(x, y, equal_nan))


def array_equiv(a1: Any, a2: Any) -> bool:
    """A Python bool, as in NumPy (it waits for the data unless the shapes do not broadcast)."""
    x, y = _pair(a1, a2, "array_equiv")
    try:
        broadcast_shapes(x._shape, y._shape, "array_equiv")
    except ShapeError:
        return False
    return bool(_st.all_equal(x, y))


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """``copy=False`` writes the result into ``x`` (asynchronously) and returns ``x``."""
    a = _data(x, "nan_to_num")
    res = _st.nan_to_num(a, nan, posinf, neginf)
    if not copy and isinstance(x, BaseArray):
        return _out(res, a)
    return res


# -- unique ---------------------------------------------------------------------------------------

class UniqueAllResult(NamedTuple):
    values: Any
    indices: Any
    inverse_indices: Any
    counts: Any


class UniqueCountsResult(NamedTuple):
    values: Any
    counts: Any


class UniqueInverseResult(NamedTuple):
    values: Any
    inverse_indices: Any


def _unique(x: BaseArray, op: str, idx: bool, inv: bool, cnt: bool, axis: Any,
            equal_nan: bool = True) -> list[BaseArray]:
    def run(h: numpy.ndarray) -> Any:
        return numpy.unique(h, return_index=True, return_inverse=True, return_counts=True,
                            axis=axis, equal_nan=equal_nan)

    vals, first, inverse, counts = _st.host_call(op, [x], run)
    if axis is None:
        inverse = inverse.reshape(x._shape)
    outs = [_st.wrap_host(x, numpy.array(vals))]
    for want, arr in ((idx, first), (inv, inverse), (cnt, counts)):
        if want:
            outs.append(_st.wrap_host(x, arr, I64))
    return outs


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: Any = None, *, equal_nan: bool = True) -> Any:
    """Waits for ``ar``. The inverse has ``ar``'s shape when ``axis`` is None (NumPy 2)."""
    x = _data(ar, "unique")
    outs = _unique(x, "unique", return_index, return_inverse, return_counts, axis, equal_nan)
    return outs[0] if len(outs) == 1 else tuple(outs)


def unique_values(x: Any) -> Any:
    """Waits for ``x``."""
    return _unique(_data(x, "unique_values"), "unique_values", False, False, False, None)[0]


def unique_counts(x: Any) -> UniqueCountsResult:
    """Waits for ``x``."""
    return UniqueCountsResult(*_unique(_data(x, "unique_counts"), "unique_counts", False,
                                       False, True, None))


def unique_inverse(x: Any) -> UniqueInverseResult:
    """Waits for ``x``."""
    return UniqueInverseResult(*_unique(_data(x, "unique_inverse"), "unique_inverse", False,
                                        True, False, None))


def unique_all(x: Any) -> UniqueAllResult:
    """Waits for ``x``."""
    return UniqueAllResult(*_unique(_data(x, "unique_all"), "unique_all", True, True, True,
                                    None))


# -- searching, sorting, indexing -------------------------------------------------------------

def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Any:
    """int64 indices; a scalar ``v`` gives a 0-d array."""
    x = _data(a, "searchsorted")
    dev = x._device
    if is_scalar(v):
        va = _scalar(v, numpy.result_type(x._dtype, v), dev)
    else:
        va = _data(v, "searchsorted", dev)
    s = None if sorter is None else _natural(sorter, "searchsorted", dev, empty=I64)
    return _st.searchsorted(x, va, side, s)


def argwhere(a: Any) -> Any:
    """Waits for ``a`` (the number of rows depends on the data)."""
    x = _data(a, "argwhere")
    return _st.wrap_host(x, _st.host_call("argwhere", [x], numpy.argwhere), I64)


def flatnonzero(a: Any) -> Any:
    """Waits for ``a`` (the length depends on the data)."""
    x = _data(a, "flatnonzero")
    return _st.wrap_host(x, _st.host_call("flatnonzero", [x], numpy.flatnonzero), I64)


def _edge(e: Any, a: BaseArray, axis: int, op: str) -> BaseArray:
    """``prepend``/``append`` of :func:`diff`: scalars and 0-d arrays are broadcast."""
    if is_scalar(e):
        e = _scalar(e, _dt.scalar_result(a._dtype, e), a._device)
    else:
        e = _data(e, op, a._device)
    if e.ndim == 0:
        shape = list(a._shape)
        shape[axis] = 1
        e = _shape.broadcast_to(e, tuple(shape))
    return e


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """A scalar ``prepend``/``append`` takes ``a``'s dtype (MXNet's scalar rule); ``n=0``
    returns ``a`` itself, as NumPy does."""
    x = _data(a, "diff")
    if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool):
        raise TypeError(f"diff: n must be an integer, got {n!r}")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if n == 0:
        return x
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    (ax,) = _reduce.normalize_axis(axis, x.ndim, "diff", allow_tuple=False)
    pre = None if prepend is None else _edge(prepend, x, ax, "diff")
    app = None if append is None else _edge(append, x, ax, "diff")
    return _st.diff(x, n, ax, pre, app)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    x = _data(ary, "ediff1d")
    extra = []
    for e, what in ((to_end, "to_end"), (to_begin, "to_begin")):
        if e is None or isinstance(e, BaseArray):
            extra.append(e)
            continue
        _no_numpy(e, "ediff1d")
        host = numpy.asarray(e)
        if not numpy.can_cast(host.dtype, x._dtype, "same_kind"):
            raise DTypeError(f"ediff1d: dtype of `{what}` ({host.dtype}) must be compatible "
                             f"with input `ary` ({x._dtype}) under the `same_kind` rule")
        extra.append(_create.array(host.astype(x._dtype), device=x._device))
    return _st.ediff1d(x, extra[0], extra[1])


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Any:
    """float32 unless ``fp`` is float64 or complex (NumPy: always float64/complex128); a scalar
    ``x`` gives a 0-d array."""
    dev = _device(x, xp, fp)
    xa = _data(x, "interp", dev)
    return _st.interp(xa, _data(xp, "interp", dev), _data(fp, "interp", dev), left, right,
                      period)


def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    a = _data(arr, "take_along_axis")
    return _st.take_along_axis(a, _natural(indices, "take_along_axis", a._device, empty=I64),
                               axis)


def digitize(x: Any, bins: Any, right: bool = False) -> Any:
    """int64 indices; non-monotonic bins fail at the next sync point (the check needs the
    data)."""
    dev = _device(x, bins)
    return _st.digitize(_data(x, "digitize", dev), _data(bins, "digitize", dev), right)


def extract(condition: Any, arr: Any) -> Any:
    """Waits for ``condition`` (the length depends on it); the values are gathered from
    ``arr`` by a recorded op, so gradients flow back to it."""
    a = _data(arr, "extract")
    c = _natural(condition, "extract", a._device)
    common_device([c, a], "extract")
    # only the positions are read on the host: the values are gathered by a recorded op
    pos = numpy.flatnonzero(c._host())
    return _index.getitem(_shape.ravel(a), (pos,))


def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """Waits for ``condition`` (the length depends on it); the values are gathered from ``a``
    by a recorded op, so gradients flow back to it."""
    x = _data(a, "compress")
    c = _natural(condition, "compress", x._device, empty=numpy.bool_)
    if c.ndim != 1:
        raise ShapeError(f"compress: condition must be a 1-d array, got shape {c._shape}")
    common_device([c, x], "compress")
    if axis is None:
        x, ax = _shape.ravel(x), 0
    else:
        (ax,) = _reduce.normalize_axis(axis, x.ndim, "compress", allow_tuple=False)
    # only the kept indices are read on the host: the values are gathered by a recorded op
    idx = numpy.flatnonzero(c._host())
    return _out(_index.getitem(x, (slice(None),) * ax + (idx,)), out)


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """The result takes the choices' promoted dtype; scalar choices take it too. With
    ``mode='raise'`` an out-of-range index fails at the next sync point."""
    idx = _natural(a, "choose", empty=I64)
    dev = idx._device
    if isinstance(choices, BaseArray):
        items: list[Any] = [choices[i] for i in range(choices.shape[0])]  # type: ignore[index]
    else:
        _no_numpy(choices, "choose")
        items = list(choices)
    arrays = [c for c in items if isinstance(c, BaseArray)]
    dt = _st.promote_all([c._dtype for c in arrays]) if arrays else None
    conv = []
    for c in items:
        if isinstance(c, BaseArray):
            conv.append(c)
        elif is_scalar(c) and dt is not None:
            conv.append(_scalar(c, _dt.scalar_result(dt, c), dev))
        else:
            conv.append(_data(c, "choose", dev))
    return _out(_st.choose(idx, conv, mode), out)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """Scalars (``default`` included) take the choices' dtype (MXNet's scalar rule)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions "
                         f"({len(choicelist)} and {len(condlist)})")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    dev = _device(*condlist, *choicelist, default)
    conds = [_natural(c, "select", dev) for c in condlist]
    arrays = [c for c in choicelist if isinstance(c, BaseArray)]
    if isinstance(default, BaseArray):
        arrays.append(default)
    dt = _st.promote_all([c._dtype for c in arrays]) if arrays else None
    choices = []
    for c in [*choicelist, default]:
        if isinstance(c, BaseArray):
            choices.append(c)
        elif is_scalar(c) and dt is not None:
            choices.append(_scalar(c, _dt.scalar_result(dt, c), dev))
        else:
            choices.append(_data(c, "select", dev))
    return _st.select(conds, choices[:-1], choices[-1])


def lexsort(keys: Any, axis: int = -1) -> Any:
    """int64 indices; the last key is the primary one. List keys keep NumPy's dtype."""
    if isinstance(keys, BaseArray):
        ks: list[BaseArray] = [keys[i] for i in range(keys.shape[0])]  # type: ignore[index]
    else:
        _no_numpy(keys, "lexsort")
        items = list(keys)
        dev = _device(*items)
        ks = [_natural(k, "lexsort", dev) for k in items]
    return _st.lexsort(ks, axis)


def partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect",
              order: Any = None) -> Any:
    return _st.partition(_data(a, "partition"), kth, axis)


def argpartition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect",
                 order: Any = None) -> Any:
    """int64 indices."""
    return _st.partition(_data(a, "argpartition"), kth, axis, indices=True)


# -- sets -----------------------------------------------------------------------------------------

def _kind(kind: Any, op: str) -> None:
    if kind not in (None, "sort", "table"):
        raise ValueError(f"{op}: kind must be None, 'sort' or 'table', got {kind!r}")


def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False,
         *, kind: str | None = None) -> Any:
    """Asynchronous (a bool array of ``element``'s shape); lists keep NumPy's dtype."""
    _kind(kind, "isin")
    dev = _device(element, test_elements)
    return _st.isin(_natural(element, "isin", dev), _natural(test_elements, "isin", dev),
                    invert)


def in1d(ar1: Any, ar2: Any, assume_unique: bool = False, invert: bool = False, *,
         kind: str | None = None) -> Any:
    """MXNet's ``in1d`` (removed from NumPy 2.4): :func:`isin` of the flattened ``ar1``."""
    _kind(kind, "in1d")
    dev = _device(ar1, ar2)
    return _st.isin(_natural(ar1, "in1d", dev), _natural(ar2, "in1d", dev), invert, flat=True)


def _set_op(op: str, ar1: Any, ar2: Any, fn: Callable[..., Any], same_as_first: bool) -> Any:
    dev = _device(ar1, ar2)
    a = _data(ar1, op, dev)
    b = _data(ar2, op, dev)
    dt = a._dtype if same_as_first else _dt.binary_result(a._dtype, b._dtype)
    res = _st.host_call(op, [a, b], lambda ah, bh: fn(ah.astype(dt, copy=False),
                                                      bh.astype(dt, copy=False)))
    return res, a, dt


def intersect1d(ar1: Any, ar2: Any, assume_unique: bool = False,
                return_indices: bool = False) -> Any:
    """Waits for the inputs; the values take the promoted dtype (MXNet's rule), the indices are
    int64."""
    res, a, dt = _set_op("intersect1d", ar1, ar2, lambda x, y: numpy.intersect1d(
        x, y, assume_unique=assume_unique, return_indices=return_indices), False)
    if not return_indices:
        return _st.wrap_host(a, res, dt)
    vals, i1, i2 = res
    return (_st.wrap_host(a, vals, dt), _st.wrap_host(a, i1, I64), _st.wrap_host(a, i2, I64))


def setdiff1d(ar1: Any, ar2: Any, assume_unique: bool = False) -> Any:
    """Waits for the inputs."""
    res, a, dt = _set_op("setdiff1d", ar1, ar2, lambda x, y: numpy.setdiff1d(
        x, y, assume_unique=assume_unique), True)
    return _st.wrap_host(a, res, dt)


def setxor1d(ar1: Any, ar2: Any, assume_unique: bool = False) -> Any:
    """Waits for the inputs; the values take the promoted dtype (MXNet's rule)."""
    res, a, dt = _set_op("setxor1d", ar1, ar2, lambda x, y: numpy.setxor1d(
        x, y, assume_unique=assume_unique), False)
    return _st.wrap_host(a, res, dt)


def union1d(ar1: Any, ar2: Any) -> Any:
    """Waits for the inputs; the values take the promoted dtype (MXNet's rule)."""
    res, a, dt = _set_op("union1d", ar1, ar2, numpy.union1d, False)
    return _st.wrap_host(a, res, dt)


# -- dtypes and memory ----------------------------------------------------------------------------

def _dtype_of(x: Any) -> numpy.dtype:
    if isinstance(x, (BaseArray, numpy.ndarray, numpy.generic)):
        return numpy.dtype(x.dtype)
    return numpy.dtype(x)


_KIND_ORDER = {bool: 0, int: 1, float: 2, complex: 3}
_SCALAR_DEFAULT = {0: numpy.dtype(numpy.bool_), 1: numpy.dtype(numpy.int64),
                   2: _dt.default_float(), 3: numpy.dtype(numpy.complex64)}


def result_type(*arrays_and_dtypes: Any) -> numpy.dtype:
    """The dtype the framework's binary ops give: ``float32`` with ``int32`` is float32, and a
    Python scalar never changes an array's dtype (MXNet). Python scalars alone give bool,
    int64, float32 (the default float) or complex64."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    dt: numpy.dtype | None = None
    scalars = []
    for x in arrays_and_dtypes:
        if isinstance(x, (bool, int, float, complex)) and not isinstance(x, numpy.generic):
            scalars.append(x)
            continue
        d = _dtype_of(x)
        dt = d if dt is None else _dt.binary_result(dt, d)
    if dt is None:
        kind = max(_KIND_ORDER[type(s)] if type(s) in _KIND_ORDER else 2 for s in scalars)
        return _SCALAR_DEFAULT[kind]
    for s in scalars:
        dt = _dt.scalar_result(dt, s)
    return dt


def promote_types(type1: Any, type2: Any) -> numpy.dtype:
    """The framework's promotion (see :func:`result_type`): an integer with a floating type
    gives the floating type (NumPy widens ``int32`` with ``float16`` to float64)."""
    return _dt.binary_result(numpy.dtype(type1), numpy.dtype(type2))


def can_cast(from_: Any, to: Any, casting: str = "safe") -> bool:
    """``from_`` may be a framework array (its dtype is used) or a dtype."""
    if isinstance(from_, BaseArray):
        from_ = from_._dtype
    return bool(numpy.can_cast(from_, numpy.dtype(to), casting))  # type: ignore[arg-type]


def min_scalar_type(a: Any) -> numpy.dtype:
    """A 0-d framework array waits for its value; larger arrays give their dtype."""
    if isinstance(a, BaseArray):
        return a._dtype if a.ndim else numpy.min_scalar_type(a._host()[()])
    return numpy.min_scalar_type(a)


def _memory(a: Any, b: Any, exact: bool, max_work: Any) -> bool:
    if not (isinstance(a, BaseArray) and isinstance(b, BaseArray)):
        for x in (a, b):
            _no_numpy(x, "shares_memory" if exact else "may_share_memory")
        return False
    if a._device != b._device:
        return False
    ba, bb = a._buf, b._buf
    if ba is None or bb is None:
        # a pending result gets fresh memory unless it is a view of the same array
        return a._var is b._var and a.size > 0 and b.size > 0
    xp = a._device.xp
    fn = xp.shares_memory if exact else xp.may_share_memory
    return bool(fn(ba, bb) if max_work is None else fn(ba, bb, max_work=max_work))


def may_share_memory(a: Any, b: Any, max_work: Any = None) -> bool:
    """Compares the arrays' buffers (never waits); non-arrays share nothing."""
    return _memory(a, b, False, max_work)


def shares_memory(a: Any, b: Any, max_work: Any = None) -> bool:
    """Compares the arrays' buffers (never waits); non-arrays share nothing."""
    return _memory(a, b, True, max_work)


def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: Any, *args: Any,
                     **kwargs: Any) -> Any:
    """Waits for ``arr`` and loops on the host; ``func1d`` receives 1-D framework arrays."""
    x = _data(arr, "apply_along_axis")
    host = x._host()

    def call(row: numpy.ndarray) -> Any:
        r = func1d(_st.wrap_host(x, numpy.array(row)), *args, **kwargs)
        return r._host() if isinstance(r, BaseArray) else numpy.asarray(r)

    res = numpy.apply_along_axis(call, axis, host)
    return _st.wrap_host(x, numpy.array(res))


def apply_over_axes(func: Callable[..., Any], a: Any, axes: Any) -> Any:
    """Asynchronous when ``func`` is (it is called as ``func(a, axis)`` on framework arrays)."""
    val = _data(a, "apply_over_axes")
    n = val.ndim
    for ax in numpy.atleast_1d(numpy.asarray(axes)).tolist():
        if ax < 0:
            ax += n
        res = func(val, ax)
        if not isinstance(res, BaseArray):
            res = _data(res, "apply_over_axes", val._device)
        if res.ndim != val.ndim:
            res = _shape.expand_dims(res, ax)
            if res.ndim != val.ndim:
                raise ValueError("apply_over_axes: function is not returning an array of the "
                                 "correct shape")
        val = res
    return val
