"""Creation functions. Every one takes ``device=`` (2.0) or ``ctx=`` (1.x).

Defaults follow MXNet: Python lists, scalars and ranges give float32 (even lists of ints or bools,
API.md §2 item 1); a NumPy array keeps its dtype; ``arange``/``linspace``/``zeros``... give
float32 unless ``dtype`` says otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy

from .. import dtype as _dt
from ..device import Device, resolve
from ._base import BaseArray, array_class, execute
from ._op import Op
from ._shape import astype, broadcast_to, reshape
from ._shape import copy as _copy_arr
from ._tape import ACTIVE, STATE, record

__all__ = [
    "array", "asarray", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
    "identity", "zeros_like", "ones_like", "full_like", "empty_like", "from_numpy", "to_device",
]

Shape = tuple[int, ...]


def _shape(shape: Any, op: str) -> Shape:
    if isinstance(shape, (int, numpy.integer)):
        shape = (int(shape),)
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a tuple of ints, got {shape!r}") from None
    for s in out:
        if s < 0:
            raise ValueError(f"{op}: negative dimensions are not allowed, got shape {out}")
    return out


def _place(host: numpy.ndarray, device: Device, cls: type | None = None) -> BaseArray:
    """Wrap a host array (which the caller no longer uses) on ``device``."""
    cls = cls or array_class()
    if device.device_type == "gpu":
        xp = device.xp
        with xp.cuda.Device(device.device_id):
            buf = xp.asarray(host)
        return cls._wrap(buf, device)
    return cls._wrap(host, device)


def from_numpy(host: numpy.ndarray, device: Device | None = None, zero_copy: bool = True,
               ctx: Device | None = None) -> BaseArray:
    """An array over a NumPy array; on the CPU it shares memory when ``zero_copy``."""
    dev = resolve(device, ctx)
    if not isinstance(host, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(host).__name__}")
    _dt.normalize(host.dtype)
    if not zero_copy:
        host = host.copy()
    return _place(host, dev)


def to_device(x: BaseArray, device: Device) -> BaseArray:
    """``x`` on ``device``: ``x`` itself when already there (as MXNet: gradients flow and a
    hybridized graph sees the input), else an asynchronous copy."""
    if x._device == device:
        return x
    out = type(x)._pending(x._shape, x._dtype, device)
    src_gpu = x._device.device_type == "gpu"
    dst_gpu = device.device_type == "gpu"
    dxp = device.xp

    def run() -> None:
        b = x._buf if x._buf is not None else x._alloc_buffer()
        if dst_gpu:
            with dxp.cuda.Device(device.device_id):
                out._set_result(dxp.array(b, copy=True))
        elif src_gpu:
            out._set_result(b.get())
        else:
            out._set_result(b.copy())

    execute("copyto", run, (x,), (out,))
    if ACTIVE.count and STATE.recording:
        record(_ToDevice(device), (x,), (out,))
    return out


class _ToDevice(Op):
    """Records a copy to another device; the gradient goes back to the source device."""

    name = "to_device"

    def __init__(self, device: Device) -> None:
        self.device = device

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,) = inputs
        if x._dtype.kind not in "fc":
            return [None]
        return [to_device(out_grads[0], x._device)]

    def replay(self, inputs: Any) -> Any:
        return to_device(inputs[0], self.device)


def array(obj: Any, dtype: Any = None, copy: bool = True, device: Device | None = None,
          ctx: Device | None = None, order: str = "C", ndmin: int = 0) -> BaseArray:
    """An array from a list, scalar, NumPy array or framework array.

    Differs from NumPy: lists and scalars give float32 when ``dtype`` is None (MXNet).
    """
    dev = resolve(device, ctx)
    dt = _dt.normalize(dtype)
    if isinstance(obj, BaseArray):
        src = obj
        if dt is not None and dt != src._dtype:
            src = astype(src, dt)
        elif copy or src._device != dev:
            src = _copy_arr(src) if src._device == dev else src
        out = to_device(src, dev) if src._device != dev else src
        return _ndmin(out, ndmin)
    if isinstance(obj, numpy.ndarray):
        host = numpy.array(obj, dtype=dt, copy=True, order="C", ndmin=ndmin)
    else:
        if hasattr(obj, "__dlpack__") and not isinstance(obj, (list, tuple)):
            host = numpy.array(numpy.from_dlpack(obj), dtype=dt, copy=True, ndmin=ndmin)
        elif (isinstance(obj, (list, tuple)) and obj and
              any(isinstance(e, BaseArray) for e in _flat_first(obj))):
            host = numpy.array(_to_host_nested(obj), dtype=dt, ndmin=ndmin)
            if dt is None and not _all_arrays(obj) and host.dtype.kind in "biuf":
                host = host.astype(_dt.default_float())
        else:
            host = numpy.array(obj, dtype=dt, ndmin=ndmin)
            if dt is None and isinstance(obj, numpy.generic):
                pass  # a NumPy scalar keeps its dtype, like a NumPy array
            elif dt is None and host.dtype.kind in "biuf":
                host = host.astype(_dt.default_float())
    if host.dtype.kind in "OUSV":
        raise TypeError(f"array: cannot make a numeric array from {type(obj).__name__} "
                        f"(NumPy gives dtype {host.dtype})")
    _dt.normalize(host.dtype)
    return _place(host, dev)


def _flat_first(obj: Any) -> list[Any]:
    out = []
    stack = [obj]
    while stack and len(out) < 64:
        o = stack.pop()
        if isinstance(o, (list, tuple)):
            stack.extend(o)
        else:
            out.append(o)
    return out


def _all_arrays(obj: Any) -> bool:
    return all(isinstance(e, BaseArray) for e in _flat_first(obj))


def _to_host_nested(obj: Any) -> Any:
    if isinstance(obj, BaseArray):
        return obj._host()
    if isinstance(obj, (list, tuple)):
        return [_to_host_nested(o) for o in obj]
    return obj


def _ndmin(x: BaseArray, ndmin: int) -> BaseArray:
    if ndmin and x.ndim < ndmin:
        return reshape(x, (1,) * (ndmin - x.ndim) + x._shape)
    return x


def asarray(obj: Any, dtype: Any = None, device: Device | None = None,
            ctx: Device | None = None) -> BaseArray:
    """Like :func:`array` but returns ``obj`` itself when nothing needs to change."""
    if isinstance(obj, BaseArray):
        dt = _dt.normalize(dtype)
        dev = resolve(device, ctx) if (device is not None or ctx is not None) else obj._device
        if (dt is None or dt == obj._dtype) and dev == obj._device:
            return obj
    return array(obj, dtype=dtype, copy=False, device=device, ctx=ctx)


def _filled(op: str, shape: Any, fill: Any, dtype: Any, device: Device | None,
            ctx: Device | None) -> BaseArray:
    dev = resolve(device, ctx)
    dt = _dt.normalize(dtype) or _dt.default_float()
    shp = _shape(shape, op)
    if dev.device_type == "gpu":
        xp = dev.xp
        with xp.cuda.Device(dev.device_id):
            buf = xp.full(shp, fill, dtype=dt) if fill is not None else xp.empty(shp, dt)
        return array_class()._wrap(buf, dev)
    if fill is None:
        return array_class()._wrap(numpy.empty(shp, dt), dev)
    if fill == 0:
        return array_class()._wrap(numpy.zeros(shp, dt), dev)
    return array_class()._wrap(numpy.full(shp, fill, dtype=dt), dev)


def zeros(shape: Any, dtype: Any = None, order: str = "C", device: Device | None = None,
          ctx: Device | None = None) -> BaseArray:
    """Zeros of ``shape`` (float32 by default)."""
    return _filled("zeros", shape, 0, dtype, device, ctx)


def ones(shape: Any, dtype: Any = None, order: str = "C", device: Device | None = None,
         ctx: Device | None = None) -> BaseArray:
    return _filled("ones", shape, 1, dtype, device, ctx)


def empty(shape: Any, dtype: Any = None, order: str = "C", device: Device | None = None,
          ctx: Device | None = None) -> BaseArray:
    return _filled("empty", shape, None, dtype, device, ctx)


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C",
         device: Device | None = None, ctx: Device | None = None) -> BaseArray:
    """``fill_value`` everywhere; an array ``fill_value`` is broadcast (and may stay async)."""
    if isinstance(fill_value, BaseArray):
        out = broadcast_to(fill_value, _shape(shape, "full"))
        return astype(out, dtype) if dtype is not None else out
    if dtype is None and isinstance(fill_value, (bool, numpy.bool_)):
        dtype = numpy.bool_
    return _filled("full", shape, fill_value, dtype, device, ctx)


def _like(op: str, x: BaseArray, fill: Any, dtype: Any, device: Device | None,
          ctx: Device | None) -> BaseArray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"{op}: expected an ndarray, got {type(x).__name__}")
    if dtype is None and device is None and ctx is None and x._device.device_type != "gpu":
        # the common call (autograd's head and missing gradients): x's own shape, dtype and
        # device, without resolving them again
        shp, dt = x._shape, x._dtype
        buf = numpy.empty(shp, dt) if fill is None else (
            numpy.zeros(shp, dt) if fill == 0 else numpy.full(shp, fill, dtype=dt))
        return type(x)._wrap(buf, x._device)
    dev = x._device if device is None and ctx is None else resolve(device, ctx)
    out = _filled(op, x._shape, fill, dtype or x._dtype, dev, None)
    if type(x) is not type(out):
        out = type(x)._wrap(out._buf, dev)
    return out


def zeros_like(a: BaseArray, dtype: Any = None, device: Device | None = None,
               ctx: Device | None = None) -> BaseArray:
    return _like("zeros_like", a, 0, dtype, device, ctx)


def ones_like(a: BaseArray, dtype: Any = None, device: Device | None = None,
              ctx: Device | None = None) -> BaseArray:
    return _like("ones_like", a, 1, dtype, device, ctx)


def empty_like(a: BaseArray, dtype: Any = None, device: Device | None = None,
               ctx: Device | None = None) -> BaseArray:
    return _like("empty_like", a, None, dtype, device, ctx)


def full_like(a: BaseArray, fill_value: Any, dtype: Any = None, device: Device | None = None,
              ctx: Device | None = None) -> BaseArray:
    return _like("full_like", a, fill_value, dtype, device, ctx)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           device: Device | None = None, ctx: Device | None = None) -> BaseArray:
    """Evenly spaced values (float32 by default, as in MXNet)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ZeroDivisionError("arange: step must not be zero")
    dt = _dt.normalize(dtype) or _dt.default_float()
    host = numpy.arange(start, stop, step, dtype=numpy.float64 if dt.kind == "f" else None)
    return _place(host.astype(dt, copy=False), resolve(device, ctx))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0, device: Device | None = None,
             ctx: Device | None = None) -> Any:
    if int(num) < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    dt = _dt.normalize(dtype) or _dt.default_float()
    host, step = numpy.linspace(start, stop, int(num), endpoint=endpoint, retstep=True,
                                axis=axis)
    out = _place(host.astype(dt), resolve(device, ctx))
    return (out, step) if retstep else out


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None,
        device: Device | None = None, ctx: Device | None = None) -> BaseArray:
    dt = _dt.normalize(dtype) or _dt.default_float()
    return _place(numpy.eye(int(N), None if M is None else int(M), int(k), dtype=dt),
                  resolve(device, ctx))


def identity(n: int, dtype: Any = None, device: Device | None = None,
             ctx: Device | None = None) -> BaseArray:
    return eye(n, dtype=dtype, device=device, ctx=ctx)

