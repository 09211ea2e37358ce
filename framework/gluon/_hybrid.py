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

Reading array values during the trace (``if x.sum() > 0``, ``float(x)``, ``print(x)``, boolean
masks) raises ``NotImplementedForSymbol`` naming the line: such a forward cannot be replayed.

Constants (arrays the forward makes without an op, ``np.zeros``...) are shared by the calls,
except those the forward writes into or returns (directly or through views): those start every
call from a copy of their value before the trace touched them, so no call sees another's writes
and no output of an earlier call is ever overwritten. No buffer is reused between calls
(``static_alloc`` is accepted and does nothing, see ``HybridBlock.hybridize``).
``HybridBlock.export`` writes these graphs to files (``framework.gluon._export``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nd._array import ndarray
from ..nd._tape import STATE, Trace, set_grad, set_trace
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

    def __call__(self, args: tuple[Any, ...]) -> Any:
        if self.flat_in:
            arrays: Sequence[Any] = args
        else:
            arrays = []
            _flatten(args, arrays)
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
