"""Array storage, synchronisation and op execution, without the user-facing methods.

An array holds a buffer (``numpy.ndarray`` or ``cupy.ndarray``), its device, shape, dtype and an
engine :class:`~framework.engine.Var`. Shape and dtype are known when the array is created; the
buffer of an op's output is filled in by the task that computes it, or allocated early when a
view of the still-pending array is taken (the task then writes into it).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from .. import _config
from .. import engine as _engine_pkg
from ..base import NotImplementedForSymbol, ShapeError
from ..device import Device, current_device
from ..engine import _engine as _eng
from ..engine._engine import AsyncError, Var, user_location
from ._tape import ACTIVE, STATE

__all__ = ["BaseArray", "execute", "array_class", "set_array_class", "broadcast_shapes"]

_buf_lock = threading.Lock()
_INLINE = _config.inline_size()

_array_cls: list[type] = []


_var_lock = threading.Lock()


def _new_var(x: BaseArray) -> Var:
    """Give ``x`` its engine variable (once, even when two threads ask at the same time)."""
    with _var_lock:
        v = x._v
        if v is None:
            v = x._v = Var()
        return v


def array_class() -> type:
    """The class of arrays created from scratch (``framework.np.ndarray``)."""
    return _array_cls[0] if _array_cls else BaseArray


def set_array_class(cls: type) -> None:
    _array_cls[:] = [cls]


class BaseArray:
    """Storage and synchronisation of an n-dimensional array; see ``ndarray`` for the API."""

    # ``_fresh`` (set only on variables, unset elsewhere): a backward pass wrote the gradient
    # since the Trainer's last step (``Trainer.step`` refuses stale gradients, as MXNet does)
    # ``_v``: the engine variable, or None for an array that no task has touched (computed
    # inline or made from data): most small results are never waited on or pushed, and a
    # ``Var()`` is ~10% of a small op. ``_var`` makes it on first use.
    __slots__ = ("_buf", "_v", "_device", "_shape", "_dtype", "_grad", "_grad_req", "_node",
                 "_fresh", "__weakref__")
    _buf: Any
    _v: Var | None
    _device: Device
    _shape: tuple[int, ...]
    _dtype: numpy.dtype
    _grad: Any
    _grad_req: str
    _node: Any

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def _wrap(cls, buf: Any, device: Device, var: Var | None = None) -> BaseArray:
        """An array over an existing, already computed buffer."""
        self = object.__new__(cls)
        self._buf = buf
        self._v = var
        self._device = device
        self._shape = buf.shape
        self._dtype = buf.dtype
        self._grad = None
        self._grad_req = "null"
        self._node = None
        return self

    @classmethod
    def _pending(cls, shape: tuple[int, ...], dtype: numpy.dtype, device: Device,
                 var: Var | None = None) -> BaseArray:
        """An array whose buffer a task will produce (``var``: the task's variable, when the
        task fills several arrays)."""
        self = object.__new__(cls)
        self._buf = None
        self._v = Var() if var is None else var
        self._device = device
        self._shape = shape
        self._dtype = dtype
        self._grad = None
        self._grad_req = "null"
        self._node = None
        return self

    def _view(self, buf: Any) -> BaseArray:
        """A new array of the same class over ``buf``, a view of this array's buffer: it shares
        this array's variable, so reads and writes through either are ordered."""
        out = object.__new__(type(self))
        out._buf = buf
        out._v = self._v or _new_var(self)
        out._device = self._device
        out._shape = buf.shape
        out._dtype = buf.dtype
        out._grad = None
        out._grad_req = "null"
        out._node = None
        return out

    @property
    def _var(self) -> Var:
        """The array's engine variable (made on first use; see ``_v``)."""
        return self._v or _new_var(self)

    @_var.setter
    def _var(self, var: Var) -> None:
        self._v = var

    # -- buffers ------------------------------------------------------------------------------
    def _alloc_buffer(self) -> Any:
        """This array's buffer, allocating it now if the producing task has not run yet."""
        buf = self._buf
        if buf is None:
            with _buf_lock:
                buf = self._buf
                if buf is None:
                    buf = self._buf = self._device.xp.empty(self._shape, self._dtype)
        return buf

    def _set_result(self, result: Any) -> None:
        """Store a task's result (called on the task's thread)."""
        xp = self._device.xp
        if type(result) is not xp.ndarray:
            result = xp.asarray(result)
        if result.dtype != self._dtype:
            result = result.astype(self._dtype)
        if result.shape != self._shape:
            raise AssertionError(f"internal: op produced shape {result.shape}, "
                                 f"inferred {self._shape}")
        with _buf_lock:
            if self._buf is None:
                self._buf = result
                return
        self._buf[...] = result

    # -- synchronisation ------------------------------------------------------------------------
    def wait_to_read(self) -> None:
        """Block until this array is computed; raise the error of a failed op that produced it."""
        if ACTIVE.count and STATE.trace is not None:
            _refuse_while_tracing()
        v = self._v
        if v is not None:
            _eng._engine.wait_for(v)

    def _wait_write(self) -> None:
        v = self._v
        if v is not None:
            _eng._engine.wait_for_write(v)

    def _synced(self) -> Any:
        """The buffer, after waiting for it (the device's array type)."""
        if ACTIVE.count and STATE.trace is not None:
            _refuse_while_tracing()
        v = self._v
        if v is not None:
            _eng._engine.wait_for(v)
        buf = self._buf
        if buf is None:  # the producing task failed and the error already fired
            buf = self._alloc_buffer()
        return buf

    def _host(self) -> numpy.ndarray:
        """A host NumPy array with this array's values (not necessarily a copy)."""
        buf = self._synced()
        if self._device.device_type == "gpu":
            return buf.get()
        return buf

    @property
    def shape(self) -> tuple[int, ...]:
        """Tuple of dimensions (known at once, never blocks)."""
        return self._shape

    @property
    def dtype(self) -> numpy.dtype:
        """NumPy dtype (known at once, never blocks)."""
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return math.prod(self._shape)


def _refuse_while_tracing() -> None:
    trace = STATE.trace
    raise NotImplementedForSymbol(
        f"{trace.owner if trace else 'a hybridized block'}: the values of an array were read "
        f"while hybridize() traced the forward, at {user_location(3)}. A hybridized forward "
        "must not depend on array values (no if/while on them, .item(), float(), asnumpy(), "
        "print, boolean masks or nonzero). Compute such things outside the block, or call "
        "hybridize(False).")


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...], op: str = "op") -> tuple[int, ...]:
    """NumPy broadcasting of two shapes, with an error naming both."""
    if a == b:
        return a
    na, nb = len(a), len(b)
    n = max(na, nb)
    out = []
    for i in range(n):
        da = a[i - n + na] if i - n + na >= 0 else 1
        db = b[i - n + nb] if i - n + nb >= 0 else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            raise ShapeError(f"{op}: operands could not be broadcast together with shapes "
                             f"{a} {b}")
    return tuple(out)


def execute(name: str, fn: Callable[[], Any], inputs: Sequence[BaseArray],
            outputs: Sequence[BaseArray], mutated: Sequence[BaseArray] = (),
            inline: bool | None = None) -> None:
    """Run ``fn`` (which reads ``inputs`` and fills ``outputs``/writes ``mutated``) on the engine.

    Small ops run on the caller's thread (``inline``) when nothing they read or write is in
    flight (queued work they do not touch does not hold them back); the rest are pushed to the
    device's queue and this returns at once.
    """
    engine = _eng._engine
    reads = [x._v or _new_var(x) for x in inputs]
    writes = [x._v or _new_var(x) for x in outputs]
    if mutated and STATE.trace is not None:
        STATE.trace.before_write(mutated)  # hybridize keeps constants' original values
    for m in mutated:
        writes.append(m._v or _new_var(m))
    if engine.naive:
        engine.push(fn, reads, writes, None, name)
        return
    if inline is None:
        inline = all(math.prod(o._shape) <= _INLINE for o in outputs) and all(
            math.prod(m._shape) <= _INLINE for m in mutated)
    if inline:
        for v in reads:
            if v.err is not None:
                inline = False
                break
        else:
            for v in writes:
                if v.err is not None:
                    inline = False
                    break
    if inline and engine.run_inline(fn, writes, name, reads):  # type: ignore[attr-defined]
        return
    device = outputs[0]._device if outputs else (mutated[0]._device if mutated else
                                                  current_device())
    engine.push(fn, reads, writes, device, name)


def fail_now(exc: Exception, name: str, outputs: Sequence[BaseArray]) -> None:
    """Record ``exc`` as the deferred failure of ``outputs`` (used by host-side checks)."""
    err = AsyncError(exc, name, user_location(2))
    _eng._engine._record(err)
    for o in outputs:
        o._var.err = err


# keep the engine package referenced so ``framework.engine`` is initialised first
_ = _engine_pkg
