"""``npx.image``: MXNet's image operators (``mx.npx.image``).

Images are HWC arrays (height, width, channels) and batches NHWC, except that ``to_tensor``
returns CHW / NCHW float32 and ``normalize`` works on that layout. Flips, crops and resizes keep
the dtype (integer resizes are rounded); colour adjustments clip integer results to the type's
range and truncate, as MXNet does. Random ops draw one parameter set per image from the
device's generator, so ``np.random.seed`` (or ``npx.random.seed``) reproduces them.

Gradients: ``to_tensor``, ``normalize``, ``resize`` (every interpolation is linear in the
pixels), ``crop``, the flips (random ones too) and brightness, contrast, saturation and lighting
are differentiable for floating data; hue and colour jitter are not.
"""

from __future__ import annotations

from typing import Any

from ..nd import _image
from ..nd._base import BaseArray

__all__ = [
    "to_tensor", "normalize", "resize", "crop", "flip_left_right", "flip_top_bottom",
    "random_flip_left_right", "random_flip_top_bottom", "random_brightness", "random_contrast",
    "random_saturation", "random_hue", "random_color_jitter", "adjust_lighting",
    "random_lighting",
]


def to_tensor(data: BaseArray) -> BaseArray:
    """HWC (or NHWC) to CHW (NCHW) float32, divided by 255 (any input dtype)."""
    return _image.to_tensor(data)


def normalize(data: BaseArray, mean: Any = 0.0, std: Any = 1.0) -> BaseArray:
    """``(data - mean[c]) / std[c]`` per channel of CHW (or NCHW) data; ``mean`` and ``std`` are
    numbers or sequences with one entry per channel. Floating dtypes are kept (integers give
    float32)."""
    return _image.normalize(data, mean, std)


def resize(data: BaseArray, size: Any, keep_ratio: bool = False, interp: int = 1) -> BaseArray:
    """Resize HWC (or NHWC) images to ``size``: ``(width, height)``, or an int for a square; with
    ``keep_ratio`` an int sets the short edge and the long one is scaled (rounded down).

    ``interp`` is OpenCV's code: 0 nearest, 1 bilinear (default), 2 bicubic, 3 area, 4 Lanczos4,
    with OpenCV's pixel-centre convention (``src = (dst + 0.5) * in / out - 0.5``, clamped).
    Integer images are computed in float32 and rounded (OpenCV's fixed-point arithmetic may differ
    by one). The dtype is kept.
    """
    return _image.resize(data, size, keep_ratio, interp)


def crop(data: BaseArray, x: int, y: int, width: int, height: int) -> BaseArray:
    """The ``width`` x ``height`` region whose top-left corner is column ``x``, row ``y``."""
    return _image.crop(data, x, y, width, height)


def flip_left_right(data: BaseArray) -> BaseArray:
    """Mirror the images horizontally (reverse the width axis)."""
    return _image.flip_left_right(data)


def flip_top_bottom(data: BaseArray) -> BaseArray:
    """Mirror the images vertically (reverse the height axis)."""
    return _image.flip_top_bottom(data)


def random_flip_left_right(data: BaseArray, p: float = 0.5) -> BaseArray:
    """Flip each image left-right with probability ``p`` (independently within a batch)."""
    return _image.random_flip(data, -2, p, "random_flip_left_right")


def random_flip_top_bottom(data: BaseArray, p: float = 0.5) -> BaseArray:
    """Flip each image top-bottom with probability ``p`` (independently within a batch)."""
    return _image.random_flip(data, -3, p, "random_flip_top_bottom")


def random_brightness(data: BaseArray, min_factor: float, max_factor: float) -> BaseArray:
    """``data * alpha`` with ``alpha`` uniform in ``[min_factor, max_factor)`` per image."""
    return _image.random_adjust(data, "brightness", min_factor, max_factor, "random_brightness")


def random_contrast(data: BaseArray, min_factor: float, max_factor: float) -> BaseArray:
    """``data * alpha + (1 - alpha) * mean_gray`` (the image's mean luma, 0.299 R + 0.587 G +
    0.114 B) with ``alpha`` uniform in ``[min_factor, max_factor)`` per image."""
    return _image.random_adjust(data, "contrast", min_factor, max_factor, "random_contrast")


def random_saturation(data: BaseArray, min_factor: float, max_factor: float) -> BaseArray:
    """``gray * (1 - alpha) + data * alpha`` per pixel (``gray`` its luma) with ``alpha``
    uniform in ``[min_factor, max_factor)`` per image.

    Differs from MXNet, whose kernel takes only the blue term of the luma (a bug)."""
    return _image.random_adjust(data, "saturation", min_factor, max_factor,
                                "random_saturation")


def random_hue(data: BaseArray, min_factor: float, max_factor: float) -> BaseArray:
    """Rotate the hue by ``alpha * 360`` degrees (through HLS, on 0-255 values as MXNet) with
    ``alpha`` uniform in ``[min_factor, max_factor)`` per image."""
    return _image.random_adjust(data, "hue", min_factor, max_factor, "random_hue")


def random_color_jitter(data: BaseArray, brightness: float, contrast: float, saturation: float,
                        hue: float) -> BaseArray:
    """Brightness, contrast and saturation with factors ``1 + uniform(-s, s)`` and hue with
    ``uniform(-hue, hue)``, applied in a random order (one order per call, factors per image);
    a strength of 0 skips that step."""
    return _image.color_jitter(data, brightness, contrast, saturation, hue)


def adjust_lighting(data: BaseArray, alpha: Any) -> BaseArray:
    """AlexNet-style PCA lighting: add ``eigvec @ (alpha * eigval)`` (ImageNet's RGB
    eigen-decomposition) to every pixel; ``alpha`` has 3 entries."""
    return _image.adjust_lighting(data, alpha)


def random_lighting(data: BaseArray, alpha_std: float = 0.05) -> BaseArray:
    """:func:`adjust_lighting` with ``alpha`` drawn from ``normal(0, alpha_std)`` per image."""
    return _image.random_lighting(data, alpha_std)
