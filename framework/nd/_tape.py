"""The autograd tape: per-thread recording state and the graph nodes ops leave behind.

This lives in ``nd`` because every op entry point must be able to record itself; the user API
(``record()``, ``backward()``, ``grad()``, ``Function``) is in :mod:`framework.autograd`, which
walks the graph built here.

An array takes part in the graph when it is a *variable* (``attach_grad`` set its ``_grad_req`` to
'write' or 'add') or when it was produced by a recorded op (its ``_node`` is set). An op is
recorded only while recording is on and at least one input takes part.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from ..base import FrameworkError

__all__ = ["STATE", "ACTIVE", "Node", "Trace", "requires_grad", "record", "check_write",
           "is_recording", "is_training", "set_trace", "set_grad"]


class _State(threading.local):
    """Recording and training flags of the current thread (MXNet keeps them per thread).

    ``recording`` is the flag op entry points test: true while autograd records (``grad``) or
    while a hybridized block is being traced (``trace``).
    """

    recording = False
    grad = False
    training = False
    trace: Trace | None = None


class Trace:
    """The ops applied while a hybridized block runs its forward for the first time.

    Each entry is ``(op, inputs, outputs, replay)``; ``replay(inputs)`` re-applies the op to new
    inputs (default: ``op.replay``). Entries keep their arrays alive, so ``id()`` stays unique.

    ``pristine`` maps ``id(array)`` of a constant (an array the forward made without an op,
    such as ``np.zeros``) to a copy of it taken just before the trace first wrote into it (or
    into a view of it), so that replays start from the constant's original value; arrays whose
    ids are in ``exclude`` (the call's inputs, the parameters) are never copied.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.entries: list[tuple[Any, tuple[Any, ...], tuple[Any, ...], Any]] = []
        self.exclude: set[int] = set()
        self.pristine: dict[int, Any] = {}
        self._root: dict[int, Any] = {}  # id(view output) -> the array it is a view of
        self._produced: set[int] = set()

    def add(self, op: Any, inputs: Sequence[Any], outputs: Sequence[Any], replay: Any) -> None:
        self.entries.append((op, tuple(inputs), tuple(outputs), replay))
        if inputs and outputs and outputs[0]._var is inputs[0]._var:  # a view (or in place)
            x = inputs[0]
            self._root.setdefault(id(outputs[0]), self._root.get(id(x), x))
        for o in outputs:
            if id(o) not in self._root and not any(o is x for x in inputs):
                self._produced.add(id(o))

    def before_write(self, arrays: Sequence[Any]) -> None:
        """Called before a task writes ``arrays`` in place: keep a pristine copy of each one
        that is (a view of) a constant."""
        for a in arrays:
            root = self._root.get(id(a), a)
            key = id(root)
            if key in self.pristine or key in self.exclude or key in self._produced or \
                    not hasattr(root, "copy"):
                continue
            prev, STATE.trace = STATE.trace, None
            grad, STATE.grad = STATE.grad, False
            rec = STATE.recording
            _set_recording(False)
            try:
                self.pristine[key] = root.copy()  # ordered before the write on the engine
            finally:
                STATE.trace, STATE.grad = prev, grad
                _set_recording(rec)


def set_trace(trace: Trace | None) -> Trace | None:
    """Start (or stop, with None) tracing on this thread; returns the previous trace."""
    prev = STATE.trace
    STATE.trace = trace
    _set_recording(STATE.grad or trace is not None)
    return prev


def set_grad(on: bool) -> bool:
    prev = STATE.grad
    STATE.grad = bool(on)
    _set_recording(STATE.grad or STATE.trace is not None)
    return prev


STATE = _State()


class _Active:
    """How many threads have ``STATE.recording`` on, process-wide (``count``).

    An attribute of a thread-local object costs ~60 ns to read, one of a plain object ~20, and
    every op entry point asks whether it must record. Hot paths test ``ACTIVE.count and
    STATE.recording`` (or ``STATE.trace``, which implies recording), so that code running while
    no thread records (inference, data loading, optimizer updates, plain array work) pays only
    the plain read. Only :func:`_set_recording` changes it; a thread that ends while recording
    leaves it raised, which costs time, never correctness."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


ACTIVE = _Active()
_active_lock = threading.Lock()


def _set_recording(on: bool) -> None:
    """Set this thread's ``STATE.recording``, keeping ``ACTIVE.count``: raised before the flag
    goes on, lowered after it goes off, so a thread whose flag is on always finds it raised."""
    if on == STATE.recording:
        return
    with _active_lock:
        if on:
            ACTIVE.count += 1
            STATE.recording = True
        else:
            STATE.recording = False
            ACTIVE.count -= 1


def _after_fork() -> None:  # a lock held by another thread at fork stays held in the child
    global _active_lock
    _active_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class Node:
    """One recorded op application: the op, its inputs and its outputs.

    Outputs point back with ``array._node = (node, index)``. ``freed`` is set after a backward
    pass that did not retain the graph; a second pass through it raises.

    A single output is held by a weak reference, so that recording leaves no reference cycle
    (output -> node -> output) for the cycle collector: a graph that is never differentiated
    is freed as soon as its arrays are. The output is alive whenever the node matters: a
    backward pass reaches a node only through one of its outputs (a head, or an input that a
    later node holds), and with one output that is the one. (Several outputs are held: a pass
    may reach the node through one while it needs the others, such as an auxiliary output.)
    """

    __slots__ = ("op", "inputs", "_outs", "freed", "__weakref__")

    def __init__(self, op: Any, inputs: tuple[Any, ...], outputs: tuple[Any, ...]) -> None:
        self.op = op
        self.inputs = inputs
        self._outs: Any = weakref.ref(outputs[0]) if len(outputs) == 1 else outputs
        self.freed = False

    @property
    def outputs(self) -> tuple[Any, ...]:
        outs = self._outs
        if outs.__class__ is tuple:
            return outs  # type: ignore[no-any-return]
        out = outs()
        return () if out is None else (out,)

    @outputs.setter
    def outputs(self, value: tuple[Any, ...]) -> None:
        self._outs = tuple(value)

    def __repr__(self) -> str:
        if self.op is None:
            return "<Node (freed)>"
        return f"<Node {getattr(self.op, 'name', type(self.op).__name__)}>"


_new = object.__new__
_weakref = weakref.ref


def requires_grad(x: Any) -> bool:
    """Whether gradients flow through ``x``."""
    return x._node is not None or x._grad_req != "null"


def record(op: Any, inputs: Sequence[Any], outputs: Sequence[Any], replay: Any = None) -> None:
    """Add ``op`` to the trace being built, if any, and to the autograd graph if autograd is
    recording and an input takes part in it (call only while ``STATE.recording``)."""
    state = STATE
    trace = state.trace
    if trace is not None:
        trace.add(op, inputs, outputs, replay)
    if not state.grad:
        return
    for x in inputs:
        if x._node is not None or x._grad_req != "null":
            break
    else:
        return
    if len(outputs) == 1:  # (Node's constructor inlined: this runs for every recorded op)
        out = outputs[0]
        node = _new(Node)
        node.op = op
        node.inputs = inputs if inputs.__class__ is tuple else tuple(inputs)
        node._outs = _weakref(out)
        node.freed = False
        out._node = (node, 0)
        return
    node = Node(op, tuple(inputs), tuple(outputs))
    for i, o in enumerate(outputs):
        o._node = (node, i)


def check_write(x: Any) -> None:
    """Refuse an in-place write into an array that is in the graph while recording."""
    if STATE.grad and (x._node is not None or x._grad_req != "null"):
        raise FrameworkError(
            "Assigning to NDArrays that are already in a computational graph will cause "
            "undefined behavior when evaluating gradients. Please call backward first to "
            "clear the graph or do this out of a record section. (In-place write into an array "
            f"of shape {x._shape} inside autograd.record().)")


def is_recording() -> bool:
    return STATE.grad


def is_training() -> bool:
    return STATE.training
