"""Image transforms as Gluon blocks (MXNet's ``gluon.data.vision.transforms``).

Every transform takes one HWC image or an NHWC batch (``ToTensor`` turns them into CHW / NCHW
float32, which ``Normalize`` expects) as a framework array; a NumPy array is accepted too and
converted. They are built on :mod:`framework.npx.image`, so a batch is processed in one op, and
the random ones draw from the framework's generator (``np.random.seed`` reproduces them).

Per-image randomness: flips and colour jitter draw independently for each image of a batch.
Random crops (``RandomCrop``, ``RandomResizedCrop``) and ``RandomApply``/``RandomGray`` draw
once per call, so a batch shares one crop window (different windows would give different
shapes before the resize).

>>> from framework import np
>>> from framework.gluon.data.vision import transforms
>>> t = transforms.Compose([transforms.Resize(16), transforms.ToTensor(),
...                         transforms.Normalize(0.5, 0.25)])
>>> t(np.zeros((28, 28, 1), dtype='uint8')).shape
(1, 16, 16)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from .... import np, npx
from ....nd._base import BaseArray
from ....nd._create import from_numpy
from ...block import Block, HybridBlock
from ...nn import HybridSequential, Lambda, Sequential

__all__ = [
    "Compose", "HybridCompose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop",
    "CropResize", "RandomCrop", "RandomResizedCrop", "RandomFlipLeftRight",
    "RandomFlipTopBottom", "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue",
    "RandomColorJitter", "RandomLighting", "RandomGray", "RandomApply", "HybridRandomApply",
]


# -- helpers ------------------------------------------------------------------------------------
def _image(x: Any, who: str) -> BaseArray:
    """``x`` as a framework array of one image (3-d) or a batch (4-d)."""
    if isinstance(x, numpy.ndarray):
        x = from_numpy(numpy.ascontiguousarray(x))
    if not isinstance(x, BaseArray):
        raise TypeError(f"transforms.{who}: expected an image array (HWC or NHWC), got "
                        f"{type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"transforms.{who}: expected an HWC image or an NHWC batch, got shape "
                         f"{tuple(x.shape)}")
    return x


def _uniform(k: int) -> numpy.ndarray:
    """``k`` host draws in [0, 1) from the framework's generator (so ``np.random.seed`` fixes
    them); used for decisions taken in Python (crop windows, whether to apply)."""
    return np.random.uniform(0.0, 1.0, size=(k,)).asnumpy().astype(numpy.float64)


def _size_wh(size: Any, who: str) -> tuple[int, int]:
    """``size`` (an int, or ``(width, height)``) as ``(width, height)``."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        w = h = int(size)
    elif (isinstance(size, (tuple, list)) and len(size) == 2
          and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)):
        w, h = int(size[0]), int(size[1])
    else:
        raise TypeError(f"transforms.{who}: size must be an int or (width, height), got {size!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"transforms.{who}: size must be positive, got {size!r}")
    return w, h


def _scale_down(src_wh: tuple[int, int], size_wh: tuple[int, int]) -> tuple[int, int]:
    """Shrink the crop ``size_wh`` (keeping its aspect ratio) until it fits in ``src_wh``
    (MXNet's ``image.scale_down``)."""
    sw, sh = src_wh
    w, h = float(size_wh[0]), float(size_wh[1])
    if sh < h:
        w, h = w * sh / h, float(sh)
    if sw < w:
        w, h = float(sw), h * sw / w
    return int(w), int(h)


def _crop_resize(x: BaseArray, x0: int, y0: int, w: int, h: int, size_wh: tuple[int, int] | None,
                 interp: int) -> BaseArray:
    out = npx.image.crop(x, x0, y0, w, h)
    if size_wh is not None and (w, h) != size_wh:
        out = npx.image.resize(out, size_wh, False, interp)
    return out


def _factor_range(value: Any, name: str, who: str) -> tuple[float, float]:
    v = float(value)
    if v < 0:
        raise ValueError(f"transforms.{who}: {name} must be >= 0, got {value!r}")
    return max(0.0, 1.0 - v), 1.0 + v


# -- composition --------------------------------------------------------------------------------
class Compose(Sequential):
    """Apply ``transforms`` in order. Runs of consecutive HybridBlocks are grouped into a
    hybridized ``HybridSequential`` (as MXNet does); plain callables are wrapped in
    ``nn.Lambda``."""

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        super().__init__()
        run: list[HybridBlock] = []

        def flush() -> None:
            if len(run) == 1:
                self.add(run[0])
            elif run:
                group = HybridSequential()
                group.add(*run)
                group.hybridize()
                self.add(group)
            run.clear()

        for t in transforms:
            if isinstance(t, HybridBlock):
                run.append(t)
                continue
            flush()
            if isinstance(t, Block):
                self.add(t)
            elif callable(t):
                self.add(Lambda(t))
            else:
                raise TypeError(f"transforms.Compose: every transform must be a Block or a "
                                f"callable, got {type(t).__name__}")
        flush()


class HybridCompose(HybridSequential):
    """Apply HybridBlock ``transforms`` in order; the whole chain can be hybridized."""

    def __init__(self, transforms: Sequence[HybridBlock]) -> None:
        super().__init__()
        for t in transforms:
            if not isinstance(t, HybridBlock):
                raise TypeError(f"transforms.HybridCompose: every transform must be a "
                                f"HybridBlock, got {type(t).__name__}")
        self.add(*transforms)


class RandomApply(Sequential):
    """Apply ``transforms`` with probability ``p`` (one draw per call), else return the input
    unchanged."""

    def __init__(self, transforms: Block | Callable[..., Any], p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"transforms.RandomApply: p must be in [0, 1], got {p!r}")
        self.transforms = transforms if isinstance(transforms, Block) else Lambda(transforms)
        self.p = float(p)

    def forward(self, x: Any, *args: Any) -> Any:
        if self.p < _uniform(1)[0]:
            return (x,) + args if args else x
        return self.transforms(x, *args)


class HybridRandomApply(HybridBlock):
    """Apply the HybridBlock ``transforms`` with probability ``p`` (one draw per call); it is
    computed on every call and selected with ``np.where``, so the block can be hybridized. The
    transform must keep the input's shape and dtype."""

    def __init__(self, transforms: HybridBlock, p: float = 0.5) -> None:
        super().__init__()
        if not isinstance(transforms, HybridBlock):
            raise TypeError(f"transforms.HybridRandomApply: transforms must be a HybridBlock, "
                            f"got {type(transforms).__name__}")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"transforms.HybridRandomApply: p must be in [0, 1], got {p!r}")
        self.transforms = transforms
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        y = self.transforms(x)
        if y.shape != x.shape or y.dtype != x.dtype:
            raise ValueError(f"transforms.HybridRandomApply: the transform changed shape "
                             f"{tuple(x.shape)} {x.dtype} into {tuple(y.shape)} {y.dtype}; it "
                             "must keep both (use RandomApply)")
        u = np.random.uniform(0.0, 1.0, size=(), device=x.device)
        return np.where(u < self.p, y, x)


# -- conversion ---------------------------------------------------------------------------------
class Cast(HybridBlock):
    """Cast the input to ``dtype``."""

    #: the DataLoader may apply it to a stacked batch at once (``dataset._acts_per_sample``)
    _acts_per_sample = True

    def __init__(self, dtype: Any = "float32") -> None:
        super().__init__()
        self._dtype = numpy.dtype(dtype)

    def forward(self, x: Any) -> Any:
        if isinstance(x, numpy.ndarray):
            x = from_numpy(numpy.ascontiguousarray(x))
        return x.astype(self._dtype)


class ToTensor(HybridBlock):
    """HWC ``[0, 255]`` image (or NHWC batch) to CHW (NCHW) float32 in ``[0, 1]``."""

    #: the DataLoader may apply it to a stacked batch at once (``dataset._acts_per_sample``)
    _acts_per_sample = True

    def forward(self, x: Any) -> Any:
        return npx.image.to_tensor(_image(x, "ToTensor"))


class Normalize(HybridBlock):
    """``(x - mean[c]) / std[c]`` for each channel of a CHW tensor (or NCHW batch)."""

    #: the DataLoader may apply it to a stacked batch at once (``dataset._acts_per_sample``)
    _acts_per_sample = True

    def __init__(self, mean: Any = 0.0, std: Any = 1.0) -> None:
        super().__init__()
        self._mean = mean
        self._std = std

    def forward(self, x: Any) -> Any:
        return npx.image.normalize(_image(x, "Normalize"), self._mean, self._std)


# -- geometry -----------------------------------------------------------------------------------
class Resize(HybridBlock):
    """Resize to ``size``: an int (a square, or the short edge with ``keep_ratio``) or
    ``(width, height)``; ``interpolation`` is OpenCV's code (0 nearest, 1 bilinear, 2 bicubic,
    3 area, 4 Lanczos)."""

    def __init__(self, size: int | tuple[int, int], keep_ratio: bool = False,
                 interpolation: int = 1) -> None:
        super().__init__()
        _size_wh(size, "Resize")
        self._size = tuple(size) if isinstance(size, (tuple, list)) else size
        self._keep = bool(keep_ratio)
        self._interpolation = interpolation

    def forward(self, x: Any) -> Any:
        return npx.image.resize(_image(x, "Resize"), self._size, self._keep, self._interpolation)


class CropResize(HybridBlock):
    """Crop the ``width`` x ``height`` region at column ``x``, row ``y``, then resize it to
    ``size`` (an int or ``(width, height)``) when given."""

    def __init__(self, x: int, y: int, width: int, height: int,
                 size: int | tuple[int, int] | None = None,
                 interpolation: int | None = None) -> None:
        super().__init__()
        self._box = (int(x), int(y), int(width), int(height))
        self._size = None if size is None else _size_wh(size, "CropResize")
        self._interpolation = 1 if interpolation is None else interpolation

    def forward(self, x: Any) -> Any:
        x = _image(x, "CropResize")
        return _crop_resize(x, *self._box, self._size, self._interpolation)


class CenterCrop(Block):
    """Crop the centre ``size`` (an int or ``(width, height)``) region. An image smaller than
    ``size`` gives the largest centred region of that aspect ratio, resized to ``size``."""

    def __init__(self, size: int | tuple[int, int], interpolation: int = 1) -> None:
        super().__init__()
        self._size = _size_wh(size, "CenterCrop")
        self._interpolation = interpolation

    def forward(self, x: Any) -> Any:
        x = _image(x, "CenterCrop")
        h, w = x.shape[-3], x.shape[-2]
        cw, ch = _scale_down((w, h), self._size)
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        return _crop_resize(x, x0, y0, cw, ch, self._size, self._interpolation)


class RandomCrop(Block):
    """Crop a random ``size`` (an int or ``(width, height)``) window, after padding the image
    by ``pad`` pixels of ``pad_value`` on every side (an int) when given. An image smaller than
    the window is handled as in :class:`CenterCrop`."""

    def __init__(self, size: int | tuple[int, int], pad: int | None = None,
                 pad_value: float = 0, interpolation: int = 1) -> None:
        super().__init__()
        self._size = _size_wh(size, "RandomCrop")
        if pad is not None and (not isinstance(pad, numbers.Integral) or pad < 0):
            raise ValueError(f"transforms.RandomCrop: pad must be a non-negative int, got "
                             f"{pad!r}")
        self._pad = int(pad) if pad else 0
        self._pad_value = pad_value
        self._interpolation = interpolation

    def forward(self, x: Any) -> Any:
        x = _image(x, "RandomCrop")
        if self._pad:
            p = self._pad
            widths = ((0, 0),) * (x.ndim - 3) + ((p, p), (p, p), (0, 0))
            x = np.pad(x, widths, mode="constant", constant_values=self._pad_value)  # type: ignore[attr-defined]
        h, w = x.shape[-3], x.shape[-2]
        cw, ch = _scale_down((w, h), self._size)
        u = _uniform(2)
        x0 = min(int(u[0] * (w - cw + 1)), w - cw)
        y0 = min(int(u[1] * (h - ch + 1)), h - ch)
        return _crop_resize(x, x0, y0, cw, ch, self._size, self._interpolation)


class RandomResizedCrop(Block):
    """Crop a random window whose area is a fraction in ``scale`` of the image's and whose
    aspect ratio (width / height) is log-uniform in ``ratio``, then resize it to ``size`` (an
    int or ``(width, height)``). Ten windows are tried; if none fits, a centre crop is used
    (MXNet's ``random_size_crop``)."""

    def __init__(self, size: int | tuple[int, int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: int = 1) -> None:
        super().__init__()
        self._size = _size_wh(size, "RandomResizedCrop")
        if isinstance(scale, numbers.Real):
            scale = (float(scale), 1.0)
        if not (len(scale) == 2 and 0 < scale[0] <= scale[1]):
            raise ValueError(f"transforms.RandomResizedCrop: scale must be (low, high) with "
                             f"0 < low <= high, got {scale!r}")
        if not (len(ratio) == 2 and 0 < ratio[0] <= ratio[1]):
            raise ValueError(f"transforms.RandomResizedCrop: ratio must be (low, high) with "
                             f"0 < low <= high, got {ratio!r}")
        self._scale = (float(scale[0]), float(scale[1]))
        self._ratio = (float(ratio[0]), float(ratio[1]))
        self._interpolation = interpolation

    def window(self, h: int, w: int, u: numpy.ndarray) -> tuple[int, int, int, int]:
        """The ``(x, y, width, height)`` window for an ``h`` x ``w`` image given 40 uniform
        draws ``u`` (10 attempts of area, ratio, x, y)."""
        area = h * w
        lo, hi = math.log(self._ratio[0]), math.log(self._ratio[1])
        for a, r, ux, uy in u.reshape(10, 4):
            target = (self._scale[0] + a * (self._scale[1] - self._scale[0])) * area
            aspect = math.exp(lo + r * (hi - lo))
            cw = int(round(math.sqrt(target * aspect)))
            ch = int(round(math.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                x0 = min(int(ux * (w - cw + 1)), w - cw)
                y0 = min(int(uy * (h - ch + 1)), h - ch)
                return x0, y0, cw, ch
        cw, ch = _scale_down((w, h), self._size)
        return (w - cw) // 2, (h - ch) // 2, cw, ch

    def forward(self, x: Any) -> Any:
        x = _image(x, "RandomResizedCrop")
        box = self.window(x.shape[-3], x.shape[-2], _uniform(40))
        return _crop_resize(x, *box, self._size, self._interpolation)


class RandomFlipLeftRight(HybridBlock):
    """Mirror each image horizontally with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self._p = p

    def forward(self, x: Any) -> Any:
        return npx.image.random_flip_left_right(_image(x, "RandomFlipLeftRight"), self._p)


class RandomFlipTopBottom(HybridBlock):
    """Mirror each image vertically with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self._p = p

    def forward(self, x: Any) -> Any:
        return npx.image.random_flip_top_bottom(_image(x, "RandomFlipTopBottom"), self._p)


# -- colour -------------------------------------------------------------------------------------
class RandomBrightness(HybridBlock):
    """Scale each image by a factor uniform in ``[max(0, 1 - brightness), 1 + brightness)``."""

    def __init__(self, brightness: float) -> None:
        super().__init__()
        self._args = _factor_range(brightness, "brightness", "RandomBrightness")

    def forward(self, x: Any) -> Any:
        return npx.image.random_brightness(_image(x, "RandomBrightness"), *self._args)


class RandomContrast(HybridBlock):
    """Blend each image with its mean gray level, factor uniform in
    ``[max(0, 1 - contrast), 1 + contrast)``."""

    def __init__(self, contrast: float) -> None:
        super().__init__()
        self._args = _factor_range(contrast, "contrast", "RandomContrast")

    def forward(self, x: Any) -> Any:
        return npx.image.random_contrast(_image(x, "RandomContrast"), *self._args)


class RandomSaturation(HybridBlock):
    """Blend each pixel with its gray level, factor uniform in
    ``[max(0, 1 - saturation), 1 + saturation)``."""

    def __init__(self, saturation: float) -> None:
        super().__init__()
        self._args = _factor_range(saturation, "saturation", "RandomSaturation")

    def forward(self, x: Any) -> Any:
        return npx.image.random_saturation(_image(x, "RandomSaturation"), *self._args)


class RandomHue(HybridBlock):
    """Rotate each image's hue by ``alpha * 360`` degrees, ``alpha`` uniform in
    ``[-hue, hue)``. (MXNet draws from ``[1 - hue, 1 + hue)``, the same rotations for
    ``hue <= 1``.)"""

    def __init__(self, hue: float) -> None:
        super().__init__()
        v = float(hue)
        if v < 0:
            raise ValueError(f"transforms.RandomHue: hue must be >= 0, got {hue!r}")
        self._args = (-v, v)

    def forward(self, x: Any) -> Any:
        return npx.image.random_hue(_image(x, "RandomHue"), *self._args)


class RandomColorJitter(HybridBlock):
    """Random brightness, contrast, saturation (factors ``1 +- s``) and hue (``+- hue``)
    changes in a random order; a strength of 0 skips that change."""

    def __init__(self, brightness: float = 0, contrast: float = 0, saturation: float = 0,
                 hue: float = 0) -> None:
        super().__init__()
        self._args = (brightness, contrast, saturation, hue)
        for name, v in zip(("brightness", "contrast", "saturation", "hue"), self._args):
            if float(v) < 0:
                raise ValueError(f"transforms.RandomColorJitter: {name} must be >= 0, got {v!r}")

    def forward(self, x: Any) -> Any:
        return npx.image.random_color_jitter(_image(x, "RandomColorJitter"), *self._args)


class RandomLighting(HybridBlock):
    """AlexNet-style PCA lighting noise with ``alpha ~ normal(0, alpha)`` per image."""

    def __init__(self, alpha: float) -> None:
        super().__init__()
        if float(alpha) < 0:
            raise ValueError(f"transforms.RandomLighting: alpha must be >= 0, got {alpha!r}")
        self._alpha = float(alpha)

    def forward(self, x: Any) -> Any:
        return npx.image.random_lighting(_image(x, "RandomLighting"), self._alpha)


class RandomGray(HybridBlock):
    """With probability ``p`` (one draw per call) replace RGB by its luma
    (0.299 R + 0.587 G + 0.114 B) in all three channels; the dtype is kept (integers
    rounded)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"transforms.RandomGray: p must be in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        x = _image(x, "RandomGray")
        if x.shape[-1] != 3:
            raise ValueError(f"transforms.RandomGray: expected 3 (RGB) channels, got shape "
                             f"{tuple(x.shape)}")
        work = "float64" if x.dtype == numpy.float64 else "float32"
        luma = np.array([0.299, 0.587, 0.114], dtype=work, device=x.device)
        gray = (x.astype(work) * luma).sum(axis=-1, keepdims=True)
        if x.dtype.kind in "iu":
            info = numpy.iinfo(x.dtype)
            gray = np.clip(np.rint(gray), info.min, info.max)
        gray = np.broadcast_to(gray, x.shape).astype(x.dtype)
        u = np.random.uniform(0.0, 1.0, size=(), device=x.device)
        return np.where(u < self.p, gray, x)
