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

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy

from ..base import FrameworkError
from ..device import Device
from ._base import BaseArray, array_class, execute
from ._tape import ACTIVE, STATE, record

__all__ = ["Op", "REGISTRY", "register", "apply", "common_device", "get_op", "op_from_json",
           "OpSerializationError"]

REGISTRY: dict[str, type[Op] | Op] = {}
#: every Op subclass by ``module:qualname``: how ``op_from_json`` finds unregistered classes
_CLASSES: dict[str, type[Op]] = {}

Spec = tuple[tuple[int, ...], numpy.dtype]


class Op:
    """Base class of operators (see the module docstring)."""

    name: ClassVar[str] = "op"
    nout: ClassVar[int] = 1
    #: outputs that carry no gradient (values the op computes on the way and its backward
    #: reuses, such as a loss's softmax): ``backward`` gets None as their output gradient
    #: instead of zeros, and they must not be differentiated through
    aux_outputs: ClassVar[tuple[int, ...]] = ()

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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[f"{cls.__module__}:{cls.__qualname__}"] = cls

    # -- serialisation (``HybridBlock.export``) -------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """``{"op": key, "attrs": {...}}`` with JSON-able attributes; :func:`op_from_json`
        rebuilds the op. ``key`` is the registry name (a registered singleton keeps no
        attributes), or ``module:qualname`` for an unregistered class. The default encodes every
        instance attribute (see :func:`encode_attr`); ops holding callables override it."""
        key = json_key(self)
        if REGISTRY.get(key) is self:
            return {"op": key, "attrs": {}}
        return {"op": key, "attrs": {k: encode_attr(v, self, k) for k, v in vars(self).items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any], device: Device | None = None) -> Op:
        """The op :meth:`to_json` described (``device``: where the graph will run)."""
        op = cls.__new__(cls)
        op.__dict__.update({k: decode_attr(v) for k, v in data.get("attrs", {}).items()})
        return op


def register(name: str) -> Callable[[Any], Any]:
    """Class (or instance) decorator that registers an op under ``name``."""

    def deco(obj: Any) -> Any:
        if name in REGISTRY:
            raise ValueError(f"operator {name!r} registered twice")
        if not (isinstance(obj, Op) or (isinstance(obj, type) and issubclass(obj, Op))):
            raise TypeError(f"operator {name!r}: register() takes an Op class or instance, got "
                            f"{obj!r}")
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
    if ACTIVE.count and STATE.recording:
        replay = None
        if STATE.trace is not None:
            def replay(ins: Sequence[BaseArray]) -> Any:
                return apply(op, ins, device, cls, mutated)
            replay.mutated = mutated  # type: ignore[attr-defined]  # read by hybridize
        record(op, inputs, outs, replay)
    return outs[0] if op.nout == 1 and len(outs) == 1 else tuple(outs)


# -- serialisation helpers ------------------------------------------------------------------------

class OpSerializationError(FrameworkError, TypeError):
    """An op attribute that cannot be written to (or read from) a graph file."""


#: numpy arrays up to this many elements may be op attributes in a graph file
MAX_INLINE_ARRAY = 1 << 16


def json_key(op: Op) -> str:
    """The name ``op`` is written under: the registry name of the op (a registered instance)
    or of its class, else ``module:qualname``."""
    name = getattr(op, "name", None)
    if isinstance(name, str) and REGISTRY.get(name) is op:
        return name
    cls = type(op)
    found = None
    for key, obj in REGISTRY.items():
        if obj is op:
            return key
        if obj is cls and found is None:
            found = key
    return found if found is not None else f"{cls.__module__}:{cls.__qualname__}"


def encode_attr(value: Any, op: Any = None, attr: str = "?") -> Any:
    """``value`` as JSON-able data (tuples, slices, dtypes, NumPy scalars and small arrays are
    tagged so that :func:`decode_attr` restores them exactly); OpSerializationError naming
    ``op`` and ``attr`` for anything else (callables, arrays of the framework, objects)."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, numpy.generic) and value.dtype.kind in "biufc":
        return {"__npscalar__": encode_attr(value.item()), "dtype": str(value.dtype)}
    if isinstance(value, (bool, int, str)):  # subclasses (IntEnum...) as the plain type
        return bool(value) if isinstance(value, bool) else \
            int(value) if isinstance(value, int) else str(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, complex):
        return {"__complex__": [encode_attr(value.real), encode_attr(value.imag)]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_attr(v, op, attr) for v in value]}
    if isinstance(value, list):
        return [encode_attr(v, op, attr) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode_attr(v, op, attr) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"__slice__": [encode_attr(v, op, attr)
                              for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, numpy.dtype) and value.fields is None:
        return {"__dtype__": value.str if value.kind == "V" else str(value)}
    if isinstance(value, type) and issubclass(value, numpy.generic):
        return {"__dtype_type__": numpy.dtype(value).name}
    if isinstance(value, numpy.ndarray) and value.dtype.kind in "biufc" and \
            value.size <= MAX_INLINE_ARRAY:
        return {"__ndarray__": encode_attr(value.tolist()), "dtype": str(value.dtype),
                "shape": list(value.shape)}
    if isinstance(value, Op):
        return {"__op__": value.to_json()}
    if isinstance(value, Device):
        return {"__device__": str(value)}
    cls = type(value)
    if dataclasses.is_dataclass(value) and cls.__module__.startswith("framework."):
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: encode_attr(getattr(value, f.name), op, attr)
                           for f in dataclasses.fields(value)}}
    what = getattr(op, "name", type(op).__name__) if op is not None else "?"
    raise OpSerializationError(
        f"operator {what!r} ({type(op).__name__}): attribute {attr!r} holds a "
        f"{type(value).__name__} ({_short(value)}), which cannot be written to a graph file; "
        "give the op a to_json()/from_json() that stores plain values")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def decode_attr(data: Any) -> Any:
    """Inverse of :func:`encode_attr`."""
    if isinstance(data, list):
        return [decode_attr(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode_attr(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode_attr(v) for k, v in data["__dict__"].items()}
    if "__slice__" in data:
        return slice(*(decode_attr(v) for v in data["__slice__"]))
    if "__ellipsis__" in data:
        return Ellipsis
    if "__float__" in data:
        return float(data["__float__"])
    if "__complex__" in data:
        re_, im = (decode_attr(v) for v in data["__complex__"])
        return complex(re_, im)
    if "__dtype__" in data:
        return numpy.dtype(data["__dtype__"])
    if "__dtype_type__" in data:
        return numpy.dtype(data["__dtype_type__"]).type
    if "__npscalar__" in data:
        return numpy.dtype(data["dtype"]).type(decode_attr(data["__npscalar__"]))
    if "__ndarray__" in data:
        return numpy.array(decode_attr(data["__ndarray__"]), dtype=data["dtype"]).reshape(
            data["shape"])
    if "__op__" in data:
        return op_from_json(data["__op__"])
    if "__device__" in data:
        from ..device import resolve

        return resolve(data["__device__"])
    if "__dataclass__" in data:
        return _dataclass(data["__dataclass__"])(
            **{k: decode_attr(v) for k, v in data["fields"].items()})
    raise OpSerializationError(f"unknown tagged value in a graph file: {_short(data)}")


def _dataclass(key: str) -> Any:
    """A dataclass of an already imported framework module (nothing is imported)."""
    module, _, qualname = key.partition(":")
    obj: Any = sys.modules.get(module) if module.startswith("framework.") else None
    for part in qualname.split(".") if obj is not None else ():
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise OpSerializationError(f"unknown value type {key!r} in a graph file")
    return obj


def op_from_json(data: dict[str, Any], device: Device | None = None) -> Op:
    """The op described by ``data`` (what :meth:`Op.to_json` returned)."""
    if not isinstance(data, dict) or not isinstance(data.get("op"), str):
        raise OpSerializationError(f"an operator must be written as {{'op': name, 'attrs': "
                                   f"{{...}}}}, got {_short(data)}")
    key = data["op"]
    obj: Any = REGISTRY.get(key)
    if obj is None:
        obj = _CLASSES.get(key)
    if obj is None:
        raise OpSerializationError(f"no operator named {key!r} in this version of framework")
    if isinstance(obj, Op):
        return obj
    return obj.from_json(data, device)  # type: ignore[no-any-return]
