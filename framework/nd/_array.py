"""``ndarray``: the array users hold (``framework.np.ndarray``, MXNet's ``mx.np.ndarray``).

Ops return at once; ``shape``/``dtype`` are known immediately; ``asnumpy()``, ``item()``,
``wait_to_read()``, ``repr`` and ``numpy.asarray(x)`` wait for the data (and raise the error of a
failed op that produced it). Semantics follow MXNet's NumPy interface (API.md §1.3, §2).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy

from ..base import FrameworkError
from ..device import Device, _parse, num_gpus, resolve
from . import _create, _elemwise, _index, _misc, _reduce, _shape
from ._base import BaseArray, set_array_class
from ._elemwise import binary, unary
from ._tape import check_write

__all__ = ["ndarray", "set_np_function_table", "set_autograd_hooks"]

# filled by the np front end: NumPy function name -> framework implementation
_NP_FUNCS: dict[str, Callable[..., Any]] = {}

# filled by the autograd layer: (backward(heads, head_grads, retain_graph, train_mode),
# in_place_guard(array)); and by nd._legacy: as_nd_ndarray(array), the zero-copy NDArray view
_AUTOGRAD: dict[str, Callable[..., Any]] = {}


def set_np_function_table(table: dict[str, Callable[..., Any]]) -> None:
    """Register the functions ``__array_function__``/``__array_ufunc__`` dispatch to."""
    _NP_FUNCS.update(table)


def set_autograd_hooks(**hooks: Callable[..., Any]) -> None:
    """Let the autograd layer plug ``backward`` and the in-place write guard in."""
    _AUTOGRAD.update(hooks)


def _guard_write(x: BaseArray) -> None:
    check_write(x)


def _unary_method(name: str) -> Callable[[ndarray], ndarray]:
    def method(self: ndarray) -> ndarray:
        return unary(name, self)  # type: ignore[return-value]

    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}`` (see ``np.{name}``)."
    return method


class ndarray(BaseArray):
    """An n-dimensional array on a device, computed asynchronously."""

    __slots__ = ()
    __array_priority__ = 1000.0

    # -- construction from user code ------------------------------------------------------------
    def __new__(cls, shape: Any = None, dtype: Any = None, device: Device | None = None,
                ctx: Device | None = None, buffer: Any = None) -> ndarray:
        if shape is None and buffer is None:
            raise TypeError("ndarray() needs a shape; use np.array(obj) to convert data")
        if buffer is not None:
            return _create.array(buffer, dtype=dtype, device=device, ctx=ctx)  # type: ignore
        return _create.empty(shape, dtype=dtype, device=device, ctx=ctx)  # type: ignore

    # -- devices ------------------------------------------------------------------------------
    @property
    def device(self) -> Device:
        return self._device

    ctx = device
    context = device

    def to_device(self, device: Device | str, stream: Any = None) -> ndarray:
        """This array on ``device``; shares memory when it is already there."""
        return _create.to_device(self, resolve(device))  # type: ignore[return-value]

    def as_in_context(self, context: Device | str) -> ndarray:
        return self.to_device(context)

    as_in_ctx = as_in_context

    def copyto(self, other: Device | str | ndarray) -> ndarray:
        """A copy on a device, or written into the array ``other`` (shapes must match)."""
        if isinstance(other, BaseArray):
            if other._shape != self._shape:
                raise ValueError(f"copyto: shape mismatch, source {self._shape} and target "
                                 f"{other._shape}")
            other[...] = self  # type: ignore[index]
            return other  # type: ignore[return-value]
        dev = resolve(other)
        if dev == self._device:
            return self.copy()
        return _create.to_device(self, dev)  # type: ignore[return-value]

    # -- host access (sync points) ----------------------------------------------------------
    def asnumpy(self) -> numpy.ndarray:
        """A new NumPy array with the values (always a copy; waits for the data)."""
        host = self._host()
        if self._device.device_type == "gpu":
            return host
        return host.copy()

    def item(self, *args: Any) -> Any:
        """The value as a Python scalar (size-1 arrays only, or with an index)."""
        if args:
            return self._host().item(*args)
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._host().item()

    def tolist(self) -> Any:
        return self._host().tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
        host = self._host()
        on_gpu = self._device.device_type == "gpu"
        if copy is False and (on_gpu or (dtype is not None and numpy.dtype(dtype) != host.dtype)):
            raise ValueError("__array__: a copy is needed (device or dtype differs) but "
                             "copy=False was requested")
        if dtype is not None and numpy.dtype(dtype) != host.dtype:
            return host.astype(dtype)
        if copy and not on_gpu:
            return host.copy()
        return host

    def __bool__(self) -> bool:
        n = self.size
        if n == 1:
            return bool(self._host().item())
        if n == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False",
                          DeprecationWarning, stacklevel=2)
            return False
        raise ValueError("The truth value of an array with more than one element is "
                         "ambiguous. Use a.any() or a.all()")

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if self._dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, got {self._dtype}")
        return int(self._scalar("index"))

    def _scalar(self, what: str) -> Any:
        if self.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars "
                            f"({what}() of shape {self._shape})")
        return self._host().item()

    def __repr__(self) -> str:
        host = self._host()
        body = numpy.array2string(host, separator=", ", prefix="array(")
        if host.size == 0 and host.ndim == 1:
            body = "[]"
        elif host.size == 0:
            body = f"[], shape={host.shape}"
        dt = self._dtype
        if dt == numpy.float32 or dt == numpy.bool_:
            text = f"array({body})"
        else:
            text = f"array({body}, dtype={dt})"
        if self._device.device_type != "cpu":
            text = text[:-1] + f", device={self._device})"
        return text

    def __str__(self) -> str:
        return str(self._host())

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self._host().item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to ndarray.__format__ (only "
                            "0-d arrays take a format spec)")
        return str(self)

    def __hash__(self) -> int:
        raise NotImplementedError("ndarray is not hashable (it is mutable); use id(x) as a key")

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of unsized object (a 0-d array)")
        return self._shape[0]

    def __iter__(self) -> Iterator[ndarray]:
        if not self._shape:
            raise TypeError("iteration over a 0-d array")
        for i in range(self._shape[0]):
            yield self[i]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle, (self._host().copy(), str(self._device), type(self)))

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None,
                   dl_device: Any = None, copy: bool | None = None) -> Any:
        self._wait_write()  # the consumer may write: wait for queued readers too (MXNet's
        buf = self._synced()  # __dlpack__ is to_dlpack_for_write)
        kwargs: dict[str, Any] = {}
        if max_version is not None:
            kwargs["max_version"] = max_version
        if copy is not None:
            kwargs["copy"] = copy
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if stream is not None:
            kwargs["stream"] = stream
        try:
            return buf.__dlpack__(**kwargs)
        except TypeError:
            return buf.__dlpack__()

    def __dlpack_device__(self) -> tuple[int, int]:
        if self._device.device_type == "gpu":
            return (2, self._device.device_id)
        return (1, 0)

    def wait_to_read(self) -> None:
        """Block until the array is computed (raises a failed op's error once)."""
        v = self._v
        if v is None or (v.writer is None and v.err is None):
            return  # computed inline or created from data: nothing to wait for
        BaseArray.wait_to_read(self)

    # -- NumPy protocol ---------------------------------------------------------------------
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = func.__name__
        if getattr(func, "__module__", None) == "numpy.linalg":  # linalg.trace is not trace
            name = "linalg." + name
        impl = _NP_FUNCS.get(name)
        if impl is not None:
            return impl(*args, **kwargs)
        return _numpy_fallback(func, args, kwargs)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__":
            return NotImplemented
        for x in inputs:
            if isinstance(x, numpy.ndarray):
                raise TypeError(
                    f"{ufunc.__name__}: cannot mix a framework ndarray with a numpy.ndarray "
                    f"(shape {x.shape}); convert explicitly with np.array(x) or x.asnumpy()")
        impl = _NP_FUNCS.get(ufunc.__name__)
        if impl is None:
            return _numpy_fallback(ufunc, inputs, kwargs)
        return impl(*inputs, **kwargs)

    # -- properties ---------------------------------------------------------------------------
    @property
    def T(self) -> ndarray:
        return self.transpose()

    @property
    def mT(self) -> ndarray:
        if self.ndim < 2:
            raise ValueError("mT: the array must have at least 2 dimensions")
        return self.swapaxes(-1, -2)

    @property
    def grad(self) -> ndarray | None:
        """The gradient buffer (None until ``attach_grad``)."""
        return self._grad

    @property
    def stype(self) -> str:
        return "default"

    @property
    def handle(self) -> int:
        return id(self)

    @property
    def writable(self) -> bool:
        return True

    # -- autograd storage (the graph itself lives in framework.autograd) ----------------------
    def attach_grad(self, grad_req: str = "write", stype: str | None = None) -> None:
        """Allocate a zero gradient buffer; ``grad_req`` is 'write', 'add' or 'null'."""
        if grad_req not in ("write", "add", "null"):
            raise ValueError(f"attach_grad: grad_req must be 'write', 'add' or 'null', got "
                             f"{grad_req!r}")
        if stype not in (None, "default"):
            raise ValueError(f"attach_grad: only stype='default' is supported, got {stype!r}")
        self._grad_req = grad_req
        self._node = None  # a variable is a leaf: gradients stop here
        self._grad = None if grad_req == "null" else _create.zeros_like(self)

    def drop_grad(self) -> None:
        self._grad = None
        self._grad_req = "null"

    def backward(self, out_grad: ndarray | None = None, retain_graph: bool = False,
                 train_mode: bool = True) -> None:
        """Compute gradients of this array with respect to marked variables."""
        bw = _AUTOGRAD.get("backward")
        if bw is None or (self._node is None and self._grad_req == "null"):
            raise FrameworkError("Cannot differentiate node because it is not in a "
                                 "computational graph. You need to set is_recording to true or "
                                 "use autograd.record() to save computational graphs for "
                                 "backward.")
        bw([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    def detach(self) -> ndarray:
        """The same data, cut from the autograd graph."""
        return _shape.detach(self)  # type: ignore[return-value]

    # -- conversions ----------------------------------------------------------------------
    def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True,
               copy: bool = True) -> ndarray:
        return _shape.astype(self, dtype, copy)  # type: ignore[return-value]

    def copy(self, order: str = "C") -> ndarray:
        return _shape.copy(self)  # type: ignore[return-value]

    def as_np_ndarray(self) -> ndarray:
        return self

    def as_nd_ndarray(self) -> Any:
        conv = _AUTOGRAD.get("as_nd_ndarray")
        if conv is None:
            raise FrameworkError("the legacy nd namespace is not available")
        return conv(self)

    # -- shape -------------------------------------------------------------------------------
    def reshape(self, *shape: Any, order: str = "C", **kwargs: Any) -> ndarray:
        if kwargs:
            if "shape" in kwargs and not shape:
                shape = (kwargs.pop("shape"),)
            if kwargs:
                raise TypeError(f"reshape: unexpected keyword arguments {sorted(kwargs)}")
        if not shape:  # checked before unpacking: x.reshape(()) is a valid 0-d target
            raise TypeError("reshape: a shape is required")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shape.reshape(self, shape, order)  # type: ignore[return-value]

    def reshape_like(self, other: BaseArray) -> ndarray:
        return self.reshape(other._shape)

    def transpose(self, *axes: Any) -> ndarray:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = tuple(axes[0]) if axes[0] is not None else ()
        return _shape.transpose(self, axes or None)  # type: ignore[return-value]

    def swapaxes(self, axis1: int, axis2: int) -> ndarray:
        return _shape.swapaxes(self, axis1, axis2)  # type: ignore[return-value]

    def squeeze(self, axis: Any = None) -> ndarray:
        return _shape.squeeze(self, axis)  # type: ignore[return-value]

    def expand_dims(self, axis: Any) -> ndarray:
        return _shape.expand_dims(self, axis)  # type: ignore[return-value]

    def flatten(self, order: str = "C") -> ndarray:
        return _shape.flatten(self)  # type: ignore[return-value]

    def ravel(self, order: str = "C") -> ndarray:
        return _shape.ravel(self)  # type: ignore[return-value]

    def repeat(self, repeats: int, axis: Any = None) -> ndarray:
        return _shape.repeat(self, repeats, axis)  # type: ignore[return-value]

    def tile(self, reps: Any) -> ndarray:
        return _shape.tile(self, reps)  # type: ignore[return-value]

    def flip(self, axis: Any = None) -> ndarray:
        return _shape.flip(self, axis)  # type: ignore[return-value]

    def diag(self, k: int = 0) -> ndarray:
        return _shape.diag(self, k)  # type: ignore[return-value]

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> ndarray:
        """Diagonals over ``axis1``/``axis2``, on the last axis of the result (a copy)."""
        a1, a2 = (_reduce.normalize_axis(a, self.ndim, "diagonal", False)[0]
                  for a in (axis1, axis2))
        if a1 == a2:
            raise ValueError("diagonal: axis1 and axis2 cannot be the same")
        rest = [a for a in range(self.ndim) if a not in (a1, a2)]
        moved = _shape.transpose(self, rest + [a1, a2])
        n, m = self._shape[a1], self._shape[a2]
        if offset >= 0:
            k = max(0, min(n, m - offset))
            rows, cols = numpy.arange(k), numpy.arange(k) + offset
        else:
            k = max(0, min(n + offset, m))
            rows, cols = numpy.arange(k) - offset, numpy.arange(k)
        return moved[(Ellipsis, rows, cols)]  # type: ignore[index]

    def broadcast_to(self, shape: Any) -> ndarray:
        return _shape.broadcast_to(self, shape)  # type: ignore[return-value]

    def broadcast_like(self, other: BaseArray) -> ndarray:
        return _shape.broadcast_to(self, other._shape)  # type: ignore[return-value]

    def split(self, indices_or_sections: Any, axis: int = 0) -> list[ndarray]:
        return _shape.split(self, indices_or_sections, axis)  # type: ignore[return-value]

    def clip(self, min: Any = None, max: Any = None) -> ndarray:
        return _shape.clip(self, min, max)  # type: ignore[return-value]

    # -- reductions ----------------------------------------------------------------------------
    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("sum", self, axis, dtype, keepdims), out)

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("prod", self, axis, dtype, keepdims), out)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("mean", self, axis, dtype, keepdims), out)

    def std(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
            keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("std", self, axis, dtype, keepdims, ddof), out)

    def var(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
            keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("var", self, axis, dtype, keepdims, ddof), out)

    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("max", self, axis, None, keepdims), out)

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("min", self, axis, None, keepdims), out)

    def all(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("all", self, axis, None, keepdims), out)

    def any(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.reduce("any", self, axis, None, keepdims), out)

    def argmax(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.argreduce("argmax", self, axis, keepdims), out)

    def argmin(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _out(_reduce.argreduce("argmin", self, axis, keepdims), out)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> ndarray:
        return _out(_reduce.cumulative("cumsum", self, axis, dtype), out)

    def norm(self, ord: Any = None, axis: Any = None, keepdims: bool = False) -> ndarray:
        return _reduce.norm(self, ord, axis, keepdims)  # type: ignore[return-value]

    def nansum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> ndarray:
        return _reduce.reduce("nansum", self, axis, dtype, keepdims)  # type: ignore

    def nanprod(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> ndarray:
        return _reduce.reduce("nanprod", self, axis, dtype, keepdims)  # type: ignore

    # -- sorting, searching, indexing helpers -----------------------------------------------
    def sort(self, axis: Any = -1, kind: str | None = None, order: Any = None,
             descending: bool = False) -> ndarray:
        return _misc.sort(self, axis, descending)  # type: ignore[return-value]

    def argsort(self, axis: Any = -1, kind: str | None = None, order: Any = None,
                descending: bool = False) -> ndarray:
        return _misc.argsort(self, axis, descending)  # type: ignore[return-value]

    def topk(self, axis: Any = -1, k: int = 1, ret_typ: str = "indices",
             is_ascend: bool = False, dtype: Any = "float32") -> Any:
        return _misc.topk(self, axis, k, ret_typ, is_ascend, dtype)

    def take(self, indices: Any, axis: Any = None, mode: str = "clip") -> ndarray:
        if not isinstance(indices, BaseArray):
            indices = _create.array(indices, dtype=numpy.int64, device=self._device)
        return _misc.take(self, indices, axis, mode)  # type: ignore[return-value]

    def pick(self, index: BaseArray, axis: Any = -1, mode: str = "clip",
             keepdims: bool = False) -> ndarray:
        return _misc.pick(self, index, axis, mode, keepdims)  # type: ignore[return-value]

    def one_hot(self, depth: int, on_value: float = 1.0, off_value: float = 0.0,
                dtype: Any = "float32") -> ndarray:
        return _misc.one_hot(self, depth, on_value, off_value, dtype)  # type: ignore

    def nonzero(self) -> tuple[ndarray, ...]:
        return _misc.nonzero(self)  # type: ignore[return-value]

    def dot(self, b: BaseArray) -> ndarray:
        return _misc.dot(self, b)  # type: ignore[return-value]

    def softmax(self, axis: int = -1, temperature: float | None = None) -> ndarray:
        return _misc.softmax(self, axis, temperature)  # type: ignore[return-value]

    def log_softmax(self, axis: int = -1, temperature: float | None = None) -> ndarray:
        return _misc.log_softmax(self, axis, temperature)  # type: ignore[return-value]

    def zeros_like(self, dtype: Any = None) -> ndarray:
        return _create.zeros_like(self, dtype)  # type: ignore[return-value]

    def ones_like(self, dtype: Any = None) -> ndarray:
        return _create.ones_like(self, dtype)  # type: ignore[return-value]

    def round(self, decimals: int = 0) -> ndarray:
        """Round half to even to ``decimals`` places."""
        return _misc.round_(self, decimals)  # type: ignore[return-value]

    def __round__(self, ndigits: int | None = None) -> Any:
        if ndigits is None and self.ndim == 0:
            return round(self._scalar("round"))
        return _misc.round_(self, ndigits or 0)

    abs = _unary_method("abs")
    exp = _unary_method("exp")
    expm1 = _unary_method("expm1")
    log = _unary_method("log")
    log10 = _unary_method("log10")
    log2 = _unary_method("log2")
    log1p = _unary_method("log1p")
    sqrt = _unary_method("sqrt")
    rsqrt = _unary_method("rsqrt")
    cbrt = _unary_method("cbrt")
    rcbrt = _unary_method("rcbrt")
    square = _unary_method("square")
    reciprocal = _unary_method("reciprocal")
    sign = _unary_method("sign")
    floor = _unary_method("floor")
    ceil = _unary_method("ceil")
    trunc = _unary_method("trunc")
    rint = _unary_method("rint")
    fix = _unary_method("fix")
    sin = _unary_method("sin")
    cos = _unary_method("cos")
    tan = _unary_method("tan")
    arcsin = _unary_method("arcsin")
    arccos = _unary_method("arccos")
    arctan = _unary_method("arctan")
    sinh = _unary_method("sinh")
    cosh = _unary_method("cosh")
    tanh = _unary_method("tanh")
    arcsinh = _unary_method("arcsinh")
    arccosh = _unary_method("arccosh")
    arctanh = _unary_method("arctanh")
    degrees = _unary_method("degrees")
    radians = _unary_method("radians")
    relu = _unary_method("relu")
    sigmoid = _unary_method("sigmoid")
    softsign = _unary_method("softsign")

    # -- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> ndarray:
        return _index.getitem(self, key)  # type: ignore[return-value]

    def __setitem__(self, key: Any, value: Any) -> None:
        _guard_write(self)
        _index.setitem(self, key, value)

    # -- arithmetic ---------------------------------------------------------------------------
    __add__ = _elemwise.make_operator("add", "iuf")
    __radd__ = _elemwise.make_operator("add", "iuf", reverse=True)

    __sub__ = _elemwise.make_operator("subtract", "iuf")
    __rsub__ = _elemwise.make_operator("subtract", "iuf", reverse=True)

    __mul__ = _elemwise.make_operator("multiply", "iuf")
    __rmul__ = _elemwise.make_operator("multiply", "iuf", reverse=True)

    __truediv__ = _elemwise.make_operator("true_divide", "f")
    __rtruediv__ = _elemwise.make_operator("true_divide", "f", reverse=True)

    def __floordiv__(self, o: Any) -> ndarray:
        return binary("floor_divide", self, o)

    def __rfloordiv__(self, o: Any) -> ndarray:
        return binary("floor_divide", o, self)

    def __mod__(self, o: Any) -> ndarray:
        return binary("mod", self, o)

    def __rmod__(self, o: Any) -> ndarray:
        return binary("mod", o, self)

    def __pow__(self, o: Any) -> ndarray:
        return binary("power", self, o)

    def __rpow__(self, o: Any) -> ndarray:
        return binary("power", o, self)

    def __matmul__(self, o: Any) -> ndarray:
        if not isinstance(o, BaseArray):
            return _not_array("matmul", o)
        return _misc.matmul(self, o)  # type: ignore[return-value]

    def __rmatmul__(self, o: Any) -> ndarray:
        return _not_array("matmul", o)

    def __and__(self, o: Any) -> ndarray:
        return binary("bitwise_and", self, o)

    def __rand__(self, o: Any) -> ndarray:
        return binary("bitwise_and", o, self)

    def __or__(self, o: Any) -> ndarray:
        return binary("bitwise_or", self, o)

    def __ror__(self, o: Any) -> ndarray:
        return binary("bitwise_or", o, self)

    def __xor__(self, o: Any) -> ndarray:
        return binary("bitwise_xor", self, o)

    def __rxor__(self, o: Any) -> ndarray:
        return binary("bitwise_xor", o, self)

    def __lshift__(self, o: Any) -> ndarray:
        return binary("left_shift", self, o)

    def __rshift__(self, o: Any) -> ndarray:
        return binary("right_shift", self, o)

    def __invert__(self) -> ndarray:
        return unary("bitwise_not" if self._dtype.kind != "b" else "logical_not", self)

    def __neg__(self) -> ndarray:
        return unary("negative", self)

    def __pos__(self) -> ndarray:
        return self.copy()

    def __abs__(self) -> ndarray:
        return unary("abs", self)

    def __eq__(self, o: Any) -> ndarray:  # type: ignore[override]
        if o is None:
            return False  # type: ignore[return-value]
        return binary("equal", self, o)

    def __ne__(self, o: Any) -> ndarray:  # type: ignore[override]
        if o is None:
            return True  # type: ignore[return-value]
        return binary("not_equal", self, o)

    __lt__ = _elemwise.make_operator("less", "iuf")

    __le__ = _elemwise.make_operator("less_equal", "iuf")

    __gt__ = _elemwise.make_operator("greater", "iuf")

    __ge__ = _elemwise.make_operator("greater_equal", "iuf")

    # in-place: the result is computed, then written into this array's buffer
    def _inplace(self, name: str, o: Any) -> ndarray:
        _guard_write(self)
        if isinstance(o, numpy.ndarray):
            return _not_array(name, o)
        if _elemwise.binary_inplace(name, self, o):  # computed into self's buffer
            return self
        res = binary(name, self, o)
        if res._shape != self._shape:
            raise ValueError(f"non-broadcastable output operand with shape {self._shape} "
                             f"doesn't match the broadcast shape {res._shape}")
        _elemwise._assign_out(name, self, res)
        return self

    def __iadd__(self, o: Any) -> ndarray:
        return self._inplace("add", o)

    def __isub__(self, o: Any) -> ndarray:
        return self._inplace("subtract", o)

    def __imul__(self, o: Any) -> ndarray:
        return self._inplace("multiply", o)

    def __itruediv__(self, o: Any) -> ndarray:
        return self._inplace("true_divide", o)

    def __ifloordiv__(self, o: Any) -> ndarray:
        return self._inplace("floor_divide", o)

    def __imod__(self, o: Any) -> ndarray:
        return self._inplace("mod", o)

    def __ipow__(self, o: Any) -> ndarray:
        return self._inplace("power", o)

    def __iand__(self, o: Any) -> ndarray:
        return self._inplace("bitwise_and", o)

    def __ior__(self, o: Any) -> ndarray:
        return self._inplace("bitwise_or", o)

    def __ixor__(self, o: Any) -> ndarray:
        return self._inplace("bitwise_xor", o)

    def __ilshift__(self, o: Any) -> ndarray:
        return self._inplace("left_shift", o)

    def __irshift__(self, o: Any) -> ndarray:
        return self._inplace("right_shift", o)

    def __imatmul__(self, o: Any) -> ndarray:
        res = self @ o
        if res._shape != self._shape:
            raise ValueError(f"matmul: in-place result shape {res._shape} differs from "
                             f"{self._shape}")
        _guard_write(self)
        _elemwise._assign_out("matmul", self, res)
        return self

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> ndarray:
        return self.copy()


def _not_array(name: str, o: Any) -> Any:
    if isinstance(o, numpy.ndarray):
        raise TypeError(f"{name}: cannot mix a framework ndarray with a numpy.ndarray (shape "
                        f"{o.shape}); convert explicitly with np.array(x) or x.asnumpy()")
    return NotImplemented


def _out(res: BaseArray, out: Any) -> Any:
    if out is None:
        return res
    return _elemwise._assign_out("out", out, res)


def _to_host(obj: Any) -> Any:
    if isinstance(obj, BaseArray):
        return obj._host()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_host(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_host(v) for k, v in obj.items()}
    return obj


def _from_host(obj: Any, device: Device) -> Any:
    if isinstance(obj, numpy.ndarray):
        return _create.array(obj, device=device)
    if isinstance(obj, numpy.generic):
        return _create.array(numpy.asarray(obj), device=device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_host(o, device) for o in obj)
    return obj


def _first_device(args: Any) -> Device:
    stack = [args]
    while stack:
        o = stack.pop()
        if isinstance(o, BaseArray):
            return o._device
        if isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    return resolve(None)


def _numpy_fallback(func: Any, args: Any, kwargs: Any) -> Any:
    """Run a NumPy function the framework does not implement on host copies of the inputs,
    returning framework arrays on the inputs' device (this waits for the inputs)."""
    device = _first_device((args, kwargs))
    result = func(*_to_host(args), **_to_host(kwargs))
    return _from_host(result, device)


def _unpickle(host: numpy.ndarray, device: str, cls: type) -> BaseArray:
    dev = _parse(device)
    if dev.device_type == "gpu" and num_gpus() <= dev.device_id:
        warnings.warn(f"unpickling an array saved on {dev}, which is not available here; "
                      "it is loaded on cpu(0)", stacklevel=2)
        dev = _parse("cpu(0)")
    out = _create.array(host, device=dev)
    if cls is not type(out):
        out = cls._wrap(out._buf, dev)
    return out


set_array_class(ndarray)

