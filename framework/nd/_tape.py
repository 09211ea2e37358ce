"""The autograd tape: per-thread recording state and the graph nodes ops leave behind.

This lives in ``nd`` because every op entry point must be able to record itself; the user API
(``record()``, ``backward()``, ``grad()``, ``Function``) is in :mod:`framework.autograd`, which
walks the graph built here.

An array takes part in the graph when it is a *variable* (``attach_grad`` set its ``_grad_req`` to
'write' or 'add') or when it was produced by a recorded op (its ``_node`` is set). An op is
recorded only while recording is on and at least one input takes part.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ..base import FrameworkError

__all__ = ["STATE", "Node", "requires_grad", "record", "check_write", "is_recording",
           "is_training"]


class _State(threading.local):
    """Recording and training flags of the current thread (MXNet keeps them per thread)."""

    recording = False
    training = False


STATE = _State()


class Node:
    """One recorded op application: the op, its inputs and its outputs.

    Outputs point back with ``array._node = (node, index)``. ``freed`` is set after a backward
    pass that did not retain the graph; a second pass through it raises.
    """

    __slots__ = ("op", "inputs", "outputs", "freed", "__weakref__")

    def __init__(self, op: Any, inputs: tuple[Any, ...], outputs: tuple[Any, ...]) -> None:
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.freed = False

    def __repr__(self) -> str:
        return f"<Node {getattr(self.op, 'name', type(self.op).__name__)}>"


def requires_grad(x: Any) -> bool:
    """Whether gradients flow through ``x``."""
    return x._node is not None or x._grad_req != "null"


def record(op: Any, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
    """Record ``op`` if any input takes part in the graph (call only while recording)."""
    for x in inputs:
        if x._node is not None or x._grad_req != "null":
            break
    else:
        return
    node = Node(op, tuple(inputs), tuple(outputs))
    for i, o in enumerate(outputs):
        o._node = (node, i)


def check_write(x: Any) -> None:
    """Refuse an in-place write into an array that is in the graph while recording."""
    if STATE.recording and (x._node is not None or x._grad_req != "null"):
        raise FrameworkError(
            "Assigning to NDArrays that are already in a computational graph will cause "
            "undefined behavior when evaluating gradients. Please call backward first to "
            "clear the graph or do this out of a record section. (In-place write into an array "
            f"of shape {x._shape} inside autograd.record().)")


def is_recording() -> bool:
    return STATE.recording


def is_training() -> bool:
    return STATE.training
