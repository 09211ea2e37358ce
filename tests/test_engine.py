"""The asynchronous engine: dependency ordering, errors, back-pressure, threads (DESIGN.md §2,
API.md §1.1 and §2 items 8-10).

Engine-level tests use private engine instances where they can, so that the global engine other
tests use is never left with queued work or pending errors. Timing is only ever checked as
"blocked for at least 0.2 s"; everything else is ordered with Events and generous timeouts.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import numpy as onp
import pytest

import framework as mx
from framework import engine, np
from framework.engine import NaiveEngine, ThreadedEngine, Var
from framework.nd import _base

TIMEOUT = 10.0  # generous bound for anything that must finish
THIS_FILE = os.path.basename(__file__)


def _line() -> int:
    """The caller's line number (so that a test can name the line after it)."""
    return sys._getframe(1).f_lineno


def _drain_errors() -> None:
    """Consume every pending error of the global engine (each waitall raises at most one)."""
    for _ in range(100):
        try:
            engine.waitall()
            return
        except Exception:
            continue


@pytest.fixture(autouse=True)
def _clean_global_engine() -> Iterator[None]:
    _drain_errors()
    yield
    _drain_errors()


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"])
def engine_type(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test under each engine, restoring the previous one afterwards."""
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


@pytest.fixture
def threaded() -> Iterator[ThreadedEngine]:
    """A private threaded engine (its worker threads are daemons and idle afterwards)."""
    eng = ThreadedEngine()
    yield eng
    for w in eng.worker_list:
        w.wait(w.pushed)


class Gate:
    """A task body that blocks on an Event, with a flag telling whether it has started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> None:
        self.started.set()
        if not self.release.wait(TIMEOUT):
            raise RuntimeError("gate was never released")


def _recorder(log: list[str], tag: str, fn: Callable[[], None] | None = None) -> Callable[[], None]:
    def task() -> None:
        if fn is not None:
            fn()
        log.append(tag)

    return task


# --------------------------------------------------------------------------------------------
# module-level API and engine switching
# --------------------------------------------------------------------------------------------

def test_engine_api_surface() -> None:
    for name in ("push", "wait_for", "waitall", "set_engine_type", "engine_scope", "get", "Var",
                 "ThreadedEngine", "NaiveEngine", "engine_type", "bulk", "set_bulk_size"):
        assert hasattr(engine, name), name
    assert isinstance(engine.get(), engine.Engine)
    assert mx.waitall is engine.waitall


def test_engine_scope_switches_and_restores() -> None:
    before = engine.engine_type()
    before_cls = type(engine.get())
    with engine.engine_scope("NaiveEngine"):
        assert engine.engine_type() == "NaiveEngine"
        assert isinstance(engine.get(), NaiveEngine)
        assert engine.get().naive
        with engine.engine_scope("ThreadedEngine"):
            assert isinstance(engine.get(), ThreadedEngine)
        assert isinstance(engine.get(), NaiveEngine)
    assert engine.engine_type() == before
    assert type(engine.get()) is before_cls


def test_set_engine_type_returns_previous() -> None:
    prev = engine.set_engine_type("NaiveEngine")
    try:
        assert engine.set_engine_type("ThreadedEnginePerDevice") == "NaiveEngine"
        assert isinstance(engine.get(), ThreadedEngine)
    finally:
        engine.set_engine_type(prev)


def test_set_engine_type_rejects_unknown_name() -> None:
    before = engine.get()
    with pytest.raises(ValueError, match="engine type"):
        engine.set_engine_type("FancyEngine")
    assert engine.get() is before


def test_set_engine_type_waits_for_queued_work() -> None:
    prev = engine.engine_type()
    engine.set_engine_type("ThreadedEngine")
    try:
        v = Var()
        gate = Gate()
        done = threading.Event()

        def task() -> None:
            gate()
            done.set()

        engine.push(task, writes=[v], device=mx.cpu(0), name="gated")
        assert gate.started.wait(TIMEOUT)
        t = threading.Thread(target=engine.set_engine_type, args=("NaiveEngine",))
        t.start()
        t.join(0.2)
        assert t.is_alive(), "switching engines must wait for the old engine's work"
        gate.release.set()
        t.join(TIMEOUT)
        assert not t.is_alive()
        assert done.is_set()
        assert isinstance(engine.get(), NaiveEngine)
    finally:
        gate.release.set()
        engine.set_engine_type(prev)


def test_bulk_is_accepted() -> None:
    prev = engine.set_bulk_size(30)
    try:
        assert engine.set_bulk_size(prev) == 30
        with engine.bulk(4):
            x = np.ones(3) + 1
        assert x.asnumpy().tolist() == [2.0, 2.0, 2.0]
    finally:
        engine.set_bulk_size(prev)


# --------------------------------------------------------------------------------------------
# ordering: RAW / WAR / WAW, on one device and across devices
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("devices", [(0, 0), (0, 1), (1, 0)])
def test_read_after_write(threaded: ThreadedEngine, devices: tuple[int, int]) -> None:
    dw, dr = mx.cpu(devices[0]), mx.cpu(devices[1])
    v = Var()
    state = {"x": 0}
    seen: list[int] = []
    gate = Gate()

    def writer() -> None:
        gate()
        state["x"] = 42

    threaded.push(writer, writes=[v], device=dw, name="writer")
    threaded.push(lambda: seen.append(state["x"]), reads=[v], device=dr, name="reader")
    assert gate.started.wait(TIMEOUT)
    time.sleep(0.05)
    assert seen == [], "the reader ran before the writer finished"
    gate.release.set()
    threaded.waitall()
    assert seen == [42]


def test_read_after_slow_write_sleep(threaded: ThreadedEngine) -> None:
    v = Var()
    state = {"x": 0}
    seen: list[int] = []

    def writer() -> None:
        time.sleep(0.05)
        state["x"] = 7

    threaded.push(writer, writes=[v], device=mx.cpu(0), name="slow_writer")
    threaded.push(lambda: seen.append(state["x"]), reads=[v], device=mx.cpu(1), name="reader")
    threaded.wait_for(v)
    assert state["x"] == 7
    threaded.waitall()
    assert seen == [7]


@pytest.mark.parametrize("devices", [(0, 0), (0, 1), (1, 0)])
def test_write_after_read(threaded: ThreadedEngine, devices: tuple[int, int]) -> None:
    dr, dw = mx.cpu(devices[0]), mx.cpu(devices[1])
    v = Var()
    state = {"x": 1}
    seen: list[int] = []
    gate = Gate()

    def reader() -> None:
        gate()
        seen.append(state["x"])

    def writer() -> None:
        state["x"] = 2

    threaded.push(reader, reads=[v], device=dr, name="reader")
    threaded.push(writer, writes=[v], device=dw, name="writer")
    assert gate.started.wait(TIMEOUT)
    time.sleep(0.05)
    assert state["x"] == 1, "the writer ran while an earlier reader was still running"
    gate.release.set()
    threaded.wait_for(v)
    assert state["x"] == 2
    threaded.waitall()
    assert seen == [1]


@pytest.mark.parametrize("devices", [(0, 0), (0, 1), (1, 0)])
def test_write_after_write(threaded: ThreadedEngine, devices: tuple[int, int]) -> None:
    d1, d2 = mx.cpu(devices[0]), mx.cpu(devices[1])
    v = Var()
    log: list[str] = []
    gate = Gate()
    threaded.push(_recorder(log, "first", gate), writes=[v], device=d1, name="w1")
    threaded.push(_recorder(log, "second"), writes=[v], device=d2, name="w2")
    assert gate.started.wait(TIMEOUT)
    time.sleep(0.05)
    assert log == []
    gate.release.set()
    threaded.wait_for(v)
    assert log == ["first", "second"]


def test_writer_waits_for_readers_on_every_device(threaded: ThreadedEngine) -> None:
    v = Var()
    log: list[str] = []
    gates = [Gate(), Gate()]
    threaded.push(_recorder(log, "r0", gates[0]), reads=[v], device=mx.cpu(0), name="r0")
    threaded.push(_recorder(log, "r1", gates[1]), reads=[v], device=mx.cpu(1), name="r1")
    threaded.push(_recorder(log, "w"), writes=[v], device=mx.cpu(2), name="w")
    assert gates[0].started.wait(TIMEOUT) and gates[1].started.wait(TIMEOUT)
    gates[1].release.set()
    time.sleep(0.05)
    assert "w" not in log
    gates[0].release.set()
    threaded.waitall()
    assert log[-1] == "w" and sorted(log[:2]) == ["r0", "r1"]


def test_independent_vars_do_not_wait(threaded: ThreadedEngine) -> None:
    a, b = Var(), Var()
    gate = Gate()
    done = threading.Event()
    threaded.push(gate, writes=[a], device=mx.cpu(0), name="blocked")
    threaded.push(done.set, writes=[b], device=mx.cpu(1), name="free")
    assert done.wait(TIMEOUT), "a task on another device with no dependency was held back"
    threaded.wait_for(b)
    gate.release.set()
    threaded.waitall()


def test_reads_do_not_order_each_other_across_devices(threaded: ThreadedEngine) -> None:
    v = Var()
    gate = Gate()
    second = threading.Event()
    threaded.push(gate, reads=[v], device=mx.cpu(0), name="r0")
    threaded.push(second.set, reads=[v], device=mx.cpu(1), name="r1")
    assert second.wait(TIMEOUT), "two readers of one var must be able to run concurrently"
    gate.release.set()
    threaded.waitall()


def test_cross_device_chain(threaded: ThreadedEngine) -> None:
    """x on cpu(0) -> y on cpu(1) -> x on cpu(0) again -> y on cpu(2): exact values."""
    x, y = Var(), Var()
    state = {"x": 0, "y": 0}
    gate = Gate()

    def step1() -> None:
        gate()
        state["x"] = 1

    def step2() -> None:
        state["y"] = state["x"] + 10

    def step3() -> None:
        state["x"] = state["y"] * 2

    def step4() -> None:
        state["y"] = state["x"] + state["y"]

    threaded.push(step1, writes=[x], device=mx.cpu(0), name="s1")
    threaded.push(step2, reads=[x], writes=[y], device=mx.cpu(1), name="s2")
    threaded.push(step3, reads=[y], writes=[x], device=mx.cpu(0), name="s3")
    threaded.push(step4, reads=[x, y], writes=[y], device=mx.cpu(2), name="s4")
    gate.release.set()
    threaded.wait_for(y)
    assert state == {"x": 22, "y": 33}


def test_many_tasks_in_push_order(threaded: ThreadedEngine) -> None:
    v = Var()
    log: list[int] = []
    for i in range(200):
        dev = mx.cpu(i % 3)
        threaded.push(lambda i=i: log.append(i), writes=[v], device=dev, name=f"t{i}")
    threaded.wait_for(v)
    assert log == list(range(200))


def test_wait_for_does_not_wait_for_unrelated_work(threaded: ThreadedEngine) -> None:
    a, b = Var(), Var()
    gate = Gate()
    threaded.push(gate, writes=[a], device=mx.cpu(1), name="blocked")
    threaded.push(lambda: None, writes=[b], device=mx.cpu(0), name="quick")
    threaded.wait_for(b)  # returns while a's writer is still blocked
    assert not threaded.idle()
    gate.release.set()
    threaded.waitall()
    assert threaded.idle()


def test_global_push_and_wait_for() -> None:
    v = Var()
    box: list[int] = []
    engine.push(lambda: box.append(1), writes=[v], device=mx.cpu(0), name="g")
    engine.wait_for(v)
    assert box == [1]
    engine.waitall()


# --------------------------------------------------------------------------------------------
# asynchrony and back-pressure
# --------------------------------------------------------------------------------------------

def test_push_returns_while_task_blocked(threaded: ThreadedEngine) -> None:
    v = Var()
    gate = Gate()
    threaded.push(gate, writes=[v], device=mx.cpu(0), name="blocked")
    # a second task depending on the blocked one is queued too, without blocking the caller
    threaded.push(lambda: None, reads=[v], device=mx.cpu(1), name="dependent")
    assert not gate.release.is_set()
    assert gate.started.wait(TIMEOUT)
    assert not threaded.idle()
    gate.release.set()
    threaded.waitall()
    assert threaded.idle()


def test_wait_for_blocks_until_done(threaded: ThreadedEngine) -> None:
    v = Var()
    gate = Gate()
    threaded.push(gate, writes=[v], device=mx.cpu(0), name="blocked")
    finished = threading.Event()

    def waiter() -> None:
        threaded.wait_for(v)
        finished.set()

    t0 = time.monotonic()
    t = threading.Thread(target=waiter)
    t.start()
    t.join(0.2)
    assert t.is_alive() and not finished.is_set()
    assert time.monotonic() - t0 >= 0.2
    gate.release.set()
    t.join(TIMEOUT)
    assert finished.is_set()


def test_waitall_blocks_until_done(threaded: ThreadedEngine) -> None:
    gates = [Gate(), Gate()]
    for i, g in enumerate(gates):
        threaded.push(g, writes=[Var()], device=mx.cpu(i), name=f"blocked{i}")
    t = threading.Thread(target=threaded.waitall)
    t.start()
    t.join(0.2)
    assert t.is_alive()
    gates[0].release.set()
    t.join(0.1)
    assert t.is_alive()
    gates[1].release.set()
    t.join(TIMEOUT)
    assert not t.is_alive()


def test_back_pressure_blocks_fifth_push() -> None:
    eng = ThreadedEngine(max_inflight=4)
    assert eng.max_inflight == 4
    gate = Gate()
    pushed: list[int] = []
    ran: list[int] = []

    def pusher() -> None:
        for i in range(5):
            eng.push(lambda i=i: (gate(), ran.append(i)), writes=[Var()],
                     device=mx.cpu(0), name=f"t{i}")
            pushed.append(i)

    t = threading.Thread(target=pusher, daemon=True)
    t.start()
    t.join(0.3)
    assert t.is_alive(), "the 5th push should block while 4 tasks are in flight"
    assert pushed == [0, 1, 2, 3]
    gate.release.set()
    t.join(TIMEOUT)
    assert not t.is_alive()
    assert pushed == [0, 1, 2, 3, 4]
    eng.waitall()
    assert ran == [0, 1, 2, 3, 4]


def test_back_pressure_is_per_device() -> None:
    eng = ThreadedEngine(max_inflight=2)
    gate = Gate()
    for _ in range(2):
        eng.push(gate, writes=[Var()], device=mx.cpu(0), name="fill")
    done = threading.Event()
    t = threading.Thread(target=lambda: (eng.push(done.set, writes=[Var()], device=mx.cpu(1),
                                                  name="other"), None), daemon=True)
    t.start()
    t.join(TIMEOUT)
    assert not t.is_alive(), "a full queue on cpu(0) must not block pushes to cpu(1)"
    assert done.wait(TIMEOUT)
    gate.release.set()
    eng.waitall()


def test_concurrent_pushes_from_threads(threaded: ThreadedEngine) -> None:
    n_threads, n_steps = 4, 60
    shared = Var()
    shared_val = {"v": 0}

    def init() -> None:
        time.sleep(0.02)
        shared_val["v"] = 3

    threaded.push(init, writes=[shared], device=mx.cpu(2), name="init")
    counters = [{"c": 0} for _ in range(n_threads)]
    own = [Var() for _ in range(n_threads)]
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def inc(i: int) -> None:
        c = counters[i]["c"]
        time.sleep(0)  # invite a thread switch between the read and the write
        counters[i]["c"] = c + 1 + shared_val["v"]

    def worker(i: int) -> None:
        try:
            barrier.wait(TIMEOUT)
            for k in range(n_steps):
                threaded.push(lambda i=i: inc(i), reads=[shared], writes=[own[i]],
                              device=mx.cpu((i + k) % 2), name=f"inc{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors
    for i in range(n_threads):
        threaded.wait_for(own[i])
        assert counters[i]["c"] == n_steps * 4
    threaded.waitall()


def test_concurrent_array_updates_from_threads() -> None:
    n_threads, n_steps = 4, 40
    shared = np.full((3,), 2.0)
    big = 100_000  # big enough to go through the worker queues rather than inline
    arrays = [np.zeros((big,), device=mx.cpu(i % 2)) for i in range(n_threads)]
    smalls = [np.zeros((3,), device=mx.cpu(i % 2)) for i in range(n_threads)]
    shared_on = {0: shared, 1: shared.as_in_context(mx.cpu(1))}
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def worker(i: int) -> None:
        try:
            barrier.wait(TIMEOUT)
            s = shared_on[i % 2]
            for _ in range(n_steps):
                arrays[i] += 1
                smalls[i] += s
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    assert not errors
    for i in range(n_threads):
        a = arrays[i].asnumpy()
        assert a.min() == a.max() == n_steps
        assert smalls[i].asnumpy().tolist() == [2.0 * n_steps] * 3


# --------------------------------------------------------------------------------------------
# errors: raised at sync points, once, with op name and call site
# --------------------------------------------------------------------------------------------

def _boom(msg: str = "bad value") -> Callable[[], None]:
    def fn() -> None:
        raise ValueError(msg)

    return fn


def test_error_raised_at_wait_for_with_op_and_location(threaded: ThreadedEngine) -> None:
    v = Var()
    line = _line() + 1
    threaded.push(_boom("it broke"), writes=[v], device=mx.cpu(0), name="boom_op")
    with pytest.raises(ValueError) as info:
        threaded.wait_for(v)
    msg = str(info.value)
    assert "it broke" in msg
    assert "boom_op" in msg
    assert f"{THIS_FILE}:{line}" in msg
    assert isinstance(info.value.__cause__, ValueError)
    # raised once
    threaded.wait_for(v)
    threaded.waitall()


def test_error_location_through_global_push() -> None:
    prev = engine.set_engine_type("ThreadedEngine")
    try:
        v = Var()
        line = _line() + 1
        engine.push(_boom(), writes=[v], device=mx.cpu(0), name="global_boom")
        with pytest.raises(ValueError, match=rf"global_boom.*{THIS_FILE}:{line}"):
            engine.wait_for(v)
        engine.wait_for(v)
    finally:
        engine.set_engine_type(prev)


@pytest.mark.parametrize("exc_type", [ValueError, TypeError, IndexError, KeyError,
                                      ZeroDivisionError])
def test_error_keeps_type(threaded: ThreadedEngine, exc_type: type[Exception]) -> None:
    v = Var()

    def fn() -> None:
        raise exc_type("typed")

    threaded.push(fn, writes=[v], device=mx.cpu(0), name="typed_op")
    with pytest.raises(exc_type, match="typed_op"):
        threaded.wait_for(v)


def test_error_with_unusual_constructor(threaded: ThreadedEngine) -> None:
    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"odd {a} {b}")

    v = Var()

    def fn() -> None:
        raise Odd(1, 2)

    threaded.push(fn, writes=[v], device=mx.cpu(0), name="odd_op")
    with pytest.raises(mx.FrameworkError, match=r"Odd.*odd 1 2.*odd_op"):
        threaded.wait_for(v)


def test_dependents_do_not_run_and_inherit_error(threaded: ThreadedEngine) -> None:
    a, b, c = Var(), Var(), Var()
    ran: list[str] = []
    line = _line() + 1
    threaded.push(_boom("root cause"), writes=[a], device=mx.cpu(0), name="root")
    threaded.push(lambda: ran.append("b"), reads=[a], writes=[b], device=mx.cpu(1), name="dep1")
    threaded.push(lambda: ran.append("c"), reads=[b], writes=[c], device=mx.cpu(0), name="dep2")
    with pytest.raises(ValueError) as info:
        threaded.wait_for(c)
    msg = str(info.value)
    assert "root cause" in msg and "root" in msg and f"{THIS_FILE}:{line}" in msg
    assert "dep1" not in msg and "dep2" not in msg
    assert ran == []
    # the shared error has fired: the others read without raising (MXNet semantics)
    threaded.wait_for(a)
    threaded.wait_for(b)
    threaded.waitall()


def test_writer_of_failed_var_does_not_run_until_fired(threaded: ThreadedEngine) -> None:
    a = Var()
    ran: list[str] = []
    threaded.push(_boom(), writes=[a], device=mx.cpu(0), name="fail")
    threaded.push(lambda: ran.append("w"), writes=[a], device=mx.cpu(0), name="overwrite")
    with pytest.raises(ValueError, match="fail"):
        threaded.wait_for(a)
    assert ran == []
    # once the error fired, new work on the var runs normally
    threaded.push(lambda: ran.append("after"), writes=[a], device=mx.cpu(0), name="after")
    threaded.wait_for(a)
    assert ran == ["after"]


def test_failure_does_not_touch_unrelated_vars(threaded: ThreadedEngine) -> None:
    a, b = Var(), Var()
    ran: list[str] = []
    threaded.push(_boom(), writes=[a], device=mx.cpu(0), name="fail")
    threaded.push(lambda: ran.append("b"), writes=[b], device=mx.cpu(0), name="ok")
    threaded.wait_for(b)
    assert ran == ["b"]
    with pytest.raises(ValueError):
        threaded.wait_for(a)


def test_waitall_raises_first_pending_error_once(threaded: ThreadedEngine) -> None:
    a, b = Var(), Var()
    threaded.push(_boom("first"), writes=[a], device=mx.cpu(0), name="op_a")
    threaded.push(_boom("second"), reads=[a], writes=[b], device=mx.cpu(0), name="op_b")
    with pytest.raises(ValueError, match="first.*op_a"):
        threaded.waitall()
    threaded.waitall()  # does not raise again
    threaded.wait_for(a)
    threaded.wait_for(b)


def test_waitall_clears_all_pending_errors(threaded: ThreadedEngine) -> None:
    """MXNet's WaitForAll rethrows the first error and clears every other one."""
    a, b = Var(), Var()
    threaded.push(_boom("first"), writes=[a], device=mx.cpu(0), name="op_a")
    threaded.push(_boom("second"), writes=[b], device=mx.cpu(0), name="op_b")
    with pytest.raises(ValueError, match="first"):
        threaded.waitall()
    threaded.waitall()
    threaded.wait_for(a)
    threaded.wait_for(b)


def test_new_failure_raises_again(threaded: ThreadedEngine) -> None:
    v = Var()
    threaded.push(_boom("one"), writes=[v], device=mx.cpu(0), name="f1")
    with pytest.raises(ValueError, match="one"):
        threaded.waitall()
    threaded.waitall()
    threaded.push(_boom("two"), writes=[v], device=mx.cpu(1), name="f2")
    with pytest.raises(ValueError, match="two.*f2"):
        threaded.wait_for(v)
    threaded.push(_boom("three"), writes=[v], device=mx.cpu(0), name="f3")
    with pytest.raises(ValueError, match="three.*f3"):
        threaded.waitall()
    threaded.waitall()


def test_wait_for_fired_error_is_not_raised_by_waitall(threaded: ThreadedEngine) -> None:
    v = Var()
    threaded.push(_boom(), writes=[v], device=mx.cpu(0), name="f")
    with pytest.raises(ValueError):
        threaded.wait_for(v)
    threaded.waitall()


def test_exc_post_fail(threaded: ThreadedEngine) -> None:
    """Two outputs of one failed op: the first read raises, the second does not."""
    a, b = Var(), Var()
    threaded.push(_boom(), writes=[a, b], device=mx.cpu(0), name="two_outputs")
    with pytest.raises(ValueError, match="two_outputs"):
        threaded.wait_for(a)
    threaded.wait_for(b)
    threaded.waitall()


def test_failure_in_task_does_not_stop_worker(threaded: ThreadedEngine) -> None:
    v, w = Var(), Var()
    threaded.push(_boom(), writes=[v], device=mx.cpu(0), name="f")
    box: list[int] = []
    for i in range(5):
        threaded.push(lambda i=i: box.append(i), writes=[w], device=mx.cpu(0), name="ok")
    threaded.wait_for(w)
    assert box == list(range(5))
    with pytest.raises(ValueError):
        threaded.waitall()


def test_naive_engine_raises_at_push() -> None:
    eng = NaiveEngine()
    v = Var()
    ran: list[int] = []
    eng.push(lambda: ran.append(1), writes=[v], name="ok")
    assert ran == [1]  # ran synchronously
    line = _line() + 2
    with pytest.raises(ValueError) as info:
        eng.push(_boom("naive"), writes=[v], name="naive_boom")
    msg = str(info.value)
    assert "naive" in msg and "naive_boom" in msg and f"{THIS_FILE}:{line}" in msg
    eng.wait_for(v)
    eng.waitall()
    assert eng.idle()


def test_naive_engine_global_push_raises_at_call() -> None:
    with engine.engine_scope("NaiveEngine"):
        v = Var()
        line = _line() + 2
        with pytest.raises(KeyError, match=rf"kb.*{THIS_FILE}:{line}"):
            engine.push(lambda: {}["missing"], writes=[v], name="kb")
        engine.wait_for(v)
        engine.waitall()


# --------------------------------------------------------------------------------------------
# the same rules through arrays, under both engines
# --------------------------------------------------------------------------------------------

def _fail_into(shape: tuple[int, ...] = (3,), name: str = "boom",
               dtype: str = "float32", device: mx.Device | None = None,
               exc: type[Exception] = ValueError) -> tuple[np.ndarray | None, int]:
    """An array whose producing op fails. Under NaiveEngine the error is raised here instead
    (checked) and None is returned. Returns (array, line of the failing call)."""
    out = np.ndarray._pending(shape, onp.dtype(dtype), device or mx.cpu(0))

    def fn() -> None:
        raise exc("producer failed")

    if engine.get().naive:
        with pytest.raises(exc, match=name):
            _base.execute(name, fn, (), (out,))
        return None, 0
    line = _line() + 1
    _base.execute(name, fn, (), (out,))
    return out, line


def test_array_op_returns_before_its_producer_runs(engine_type: str) -> None:
    x = np.zeros((4,))
    gate = Gate()
    if engine_type == "NaiveEngine":
        gate.release.set()
    engine.push(gate, writes=[x._var], device=mx.cpu(0), name="gated")
    y = x + 1  # must not block on the gated producer
    assert y.shape == (4,) and y.dtype == onp.float32
    gate.release.set()
    assert y.asnumpy().tolist() == [1.0] * 4


def test_array_failure_raises_at_wait_to_read(engine_type: str) -> None:
    x, line = _fail_into()
    if x is None:
        return
    with pytest.raises(ValueError) as info:
        x.wait_to_read()
    msg = str(info.value)
    assert "producer failed" in msg and "boom" in msg and f"{THIS_FILE}:{line}" in msg
    x.wait_to_read()  # once


def test_array_dependent_inherits_error(engine_type: str) -> None:
    x, line = _fail_into()
    if x is None:
        return
    y = x + 1
    z = (y * 2).sum()
    assert y.shape == (3,) and z.shape == ()
    with pytest.raises(ValueError, match=rf"boom.*{THIS_FILE}:{line}"):
        z.wait_to_read()
    # the error fired once for the whole family
    y.wait_to_read()
    x.wait_to_read()
    mx.waitall()


def test_array_dependent_of_large_array_inherits_error(engine_type: str) -> None:
    x, _ = _fail_into(shape=(200, 200))
    if x is None:
        return
    y = np.exp(x) + x
    with pytest.raises(ValueError, match="boom"):
        y.asnumpy()


def test_array_error_through_global_push_on_var(engine_type: str) -> None:
    x = np.ones((2, 2))
    if engine_type == "NaiveEngine":
        with pytest.raises(ValueError, match="boom"):
            engine.push(_boom(), writes=[x._var], device=mx.cpu(0), name="boom")
        return
    engine.push(_boom(), writes=[x._var], device=mx.cpu(0), name="boom")
    y = x * 3
    with pytest.raises(ValueError, match="boom"):
        y.wait_to_read()


@pytest.mark.parametrize("sync", ["wait_to_read", "asnumpy", "item", "repr", "str",
                                  "numpy.asarray", "float", "int", "bool", "tolist",
                                  "waitall", "npx.waitall"])
def test_array_sync_points_raise(engine_type: str, sync: str) -> None:
    x, _ = _fail_into(shape=(1,))
    if x is None:
        return
    y = x - 1
    calls: dict[str, Callable[[], object]] = {
        "wait_to_read": y.wait_to_read,
        "asnumpy": y.asnumpy,
        "item": y.item,
        "repr": lambda: repr(y),
        "str": lambda: str(y),
        "numpy.asarray": lambda: onp.asarray(y),
        "float": lambda: float(y),
        "int": lambda: int(y),
        "bool": lambda: bool(y),
        "tolist": y.tolist,
        "waitall": mx.waitall,
        "npx.waitall": mx.npx.waitall,
    }
    with pytest.raises(ValueError, match="boom"):
        calls[sync]()
    calls[sync]()  # raised once only


def test_array_exc_post_fail(engine_type: str) -> None:
    """MXNet test_exc_post_fail: a, b from one failed op; a raises, then b does not."""
    a = np.ndarray._pending((2,), onp.dtype("float32"), mx.cpu(0))
    b = np.ndarray._pending((2,), onp.dtype("float32"), mx.cpu(0))
    if engine_type == "NaiveEngine":
        with pytest.raises(ValueError):
            _base.execute("pair", _boom(), (), (a, b))
        return
    _base.execute("pair", _boom(), (), (a, b))
    with pytest.raises(ValueError, match="pair"):
        a.asnumpy()
    b.asnumpy()
    assert b.shape == (2,)


def test_array_exc_mutable_var_fail(engine_type: str) -> None:
    """MXNet test_exc_mutable_var_fail: a = dot(a, a) on a failed a raises at the sync."""
    a, _ = _fail_into(shape=(2, 2))
    if a is None:
        return
    a = np.dot(a, a)
    with pytest.raises(ValueError, match="boom"):
        a.asnumpy()


def test_array_waitall_then_new_failure(engine_type: str) -> None:
    x, _ = _fail_into(name="first_boom")
    if x is None:
        return
    with pytest.raises(ValueError, match="first_boom"):
        mx.waitall()
    mx.waitall()
    x.asnumpy()  # cleared
    y, _ = _fail_into(name="second_boom")
    assert y is not None
    with pytest.raises(ValueError, match="second_boom"):
        mx.waitall()
    mx.waitall()


def test_array_in_place_update_of_failed_array(engine_type: str) -> None:
    x, _ = _fail_into(shape=(3,))
    if x is None:
        return
    x += 1
    with pytest.raises(ValueError, match="boom"):
        x.wait_to_read()


def test_array_setitem_into_failed_array(engine_type: str) -> None:
    x, _ = _fail_into(shape=(3,))
    if x is None:
        return
    x[0] = 5.0
    with pytest.raises(ValueError, match="boom"):
        x.asnumpy()


def test_array_failure_on_other_device_propagates(engine_type: str) -> None:
    x, _ = _fail_into(shape=(3,), device=mx.cpu(1))
    if x is None:
        return
    y = x.as_in_context(mx.cpu(0)) + 1
    assert y.device == mx.cpu(0)
    with pytest.raises(ValueError, match="boom"):
        y.asnumpy()


def test_real_op_failure_is_async_with_call_site(engine_type: str) -> None:
    """take(mode='raise') with out-of-range indices held in an array fails at run time."""
    a = np.arange(5)
    idx = np.array([1, 7], dtype="int64")
    if engine_type == "NaiveEngine":
        line = _line() + 2
        with pytest.raises(IndexError, match=rf"take.*{THIS_FILE}:{line}"):
            a.take(idx, mode="raise")
        return
    line = _line() + 1
    y = a.take(idx, mode="raise")
    assert y.shape == (2,)
    with pytest.raises(IndexError, match=rf"take.*{THIS_FILE}:{line}"):
        y.asnumpy()
    y.asnumpy()


def test_shape_errors_are_synchronous(engine_type: str) -> None:
    a = np.ones((2, 3))
    b = np.ones((4,))
    with pytest.raises(mx.FrameworkError):
        a + b
    with pytest.raises(mx.FrameworkError):
        a.reshape(5)
    with pytest.raises(IndexError):
        a[5]


def test_inline_small_op_failure_is_deferred() -> None:
    """A failing small op run inline on an idle threaded engine still raises at the sync."""
    with engine.engine_scope("ThreadedEngine"):
        mx.waitall()
        assert engine.get().idle()
        x, line = _fail_into(shape=(2,), name="inline_boom")
        assert x is not None
        with pytest.raises(ValueError, match=rf"inline_boom.*{THIS_FILE}:{line}"):
            x.wait_to_read()


def test_error_dropped_after_fire_values_are_readable(engine_type: str) -> None:
    x, _ = _fail_into(shape=(2, 3))
    if x is None:
        return
    with pytest.raises(ValueError):
        x.wait_to_read()
    # garbage, but of the right shape and dtype, and no error
    h = x.asnumpy()
    assert h.shape == (2, 3) and h.dtype == onp.float32
    y = x + 1
    assert y.asnumpy().shape == (2, 3)


def test_reductions_of_fired_array_do_not_raise_new_errors(engine_type: str) -> None:
    x, _ = _fail_into(shape=(2, 2))
    if x is None:
        return
    with pytest.raises(ValueError):
        x.wait_to_read()
    for y in (x.sum(), np.dot(x, x), x.T, x.reshape(4), x[:, 0], x.astype("int32")):
        y.wait_to_read()
    mx.waitall()


def test_failing_task_without_outputs_raises_at_waitall(threaded: ThreadedEngine) -> None:
    v = Var()
    threaded.push(_boom("reader failed"), reads=[v], device=mx.cpu(0), name="pure_read")
    threaded.wait_for(v)  # v itself is fine
    with pytest.raises(ValueError, match="reader failed.*pure_read"):
        threaded.waitall()
    threaded.waitall()


def test_task_waiting_on_its_own_queue_fails_instead_of_hanging(
        threaded: ThreadedEngine) -> None:
    v, out = Var(), Var()
    gate = Gate()

    def waits_on_later_task() -> None:
        gate()
        threaded.wait_for(v)  # v's writer is queued behind this task on the same worker

    threaded.push(waits_on_later_task, writes=[out], device=mx.cpu(0), name="self_wait")
    threaded.push(lambda: None, writes=[v], device=mx.cpu(0), name="later")
    gate.release.set()
    box: list[BaseException] = []

    def waiter() -> None:
        try:
            threaded.wait_for(out)
        except BaseException as exc:
            box.append(exc)

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    t.join(TIMEOUT)
    assert not t.is_alive(), "engine deadlocked"
    assert len(box) == 1 and isinstance(box[0], mx.FrameworkError)
    assert "deadlock" in str(box[0]) and "self_wait" in str(box[0])
    threaded.waitall()


def test_engine_scope_restores_even_if_switch_raises_pending_error() -> None:
    prev = engine.set_engine_type("ThreadedEngine")
    try:
        v = Var()
        engine.push(_boom("pending"), writes=[v], device=mx.cpu(0), name="pending_op")
        with pytest.raises(ValueError, match="pending_op"):
            with engine.engine_scope("NaiveEngine"):
                pass
        assert engine.engine_type() == "ThreadedEngine"
        assert isinstance(engine.get(), ThreadedEngine)
    finally:
        engine.set_engine_type(prev)


# -- small ops run inline past queued work they do not touch -------------------------------------

def _hold(device: mx.Device | None = None, writes: tuple[Var, ...] = (),
          reads: tuple[Var, ...] = ()) -> threading.Event:
    """Push a task that blocks its worker until the returned event is set."""
    gate = threading.Event()
    engine.push(lambda: gate.wait(10.0), reads, writes, device or mx.cpu(0), "hold")
    return gate


def test_small_op_on_ready_data_runs_inline_while_the_queue_is_held() -> None:
    with engine.engine_scope("ThreadedEngine"):
        a = np.array(onp.arange(6.0))
        a.wait_to_read()
        gate = _hold()
        try:
            t0 = time.perf_counter()
            b = a * 2 + 1  # touches nothing the held task touches
            got = b.asnumpy()  # would wait for the gate if it had been queued behind it
            assert time.perf_counter() - t0 < 5.0
            assert (got == onp.arange(6.0) * 2 + 1).all()
            assert not engine.get().idle()  # the held task is still there
        finally:
            gate.set()
        mx.waitall()


def test_small_op_reading_pending_data_waits_for_its_writer() -> None:
    with engine.engine_scope("ThreadedEngine"):
        a = np.array(onp.arange(4.0))
        a.wait_to_read()
        gate = _hold(writes=(a._var,))  # a queued task still writes a
        b = a + 1
        c = np.zeros(4)
        c[...] = 5.0  # fresh data: inline even now
        assert b._buf is None  # queued behind the writer, not computed yet
        assert c._buf is not None
        gate.set()
        assert (b.asnumpy() == onp.arange(4.0) + 1).all()


def test_small_in_place_op_waits_for_a_pending_reader() -> None:
    """Write after read: an in-place update of an array that a queued task still reads must
    not run before that task."""
    with engine.engine_scope("ThreadedEngine"):
        a = np.array(onp.arange(4.0))
        a.wait_to_read()
        seen: list[onp.ndarray] = []
        gate = threading.Event()

        def read_later() -> None:
            gate.wait(10.0)
            seen.append(a._buf.copy())

        engine.push(read_later, (a._var,), (), mx.cpu(0), "reader")
        a += 100  # must queue behind the reader
        gate.set()
        mx.waitall()
        assert (seen[0] == onp.arange(4.0)).all()
        assert (a.asnumpy() == onp.arange(4.0) + 100).all()


def test_inline_untouched_off_queues_every_op() -> None:
    with engine.engine_scope("ThreadedEngine"):
        a = np.array(onp.arange(3.0))
        a.wait_to_read()
        gate = _hold()
        ThreadedEngine.inline_untouched = False
        try:
            b = a + 1
            assert b._buf is None  # queued behind the held task
        finally:
            ThreadedEngine.inline_untouched = True
            gate.set()
        assert (b.asnumpy() == onp.arange(3.0) + 1).all()


# -- the host memory policy -----------------------------------------------------------------------

_FAULTS = """
import resource, numpy
import framework
from framework.engine import _memory
a = numpy.ones((256, 512), numpy.float32)
for _ in range(5):  # warm up: the heap reaches its working size
    b = a * 2.0; c = b + 1.0; del b, c
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):  # two 512 KB temporaries made and freed per iteration
    b = a * 2.0; c = b + 1.0; del b, c
print(_memory.STATUS)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) / 50)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc policy")
def test_freed_memory_is_kept_for_reuse_unless_switched_off():
    """The oracle is the kernel's page-fault count: with the policy, arrays freed and made again
    reuse resident pages (no faults); with glibc's defaults (FRAMEWORK_KEEP_FREED_MEMORY=0) the
    heap's top is given back at each free and faulted in again (a fault per 4 KB page)."""
    import subprocess

    def run(value):
        env = {**os.environ, "FRAMEWORK_KEEP_FREED_MEMORY": value}
        out = subprocess.run([sys.executable, "-c", _FAULTS], env=env, capture_output=True,
                             text=True, check=True).stdout.split("\n")
        return out[0], float(out[1])

    status, kept = run("1")
    if "glibc" not in status:
        pytest.skip(f"not glibc: {status}")
    off_status, default = run("0")
    assert "FRAMEWORK_KEEP_FREED_MEMORY=0" in off_status
    assert kept < 5, (status, kept)
    assert default > 100, (off_status, default)  # 2 x 512 KB = 256 pages, most of them faulted


def test_mark_and_wait_mark(threaded: ThreadedEngine) -> None:
    assert threaded.mark() is None  # nothing unfinished
    threaded.wait_mark(None)
    gates = [Gate(), Gate()]
    threaded.push(gates[0], writes=[Var()], device=mx.cpu(0), name="first")
    mark = threaded.mark()
    threaded.push(gates[1], writes=[Var()], device=mx.cpu(0), name="after the mark")
    t = threading.Thread(target=threaded.wait_mark, args=(mark,), daemon=True)
    t.start()
    t.join(0.2)
    assert t.is_alive(), "wait_mark must wait for the work pushed before the mark"
    gates[0].release.set()
    t.join(TIMEOUT)
    assert not t.is_alive(), "wait_mark must not wait for work pushed after the mark"
    gates[1].release.set()
    threaded.waitall()


def test_wait_mark_raises_nothing(threaded: ThreadedEngine) -> None:
    v = Var()

    def fail() -> None:
        raise ValueError("boom")

    threaded.push(fail, writes=[v], device=mx.cpu(0), name="failing")
    threaded.wait_mark(threaded.mark())  # the error stays on the variable for a sync point
    with pytest.raises(ValueError, match="boom"):
        threaded.wait_for(v)


def test_naive_engine_marks_nothing() -> None:
    eng = NaiveEngine()
    assert eng.mark() is None
    eng.wait_mark(None)


def test_wait_mark_ignores_another_engines_mark(threaded: ThreadedEngine) -> None:
    gate = Gate()
    threaded.push(gate, writes=[Var()], device=mx.cpu(0), name="held")
    mark = threaded.mark()
    other = ThreadedEngine()  # (what a forked child or an engine switch leaves in place)
    other.wait_mark(mark)  # returns at once: the other engine's queues are not its own
    gate.release.set()
    threaded.wait_mark(mark)


def test_variable_made_on_first_use_is_shared_by_views() -> None:
    """Inline results and arrays made from data carry no engine variable until a task or a
    wait needs one; a view made before that must still be ordered with its base."""
    with engine.engine_scope("ThreadedEngine"):
        a = np.array(onp.arange(6.0))
        b = a + 1  # computed inline: no variable yet
        assert a._v is None and b._v is None
        b.wait_to_read()  # nothing to wait for
        assert b._v is None
        v = b[2:4]  # the view and its base get one variable, shared
        assert v._v is not None and v._v is b._v
        gate = _hold(writes=(v._var,))  # a queued task writes through the view ...
        engine.push(lambda: v._buf.__setitem__(Ellipsis, -1.0), (), (v._var,), mx.cpu(0),
                    "write view")
        c = b * 2  # ... so reading the base queues behind it
        assert c._buf is None
        gate.set()
        assert c.asnumpy().tolist() == [2.0, 4.0, -2.0, -2.0, 10.0, 12.0]


def test_variable_made_once_under_concurrent_first_use() -> None:
    from framework.nd import _base
    arrays = [np.array(onp.arange(3.0)) for _ in range(2000)]
    seen: list[list[object]] = [[], []]
    start = threading.Barrier(2)

    def grab(k: int) -> None:
        start.wait()
        seen[k] = [_base._new_var(x) for x in arrays]

    threads = [threading.Thread(target=grab, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p is q is x._v for p, q, x in zip(seen[0], seen[1], arrays))
