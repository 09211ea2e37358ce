"""The operator mechanism: one definition per op, and the code that runs it.

An operator is a subclass of :class:`Op` with

- ``infer(*inputs)``: the shape/dtype rule, evaluated at the call (never waits), which also
  validates arguments so that bad input fails early with a clear message;
- ``forward(xp, *buffers)``: the computation, written once with ``xp`` (numpy or cupy);
- ``backward(inputs, outputs, out_grads)``: the gradient, written in framework ops so that it is
  itself differentiable. Autograd (Step 3 of the plan) calls it; ops without one are not
  differentiable.

Ops are registered by name in :data:`REGISTRY`. Ops with attributes (``axis=``...) are
instantiated per call; stateless elementwise ops are singletons built from table rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy

from ..base import FrameworkError
from ..device import Device
from ._base import BaseArray, array_class, execute
from ._tape import STATE, record

__all__ = ["Op", "REGISTRY", "register", "apply", "common_device", "get_op"]

REGISTRY: dict[str, type[Op] | Op] = {}

Spec = tuple[tuple[int, ...], numpy.dtype]


class Op:
    """Base class of operators (see the module docstring)."""

    name: ClassVar[str] = "op"
    nout: ClassVar[int] = 1

    def infer(self, *inputs: BaseArray) -> list[Spec]:
        raise NotImplementedError(f"operator '{self.name}' has no shape/dtype rule")

    def forward(self, xp: Any, *bufs: Any) -> Any:
        raise NotImplementedError

    def backward(self, inputs: Sequence[BaseArray], outputs: Sequence[BaseArray],
                 out_grads: Sequence[BaseArray]) -> Sequence[BaseArray | None]:
        raise FrameworkError(f"operator '{self.name}' is not differentiable")

    def replay(self, inputs: Sequence[BaseArray]) -> Any:
        """Apply this op again to new inputs (replaying a hybridized graph)."""
        return apply(self, inputs)

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


def register(name: str) -> Callable[[Any], Any]:
    """Class (or instance) decorator that registers an op under ``name``."""

    def deco(obj: Any) -> Any:
        if name in REGISTRY:
            raise ValueError(f"operator {name!r} registered twice")
        if isinstance(obj, type):
            obj.name = name
        REGISTRY[name] = obj
        return obj

    return deco


def get_op(name: str) -> type[Op] | Op:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no operator named {name!r}") from None


def common_device(arrays: Sequence[BaseArray], op: str) -> Device:
    """The device all ``arrays`` live on; a clear error when they differ."""
    dev = arrays[0]._device
    for a in arrays[1:]:
        if a._device != dev:
            devs = ", ".join(str(x._device) for x in arrays)
            raise FrameworkError(
                f"{op}: all inputs must be on the same device, got {devs}; move them with "
                "as_in_context()/to_device() first")
    return dev


def _buffers(arrays: Sequence[BaseArray]) -> list[Any]:
    # a buffer is None only when its producer failed and the error already fired: read garbage
    return [x._buf if x._buf is not None else x._alloc_buffer() for x in arrays]


def apply(op: Op, inputs: Sequence[BaseArray], device: Device | None = None,
          cls: type | None = None, mutated: Sequence[BaseArray] = ()) -> Any:
    """Run ``op`` on ``inputs``: infer outputs now, compute them on the engine.

    ``mutated``: arrays (or state tokens) the task also writes, to order it against other tasks
    touching them (random ops name their device's generator here)."""
    if device is None:
        if not inputs:
            raise FrameworkError(f"{op.name}: an op without inputs needs a device")
        device = common_device(inputs, op.name)
    specs = op.infer(*inputs)
    if cls is None:
        cls = type(inputs[0]) if inputs else array_class()
    outs = [cls._pending(shape, dtype, device) for shape, dtype in specs]
    xp = device.xp
    if op.nout == 1 and len(outs) == 1:
        out0 = outs[0]

        def fn() -> None:
            out0._set_result(op.forward(xp, *_buffers(inputs)))
    else:
        def fn() -> None:
            results = op.forward(xp, *_buffers(inputs))
            for o, r in zip(outs, results):
                o._set_result(r)

    execute(op.name, fn, inputs, outs, mutated)
    if STATE.recording:
        replay = None
        if STATE.trace is not None:
            def replay(ins: Sequence[BaseArray]) -> Any:
                return apply(op, ins, device, cls, mutated)
        record(op, inputs, outs, replay)
    return outs[0] if op.nout == 1 and len(outs) == 1 else tuple(outs)
