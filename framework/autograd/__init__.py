"""Automatic differentiation with MXNet's ``autograd`` API.

    >>> from framework import autograd, np
    >>> x = np.array([1., 2., 3.])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])

Ops record themselves (``framework.nd._tape``) while recording is on and an input takes part in
the graph. ``backward`` walks the graph from the heads in reverse topological order and runs each
op's ``backward``, which is written in framework ops: the gradient computation goes through the
engine asynchronously, and with ``create_graph=True`` it is recorded, so gradients of gradients
work. Rules follow MXNet (API.md §2 items 11-15): ``grad_req='write'`` overwrites, ``'add'``
accumulates; the head gradient defaults to ones; a second backward through a graph that was not
retained raises; in-place writes into arrays in the graph raise while recording.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from ..base import FrameworkError, ShapeError
from ..nd import _create, _elemwise, _gradutil
from ..nd._array import set_autograd_hooks
from ..nd._base import BaseArray, execute
from ..nd._op import Op
from ..nd._tape import STATE, Node, requires_grad, set_grad, set_trace
from ..nd._tape import record as _record_node

__all__ = [
    "record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
    "set_recording", "set_training", "backward", "grad", "mark_variables", "Function",
]


def is_recording() -> bool:
    """Whether ops are being recorded on this thread."""
    return STATE.grad


def is_training() -> bool:
    """Whether layers behave as in training (Dropout active, BatchNorm batch statistics)."""
    return STATE.training


def set_recording(is_recording: bool) -> bool:
    """Turn recording on or off; returns the previous state."""
    return set_grad(is_recording)


def set_training(train_mode: bool) -> bool:
    """Turn training mode on or off; returns the previous state."""
    prev = STATE.training
    STATE.training = bool(train_mode)
    return prev


class _scope(contextlib.AbstractContextManager):
    """Set recording and/or training (None: unchanged) inside the block, restore them after.
    A class rather than a generator context manager: ``record()`` and ``pause()`` are entered
    on every training step."""

    __slots__ = ("recording", "training", "saved")

    def __init__(self, recording: bool | None, training: bool | None) -> None:
        self.recording = recording
        self.training = training
        self.saved: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self.saved.append((STATE.grad, STATE.training))
        if self.recording is not None:
            set_grad(self.recording)
        if self.training is not None:
            STATE.training = self.training

    def __exit__(self, *exc: Any) -> None:
        prev_rec, prev_train = self.saved.pop()
        set_grad(prev_rec)
        STATE.training = prev_train


def record(train_mode: bool = True) -> contextlib.AbstractContextManager[None]:
    """Record ops for differentiation; also sets training mode unless ``train_mode=False``."""
    return _scope(True, train_mode)


def pause(train_mode: bool = False) -> contextlib.AbstractContextManager[None]:
    """Stop recording inside a ``record()`` block."""
    return _scope(False, train_mode)


def train_mode() -> contextlib.AbstractContextManager[None]:
    """Training behaviour without recording."""
    return _scope(None, True)


def predict_mode() -> contextlib.AbstractContextManager[None]:
    """Inference behaviour; recording unchanged."""
    return _scope(None, False)


# -- the backward pass ----------------------------------------------------------------------------

def _as_list(x: Any, what: str) -> list[Any]:
    if isinstance(x, BaseArray):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"{what} must be an ndarray or a list of ndarrays, got {type(x).__name__}")


def _topo(heads: Sequence[BaseArray]) -> list[Node]:
    """Nodes reachable from ``heads``, each after every node that consumes its outputs."""
    order: list[Node] = []
    seen: set[int] = set()
    for h in heads:
        if h._node is None:
            continue
        stack: list[tuple[Node, bool]] = [(h._node[0], False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.freed:
                raise FrameworkError(
                    "Trying to backward through the graph a second time, but the saved "
                    "intermediate results were already freed. Pass retain_graph=True to the "
                    "first backward (or autograd.grad) to keep them.")
            stack.append((node, True))
            for x in node.inputs:
                if x._node is not None and id(x._node[0]) not in seen:
                    stack.append((x._node[0], False))
    order.reverse()
    return order


def _key(x: BaseArray) -> tuple[int, int]:
    if x._node is not None:
        return (id(x._node[0]), x._node[1])
    return (id(x), -1)


def _accumulate(grads: dict[tuple[int, int], Any], key: tuple[int, int], g: Any) -> None:
    prev = grads.get(key)
    grads[key] = g if prev is None else _elemwise.binary("add", prev, g)


def _run(heads: list[BaseArray], head_grads: list[Any] | None, retain_graph: bool,
         create_graph: bool, train_mode: bool) -> tuple[dict[tuple[int, int], Any],
                                                         dict[int, BaseArray]]:
    """Propagate gradients from ``heads``; returns gradients by key, and the leaves reached."""
    if head_grads is None:
        head_grads = [None] * len(heads)
    if len(head_grads) != len(heads):
        raise ValueError(f"backward: {len(heads)} heads but {len(head_grads)} head gradients")
    for h in heads:
        if not isinstance(h, BaseArray):
            raise TypeError(f"backward: heads must be ndarrays, got {type(h).__name__}")
        if not requires_grad(h):  # (a variable itself may be a head: np.atleast_1d(x) is x)
            raise FrameworkError(
                "Cannot differentiate node because it is not in a computational graph. You "
                "need to set is_recording to true or use autograd.record() to save "
                "computational graphs for backward. If you want to differentiate the same "
                "graph twice, you need to pass retain_graph=True to backward.")
    grads: dict[tuple[int, int], Any] = {}
    leaves: dict[int, BaseArray] = {}
    with _scope(create_graph, train_mode):
        for h, hg in zip(heads, head_grads):
            if hg is None:
                hg = _create.ones_like(h)
            elif not isinstance(hg, BaseArray):
                raise TypeError(f"backward: head gradients must be ndarrays, got "
                                f"{type(hg).__name__}")
            elif hg._shape != h._shape:
                raise ValueError(f"backward: head gradient shape {hg._shape} does not match "
                                 f"the head's shape {h._shape}")
            _accumulate(grads, _key(h), hg)
            if h._node is None:
                leaves[id(h)] = h
        order = _topo(heads)
        for node in order:
            outs = node.outputs
            nid = id(node)
            if len(outs) == 1:  # (the common case, without the lists' generality)
                g = grads.get((nid, 0))
                if g is None:
                    continue
                ograds = [g]
            else:
                ograds = [grads.get((nid, i)) for i in range(len(outs))]
                if all(g is None for g in ograds):
                    continue
                ograds = _gradutil.out_grads(node.op, ograds, outs)
            inputs = node.inputs
            in_grads = node.op.backward(inputs, outs, ograds)
            if len(in_grads) != len(inputs):
                raise FrameworkError(f"operator '{node.op.name}' returned {len(in_grads)} "
                                     f"gradients for {len(inputs)} inputs")
            for x, g in zip(inputs, in_grads):
                if g is None:
                    continue
                xn = x._node
                if xn is None and x._grad_req == "null":
                    continue  # (not requires_grad(x))
                if g._shape != x._shape:
                    raise FrameworkError(f"operator '{node.op.name}' returned a gradient of "
                                         f"shape {g._shape} for an input of shape {x._shape}")
                if xn is None:
                    key = (id(x), -1)
                    leaves[id(x)] = x
                else:
                    key = (id(xn[0]), xn[1])
                prev = grads.get(key)
                grads[key] = g if prev is None else _elemwise.binary("add", prev, g)
        if not retain_graph:
            # drop everything the graph held, the op too: an op such as a hybridized graph's
            # keeps the call's arrays, whose ``_node`` points back at this node; left to the
            # cycle collector, those buffers outlive the step and the allocator keeps asking
            # the system for fresh pages
            for node in order:
                node.freed = True
                node.inputs = ()
                node.outputs = ()
                node.op = None
    return grads, leaves


def backward(heads: Any, head_grads: Any = None, retain_graph: bool = False,
             train_mode: bool = True, create_graph: bool = False) -> None:
    """Compute the gradients of ``heads`` and store them in the ``.grad`` of the variables."""
    hs = _as_list(heads, "heads")
    hgs = None if head_grads is None else _as_list(head_grads, "head_grads")
    grads, leaves = _run(hs, hgs, retain_graph, create_graph, train_mode)
    stores: dict[Any, list[tuple[BaseArray, BaseArray, bool]]] = {}
    g = None
    for x in leaves.values():
        g = grads.pop((id(x), -1), None)
        if g is None or x._grad_req == "null":
            continue
        x._fresh = True  # (what Trainer.step checks)
        if g._dtype != x._dtype:
            g = _elemwise._cast_like(g, x)
        target = x._grad
        if target is None or create_graph:
            x._grad = g if x._grad_req == "write" or target is None else \
                _elemwise.binary("add", target, g)
            continue
        if target._shape != g._shape:
            raise ShapeError(f"backward: the gradient buffer of a variable of shape {x._shape} "
                             f"has shape {target._shape}, the gradient has shape {g._shape}")
        stores.setdefault(target._device, []).append((target, g, x._grad_req == "add"))
    del grads, g  # the store task may take over a gradient's buffer only if nothing else holds it
    for items in stores.values():
        _store_grads(items)


def _store_grads(items: list[tuple[BaseArray, BaseArray, bool]]) -> None:
    """Write the gradients into the variables' ``.grad`` arrays, as ONE task per device.

    ``items`` holds ``(grad array, new gradient, accumulate)``. Accumulation adds in place. A
    write takes over the new gradient's buffer instead of copying it (the ``.grad`` array stays
    the same object, so references that users keep see the new values) when nothing but the
    two arrays can reach either buffer: no view, NumPy array or other array over the old
    ``.grad`` buffer, and the new gradient an array that only this task holds, owning a
    C-contiguous buffer that no view shares (reference counts, checked inside the task, after
    every earlier reader and writer). Otherwise it copies, as ``grad[...] = g`` would."""
    if STATE.trace is not None:
        STATE.trace.before_write([t for t, _g, _a in items])
    xp = items[0][0]._device.xp
    reads = [g for _t, g, _a in items]

    def run() -> None:
        reads.clear()  # (execute only took their variables; the counts must not see this list)
        for i in range(len(items)):
            _store_one(xp, items, i)

    execute("backward(store grads)", run, reads, (), mutated=[t for t, _g, _a in items])


def _store_one(xp: Any, items: list[tuple[BaseArray, BaseArray, bool]], i: int) -> None:
    item = items[i]
    # the counts first, before any local name holds the arrays or their buffers
    if not item[2] and sys.getrefcount(item[1]) <= _ARRAY_ALONE \
            and _buf_refs(item[0]) <= _BUF_ALONE and _buf_refs(item[1]) <= _BUF_ALONE:
        target, g = item[0], item[1]
        gb, tb = g._buf, target._buf
        if gb.base is None and gb.flags.c_contiguous and gb.dtype == tb.dtype \
                and g._device == target._device:
            target._buf, g._buf = gb, tb
            return
    target, g, add = item
    _write_grad(xp, target._alloc_buffer(), g._alloc_buffer(), add)


def _write_grad(xp: Any, tb: Any, gb: Any, add: bool) -> None:
    """Gradient buffer ``gb`` into ``.grad`` buffer ``tb``: copied, or added (``add``)."""
    if not add:
        tb[...] = gb
    elif tb.dtype == gb.dtype:
        xp.add(tb, gb, out=tb)
    else:  # (a buffer given to mark_variables in another dtype: add, then cast on the store)
        tb[...] = tb + gb


class _Holder:
    __slots__ = ("_buf",)


def _buf_refs(a: Any) -> int:
    return sys.getrefcount(a._buf)


def _alone() -> tuple[int, int]:
    item = (None, _Holder(), False)
    h = _Holder()
    h._buf = object()
    return sys.getrefcount(item[1]), _buf_refs(h)


#: what the two counts above report for an object that only its list entry (an array) or its
#: array (a buffer) holds: measured, not assumed (CPython versions count temporaries differently)
_ARRAY_ALONE, _BUF_ALONE = _alone()


def grad(heads: Any, variables: Any, head_grads: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, train_mode: bool = True) -> list[Any]:
    """Gradients of ``heads`` with respect to ``variables``, returned (``.grad`` is untouched).

    With ``create_graph=True`` the returned gradients are recorded, so they can be
    differentiated again.
    """
    hs = _as_list(heads, "heads")
    vs = _as_list(variables, "variables")
    for v in vs:
        if not isinstance(v, BaseArray) or not requires_grad(v):
            raise FrameworkError("grad: every variable must be marked with attach_grad() or be "
                                 "the output of a recorded op")
    hgs = None if head_grads is None else _as_list(head_grads, "head_grads")
    if retain_graph is None:
        retain_graph = create_graph
    grads, _ = _run(hs, hgs, retain_graph, create_graph, train_mode)
    out = []
    for v in vs:
        g = grads.get(_key(v))
        out.append(_create.zeros_like(v) if g is None else _elemwise._cast_like(g, v))
    return out


def mark_variables(variables: Any, gradients: Any, grad_reqs: Any = "write") -> None:
    """Mark arrays as variables with caller-supplied gradient buffers."""
    vs = _as_list(variables, "variables")
    gs = _as_list(gradients, "gradients")
    reqs = [grad_reqs] * len(vs) if isinstance(grad_reqs, str) else list(grad_reqs)
    if not len(vs) == len(gs) == len(reqs):
        raise ValueError("mark_variables: variables, gradients and grad_reqs differ in length")
    for v, g, r in zip(vs, gs, reqs):
        if r not in ("write", "add", "null"):
            raise ValueError(f"mark_variables: grad_req must be 'write', 'add' or 'null', got "
                             f"{r!r}")
        if g._shape != v._shape:
            raise ValueError(f"mark_variables: gradient shape {g._shape} differs from the "
                             f"variable's {v._shape}")
        v._node = None
        v._grad_req = r
        v._grad = None if r == "null" else g


# -- custom functions -----------------------------------------------------------------------------

class _FunctionOp(Op):
    name = "Function"

    def __init__(self, func: Function, n_in: int) -> None:
        self.func = func
        self.n_in = n_in

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        res = self.func.backward(*out_grads)
        res = list(res) if isinstance(res, (list, tuple)) else [res]
        if len(res) != self.n_in:
            raise FrameworkError(f"{type(self.func).__name__}.backward returned {len(res)} "
                                 f"gradients for {self.n_in} inputs")
        return res


class Function:
    """A differentiable function with a hand-written backward.

    Subclass it, implement ``forward(*inputs)`` and ``backward(*output_grads)`` with framework
    ops, keep what backward needs with ``save_for_backward``, and call an instance: ``f(x)``.
    """

    def __init__(self) -> None:
        self._saved: tuple[Any, ...] = ()

    def save_for_backward(self, *args: Any) -> None:
        self._saved = args

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self._saved

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError

    def backward(self, *output_grads: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *inputs: Any) -> Any:
        trace = set_trace(None)  # a hybridized graph replays the whole call as one step
        try:
            with _scope(False, None):
                outputs = self.forward(*inputs)
        finally:
            set_trace(trace)
        single = not isinstance(outputs, (list, tuple))
        outs = [outputs] if single else list(outputs)
        arrays = [x for x in inputs if isinstance(x, BaseArray)]
        if STATE.grad and any(requires_grad(x) for x in arrays):
            if len(arrays) != len(inputs):
                raise TypeError("Function: every input must be an ndarray")
            # an output that is an input (or shares its node) gets a wrapper of its own
            outs = [o._view(o._alloc_buffer()) if any(o is x for x in inputs) else o
                    for o in outs]
            _record_node(_FunctionOp(self, len(inputs)), tuple(inputs), tuple(outs))
        if trace is not None:
            trace.add(None, tuple(inputs), tuple(outs), lambda ins: self(*ins))
        if single:
            return outs[0]
        return type(outputs)(outs) if isinstance(outputs, tuple) else outs


def _array_backward(heads: Any, head_grads: Any, retain_graph: bool, train_mode: bool) -> None:
    backward(heads, head_grads, retain_graph=retain_graph, train_mode=train_mode)


set_autograd_hooks(backward=_array_backward)
