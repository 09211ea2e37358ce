"""gluon.data.vision.transforms against NumPy references, on single images and batches."""

from __future__ import annotations

import multiprocessing

import numpy
import pytest

from framework import np, npx
from framework.gluon import HybridBlock, nn
from framework.gluon.data.vision import MNIST
from framework.gluon.data.vision import transforms as T

RNG = numpy.random.default_rng(3)


def image(h=9, w=11, c=3, dtype=numpy.uint8, n=None):
    shape = (h, w, c) if n is None else (n, h, w, c)
    if numpy.dtype(dtype).kind == "f":
        return RNG.uniform(0, 255, shape).astype(dtype)
    return RNG.integers(0, 256, shape).astype(dtype)


def run(t, host):
    return t(np.array(host)).asnumpy()


# -- conversion -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [None, 4])
def test_to_tensor_and_normalize(n):
    x = image(n=n)
    got = run(T.ToTensor(), x)
    axes = (2, 0, 1) if n is None else (0, 3, 1, 2)
    expect = x.transpose(axes).astype(numpy.float32) / 255
    assert got.dtype == numpy.float32
    numpy.testing.assert_allclose(got, expect, rtol=1e-6)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    norm = T.Normalize(mean, std)(np.array(expect)).asnumpy()
    shape = (3, 1, 1)
    numpy.testing.assert_allclose(
        norm, (expect - numpy.reshape(mean, shape)) / numpy.reshape(std, shape), rtol=1e-5,
        atol=1e-6)


def test_cast_and_numpy_input():
    x = image()
    out = T.Cast()(np.array(x))
    assert out.dtype == numpy.float32
    numpy.testing.assert_array_equal(out.asnumpy(), x.astype(numpy.float32))
    assert T.Cast("float16")(x).dtype == numpy.float16  # NumPy input is accepted
    numpy.testing.assert_allclose(T.ToTensor()(x).asnumpy(), x.transpose(2, 0, 1) / 255,
                                  rtol=1e-6)
    with pytest.raises(TypeError, match="expected an image array"):
        T.ToTensor()([1, 2, 3])
    with pytest.raises(ValueError, match="HWC image or an NHWC batch"):
        T.Resize(4)(np.zeros((4, 4)))


# -- geometry -------------------------------------------------------------------------------------
def test_resize_size_is_width_height():
    x = image(8, 6)
    out = run(T.Resize((3, 4), interpolation=0), x)  # width 3, height 4
    rows = numpy.floor(numpy.arange(4) * 8 / 4).astype(int)
    cols = numpy.floor(numpy.arange(3) * 6 / 3).astype(int)
    numpy.testing.assert_array_equal(out, x[rows][:, cols])
    assert run(T.Resize(5), x).shape == (5, 5, 3)
    assert run(T.Resize(3, keep_ratio=True), x).shape == (4, 3, 3)  # short edge 6 -> 3
    batch = image(8, 6, n=2)
    numpy.testing.assert_array_equal(run(T.Resize((3, 4)), batch)[1],
                                     run(T.Resize((3, 4)), batch[1]))
    with pytest.raises(TypeError, match="size must be an int or"):
        T.Resize((1, 2, 3))


@pytest.mark.parametrize("n", [None, 3])
def test_center_crop(n):
    x = image(9, 12, n=n)
    out = run(T.CenterCrop((4, 5)), x)  # width 4, height 5
    numpy.testing.assert_array_equal(out, x[..., 2:7, 4:8, :])
    assert run(T.CenterCrop(3), x).shape[-3:] == (3, 3, 3)


def test_center_crop_larger_than_image():
    x = image(4, 6, dtype=numpy.float32)
    out = run(T.CenterCrop((12, 4)), x)  # fits as 6x2 (same 3:1 ratio), then resized to 12x4
    expect = run(T.Resize((12, 4)), x[1:3, 0:6])
    numpy.testing.assert_allclose(out, expect, rtol=1e-6)


def test_crop_resize():
    x = image(10, 10)
    numpy.testing.assert_array_equal(run(T.CropResize(2, 3, 4, 5), x), x[3:8, 2:6])
    out = run(T.CropResize(2, 3, 4, 5, size=(8, 10), interpolation=0), x)
    numpy.testing.assert_array_equal(out, numpy.repeat(numpy.repeat(x[3:8, 2:6], 2, 0), 2, 1))


def windows(big, h, w):
    return [big[..., y:y + h, x:x + w, :] for y in range(big.shape[-3] - h + 1)
            for x in range(big.shape[-2] - w + 1)]


def test_random_crop_is_a_window_and_seeded():
    x = image(8, 8, n=2)
    np.random.seed(5)
    out = run(T.RandomCrop(6, pad=2, pad_value=7), x)
    padded = numpy.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=7)
    assert any(numpy.array_equal(out, w) for w in windows(padded, 6, 6))
    np.random.seed(5)
    numpy.testing.assert_array_equal(run(T.RandomCrop(6, pad=2, pad_value=7), x), out)
    seen = {run(T.RandomCrop(3), x[0]).tobytes() for _ in range(40)}
    assert len(seen) > 5  # the window moves
    with pytest.raises(ValueError, match="pad must be a non-negative int"):
        T.RandomCrop(3, pad=-1)


def test_random_resized_crop_window_rules():
    t = T.RandomResizedCrop(8, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    rng = numpy.random.default_rng(0)
    for _ in range(50):
        x0, y0, w, h = t.window(30, 40, rng.uniform(size=40))
        assert 0 <= x0 and x0 + w <= 40 and 0 <= y0 and y0 + h <= 30
        # rounding w and h moves area and ratio a little from the drawn values
        assert 0.2 * 1200 * 0.8 <= w * h <= 0.6 * 1200 * 1.2
        assert 0.5 * 0.8 <= w / h <= 2.0 * 1.25
    # the first attempt that fits is used: area 0.2 * 1200, ratio sqrt(0.5 * 2) = 1
    u = numpy.full(40, 0.5)
    u[0], u[1] = 0.0, 0.5
    assert t.window(30, 40, u) == (int(0.5 * (40 - 15 + 1)), int(0.5 * (30 - 15 + 1)), 15, 15)
    # nothing fits: MXNet's centre crop of the target size (shrunk only if the image is smaller)
    wide = T.RandomResizedCrop((8, 4), scale=(3.0, 4.0))
    assert wide.window(30, 40, numpy.full(40, 0.5)) == (16, 13, 8, 4)
    assert wide.window(3, 40, numpy.full(40, 0.5)) == (17, 0, 6, 3)


def test_random_resized_crop_output():
    x = image(20, 24, dtype=numpy.float32, n=2)
    t = T.RandomResizedCrop((6, 5))
    np.random.seed(11)
    out = run(t, x)
    assert out.shape == (2, 5, 6, 3)
    np.random.seed(11)
    x0, y0, w, h = t.window(20, 24, T._uniform(40))
    expect = run(T.Resize((6, 5)), x[:, y0:y0 + h, x0:x0 + w])
    numpy.testing.assert_allclose(out, expect, rtol=1e-6)


@pytest.mark.parametrize("cls, axis", [(T.RandomFlipLeftRight, -2), (T.RandomFlipTopBottom, -3)])
def test_random_flips(cls, axis):
    x = image(n=16)
    numpy.testing.assert_array_equal(run(cls(p=1.0), x), numpy.flip(x, axis))
    numpy.testing.assert_array_equal(run(cls(p=0.0), x), x)
    out = run(cls(), x)
    flipped = [numpy.array_equal(o, numpy.flip(i, axis)) for o, i in zip(out, x)]
    kept = [numpy.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert any(flipped) and any(kept)  # drawn per image (2**-15 chance of a false failure)


# -- colour ---------------------------------------------------------------------------------------
def test_random_brightness_per_image():
    x = image(n=6, dtype=numpy.float32) + 1
    out = run(T.RandomBrightness(0.5), x)
    ratio = out / x
    per_image = ratio.reshape(6, -1)
    numpy.testing.assert_allclose(per_image, numpy.broadcast_to(per_image[:, :1], per_image.shape),
                                  rtol=1e-5)
    assert ((per_image >= 0.5) & (per_image < 1.5)).all()
    assert len(numpy.unique(per_image[:, 0].round(5))) > 1


def luma(x):
    return x @ numpy.array([0.299, 0.587, 0.114])


def test_random_contrast_and_saturation_match_formulas():
    x = image(n=3, dtype=numpy.float64)
    out = run(T.RandomContrast(0.5), x)
    for o, i in zip(out, x):
        mean = luma(i).mean()
        a = (o[0, 0, 0] - mean) / (i[0, 0, 0] - mean)
        assert 0.5 <= a < 1.5
        numpy.testing.assert_allclose(o, i * a + (1 - a) * mean, rtol=1e-6, atol=1e-6)
    out = run(T.RandomSaturation(0.5), x)
    for o, i in zip(out, x):
        g = luma(i)[:, :, None]
        a = (o[0, 0, 0] - g[0, 0, 0]) / (i[0, 0, 0] - g[0, 0, 0])
        assert 0.5 <= a < 1.5
        numpy.testing.assert_allclose(o, g * (1 - a) + i * a, rtol=1e-6, atol=1e-6)


def test_zero_strengths_are_identity():
    x = image(n=2, dtype=numpy.float32)
    for t in (T.RandomBrightness(0), T.RandomContrast(0), T.RandomSaturation(0),
              T.RandomColorJitter(), T.RandomLighting(0)):
        numpy.testing.assert_allclose(run(t, x), x, rtol=1e-5, atol=1e-3)
    numpy.testing.assert_allclose(run(T.RandomHue(0), x), x, rtol=1e-4, atol=1e-2)


def test_random_hue_keeps_luma_order_and_gray():
    gray = numpy.repeat(image(c=1, dtype=numpy.float32), 3, axis=2)
    numpy.testing.assert_allclose(run(T.RandomHue(0.5), gray), gray, rtol=1e-4, atol=1e-2)
    x = image(dtype=numpy.float32)
    out = run(T.RandomHue(0.5), x)
    # hue rotation keeps each pixel's max + min (HLS lightness)
    numpy.testing.assert_allclose(out.max(-1) + out.min(-1), x.max(-1) + x.min(-1), rtol=1e-3,
                                  atol=0.05)


def test_random_lighting_adds_a_constant_per_channel():
    x = image(n=2, dtype=numpy.float32)
    d = run(T.RandomLighting(0.1), x) - x
    numpy.testing.assert_allclose(d, d[:, :1, :1, :] * numpy.ones_like(d), atol=1e-3)
    assert numpy.abs(d).max() > 0


def test_color_jitter_runs_on_uint8_batches():
    x = image(n=4)
    out = run(T.RandomColorJitter(0.3, 0.3, 0.3, 0.1), x)
    assert out.shape == x.shape and out.dtype == numpy.uint8
    np.random.seed(2)
    a = run(T.RandomColorJitter(0.3, 0.3, 0.3, 0.1), x)
    np.random.seed(2)
    numpy.testing.assert_array_equal(run(T.RandomColorJitter(0.3, 0.3, 0.3, 0.1), x), a)


def test_random_gray():
    x = image()
    g = run(T.RandomGray(p=1.0), x)
    expect = numpy.clip(numpy.rint(luma(x.astype(numpy.float32))), 0, 255)
    for c in range(3):
        assert numpy.abs(g[:, :, c].astype(int) - expect).max() <= 1
    numpy.testing.assert_array_equal(run(T.RandomGray(p=0.0), x), x)
    with pytest.raises(ValueError, match="3 \\(RGB\\) channels"):
        T.RandomGray()(np.zeros((2, 2, 1)))


# -- composition ----------------------------------------------------------------------------------
def test_compose_groups_hybrid_runs():
    t = T.Compose([T.Resize(6), T.CenterCrop(4), T.ToTensor(), T.Normalize(0.5, 0.5),
                   lambda x: x * 2])
    kinds = [type(c).__name__ for c in t]
    assert kinds == ["Resize", "CenterCrop", "HybridSequential", "Lambda"]
    assert t[2]._active  # the HybridBlock run is hybridized, as in MXNet
    x = image(12, 12)
    manual = run(T.Resize(6), x)[1:5, 1:5].transpose(2, 0, 1) / numpy.float32(255)
    for _ in range(2):  # traced, then replayed
        numpy.testing.assert_allclose(run(t, x), (manual - 0.5) / 0.5 * 2, rtol=1e-5,
                                      atol=1e-6)
    with pytest.raises(TypeError, match="Block or a callable"):
        T.Compose([3])


def test_hybrid_compose():
    t = T.HybridCompose([T.ToTensor(), T.Normalize(0.5, 0.5)])
    assert isinstance(t, HybridBlock)
    x = image()
    t.hybridize()
    numpy.testing.assert_allclose(run(t, x), (x.transpose(2, 0, 1) / 255 - 0.5) / 0.5,
                                  rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="must be a HybridBlock"):
        T.HybridCompose([T.CenterCrop(2)])


def test_random_apply():
    x = image()
    flip = T.RandomFlipLeftRight(p=1.0)
    numpy.testing.assert_array_equal(run(T.RandomApply(flip, p=1.0), x), x[:, ::-1])
    numpy.testing.assert_array_equal(run(T.RandomApply(flip, p=0.0), x), x)
    outcomes = {run(T.RandomApply(flip, p=0.5), x).tobytes() for _ in range(30)}
    assert outcomes == {x.tobytes(), x[:, ::-1].tobytes()}
    h = T.HybridRandomApply(flip, p=1.0)
    h.hybridize()
    for _ in range(2):
        numpy.testing.assert_array_equal(run(h, x), x[:, ::-1])
    numpy.testing.assert_array_equal(run(T.HybridRandomApply(flip, p=0.0), x), x)
    with pytest.raises(ValueError, match="must keep both"):
        T.HybridRandomApply(T.ToTensor(), p=1.0)(np.array(x))
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomApply(flip, p=2)


def test_transforms_are_blocks():
    for t in (T.ToTensor(), T.Resize(3), T.RandomColorJitter(0.1), T.RandomGray()):
        assert isinstance(t, HybridBlock)
    assert isinstance(T.Compose([]), nn.Sequential)


# -- in a forked DataLoader-style worker --------------------------------------------------------
_WORKER_T = None


def _work(i):
    ds = MNIST(train=False, subset="mini")
    x, y = ds[i]
    return _WORKER_T(x).asnumpy(), int(y)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork")
def test_transforms_in_forked_worker():
    global _WORKER_T
    _WORKER_T = T.Compose([T.RandomFlipLeftRight(p=1.0), T.Resize(14), T.ToTensor(),
                           T.Normalize(0.1307, 0.3081)])
    ds = MNIST(train=False, subset="mini")
    # use the block in the parent first, so the child inherits a traced graph and engine state
    expect = [_WORKER_T(ds[i][0]).asnumpy() for i in range(3)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.map(_work, range(3), chunksize=1)
    for (out, label), ref, i in zip(got, expect, range(3)):
        assert label == int(ds[i][1])
        numpy.testing.assert_allclose(out, ref, rtol=1e-6)
    flipped = numpy.ascontiguousarray(ds._data[0][:, ::-1])  # uint8: resize rounds
    small = npx.image.resize(np.array(flipped), 14).asnumpy()
    numpy.testing.assert_allclose(expect[0][0], (small[:, :, 0] / 255 - 0.1307) / 0.3081,
                                  rtol=1e-4, atol=1e-4)
