"""The fused sparse softmax cross-entropy (``gluon.loss._SoftmaxCE``) against the composite
formula it replaces (``-pick(log_softmax(pred))`` then weighting and mean) and finite
differences, and the stride-1 "wide" col2im of ``nd/_conv.py`` against the adjoint identity and
the per-offset col2im it replaces."""

from __future__ import annotations

import itertools

import numpy as onp
import pytest

from framework import autograd, np, npx
from framework.gluon import loss as gloss
from framework.nd import _conv
from framework.nd._op import apply

RNG = onp.random.default_rng(7)


def _composite(pred, label, axis, weight, sample_weight, batch_axis):
    """The formula the fused op replaces, from separate framework ops."""
    logp = npx.log_softmax(pred, axis=axis)
    loss = -npx.pick(logp, label, axis=axis, keepdims=True)
    return gloss._batch_mean(gloss._apply_weighting(loss, weight, sample_weight,
                                                    batch_axis=batch_axis), batch_axis)


def _value_and_grad(fn, pred, *rest):
    p = np.array(pred)
    p.attach_grad()
    with autograd.record():
        out = fn(p, *rest)
        total = (out * np.array(onp.arange(1, out.size + 1, dtype=out.dtype).reshape(
            out.shape))).sum()
    total.backward()
    return out.asnumpy(), p.grad.asnumpy()


CASES = [  # pred shape, axis, batch_axis, label has the axis kept, weight, sample-weight shape
    ((6, 5), -1, 0, False, None, None),
    ((6, 5), -1, 0, True, 2.5, None),
    ((6, 5), 1, 0, False, None, (6, 1)),
    ((4, 3, 5), -1, 0, False, 0.5, None),
    ((4, 3, 5), 1, 0, False, None, None),
    ((4, 3, 5), 0, 1, False, None, None),  # class axis before the batch axis
    ((4, 3, 5), 2, -1, False, None, None),  # batch axis == class axis (keepdims path)
    ((4, 3, 5), -1, 0, True, None, (4, 3, 1)),
    ((5,), -1, 0, False, None, None),  # one sample, 0-d label
]


@pytest.mark.parametrize("shape,axis,batch_axis,kept,weight,sw", CASES)
@pytest.mark.parametrize("hybrid", [False, True])
def test_fused_softmax_ce_matches_composite(shape, axis, batch_axis, kept, weight, sw, hybrid):
    pred = RNG.standard_normal(shape) * 3
    ax = axis % len(shape)
    lshape = shape[:ax] + ((1,) if kept else ()) + shape[ax + 1:]
    # float labels (truncated) and out-of-range ones (clipped), as pick
    label = np.array(RNG.integers(-1, shape[ax] + 1, lshape) + 0.3)
    swa = None if sw is None else np.array(RNG.random(sw) + 0.5)
    loss_fn = gloss.SoftmaxCrossEntropyLoss(axis=axis, weight=weight, batch_axis=batch_axis)
    if hybrid:
        loss_fn.hybridize()
    rest = (label,) if swa is None else (label, swa)
    for dt in ("float32", "float64"):
        p = pred.astype(dt)
        got, got_g = _value_and_grad(loss_fn, p, *rest)
        want, want_g = _value_and_grad(
            lambda q, lab, s=None: _composite(q, lab, axis, weight, s, batch_axis), p, *rest)
        tol = 1e-5 if dt == "float32" else 1e-12
        assert got.shape == want.shape and got.dtype == want.dtype
        onp.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        onp.testing.assert_allclose(got_g, want_g, rtol=tol, atol=tol)


def test_fused_softmax_ce_finite_differences():
    pred = RNG.standard_normal((3, 4))
    label = np.array([0, 3, 2])
    loss_fn = gloss.SoftmaxCrossEntropyLoss(weight=1.5)
    coef = onp.array([1.0, -2.0, 0.5])

    def f(p):
        return float((loss_fn(np.array(p), label).asnumpy() * coef).sum())

    p = np.array(pred)
    p.attach_grad()
    with autograd.record():
        out = (loss_fn(p, label) * np.array(coef)).sum()
    out.backward()
    eps = 1e-6
    num = onp.zeros_like(pred)
    for i in itertools.product(*map(range, pred.shape)):
        d = onp.zeros_like(pred)
        d[i] = eps
        num[i] = (f(pred + d) - f(pred - d)) / (2 * eps)
    onp.testing.assert_allclose(p.grad.asnumpy(), num, rtol=1e-6, atol=1e-8)


def test_fused_softmax_ce_second_order():
    """create_graph through the fused op: the gradient is built from differentiable ops, so
    differentiating it again gives the composite formula's second derivative."""
    pred = RNG.standard_normal((4, 5))
    label = np.array([1, 0, 4, 2])
    v = np.array(RNG.standard_normal((4, 5)))
    loss_fn = gloss.SoftmaxCrossEntropyLoss(weight=0.7)

    def second(fn):
        p = np.array(pred)
        p.attach_grad()
        with autograd.record():
            (g,) = autograd.grad(fn(p).sum(), [p], create_graph=True)
            (g * v).sum().backward()
        return g.asnumpy(), p.grad.asnumpy()

    g1, h1 = second(lambda p: loss_fn(p, label))
    g2, h2 = second(lambda p: _composite(p, label, -1, 0.7, None, 0))
    onp.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(h1, h2, rtol=1e-10, atol=1e-12)


def test_fused_softmax_ce_bad_label_shape():
    loss_fn = gloss.SoftmaxCrossEntropyLoss()
    with pytest.raises(ValueError, match=r"label of shape \(3,\).*pred of shape \(4, 5\)"):
        loss_fn(np.ones((4, 5)), np.zeros(3))


# -- wide col2im ----------------------------------------------------------------------------------

def _geoms(count):
    rng = onp.random.default_rng(3)
    for _ in range(count):
        nd = int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        p = tuple(int(v) for v in rng.integers(0, 3, nd))
        g = int(rng.choice([1, 2]))
        sp = tuple(int(rng.integers(1, 6)) + (kk - 1) * dd for kk, dd in zip(k, d))
        yield _conv.ConvGeom(k, (1,) * nd, d, p, g, False), sp, rng


def _conv_operands(geom, sp, rng, n):
    """Random x, w, the output's spatial size, and an output gradient gy for ``geom``."""
    cg, fg = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    g = geom.groups
    x = rng.standard_normal((n, g * cg, *sp))
    w = rng.standard_normal((g * fg, cg, *geom.kernel))
    out = geom.out_size(sp)
    return x, w, out, rng.standard_normal((n, g * fg, *out))


@pytest.mark.parametrize("case", range(40))
def test_wide_col2im_is_the_adjoint(case, monkeypatch):
    geom, sp, rng = list(_geoms(40))[case]
    x, w, out, gy = _conv_operands(geom, sp, rng, 2)
    dx = _conv._conv_transpose(onp, gy, w, geom, sp)
    # <conv(x), gy> == <x, conv^T(gy)>
    lhs = float((_conv._conv(onp, x, w, geom, out) * gy).sum())
    assert abs(lhs - float((x * dx).sum())) <= 1e-9 * max(1.0, abs(lhs))
    if geom.nd > 1:  # the per-offset col2im (forced) agrees
        monkeypatch.setattr(_conv, "_WIDE_COL2IM", -1)
        onp.testing.assert_allclose(_conv._conv_transpose(onp, gy, w, geom, sp), dx,
                                    rtol=1e-12, atol=1e-12)
    # a larger target (Deconvolution's adj) pads the end with the untouched zeros
    big = tuple(s + 1 for s in sp)
    monkeypatch.setattr(_conv, "_WIDE_COL2IM", 16)
    dxb = _conv._conv_transpose(onp, gy, w, geom, big)
    monkeypatch.setattr(_conv, "_WIDE_COL2IM", -1)
    if geom.nd > 1:
        onp.testing.assert_allclose(dxb, _conv._conv_transpose(onp, gy, w, geom, big),
                                    rtol=1e-12, atol=1e-12)
    crop = (slice(None), slice(None)) + tuple(slice(0, s) for s in sp)
    onp.testing.assert_allclose(dxb[crop], dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", range(24))
@pytest.mark.parametrize("one_gemm", [True, False])
def test_weight_gradient_is_the_adjoint_in_w(case, one_gemm, monkeypatch):
    # <conv(x, w), gy> == <w, wgrad(x, gy)>, for the single-GEMM weight gradient and the
    # per-sample one (the threshold forced either way), with strides, dilation, padding, groups
    geom, sp, rng = list(_geoms(24))[case]
    stride = tuple(int(v) for v in rng.integers(1, 3, geom.nd))
    geom = _conv.ConvGeom(geom.kernel, stride, geom.dilate, geom.pad, geom.groups, False)
    monkeypatch.setattr(_conv, "_WGRAD_ONE_GEMM", 10**9 if one_gemm else -1)
    x, w, out, gy = _conv_operands(geom, sp, rng, 3)
    gw = _conv._conv_wgrad(onp, x, gy, geom)
    assert gw.shape == w.shape
    lhs = float((_conv._conv(onp, x, w, geom, out) * gy).sum())
    assert abs(lhs - float((w * gw).sum())) <= 1e-9 * max(1.0, abs(lhs))


@pytest.mark.parametrize("kernel,stride,pad,layout", [
    ((2, 2), (2, 2), (0, 0), "NCHW"), ((3, 3), (2, 2), (1, 1), "NCHW"),
    ((2, 2), (1, 1), (0, 0), "NHWC"), ((3,), (2,), (1,), "NCW")])
def test_max_pool_scatter_with_the_pooled_output_equals_without(kernel, stride, pad, layout):
    # the backward passes the pooling's output (the window maxima) to the scatter, which then
    # does not compute them again; ties (ReLU zeros), NaN and overlapping windows included
    rng = onp.random.default_rng(5)
    nd = len(kernel)
    shape = (2, 3) + (7,) * nd if layout.startswith("NC") else (2,) + (7,) * nd + (3,)
    xv = onp.maximum(rng.standard_normal(shape), 0).astype(onp.float32)
    xv.reshape(-1)[[3, 40]] = onp.nan
    x = np.array(xv)
    geom = _conv.pool_geom(x.shape, kernel, stride, pad, "valid", False, True, layout)
    y = _conv.pooling(x, kernel, stride, pad, "max", layout=layout)
    g = np.array(rng.standard_normal(y.shape).astype(onp.float32))
    op = _conv.MaxPoolScatter(geom)
    with_y = apply(op, (x, g, y)).asnumpy()
    without = apply(_conv.MaxPoolScatter(geom), (x, g)).asnumpy()
    onp.testing.assert_array_equal(with_y, without)
    # and the gradient the pooling's backward gives is that scatter
    x.attach_grad()
    with autograd.record():
        yy = _conv.pooling(x, kernel, stride, pad, "max", layout=layout)
    yy.backward(g)
    onp.testing.assert_array_equal(x.grad.asnumpy(), without)
