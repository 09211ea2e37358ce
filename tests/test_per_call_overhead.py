"""The per-call fast paths: Device hashing/equality, the engine's seqlock counter and the
lock-free operator fast path built on it, and the Gluon call path's legacy check."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator

import numpy as onp
import pytest

import framework as mx
from framework import engine, np
from framework.device import Context, Device, cpu, gpu
from framework.engine import ThreadedEngine, Var
from framework.engine import _engine as _eng
from framework.gluon import nn
from framework.nd import _elemwise


# -- Device ---------------------------------------------------------------------------------------
def test_device_equality_and_hash_are_by_value() -> None:
    a, b = cpu(0), Device("cpu", 0)
    assert a is not b and a == b and hash(a) == hash(b)
    assert a != cpu(1) and a != gpu(0) and a != "cpu(0)" and a != ("cpu", 0)
    assert not (a != b)
    assert {a: 1}[b] == 1 and len({a, b, Context("cpu", 0), cpu(1)}) == 2
    assert Device(a) == a and hash(Device(a)) == hash(a)


def test_device_pickles_with_a_fresh_hash() -> None:
    for d in (cpu(0), cpu(3), gpu(1)):
        e = pickle.loads(pickle.dumps(d))
        assert e == d and hash(e) == hash(d) and e.device_id == d.device_id
    # another process has another str hash seed: the cached hash must not travel in the pickle
    code = ("import pickle, sys; from framework.device import cpu; "
            "d = pickle.loads(sys.stdin.buffer.read()); "
            "print(d == cpu(2), hash(d) == hash(cpu(2)), {cpu(2): 'ok'}[d])")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(cpu(2)),
                         capture_output=True, check=True, env={"PYTHONHASHSEED": "12345",
                                                               **_env()})
    assert out.stdout.split() == [b"True", b"True", b"ok"]


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("PYTHONHASHSEED", None)
    return env


# -- the engine's seqlock counter ------------------------------------------------------------------
def test_push_and_inline_runs_leave_the_counter_even_and_advanced() -> None:
    eng = ThreadedEngine()
    try:
        seen: list[int] = []
        g0 = eng.gen
        assert g0 % 2 == 0
        assert eng.run_inline(lambda: seen.append(eng.gen), [Var()], "inline")
        assert seen[-1] % 2 == 1  # odd while the inline op runs
        assert eng.gen == g0 + 2
        eng.push(lambda: None, writes=[Var()], device=cpu(0), name="t")
        assert eng.gen == g0 + 4
        eng.waitall()

        def fail() -> None:
            raise ValueError("boom")

        v = Var()
        assert eng.run_inline(fail, [v], "fails")
        assert eng.gen == g0 + 6 and v.err is not None  # even again after a failure
        v.err.fired = True
    finally:
        eng.shutdown()


class _MovingGen(ThreadedEngine):
    """An engine whose counter changes on every read: as if a push happened during each op."""

    @property  # type: ignore[override]
    def gen(self) -> int:
        self._g += 2
        return self._g

    @gen.setter
    def gen(self, value: int) -> None:
        self._g = value


@pytest.fixture
def swap_engine() -> Iterator[list[ThreadedEngine]]:
    prev = engine.engine_type()
    engine.set_engine_type("ThreadedEngine")
    box: list[ThreadedEngine] = []
    old = _eng._engine
    try:
        yield box
    finally:
        for e in box:
            e.waitall()
            e.shutdown()
        _eng._engine = old
        engine.set_engine_type(prev)


def _count_binary(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    orig = _elemwise.binary

    def counting(*a: object) -> object:
        calls[0] += 1
        return orig(*a)

    monkeypatch.setattr(_elemwise, "binary", counting)
    return calls


def test_operator_drops_its_result_when_the_counter_moved(
        swap_engine: list[ThreadedEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([10.0, 20.0, 30.0])
    calls = _count_binary(monkeypatch)
    onp.testing.assert_array_equal((a + b).asnumpy(), [11, 22, 33])
    assert calls[0] == 0  # the fast path, lock-free
    eng = _MovingGen()
    swap_engine.append(eng)
    _eng._engine = eng
    c = a * b
    assert calls[0] == 1  # the optimistic result was dropped: the locked path computed it
    onp.testing.assert_array_equal(c.asnumpy(), [10, 40, 90])
    eng._g = 1  # odd: a push or inline run is in progress
    onp.testing.assert_array_equal((b - a).asnumpy(), [9, 18, 27])
    assert calls[0] == 2


# -- the Gluon call path --------------------------------------------------------------------------
@pytest.mark.parametrize("hybridize", [False, True])
def test_block_call_with_arrays_and_legacy_arrays(hybridize: bool) -> None:
    net = nn.Dense(3, in_units=4)
    net.initialize()
    if hybridize:
        net.hybridize()
    x = onp.arange(8, dtype=onp.float32).reshape(2, 4)
    w = net.weight.data().asnumpy()
    bias = net.bias.data().asnumpy()
    want = x @ w.T + bias
    for _ in range(2):  # the trace, then the replay
        out = net(np.array(x))
        assert type(out) is np.ndarray
        onp.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5)
    legacy = net(mx.nd.array(x))  # an NDArray input still goes through the legacy path
    assert type(legacy) is mx.nd.NDArray
    onp.testing.assert_allclose(legacy.asnumpy(), want, rtol=1e-5)
    seen: list[int] = []
    h = net.register_forward_hook(lambda blk, inp, out: seen.append(len(inp)))
    net(np.array(x))
    h.detach()
    net(np.array(x))
    assert seen == [1]
