"""``framework.npx``: MXNet's NumPy extensions (``mx.npx``).

Step 1 provides the switches, devices, synchronisation, file I/O and the array ops that
``ndarray`` methods already expose; the network operators come with autograd.
"""

from __future__ import annotations

from typing import Any

from ..device import cpu, cpu_pinned, current_context, current_device, gpu, gpu_memory_info
from ..device import num_gpus as _num_gpus
from ..engine import waitall
from ..nd import _io, _misc
from ..nd._base import BaseArray
from ..nd._elemwise import unary
from ..nd._io import load, save, savez
from . import _nn, _ops, image, random

__all__ = [
    "set_np", "reset_np", "is_np_array", "is_np_shape", "is_np_default_dtype",
    "set_np_default_dtype", "use_np", "waitall", "cpu", "gpu", "cpu_pinned", "num_gpus",
    "current_device", "current_context", "gpu_memory_info", "constraint_check",
    "get_cuda_compute_capability", "save", "load", "savez", "relu",
    "sigmoid", "softmax", "log_softmax", "topk", "pick", "one_hot", "FileFormatError",
]

FileFormatError = _io.FileFormatError

# array operators defined in _ops and network operators in _nn, each listed in its __all__
for _mod in (_ops, _nn):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
__all__ += [*_ops.__all__, *_nn.__all__, "random", "image"]

_np_state = {"shape": True, "array": True}


def set_np(shape: bool = True, array: bool = True, dtype: bool = False) -> None:
    """Accepted for MXNet code; NumPy semantics are always on in this framework.

    ``dtype=True`` (NumPy's float64 defaults) is not supported and raises.
    """
    if dtype:
        raise NotImplementedError("set_np(dtype=True): NumPy default dtypes (float64) are not "
                                  "supported; pass dtype= explicitly")
    _np_state["shape"] = bool(shape)
    _np_state["array"] = bool(array)


def reset_np() -> None:
    """Accepted for MXNet code (``npx.set_np(False, False)``)."""
    set_np(False, False)


def is_np_array() -> bool:
    return _np_state["array"]


def is_np_shape() -> bool:
    return _np_state["shape"]


def is_np_default_dtype() -> bool:
    return False


def set_np_default_dtype(is_np_default_dtype: bool = True) -> bool:
    if is_np_default_dtype:
        raise NotImplementedError("NumPy default dtypes (float64) are not supported")
    return False


def use_np(func: Any) -> Any:
    """Decorator accepted for MXNet code (NumPy semantics are always on)."""
    return func


def num_gpus() -> int:
    return _num_gpus()


def constraint_check(input: BaseArray, msg: str = "Constraint violated.") -> BaseArray:
    """Raise ``ValueError(msg)`` unless every element is true; returns a 0-d bool array.

    Differs from MXNet: this waits for ``input`` and raises at the call, not at a later sync.
    """
    ok = input.all()  # type: ignore[attr-defined]
    if not bool(ok):
        raise ValueError(msg)
    return ok


def get_cuda_compute_capability(device: Any) -> int:
    """Compute capability of a GPU as an int (e.g. 90 for 9.0)."""
    if getattr(device, "device_type", None) != "gpu":
        raise ValueError(f"get_cuda_compute_capability: {device!r} is not a GPU")
    cp = device.xp
    with cp.cuda.Device(device.device_id) as d:
        return int(d.compute_capability)


def relu(data: BaseArray) -> BaseArray:
    return unary("relu", data)


def sigmoid(data: BaseArray) -> BaseArray:
    return unary("sigmoid", data)


def softmax(data: BaseArray, axis: int = -1, length: Any = None,
            temperature: float | None = None, use_length: bool = False,
            dtype: Any = None) -> BaseArray:
    return _nn.softmax(data, axis, length, temperature, use_length, dtype)


def log_softmax(data: BaseArray, axis: int = -1, length: Any = None,
                temperature: float | None = None, use_length: bool = False,
                dtype: Any = None) -> BaseArray:
    return _nn.log_softmax(data, axis, length, temperature, use_length, dtype)


def topk(data: BaseArray, axis: Any = -1, k: int = 1, ret_typ: str = "indices",
         is_ascend: bool = False, dtype: Any = "float32") -> Any:
    return _misc.topk(data, axis, k, ret_typ, is_ascend, dtype)


def pick(data: BaseArray, index: BaseArray, axis: Any = -1, mode: str = "clip",
         keepdims: bool = False) -> BaseArray:
    return _misc.pick(data, index, axis, mode, keepdims)


def one_hot(data: BaseArray, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            dtype: Any = "float32") -> BaseArray:
    return _misc.one_hot(data, depth, on_value, off_value, dtype)
