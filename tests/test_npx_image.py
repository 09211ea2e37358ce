"""``npx.image``: the image operators against NumPy references written here (per-pixel formulas
on tiny images), shapes for HWC and NHWC, dtypes, seeding of the random ops, and gradients
against finite differences."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable
from typing import Any

import numpy as onp
import pytest

from framework import autograd, np, npx
from framework.base import DTypeError, ShapeError
from framework.nd import _image

img = npx.image
RNG = onp.random.default_rng(7)


def _u8(*shape: int) -> onp.ndarray:
    return RNG.integers(0, 256, shape).astype(onp.uint8)


def _f(*shape: int) -> onp.ndarray:
    return RNG.uniform(0, 255, shape)


def test_namespace() -> None:
    assert "image" in npx.__all__
    assert sorted(img.__all__) == sorted([
        "to_tensor", "normalize", "resize", "crop", "flip_left_right", "flip_top_bottom",
        "random_flip_left_right", "random_flip_top_bottom", "random_brightness",
        "random_contrast", "random_saturation", "random_hue", "random_color_jitter",
        "adjust_lighting", "random_lighting"])


# -- to_tensor, normalize -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5, 3), (2, 4, 5, 1)])
@pytest.mark.parametrize("dtype", ["uint8", "float64"])
def test_to_tensor(shape: tuple[int, ...], dtype: str) -> None:
    a = _u8(*shape).astype(dtype)
    y = img.to_tensor(np.array(a, dtype=dtype))
    assert y.dtype == onp.float32
    ref = onp.moveaxis(a, -1, -3).astype(onp.float32) / onp.float32(255)
    assert y.shape == ref.shape
    onp.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-6)


def test_to_tensor_rejects() -> None:
    with pytest.raises(ShapeError, match="HWC"):
        img.to_tensor(np.zeros((4, 5)))
    with pytest.raises(TypeError, match="ndarray"):
        img.to_tensor(onp.zeros((4, 5, 3)))
    with pytest.raises(DTypeError):
        img.to_tensor(np.zeros((4, 5, 3), dtype="bool"))


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_normalize(shape: tuple[int, ...]) -> None:
    a = RNG.uniform(0, 1, shape).astype(onp.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    y = img.normalize(np.array(a), mean, std)
    ref = (a - onp.array(mean, onp.float32).reshape(3, 1, 1)) / onp.array(
        std, onp.float32).reshape(3, 1, 1)
    assert y.dtype == onp.float32 and y.shape == shape
    onp.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-6)
    # one value for every channel; float64 kept
    y = img.normalize(np.array(a.astype(onp.float64), dtype="float64"), 0.5, 2.0)
    assert y.dtype == onp.float64
    onp.testing.assert_allclose(y.asnumpy(), (a - 0.5) / 2.0, rtol=1e-6)


def test_normalize_rejects() -> None:
    with pytest.raises(ShapeError, match="1 or 3"):
        img.normalize(np.zeros((3, 2, 2)), (0.1, 0.2), 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        img.normalize(np.zeros((3, 2, 2)), 0.0, 0.0)


# -- resize -----------------------------------------------------------------------------------
def _bilinear_ref(a: onp.ndarray, oh: int, ow: int) -> onp.ndarray:
    """OpenCV INTER_LINEAR, one output pixel at a time: src = (d + 0.5) * in / out - 0.5,
    clamped to the image."""
    h, w = a.shape[:2]
    out = onp.zeros((oh, ow) + a.shape[2:])
    for i in range(oh):
        sy = min(max((i + 0.5) * h / oh - 0.5, 0.0), h - 1)
        y0 = int(math.floor(sy))
        y1, fy = min(y0 + 1, h - 1), sy - y0
        for j in range(ow):
            sx = min(max((j + 0.5) * w / ow - 0.5, 0.0), w - 1)
            x0 = int(math.floor(sx))
            x1, fx = min(x0 + 1, w - 1), sx - x0
            out[i, j] = ((1 - fy) * ((1 - fx) * a[y0, x0] + fx * a[y0, x1])
                         + fy * ((1 - fx) * a[y1, x0] + fx * a[y1, x1]))
    return out


def _nearest_ref(a: onp.ndarray, oh: int, ow: int) -> onp.ndarray:
    h, w = a.shape[:2]
    rows = [min(int(math.floor(i * h / oh)), h - 1) for i in range(oh)]
    cols = [min(int(math.floor(j * w / ow)), w - 1) for j in range(ow)]
    return a[rows][:, cols]


@pytest.mark.parametrize("hw,size", [
    ((3, 4), (7, 5)),    # up in both
    ((7, 6), (2, 3)),    # down in both
    ((4, 6), (9, 2)),    # wider and shorter
    ((5, 5), (5, 5)),    # identity
    ((1, 3), (4, 2)),    # a single row
])
def test_resize_bilinear_matches_formula(hw: tuple[int, int], size: tuple[int, int]) -> None:
    a = _f(*hw, 3)
    ow, oh = size
    ref = _bilinear_ref(a, oh, ow)
    y = img.resize(np.array(a, dtype="float64"), size)
    assert y.shape == (oh, ow, 3) and y.dtype == onp.float64
    onp.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-5, atol=1e-4)
    y32 = img.resize(np.array(a.astype(onp.float32)), size)
    assert y32.dtype == onp.float32
    onp.testing.assert_allclose(y32.asnumpy(), ref, rtol=1e-4, atol=1e-3)
    # uint8 stays uint8 and is rounded
    a8 = a.astype(onp.uint8)
    y8 = img.resize(np.array(a8, dtype="uint8"), size)
    assert y8.dtype == onp.uint8
    ref8 = onp.rint(_bilinear_ref(a8.astype(onp.float64), oh, ow))
    assert onp.abs(y8.asnumpy().astype(int) - ref8).max() <= 1


def test_resize_nearest_and_batch() -> None:
    a = _u8(2, 5, 7, 3)
    y = img.resize(np.array(a, dtype="uint8"), (3, 9), interp=0)
    assert y.shape == (2, 9, 3, 3) and y.dtype == onp.uint8
    for n in range(2):
        onp.testing.assert_array_equal(y.asnumpy()[n], _nearest_ref(a[n], 9, 3))
    yb = img.resize(np.array(a.astype(onp.float32)), (4, 6)).asnumpy()
    for n in range(2):
        onp.testing.assert_allclose(yb[n], _bilinear_ref(a[n].astype(onp.float64), 6, 4),
                                    rtol=1e-4, atol=1e-3)


def test_resize_keep_ratio_and_sizes() -> None:
    x = np.zeros((6, 10, 3))
    assert img.resize(x, 4).shape == (4, 4, 3)
    assert img.resize(x, 4, keep_ratio=True).shape == (4, 6, 3)   # 10 * 4 // 6 = 6
    assert img.resize(np.zeros((2, 10, 6, 1)), 4, keep_ratio=True).shape == (2, 6, 4, 1)
    assert img.resize(x, (8, 3), keep_ratio=True).shape == (3, 8, 3)  # (w, h) ignores it
    assert img.resize(x, [5]).shape == (5, 5, 3)
    a = _f(6, 10, 1)
    onp.testing.assert_allclose(img.resize(np.array(a, dtype="float64"), 4,
                                           keep_ratio=True).asnumpy(),
                                _bilinear_ref(a, 4, 6), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="positive"):
        img.resize(x, (0, 3))
    with pytest.raises(ValueError, match="interp"):
        img.resize(x, 3, interp=7)
    with pytest.raises(ShapeError):
        img.resize(np.zeros((4, 4)), 2)


@pytest.mark.parametrize("interp", [0, 1, 2, 3, 4])
def test_resize_other_interpolations(interp: int) -> None:
    # weights sum to one: a constant image stays constant, up and down
    c = onp.full((5, 7, 3), 42.0)
    for size in ((3, 2), (11, 9)):
        y = img.resize(np.array(c, dtype="float64"), size, interp=interp).asnumpy()
        onp.testing.assert_allclose(y, 42.0, rtol=1e-6)
    # integer-factor area downscaling is the block mean
    a = _f(4, 6, 2)
    if interp == 3:
        y = img.resize(np.array(a, dtype="float64"), (3, 2), interp=3).asnumpy()
        ref = a.reshape(2, 2, 3, 2, 2).mean(axis=(1, 3))
        onp.testing.assert_allclose(y, ref, rtol=1e-5)


def test_resize_taps_bicubic_matches_keys_kernel() -> None:
    idx, w = _image.resize_taps(6, 4, 2, False)
    src = (onp.arange(4) + 0.5) * 1.5 - 0.5
    for o in range(4):
        x0 = math.floor(src[o])
        for k in range(4):
            t = abs(src[o] - (x0 - 1 + k))
            a = -0.75
            ref = ((a + 2) * t - (a + 3)) * t * t + 1 if t <= 1 else \
                ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
            assert abs(w[o, k] - ref) < 1e-5
            assert idx[o, k] == min(max(x0 - 1 + k, 0), 5)


# -- crop, flips --------------------------------------------------------------------------------
def test_crop() -> None:
    a = _u8(2, 5, 6, 3)
    y = img.crop(np.array(a, dtype="uint8"), 1, 2, 4, 3)
    assert y.dtype == onp.uint8
    onp.testing.assert_array_equal(y.asnumpy(), a[:, 2:5, 1:5])
    onp.testing.assert_array_equal(img.crop(np.array(a[0], dtype="uint8"), 0, 0, 6, 5).asnumpy(),
                                   a[0])
    with pytest.raises(ValueError, match="not inside"):
        img.crop(np.array(a), 3, 0, 4, 2)
    with pytest.raises(ValueError, match="not inside"):
        img.crop(np.array(a), 0, 0, 0, 2)


def test_flips() -> None:
    a = _u8(2, 3, 4, 3)
    x = np.array(a, dtype="uint8")
    lr, tb = img.flip_left_right(x), img.flip_top_bottom(x)
    assert lr.dtype == onp.uint8 and tb.dtype == onp.uint8
    onp.testing.assert_array_equal(lr.asnumpy(), a[:, :, ::-1])
    onp.testing.assert_array_equal(tb.asnumpy(), a[:, ::-1])
    onp.testing.assert_array_equal(img.flip_left_right(x[0]).asnumpy(), a[0, :, ::-1])
    onp.testing.assert_array_equal(img.flip_top_bottom(x[0]).asnumpy(), a[0, ::-1])


def test_random_flips() -> None:
    a = _u8(16, 3, 4, 3)
    x = np.array(a, dtype="uint8")
    for fn, view in ((img.random_flip_left_right, lambda b: b[:, ::-1]),
                     (img.random_flip_top_bottom, lambda b: b[::-1])):
        np.random.seed(11)
        y1 = fn(x).asnumpy()
        np.random.seed(11)
        y2 = fn(x).asnumpy()
        onp.testing.assert_array_equal(y1, y2)
        flipped = [bool((y1[n] == view(a[n])).all()) for n in range(16)]
        kept = [bool((y1[n] == a[n]).all()) for n in range(16)]
        assert all(f or k for f, k in zip(flipped, kept))
        assert 0 < sum(flipped) < 16  # per-image draws
        onp.testing.assert_array_equal(fn(x, p=0.0).asnumpy(), a)
        onp.testing.assert_array_equal(fn(x[0], p=1.0).asnumpy(), view(a[0]))
    with pytest.raises(ValueError, match="p must be"):
        img.random_flip_left_right(x, p=1.5)


# -- colour ---------------------------------------------------------------------------------
def _luma(a: onp.ndarray) -> onp.ndarray:
    return a @ onp.array([0.299, 0.587, 0.114]) if a.shape[-1] == 3 else a[..., 0]


def _adjust_ref(kind: str, a: onp.ndarray, f: float) -> onp.ndarray:
    if kind == "brightness":
        return a * f
    if kind == "contrast":
        return a * f + (1 - f) * _luma(a).mean()
    if kind == "saturation":
        return _luma(a)[..., None] * (1 - f) + a * f
    out = onp.empty_like(a)
    for idx in onp.ndindex(a.shape[:-1]):
        h, l_, s = colorsys.rgb_to_hls(*(a[idx] / 255.0))
        out[idx] = onp.array(colorsys.hls_to_rgb((h + f) % 1.0, l_, s)) * 255.0
    return out


@pytest.mark.parametrize("kind", ["brightness", "contrast", "saturation", "hue"])
def test_adjust_matches_reference(kind: str) -> None:
    a = _f(2, 3, 4, 3)
    f = onp.array([[0.7], [1.3]]) if kind != "hue" else onp.array([[0.2], [-0.45]])
    y = _image.adjust(np.array(a, dtype="float64"), kind, np.array(f, dtype="float64"))
    for n in range(2):
        onp.testing.assert_allclose(y.asnumpy()[n], _adjust_ref(kind, a[n], f[n, 0]),
                                    rtol=1e-6, atol=1e-6)
    # uint8: computed in float32, clipped to [0, 255] and truncated
    a8 = a.astype(onp.uint8)
    y8 = _image.adjust(np.array(a8, dtype="uint8"), kind, np.array(f * 1.0))
    assert y8.dtype == onp.uint8
    for n in range(2):
        ref = onp.clip(_adjust_ref(kind, a8[n].astype(onp.float64), f[n, 0]), 0, 255)
        assert onp.abs(y8.asnumpy()[n].astype(float) - onp.trunc(ref)).max() <= 1


def test_adjust_gray_images() -> None:
    a = _f(3, 4, 1)
    x = np.array(a, dtype="float64")
    f = np.array([0.5], dtype="float64")
    onp.testing.assert_allclose(_image.adjust(x, "contrast", f).asnumpy(),
                                a * 0.5 + 0.5 * a.mean())
    for kind in ("saturation", "hue"):
        onp.testing.assert_allclose(_image.adjust(x, kind, f).asnumpy(), a)
    with pytest.raises(ShapeError, match="1 or 3"):
        img.random_brightness(np.zeros((2, 2, 4)), 0.5, 1.5)


def test_lighting() -> None:
    eig = onp.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                     [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                     [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]])
    a = _f(3, 4, 3)
    alpha = (0.1, -0.2, 0.05)
    y = img.adjust_lighting(np.array(a, dtype="float64"), alpha)
    onp.testing.assert_allclose(y.asnumpy(), a + eig @ onp.array(alpha), rtol=1e-6)
    y8 = img.adjust_lighting(np.array(a.astype(onp.uint8), dtype="uint8"), alpha)
    assert y8.dtype == onp.uint8
    with pytest.raises(ValueError, match="3 entries"):
        img.adjust_lighting(np.array(a), (0.1, 0.2))


RANDOM_OPS: dict[str, Callable[[Any], Any]] = {
    "brightness": lambda x: img.random_brightness(x, 0.5, 1.5),
    "contrast": lambda x: img.random_contrast(x, 0.5, 1.5),
    "saturation": lambda x: img.random_saturation(x, 0.5, 1.5),
    "hue": lambda x: img.random_hue(x, -0.3, 0.3),
    "color_jitter": lambda x: img.random_color_jitter(x, 0.4, 0.4, 0.4, 0.1),
    "lighting": lambda x: img.random_lighting(x, 0.1),
}


@pytest.mark.parametrize("name", sorted(RANDOM_OPS))
def test_random_ops_seeded(name: str) -> None:
    fn = RANDOM_OPS[name]
    for a, dt in ((_u8(3, 4, 5, 3), "uint8"), (_f(4, 5, 3).astype(onp.float32), "float32")):
        x = np.array(a, dtype=dt)
        np.random.seed(5)
        y1 = fn(x)
        y2 = fn(x)
        np.random.seed(5)
        y3 = fn(x)
        assert y1.dtype == a.dtype and y1.shape == a.shape
        onp.testing.assert_array_equal(y1.asnumpy(), y3.asnumpy())
        assert not onp.array_equal(y1.asnumpy(), y2.asnumpy())


def test_random_brightness_range_and_per_image() -> None:
    a = _f(6, 3, 4, 3) + 1.0
    np.random.seed(1)
    y = img.random_brightness(np.array(a, dtype="float64"), 0.5, 1.5).asnumpy()
    ratios = (y / a).reshape(6, -1)
    onp.testing.assert_allclose(ratios, ratios[:, :1].repeat(ratios.shape[1], 1), rtol=1e-6)
    assert ((ratios >= 0.5) & (ratios < 1.5)).all()
    assert len(set(onp.round(ratios[:, 0], 6))) == 6


def test_color_jitter_zero_is_identity() -> None:
    a = _u8(4, 5, 3)
    y = img.random_color_jitter(np.array(a, dtype="uint8"), 0, 0, 0, 0)
    onp.testing.assert_array_equal(y.asnumpy(), a)
    with pytest.raises(ValueError, match=">= 0"):
        img.random_color_jitter(np.array(a), -0.1, 0, 0, 0)
    with pytest.raises(ValueError, match="exceed"):
        img.random_brightness(np.array(a), 1.5, 0.5)


# -- gradients -----------------------------------------------------------------------------------
EPS = 1e-6


def check_grad(f: Callable[[Any], Any], a: onp.ndarray, seed: int = 0, eps: float = EPS,
               rtol: float = 1e-6) -> None:
    """autograd's gradient of sum(h * f(x)) along a random direction vs central differences."""
    rng = onp.random.default_rng(seed)
    x = np.array(a, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = f(x)
    h = rng.standard_normal(y.shape)
    y.backward(np.array(h, dtype="float64"))
    v = rng.standard_normal(a.shape)

    def value(b: onp.ndarray) -> float:
        return float((f(np.array(b, dtype="float64")).asnumpy() * h).sum())

    num = (value(a + eps * v) - value(a - eps * v)) / (2 * eps)
    ana = float((x.grad.asnumpy() * v).sum())
    assert abs(num - ana) <= rtol * max(1.0, abs(num)), (num, ana)


def _seeded(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        np.random.seed(3)
        return fn(x)
    return f


GRAD_CASES: dict[str, tuple[Callable[[Any], Any], tuple[int, ...]]] = {
    "normalize": (lambda x: img.normalize(x, (0.1, 0.2, 0.3), (0.5, 2.0, 4.0)), (2, 3, 4, 5)),
    "resize_up": (lambda x: img.resize(x, (7, 5)), (3, 4, 2)),
    "resize_down": (lambda x: img.resize(x, (2, 3)), (2, 7, 5, 2)),
    "resize_nearest": (lambda x: img.resize(x, (5, 2), interp=0), (3, 4, 2)),
    "resize_bicubic": (lambda x: img.resize(x, (6, 3), interp=2), (4, 4, 1)),
    "resize_area": (lambda x: img.resize(x, (2, 3), interp=3), (5, 7, 1)),
    "resize_lanczos": (lambda x: img.resize(x, (9, 2), interp=4), (3, 5, 1)),
    "crop": (lambda x: img.crop(x, 1, 0, 2, 3), (2, 4, 4, 3)),
    "flip_left_right": (img.flip_left_right, (3, 4, 3)),
    "flip_top_bottom": (img.flip_top_bottom, (2, 3, 4, 3)),
    "random_flip": (_seeded(img.random_flip_left_right), (6, 3, 4, 1)),
    "brightness": (_seeded(lambda x: img.random_brightness(x, 0.5, 1.5)), (2, 3, 4, 3)),
    "contrast": (_seeded(lambda x: img.random_contrast(x, 0.5, 1.5)), (2, 3, 4, 3)),
    "saturation": (_seeded(lambda x: img.random_saturation(x, 0.5, 1.5)), (3, 4, 3)),
    "lighting": (_seeded(lambda x: img.random_lighting(x, 0.1)), (3, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients(name: str) -> None:
    fn, shape = GRAD_CASES[name]
    check_grad(fn, onp.random.default_rng(1).uniform(0, 1, shape))


def test_to_tensor_gradient() -> None:
    # float32 output: a linear op, so a large step is exact up to float32 rounding
    check_grad(img.to_tensor, onp.random.default_rng(1).uniform(0, 255, (2, 3, 4, 3)),
               eps=1.0, rtol=1e-5)


def test_resize_gradient_is_the_transpose_and_differentiable() -> None:
    rng = onp.random.default_rng(2)
    a = rng.standard_normal((2, 4, 5, 3))
    h0 = rng.standard_normal((2, 7, 3, 3))
    k = rng.standard_normal((2, 4, 5, 3))
    x = np.array(a, dtype="float64")
    h = np.array(h0, dtype="float64")
    x.attach_grad()
    h.attach_grad()
    with autograd.record():
        y = img.resize(x, (3, 7))
        (gx,) = autograd.grad([(y * h).sum()], [x], create_graph=True)
        z = (gx * np.array(k, dtype="float64")).sum()
    # the gradient is the transpose: <R a, h> == <a, R^T h>
    assert abs(float((y.asnumpy() * h0).sum()) - float((a * gx.asnumpy()).sum())) < 1e-9
    # and differentiable: d/dh <R^T h, k> = R k
    z.backward()
    ref = img.resize(np.array(k, dtype="float64"), (3, 7)).asnumpy()
    onp.testing.assert_allclose(h.grad.asnumpy(), ref, rtol=1e-9, atol=1e-12)


def test_uint8_inputs_need_no_gradient() -> None:
    x = np.array(_u8(3, 4, 3), dtype="uint8")
    with autograd.record():
        y = img.to_tensor(img.resize(img.flip_left_right(x), (5, 2)))
    assert y.dtype == onp.float32 and y.shape == (3, 2, 5)
