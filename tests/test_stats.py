"""Statistics, comparison, searching, set and dtype-utility functions of ``np`` against NumPy.

Every function is checked on several shapes (0-d and empty where NumPy allows them), axes and
dtypes, under both engines, on non-contiguous (``.T``) inputs, for MXNet's result dtype (float32
for float-valued statistics of integers, int64 for indices, 0-d arrays for reductions), and for
the errors bad arguments raise at the call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as onp
import pytest
from numpy.exceptions import AxisError

import framework as mx
from framework import engine, np
from framework.base import ShapeError

F32 = onp.dtype(onp.float32)
I64 = onp.dtype(onp.int64)
SEED = 1234


def _drain() -> None:
    for _ in range(100):
        try:
            engine.waitall()
            return
        except Exception:
            continue


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    _drain()
    yield
    _drain()


@pytest.fixture(params=["NaiveEngine", "ThreadedEngine"])
def eng(request: pytest.FixtureRequest) -> Iterator[str]:
    with engine.engine_scope(request.param):
        yield request.param
        _drain()


def _rand(shape: tuple[int, ...], dtype: Any = onp.float32, seed: int = SEED,
          lo: int = -5, hi: int = 6) -> onp.ndarray:
    rng = onp.random.default_rng(seed)
    dt = onp.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(max(lo, 0) if dt.kind == "u" else lo, hi, shape).astype(dt)


def _both(host: onp.ndarray, transposed: bool = False) -> tuple[Any, onp.ndarray]:
    """A framework array and the NumPy array it equals (``.T`` of both when asked)."""
    a = np.array(host)
    if transposed:
        return a.T, host.T
    return a, host


def _check(res: Any, ref: Any, dtype: Any = None, rtol: float = 1e-5, atol: float = 1e-6,
           exact: bool = False) -> None:
    """``res`` is a framework array equal to ``ref``, of ``dtype`` (default ``ref``'s)."""
    assert isinstance(res, np.ndarray), type(res)
    ref = onp.asarray(ref)
    got = res.asnumpy()
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert res.shape == ref.shape
    want_dt = onp.dtype(dtype) if dtype is not None else ref.dtype
    assert res.dtype == want_dt, (res.dtype, want_dt)
    assert got.dtype == want_dt
    if exact or ref.dtype.kind in "biu" and want_dt.kind in "biu":
        onp.testing.assert_array_equal(got, ref)
    else:
        onp.testing.assert_allclose(got.astype(onp.float64) if got.dtype.kind != "c" else got,
                                    ref, rtol=rtol, atol=atol, equal_nan=True)


def _fdt(dt: Any) -> onp.dtype:
    """MXNet's float-valued result dtype."""
    dt = onp.dtype(dt)
    return dt if dt.kind in "fc" else F32


def _raises_eventually(exc: type[BaseException], fn: Callable[[], Any],
                       match: str | None = None) -> None:
    """A data-dependent error: raised at the call (NaiveEngine) or at the next sync point."""
    with pytest.raises(exc, match=match):
        r = fn()
        for x in r if isinstance(r, tuple) else (r,):
            x.asnumpy()


# ------------------------------------------------------------------------------------------------
# reductions and statistics
# ------------------------------------------------------------------------------------------------

SHAPES_AXES = [((), None), ((7,), None), ((7,), 0), ((4, 5), None), ((4, 5), 1), ((4, 5), -2),
               ((2, 3, 4), (0, 2)), ((3, 0), 0)]


@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_average(eng: str, dtype: str) -> None:
    for shape, axis in SHAPES_AXES:
        host = _rand(shape, dtype)
        a, h = _both(host)
        if host.size and not (shape == (3, 0)):
            _check(np.average(a, axis=axis), onp.average(h, axis=axis), _fdt(dtype))
        for keep in (False, True):
            if shape and host.size:
                _check(np.average(a, axis=axis, keepdims=keep),
                       onp.average(h, axis=axis, keepdims=keep), _fdt(dtype))
    host = _rand((3, 4), dtype)
    w = onp.abs(_rand((3, 4), "float32", seed=3)) + 0.1
    a, h = _both(host)
    _check(np.average(a, weights=np.array(w)), onp.average(h, weights=w), _fdt(dtype), rtol=1e-4)
    # 1-D weights along an axis, with returned; a transposed view
    at, ht = _both(host, transposed=True)
    avg, scl = np.average(at, axis=0, weights=[1, 2, 3, 4], returned=True)
    ravg, rscl = onp.average(ht, axis=0, weights=[1, 2, 3, 4], returned=True)
    _check(avg, ravg, _fdt(dtype), rtol=1e-5)
    _check(scl, rscl, _fdt(dtype))
    avg, scl = np.average(a, returned=True)
    _check(scl, onp.full((), 12.0), _fdt(dtype))
    # N-d weights along an axis tuple given out of order
    h3 = _rand((2, 3, 4), dtype)
    w3 = onp.abs(_rand((4, 2), "float32", seed=5)) + 0.1
    _check(np.average(np.array(h3), axis=(2, 0), weights=np.array(w3)),
           onp.average(h3, axis=(2, 0), weights=w3), _fdt(dtype), rtol=1e-4)


def test_average_errors() -> None:
    a = np.ones((2, 3))
    with pytest.raises(TypeError, match="axis must be specified"):
        np.average(a, weights=[1, 2, 3])
    with pytest.raises(ValueError, match="consistent with shape of a"):
        np.average(a, axis=1, weights=[1, 2])
    with pytest.raises(AxisError):
        np.average(a, axis=2)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        np.average(onp.ones(3))
    _raises_eventually(ZeroDivisionError, lambda: np.average(a, axis=1, weights=[1, -1, 0]))


QUANTILE_METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                    "normal_unbiased", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("method", QUANTILE_METHODS)
def test_quantile_methods(method: str) -> None:
    qs = [0.0, 0.1, 0.25, 0.3, 0.5, 0.77, 1.0]
    for n in (1, 2, 5, 8):
        host = _rand((n, 3), "float64", seed=n)
        a = np.array(host)
        _check(np.quantile(a, qs, axis=0, method=method),
               onp.quantile(host, qs, axis=0, method=method), rtol=1e-12)
    # ties and exact positions, integers give float32
    host = onp.array([1, 2, 2, 3, 5, 8, 8, 9, 10, 12], dtype=onp.int32)
    qs = onp.linspace(0, 1, 21)
    _check(np.quantile(np.array(host), list(qs), method=method),
           onp.quantile(host, qs, method=method), F32)


@pytest.mark.parametrize("dtype", ["float32", "int64", "float16"])
def test_percentile_quantile(eng: str, dtype: str) -> None:
    rtol = 1e-2 if dtype == "float16" else 1e-5
    for shape, axis in SHAPES_AXES[:-1]:
        host = _rand(shape, dtype)
        a, h = _both(host)
        for q in (50, [10, 90], [[0, 25], [75, 100]]):
            _check(np.percentile(a, q, axis=axis), onp.percentile(h, q, axis=axis), _fdt(dtype),
                   rtol=rtol)
            qq = onp.asarray(q) / 100
            _check(np.quantile(a, qq.tolist(), axis=axis, keepdims=True),
                   onp.quantile(h, qq, axis=axis, keepdims=True), _fdt(dtype), rtol=rtol)
    host = _rand((4, 6), dtype)
    at, ht = _both(host, transposed=True)
    _check(np.percentile(at, 30, axis=1, method="lower"),
           onp.percentile(ht, 30, axis=1, method="lower"), _fdt(dtype), rtol=rtol)
    # q as a framework array (checked in the task)
    _check(np.quantile(at, np.array([0.2, 0.6]), axis=0),
           onp.quantile(ht, [0.2, 0.6], axis=0), _fdt(dtype), rtol=rtol)
    # empty output is fine, NaN propagates
    _check(np.percentile(np.zeros((3, 0)), 50, axis=0),
           onp.percentile(onp.zeros((3, 0), onp.float32), 50, axis=0), F32)
    nanh = onp.array([[1.0, onp.nan, 3.0], [1.0, 2.0, 3.0]], onp.float32)
    _check(np.median(np.array(nanh), axis=1), onp.median(nanh, axis=1))
    # interpolation= (MXNet 1.x name) and out=
    out = np.zeros((2,))
    r = np.percentile(np.array(host), [20, 80], interpolation="higher", out=out)
    assert r is out
    _check(out, onp.percentile(host, [20, 80], method="higher").astype(F32), F32)


def test_quantile_errors() -> None:
    a = np.arange(6).reshape(2, 3)
    with pytest.raises(ValueError, match=r"Percentiles must be in the range \[0, 100\]"):
        np.percentile(a, 101)
    with pytest.raises(ValueError, match=r"Quantiles must be in the range \[0, 1\]"):
        np.quantile(a, [0.5, -0.1])
    with pytest.raises(ValueError, match="not a valid method"):
        np.quantile(a, 0.5, method="foo")
    with pytest.raises(AxisError):
        np.median(a, axis=2)
    with pytest.raises(IndexError):
        np.percentile(np.zeros((0,)), 50)
    with pytest.raises(TypeError, match="real numbers"):
        np.median(np.array([True, False], dtype=bool))
    _raises_eventually(ValueError, lambda: np.quantile(a, np.array([2.0])), "range")


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_median(eng: str, dtype: str) -> None:
    for shape, axis in SHAPES_AXES[:-1]:
        host = _rand(shape, dtype)
        a, h = _both(host)
        _check(np.median(a, axis=axis), onp.median(h, axis=axis), _fdt(dtype))
        if shape:
            _check(np.median(a, axis=axis, keepdims=True),
                   onp.median(h, axis=axis, keepdims=True), _fdt(dtype))
    at, ht = _both(_rand((5, 4), dtype), transposed=True)
    _check(np.median(at, axis=1), onp.median(ht, axis=1), _fdt(dtype))
    with pytest.warns(RuntimeWarning):
        ref = onp.median(onp.zeros((0, 3), onp.float32), axis=0)
    _check(np.median(np.zeros((0, 3)), axis=0), ref)


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")
def test_nan_quantiles(eng: str) -> None:
    host = _rand((4, 5), "float32")
    host[0, 1] = host[2, 0] = host[2, 3] = onp.nan
    host[3, :] = onp.nan
    a, h = _both(host)
    with pytest.warns(RuntimeWarning):
        ref = onp.nanmedian(h, axis=1)
    _check(np.nanmedian(a, axis=1), ref)
    _check(np.nanmedian(a, axis=0), onp.nanmedian(h, axis=0))
    _check(np.nanmedian(a), onp.nanmedian(h))
    at, ht = _both(host, transposed=True)
    for method in ("linear", "lower", "nearest", "hazen"):
        _check(np.nanpercentile(at, [10, 60], axis=0, method=method),
               onp.nanpercentile(ht, [10, 60], axis=0, method=method), F32)
        _check(np.nanquantile(a, 0.3, axis=0, method=method, keepdims=True),
               onp.nanquantile(h, 0.3, axis=0, method=method, keepdims=True))
    hi = _rand((3, 4), "int32")
    _check(np.nanmedian(np.array(hi), axis=0), onp.nanmedian(hi, axis=0), F32)


@pytest.mark.parametrize("dtype", ["float32", "int8", "bool"])
def test_count_nonzero(eng: str, dtype: str) -> None:
    for shape, axis in SHAPES_AXES:
        host = _rand(shape, dtype, lo=-1, hi=2)
        a, h = _both(host)
        r = np.count_nonzero(a, axis=axis)
        _check(r, onp.asarray(onp.count_nonzero(h, axis=axis)), I64)
        if shape:
            _check(np.count_nonzero(a, axis=axis, keepdims=True),
                   onp.count_nonzero(h, axis=axis, keepdims=True), I64)
    at, ht = _both(_rand((3, 4), dtype, lo=-1, hi=2), transposed=True)
    _check(np.count_nonzero(at, axis=0), onp.count_nonzero(ht, axis=0), I64)


def test_histogram(eng: str) -> None:
    hf = _rand((50,), "float32")
    hi = _rand((6, 7), "int32")
    for host in (hf, hi):
        a = np.array(host)
        fdt = _fdt(host.dtype)
        for bins in (1, 5, 10):
            h, e = np.histogram(a, bins=bins)
            rh, re = onp.histogram(host, bins=bins)
            _check(h, rh, I64)
            _check(e, re, fdt)
        h, e = np.histogram(a, bins=4, range=(-1, 2))
        rh, re = onp.histogram(host, bins=4, range=(-1, 2))
        _check(h, rh, I64)
        _check(e, re, fdt)
        h, e = np.histogram(a, bins=3, density=True)
        rh, re = onp.histogram(host, bins=3, density=True)
        _check(h, rh, F32)
        w = onp.abs(_rand(host.shape, "float32", seed=9))
        h, e = np.histogram(a, bins=[-3, -1, 0, 0.5, 4], weights=np.array(w))
        rh, re = onp.histogram(host, bins=onp.array([-3, -1, 0, 0.5, 4], onp.float32),
                               weights=w)
        _check(h, rh, F32, rtol=1e-5)
        _check(e, re, F32)
        h, e = np.histogram(a, bins="auto")
        rh, re = onp.histogram(host, bins="auto")
        _check(h, rh, I64)
        _check(e, re, fdt)
    at = np.array(hi).T
    _check(np.histogram(at, bins=3)[0], onp.histogram(hi.T, bins=3)[0], I64)
    _check(np.histogram(np.zeros((0,)), bins=3)[0], onp.histogram(onp.zeros(0), bins=3)[0])


def test_histogram_errors() -> None:
    a = np.arange(5)
    with pytest.raises(ValueError, match="must be positive"):
        np.histogram(a, bins=0)
    with pytest.raises(ValueError, match="max must be larger than min"):
        np.histogram(a, range=(2, 1))
    with pytest.raises(ValueError, match="weights should have the same shape"):
        np.histogram(a, weights=np.ones(4))
    with pytest.raises(ValueError, match="1d"):
        np.histogram(a, bins=np.ones((2, 2)))
    _raises_eventually(ValueError, lambda: np.histogram(a, bins=[3, 1, 2]), "monoton")


def test_bincount(eng: str) -> None:
    host = onp.array([0, 1, 1, 3, 2, 1, 7], onp.int64)
    x = np.array(host)
    _check(np.bincount(x), onp.bincount(host), I64)
    _check(np.bincount(x, minlength=10), onp.bincount(host, minlength=10), I64)
    w = _rand((7,), "float32")
    _check(np.bincount(x, weights=np.array(w)), onp.bincount(host, weights=w), F32)
    _check(np.bincount([2, 2, 0]), onp.bincount([2, 2, 0]), I64)
    _check(np.bincount([]), onp.bincount([]), I64)
    with pytest.raises(ValueError, match="no negative elements"):
        np.bincount([1, -1])
    with pytest.raises(TypeError, match="integers"):
        np.bincount(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="1-dimensional"):
        np.bincount(np.zeros((2, 2), dtype="int64"))
    with pytest.raises(ValueError, match="minlength"):
        np.bincount(x, minlength=-1)
    with pytest.raises(ValueError, match="same length"):
        np.bincount(x, weights=np.ones(3))


NAN_FUNCS = ["nansum", "nanprod", "nanmean", "nanstd", "nanvar", "nanmax", "nanmin"]


@pytest.mark.parametrize("name", NAN_FUNCS)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_nan_reductions(eng: str, name: str, dtype: str) -> None:
    fn, ref = getattr(np, name), getattr(onp, name)
    for shape, axis in SHAPES_AXES[:-1]:
        host = _rand(shape, dtype, lo=1, hi=4)
        if dtype == "float32" and host.size > 2:
            host.reshape(-1)[[0, -1]] = onp.nan
        a, h = _both(host)
        expected = ref(h, axis=axis)
        if name in ("nanmean", "nanstd", "nanvar"):
            dt = _fdt(dtype)
        elif name in ("nansum", "nanprod"):
            dt = onp.dtype(onp.int64) if dtype == "int32" else F32
        else:
            dt = onp.dtype(dtype)
        _check(fn(a, axis=axis), onp.asarray(expected), dt, rtol=1e-4)
        if shape:
            _check(fn(a, axis=axis, keepdims=True), ref(h, axis=axis, keepdims=True), dt,
                   rtol=1e-4)
    host = _rand((3, 4), dtype, lo=1, hi=4)
    at, ht = _both(host, transposed=True)
    _check(fn(at, axis=1), onp.asarray(ref(ht, axis=1)), None if name in ("nanmax", "nanmin")
           else (_fdt(dtype) if name in ("nanmean", "nanstd", "nanvar")
                 else (I64 if dtype == "int32" else F32)), rtol=1e-4)
    if name in ("nanstd", "nanvar"):
        _check(fn(np.array(host), axis=0, ddof=1), ref(host, axis=0, ddof=1), _fdt(dtype))


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
def test_nan_argreductions(eng: str, name: str) -> None:
    fn, ref = getattr(np, name), getattr(onp, name)
    host = _rand((4, 5), "float32")
    host[1, 2] = host[0, 0] = onp.nan
    a, h = _both(host)
    _check(fn(a), onp.asarray(ref(h)), I64)
    _check(fn(a, axis=1), ref(h, axis=1), I64)
    _check(fn(a, axis=0, keepdims=True), ref(h, axis=0, keepdims=True), I64)
    at, ht = _both(host, transposed=True)
    _check(fn(at, axis=1), ref(ht, axis=1), I64)
    hi = _rand((3, 4), "int32")
    _check(fn(np.array(hi), axis=0), ref(hi, axis=0), I64)
    with pytest.raises(ValueError, match="empty sequence"):
        fn(np.zeros((0,)))
    with pytest.raises(AxisError):
        fn(a, axis=3)
    _raises_eventually(ValueError, lambda: fn(np.array([onp.nan, onp.nan])), "All-NaN")


@pytest.mark.parametrize("name", ["nancumsum", "nancumprod"])
def test_nan_cumulative(eng: str, name: str) -> None:
    fn, ref = getattr(np, name), getattr(onp, name)
    host = _rand((3, 4), "float32")
    host[1, 1] = onp.nan
    a, h = _both(host)
    _check(fn(a), ref(h), rtol=1e-5)
    _check(fn(a, axis=1), ref(h, axis=1), rtol=1e-5)
    at, ht = _both(host, transposed=True)
    _check(fn(at, axis=0), ref(ht, axis=0), rtol=1e-5)
    hi = _rand((2, 3), "int32", lo=1, hi=4)
    _check(fn(np.array(hi), axis=0), ref(hi, axis=0), I64)
    _check(fn(np.array(3.0)), ref(onp.float32(3.0)))


def test_ptp(eng: str) -> None:
    for dtype in ("float32", "int32"):
        for shape, axis in SHAPES_AXES[:-1]:
            host = _rand(shape, dtype)
            a, h = _both(host)
            _check(np.ptp(a, axis=axis), onp.asarray(onp.ptp(h, axis=axis)))
        at, ht = _both(_rand((3, 4), dtype), transposed=True)
        _check(np.ptp(at, axis=0, keepdims=True), onp.ptp(ht, axis=0, keepdims=True))
    with pytest.raises(ValueError, match="zero-size"):
        np.ptp(np.zeros((0,)))
    with pytest.raises(TypeError, match="boolean"):
        np.ptp(np.array([True], dtype=bool))


@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_cov_corrcoef(eng: str, dtype: str) -> None:
    rtol = 1e-4 if dtype != "float64" else 1e-10
    m = _rand((3, 6), dtype)
    y = _rand((2, 6), dtype, seed=7)
    a, ya = np.array(m), np.array(y)
    fdt = _fdt(dtype)
    _check(np.cov(a), onp.cov(m), fdt, rtol=rtol)
    _check(np.cov(a.T, rowvar=False), onp.cov(m.T, rowvar=False), fdt, rtol=rtol)
    _check(np.cov(a, ya), onp.cov(m, y), fdt, rtol=rtol)
    _check(np.cov(a, bias=True), onp.cov(m, bias=True), fdt, rtol=rtol)
    _check(np.cov(a, ddof=2), onp.cov(m, ddof=2), fdt, rtol=rtol)
    _check(np.cov(a[0]), onp.cov(m[0]), fdt, rtol=rtol)
    fw = onp.array([1, 2, 1, 3, 1, 1])
    aw = onp.abs(_rand((6,), "float64", seed=2)) + 0.5
    _check(np.cov(a, fweights=list(fw)), onp.cov(m, fweights=fw), fdt, rtol=rtol)
    _check(np.cov(a, fweights=np.array(fw), aweights=np.array(aw)),
           onp.cov(m, fweights=fw, aweights=aw), fdt, rtol=rtol)
    _check(np.cov(a, aweights=np.array(aw), ddof=0), onp.cov(m, aweights=aw, ddof=0), fdt,
           rtol=rtol)
    _check(np.corrcoef(a), onp.corrcoef(m), fdt, rtol=rtol, atol=1e-5)
    _check(np.corrcoef(a.T, rowvar=False), onp.corrcoef(m.T, rowvar=False), fdt, rtol=rtol,
           atol=1e-5)
    _check(np.corrcoef(a, ya), onp.corrcoef(m, y), fdt, rtol=rtol, atol=1e-5)
    _check(np.corrcoef(a[1]), onp.corrcoef(m[1]), fdt)
    _check(np.cov(np.zeros((0, 3))), onp.zeros((0, 0)), F32)


def test_cov_errors() -> None:
    a = np.ones((2, 4))
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        np.cov(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="fweights must be integer"):
        np.cov(a, fweights=np.ones(4))
    with pytest.raises(ValueError, match="incompatible numbers of samples"):
        np.cov(a, fweights=[1, 2])
    with pytest.raises(ValueError, match="one dimensional"):
        np.cov(a, aweights=np.ones((2, 2)))
    with pytest.raises(ValueError, match="ddof must be integer"):
        np.cov(a, ddof=1.5)
    with pytest.raises(ValueError, match="same number of observations"):
        np.cov(a, np.ones((2, 3)))
    _raises_eventually(ValueError, lambda: np.cov(a, fweights=[1, -1, 1, 1]), "negative")


# ------------------------------------------------------------------------------------------------
# comparison
# ------------------------------------------------------------------------------------------------

def test_isclose_allclose(eng: str) -> None:
    h1 = _rand((3, 4), "float32")
    h2 = h1 + onp.float32(1e-6)
    h2[0, 0] += 1
    h1[1, 1] = h2[1, 1] = onp.nan
    h1[2, 2] = h2[2, 2] = onp.inf
    a, b = np.array(h1), np.array(h2)
    _check(np.isclose(a, b), onp.isclose(h1, h2))
    _check(np.isclose(a, b, equal_nan=True), onp.isclose(h1, h2, equal_nan=True))
    _check(np.isclose(a.T, b.T, rtol=0, atol=1e-3), onp.isclose(h1.T, h2.T, rtol=0, atol=1e-3))
    _check(np.isclose(a, b[0]), onp.isclose(h1, h2[0]))
    _check(np.isclose(a, 0.5), onp.isclose(h1, onp.float32(0.5)))
    hi = onp.arange(4, dtype=onp.int32)
    _check(np.isclose(np.array(hi), 1.0000001), onp.isclose(hi, 1.0000001))
    assert np.allclose(a, b) is False
    assert np.allclose(a, a, equal_nan=True) is True
    assert np.allclose(np.array(h1[0]), np.array(h1[0]) + 1e-7) is True
    with pytest.raises(ValueError, match="broadcast"):
        np.isclose(a, np.ones(3))


def test_array_equal_equiv(eng: str) -> None:
    h = _rand((2, 3), "int32")
    a = np.array(h)
    assert np.array_equal(a, np.array(h)) is True
    assert np.array_equal(a, a.T) is False
    assert np.array_equal(a.T, np.array(h.T)) is True
    assert np.array_equal(a, np.array(h) + 1) is False
    nanh = onp.array([1.0, onp.nan])
    assert np.array_equal(np.array(nanh), np.array(nanh)) is False
    assert np.array_equal(np.array(nanh), np.array(nanh), equal_nan=True) is True
    assert np.array_equiv(np.array([1, 2]), np.array([[1, 2], [1, 2]])) is True
    assert np.array_equiv(np.array([1, 2]), np.array([[1, 2], [1, 3]])) is False
    assert np.array_equiv(np.array([1, 2]), np.array([1, 2, 3])) is False
    assert np.array_equal(np.zeros((0,)), np.zeros((0,))) is True


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_nan_to_num(eng: str, dtype: str) -> None:
    h = _rand((3, 4), dtype)
    if dtype != "int32":
        h[0, 0], h[1, 1], h[2, 2] = onp.nan, onp.inf, -onp.inf
    a = np.array(h)
    _check(np.nan_to_num(a), onp.nan_to_num(h))
    _check(np.nan_to_num(a.T, nan=-1.0, posinf=9.0, neginf=-9.0),
           onp.nan_to_num(h.T, nan=-1.0, posinf=9.0, neginf=-9.0))
    r = np.nan_to_num(a, copy=False, nan=5.0)
    assert r is a
    _check(a, onp.nan_to_num(h, nan=5.0))
    _check(np.nan_to_num(np.array(onp.float32(onp.nan))), onp.zeros((), onp.float32))


# ------------------------------------------------------------------------------------------------
# unique and set operations
# ------------------------------------------------------------------------------------------------

def test_unique(eng: str) -> None:
    h = _rand((4, 5), "int32", lo=0, hi=4)
    a = np.array(h)
    _check(np.unique(a), onp.unique(h))
    res = np.unique(a.T, return_index=True, return_inverse=True, return_counts=True)
    ref = onp.unique(h.T, return_index=True, return_inverse=True, return_counts=True)
    assert len(res) == 4
    _check(res[0], ref[0])
    for r, e in zip(res[1:], ref[1:]):
        _check(r, e, I64)
    rows = onp.array([[1, 2], [3, 4], [1, 2]], onp.float32)
    v, inv = np.unique(np.array(rows), axis=0, return_inverse=True)
    rv, rinv = onp.unique(rows, axis=0, return_inverse=True)
    _check(v, rv)
    _check(inv, rinv, I64)
    _check(np.unique(np.array(onp.float32(3))), onp.unique(onp.float32(3)))
    _check(np.unique(np.zeros((0,))), onp.unique(onp.zeros(0, onp.float32)))
    _check(np.unique_values(a), onp.sort(onp.unique_values(h)))  # NumPy's order is unspecified
    uc = np.unique_counts(a)
    ruc = onp.unique_counts(h)
    _check(uc.values, ruc.values)
    _check(uc.counts, ruc.counts, I64)
    ui = np.unique_inverse(a)
    rui = onp.unique_inverse(h)
    _check(ui.inverse_indices, rui.inverse_indices, I64)
    ua = np.unique_all(a)
    rua = onp.unique_all(h)
    for f in ("values", "indices", "inverse_indices", "counts"):
        _check(getattr(ua, f), getattr(rua, f), None if f == "values" else I64)


def test_set_ops(eng: str) -> None:
    h1 = onp.array([5, 1, 3, 3, 7, 9, 1], onp.int64)
    h2 = onp.array([[3, 4], [9, 10]], onp.int64)
    a, b = np.array(h1), np.array(h2)
    _check(np.isin(a, b), onp.isin(h1, h2))
    _check(np.isin(b, a, invert=True), onp.isin(h2, h1, invert=True))
    _check(np.isin(b.T, [3, 10]), onp.isin(h2.T, [3, 10]))
    _check(np.in1d(b, a), onp.isin(h2, h1).ravel())
    _check(np.isin(a, np.zeros((0,))), onp.zeros(h1.shape, bool))
    fh = onp.array([1.5, onp.nan, 2.0], onp.float32)
    _check(np.isin(np.array(fh), np.array(fh)), onp.isin(fh, fh))
    _check(np.intersect1d(a, b), onp.intersect1d(h1, h2))
    v, i1, i2 = np.intersect1d(a, b, return_indices=True)
    rv, ri1, ri2 = onp.intersect1d(h1, h2, return_indices=True)
    _check(v, rv)
    _check(i1, ri1, I64)
    _check(i2, ri2, I64)
    _check(np.setdiff1d(a, b), onp.setdiff1d(h1, h2))
    _check(np.setxor1d(a, b), onp.setxor1d(h1, h2))
    _check(np.union1d(a, b), onp.union1d(h1, h2))
    # MXNet's promotion: int64 with float32 gives float32 values
    r = np.union1d(a, np.array([0.5, 9.0]))
    _check(r, onp.union1d(h1, [0.5, 9.0]).astype(F32), F32)
    with pytest.raises(ValueError, match="kind"):
        np.isin(a, b, kind="bogus")


# ------------------------------------------------------------------------------------------------
# searching, sorting and indexing
# ------------------------------------------------------------------------------------------------

def test_searchsorted(eng: str) -> None:
    s = onp.array([1.0, 2.0, 2.0, 3.5, 7.0], onp.float32)
    v = _rand((3, 4), "float32") * 3 + 2
    a = np.array(s)
    for side in ("left", "right"):
        _check(np.searchsorted(a, np.array(v), side=side), onp.searchsorted(s, v, side=side),
               I64)
        _check(np.searchsorted(a, 2.0, side=side), onp.asarray(onp.searchsorted(s, 2.0,
                                                                                side=side)), I64)
    _check(np.searchsorted(a, np.array(v).T), onp.searchsorted(s, v.T), I64)
    perm = onp.array([3, 0, 4, 1, 2])
    unsorted = s[onp.argsort(perm)]
    sorter = onp.argsort(unsorted)
    _check(np.searchsorted(np.array(unsorted), np.array(v), sorter=list(sorter)),
           onp.searchsorted(unsorted, v, sorter=sorter), I64)
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        np.searchsorted(a, 1.0, side="middle")
    with pytest.raises(ValueError, match="1-dimensional"):
        np.searchsorted(np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="sorter.size must equal a.size"):
        np.searchsorted(a, 1.0, sorter=[0, 1])


def test_argwhere_flatnonzero(eng: str) -> None:
    for shape in ((), (6,), (3, 4), (2, 0)):
        h = _rand(shape, "int32", lo=-1, hi=2)
        a, _ = _both(h)
        _check(np.argwhere(a), onp.argwhere(h), I64)
        _check(np.flatnonzero(a), onp.flatnonzero(h), I64)
    h = _rand((3, 4), "float32")
    _check(np.argwhere(np.array(h).T > 0), onp.argwhere(h.T > 0), I64)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_diff(eng: str, dtype: str) -> None:
    h = _rand((4, 5), dtype)
    a = np.array(h)
    for n in (1, 2, 3, 6):
        for axis in (0, 1, -1):
            _check(np.diff(a, n=n, axis=axis), onp.diff(h, n=n, axis=axis))
    _check(np.diff(a.T, axis=0), onp.diff(h.T, axis=0))
    if dtype != "bool":
        _check(np.diff(a, prepend=0, append=np.array(h[:, :2])),
               onp.diff(h, prepend=onp.array(0, dtype), append=h[:, :2]))
        _check(np.diff(a, axis=0, prepend=np.array(h[:1])),
               onp.diff(h, axis=0, prepend=h[:1]))
    assert np.diff(a, n=0) is a
    with pytest.raises(ValueError, match="at least one dimensional"):
        np.diff(np.array(1.0))
    with pytest.raises(ValueError, match="order must be non-negative"):
        np.diff(a, n=-1)
    with pytest.raises(AxisError):
        np.diff(a, axis=2)
    with pytest.raises(ValueError, match="does not match"):
        np.diff(a, prepend=np.ones((2, 2)))


def test_ediff1d(eng: str) -> None:
    h = _rand((3, 4), "int32")
    a = np.array(h)
    _check(np.ediff1d(a), onp.ediff1d(h))
    _check(np.ediff1d(a.T, to_begin=[-1, -2], to_end=9), onp.ediff1d(h.T, to_begin=[-1, -2],
                                                                     to_end=9))
    _check(np.ediff1d(np.array([1.0])), onp.ediff1d(onp.array([1.0], onp.float32)))
    with pytest.raises(TypeError, match="same_kind"):
        np.ediff1d(a, to_begin=1.5)


def test_interp(eng: str) -> None:
    xs = onp.array([0.0, 1.0, 2.5, 4.0], onp.float32)
    fp = onp.array([1.0, -1.0, 3.0, 0.0], onp.float32)
    x = _rand((3, 4), "float32") * 3
    _check(np.interp(np.array(x), np.array(xs), np.array(fp)), onp.interp(x, xs, fp), F32)
    _check(np.interp(np.array(x).T, xs.tolist(), fp.tolist(), left=-5, right=5),
           onp.interp(x.T, xs, fp, left=-5, right=5), F32)
    _check(np.interp(2.0, np.array(xs), np.array(fp)), onp.asarray(onp.interp(2.0, xs, fp)), F32)
    _check(np.interp(np.array(x), np.array(xs), np.array(fp), period=3),
           onp.interp(x, xs, fp, period=3), F32, rtol=1e-5)
    fp64 = fp.astype(onp.float64)
    assert np.interp(np.array(x), np.array(xs), np.array(fp64)).dtype == onp.float64
    with pytest.raises(ValueError, match="same length"):
        np.interp(np.array(x), np.array(xs), np.array(fp[:2]))
    with pytest.raises(ValueError, match="empty"):
        np.interp(np.array(x), np.zeros((0,)), np.zeros((0,)))
    with pytest.raises(ValueError, match="period must be a non-zero value"):
        np.interp(np.array(x), np.array(xs), np.array(fp), period=0)


def test_take_along_axis(eng: str) -> None:
    h = _rand((3, 4), "float32")
    a = np.array(h)
    idx = onp.argsort(h, axis=1)
    _check(np.take_along_axis(a, np.array(idx), axis=1), onp.take_along_axis(h, idx, axis=1))
    idx0 = onp.argsort(h, axis=0)[:2]
    _check(np.take_along_axis(a, np.array(idx0), axis=0), onp.take_along_axis(h, idx0, axis=0))
    _check(np.take_along_axis(a.T, np.array(idx.T), axis=0),
           onp.take_along_axis(h.T, idx.T, axis=0))
    _check(np.take_along_axis(a, [[0], [2], [-1]], axis=1),
           onp.take_along_axis(h, onp.array([[0], [2], [-1]]), axis=1))
    _check(np.take_along_axis(a, [0, 11], axis=None),
           onp.take_along_axis(h, onp.array([0, 11]), axis=None))
    row = np.array(h[:1])
    _check(np.take_along_axis(row, [[0], [2]], axis=1),
           onp.take_along_axis(h[:1], onp.array([[0], [2]]), axis=1))
    with pytest.raises(IndexError, match="integer array"):
        np.take_along_axis(a, np.array([[0.0]]), axis=1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        np.take_along_axis(a, [0], axis=1)
    with pytest.raises(AxisError):
        np.take_along_axis(a, [[0]], axis=2)
    _raises_eventually(IndexError, lambda: np.take_along_axis(a, [[7]], axis=1), "out of bounds")


def test_digitize(eng: str) -> None:
    x = _rand((3, 4), "float32") * 2
    for bins in ([-1.0, 0.0, 0.5, 2.0], [2.0, 0.5, 0.0, -1.0], [0.0]):
        for right in (False, True):
            _check(np.digitize(np.array(x), np.array(bins), right=right),
                   onp.digitize(x, onp.array(bins, onp.float32), right=right), I64)
    _check(np.digitize(np.array(x).T, [0.0, 1.0]), onp.digitize(x.T, [0.0, 1.0]), I64)
    with pytest.raises(ValueError, match="1-dimensional"):
        np.digitize(np.array(x), np.ones((2, 2)))
    _raises_eventually(ValueError, lambda: np.digitize(np.array(x), [0.0, 2.0, 1.0]),
                       "monotonically")


def test_extract_compress(eng: str) -> None:
    h = _rand((3, 4), "float32")
    a = np.array(h)
    cond = h > 0
    _check(np.extract(np.array(cond), a), onp.extract(cond, h))
    _check(np.extract(np.array(cond).T, a.T), onp.extract(cond.T, h.T))
    _check(np.compress([True, False, True], a, axis=0), onp.compress([True, False, True], h,
                                                                     axis=0))
    _check(np.compress([False, True], a.T, axis=1), onp.compress([False, True], h.T, axis=1))
    _check(np.compress([1, 0, 1], a), onp.compress([1, 0, 1], h))
    with pytest.raises(AxisError):
        np.compress([True], a, axis=3)


def test_choose_select(eng: str) -> None:
    idx = onp.array([[0, 1, 2, 1], [2, 0, 1, 0]])
    cs = [_rand((2, 4), "float32", seed=s) for s in range(3)]
    _check(np.choose(np.array(idx), [np.array(c) for c in cs]), onp.choose(idx, cs))
    _check(np.choose(idx.tolist(), [np.array(cs[0]), np.array(cs[1][0]), 7.0]),
           onp.choose(idx, [cs[0], cs[1][0], onp.float32(7.0)]))
    _check(np.choose([5, -1, 2], [np.arange(3), np.arange(3) * 2, np.arange(3) * 3],
                     mode="clip"),
           onp.choose([5, -1, 2], [onp.arange(3), onp.arange(3) * 2, onp.arange(3) * 3],
                      mode="clip").astype(F32))
    _check(np.choose([5, -1], [np.arange(2), np.arange(2) * 2], mode="wrap"),
           onp.choose([5, -1], [onp.arange(2), onp.arange(2) * 2], mode="wrap").astype(F32))
    with pytest.raises(ValueError, match="mode"):
        np.choose([0], [np.arange(1)], mode="bad")
    with pytest.raises(TypeError, match="integer"):
        np.choose(np.array([0.0]), [np.arange(1)])
    _raises_eventually(ValueError, lambda: np.choose([3], [np.arange(1)]), "invalid entry")

    x = _rand((3, 4), "float32")
    conds = [x < -0.5, x > 0.5]
    choices = [x * 10, x * 100]
    _check(np.select([np.array(c) for c in conds], [np.array(c) for c in choices], default=-1),
           onp.select(conds, choices, default=onp.float32(-1)))
    _check(np.select([np.array(conds[0]).T], [np.array(x).T]),
           onp.select([conds[0].T], [x.T]))
    hi = onp.arange(4, dtype=onp.int32)
    r = np.select([np.array(hi) > 1], [np.array(hi)], default=2.5)
    assert r.dtype == onp.int32  # a scalar default takes the choices' dtype (MXNet)
    with pytest.raises(ValueError, match="same length"):
        np.select([np.array(conds[0])], [])
    with pytest.raises(ValueError, match="empty condition list"):
        np.select([], [])
    with pytest.raises(TypeError, match="invalid entry 0 in condlist"):
        np.select([np.array([1.0, 0.0])], [np.ones(2)])


def test_lexsort(eng: str) -> None:
    k1 = onp.array([1, 5, 1, 4, 3, 4, 4])
    k2 = onp.array([9, 4, 0, 4, 0, 2, 1])
    _check(np.lexsort([np.array(k1), np.array(k2)]), onp.lexsort((k1, k2)), I64)
    _check(np.lexsort((k1.tolist(), k2.tolist())), onp.lexsort((k1, k2)), I64)
    keys = _rand((2, 3, 5), "int32", lo=0, hi=3)
    _check(np.lexsort(np.array(keys)), onp.lexsort(keys), I64)
    _check(np.lexsort(np.array(keys), axis=0), onp.lexsort(keys, axis=0), I64)
    kt = onp.ascontiguousarray(keys.transpose(0, 2, 1))
    _check(np.lexsort([np.array(keys[0]).T, np.array(keys[1]).T]), onp.lexsort(kt), I64)
    with pytest.raises(ValueError, match="same shape"):
        np.lexsort([np.arange(2), np.arange(3)])


def _check_partition(res: Any, h: onp.ndarray, kth: Any, axis: Any, indices: bool) -> None:
    got = res.asnumpy()
    assert res.dtype == (I64 if indices else h.dtype)
    src = h.reshape(-1) if axis is None else h
    ax = 0 if axis is None else axis
    vals = onp.take_along_axis(src, got, axis=ax) if indices else got
    srt = onp.sort(src, axis=ax)
    n = src.shape[ax]
    for k in onp.atleast_1d(kth):
        k = int(k) % n
        kv = onp.take(vals, [k], axis=ax)
        onp.testing.assert_array_equal(kv, onp.take(srt, [k], axis=ax))
        assert (onp.take(vals, range(k), axis=ax) <= kv).all()
        assert (onp.take(vals, range(k + 1, n), axis=ax) >= kv).all()
    onp.testing.assert_array_equal(onp.sort(vals, axis=ax), srt)


def test_partition(eng: str) -> None:
    h = _rand((4, 7), "float32")
    a = np.array(h)
    for kth, axis in ((3, -1), ([1, 5], 1), (2, 0), (-1, 0), (10, None)):
        _check_partition(np.partition(a, kth, axis=axis), h, kth, axis, False)
        _check_partition(np.argpartition(a, kth, axis=axis), h, kth, axis, True)
    _check_partition(np.partition(a.T, 1, axis=0), h.T, 1, 0, False)
    with pytest.raises(ValueError, match=r"kth\(=7\) out of bounds \(7\)"):
        np.partition(a, 7)
    with pytest.raises(AxisError):
        np.argpartition(a, 1, axis=2)
    with pytest.raises(TypeError, match="kth"):
        np.partition(a, 1.5)


# ------------------------------------------------------------------------------------------------
# dtypes, memory, apply
# ------------------------------------------------------------------------------------------------

def test_result_type_promote_types_can_cast() -> None:
    f32, i32 = np.ones(2), np.ones(2, dtype="int32")
    assert np.result_type(f32, i32) == onp.float32  # NumPy: float64
    assert np.result_type(i32, 2.5) == onp.int32  # a scalar never upcasts
    assert np.result_type(i32, "float64") == onp.float64
    assert np.result_type(1, 2.0) == onp.float32
    assert np.result_type(True) == onp.bool_
    assert np.result_type(np.ones(2, dtype=bool), 1) == onp.int64
    assert np.promote_types("int32", "float16") == onp.float16
    assert np.promote_types("int8", "uint8") == onp.int16
    assert np.can_cast(i32, "int64") is True
    assert np.can_cast(f32, "int32") is False
    assert np.can_cast("float64", "float32", casting="same_kind") is True
    assert np.min_scalar_type(np.array(onp.float32(3))) == onp.float16
    assert np.min_scalar_type(np.array(onp.int64(3))) == onp.uint8
    assert np.min_scalar_type(np.ones((2, 2), dtype="int64")) == onp.int64
    assert np.min_scalar_type(300) == onp.uint16
    with pytest.raises(ValueError):
        np.result_type()


def test_shares_memory(eng: str) -> None:
    a = np.arange(10)
    b = a[2:5]
    c = np.arange(10)
    d = a + 1
    assert np.may_share_memory(a, b) is True
    assert np.shares_memory(a, b) is True
    assert np.shares_memory(a, c) is False
    assert np.may_share_memory(d, a) is False
    assert np.shares_memory(a, a[5:]) is True
    assert np.shares_memory(a[:5], a[5:]) is False
    assert np.may_share_memory(a, 3) is False
    with pytest.raises(TypeError, match="numpy.ndarray"):
        np.shares_memory(a, onp.ones(2))


def test_apply_along_over_axes(eng: str) -> None:
    h = _rand((3, 4, 2), "float32")
    a = np.array(h)
    r = np.apply_along_axis(lambda v: v.max() - v.min(), 1, a)
    _check(r, onp.apply_along_axis(lambda v: v.max() - v.min(), 1, h))
    r = np.apply_along_axis(lambda v: np.sort(v), 0, a.T)
    _check(r, onp.apply_along_axis(onp.sort, 0, h.T))
    r = np.apply_along_axis(lambda v, k: v[:k] * 2, -1, a, 1)
    _check(r, onp.apply_along_axis(lambda v, k: v[:k] * 2, -1, h, 1))
    _check(np.apply_over_axes(np.sum, a, [0, 2]), onp.apply_over_axes(onp.sum, h, [0, 2]),
           rtol=1e-5)
    _check(np.apply_over_axes(np.max, a.T, 1), onp.apply_over_axes(onp.max, h.T, 1))
    with pytest.raises(AxisError):
        np.apply_along_axis(np.sum, 3, a)
    with pytest.raises(ValueError, match="correct shape"):
        np.apply_over_axes(lambda x, ax: np.sum(x), a, 0)


# ------------------------------------------------------------------------------------------------
# asynchrony and the engine
# ------------------------------------------------------------------------------------------------

def test_shape_known_ops_do_not_wait() -> None:
    """With the input's producer still blocked, the calls return pending arrays with the right
    shapes and dtypes; the values are right once the producer runs."""
    with engine.engine_scope("ThreadedEngine"):
        h = _rand((6, 5), "int32")
        x = np.array(h)
        release = threading.Event()
        engine.push(lambda: release.wait(10), reads=[], writes=[x._var], device=mx.cpu(0),
                    name="gate")
        calls = {
            "average": (lambda: np.average(x, axis=0), onp.average(h, axis=0), F32),
            "percentile": (lambda: np.percentile(x, [10, 90], axis=1),
                           onp.percentile(h, [10, 90], axis=1), F32),
            "median": (lambda: np.median(x), onp.median(h), F32),
            "count_nonzero": (lambda: np.count_nonzero(x, axis=1),
                              onp.count_nonzero(h, axis=1), I64),
            "histogram": (lambda: np.histogram(x, bins=4)[0], onp.histogram(h, bins=4)[0], I64),
            "nanmean": (lambda: np.nanmean(x, axis=1), onp.nanmean(h, axis=1), F32),
            "ptp": (lambda: np.ptp(x), onp.ptp(h), None),
            "cov": (lambda: np.cov(x), onp.cov(h), F32),
            "isclose": (lambda: np.isclose(x, 2), onp.isclose(h, 2), None),
            "searchsorted": (lambda: np.searchsorted(np.arange(5), x),
                             onp.searchsorted(onp.arange(5), h), I64),
            "diff": (lambda: np.diff(x, axis=0), onp.diff(h, axis=0), None),
            "isin": (lambda: np.isin(x, [1, 2]), onp.isin(h, [1, 2]), None),
            "partition": (lambda: np.sort(np.partition(x, 2, axis=None)),
                          onp.sort(h, axis=None), None),
        }
        pending = {}
        start = time.monotonic()
        for name, (fn, ref, dt) in calls.items():
            r = fn()
            assert r.shape == onp.shape(ref), name
            assert r._buf is None, f"{name} computed before its input was ready"
            pending[name] = (r, ref, dt)
        assert time.monotonic() - start < 5 and not release.is_set()
        release.set()
        for r, ref, dt in pending.values():
            _check(r, onp.asarray(ref), dt, rtol=1e-5)


def test_errors_at_call_leave_no_pending_error(eng: str) -> None:
    a = np.ones((2, 3))
    for fn in (lambda: np.percentile(a, 200), lambda: np.diff(a, n=-2),
               lambda: np.searchsorted(a, 1.0), lambda: np.cov(np.ones((2, 2, 2))),
               lambda: np.take_along_axis(a, [0], axis=0)):
        with pytest.raises((ValueError, TypeError, IndexError, ShapeError)):
            fn()
    engine.waitall()  # nothing was pushed, so nothing fails later


def test_exports() -> None:
    from framework.np import _stats

    for name in _stats.__all__:
        assert getattr(np, name) is getattr(_stats, name)
    assert "msort" not in _stats.__all__
    # NumPy functions called on framework arrays dispatch here
    r = onp.median(np.array([1.0, 3.0, 2.0]))
    assert isinstance(r, np.ndarray) and float(r) == 2.0
