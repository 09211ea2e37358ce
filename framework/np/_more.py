"""Creation and shape-manipulation functions of ``np`` beyond the core ones.

Most are compositions of core ops (``vstack`` is ``concatenate`` of ``atleast_2d``); the rest
(``roll``, ``pad``, ``tril``, ``insert``/``delete``...) are ops whose output shape is known from
the arguments, so they stay asynchronous. Functions that build index arrays from shapes alone
(``tril_indices``, ``indices``) compute them on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import FrameworkError
from ..device import resolve
from ..nd import _create, _index, _shape
from ..nd import _gradutil as _gu
from ..nd import _reduce as _nd_reduce
from ..nd._base import BaseArray
from ..nd._base import broadcast_shapes as _bs
from ..nd._op import Op, apply, register
from ..nd._reduce import normalize_axis
from ._funcs import _arr
from ._ufuncs import make_binary, make_unary

__all__ = [
    "meshgrid", "logspace", "geomspace", "diagflat", "tril", "triu", "tri", "tril_indices",
    "triu_indices", "tril_indices_from", "triu_indices_from", "diag_indices_from", "indices",
    "genfromtxt", "moveaxis", "rollaxis", "permute_dims", "broadcast_arrays", "broadcast_shapes",
    "atleast_1d", "atleast_2d", "atleast_3d", "vstack", "hstack", "dstack", "column_stack",
    "row_stack", "array_split", "hsplit", "vsplit", "dsplit", "fliplr", "flipud", "roll", "rot90",
    "append", "insert", "delete", "pad", "resize", "diagonal", "fill_diagonal", "unravel_index",
    "vander", "hamming", "hanning", "blackman", "polyval", "set_printoptions", "trim_zeros",
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_invert",
    "bitwise_left_shift", "bitwise_right_shift", "matrix_transpose", "integer_dtypes",
    "floating_dtypes", "boolean_dtypes", "numeric_dtypes",
]

Shape = tuple[int, ...]


def _host_place(host: numpy.ndarray, device: Any = None, ctx: Any = None) -> BaseArray:
    return _create.from_numpy(numpy.ascontiguousarray(host) if host.ndim else host,
                              resolve(device, ctx), zero_copy=True)


class _XpFunc(Op):
    """Run ``xp.<fname>(buffers..., *args, **kwargs)``; the shape comes from the caller."""

    def __init__(self, name: str, fname: str, shape: Shape, dtype: numpy.dtype | None,
                 *args: Any, **kwargs: Any) -> None:
        self.name = name  # type: ignore[misc]
        self.fname = fname
        self.shape = shape
        self.dtype = dtype
        self.args = args
        self.kwargs = kwargs

    def infer(self, *xs: BaseArray) -> list[tuple[Shape, numpy.dtype]]:
        return [(self.shape, self.dtype or xs[0]._dtype)]

    def forward(self, xp: Any, *bufs: Any) -> Any:
        r = getattr(xp, self.fname)(*bufs, *self.args, **self.kwargs)
        return xp.array(r, copy=True) if getattr(r, "base", None) is not None else r

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x):
            return [None]
        if self.fname in ("tril", "triu"):
            return [apply(_XpFunc(self.name, self.fname, x._shape, None, **self.kwargs), (g,))]
        if self.fname == "roll":
            (shift,) = self.args
            back = tuple(-int(k) for k in shift) if isinstance(shift, (tuple, list)) else -shift
            return [apply(_XpFunc("roll", "roll", x._shape, None, back, **self.kwargs), (g,))]
        if self.fname == "vander":
            return [self._vander_grad(x, g)]
        # every output element copies one element of x (or none): scatter g back to it
        return [_gu.scatter_flat(g, self._sources(x), x)]

    def _sources(self, x: BaseArray) -> numpy.ndarray:
        """For each output element, the flat position in x it copies (-1: none), found by
        running the function on the positions themselves (shifted by 1, so 0 means none)."""
        pos = numpy.arange(1, x.size + 1, dtype=numpy.int64).reshape(x._shape)
        args, kwargs = list(self.args), dict(self.kwargs)
        if self.fname == "pad":
            mode = kwargs.get("mode", "constant")
            if mode == "constant":
                kwargs["constant_values"] = 0
            elif mode not in ("edge", "wrap", "reflect", "symmetric") or \
                    kwargs.get("reflect_type", "even") != "even":
                raise FrameworkError(f"pad: not differentiable for mode={mode!r}"
                                     + (" with reflect_type='odd'" if mode in
                                        ("reflect", "symmetric") else "")
                                     + "; use constant, edge, wrap, reflect or symmetric")
        elif self.fname == "insert":
            args[1] = numpy.zeros(numpy.shape(args[1]), dtype=numpy.int64)
        elif self.fname not in ("delete", "resize"):
            raise FrameworkError(f"operator '{self.name}' is not differentiable")
        return getattr(numpy, self.fname)(pos, *args, **kwargs) - 1

    def _vander_grad(self, x: BaseArray, g: BaseArray) -> BaseArray:
        """d/dx x^p = p x^(p-1): the columns of a one-column-narrower Vandermonde matrix."""
        n = self.shape[1]
        if n <= 1:
            return _create.zeros_like(x)
        inc = bool(self.kwargs.get("increasing", False))
        low = apply(_XpFunc("vander", "vander", (x._shape[0], n - 1), None, n - 1,
                            increasing=inc), (x,))  # powers n-2..0 (or 0..n-2)
        if inc:  # column j >= 1 of g pairs with column j - 1 of low, times j
            gp = _gu.take_range(g, 1, n, 1)
            powers = numpy.arange(1, n)
        else:  # column j < n - 1 of g pairs with column j of low, times n - 1 - j
            gp = _gu.take_range(g, 0, n - 1, 1)
            powers = numpy.arange(n - 1, 0, -1)
        terms = _gu.mul(_gu.mul(gp, low), _gu.const(powers, x, x._dtype))
        return _gu.cast_like(_reduce_sum(terms, 1), x)


for _name in ("roll", "pad", "tril", "triu", "insert", "delete", "resize", "vander", "polyval"):
    register(_name)(type(f"XpFunc_{_name}", (_XpFunc,), {}))


def _reduce_sum(x: BaseArray, axis: int) -> BaseArray:
    return _nd_reduce.reduce("sum", x, axis=axis)


def _dummy_shape(fn: Any, shape: Shape, *args: Any, **kwargs: Any) -> Shape:
    """Output shape of a NumPy function whose shape depends only on shapes and arguments,
    found by calling it on a stand-in array with zero-byte elements."""
    return fn(numpy.empty(shape, dtype=numpy.dtype([])), *args, **kwargs).shape


# -- creation -------------------------------------------------------------------------------------

def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> list:
    """Coordinate matrices from coordinate vectors (composed of reshape and broadcast)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrs = [_shape.ravel(_arr(x, "meshgrid")) for x in xi]
    n = len(arrs)
    if n == 0:
        return []
    shapes = []
    for i, a in enumerate(arrs):
        s = [1] * n
        s[i] = a.size
        shapes.append(s)
    if indexing == "xy" and n > 1:
        for s in shapes:
            s[0], s[1] = s[1], s[0]
    out = [_shape.reshape(a, tuple(s)) for a, s in zip(arrs, shapes)]
    if sparse:
        return [_shape.copy(o) if copy else o for o in out]
    sizes = [a.size for a in arrs]  # (max() of the shapes is wrong when one size is 0)
    if indexing == "xy" and n > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    full = tuple(sizes)
    return [_shape.broadcast_to(o, full) for o in out]


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10.0,
             dtype: Any = None, axis: int = 0, device: Any = None, ctx: Any = None) -> BaseArray:
    dt = _dt.normalize(dtype) or _dt.default_float()
    host = numpy.logspace(start, stop, int(num), endpoint=endpoint, base=base, axis=axis)
    return _host_place(host.astype(dt), device, ctx)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0, device: Any = None, ctx: Any = None) -> BaseArray:
    dt = _dt.normalize(dtype) or _dt.default_float()
    host = numpy.geomspace(start, stop, int(num), endpoint=endpoint, axis=axis)
    return _host_place(host.astype(dt), device, ctx)


def diagflat(v: Any, k: int = 0) -> BaseArray:
    return _shape.diag(_shape.ravel(_arr(v, "diagflat")), k)


def _tri_op(name: str, m: Any, k: int) -> BaseArray:
    x = _arr(m, name)
    if x.ndim == 1:  # NumPy and MXNet: a 1-d input is the rows of a square matrix
        x = _shape.broadcast_to(x, (x._shape[0], x._shape[0]))
    if x.ndim < 2:
        raise ValueError(f"{name}: input must be at least 1-d, got shape {x._shape}")
    return apply(_XpFunc(name, name, x._shape, None, k=int(k)), (x,))


def tril(m: Any, k: int = 0) -> BaseArray:
    """Lower triangle (stacks of matrices allowed; a 1-d input is the rows of a square matrix)."""
    return _tri_op("tril", m, k)


def triu(m: Any, k: int = 0) -> BaseArray:
    """Upper triangle (stacks of matrices allowed; a 1-d input is the rows of a square matrix)."""
    return _tri_op("triu", m, k)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None, device: Any = None,
        ctx: Any = None) -> BaseArray:
    dt = _dt.normalize(dtype) or _dt.default_float()
    return _host_place(numpy.tri(int(N), None if M is None else int(M), int(k), dtype=dt),
                       device, ctx)


def _index_tuple(idx: tuple[numpy.ndarray, ...], device: Any, ctx: Any = None) -> tuple:
    return tuple(_host_place(i.astype(numpy.int64), device, ctx) for i in idx)


def tril_indices(n: int, k: int = 0, m: int | None = None, device: Any = None,
                 ctx: Any = None) -> tuple:
    return _index_tuple(numpy.tril_indices(int(n), int(k), m), device, ctx)


def triu_indices(n: int, k: int = 0, m: int | None = None, device: Any = None,
                 ctx: Any = None) -> tuple:
    return _index_tuple(numpy.triu_indices(int(n), int(k), m), device, ctx)


def tril_indices_from(arr: Any, k: int = 0) -> tuple:
    x = _arr(arr, "tril_indices_from")
    if x.ndim != 2:
        raise ValueError(f"tril_indices_from: input must be 2-d, got shape {x._shape}")
    return _index_tuple(numpy.tril_indices(x._shape[0], k, x._shape[1]), x._device)


def triu_indices_from(arr: Any, k: int = 0) -> tuple:
    x = _arr(arr, "triu_indices_from")
    if x.ndim != 2:
        raise ValueError(f"triu_indices_from: input must be 2-d, got shape {x._shape}")
    return _index_tuple(numpy.triu_indices(x._shape[0], k, x._shape[1]), x._device)


def diag_indices_from(arr: Any) -> tuple:
    x = _arr(arr, "diag_indices_from")
    if x.ndim < 2 or len(set(x._shape)) != 1:
        raise ValueError(f"diag_indices_from: all dimensions must be equal, got {x._shape}")
    return _index_tuple(numpy.diag_indices(x._shape[0], x.ndim), x._device)


def indices(dimensions: Sequence[int], dtype: Any = None, sparse: bool = False,
            device: Any = None, ctx: Any = None) -> Any:
    dt = _dt.normalize(dtype) or numpy.dtype(numpy.int64)
    res = numpy.indices(tuple(dimensions), dtype=dt, sparse=sparse)
    if sparse:
        return tuple(_host_place(r, device, ctx) for r in res)
    return _host_place(res, device, ctx)


def genfromtxt(fname: Any, dtype: Any = None, delimiter: Any = None, skip_header: int = 0,
               usecols: Any = None, device: Any = None, ctx: Any = None,
               **kwargs: Any) -> BaseArray:
    """Load data from a text file (parsed by NumPy); float32 unless ``dtype`` is given."""
    dt = _dt.normalize(dtype) or _dt.default_float()
    host = numpy.genfromtxt(fname, dtype=numpy.float64 if dt.kind == "f" else dt,
                            delimiter=delimiter, skip_header=skip_header, usecols=usecols,
                            **kwargs)
    return _host_place(numpy.asarray(host).astype(dt), device, ctx)


# -- shape manipulation ---------------------------------------------------------------------------

def moveaxis(a: Any, source: Any, destination: Any) -> BaseArray:
    x = _arr(a, "moveaxis")
    src = [normalize_axis(s, x.ndim, "moveaxis", False)[0] for s in _seq(source)]
    dst = [normalize_axis(d, x.ndim, "moveaxis", False)[0] for d in _seq(destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of "
                         "elements")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axis")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape.transpose(x, order)


def _seq(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def rollaxis(a: Any, axis: int, start: int = 0) -> BaseArray:
    x = _arr(a, "rollaxis")
    (ax,) = normalize_axis(axis, x.ndim, "rollaxis", False)
    if start < 0:
        start += x.ndim
    if not 0 <= start <= x.ndim:
        raise numpy.exceptions.AxisError(f"rollaxis: start={start} out of range for "
                                         f"{x.ndim}-d array")
    if ax < start:
        start -= 1
    if ax == start:
        return _shape.transpose(x, list(range(x.ndim)))
    order = [n for n in range(x.ndim) if n != ax]
    order.insert(start, ax)
    return _shape.transpose(x, order)


def permute_dims(a: Any, axes: Any) -> BaseArray:
    return _shape.transpose(_arr(a, "permute_dims"), axes)


def matrix_transpose(x: Any) -> BaseArray:
    a = _arr(x, "matrix_transpose")
    if a.ndim < 2:
        raise ValueError(f"matrix_transpose: input must be at least 2-d, got shape {a._shape}")
    return _shape.swapaxes(a, -1, -2)


def broadcast_shapes(*shapes: Any) -> Shape:
    out: Shape = ()
    for s in shapes:
        out = _bs(out, tuple(s) if isinstance(s, (list, tuple)) else (int(s),),
                  "broadcast_shapes")
    return out


def broadcast_arrays(*args: Any) -> list:
    xs = [_arr(a, "broadcast_arrays") for a in args]
    shape = broadcast_shapes(*[x._shape for x in xs])
    return [x if x._shape == shape else _shape.broadcast_to(x, shape) for x in xs]


def _atleast(n: int, arys: tuple[Any, ...], name: str) -> Any:
    out = []
    for a in arys:
        x = _arr(a, name)
        s = x._shape
        if x.ndim < n:
            if n == 1:
                s = (1,) * (1 - x.ndim) + s
            elif n == 2:
                s = (1,) * (2 - x.ndim) + s
            else:
                s = {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[x.ndim]
            x = _shape.reshape(x, s)
        out.append(x)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys: Any) -> Any:
    return _atleast(1, arys, "atleast_1d")


def atleast_2d(*arys: Any) -> Any:
    return _atleast(2, arys, "atleast_2d")


def atleast_3d(*arys: Any) -> Any:
    return _atleast(3, arys, "atleast_3d")


def _as_list(tup: Any, name: str) -> list:
    if isinstance(tup, BaseArray):
        raise TypeError(f"{name}: expected a sequence of arrays, got a single ndarray")
    return [_arr(t, name) for t in tup]


def vstack(tup: Any) -> BaseArray:
    xs = _as_list(tup, "vstack")
    return _shape.concatenate([atleast_2d(x) for x in xs], axis=0)


row_stack = vstack


def hstack(tup: Any) -> BaseArray:
    xs = [atleast_1d(x) for x in _as_list(tup, "hstack")]
    return _shape.concatenate(xs, axis=0 if xs and xs[0].ndim == 1 else 1)


def dstack(tup: Any) -> BaseArray:
    return _shape.concatenate([atleast_3d(x) for x in _as_list(tup, "dstack")], axis=2)


def column_stack(tup: Any) -> BaseArray:
    xs = []
    for x in _as_list(tup, "column_stack"):
        xs.append(_shape.reshape(x, (x.size, 1)) if x.ndim < 2 else x)
    return _shape.concatenate(xs, axis=1)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    return _shape.split(_arr(ary, "array_split"), indices_or_sections, axis, strict=False)


def _split_n(name: str, ary: Any, ios: Any, axis: int, min_nd: int) -> list:
    x = _arr(ary, name)
    if x.ndim < min_nd:
        raise ValueError(f"{name} only works on arrays of {min_nd} or more dimensions, got "
                         f"shape {x._shape}")
    return _shape.split(x, ios, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list:
    x = _arr(ary, "hsplit")
    return _split_n("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0, 1)


def vsplit(ary: Any, indices_or_sections: Any) -> list:
    return _split_n("vsplit", ary, indices_or_sections, 0, 2)


def dsplit(ary: Any, indices_or_sections: Any) -> list:
    return _split_n("dsplit", ary, indices_or_sections, 2, 3)


def fliplr(m: Any) -> BaseArray:
    x = _arr(m, "fliplr")
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {x._shape}")
    return _shape.flip(x, 1)


def flipud(m: Any) -> BaseArray:
    x = _arr(m, "flipud")
    if x.ndim < 1:
        raise ValueError("flipud: input must be >= 1-d")
    return _shape.flip(x, 0)


def roll(a: Any, shift: Any, axis: Any = None) -> BaseArray:
    x = _arr(a, "roll")
    if axis is not None:
        normalize_axis(axis if not isinstance(axis, (list, tuple)) else tuple(
            set(axis)), x.ndim, "roll")
    return apply(_XpFunc("roll", "roll", x._shape, None, shift, axis=axis), (x,))


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> BaseArray:
    x = _arr(m, "rot90")
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2")
    a0, a1 = (normalize_axis(a, x.ndim, "rot90", False)[0] for a in axes)
    if a0 == a1:
        raise ValueError("rot90: axes must be different")
    k %= 4
    if k == 0:
        return _shape.copy(x)
    if k == 2:
        return _shape.flip(x, (a0, a1))
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _shape.copy(_shape.transpose(_shape.flip(x, a1), perm))
    return _shape.flip(_shape.transpose(x, perm), a1)


def append(arr: Any, values: Any, axis: int | None = None) -> BaseArray:
    x = _arr(arr, "append")
    v = values if isinstance(values, BaseArray) else _create.array(
        values, dtype=x._dtype, device=x._device)
    if axis is None:
        return _shape.concatenate([_shape.ravel(x), _shape.ravel(v)], axis=0)
    return _shape.concatenate([x, v], axis=axis)


def _host_obj(obj: Any, name: str) -> Any:
    if isinstance(obj, BaseArray):
        return obj._host().copy()  # positions decide the output shape: read them
    return obj


def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> BaseArray:
    x = _arr(arr, "insert")
    obj = _host_obj(obj, "insert")
    vals = values._host() if isinstance(values, BaseArray) else numpy.asarray(values)
    shape = _dummy_shape(numpy.insert, x._shape, obj,
                         numpy.empty(vals.shape, dtype=numpy.dtype([])), axis=axis)
    return apply(_XpFunc("insert", "insert", shape, None, obj, vals.astype(x._dtype),
                         axis=axis), (x,))


def delete(arr: Any, obj: Any, axis: int | None = None) -> BaseArray:
    x = _arr(arr, "delete")
    obj = _host_obj(obj, "delete")
    shape = _dummy_shape(numpy.delete, x._shape, obj, axis=axis)
    return apply(_XpFunc("delete", "delete", shape, None, obj, axis=axis), (x,))


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> BaseArray:
    """Pad an array (every NumPy mode except a callable ``mode``)."""
    x = _arr(array, "pad")
    if callable(mode):
        raise NotImplementedError("pad: a callable mode is not supported")
    pw = numpy.broadcast_to(numpy.asarray(pad_width, dtype=numpy.int64), (x.ndim, 2))
    if (pw < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    if mode not in ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
                    "reflect", "symmetric", "wrap", "empty"):
        raise ValueError(f"pad: mode {mode!r} is not supported")
    if x.size == 0 and mode not in ("constant", "empty") and pw.any():
        raise ValueError(f"pad: can't extend empty axes with mode {mode!r}")
    shape = tuple(int(d + lo + hi) for d, (lo, hi) in zip(x._shape, pw))
    return apply(_XpFunc("pad", "pad", shape, None, [tuple(map(int, p)) for p in pw] or 0,
                         mode=mode, **kwargs), (x,))


def resize(a: Any, new_shape: Any) -> BaseArray:
    x = _arr(a, "resize")
    shape = (int(new_shape),) if isinstance(new_shape, (int, numpy.integer)) else tuple(
        int(s) for s in new_shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"resize: all elements of new_shape must be non-negative, got {shape}")
    return apply(_XpFunc("resize", "resize", shape, None, shape), (x,))


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> BaseArray:
    return _arr(a, "diagonal").diagonal(offset, axis1, axis2)  # type: ignore[attr-defined]


def fill_diagonal(a: BaseArray, val: Any, wrap: bool = False) -> None:
    """Fill the main diagonal of ``a`` in place (an engine task that writes ``a``)."""
    if not isinstance(a, BaseArray):
        raise TypeError(f"fill_diagonal: expected an ndarray, got {type(a).__name__}")
    if a.ndim < 2:
        raise ValueError("fill_diagonal: array must be at least 2-d")
    if a.ndim > 2 and len(set(a._shape)) != 1:
        raise ValueError("fill_diagonal: all dimensions of input must be of equal length")
    flat = numpy.arange(a.size).reshape(a._shape)
    host = flat.copy()
    numpy.fill_diagonal(host, -1, wrap=wrap)
    pos = numpy.nonzero(host == -1)
    if isinstance(val, BaseArray):
        v = val._host().ravel()
        val = numpy.resize(v, len(pos[0])) if v.size else v
    _index.setitem(a, pos, val)


def unravel_index(indices: Any, shape: Any, order: str = "C") -> tuple:
    """Coordinates of flat indices (computed on the host; int64 arrays)."""
    idx = indices._host() if isinstance(indices, BaseArray) else numpy.asarray(indices)
    dev = indices._device if isinstance(indices, BaseArray) else None
    res = numpy.unravel_index(idx.astype(numpy.int64), tuple(shape), order=order)
    return tuple(_host_place(numpy.asarray(r, dtype=numpy.int64), dev) for r in res)


def vander(x: Any, N: int | None = None, increasing: bool = False) -> BaseArray:
    a = _arr(x, "vander")
    if a.ndim != 1:
        raise ValueError(f"vander: x must be 1-d, got shape {a._shape}")
    n = a._shape[0] if N is None else int(N)
    return apply(_XpFunc("vander", "vander", (a._shape[0], n), None, n,
                         increasing=increasing), (a,))


def polyval(p: Any, x: Any) -> BaseArray:
    """Evaluate a polynomial by Horner's rule in framework ops."""
    pa, xa = _arr(p, "polyval"), _arr(x, "polyval")
    if pa.ndim != 1:
        raise ValueError(f"polyval: p must be 1-d, got shape {pa._shape}")
    out = _create.zeros_like(xa, dtype=_dt.binary_result(pa._dtype, xa._dtype))
    for i in range(pa._shape[0]):
        out = out * xa + pa[i]
    return out


def _window(fn: Any, M: int, dtype: Any, device: Any, ctx: Any) -> BaseArray:
    dt = _dt.normalize(dtype) or _dt.default_float()
    return _host_place(fn(int(M)).astype(dt), device, ctx)


def hamming(M: int, dtype: Any = None, device: Any = None, ctx: Any = None) -> BaseArray:
    return _window(numpy.hamming, M, dtype, device, ctx)


def hanning(M: int, dtype: Any = None, device: Any = None, ctx: Any = None) -> BaseArray:
    return _window(numpy.hanning, M, dtype, device, ctx)


def blackman(M: int, dtype: Any = None, device: Any = None, ctx: Any = None) -> BaseArray:
    return _window(numpy.blackman, M, dtype, device, ctx)


def set_printoptions(**kwargs: Any) -> None:
    """NumPy's print options; ``repr`` and ``str`` of arrays follow them."""
    numpy.set_printoptions(**kwargs)


def trim_zeros(filt: Any, trim: str = "fb") -> BaseArray:
    """Waits for ``filt`` to find the bounds (the length depends on the data); the result is a
    slice of ``filt`` (a view where contiguous, as NumPy's), so gradients flow back to it."""
    x = _arr(filt, "trim_zeros")
    mode = trim.lower()
    if mode not in ("fb", "bf", "f", "b"):
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nz = numpy.argwhere(x._host())
    if nz.size == 0:  # all zeros: empty along every axis (NumPy's smallest bounding box)
        start: list[Any] = [0] * x.ndim
        stop: list[Any] = [0] * x.ndim
    else:
        start = [int(i) for i in nz.min(axis=0)] if "f" in mode else [None] * x.ndim
        stop = [int(i) + 1 for i in nz.max(axis=0)] if "b" in mode else [None] * x.ndim
    return _index.getitem(x, tuple(slice(a, b) for a, b in zip(start, stop)))


# Array-API spellings (MXNet 2.0)
acos = make_unary("arccos")
acosh = make_unary("arccosh")
asin = make_unary("arcsin")
asinh = make_unary("arcsinh")
atan = make_unary("arctan")
atanh = make_unary("arctanh")
atan2 = make_binary("arctan2")
bitwise_invert = make_unary("invert")
bitwise_left_shift = make_binary("left_shift")
bitwise_right_shift = make_binary("right_shift")

integer_dtypes = (numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8, numpy.uint16,
                  numpy.uint32, numpy.uint64)
floating_dtypes = (numpy.float16, numpy.float32, numpy.float64)
boolean_dtypes = (numpy.bool_,)
numeric_dtypes = integer_dtypes + floating_dtypes
