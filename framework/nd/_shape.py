"""Shape operators.

``reshape`` (when the memory layout allows), ``transpose``, ``swapaxes``, ``expand_dims``,
``squeeze`` and ``ravel`` of contiguous data return views that share the input's buffer and engine
variable, as NumPy's do; the rest compute new arrays on the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import ShapeError
from . import _index  # call-time use in gradients (_index imports this module)
from ._base import BaseArray, broadcast_shapes
from ._elemwise import _unbroadcast, binary
from ._op import Op, apply, common_device, register
from ._reduce import normalize_axis, reduce
from ._tape import ACTIVE, STATE, record

__all__ = [
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "ravel", "flatten",
    "broadcast_to", "repeat", "tile", "flip", "diag", "split", "concatenate", "stack", "astype",
    "copy", "clip", "where", "infer_reshape",
]

Shape = tuple[int, ...]


def _norm_shape(shape: Any, op: str) -> Shape:
    if isinstance(shape, (int, numpy.integer)):
        return (int(shape),)
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a sequence of ints, got {shape!r}") \
            from None
    return out


def infer_reshape(size: int, old: Shape, new: Shape) -> Shape:
    """Resolve one ``-1`` in ``new``; a ShapeError when the sizes do not match."""
    unknown = [i for i, d in enumerate(new) if d == -1]
    if len(unknown) > 1:
        raise ShapeError("reshape: can only specify one unknown dimension (-1)")
    if any(d < -1 for d in new):
        raise ShapeError(f"reshape: negative dimensions are not allowed in {new}")
    if unknown:
        known = math.prod(d for d in new if d != -1)
        if known == 0 or size % known:
            raise ShapeError(f"cannot reshape array of size {size} (shape {old}) into shape "
                             f"{new}")
        new = tuple(size // known if d == -1 else d for d in new)
    if math.prod(new) != size:
        raise ShapeError(f"cannot reshape array of size {size} (shape {old}) into shape {new}")
    return new


class _Copy(Op):
    """Materialise ``make(xp, buf)`` (a view expression of kind ``kind`` with ``args``: reshape,
    flatten, copy, broadcast_to, flip) into new memory; ``grad(g, x)`` maps the output gradient
    back to the input. Plain attributes only, so the op can be written to a graph file."""

    def __init__(self, name: str, shape: Shape, kind: str, args: tuple[Any, ...] = (),
                 dtype: Any = None) -> None:
        self.name = name  # type: ignore[misc]
        self.shape = shape
        self.kind = kind
        self.args = args
        self.dtype = dtype

    def make(self, xp: Any, b: Any) -> Any:
        kind, args = self.kind, self.args
        if kind == "reshape":
            return b.reshape(args[0])
        if kind == "flatten":
            return b.reshape(-1)
        if kind == "broadcast_to":
            return xp.broadcast_to(b, args[0])
        if kind == "flip":
            return xp.flip(b, axis=args[0])
        return b  # copy

    def grad(self, g: BaseArray, x: BaseArray) -> BaseArray:
        kind = self.kind
        if kind in ("reshape", "flatten"):
            return _reshape_back(g, x)
        if kind == "broadcast_to":
            return _unbroadcast(g, x)
        if kind == "flip":
            return flip(g, self.args[0] if x.ndim else None)
        return g  # copy

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        return [(self.shape, self.dtype or x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.array(self.make(xp, x), copy=True)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        return [self.grad(g, x)]


register("_copy_view")(_Copy)


class _ViewOp(Op):
    """Stands for a view (reshape, transpose...) in the autograd graph; the view itself was
    made without running anything. ``kind`` ('reshape', 'transpose', 'swapaxes') and ``args``
    say how to make it again (``again``) and how its gradient maps back (``grad``)."""

    def __init__(self, name: str, kind: str, args: tuple[Any, ...]) -> None:
        self.name = name  # type: ignore[misc]
        self.kind = kind
        self.args = args

    def again(self, y: BaseArray) -> BaseArray:
        if self.kind == "transpose":
            return transpose(y, self.args[0])
        if self.kind == "swapaxes":
            return swapaxes(y, *self.args)
        return reshape(y, self.args[0])

    def grad(self, g: BaseArray, x: BaseArray) -> BaseArray:
        if self.kind == "transpose":
            return transpose(g, tuple(int(i) for i in numpy.argsort(self.args[0])))
        if self.kind == "swapaxes":
            return swapaxes(g, *self.args)
        return g if g._shape == x._shape else reshape(g, x._shape)

    def replay(self, inputs: Any) -> Any:
        return self.again(inputs[0])

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        return [self.grad(g, x)]


register("_view")(_ViewOp)


def view_of(x: BaseArray, buf: Any, name: str, kind: str, *args: Any) -> BaseArray:
    """A view of ``x`` over ``buf`` (a view of x's buffer), recorded for autograd as a
    :class:`_ViewOp` of ``kind`` with ``args`` (``reshape(shape)``, ``transpose(perm)``,
    ``swapaxes(a, b)``), which also makes the same view of another array (replay)."""
    out = x._view(buf)
    if ACTIVE.count and STATE.recording:
        record(_ViewOp(name, kind, args), (x,), (out,))
    return out


@register("_detach")
class _Detach(Op):
    """``detach``/``stop_gradient`` as a step of a hybridized graph: a view of the input that
    autograd never records (so replaying it cuts the gradient too)."""

    def replay(self, inputs: Any) -> Any:
        return detach(inputs[0])


def detach(x: BaseArray) -> BaseArray:
    """A view of ``x`` cut from the autograd graph (traced by hybridize, never recorded)."""
    out = x._view(x._alloc_buffer())
    trace = STATE.trace
    if trace is not None:
        trace.add(_Detach(), (x,), (out,), None)
    return out


def _reshape_back(g: BaseArray, x: BaseArray) -> BaseArray:
    return reshape(g, x._shape)


def _view_or_copy(x: BaseArray, name: str, shape: Shape, make: Any) -> BaseArray:
    """A view when ``make`` gives one on this buffer layout, else a computed copy."""
    buf = x._alloc_buffer()
    xp = x._device.xp
    try:
        v = make(xp, buf, True)
    except ValueError:
        v = None
    if v is not None:
        return view_of(x, v, name, "reshape", shape)
    return apply(_Copy(name, shape, "reshape", (shape,)), (x,))


def reshape(x: BaseArray, shape: Any, order: str = "C") -> BaseArray:
    """Reshape; a view when the data is contiguous, otherwise a copy."""
    if order not in ("C", "A"):
        raise NotImplementedError(f"reshape: order={order!r} is not supported (only 'C')")
    new = infer_reshape(x.size, x._shape, _norm_shape(shape, "reshape"))
    if new == x._shape:
        return view_of(x, x._alloc_buffer(), "reshape", "reshape", new)

    def make(xp: Any, b: Any, view: bool) -> Any:
        if view:
            if xp is numpy:
                return b.reshape(new, copy=False)
            if not b.flags.c_contiguous:
                raise ValueError("not contiguous")
        return b.reshape(new)

    return _view_or_copy(x, "reshape", new, make)


def transpose(x: BaseArray, axes: Any = None) -> BaseArray:
    if axes is None or axes == ():
        perm = tuple(reversed(range(x.ndim)))
    else:
        perm = tuple(int(a) for a in axes)
        if sorted(a % x.ndim if x.ndim else a for a in perm) != list(range(x.ndim)) or \
                len(perm) != x.ndim:
            raise ValueError(f"transpose: axes {tuple(axes)} don't match array of shape "
                             f"{x._shape}")
        perm = tuple(a % x.ndim for a in perm)
    return view_of(x, x._alloc_buffer().transpose(perm), "transpose", "transpose", perm)


def swapaxes(x: BaseArray, axis1: int, axis2: int) -> BaseArray:
    (a,) = normalize_axis(axis1, x.ndim, "swapaxes", False)
    (b,) = normalize_axis(axis2, x.ndim, "swapaxes", False)
    return view_of(x, x._alloc_buffer().swapaxes(a, b), "swapaxes", "swapaxes", a, b)


def expand_dims(x: BaseArray, axis: Any) -> BaseArray:
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = x.ndim + len(axes)
    norm = normalize_axis(tuple(axes), nd, "expand_dims")
    it = iter(x._shape)
    shape = tuple(1 if i in norm else next(it) for i in range(nd))
    return view_of(x, x._alloc_buffer().reshape(shape), "expand_dims", "reshape", shape)


def squeeze(x: BaseArray, axis: Any = None) -> BaseArray:
    if axis is None:
        shape = tuple(d for d in x._shape if d != 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze")
        for a in axes:
            if x._shape[a] != 1:
                raise ShapeError(f"squeeze: cannot select an axis to squeeze out which has "
                                 f"size not equal to one (axis {a} of shape {x._shape})")
        shape = tuple(d for i, d in enumerate(x._shape) if i not in axes)
    return view_of(x, x._alloc_buffer().reshape(shape), "squeeze", "reshape", shape)


def ravel(x: BaseArray) -> BaseArray:
    return reshape(x, (-1,))


def flatten(x: BaseArray) -> BaseArray:
    """A 1-D copy (never a view, as NumPy's ``flatten``)."""
    return apply(_Copy("flatten", (x.size,), "flatten"), (x,))


def copy(x: BaseArray) -> BaseArray:
    return apply(_Copy("copy", x._shape, "copy"), (x,))


@register("astype")
class AsType(Op):
    def __init__(self, dtype: numpy.dtype) -> None:
        self.dtype = dtype

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        return [(x._shape, self.dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return x.astype(self.dtype, copy=True)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc" or self.dtype.kind not in "fc":
            return [None]
        return [astype(g, x._dtype)]


def astype(x: BaseArray, dtype: Any, copy: bool = True) -> BaseArray:
    dt = _dt.normalize(dtype)
    if dt is None:
        dt = _dt.default_float()
    if dt == x._dtype and not copy:
        return x
    return apply(AsType(dt), (x,))


def broadcast_to(x: BaseArray, shape: Any) -> BaseArray:
    shape = _norm_shape(shape, "broadcast_to")
    nd = len(shape)
    if nd < x.ndim:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x._shape} to {shape}")
    for d_in, d_out in zip(x._shape[::-1], shape[::-1]):
        if d_in != d_out and d_in != 1:
            raise ShapeError(f"broadcast_to: cannot broadcast shape {x._shape} to {shape}")
    return apply(_Copy("broadcast_to", shape, "broadcast_to", (shape,)), (x,))


@register("repeat")
class Repeat(Op):
    def __init__(self, repeats: int, axis: Any) -> None:
        self.repeats = repeats
        self.axis = axis

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        if isinstance(self.repeats, (list, tuple)) or not isinstance(
                self.repeats, (int, numpy.integer)):
            raise TypeError(f"repeat: repeats must be an int, got {self.repeats!r}")
        if self.repeats < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {self.repeats}")
        if self.axis is not None:
            (ax,) = normalize_axis(self.axis, x.ndim, "repeat", False)
        if self.axis is None or x.ndim == 0:
            return [((x.size * self.repeats,), x._dtype)]
        shape = list(x._shape)
        shape[ax] *= self.repeats
        return [(tuple(shape), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.repeat(x, self.repeats, axis=self.axis)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        r = int(self.repeats)
        if self.axis is None:
            return [reshape(reduce("sum", reshape(g, (x.size, r)), axis=1), x._shape)]
        (ax,) = normalize_axis(self.axis, x.ndim, "repeat", False)
        grouped = reshape(g, x._shape[:ax] + (x._shape[ax], r) + x._shape[ax + 1:])
        return [reduce("sum", grouped, axis=ax + 1)]
def repeat(x: BaseArray, repeats: int, axis: Any = None) -> BaseArray:
    return apply(Repeat(repeats, axis), (x,))


@register("tile")
class Tile(Op):
    def __init__(self, reps: Any) -> None:
        self.reps = (int(reps),) if isinstance(reps, (int, numpy.integer)) else tuple(
            int(r) for r in reps)

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        if any(r < 0 for r in self.reps):
            raise ValueError(f"tile: reps must be non-negative, got {self.reps}")
        n = max(len(self.reps), x.ndim)
        reps = (1,) * (n - len(self.reps)) + self.reps
        shape = (1,) * (n - x.ndim) + x._shape
        return [(tuple(a * b for a, b in zip(shape, reps)), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.tile(x, self.reps)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        n = max(len(self.reps), x.ndim)
        reps = (1,) * (n - len(self.reps)) + self.reps
        shape = (1,) * (n - x.ndim) + x._shape
        # output axis i holds reps[i] copies of a block of shape[i]: split it into (rep, dim)
        pairs = tuple(v for r, d in zip(reps, shape) for v in (r, d))
        summed = reduce("sum", reshape(g, pairs), axis=tuple(range(0, 2 * n, 2)))
        return [reshape(summed, x._shape)]
def tile(x: BaseArray, reps: Any) -> BaseArray:
    return apply(Tile(reps), (x,))


def flip(x: BaseArray, axis: Any = None) -> BaseArray:
    if x.ndim == 0 and axis is not None:  # as NumPy: a 0-d array has no axis to flip
        raise numpy.exceptions.AxisError(f"flip: axis {axis!r} is out of bounds for a 0-d array")
    axes = normalize_axis(axis, x.ndim, "flip")
    return apply(_Copy("flip", x._shape, "flip", (axes,)), (x,))


@register("diag")
class Diag(Op):
    def __init__(self, k: int = 0) -> None:
        self.k = int(k)

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        k = self.k
        if x.ndim == 1:
            n = x._shape[0] + abs(k)
            return [((n, n), x._dtype)]
        if x.ndim == 2:
            r, c = x._shape
            n = max(0, min(r, c - k) if k >= 0 else min(r + k, c))
            return [((n,), x._dtype)]
        raise ValueError(f"diag: input must be 1-d or 2-d, got shape {x._shape}")

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.array(xp.diag(x, self.k), copy=True)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        if x.ndim == 1:
            return [diag(g, self.k)]
        r, c = x._shape
        n = g._shape[0]
        rows = numpy.arange(n) + max(-self.k, 0)
        cols = numpy.arange(n) + max(self.k, 0)
        return [_index.scatter(x._shape, x._dtype, (rows, cols), g)]
def diag(x: BaseArray, k: int = 0) -> BaseArray:
    return apply(Diag(k), (x,))


@register("split")
class Split(Op):
    """Split along ``axis`` into sections (an int) or at indices (a sequence)."""

    def __init__(self, indices_or_sections: Any, axis: int = 0, strict: bool = True) -> None:
        self.ios = indices_or_sections
        self.axis = axis
        self.strict = strict

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        (ax,) = normalize_axis(self.axis, x.ndim, "split", False)
        self.ax = ax
        n = x._shape[ax]
        if isinstance(self.ios, (int, numpy.integer)):
            k = int(self.ios)
            if k <= 0:
                raise ValueError(f"split: number of sections must be positive, got {k}")
            if self.strict and n % k:
                raise ShapeError(f"split: array of size {n} along axis {ax} does not divide "
                                 f"into {k} equal sections")
            base, extra = divmod(n, k)
            sizes = [base + 1] * extra + [base] * (k - extra)
            bounds = [0]
            for s in sizes:
                bounds.append(bounds[-1] + s)
        else:
            bounds = [0] + [min(max(int(i), 0), n) for i in self.ios] + [n]
            for i in range(1, len(bounds)):
                bounds[i] = max(bounds[i], bounds[i - 1])
        self.bounds = bounds
        self.nout = len(bounds) - 1  # type: ignore[misc]
        out = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            shape = list(x._shape)
            shape[ax] = hi - lo
            out.append((tuple(shape), x._dtype))
        return out

    def forward(self, xp: Any, x: Any) -> Any:
        idx: list[Any] = [slice(None)] * x.ndim
        outs = []
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:]):
            idx[self.ax] = slice(lo, hi)
            outs.append(xp.array(x[tuple(idx)], copy=True))
        return outs



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,) = inputs
        if x._dtype.kind not in "fc":
            return [None]
        return [concatenate(list(out_grads), axis=self.ax)]
def split(x: BaseArray, indices_or_sections: Any, axis: int = 0,
          strict: bool = True) -> list[BaseArray]:
    out = apply(Split(indices_or_sections, axis, strict), (x,))
    return list(out) if isinstance(out, tuple) else [out]


@register("concatenate")
class Concatenate(Op):
    def __init__(self, axis: Any = 0, dtype: Any = None) -> None:
        self.axis = axis
        self.dtype = dtype

    def infer(self, *xs: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        first = xs[0]
        dt = first._dtype
        for x in xs[1:]:
            dt = _dt.binary_result(dt, x._dtype)
        if self.dtype is not None:
            dt = self.dtype
        if self.axis is None:
            return [((sum(x.size for x in xs),), dt)]
        if first.ndim == 0:
            raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
        (ax,) = normalize_axis(self.axis, first.ndim, "concatenate", False)
        self.ax = ax
        total = 0
        for i, x in enumerate(xs):
            if x.ndim != first.ndim:
                raise ShapeError(
                    f"concatenate: all the input arrays must have same number of dimensions, "
                    f"but the array at index 0 has {first.ndim} dimension(s) and the array at "
                    f"index {i} has {x.ndim} dimension(s)")
            for d in range(first.ndim):
                if d != ax and x._shape[d] != first._shape[d]:
                    raise ShapeError(
                        f"concatenate: input shapes {first._shape} and {x._shape} differ on "
                        f"axis {d} (only axis {ax} may differ)")
            total += x._shape[ax]
        shape = list(first._shape)
        shape[ax] = total
        return [(tuple(shape), dt)]

    def forward(self, xp: Any, *xs: Any) -> Any:
        dt = self.dtype
        return xp.concatenate(xs, axis=None if self.axis is None else self.ax, dtype=dt)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,) = out_grads
        grads: list[Any] = []
        lo = 0
        for x in inputs:
            if self.axis is None:
                hi = lo + x.size
                part = reshape(_index.getitem(g, slice(lo, hi)), x._shape)
            else:
                hi = lo + x._shape[self.ax]
                key = (slice(None),) * self.ax + (slice(lo, hi),)
                part = _index.getitem(g, key)
            grads.append(_unbroadcast(part, x))
            lo = hi
        return grads
def _arrays(seq: Any, op: str) -> list[BaseArray]:
    if isinstance(seq, BaseArray):
        raise TypeError(f"{op}: expected a sequence of arrays, got a single ndarray")
    xs = list(seq)
    if not xs:
        raise ValueError(f"{op}: need at least one array")
    for i, x in enumerate(xs):
        if not isinstance(x, BaseArray):
            raise TypeError(f"{op}: element {i} is a {type(x).__name__}, expected an ndarray")
    common_device(xs, op)
    return xs


def concatenate(seq: Sequence[BaseArray], axis: Any = 0, dtype: Any = None) -> BaseArray:
    xs = _arrays(seq, "concatenate")
    return apply(Concatenate(axis, _dt.normalize(dtype)), xs)


def stack(seq: Sequence[BaseArray], axis: int = 0) -> BaseArray:
    xs = _arrays(seq, "stack")
    shape = xs[0]._shape
    for i, x in enumerate(xs):
        if x._shape != shape:
            raise ShapeError(f"stack: all input arrays must have the same shape, got {shape} "
                             f"at index 0 and {x._shape} at index {i}")
    (ax,) = normalize_axis(axis, len(shape) + 1, "stack", False)
    return concatenate([expand_dims(x, ax) for x in xs], axis=ax)


@register("clip")
class Clip(Op):
    def __init__(self, a_min: Any, a_max: Any) -> None:
        self.a_min = a_min
        self.a_max = a_max

    def infer(self, x: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        if self.a_min is None and self.a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given")
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.clip(x, self.a_min, self.a_max).astype(x.dtype, copy=False)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if x._dtype.kind not in "fc":
            return [None]
        # the gradient passes where a_min <= x <= a_max (bounds included)
        if self.a_min is not None:
            g = binary("multiply", g, binary("greater_equal", x, self.a_min))
        if self.a_max is not None:
            g = binary("multiply", g, binary("less_equal", x, self.a_max))
        return [g]
def clip(x: BaseArray, a_min: Any = None, a_max: Any = None) -> BaseArray:
    if isinstance(a_min, BaseArray) or isinstance(a_max, BaseArray):
        out = x
        if a_min is not None:
            out = binary("maximum", out, a_min)
        if a_max is not None:
            out = binary("minimum", out, a_max)
        return out
    a_min = a_min.item() if isinstance(a_min, numpy.generic) else a_min
    a_max = a_max.item() if isinstance(a_max, numpy.generic) else a_max
    return apply(Clip(a_min, a_max), (x,))


@register("where")
class Where(Op):
    def infer(self, c: BaseArray, a: BaseArray, b: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        shape = broadcast_shapes(broadcast_shapes(c._shape, a._shape, "where"), b._shape,
                                 "where")
        return [(shape, _dt.binary_result(a._dtype, b._dtype))]

    def forward(self, xp: Any, c: Any, a: Any, b: Any) -> Any:
        return xp.where(c, a, b)



    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (c, a, b), (g,) = inputs, out_grads
        zero = binary("multiply", g, 0)
        ga = apply(Where(), (c, g, zero))
        gb = apply(Where(), (c, zero, g))
        return [None, _unbroadcast(ga, a), _unbroadcast(gb, b)]
def where(cond: BaseArray, a: BaseArray, b: BaseArray) -> BaseArray:
    return apply(Where(), (cond, a, b))
