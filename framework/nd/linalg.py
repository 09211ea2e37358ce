"""``mx.nd.linalg``: MXNet 1.x's BLAS/LAPACK-style operators on legacy arrays.

Every operator works on the last two axes and batches over the leading ones. They are
compositions of the framework's differentiable ops (``matmul``, ``cholesky``, ``solve``, ``inv``,
``det``), so gradients flow through all of them. A result that would be 0-d has shape ``(1,)``.
"""

from __future__ import annotations

from typing import Any

import numpy

from . import _create, _index, _linalg, _misc, _reduce, _shape
from ._base import BaseArray
from ._elemwise import binary, unary
from ._legacy import NDArray, check_nd, one_d, shape_error

__all__ = ["gemm", "gemm2", "potrf", "potri", "trsm", "trmm", "syrk", "sumlogdiag",
           "inverse", "det", "slogdet"]


def _mat(x: Any, op: str, arg: str = "A") -> BaseArray:
    x = check_nd(x, f"linalg.{op}", arg)
    if x.ndim < 2:
        raise shape_error(f"linalg.{op}", f"{arg} must have at least 2 dimensions, got shape "
                          f"{x._shape}")
    return x


def _square(x: Any, op: str, arg: str = "A") -> BaseArray:
    x = _mat(x, op, arg)
    if x._shape[-1] != x._shape[-2]:
        raise shape_error(f"linalg.{op}", f"{arg} must be square in its last two axes, got "
                          f"shape {x._shape}")
    return x


def _t(x: BaseArray, flag: bool) -> BaseArray:
    return _shape.swapaxes(x, -1, -2) if flag else x


def _check_axis(axis: int, op: str) -> None:
    if axis != -2:
        raise NotImplementedError(f"nd.linalg.{op}: only axis=-2 (row-major matrices in the "
                                  f"last two axes) is supported, got axis={axis}")


def gemm2(A: BaseArray, B: BaseArray, transpose_a: bool = False, transpose_b: bool = False,
          alpha: float = 1.0, axis: int = -2) -> NDArray:
    """``alpha * op(A) @ op(B)``."""
    _check_axis(axis, "gemm2")
    a, b = _t(_mat(A, "gemm2"), transpose_a), _t(_mat(B, "gemm2", "B"), transpose_b)
    prod = _misc.matmul(a, b)
    return prod if alpha == 1.0 else binary("multiply", prod, float(alpha))  # type: ignore


def gemm(A: BaseArray, B: BaseArray, C: BaseArray, transpose_a: bool = False,
         transpose_b: bool = False, alpha: float = 1.0, beta: float = 1.0,
         axis: int = -2) -> NDArray:
    """``alpha * op(A) @ op(B) + beta * C``."""
    prod = gemm2(A, B, transpose_a, transpose_b, alpha, axis)
    c = _mat(C, "gemm", "C")
    if c._shape != prod._shape:
        raise shape_error("linalg.gemm", f"C has shape {c._shape}; op(A) @ op(B) has "
                          f"{prod._shape}")
    return binary("add", prod, binary("multiply", c, float(beta)))  # type: ignore


def potrf(A: BaseArray) -> NDArray:
    """The lower Cholesky factor ``L`` of a symmetric positive-definite ``A = L @ L.T``."""
    return _linalg.cholesky(_square(A, "potrf"))  # type: ignore[return-value]


def potri(A: BaseArray) -> NDArray:
    """The inverse of ``L @ L.T`` from the Cholesky factor ``L`` (``A``)."""
    a = _square(A, "potri")
    return _linalg.inv(_misc.matmul(a, _t(a, True)))  # type: ignore[return-value]


def _triangle(a: BaseArray, lower: bool) -> BaseArray:
    n = a._shape[-1]
    tri = numpy.tril(numpy.ones((n, n))) if lower else numpy.triu(numpy.ones((n, n)))
    return binary("multiply", a, _create.array(tri, dtype=a._dtype, device=a._device))


def trsm(A: BaseArray, B: BaseArray, transpose: bool = False, rightside: bool = False,
         lower: bool = True, alpha: float = 1.0) -> NDArray:
    """Solve ``op(A) @ X = alpha * B`` (``rightside``: ``X @ op(A) = alpha * B``) for ``X``,
    with ``A`` triangular (only its ``lower`` or upper triangle is read)."""
    a = _triangle(_square(A, "trsm"), lower)
    b = _mat(B, "trsm", "B")
    rhs = binary("multiply", b, float(alpha)) if alpha != 1.0 else b
    if not rightside:
        return _linalg.solve(_t(a, transpose), rhs)  # type: ignore[return-value]
    # X op(A) = R  <=>  op(A)^T X^T = R^T
    return _t(_linalg.solve(_t(a, not transpose), _t(rhs, True)), True)  # type: ignore


def trmm(A: BaseArray, B: BaseArray, transpose: bool = False, rightside: bool = False,
         lower: bool = True, alpha: float = 1.0) -> NDArray:
    """``alpha * op(A) @ B`` (``rightside``: ``alpha * B @ op(A)``), ``A`` triangular."""
    a = _t(_triangle(_square(A, "trmm"), lower), transpose)
    b = _mat(B, "trmm", "B")
    prod = _misc.matmul(b, a) if rightside else _misc.matmul(a, b)
    return prod if alpha == 1.0 else binary("multiply", prod, float(alpha))  # type: ignore


def syrk(A: BaseArray, transpose: bool = False, alpha: float = 1.0) -> NDArray:
    """``alpha * A @ A.T`` (``transpose``: ``alpha * A.T @ A``)."""
    a = _mat(A, "syrk")
    prod = _misc.matmul(_t(a, transpose), _t(a, not transpose))
    return prod if alpha == 1.0 else binary("multiply", prod, float(alpha))  # type: ignore


def sumlogdiag(A: BaseArray) -> NDArray:
    """The sum of the logarithms of the diagonal of each square matrix."""
    a = _square(A, "sumlogdiag")
    idx = numpy.arange(a._shape[-1])
    diag = _index.getitem(a, (Ellipsis, idx, idx))
    return one_d(_reduce.reduce("sum", unary("log", diag), -1))  # type: ignore[no-any-return]


def inverse(A: BaseArray) -> NDArray:
    return _linalg.inv(_square(A, "inverse"))  # type: ignore[return-value]


def det(A: BaseArray) -> NDArray:
    return one_d(_linalg.det(_square(A, "det")))  # type: ignore[no-any-return]


def slogdet(A: BaseArray) -> tuple[NDArray, NDArray]:
    sign, logdet = _linalg.slogdet(_square(A, "slogdet"))
    return one_d(sign), one_d(logdet)
