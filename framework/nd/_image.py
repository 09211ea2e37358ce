"""Image operators (``npx.image``): tensor conversion, normalisation, resizing, crops, flips and
colour augmentations on HWC images or NHWC batches (``to_tensor``/``normalize`` give/take CHW).

Resizing follows OpenCV's ``cv2.resize`` (which MXNet calls): pixel centres are aligned, so the
source coordinate of output pixel ``d`` is ``(d + 0.5) * in / out - 0.5`` with replicated borders.
Every interpolation is separable: for each axis the op precomputes, on the host, ``taps`` (the
source indices and weights of each output index), then applies them with one gather and a
weighted sum; its adjoint (the gradient) scatters with ``bincount``.

Random augmentations draw their parameters (one per image) with the device's generator
(:func:`._random.sample`), so ``np.random.seed`` reproduces them, then run a deterministic op
that takes the draws as an input array.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy

from ..base import DTypeError, FrameworkError, ShapeError
from . import _gradutil as _gu
from ._base import BaseArray
from ._npx import _slice_copy
from ._op import Op, apply, register
from ._random import sample
from ._reduce import reduce
from ._shape import flip, reshape, transpose

__all__ = [
    "to_tensor", "normalize", "resize", "resize_shape", "crop", "flip_left_right",
    "flip_top_bottom", "random_flip", "adjust", "random_adjust", "color_jitter",
    "adjust_lighting", "random_lighting", "INTERPOLATIONS",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]
Taps = tuple[numpy.ndarray, numpy.ndarray]  # (indices (n_out, k) int64, weights (n_out, k))

_F32 = numpy.dtype(numpy.float32)
_F64 = numpy.dtype(numpy.float64)

#: OpenCV's interpolation codes accepted by :func:`resize`.
INTERPOLATIONS = {0: "nearest", 1: "bilinear", 2: "bicubic", 3: "area", 4: "lanczos4"}

# ITU-R 601 luma weights of R, G, B (MXNet's contrast and saturation)
_LUMA = (0.299, 0.587, 0.114)
# AlexNet's PCA lighting noise: eigenvectors (columns) scaled by their eigenvalues
_EIG = numpy.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                    [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                    [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]])


# -- helpers ------------------------------------------------------------------------------------
def check_image(x: Any, op: str, arg: str = "data", layout: str = "HWC") -> BaseArray:
    """``x`` as a 3-d (one image) or 4-d (a batch) real array, or a clear error."""
    if not isinstance(x, BaseArray):
        raise TypeError(f"npx.image.{op}: {arg} must be an ndarray, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ShapeError(f"npx.image.{op}: {arg} must be an image ({layout}) or a batch "
                         f"(N{layout}), got shape {x._shape}")
    if x._dtype.kind not in "iuf":
        raise DTypeError(f"npx.image.{op}: {arg} must be a real numeric array, got {x._dtype}")
    return x


def _rgb_or_gray(x: BaseArray, op: str) -> None:
    if x._shape[-1] not in (1, 3):
        raise ShapeError(f"npx.image.{op}: the last (channel) axis must have 1 or 3 elements, "
                         f"got shape {x._shape}")


def _work(dt: numpy.dtype) -> numpy.dtype:
    """The float dtype an op computes in: float64 for float64 input, float32 otherwise."""
    return _F64 if dt == _F64 else _F32


def _saturate(xp: Any, y: Any, dt: numpy.dtype, rnd: bool) -> Any:
    """``y`` (floats) converted to ``dt``: integers are rounded (``rnd``) or truncated, and
    clipped to the type's range (OpenCV's / MXNet's ``saturate_cast``)."""
    if dt.kind in "iu":
        info = numpy.iinfo(dt)
        if rnd:
            y = xp.rint(y)
        y = xp.clip(y, info.min, info.max)
    return y.astype(dt, copy=False)


def _int(v: Any, name: str, op: str) -> int:
    if isinstance(v, (bool, numpy.bool_)):
        raise TypeError(f"npx.image.{op}: {name} must be an integer, got {v!r}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"npx.image.{op}: {name} must be an integer, got {v!r}") from None


def _floats(v: Any, name: str, op: str) -> tuple[float, ...]:
    vals = v if isinstance(v, (tuple, list, numpy.ndarray)) else (v,)
    try:
        out = tuple(float(a) for a in numpy.asarray(vals, dtype=numpy.float64).reshape(-1))
    except (TypeError, ValueError):
        raise TypeError(f"npx.image.{op}: {name} must be a number or a sequence of numbers, "
                        f"got {v!r}") from None
    if not out:
        raise ValueError(f"npx.image.{op}: {name} must not be empty")
    return out


def _bcast(f: Any, ndim: int) -> Any:
    """Per-image parameters of shape ``batch + (k,)`` reshaped to broadcast against
    ``batch + (H, W, C)``: ``batch + (1, 1, k)``."""
    return f.reshape(f.shape[:-1] + (1,) * (ndim - f.ndim) + f.shape[-1:])


# -- to_tensor, normalize -----------------------------------------------------------------------
@register("_image_to_tensor")
class ToTensor(Op):
    """HWC (or NHWC) to CHW (NCHW) float32, divided by 255."""

    def infer(self, x: BaseArray) -> Specs:
        s = x._shape
        return [(s[:-3] + (s[-1],) + s[-3:-1], _F32)]

    def forward(self, xp: Any, x: Any) -> Any:
        # order="C": a contiguous CHW result (astype keeps the HWC memory order otherwise,
        # and every later pass over the image, Normalize's included, runs strided)
        y = xp.moveaxis(x, -1, -3).astype(_F32, order="C")
        y /= _F32.type(255.0)
        return y

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x, inputs):
            return [None]
        perm = tuple(range(x.ndim - 3)) + tuple(i + x.ndim - 3 for i in (1, 2, 0))
        return [_gu.cast_like(_gu.div(transpose(g, perm), 255.0), x)]


def to_tensor(x: BaseArray) -> BaseArray:
    return apply(ToTensor(), (check_image(x, "to_tensor"),))  # type: ignore[no-any-return]


@register("_image_normalize")
class Normalize(Op):
    """``(x - mean[c]) / std[c]`` on CHW / NCHW data; ``mean``/``std`` have 1 or C entries."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.mean = mean
        self.std = std

    def infer(self, x: BaseArray) -> Specs:
        c = x._shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ShapeError(f"npx.image.normalize: {name} must have 1 or {c} (channel) "
                                 f"entries for data of shape {x._shape}, got {len(v)}")
        return [(x._shape, x._dtype if x._dtype.kind == "f" else _F32)]

    def forward(self, xp: Any, x: Any) -> Any:
        wd = _work(x.dtype)
        m = xp.asarray(self.mean, dtype=wd).reshape(-1, 1, 1)
        s = xp.asarray(self.std, dtype=wd).reshape(-1, 1, 1)
        y = x.astype(wd, copy=False) - m
        y /= s
        return y

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x, inputs):
            return [None]
        return [_gu.cast_like(apply(Normalize((0.0,), self.std), (g,)), x)]


def normalize(x: BaseArray, mean: Any = 0.0, std: Any = 1.0) -> BaseArray:
    check_image(x, "normalize", layout="CHW")
    m = _floats(mean, "mean", "normalize")
    s = _floats(std, "std", "normalize")
    if any(v == 0 for v in s):
        raise ValueError(f"npx.image.normalize: std must be non-zero, got {std!r}")
    return apply(Normalize(m, s), (x,))  # type: ignore[no-any-return]


# -- resize ---------------------------------------------------------------------------------------
def resize_shape(h: int, w: int, size: Any, keep_ratio: bool) -> tuple[int, int]:
    """The output (height, width) of :func:`resize` (MXNet's rule: ``size`` is ``(w, h)``; an
    int with ``keep_ratio`` sets the short edge and scales the long one, rounding down)."""
    op = "resize"
    if isinstance(size, (tuple, list)):
        sz = tuple(_int(s, "size", op) for s in size)
    else:
        sz = (_int(size, "size", op),)
    if len(sz) not in (1, 2):
        raise ValueError(f"npx.image.resize: size must be an int or (width, height), got {size!r}")
    if any(s <= 0 for s in sz):
        raise ValueError(f"npx.image.resize: size must be positive, got {size!r}")
    if len(sz) == 2:
        return sz[1], sz[0]
    s = sz[0]
    if not keep_ratio:
        return s, s
    if h == 0 or w == 0:
        raise ShapeError(f"npx.image.resize: keep_ratio needs a non-empty image, got {h}x{w}")
    if h > w:
        return h * s // w, s
    return s, w * s // h


def _cubic(fx: numpy.ndarray) -> numpy.ndarray:
    # OpenCV's Keys cubic kernel with A = -0.75, taps at offsets -1, 0, 1, 2
    a = numpy.float32(-0.75)
    x1 = fx + numpy.float32(1)
    c0 = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
    c1 = ((a + 2) * fx - (a + 3)) * fx * fx + 1
    y = numpy.float32(1) - fx
    c2 = ((a + 2) * y - (a + 3)) * y * y + 1
    return numpy.stack([c0, c1, c2, 1 - c0 - c1 - c2], axis=1)


def _lanczos4(fx: numpy.ndarray) -> numpy.ndarray:
    # OpenCV's normalised Lanczos (a = 4) kernel, taps at offsets -3 ... 4
    t = fx.astype(numpy.float64)[:, None] + 3 - numpy.arange(8)
    c = numpy.sinc(t) * numpy.sinc(t / 4)
    c = c / c.sum(axis=1, keepdims=True)
    delta = (numpy.arange(8) == 3).astype(numpy.float64)
    return numpy.where(fx[:, None] < numpy.finfo(numpy.float32).eps, delta, c)


def _area_down(n_in: int, n_out: int, scale: float) -> Taps:
    # OpenCV's area averaging (every output covers ``scale`` input pixels, partial ones weighted)
    d = numpy.arange(n_out, dtype=numpy.float64)
    f1 = d * scale
    f2 = f1 + scale
    cell = numpy.minimum(scale, n_in - f1)
    s2 = numpy.minimum(numpy.floor(f2), n_in - 1)
    s1 = numpy.minimum(numpy.ceil(f1), s2)
    k = int(math.ceil(scale)) + 2
    idx = (s1 - 1)[:, None] + numpy.arange(k)
    left = numpy.where(s1 - f1 > 1e-3, (s1 - f1) / cell, 0.0)
    right = numpy.where(f2 - s2 > 1e-3, numpy.minimum(numpy.minimum(f2 - s2, 1.0), cell) / cell,
                        0.0)
    w = numpy.where(idx < s2[:, None], 1.0 / cell[:, None], 0.0)
    w[:, 0] = left
    w = numpy.where(idx == s2[:, None], right[:, None], w)
    w = numpy.where((idx >= 0) & (idx <= s2[:, None]), w, 0.0)
    return numpy.clip(idx, 0, n_in - 1).astype(numpy.int64), w.astype(numpy.float32)


def resize_taps(n_in: int, n_out: int, interp: int, area_down: bool) -> Taps:
    """The source indices and weights of each of ``n_out`` outputs along one axis (OpenCV's
    coefficients; borders replicate, so indices are clamped)."""
    inv = n_out / n_in
    scale = 1.0 / inv
    d = numpy.arange(n_out, dtype=numpy.float64)
    if interp == 0:  # OpenCV INTER_NEAREST: floor(d * scale), no centre alignment
        idx = numpy.minimum(numpy.floor(d * scale), n_in - 1).astype(numpy.int64)[:, None]
        return idx, numpy.ones(idx.shape, numpy.float32)
    if interp == 3 and area_down:
        return _area_down(n_in, n_out, scale)
    if interp == 3:  # INTER_AREA when enlarging: linear with OpenCV's area coefficients
        sx = numpy.floor(d * scale)
        fx = ((d + 1) - (sx + 1) * inv).astype(numpy.float32)
        fx = numpy.where(fx <= 0, numpy.float32(0), fx - numpy.floor(fx))
    else:
        src = ((d + 0.5) * scale - 0.5).astype(numpy.float32)
        sx = numpy.floor(src)
        fx = src - sx
    one = numpy.float32(1)
    if interp in (1, 3):
        offs, w = numpy.arange(2), numpy.stack([one - fx, fx], axis=1)
    elif interp == 2:
        offs, w = numpy.arange(-1, 3), _cubic(fx)
    else:
        offs, w = numpy.arange(-3, 5), _lanczos4(fx)
    idx = numpy.clip(sx.astype(numpy.int64)[:, None] + offs, 0, n_in - 1)
    return idx, w.astype(numpy.float32)


def _resample(xp: Any, x: Any, axis: int, taps: Taps) -> Any:
    """Apply one axis's taps to ``x`` (already in its work dtype): the taps' weighted values
    added in tap order, as a reduction over a tap axis adds them (the same values)."""
    idx, w = taps
    n_out, k = idx.shape
    view = (n_out,) + (1,) * (x.ndim - axis - 1)
    acc = None
    for j in range(k):
        t = xp.take(x, xp.asarray(idx[:, j]), axis=axis)
        t *= xp.asarray(w[:, j], dtype=x.dtype).reshape(view)
        if acc is None:
            acc = t
        else:
            acc += t
    return acc


def _resample_adjoint(xp: Any, g: Any, axis: int, taps: Taps, n_in: int) -> Any:
    """The transpose of :func:`_resample`: each output's weighted value added back at its taps."""
    idx, w = taps
    n_out, k = idx.shape
    gm = xp.moveaxis(g, axis, -1)
    lead = gm.shape[:-1]
    m = math.prod(lead)
    vals = gm.reshape(m, n_out, 1) * xp.asarray(w, dtype=g.dtype)
    lin = xp.arange(m, dtype=numpy.int64).reshape(m, 1, 1) * n_in + xp.asarray(idx)
    r = xp.bincount(lin.reshape(-1), weights=vals.reshape(-1), minlength=m * n_in)
    r = r.astype(g.dtype, copy=False).reshape(lead + (n_in,))
    return xp.ascontiguousarray(xp.moveaxis(r, -1, axis))


class _ResampleBase(Op):
    def __init__(self, th: Taps, tw: Taps, in_hw: tuple[int, int], nearest: bool) -> None:
        self.th = th
        self.tw = tw
        self.in_hw = in_hw
        self.nearest = nearest


@register("_image_resize")
class Resize(_ResampleBase):
    """Separable resampling of the H and W axes (-3, -2) with precomputed taps."""

    def infer(self, x: BaseArray) -> Specs:
        s = x._shape
        return [(s[:-3] + (self.th[0].shape[0], self.tw[0].shape[0], s[-1]), x._dtype)]

    def forward(self, xp: Any, x: Any) -> Any:
        if self.nearest:  # a pure gather: exact in any dtype
            y = xp.take(x, xp.asarray(self.tw[0][:, 0]), axis=-2)
            return xp.take(y, xp.asarray(self.th[0][:, 0]), axis=-3)
        # channels before rows and columns: the passes then run along whole rows, not over
        # the 3 channels of one pixel (HWC (256, 320, 3) to 224 x 224: 3.3 -> 0.7 ms bilinear,
        # 9.9 -> 2.7 ms lanczos4; the same values)
        y = xp.moveaxis(x, -1, -3).astype(_work(x.dtype), order="C")  # (one copy)
        y = _resample(xp, y, y.ndim - 1, self.tw)  # rows first, as OpenCV
        y = _resample(xp, y, y.ndim - 2, self.th)
        y = _saturate(xp, y, x.dtype, rnd=True)
        return xp.ascontiguousarray(xp.moveaxis(y, -3, -1))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (g,) = inputs, out_grads
        if not _gu.wants(x, inputs):
            return [None]
        return [apply(ResizeAdjoint(self.th, self.tw, self.in_hw, self.nearest), (g,))]


@register("_image_resize_adjoint")
class ResizeAdjoint(_ResampleBase):
    """The gradient of :class:`Resize` (its transpose); its own gradient is the resize."""

    def infer(self, g: BaseArray) -> Specs:
        s = g._shape
        return [(s[:-3] + self.in_hw + (s[-1],), g._dtype)]

    def forward(self, xp: Any, g: Any) -> Any:
        y = g.astype(_work(g.dtype), copy=False)
        y = _resample_adjoint(xp, y, y.ndim - 3, self.th, self.in_hw[0])
        y = _resample_adjoint(xp, y, y.ndim - 2, self.tw, self.in_hw[1])
        return y.astype(g.dtype, copy=False)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g,), (gg,) = inputs, out_grads
        if not _gu.wants(g, inputs):
            return [None]
        return [apply(Resize(self.th, self.tw, self.in_hw, self.nearest), (gg,))]


def resize(x: BaseArray, size: Any, keep_ratio: bool = False, interp: int = 1) -> BaseArray:
    check_image(x, "resize")
    it = _int(interp, "interp", "resize")
    if it not in INTERPOLATIONS:
        raise ValueError(f"npx.image.resize: interp must be one of {sorted(INTERPOLATIONS)} "
                         f"({', '.join(INTERPOLATIONS.values())}), got {interp!r}")
    h, w = x._shape[-3], x._shape[-2]
    oh, ow = resize_shape(h, w, size, bool(keep_ratio))
    if h == 0 or w == 0:
        raise ShapeError(f"npx.image.resize: cannot resize an empty image (shape {x._shape})")
    area_down = h >= oh and w >= ow
    th = resize_taps(h, oh, it, area_down)
    tw = resize_taps(w, ow, it, area_down)
    return apply(Resize(th, tw, (h, w), it == 0), (x,))  # type: ignore[no-any-return]


# -- crop, flips ----------------------------------------------------------------------------------
def crop(x: BaseArray, x0: Any, y0: Any, width: Any, height: Any) -> BaseArray:
    check_image(x, "crop")
    op = "crop"
    xs, ys = _int(x0, "x", op), _int(y0, "y", op)
    cw, ch = _int(width, "width", op), _int(height, "height", op)
    h, w = x._shape[-3], x._shape[-2]
    if xs < 0 or ys < 0 or cw <= 0 or ch <= 0 or xs + cw > w or ys + ch > h:
        raise ValueError(f"npx.image.crop: the region x={xs}, y={ys}, width={cw}, height={ch} "
                         f"is not inside the {w}x{h} (width x height) image of shape {x._shape}")
    key = (slice(None),) * (x.ndim - 3) + (slice(ys, ys + ch), slice(xs, xs + cw))
    return _slice_copy(x, key, "image.crop")


def flip_left_right(x: BaseArray) -> BaseArray:
    return flip(check_image(x, "flip_left_right"), -2)


def flip_top_bottom(x: BaseArray) -> BaseArray:
    return flip(check_image(x, "flip_top_bottom"), -3)


@register("_image_random_flip")
class RandomFlip(Op):
    """Flip along ``axis`` the images whose ``mask`` entry is 1 (mask has the batch shape)."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def infer(self, x: BaseArray, mask: BaseArray) -> Specs:
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any, mask: Any) -> Any:
        # a copy, then the drawn images flipped into it (not where() over every pixel, a
        # scalar loop in NumPy: one (256, 320, 3) image 0.7 -> ~0.1 ms)
        flat = x.reshape((-1,) + x.shape[-3:])
        out = flat.copy()
        hit = xp.nonzero(mask.reshape(-1) > 0.5)[0]
        if hit.size:
            out[hit] = xp.flip(flat[hit], axis=self.axis)
        return out.reshape(x.shape)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, mask), (g,) = inputs, out_grads
        if not _gu.wants(x, inputs):
            return [None, None]
        return [apply(RandomFlip(self.axis), (g, mask)), None]


def _prob(p: Any, op: str) -> float:
    try:
        v = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"npx.image.{op}: p must be a number, got {p!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"npx.image.{op}: p must be in [0, 1], got {p!r}")
    return v


def random_flip(x: BaseArray, axis: int, p: float, op: str) -> BaseArray:
    """Flip each image (independently) along ``axis`` with probability ``p``."""
    check_image(x, op)
    pv = _prob(p, op)
    mask = sample("bernoulli", (pv,), size=x._shape[:-3], dtype=_F32, device=x._device,
                  any_dtype=True)
    return apply(RandomFlip(axis), (x, mask))  # type: ignore[no-any-return]


# -- colour adjustments ---------------------------------------------------------------------------
def _gray(xp: Any, x: Any) -> Any:
    """Luma per pixel, shape ``(..., H, W, 1)`` (the channel itself for one channel)."""
    if x.shape[-1] == 1:
        return x
    if x.shape[-1] == 3:  # the three products added in order, as the reduction below adds
        # them, but in passes along whole rows (not loops over one pixel's 3 channels)
        c = [x.dtype.type(v) for v in _LUMA]
        y = x[..., 0:1] * c[0]
        y += x[..., 1:2] * c[1]
        y += x[..., 2:3] * c[2]
        return y
    coef = xp.asarray(_LUMA, dtype=x.dtype)
    return (x * coef).sum(axis=-1, keepdims=True)


def _brightness(xp: Any, x: Any, a: Any) -> Any:
    return x * _bcast(a, x.ndim)


def _contrast(xp: Any, x: Any, a: Any) -> Any:
    a = _bcast(a, x.ndim)
    mean = _gray(xp, x).mean(axis=(-3, -2, -1), keepdims=True)
    return x * a + (1 - a) * mean


def _saturation(xp: Any, x: Any, a: Any) -> Any:
    if x.shape[-1] == 1:
        return x
    a = _bcast(a, x.ndim)
    return _gray(xp, x) * (1 - a) + x * a


# OpenCV's HLS -> RGB: for each hue sector, the table entries giving B, G and R
_HLS_SECTORS = numpy.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])


def _hue(xp: Any, x: Any, a: Any) -> Any:
    """Rotate the hue by ``a * 360`` degrees through OpenCV's RGB <-> HLS conversion (on 0-255
    values, like MXNet)."""
    if x.shape[-1] == 1:
        return x
    dt = x.dtype
    rgb = x / dt.type(255)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    vmax = rgb.max(axis=-1)
    vmin = rgb.min(axis=-1)
    diff = vmax - vmin
    lum = (vmax + vmin) * dt.type(0.5)
    chroma = diff > numpy.finfo(numpy.float32).eps
    one = dt.type(1)
    den = xp.where(lum < 0.5, vmax + vmin, 2 - vmax - vmin)
    sat = xp.where(chroma, diff / xp.where(chroma, den, one), 0)
    k = dt.type(60) / xp.where(chroma, diff, one)
    hue = xp.where(vmax == r, (g - b) * k,
                   xp.where(vmax == g, (b - r) * k + 120, (r - g) * k + 240))
    hue = xp.where(hue < 0, hue + 360, hue)
    hue = xp.where(chroma, hue, 0)
    hue = hue + a.reshape(a.shape[:-1] + (1,) * (hue.ndim - a.ndim + 1)) * dt.type(360)
    # back to RGB
    p2 = xp.where(lum <= 0.5, lum * (1 + sat), lum + sat - lum * sat)
    p1 = 2 * lum - p2
    h6 = hue / dt.type(60)
    h6 = h6 - 6 * xp.floor(h6 / 6)
    h6 = xp.where(h6 >= 6, h6 - 6, h6)
    sector = xp.clip(xp.floor(h6), 0, 5).astype(numpy.int64)
    frac = h6 - sector
    tab = xp.stack([p2, p1, p1 + (p2 - p1) * (1 - frac), p1 + (p2 - p1) * frac], axis=-1)
    pick = xp.asarray(_HLS_SECTORS)[sector]  # (..., 3): table positions of B, G, R
    bgr = xp.take_along_axis(tab, pick, axis=-1)
    out = bgr[..., ::-1]
    out = xp.where((sat != 0)[..., None], out, lum[..., None])
    return out * dt.type(255)


def _lighting(xp: Any, x: Any, alpha: Any) -> Any:
    if x.shape[-1] == 1:
        return x
    eig = xp.asarray(_EIG, dtype=x.dtype)
    pca = alpha @ eig.T  # (..., 3): eig @ alpha per image
    return x + _bcast(pca, x.ndim)


_ADJUST = {"brightness": (_brightness, 1), "contrast": (_contrast, 1),
           "saturation": (_saturation, 1), "hue": (_hue, 1), "lighting": (_lighting, 3)}
_JITTER = ("brightness", "contrast", "saturation", "hue")


def _param_shape(x: BaseArray, k: int) -> Shape:
    return x._shape[:-3] + (k,)


@register("_image_adjust")
class Adjust(Op):
    """A colour adjustment with per-image parameters ``f`` (shape ``batch + (k,)``, or ``(k,)``
    for all); integer results are clipped and truncated like MXNet's ``saturate_cast``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"_image_adjust_{kind}"  # type: ignore[misc]

    def infer(self, x: BaseArray, f: BaseArray) -> Specs:
        k = _ADJUST[self.kind][1]
        if f._shape not in (_param_shape(x, k), (k,)):
            raise ShapeError(f"npx.image: {self.kind} parameters of shape {f._shape} do not "
                             f"match data of shape {x._shape}")
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any, f: Any) -> Any:
        wd = _work(x.dtype)
        y = _ADJUST[self.kind][0](xp, x.astype(wd, copy=False), f.astype(wd, copy=False))
        return _saturate(xp, y, x.dtype, rnd=False)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, f), (g,) = inputs, out_grads
        if not _gu.wants(x, inputs):
            return [None, None]
        if self.kind == "hue":
            raise FrameworkError("npx.image.random_hue is not differentiable")
        return [_gu.cast_like(_adjust_grad(self.kind, x, f, g), x), None]


def _adjust_grad(kind: str, x: BaseArray, f: BaseArray, g: BaseArray) -> BaseArray:
    """The transpose of the (affine in ``x``) adjustment, applied to ``g``."""
    if kind == "lighting" or (kind == "saturation" and x._shape[-1] == 1):
        return g
    a = reshape(f, f._shape[:-1] + (1,) * (x.ndim - f.ndim) + f._shape[-1:])
    gx = _gu.mul(g, a)
    if kind == "brightness":
        return gx
    rest = _gu.sub(1.0, a)
    coef = _gu.const(_LUMA if x._shape[-1] == 3 else (1.0,), g, _work(g._dtype))
    if kind == "saturation":  # a g + (1 - a) coef sum_c g
        s = reduce("sum", g, axis=-1, keepdims=True)
    else:  # contrast: a g + (1 - a) coef sum_{h,w,c} g / (H W)
        hw = x._shape[-3] * x._shape[-2]
        s = _gu.div(reduce("sum", g, axis=(-3, -2, -1), keepdims=True), float(hw))
    return _gu.add(gx, _gu.mul(_gu.mul(rest, s), coef))


def adjust(x: BaseArray, kind: str, params: BaseArray) -> BaseArray:
    return apply(Adjust(kind), (x, params))  # type: ignore[no-any-return]


def _factor(v: Any, name: str, op: str, lower: float | None = 0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"npx.image.{op}: {name} must be a number, got {v!r}") from None
    if lower is not None and f < lower:
        raise ValueError(f"npx.image.{op}: {name} must be >= {lower}, got {v!r}")
    return f


def random_adjust(x: BaseArray, kind: str, min_factor: Any, max_factor: Any,
                  op: str) -> BaseArray:
    """The adjustment ``kind`` with a factor drawn uniformly in ``[min_factor, max_factor)``
    for each image."""
    check_image(x, op)
    _rgb_or_gray(x, op)
    lower = None if kind == "hue" else 0.0
    lo = _factor(min_factor, "min_factor", op, lower)
    hi = _factor(max_factor, "max_factor", op, lower)
    if lo > hi:
        raise ValueError(f"npx.image.{op}: min_factor ({lo}) must not exceed max_factor ({hi})")
    f = sample("uniform", (lo, hi), size=_param_shape(x, 1), device=x._device)
    return adjust(x, kind, f)


@register("_image_color_jitter")
class ColorJitter(Op):
    """Brightness, contrast, saturation and hue jitter in a random order (the argsort of
    ``keys``); ``u`` (uniform in [-1, 1), per image) scales each strength. Integer data is
    saturated between the steps, as MXNet writes each step to the output."""

    def __init__(self, strengths: tuple[float, ...]) -> None:
        self.strengths = strengths

    def infer(self, x: BaseArray, keys: BaseArray, u: BaseArray) -> Specs:
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any, keys: Any, u: Any) -> Any:
        wd = _work(x.dtype)
        order = [int(i) for i in xp.argsort(keys)]
        y = x
        for i in order:
            s = self.strengths[i]
            if s <= 0:
                continue
            f = u[..., i:i + 1].astype(wd) * wd.type(s)
            if i != 3:  # brightness, contrast and saturation factors are 1 +- s
                f = f + 1
            y = _saturate(xp, _ADJUST[_JITTER[i]][0](xp, y.astype(wd, copy=False), f),
                          x.dtype, rnd=False)
        return y.astype(x.dtype, copy=True)


def color_jitter(x: BaseArray, brightness: Any, contrast: Any, saturation: Any,
                 hue: Any) -> BaseArray:
    op = "random_color_jitter"
    check_image(x, op)
    _rgb_or_gray(x, op)
    s = tuple(_factor(v, n, op) for v, n in zip((brightness, contrast, saturation, hue),
                                                 _JITTER))
    keys = sample("uniform", (0.0, 1.0), size=(4,), device=x._device)
    u = sample("uniform", (-1.0, 1.0), size=_param_shape(x, 4), device=x._device)
    return apply(ColorJitter(s), (x, keys, u))  # type: ignore[no-any-return]


def adjust_lighting(x: BaseArray, alpha: Sequence[float]) -> BaseArray:
    op = "adjust_lighting"
    check_image(x, op)
    _rgb_or_gray(x, op)
    a = _floats(alpha, "alpha", op)
    if len(a) != 3:
        raise ValueError(f"npx.image.{op}: alpha must have 3 entries (R, G, B), got {alpha!r}")
    # (in a float image's own dtype: float32 alphas would cost float64 images ~1e-7)
    f = _gu.const(a, x, x._dtype if x._dtype.kind == "f" else _F32)
    return adjust(x, "lighting", f)


def random_lighting(x: BaseArray, alpha_std: Any = 0.05) -> BaseArray:
    op = "random_lighting"
    check_image(x, op)
    _rgb_or_gray(x, op)
    s = _factor(alpha_std, "alpha_std", op)
    f = sample("normal", (0.0, s), size=_param_shape(x, 3), device=x._device)
    return adjust(x, "lighting", f)
