"""Operators of MXNet's ``npx`` namespace that NumPy has no counterpart for.

- shape: ``npx.reshape`` with MXNet's special codes (and the legacy ``Reshape`` codes),
  ``reshape_like``, ``broadcast_like``, ``batch_flatten``, ``slice``, ``slice_axis``;
- indexing: ``gather_nd``, ``index_add``, ``index_update``, ``nonzero`` (an ``(N, ndim)`` array);
- sequences and products: ``sequence_mask``, ``batch_dot``, ``arange_like``, ``shape_array``;
- special functions: ``erf``, ``erfinv``, ``gamma``, ``gammaln``, computed with ``xp`` only (no
  SciPy), in float64 internally and rounded to the input's floating type (integers give float32).

The public signatures are in ``framework.npx``; this module holds the ops and shape rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, FrameworkError, ShapeError
from . import _create, _elemwise, _shape  # call-time use in gradients
from . import _gradutil as _gu
from ._base import BaseArray, broadcast_shapes
from ._op import Op, apply, common_device, register
from ._reduce import normalize_axis
from ._shape import _Copy, broadcast_to, reshape

__all__ = [
    "npx_reshape_shape", "legacy_reshape_shape", "npx_reshape", "reshape_like_shape",
    "reshape_like", "broadcast_like_shape", "broadcast_like", "batch_flatten", "slice_key",
    "slice_", "slice_axis", "sequence_mask", "batch_dot", "gather_nd", "index_modify",
    "arange_like", "shape_array", "nonzero", "special", "SPECIAL",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]
_I64 = numpy.dtype(numpy.int64)
_F64 = numpy.dtype(numpy.float64)


# -- reshape codes ---------------------------------------------------------------------------------

def _codes(newshape: Any, op: str) -> tuple[int, ...]:
    if isinstance(newshape, (int, numpy.integer)):
        return (int(newshape),)
    try:
        return tuple(int(c) for c in newshape)
    except TypeError:
        raise TypeError(f"{op}: newshape must be an int or a tuple of ints, got {newshape!r}") \
            from None


def _resolve_unknown(out: list[int], unknown: int | None, src: Shape, shown: Shape,
                     codes: Shape, op: str, reverse: bool) -> Shape:
    size = math.prod(src)
    what = f"{op}: cannot reshape array of shape {shown} into shape {codes}" + (
        " (reverse=True)" if reverse else "")
    if unknown is not None:
        known = math.prod(d for i, d in enumerate(out) if i != unknown)
        if known == 0 or size % known:
            raise ShapeError(f"{what}: the size {size} is not a multiple of {known}, so the -1 "
                             "dimension cannot be inferred")
        out[unknown] = size // known
    if math.prod(out) != size:
        raise ShapeError(f"{what}: the result {tuple(out)} has size {math.prod(out)}, the "
                         f"input {size}")
    return tuple(out)


def _split_dims(d0: int, d1: int, d2: int, shown: Shape, codes: Shape, code: int,
                op: str) -> tuple[int, int]:
    where = f"{op}: code {code} in newshape {codes} (input shape {shown})"
    if d1 < -1 or d2 < -1:
        raise ShapeError(f"{where}: the two dimensions after it must be >= -1, got {d1}, {d2}")
    if d1 == -1 and d2 == -1:
        raise ShapeError(f"{where}: the two split dimensions cannot both be -1")
    if d1 == -1:
        d1 = d0 // d2 if d2 else -1
    elif d2 == -1:
        d2 = d0 // d1 if d1 else -1
    if d1 * d2 != d0 or d1 < 0 or d2 < 0:
        raise ShapeError(f"{where}: split dimensions ({d1}, {d2}) do not multiply to the input "
                         f"dimension {d0}")
    return d1, d2


def npx_reshape_shape(shape: Shape, newshape: Any, reverse: bool = False) -> Shape:
    """The output shape of ``npx.reshape(x, newshape, reverse)`` for ``x.shape == shape``.

    Codes (MXNet 1.6+/2.0 ``_npx_reshape``), each consuming input dimensions left to right:
    ``d >= 0`` a new dimension of size d; ``-1`` inferred from the remaining size; ``-2`` copy
    this input dimension; ``-3`` drop this input dimension, which must be 1; ``-4`` copy all the
    remaining input dimensions; ``-5`` merge two consecutive input dimensions; ``-6, d1, d2``
    split an input dimension into d1*d2 (one of them may be -1). ``reverse=True`` applies the
    codes right to left.
    """
    return _apply_codes(shape, newshape, reverse, "npx.reshape", "newshape", _NPX_CODES)


def legacy_reshape_shape(shape: Shape, newshape: Any, reverse: bool = False) -> Shape:
    """The output shape of the legacy ``nd.Reshape(x, shape, reverse)`` (MXNet 1.x codes).

    ``0`` copy this input dimension; ``-1`` infer; ``-2`` copy all the remaining input
    dimensions; ``-3`` merge two consecutive input dimensions; ``-4, d1, d2`` split an input
    dimension into d1*d2 (one may be -1). ``reverse=True`` applies the codes right to left.
    """
    return _apply_codes(shape, newshape, reverse, "reshape", "shape", _LEGACY_CODES)


#: what each special code does, for the two code sets (a code above ``literal_min - 1`` is a
#: literal size): npx 2.0 codes and MXNet 1.x ``Reshape`` codes
_NPX_CODES = {"literal_min": 0, -1: "infer", -2: "copy", -3: "drop1", -4: "rest", -5: "merge",
              -6: "split"}
_LEGACY_CODES = {"literal_min": 1, 0: "copy", -1: "infer", -2: "rest", -3: "merge",
                 -4: "split"}


def _apply_codes(shape: Shape, newshape: Any, reverse: bool, op: str, arg: str,
                 table: dict[Any, Any]) -> Shape:
    """The output shape of a reshape by special codes (``table``: their actions), consuming
    the input dimensions left to right (right to left with ``reverse``); errors name the codes
    as the caller wrote them."""
    codes = _codes(newshape, op)
    shown = tuple(shape)
    src = shown[::-1] if reverse else shown
    seq = codes[::-1] if reverse else codes
    out: list[int] = []
    unknown: int | None = None
    i = j = 0
    n = len(src)
    literal_min = table["literal_min"]
    lowest = min(k for k in table if isinstance(k, int))

    def need(k: int, code: int) -> None:
        if i + k > n:
            raise ShapeError(f"{op}: code {code} in {arg} {codes} needs {k} more input "
                             f"dimension(s), but input shape {shown} has none left")

    while j < len(seq):
        c = seq[j]
        action = "literal" if c >= literal_min else table.get(c)
        if action == "literal":
            out.append(c)
            i += 1
        elif action == "infer":
            if unknown is not None:
                raise ShapeError(f"{op}: {arg} {codes} has more than one -1 (input shape "
                                 f"{shown}); only one dimension can be inferred")
            unknown = len(out)
            out.append(-1)
            i += 1
        elif action == "copy":
            need(1, c)
            out.append(src[i])
            i += 1
        elif action == "drop1":
            need(1, c)
            if src[i] != 1:
                raise ShapeError(f"{op}: code {c} in {arg} {codes} skips only input "
                                 f"dimensions of size 1, but dimension {i} of input shape "
                                 f"{shown} is {src[i]}")
            i += 1
        elif action == "rest":
            out.extend(src[i:])
            i = n
        elif action == "merge":
            need(2, c)
            out.append(src[i] * src[i + 1])
            i += 2
        elif action == "split":
            need(1, c)
            if j + 2 >= len(seq):
                raise ShapeError(f"{op}: code {c} in {arg} {codes} must be followed by the "
                                 f"two dimensions to split into (input shape {shown})")
            d1, d2 = _split_dims(src[i], seq[j + 1], seq[j + 2], shown, codes, c, op)
            out.extend((d1, d2))
            i += 1
            j += 2
        else:
            raise ShapeError(f"{op}: invalid code {c} in {arg} {codes} for input shape "
                             f"{shown}; codes must be >= {lowest}")
        j += 1
    res = _resolve_unknown(out, unknown, src, shown, codes, op, reverse)
    return res[::-1] if reverse else res


def npx_reshape(x: BaseArray, newshape: Any, reverse: bool = False,
                order: str = "C") -> BaseArray:
    """``npx.reshape``: a view when the memory layout allows, else a copy."""
    return reshape(x, npx_reshape_shape(x._shape, newshape, reverse), order)


def _range(begin: Any, end: Any, ndim: int, side: str) -> tuple[int, int]:
    b = 0 if begin is None else int(begin)
    e = ndim if end is None else int(end)
    if b < 0:
        b += ndim
    if e < 0:
        e += ndim
    if not (0 <= b < e <= ndim):
        raise ShapeError(f"reshape_like: invalid {side}_begin={begin}, {side}_end={end} for "
                         f"{side} with {ndim} dimension(s); need begin < end within the "
                         "dimensions")
    return b, e


def reshape_like_shape(lshape: Shape, rshape: Shape, lhs_begin: Any = None, lhs_end: Any = None,
                       rhs_begin: Any = None, rhs_end: Any = None) -> Shape:
    """``lshape`` with dims ``[lhs_begin, lhs_end)`` replaced by ``rshape[rhs_begin:rhs_end]``."""
    if all(v is None for v in (lhs_begin, lhs_end, rhs_begin, rhs_end)):
        out = tuple(rshape)
    else:
        lb, le = _range(lhs_begin, lhs_end, len(lshape), "lhs")
        rb, re_ = _range(rhs_begin, rhs_end, len(rshape), "rhs")
        out = tuple(lshape[:lb]) + tuple(rshape[rb:re_]) + tuple(lshape[le:])
    if math.prod(out) != math.prod(lshape):
        raise ShapeError(f"reshape_like: cannot reshape lhs of shape {tuple(lshape)} (size "
                         f"{math.prod(lshape)}) into {out} taken from rhs shape "
                         f"{tuple(rshape)} (size {math.prod(out)})")
    return out


def reshape_like(lhs: BaseArray, rhs: BaseArray, lhs_begin: Any = None, lhs_end: Any = None,
                 rhs_begin: Any = None, rhs_end: Any = None) -> BaseArray:
    shape = reshape_like_shape(lhs._shape, rhs._shape, lhs_begin, lhs_end, rhs_begin, rhs_end)
    return reshape(lhs, shape)


def _axes(axes: Any) -> tuple[int, ...]:
    if isinstance(axes, (int, numpy.integer)):
        return (int(axes),)
    return tuple(int(a) for a in axes)


def broadcast_like_shape(lshape: Shape, rshape: Shape, lhs_axes: Any = None,
                         rhs_axes: Any = None) -> Shape:
    """Target shape of ``broadcast_like``; size-1 dims of lhs take rhs's sizes."""
    if lhs_axes is None and rhs_axes is None:
        if len(lshape) != len(rshape):
            raise ShapeError(f"broadcast_like: lhs of shape {tuple(lshape)} cannot be broadcast "
                             f"like rhs of shape {tuple(rshape)}: the numbers of dimensions "
                             "differ (pass lhs_axes and rhs_axes)")
        target = tuple(rshape)
    else:
        if lhs_axes is None or rhs_axes is None:
            raise ValueError("broadcast_like: give both lhs_axes and rhs_axes, or neither")
        la, ra = _axes(lhs_axes), _axes(rhs_axes)
        if len(la) != len(ra) or not la:
            raise ValueError(f"broadcast_like: lhs_axes {la} and rhs_axes {ra} must be "
                             "non-empty and of the same length")
        out = list(lshape)
        for a, b in zip(la, ra):
            (a2,) = normalize_axis(a, len(lshape), "broadcast_like (lhs_axes)", False)
            (b2,) = normalize_axis(b, len(rshape), "broadcast_like (rhs_axes)", False)
            out[a2] = rshape[b2]
        target = tuple(out)
    for i, (d, t) in enumerate(zip(lshape, target)):
        if d != t and d != 1:
            raise ShapeError(f"broadcast_like: cannot broadcast lhs of shape {tuple(lshape)} "
                             f"to {target}: dimension {i} is {d}, not 1 or {t}")
    return target


def broadcast_like(lhs: BaseArray, rhs: BaseArray, lhs_axes: Any = None,
                   rhs_axes: Any = None) -> BaseArray:
    return broadcast_to(lhs, broadcast_like_shape(lhs._shape, rhs._shape, lhs_axes, rhs_axes))


def batch_flatten(x: BaseArray) -> BaseArray:
    """Collapse all dims after the first: ``(d0, d1, ...) -> (d0, d1*...)``; a view if possible."""
    if x.ndim == 0:
        raise ShapeError("batch_flatten: the input must have at least one dimension, got a "
                         "0-d array")
    return reshape(x, (x._shape[0], math.prod(x._shape[1:])))


# -- slicing ---------------------------------------------------------------------------------------

def _opt_tuple(v: Any, name: str, op: str) -> tuple[int | None, ...]:
    if v is None:
        return ()
    if isinstance(v, (int, numpy.integer)):
        v = (v,)
    try:
        return tuple(None if e is None else int(e) for e in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be a tuple of ints or None, got {v!r}") from None


def slice_key(shape: Shape, begin: Any, end: Any, step: Any = None) -> tuple[slice, ...]:
    """Python slices for MXNet's ``slice(data, begin, end, step)`` (NumPy's slicing rules)."""
    op = "npx.slice"
    b = _opt_tuple(begin, "begin", op)
    e = _opt_tuple(end, "end", op)
    s = _opt_tuple(step, "step", op)
    if not shape:
        raise ShapeError(f"{op}: cannot slice a 0-d array")
    if len(b) != len(e):
        raise ValueError(f"{op}: begin {b} and end {e} must have the same length")
    if len(b) > len(shape):
        raise ShapeError(f"{op}: begin {b} has {len(b)} entries, more than the "
                         f"{len(shape)} dimension(s) of data shape {tuple(shape)}")
    if s and len(s) != len(b):
        raise ValueError(f"{op}: step {s} must have the same length as begin {b}")
    key = []
    for i in range(len(b)):
        st = s[i] if s and s[i] is not None else 1
        if st == 0:
            raise ValueError(f"{op}: step[{i}] cannot be 0")
        key.append(slice(b[i], e[i], st))
    return tuple(key)


def _sliced_shape(shape: Shape, key: tuple[slice, ...]) -> Shape:
    return tuple(len(range(*k.indices(d))) for k, d in zip(key, shape)) + tuple(
        shape[len(key):])


def slice_(x: BaseArray, begin: Any, end: Any, step: Any = None) -> BaseArray:
    """``npx.slice``: a new array (never a view), like MXNet's operator."""
    key = slice_key(x._shape, begin, end, step)
    return _slice_copy(x, key, "slice")


def _slice_copy(x: BaseArray, key: tuple[slice, ...], name: str) -> BaseArray:
    """``x[key]`` (slices only) in new memory; its gradient puts ``g`` back into zeros."""
    shape = _sliced_shape(x._shape, key)
    return apply(_SliceCopy(name, shape, "slice", (key,)), (x,))


@register("_npx_slice_copy")
class _SliceCopy(_Copy):
    """``x[key]`` in new memory (``args == (key,)``)."""

    def make(self, xp: Any, b: Any) -> Any:
        return b[self.args[0]]

    def grad(self, g: BaseArray, x: BaseArray) -> BaseArray:
        return apply(_SliceGrad(self.args[0], x._shape), (g,))  # type: ignore[no-any-return]


@register("_npx_slice_grad")
class _SliceGrad(Op):
    """The gradient of a slice: zeros of the sliced array's shape with ``g`` at ``key``. Its
    own gradient is the slice again."""

    def __init__(self, key: tuple[slice, ...], shape: Shape) -> None:
        self.key = key
        self.shape = shape

    def infer(self, g: BaseArray) -> Specs:
        return [(self.shape, g._dtype)]

    def forward(self, xp: Any, g: Any) -> Any:
        out = xp.zeros(self.shape, dtype=g.dtype)
        out[self.key] = g
        return out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [_slice_copy(out_grads[0], self.key, "slice")]


def slice_axis(x: BaseArray, axis: int, begin: int, end: int | None) -> BaseArray:
    """``npx.slice_axis``: elements ``[begin, end)`` along ``axis`` (negative values wrap)."""
    (ax,) = normalize_axis(axis, x.ndim, "slice_axis", False)
    n = x._shape[ax]
    b = int(begin)
    e = n if end is None else int(end)
    b2 = b + n if b < 0 else b
    e2 = e + n if e < 0 else e
    if not (0 <= b2 <= e2 <= n):
        raise ShapeError(f"slice_axis: invalid begin={begin}, end={end} for axis {ax} of size "
                         f"{n} (data shape {x._shape}); need 0 <= begin <= end <= {n} after "
                         "wrapping negative values")
    key = (slice(None),) * ax + (slice(b2, e2),)
    return _slice_copy(x, key, "slice_axis")


# -- sequence_mask, batch_dot ----------------------------------------------------------------------

@register("_npx_sequence_mask")
class SequenceMask(Op):
    """Set the positions at or past each sequence's length to ``value``.

    ``axis`` is the time axis (0 or 1); the other of the two is the batch axis, whose size is
    the length of ``sequence_length``. Lengths are truncated to integers.
    """

    def __init__(self, value: float = 0.0, axis: int = 0) -> None:
        if axis not in (0, 1):
            raise ValueError(f"sequence_mask: axis must be 0 or 1 (the time axis), got {axis!r}")
        self.value = value
        self.axis = int(axis)

    def infer(self, data: BaseArray, length: BaseArray) -> Specs:
        if data.ndim < 2:
            raise ShapeError(f"sequence_mask: data must have at least 2 dimensions (time and "
                             f"batch), got shape {data._shape}")
        batch = data._shape[1 - self.axis]
        if length._shape != (batch,):
            raise ShapeError(f"sequence_mask: sequence_length must have shape ({batch},) (the "
                             f"batch axis {1 - self.axis} of data shape {data._shape}), got "
                             f"{length._shape}")
        if length._dtype.kind not in "iufb":
            raise DTypeError(f"sequence_mask: sequence_length must be numeric, got "
                             f"{length._dtype}")
        return [(data._shape, data._dtype)]

    def forward(self, xp: Any, data: Any, length: Any) -> Any:
        steps = xp.arange(data.shape[self.axis])
        lens = length.astype(numpy.int64) if length.dtype.kind == "f" else length
        if self.axis == 0:
            mask = steps[:, None] >= lens[None, :]
        else:
            mask = lens[:, None] <= steps[None, :]
        mask = mask.reshape(mask.shape + (1,) * (data.ndim - 2))
        return xp.where(mask, data.dtype.type(self.value), data)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (data, length), (g,) = inputs, out_grads
        if data._dtype.kind != "f":
            return [None, None]
        # the masked positions are constants: the same mask with value 0 on the gradient
        return [apply(SequenceMask(0.0, self.axis), (g, length)), None]


def sequence_mask(data: BaseArray, length: BaseArray, value: float = 0.0,
                  axis: int = 0) -> BaseArray:
    common_device((data, length), "sequence_mask")
    return apply(SequenceMask(value, axis), (data, length))


@register("_npx_batch_dot")
class BatchDot(Op):
    """Matrix products of the last two axes over equal leading (batch) axes."""

    def __init__(self, transpose_a: bool = False, transpose_b: bool = False) -> None:
        self.ta = bool(transpose_a)
        self.tb = bool(transpose_b)

    def infer(self, a: BaseArray, b: BaseArray) -> Specs:
        sa, sb = a._shape, b._shape
        flags = f"transpose_a={self.ta}, transpose_b={self.tb}"
        if len(sa) < 3 or len(sa) != len(sb):
            raise ShapeError(f"batch_dot: both inputs must have the same number of dimensions, "
                             f"at least 3, got shapes {sa} and {sb}")
        if sa[:-2] != sb[:-2]:
            raise ShapeError(f"batch_dot: the batch dimensions must be equal, got shapes {sa} "
                             f"and {sb}")
        m, ka = (sa[-1], sa[-2]) if self.ta else (sa[-2], sa[-1])
        kb, n = (sb[-1], sb[-2]) if self.tb else (sb[-2], sb[-1])
        if ka != kb:
            raise ShapeError(f"batch_dot: shapes {sa} and {sb} are not aligned ({ka} != {kb}) "
                             f"with {flags}")
        return [(sa[:-2] + (m, n), _dt.binary_result(a._dtype, b._dtype))]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        if self.ta:
            a = xp.swapaxes(a, -1, -2)
        if self.tb:
            b = xp.swapaxes(b, -1, -2)
        return xp.matmul(a, b)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a, b), (g,) = inputs, out_grads
        ta, tb = self.ta, self.tb
        # C = op(A) op(B): dA = g op(B)^T (transposed back if ta), dB = op(A)^T g (likewise)
        if ta:
            ga = apply(BatchDot(tb, True), (b, g))
        else:
            ga = apply(BatchDot(False, not tb), (g, b))
        if tb:
            gb = apply(BatchDot(True, ta), (g, a))
        else:
            gb = apply(BatchDot(not ta, False), (a, g))
        out = []
        for x, gx in ((a, ga), (b, gb)):
            if x._dtype.kind != "f":
                out.append(None)
            else:
                out.append(gx if gx._dtype == x._dtype else _shape.astype(gx, x._dtype))
        return out


def batch_dot(a: BaseArray, b: BaseArray, transpose_a: bool = False,
              transpose_b: bool = False) -> BaseArray:
    common_device((a, b), "batch_dot")
    return apply(BatchDot(transpose_a, transpose_b), (a, b))


# -- gather_nd, index_add/index_update -------------------------------------------------------------

def _int_index(xp: Any, ind: Any) -> Any:
    return ind.astype(numpy.int64) if ind.dtype != numpy.int64 else ind


@register("_npx_gather_nd")
class GatherND(Op):
    """``out[y...] = data[ind[0, y...], ..., ind[M-1, y...]]`` for indices of shape (M, Y...)."""

    def infer(self, data: BaseArray, ind: BaseArray) -> Specs:
        ds, ish = data._shape, ind._shape
        if len(ish) < 2:
            raise ShapeError(f"gather_nd: indices must have at least 2 dimensions (M, ...), "
                             f"where M indexes the first M dimensions of data; got shape {ish}")
        m = ish[0]
        if not 1 <= m <= len(ds):
            raise ShapeError(f"gather_nd: indices of shape {ish} index {m} dimension(s), but "
                             f"data of shape {ds} has {len(ds)} (need 1 <= indices.shape[0] "
                             f"<= {len(ds)})")
        if ind._dtype.kind not in "iuf":
            raise DTypeError(f"gather_nd: indices must be integers (or floats), got "
                             f"{ind._dtype}")
        return [(ish[1:] + ds[m:], data._dtype)]

    def forward(self, xp: Any, data: Any, ind: Any) -> Any:
        idx = _int_index(xp, ind)
        m = idx.shape[0]
        key = []
        for i in range(m):
            n = data.shape[i]
            row = idx[i]
            if row.size and bool(((row < -n) | (row >= n)).any()):
                bad = int(row[(row < -n) | (row >= n)].ravel()[0])
                raise IndexError(f"gather_nd: index {bad} is out of bounds for axis {i} with "
                                 f"size {n}")
            key.append(row)
        return xp.array(data[tuple(key)], copy=True)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (data, ind), (g,) = inputs, out_grads
        if not _gu.wants(data):
            return [None, None]
        return [apply(ScatterND(data._shape), (g, ind)), None]


@register("_npx_scatter_nd_add")
class ScatterND(Op):
    """The adjoint of :class:`GatherND`: zeros of ``shape`` with ``g`` added at the positions
    ``ind`` (repeated positions accumulate). Its gradient is ``gather_nd``."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def infer(self, g: BaseArray, ind: BaseArray) -> Specs:
        return [(self.shape, g._dtype)]

    def forward(self, xp: Any, g: Any, ind: Any) -> Any:
        idx = _int_index(xp, ind)
        m = idx.shape[0]
        lead = self.shape[:m]
        lin = xp.zeros(idx.shape[1:], dtype=numpy.int64)
        for i in range(m):
            lin = lin * lead[i] + xp.where(idx[i] < 0, idx[i] + lead[i], idx[i])
        tail = math.prod(self.shape[m:])
        out = xp.zeros((math.prod(lead), tail), dtype=g.dtype)
        _scatter_add(xp, out, lin.reshape(-1), g.reshape(-1, tail))
        return out.reshape(self.shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (_, ind), (gg,) = inputs, out_grads
        return [gather_nd(gg, ind), None]


def gather_nd(data: BaseArray, indices: BaseArray) -> BaseArray:
    common_device((data, indices), "gather_nd")
    return apply(GatherND(), (data, indices))


@register("_npx_index_add")
class IndexModify(Op):
    """``index_add``/``index_update``: a copy of ``a`` with ``val`` added at / written to the
    positions ``ind`` (shape ``(ndim_indexed, N)``); ``val`` broadcasts to
    ``(N,) + a.shape[ndim_indexed:]``. Repeated positions accumulate in ``index_add``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.name = f"index_{mode}"  # type: ignore[misc]

    def infer(self, a: BaseArray, ind: BaseArray, val: BaseArray) -> Specs:
        op = self.name
        if a.ndim == 0:
            raise ShapeError(f"{op}: a must have at least one dimension, got a 0-d array")
        if ind._dtype.kind not in "iuf":
            raise DTypeError(f"{op}: ind must be an integer array, got {ind._dtype}")
        if ind.ndim > 2 or ind.size == 0:
            raise ShapeError(f"{op}: ind must be a non-empty array of shape (ndim_indexed, N), "
                             f"(N,) or (), got shape {ind._shape}")
        k, n = (1, 1) if ind.ndim == 0 else ((1, ind._shape[0]) if ind.ndim == 1 else ind._shape)
        if k > a.ndim:
            raise ShapeError(f"{op}: ind of shape {ind._shape} indexes {k} dimensions, but a of "
                             f"shape {a._shape} has {a.ndim}")
        self.k, self.n = k, n
        target = (n,) + a._shape[k:]
        vs = val._shape
        if len(vs) > len(target):
            raise ShapeError(f"{op}: val of shape {vs} has too many dimensions; it must "
                             f"broadcast to {target} = (N,) + a.shape[{k}:]")
        try:
            if broadcast_shapes(vs, target, op) != target:
                raise ShapeError("")
        except ShapeError:
            raise ShapeError(f"{op}: val of shape {vs} cannot be broadcast to {target} = (N,) + "
                             f"a.shape[{k}:] (a shape {a._shape}, ind shape {ind._shape})") \
                from None
        self.target = target
        return [(a._shape, a._dtype)]

    def forward(self, xp: Any, a: Any, ind: Any, val: Any) -> Any:
        op = self.name
        idx = _int_index(xp, ind).reshape(self.k, self.n)
        key = []
        for i in range(self.k):
            d = a.shape[i]
            row = idx[i]
            bad_mask = (row < 0) | (row >= d)
            if bool(bad_mask.any()):
                bad = int(row[bad_mask].ravel()[0])
                raise IndexError(f"{op}: index {bad} is out of bounds for axis {i} with size "
                                 f"{d} (negative indices are not allowed)")
            key.append(row)
        # flatten: rows of a's first k axes, each of the tail size
        lin = key[0]
        for i in range(1, self.k):
            lin = lin * a.shape[i] + key[i]
        rows, tail = math.prod(a.shape[:self.k]), math.prod(a.shape[self.k:])
        v = xp.broadcast_to(val.astype(a.dtype, copy=False), self.target).reshape(self.n, tail)
        out = xp.array(a, copy=True, order="C")
        flat = out.reshape(rows, tail)  # a view of out
        if self.mode == "update":
            flat[lin] = v
        else:
            _scatter_add(xp, flat, lin, v)
        return out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        """``a`` gets ``g`` (index_update: except at the written positions); ``val`` gets ``g``
        gathered at the positions (index_update with a repeated position: each copy gets it,
        though only one write wins)."""
        (a, ind, val), (g,) = inputs, out_grads
        ga = gv = None
        if _gu.wants(a, inputs):
            ga = g
            if self.mode == "update":
                one = _create.ones((), dtype=g._dtype, device=g._device)
                written = apply(IndexModify("update"), (_create.zeros_like(g), ind, one))
                ga = _gu.sub(g, _gu.mul(g, written))
        if _gu.wants(val, inputs):
            pos = reshape(ind, (self.k, self.n)) if ind._shape != (self.k, self.n) else ind
            gv = _gu.cast_like(_gu.sum_to(gather_nd(g, pos), val._shape), val)
        return [ga, None, gv]


def _scatter_add(xp: Any, out: Any, rows: Any, vals: Any) -> None:
    """``out[rows[j]] += vals[j]`` with repeated rows accumulating (``numpy.add.at``)."""
    if xp is numpy:
        numpy.add.at(out, rows, vals)
        return
    # portable: one pass per level of repetition, each over distinct rows
    remaining = xp.arange(rows.shape[0])
    while remaining.shape[0]:
        uniq, first = xp.unique(rows[remaining], return_index=True)
        out[uniq] += vals[remaining[first]]
        keep = xp.ones(remaining.shape[0], dtype=bool)
        keep[first] = False
        remaining = remaining[keep]


def index_modify(a: BaseArray, ind: BaseArray, val: BaseArray, mode: str) -> BaseArray:
    """``index_add`` (``mode='add'``) or ``index_update`` (``mode='update'``)."""
    common_device((a, ind, val), f"index_{mode}")
    return apply(IndexModify(mode), (a, ind, val))


# -- arange_like, shape_array, nonzero -------------------------------------------------------------

class _Generate(Op):
    """An op without inputs whose output depends only on shapes known at the call."""

    def __init__(self, name: str, shape: Shape, dtype: numpy.dtype, make: Any) -> None:
        self.name = name  # type: ignore[misc]
        self.shape = shape
        self.dtype = dtype
        self.make = make

    def infer(self) -> Specs:
        return [(self.shape, self.dtype)]

    def forward(self, xp: Any) -> Any:
        return self.make(xp)


register("_npx_generate")(_Generate)


def arange_like(data: BaseArray, start: float = 0.0, step: float = 1.0, repeat: int = 1,
                axis: int | None = None) -> BaseArray:
    """``start + step * (i // repeat)`` over the flat positions ``i`` of ``data``'s shape (or of
    its ``axis``); the dtype is ``data``'s."""
    repeat = int(repeat)
    if repeat < 1:
        raise ValueError(f"arange_like: repeat must be >= 1, got {repeat}")
    if axis is None:
        shape = data._shape
    else:
        (ax,) = normalize_axis(axis, data.ndim, "arange_like", False)
        shape = (data._shape[ax],)
    dt = data._dtype
    n = math.prod(shape)

    def make(xp: Any) -> Any:
        pos = xp.arange(n, dtype=numpy.int64) // repeat
        return (start + step * pos.astype(numpy.float64)).astype(dt).reshape(shape)

    return apply(_Generate("arange_like", shape, dt, make), (), device=data._device,
                 cls=type(data))


def shape_array(x: BaseArray) -> BaseArray:
    """``x.shape`` as a 1-d int64 array."""
    shape = x._shape

    def make(xp: Any) -> Any:
        return xp.asarray(numpy.array(shape, dtype=numpy.int64))

    return apply(_Generate("shape_array", (len(shape),), _I64, make), (), device=x._device,
                 cls=type(x))


def nonzero(x: BaseArray) -> BaseArray:
    """Indices of the non-zero elements as an ``(N, ndim)`` int64 array (a 0-d input counts as
    one dimension). The result's shape depends on the data, so this waits for ``x``."""
    host = x._host()
    if host.ndim == 0:
        out = numpy.zeros((1 if bool(host) else 0, 1), dtype=numpy.int64)
    else:
        out = numpy.ascontiguousarray(numpy.argwhere(host), dtype=numpy.int64)
    if x._device.device_type == "gpu":
        xp = x._device.xp
        with xp.cuda.Device(x._device.device_id):
            buf = xp.asarray(out)
        return type(x)._wrap(buf, x._device)
    return type(x)._wrap(out, x._device)


# -- special functions -----------------------------------------------------------------------------
# Computed in float64 on flat arrays with xp operations only (no SciPy), then rounded to the
# output type. Each branch of a piecewise formula runs on its own elements (boolean-mask
# subsets), and polynomials are evaluated in place, so that the cost stays a few dozen array
# passes.

_SQRT_PI_INV = 1.0 / math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969):
# erf(x) = x R1(x^2) for |x| < 0.5; erfc(x) = exp(-x^2) R2(x) for 0.5 <= x < 4;
# erfc(x) = exp(-x^2) / x (1/sqrt(pi) - R3(1/x^2) / x^2) for x >= 4. Numerator and denominator
# coefficients, highest power first (the denominators are monic).
_ERF_NUM = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
            3.77485237685302021e02, 3.20937758913846947e03)
_ERF_DEN = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
            2.84423683343917062e03)
_ERFC_NUM = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
             6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
             1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_ERFC_DEN = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
             1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
             3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_ASY_NUM = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
                 1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_ERFC_ASY_DEN = (1.0, 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
                 6.05183413124413191e-2, 2.33520497626869185e-3)


def _poly(z: Any, coefs: Sequence[float]) -> Any:
    """sum(coefs[k] * z**(n-1-k)) (highest power first), evaluated in place."""
    acc = z * coefs[0]
    acc += coefs[1]
    for c in coefs[2:]:
        acc *= z
        acc += c
    return acc


def _split(xp: Any, cond: Any, args: Sequence[Any], f_true: Any, f_false: Any) -> Any:
    """``where(cond, f_true(*args), f_false(*args))`` evaluating each on its elements only."""
    out = xp.empty(cond.shape, dtype=_F64)
    for mask, fn in ((cond, f_true), (~cond, f_false)):
        if bool(mask.all()):
            return fn(*args)
        if bool(mask.any()):
            out[mask] = fn(*(a[mask] for a in args))
    return out


def _erf_small(x: Any) -> Any:
    """erf(x) for |x| <= 0.5."""
    z = x * x
    r = _poly(z, _ERF_NUM)
    r /= _poly(z, _ERF_DEN)
    r *= x
    return r


def _exp_neg_sq(xp: Any, y: Any) -> Any:
    """exp(-y*y) without the error of rounding y*y (y split at a multiple of 1/16)."""
    y = xp.minimum(y, 40.0)  # exp(-1600) is 0; keeps inf - inf out
    ys = xp.trunc(y * 16.0)
    ys /= 16.0
    d = y - ys
    d *= y + ys
    ys *= ys
    r = xp.exp(-ys)
    r *= xp.exp(-d)
    return r


def _erfc_mid(xp: Any, y: Any) -> Any:
    r = _poly(y, _ERFC_NUM)
    r /= _poly(y, _ERFC_DEN)
    r *= _exp_neg_sq(xp, y)
    return r


def _erfc_asy(xp: Any, y: Any) -> Any:
    z = 1.0 / (y * y)
    r = _poly(z, _ERFC_ASY_NUM)
    r /= _poly(z, _ERFC_ASY_DEN)
    r *= -z
    r += _SQRT_PI_INV
    r /= y
    r *= _exp_neg_sq(xp, y)
    return r


def _erfc_pos(xp: Any, y: Any) -> Any:
    """erfc(y) for y >= 0.5 (inf and nan allowed)."""
    return _split(xp, y < 4.0, (y,), lambda v: _erfc_mid(xp, v), lambda v: _erfc_asy(xp, v))


def _erf_large(xp: Any, x: Any) -> Any:
    r = _erfc_pos(xp, xp.abs(x))
    r -= 1.0
    r *= -xp.sign(x)
    return r


def _erf(xp: Any, x: Any) -> Any:
    return _split(xp, xp.abs(x) < 0.5, (x,), _erf_small, lambda v: _erf_large(xp, v))


# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision:
# erfinv(x) ~ x P(w) with w = -log(1 - x^2); Halley steps on erf (on log erfc near +-1) then give
# float64 accuracy.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erfinv_central(xp: Any, y: Any, a: Any) -> Any:
    """One Halley step on f(y) = erf(y) - a (f'' = -2 y f'): cubic convergence."""
    u = _erf(xp, y)
    u -= a
    u /= _exp_neg_sq(xp, y)
    u *= 1.0 / _TWO_OVER_SQRT_PI
    den = y * u
    den += 1.0
    u /= den
    return y - u


def _erfinv_tail_step(xp: Any, y: Any, c: Any) -> Any:
    """A Halley step on h(y) = log(erfc(y)) - c, which is close to linear in y**2 where erfc
    underflows relative to 1 (Newton on erf itself converges slowly there)."""
    e = _erfc_pos(xp, y)
    q = _exp_neg_sq(xp, y)
    q *= _TWO_OVER_SQRT_PI
    q /= e  # -h'(y); h'' = q (2 y - q)
    h = xp.log(e)
    h -= c
    corr = 2.0 * y - q
    corr *= h
    corr /= -2.0 * q
    corr += 1.0
    corr *= q
    h /= corr
    return y + h


def _erfinv_tail(xp: Any, y: Any, a: Any) -> Any:
    c = xp.log(1.0 - a)  # 1 - a is exact for a >= 0.5
    y = _erfinv_tail_step(xp, y, c)

    def more(yy: Any, cc: Any) -> Any:  # beyond Giles' single precision range (1 - a < 1e-7)
        for _ in range(2):
            yy = _erfinv_tail_step(xp, yy, cc)
        return yy

    return _split(xp, y > 3.7, (y, c), more, lambda yy, cc: yy)


def _erfinv(xp: Any, x: Any) -> Any:
    a = xp.abs(x)
    inside = a < 1.0  # false for nan
    ai = xp.where(inside, a, 0.0)
    w = -xp.log((1.0 - ai) * (1.0 + ai))
    y = _split(xp, w < 5.0, (w,), lambda v: _poly(v - 2.5, _GILES_CENTRAL),
               lambda v: _poly(xp.sqrt(v) - 3.0, _GILES_TAIL))
    y *= ai
    y = _split(xp, ai < 0.55, (y, ai), lambda yy, aa: _erfinv_central(xp, yy, aa),
               lambda yy, aa: _erfinv_tail(xp, yy, aa))
    y = xp.where(inside, y, xp.where(a == 1.0, xp.inf, xp.nan))
    return xp.copysign(y, x)


_LANCZOS_G = 7.0
# Lanczos approximation with g = 7, n = 9 (relative error ~1e-15 for x >= 0.5)
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_EULER_GAMMA = 0.57721566490153286061


def _zeta_minus_one(s: int) -> float:
    """zeta(s) - 1 for an integer s >= 2 (Euler-Maclaurin summation after 9 terms)."""
    n = 10
    total = sum(k ** -s for k in range(2, n))
    total += n ** (1 - s) / (s - 1) + 0.5 * n ** -s
    # Bernoulli terms B_2j / (2j)! * s (s+1) ... (s+2j-2) * n^(-s-2j+1)
    bern = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)
    rising = float(s)
    fact = 2.0
    for j, b in enumerate(bern, start=1):
        total += b / fact * rising * n ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        fact *= (2 * j + 1) * (2 * j + 2)
    return total


# lgamma(1 + z) = -gamma z + sum_{k>=2} (-1)^k zeta(k) z^k / k and
# lgamma(2 + z) = (1 - gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1) z^k / k (|z| < 1) keep the
# relative accuracy near the roots x = 1 and x = 2, where Lanczos only has an absolute one.
_ROOT_WINDOW = 0.2
_NTERMS = 26
_ZM1 = [_zeta_minus_one(k) for k in range(2, _NTERMS + 2)]
_LG1 = tuple(reversed([(-1) ** k * (1.0 + zm) / k for k, zm in zip(range(2, _NTERMS + 2), _ZM1)]))
_LG2 = tuple(reversed([(-1) ** k * zm / k for k, zm in zip(range(2, _NTERMS + 2), _ZM1)]))


def _root_series(z: Any, lin: float, coefs: Sequence[float]) -> Any:
    r = _poly(z, coefs)
    r *= z
    r += lin
    r *= z
    return r


def _sinpi(xp: Any, x: Any) -> Any:
    """sin(pi x) with the argument reduced exactly (accurate near the integers)."""
    r = x - 2.0 * xp.round(x * 0.5)  # exact, in [-1, 1]
    ar = xp.abs(r)
    s = xp.sin(math.pi * xp.where(ar > 0.5, 1.0 - ar, ar))  # 1 - |r| is exact there
    return xp.copysign(s, r)


def _lanczos_rational() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The Lanczos sum c0 + sum_i c_i / (z + i) as P(z) / Q(z), Q(z) = (z + 1)...(z + 8):
    one division instead of eight (the coefficients of P are all positive)."""

    def mul(p: list[float], j: float) -> list[float]:  # p(z) * (z + j), lowest power first
        return [a * j + b for a, b in zip([*p, 0.0], [0.0, *p])]

    n = len(_LANCZOS) - 1
    q = [1.0]
    for j in range(1, n + 1):
        q = mul(q, float(j))
    p = [_LANCZOS[0] * v for v in q]
    for i in range(1, n + 1):
        r = [1.0]
        for j in range(1, n + 1):
            if j != i:
                r = mul(r, float(j))
        for k, v in enumerate(r):
            p[k] += _LANCZOS[i] * v
    return tuple(reversed(p)), tuple(reversed(q))


_LANCZOS_P, _LANCZOS_Q = _lanczos_rational()


def _lanczos(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """(x - 0.5, A(x - 1), t = x - 1 + g + 0.5) of Lanczos' formula, for x >= 0.5."""
    z = x - 1.0
    zc = xp.minimum(z, 1e15)  # A(z) = c0 + O(1/z): constant to double precision beyond 1e15
    a = _poly(zc, _LANCZOS_P)
    a /= _poly(zc, _LANCZOS_Q)
    return x - 0.5, a, z + (_LANCZOS_G + 0.5)


def _gamma_pos(xp: Any, x: Any) -> Any:
    """gamma(x) for x >= 0.5 (nan and inf allowed)."""
    e, a, t = _lanczos(xp, xp.minimum(x, 180.0))
    e *= 0.5
    h = t ** e  # the power is split in two so that it does not overflow before gamma does
    r = xp.exp(-t)
    r *= h
    r *= h
    r *= a
    r *= _SQRT_2PI
    return xp.where(x > 172.0, xp.inf, r)


def _gamma_refl(xp: Any, x: Any) -> Any:
    """gamma(x) for x < 0.5 by reflection: pi / (sin(pi x) gamma(1 - x))."""
    g = _gamma_pos(xp, 1.0 - x)
    g *= _sinpi(xp, x)
    out = math.pi / g
    pole = x == xp.floor(x)
    return xp.where(pole, xp.where(x == 0, xp.copysign(xp.inf, x), xp.nan), out)


def _gamma(xp: Any, x: Any) -> Any:
    return _split(xp, x < 0.5, (x,), lambda v: _gamma_refl(xp, v), lambda v: _gamma_pos(xp, v))


def _lanczos_log(xp: Any, x: Any) -> Any:
    e, a, t = _lanczos(xp, x)
    a *= _SQRT_2PI
    r = xp.log(t)
    r *= e
    r -= t
    r += xp.log(a)
    return xp.where(x == xp.inf, xp.inf, r)


def _gammaln_pos(xp: Any, x: Any) -> Any:
    """log(gamma(x)) for x >= 0.5."""
    near1 = xp.abs(x - 1.0) < _ROOT_WINDOW
    near2 = xp.abs(x - 2.0) < _ROOT_WINDOW

    def roots(v: Any) -> Any:
        return _split(xp, v < 1.5, (v,),
                      lambda u: _root_series(u - 1.0, -_EULER_GAMMA, _LG1),
                      lambda u: _root_series(u - 2.0, 1.0 - _EULER_GAMMA, _LG2))

    return _split(xp, near1 | near2, (x,), roots, lambda v: _lanczos_log(xp, v))


def _gammaln_refl(xp: Any, x: Any) -> Any:
    """log|gamma(x)| for x < 0.5: log(pi) - log|sin(pi x)| - lgamma(1 - x)."""
    r = _gammaln_pos(xp, 1.0 - x)
    r += xp.log(xp.abs(_sinpi(xp, x)))
    r = _LOG_PI - r
    pole = (x == xp.floor(x)) | (x == -xp.inf)
    return xp.where(pole, xp.inf, r)


def _gammaln(xp: Any, x: Any) -> Any:
    r = _split(xp, x < 0.5, (x,), lambda v: _gammaln_refl(xp, v),
               lambda v: _gammaln_pos(xp, v))
    r += 0.0  # no -0.0 at the roots
    return r


# digamma and trigamma (for the gradients of gamma and gammaln): the recurrences
# psi(x) = psi(x + 1) - 1/x and psi1(x) = psi1(x + 1) + 1/x^2 up to x >= 10, then the asymptotic
# series in 1/x^2 (Bernoulli numbers up to B14; the next term is below 1e-16 there); reflection
# for x < 0.5. Poles (0, -1, -2...) give nan.
_DIGAMMA_SHIFT = 10


def _shift_up(xp: Any, x: Any, power: int) -> tuple[Any, Any]:
    """(x moved up to >= 10 by steps of 1, the sum of x_k**-power over the steps taken)."""
    acc = xp.zeros_like(x)
    for _ in range(_DIGAMMA_SHIFT):
        low = x < _DIGAMMA_SHIFT
        if not bool(low.any()):
            break
        acc += xp.where(low, 1.0 / x ** power, 0.0)
        x = xp.where(low, x + 1.0, x)
    return x, acc


def _digamma_pos(xp: Any, x: Any) -> Any:
    x, acc = _shift_up(xp, x, 1)
    z = 1.0 / (x * x)
    series = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z * (
        1 / 132 - z * (691 / 32760 - z / 12))))))
    return xp.log(x) - 0.5 / x - series - acc


def _digamma_refl(xp: Any, x: Any) -> Any:
    """psi(x) = psi(1 - x) - pi cot(pi x)."""
    r = x - xp.round(x)  # exact, and cot(pi x) has period 1
    out = _digamma_pos(xp, 1.0 - x) - math.pi * xp.cos(math.pi * r) / xp.sin(math.pi * r)
    return xp.where(x == xp.floor(x), xp.nan, out)


def _digamma(xp: Any, x: Any) -> Any:
    return _split(xp, x < 0.5, (x,), lambda v: _digamma_refl(xp, v),
                  lambda v: _digamma_pos(xp, v))


def _trigamma_pos(xp: Any, x: Any) -> Any:
    x, acc = _shift_up(xp, x, 2)
    t = 1.0 / x
    z = t * t
    series = t + 0.5 * z + t * z * (1 / 6 - z * (1 / 30 - z * (1 / 42 - z * (1 / 30 - z * (
        5 / 66 - z * (691 / 2730 - z * 7 / 6))))))
    return series + acc


def _trigamma_refl(xp: Any, x: Any) -> Any:
    """psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)."""
    s = _sinpi(xp, x)
    out = (math.pi * math.pi) / (s * s) - _trigamma_pos(xp, 1.0 - x)
    return xp.where(x == xp.floor(x), xp.nan, out)


def _trigamma(xp: Any, x: Any) -> Any:
    return _split(xp, x < 0.5, (x,), lambda v: _trigamma_refl(xp, v),
                  lambda v: _trigamma_pos(xp, v))


#: Numerical Recipes' erfc (``erfcc``, a Chebyshev fit; fractional error below 1.2e-7 for all
#: z >= 0): erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2); coefficients of P from the
#: highest power of t down
ERFC_T = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
          0.09678418, 0.37409196, 1.00002368, -1.26551223)

#: erf(x) / x for |x| < 0.84 (where 1 - erfc would cancel), in powers of x^2 from the
#: highest: 2/sqrt(pi) sum (-x^2)^n / (n! (2n+1)), the first omitted term below 1e-8
_ERF_SMALL = tuple(_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                   for n in range(9, -1, -1))


def erfc_pos32(xp: Any, z: Any) -> Any:
    """erfc(z) for a float32 array of z >= 0 (NaN stays NaN), in float32: ~30 vectorised
    passes where NumPy (no erf) would need float64 and a masked piecewise formula."""
    f = numpy.float32
    t = z * f(0.5)
    t += f(1.0)
    xp.reciprocal(t, out=t)
    p = xp.full_like(t, f(ERFC_T[0]))
    for c in ERFC_T[1:]:
        p *= t
        p += f(c)
    p -= z * z
    xp.exp(p, out=p)
    p *= t
    return p


def _erf32(xp: Any, x: Any) -> Any:
    """erf of a flat float32 array in float32 (relative error ~2e-7): the series below 0.84 in
    magnitude, ``1 - erfc`` with x's sign above."""
    f = numpy.float32
    r = erfc_pos32(xp, xp.abs(x))
    xp.subtract(f(1.0), r, out=r)
    xp.copysign(r, x, out=r)
    small = xp.nonzero(xp.abs(x) < f(0.84))[0]
    if small.size:
        v = x[small]
        z = v * v
        p = xp.full_like(v, f(_ERF_SMALL[0]))
        for c in _ERF_SMALL[1:]:
            p *= z
            p += f(c)
        r[small] = v * p
    return r


#: name -> the same function on flat float32 arrays in float32, for float32 and float16 data
SPECIAL32: dict[str, Any] = {"erf": _erf32}


#: name -> xp computation on flat float64 arrays
SPECIAL: dict[str, Any] = {"erf": _erf, "erfinv": _erfinv, "gamma": _gamma, "gammaln": _gammaln,
                           "digamma": _digamma, "trigamma": _trigamma}

#: name -> gradient f(x, y, g) in framework ops. trigamma has none: gamma and gammaln are twice
#: differentiable, digamma once.
SPECIAL_GRAD: dict[str, Any] = {
    "erf": lambda x, y, g: _gu.mul(g, _gu.mul(_elemwise.unary(
        "exp", _gu.neg(_gu.mul(x, x))), _TWO_OVER_SQRT_PI)),
    "erfinv": lambda x, y, g: _gu.mul(g, _gu.mul(_elemwise.unary(
        "exp", _gu.mul(y, y)), 1.0 / _TWO_OVER_SQRT_PI)),
    "gamma": lambda x, y, g: _gu.mul(g, _gu.mul(y, special("digamma", x))),
    "gammaln": lambda x, y, g: _gu.mul(g, special("digamma", x)),
    "digamma": lambda x, y, g: _gu.mul(g, special("trigamma", x)),
}


#: bytes per piece of :func:`chunked` (256 KB: a piece's many passes stay in the cache)
_CHUNK_BYTES = 1 << 18


def chunked(xp: Any, fn: Any, *arrays: Any) -> Any:
    """``fn(*flat_pieces)`` of same-shape arrays, elementwise, in cache-size pieces on the
    host (the special functions and the float32 normal CDF make dozens of passes over their
    data; GELU of (64, 35, 1024): 51 ms in one piece, 23 ms in pieces); one call on a GPU.
    ``fn`` gets and returns flat arrays (a 0-d array's ufuncs would give scalars); the result
    has the first array's shape and dtype."""
    x = arrays[0]
    step = _CHUNK_BYTES // x.itemsize
    if xp is not numpy or x.size <= step:
        return fn(*(a.reshape(-1) for a in arrays)).reshape(x.shape)
    flat = [numpy.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = numpy.empty(x.size, x.dtype)
    for i in range(0, x.size, step):
        out[i:i + step] = fn(*(a[i:i + step] for a in flat))
    return out.reshape(x.shape)


class SpecialOp(Op):
    """An elementwise special function; float inputs keep their type, others give float32."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.fn = SPECIAL[name]

    def infer(self, x: BaseArray) -> Specs:
        if x._dtype.kind == "c":
            raise DTypeError(f"{self.name}: complex input ({x._dtype}) is not supported")
        return [(x._shape, _dt.float_result(x._dtype))]

    def forward(self, xp: Any, x: Any) -> Any:
        out_dt = _dt.float_result(x.dtype)
        fn, work = self.fn, _F64
        if out_dt.itemsize <= 4 and self.name in SPECIAL32:  # float32 math for float32 data
            fn, work = SPECIAL32[self.name], numpy.dtype(numpy.float32)
        flat = x.astype(work).reshape(-1)
        if flat.size == 0:
            return xp.empty(x.shape, dtype=out_dt)
        with numpy.errstate(all="ignore"):
            r = chunked(xp, lambda v: fn(xp, v), flat)
        return r.astype(out_dt, copy=False).reshape(x.shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        grad = SPECIAL_GRAD.get(self.name)
        if grad is None:
            raise FrameworkError(f"operator '{self.name}' is not differentiable (its derivative "
                                 "is not implemented)")
        if not _gu.wants(x):
            return [None]
        return [_gu.cast_like(grad(x, y, g), x)]


_SPECIAL_OPS = {n: register(f"_npx_{n}")(SpecialOp(n)) for n in SPECIAL}


def special(name: str, x: BaseArray) -> BaseArray:
    """Apply the special function ``name`` ('erf', 'erfinv', 'gamma', 'gammaln', 'digamma',
    'trigamma') to ``x``."""
    if not isinstance(x, BaseArray):
        raise TypeError(f"{name}: expected an ndarray, got {type(x).__name__}")
    return apply(_SPECIAL_OPS[name], (x,))
