"""The asynchronous execution engine.

Every array owns a :class:`Var`. A task names the variables it reads and writes; the engine runs
it after every earlier task that writes what it reads (read-after-write) or touches what it writes
(write-after-read, write-after-write). Two engines share this contract:

``ThreadedEngine`` (default)
    One worker thread and one FIFO queue per device. Tasks on one device run in push order, which
    already satisfies every ordering rule between them; a task that depends on work queued on
    another device waits for that work before it runs. NumPy releases the GIL inside its kernels,
    so Python keeps issuing work while a worker computes. The queue is bounded (back-pressure).

``NaiveEngine``
    Runs each task at once on the caller's thread and raises its error at the call. For debugging
    and as the oracle in tests.

A failure inside a task is stored on the variables it writes and re-raised at the first sync point
that touches one of them (``wait_for``/``waitall``), as the original exception type with the op
name and the user's ``file:line`` added. Tasks that read a failed variable do not run; they pass
the same error on. An error is raised once: after it fires, arrays holding it read without raising
(MXNet's semantics, API.md §2 item 8).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import _config
from ..base import FrameworkError

__all__ = [
    "Var", "AsyncError", "Engine", "ThreadedEngine", "NaiveEngine", "get", "set_engine_type",
    "engine_type", "push", "wait_for", "waitall", "user_location",
]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_location(skip: int = 1) -> str:
    """``file:line`` of the innermost caller outside the framework package."""
    try:
        frame: Any = sys._getframe(skip)
    except ValueError:
        return "<unknown>"
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PKG_DIR) or "/tests/" in filename:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


class AsyncError:
    """An exception raised inside a task, waiting for a sync point to report it."""

    __slots__ = ("exc", "op", "where", "fired")

    def __init__(self, exc: BaseException, op: str, where: str) -> None:
        self.exc = exc
        self.op = op
        self.where = where
        self.fired = False

    def build(self) -> BaseException:
        """The exception to raise: the original type, its message plus the op and location."""
        exc = self.exc
        msg = f"{exc} [in operator '{self.op}' issued at {self.where}]"
        try:
            new = type(exc)(msg)
        except Exception:
            new = FrameworkError(f"{type(exc).__name__}: {msg}")
        new.__cause__ = exc
        return new

    def fire(self) -> None:
        self.fired = True
        raise self.build()


class Var:
    """An engine variable: the token tasks name in ``reads``/``writes``.

    ``writer`` is ``(worker, seq)`` of the last task that writes it; ``readers`` maps each worker
    to the last task there that reads it since that write; ``err`` is a pending failure.
    """

    __slots__ = ("writer", "readers", "err", "__weakref__")

    def __init__(self) -> None:
        self.writer: tuple[_Worker, int] | None = None
        self.readers: dict[_Worker, int] | None = None
        self.err: AsyncError | None = None


class _Task:
    __slots__ = ("fn", "reads", "writes", "name", "where", "deps", "seq")

    def __init__(self, fn: Callable[[], Any], reads: Sequence[Var], writes: Sequence[Var],
                 name: str, where: str, deps: list[tuple[_Worker, int]]) -> None:
        self.fn = fn
        self.reads = reads
        self.writes = writes
        self.name = name
        self.where = where
        self.deps = deps
        self.seq = 0


def _run_task(engine: Engine, task: _Task) -> None:
    """Run one task, or pass on the error of a failed input."""
    err = None
    for v in task.reads:
        e = v.err
        if e is not None and not e.fired:
            err = e
            break
    if err is None:
        for v in task.writes:
            e = v.err
            if e is not None and not e.fired:
                err = e
                break
    if err is None:
        try:
            task.fn()
        except Exception as exc:
            err = AsyncError(exc, task.name, task.where)
            engine._record(err)
    if err is not None:
        for v in task.writes:
            v.err = err


class _Worker:
    """One device's FIFO queue and the thread that drains it."""

    def __init__(self, engine: ThreadedEngine, key: Any, max_inflight: int) -> None:
        self.engine = engine
        self.key = key
        self.max_inflight = max_inflight
        self.cond = threading.Condition(threading.Lock())
        self.queue: deque[_Task] = deque()
        self.pushed = 0
        self.done = 0
        self.waiters = 0
        # the smallest ``done`` a waiter needs (0: unknown); finishing a task wakes the waiters
        # only once ``done`` reaches it, not after every task: a thread woken for nothing
        # competes for the GIL with the worker it waits for
        self.wake_at = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name=f"framework-engine-{key}",
                                       daemon=True)
        self.thread.start()

    def enqueue(self, task: _Task) -> int:
        with self.cond:
            while self.pushed - self.done >= self.max_inflight:
                # full: sleep until half of it has drained (a low-water mark), then push a
                # batch, instead of waking to push one task after every task done
                self._sleep_until(self.pushed - self.max_inflight // 2)
            self.pushed += 1
            task.seq = self.pushed
            self.queue.append(task)
            if len(self.queue) == 1:
                self.cond.notify_all()
            return task.seq

    def stop(self) -> None:
        """Let the thread exit once its queue is empty."""
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    def wait(self, seq: int) -> None:
        """Block until the task numbered ``seq`` on this worker has finished."""
        if self.done >= seq:
            return
        if threading.current_thread() is self.thread:
            raise FrameworkError("a task waited on its own device's queue (deadlock)")
        with self.cond:
            while self.done < seq:
                self._sleep_until(seq)

    def _sleep_until(self, seq: int) -> None:
        """Wait on the condition (held) to be woken once task ``seq`` is done, or earlier."""
        self.waiters += 1
        if not self.wake_at or seq < self.wake_at:
            self.wake_at = seq
        try:
            self.cond.wait()
        finally:
            self.waiters -= 1

    def _loop(self) -> None:
        cond = self.cond
        queue = self.queue
        while True:
            with cond:
                while not queue:
                    if self.stopping:
                        return
                    cond.wait()
                task = queue[0]
            for worker, seq in task.deps:
                worker.wait(seq)
            _run_task(self.engine, task)
            task.fn = None  # type: ignore[assignment]  # drop buffers the closure holds
            with cond:
                queue.popleft()
                self.done = task.seq
                if self.waiters and self.done >= self.wake_at:
                    self.wake_at = 0  # the woken waiters that still wait set it again
                    cond.notify_all()


def _untouched(reads: Sequence[Var], writes: Sequence[Var]) -> bool:
    """No unfinished task writes a variable of ``reads`` or ``writes``, or reads one of
    ``writes``. (A worker's ``done`` only grows: a stale value errs on the side of False.)"""
    for v in reads:
        w = v.writer
        if w is not None and w[0].done < w[1]:
            return False
    for v in writes:
        w = v.writer
        if w is not None and w[0].done < w[1]:
            return False
        readers = v.readers
        if readers:
            for rw, rseq in readers.items():
                if rw.done < rseq:
                    return False
    return True


class Engine:
    """Common interface of both engines."""

    naive = False

    def __init__(self) -> None:
        self._errors: list[AsyncError] = []
        self._err_lock = threading.Lock()

    # -- errors -------------------------------------------------------------------------------
    def _record(self, err: AsyncError) -> None:
        with self._err_lock:
            self._errors = [e for e in self._errors if not e.fired]
            self._errors.append(err)

    def _raise_pending(self) -> None:
        with self._err_lock:
            pending = [e for e in self._errors if not e.fired]
            self._errors = []
        for e in pending[1:]:
            e.fired = True  # MXNet's WaitForAll rethrows the first error and clears the rest
        if pending:
            pending[0].fire()

    # -- interface ------------------------------------------------------------------------------
    def push(self, fn: Callable[[], Any], reads: Sequence[Var] = (), writes: Sequence[Var] = (),
             device: Any = None, name: str = "op") -> None:
        raise NotImplementedError

    def wait_for(self, var: Var) -> None:
        """Wait until every task writing ``var`` is done; raise its pending error."""
        raise NotImplementedError

    def wait_for_write(self, var: Var) -> None:
        """Wait until no task reads or writes ``var`` (before touching it from the host)."""
        raise NotImplementedError

    def waitall(self) -> None:
        raise NotImplementedError

    def mark(self) -> Any:
        """A marker of all the work pushed so far, for :meth:`wait_mark` (None: nothing is
        unfinished)."""
        return None

    def wait_mark(self, mark: Any) -> None:
        """Block until the work pushed before ``mark`` was taken has finished. Raises
        nothing: a failed task's error stays on its variables for the next sync point."""

    def idle(self) -> bool:
        """True when nothing is queued or running anywhere."""
        raise NotImplementedError

    def shutdown(self) -> None:
        pass

    @staticmethod
    def _check(var: Var) -> None:
        err = var.err
        if err is not None and not err.fired:
            err.fire()


class NaiveEngine(Engine):
    """Synchronous engine: every task runs at the call and raises there."""

    naive = True

    def push(self, fn: Callable[[], Any], reads: Sequence[Var] = (), writes: Sequence[Var] = (),
             device: Any = None, name: str = "op") -> None:
        for v in reads:
            err = v.err  # (_check inlined: every task of the NaiveEngine passes here)
            if err is not None and not err.fired:
                err.fire()
        try:
            fn()
        except Exception as exc:
            err = AsyncError(exc, name, user_location(2))
            err.fire()

    def wait_for(self, var: Var) -> None:
        self._check(var)

    def wait_for_write(self, var: Var) -> None:
        self._check(var)

    def waitall(self) -> None:
        self._raise_pending()

    def idle(self) -> bool:
        return True


class ThreadedEngine(Engine):
    """One worker thread per device; tasks run asynchronously in dependency order."""

    #: small ops whose data no unfinished task touches run inline even while other work is in
    #: flight (False: only on an idle engine; tests set it to force ops through the queues)
    inline_untouched = True

    def __init__(self, max_inflight: int | None = None) -> None:
        super().__init__()
        self.max_inflight = max_inflight or _config.max_inflight()
        self.lock = threading.RLock()
        self.workers: dict[Any, _Worker] = {}
        self.worker_list: list[_Worker] = []
        # a sequence counter (seqlock) for lock-free readers such as the operator fast path
        # (``nd._elemwise.make_operator``): odd while a push or an inline run is between its
        # start and its end, and changed by every one of them. A reader that sees the same even
        # value before and after computing a pure op (fresh output, nothing mutated) from an
        # idle engine knows that no task and no inline run touched its inputs meanwhile; when it
        # changed, the reader drops its result and goes through the locked path. Only holders
        # of ``lock`` write it.
        self.gen = 0

    def worker(self, device: Any) -> _Worker:
        key = device if device is not None else "cpu(0)"
        w = self.workers.get(key)
        if w is None:
            with self.lock:
                w = self.workers.get(key)
                if w is None:
                    w = _Worker(self, key, self.max_inflight)
                    self.workers[key] = w
                    self.worker_list = [*self.worker_list, w]
        return w

    def push(self, fn: Callable[[], Any], reads: Sequence[Var] = (), writes: Sequence[Var] = (),
             device: Any = None, name: str = "op") -> None:
        worker = self.worker(device)
        where = user_location(2)
        with self.lock:
            deps: dict[_Worker, int] = {}
            for v in reads:
                w = v.writer
                if w is not None and w[0] is not worker and w[0].done < w[1]:
                    if deps.get(w[0], 0) < w[1]:
                        deps[w[0]] = w[1]
            for v in writes:
                w = v.writer
                if w is not None and w[0] is not worker and w[0].done < w[1]:
                    if deps.get(w[0], 0) < w[1]:
                        deps[w[0]] = w[1]
                if v.readers:
                    for rw, rseq in v.readers.items():
                        if rw is not worker and rw.done < rseq and deps.get(rw, 0) < rseq:
                            deps[rw] = rseq
            task = _Task(fn, tuple(reads), tuple(writes), name, where, list(deps.items()))
            self.gen += 1  # odd: see __init__
            try:
                seq = worker.enqueue(task)
            finally:
                self.gen += 1
            for v in reads:
                r = v.readers
                if r is None:
                    v.readers = {worker: seq}
                else:
                    r[worker] = seq
            for v in writes:
                v.writer = (worker, seq)
                v.readers = None

    def may_run_now(self, reads: Sequence[Var] | None, writes: Sequence[Var]) -> bool:
        """With ``lock`` held: may a task with these variables run on the caller's thread now?
        Yes when nothing is in flight, or (``reads`` given, ``inline_untouched`` on) when no
        unfinished task touches them (:func:`_untouched`)."""
        for w in self.worker_list:
            if w.pushed != w.done:
                return reads is not None and self.inline_untouched and \
                    _untouched(reads, writes)
        return True

    def run_inline(self, fn: Callable[[], Any], writes: Iterable[Var], name: str,
                   reads: Sequence[Var] | None = None) -> bool:
        """Run ``fn`` now on this thread when nothing it touches is in flight.

        That is when the engine is idle, or, given ``reads`` (the variables ``fn`` reads;
        ``writes`` are those it writes), when no queued or running task writes a variable in
        ``reads`` or ``writes`` or still reads one in ``writes``: ``fn`` then cannot observe or
        disturb any task, and running it ahead of unrelated queued work keeps every dependency.
        Returns False (and runs nothing) otherwise; the caller then pushes. A failure is kept on
        ``writes`` like a queued task's, so behaviour does not depend on the timing.
        """
        writes = writes if isinstance(writes, (list, tuple)) else list(writes)
        lock = self.lock
        lock.acquire()  # (acquire/release: cheaper than ``with`` on this per-op path)
        try:
            if not self.may_run_now(reads, writes):
                return False
            self.gen += 1  # odd while ``fn`` may write its outputs: see __init__
            try:
                fn()
            except Exception as exc:
                err = AsyncError(exc, name, user_location(2))
                self._record(err)
                for v in writes:
                    v.err = err
            finally:
                self.gen += 1
            return True
        finally:
            lock.release()

    def wait_for(self, var: Var) -> None:
        w = var.writer
        if w is not None:
            w[0].wait(w[1])
        self._check(var)

    def wait_for_write(self, var: Var) -> None:
        w = var.writer
        if w is not None:
            w[0].wait(w[1])
        readers = var.readers
        if readers:
            for rw, rseq in list(readers.items()):
                rw.wait(rseq)
        self._check(var)

    def waitall(self) -> None:
        for w in self.worker_list:
            w.wait(w.pushed)
        self._raise_pending()

    def idle(self) -> bool:
        for w in self.worker_list:
            if w.pushed != w.done:
                return False
        return True

    def mark(self) -> Any:
        unfinished = [(w, w.pushed) for w in self.worker_list if w.pushed != w.done]
        return (self, unfinished) if unfinished else None

    def wait_mark(self, mark: Any) -> None:
        # a mark of another engine is past: an engine switch waits for all work, and a forked
        # child's new engine never runs the parent's queued tasks
        if not mark or mark[0] is not self:
            return
        me = threading.current_thread()
        for w, seq in mark[1]:
            if w.thread is not me:  # (a task waiting on its own queue would never return)
                w.wait(seq)

    def shutdown(self) -> None:
        """Finish queued work and stop the worker threads."""
        with self.lock:
            workers, self.workers, self.worker_list = self.worker_list, {}, []
        for w in workers:
            w.stop()
        for w in workers:
            if w.thread is not threading.current_thread():
                w.thread.join(timeout=10)


_NAMES = {
    "NaiveEngine": NaiveEngine,
    "ThreadedEngine": ThreadedEngine,
    "ThreadedEnginePerDevice": ThreadedEngine,
}

_engine: Engine
_engine_name: str


def _make(name: str) -> Engine:
    cls = _NAMES.get(name)
    if cls is None:
        raise ValueError(f"engine type must be one of {sorted(_NAMES)}, got {name!r} "
                         "(from FRAMEWORK_ENGINE_TYPE / MXNET_ENGINE_TYPE)")
    return cls()


def get() -> Engine:
    """The engine in use."""
    return _engine


def engine_type() -> str:
    return _engine_name


def set_engine_type(name: str) -> str:
    """Switch engines (after waiting for all work); returns the previous type's name."""
    global _engine, _engine_name
    new = _make(name)
    old, old_name = _engine, _engine_name
    try:
        old.waitall()
    finally:
        _engine = new
        _engine_name = name
        old.shutdown()
    return old_name


def push(fn: Callable[[], Any], reads: Sequence[Var] = (), writes: Sequence[Var] = (),
         device: Any = None, name: str = "op") -> None:
    """Schedule ``fn`` after the tasks it depends on; returns at once (NaiveEngine: runs it)."""
    _engine.push(fn, reads, writes, device, name)


def wait_for(var: Var) -> None:
    """Block until ``var`` is computed; raise its pending error once."""
    _engine.wait_for(var)


def waitall() -> None:
    """Block until all queued work is done; raise the first pending error once."""
    _engine.waitall()


def _reset_after_fork() -> None:
    # worker threads do not survive fork(); a child starts with a fresh engine
    global _engine
    _engine = _make(_engine_name)


def _at_exit() -> None:
    try:
        _engine.waitall()
    except Exception:
        pass  # errors nobody synchronised on are dropped at exit, as in MXNet


_engine_name = _config.engine_type()
_engine = _make(_engine_name)
atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
