"""Linear algebra: ``numpy.linalg`` and the top-level products (``tensordot``, ``einsum``...).

Dtype rules (MXNet): integer and bool inputs give float32 results; float16 is computed in float32
and returned as float16; float32 and float64 stay as they are; complex inputs keep their type and
give real singular values, norms and ``eigh`` eigenvalues. Products of integer arrays
(``tensordot``, ``einsum``, ``kron``...) stay integer, as ``dot`` does.

Shape errors raise at the call: a :class:`~framework.base.ShapeError` naming the shapes; where
NumPy raises ``LinAlgError`` for a shape (a non-square matrix), the error is also a
``numpy.linalg.LinAlgError``. Numerical failures (a singular matrix, a matrix that is not positive
definite) happen inside the task and surface at the sync point as ``numpy.linalg.LinAlgError``.

On the GPU, functions CuPy does not provide (``eig``, ``eigvals``, ``cond``...) run on a host copy.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Sequence
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, FrameworkError, ShapeError
from . import _create, _elemwise, _misc, _reduce, _shape
from . import _gradutil as _gu
from ._base import BaseArray, broadcast_shapes
from ._create import zeros
from ._op import Op, apply, common_device, register
from ._reduce import normalize_axis

__all__ = [
    "LinAlgError", "LinAlgShapeError", "NOVALUE", "parse_einsum",
    "norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "svd", "svdvals", "cholesky",
    "qr", "solve", "eig", "eigh", "eigvals", "eigvalsh", "pinv", "lstsq", "matrix_rank",
    "tensorinv", "tensorsolve", "cond", "matrix_power", "multi_dot", "diagonal", "vecdot",
    "outer", "inner", "vdot", "tensordot", "einsum", "kron", "cross", "trace",
]

LinAlgError = numpy.linalg.LinAlgError

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

_F32 = numpy.dtype(numpy.float32)
_I64 = numpy.dtype(numpy.int64)


class LinAlgShapeError(ShapeError, LinAlgError):
    """A shape NumPy rejects with ``LinAlgError`` (not square, too few dimensions): both a
    :class:`~framework.base.ShapeError` and a ``numpy.linalg.LinAlgError``."""


# -- dtype helpers ----------------------------------------------------------------------------

def _check_numeric(dt: numpy.dtype, op: str) -> None:
    if dt.kind not in "biufc":
        raise DTypeError(f"{op}: unsupported dtype {dt}")


def _out_float(dt: numpy.dtype) -> numpy.dtype:
    """Result dtype of float math on ``dt``: float32 for integers and bool."""
    return dt if dt.kind in "fc" else _F32


def _work(dt: numpy.dtype) -> numpy.dtype:
    """The dtype LAPACK computes in: float16 and integers are computed in float32."""
    return dt if dt.kind in "fc" and dt.itemsize >= 4 else _F32


def _real(dt: numpy.dtype) -> numpy.dtype:
    if dt.kind == "c":
        return numpy.dtype(numpy.float64 if dt.itemsize == 16 else numpy.float32)
    return dt


def _cast(x: Any, dt: numpy.dtype) -> Any:
    return x if x.dtype == dt else x.astype(dt)


def _as_work(x: Any) -> Any:
    return _cast(x, _work(x.dtype))


def _promote(arrays: Sequence[BaseArray]) -> numpy.dtype:
    return functools.reduce(_dt.binary_result, [a._dtype for a in arrays])


# -- shape helpers ----------------------------------------------------------------------------

def _matrices(x: BaseArray, op: str, square: bool = True) -> None:
    """Check that ``x`` is a (stack of) matrices, square ones when ``square``."""
    _check_numeric(x._dtype, op)
    if x.ndim < 2:
        raise LinAlgShapeError(f"{op}: {x.ndim}-dimensional array given (shape {x._shape}); "
                               "the array must be at least two-dimensional")
    if square and x._shape[-1] != x._shape[-2]:
        raise LinAlgShapeError(f"{op}: the last 2 dimensions of the array must be square, got "
                               f"shape {x._shape}")


def _axis(axis: Any, ndim: int, op: str) -> int:
    return normalize_axis(axis, ndim, op, False)[0]


def _int(v: Any, what: str, op: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, numpy.integer)):
        raise TypeError(f"{op}: {what} must be an integer, got {v!r}")
    return int(v)


# -- running a LAPACK-backed function ---------------------------------------------------------

def _lapack(xp: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """``xp.linalg.<name>``, or NumPy's on a host copy when the device library lacks it."""
    if xp is numpy:
        return getattr(numpy.linalg, name)(*args, **kwargs)
    fn = getattr(xp.linalg, name, None)
    if fn is not None:
        return fn(*args, **kwargs)
    host = [a.get() if hasattr(a, "get") else a for a in args]
    res = getattr(numpy.linalg, name)(*host, **kwargs)
    if isinstance(res, tuple):
        return tuple(xp.asarray(r) for r in res)
    return xp.asarray(res)


def _svdvals(xp: Any, x: Any, hermitian: bool = False) -> Any:
    """Singular values of a stack of matrices, in descending order."""
    if hermitian:
        s = xp.abs(_lapack(xp, "eigvalsh", x))
        return xp.flip(xp.sort(s, axis=-1), axis=-1)
    return _lapack(xp, "svd", x, compute_uv=False)


class _Unary(Op):
    """An op on one (stack of) square matrices whose result has the input's float dtype."""

    square = True

    def infer(self, a: BaseArray) -> Specs:
        _matrices(a, self.name, self.square)
        return self.specs(a)

    def specs(self, a: BaseArray) -> Specs:
        return [(a._shape, _out_float(a._dtype))]


# -- norms ------------------------------------------------------------------------------------

_MATRIX_ORDS = (None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _is_ord(ord: Any, values: Sequence[Any]) -> bool:
    return any(ord == v and type(ord) is not bool for v in values
               if isinstance(v, str) == isinstance(ord, str))


@register("linalg_norm")
class Norm(Op):
    """Vector and matrix norms.

    ``kind`` is 'auto' (``numpy.linalg.norm``: the axes decide between a vector and a matrix
    norm), 'vector' (``vector_norm``: any number of axes, flattened) or 'matrix'
    (``matrix_norm``: the last two axes).
    """

    def __init__(self, ord: Any = None, axis: Any = None, keepdims: bool = False,
                 kind: str = "auto") -> None:
        self.ord = ord
        self.axis = axis
        self.keepdims = bool(keepdims)
        self.kind = kind

    def infer(self, x: BaseArray) -> Specs:
        op = {"auto": "norm", "vector": "vector_norm", "matrix": "matrix_norm"}[self.kind]
        _check_numeric(x._dtype, op)
        nd, ord, axis = x.ndim, self.ord, self.axis
        if self.kind == "matrix":
            if nd < 2:
                raise ShapeError(f"{op}: the input must have at least 2 dimensions, got shape "
                                 f"{x._shape}")
            axes: tuple[int, ...] = (nd - 2, nd - 1)
            mode = "matrix"
        elif self.kind == "vector":
            axes = normalize_axis(axis, nd, op)
            mode = "vector"
        elif axis is None:
            if ord is None:
                axes, mode = tuple(range(nd)), "vector"
            elif nd == 1:
                axes, mode = (0,), "vector"
            elif nd == 2:
                axes, mode = (0, 1), "matrix"
            else:
                raise ValueError(f"{op}: improper number of dimensions to norm: ord={ord!r} "
                                 f"needs axis for an array of shape {x._shape}")
        else:
            ax = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
            if len(ax) == 1:
                axes, mode = normalize_axis(ax[0], nd, op, False), "vector"
            elif len(ax) == 2:
                axes = tuple(normalize_axis(a, nd, op, False)[0] for a in ax)
                if axes[0] == axes[1]:
                    raise ValueError(f"{op}: duplicate axes given: {axis!r}")
                mode = "matrix"
            else:
                raise ValueError(f"{op}: improper number of dimensions to norm: axis={axis!r}")
        if nd == 0:
            axes = ()  # axis 0 or -1 of a 0-d array (MXNet's rule) reduces over nothing
        if mode == "vector":
            if isinstance(ord, str) or isinstance(ord, bool) or not (
                    ord is None or isinstance(ord, (int, float, numpy.integer, numpy.floating))):
                raise ValueError(f"{op}: invalid norm order {ord!r} for vectors")
            if ord == -math.inf and any(x._shape[a] == 0 for a in axes):
                raise ValueError(f"{op}: zero-size array to reduction operation minimum which "
                                 f"has no identity (ord=-inf, shape {x._shape})")
        else:
            if self.kind == "matrix" and ord is None:
                ord = "fro"
            if not _is_ord(ord, _MATRIX_ORDS):
                raise ValueError(f"{op}: invalid norm order {ord!r} for matrices")
            r, c = axes
            # the minimum over an empty axis has no identity (the maximum gives 0, as NumPy's)
            if (ord == -2 and min(x._shape[r], x._shape[c]) == 0) or (
                    ord == -1 and x._shape[c] == 0) or (ord == -math.inf and x._shape[r] == 0):
                raise ValueError(f"{op}: zero-size array to reduction operation minimum which "
                                 f"has no identity (ord={ord!r}, shape {x._shape})")
        self.mode, self.axes, self.ord_ = mode, axes, ord
        if self.keepdims:
            shape = tuple(1 if i in axes else d for i, d in enumerate(x._shape))
        else:
            shape = tuple(d for i, d in enumerate(x._shape) if i not in axes)
        self.shape = shape
        return [(shape, _real(_out_float(x._dtype)))]

    def forward(self, xp: Any, x: Any) -> Any:
        x = _as_work(x)
        ord = self.ord_
        if self.mode == "vector":
            ax = self.axes
            if ord is None or ord == 2:
                a = xp.abs(x) if x.dtype.kind == "c" else x
                r = xp.sqrt(xp.sum(a * a, axis=ax))
            elif ord == math.inf:
                r = _max0(xp, xp.abs(x), ax)
            elif ord == -math.inf:
                r = xp.min(xp.abs(x), axis=ax)
            elif ord == 0:
                r = xp.sum(x != 0, axis=ax).astype(_real(x.dtype))
            elif ord == 1:
                r = xp.sum(xp.abs(x), axis=ax)
            else:
                p = _real(x.dtype).type(ord)
                r = xp.sum(xp.abs(x) ** p, axis=ax) ** (1 / p)
            return xp.asarray(r).reshape(self.shape)
        r_ax, c_ax = self.axes
        if ord in ("fro", None):
            a = xp.abs(x) if x.dtype.kind == "c" else x
            r = xp.sqrt(xp.sum(a * a, axis=(r_ax, c_ax)))
        elif ord in ("nuc", 2, -2):
            s = _svdvals(xp, xp.moveaxis(x, (r_ax, c_ax), (-2, -1)))
            r = xp.sum(s, axis=-1) if ord == "nuc" else (
                _max0(xp, s, -1) if ord == 2 else xp.min(s, axis=-1))
        else:
            if ord in (1, -1):
                sums, ax2 = xp.sum(xp.abs(x), axis=r_ax, keepdims=True), c_ax
            else:
                sums, ax2 = xp.sum(xp.abs(x), axis=c_ax, keepdims=True), r_ax
            r = _max0(xp, sums, ax2, True) if ord > 0 else xp.min(sums, axis=ax2, keepdims=True)
        return xp.asarray(r).reshape(self.shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(x):
            return [None]
        return [_gu.cast_like(_norm_grad(self, x, y, g), x)]


def _max0(xp: Any, a: Any, axis: Any, keepdims: bool = False) -> Any:
    """``max`` over ``axis`` of non-negative values; 0 over an empty axis (as NumPy's norm)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    if any(a.shape[k] == 0 for k in axes):
        return xp.sum(a, axis=axis, keepdims=keepdims)
    return xp.max(a, axis=axis, keepdims=keepdims)


def norm(x: BaseArray, ord: Any = None, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return apply(Norm(ord, axis, keepdims, "auto"), (x,))


def vector_norm(x: BaseArray, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> BaseArray:
    return apply(Norm(ord, axis, keepdims, "vector"), (x,))


def matrix_norm(x: BaseArray, keepdims: bool = False, ord: Any = "fro") -> BaseArray:
    return apply(Norm(ord, None, keepdims, "matrix"), (x,))


# -- inverse, determinants, decompositions ----------------------------------------------------

@register("linalg_inv")
class Inv(_Unary):
    def forward(self, xp: Any, a: Any) -> Any:
        return _lapack(xp, "inv", _as_work(a))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a,), (y,), (g,) = inputs, outputs, out_grads
        return [_finish(_inv_grad(y, g), a) if _gu.wants(a) else None]


def inv(a: BaseArray) -> BaseArray:
    return apply(Inv(), (a,))


@register("linalg_det")
class Det(_Unary):
    def specs(self, a: BaseArray) -> Specs:
        return [(a._shape[:-2], _out_float(a._dtype))]

    def forward(self, xp: Any, a: Any) -> Any:
        return _lapack(xp, "det", _as_work(a))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # det(A) A^-T: singular matrices give inf/nan
        (a,), (d,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(a):
            return [None]
        gd = _shape.reshape(_gu.mul(g, d), d._shape + (1, 1))
        return [_finish(_gu.mul(gd, _mT(inv(a))), a)]


def det(a: BaseArray) -> BaseArray:
    return apply(Det(), (a,))


@register("linalg_slogdet")
class SlogDet(_Unary):
    nout = 2

    def specs(self, a: BaseArray) -> Specs:
        dt = _out_float(a._dtype)
        return [(a._shape[:-2], dt), (a._shape[:-2], _real(dt))]

    def forward(self, xp: Any, a: Any) -> Any:
        sign, logdet = _lapack(xp, "slogdet", _as_work(a))
        return sign, logdet

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # only logdet carries a gradient (A^-T); the sign is piecewise constant
        (a,), (_, g) = inputs, out_grads
        if not _gu.wants(a):
            return [None]
        return [_finish(_gu.mul(_shape.reshape(g, g._shape + (1, 1)), _mT(inv(a))), a)]


def slogdet(a: BaseArray) -> tuple[BaseArray, BaseArray]:
    return apply(SlogDet(), (a,))  # type: ignore[no-any-return]


@register("linalg_svd")
class SVD(_Unary):
    square = False

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True,
                 hermitian: bool = False) -> None:
        self.full = bool(full_matrices)
        self.uv = bool(compute_uv)
        self.hermitian = bool(hermitian)
        self.nout = 3 if self.uv else 1  # type: ignore[misc]

    def infer(self, a: BaseArray) -> Specs:
        _matrices(a, "svd", self.hermitian)
        return self.specs(a)

    def specs(self, a: BaseArray) -> Specs:
        *batch, m, n = a._shape
        b = tuple(batch)
        k = min(m, n)
        dt = _out_float(a._dtype)
        s = (b + (k,), _real(dt))
        if not self.uv:
            return [s]
        mu, nv = (m, n) if self.full else (k, k)
        return [(b + (m, mu), dt), s, (b + (nv, n), dt)]

    def forward(self, xp: Any, a: Any) -> Any:
        a = _as_work(a)
        if not self.uv:
            return _svdvals(xp, a, self.hermitian)
        kw = {"hermitian": True} if self.hermitian and xp is numpy else {}
        u, s, vh = _lapack(xp, "svd", a, full_matrices=self.full, compute_uv=True, **kw)
        return u, s, vh

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """With ``full_matrices=True`` on a non-square matrix only the first min(m, n) columns
        of U (rows of Vh) are determined: the others must receive no gradient (a loss that uses
        them fails at the next sync point, see :class:`_SvdFullGuard`)."""
        (a,) = inputs
        if not _gu.wants(a):
            return [None]
        m, n = a._shape[-2], a._shape[-1]
        k = min(m, n)
        if not self.uv:
            (gs,) = out_grads
            u, s, vh = apply(SVD(False, True), (a,))
            return [_finish(_mm(_gu.mul(u, _row(gs)), vh), a)]
        (u, s, vh), (gu, gs, gvh) = outputs, out_grads
        rest = []  # the gradients of the undetermined columns of U / rows of Vh
        if self.full and m > k:
            rest.append(_columns(gu, k, m))
            u, gu = _columns(u, 0, k), _columns(gu, 0, k)
        if self.full and n > k:
            rest.append(_rows(gvh, k, n))
            vh, gvh = _rows(vh, 0, k), _rows(gvh, 0, k)
        ga = _finish(_svd_grad(u, s, vh, gu, gs, gvh, m, n), a)
        return [apply(_SvdFullGuard(), (ga, *rest)) if rest else ga]


@register("_svd_full_guard")
class _SvdFullGuard(Op):
    """Passes the gradient ``g`` of ``svd(full_matrices=True)`` of a non-square matrix through,
    after checking that the columns of U (rows of Vh) past min(m, n), given as ``rest``,
    received no gradient: they are some orthonormal basis of the complement, not a function of
    the input, so no gradient through them is defined. The check needs the data: it fails at
    the next sync point (a loss that uses only ``s``, ``u[..., :k]``, ``vh[..., :k, :]``
    passes)."""

    def infer(self, g: BaseArray, *rest: BaseArray) -> Specs:
        return [(g._shape, g._dtype)]

    def forward(self, xp: Any, g: Any, *rest: Any) -> Any:
        for r in rest:
            if r.size and bool(xp.any(r != 0)):
                raise FrameworkError(
                    "svd: with full_matrices=True on a non-square matrix, the columns of U "
                    "(rows of Vh) past k = min(m, n) are not unique (any orthonormal basis of "
                    "the complement), so no gradient flows through them; use "
                    "full_matrices=False, or only u[..., :, :k] and vh[..., :k, :]")
        return g.copy()

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [out_grads[0]] + [None] * (len(inputs) - 1)


def svd(a: BaseArray, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """``(u, s, vh)`` as NumPy, or ``s`` when ``compute_uv`` is false."""
    return apply(SVD(full_matrices, compute_uv, hermitian), (a,))


def svdvals(x: BaseArray) -> BaseArray:
    return apply(SVD(False, False), (x,))  # type: ignore[no-any-return]


@register("linalg_cholesky")
class Cholesky(_Unary):
    def __init__(self, upper: bool = False) -> None:
        self.upper = bool(upper)

    def forward(self, xp: Any, a: Any) -> Any:
        low = _lapack(xp, "cholesky", _as_work(a))
        if not self.upper:
            return low
        up = xp.swapaxes(low, -1, -2)
        return xp.ascontiguousarray(xp.conj(up) if up.dtype.kind == "c" else up)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """Murray, "Differentiation of the Cholesky decomposition" (2016): with
        P = Phi(L^T gL) (lower triangle, halved diagonal), gA = sym(L^-T P L^-1). The gradient
        is symmetric: a perturbation of A is taken to keep it symmetric."""
        (a,), (out,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(a):
            return [None]
        low, gl = (_mT(out), _mT(g)) if self.upper else (out, g)
        n = a._shape[-1]
        tril = numpy.tril(numpy.ones((n, n)))
        gl = _gu.mul(gl, _gu.const(tril, gl, gl._dtype))  # the upper triangle is constant 0
        phi = _gu.mul(_mm(_mT(low), gl), _gu.const(tril - 0.5 * numpy.eye(n), gl, gl._dtype))
        lt = _mT(low)
        z = solve(lt, phi)  # L^-T P
        return [_finish(_sym(_mT(solve(lt, _mT(z)))), a)]


def cholesky(a: BaseArray, upper: bool = False) -> BaseArray:
    return apply(Cholesky(upper), (a,))  # type: ignore[no-any-return]


@register("linalg_qr")
class QR(_Unary):
    square = False

    def __init__(self, mode: str = "reduced") -> None:
        if mode not in ("reduced", "complete", "r", "raw"):
            raise ValueError(f"qr: unrecognized mode {mode!r}; expected 'reduced', 'complete', "
                             "'r' or 'raw'")
        self.mode = mode
        self.nout = 1 if mode == "r" else 2  # type: ignore[misc]

    def specs(self, a: BaseArray) -> Specs:
        *batch, m, n = a._shape
        b = tuple(batch)
        k = min(m, n)
        dt = _out_float(a._dtype)
        if self.mode == "raw":
            return [(b + (n, m), dt), (b + (k,), dt)]
        mq = m if self.mode == "complete" else k
        r = (b + (mq, n), dt)
        return [r] if self.mode == "r" else [(b + (m, mq), dt), r]

    def forward(self, xp: Any, a: Any) -> Any:
        res = _lapack(xp, "qr", _as_work(a), mode=self.mode)
        return res if self.mode == "r" else tuple(res)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a,) = inputs
        if not _gu.wants(a):
            return [None]
        m, n = a._shape[-2], a._shape[-1]
        if self.mode == "raw" or (self.mode == "complete" and m > n):
            raise FrameworkError(f"qr: mode={self.mode!r} is not differentiable (Q is not "
                                 "unique); use mode='reduced'")
        if self.mode == "r":
            q, r = apply(QR("reduced"), (a,))
            (gr,) = out_grads
            return [_finish(_qr_grad(a, q, r, None, gr), a)]
        (q, r), (gq, gr) = outputs, out_grads
        return [_finish(_qr_grad(a, q, r, gq, gr), a)]


def qr(a: BaseArray, mode: str = "reduced") -> Any:
    return apply(QR(mode), (a,))


@register("linalg_solve")
class Solve(Op):
    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        _matrices(a, "solve")
        _check_numeric(b._dtype, "solve")
        m = a._shape[-1]
        dt = _out_float(_dt.binary_result(a._dtype, b._dtype))
        if b.ndim == 1:
            if b._shape[0] != m:
                raise ShapeError(f"solve: a of shape {a._shape} and b of shape {b._shape} do "
                                 f"not match ({m} != {b._shape[0]})")
            return [(a._shape[:-1], dt)]
        if b.ndim == 0 or b._shape[-2] != m:
            raise ShapeError(f"solve: a of shape {a._shape} and b of shape {b._shape} do not "
                             f"match; b must have shape (..., {m}, K) or ({m},)")
        batch = broadcast_shapes(a._shape[:-2], b._shape[:-2], "solve")
        return [(batch + b._shape[-2:], dt)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        dt = _work(_dt.binary_result(a.dtype, b.dtype))
        a, b = _cast(a, dt), _cast(b, dt)
        if b.ndim == 1 and a.ndim > 2 and xp is not numpy:  # NumPy 2's stacked-vector rule
            b = xp.broadcast_to(b[:, None], a.shape[:-1] + (1,))
            return _lapack(xp, "solve", a, b)[..., 0]
        return _lapack(xp, "solve", a, b)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # X = A^-1 B: gB = A^-T G, gA = -gB X^T
        (a, b), (x,), (g,) = inputs, outputs, out_grads
        want_a, want_b = _gu.wants(a, inputs), _gu.wants(b, inputs)
        if not (want_a or want_b):
            return [None, None]
        if b.ndim == 1:
            g, x = _col(g), _col(x)
        gb = solve(_mT(a), g)
        ga = _gu.neg(_mm(gb, _mT(x))) if want_a else None
        if b.ndim == 1:
            gb = _shape.reshape(_gu.sum_to(gb, (b._shape[0], 1)), b._shape)
        return [_finish(ga, a), _finish(gb, b) if want_b else None]


def solve(a: BaseArray, b: BaseArray) -> BaseArray:
    common_device((a, b), "solve")
    return apply(Solve(), (a, b))


def _real_eigvals(xp: Any, w: Any, op: str) -> Any:
    if w.dtype.kind == "c":
        raise LinAlgError(f"{op}: the matrix has complex eigenvalues; complex results are "
                          "only supported for complex input (convert the input with "
                          "astype('complex64') or 'complex128')")
    return w


@register("linalg_eig")
class Eig(_Unary):
    """``eig``/``eigvals``. Differs from NumPy: a real matrix gives real results, and a real
    matrix with complex eigenvalues fails (at the sync point) with ``LinAlgError``, since the
    result dtype must be known before the values are (MXNet does the same)."""

    def __init__(self, vectors: bool = True) -> None:
        self.vectors = vectors
        self.nout = 2 if vectors else 1  # type: ignore[misc]

    def specs(self, a: BaseArray) -> Specs:
        dt = _out_float(a._dtype)
        w = (a._shape[:-1], dt)
        return [w, (a._shape, dt)] if self.vectors else [w]

    def forward(self, xp: Any, a: Any) -> Any:
        a = _as_work(a)
        if self.vectors:
            w, v = _lapack(xp, "eig", a)
            if a.dtype.kind != "c":
                _real_eigvals(xp, w, "eig")
            return w, v
        w = _lapack(xp, "eigvals", a)
        if a.dtype.kind != "c":
            _real_eigvals(xp, w, "eigvals")
        return w


def eig(a: BaseArray) -> tuple[BaseArray, BaseArray]:
    return apply(Eig(True), (a,))  # type: ignore[no-any-return]


def eigvals(a: BaseArray) -> BaseArray:
    return apply(Eig(False), (a,))  # type: ignore[no-any-return]


@register("linalg_eigh")
class Eigh(_Unary):
    def __init__(self, UPLO: str = "L", vectors: bool = True) -> None:
        if UPLO not in ("L", "U"):
            raise ValueError(f"eigh: UPLO argument must be 'L' or 'U', got {UPLO!r}")
        self.uplo = UPLO
        self.vectors = vectors
        self.nout = 2 if vectors else 1  # type: ignore[misc]

    def specs(self, a: BaseArray) -> Specs:
        dt = _out_float(a._dtype)
        w = (a._shape[:-1], _real(dt))
        return [w, (a._shape, dt)] if self.vectors else [w]

    def forward(self, xp: Any, a: Any) -> Any:
        a = _as_work(a)
        if self.vectors:
            w, v = _lapack(xp, "eigh", a, UPLO=self.uplo)
            return w, v
        return _lapack(xp, "eigvalsh", a, UPLO=self.uplo)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """gA = V (diag(gw) + F o (V^T gV)) V^T, F_ij = 1 / (w_j - w_i), symmetrised: a
        perturbation of A is taken to keep it symmetric. Repeated eigenvalues give inf."""
        (a,) = inputs
        if not _gu.wants(a):
            return [None]
        if not self.vectors:
            (gw,) = out_grads
            w, v = apply(Eigh(self.uplo, True), (a,))
            return [_finish(_sym(_mm(_gu.mul(v, _row(gw)), _mT(v))), a)]
        (w, v), (gw, gv) = outputs, out_grads
        f = _offdiag_inverse(_gu.sub(_row(w), _col(w)))
        inner = _gu.add(_diag_embed(gw), _gu.mul(f, _mm(_mT(v), gv)))
        return [_finish(_sym(_mm(_mm(v, inner), _mT(v))), a)]


def eigh(a: BaseArray, UPLO: str = "L") -> tuple[BaseArray, BaseArray]:
    return apply(Eigh(UPLO, True), (a,))  # type: ignore[no-any-return]


def eigvalsh(a: BaseArray, UPLO: str = "L") -> BaseArray:
    return apply(Eigh(UPLO, False), (a,))  # type: ignore[no-any-return]


def _rcond_value(rcond: Any, op: str) -> float | None:
    if rcond is None:
        return None
    if isinstance(rcond, BaseArray):
        if rcond.ndim:
            raise TypeError(f"{op}: only a scalar tolerance is supported, got an array of "
                            f"shape {rcond._shape}")
        return float(rcond._host())
    try:
        return float(rcond)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: the tolerance must be a real number, got {rcond!r}") from None


#: "no value given" for ``rtol`` (NumPy tells ``rtol=None`` apart from no ``rtol``)
NOVALUE: Any = type("_NoValue", (), {"__repr__": lambda self: "<no value>"})()


@register("linalg_pinv")
class Pinv(_Unary):
    square = False

    def __init__(self, rcond: float | None = None, hermitian: bool = False,
                 rtol: Any = NOVALUE) -> None:
        if rcond is not None and rtol is not NOVALUE:
            raise ValueError("pinv: `rtol` and `rcond` can't be both set")
        self.cutoff = rcond if rcond is not None else (1e-15 if rtol is NOVALUE else rtol)
        self.hermitian = bool(hermitian)

    def specs(self, a: BaseArray) -> Specs:
        if self.hermitian and a._shape[-1] != a._shape[-2]:
            raise LinAlgShapeError(f"pinv: hermitian=True needs square matrices, got shape "
                                   f"{a._shape}")
        return [(a._shape[:-2] + (a._shape[-1], a._shape[-2]), _out_float(a._dtype))]

    def forward(self, xp: Any, a: Any) -> Any:
        a = _as_work(a)
        m, n = a.shape[-2:]
        rcond = self.cutoff
        if rcond is None:  # rtol=None: NumPy's max(M, N) * eps
            rcond = max(m, n) * float(numpy.finfo(a.dtype).eps)
        if a.size == 0:
            return xp.zeros(a.shape[:-2] + (n, m), a.dtype)
        if self.hermitian:
            w, v = _lapack(xp, "eigh", a)
            s = xp.abs(w)
            large = s > rcond * xp.max(s, axis=-1, keepdims=True)
            inv_w = xp.where(large, 1 / xp.where(large, w, 1), 0).astype(w.dtype)
            vh = xp.swapaxes(xp.conj(v) if v.dtype.kind == "c" else v, -1, -2)
            return xp.matmul(v * inv_w[..., None, :], vh)
        u, s, vh = _lapack(xp, "svd", a, full_matrices=False)
        large = s > rcond * xp.max(s, axis=-1, keepdims=True)
        inv_s = xp.where(large, 1 / xp.where(large, s, 1), 0).astype(s.dtype)
        uh = xp.swapaxes(xp.conj(u) if u.dtype.kind == "c" else u, -1, -2)
        v = xp.swapaxes(xp.conj(vh) if vh.dtype.kind == "c" else vh, -1, -2)
        return xp.matmul(v * inv_s[..., None, :], uh)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # valid where the rank does not change (no singular value near the cutoff)
        (a,), (x,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(a):
            return [None]
        return [_finish(_pinv_grad(a, x, g), a)]


def pinv(a: BaseArray, rcond: Any = None, hermitian: bool = False,
         rtol: Any = NOVALUE) -> BaseArray:
    r = _rcond_value(rcond, "pinv")
    t = rtol if rtol is NOVALUE else _rcond_value(rtol, "pinv")
    return apply(Pinv(r, hermitian, t), (a,))


@register("linalg_lstsq")
class Lstsq(Op):
    nout = 4

    def __init__(self, rcond: float | None = None) -> None:
        self.rcond = rcond

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        _check_numeric(a._dtype, "lstsq")
        _check_numeric(b._dtype, "lstsq")
        if a.ndim != 2 or b.ndim not in (1, 2):
            raise LinAlgShapeError(f"lstsq: a must be 2-dimensional and b 1- or 2-dimensional, "
                                   f"got shapes {a._shape} and {b._shape}")
        m, n = a._shape
        if b._shape[0] != m:
            raise LinAlgShapeError(f"lstsq: incompatible dimensions: a has shape {a._shape} "
                                   f"and b has shape {b._shape} ({m} != {b._shape[0]})")
        k = 1 if b.ndim == 1 else b._shape[1]
        dt = _out_float(_dt.binary_result(a._dtype, b._dtype))
        rdt = _real(dt)
        self.m, self.n = m, n
        return [((n,) + b._shape[1:], dt), ((k,) if m > n else (0,), rdt), ((), _I64),
                ((min(m, n),), rdt)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        dt = _work(_dt.binary_result(a.dtype, b.dtype))
        a, b = _cast(a, dt), _cast(b, dt)
        m, n = self.m, self.n
        rcond = self.rcond
        if rcond is None:
            rcond = float(numpy.finfo(dt).eps) * max(m, n)
        x, res, rank, s = _lapack(xp, "lstsq", a, b, rcond=rcond)
        if m > n:
            if res.size == 0 or res.shape != (1 if b.ndim == 1 else b.shape[1],):
                # rank-deficient: NumPy gives no residuals; lstsq() drops these
                r = b - xp.matmul(a, x)
                res = xp.sum(xp.abs(r) ** 2, axis=0).reshape(-1)
        else:
            res = xp.zeros((0,), _real(dt))
        return x, res, xp.asarray(rank, dtype=numpy.int64), s

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """For a full-rank ``a``: x = pinv(a) b; the residuals |b - a x|^2 have gradients
        -2 r x^T and 2 r at the optimum; s those of the singular values."""
        (a, b), (x, res, _, _), (gx, gres, _, gs) = inputs, outputs, out_grads
        want_a, want_b = _gu.wants(a, inputs), _gu.wants(b, inputs)
        if not (want_a or want_b):
            return [None, None]
        vec = b.ndim == 1
        b2, x2, gx2 = (_col(b), _col(x), _col(gx)) if vec else (b, x, gx)
        p = pinv(a)
        ga = _pinv_grad(a, p, _mm(gx2, _mT(b2))) if want_a else None
        gb = _mm(_mT(p), gx2) if want_b else None
        if res._shape[0]:
            r = _gu.sub(b2, _mm(a, x2))
            rg = _gu.mul(r, _gu.mul(_row(gres), 2.0))  # 2 r gres per column
            if want_a:
                ga = _gu.sub(ga, _mm(rg, _mT(x2)))
            if want_b:
                gb = _gu.add(gb, rg)
        if want_a:
            u, _s, vh = apply(SVD(False, True), (a,))
            ga = _gu.add(ga, _mm(_gu.mul(u, _row(gs)), vh))
        if want_b and vec:
            gb = _shape.reshape(gb, b._shape)
        return [_finish(ga, a), _finish(gb, b)]


def lstsq(a: BaseArray, b: BaseArray, rcond: Any = None) -> tuple[BaseArray, ...]:
    """``(x, residuals, rank, s)``; ``rank`` is a 0-d int64 array.

    When ``a`` has more rows than columns the shape of ``residuals`` depends on the rank, so this
    waits for the result in that case.
    """
    common_device((a, b), "lstsq")
    op = Lstsq(_rcond_value(rcond, "lstsq"))
    x, res, rank, s = apply(op, (a, b))
    if op.m > op.n and int(rank._host()) != op.n:
        res = zeros((0,), res._dtype, device=res._device)
    return x, res, rank, s


@register("linalg_matrix_rank")
class MatrixRank(Op):
    def __init__(self, tol: float | None = None, hermitian: bool = False,
                 rtol: float | None = None) -> None:
        self.tol = tol
        self.hermitian = bool(hermitian)
        self.rtol = rtol

    def infer(self, a: BaseArray) -> Specs:
        _check_numeric(a._dtype, "matrix_rank")
        if a.ndim < 2:
            return [((), _I64)]
        if self.hermitian:
            _matrices(a, "matrix_rank")
        return [(a._shape[:-2], _I64)]

    def forward(self, xp: Any, a: Any) -> Any:
        if a.ndim < 2:
            return xp.asarray(xp.any(a != 0), dtype=numpy.int64)
        a = _as_work(a)
        s = _svdvals(xp, a, self.hermitian)
        if self.tol is not None:
            tol: Any = self.tol
        else:
            rtol = self.rtol
            if rtol is None:
                rtol = max(a.shape[-2:]) * float(numpy.finfo(s.dtype).eps)
            smax = xp.max(s, axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(
                s.shape[:-1] + (1,), s.dtype)
            tol = smax * rtol
        return xp.sum(s > tol, axis=-1).astype(numpy.int64)


def matrix_rank(a: BaseArray, tol: Any = None, hermitian: bool = False,
                rtol: Any = None) -> BaseArray:
    t, r = _rcond_value(tol, "matrix_rank"), _rcond_value(rtol, "matrix_rank")
    if t is not None and r is not None:
        raise ValueError("matrix_rank: `tol` and `rtol` can't be both set")
    return apply(MatrixRank(t, hermitian, r), (a,))


# -- P2: tensorinv, tensorsolve, cond, matrix_power, multi_dot -------------------------------

@register("linalg_tensorinv")
class TensorInv(Op):
    def __init__(self, ind: int = 2) -> None:
        self.ind = _int(ind, "ind", "tensorinv")
        if self.ind <= 0:
            raise ValueError(f"tensorinv: invalid ind argument {ind!r}; it must be positive")

    def infer(self, a: BaseArray) -> Specs:
        _check_numeric(a._dtype, "tensorinv")
        i = self.ind
        if i > a.ndim:
            raise LinAlgShapeError(f"tensorinv: ind={i} is larger than the number of dimensions "
                                   f"of a (shape {a._shape})")
        left, right = math.prod(a._shape[:i]), math.prod(a._shape[i:])
        if left != right:
            raise LinAlgShapeError(f"tensorinv: a of shape {a._shape} is not 'square' for "
                                   f"ind={i}: prod{a._shape[:i]} = {left} != "
                                   f"prod{a._shape[i:]} = {right}")
        self.n = left
        return [(a._shape[i:] + a._shape[:i], _out_float(a._dtype))]

    def forward(self, xp: Any, a: Any) -> Any:
        i = self.ind
        r = _lapack(xp, "inv", _as_work(a).reshape(self.n, self.n))
        return r.reshape(a.shape[i:] + a.shape[:i])

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a,), (y,), (g,) = inputs, outputs, out_grads
        if not _gu.wants(a):
            return [None]
        sq = (self.n, self.n)
        ga = _inv_grad(_shape.reshape(y, sq), _shape.reshape(g, sq))
        return [_finish(_shape.reshape(ga, a._shape), a)]


def tensorinv(a: BaseArray, ind: int = 2) -> BaseArray:
    return apply(TensorInv(ind), (a,))


@register("linalg_tensorsolve")
class TensorSolve(Op):
    def __init__(self, axes: Any = None) -> None:
        self.axes = axes

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        _check_numeric(a._dtype, "tensorsolve")
        _check_numeric(b._dtype, "tensorsolve")
        perm = list(range(a.ndim))
        if self.axes is not None:
            moved = [_axis(k, a.ndim, "tensorsolve") for k in self.axes]
            perm = [k for k in perm if k not in moved] + moved
        self.perm = perm
        shape = tuple(a._shape[k] for k in perm)
        if b.ndim > len(shape):
            raise LinAlgShapeError(f"tensorsolve: b of shape {b._shape} has more dimensions "
                                   f"than a of shape {a._shape}")
        out = shape[b.ndim:]
        n = math.prod(out)
        if math.prod(shape[:b.ndim]) != n or b.size != n:
            raise LinAlgShapeError(
                f"tensorsolve: a of shape {a._shape} and b of shape {b._shape} do not match: "
                f"need prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]) == b.size")
        self.n = n
        return [(out, _out_float(_dt.binary_result(a._dtype, b._dtype)))]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        dt = _work(_dt.binary_result(a.dtype, b.dtype))
        a = _cast(xp.transpose(a, self.perm), dt)
        out_shape = a.shape[b.ndim:]
        r = _lapack(xp, "solve", a.reshape(self.n, self.n), _cast(b, dt).reshape(self.n))
        return r.reshape(out_shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a, b), (x,), (g,) = inputs, outputs, out_grads
        want_a, want_b = _gu.wants(a, inputs), _gu.wants(b, inputs)
        if not (want_a or want_b):
            return [None, None]
        n = self.n
        at = _shape.transpose(a, self.perm)
        mat = _shape.reshape(at, (n, n))
        gb = solve(_mT(mat), _shape.reshape(g, (n,)))
        ga = None
        if want_a:
            ga = _gu.neg(_gu.mul(_col(gb), _row(_shape.reshape(x, (n,)))))
            ga = _shape.transpose(_shape.reshape(ga, at._shape), _gu.inverse_perm(self.perm))
        return [_finish(ga, a), _finish(_shape.reshape(gb, b._shape), b) if want_b else None]


def tensorsolve(a: BaseArray, b: BaseArray, axes: Any = None) -> BaseArray:
    common_device((a, b), "tensorsolve")
    return apply(TensorSolve(axes), (a, b))


@register("linalg_cond")
class Cond(_Unary):
    square = False

    def __init__(self, p: Any = None) -> None:
        if not _is_ord(p, _MATRIX_ORDS):
            raise ValueError(f"cond: invalid norm order {p!r} for matrices")
        self.p = p

    def specs(self, a: BaseArray) -> Specs:
        if self.p not in (None, 2, -2) and a._shape[-1] != a._shape[-2]:
            raise LinAlgShapeError(f"cond: p={self.p!r} needs square matrices, got shape "
                                   f"{a._shape}")
        if a.size == 0:
            raise LinAlgShapeError(f"cond: arrays cannot be empty (shape {a._shape})")
        return [(a._shape[:-2], _real(_out_float(a._dtype)))]

    def forward(self, xp: Any, a: Any) -> Any:
        return _lapack(xp, "cond", _as_work(a), p=self.p)


def cond(x: BaseArray, p: Any = None) -> BaseArray:
    return apply(Cond(p), (x,))


@register("linalg_matrix_power")
class MatrixPower(_Unary):
    """Differs from NumPy: integer matrices raised to a negative power give float32."""

    def __init__(self, n: int) -> None:
        self.n = _int(n, "exponent", "matrix_power")

    def specs(self, a: BaseArray) -> Specs:
        return [(a._shape, a._dtype if self.n >= 0 else _out_float(a._dtype))]

    def forward(self, xp: Any, a: Any) -> Any:
        if self.n < 0:
            a = _as_work(a)
        elif self.n == 0:
            eye = xp.eye(a.shape[-1], dtype=a.dtype)
            return xp.array(xp.broadcast_to(eye, a.shape), copy=True)
        elif self.n == 1:
            return xp.array(a, copy=True)
        return _lapack(xp, "matrix_power", a, self.n)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # A^p: sum_k (A^T)^k G (A^T)^(p-1-k); negative p through B = inv(A)
        (a,), (g,) = inputs, out_grads
        if not _gu.wants(a):
            return [None]
        p = abs(self.n)
        if p == 0:
            return [_create.zeros_like(a)]
        base = inv(a) if self.n < 0 else a
        powers = [_shape.broadcast_to(_eye(a._shape[-1], base), base._shape)]  # base^k, k < p
        for _ in range(1, p):
            powers.append(_mm(powers[-1], base))
        gb = None
        for k in range(p):
            term = _mm(_mm(_mT(powers[k]), g), _mT(powers[p - 1 - k]))
            gb = term if gb is None else _gu.add(gb, term)
        if self.n < 0:
            gb = _inv_grad(base, gb)
        return [_finish(gb, a)]


def matrix_power(a: BaseArray, n: int) -> BaseArray:
    return apply(MatrixPower(n), (a,))


@register("linalg_multi_dot")
class MultiDot(Op):
    def infer(self, *arrays: BaseArray) -> Specs:
        shapes = [a._shape for a in arrays]
        n = len(arrays)
        for i, s in enumerate(shapes):
            _check_numeric(arrays[i]._dtype, "multi_dot")
            ok = len(s) == 2 or (len(s) == 1 and i in (0, n - 1))
            if not ok:
                raise LinAlgShapeError(f"multi_dot: array {i} has shape {s}; the first and "
                                       "last arrays must be 1- or 2-dimensional and the others "
                                       "2-dimensional")
        mats = [(1,) + s if i == 0 and len(s) == 1 else (s + (1,) if len(s) == 1 else s)
                for i, s in enumerate(shapes)]
        for i in range(n - 1):
            if mats[i][1] != mats[i + 1][0]:
                raise ShapeError(f"multi_dot: shapes {shapes[i]} (array {i}) and "
                                 f"{shapes[i + 1]} (array {i + 1}) not aligned")
        out = ((shapes[0][0],) if len(shapes[0]) == 2 else ()) + (
            (shapes[-1][1],) if len(shapes[-1]) == 2 else ())
        self.dtype = _promote(arrays)
        return [(out, self.dtype)]

    def forward(self, xp: Any, *arrays: Any) -> Any:
        arrays = tuple(_cast(a, self.dtype) for a in arrays)
        fn = getattr(xp.linalg, "multi_dot", None)
        if fn is not None:
            return fn(arrays)
        return functools.reduce(xp.dot, arrays)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        labels = string.ascii_letters
        terms = []
        for i, x in enumerate(inputs):
            if x.ndim == 1:
                terms.append(labels[i + 1] if i == 0 else labels[i])
            else:
                terms.append(labels[i] + labels[i + 1])
        out = (terms[0][0] if inputs[0].ndim == 2 else "") + (
            terms[-1][-1] if inputs[-1].ndim == 2 else "")
        need = [_gu.wants(x, inputs) for x in inputs]
        return _einsum_grads(",".join(terms) + "->" + out, inputs, out_grads[0], need)


def multi_dot(arrays: Sequence[BaseArray]) -> BaseArray:
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    common_device(arrays, "multi_dot")
    return apply(MultiDot(), arrays)


# -- diagonal, trace, vecdot --------------------------------------------------------------------

def _diag_len(n: int, m: int, offset: int) -> int:
    return max(0, min(n, m - offset)) if offset >= 0 else max(0, min(n + offset, m))


@register("linalg_diagonal")
class Diagonal(Op):
    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> None:
        self.offset = _int(offset, "offset", "diagonal")
        self.axis1, self.axis2 = axis1, axis2

    def infer(self, x: BaseArray) -> Specs:
        if x.ndim < 2:
            raise ShapeError(f"diagonal: the array must have at least 2 dimensions, got shape "
                             f"{x._shape}")
        a1, a2 = _axis(self.axis1, x.ndim, "diagonal"), _axis(self.axis2, x.ndim, "diagonal")
        if a1 == a2:
            raise ValueError("diagonal: axis1 and axis2 cannot be the same")
        self.a1, self.a2 = a1, a2
        rest = tuple(d for i, d in enumerate(x._shape) if i not in (a1, a2))
        k = _diag_len(x._shape[a1], x._shape[a2], self.offset)
        return [(rest + (k,), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.array(xp.diagonal(x, self.offset, self.a1, self.a2), copy=True)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x):
            return [None]
        return [_gu.cast_like(self._embed(x, g, None), x)]

    def _embed(self, x: BaseArray, g: BaseArray, scalar: Any) -> BaseArray:
        """``g`` put back on the diagonal of zeros shaped like ``x`` (``g`` has the shape of
        the diagonal without its last axis, and is broadcast along it, when ``scalar``)."""
        a1, a2, off = self.a1, self.a2, self.offset
        n, m = x._shape[a1], x._shape[a2]
        rest = [i for i in range(x.ndim) if i not in (a1, a2)]
        if scalar is not None:
            gm = _gu.mul(_shape.reshape(g, g._shape + (1, 1)), _eye(n, x, m, off))
        else:
            k = g._shape[-1]
            if k == 0:
                return _create.zeros_like(x)
            rows = numpy.arange(k) + max(-off, 0)
            cols = numpy.arange(k) + max(off, 0)
            pr = numpy.zeros((k, n))
            pr[numpy.arange(k), rows] = 1
            pc = numpy.zeros((k, m))
            pc[numpy.arange(k), cols] = 1
            gm = einsum("...j,jr,jc->...rc", g, _gu.const(pr, g, g._dtype),
                        _gu.const(pc, g, g._dtype), optimize=True)
        return _shape.transpose(gm, _gu.inverse_perm(rest + [a1, a2]))


def diagonal(x: BaseArray, offset: int = 0, axis1: int = 0, axis2: int = 1) -> BaseArray:
    return apply(Diagonal(offset, axis1, axis2), (x,))


def _accum_dtype(dt: numpy.dtype) -> numpy.dtype:
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return _I64
    if dt.kind == "u" and dt.itemsize < 8:
        return numpy.dtype(numpy.uint64)
    return dt


@register("trace")
class Trace(Diagonal):
    """Sum along diagonals; integers accumulate in int64 as ``sum`` does."""

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1,
                 dtype: Any = None) -> None:
        super().__init__(offset, axis1, axis2)
        self.dtype = _dt.normalize(dtype)

    def infer(self, x: BaseArray) -> Specs:
        _check_numeric(x._dtype, "trace")
        ((shape, _),) = super().infer(x)
        self.out_dtype = self.dtype or _accum_dtype(x._dtype)
        return [(shape[:-1], self.out_dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        return xp.asarray(xp.trace(x, self.offset, self.a1, self.a2, dtype=self.out_dtype))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x) or self.out_dtype.kind != "f":
            return [None]
        return [_gu.cast_like(self._embed(x, _gu.cast_like(g, x), True), x)]


def trace(x: BaseArray, offset: int = 0, axis1: int = 0, axis2: int = 1,
          dtype: Any = None) -> BaseArray:
    return apply(Trace(offset, axis1, axis2, dtype), (x,))


@register("linalg_vecdot")
class VecDot(Op):
    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"vecdot: 0-d inputs are not allowed (shapes {a._shape} and "
                             f"{b._shape})")
        self.ax_a = _axis(self.axis, a.ndim, "vecdot")
        self.ax_b = _axis(self.axis, b.ndim, "vecdot")
        if a._shape[self.ax_a] != b._shape[self.ax_b]:
            raise ShapeError(f"vecdot: shapes {a._shape} and {b._shape} do not match along "
                             f"axis {self.axis} ({a._shape[self.ax_a]} != "
                             f"{b._shape[self.ax_b]})")
        rest_a = a._shape[:self.ax_a] + a._shape[self.ax_a + 1:]
        rest_b = b._shape[:self.ax_b] + b._shape[self.ax_b + 1:]
        self.dtype = _dt.binary_result(a._dtype, b._dtype)
        return [(broadcast_shapes(rest_a, rest_b, "vecdot"), self.dtype)]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        a = xp.moveaxis(_cast(a, self.dtype), self.ax_a, -1)
        b = xp.moveaxis(_cast(b, self.dtype), self.ax_b, -1)
        if a.dtype.kind == "c":
            a = xp.conj(a)
        return xp.asarray(xp.einsum("...i,...i->...", a, b))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a, b), (g,) = inputs, out_grads
        gcol = _col(g)
        grads: list[Any] = []
        for x, ax, other, oax in ((a, self.ax_a, b, self.ax_b), (b, self.ax_b, a, self.ax_a)):
            if not _gu.wants(x, inputs):
                grads.append(None)
                continue
            om = _shape.transpose(other, [i for i in range(other.ndim) if i != oax] + [oax])
            gm = _gu.mul(gcol, om)
            shape_m = x._shape[:ax] + x._shape[ax + 1:] + (x._shape[ax],)
            gm = _gu.sum_to(gm, shape_m)
            perm = [i for i in range(x.ndim) if i != ax] + [ax]
            grads.append(_gu.cast_like(_shape.transpose(gm, _gu.inverse_perm(perm)), x))
        return grads


def vecdot(a: BaseArray, b: BaseArray, axis: int = -1) -> BaseArray:
    common_device((a, b), "vecdot")
    return apply(VecDot(axis), (a, b))


# -- top-level products -------------------------------------------------------------------------

class _Product(Op):
    """A product of two arrays computed in their common dtype (integers stay integers)."""

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        _check_numeric(a._dtype, self.name)
        _check_numeric(b._dtype, self.name)
        self.dtype = _dt.binary_result(a._dtype, b._dtype)
        return [(self.shape(a._shape, b._shape), self.dtype)]

    def shape(self, sa: Shape, sb: Shape) -> Shape:
        raise NotImplementedError

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        return xp.asarray(self.compute(xp, _cast(a, self.dtype), _cast(b, self.dtype)))

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a, b), (g,) = inputs, out_grads
        need = [_gu.wants(a, inputs), _gu.wants(b, inputs)]
        if not any(need):
            return [None, None]
        return self.grads(a, b, g, need)

    def grads(self, a: BaseArray, b: BaseArray, g: BaseArray, need: list[bool]) -> list[Any]:
        """The gradients, as the einsum this product is (see :func:`_einsum_grads`)."""
        expr, ops = self.as_einsum(a, b)
        res = _einsum_grads(expr, ops, g, need)
        return [None if r is None else _gu.cast_like(_shape.reshape(r, x._shape), x)
                for r, x in zip(res, (a, b))]

    def as_einsum(self, a: BaseArray, b: BaseArray) -> tuple[str, list[BaseArray]]:
        raise NotImplementedError


@register("outer")
class Outer(_Product):
    def __init__(self, vectors_only: bool = False) -> None:
        self.vectors_only = vectors_only

    def shape(self, sa: Shape, sb: Shape) -> Shape:
        if self.vectors_only and (len(sa) != 1 or len(sb) != 1):
            raise ShapeError(f"outer: input arrays must be one-dimensional, got shapes {sa} "
                             f"and {sb}")
        return (math.prod(sa), math.prod(sb))

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        return xp.outer(a, b)

    def as_einsum(self, a: BaseArray, b: BaseArray) -> tuple[str, list[BaseArray]]:
        return "i,j->ij", [_shape.reshape(a, (a.size,)), _shape.reshape(b, (b.size,))]


def outer(a: BaseArray, b: BaseArray, vectors_only: bool = False) -> BaseArray:
    common_device((a, b), "outer")
    return apply(Outer(vectors_only), (a, b))


@register("inner")
class Inner(_Product):
    def shape(self, sa: Shape, sb: Shape) -> Shape:
        if not sa or not sb:
            return broadcast_shapes(sa, sb, "inner")
        if sa[-1] != sb[-1]:
            raise ShapeError(f"inner: shapes {sa} and {sb} not aligned: {sa[-1]} (last dim) "
                             f"!= {sb[-1]} (last dim)")
        return sa[:-1] + sb[:-1]

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        return xp.inner(a, b)

    def as_einsum(self, a: BaseArray, b: BaseArray) -> tuple[str, list[BaseArray]]:
        letters = string.ascii_letters
        if a.ndim == 0 or b.ndim == 0:
            la = letters[:a.ndim]
            lb = letters[:b.ndim]
            return f"{la},{lb}->{la or lb}", [a, b]
        la = letters[:a.ndim - 1]
        lb = letters[a.ndim - 1:a.ndim + b.ndim - 2]
        return f"{la}Z,{lb}Z->{la}{lb}", [a, b]


def inner(a: BaseArray, b: BaseArray) -> BaseArray:
    common_device((a, b), "inner")
    return apply(Inner(), (a, b))


@register("vdot")
class VDot(_Product):
    def shape(self, sa: Shape, sb: Shape) -> Shape:
        if math.prod(sa) != math.prod(sb):
            raise ShapeError(f"vdot: vectors have different lengths: shapes {sa} and {sb}")
        return ()

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        return xp.vdot(a.reshape(-1), b.reshape(-1))

    def as_einsum(self, a: BaseArray, b: BaseArray) -> tuple[str, list[BaseArray]]:
        return "i,i->", [_shape.reshape(a, (a.size,)), _shape.reshape(b, (b.size,))]


def vdot(a: BaseArray, b: BaseArray) -> BaseArray:
    common_device((a, b), "vdot")
    return apply(VDot(), (a, b))


def _tensordot_axes(axes: Any, na: int, nb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, numpy.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0:
            raise ValueError(f"tensordot: axes must be a non-negative integer, got {n}")
        if n > na or n > nb:
            raise ShapeError(f"tensordot: cannot contract {n} axes of arrays with {na} and "
                             f"{nb} dimensions")
        return list(range(na - n, na)), list(range(n))
    try:
        xa, xb = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of sequences, got "
                        f"{axes!r}") from None
    xa = [xa] if isinstance(xa, (int, numpy.integer)) else list(xa)
    xb = [xb] if isinstance(xb, (int, numpy.integer)) else list(xb)
    if len(xa) != len(xb):
        raise ShapeError(f"tensordot: shape-mismatch for sum: {len(xa)} axes of a and "
                         f"{len(xb)} axes of b")
    ra = [_axis(k, na, "tensordot") for k in xa]
    rb = [_axis(k, nb, "tensordot") for k in xb]
    if len(set(ra)) != len(ra) or len(set(rb)) != len(rb):
        raise ValueError(f"tensordot: repeated axis in {axes!r}")
    return ra, rb


@register("tensordot")
class TensorDot(_Product):
    def __init__(self, axes: Any = 2) -> None:
        self.axes = axes

    def shape(self, sa: Shape, sb: Shape) -> Shape:
        ra, rb = _tensordot_axes(self.axes, len(sa), len(sb))
        for i, j in zip(ra, rb):
            if sa[i] != sb[j]:
                raise ShapeError(f"tensordot: shape-mismatch for sum: a of shape {sa} has "
                                 f"{sa[i]} on axis {i}, b of shape {sb} has {sb[j]} on axis "
                                 f"{j}")
        self.ra, self.rb = ra, rb
        return (tuple(d for i, d in enumerate(sa) if i not in ra) +
                tuple(d for i, d in enumerate(sb) if i not in rb))

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        return xp.tensordot(a, b, axes=(self.ra, self.rb))

    def as_einsum(self, a: BaseArray, b: BaseArray) -> tuple[str, list[BaseArray]]:
        letters = iter(string.ascii_letters)
        la = [next(letters) for _ in range(a.ndim)]
        lb = [""] * b.ndim
        for i, j in zip(self.ra, self.rb):
            lb[j] = la[i]
        lb = [c or next(letters) for c in lb]
        out = [c for i, c in enumerate(la) if i not in self.ra] + [
            c for j, c in enumerate(lb) if j not in self.rb]
        return f"{''.join(la)},{''.join(lb)}->{''.join(out)}", [a, b]


def tensordot(a: BaseArray, b: BaseArray, axes: Any = 2) -> BaseArray:
    common_device((a, b), "tensordot")
    return apply(TensorDot(axes), (a, b))


@register("kron")
class Kron(_Product):
    def shape(self, sa: Shape, sb: Shape) -> Shape:
        n = max(len(sa), len(sb))
        pa = (1,) * (n - len(sa)) + sa
        pb = (1,) * (n - len(sb)) + sb
        return tuple(x * y for x, y in zip(pa, pb))

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        return xp.kron(a, b)

    def grads(self, a: BaseArray, b: BaseArray, g: BaseArray, need: list[bool]) -> list[Any]:
        # kron(a, b)[i*nb + k] = a[i] b[k] per axis: g split into interleaved (a, b) axes
        n = max(a.ndim, b.ndim)
        pa = (1,) * (n - a.ndim) + a._shape
        pb = (1,) * (n - b.ndim) + b._shape
        la, lb = string.ascii_letters[:n], string.ascii_letters[n:2 * n]
        gi = _shape.reshape(g, tuple(d for pair in zip(pa, pb) for d in pair))
        ops = [_shape.reshape(a, pa), _shape.reshape(b, pb)]
        expr = f"{la},{lb}->{''.join(x + y for x, y in zip(la, lb))}"
        res = _einsum_grads(expr, ops, gi, need)
        return [None if r is None else _gu.cast_like(_shape.reshape(r, x._shape), x)
                for r, x in zip(res, (a, b))]


def kron(a: BaseArray, b: BaseArray) -> BaseArray:
    common_device((a, b), "kron")
    return apply(Kron(), (a, b))


@register("cross")
class Cross(_Product):
    def __init__(self, axisa: int = -1, axisb: int = -1, axisc: int = -1,
                 axis: int | None = None, three_only: bool = False) -> None:
        if axis is not None:
            axisa = axisb = axisc = axis
        self.axisa, self.axisb, self.axisc = axisa, axisb, axisc
        self.three_only = three_only

    def shape(self, sa: Shape, sb: Shape) -> Shape:
        if not sa or not sb:
            raise ShapeError(f"cross: 0-d inputs are not allowed (shapes {sa} and {sb})")
        self.aa = _axis(self.axisa, len(sa), "cross")
        self.ab = _axis(self.axisb, len(sb), "cross")
        da, db = sa[self.aa], sb[self.ab]
        ok = (2, 3) if not self.three_only else (3,)
        if da not in ok or db not in ok:
            need = "3" if self.three_only else "2 or 3"
            raise ShapeError(f"cross: incompatible dimensions for cross product: the vector "
                             f"axes of shapes {sa} and {sb} have {da} and {db} elements (must "
                             f"be {need})")
        if self.dtype.kind == "b":
            raise DTypeError("cross: bool inputs are not supported")
        self.dims = (da, db)
        ra = sa[:self.aa] + sa[self.aa + 1:]
        rb = sb[:self.ab] + sb[self.ab + 1:]
        batch = broadcast_shapes(ra, rb, "cross")
        if da == 2 and db == 2:
            self.ac = None
            return batch
        self.ac = _axis(self.axisc, len(batch) + 1, "cross")
        return batch[:self.ac] + (3,) + batch[self.ac:]

    def compute(self, xp: Any, a: Any, b: Any) -> Any:
        a = xp.moveaxis(a, self.aa, -1)
        b = xp.moveaxis(b, self.ab, -1)
        a0, a1 = a[..., 0], a[..., 1]
        b0, b1 = b[..., 0], b[..., 1]
        z = a0 * b1 - a1 * b0
        if self.ac is None:
            return z
        a2 = a[..., 2] if self.dims[0] == 3 else None
        b2 = b[..., 2] if self.dims[1] == 3 else None
        x = (a1 * b2 if b2 is not None else 0) - (a2 * b1 if a2 is not None else 0)
        y = (a2 * b0 if a2 is not None else 0) - (a0 * b2 if b2 is not None else 0)
        shape = z.shape
        out = xp.stack([xp.broadcast_to(xp.asarray(c, dtype=z.dtype), shape)
                        for c in (x, y, z)], axis=-1)
        return xp.ascontiguousarray(xp.moveaxis(out, -1, self.ac))

    def grads(self, a: BaseArray, b: BaseArray, g: BaseArray, need: list[bool]) -> list[Any]:
        def parts(v: BaseArray, ax: int) -> list[Any]:
            perm = [i for i in range(v.ndim) if i != ax] + [ax]
            vm = _shape.transpose(v, perm)
            return [_columns(vm, i, i + 1) for i in range(v._shape[ax])] + [None]

        def lin(*terms: Any) -> Any:  # sum of sign * p * q over the terms whose factors exist
            out = None
            for sign, p, q in terms:
                if p is None or q is None:
                    continue
                t = _gu.mul(p, q)
                t = t if sign > 0 else _gu.neg(t)
                out = t if out is None else _gu.add(out, t)
            return out

        a0, a1, a2 = parts(a, self.aa)[:3]
        b0, b1, b2 = parts(b, self.ab)[:3]
        if self.ac is None:
            gx = gy = None
            gz = _col(g)
        else:
            gx, gy, gz = parts(g, self.ac)[:3]
        res: list[Any] = []
        for v, ax, comps in (
                (a, self.aa, [lin((1, gz, b1), (-1, gy, b2)), lin((-1, gz, b0), (1, gx, b2)),
                              lin((-1, gx, b1), (1, gy, b0))]),
                (b, self.ab, [lin((-1, gz, a1), (1, gy, a2)), lin((1, gz, a0), (-1, gx, a2)),
                              lin((1, gx, a1), (-1, gy, a0))])):
            if not need[len(res)]:
                res.append(None)
                continue
            d = v._shape[ax]
            gm = None
            for i in range(d):
                onehot = _gu.const(numpy.eye(d)[i], v, v._dtype)
                t = _gu.mul(comps[i], onehot)
                gm = t if gm is None else _gu.add(gm, t)
            perm = [i for i in range(v.ndim) if i != ax] + [ax]
            shape_m = tuple(v._shape[i] for i in perm)
            gm = _gu.sum_to(gm, shape_m)
            res.append(_gu.cast_like(_shape.transpose(gm, _gu.inverse_perm(perm)), v))
        return res


def cross(a: BaseArray, b: BaseArray, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None, three_only: bool = False) -> BaseArray:
    common_device((a, b), "cross")
    return apply(Cross(axisa, axisb, axisc, axis, three_only), (a, b))


# -- einsum -------------------------------------------------------------------------------------

_LABELS = frozenset(string.ascii_letters)


def parse_einsum(subscripts: str, shapes: Sequence[Shape]) -> tuple[str, Shape]:
    """Check ``subscripts`` against the operand shapes; return the normalised subscripts (with
    an explicit output) and the output shape."""
    s = subscripts.replace(" ", "")
    if s.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} contain more than one '->'")
    lhs, arrow, out = s.partition("->")
    if (not arrow and "-" in s) or ">" in lhs or "-" in lhs or "-" in out or ">" in out:
        raise ValueError(f"einsum: invalid subscripts {subscripts!r}")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s) but "
                         f"{len(shapes)} were given")
    sizes: dict[str, int] = {}
    where: dict[str, int] = {}
    counts: dict[str, int] = {}
    ell: Shape = ()
    has_ell = False
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if term.count("...") > 1 or "." in term.replace("...", "", 1):
            raise ValueError(f"einsum: invalid ellipsis in subscripts {term!r} (operand {i})")
        pre, dots, post = term.partition("...")
        for ch in pre + post:
            if ch not in _LABELS:
                raise ValueError(f"einsum: invalid subscript {ch!r} in {subscripts!r}; "
                                 "subscripts must be letters")
        nlab = len(pre) + len(post)
        if (not dots and nlab != len(shape)) or (dots and nlab > len(shape)):
            raise ShapeError(f"einsum: operand {i} has shape {shape} ({len(shape)} dimensions) "
                             f"but its subscripts {term!r} name {nlab}")
        ne = len(shape) - nlab
        if dots:
            has_ell = True
            ell = broadcast_shapes(ell, shape[len(pre):len(pre) + ne], "einsum")
        own: dict[str, int] = {}
        for ch, d in zip(pre + post, shape[:len(pre)] + shape[len(pre) + ne:]):
            if ch in own and own[ch] != d:
                raise ShapeError(f"einsum: operand {i} of shape {shape} repeats subscript "
                                 f"{ch!r} over dimensions of different sizes ({own[ch]} != "
                                 f"{d})")
            own[ch] = d
            counts[ch] = counts.get(ch, 0) + 1
            prev = sizes.get(ch)
            if prev is None or prev == 1:
                sizes[ch] = d
                where[ch] = i
            elif d != prev and d != 1:
                j = where[ch]
                raise ShapeError(f"einsum: subscript {ch!r} has size {prev} in operand {j} "
                                 f"(shape {shapes[j]}) but {d} in operand {i} (shape {shape})")
    if arrow:
        if out.count("...") > 1 or "." in out.replace("...", "", 1):
            raise ValueError(f"einsum: invalid ellipsis in output subscripts {out!r}")
        pre, dots, post = out.partition("...")
        labels = pre + post
        for ch in labels:
            if ch not in _LABELS:
                raise ValueError(f"einsum: invalid output subscript {ch!r}")
            if ch not in sizes:
                raise ValueError(f"einsum: output subscript {ch!r} does not appear in the "
                                 "input subscripts")
        if len(set(labels)) != len(labels):
            raise ValueError(f"einsum: output subscripts {out!r} repeat a subscript")
        if ell and not dots:
            raise ShapeError("einsum: the operands have broadcast ('...') dimensions "
                             f"{ell} but the output subscripts {out!r} have no '...'")
        shape = tuple(sizes[c] for c in pre) + (ell if dots else ()) + tuple(
            sizes[c] for c in post)
        return s, shape
    free = "".join(sorted(c for c, n in counts.items() if n == 1))
    out = ("..." if has_ell else "") + free
    return s + "->" + out, ell + tuple(sizes[c] for c in free)


@register("einsum")
class Einsum(Op):
    def __init__(self, subscripts: str, optimize: Any = False) -> None:
        if not isinstance(subscripts, str):
            raise TypeError(f"einsum: subscripts must be a string, got "
                            f"{type(subscripts).__name__}")
        self.subscripts = subscripts
        self.optimize = optimize

    def infer(self, *operands: BaseArray) -> Specs:
        for x in operands:
            _check_numeric(x._dtype, "einsum")
        self.expr, shape = parse_einsum(self.subscripts, [x._shape for x in operands])
        self.dtype = _promote(operands)
        return [(shape, self.dtype)]

    def forward(self, xp: Any, *operands: Any) -> Any:
        ops = [_cast(x, self.dtype) for x in operands]
        r = xp.einsum(self.expr, *ops, optimize=self.optimize)
        # with one operand NumPy may return a view (a transpose, a diagonal)
        return xp.array(r, copy=True) if len(ops) == 1 else xp.asarray(r)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        need = [_gu.wants(x, inputs) for x in inputs]
        if not any(need):
            return [None] * len(inputs)
        return _einsum_grads(self.expr, inputs, out_grads[0], need)


def einsum(subscripts: str, *operands: BaseArray, optimize: Any = False) -> BaseArray:
    if not operands:
        raise ValueError("einsum: no operands given")
    common_device(operands, "einsum")
    return apply(Einsum(subscripts, optimize), operands)



# -- gradients ------------------------------------------------------------------------------------
# Standard matrix-calculus results, written in framework ops (so they are differentiable again).
# Real floating inputs only; complex ones raise (see _gradutil.wants).

def _mT(x: BaseArray) -> BaseArray:
    return _shape.swapaxes(x, -1, -2)


def _mm(a: BaseArray, b: BaseArray) -> BaseArray:
    return _misc.matmul(a, b)


def _eye(n: int, like: BaseArray, m: int | None = None, k: int = 0) -> BaseArray:
    return _gu.const(numpy.eye(n, m, k), like, like._dtype)


def _col(v: BaseArray) -> BaseArray:
    """(..., n) -> (..., n, 1)."""
    return _shape.reshape(v, v._shape + (1,))


def _row(v: BaseArray) -> BaseArray:
    """(..., n) -> (..., 1, n)."""
    return _shape.reshape(v, v._shape[:-1] + (1,) + v._shape[-1:])


def _diag_embed(v: BaseArray) -> BaseArray:
    """(..., n) -> (..., n, n) with v on the diagonal."""
    return _gu.mul(_col(v), _eye(v._shape[-1], v))


def _sym(x: BaseArray) -> BaseArray:
    return _gu.mul(_gu.add(x, _mT(x)), 0.5)


def _offdiag_inverse(d: BaseArray) -> BaseArray:
    """1 / d off the diagonal, 0 on it (the 'F' matrix of eigen- and singular-vector
    derivatives; d is 0 on the diagonal)."""
    n = d._shape[-1]
    eye = numpy.eye(n)
    return _gu.mul(_gu.div(1.0, _gu.add(d, _gu.const(eye, d, d._dtype))),
                   _gu.const(1.0 - eye, d, d._dtype))


def _columns(x: BaseArray, lo: int, hi: int) -> BaseArray:
    """x[..., lo:hi] (a differentiable gather)."""
    idx = numpy.arange(lo, hi).reshape((1,) * (x.ndim - 1) + (hi - lo,))
    return _gu.gather_along(x, _gu.const(idx, x), x.ndim - 1)


def _rows(x: BaseArray, lo: int, hi: int) -> BaseArray:
    """x[..., lo:hi, :]."""
    idx = numpy.arange(lo, hi).reshape((1,) * (x.ndim - 2) + (hi - lo, 1))
    return _gu.gather_along(x, _gu.const(idx, x), x.ndim - 2)


def _finish(g: Any, x: BaseArray) -> Any:
    """``g`` summed back to ``x``'s shape and cast to its dtype."""
    if g is None:
        return None
    return _gu.cast_like(_gu.sum_to(g, x._shape), x)


def _inv_grad(y: BaseArray, g: BaseArray) -> BaseArray:
    """d inv: -Y^T G Y^T."""
    yt = _mT(y)
    return _gu.neg(_mm(_mm(yt, g), yt))


def _pinv_grad(a: BaseArray, x: BaseArray, g: BaseArray) -> BaseArray:
    """Gradient of X = pinv(A) (Golub & Pereyra; valid where the rank is locally constant):
    -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)."""
    m, n = a._shape[-2], a._shape[-1]
    xt, gt = _mT(x), _mT(g)
    term1 = _gu.neg(_mm(_mm(xt, g), xt))
    left = _gu.sub(_eye(m, a), _mm(a, x))
    term2 = _mm(_mm(left, gt), _mm(x, xt))
    right = _gu.sub(_eye(n, a), _mm(x, a))
    term3 = _mm(_mm(xt, x), _mm(gt, right))
    return _gu.add(_gu.add(term1, term2), term3)


def _svd_grad(u: BaseArray, s: BaseArray, vh: BaseArray, gu: Any, gs: Any, gvh: Any,
              m: int, n: int) -> BaseArray:
    """Gradient of the thin SVD A = U diag(s) Vh (Townsend, "Differentiating the singular
    value decomposition", 2016). Ill-conditioned for repeated or zero singular values."""
    k = s._shape[-1]
    inner = _diag_embed(gs) if gs is not None else None
    s2 = _gu.mul(s, s)
    f = _offdiag_inverse(_gu.sub(_row(s2), _col(s2)))  # 1 / (s_j^2 - s_i^2)
    inv_s = _gu.div(1.0, s)
    extra = None
    if gu is not None:
        j = _mm(_mT(u), gu)
        term = _gu.mul(_gu.mul(f, _gu.sub(j, _mT(j))), _row(s))
        inner = term if inner is None else _gu.add(inner, term)
        if m > k:  # (I - U U^T) gU S^-1 Vh
            extra = _mm(_gu.mul(_gu.sub(gu, _mm(u, j)), _row(inv_s)), vh)
    if gvh is not None:
        kk = _mm(vh, _mT(gvh))
        term = _gu.mul(_col(s), _gu.mul(f, _gu.sub(kk, _mT(kk))))
        inner = term if inner is None else _gu.add(inner, term)
        if n > k:  # U S^-1 gVh (I - V V^T)
            e2 = _mm(u, _gu.mul(_col(inv_s), _gu.sub(gvh, _mm(_mT(kk), vh))))
            extra = e2 if extra is None else _gu.add(extra, e2)
    out = _mm(_mm(u, inner), vh)
    return out if extra is None else _gu.add(out, extra)


def _qr_grad(a: BaseArray, q: BaseArray, r: BaseArray, gq: Any, gr: Any) -> BaseArray:
    """Gradient of the reduced QR A = QR (Walter & Lehmann 2018; PyTorch's linalg_qr_backward).

    m >= n: gA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q; m < n: A = [X | Y] with
    X square, R = [U | Q^T Y], and the square case applies to X."""
    m, n = a._shape[-2], a._shape[-1]
    if gq is None:
        gq = _create.zeros_like(q)
    if gr is None:
        gr = _create.zeros_like(r)
    if m >= n:
        mm = _gu.sub(_mm(r, _mT(gr)), _mm(_mT(gq), q))
        low = _gu.mul(mm, _gu.const(numpy.tril(numpy.ones((n, n)), -1), mm, mm._dtype))
        copyltu = _gu.add(_gu.add(low, _mT(low)),
                          _gu.mul(mm, _gu.const(numpy.eye(n), mm, mm._dtype)))
        b = _gu.add(gq, _mm(q, copyltu))
        return _mT(solve(r, _mT(b)))  # b R^-T
    x, y = _columns(a, 0, m), _columns(a, m, n)
    u = _columns(r, 0, m)
    gu, gv = _columns(gr, 0, m), _columns(gr, m, n)
    gx = _qr_grad(x, q, u, _gu.add(gq, _mm(y, _mT(gv))), gu)
    gy = _mm(q, gv)
    return _shape.concatenate([gx, gy], axis=-1)


def _norm_grad(op: Norm, x: BaseArray, y: BaseArray, g: BaseArray) -> BaseArray:
    """Gradient of a vector or matrix norm; ties of max/min-based norms (ord=inf, 1...) share
    the gradient equally."""
    ord, axes = op.ord_, op.axes
    ks = _gu.keep_shape(x._shape, axes)
    yk = _gu.cast_like(_shape.reshape(y, ks), x)
    gk = _gu.cast_like(_shape.reshape(g, ks), x)
    safe = _gu.add(yk, _elemwise.binary("equal", yk, 0))  # 0/0 -> 0 at the zero vector
    sign = _elemwise.unary("sign", x)
    absx = _elemwise.unary("abs", x)
    if op.mode == "vector":
        if ord is None or ord == 2:
            return _gu.mul(gk, _gu.div(x, safe))
        if ord == 0:
            return _create.zeros_like(x)
        if ord == 1:
            return _gu.mul(gk, sign)
        if ord in (math.inf, -math.inf):
            hit = _elemwise.binary("equal", absx, yk)
            return _gu.mul(_reduce.tie_split(hit, gk, axes, x), sign)
        p = float(ord)
        ratio = _elemwise.binary("power", _gu.div(absx, safe), p - 1.0)
        return _gu.mul(_gu.mul(gk, sign), ratio)
    r_ax, c_ax = axes
    if ord in (None, "fro"):
        return _gu.mul(gk, _gu.div(x, safe))
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(x.ndim) if i not in axes]
        perm = rest + [r_ax, c_ax]
        xm = _shape.transpose(x, perm)
        u, s, vh = apply(SVD(False, True), (xm,))
        if ord == "nuc":
            gm = _mm(u, vh)
        else:
            k = s._shape[-1]
            j = 0 if ord == 2 else k - 1
            gm = _mm(_columns(u, j, j + 1), _rows(vh, j, j + 1))
        gm = _gu.mul(gm, _shape.reshape(gk, tuple(x._shape[i] for i in rest) + (1, 1)))
        return _shape.transpose(gm, _gu.inverse_perm(perm))
    if ord in (1, -1):  # max/min column sum
        sum_ax, tie_ax = r_ax, c_ax
    else:  # inf/-inf: max/min row sum
        sum_ax, tie_ax = c_ax, r_ax
    sums = _reduce.reduce("sum", absx, axis=sum_ax, keepdims=True)
    hit = _elemwise.binary("equal", sums, yk)
    return _gu.mul(_reduce.tie_split(hit, gk, (tie_ax,), x), sign)


def _einsum_grads(expr: str, ops: Sequence[BaseArray], g: BaseArray,
                  need: Sequence[bool]) -> list[Any]:
    """Gradients of ``einsum(expr, *ops)``: for each operand an einsum of the output gradient
    with the other operands, whose output subscripts are that operand's. Labels only that
    operand has are broadcast back, repeated labels (diagonals) are put back with identity
    matrices, and size-1 (broadcast) axes are summed."""
    lhs, out = expr.split("->")
    terms = lhs.split(",")
    spare = [c for c in string.ascii_letters if c not in expr]
    n_ell = max([x.ndim - (len(t) - 3) for t, x in zip(terms, ops) if "..." in t], default=0)
    ell, spare = spare[:n_ell], spare[n_ell:]

    def fill(t: str, nd: int) -> str:
        if "..." not in t:
            return t
        ne = nd - (len(t) - 3)
        return t.replace("...", "".join(ell[n_ell - ne:]))

    ts = [fill(t, x.ndim) for t, x in zip(terms, ops)]
    to = out.replace("...", "".join(ell))
    sizes: dict[str, int] = {}
    for t, shape in [(to, g._shape)] + [(t, x._shape) for t, x in zip(ts, ops)]:
        for c, d in zip(t, shape):
            sizes[c] = max(sizes.get(c, 1), d)
    grads: list[Any] = []
    for i, (t, x) in enumerate(zip(ts, ops)):
        if not need[i]:
            grads.append(None)
            continue
        uniq = "".join(dict.fromkeys(t))
        o_terms = [to] + [ts[j] for j in range(len(ops)) if j != i]
        o_ops = [g] + [ops[j] for j in range(len(ops)) if j != i]
        avail = set("".join(o_terms))
        keep = "".join(c for c in uniq if c in avail)
        r = einsum(",".join(o_terms) + "->" + keep, *o_ops, optimize=len(o_ops) > 1)
        if keep != uniq:  # labels only this operand has: the sum over them broadcasts back
            own = dict(zip(t, x._shape))
            r = _shape.reshape(r, tuple(sizes[c] if c in keep else 1 for c in uniq))
            r = _shape.broadcast_to(r, tuple(sizes[c] if c in keep else own[c] for c in uniq))
        if uniq != t:  # repeated labels: back onto the diagonal
            renamed, deltas = "", []
            seen: set[str] = set()
            for c in t:
                if c in seen:
                    fresh = spare.pop()
                    renamed += fresh
                    deltas.append((c + fresh, _eye(r._shape[uniq.index(c)], r)))
                else:
                    renamed += c
                    seen.add(c)
            r = einsum(",".join([uniq] + [d for d, _ in deltas]) + "->" + renamed, r,
                       *[e for _, e in deltas], optimize=True)
        if any(d == 1 and own > 1 for d, own in zip(r._shape, x._shape)):
            # a label of size 1 everywhere else (broadcast against this operand)
            r = _shape.broadcast_to(r, tuple(max(d, own) for d, own in zip(r._shape, x._shape)))
        grads.append(_finish(r, x))
    return grads
