"""framework.test_utils: MXNet's public test helpers, checked against closed-form oracles."""

from __future__ import annotations

import importlib.util
import os

import numpy
import pytest

import framework as mx
from framework import _config, np
from framework import test_utils as tu
from framework.engine import engine_scope

SEED = 1234


@pytest.fixture(autouse=True)
def _seeded() -> None:
    numpy.random.seed(SEED)


@pytest.fixture
def restore_default_device():
    before = mx.current_device()  # outside any `with dev:`, this is the process default
    yield before
    tu.set_default_device(before)


def test_public_names() -> None:
    assert mx.test_utils is tu
    for name in tu.__all__:
        assert callable(getattr(tu, name)), name
    for name in ("assert_almost_equal", "check_numeric_gradient", "numeric_grad", "environment",
                 "set_default_context", "default_context", "use_np", "collapse_sum_like"):
        assert name in tu.__all__


# -- tolerances -----------------------------------------------------------------------------------
def test_default_dtype_and_tolerance_tables() -> None:
    assert tu.default_dtype() is numpy.float32
    assert np.array([1, 2]).dtype == tu.default_dtype()
    rt, at = tu.default_rtols(), tu.default_atols()
    f16, f32, f64 = (numpy.dtype(t) for t in ("float16", "float32", "float64"))
    assert rt[f16] > rt[f32] > rt[f64]
    assert at[f16] > at[f32] > at[f64]
    assert rt[numpy.dtype("int32")] == at[numpy.dtype("int32")] == 0
    assert rt[numpy.dtype("bool")] == 0


def test_get_tols_depends_on_dtype_and_takes_the_looser() -> None:
    x16 = np.zeros(3, dtype="float16")
    x32 = np.zeros(3)
    x64 = numpy.zeros(3)
    assert tu.get_tols(x32, x32, None, None) == (1e-4, 1e-3)
    assert tu.get_tols(x64, x64, None, None) == (1e-5, 1e-20)
    assert tu.get_tols(x16, x16, None, None) == (1e-2, 1e-1)
    assert tu.get_tols(x16, x64, None, None) == (1e-2, 1e-1)  # the looser of the two
    assert tu.get_tols(np.zeros(2, dtype="int32"), [1, 2], None, None) == (0.0, 0.0)
    # a number wins; a dict is looked up by dtype and falls back to the default
    assert tu.get_tols(x32, x32, 0.5, 0.25) == (0.5, 0.25)
    assert tu.get_tolerance(x32, {numpy.float32: 0.3}, tu.default_rtols()) == 0.3
    assert tu.get_tolerance(x64, {numpy.float32: 0.3}, tu.default_rtols()) == 1e-5
    assert tu.get_rtol(None, numpy.float16) == 1e-2 and tu.get_rtol(0.7) == 0.7
    assert tu.get_atol(None, numpy.float32) == 1e-3 and tu.get_atol(0.7) == 0.7


def test_effective_dtype_on_cpu_is_the_dtype() -> None:
    for dt in ("float16", "float32", "float64", "int32"):
        assert tu.effective_dtype(np.zeros(2, dtype=dt)) == numpy.dtype(dt)
    assert tu.effective_dtype(numpy.zeros(2, numpy.float64)) == numpy.float64
    assert tu.effective_dtype(1.5) == numpy.float64


def test_default_numeric_eps_are_exact_powers_of_two() -> None:
    for dt, eps in tu.default_numeric_eps().items():
        assert numpy.log2(eps) == int(numpy.log2(eps))
        assert eps > numpy.finfo(dt).eps


# -- comparisons ----------------------------------------------------------------------------------
def test_assert_almost_equal_passes_within_tolerance() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    ref = x.asnumpy().astype(numpy.float64)
    tu.assert_almost_equal(x, ref)
    tu.assert_almost_equal(x, ref * (1 + 5e-5))  # inside float32's rtol 1e-4
    tu.assert_almost_equal(x, x)
    tu.assert_almost_equal(x, x.asnumpy().tolist())
    tu.assert_almost_equal(np.array(2.0).sum(), 2)  # 0-d array against a Python number
    assert tu.almost_equal(x, ref + 5e-4)  # atol 1e-3 covers small absolute errors


def test_assert_almost_equal_reports_the_worst_mismatches() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    ref = x.asnumpy()
    ref[0, 2] = 3.5
    ref[1, 1] = 5.01
    with pytest.raises(AssertionError) as info:
        tu.assert_almost_equal(x, ref, names=("out", "expected"))
    msg = str(info.value)
    assert "2 of 6 elements" in msg
    assert "rtol=0.0001" in msg and "atol=0.001" in msg
    assert "out" in msg and "expected" in msg
    # the worst mismatch comes first, with its index and both values
    first, second = msg.index("at (0, 2)"), msg.index("at (1, 1)")
    assert first < second
    assert "out=3." in msg and "expected=3.5" in msg
    # mismatches[0] limits how many are listed
    with pytest.raises(AssertionError) as info:
        tu.assert_almost_equal(x, ref, mismatches=(1, 10))
    assert "at (0, 2)" in str(info.value) and "at (1, 1)" not in str(info.value)
    assert not tu.almost_equal(x, ref)


def test_tolerance_follows_the_dtype() -> None:
    ref = numpy.array([1.0, 2.0, 3.0], dtype=numpy.float16)
    off = ref * numpy.float16(1.004)  # 0.4% off: fine for float16, not for float32
    tu.assert_almost_equal(np.array(off, dtype="float16"), ref)
    assert tu.almost_equal(off, ref)
    assert not tu.almost_equal(off.astype(numpy.float32), ref.astype(numpy.float32))
    with pytest.raises(AssertionError, match="rtol=0.0001"):
        tu.assert_almost_equal(np.array(off, dtype="float32"), ref.astype(numpy.float32))
    # explicit tolerances override the dtype's, and a dict is looked up by dtype
    tu.assert_almost_equal(off.astype(numpy.float32), ref.astype(numpy.float32), rtol=1e-2)
    tu.assert_almost_equal(off.astype(numpy.float32), ref.astype(numpy.float32),
                           rtol={numpy.float32: 1e-2})
    # integers compare exactly
    with pytest.raises(AssertionError, match="rtol=0, atol=0"):
        tu.assert_almost_equal(np.array([1, 2, 3], dtype="int32"), numpy.array([1, 2, 4]))


def test_nan_and_inf_handling() -> None:
    a = numpy.array([1.0, numpy.nan, numpy.inf, -numpy.inf])
    assert not tu.almost_equal(a, a)
    assert tu.almost_equal(a, a, equal_nan=True)
    with pytest.raises(AssertionError, match=r"at \(1,\)"):
        tu.assert_almost_equal(a, a)
    tu.assert_almost_equal(np.array(a, dtype="float64"), a, equal_nan=True)
    assert not tu.almost_equal(numpy.array([numpy.inf]), numpy.array([1e300]))
    assert not tu.almost_equal(numpy.array([1.0]), numpy.array([numpy.inf]))
    assert tu.almost_equal_ignore_nan(numpy.array([1.0, numpy.nan]), numpy.array([1.0, 5.0]))
    tu.assert_almost_equal_ignore_nan(numpy.array([numpy.nan, 2.0]), numpy.array([3.0, 2.0]))
    with pytest.raises(AssertionError):
        tu.assert_almost_equal_ignore_nan(numpy.array([numpy.nan, 2.0]), numpy.array([3.0, 9.0]))


def test_broadcasting_and_shapes() -> None:
    a = np.ones((2, 3))
    assert tu.almost_equal(a, numpy.ones(3))
    assert not tu.almost_equal(a, numpy.ones(3), use_broadcast=False)
    assert not tu.almost_equal(a, numpy.ones(2))  # does not broadcast: not equal, no crash
    with pytest.raises(AssertionError, match=r"shape = \(2, 3\).*\(3,\) are not equal"):
        tu.assert_almost_equal(a, numpy.ones(3), use_broadcast=False)
    with pytest.raises(AssertionError, match="do not broadcast"):
        tu.assert_almost_equal(a, numpy.ones(2))
    with pytest.raises(AssertionError, match=r"shapes \(2, 3\) and \(3,\), broadcast to"):
        tu.assert_almost_equal(a, numpy.array([1.0, 2.0, 1.0]))


def test_bool_arrays_compare() -> None:
    m = np.array(numpy.array([True, False]))
    tu.assert_almost_equal(m, numpy.array([True, False]))
    assert not tu.almost_equal(m, numpy.array([True, True]))


def test_assert_allclose_is_strict_by_default() -> None:
    tu.assert_allclose(numpy.array([1.0, numpy.nan]), numpy.array([1.0, numpy.nan]))
    with pytest.raises(AssertionError, match="rtol=1e-07, atol=0"):
        tu.assert_allclose(numpy.array([1.0]), numpy.array([1.0 + 1e-6]))
    tu.assert_allclose(numpy.array([1.0]), numpy.array([1.0 + 1e-6]), rtol=1e-5)


def test_find_max_violation() -> None:
    idx, err = tu.find_max_violation(numpy.array([[1.0, 2.0], [3.0, 4.0]]),
                                     numpy.array([[1.0, 2.1], [3.0, 4.0]]), rtol=0.01, atol=0)
    assert idx == (0, 1)
    assert err == pytest.approx(0.1 / (0.01 * 2.1))
    assert tu.find_max_violation(numpy.array([1, 2]), numpy.array([1, 3]))[1] == numpy.inf


def test_same_is_exact() -> None:
    x = np.arange(6).reshape(2, 3)
    assert tu.same(x, numpy.arange(6, dtype=numpy.float32).reshape(2, 3))
    assert tu.same(x, x.copy())
    assert not tu.same(x, x + 1e-6)
    assert not tu.same(x, numpy.arange(6))  # same values, different shape
    assert not tu.same(numpy.array([numpy.nan]), numpy.array([numpy.nan]))


def test_assert_exception() -> None:
    exc = tu.assert_exception(np.zeros(3).reshape, mx.MXNetError, (4,))
    assert isinstance(exc, mx.MXNetError)
    assert isinstance(tu.assert_exception(int, ValueError, "x"), ValueError)
    with pytest.raises(AssertionError, match="did not raise ValueError"):
        tu.assert_exception(int, ValueError, "3")
    with pytest.raises(TypeError):  # a different exception propagates
        tu.assert_exception(int, ValueError, None)
    assert isinstance(tu.assert_exception(int, (KeyError, ValueError), "x"), ValueError)


# -- random data ----------------------------------------------------------------------------------
def test_rand_shapes() -> None:
    for _ in range(50):
        s2 = tu.rand_shape_2d(3, 4)
        s3 = tu.rand_shape_3d(2, 3, 4)
        sn = tu.rand_shape_nd(5, dim=3)
        assert len(s2) == 2 and 1 <= s2[0] <= 3 and 1 <= s2[1] <= 4
        assert len(s3) == 3 and all(1 <= d <= m for d, m in zip(s3, (2, 3, 4)))
        assert len(sn) == 5 and all(1 <= d <= 3 for d in sn)
        assert all(type(d) is int for d in sn + s2 + s3)
    zero_sized = [tu.rand_shape_nd(3, dim=1, allow_zero_size=True) for _ in range(50)]
    assert any(0 in s for s in zero_sized)
    assert all(0 <= d <= 1 for s in zero_sized for d in s)
    numpy.random.seed(7)
    first = tu.rand_shape_nd(4)
    numpy.random.seed(7)
    assert tu.rand_shape_nd(4) == first


def test_rand_ndarray_shape_dtype_device() -> None:
    x = tu.rand_ndarray((3, 4))
    assert isinstance(x, np.ndarray)
    assert x.shape == (3, 4) and x.dtype == numpy.float32 and x.device == mx.cpu()
    y = tu.rand_ndarray(5, dtype="float64", device=mx.cpu(1))
    assert y.shape == (5,) and y.dtype == numpy.float64 and y.device == mx.cpu(1)
    assert tu.rand_ndarray((2, 2), ctx=mx.cpu(1)).device == mx.cpu(1)
    assert tu.rand_ndarray((0, 3)).shape == (0, 3)
    assert tu.rand_ndarray(()).shape == ()
    big = tu.rand_ndarray((100, 100)).asnumpy()
    assert abs(big.mean()) < 0.05 and abs(big.std() - 1) < 0.05  # standard normal
    numpy.random.seed(3)
    a = tu.rand_ndarray((4,))
    numpy.random.seed(3)
    assert tu.same(a, tu.rand_ndarray((4,)))
    pos = tu.rand_ndarray((10,), modifier_func=abs)
    assert (pos.asnumpy() >= 0).all()
    for stype in ("csr", "row_sparse"):
        with pytest.raises(NotImplementedError, match="stype"):
            tu.rand_ndarray((2, 2), stype=stype, density=0.5)
    arrays = tu.random_arrays((2, 3), (4,))
    assert [a.shape for a in arrays] == [(2, 3), (4,)]
    assert all(a.dtype == numpy.float32 for a in arrays)


# -- devices --------------------------------------------------------------------------------------
def test_set_default_device_changes_where_arrays_go(restore_default_device) -> None:
    assert tu.default_device() == restore_default_device == tu.default_context()
    tu.set_default_device(mx.cpu(1))
    assert tu.default_device() == mx.cpu(1)
    assert np.zeros(3).device == mx.cpu(1)
    assert tu.rand_ndarray((2,)).device == mx.cpu(1)
    with mx.cpu(2):  # a `with` scope still wins inside its block
        assert tu.default_device() == mx.cpu(2)
        assert np.ones(2).device == mx.cpu(2)
    assert np.arange(3).device == mx.cpu(1)
    tu.set_default_context("cpu(0)")
    assert tu.default_context() == mx.cpu(0)
    assert np.zeros(1).context == mx.cpu(0)


def test_list_gpus_matches_num_gpus() -> None:
    assert tu.list_gpus() == list(range(mx.num_gpus()))


def test_use_np_is_a_transparent_decorator() -> None:
    @tu.use_np
    def double(x):
        return x * 2

    @tu.use_np
    class Net:
        def forward(self, x):
            return x + 1

    assert double.__name__ == "double"
    assert tu.same(double(np.ones(2)), [2.0, 2.0])
    assert Net.__name__ == "Net"
    assert tu.same(Net().forward(np.zeros(2)), [1.0, 1.0])
    assert tu.use_np_shape(double) is double and tu.use_np_array(Net) is Net


# -- environment ----------------------------------------------------------------------------------
def test_environment_sets_and_restores(monkeypatch) -> None:
    monkeypatch.setenv("FW_TU_KEEP", "old")
    monkeypatch.delenv("FW_TU_NEW", raising=False)
    with tu.environment("FW_TU_KEEP", "new"):
        assert os.environ["FW_TU_KEEP"] == "new"
    assert os.environ["FW_TU_KEEP"] == "old"
    with tu.environment({"FW_TU_KEEP": None, "FW_TU_NEW": "1"}):
        assert "FW_TU_KEEP" not in os.environ
        assert os.environ["FW_TU_NEW"] == "1"
    assert os.environ["FW_TU_KEEP"] == "old"
    assert "FW_TU_NEW" not in os.environ


def test_environment_restores_after_an_exception(monkeypatch) -> None:
    monkeypatch.setenv("FW_TU_KEEP", "old")
    monkeypatch.delenv("FW_TU_NEW", raising=False)
    with pytest.raises(KeyError):
        with tu.environment({"FW_TU_KEEP": "changed", "FW_TU_NEW": "2"}):
            raise KeyError("boom")
    assert os.environ["FW_TU_KEEP"] == "old"
    assert "FW_TU_NEW" not in os.environ


def test_environment_is_seen_by_the_config_layer(monkeypatch) -> None:
    monkeypatch.delenv("FRAMEWORK_ENGINE_TYPE", raising=False)
    with tu.environment("MXNET_ENGINE_TYPE", "NaiveEngine"):
        assert _config.engine_type() == "NaiveEngine"


def test_environment_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        with tu.environment():
            pass
    with pytest.raises(ValueError):
        with tu.environment("A", "1", "B"):
            pass
    with pytest.raises(TypeError):
        with tu.environment({"FW_TU_X": ["not", "a", "string"]}):
            pass
    assert "FW_TU_X" not in os.environ


# -- collapse_sum_like ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 1), (4,), (1, 4), (2, 3, 4), (), (2, 1, 1), (1, 3, 4)])
def test_collapse_sum_like_inverts_broadcasting(shape) -> None:
    host = numpy.random.standard_normal((2, 3, 4)).astype(numpy.float32)
    x = np.array(host, device=mx.cpu(1))
    out = tu.collapse_sum_like(x, shape)
    assert isinstance(out, np.ndarray) and out.shape == shape and out.device == mx.cpu(1)
    # oracle: the adjoint of broadcasting, <collapse(g), v> == <g, broadcast(v)>
    v = numpy.random.standard_normal(shape)
    lhs = float(numpy.sum(out.asnumpy().astype(numpy.float64) * v))
    rhs = float(numpy.sum(host.astype(numpy.float64) * numpy.broadcast_to(v, host.shape)))
    assert lhs == pytest.approx(rhs, rel=1e-5, abs=1e-5)
    host_out = tu.collapse_sum_like(host, shape)
    assert isinstance(host_out, numpy.ndarray)
    tu.assert_almost_equal(out, host_out)


def test_collapse_sum_like_edge_cases() -> None:
    assert tu.same(tu.collapse_sum_like(np.ones((0, 3)), (1, 3)), numpy.zeros((1, 3)))
    with pytest.raises(ValueError, match="does not broadcast"):
        tu.collapse_sum_like(np.ones((2, 3)), (2,))
    with pytest.raises(ValueError, match="does not broadcast"):
        tu.collapse_sum_like(np.ones(3), (2, 3))


# -- finite differences ---------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["NaiveEngine", "ThreadedEngine"])
def test_numeric_grad_of_known_functions(engine) -> None:
    x_host = numpy.random.uniform(-2, 2, (2, 3))
    with engine_scope(engine):
        x = np.array(x_host, dtype="float32")
        (g,) = tu.numeric_grad(lambda a: a ** 2, [x])
        assert g.dtype == numpy.float64 and g.shape == (2, 3)
        numpy.testing.assert_allclose(g, 2 * x.asnumpy(), rtol=1e-6, atol=1e-8)
        (g,) = tu.numeric_grad(lambda a: np.sin(a), x_host)  # one NumPy input, not a list
        numpy.testing.assert_allclose(g, numpy.cos(x_host), rtol=1e-6, atol=1e-7)


def test_numeric_grad_of_a_matrix_product_with_a_head_gradient() -> None:
    a = numpy.random.standard_normal((3, 4))
    b = numpy.random.standard_normal((4, 2))
    head = numpy.random.standard_normal((3, 2))
    ga, gb = tu.numeric_grad(lambda p, q: p @ q, [np.array(a, dtype="float64"), b],
                             head_grad=head)
    # d/dA sum((A B) * H) = H B^T,  d/dB = A^T H
    numpy.testing.assert_allclose(ga, head @ b.T, rtol=1e-7, atol=1e-9)
    numpy.testing.assert_allclose(gb, a.T @ head, rtol=1e-7, atol=1e-9)


def test_numeric_grad_with_several_outputs_and_skipped_inputs() -> None:
    x = numpy.array([0.5, -1.0, 2.0])
    idx = numpy.array([2, 0], dtype=numpy.int64)

    def f(v, i):
        return [v * 3.0, np.take(v, i) ** 2]

    g, g_idx = tu.numeric_grad(f, [x, idx], head_grad=[numpy.ones(3), numpy.array([1.0, 2.0])])
    assert g_idx is None  # integer inputs are passed through, not differentiated
    numpy.testing.assert_allclose(g, [3 + 2 * 2 * 0.5, 3, 3 + 2 * 1 * 2.0], rtol=1e-7)
    assert tu.same(x, [0.5, -1.0, 2.0])  # the caller's inputs are untouched


def test_numeric_grad_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="eps"):
        tu.numeric_grad(lambda a: a, [np.ones(2)], eps=0)
    with pytest.raises(ValueError, match="head_grad"):
        tu.numeric_grad(lambda a: a, [np.ones(2)], head_grad=numpy.ones(3))
    with pytest.raises(IndexError, match="grad_nodes"):
        tu.numeric_grad(lambda a: a, [np.ones(2)], grad_nodes=[1])


def test_check_numeric_gradient_accepts_a_correct_gradient() -> None:
    x = np.array(numpy.random.uniform(-1, 1, (3, 2)))
    tu.check_numeric_gradient(lambda a: a ** 2, [x], grad=[2 * x])
    tu.check_numeric_gradient(lambda a: np.sin(a), [x], grad=lambda a: [np.cos(a)])
    head = numpy.random.standard_normal((3, 2))
    tu.check_numeric_gradient(lambda a: np.exp(a), [x], head_grad=head,
                              grad=lambda a, head_grad: [np.exp(a) * np.array(head_grad)])
    a = numpy.random.standard_normal((2, 3))
    b = numpy.random.standard_normal((3, 4))
    ones = numpy.ones((2, 4))
    tu.check_numeric_gradient(lambda p, q: p @ q, [a, b], grad=[ones @ b.T, a.T @ ones],
                              numeric_eps=1e-4)


def test_check_numeric_gradient_catches_a_wrong_gradient() -> None:
    x = np.array([0.5, 1.0, -2.0])
    with pytest.raises(AssertionError, match=r"analytic_grad\[0\].*numeric_grad\[0\]"):
        tu.check_numeric_gradient(lambda a: a ** 2, [x], grad=[3 * x])
    with pytest.raises(AssertionError, match="at \\(2,\\)"):  # sign error in one element only
        tu.check_numeric_gradient(lambda a: np.sin(a), [x],
                                  grad=[np.array(numpy.cos([0.5, 1.0, -2.0]) * [1, 1, -1])])
    a = numpy.random.standard_normal((2, 3))
    b = numpy.random.standard_normal((3, 2))
    head = numpy.random.standard_normal((2, 2))
    with pytest.raises(AssertionError, match=r"numeric_grad\[1\]"):  # A^T H^T instead of A^T H
        tu.check_numeric_gradient(lambda p, q: p @ q, [a, b], head_grad=head,
                                  grad=[head @ b.T, a.T @ head.T])
    tu.check_numeric_gradient(lambda p, q: p @ q, [a, b], head_grad=head,
                              grad=[head @ b.T, a.T @ head])
    with pytest.raises(AssertionError, match="shape"):
        tu.check_numeric_gradient(lambda p: p * 2, [x], grad=[np.ones(4)])
    with pytest.raises(ValueError, match="analytic gradient"):
        tu.check_numeric_gradient(lambda p, q: p * q, [x, x], grad=[x])


@pytest.mark.skipif(importlib.util.find_spec("framework.autograd") is not None,
                    reason="framework.autograd exists: grad=None uses it")
def test_check_numeric_gradient_without_autograd_asks_for_a_gradient() -> None:
    with pytest.raises(RuntimeError, match="grad="):
        tu.check_numeric_gradient(lambda a: a * 2, [np.ones(3)])


@pytest.mark.gpu
@pytest.mark.skipif(mx.num_gpus() == 0, reason="needs a CUDA GPU and CuPy")
def test_gpu_defaults_and_random_arrays(restore_default_device) -> None:
    x = tu.rand_ndarray((3, 3), device=mx.gpu(0))
    assert x.device == mx.gpu(0)
    tu.assert_almost_equal(x, x.asnumpy())
    tu.set_default_device(mx.gpu(0))
    assert np.zeros(2).device == mx.gpu(0)
    (g,) = tu.numeric_grad(lambda a: a ** 2, [np.array([1.0, 2.0])])
    numpy.testing.assert_allclose(g, [2.0, 4.0], rtol=1e-6)
