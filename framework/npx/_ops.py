"""Array operators of ``mx.npx`` (MXNet's NumPy extensions) with MXNet's signatures.

The ops themselves live in ``framework.nd._npx``; elementwise activations that are compositions
of existing ops (``log_sigmoid``, ``mish``, ``smooth_l1``) are written here in framework ops.
"""

from __future__ import annotations

import builtins
from typing import Any

from ..device import Device
from ..nd import _npx
from ..nd._base import BaseArray
from ..nd._create import to_device
from ..nd._elemwise import binary, unary
from ..nd._shape import astype, where
from ..nd._shape import copy as _copy

__all__ = [
    "reshape", "sequence_mask", "batch_dot", "gather_nd", "batch_flatten", "cast", "erf",
    "erfinv", "gamma", "gammaln", "arange_like", "reshape_like", "broadcast_like", "slice",
    "slice_axis", "nonzero", "index_add", "index_update", "stop_gradient", "shape_array",
    "softsign", "log_sigmoid", "mish", "smooth_l1",
]


def _check(x: Any, op: str, arg: str = "data") -> BaseArray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"npx.{op}: {arg} must be an ndarray, got {type(x).__name__}")
    return x


def reshape(a: BaseArray, newshape: Any, reverse: bool = False, order: str = "C") -> BaseArray:
    """Reshape with MXNet's special codes (``mx.npx.reshape``).

    Each entry of ``newshape`` consumes input dimensions from the left (from the right when
    ``reverse=True``): ``d >= 0`` a new dimension of size d; ``-1`` inferred; ``-2`` copy this
    dimension; ``-3`` drop this dimension, which must be 1; ``-4`` copy all remaining dimensions;
    ``-5`` merge two consecutive dimensions; ``-6, d1, d2`` split a dimension into two (one of
    d1, d2 may be -1). E.g. ``(-2, -1)`` turns (2, 3, 4) into (2, 12). A view when possible.
    """
    return _npx.npx_reshape(_check(a, "reshape", "a"), newshape, reverse, order)


def sequence_mask(data: BaseArray, sequence_length: BaseArray | None = None,
                  use_sequence_length: bool = False, value: float = 0.0,
                  axis: int = 0) -> BaseArray:
    """Set every element past each sequence's length to ``value``.

    ``data`` has the time axis ``axis`` (0 or 1) and the batch axis next to it (1 or 0);
    ``sequence_length`` has shape ``(batch,)``. Without ``use_sequence_length`` the data is
    returned unchanged (as a copy).
    """
    _check(data, "sequence_mask")
    if axis not in (0, 1):
        raise ValueError(f"npx.sequence_mask: axis must be 0 or 1 (the time axis), got {axis!r}")
    if not use_sequence_length:
        return _copy(data)
    if sequence_length is None:
        raise ValueError("npx.sequence_mask: use_sequence_length=True needs sequence_length")
    _check(sequence_length, "sequence_mask", "sequence_length")
    return _npx.sequence_mask(data, sequence_length, value, axis)


def batch_dot(a: BaseArray, b: BaseArray, transpose_a: bool = False,
              transpose_b: bool = False) -> BaseArray:
    """Batched matrix product: ``(B..., n, k) x (B..., k, m) -> (B..., n, m)``; the batch
    dimensions must be equal (no broadcasting). ``transpose_a``/``transpose_b`` swap the last
    two axes of an input first."""
    _check(a, "batch_dot", "a")
    _check(b, "batch_dot", "b")
    return _npx.batch_dot(a, b, transpose_a, transpose_b)


def gather_nd(data: BaseArray, indices: BaseArray) -> BaseArray:
    """Gather by N-d indices: ``indices`` of shape ``(M, Y...)`` picks ``data[i0, ..., iM-1]``,
    so the result has shape ``Y... + data.shape[M:]``; negative indices count from the end."""
    _check(data, "gather_nd")
    _check(indices, "gather_nd", "indices")
    return _npx.gather_nd(data, indices)


def batch_flatten(x: BaseArray) -> BaseArray:
    """Flatten all axes but the first: ``(d0, d1, ..., dk) -> (d0, d1*...*dk)``."""
    return _npx.batch_flatten(_check(x, "batch_flatten", "x"))


def cast(data: BaseArray, dtype: Any) -> BaseArray:
    """A copy of ``data`` converted to ``dtype``."""
    return astype(_check(data, "cast"), dtype)


def erf(data: BaseArray) -> BaseArray:
    """The error function, elementwise (float types kept, integers give float32)."""
    return _npx.special("erf", _check(data, "erf"))


def erfinv(data: BaseArray) -> BaseArray:
    """The inverse error function, elementwise (``nan`` outside [-1, 1], ``+-inf`` at +-1)."""
    return _npx.special("erfinv", _check(data, "erfinv"))


def gamma(data: BaseArray) -> BaseArray:
    """The gamma function, elementwise (``nan`` at the negative integers, ``+-inf`` at 0)."""
    return _npx.special("gamma", _check(data, "gamma"))


def gammaln(data: BaseArray) -> BaseArray:
    """``log(abs(gamma(x)))``, elementwise (``inf`` at the non-positive integers)."""
    return _npx.special("gammaln", _check(data, "gammaln"))


def arange_like(data: BaseArray, start: float = 0.0, step: float = 1.0, repeat: int = 1,
                ctx: Device | None = None, axis: int | None = None) -> BaseArray:
    """Evenly spaced values shaped like ``data`` (or like its ``axis``): element ``i`` (in flat
    order) is ``start + step * (i // repeat)``; the dtype is ``data``'s."""
    out = _npx.arange_like(_check(data, "arange_like"), start, step, repeat, axis)
    if ctx is not None and ctx != out._device:
        out = to_device(out, ctx)
    return out


def reshape_like(lhs: BaseArray, rhs: BaseArray, lhs_begin: int | None = None,
                 lhs_end: int | None = None, rhs_begin: int | None = None,
                 rhs_end: int | None = None) -> BaseArray:
    """Reshape ``lhs`` so that its dims ``[lhs_begin, lhs_end)`` become ``rhs``'s dims
    ``[rhs_begin, rhs_end)`` (all dims by default); negative values count from the end."""
    _check(lhs, "reshape_like", "lhs")
    _check(rhs, "reshape_like", "rhs")
    return _npx.reshape_like(lhs, rhs, lhs_begin, lhs_end, rhs_begin, rhs_end)


def broadcast_like(lhs: BaseArray, rhs: BaseArray, lhs_axes: Any = None,
                   rhs_axes: Any = None) -> BaseArray:
    """Broadcast ``lhs`` to ``rhs``'s shape, or set its (size-1) ``lhs_axes`` to the sizes of
    ``rhs_axes``."""
    _check(lhs, "broadcast_like", "lhs")
    _check(rhs, "broadcast_like", "rhs")
    return _npx.broadcast_like(lhs, rhs, lhs_axes, rhs_axes)


def slice(data: BaseArray, begin: Any, end: Any, step: Any = None) -> BaseArray:
    """``data[begin[0]:end[0]:step[0], ...]`` for the leading axes (``None`` entries take the
    defaults, negative steps allowed); a new array."""
    return _npx.slice_(_check(data, "slice"), begin, end, step)


def slice_axis(data: BaseArray, axis: int, begin: int, end: int | None) -> BaseArray:
    """Elements ``begin:end`` along ``axis`` (``end=None`` for the end); a new array."""
    return _npx.slice_axis(_check(data, "slice_axis"), axis, begin, end)


def nonzero(a: BaseArray) -> BaseArray:
    """The indices of the non-zero elements as an int64 array of shape ``(N, a.ndim)``
    (``np.nonzero`` is its transpose, split). Waits for ``a``."""
    return _npx.nonzero(_check(a, "nonzero", "a"))


def index_add(a: BaseArray, ind: BaseArray, val: BaseArray) -> BaseArray:
    """A copy of ``a`` with ``val`` added at the positions ``ind``.

    ``ind`` is an int array of shape ``(ndim_indexed, N)`` (or ``(N,)`` for one dimension): the
    column ``ind[:, j]`` indexes the first ``ndim_indexed`` axes of ``a``. ``val`` broadcasts to
    ``(N,) + a.shape[ndim_indexed:]`` (and is cast to ``a.dtype``). Repeated positions
    accumulate. Negative or out-of-range indices raise IndexError when the op runs.
    """
    _check(a, "index_add", "a")
    _check(ind, "index_add", "ind")
    _check(val, "index_add", "val")
    return _npx.index_modify(a, ind, val, "add")


def index_update(a: BaseArray, ind: BaseArray, val: BaseArray) -> BaseArray:
    """A copy of ``a`` with the positions ``ind`` set to ``val`` (see :func:`index_add`)."""
    _check(a, "index_update", "a")
    _check(ind, "index_update", "ind")
    _check(val, "index_update", "val")
    return _npx.index_modify(a, ind, val, "update")


def stop_gradient(data: BaseArray) -> BaseArray:
    """The same values, cut from the autograd graph (no gradient flows through)."""
    _check(data, "stop_gradient")
    detach = getattr(data, "detach", None)
    if detach is not None:
        return detach()  # type: ignore[no-any-return]
    return data._view(data._alloc_buffer())


def shape_array(data: BaseArray) -> BaseArray:
    """``data.shape`` as a 1-d int64 array."""
    return _npx.shape_array(_check(data, "shape_array"))


def softsign(data: BaseArray) -> BaseArray:
    """``x / (1 + |x|)``, elementwise."""
    return unary("softsign", _check(data, "softsign"))


def log_sigmoid(data: BaseArray) -> BaseArray:
    """``log(sigmoid(x)) = -softplus(-x)``, elementwise (stable for large ``|x|``)."""
    x = _check(data, "log_sigmoid")
    if x._dtype.kind not in "fc":  # negating unsigned integers would wrap around
        x = astype(x, "float32")
    return unary("negative", unary("softrelu", unary("negative", x)))


def mish(data: BaseArray) -> BaseArray:
    """``x * tanh(softplus(x))``, elementwise."""
    x = _check(data, "mish")
    if x._dtype.kind not in "fc":
        x = astype(x, "float32")
    return binary("multiply", x, unary("tanh", unary("softrelu", x)))


def smooth_l1(data: BaseArray, scalar: float = 1.0) -> BaseArray:
    """MXNet's smooth L1 with ``sigma = scalar``: ``0.5 (sigma x)^2`` where ``|x| < 1/sigma^2``,
    ``|x| - 0.5/sigma^2`` elsewhere."""
    x = _check(data, "smooth_l1")
    s = builtins.float(scalar)
    if s == 0:
        raise ValueError("npx.smooth_l1: scalar (sigma) must be non-zero")
    if x._dtype.kind not in "fc":
        x = astype(x, "float32")
    inv = 1.0 / (s * s)
    ax = unary("abs", x)
    quad = binary("multiply", binary("multiply", x, x), 0.5 * s * s)
    lin = binary("subtract", ax, 0.5 * inv)
    return where(binary("less", ax, inv), quad, lin)
