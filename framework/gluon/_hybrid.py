"""Hybridization: trace a HybridBlock's forward once per input signature, then replay it.

The first call with a given signature (argument structure, array shapes, dtypes and devices,
non-array argument values, training mode) runs the Python forward while the tape traces every op
it applies (``framework.nd._tape.Trace``). The trace becomes a list of steps over numbered slots:
the call's arrays, the parameters (looked up by Parameter on every call, so ``set_data``,
``load_parameters`` and ``cast`` are seen), constants made during the forward, and the outputs of
earlier steps. Later calls with the same signature replay the steps with the new inputs and never
run the Python forward (MXNet's semantics: a ``print`` in ``forward`` runs once). Each step
re-applies its op through the normal op machinery, so outputs and gradients equal the imperative
run, random ops draw fresh numbers, and autograd records the replay like any other code.
Graphs made only of plain ops and views are replayed *fused* (:class:`_Fused`): one engine task
calls every step's kernel on the raw buffers, with no per-op shape inference, arrays or pushes.
Under ``autograd.record()`` such a call is ONE autograd node whose backward replays the per-op
backward formulas, traced once, as one task too (:class:`_GraphBackward`): gradients are the
same bit for bit.

Reading array values during the trace (``if x.sum() > 0``, ``float(x)``, ``print(x)``, boolean
masks) raises ``NotImplementedForSymbol`` naming the line: such a forward cannot be replayed.

Constants (arrays the forward makes without an op, ``np.zeros``...) are shared by the calls,
except those the forward writes into or returns (directly or through views): those start every
call from a copy of their value before the trace touched them, so no call sees another's writes
and no output of an earlier call is ever overwritten. With ``hybridize(static_alloc=True)``
a fused graph writes the steps that support it (``Op.forward_into``) into buffers kept from the
previous call, but only when nothing references that buffer any more.
``HybridBlock.export`` writes these graphs to files (``framework.gluon._export``).
"""

from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy

from ..base import NotImplementedForSymbol
from ..engine._engine import Var
from ..nd import _base, _elemwise, _gradutil
from ..nd._array import ndarray
from ..nd._base import _buf_lock, execute
from ..nd._op import Op
from ..nd._tape import STATE, Node, Trace, requires_grad, set_grad, set_trace
from .parameter import Parameter

__all__ = ["CachedGraph", "signature"]

_MUTATING = ("setitem", "assign")


def _flatten(obj: Any, arrays: list[Any]) -> Any:
    """Structure of ``obj`` with arrays replaced by their index in ``arrays``."""
    if isinstance(obj, ndarray):
        arrays.append(obj)
        return ("A", len(arrays) - 1)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_flatten(o, arrays) for o in obj))
    return ("V", obj)


def _rebuild(struct: Any, values: Sequence[Any]) -> Any:
    kind, payload = struct
    if kind == "A":
        return values[payload]
    if kind == "V":
        return payload
    items = [_rebuild(s, values) for s in payload]
    return tuple(items) if kind == "tuple" else items


def _value_key(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _aliasing(arrays: Sequence[Any]) -> tuple[int, ...]:
    """Which arrays are the same object: the index of each one's first occurrence (a graph
    traced with ``f(x, x)`` reads one slot for both, so it cannot replay ``f(x, y)``)."""
    first: dict[int, int] = {}
    return tuple(first.setdefault(id(a), i) for i, a in enumerate(arrays))


def signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The cache key of a call: structure, array metadata, other values, training mode."""
    # fast path for the common call, positional arrays only; its structure part starts with
    # "arrays", the general one's below with "tuple" or "aliased", so they never collide
    meta = []
    for a in args:
        if not isinstance(a, ndarray):
            break
        meta.append((type(a), a._shape, a._dtype, a._device))
    else:
        if len(args) > 1 and len({id(a) for a in args}) < len(args):
            return (("arrays", tuple(meta), _aliasing(args)), STATE.training)
        return (("arrays", tuple(meta)), STATE.training)
    arrays: list[Any] = []
    struct = _flatten(args, arrays)
    if len({id(a) for a in arrays}) < len(arrays):
        struct = ("aliased", (struct, ("V", _aliasing(arrays))))

    def freeze(s: Any) -> Any:
        kind, payload = s
        if kind == "A":
            a = arrays[payload]
            return ("A", a.shape, str(a.dtype), str(a.device), type(a).__name__)
        if kind == "V":
            return ("V", _value_key(payload))
        return (kind, tuple(freeze(p) for p in payload))

    return (freeze(struct), STATE.training)


class CachedGraph:
    """One traced forward of ``block`` for one input signature."""

    fused: _Fused | None = None  # the one-task replay, when every step allows it

    def __init__(self, block: Any, args: tuple[Any, ...]) -> None:
        arrays: list[Any] = []
        in_struct = _flatten(args, arrays)
        trace = Trace(f"{type(block).__name__} '{block._path}'")
        trace.exclude.update(id(a) for a in arrays)
        for p in block.collect_params().values():
            if p._data is not None:
                trace.exclude.update(id(d) for d in p.list_data())
        prev = set_trace(trace)
        try:
            outputs = block.forward(*args)
        finally:
            set_trace(prev)
        self.first_outputs = outputs
        self._build(block, in_struct, arrays, trace, outputs)

    def _build(self, block: Any, in_struct: Any, arrays: list[Any], trace: Trace,
               outputs: Any) -> None:
        slot_of: dict[int, int] = {}
        n = 0
        self.input_slots: list[int] = []
        # (shape, dtype, device) of each input array: export traces the other training mode
        self.in_specs = [(a.shape, a.dtype, a.device) for a in arrays]
        for a in arrays:
            if id(a) not in slot_of:
                slot_of[id(a)] = n
                n += 1
            self.input_slots.append(slot_of[id(a)])
        self.in_struct = in_struct
        # positional arrays only: the call's args are the input arrays, in order
        self.flat_in = in_struct[0] == "tuple" and all(k == "A" for k, _ in in_struct[1])
        params: dict[int, Parameter] = {}
        for p in block.collect_params().values():
            if p._data is not None:
                for d in p.list_data():
                    params[id(d)] = p
        self.param_slots: list[tuple[int, Parameter, Any]] = []
        self.const_slots: list[tuple[int, Any, bool]] = []
        # constants copied on every call ("mutated"), from their value before the trace wrote
        # into them: those written in place and those returned, directly or through views of
        # them (reshape, basic indexing...), so that a call never sees an earlier call's writes
        # and never overwrites an earlier output
        root = trace._root
        mutated: set[int] = set()
        for op, ins, _outs, _replay in trace.entries:
            if op is not None and getattr(op, "name", "") in _MUTATING and ins:
                target = ins[1] if op.name == "assign" else ins[0]
                mutated.add(id(root.get(id(target), target)))
        returned: list[Any] = []
        _flatten(outputs, returned)
        mutated.update(id(root.get(id(a), a)) for a in returned)
        self.steps: list[tuple[Any, list[int], list[int], Any]] = []
        self._entries: list[tuple[Any, Any, tuple[Any, ...], tuple[Any, ...]]] = []
        for op, ins, outs, replay in trace.entries:
            in_ids = []
            for x in ins:
                key = id(x)
                if key not in slot_of:
                    slot_of[key] = n
                    if key in params:
                        self.param_slots.append((n, params[key], x.device))
                    else:
                        self.const_slots.append((n, *_const(x, key in mutated, trace)))
                    n += 1
                in_ids.append(slot_of[key])
            out_ids = []
            for o in outs:
                slot_of[id(o)] = n
                out_ids.append(n)
                n += 1
            fn = replay if replay is not None else op.replay
            self.steps.append((fn, in_ids, out_ids, op))
            self._entries.append((op, replay, outs, tuple(ins)))
        out_arrays: list[Any] = []
        self.out_struct = _flatten(outputs, out_arrays)
        self.single_out = self.out_struct[0] == "A"
        self.out_slots = []
        for a in out_arrays:
            key = id(a)
            if key not in slot_of:
                slot_of[key] = n
                if key in params:
                    self.param_slots.append((n, params[key], a.device))
                else:
                    self.const_slots.append((n, *_const(a, True, trace)))
                n += 1
            self.out_slots.append(slot_of[key])
        self.n_slots = n
        self.owner = trace.owner
        self.static_alloc = bool(getattr(block, "_flags", {}).get("static_alloc"))
        self.fused = _Fused.build(self)
        del self._entries

    def __call__(self, args: tuple[Any, ...]) -> Any:
        if self.flat_in:
            arrays: Sequence[Any] = args
        else:
            arrays = []
            _flatten(args, arrays)
        fused = self.fused
        if fused is not None and STATE.trace is None:
            outs = fused.run(self, arrays)
            if outs is not None:
                if self.single_out:
                    return outs[0]
                return _rebuild(self.out_struct, outs)
        slots: list[Any] = [None] * self.n_slots
        for s, a in zip(self.input_slots, arrays):
            slots[s] = a
        for s, p, device in self.param_slots:
            data = p._data  # Parameter.data(device) without its checks, when it is there
            arr = data.get(device) if data is not None else None
            slots[s] = arr if arr is not None else p.data(device)
        for s, c, mutated in self.const_slots:
            slots[s] = c.copy() if mutated else c
        for fn, in_ids, out_ids, _op in self.steps:
            res = fn([slots[i] for i in in_ids])
            if out_ids:
                if len(out_ids) == 1:
                    slots[out_ids[0]] = res[0] if isinstance(res, (list, tuple)) and not \
                        isinstance(res, ndarray) and len(res) == 1 else res
                else:
                    for s, r in zip(out_ids, res):
                        slots[s] = r
        if self.single_out:
            return slots[self.out_slots[0]]
        return _rebuild(self.out_struct, [slots[s] for s in self.out_slots])


def _const(x: Any, fresh: bool, trace: Trace) -> tuple[Any, bool]:
    """A constant's slot entry: ``(array, copied on every call)``; a copied one is copied from
    its value before the trace first wrote into it (or from a copy taken now)."""
    if not fresh:
        return x, False
    snap = trace.pristine.get(id(x))
    if snap is None:
        prev = set_grad(False)
        try:
            snap = x.copy()
        finally:
            set_grad(prev)
    return snap, True


# -- fused replay -------------------------------------------------------------------------------

#: step kinds: an op (outputs), a view, an effect (writes parameter buffers, no outputs:
#: BatchNorm's running statistics)
_OP, _VIEW, _EFFECT = 0, 1, 2


def _view_fn(op: Any) -> Any:
    """The buffer transform of a traced view step (``nd._shape._ViewOp``, or a basic-indexing
    view ``nd._index._IndexView``)."""
    if not hasattr(op, "kind"):
        comps = op.comps
        return lambda b: b[comps]
    kind, args = op.kind, op.args
    if kind == "transpose":
        return lambda b: b.transpose(args[0])
    if kind == "swapaxes":
        return lambda b: b.swapaxes(*args)
    return lambda b: b.reshape(args[0])


def _identity_view(op: Any, ins: Sequence[Any], outs: Sequence[Any]) -> bool:
    """Whether a traced view step returns its input's buffer unchanged (a reshape to the same
    shape, an identity transpose): the fused program reads the input's buffer instead."""
    kind = getattr(op, "kind", None)
    if len(ins) != 1 or len(outs) != 1 or ins[0]._shape != outs[0]._shape:
        return False
    if kind == "reshape":
        return True
    return kind == "transpose" and tuple(op.args[0]) == tuple(range(len(outs[0]._shape)))


def _annotate(exc: Exception, op: Any, step: int, owner: str) -> Exception:
    """``exc`` re-made with the failing step's op named (the engine adds the user's line)."""
    msg = f"{exc} (in operator '{getattr(op, 'name', type(op).__name__)}', step {step} of " \
          f"the hybridized {owner})"
    try:
        new = type(exc)(msg)
    except Exception:
        return exc
    new.__cause__ = exc
    return new


class _Fused:
    """A cached graph replayed as ONE engine task: each step's ``forward(xp, *buffers)`` is
    called in trace order on the raw buffers, with the output shapes and dtypes of the trace
    (the signature fixes them, so no ``infer`` runs), and the call's output arrays are filled at
    the end. While autograd records, the intermediate arrays are filled too, and the call's
    outputs point to one node for the whole call (:class:`_GraphBackward`), whose backward is
    the traced per-op backward replayed as one task (the per-op nodes, which tracing the
    formulas and ``create_graph`` follow, are made when first needed); gradients are those of
    the op-by-op replay (bit for bit: the same kernels on the same buffers, the same backward
    formulas).

    Only graphs made of plain ops (``apply`` without mutated state: no in-place writes), draws
    with scalar parameters (Dropout's mask: the task then writes the generator's token, so
    draws keep their order with every other draw on the device and the numbers are those of the
    op-by-op replay), BatchNorm's running-statistics updates (effect steps: the task then
    writes those parameters) and views are fused; others replay op by op.

    With ``hybridize(static_alloc=True)`` the buffers of steps whose op can write into a given
    output (``forward_into``) are kept between calls and reused when nothing references the
    previous call's buffer any more (checked by reference count, which counts framework arrays,
    their views, NumPy views, and engine tasks that still hold the array)."""

    __slots__ = ("prog", "run_prog", "run_prog_nograd", "alias", "exposed", "specs", "cls",
                 "device", "xp", "param_specs", "inline", "name", "owner", "pool", "pooled",
                 "n_slots", "backward", "slots", "raw_plan", "compiled", "tokens", "effects")

    @classmethod
    def build(cls, graph: CachedGraph) -> _Fused | None:
        from ..nd._index import _IndexView
        from ..nd._norm import _RunningStats
        from ..nd._op import Op
        from ..nd._random import Sample
        from ..nd._shape import _ViewOp

        prog: list[tuple[int, Any, list[int], list[int], Any, bool, Any]] = []
        specs: dict[int, tuple[Any, Any]] = {}
        devices = set()
        klass = None
        biggest = 0
        # identity views (a reshape to the same shape...) are not run: their slot is an alias
        # of their input's (``prog`` keeps every step: the backward formulas follow it)
        alias: dict[int, int] = {}
        run_prog: list[tuple[int, Any, list[int], list[int], Any, bool, Any]] = []
        tokens: list[Any] = []  # the generators' tokens of the draws among the steps
        param_slots = {s for s, _p, _d in graph.param_slots}
        effects: list[int] = []  # the parameter slots that effect steps write
        for (_fn, in_ids, out_ids, op), (_op, replay, outs, ins) in zip(graph.steps,
                                                                          graph._entries):
            if type(op) is _RunningStats and not outs and not out_ids and len(in_ids) == 4 \
                    and in_ids[0] in param_slots and in_ids[1] in param_slots \
                    and in_ids[0] != in_ids[1]:
                # BatchNorm's running statistics, updated in place inside the task (which
                # then writes those parameters too)
                prog.append((_EFFECT, op.update, list(in_ids), [], op, False, []))
                run_prog.append((_EFFECT, op.update, [alias.get(i, i) for i in in_ids], [], op,
                                 False, []))
                effects += [s for s in in_ids[:2] if s not in effects]
                continue
            if not outs or len(outs) != len(out_ids):
                return None
            if isinstance(op, (_ViewOp, _IndexView)) and replay is None and len(outs) == 1:
                kind, kern = _VIEW, _view_fn(op)
            elif isinstance(op, Op) and (
                    (replay is not None and getattr(replay, "mutated", None) == ())
                    or (replay is None and type(op).replay is Op.replay)):
                kind, kern = _OP, op.forward
            elif type(op) is Sample and not in_ids and replay is not None \
                    and getattr(replay, "mutated", None) == (op.state.token,):
                # a draw with scalar parameters (Dropout's mask): it runs inside the task,
                # which then writes the generator's token too, so the draws keep their order
                kind, kern = _OP, op.forward
                if all(t is not op.state.token for t in tokens):
                    tokens.append(op.state.token)
            else:
                return None
            for s, o in zip(out_ids, outs):
                specs[s] = (o._shape, o._dtype)
                devices.add(o._device)
                biggest = max(biggest, math.prod(o._shape))
                if klass is None:
                    klass = type(o)
                elif type(o) is not klass:
                    return None
            single = kind == _VIEW or (op.nout == 1 and len(outs) == 1)
            ospecs = [(s, o._shape, o._dtype) for s, o in zip(out_ids, outs)]
            prog.append((kind, kern, in_ids, out_ids, op, single, ospecs))
            if kind == _VIEW and _identity_view(op, ins, outs):
                alias[out_ids[0]] = alias.get(in_ids[0], in_ids[0])
            else:
                run_prog.append((kind, kern, [alias.get(i, i) for i in in_ids], out_ids, op,
                                 single, ospecs))
        if not prog or len(devices) != 1:
            return None
        produced = set(specs)
        outs_set = set(graph.out_slots)
        if len(outs_set) != len(graph.out_slots) or not outs_set <= produced:
            return None  # an output that is an input, a parameter, a constant, or twice
        # a returned view (a final Flatten or reshape) is fine when it views a buffer that a
        # step of this program made: the task's variable covers both. A view of an input, a
        # parameter or a constant would have to share that array's variable instead.
        view_of = {out_ids[0]: in_ids[0] for kind, _k, in_ids, out_ids, _o, _s, _sp in prog
                   if kind == _VIEW}
        for s in outs_set:
            while s in view_of:
                s = view_of[s]
            if s not in produced:
                return None
        self = cls.__new__(cls)
        self.prog = prog
        self.tokens = tokens
        self.effects = effects
        exposed_slots = {alias.get(s, s) for s in outs_set}
        self.run_prog = _in_place(run_prog, exposed_slots, recording=True)
        self.run_prog_nograd = _in_place(run_prog, exposed_slots)
        self.alias = alias
        self.specs = specs
        self.exposed = list(graph.out_slots)
        self.cls = klass
        self.device = devices.pop()
        self.xp = self.device.xp
        self.param_specs = []
        for _s, p, device in graph.param_slots:
            d = p.data(device)
            self.param_specs.append((d._shape, d._dtype))
        self.inline = biggest <= _base._INLINE
        self.owner = graph.owner
        self.name = f"hybridized {graph.owner}"
        self.n_slots = graph.n_slots
        # every slot of a call, in order: the arrays a call's backward program is traced over
        self.slots = sorted(set(specs) | set(graph.input_slots)
                            | {s for s, _p, _d in graph.param_slots}
                            | {s for s, _c, _m in graph.const_slots})
        self.raw_plan: Any = None  # (a backward program) see run_backward
        self.compiled: dict[int, Any] = {}  # id(program) -> _compile(program)
        self.pool = {} if graph.static_alloc else None
        # the traced backward programs, by which arrays need gradients and the output
        # gradients' metadata (None: this backward cannot be traced, run the formulas op by op)
        self.backward: dict[Any, CachedGraph | None] = {}
        # static_alloc: the single-output steps whose op can write into a given buffer
        self.pooled = [out_ids[0] for kind, _k, _in, out_ids, op, single, _sp in prog
                       if kind == _OP and single and hasattr(op, "forward_into")]
        return self

    def run(self, graph: CachedGraph, arrays: Sequence[Any]) -> list[Any] | None:
        """The call's outputs, or None when this call cannot be fused (a parameter's shape or
        dtype changed since the trace: the op-by-op replay re-infers and checks)."""
        slots: list[Any] = [None] * self.n_slots
        for s, a in zip(graph.input_slots, arrays):
            slots[s] = a
        for (s, p, device), (shape, dt) in zip(graph.param_slots, self.param_specs):
            data = p._data
            arr = data.get(device) if data is not None else None
            if arr is None:
                arr = p.data(device)
            if arr._shape != shape or arr._dtype != dt:
                return None
            slots[s] = arr
        for s, c, mutated in graph.const_slots:
            slots[s] = c.copy() if mutated else c
        sources = [(s, a) for s, a in enumerate(slots) if a is not None]
        grad = STATE.grad
        made = self._outputs()
        # recording: the task keeps its buffers by slot (``box``) for the backward, which reads
        # them raw; the intermediate arrays are only made if something needs them (see
        # :meth:`_GraphBackward._materialize`). Not recording: a dead buffer may be overwritten
        box: list[Any] | None = [None] if grad else None
        fill = self._fill_list(made)

        def feed(bufs: list[Any]) -> None:
            for s, a in sources:
                b = a._buf
                bufs[s] = b if b is not None else a._alloc_buffer()

        mutated = self.tokens
        if self.effects:
            mutated = mutated + [slots[s] for s in self.effects]
        self._issue(self.run_prog if grad else self.run_prog_nograd, feed, fill, box,
                    [a for _s, a in sources], made, mutated)
        if grad:
            # ONE node for the whole graph: its backward is a cached program (one task)
            ins = [a for _s, a in sources]
            if any(requires_grad(a) for a in ins):
                outs = [made[s] for s in self.exposed]
                for s, a in sources:
                    made.setdefault(s, a)
                node = Node(_GraphBackward(self, made, [s for s, _a in sources], box, fill),
                            tuple(ins), tuple(outs))
                for i, o in enumerate(outs):
                    o._node = (node, i)
        return [made[s] for s in self.exposed]

    def run_backward(self, graph: CachedGraph, fwd: _GraphBackward,
                     out_grads: Sequence[Any]) -> list[Any] | None:
        """This program, the cached backward of ``fwd``'s graph, run for ``fwd``'s call: its
        inputs (that call's arrays in ``fwd.fused.slots`` order, then the output gradients) are
        read as the raw buffers that the forward task kept, so the call's intermediate arrays
        are never made. None when this graph has parameters (a backward trace has none)."""
        plan = self.backward_plan(graph, fwd.fused)
        if plan is None:
            return None
        from_fwd, sources, from_grads = plan
        box = fwd.box
        made = self._outputs()
        consts = [(s, c.copy() if mutated else c) for s, c, mutated in graph.const_slots]
        grads = [(s, out_grads[j]) for s, j in from_grads]

        def feed(bufs: list[Any]) -> None:
            fb = box[0]
            for s, f in from_fwd:
                bufs[s] = fb[f]
            for s, a in grads:
                b = a._buf
                bufs[s] = b if b is not None else a._alloc_buffer()
            for s, a in consts:
                b = a._buf
                bufs[s] = b if b is not None else a._alloc_buffer()

        # reads: the forward call (one variable for all it wrote), the inputs and parameters
        # read (so that a later in-place write, an optimizer's, waits), gradients, constants
        fmade = fwd.made
        reads = [fmade[fwd.fused.exposed[0]]]
        reads += [fmade[s] for s in sources]
        reads += [a for _s, a in grads]
        reads += [a for _s, a in consts]
        self._issue(self.run_prog_nograd, feed, self._fill_list(made), None, reads, made,
                    self.tokens)
        return [made[s] for s in self.exposed]

    def backward_plan(self, graph: CachedGraph, ffused: _Fused) -> Any:
        """How this program (a backward of the graph that ``ffused`` replays) finds its inputs:
        ``(from_fwd, sources, from_grads)``: ``(slot, forward slot)`` pairs read from the
        forward task's buffers, the forward's input, parameter and constant slots read (their
        arrays are the task's dependencies), and ``(slot, j)``: output gradient ``j``. None
        when this graph has parameters (a backward trace has none)."""
        plan = self.raw_plan
        if plan is None:
            if graph.param_slots:
                return None
            need = {i for _k, _kern, in_ids, _o, _op, _s, _sp in self.run_prog_nograd
                    for i in in_ids}
            fslots = ffused.slots
            falias = ffused.alias
            ins = graph.input_slots
            from_fwd = {ins[k]: falias.get(f, f) for k, f in enumerate(fslots) if ins[k] in need}
            sources = [f for k, f in enumerate(fslots)
                       if ins[k] in need and f not in ffused.specs]
            from_grads = [(ins[len(fslots) + j], j) for j in range(len(ins) - len(fslots))
                          if ins[len(fslots) + j] in need]
            plan = self.raw_plan = (list(from_fwd.items()), sources, from_grads)
        return plan

    def program(self, prog: list[Any]) -> tuple[Any, list[int]]:
        """``prog`` (one of this graph's programs) compiled (:func:`_compile`), once."""
        compiled = self.compiled.get(id(prog))
        if compiled is None:
            pooled = self.pooled if self.pool is not None else ()
            compiled = self.compiled[id(prog)] = _compile(prog, self.xp, set(pooled))
        return compiled

    def _outputs(self) -> dict[int, Any]:
        """New pending arrays for the returned slots, sharing one variable (the task's)."""
        var = Var()
        klass, device, specs = self.cls, self.device, self.specs
        made: dict[int, Any] = {}
        for s in self.exposed:
            shape, dt = specs[s]
            made[s] = klass._pending(shape, dt, device, var)
        return made

    def _fill_list(self, made: dict[int, Any]) -> list[tuple[int, Any]]:
        alias = self.alias
        return [(alias.get(s, s), a) for s, a in made.items()] if alias else list(made.items())

    def _issue(self, prog: list[Any], feed: Any, fill: list[tuple[int, Any]],
               box: list[Any] | None, reads: list[Any], made: dict[int, Any],
               mutated: list[Any]) -> None:
        """Push the task: ``feed(bufs)`` puts the input buffers in their slots, the program
        runs, ``fill`` stores the returned buffers in their arrays (and ``box`` keeps them
        all)."""
        owner, n = self.owner, self.n_slots
        straight, lines = self.program(prog)
        into = self._buffers() if self.pool is not None else None

        def run() -> None:
            bufs: list[Any] = [None] * n
            feed(bufs)
            try:
                straight(bufs, into)
            except Exception as exc:
                k = _failed_step(exc, lines)
                raise _annotate(exc, prog[k][4], k, owner) from exc.__cause__
            _fill(fill, bufs, box)

        execute(self.name, run, reads, [made[self.exposed[0]]], mutated, inline=self.inline)

    def _buffers(self) -> dict[int, Any]:
        """static_alloc: this call's output buffer for each step that can write into one; the
        previous call's buffer when nothing but the pool references it any more (no array, view
        or queued task holds it), else a new one, which the pool keeps from now on."""
        pool = self.pool
        assert pool is not None
        xp = self.xp
        out: dict[int, Any] = {}
        for s in self.pooled:
            if s in pool and _unreferenced(pool, s):
                out[s] = pool[s]
            else:
                shape, dt = self.specs[s]
                out[s] = pool[s] = xp.empty(shape, dt)
        return out


def _in_place(run_prog: list[Any], exposed: set[int], recording: bool = False) -> list[Any]:
    """``run_prog`` with the steps that can write their result into a dead input doing so:
    an op with ``forward_inplace`` (elementwise ufuncs, relu, the relu gradient) whose first
    input is the fresh result (the first output of an op with ``fresh_output``: never an
    input's buffer or a view of one) of an earlier step of this program, of the result's own
    shape and dtype, is not returned, is read by no later step, and was read by no step that
    may have returned a view of it (a view step, or any op not known to return a new array). A
    chain of elementwise ops then runs in one buffer, without temporaries. The in-place kernel
    is the same ufunc with ``out=``, so the values are the same bit for bit.

    ``recording``: the program of a call that autograd records, whose buffers the backward reads
    afterwards. Then only an op whose backward formula reads nothing of its input but what its
    output also tells (``inplace_when_recording``: relu, whose gradient needs only the sign of
    its input, the same as its output's) may overwrite its input, and only the result of an op
    whose own backward does not read that result (``backward_reads_output = False``: Dense,
    Convolution). The dead pre-activation then holds the activation, and every formula that
    reads it computes the same gradient."""
    fresh: dict[int, tuple[Any, Any]] = {}  # slot -> (shape, dtype) of a fresh result
    producer: dict[int, Any] = {}  # slot -> the op of the step that made it
    # slot -> the steps that read it and may return a view of it (views, and every op not
    # known to return a new array, such as basic indexing): such a view could outlive it
    aliasing: dict[int, set[int]] = {}
    last: dict[int, int] = {}
    for k, (kind, _kern, in_ids, _out, op, single, ospecs) in enumerate(run_prog):
        for i in in_ids:
            last[i] = k
        made_fresh = kind == _OP and getattr(op, "fresh_output", False)
        if not (made_fresh and single):  # (another output may be a view of an input)
            for i in in_ids:
                aliasing.setdefault(i, set()).add(k)
        if made_fresh:  # the first output is a new array
            s, shape, dt = ospecs[0]
            fresh[s] = (shape, dt)
            producer[s] = op
    out = list(run_prog)
    for k, (kind, _kern, in_ids, out_ids, op, single, ospecs) in enumerate(run_prog):
        if kind != _OP or not single or not in_ids:
            continue
        inplace = getattr(op, "forward_inplace", None)
        if inplace is None:
            continue
        s = in_ids[0]
        if recording and not (getattr(op, "inplace_when_recording", False) and s in producer
                              and not getattr(producer[s], "backward_reads_output", True)):
            continue
        # (the dead buffer must already have the result's shape and dtype: no broadcasting
        # into it, no cast; then the ufunc with out= computes the same values)
        if s in fresh and aliasing.get(s, set()) <= {k} and s not in exposed \
                and last[s] == k and in_ids.count(s) == 1 \
                and fresh[s] == (ospecs[0][1], ospecs[0][2]):
            out[k] = (kind, inplace, in_ids, out_ids, op, single, ospecs)
    return out


def _compile(prog: list[Any], xp: Any, pooled: set[int]) -> tuple[Any, list[int]]:
    """``prog`` as one Python function ``(slots, into)``: straight-line code with the kernels,
    slot numbers and traced output specs bound in, without a loop's per-step unpacking, list
    building and branching (about 0.7 us a step). Every result is checked (array type, dtype,
    shape) and converted if needed. With ``hybridize(static_alloc=True)`` the steps whose
    result slot is in ``pooled`` first try to write into ``into[slot]``, the call's kept
    buffer (``Op.forward_into``). Returns the function and each step's first line (to name a
    failing step)."""
    env: dict[str, Any] = {"_nd": xp.ndarray, "_fix": _fix_result, "_xp": xp}
    src = ["def _straight(b, into):"]
    lines = []
    for k, (kind, kern, in_ids, out_ids, op, single, ospecs) in enumerate(prog):
        lines.append(len(src) + 1)
        env[f"k{k}"] = kern
        args = ", ".join(f"b[{i}]" for i in in_ids)
        if kind == _EFFECT:
            src.append(f"    k{k}(_xp, {args})")
            continue
        if kind == _VIEW:
            src.append(f"    b[{out_ids[0]}] = k{k}({args})")
            continue
        pad = "    "
        if single and out_ids[0] in pooled:
            env[f"into{k}"] = op.forward_into
            src.append(f"    o = into[{out_ids[0]}]")
            src.append(f"    if into{k}(_xp, o, {args}): b[{out_ids[0]}] = o")
            src.append("    else:")
            pad = "        "
        src.append(f"{pad}r = k{k}(_xp, {args})")
        results = ["r"] if single else [f"r[{j}]" for j in range(len(ospecs))]
        if not single:
            src.append(f"{pad}r = tuple(r)")
            src.append(f"{pad}if len(r) != {len(ospecs)}: r = _fix(_xp, r, None, None)")
        for j, ((s, shape, dt), r) in enumerate(zip(ospecs, results)):
            env[f"d{k}_{j}"] = dt
            env[f"s{k}_{j}"] = shape
            d, sh = f"d{k}_{j}", f"s{k}_{j}"
            src.append(f"{pad}x = {r}")
            src.append(f"{pad}if x.__class__ is not _nd or x.dtype != {d} or x.shape != {sh}: "
                       f"x = _fix(_xp, x, {d}, {sh})")
            src.append(f"{pad}b[{s}] = x")
    if len(src) == 1:
        src.append("    pass")
    code = compile("\n".join(src) + "\n", "<fused program>", "exec")
    exec(code, env)
    return env["_straight"], lines


def _fix_result(xp: Any, r: Any, dt: Any, shape: Any) -> Any:
    """A step's result as the traced array: converted to an array of dtype ``dt``; a shape
    (or a number of results) other than the traced one is an internal error."""
    if dt is None:
        raise AssertionError(f"internal: op produced {len(r)} results, traced otherwise")
    if type(r) is not xp.ndarray:
        r = xp.asarray(r)
    if r.dtype != dt:
        r = r.astype(dt)
    if r.shape != shape:
        raise AssertionError(f"internal: op produced shape {r.shape}, inferred {shape}")
    return r


def _failed_step(exc: BaseException, lines: list[int]) -> int:
    """The step of a compiled program (:func:`_compile`) that raised ``exc``."""
    tb = exc.__traceback__
    lineno = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<fused program>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return max(0, bisect.bisect_right(lines, lineno) - 1)


def _fill(fill: list[tuple[int, Any]], bufs: list[Any], box: list[Any] | None) -> None:
    """Store the task's buffers in its arrays: ``_set_result`` without its checks (the program
    already gave every buffer the traced dtype and shape) and with one lock for all of them;
    ``box`` keeps every buffer by slot (under the same lock: :meth:`_GraphBackward._materialize`
    adds arrays to ``fill`` until then)."""
    late = []
    with _buf_lock:
        for s, a in fill:
            if a._buf is None:
                a._buf = bufs[s]
            else:  # a view of the pending array allocated it early: write into it
                late.append((s, a))
        if box is not None:
            box[0] = bufs
    for s, a in late:
        a._buf[...] = bufs[s]


# -- fused backward -------------------------------------------------------------------------------

def _backprop(prog: list[Any], arrays: dict[int, Any], exposed: Sequence[int],
              out_grads: Sequence[Any], wanted: Sequence[int]) -> list[Any]:
    """The gradients of the ``wanted`` slots: each step's ``op.backward`` in reverse order over
    this call's arrays (by slot), accumulated as autograd does. Recorded when autograd records
    (``create_graph``), traced when a trace is on (building the cached backward program)."""
    grads: dict[int, Any] = {}
    for s, g in zip(exposed, out_grads):
        grads[s] = g
    for _kind, _kern, in_ids, out_ids, op, _single, _specs in reversed(prog):
        ogs = [grads.get(s) for s in out_ids]
        if all(g is None for g in ogs):
            continue
        outs = [arrays[s] for s in out_ids]
        ogs = _gradutil.out_grads(op, ogs, outs)
        ins = [arrays[i] for i in in_ids]
        igs = op.backward(ins, outs, ogs)
        for i, x, g in zip(in_ids, ins, igs):
            if g is None or not requires_grad(x):
                continue
            prev = grads.get(i)
            grads[i] = g if prev is None else _elemwise.binary("add", prev, g)
    return [grads.get(s) for s in wanted]


class _BackwardTracer:
    """What :class:`CachedGraph` traces to build a fused graph's backward program: a "block"
    whose forward takes this call's arrays (every slot, then the output gradients) and returns
    the gradients of the sources that need one."""

    _flags: dict[str, Any] = {}

    def __init__(self, fused: _Fused, slots: list[int], wanted: list[int]) -> None:
        self._path = fused.owner
        self.fused = fused
        self.slots = slots
        self.wanted = wanted

    def collect_params(self) -> dict[str, Any]:
        return {}

    def forward(self, *args: Any) -> tuple[Any, ...]:
        n = len(self.slots)
        arrays = dict(zip(self.slots, args[:n]))
        grads = _backprop(self.fused.prog, arrays, self.fused.exposed, args[n:], self.wanted)
        # a gradient that no op step produced (an output gradient passed through, a view, a
        # constant, one returned twice) is returned as a copy, so the program can be fused
        trace = STATE.trace
        seen: set[int] = set()
        for i, g in enumerate(grads):
            if g is not None and trace is not None and (
                    id(g) not in trace._produced or id(g) in trace._root or id(g) in seen):
                grads[i] = g = g.copy()
            seen.add(id(g))
        return tuple(grads)


class _GraphBackward(Op):
    """The autograd op of one fused graph call: its backward runs the graph's cached backward
    program (the per-op backward formulas, traced once per pattern of which inputs need
    gradients, replayed as one engine task on the raw buffers that the forward task kept: the
    same kernels on the same buffers as the op-by-op backward, so the same gradients). With
    ``create_graph`` (autograd recording the backward), or when the formulas cannot be traced,
    it runs the formulas op by op over the call's recorded per-op graph, so gradients of
    gradients work.

    The call made arrays only for its outputs; ``made`` gets the intermediate ones (over the
    kept buffers) the first time something needs them (:meth:`_materialize`)."""

    name = "hybridized_graph"

    def __init__(self, fused: _Fused, made: dict[int, Any], sources: list[int],
                 box: list[Any] | None, fill: list[tuple[int, Any]]) -> None:
        self.fused = fused
        self.made = made
        self.sources = sources
        self.box = box
        self.fill = fill
        self.per_op = False
        self.complete = False

    def _materialize(self) -> None:
        """Give ``made`` an array for every intermediate slot of the call: the forward task's
        buffer when it has run, else it fills them when it does (the same lock orders both)."""
        if self.complete:
            return
        self.complete = True
        fused, made = self.fused, self.made
        var = made[fused.exposed[0]]._var
        alias = fused.alias
        new = []
        for s, (shape, dt) in fused.specs.items():
            if s in made:
                continue
            a = made[s] = fused.cls._pending(shape, dt, fused.device, var)
            new.append((alias.get(s, s), a))
        box = self.box
        assert box is not None
        with _buf_lock:
            bufs = box[0]
            if bufs is None:  # the task has not run (or failed): it fills them
                self.fill.extend(new)
                return
            for s, a in new:
                a._buf = bufs[s]

    def _record_per_op(self) -> None:
        """Give the call's intermediate arrays the per-op nodes that a recorded op-by-op replay
        would have left (what the backward formulas follow when they are traced, run op by op,
        or differentiated with ``create_graph``); the graph's outputs keep the graph's node.
        Done once, only when needed: a replay of the cached backward program needs none."""
        if self.per_op:
            return
        self.per_op = True
        self._materialize()
        made, exposed = self.made, set(self.fused.exposed)
        for _kind, _kern, in_ids, out_ids, op, _single, _specs in self.fused.prog:
            ins = tuple(made[i] for i in in_ids)
            for x in ins:
                if x._node is not None or x._grad_req != "null":
                    break
            else:
                continue
            outs = tuple(made[i] for i in out_ids)
            node = Node(op, ins, outs)
            for j, (s, o) in enumerate(zip(out_ids, outs)):
                if s not in exposed:
                    o._node = (node, j)

    def backward(self, inputs: Sequence[Any], outputs: Sequence[Any],
                 out_grads: Sequence[Any]) -> list[Any]:
        fused = self.fused
        needs = tuple([a._node is not None or a._grad_req != "null" for a in inputs])
        if not STATE.grad:
            key = (needs, tuple((g._shape, g._dtype, type(g)) for g in out_grads),
                   _aliasing(out_grads), STATE.training)
            graph = fused.backward.get(key, False)
            if graph is not None and graph is not False and graph.fused is not None \
                    and STATE.trace is None:  # (the common case: the cached program)
                grads = graph.fused.run_backward(graph, self, out_grads)
                if grads is not None:
                    return self._spread(needs, grads)
        wanted = [s for s, need in zip(self.sources, needs) if need]
        if STATE.grad:  # create_graph: differentiable formulas over the per-op graph
            self._record_per_op()
            return self._spread(needs, _backprop(fused.prog, self.made, fused.exposed,
                                                 out_grads, wanted))
        self._record_per_op()  # (every other way reads the call's arrays and their nodes)
        made = self.made
        args = tuple([made[s] for s in fused.slots] + list(out_grads))
        if graph is False:
            try:
                graph = CachedGraph(_BackwardTracer(fused, fused.slots, wanted), args)
            except NotImplementedForSymbol:
                graph = None  # a formula reads values: it cannot be replayed
            else:
                graph.owner = f"backward of {fused.owner}"
                if graph.fused is not None:
                    graph.fused.owner = graph.owner
                    graph.fused.name = f"hybridized {graph.owner}"
                fused.backward[key] = graph
                first, graph.first_outputs = graph.first_outputs, None
                return self._spread(needs, first)
            fused.backward[key] = graph
        if graph is None:
            return self._spread(needs, _backprop(fused.prog, made, fused.exposed, out_grads,
                                                 wanted))
        return self._spread(needs, graph(args))

    @staticmethod
    def _spread(needs: Sequence[bool], grads: Sequence[Any]) -> list[Any]:
        it = iter(grads)
        return [next(it) if need else None for need in needs]


def _refs(pool: dict[int, Any], key: int) -> int:
    return sys.getrefcount(pool[key])


def _baseline() -> int:
    pool = {0: numpy.empty(1)}
    return _refs(pool, 0)


#: what :func:`_refs` reports for a buffer that only the pool holds (measured, not assumed:
#: CPython versions differ in the temporary references they count)
_ALONE = _baseline()


def _unreferenced(pool: dict[int, Any], key: int) -> bool:
    return _refs(pool, key) <= _ALONE
