"""Shortcuts taken for speed give the results of the general path: fused in-place arithmetic,
operators recorded from their fast path, gradients computed only for the inputs that need them,
and the engine's batched wake-ups (measured in ``bench/autograd.py``, docs/performance.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as onp
import pytest

import framework as mx
from framework import autograd, engine, np, npx
from framework.engine import ThreadedEngine, Var
from framework.nd import _base, _elemwise


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"])
def engine_type(request: pytest.FixtureRequest) -> Iterator[str]:
    prev = engine.engine_type()
    engine.set_engine_type(request.param)
    try:
        yield request.param
    finally:
        mx.waitall()
        engine.set_engine_type(prev)


def _general(name: str, x: np.ndarray, o: object) -> onp.ndarray:
    """``x <op>= o`` through binary() + _assign_out(), the path the fused one replaces."""
    res = _elemwise.binary(name, x, o)
    _elemwise._assign_out(name, x, res)
    return x.asnumpy()


OPS = {"add": "__iadd__", "subtract": "__isub__", "multiply": "__imul__",
       "true_divide": "__itruediv__"}


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("case", ["same", "broadcast", "float", "int", "view", "overlap", "f16",
                                  "large"])
def test_inplace_matches_general_path(engine_type: str, name: str, case: str) -> None:
    rng = onp.random.default_rng(0)
    shape = (300, 200) if case == "large" else (4, 5)
    dt = "float16" if case == "f16" else "float32"
    base = rng.uniform(1, 2, shape).astype(dt)

    def operand(x: np.ndarray) -> object:
        if case in ("float", "f16"):
            return 0.75
        if case == "int":
            return 3
        if case == "broadcast":
            return np.array(rng.uniform(1, 2, x.shape[1:]).astype(dt))
        if case == "overlap":
            return x[::-1]
        return np.array(rng.uniform(1, 2, x.shape).astype(dt))

    rng = onp.random.default_rng(1)
    a = np.array(base)
    target_a = a[1:3] if case == "view" else a
    oa = operand(target_a)
    rng = onp.random.default_rng(1)
    b = np.array(base)
    target_b = b[1:3] if case == "view" else b
    ob = operand(target_b)
    got = getattr(target_a, OPS[name])(oa)
    assert got is target_a
    want = _general(name, target_b, ob)
    onp.testing.assert_array_equal(target_a.asnumpy(), want)
    onp.testing.assert_array_equal(a.asnumpy(), b.asnumpy())  # views write through
    assert a.dtype == onp.dtype(dt)


def test_inplace_cases_left_to_the_general_path(engine_type: str) -> None:
    # int target, other dtype, bool/NumPy scalars, broadcasting that grows the target
    i = np.array([1, 2, 3], dtype="int32")
    i += 1.7  # MXNet casts the float result back to int32
    assert i.dtype == onp.int32 and i.tolist() == [2, 3, 4]
    f = np.ones(3, dtype="float32")
    f += np.ones(3, dtype="float64")
    assert f.dtype == onp.float32 and f.tolist() == [2, 2, 2]
    f += True
    f *= onp.float32(2)
    assert f.tolist() == [6, 6, 6]
    with pytest.raises(ValueError, match="non-broadcastable"):
        g = np.ones(3)
        g += np.ones((2, 3))
    assert not _elemwise.binary_inplace("power", np.ones(3), 2.0)
    assert not _elemwise.binary_inplace("add", np.ones(3), np.ones((2, 3)))


def test_inplace_is_ordered_and_passes_errors_on() -> None:
    with engine.engine_scope("ThreadedEngine"):
        x = np.zeros((200, 200))
        y = x + 1  # queued or inline, either way before the update below
        x += 5
        assert y.asnumpy().max() == 1 and x.asnumpy().min() == 5
        bad = np.ndarray._pending((3,), onp.dtype("float32"), mx.cpu(0))

        def fail() -> None:
            raise ValueError("producer failed")

        _base.execute("boom", fail, (), (bad,))
        t = np.ones(3)
        t += bad
        with pytest.raises(ValueError, match="boom"):
            t.wait_to_read()


def test_inplace_while_recording_keeps_the_general_path() -> None:
    x = np.array([1.0, 2.0])
    x.attach_grad()
    acc = np.zeros(2)
    with autograd.record():
        acc += x * 3  # acc is not in the graph: the write is recorded, not fused
        loss = (acc * acc).sum()
    loss.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), [18.0, 36.0])
    with autograd.record(), pytest.raises(mx.base.FrameworkError):
        x += 1  # a variable in the graph still refuses the write


@pytest.mark.parametrize("expr", ["a + b", "a - b", "a * b", "a / b", "a * 2.0", "2.0 - a",
                                  "a / 3", "1 / a", "a - 1"])
def test_operator_fast_path_records_like_binary(engine_type: str, expr: str) -> None:
    a = np.array([1.0, 2.0, 4.0])
    b = np.array([3.0, -1.0, 0.5])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        c = eval(expr)
    op, inputs = c._node[0].op, c._node[0].inputs
    assert op.name in ("add", "subtract", "multiply", "true_divide")
    c.backward()
    ga, gb = a.grad.asnumpy(), b.grad.asnumpy()
    # the same through binary() directly
    a2 = np.array([1.0, 2.0, 4.0])
    b2 = np.array([3.0, -1.0, 0.5])
    a2.attach_grad()
    b2.attach_grad()
    name = type(op).__name__
    with autograd.record():
        if name == "BinaryOp":
            c2 = _elemwise.binary(op.name, *(a2 if x is a else b2 for x in inputs))
        else:
            c2 = (_elemwise.binary(op.name, op.scalar, a2) if op.reverse
                  else _elemwise.binary(op.name, a2, op.scalar))
    c2.backward()
    onp.testing.assert_array_equal(c.asnumpy(), c2.asnumpy())
    onp.testing.assert_allclose(ga, a2.grad.asnumpy())
    onp.testing.assert_allclose(gb, b2.grad.asnumpy())


def test_operator_fast_path_records_nothing_without_graph_inputs() -> None:
    a, b = np.ones(3), np.ones(3)
    with autograd.record():
        c = a + b
    assert c._node is None


@pytest.mark.parametrize("wants", ["x", "w", "b", "xwb", "wb"])
def test_fully_connected_gradients_only_where_needed(wants: str) -> None:
    rng = onp.random.default_rng(0)
    xs, ws, bs = (rng.standard_normal(s).astype("float32") for s in ((4, 3), (5, 3), (5,)))
    x, w, b = np.array(xs), np.array(ws), np.array(bs)
    for name, v in (("x", x), ("w", w), ("b", b)):
        if name in wants:
            v.attach_grad()
    with autograd.record():
        y = npx.fully_connected(x, w, b, num_hidden=5)
    node = y._node[0]
    g = np.array(rng.standard_normal((4, 5)).astype("float32"))
    grads = node.op.backward(node.inputs, node.outputs, [g])
    gn = g.asnumpy()
    want = {"x": gn @ ws, "w": gn.T @ xs, "b": gn.sum(0)}
    for name, got in zip("xwb", grads):
        if name in wants:
            onp.testing.assert_allclose(got.asnumpy(), want[name], rtol=1e-5, atol=1e-6)
        else:
            assert got is None
    # called outside any graph (as gradient checkers do), every gradient is computed
    x2, w2, b2 = np.array(xs), np.array(ws), np.array(bs)
    op = type(node.op)(True)
    op.infer(x2, w2, b2)
    out = op.backward((x2, w2, b2), (y,), [g])
    assert all(o is not None for o in out)


def test_activation_relu_gradient() -> None:
    x = np.array([-1.0, 0.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = npx.activation(x, "relu")
    y.backward(np.array([5.0, 5.0, 5.0, -2.0]))
    assert x.grad.tolist() == [0.0, 0.0, 5.0, -2.0]
    assert x.grad.dtype == onp.float32


def test_waiters_for_different_tasks_all_wake() -> None:
    eng = ThreadedEngine(max_inflight=8)
    release = threading.Event()
    eng.push(release.wait, writes=[Var()], device=mx.cpu(0), name="gate")
    vs = [Var() for _ in range(6)]
    for v in vs:
        eng.push(lambda: None, writes=[v], device=mx.cpu(0), name="t")
    woke: list[int] = []
    threads = [threading.Thread(target=lambda i=i: (eng.wait_for(vs[i]), woke.append(i)),
                                daemon=True) for i in (5, 0, 3)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert sorted(woke) == [0, 3, 5]
    eng.waitall()


def test_blocked_producer_resumes_and_keeps_order() -> None:
    eng = ThreadedEngine(max_inflight=4)
    ran: list[int] = []
    release = threading.Event()
    eng.push(release.wait, writes=[Var()], device=mx.cpu(0), name="gate")
    done = threading.Event()

    def producer() -> None:
        for i in range(20):
            eng.push(lambda i=i: ran.append(i), writes=[Var()], device=mx.cpu(0), name="t")
        done.set()

    t = threading.Thread(target=producer, daemon=True)
    t.start()
    assert not done.wait(0.2)  # blocked: the queue is full
    release.set()
    assert done.wait(10)
    eng.waitall()
    assert ran == list(range(20))
