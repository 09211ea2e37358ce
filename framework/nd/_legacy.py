"""``NDArray``: MXNet 1.x's legacy array (``mx.nd.NDArray``), a sibling of ``ndarray``.

Both classes sit on :class:`~framework.nd._base.BaseArray`, so they share the engine, every
operator and autograd: an op applied to an ``NDArray`` returns an ``NDArray`` (outputs take the
class of the first input). What differs is the user-facing semantics (API.md §1.8):

- no 0-d arrays: reductions over every axis and integer indexing down to one element give shape
  ``(1,)``;
- ``.dtype`` is the NumPy scalar *type* (``numpy.float32``), not a dtype instance;
- lists and NumPy arrays become float32 unless ``dtype`` says otherwise;
- ``repr`` is MXNet's (``\\n[1. 2. 3.]\\n<NDArray 3 @cpu(0)>``), ``asscalar()`` exists;
- comparisons return 0/1 in the input's dtype; ``reshape`` takes MXNet's special codes
  (0 copy, -1 infer, -2 copy the rest, -3 merge two, -4 split one); ``flatten`` keeps the first
  axis; reductions take ``exclude``.

``x.as_np_ndarray()`` and ``y.as_nd_ndarray()`` convert without copying: the result shares the
buffer *and* the engine variable of its source, so writes through either are ordered and seen by
the other. While autograd records (or hybridize traces), the conversion is recorded as a view op,
so gradients flow across it and a hybridized graph replays it; outside recording the result
aliases the source's autograd state (its gradient buffer and graph node), as MXNet's shared
handle does.

Gluon on legacy arrays (``framework.gluon._legacy``) is built on these conversions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy

from ..base import ShapeError
from . import _create, _elemwise, _misc, _npx, _reduce, _shape
from ._array import ndarray, set_autograd_hooks
from ._base import BaseArray
from ._elemwise import binary, unary
from ._op import Op, register
from ._tape import ACTIVE, STATE, record

__all__ = ["NDArray", "as_nd", "as_np", "to_nd_nested", "to_np_nested", "legacy_reduce",
           "legacy_reshape", "one_d", "is_legacy", "LEGACY"]

_F32 = numpy.dtype(numpy.float32)


class _LegacyState(threading.local):
    """Per-thread flags of Gluon calls on legacy arrays (see ``framework.gluon._legacy``).

    ``root``: a block call entered with ``NDArray`` inputs is running (``hybrid_forward`` then
    gets ``F = nd``). ``user``: code written for legacy arrays is running (a plain ``Block``'s
    ``forward`` or a ``hybrid_forward`` with ``F = nd``): ``Parameter.data()`` returns NDArrays.
    """

    root = False
    user = False


LEGACY = _LegacyState()


# -- conversions ---------------------------------------------------------------------------------
@register("_convert_array")
class _Convert(Op):
    """Stands for a class conversion (``as_np_ndarray``/``as_nd_ndarray``) in the autograd graph
    and in hybridized traces; the view itself was made without running anything."""

    def __init__(self, target: str) -> None:
        self.target = target  # "nd" or "np"

    def replay(self, inputs: Any) -> Any:
        return _convert(inputs[0], NDArray if self.target == "nd" else ndarray)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        return [_convert(g, type(x))]


def _convert(x: BaseArray, cls: type) -> Any:
    """``x`` viewed as ``cls`` (same buffer, same engine variable)."""
    if type(x) is cls:
        return x
    if not isinstance(x, BaseArray):
        raise TypeError(f"expected an array, got {type(x).__name__}")
    out = object.__new__(cls)
    out._buf = x._alloc_buffer()
    out._v = x._var
    out._device = x._device
    out._shape = x._shape
    out._dtype = x._dtype
    if ACTIVE.count and STATE.recording:
        out._grad = None
        out._grad_req = "null"
        out._node = None
        record(_Convert("nd" if cls is NDArray else "np"), (x,), (out,))
    else:  # alias the source's autograd state, like MXNet's shared handle
        out._grad_req = x._grad_req
        out._grad = None if x._grad is None else _convert(x._grad, cls)
        out._node = x._node
    return out


def as_nd(x: BaseArray) -> NDArray:
    """``x`` as an ``NDArray`` without copying (``ndarray.as_nd_ndarray``)."""
    return _convert(x, NDArray)  # type: ignore[no-any-return]


def as_np(x: BaseArray) -> ndarray:
    """``x`` as an ``np.ndarray`` without copying (``NDArray.as_np_ndarray``)."""
    return _convert(x, ndarray)  # type: ignore[no-any-return]


def _nested(obj: Any, fn: Callable[[BaseArray], Any], src: type) -> Any:
    if isinstance(obj, src):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_nested(o, fn, src) for o in obj)
    return obj


def to_np_nested(obj: Any) -> Any:
    """Every ``NDArray`` in a (nested) list/tuple converted to ``np.ndarray``, zero-copy."""
    return _nested(obj, as_np, NDArray)


def to_nd_nested(obj: Any, one_d_scalars: bool = False) -> Any:
    """Every ``np.ndarray`` in a (nested) list/tuple converted to ``NDArray``, zero-copy; with
    ``one_d_scalars`` a 0-d array becomes shape ``(1,)`` (legacy arrays have no 0-d)."""
    def conv(x: BaseArray) -> Any:
        out = as_nd(x)
        return one_d(out) if one_d_scalars else out

    return _nested(obj, conv, ndarray)


def is_legacy(obj: Any) -> bool:
    """Whether ``obj`` (or anything in a nested list/tuple) is an ``NDArray``."""
    if isinstance(obj, NDArray):
        return True
    if isinstance(obj, (list, tuple)):
        return any(is_legacy(o) for o in obj)
    return False


# -- legacy semantics shared by methods and the nd functions ----------------------------------
def one_d(x: Any) -> Any:
    """A 0-d array as shape ``(1,)`` (a view); anything else unchanged."""
    if isinstance(x, BaseArray) and not x._shape:
        return _shape.reshape(x, (1,))
    return x


def _axes(x: BaseArray, axis: Any, exclude: bool, op: str) -> Any:
    if axis is None or (isinstance(axis, (tuple, list)) and len(axis) == 0):
        return None
    axes = _reduce.normalize_axis(axis, x.ndim, op)
    if exclude:
        return tuple(i for i in range(x.ndim) if i not in axes)
    return axes


def legacy_reduce(name: str, x: BaseArray, axis: Any = None, keepdims: bool = False,
                  exclude: bool = False) -> Any:
    """MXNet 1.x reduction: ``axis`` None or ``()`` reduces everything, ``exclude`` reduces the
    axes *not* listed, and a full reduction gives shape ``(1,)``."""
    axes = _axes(x, axis, exclude, name)
    if name in ("argmax", "argmin"):
        if isinstance(axes, tuple) and len(axes) != 1:
            raise ValueError(f"{name}: axis must be one int or None, got {axis!r}")
        ax = axes[0] if isinstance(axes, tuple) else None
        out = _reduce.argreduce(name, x, ax, keepdims)
        return one_d(_shape.astype(out, _F32))  # MXNet 1.x: indices as float32
    if name == "norm":
        return one_d(_reduce.norm(x, None, axes, keepdims))
    return one_d(_reduce.reduce(name, x, axes, None, keepdims))


def legacy_reshape(x: BaseArray, shape: Any, reverse: bool = False) -> Any:
    """Reshape with MXNet 1.x's special codes (0, -1, -2, -3, -4); a view when possible."""
    if isinstance(shape, (int, numpy.integer)):
        shape = (int(shape),)
    new = _npx.legacy_reshape_shape(x._shape, tuple(shape), reverse)
    return _shape.reshape(x, new)


def _reject_np(name: str, o: Any) -> None:
    if isinstance(o, BaseArray) and not isinstance(o, NDArray):
        raise TypeError(f"{name}: cannot mix a legacy nd.NDArray with an np.ndarray (shape "
                        f"{o._shape}); convert explicitly with as_nd_ndarray()/as_np_ndarray()")
    if isinstance(o, numpy.ndarray):
        raise TypeError(f"{name}: cannot mix a legacy nd.NDArray with a numpy.ndarray (shape "
                        f"{o.shape}); convert explicitly with nd.array(x) or x.asnumpy()")


def _operator(name: str, kinds: str, reverse: bool = False) -> Callable[[Any, Any], Any]:
    fast = _elemwise.make_operator(name, kinds, reverse)

    def op(a: Any, b: Any) -> Any:
        if b.__class__ is not a.__class__:
            _reject_np(name, b)
        return fast(a, b)

    op.__name__ = name
    return op


def _compare(name: str) -> Callable[[Any, Any], Any]:
    def op(a: Any, b: Any) -> Any:
        if b is None:
            return name == "not_equal"
        _reject_np(name, b)
        res = binary(name, a, b)
        return _shape.astype(res, a._dtype)  # MXNet 1.x: 1/0 in the input's dtype

    op.__name__ = name
    return op


def _shared(name: str) -> Any:
    return ndarray.__dict__[name]


class NDArray(BaseArray):
    """MXNet 1.x's ``mx.nd.NDArray`` (see the module docstring for how it differs from
    ``np.ndarray``).

    >>> nd.array([1, 2, 3]).sum()
    <BLANKLINE>
    [6.]
    <NDArray 1 @cpu(0)>
    """

    __slots__ = ()
    __array_priority__ = 1000.0

    def __new__(cls, handle: Any = None, writable: bool = True) -> NDArray:
        raise TypeError("NDArray() cannot be constructed directly; use nd.array(), nd.zeros()...")

    # -- attributes ---------------------------------------------------------------------------
    @property
    def dtype(self) -> Any:  # type: ignore[override]
        """The NumPy scalar type (``numpy.float32``), as MXNet 1.x returns."""
        return self._dtype.type

    device = _shared("device")
    ctx = _shared("ctx")
    context = _shared("context")
    grad = _shared("grad")
    stype = _shared("stype")
    handle = _shared("handle")
    writable = _shared("writable")

    @property
    def T(self) -> NDArray:
        return self.transpose()

    # -- host access --------------------------------------------------------------------------
    asnumpy = _shared("asnumpy")
    item = _shared("item")
    tolist = _shared("tolist")
    wait_to_read = _shared("wait_to_read")
    __array__ = _shared("__array__")
    __bool__ = _shared("__bool__")
    __float__ = _shared("__float__")
    __int__ = _shared("__int__")
    __complex__ = _shared("__complex__")
    __index__ = _shared("__index__")
    _scalar = _shared("_scalar")
    __len__ = _shared("__len__")
    __iter__ = _shared("__iter__")
    __reduce__ = _shared("__reduce__")
    __dlpack__ = _shared("__dlpack__")
    __dlpack_device__ = _shared("__dlpack_device__")

    def asscalar(self) -> Any:
        """The value of a shape-``(1,)`` array as a NumPy scalar."""
        if self._shape != (1,):
            raise ValueError(f"The current array is not a scalar (shape {self._shape}); "
                             "asscalar() needs shape (1,)")
        return self._host()[0]

    def __repr__(self) -> str:
        shape = "x".join(str(d) for d in self._shape)
        return f"\n{self._host()}\n<{type(self).__name__} {shape} @{self._device}>"

    def __hash__(self) -> int:
        return id(self) // 16

    # -- devices, autograd, conversion --------------------------------------------------------
    to_device = _shared("to_device")
    as_in_context = _shared("as_in_context")
    as_in_ctx = _shared("as_in_ctx")
    copyto = _shared("copyto")
    copy = _shared("copy")
    __copy__ = _shared("__copy__")
    __deepcopy__ = _shared("__deepcopy__")
    attach_grad = _shared("attach_grad")
    drop_grad = _shared("drop_grad")
    backward = _shared("backward")
    detach = _shared("detach")

    def astype(self, dtype: Any, copy: bool = True) -> NDArray:
        return _shape.astype(self, dtype, copy)  # type: ignore[return-value]

    def as_np_ndarray(self) -> ndarray:
        """This array as an ``np.ndarray``, sharing memory (no copy)."""
        return as_np(self)

    def as_nd_ndarray(self) -> NDArray:
        return self

    # -- shape --------------------------------------------------------------------------------
    def reshape(self, *shape: Any, **kwargs: Any) -> NDArray:
        """Reshape with MXNet 1.x's codes (``0`` copies a dimension, ``-1`` infers one, ``-2``
        copies the rest, ``-3`` merges two, ``-4`` splits one); ``reverse=True`` matches the
        codes from the right."""
        reverse = bool(kwargs.pop("reverse", False))
        if "shape" in kwargs and not shape:
            shape = (kwargs.pop("shape"),)
        if kwargs:
            raise TypeError(f"reshape: unexpected keyword arguments {sorted(kwargs)}")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not shape:
            raise TypeError("reshape: a shape is required")
        return legacy_reshape(self, shape, reverse)  # type: ignore[no-any-return]

    def reshape_like(self, other: BaseArray) -> NDArray:
        return _shape.reshape(self, other._shape)  # type: ignore[return-value]

    def flatten(self) -> NDArray:
        """Collapse every axis after the first: ``(d0, d1, d2...) -> (d0, d1*d2*...)``."""
        return _npx.batch_flatten(self)  # type: ignore[return-value]

    transpose = _shared("transpose")
    swapaxes = _shared("swapaxes")
    squeeze = _shared("squeeze")
    expand_dims = _shared("expand_dims")
    broadcast_to = _shared("broadcast_to")
    broadcast_like = _shared("broadcast_like")
    repeat = _shared("repeat")
    tile = _shared("tile")
    flip = _shared("flip")
    clip = _shared("clip")
    zeros_like = _shared("zeros_like")
    ones_like = _shared("ones_like")

    def split(self, num_outputs: int, axis: int = 1, squeeze_axis: bool = False) -> Any:
        """Split into ``num_outputs`` equal parts along ``axis`` (MXNet's ``SliceChannel``)."""
        parts = _shape.split(self, int(num_outputs), axis)
        if squeeze_axis:
            parts = [_shape.squeeze(p, axis) for p in parts]
        return parts[0] if len(parts) == 1 else parts

    def slice_axis(self, axis: int, begin: int, end: int | None) -> NDArray:
        return _npx.slice_axis(self, axis, begin, end)  # type: ignore[return-value]

    # -- reductions (legacy: axis=() or None is everything, exclude=, (1,) not 0-d) -----------
    def sum(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("sum", self, axis, keepdims, exclude)  # type: ignore

    def mean(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("mean", self, axis, keepdims, exclude)  # type: ignore

    def prod(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("prod", self, axis, keepdims, exclude)  # type: ignore

    def max(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("max", self, axis, keepdims, exclude)  # type: ignore

    def min(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("min", self, axis, keepdims, exclude)  # type: ignore

    def nansum(self, axis: Any = None, keepdims: bool = False, exclude: bool = False) -> NDArray:
        return legacy_reduce("nansum", self, axis, keepdims, exclude)  # type: ignore

    def nanprod(self, axis: Any = None, keepdims: bool = False,
                exclude: bool = False) -> NDArray:
        return legacy_reduce("nanprod", self, axis, keepdims, exclude)  # type: ignore

    def norm(self, axis: Any = None, keepdims: bool = False) -> NDArray:
        """The L2 norm (over everything by default)."""
        return legacy_reduce("norm", self, axis, keepdims)  # type: ignore

    def argmax(self, axis: Any = None, keepdims: bool = False) -> NDArray:
        """Indices of the maxima as float32 (MXNet 1.x)."""
        return legacy_reduce("argmax", self, axis, keepdims)  # type: ignore

    def argmin(self, axis: Any = None, keepdims: bool = False) -> NDArray:
        return legacy_reduce("argmin", self, axis, keepdims)  # type: ignore

    # -- sorting, indexing helpers ------------------------------------------------------------
    def sort(self, axis: int = -1, is_ascend: bool = True) -> NDArray:
        return _misc.sort(self, axis, not is_ascend)  # type: ignore[return-value]

    def argsort(self, axis: int = -1, is_ascend: bool = True, dtype: Any = "float32") -> NDArray:
        """Indices that sort along ``axis``, as ``dtype`` (float32 by default, MXNet 1.x)."""
        return _shape.astype(_misc.argsort(self, axis, not is_ascend), dtype)  # type: ignore

    def topk(self, axis: int = -1, k: int = 1, ret_typ: str = "indices",
             is_ascend: bool = False, dtype: Any = "float32") -> Any:
        return _misc.topk(self, axis, k, ret_typ, is_ascend, dtype)

    def take(self, indices: Any, axis: int = 0, mode: str = "clip") -> NDArray:
        if not isinstance(indices, BaseArray):
            indices = _create.array(indices, dtype=numpy.int64, device=self._device)
        return one_d(_misc.take(self, indices, axis, mode))  # type: ignore[no-any-return]

    pick = _shared("pick")
    one_hot = _shared("one_hot")
    softmax = _shared("softmax")
    log_softmax = _shared("log_softmax")

    def dot(self, b: BaseArray, transpose_a: bool = False, transpose_b: bool = False) -> NDArray:
        a = _shape.transpose(self) if transpose_a else self
        bb = _shape.transpose(b) if transpose_b else b
        return one_d(_misc.dot(a, bb))  # type: ignore[no-any-return]

    abs = _shared("abs")
    exp = _shared("exp")
    expm1 = _shared("expm1")
    log = _shared("log")
    log10 = _shared("log10")
    log2 = _shared("log2")
    log1p = _shared("log1p")
    sqrt = _shared("sqrt")
    rsqrt = _shared("rsqrt")
    cbrt = _shared("cbrt")
    rcbrt = _shared("rcbrt")
    square = _shared("square")
    reciprocal = _shared("reciprocal")
    sign = _shared("sign")
    floor = _shared("floor")
    ceil = _shared("ceil")
    trunc = _shared("trunc")
    rint = _shared("rint")
    fix = _shared("fix")
    round = _shared("round")
    sin = _shared("sin")
    cos = _shared("cos")
    tan = _shared("tan")
    arcsin = _shared("arcsin")
    arccos = _shared("arccos")
    arctan = _shared("arctan")
    sinh = _shared("sinh")
    cosh = _shared("cosh")
    tanh = _shared("tanh")
    arcsinh = _shared("arcsinh")
    arccosh = _shared("arccosh")
    arctanh = _shared("arctanh")
    degrees = _shared("degrees")
    radians = _shared("radians")
    relu = _shared("relu")
    sigmoid = _shared("sigmoid")
    softsign = _shared("softsign")

    # -- indexing -----------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> NDArray:
        """Indexing as ``np.ndarray``, except that a single element has shape ``(1,)``."""
        if isinstance(key, NDArray):
            key = as_np(key)
        return one_d(_shared("__getitem__")(self, key))  # type: ignore[no-any-return]

    __setitem__ = _shared("__setitem__")

    # -- arithmetic ---------------------------------------------------------------------------
    __add__ = _operator("add", "iuf")
    __radd__ = _operator("add", "iuf", reverse=True)
    __sub__ = _operator("subtract", "iuf")
    __rsub__ = _operator("subtract", "iuf", reverse=True)
    __mul__ = _operator("multiply", "iuf")
    __rmul__ = _operator("multiply", "iuf", reverse=True)
    __truediv__ = _operator("true_divide", "f")
    __rtruediv__ = _operator("true_divide", "f", reverse=True)
    __div__ = __truediv__
    __rdiv__ = __rtruediv__

    def __mod__(self, o: Any) -> NDArray:
        _reject_np("mod", o)
        return binary("mod", self, o)  # type: ignore[no-any-return]

    def __rmod__(self, o: Any) -> NDArray:
        return binary("mod", o, self)  # type: ignore[no-any-return]

    def __pow__(self, o: Any) -> NDArray:
        _reject_np("power", o)
        return binary("power", self, o)  # type: ignore[no-any-return]

    def __rpow__(self, o: Any) -> NDArray:
        return binary("power", o, self)  # type: ignore[no-any-return]

    def __neg__(self) -> NDArray:
        return unary("negative", self)  # type: ignore[no-any-return]

    def __pos__(self) -> NDArray:
        return self

    def __abs__(self) -> NDArray:
        return unary("abs", self)  # type: ignore[no-any-return]

    __eq__ = _compare("equal")  # type: ignore[assignment]
    __ne__ = _compare("not_equal")  # type: ignore[assignment]
    __lt__ = _compare("less")
    __le__ = _compare("less_equal")
    __gt__ = _compare("greater")
    __ge__ = _compare("greater_equal")

    def _inplace(self, name: str, o: Any) -> NDArray:
        _reject_np(name, o)
        return _shared("_inplace")(self, name, o)  # type: ignore[no-any-return]

    __iadd__ = _shared("__iadd__")
    __isub__ = _shared("__isub__")
    __imul__ = _shared("__imul__")
    __itruediv__ = _shared("__itruediv__")
    __imod__ = _shared("__imod__")
    __idiv__ = __itruediv__


def _as_nd_hook(x: BaseArray) -> NDArray:
    return as_nd(x)


def check_nd(x: Any, op: str, arg: str = "data") -> BaseArray:
    """``x`` if it is an array; a clear TypeError naming ``op`` and ``arg`` otherwise."""
    if not isinstance(x, BaseArray):
        raise TypeError(f"nd.{op}: {arg} must be an NDArray, got {type(x).__name__}")
    return x


def shape_error(op: str, msg: str) -> ShapeError:
    return ShapeError(f"nd.{op}: {msg}")


set_autograd_hooks(as_nd_ndarray=_as_nd_hook)
