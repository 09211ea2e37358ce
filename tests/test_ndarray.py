"""``ndarray`` semantics against NumPy as the oracle (API.md §1.2, §1.3, §2 items 1-7).

Most tests run under both engines (``engine_type`` fixture): the threaded engine is the default
and NaiveEngine is the synchronous oracle; the results must not depend on the engine.
"""

from __future__ import annotations

import copy
import operator
import pickle
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as onp
import pytest

import framework as mx
from framework import engine, np, npx

TIMEOUT = 10.0
F32 = onp.dtype("float32")


def _drain_errors() -> None:
    for _ in range(100):
        try:
            engine.waitall()
            return
        except Exception:
            continue


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"])
def engine_type(request: pytest.FixtureRequest) -> Iterator[str]:
    _drain_errors()
    if request.param == "ThreadedEngine" and isinstance(engine.get(), engine.ThreadedEngine):
        yield request.param  # keep the running engine (a new one would start new workers)
        _drain_errors()
        return
    prev = engine.engine_type()
    engine.set_engine_type(request.param)
    try:
        yield request.param
    finally:
        _drain_errors()
        engine.set_engine_type(prev)


def _check(x: Any, expected: onp.ndarray, dtype: Any = None) -> None:
    """``x`` is a framework array equal to ``expected`` (shape, values and dtype)."""
    assert isinstance(x, np.ndarray), type(x)
    h = x.asnumpy()
    assert h.shape == expected.shape, (h.shape, expected.shape)
    assert h.dtype == (onp.dtype(dtype) if dtype is not None else expected.dtype), h.dtype
    onp.testing.assert_array_equal(h, expected)


class Gate:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> None:
        self.started.set()
        if not self.release.wait(TIMEOUT):
            raise RuntimeError("gate never released")


# --------------------------------------------------------------------------------------------
# attributes
# --------------------------------------------------------------------------------------------

def test_attributes(engine_type: str) -> None:
    a = onp.arange(24, dtype=onp.float32).reshape(2, 3, 4)
    x = np.array(a)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert x.dtype == onp.float32 and isinstance(x.dtype, onp.dtype)
    assert x.ndim == 3
    assert x.size == 24 and isinstance(x.size, int)
    assert x.ctx == mx.cpu(0) and x.context == mx.cpu(0) and x.device == mx.cpu(0)
    assert isinstance(x.device, mx.Device)
    _check(x.T, a.T)
    _check(np.array(a[0]).T, a[0].T)
    _check(np.array([1.0, 2.0]).T, onp.array([1.0, 2.0], dtype=F32))
    assert x.grad is None
    assert len(x) == 2


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
def test_attach_grad_gives_zeros(engine_type: str, dtype: str) -> None:
    x = np.ones((2, 3), dtype=dtype)
    assert x.grad is None
    x.attach_grad()
    g = x.grad
    assert g is not None
    assert g.shape == x.shape and g.dtype == onp.dtype(dtype) and g.device == x.device
    _check(g, onp.zeros((2, 3), dtype=dtype))
    x.attach_grad(grad_req="null")
    assert x.grad is None
    with pytest.raises(ValueError):
        x.attach_grad(grad_req="sometimes")


def test_shape_and_dtype_known_while_producer_blocked() -> None:
    with engine.engine_scope("ThreadedEngine"):
        x = np.zeros((3, 4), dtype="int32")
        gate = Gate()
        engine.push(gate, writes=[x._var], device=mx.cpu(0), name="gated")
        try:
            assert gate.started.wait(TIMEOUT)
            y = x * 2.5  # queued behind the gated task
            z = (y + np.ones((4,))).sum(axis=0)
            m = x.mean()
            c = x > 1
            v = x[1]
            t = y.T
            assert y.shape == (3, 4) and y.dtype == onp.int32
            assert z.shape == (4,) and z.dtype == onp.float32
            assert m.shape == () and m.dtype == onp.float32
            assert c.shape == (3, 4) and c.dtype == onp.bool_
            assert v.shape == (4,) and v.dtype == onp.int32
            assert t.shape == (4, 3) and t.ndim == 2 and t.size == 12
            assert not gate.release.is_set()  # nothing above waited for the data
        finally:
            gate.release.set()
        _check(z, onp.full((4,), 3.0, dtype=F32))
        _check(c, onp.zeros((3, 4), dtype=bool))


def test_view_of_pending_array_sees_producer_then_later_writes() -> None:
    with engine.engine_scope("ThreadedEngine"):
        src = np.ones((4, 1000))
        gate = Gate()
        engine.push(gate, reads=[], writes=[src._var], device=mx.cpu(0), name="gated")
        try:
            x = src + 1  # pending: its buffer is filled by a task
            row = x[1]  # a view of the pending array, taken before it is computed
            row[:] = 7.0
            rows = x[2:4]
            rows += 1
        finally:
            gate.release.set()
        expected = onp.full((4, 1000), 2.0, dtype=F32)
        expected[1] = 7.0
        expected[2:4] += 1
        _check(x, expected)


# --------------------------------------------------------------------------------------------
# dtype rules (API.md §2 items 1-3)
# --------------------------------------------------------------------------------------------

def test_default_dtypes(engine_type: str) -> None:
    assert np.array([1, 2, 3]).dtype == onp.float32
    assert np.array([True, False]).dtype == onp.float32
    assert np.array([[1.5, 2.0]]).dtype == onp.float32
    assert np.array(3).dtype == onp.float32
    assert np.array(onp.array([1, 2], dtype=onp.int64)).dtype == onp.int64
    assert np.array(onp.array([1.0, 2.0])).dtype == onp.float64
    assert np.array(onp.array([True])).dtype == onp.bool_
    assert np.array([1, 2], dtype="int32").dtype == onp.int32
    for fn in (np.zeros, np.ones, np.empty):
        assert fn((2,)).dtype == onp.float32
    assert np.arange(5).dtype == onp.float32
    assert np.linspace(0, 1, 5).dtype == onp.float32
    assert np.full((2,), 3).dtype == onp.float32


def test_bool_list_is_float_and_indexes_as_integers(engine_type: str) -> None:
    # MXNet: the "mask" is float32, so it does integer indexing
    res = np.arange(5)[np.array([True, False, True, False, True])]
    _check(res, onp.array([1, 0, 1, 0, 1], dtype=F32))


def test_promotion_rules(engine_type: str) -> None:
    i32 = np.array([1, 2, 3], dtype="int32")
    f32 = np.array([1.0, 2.0, 3.0])
    f64 = np.array([1.0, 2.0, 3.0], dtype="float64")
    i64 = np.array([1, 2, 3], dtype="int64")
    assert (i32 * 2.5).dtype == onp.int32
    assert (2.5 * i32).dtype == onp.int32
    assert (i32 + 1).dtype == onp.int32
    div = i32 / 2
    assert div.dtype == onp.float32
    _check(div, onp.array([0.5, 1.0, 1.5], dtype=F32))
    assert (f32 + i32).dtype == onp.float32
    assert (i32 + f32).dtype == onp.float32
    assert (f32 + f64).dtype == onp.float64
    assert (f64 * f32).dtype == onp.float64
    assert (i32 + i64).dtype == onp.int64
    assert (f32 * 2.5).dtype == onp.float32
    assert (f64 + 1).dtype == onp.float64
    m = i32.mean()
    assert m.dtype == onp.float32 and m.shape == ()
    assert float(m) == 2.0
    assert f32.argmax().dtype == onp.int64
    assert i32.argmin().dtype == onp.int64
    for c in (f32 > 1, f32 == i32, i32 <= 2, f32 != 2.0, f32 < f64, i32 >= i64):
        assert c.dtype == onp.bool_


def test_zero_dim_results(engine_type: str) -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    for r in (x.sum(), x.max(), x.min(), x.mean(), x[0, 1], x[1][0], x.prod(), x.argmax()):
        assert isinstance(r, np.ndarray)
        assert r.shape == () and r.ndim == 0 and r.size == 1
    v = np.array([1.0, 2.0, 3.0])
    d = v @ v
    assert isinstance(d, np.ndarray) and d.shape == ()
    assert d.item() == 14.0
    assert isinstance(v[0], np.ndarray) and v[0].shape == ()
    assert isinstance(x.sum().item(), float)


# --------------------------------------------------------------------------------------------
# views and copies (API.md §2 item 4)
# --------------------------------------------------------------------------------------------

def test_first_axis_int_index_is_writable_view(engine_type: str) -> None:
    x = np.zeros((3, 4))
    v = x[0]
    v[:] = 5.0
    v[2] = 9.0
    expected = onp.zeros((3, 4), dtype=F32)
    expected[0] = 5.0
    expected[0, 2] = 9.0
    _check(x, expected)


def test_first_axis_slice_is_writable_view(engine_type: str) -> None:
    x = np.zeros((4, 3))
    v = x[1:3]
    v[0, 0] = 7.0
    v += 1
    expected = onp.zeros((4, 3), dtype=F32)
    expected[1, 0] = 7.0
    expected[1:3] += 1
    _check(x, expected)
    _check(v, expected[1:3])


def test_element_of_1d_array_is_zero_d_writable_view(engine_type: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    e = x[1]
    assert isinstance(e, np.ndarray) and e.shape == () and e.dtype == onp.float32
    e += 10.0
    x[0] += 5.0  # getitem, in-place add on the 0-d view, setitem
    _check(x, onp.array([6.0, 12.0, 3.0], dtype=F32))
    h = onp.asarray(x[2])
    assert h.shape == () and float(h) == 3.0
    i = np.array([1, 2], dtype="int32")[0]
    assert isinstance(i.item(), int) and repr(i) == "array(1, dtype=int32)"
    with pytest.raises(IndexError):
        np.array(1.0)[0]


def test_views_of_views_and_overlapping_assignment(engine_type: str) -> None:
    a = onp.arange(12, dtype=onp.float32).reshape(4, 3)
    x = np.array(a)
    inner = x[1:4][1:2][0]
    inner[:] = -1.0
    a[1:4][1:2][0] = -1.0
    _check(x, a)
    x[1:] = x[:-1]
    a[1:] = a[:-1].copy()
    _check(x, a)
    x[:] = x[::-1]
    a[:] = a[::-1].copy()
    _check(x, a)
    y = np.array(onp.arange(5, dtype=onp.float32))
    y[1:] = y[:-1]
    _check(y, onp.array([0.0, 0.0, 1.0, 2.0, 3.0], dtype=F32))


def test_setitem_zero_d_and_mask_values(engine_type: str) -> None:
    x = np.zeros((4,))
    x[2] = np.array(5.0)
    x[x > 1] = np.array([7.0])
    mask = np.array(onp.array([True, False, False, True]))
    x[mask] = np.array([1.0, 2.0])
    _check(x, onp.array([1.0, 0.0, 7.0, 2.0], dtype=F32))


def test_numpy_scalar_input_keeps_dtype(engine_type: str) -> None:
    assert np.array(onp.int64(5)).dtype == onp.int64
    assert np.array(onp.float64(0.5)).dtype == onp.float64
    assert np.array(onp.float32(0.5)).shape == ()


def test_writes_to_base_are_seen_by_view(engine_type: str) -> None:
    x = np.zeros((3, 2))
    v = x[2]
    x[:] = 4.0
    _check(v, onp.full((2,), 4.0, dtype=F32))


@pytest.mark.parametrize("key", [(slice(None), 1), slice(None, None, -1), (Ellipsis, 0),
                                 slice(None, None, 2), ([0, 2],)],
                         ids=["col", "reversed", "ellipsis_col", "step2", "advanced"])
def test_noncontiguous_index_is_copy(engine_type: str, key: Any) -> None:
    x = np.zeros((3, 4))
    c = x[key]
    c[...] = 9.0
    _check(x, onp.zeros((3, 4), dtype=F32))
    assert float(c.sum()) == 9.0 * c.size


def test_as_in_context_same_device_shares_memory(engine_type: str) -> None:
    x = np.zeros((3,))
    for y in (x.as_in_context(mx.cpu(0)), x.as_in_ctx(mx.cpu(0)), x.to_device(mx.cpu(0)),
              x.to_device("cpu(0)")):
        y[0] += 1.0
    _check(x, onp.array([4.0, 0.0, 0.0], dtype=F32))


def test_asnumpy_always_copies(engine_type: str) -> None:
    x = np.ones((3,))
    h = x.asnumpy()
    assert isinstance(h, onp.ndarray)
    h[:] = 100.0
    h2 = x.asnumpy()
    assert h2 is not h
    _check(x, onp.ones((3,), dtype=F32))


def test_copyto_array_and_device(engine_type: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    target = np.zeros((3,))
    r = x.copyto(target)
    assert r is target
    _check(target, onp.array([1.0, 2.0, 3.0], dtype=F32))
    x[0] = 10.0
    _check(target, onp.array([1.0, 2.0, 3.0], dtype=F32))  # a copy, not a view
    c = x.copyto(mx.cpu(0))
    c[1] = 0.0
    _check(x, onp.array([10.0, 2.0, 3.0], dtype=F32))
    d = x.copyto(mx.cpu(1))
    assert d.device == mx.cpu(1)
    _check(d, onp.array([10.0, 2.0, 3.0], dtype=F32))
    with pytest.raises(ValueError):
        x.copyto(np.zeros((4,)))
    t64 = np.zeros((3,), dtype="float64")
    x.copyto(t64)
    _check(t64, onp.array([10.0, 2.0, 3.0]))


def test_copy_is_independent(engine_type: str) -> None:
    x = np.array([1.0, 2.0])
    for c in (x.copy(), np.copy(x), copy.copy(x), copy.deepcopy(x), np.array(x)):
        c[0] = -1.0
    _check(x, onp.array([1.0, 2.0], dtype=F32))


def test_detach_shares_data(engine_type: str) -> None:
    x = np.zeros((2,))
    d = x.detach()
    d[0] = 3.0
    _check(x, onp.array([3.0, 0.0], dtype=F32))


# --------------------------------------------------------------------------------------------
# indexing against NumPy
# --------------------------------------------------------------------------------------------

_A = onp.arange(120, dtype=onp.float32).reshape(4, 5, 6)

_GET_KEYS: list[Any] = [
    0, -1, 3, (1, 2), (1, 2, 3), (-1, -2, -3),
    slice(None), slice(1, 3), slice(None, None, -1), slice(3, 0, -2), slice(-3, None),
    slice(10, 20), slice(None, None, 3),
    (slice(None), slice(None, None, -2)), (slice(1, None), slice(None, 2), slice(None, None, -1)),
    None, (None, 1), (1, None), (Ellipsis, 2), (1, Ellipsis), (Ellipsis, None),
    (slice(1, 3), None, Ellipsis, -1), (Ellipsis,), (),
    [0, 2], [-1, 0, 0], [[0, 1], [2, 3]], ([0, 1], [1, 2]), ([0, 1], [1, 2], [5, 4]),
    (slice(None), [1, 3]), (slice(None), [1, 3], slice(None, None, 2)),
    ([0, 2], slice(None), [1, 5]), (1, [0, 4], slice(1, 3)), (Ellipsis, [0, -1]),
    ([2], None, 3), (slice(None, None, -1), [4, 0]),
    [True, False, True, True], (slice(None), [True, False, True, False, True]),
    [],
]


def _key_id(k: Any) -> str:
    return repr(k).replace(" ", "")


@pytest.mark.parametrize("key", _GET_KEYS, ids=_key_id)
def test_getitem_basic_and_host_advanced(engine_type: str, key: Any) -> None:
    x = np.array(_A)
    expected = _A[key]
    _check(x[key], onp.asarray(expected))


def test_getitem_with_numpy_index_arrays(engine_type: str) -> None:
    x = np.array(_A)
    for key in (onp.array([3, 0, 1]), (onp.array([0, 1]), onp.array([2, 2])),
                onp.array([[1], [2]]), (slice(None), onp.array([4, 0], dtype=onp.int32)),
                _A[..., 0] > 50, onp.array([True, False, True, True]),
                (slice(None), slice(None), _A[0, 0] > 2), _A > 100):
        _check(x[key], _A[key])


def test_getitem_numpy_float_index_acts_as_int(engine_type: str) -> None:
    x = np.array(_A)
    _check(x[onp.array([0.0, 2.0])], _A[[0, 2]])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32", "float64"])
def test_getitem_with_framework_index_arrays(engine_type: str, dtype: str) -> None:
    x = np.array(_A)
    idx = np.array([2, 0, 3], dtype=dtype)
    _check(x[idx], _A[[2, 0, 3]])
    _check(x[:, idx], _A[:, [2, 0, 3]])
    _check(x[idx, 1], _A[[2, 0, 3], 1])
    _check(x[1, :, idx[:2]], _A[1, :, [2, 0]])
    two_d = np.array([[0, 1], [3, 2]], dtype=dtype)
    _check(x[two_d], _A[[[0, 1], [3, 2]]])


def test_framework_index_array_values(engine_type: str) -> None:
    x = np.array(_A)
    _check(x[np.array([-1, 0], dtype="int64")], _A[[-1, 0]])
    _check(x[np.array([1.7, 0.2])], _A[[1, 0]])  # float indices are truncated
    pending_idx = np.array([0, 1], dtype="int64") + 2  # computed by an op
    _check(x[pending_idx], _A[[2, 3]])
    _check(x[:, pending_idx, 0], _A[:, [2, 3], 0])


def test_framework_index_array_out_of_range(engine_type: str) -> None:
    """Index values that live in a framework array are data: the error may be deferred to
    the next sync point, but it is an IndexError either way."""
    x = np.array(_A)
    bad = np.array([0, 10], dtype="int64")
    with pytest.raises(IndexError):
        x[bad].asnumpy()
    _drain_errors()
    with pytest.raises(IndexError):
        x[bad] = 1.0
        x.wait_to_read()
    _drain_errors()


def test_getitem_default_float_list_array_as_index(engine_type: str) -> None:
    x = np.array(_A)
    idx = np.array([1, 3])  # float32, as MXNet makes it
    assert idx.dtype == onp.float32
    _check(x[idx], _A[[1, 3]])
    _check(x[idx, idx], _A[[1, 3], [1, 3]])


def test_getitem_with_framework_bool_masks(engine_type: str) -> None:
    x = np.array(_A)
    mask = x > 60
    assert mask.dtype == onp.bool_
    _check(x[mask], _A[_A > 60])
    row_mask = np.array(onp.array([True, False, False, True]))
    _check(x[row_mask], _A[[True, False, False, True]])
    col_mask = np.array(onp.array([False, True, True, False, True]))
    _check(x[:, col_mask], _A[:, [False, True, True, False, True]])
    _check(x[1, col_mask, 2:4], _A[1, [False, True, True, False, True], 2:4])
    none = x > 1000
    _check(x[none], _A[_A > 1000])


def test_getitem_scalar_bool_index(engine_type: str) -> None:
    x = np.array(_A[0, 0])
    _check(x[True], _A[0, 0][True])
    _check(x[False], _A[0, 0][False])


def test_getitem_zero_d_and_index_arrays(engine_type: str) -> None:
    x = np.array(_A)
    _check(x[np.array(2, dtype="int64")], _A[2])
    s = np.array(5.0)
    _check(s[()], onp.array(5.0, dtype=F32))
    _check(s[None], onp.array([5.0], dtype=F32))
    _check(s[...], onp.array(5.0, dtype=F32))


def test_getitem_of_int_dtypes_keeps_dtype(engine_type: str) -> None:
    a = onp.arange(12, dtype=onp.int64).reshape(3, 4)
    x = np.array(a)
    _check(x[1], a[1])
    _check(x[:, ::-1], a[:, ::-1])
    _check(x[[2, 0]], a[[2, 0]])
    _check(x[x > 5], a[a > 5])


@pytest.mark.parametrize("key", [4, -5, (0, 5), (0, 0, 6), (0, -7), [0, 4], ([0], [5]),
                                 (Ellipsis, 6), (slice(None), [-6])], ids=_key_id)
def test_out_of_range_index_raises_immediately(engine_type: str, key: Any) -> None:
    x = np.array(_A)
    with pytest.raises(IndexError):
        x[key]
    with pytest.raises(IndexError):
        x[key] = 1.0


def test_bad_index_types_raise(engine_type: str) -> None:
    x = np.array(_A)
    with pytest.raises(IndexError):
        x[1.5]
    with pytest.raises(IndexError):
        x["a"]
    with pytest.raises(IndexError):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError):
        x[onp.array([True, False])]  # wrong mask length


def test_getitem_does_not_alias_later_writes_of_copies(engine_type: str) -> None:
    x = np.array(_A)
    col = x[:, 1]
    adv = x[[0, 1]]
    x[:] = 0.0
    _check(col, _A[:, 1])
    _check(adv, _A[[0, 1]])


_SET_CASES: list[tuple[Any, Any]] = [
    (0, 5.0),
    (-1, onp.arange(30, dtype=onp.float32).reshape(5, 6)),
    ((1, 2), onp.arange(6, dtype=onp.float32)),
    ((slice(None), 1), 3.5),
    ((slice(None), 1), onp.arange(6, dtype=onp.float32)),  # broadcast (6,) into (4, 6)
    ((Ellipsis, 0), onp.arange(5, dtype=onp.float32)),  # broadcast (5,) into (4, 5)
    (slice(None, None, -1), onp.arange(6, dtype=onp.float32)),
    ((slice(1, 3), slice(None, None, -2)), -1.0),
    (([0, 2], 1), 7.0),
    (([0, 2], slice(None), [1, 5]), onp.ones((2, 5), dtype=onp.float32)),
    ((slice(None), [4, 0]), onp.arange(6, dtype=onp.float32)),
    (_A > 50, 0.0),
    ((slice(None), _A[0, :, 0] > 10), 2.0),
    ((None, 1), 4.0),
    (Ellipsis, onp.arange(6, dtype=onp.float32)),
    ([True, False, True, False], -2.0),
]


@pytest.mark.parametrize("case", range(len(_SET_CASES)))
@pytest.mark.parametrize("value_kind", ["host", "framework", "list"])
def test_setitem_against_numpy(engine_type: str, case: int, value_kind: str) -> None:
    key, value = _SET_CASES[case]
    if value_kind == "framework":
        val: Any = np.array(value) if isinstance(value, onp.ndarray) else value
    elif value_kind == "list":
        val = value.tolist() if isinstance(value, onp.ndarray) else value
    else:
        val = value
    expected = _A.copy()
    expected[key] = value
    x = np.array(_A)
    before = id(x)
    x[key] = val
    assert id(x) == before
    _check(x, expected)


def test_setitem_with_framework_index_arrays(engine_type: str) -> None:
    expected = _A.copy()
    x = np.array(_A)
    idx = np.array([3, 1], dtype="int64")
    fidx = np.array([0, 2])  # float32
    x[idx] = 1.0
    expected[[3, 1]] = 1.0
    x[:, fidx] = np.array(onp.arange(6, dtype=onp.float32))
    expected[:, [0, 2]] = onp.arange(6)
    x[x > 100] = -5.0
    expected[expected > 100] = -5.0
    _check(x, expected)


def test_setitem_value_dtype_cast_and_scalar_types(engine_type: str) -> None:
    x = np.zeros((3,), dtype="int32")
    x[0] = 2.7
    x[1] = onp.float64(3.2)
    x[2] = True
    _check(x, onp.array([2, 3, 1], dtype=onp.int32))
    y = np.zeros((2,))
    y[:] = np.array([1, 2], dtype="int64")
    _check(y, onp.array([1.0, 2.0], dtype=F32))


def test_setitem_shape_mismatch_raises(engine_type: str) -> None:
    x = np.zeros((3, 4))
    with pytest.raises(ValueError):
        x[0] = np.ones((3,))
    with pytest.raises(ValueError):
        x[:] = onp.ones((2, 4))
    _check(x, onp.zeros((3, 4), dtype=F32))


def test_setitem_value_from_other_device(engine_type: str) -> None:
    x = np.zeros((3,))
    x[1:] = np.array([4.0, 5.0], device=mx.cpu(1))
    _check(x, onp.array([0.0, 4.0, 5.0], dtype=F32))


def test_setitem_value_is_snapshotted(engine_type: str) -> None:
    x = np.zeros((3,))
    v = np.ones((3,))
    x[:] = v
    v[:] = 7.0  # ordered after the setitem that read v
    _check(x, onp.ones((3,), dtype=F32))
    _check(v, onp.full((3,), 7.0, dtype=F32))


def test_setitem_full_slice_keeps_identity(engine_type: str) -> None:
    x = np.zeros((2, 2))
    ref = x
    x[:] = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert x is ref
    x[...] = x * 2
    _check(ref, onp.array([[2.0, 4.0], [6.0, 8.0]], dtype=F32))


# --------------------------------------------------------------------------------------------
# Python protocol: len, iter, bool, float, int, index, hash, repr, str, format
# --------------------------------------------------------------------------------------------

def test_len_and_iteration(engine_type: str) -> None:
    a = onp.arange(6, dtype=onp.float32).reshape(3, 2)
    x = np.array(a)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    for r, e in zip(rows, a):
        _check(r, e)
    items = list(np.array([1.0, 2.0]))
    assert all(isinstance(i, np.ndarray) and i.shape == () for i in items)
    assert [float(i) for i in items] == [1.0, 2.0]
    assert len(np.zeros((0, 3))) == 0 and list(np.zeros((0, 3))) == []
    z = np.array(1.0)
    with pytest.raises(TypeError):
        len(z)
    with pytest.raises(TypeError):
        iter(z).__next__()


def test_bool_rules(engine_type: str) -> None:
    assert bool(np.array([1.0])) is True
    assert bool(np.array(0.0)) is False
    assert bool(np.array([[2]], dtype="int32")) is True
    assert bool(np.array(onp.array([False]))) is False
    with pytest.raises(ValueError):
        bool(np.array([1.0, 2.0]))
    with pytest.warns(DeprecationWarning):
        assert bool(np.zeros((0,))) is False
    with pytest.raises(ValueError):
        if np.ones((2, 2)):
            pass


def test_scalar_conversions(engine_type: str) -> None:
    assert float(np.array([2.5])) == 2.5
    assert float(np.array(2.5)) == 2.5
    assert int(np.array([[3.9]])) == 3
    assert int(np.array(-3.9)) == -3
    assert complex(np.array(1.0)) == 1 + 0j
    for fn in (float, int):
        with pytest.raises(TypeError):
            fn(np.array([1.0, 2.0]))
        with pytest.raises(TypeError):
            fn(np.zeros((0,)))
    i = np.array(2, dtype="int64")
    assert operator.index(i) == 2
    assert [10, 20, 30][i] == 30
    assert list(range(10))[np.array([3], dtype="int32")] == 3
    assert "abcd"[np.array(1, dtype="int32"):] == "bcd"
    with pytest.raises(TypeError):
        operator.index(np.array(2.0))
    with pytest.raises(TypeError):
        operator.index(np.array([1, 2], dtype="int32"))


def test_item_and_tolist(engine_type: str) -> None:
    assert np.array([4.0]).item() == 4.0
    assert isinstance(np.array([4.0]).item(), float)
    assert isinstance(np.array([4], dtype="int32").item(), int)
    assert isinstance(np.array(onp.array([True])).item(), bool)
    with pytest.raises(ValueError, match="size 1"):
        np.array([1.0, 2.0]).item()
    assert np.array([[1.0, 2.0]]).item(1) == 2.0
    assert np.array([[1, 2], [3, 4]], dtype="int32").tolist() == [[1, 2], [3, 4]]
    assert np.array(1.5).tolist() == 1.5


def test_hash_raises(engine_type: str) -> None:
    x = np.array([1.0])
    with pytest.raises(NotImplementedError):
        hash(x)
    with pytest.raises(NotImplementedError):
        {x: 1}  # noqa: B018


def _mxnet_repr(a: onp.ndarray) -> str:
    """MXNet 1.9.1's ``ndarray.__repr__`` over NumPy's repr (python/mxnet/numpy/multiarray.py)."""
    s = repr(a)
    if "dtype=" in s:
        if a.dtype == onp.float32:
            s = s[:s.rindex(",")] + ")"
    elif a.dtype not in (onp.float32, onp.bool_):
        s = s[:-1] + f", dtype={a.dtype})"
    return s


@pytest.mark.parametrize("host", [
    onp.array([1.0, 2.0], dtype=onp.float32),
    onp.array([1, 2], dtype=onp.int32),
    onp.array([1, 2], dtype=onp.int64),
    onp.array([True, False]),
    onp.array(3.0, dtype=onp.float32),
    onp.array(3, dtype=onp.int64),
    onp.array([1.0, 2.0], dtype=onp.float64),
    onp.array([1.5, 2.25], dtype=onp.float16),
    onp.array([1, 255], dtype=onp.uint8),
    onp.array([-1, 2], dtype=onp.int8),
    onp.arange(6, dtype=onp.float32).reshape(2, 3) / 7,
    onp.arange(24, dtype=onp.int32).reshape(2, 3, 4),
    onp.zeros((0,), dtype=onp.float32),
    onp.zeros((0, 3), dtype=onp.float32),
    onp.zeros((0,), dtype=onp.int64),
    onp.array([onp.nan, onp.inf, -0.0], dtype=onp.float32),
], ids=lambda h: f"{h.dtype}{h.shape}")
def test_repr_matches_mxnet(engine_type: str, host: onp.ndarray) -> None:
    assert repr(np.array(host)) == _mxnet_repr(host)


def test_repr_examples(engine_type: str) -> None:
    assert repr(np.array([1, 2])) == "array([1., 2.])"
    assert repr(np.array([1, 2], dtype="int32")) == "array([1, 2], dtype=int32)"
    assert repr(np.array([1, 2], dtype="int64")) == "array([1, 2], dtype=int64)"
    assert repr(np.array(onp.array([True, False]))) == "array([ True, False])"
    assert repr(np.array(3.0)) == "array(3.)"
    assert repr(np.array([[1.0, 2.0], [3.0, 4.0]])) == "array([[1., 2.],\n       [3., 4.]])"
    assert repr(np.array([1.0], device=mx.cpu(1))) == "array([1.])"
    long = repr(np.arange(2000))
    assert long.startswith("array([0.000e+00,") and "..." in long and "dtype" not in long


def test_str_and_format(engine_type: str) -> None:
    a = onp.arange(6, dtype=onp.float32).reshape(2, 3) / 3
    x = np.array(a)
    assert str(x) == str(a)
    assert str(np.array(2.5)) == "2.5"
    assert str(np.array([1, 2], dtype="int32")) == "[1 2]"
    assert format(np.array(3.14159), ".2f") == "3.14"
    assert f"{np.array(7, dtype='int32'):03d}" == "007"
    assert f"{np.array(2.0)}" == "2.0"
    assert format(x, "") == str(a)
    with pytest.raises(TypeError):
        format(x, ".2f")


# --------------------------------------------------------------------------------------------
# NumPy interop
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow, operator.eq, operator.lt, operator.matmul],
                         ids=lambda f: f.__name__)
def test_mixing_with_numpy_raises_type_error(engine_type: str, op: Any) -> None:
    x = np.ones((3,))
    h = onp.ones((3,), dtype=onp.float32)
    with pytest.raises(TypeError):
        op(x, h)
    with pytest.raises(TypeError):
        op(h, x)


def test_in_place_with_numpy_raises(engine_type: str) -> None:
    x = np.ones((3,))
    with pytest.raises(TypeError):
        x += onp.ones((3,))
    h = onp.ones((3,))
    with pytest.raises(TypeError):
        h += x
    _check(x, onp.ones((3,), dtype=F32))


def test_numpy_functions_dispatch_to_framework(engine_type: str) -> None:
    a = onp.array([[1.0, 2.0], [3.0, 4.0]], dtype=onp.float32)
    x = np.array(a)
    s = onp.sum(x)
    assert isinstance(s, np.ndarray) and s.shape == ()
    assert float(s) == 10.0
    e = onp.exp(x)
    assert isinstance(e, np.ndarray)
    onp.testing.assert_allclose(e.asnumpy(), onp.exp(a), rtol=1e-6)
    m = onp.mean(x, axis=0)
    assert isinstance(m, np.ndarray)
    _check(m, a.mean(axis=0))
    t = onp.transpose(x)
    assert isinstance(t, np.ndarray)
    _check(t, a.T)
    mx_ = onp.maximum(x, 2.5)
    assert isinstance(mx_, np.ndarray)
    _check(mx_, onp.maximum(a, onp.float32(2.5)))
    with pytest.raises(TypeError):
        onp.add(x, a)


def test_numpy_asarray_and_array(engine_type: str) -> None:
    a = onp.arange(6, dtype=onp.int32).reshape(2, 3)
    x = np.array(a)
    h = onp.asarray(x)
    assert type(h) is onp.ndarray and h.dtype == onp.int32
    onp.testing.assert_array_equal(h, a)
    h2 = onp.array(x)
    assert type(h2) is onp.ndarray
    onp.testing.assert_array_equal(h2, a)
    h2[0, 0] = 99
    assert int(x[0, 0]) == 0  # numpy.array copies
    f = onp.asarray(x, dtype=onp.float64)
    assert f.dtype == onp.float64
    onp.testing.assert_array_equal(f, a)


def test_dunder_array_copy_semantics(engine_type: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    shared = x.__array__(copy=False)
    assert isinstance(shared, onp.ndarray)
    shared[0] = 50.0
    assert float(x[0]) == 50.0  # no copy was made
    copied = x.__array__(copy=True)
    copied[1] = -1.0
    assert float(x[1]) == 2.0
    with pytest.raises(ValueError):
        x.__array__(dtype=onp.float64, copy=False)
    assert x.__array__(dtype=onp.float64).dtype == onp.float64
    h = onp.asarray(x, copy=True)
    h[2] = 0.0
    assert float(x[2]) == 3.0


# --------------------------------------------------------------------------------------------
# DLPack
# --------------------------------------------------------------------------------------------

def test_numpy_from_dlpack_shares_memory(engine_type: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    y = x * 2  # possibly pending: from_dlpack syncs
    h = onp.from_dlpack(y)
    onp.testing.assert_array_equal(h, [2.0, 4.0, 6.0])
    h[0] = 42.0
    assert y.asnumpy()[0] == 42.0
    assert y.__dlpack_device__() == (1, 0)
    x2 = np.zeros((3, 2))
    row = onp.from_dlpack(x2[1])
    row[:] = 3.0
    _check(x2, onp.array([[0.0, 0.0], [3.0, 3.0], [0.0, 0.0]], dtype=F32))
    e = onp.from_dlpack(x2[1][0])
    assert e.shape == () and float(e) == 3.0


def test_dlpack_export_waits_for_pending_readers() -> None:
    """A DLPack consumer may write: the export waits for queued readers (write-after-read)."""
    with engine.engine_scope("ThreadedEngine"):
        x = np.ones((4,))
        gate = Gate()
        seen: list[float] = []

        def reader() -> None:
            gate()
            seen.append(float(x._buf.sum()))

        engine.push(reader, reads=[x._var], device=mx.cpu(1), name="slow_reader")
        try:
            assert gate.started.wait(TIMEOUT)
            box: list[onp.ndarray] = []
            t = threading.Thread(target=lambda: box.append(onp.from_dlpack(x)), daemon=True)
            t.start()
            t.join(0.2)
            assert t.is_alive(), "from_dlpack returned while a reader was still queued"
        finally:
            gate.release.set()
        t.join(TIMEOUT)
        assert not t.is_alive()
        box[0][:] = 5.0
        mx.waitall()
        assert seen == [4.0]
        assert float(x.sum()) == 20.0


def test_framework_from_dlpack_shares_memory(engine_type: str) -> None:
    a = onp.arange(4, dtype=onp.float64)
    y = np.from_dlpack(a)
    assert isinstance(y, np.ndarray)
    assert y.dtype == onp.float64 and y.shape == (4,)
    a[0] = 9.0
    assert float(y[0]) == 9.0
    y[1] = -3.0
    y.wait_to_read()
    assert a[1] == -3.0


def test_dlpack_round_trip_between_framework_arrays(engine_type: str) -> None:
    x = np.array([[1, 2], [3, 4]], dtype="int32")
    y = np.from_dlpack(x)
    _check(y, onp.array([[1, 2], [3, 4]], dtype=onp.int32))
    y[0, 0] = 100
    y.wait_to_read()
    assert int(x[0, 0]) == 100


def test_torch_dlpack_round_trip(engine_type: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.array([1.0, 2.0, 3.0])
    t = torch.from_dlpack(x)
    assert t.tolist() == [1.0, 2.0, 3.0]
    t[0] = 7.0
    assert float(x[0]) == 7.0
    back = np.from_dlpack(torch.arange(3, dtype=torch.float32))
    _check(back, onp.arange(3, dtype=F32))


# --------------------------------------------------------------------------------------------
# pickling
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("device_id", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_pickle_round_trip(engine_type: str, device_id: int, dtype: str) -> None:
    a = (onp.arange(6).reshape(2, 3) % 2).astype(dtype)
    x = np.array(a, device=mx.cpu(device_id))
    y = pickle.loads(pickle.dumps(x))
    assert isinstance(y, np.ndarray)
    assert y.device == mx.cpu(device_id)
    _check(y, a)
    y[0, 0] = 1
    _check(x, a)  # independent copy


def test_pickle_zero_d_and_pending(engine_type: str) -> None:
    x = np.array(2.5) * 2
    y = pickle.loads(pickle.dumps(x))
    assert y.shape == () and float(y) == 5.0
    z = pickle.loads(pickle.dumps([np.ones((2,)), {"k": np.zeros((1,), dtype="int32")}]))
    _check(z[0], onp.ones((2,), dtype=F32))
    _check(z[1]["k"], onp.zeros((1,), dtype=onp.int32))


# --------------------------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------------------------

def test_device_scope_sets_creation_device(engine_type: str) -> None:
    assert mx.current_device() == mx.cpu(0)
    with mx.cpu(1):
        assert mx.current_device() == mx.cpu(1)
        made = [np.zeros(3), np.ones((2,)), np.empty((2,)), np.full((2,), 4.0), np.arange(3),
                np.array([1, 2]), np.linspace(0, 1, 3), np.eye(2), np.zeros_like(np.ones(2))]
        for a in made:
            assert a.device == mx.cpu(1)
        y = made[0] + 1
        assert y.device == mx.cpu(1)
        with mx.cpu(2):
            assert np.zeros(1).device == mx.cpu(2)
        assert np.zeros(1).device == mx.cpu(1)
        _check(y, onp.ones((3,), dtype=F32))
    assert np.zeros(3).device == mx.cpu(0)
    assert mx.current_context() == mx.cpu(0)


def test_device_scope_is_per_thread() -> None:
    seen: list[mx.Device] = []
    inside = threading.Event()
    checked = threading.Event()

    def other() -> None:
        assert inside.wait(TIMEOUT)
        seen.append(mx.current_device())
        seen.append(np.zeros(1).device)
        checked.set()

    t = threading.Thread(target=other)
    t.start()
    with mx.cpu(1):
        inside.set()
        assert checked.wait(TIMEOUT)
    t.join(TIMEOUT)
    assert seen == [mx.cpu(0), mx.cpu(0)]


def test_creation_device_keywords(engine_type: str) -> None:
    assert np.zeros(2, ctx=mx.cpu(1)).device == mx.cpu(1)
    assert np.zeros(2, device=mx.cpu(1)).ctx == mx.cpu(1)
    assert np.array([1.0], ctx=mx.cpu(2)).context == mx.cpu(2)
    assert np.ones(2, device="cpu(1)").device == mx.cpu(1)


def test_ops_on_different_devices_raise(engine_type: str) -> None:
    a = np.ones((3,))
    b = np.ones((3,), device=mx.cpu(1))
    for fn in (lambda: a + b, lambda: b * a, lambda: np.dot(a, b), lambda: a @ b,
               lambda: np.concatenate([a, b]), lambda: np.maximum(a, b)):
        with pytest.raises(mx.FrameworkError) as info:
            fn()
        msg = str(info.value)
        assert "cpu(0)" in msg and "cpu(1)" in msg, msg
    with pytest.raises(IndexError, match="cpu"):
        a[np.array([0], dtype="int64", device=mx.cpu(1))]


def test_as_in_context_other_device_copies(engine_type: str) -> None:
    x = np.array([1.0, 2.0, 3.0])
    y = x.as_in_context(mx.cpu(1))
    assert y.device == mx.cpu(1) and y.context == mx.cpu(1)
    assert y.dtype == x.dtype and y.shape == x.shape
    _check(y, onp.array([1.0, 2.0, 3.0], dtype=F32))
    y[0] = -1.0
    x[1] = -2.0
    _check(x, onp.array([1.0, -2.0, 3.0], dtype=F32))
    _check(y, onp.array([-1.0, 2.0, 3.0], dtype=F32))
    z = (y * 2).as_in_ctx(mx.cpu(0)) + x
    assert z.device == mx.cpu(0)
    _check(z, onp.array([-1.0, 2.0, 9.0], dtype=F32))
    assert x.to_device("cpu(1)").device == mx.cpu(1)


def test_cross_device_pipeline_is_ordered(engine_type: str) -> None:
    x = np.zeros((256, 256))
    for i in range(6):
        dev = mx.cpu(i % 2)
        x = x.as_in_context(dev) + 1
        assert x.device == dev
    _check(x, onp.full((256, 256), 6.0, dtype=F32))


def test_device_objects() -> None:
    assert mx.cpu(0) == mx.cpu() == mx.Device("cpu", 0) == mx.Context("cpu", 0)
    assert mx.cpu(1) != mx.cpu(0)
    assert hash(mx.cpu(1)) == hash(mx.Device("cpu", 1))
    assert repr(mx.cpu(1)) == "cpu(1)" and repr(mx.gpu(2)) == "gpu(2)"
    assert mx.gpu(0).device_typeid == 2 and mx.cpu(0).device_typeid == 1
    assert npx.num_gpus() == mx.num_gpus() >= 0


_needs_gpu = pytest.mark.skipif(mx.num_gpus() == 0, reason="needs a CUDA GPU and CuPy")


@pytest.mark.gpu
@_needs_gpu
def test_gpu_array_basics() -> None:
    a = onp.arange(6, dtype=onp.float32).reshape(2, 3)
    g = np.array(a, device=mx.gpu(0))
    assert g.device == mx.gpu(0)
    _check(g * 2 + 1, a * 2 + 1)
    _check(g[1], a[1])
    _check(g[:, ::-1], a[:, ::-1])
    assert repr(np.array([1.0], device=mx.gpu(0))).endswith("device=gpu(0))")
    back = g.as_in_context(mx.cpu(0))
    assert back.device == mx.cpu(0)
    _check(back, a)
    with pytest.raises(mx.FrameworkError):
        g + np.array(a)
    with mx.gpu(0):
        assert np.zeros(2).device == mx.gpu(0)
    y = pickle.loads(pickle.dumps(g))
    assert y.device == mx.gpu(0)
    _check(y, a)
    assert g.__dlpack_device__() == (2, 0)


@pytest.mark.skipif(mx.num_gpus() > 0, reason="checks the error without a GPU")
def test_gpu_without_gpu_raises_clear_error() -> None:
    with pytest.raises(RuntimeError, match="gpu"):
        np.zeros(2, device=mx.gpu(0))


# --------------------------------------------------------------------------------------------
# in-place operators
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op,iop", [
    (operator.add, operator.iadd), (operator.sub, operator.isub),
    (operator.mul, operator.imul), (operator.truediv, operator.itruediv),
    (operator.floordiv, operator.ifloordiv), (operator.mod, operator.imod),
    (operator.pow, operator.ipow)], ids=lambda f: f.__name__)
@pytest.mark.parametrize("other_kind", ["scalar", "array", "broadcast"])
def test_in_place_ops_keep_identity(engine_type: str, op: Any, iop: Any,
                                    other_kind: str) -> None:
    a = onp.arange(1, 7, dtype=onp.float32).reshape(2, 3)
    if other_kind == "scalar":
        o_host: Any = 2.0
        o: Any = 2.0
    elif other_kind == "array":
        o_host = onp.full((2, 3), 3.0, dtype=onp.float32)
        o = np.array(o_host)
    else:
        o_host = onp.array([1.0, 2.0, 4.0], dtype=onp.float32)
        o = np.array(o_host)
    x = np.array(a)
    ref = x
    x = iop(x, o)
    assert x is ref
    onp.testing.assert_allclose(x.asnumpy(), op(a, o_host), rtol=1e-6)
    assert x.dtype == onp.float32


def test_in_place_int_ops(engine_type: str) -> None:
    x = np.array([1, 2, 3], dtype="int32")
    ref = x
    x += 2
    x *= 3
    x -= np.array([1, 1, 1], dtype="int32")
    x //= 2
    x %= 5
    assert x is ref and x.dtype == onp.int32
    h = onp.array([1, 2, 3], dtype=onp.int32)
    h = ((((h + 2) * 3) - 1) // 2) % 5
    _check(x, h)
    b = np.array([1, 2, 3], dtype="int32")
    b &= 1
    b |= 4
    b ^= 1
    _check(b, ((onp.array([1, 2, 3], dtype=onp.int32) & 1) | 4) ^ 1)


def test_in_place_on_view_updates_base(engine_type: str) -> None:
    x = np.zeros((3, 2))
    v = x[1]
    v += 5.0
    w = x[0:1]
    w *= 0.0
    w -= 1.0
    _check(x, onp.array([[-1.0, -1.0], [5.0, 5.0], [0.0, 0.0]], dtype=F32))


def test_in_place_broadcast_to_larger_shape_raises(engine_type: str) -> None:
    x = np.ones((3,))
    with pytest.raises(ValueError):
        x += np.ones((2, 3))
    _check(x, onp.ones((3,), dtype=F32))


def test_in_place_keeps_attached_grad(engine_type: str) -> None:
    w = np.ones((3,))
    w.attach_grad()
    g = w.grad
    w -= 0.5 * np.ones((3,))
    assert w.grad is g
    _check(w, onp.full((3,), 0.5, dtype=F32))


def test_in_place_ordering_with_readers(engine_type: str) -> None:
    x = np.ones((500, 500))
    y = x * 2  # reads x before the update below
    x += 10
    z = x * 2
    _check(y, onp.full((500, 500), 2.0, dtype=F32))
    _check(z, onp.full((500, 500), 22.0, dtype=F32))


def test_many_small_updates_exact(engine_type: str) -> None:
    x = np.zeros((4,))
    for _ in range(100):
        x += 1
    _check(x, onp.full((4,), 100.0, dtype=F32))


def test_no_warnings_for_normal_use(engine_type: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.array([1.0, 2.0])
        repr(x)
        str(x)
        bool(x[0])
        float(x.sum())
