"""Convolution, transposed convolution and pooling over 1, 2 or 3 spatial dimensions.

Everything is vectorised with ``xp``: the padded input is viewed through ``as_strided`` as its
windows, ``(N, G, C/g, *kernel, *out)``, and copied once into a ``(N, groups, C/g *
prod(kernel), prod(out))`` column matrix (im2col, in the view's own order, so the copy reads
runs of the output's rows); one batched GEMM with the weight matrix gives the output directly in
``(N, F, *out)`` order. The adjoint, col2im, scatters a column matrix back with one strided add
per kernel offset (``prod(kernel)`` iterations, each over all pixels at once). The weight
gradient accumulates one GEMM per sample.

Three ops close under differentiation, so convolutions are differentiable any number of times:

- :class:`Convolution` ``(x, w[, b])``: ``y = conv(x, w) + b``;
- :class:`Deconvolution` ``(y, w[, b])``: ``conv``'s adjoint in ``x`` (its data gradient), which
  is MXNet's transposed convolution with weight ``(in_channels, out_channels/groups, *kernel)``;
- :class:`ConvWeightGrad` ``(x, g)``: ``conv``'s adjoint in ``w`` (a correlation of x and g).

d conv/dx is a Deconvolution, d conv/dw a ConvWeightGrad; d Deconvolution/dy is a Convolution;
d ConvWeightGrad/dx is a Deconvolution and d ConvWeightGrad/dg a Convolution.

While autograd records, :func:`convolution` issues :class:`ConvolutionKeep` instead when the
column matrix is small (``_KEEP_COLS``): the same convolution, whose columns are an auxiliary
output that the weight gradient reads (:class:`ConvWeightGradCols`) instead of taking the
im2col of ``x`` again. A recorded backward (``create_graph``) uses ConvWeightGrad, so higher
derivatives are unchanged.

Pooling (max, avg, sum, lp) uses the same window views; its gradients are the window adjoint
(:class:`PoolAdjoint`, for avg/sum/lp) and, for max pooling, a scatter to each window's first
maximum (:class:`MaxPoolScatter`), whose own gradient is the matching gather
(:class:`MaxPoolGather`).

Layouts: channel-first (``NCW``, ``NCHW``, ``NCDHW``) or channel-last (``NWC``, ``NHWC``,
``NDHWC``); a channel-last weight is ``(F, *kernel, C/g)`` (MXNet: the weight follows the data
layout). Channel-last data is moved to channel-first inside the task.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, ShapeError
from ._base import BaseArray
from ._create import zeros_like
from ._elemwise import binary
from ._gradutil import cast_like
from ._op import Op, apply, register
from ._reduce import sum_but
from ._shape import astype
from ._tape import STATE, requires_grad

__all__ = [
    "ConvGeom", "PoolGeom", "Convolution", "ConvolutionKeep", "Deconvolution", "ConvWeightGrad",
    "ConvWeightGradCols", "Pooling",
    "PoolAdjoint", "MaxPoolScatter", "MaxPoolGather", "CHANNEL_FIRST", "CHANNEL_LAST",
    "parse_layout", "conv_out_size", "deconv_out_size", "convolution", "deconvolution",
    "pool_geom", "pooling",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

CHANNEL_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
CHANNEL_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def parse_layout(layout: str | None, ndim: int, op: str) -> bool:
    """Whether ``layout`` (for data of ``ndim`` dimensions) is channel-last."""
    nd = ndim - 2
    if nd not in CHANNEL_FIRST:
        raise ShapeError(f"{op}: data must have 3, 4 or 5 dimensions (batch, channel and 1 to 3 "
                         f"spatial), got {ndim}")
    if layout is None:
        return False
    if layout == CHANNEL_FIRST[nd]:
        return False
    if layout == CHANNEL_LAST[nd]:
        return True
    raise ValueError(f"{op}: layout {layout!r} does not fit {ndim}-d data; expected "
                     f"{CHANNEL_FIRST[nd]!r} or {CHANNEL_LAST[nd]!r}")


def conv_out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def deconv_out_size(size: int, k: int, s: int, p: int, d: int, adj: int) -> int:
    return s * (size - 1) + d * (k - 1) + 1 - 2 * p + adj


def _split(shape: Shape, last: bool) -> tuple[int, int, Shape]:
    """(batch, channels, spatial) of a data shape."""
    if last:
        return shape[0], shape[-1], tuple(shape[1:-1])
    return shape[0], shape[1], tuple(shape[2:])


def _join(n: int, c: int, sp: Shape, last: bool) -> Shape:
    return (n, *sp, c) if last else (n, c, *sp)


def _cf(xp: Any, a: Any, last: bool) -> Any:
    """Channel-first view of data (or of a weight): the channel axis moved to position 1."""
    return xp.moveaxis(a, -1, 1) if last else a


def _back(xp: Any, a: Any, last: bool) -> Any:
    """Channel-first result back to the layout, in new contiguous memory."""
    return xp.ascontiguousarray(xp.moveaxis(a, 1, -1)) if last else a


def _as_strided(xp: Any, a: Any, shape: Shape, strides: Shape) -> Any:
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


# -- convolution --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvGeom:
    """Kernel, stride, dilation, (symmetric) padding, groups and layout of a convolution."""

    kernel: Shape
    stride: Shape
    dilate: Shape
    pad: Shape
    groups: int
    last: bool

    @property
    def nd(self) -> int:
        return len(self.kernel)

    def extent(self, i: int) -> int:
        """Span of the dilated kernel along spatial dimension ``i``."""
        return self.dilate[i] * (self.kernel[i] - 1) + 1

    def out_size(self, sp: Shape) -> Shape:
        return tuple(conv_out_size(sp[i], self.kernel[i], self.stride[i], self.pad[i],
                                   self.dilate[i]) for i in range(self.nd))


def _padded(xp: Any, x: Any, lo: Sequence[int], hi: Sequence[int], fill: Any) -> Any:
    """``x`` (N, C, *S) with ``lo``/``hi`` elements of ``fill`` around each spatial axis: what
    ``numpy.pad(x, ..., constant_values=fill)`` returns, made with one fill and one copy
    (``numpy.pad`` runs ~30 us of Python per call, which an engine worker thread spends
    holding the GIL while the main thread wants it)."""
    shape = x.shape[:2] + tuple(m + a + b for m, a, b in zip(x.shape[2:], lo, hi))
    out = xp.full(shape, fill, dtype=x.dtype) if fill else xp.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(a, a + m) for a, m in zip(lo, x.shape[2:]))] = x
    return out


def _offset_windows(kernel: Shape, dilate: Shape, stride: Shape,
                    out_sp: Shape) -> list[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """For each kernel offset (row-major): the offset, and the strided slice of the padded input
    that holds that element of every window (the spatial part; ``out_sp`` positions per axis)."""
    return [(offs, tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                         for o, d, s, m in zip(offs, dilate, stride, out_sp)))
            for offs in itertools.product(*(range(k) for k in kernel))]


def _im2col(xp: Any, x: Any, geom: ConvGeom, out_sp: Shape, samples_last: bool = False) -> Any:
    """Channel-first ``x`` (N, C, *S) -> contiguous columns (N, G, C/G * prod(K), prod(out)).

    The window view ``(N, G, C/G, *K, *O)`` is already in this order, so the one copy reads
    ``x`` in runs of the output's last dimension and no transpose follows the GEMM. With
    ``samples_last`` the view's sample axis moves after the kernel's: columns
    ``(G, C/G * prod(K), N * prod(out))``, for one GEMM over all samples (the same one copy)."""
    nd = geom.nd
    n, c = x.shape[:2]
    g = geom.groups
    cg = c // g
    if any(geom.pad):
        x = _padded(xp, x, geom.pad, geom.pad, 0)
    st = x.strides
    kst = tuple(st[2 + i] * geom.dilate[i] for i in range(nd))
    ost = tuple(st[2 + i] * geom.stride[i] for i in range(nd))
    if samples_last:
        shape = (g, cg, *geom.kernel, n, *out_sp)
        strides = (st[1] * cg, st[1], *kst, st[0], *ost)
    else:
        shape = (n, g, cg, *geom.kernel, *out_sp)
        strides = (st[0], st[1] * cg, st[1], *kst, *ost)
    cols = xp.ascontiguousarray(_as_strided(xp, x, shape, strides))  # the one copy
    rows = cg * math.prod(geom.kernel)
    if samples_last:
        return cols.reshape(g, rows, n * math.prod(out_sp))
    return cols.reshape(n, g, rows, math.prod(out_sp))


def _conv(xp: Any, x: Any, w: Any, geom: ConvGeom, out_sp: Shape) -> Any:
    """Channel-first convolution: x (N, C, *S), w (F, C/G, *K) -> (N, F, *out_sp)."""
    return _conv_cols(xp, x, w, geom, out_sp)[0]


def _conv_cols(xp: Any, x: Any, w: Any, geom: ConvGeom, out_sp: Shape,
               samples_last: bool = False) -> tuple[Any, Any]:
    """:func:`_conv`, and the column matrix it multiplied (see :func:`_im2col`). With
    ``samples_last``, the columns the weight gradient of a small output wants: one GEMM over
    all samples, whose (G, F/G, N * O) result is then put in sample order (one copy of the
    output, small when the output is)."""
    n = x.shape[0]
    f = w.shape[0]
    g = geom.groups
    wm = w.reshape(g, f // g, -1)
    cols = _im2col(xp, x, geom, out_sp, samples_last)
    y = xp.matmul(wm, cols)  # (N, G, F/G, O): one GEMM per sample; or (G, F/G, N * O)
    if samples_last:
        y = xp.ascontiguousarray(y.reshape(f, n, -1).transpose(1, 0, 2))
    return y.reshape(n, f, *out_sp), cols


def _conv_transpose(xp: Any, gy: Any, w: Any, geom: ConvGeom, in_sp: Shape) -> Any:
    """Adjoint of :func:`_conv` in x: gy (N, F, *O), w (F, C/G, *K) -> (N, C, *in_sp)."""
    nd = geom.nd
    n, f = gy.shape[:2]
    out_sp = tuple(gy.shape[2:])
    g = geom.groups
    cg = w.shape[1]
    wm = w.reshape(g, f // g, -1)
    gm = gy.reshape(n, g, f // g, math.prod(out_sp))
    padded = tuple(max(in_sp[i] + 2 * geom.pad[i],
                       geom.stride[i] * (out_sp[i] - 1) + geom.extent(i)) for i in range(nd))
    if cg == 1 and f == g:
        return _depthwise_transpose(xp, gy, w, geom, in_sp, padded)
    if all(s == 1 for s in geom.stride) and (nd == 1 or out_sp[-1] <= _WIDE_COL2IM):
        return _col2im_wide(xp, gm, wm, geom, in_sp, out_sp, padded)
    cols = xp.matmul(wm.transpose(0, 2, 1), gm)  # (N, G, Cg * K, O)
    cols = cols.reshape(n, g, cg, *geom.kernel, *out_sp)
    buf = xp.zeros((n, g, cg, *padded), dtype=cols.dtype)
    lead = (slice(None),) * 3
    # col2im: one strided scatter-add per kernel offset
    for offs, dst in _offset_windows(geom.kernel, geom.dilate, geom.stride, out_sp):
        buf[lead + dst] += cols[lead + offs]
    crop = tuple(slice(p, p + s) for p, s in zip(geom.pad, in_sp))
    return xp.ascontiguousarray(buf[lead + crop]).reshape(n, g * cg, *in_sp)


def _depthwise_transpose(xp: Any, gy: Any, w: Any, geom: ConvGeom, in_sp: Shape,
                         padded: Shape) -> Any:
    """:func:`_conv_transpose` of a depthwise convolution (one input and one output channel per
    group): each kernel offset's weights scale the output gradient, added into that offset's
    strided window of the padded input. The per-group products would be outer products
    (K = 1 GEMMs), one per sample and group; this is the same sum, offset by offset, in the
    same order (MobileNet's 3x3, (32, 32, 16, 16): 7.3 -> 3.1 ms)."""
    n, c = gy.shape[:2]
    out_sp = tuple(gy.shape[2:])
    lead = (slice(None),) * 2
    buf = xp.zeros((n, c, *padded), dtype=gy.dtype)
    tmp = xp.empty(gy.shape, dtype=gy.dtype)
    wk = w.reshape(c, -1)
    view = (1, c) + (1,) * geom.nd
    for k, (_offs, dst) in enumerate(_offset_windows(geom.kernel, geom.dilate, geom.stride,
                                                     out_sp)):
        xp.multiply(gy, wk[:, k].reshape(view), out=tmp)
        buf[lead + dst] += tmp
    crop = tuple(slice(p, p + s) for p, s in zip(geom.pad, in_sp))
    return xp.ascontiguousarray(buf[lead + crop])


#: the weight gradient is one GEMM over all samples when an output has at most this many
#: positions (per-sample GEMMs over so few are thin: LeNet's 8 x 8 output), else one per sample
#: (LeNet's 24 x 24 output: 1.4x faster that way)
_WGRAD_ONE_GEMM = 256

#: the stride-1 data gradient uses the "wide" col2im when the output's last spatial size is at
#: most this (short rows make the per-offset strided adds slow; measured on LeNet's shapes)
_WIDE_COL2IM = 16


def _col2im_wide(xp: Any, gm: Any, wm: Any, geom: ConvGeom, in_sp: Shape, out_sp: Shape,
                 padded: Shape) -> Any:
    """Stride-1 data gradient with long contiguous col2im adds.

    ``gm`` (N, G, F/G, prod(out)) is zero-extended in every spatial dimension but the first to
    the padded input's size, so that output position ``o`` and kernel offset ``k`` meet at the
    flat padded index ``flat(o) + flat(k * dilate)``; the extra columns are zeros, so what they
    add (wrapping into the next row) is zero. The samples are the innermost axis, so ONE GEMM
    covers them all and each kernel offset is one add of a contiguous run of ``out[0] *
    prod(padded[1:]) * N`` elements per channel (LeNet's second convolution: 1,280 -> 1,110 us
    against samples outermost, whose adds ran over rows of 96 elements). The additions happen
    in the same order per element, so the values are the same."""
    nd = geom.nd
    n, g, fg = gm.shape[:3]
    kk = math.prod(geom.kernel)
    cg = wm.shape[2] // kk
    pstride = tuple(math.prod(padded[i + 1:]) for i in range(nd))
    length = out_sp[0] * pstride[0]
    wide = xp.zeros((g, fg, out_sp[0], *padded[1:], n), dtype=gm.dtype)
    wide[(slice(None),) * 3 + tuple(slice(0, o) for o in out_sp[1:])] = \
        xp.moveaxis(gm.reshape(n, g, fg, *out_sp), 0, -1)
    cols = xp.matmul(wm.transpose(0, 2, 1), wide.reshape(g, fg, length * n))  # (G, Cg*K, L*N)
    cols = cols.reshape(g, cg, kk, length * n)
    shifts = [sum(o * d * s for o, d, s in zip(offs, geom.dilate, pstride))
              for offs in itertools.product(*(range(k) for k in geom.kernel))]
    total = math.prod(padded)
    run = length * n
    buf = xp.zeros((g, cg, max(total, max(shifts) + length) * n), dtype=cols.dtype)
    for k, sh in enumerate(shifts):
        buf[:, :, sh * n:sh * n + run] += cols[:, :, k]
    out = buf[:, :, :total * n].reshape(g * cg, *padded, n)
    crop = tuple(slice(p, p + s) for p, s in zip(geom.pad, in_sp))
    return xp.ascontiguousarray(xp.moveaxis(out[(slice(None),) + crop], -1, 0))


def _conv_wgrad(xp: Any, x: Any, gy: Any, geom: ConvGeom) -> Any:
    """Adjoint of :func:`_conv` in w: x (N, C, *S), gy (N, F, *O) -> (F, C/G, *K)."""
    out_sp = tuple(gy.shape[2:])
    # few output positions: per-sample GEMMs would be too thin, so ONE product over all
    # samples, (Cg * K, N * O) x (N * O, F/G), on columns laid out for it (29% faster on
    # LeNet's second convolution, whose output is 8 x 8)
    few = math.prod(out_sp) <= _WGRAD_ONE_GEMM
    cols = _im2col(xp, x, geom, out_sp, samples_last=few)
    return _wgrad_cols(xp, cols, gy, geom, x.shape[1] // geom.groups)


def _wgrad_cols(xp: Any, cols: Any, gy: Any, geom: ConvGeom, cg: int) -> Any:
    """:func:`_conv_wgrad` from the data's columns: (N, G, Cg * K, O) per sample, or (G, Cg *
    K, N * O) with the samples last."""
    out_sp = tuple(gy.shape[2:])
    n, f = gy.shape[:2]
    g = geom.groups
    if cols.ndim == 3:  # samples last: one GEMM
        gt = xp.ascontiguousarray(gy.reshape(n, g, f // g, -1).transpose(1, 0, 3, 2))
        gwt = xp.matmul(cols, gt.reshape(g, -1, f // g))  # (G, Cg * K, F/G)
        return xp.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape(f, cg, *geom.kernel)
    gm = gy.reshape(n, g, f // g, math.prod(out_sp))
    # one GEMM per sample, accumulated: cheaper than transposing both operands into one
    # (F, N * O) x (N * O, Cg * K) product, which costs two more copies
    gw = xp.matmul(gm[0], cols[0].transpose(0, 2, 1))  # (G, F/G, Cg * K)
    for i in range(1, n):
        gw += xp.matmul(gm[i], cols[i].transpose(0, 2, 1))
    return gw.reshape(f, cg, *geom.kernel)


def _check_float(x: BaseArray, op: str, arg: str) -> None:
    if x._dtype.kind not in "iuf":
        raise DTypeError(f"{op}: {arg} must be a real numeric array, got {x._dtype}")


def _check_data(x: BaseArray, geom: ConvGeom, op: str, arg: str = "data") -> tuple[int, int,
                                                                                   Shape]:
    if x.ndim != geom.nd + 2:
        layout = (CHANNEL_LAST if geom.last else CHANNEL_FIRST)[geom.nd]
        raise ShapeError(f"{op}: {arg} must be {geom.nd + 2}-d ({layout}) for a {geom.nd}-d "
                         f"kernel {geom.kernel}, got shape {x._shape}")
    _check_float(x, op, arg)
    return _split(x._shape, geom.last)


def _check_weight(w: BaseArray, geom: ConvGeom, op: str) -> tuple[int, int]:
    """(filters, channels per group) of a weight; errors name the expected layout."""
    nd = geom.nd
    _check_float(w, op, "weight")
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be {nd + 2}-d, got shape {w._shape}")
    f, cg, k = (w._shape[0], w._shape[-1], w._shape[1:-1]) if geom.last else (
        w._shape[0], w._shape[1], w._shape[2:])
    if tuple(k) != geom.kernel:
        raise ShapeError(f"{op}: weight shape {w._shape} does not match kernel {geom.kernel}")
    return f, cg


def _check_bias(b: BaseArray, channels: int, op: str) -> None:
    _check_float(b, op, "bias")
    if b._shape != (channels,):
        raise ShapeError(f"{op}: bias must have shape ({channels},), got {b._shape}")


def _bias_grad(g: BaseArray, b: BaseArray, last: bool) -> BaseArray:
    return cast_like(sum_but(g, g.ndim - 1 if last else 1), b)


def _add_bias(xp: Any, y: Any, b: Any, nd: int) -> Any:
    y += b.astype(y.dtype, copy=False).reshape((1, -1) + (1,) * nd)
    return y


class _ConvOp(Op):
    """Common part of the convolution ops: the geometry and dtype handling."""

    def __init__(self, geom: ConvGeom, out_sp: Shape | None = None) -> None:
        self.geom = geom
        self.out_sp = out_sp  # spatial size of the result, when not the natural one
        self.dt = numpy.dtype(numpy.float32)

    def _in(self, xp: Any, a: Any) -> Any:
        return _cf(xp, a, self.geom.last).astype(self.dt, copy=False)


@register("_npx_convolution")
class Convolution(_ConvOp):
    """``y = conv(x, w) + b`` (cross-correlation, MXNet's Convolution)."""

    #: the result is a new array (its GEMMs', made contiguous): a fused program may overwrite it
    #: once it is dead
    fresh_output = True
    #: the backward formulas read x, w and the output's gradient, never the output itself
    backward_reads_output = False

    def infer(self, x: BaseArray, w: BaseArray, b: BaseArray | None = None) -> Specs:
        op, geom = "convolution", self.geom
        n, c, sp = _check_data(x, geom, op)
        f, cg = _check_weight(w, geom, op)
        if c != cg * geom.groups:
            raise ShapeError(f"{op}: data has {c} channels, but weight {w._shape} expects "
                             f"{cg} per group x {geom.groups} group(s) = {cg * geom.groups}")
        if f % geom.groups:
            raise ShapeError(f"{op}: num_filter {f} is not divisible by num_group "
                             f"{geom.groups}")
        if b is not None:
            _check_bias(b, f, op)
        natural = geom.out_size(sp)
        for i in range(geom.nd):
            if natural[i] < 1:
                raise ShapeError(f"{op}: the dilated kernel ({geom.extent(i)}) is larger than "
                                 f"the padded input ({sp[i]} + 2*{geom.pad[i]}) in spatial "
                                 f"dimension {i} (data shape {x._shape})")
        out_sp = natural if self.out_sp is None else self.out_sp
        if any(o > m for o, m in zip(out_sp, natural)):
            raise ShapeError(f"{op}: output size {out_sp} exceeds {natural}")
        self.out_sp = out_sp
        self.in_sp = sp
        self.dt = _dt.binary_result(x._dtype, w._dtype)
        if b is not None:
            self.dt = _dt.binary_result(self.dt, b._dtype)
        return [(_join(n, f, out_sp, geom.last), self.dt)]

    def forward(self, xp: Any, x: Any, w: Any, b: Any = None) -> Any:
        assert self.out_sp is not None
        y = _conv(xp, self._in(xp, x), self._in(xp, w), self.geom, self.out_sp)
        if b is not None:
            y = _add_bias(xp, y, b, self.geom.nd)
        return _back(xp, y, self.geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return self._grads(inputs, out_grads[0], None)

    def _grads(self, inputs: Any, g: Any, cols: Any) -> list[Any]:
        """The inputs' gradients from the output's ``g``; ``cols``: the forward's columns
        (:class:`ConvolutionKeep`), which the weight gradient then reads instead of x."""
        x, w = inputs[0], inputs[1]
        # only the gradients some input needs (the first layer's data needs none: its
        # Deconvolution is the most expensive kernel of a CNN's backward); all of them when no
        # input takes part in the graph (``autograd.grad`` of a constant expression)
        every = not any(requires_grad(t) for t in inputs)
        grads: list[Any] = [None, None]
        if every or requires_grad(x):
            grads[0] = cast_like(apply(Deconvolution(self.geom, self.in_sp), (g, w)), x)
        if every or requires_grad(w):
            gw = apply(ConvWeightGrad(self.geom), (x, g)) if cols is None else apply(
                ConvWeightGradCols(self.geom, self.out_sp, w._shape), (cols, g))
            grads[1] = cast_like(gw, w)
        if len(inputs) == 3:
            b = inputs[2]
            grads.append(_bias_grad(g, b, self.geom.last) if every or requires_grad(b)
                         else None)
        return grads


#: a convolution that autograd records keeps its columns for the weight gradient when they have
#: at most this many elements (16 MiB of float32 per layer): small networks, where the im2col
#: is a large share of a step (LeNet: two of its ten largest copies), not deep ones whose
#: columns would pile up until the backward
_KEEP_COLS = 1 << 22


@register("_npx_convolution_keep")
class ConvolutionKeep(Convolution):
    """:class:`Convolution` that also returns its im2col columns, an auxiliary output (no
    gradient flows into it, the front end does not return it), so that the weight gradient
    skips its own im2col of the same data (:class:`ConvWeightGradCols`). What
    :func:`convolution` issues while autograd records, for small columns (``_KEEP_COLS``).
    An output of at most ``_WGRAD_ONE_GEMM`` positions is computed from the columns with the
    samples last, the layout of the weight gradient's single GEMM."""

    nout = 2
    aux_outputs = (1,)
    # (inherited: ``fresh_output``, the result is a new array; and ``backward_reads_output =
    # False``: the backward reads the columns, never the result)

    def infer(self, x: BaseArray, w: BaseArray, b: BaseArray | None = None) -> Specs:
        specs = Convolution.infer(self, x, w, b)
        assert self.out_sp is not None
        n, c, _ = _split(x._shape, self.geom.last)
        g = self.geom.groups
        rows = c // g * math.prod(self.geom.kernel)
        o = math.prod(self.out_sp)
        self.samples_last = o <= _WGRAD_ONE_GEMM
        cols = (g, rows, n * o) if self.samples_last else (n, g, rows, o)
        return [*specs, (cols, self.dt)]

    def forward(self, xp: Any, x: Any, w: Any, b: Any = None) -> Any:
        assert self.out_sp is not None
        y, cols = _conv_cols(xp, self._in(xp, x), self._in(xp, w), self.geom, self.out_sp,
                             self.samples_last)
        if xp.may_share_memory(cols, x):  # the windows were x itself (a 1x1 kernel): a kept
            cols = cols.copy()  # view would let a later in-place write of x change them
        if b is not None:
            y = _add_bias(xp, y, b, self.geom.nd)
        return _back(xp, y, self.geom.last), cols

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        # a recorded backward (create_graph) differentiates the weight gradient again: that
        # needs it as a function of x (ConvWeightGrad), not of the columns
        return self._grads(inputs, out_grads[0], None if STATE.grad else outputs[1])


def _keeps_columns(x: BaseArray, w: BaseArray, geom: ConvGeom) -> bool:
    """Whether :func:`convolution` should keep the columns (:class:`ConvolutionKeep`)."""
    if not STATE.grad or not requires_grad(w):
        return False
    if all(k == 1 for k in geom.kernel) and all(s == 1 for s in geom.stride) and \
            not any(geom.pad):
        return False  # a pointwise convolution's columns are x itself: nothing to save
    n, c, sp = _split(x._shape, geom.last)
    out = geom.out_size(sp)
    return min(out) >= 1 and n * c * math.prod(geom.kernel) * math.prod(out) <= _KEEP_COLS


@register("_npx_deconvolution")
class Deconvolution(_ConvOp):
    """Transposed convolution: the adjoint of :class:`Convolution` in its data, plus a bias.

    ``y`` (N, F, *in) and ``w`` (F, C/G, *K) give (N, C, *out_sp); ``out_sp`` must be at least
    the natural ``stride*(in-1) + dilate*(k-1) + 1 - 2*pad``.
    """

    def __init__(self, geom: ConvGeom, out_sp: Shape) -> None:
        super().__init__(geom, out_sp)

    def infer(self, y: BaseArray, w: BaseArray, b: BaseArray | None = None) -> Specs:
        op, geom = "deconvolution", self.geom
        n, f, sp = _check_data(y, geom, op)
        wf, cg = _check_weight(w, geom, op)
        if wf != f:
            raise ShapeError(f"{op}: data has {f} channels, but weight {w._shape} expects {wf} "
                             "(weight layout: (in_channels, num_filter/num_group, *kernel))")
        if f % geom.groups:
            raise ShapeError(f"{op}: data channels {f} are not divisible by num_group "
                             f"{geom.groups}")
        c = cg * geom.groups
        if b is not None:
            _check_bias(b, c, op)
        assert self.out_sp is not None
        for i in range(geom.nd):
            least = deconv_out_size(sp[i], geom.kernel[i], geom.stride[i], geom.pad[i],
                                    geom.dilate[i], 0)
            if self.out_sp[i] < max(least, 1):
                raise ShapeError(f"{op}: output size {self.out_sp[i]} in spatial dimension {i} "
                                 f"is below {max(least, 1)} (data shape {y._shape}, kernel "
                                 f"{geom.kernel}, stride {geom.stride}, pad {geom.pad})")
        self.in_sp = sp
        self.dt = _dt.binary_result(y._dtype, w._dtype)
        if b is not None:
            self.dt = _dt.binary_result(self.dt, b._dtype)
        return [(_join(n, c, self.out_sp, geom.last), self.dt)]

    def forward(self, xp: Any, y: Any, w: Any, b: Any = None) -> Any:
        assert self.out_sp is not None
        x = _conv_transpose(xp, self._in(xp, y), self._in(xp, w), self.geom, self.out_sp)
        if b is not None:
            x = _add_bias(xp, x, b, self.geom.nd)
        return _back(xp, x, self.geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        y, w = inputs[0], inputs[1]
        (g,) = out_grads
        gy = apply(Convolution(self.geom, self.in_sp), (g, w))
        gw = apply(ConvWeightGrad(self.geom), (g, y))
        grads = [cast_like(gy, y), cast_like(gw, w)]
        if len(inputs) == 3:
            grads.append(_bias_grad(g, inputs[2], self.geom.last))
        return grads


@register("_conv_weight_grad")
class ConvWeightGrad(_ConvOp):
    """The gradient of a convolution in its weight: a correlation of data ``x`` with the output
    gradient ``g``; result shape (F, C/G, *K) (or (F, *K, C/G) channel-last)."""

    def infer(self, x: BaseArray, g: BaseArray) -> Specs:
        op, geom = "convolution (weight gradient)", self.geom
        n, c, sp = _check_data(x, geom, op)
        gn, f, osp = _check_data(g, geom, op, "gradient")
        natural = geom.out_size(sp)
        if gn != n or any(o > m for o, m in zip(osp, natural)) or c % geom.groups or \
                f % geom.groups:
            raise ShapeError(f"{op}: gradient shape {g._shape} does not fit data shape "
                             f"{x._shape} (kernel {geom.kernel}, groups {geom.groups})")
        self.in_sp, self.out_sp = sp, osp
        self.dt = _dt.binary_result(x._dtype, g._dtype)
        cg = c // geom.groups
        shape = (f, *geom.kernel, cg) if geom.last else (f, cg, *geom.kernel)
        return [(shape, self.dt)]

    def forward(self, xp: Any, x: Any, g: Any) -> Any:
        gw = _conv_wgrad(xp, self._in(xp, x), self._in(xp, g), self.geom)
        return _back(xp, gw, self.geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, g = inputs
        (h,) = out_grads  # shaped like the weight
        gx = apply(Deconvolution(self.geom, self.in_sp), (g, h))
        gg = apply(Convolution(self.geom, self.out_sp), (x, h))
        return [cast_like(gx, x), cast_like(gg, g)]


@register("_conv_weight_grad_cols")
class ConvWeightGradCols(_ConvOp):
    """:class:`ConvWeightGrad` from the columns of the data that :class:`ConvolutionKeep`
    kept, ``(cols, g)``: the same GEMMs without an im2col. Only in a backward that autograd
    does not record (it has no gradient of its own)."""

    def __init__(self, geom: ConvGeom, out_sp: Shape, w_shape: Shape) -> None:
        super().__init__(geom, out_sp)
        self.w_shape = w_shape

    def infer(self, cols: BaseArray, g: BaseArray) -> Specs:
        self.dt = _dt.binary_result(cols._dtype, g._dtype)
        return [(self.w_shape, self.dt)]

    def forward(self, xp: Any, cols: Any, g: Any) -> Any:
        cg = self.w_shape[-1] if self.geom.last else self.w_shape[1]
        gw = _wgrad_cols(xp, cols.astype(self.dt, copy=False), self._in(xp, g), self.geom, cg)
        return _back(xp, gw, self.geom.last)


# -- pooling ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolGeom:
    """Pooling windows: kernel, stride, padding before/after each spatial dimension, layout,
    the input and output spatial sizes, and for averages the divisor of every output."""

    kernel: Shape
    stride: Shape
    pad_lo: Shape
    pad_hi: Shape
    last: bool
    in_sp: Shape
    out_sp: Shape
    count_lo: Shape  # the range [count_lo, count_hi) of padded positions an average counts
    count_hi: Shape

    @property
    def nd(self) -> int:
        return len(self.kernel)

    @property
    def covers_input(self) -> bool:
        """One window that is the whole (unpadded) input: global pooling."""
        return all(o == 1 for o in self.out_sp) and tuple(self.kernel) == tuple(self.in_sp) \
            and not any(self.pad_lo) and not any(self.pad_hi)

    def divisor(self) -> numpy.ndarray:
        """Per output position, how many counted positions its window covers (host, float64)."""
        out = numpy.ones((), dtype=numpy.float64)
        for i in range(self.nd):
            start = numpy.arange(self.out_sp[i]) * self.stride[i]
            lo = numpy.maximum(start, self.count_lo[i])
            hi = numpy.minimum(start + self.kernel[i], self.count_hi[i])
            n = numpy.maximum(hi - lo, 0).astype(numpy.float64)
            out = numpy.multiply.outer(out, n)
        return numpy.maximum(out, 1.0)  # a window of padding only: divide by 1, the sum is 0


def _fill_for(dt: numpy.dtype, kind: str) -> Any:
    if kind != "max":
        return 0
    if dt.kind == "f":
        return -numpy.inf
    if dt.kind == "b":
        return False
    return numpy.iinfo(dt).min


def _pool_windows(xp: Any, x: Any, geom: PoolGeom, fill: Any) -> Any:
    """Channel-first x (N, C, *S) -> a strided view of its windows (N, C, *O, *K)."""
    nd = geom.nd
    x = _pad_for_pool(xp, x, geom, fill)
    st = x.strides
    shape = (*x.shape[:2], *geom.out_sp, *geom.kernel)
    strides = (*st[:2], *(st[2 + i] * geom.stride[i] for i in range(nd)), *st[2:])
    return _as_strided(xp, x, shape, strides)


def _pad_for_pool(xp: Any, x: Any, geom: PoolGeom, fill: Any) -> Any:
    if any(geom.pad_lo) or any(geom.pad_hi):
        x = _padded(xp, x, geom.pad_lo, geom.pad_hi, fill)
    return x


def _offset_slices(geom: PoolGeom) -> list[tuple[slice, ...]]:
    """For each kernel offset (row-major), the strided slice of the padded input that holds that
    element of every window: ``(N, C, *O)``-shaped views."""
    lead = (slice(None),) * 2
    return [lead + dst for _offs, dst in _offset_windows(geom.kernel, (1,) * geom.nd,
                                                         geom.stride, geom.out_sp)]


#: pooling windows up to this many elements are combined from strided slices; larger ones
#: (global pooling) are reduced over the window view
_SLICE_WINDOW = 64


def _pool_combine(xp: Any, x: Any, geom: PoolGeom, fill: Any, ufunc: Any) -> Any:
    """Channel-first x (N, C, *S) pooled with ``ufunc`` (maximum or add) over each window.

    Small windows: ``ufunc`` over the ``prod(kernel)`` strided slices, one pass over the output
    each (a reduce over the strided window view is 10-30x slower for 2x2 windows). A window that
    covers the whole input is a plain reduction over the spatial axes."""
    nd = geom.nd
    padded = _pad_for_pool(xp, x, geom, fill)
    spatial = tuple(range(2, 2 + nd))
    reduce = xp.max if ufunc is xp.maximum else xp.sum
    if all(o == 1 for o in geom.out_sp) and tuple(padded.shape[2:]) == geom.kernel:
        return reduce(padded, axis=spatial, keepdims=True)
    if math.prod(geom.kernel) > _SLICE_WINDOW:
        win = _pool_windows(xp, x, geom, fill)
        return reduce(win, axis=tuple(range(2 + nd, 2 + 2 * nd)))
    slices = _offset_slices(geom)
    y = padded[slices[0]].copy()
    for sl in slices[1:]:
        ufunc(y, padded[sl], out=y)
    return y


def _window_scatter(xp: Any, parts: Any, geom: PoolGeom, n: int, c: int, dt: Any) -> Any:
    """col2im for pooling: sum each window's values back into the input positions.

    ``parts(offset_index, offsets)`` gives the (N, C, *O) values for that kernel offset."""
    nd = geom.nd
    padded = tuple(geom.pad_lo[i] + geom.in_sp[i] + geom.pad_hi[i] for i in range(nd))
    buf = xp.zeros((n, c, *padded), dtype=dt)
    lead = (slice(None),) * 2
    for j, (offs, dst) in enumerate(_offset_windows(geom.kernel, (1,) * nd, geom.stride,
                                                    geom.out_sp)):
        buf[lead + dst] += parts(j, offs)
    crop = tuple(slice(p, p + s) for p, s in zip(geom.pad_lo, geom.in_sp))
    return xp.ascontiguousarray(buf[lead + crop])


def _max_scatter(xp: Any, x: Any, g: Any, geom: PoolGeom, ymax: Any = None) -> Any:
    """``g`` (N, C, *O) routed to the first maximum (row-major within the window, NaN counting
    as the maximum, as ``argmax`` does) of each window of channel-first ``x``; ``ymax``: the
    window maxima when the caller has them (the pooling's output, the same values).

    One pass per kernel offset: that offset's slice is a window's first maximum where it equals
    the window's maximum and no earlier offset was. Windows that do not overlap (stride >=
    kernel) write their gradient straight into place; overlapping ones add."""
    padded = _pad_for_pool(xp, x, geom, _fill_for(x.dtype, "max"))
    slices = _offset_slices(geom)
    if ymax is None:
        ymax = padded[slices[0]].copy()
        for sl in slices[1:]:
            xp.maximum(ymax, padded[sl], out=ymax)
    nan = x.dtype.kind in "fc" and bool(xp.isnan(ymax).any())
    # g * hit is the fastest masked write, but inf * False is NaN: use where() then
    finite = g.dtype.kind not in "fc" or bool(xp.isfinite(g).all())
    out = xp.zeros(padded.shape, dtype=g.dtype)
    overlap = any(s < k for s, k in zip(geom.stride, geom.kernel))
    free = None  # windows whose first maximum is still to be found
    last = len(slices) - 1
    for k, sl in enumerate(slices):
        hit = xp.equal(padded[sl], ymax)
        if nan:
            hit |= xp.isnan(padded[sl])
        if free is not None:
            xp.logical_and(hit, free, out=hit)
        if k == 0:
            free = xp.logical_not(hit)
        elif k < last:
            xp.logical_xor(free, hit, out=free)  # hit is a subset of free
        if finite and not overlap:
            xp.multiply(g, hit, out=out[sl])
        elif finite:
            out[sl] += g * hit
        else:
            out[sl] += xp.where(hit, g, g.dtype.type(0))
    if any(geom.pad_lo) or any(geom.pad_hi):
        crop = (slice(None),) * 2 + tuple(slice(p, p + s)
                                          for p, s in zip(geom.pad_lo, geom.in_sp))
        out = xp.ascontiguousarray(out[crop])
    return out


def _argmax_windows(xp: Any, x: Any, geom: PoolGeom) -> Any:
    """Index (in row-major kernel order) of each window's first maximum, (N, C, *O)."""
    win = _pool_windows(xp, x, geom, _fill_for(x.dtype, "max"))
    flat = win.reshape(*win.shape[:2 + geom.nd], -1)  # copies the strided windows
    return xp.argmax(flat, axis=-1)


def _pool_shape(x: BaseArray, geom: PoolGeom) -> Shape:
    n, c, _ = _split(x._shape, geom.last)
    return _join(n, c, geom.out_sp, geom.last)


@register("_npx_pooling")
class Pooling(Op):
    """Max, average, sum or Lp pooling over windows (``pool_type`` 'max', 'avg', 'sum', 'lp')."""

    def __init__(self, geom: PoolGeom, pool_type: str = "max", p_value: int = 2) -> None:
        self.geom = geom
        self.pool_type = pool_type
        self.p = int(p_value)

    def infer(self, x: BaseArray) -> Specs:
        if self.pool_type != "max" and x._dtype.kind not in "iuf":
            raise DTypeError(f"pooling: {self.pool_type} pooling needs numeric data, got "
                             f"{x._dtype}")
        return [(_pool_shape(x, self.geom), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        geom = self.geom
        kind = self.pool_type
        xc = _cf(xp, x, geom.last)
        if kind != "max" and x.dtype.kind != "f":
            xc = xc.astype(numpy.float64)
        if kind == "max":
            y = _pool_combine(xp, xc, geom, _fill_for(xc.dtype, kind), xp.maximum)
        elif kind == "sum" or (kind == "lp" and self.p == 1):
            y = _pool_combine(xp, xc, geom, 0, xp.add)
        elif kind == "avg":
            y = _pool_combine(xp, xc, geom, 0, xp.add)
            y /= xp.asarray(geom.divisor(), dtype=y.dtype)
        else:
            y = _pool_combine(xp, xc ** self.p, geom, 0, xp.add)
            y = xp.sqrt(y) if self.p == 2 else (xp.cbrt(y) if self.p == 3 else
                                                y ** (1.0 / self.p))
        return _back(xp, y.astype(x.dtype, copy=False), geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if x._dtype.kind != "f":
            return [None]
        kind = self.pool_type
        if kind == "max":  # (the output holds the window maxima the scatter needs)
            return [apply(MaxPoolScatter(self.geom), (x, g, y))]
        if kind in ("avg", "sum") or self.p == 1:
            return [apply(PoolAdjoint(self.geom, kind == "avg"), (g,))]
        return [_lp_grad(self.geom, self.p, x, y, g)]


def _lp_grad(geom: PoolGeom, p: int, x: BaseArray, y: BaseArray, g: BaseArray) -> BaseArray:
    """d/dx (sum_w x^p)^(1/p) = x^(p-1) / y^(p-1), summed over the windows containing x."""
    zero = astype(binary("equal", y, 0), y._dtype)
    safe = binary("add", y, zero)  # an all-zero window has zero gradient, not 0/0
    t = binary("divide", g, _ipow(safe, p - 1))
    back = apply(PoolAdjoint(geom, False), (t,))
    return binary("multiply", back, _ipow(x, p - 1))


def _ipow(a: BaseArray, n: int) -> BaseArray:
    """``a ** n`` for a small integer ``n >= 1`` as products (exact, and simply differentiable)."""
    out = a
    for _ in range(n - 1):
        out = binary("multiply", out, a)
    return out


@register("_pool_adjoint")
class PoolAdjoint(Op):
    """The adjoint of sum (or, with ``average``, avg) pooling: each output gradient spread over
    its window (divided by the window's count for averages)."""

    def __init__(self, geom: PoolGeom, average: bool) -> None:
        self.geom = geom
        self.average = average

    def infer(self, g: BaseArray) -> Specs:
        n, c, _ = _split(g._shape, self.geom.last)
        return [(_join(n, c, self.geom.in_sp, self.geom.last), g._dtype)]

    def forward(self, xp: Any, g: Any) -> Any:
        geom = self.geom
        gc = _cf(xp, g, geom.last)
        if self.average:
            gc = gc / xp.asarray(geom.divisor(), dtype=gc.dtype)
        if geom.covers_input:
            # global pooling: every input position gets its channel's gradient (one broadcast
            # copy, not one strided add per kernel offset: (32, 64, 8, 8) 550 -> ~60 us)
            out = xp.ascontiguousarray(xp.broadcast_to(gc, gc.shape[:2] + tuple(geom.in_sp)))
        else:
            out = _window_scatter(xp, lambda j, offs: gc, geom, gc.shape[0], gc.shape[1],
                                  gc.dtype)
        return _back(xp, out, geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (h,) = out_grads
        return [apply(Pooling(self.geom, "avg" if self.average else "sum"), (h,))]


@register("_max_pool_scatter")
class MaxPoolScatter(Op):
    """The gradient of max pooling: ``g`` routed to the first maximum of each window of ``x``.
    Its inputs are ``(x, g)``, or ``(x, g, y)`` with ``y`` the pooling's output (the window
    maxima), which then need not be computed again; no gradient flows into ``y``."""

    def __init__(self, geom: PoolGeom) -> None:
        self.geom = geom

    def infer(self, x: BaseArray, g: BaseArray, y: BaseArray | None = None) -> Specs:
        return [(x._shape, g._dtype)]

    def forward(self, xp: Any, x: Any, g: Any, y: Any = None) -> Any:
        geom = self.geom
        xc = _cf(xp, x, geom.last)
        gc = _cf(xp, g, geom.last)
        if geom.covers_input:
            # global max pooling: each channel's gradient to its first maximum (argmax's, NaN
            # counting as the maximum), one scatter instead of a pass per kernel offset
            n, c = xc.shape[:2]
            flat = xc.reshape(n, c, -1)
            at = xp.argmax(flat, axis=-1)[..., None]
            out = xp.zeros(flat.shape, dtype=gc.dtype)
            xp.put_along_axis(out, at, gc.reshape(n, c, 1), axis=-1)
            return _back(xp, out.reshape(xc.shape), geom.last)
        if math.prod(geom.kernel) > _SLICE_WINDOW:
            am = _argmax_windows(xp, xc, geom)
            zero = gc.dtype.type(0)
            out = _window_scatter(xp, lambda j, offs: xp.where(am == j, gc, zero), geom,
                                  gc.shape[0], gc.shape[1], gc.dtype)
            return _back(xp, out, geom.last)
        ymax = None if y is None else _cf(xp, y, geom.last)
        return _back(xp, _max_scatter(xp, xc, gc, geom, ymax), geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x = inputs[0]
        (h,) = out_grads
        # piecewise constant in x: zero gradient there
        return [zeros_like(x), apply(MaxPoolGather(self.geom), (x, h))] + \
            [None] * (len(inputs) - 2)


@register("_max_pool_gather")
class MaxPoolGather(Op):
    """``h`` read at the first maximum of each window of ``x`` (the adjoint of
    :class:`MaxPoolScatter` in its gradient)."""

    def __init__(self, geom: PoolGeom) -> None:
        self.geom = geom

    def infer(self, x: BaseArray, h: BaseArray) -> Specs:
        return [(_pool_shape(x, self.geom), h._dtype)]

    def forward(self, xp: Any, x: Any, h: Any) -> Any:
        geom = self.geom
        am = _argmax_windows(xp, _cf(xp, x, geom.last), geom)
        win = _pool_windows(xp, _cf(xp, h, geom.last), geom, 0)
        flat = win.reshape(*win.shape[:2 + geom.nd], -1)
        out = xp.take_along_axis(flat, am[..., None], axis=-1)[..., 0]
        return _back(xp, xp.ascontiguousarray(out), geom.last)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, _ = inputs
        (g,) = out_grads
        return [zeros_like(x), apply(MaxPoolScatter(self.geom), (x, g))]


# -- front ends ---------------------------------------------------------------------------------

def _tuple(v: Any, nd: int, name: str, op: str, default: int | None) -> Shape:
    """A per-spatial-dimension tuple from None/()/int/sequence; errors name the argument."""
    if v is None or (isinstance(v, (tuple, list)) and len(v) == 0):
        if default is None:
            raise ValueError(f"{op}: {name} is required")
        return (default,) * nd
    if isinstance(v, (int, numpy.integer)) and not isinstance(v, bool):
        out: Shape = (int(v),) * nd
    else:
        try:
            out = tuple(int(e) for e in v)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {v!r}") \
                from None
    if len(out) != nd:
        raise ValueError(f"{op}: {name} {out} must have {nd} entries (one per spatial dimension "
                         f"of {nd + 2}-d data)")
    return out


def _conv_geom(data: BaseArray, weight: BaseArray, kernel: Any, stride: Any, dilate: Any,
               pad: Any, num_group: int, layout: str | None, op: str) -> ConvGeom:
    last = parse_layout(layout, data.ndim, op)
    nd = data.ndim - 2
    if kernel is None or (isinstance(kernel, (tuple, list)) and len(kernel) == 0):
        kernel = weight._shape[1:-1] if last else weight._shape[2:]
    k = _tuple(kernel, nd, "kernel", op, None)
    s = _tuple(stride, nd, "stride", op, 1)
    d = _tuple(dilate, nd, "dilate", op, 1)
    p = _tuple(pad, nd, "pad", op, 0)
    for name, vals, least in (("kernel", k, 1), ("stride", s, 1), ("dilate", d, 1),
                              ("pad", p, 0)):
        if any(v < least for v in vals):
            raise ValueError(f"{op}: {name} entries must be >= {least}, got {vals}")
    groups = int(num_group)
    if groups < 1:
        raise ValueError(f"{op}: num_group must be >= 1, got {num_group}")
    return ConvGeom(k, s, d, p, groups, last)


def _conv_inputs(data: Any, weight: Any, bias: Any, no_bias: bool, op: str) -> tuple[Any, ...]:
    for arg, a in (("data", data), ("weight", weight)):
        if not isinstance(a, BaseArray):
            raise TypeError(f"{op}: {arg} must be an ndarray, got {type(a).__name__}")
    if no_bias or bias is None:
        return (data, weight)
    if not isinstance(bias, BaseArray):
        raise TypeError(f"{op}: bias must be an ndarray, got {type(bias).__name__}")
    return (data, weight, bias)


def convolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                kernel: Any = None, stride: Any = None, dilate: Any = None, pad: Any = None,
                num_filter: int | None = None, num_group: int = 1, no_bias: bool = False,
                layout: str | None = None) -> BaseArray:
    """N-d convolution (see ``npx.convolution``); the kernel defaults to the weight's."""
    op = "convolution"
    inputs = _conv_inputs(data, weight, bias, no_bias, op)
    geom = _conv_geom(data, weight, kernel, stride, dilate, pad, num_group, layout, op)
    if num_filter is not None and weight.ndim and int(num_filter) != weight._shape[0]:
        raise ShapeError(f"{op}: num_filter={num_filter} but weight has shape {weight._shape} "
                         f"({weight._shape[0]} filters)")
    if _keeps_columns(inputs[0], inputs[1], geom):
        return apply(ConvolutionKeep(geom), inputs)[0]  # type: ignore[no-any-return]
    return apply(Convolution(geom), inputs)  # type: ignore[no-any-return]


def deconvolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                  kernel: Any = None, stride: Any = None, dilate: Any = None, pad: Any = None,
                  adj: Any = None, target_shape: Any = None, num_filter: int | None = None,
                  num_group: int = 1, no_bias: bool = False,
                  layout: str | None = None) -> BaseArray:
    """N-d transposed convolution (see ``npx.deconvolution``)."""
    op = "deconvolution"
    inputs = _conv_inputs(data, weight, bias, no_bias, op)
    geom = _conv_geom(data, weight, kernel, stride, dilate, pad, num_group, layout, op)
    nd = geom.nd
    _, _, sp = _split(data._shape, geom.last)
    a = _tuple(adj, nd, "adj", op, 0)
    if any(v < 0 for v in a):
        raise ValueError(f"{op}: adj entries must be >= 0, got {a}")
    pads = geom.pad
    target = None if target_shape is None or (
        isinstance(target_shape, (tuple, list)) and not any(target_shape)) else _tuple(
        target_shape, nd, "target_shape", op, None)
    if target is not None:
        # MXNet: the padding (and adj) that give target_shape; pad and adj are ignored
        pads_l, adj_l = [], []
        for i in range(nd):
            total = geom.stride[i] * (sp[i] - 1) + geom.extent(i) - target[i]
            if total < 0:
                raise ShapeError(f"{op}: target_shape {target} is too big for data shape "
                                 f"{data._shape} in spatial dimension {i}")
            adj_l.append(total % 2)
            pads_l.append((total + 1) // 2)
        pads, a = tuple(pads_l), tuple(adj_l)
        geom = ConvGeom(geom.kernel, geom.stride, geom.dilate, pads, geom.groups, geom.last)
    out_sp = tuple(deconv_out_size(sp[i], geom.kernel[i], geom.stride[i], pads[i],
                                   geom.dilate[i], a[i]) for i in range(nd))
    if num_filter is not None and weight.ndim == nd + 2:
        cg = weight._shape[-1] if geom.last else weight._shape[1]
        if int(num_filter) != cg * geom.groups:
            raise ShapeError(f"{op}: num_filter={num_filter} but weight {weight._shape} gives "
                             f"{cg} per group x {geom.groups} group(s) = {cg * geom.groups}")
    return apply(Deconvolution(geom, out_sp), inputs)  # type: ignore[no-any-return]


_POOL_TYPES = ("max", "avg", "sum", "lp")
_CONVENTIONS = ("valid", "full", "same")


def pool_geom(shape: Shape, kernel: Any, stride: Any, pad: Any, pooling_convention: str,
              global_pool: bool, count_include_pad: bool, layout: str | None) -> PoolGeom:
    """The windows of a pooling of data of ``shape`` (MXNet's output-size conventions)."""
    op = "pooling"
    last = parse_layout(layout, len(shape), op)
    _, _, sp = _split(shape, last)
    nd = len(sp)
    if pooling_convention not in _CONVENTIONS:
        raise ValueError(f"{op}: pooling_convention must be one of {_CONVENTIONS}, got "
                         f"{pooling_convention!r}")
    if global_pool:
        k, s, p = sp, (1,) * nd, (0,) * nd
        conv = "valid"
    else:
        k = _tuple(kernel, nd, "kernel", op, None)
        s = _tuple(stride, nd, "stride", op, 1)
        p = _tuple(pad, nd, "pad", op, 0)
        conv = pooling_convention
    if any(v < 1 for v in k) or any(v < 1 for v in s) or any(v < 0 for v in p):
        raise ValueError(f"{op}: kernel and stride entries must be >= 1 and pad entries >= 0, "
                         f"got kernel={k}, stride={s}, pad={p}")
    if conv == "same" and any(p):
        raise ValueError(f"{op}: pooling_convention='same' computes its own padding; pad must "
                         f"be 0, got {p}")
    out, lo, hi, clo, chi = [], [], [], [], []
    for i in range(nd):
        if conv == "same":
            o = -(-sp[i] // s[i])
            total = max((o - 1) * s[i] + k[i] - sp[i], 0)
            before, after = total // 2, total - total // 2
        else:
            if k[i] > sp[i] + 2 * p[i]:
                raise ShapeError(f"{op}: kernel {k[i]} exceeds the input ({sp[i]} padded to "
                                 f"{sp[i] + 2 * p[i]}) in spatial dimension {i} (data shape "
                                 f"{tuple(shape)})")
            span = sp[i] + 2 * p[i] - k[i]
            o = span // s[i] + 1 if conv == "valid" else -(-span // s[i]) + 1
            before = p[i]
            after = max(p[i], (o - 1) * s[i] + k[i] - sp[i] - p[i])
        out.append(o)
        lo.append(before)
        hi.append(after)
        pad_end = before + sp[i] + (after if conv == "same" else p[i])
        clo.append(0 if count_include_pad else before)
        chi.append(pad_end if count_include_pad else before + sp[i])
    return PoolGeom(k, s, tuple(lo), tuple(hi), last, sp, tuple(out), tuple(clo), tuple(chi))


def pooling(data: BaseArray, kernel: Any = None, stride: Any = None, pad: Any = None,
            pool_type: str = "max", pooling_convention: str = "valid",
            global_pool: bool = False, count_include_pad: bool | None = True,
            layout: str | None = None, p_value: int | None = 2) -> BaseArray:
    """Max/avg/sum/Lp pooling over 1-3 spatial dimensions (see ``npx.pooling``)."""
    op = "pooling"
    if not isinstance(data, BaseArray):
        raise TypeError(f"{op}: data must be an ndarray, got {type(data).__name__}")
    if pool_type not in _POOL_TYPES:
        raise ValueError(f"{op}: pool_type must be one of {_POOL_TYPES}, got {pool_type!r}")
    p = 2 if p_value is None else int(p_value)
    if pool_type == "lp" and p < 1:
        raise ValueError(f"{op}: p_value must be >= 1 for Lp pooling, got {p_value}")
    include = True if count_include_pad is None else bool(count_include_pad)
    geom = pool_geom(data._shape, kernel, stride, pad, pooling_convention, global_pool,
                     include, layout)
    return apply(Pooling(geom, pool_type, p), (data,))  # type: ignore[no-any-return]
