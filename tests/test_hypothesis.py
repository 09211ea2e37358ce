"""Property tests against NumPy: broadcasting, reductions over random axes, indexing.

Shapes, axes and indices come from hypothesis; values come from a NumPy generator seeded by a
drawn integer (hypothesis prints it with the failing example). Result dtypes follow MXNet's
rules (``op_table``), values are NumPy's cast to them.
"""

from __future__ import annotations

from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import BOOL, F16, F32, I8, I32, U8, mx_promote, to_float

from framework import np as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def _values(seed: int, shape: tuple[int, ...], dtype: onp.dtype, low: float = -4.0,
            high: float = 4.0, nonzero: bool = False) -> onp.ndarray:
    rng = onp.random.default_rng(seed)
    if dtype.kind == "b":
        x = onp.asarray(rng.random(shape) < 0.5)
        return onp.ones(shape, bool) if nonzero else x
    if dtype.kind in "iu":
        x = onp.asarray(rng.integers(0 if dtype.kind == "u" else int(low), int(high) + 1,
                                     size=shape))
        if nonzero:
            x[x == 0] = 1
        return x.astype(dtype)
    x = onp.asarray(rng.uniform(low, high, size=shape))
    if nonzero:
        x[onp.abs(x) < 0.5] = 0.5
    return x.astype(dtype)


def _close(got: Any, want: onp.ndarray, dt: onp.dtype, what: str) -> None:
    assert isinstance(got, fnp.ndarray), f"{what}: got {type(got).__name__}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy {want.shape}"
    assert got.dtype == dt, f"{what}: dtype {got.dtype}, expected {dt}"
    g = got.asnumpy()
    with onp.errstate(all="ignore"):
        w = want.astype(dt)
    if dt.kind == "f":
        tol = 1e-2 if dt == F16 else 1e-5
        onp.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        onp.testing.assert_array_equal(g, w, err_msg=what)


# -- (a) broadcasting of binary ops ---------------------------------------------------------------

#: name -> MXNet dtype rule ('arith', 'float', 'bool') and the range of the second input
#: ('nonzero' for divisors, 'exponent' for non-negative powers)
BINARY = {
    "add": ("arith", ""), "subtract": ("arith", ""), "multiply": ("arith", ""),
    "maximum": ("arith", ""), "true_divide": ("float", "nonzero"), "arctan2": ("float", ""),
    "greater_equal": ("bool", ""), "not_equal": ("bool", ""), "logical_xor": ("bool", ""),
    "mod": ("arith", "nonzero"), "power": ("arith", "exponent"),
}
PAIRS = [(F32, F32), (I32, I32), (F32, I32), (I8, U8), (BOOL, F16), (F16, F32), (BOOL, BOOL)]


@settings(max_examples=150, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                min_side=0, max_side=4),
       op=st.sampled_from(sorted(BINARY)), dtypes=st.sampled_from(PAIRS), seed=SEEDS)
def test_broadcasting(shapes: Any, op: str, dtypes: tuple[onp.dtype, onp.dtype],
                      seed: int) -> None:
    rule, second = BINARY[op]
    sa, sb = shapes.input_shapes
    a = _values(seed, sa, dtypes[0])
    b = _values(seed + 1, sb, dtypes[1], *((0.0, 3.0) if second == "exponent" else ()),
                nonzero=second == "nonzero")
    promoted = mx_promote(a.dtype, b.dtype)
    dt = {"arith": promoted, "float": to_float(promoted), "bool": onp.dtype(bool)}[rule]
    ra, rb = a, b
    if dt.kind == "f":  # NumPy computes int inputs of a float result in float64
        ra, rb = (x.astype(onp.float64) if x.dtype.kind in "biu" else x for x in (a, b))
    fa, fb = fnp.array(a), fnp.array(b)
    try:
        with onp.errstate(all="ignore"):
            want = onp.asarray(getattr(onp, op)(ra, rb))
    except TypeError:  # no bool loop (mod, subtract): the framework raises at the call too
        with pytest.raises(TypeError):
            getattr(fnp, op)(fa, fb)
        return
    assert want.shape == shapes.result_shape
    got = getattr(fnp, op)(fa, fb)
    _close(got, want, dt, f"{op}{sa}{sb} {dtypes}")


# -- (b) reductions over random axes --------------------------------------------------------------

REDUCTIONS = ["sum", "prod", "mean", "std", "var", "max", "min", "all", "any", "argmax",
              "argmin", "cumsum"]


def _reduce_dtype(op: str, dt: onp.dtype) -> onp.dtype:
    if op in ("mean", "std", "var"):
        return to_float(dt)
    if op in ("all", "any"):
        return onp.dtype(bool)
    if op in ("argmax", "argmin"):
        return onp.dtype(onp.int64)
    if op in ("sum", "prod", "cumsum") and dt.kind in "bi" and dt.itemsize < 8:
        return onp.dtype(onp.int64)
    return dt


@st.composite
def _reduction(draw: Any) -> tuple[str, tuple[int, ...], Any, dict[str, Any]]:
    op = draw(st.sampled_from(REDUCTIONS))
    shape = draw(SHAPES)
    nd = len(shape)
    kw: dict[str, Any] = {}
    if op in ("argmax", "argmin", "cumsum"):
        axis = draw(st.none() | st.integers(-nd, nd - 1)) if nd else None
    elif nd:
        axis = draw(st.none() | hnp.valid_tuple_axes(nd, min_size=1) | st.integers(-nd, nd - 1))
    else:
        axis = None
    if op != "cumsum":
        kw["keepdims"] = draw(st.booleans())
    return op, shape, axis, kw


@settings(max_examples=200, deadline=None)
@given(case=_reduction(), dtype=st.sampled_from([F32, I32, BOOL, F16]), seed=SEEDS)
def test_reductions(case: Any, dtype: onp.dtype, seed: int) -> None:
    op, shape, axis, kw = case
    x = _values(seed, shape, dtype, *((0.5, 1.5) if op == "prod" else (-4.0, 4.0)))
    dt = _reduce_dtype(op, dtype)
    # float results of int inputs, and statistics, in float64 (the framework accumulates
    # float16 statistics in float32, NumPy's var does not)
    upcast = dt.kind == "f" and (x.dtype.kind in "biu" or op in ("mean", "std", "var"))
    ref = x.astype(onp.float64) if upcast else x
    what = f"{op}(shape={shape}, axis={axis}, {kw}) {dtype}"
    try:
        with onp.errstate(all="ignore"):
            want = onp.asarray(getattr(onp, op)(ref, axis=axis, **kw))
    except ValueError as exc:  # max/min/argmax of an empty selection: raised at the call
        with pytest.raises(ValueError):
            getattr(fnp, op)(fnp.array(x), axis=axis, **kw)
        assert "empty" in str(exc) or "identity" in str(exc)
        return
    got = getattr(fnp, op)(fnp.array(x), axis=axis, **kw)
    _close(got, want, dt, what)


# -- (c) indexing: getitem and setitem ------------------------------------------------------------

@st.composite
def _basic(draw: Any) -> tuple[tuple[int, ...], Any]:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    idx = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return shape, idx


@st.composite
def _advanced(draw: Any) -> tuple[tuple[int, ...], Any]:
    """Integer-array indices: on every axis, or one array among slices; lists and arrays."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    if draw(st.booleans()):
        idx = draw(hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    else:
        axis = draw(st.integers(0, len(shape) - 1))
        n = shape[axis]
        arr = draw(hnp.arrays(onp.int64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                              elements=st.integers(-n, n - 1)))
        idx = tuple(arr if i == axis else draw(st.sampled_from([slice(None), slice(None, None,
                                                                                 -1)]))
                    for i in range(len(shape)))
    kind = draw(st.sampled_from(["numpy", "list", "framework"]))

    def conv(k: Any) -> Any:
        if not isinstance(k, onp.ndarray):
            return k
        if kind == "list":
            return k.tolist()
        if kind == "framework":
            return fnp.array(k)
        return k

    return shape, tuple(conv(k) for k in idx)


def _np_key(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(_np_key(k) for k in key)
    if isinstance(key, fnp.ndarray):
        return key.asnumpy()
    if isinstance(key, list):
        return onp.asarray(key, dtype=onp.int64)
    return key


INDEX_CASES = st.one_of(_basic(), _advanced())


@settings(max_examples=200, deadline=None)
@given(case=INDEX_CASES, dtype=st.sampled_from([F32, I32, BOOL]), seed=SEEDS,
       transposed=st.booleans())
def test_getitem(case: Any, dtype: onp.dtype, seed: int, transposed: bool) -> None:
    shape, key = case
    x = _values(seed, shape, dtype)
    if transposed and len(shape) >= 2:  # index a strided view too
        a = fnp.array(onp.ascontiguousarray(x.T)).T
    else:
        a = fnp.array(x)
    want = onp.asarray(x[_np_key(key)])
    got = a[key]
    _close(got, want, dtype, f"x{shape}[{key!r}]")


@settings(max_examples=200, deadline=None)
@given(case=INDEX_CASES, dtype=st.sampled_from([F32, I32]), seed=SEEDS,
       value_kind=st.sampled_from(["scalar", "array", "broadcast", "list"]))
def test_setitem(case: Any, dtype: onp.dtype, seed: int, value_kind: str) -> None:
    shape, key = case
    x = _values(seed, shape, dtype)
    nkey = _np_key(key)
    target = x[nkey].shape
    if value_kind == "scalar":
        value: Any = 7
        fvalue: Any = 7
    else:
        vshape = target[1:] if value_kind == "broadcast" else target
        v = _values(seed + 1, vshape, dtype, 10.0, 20.0)
        value = v.tolist() if value_kind == "list" else v
        fvalue = value if value_kind == "list" else fnp.array(v)
    want = x.copy()
    a = fnp.array(x)
    try:
        want[nkey] = value  # repeated indices: the last write wins, in NumPy and here
    except ValueError:  # e.g. [] (shape (0,)) into shape (0, 2): raised at the call here too
        with pytest.raises(ValueError):
            a[key] = fvalue
        return
    a[key] = fvalue
    got = a.asnumpy()
    assert got.dtype == dtype
    onp.testing.assert_array_equal(got, want, err_msg=f"x{shape}[{key!r}] = {value_kind}")
