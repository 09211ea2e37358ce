"""autograd semantics (API.md §2 items 11-15) and an end-to-end training check."""

from __future__ import annotations

import threading

import numpy as onp
import pytest

import framework as mx
from framework import autograd, engine, np
from framework.base import MXNetError


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"], autouse=True)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


def arr(values, dtype="float64"):
    return np.array(onp.asarray(values, dtype=dtype))


def test_record_pause_modes_and_flags():
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
        with autograd.predict_mode():
            assert autograd.is_recording() and not autograd.is_training()
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()
    with autograd.train_mode():
        assert not autograd.is_recording() and autograd.is_training()
    assert autograd.set_recording(True) is False
    assert autograd.set_training(True) is False
    assert autograd.set_recording(False) is True
    assert autograd.set_training(False) is True


def test_recording_state_is_per_thread():
    seen = []
    with autograd.record():
        t = threading.Thread(target=lambda: seen.append(autograd.is_recording()))
        t.start()
        t.join()
    assert seen == [False]


def test_attach_grad_allocates_zeros_of_same_dtype():
    x = arr([1.0, 2.0], "float32")
    x.attach_grad()
    assert x.grad.dtype == onp.float32 and x.grad.asnumpy().tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="grad_req"):
        x.attach_grad("sometimes")


def test_write_overwrites_and_add_accumulates():
    x = arr([1.0, 2.0])
    x.attach_grad()
    for _ in range(2):
        with autograd.record():
            y = x * 3
        y.backward()
    assert x.grad.asnumpy().tolist() == [3.0, 3.0]  # write: never needs zeroing

    z = arr([1.0, 2.0])
    z.attach_grad(grad_req="add")
    for _ in range(2):
        with autograd.record():
            y = z * 3
        y.backward()
    assert z.grad.asnumpy().tolist() == [6.0, 6.0]  # MXNet's "two passes of 3x give 6"
    z.grad[:] = 0  # zero_grad
    with autograd.record():
        y = z * 3
    y.backward()
    assert z.grad.asnumpy().tolist() == [3.0, 3.0]


def test_grad_buffer_identity_is_kept():
    x = arr([1.0, 2.0])
    x.attach_grad()
    g = x.grad
    with autograd.record():
        y = x * x
    y.backward()
    assert x.grad is g
    assert g.asnumpy().tolist() == [2.0, 4.0]


def test_non_scalar_head_uses_ones_and_explicit_head_grad():
    x = arr([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = x * x
    y.backward()
    assert x.grad.asnumpy().tolist() == [2.0, 4.0, 6.0]
    with autograd.record():
        y = x * x
    y.backward(arr([1.0, 0.0, 2.0]))
    assert x.grad.asnumpy().tolist() == [2.0, 0.0, 12.0]


def test_second_backward_needs_retain_graph():
    x = arr([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(MXNetError, match="second time"):
        y.backward()


def test_backward_of_unrecorded_head_raises():
    x = arr([1.0, 2.0])
    x.attach_grad()
    y = x * 2  # not recorded
    with pytest.raises(MXNetError, match="not in a computational graph"):
        y.backward()
    z = arr([1.0, 2.0])
    with autograd.record():
        w = z * 2  # depends on no variable
    with pytest.raises(MXNetError, match="not in a computational graph"):
        w.backward()


def test_in_place_write_into_graph_arrays_raises_inside_record():
    x = arr([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with pytest.raises(MXNetError, match="Assigning to NDArrays"):
            y += 1
        with pytest.raises(MXNetError, match="Assigning to NDArrays"):
            x[0] = 3
        with pytest.raises(MXNetError, match="Assigning to NDArrays"):
            np.add(x, 1, out=y)


def test_in_place_leaf_updates_outside_record_keep_buffer_and_grad():
    # d2l's scratch SGD: param -= lr * param.grad and param[:] = param - lr * grad
    w = arr([1.0, 2.0])
    w.attach_grad()
    g = w.grad
    with autograd.record():
        loss = (w * w * 0.5).sum()
    loss.backward()
    w -= 0.5 * w.grad
    assert w.asnumpy().tolist() == [0.5, 1.0]
    w[:] = w - 0.5 * w.grad
    assert w.asnumpy().tolist() == [0.0, 0.0]
    assert w.grad is g
    with autograd.record():
        loss = (w + 1).sum()
    loss.backward()  # the updated leaf is still a variable
    assert w.grad.asnumpy().tolist() == [1.0, 1.0]


def test_setitem_records_the_assigned_value():
    x = arr([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        buf = np.zeros((2, 3), dtype="float64")
        buf[1] = x * 2
        loss = (buf * arr([[1.0, 1, 1], [1, 2, 3]])).sum()
    loss.backward()
    assert x.grad.asnumpy().tolist() == [2.0, 4.0, 6.0]


def test_getitem_gradients_basic_and_advanced():
    x = arr(onp.arange(6.0).reshape(2, 3))
    x.attach_grad()
    with autograd.record():
        y = x[1] * 2 + x[:, 0].sum() + x[[0, 0, 1], [2, 2, 1]].sum()
    y.backward()
    want = onp.zeros((2, 3))
    want[1] += 2
    want[:, 0] += 3
    want[0, 2] += 2 * 3
    want[1, 1] += 3
    onp.testing.assert_allclose(x.grad.asnumpy(), want)


def test_broadcasting_gradients_reduce_to_input_shape():
    a = arr(onp.ones((3, 1)))
    b = arr(onp.arange(4.0))
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        y = a * b
    y.backward()
    assert a.grad.shape == (3, 1) and a.grad.asnumpy().ravel().tolist() == [6.0] * 3
    assert b.grad.asnumpy().tolist() == [3.0] * 4


def test_grad_returns_without_writing_and_higher_order():
    x = arr([0.5, 1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x * x
    (g,) = autograd.grad(y, [x], create_graph=True)
    onp.testing.assert_allclose(g.asnumpy(), 3 * x.asnumpy() ** 2)
    assert x.grad.asnumpy().tolist() == [0.0, 0.0, 0.0]
    g.backward()  # d/dx sum(3x^2) = 6x
    onp.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy())
    with autograd.record():
        y = np.sin(x)
    (g1,) = autograd.grad(y, x, create_graph=True)
    with autograd.record():
        g2 = g1 * 1.0
    (h,) = autograd.grad(g2, x)
    onp.testing.assert_allclose(h.asnumpy(), -onp.sin(x.asnumpy()))


def test_autograd_backward_with_several_heads():
    x = arr([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y1 = x * 2
        y2 = x * x
    autograd.backward([y1, y2], [arr([1.0, 1.0]), arr([1.0, 0.0])])
    assert x.grad.asnumpy().tolist() == [4.0, 2.0]


def test_detach_and_stop_gradient():
    x = arr([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x.detach() + mx.npx.stop_gradient(x) * 5
    y.backward()
    assert x.grad.asnumpy().tolist() == [1.0, 2.0]


def test_mark_variables_uses_given_buffers():
    x = arr([1.0, 2.0])
    g = arr([0.0, 0.0])
    autograd.mark_variables([x], [g], "add")
    with autograd.record():
        y = x * 4
    y.backward()
    y2 = None
    with autograd.record():
        y2 = x * 4
    y2.backward()
    assert g.asnumpy().tolist() == [8.0, 8.0]


def test_custom_function():
    class Sigmoid(autograd.Function):
        def forward(self, x):
            y = 1 / (1 + np.exp(-x))
            self.save_for_backward(y)
            return y

        def backward(self, dy):
            (y,) = self.saved_tensors
            return dy * y * (1 - y)

    x = arr([-1.0, 0.0, 2.0])
    x.attach_grad()
    f = Sigmoid()
    with autograd.record():
        y = f(x) * 2
    y.backward()
    s = 1 / (1 + onp.exp(-x.asnumpy()))
    onp.testing.assert_allclose(x.grad.asnumpy(), 2 * s * (1 - s))


def test_train_mode_flag_during_backward():
    seen = []

    class Probe(autograd.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            seen.append(autograd.is_training())
            return dy

    x = arr([1.0])
    x.attach_grad()
    with autograd.record():
        y = Probe()(x)
    y.backward(train_mode=False)
    assert seen == [False]


def test_two_layer_network_reaches_the_closed_form_optimum():
    """A linear two-layer net trained with hand-written full-batch gradient descent reaches the
    least-squares loss, computed in closed form with NumPy."""
    rng = onp.random.default_rng(0)
    n, d, h, k = 64, 5, 8, 2
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, k)) + 0.3 * rng.normal(size=(n, k))
    beta, *_ = onp.linalg.lstsq(X, Y, rcond=None)
    best = float(((X @ beta - Y) ** 2).sum() / (2 * n))

    x, y = np.array(X), np.array(Y)
    w1 = np.array(rng.normal(scale=0.3, size=(d, h)))
    w2 = np.array(rng.normal(scale=0.3, size=(h, k)))
    for p in (w1, w2):
        p.attach_grad()
    lr = 0.1
    for _ in range(600):
        with autograd.record():
            loss = ((np.dot(np.dot(x, w1), w2) - y) ** 2).sum() / (2 * n)
        loss.backward()
        for p in (w1, w2):
            p -= lr * p.grad
    assert abs(float(loss) - best) < 1e-4 * max(best, 1.0), (float(loss), best)


def test_recording_without_backward_leaves_no_cyclic_garbage():
    # a single-output node holds its output weakly: a graph nobody differentiates is freed by
    # reference counting, not left to the cycle collector (which made recorded ops 3x slower)
    import gc

    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
    a.attach_grad()
    gc.collect()
    gc.disable()
    try:
        with autograd.record():
            for _ in range(50):
                c = ((a + b) * a - b).sum()
        del c
        assert gc.collect() == 0
    finally:
        gc.enable()
    # the graph still differentiates when its head is kept
    with autograd.record():
        c = ((a + b) * a - b).sum()
    c.backward()
    onp.testing.assert_allclose(a.grad.asnumpy(), 2 * a.asnumpy() + b.asnumpy())


def test_the_process_wide_count_of_recording_threads_follows_every_switch() -> None:
    """Hot paths skip the thread-local flag while no thread records (``ACTIVE.count``): the
    count must be raised whenever some thread records, and back to zero after."""
    from framework.nd._tape import ACTIVE, STATE
    assert not STATE.recording
    base = ACTIVE.count  # (0, unless a thread of another test ended while recording)
    x = np.ones((3,))
    x.attach_grad()
    with autograd.record():
        assert ACTIVE.count == base + 1 and STATE.recording
        with autograd.record():
            assert ACTIVE.count == base + 1
        with autograd.pause():
            assert ACTIVE.count == base and not STATE.recording
            assert (x * 2)._node is None
        assert ACTIVE.count == base + 1
        assert (x + 1)._node is not None
    assert ACTIVE.count == base
    with pytest.raises(ValueError, match="boom"):
        with autograd.record():
            raise ValueError("boom")
    assert ACTIVE.count == base and not STATE.recording

    # another thread recording: this one still records nothing, and the count goes back
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with autograd.record():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    t.start()
    try:
        assert inside.wait(10)
        assert ACTIVE.count == base + 1 and not STATE.recording
        assert (x + 1)._node is None
        with autograd.record():
            assert ACTIVE.count == base + 2
            assert (x + 1)._node is not None
        assert ACTIVE.count == base + 1
    finally:
        leave.set()
        t.join()
    assert ACTIVE.count == base


def test_the_recording_count_survives_a_failed_hybridize_trace() -> None:
    from framework.gluon import HybridBlock
    from framework.nd._tape import ACTIVE, STATE

    class Boom(HybridBlock):
        def forward(self, x):
            if (x * 2).shape:  # an op recorded into the trace, then the failure
                raise ValueError("boom in forward")
            return x

    base = ACTIVE.count
    blk = Boom()
    blk.hybridize()
    with pytest.raises(ValueError, match="boom in forward"):
        blk(np.ones((2,)))  # traced: recording on while the forward runs
    assert ACTIVE.count == base and not STATE.recording
    with pytest.raises(ValueError, match="boom in forward"):
        with autograd.record():
            blk(np.ones((2,)))
    assert ACTIVE.count == base and not STATE.recording
