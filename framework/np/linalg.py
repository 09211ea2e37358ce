"""``np.linalg``: MXNet's ``mx.np.linalg`` with NumPy's semantics.

Differences from NumPy (MXNet's rules): integer and bool inputs give float32 results; every
function returns framework arrays (``lstsq``'s ``rank`` and ``matrix_rank`` are 0-d int64
arrays, not Python ints); ``eig``/``eigvals`` of a real matrix give real results and fail with
``LinAlgError`` when the eigenvalues are complex (pass a complex array to get complex ones);
tolerances (``rcond``, ``tol``, ``rtol``) are scalars. Shape errors raise at the call; numerical
failures (a singular matrix) surface as ``LinAlgError`` at the next sync point (``asnumpy()``,
``wait_to_read()``...), since the computation is asynchronous.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy

from ..base import ShapeError
from ..nd import _linalg, _shape
from ..nd._base import BaseArray
from ..nd._op import common_device
from ._funcs import _arr, _out

__all__ = [
    "norm", "inv", "det", "slogdet", "svd", "cholesky", "qr", "solve", "eig", "eigh", "eigvals",
    "eigvalsh", "pinv", "lstsq", "matrix_rank", "tensorinv", "tensorsolve", "cond",
    "matrix_power", "multi_dot", "cross", "diagonal", "outer", "tensordot", "trace",
    "matrix_transpose", "vecdot", "svdvals", "vector_norm", "matrix_norm",
]

LinAlgError = numpy.linalg.LinAlgError

SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
LstsqResult = namedtuple("LstsqResult", ["x", "residuals", "rank", "s"])


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> BaseArray:
    return _linalg.norm(_arr(x, "norm"), ord, axis, keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> BaseArray:
    return _linalg.vector_norm(_arr(x, "vector_norm"), axis, keepdims, ord)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> BaseArray:
    return _linalg.matrix_norm(_arr(x, "matrix_norm"), keepdims, ord)


def inv(a: Any) -> BaseArray:
    return _linalg.inv(_arr(a, "inv"))


def det(a: Any) -> BaseArray:
    return _linalg.det(_arr(a, "det"))


def slogdet(a: Any) -> SlogdetResult:
    return SlogdetResult(*_linalg.slogdet(_arr(a, "slogdet")))


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """Returns NumPy's ``(U, S, Vh)`` (MXNet 1.x returned ``(u, s, v)`` with other shapes)."""
    res = _linalg.svd(_arr(a, "svd"), full_matrices, compute_uv, hermitian)
    return SVDResult(*res) if compute_uv else res


def svdvals(x: Any, /) -> BaseArray:
    return _linalg.svdvals(_arr(x, "svdvals"))


def cholesky(a: Any, upper: bool = False) -> BaseArray:
    return _linalg.cholesky(_arr(a, "cholesky"), upper)


def qr(a: Any, mode: str = "reduced") -> Any:
    res = _linalg.qr(_arr(a, "qr"), mode)
    return QRResult(*res) if mode in ("reduced", "complete") else res


def solve(a: Any, b: Any) -> BaseArray:
    return _linalg.solve(_arr(a, "solve"), _arr(b, "solve"))


def eig(a: Any) -> EigResult:
    return EigResult(*_linalg.eig(_arr(a, "eig")))


def eigvals(a: Any) -> BaseArray:
    return _linalg.eigvals(_arr(a, "eigvals"))


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    return EighResult(*_linalg.eigh(_arr(a, "eigh"), UPLO))


def eigvalsh(a: Any, UPLO: str = "L") -> BaseArray:
    return _linalg.eigvalsh(_arr(a, "eigvalsh"), UPLO)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *,
         rtol: Any = _linalg.NOVALUE) -> BaseArray:
    return _linalg.pinv(_arr(a, "pinv"), rcond, hermitian, rtol)


def lstsq(a: Any, b: Any, rcond: Any = None) -> LstsqResult:
    """Waits for the result when ``a`` has more rows than columns: the shape of ``residuals``
    depends on the rank there."""
    return LstsqResult(*_linalg.lstsq(_arr(a, "lstsq"), _arr(b, "lstsq"), rcond))


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *,
                rtol: Any = None) -> BaseArray:
    return _linalg.matrix_rank(_arr(A, "matrix_rank"), tol, hermitian, rtol)


def tensorinv(a: Any, ind: int = 2) -> BaseArray:
    return _linalg.tensorinv(_arr(a, "tensorinv"), ind)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> BaseArray:
    return _linalg.tensorsolve(_arr(a, "tensorsolve"), _arr(b, "tensorsolve"), axes)


def cond(x: Any, p: Any = None) -> BaseArray:
    return _linalg.cond(_arr(x, "cond"), p)


def matrix_power(a: Any, n: int) -> BaseArray:
    """Integer matrices raised to a negative power give float32 (NumPy: float64)."""
    return _linalg.matrix_power(_arr(a, "matrix_power"), n)


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> BaseArray:
    return _out(_linalg.multi_dot([_arr(a, "multi_dot") for a in arrays]), out)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> BaseArray:
    return _linalg.cross(_arr(x1, "cross"), _arr(x2, "cross"), axis=axis, three_only=True)


def diagonal(x: Any, /, *, offset: int = 0) -> BaseArray:
    return _linalg.diagonal(_arr(x, "diagonal"), offset, -2, -1)


def outer(x1: Any, x2: Any, /) -> BaseArray:
    return _linalg.outer(_arr(x1, "outer"), _arr(x2, "outer"), vectors_only=True)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> BaseArray:
    return _linalg.tensordot(_arr(x1, "tensordot"), _arr(x2, "tensordot"), axes)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> BaseArray:
    """Over the last two axes (NumPy 2); the top-level ``np.trace`` uses the first two."""
    return _linalg.trace(_arr(x, "trace"), offset, -2, -1, dtype)


def matrix_transpose(x: Any, /) -> BaseArray:
    x = _arr(x, "matrix_transpose")
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose: the input must have at least 2 dimensions, got "
                         f"shape {x.shape}")
    return _shape.swapaxes(x, -1, -2)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> BaseArray:
    a, b = _arr(x1, "vecdot"), _arr(x2, "vecdot")
    common_device((a, b), "vecdot")
    return _linalg.vecdot(a, b, axis)
