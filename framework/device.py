"""Devices: ``cpu(i)``, ``gpu(i)``, the current device, and the one place CuPy is imported.

``Device`` is MXNet 2.0's name and ``Context`` is 1.x's; they are the same class. A device is
also a context manager that makes itself the default for creation functions::

    >>> with gpu(0):           # doctest: +SKIP
    ...     x = np.zeros(3)    # on gpu(0)

``cpu(1)`` is a distinct *logical* device with its own engine queue, which lets multi-device code
be tested on a machine without GPUs (as MXNet's tests do).
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import numpy

__all__ = [
    "Device", "Context", "cpu", "gpu", "cpu_pinned", "num_gpus", "current_device",
    "current_context", "get_cupy", "gpu_memory_info", "resolve", "set_default_device",
]

_DEVTYPE_ID = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5}
_DEVTYPE_NAME = {v: k for k, v in _DEVTYPE_ID.items()}

_cupy: ModuleType | None = None
_cupy_checked = False
_cupy_error: str | None = None


def get_cupy() -> ModuleType | None:
    """Import CuPy once, lazily; ``None`` when it is missing or no CUDA device can be used."""
    global _cupy, _cupy_checked, _cupy_error
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # the only CuPy import in the framework

            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("CUDA reports no devices")
            _cupy = cupy
        except Exception as exc:  # ImportError, CUDARuntimeError, missing driver...
            _cupy = None
            _cupy_error = f"{type(exc).__name__}: {exc}"
    return _cupy


def num_gpus() -> int:
    """Number of usable CUDA GPUs; 0 when CuPy or a driver is missing."""
    cp = get_cupy()
    if cp is None:
        return 0
    return int(cp.cuda.runtime.getDeviceCount())


class Device:
    """A device: ``Device('cpu', 0)`` or ``Device('gpu', 1)``.

    Equality and hashing go by ``(device_type, device_id)``. A device is an immutable value:
    its hash is computed once, and comparing a device with itself (the usual case: arrays share
    their creator's device object) is an identity test.
    """

    __slots__ = ("device_type", "device_id", "_hash")
    device_type: str
    device_id: int
    _hash: int

    def __init__(self, device_type: str | int | Device = "cpu", device_id: int = 0) -> None:
        if isinstance(device_type, Device):
            device_id = device_type.device_id
            device_type = device_type.device_type
        if isinstance(device_type, int):
            device_type = _DEVTYPE_NAME.get(device_type, str(device_type))
        if not isinstance(device_type, str) or device_type not in _DEVTYPE_ID:
            raise ValueError(
                f"Device: device_type must be one of {sorted(_DEVTYPE_ID)}, got {device_type!r}")
        if not isinstance(device_id, (int, numpy.integer)) or int(device_id) < 0:
            raise ValueError(f"Device: device_id must be a non-negative int, got {device_id!r}")
        self.device_type = device_type
        self.device_id = int(device_id)
        self._hash = hash((device_type, self.device_id))

    @property
    def device_typeid(self) -> int:
        """MXNet's numeric device type: 1 cpu, 2 gpu, 3 cpu_pinned."""
        return _DEVTYPE_ID[self.device_type]

    @property
    def xp(self) -> ModuleType:
        """The array module for this device: ``numpy`` or ``cupy``."""
        if self.device_type != "gpu":
            return numpy
        cp = get_cupy()
        if cp is None:
            raise RuntimeError(
                f"{self!r} was requested but no GPU can be used ({_cupy_error}). "
                "Install the 'gpu' extra (pip install framework[gpu]) on a machine with CUDA, "
                "or use cpu().")
        if self.device_id >= num_gpus():
            raise RuntimeError(f"{self!r} was requested but only {num_gpus()} GPU(s) exist")
        return cp

    @property
    def is_gpu(self) -> bool:
        return self.device_type == "gpu"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not Device and not isinstance(other, Device):
            return False
        return (self._hash == other._hash  # type: ignore[attr-defined]
                and self.device_type == other.device_type  # type: ignore[attr-defined]
                and self.device_id == other.device_id)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # the cached hash is not pickled: str hashes differ between processes
        return (type(self), (self.device_type, self.device_id))

    def __repr__(self) -> str:
        return f"{self.device_type}({self.device_id})"

    __str__ = __repr__

    def __enter__(self) -> Device:
        stack = _stack()
        stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack().pop()

    def empty_cache(self) -> None:
        """Release cached GPU memory blocks back to the driver (no-op on CPU)."""
        if self.device_type == "gpu":
            cp = get_cupy()
            if cp is not None:
                with cp.cuda.Device(self.device_id):
                    cp.get_default_memory_pool().free_all_blocks()


Context = Device

_local = threading.local()
_DEFAULT = Device("cpu", 0)


def _stack() -> list[Device]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def set_default_device(device: Device) -> None:
    """Set the process-wide default device (used by ``test_utils.set_default_device``)."""
    global _DEFAULT
    _DEFAULT = Device(device)


def current_device() -> Device:
    """The device creation functions use when none is given."""
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    return _DEFAULT


current_context = current_device


def cpu(device_id: int = 0) -> Device:
    """The CPU device ``cpu(device_id)``; ids other than 0 are logical devices."""
    return Device("cpu", device_id)


def gpu(device_id: int = 0) -> Device:
    """The GPU device ``gpu(device_id)``; using it without CuPy and CUDA raises a clear error."""
    return Device("gpu", device_id)


def cpu_pinned(device_id: int = 0) -> Device:
    """Page-locked host memory device (behaves as the CPU here)."""
    return Device("cpu_pinned", device_id)


def gpu_memory_info(device_id: int = 0) -> tuple[int, int]:
    """``(free, total)`` bytes of GPU memory."""
    cp = get_cupy()
    if cp is None:
        raise RuntimeError("gpu_memory_info: no GPU can be used")
    with cp.cuda.Device(device_id):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


def resolve(device: Device | str | None = None, ctx: Device | str | None = None) -> Device:
    """Merge MXNet's ``ctx=`` and 2.0's ``device=`` keywords into one Device."""
    if device is not None and ctx is not None and Device(_parse(device)) != Device(_parse(ctx)):
        raise ValueError(f"both device={device!r} and ctx={ctx!r} were given and they differ")
    d = device if device is not None else ctx
    if d is None:
        return current_device()
    if isinstance(d, Device):
        return d
    return Device(_parse(d))


def _parse(d: Device | str) -> Device:
    if isinstance(d, Device):
        return d
    if isinstance(d, str):
        text = d.strip()
        if "(" in text and text.endswith(")"):
            kind, _, rest = text[:-1].partition("(")
            return Device(kind, int(rest or 0))
        if ":" in text:
            kind, _, rest = text.partition(":")
            return Device(kind, int(rest))
        return Device(text, 0)
    raise TypeError(f"expected a Device or a string such as 'cpu(0)', got {type(d).__name__}")
