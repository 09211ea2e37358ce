"""gluon.loss: every loss against a NumPy reference, gradients against finite differences, CTC
against a brute-force sum over alignments, and numerical stability of the cross-entropies."""

from __future__ import annotations

import itertools

import numpy as onp
import pytest

from framework import autograd, np
from framework.gluon import loss as gloss

RNG = onp.random.default_rng(0)


def _np(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else onp.asarray(x)


def _mean_rest(loss, batch_axis=0):
    axes = tuple(i for i in range(loss.ndim) if i != batch_axis % loss.ndim)
    return loss.mean(axis=axes) if axes else loss


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - onp.log(onp.exp(x - m).sum(axis=axis, keepdims=True))


def _softplus(x):
    return onp.logaddexp(0, x)


# -- NumPy references: elementwise losses (before weighting and the per-sample mean) -------------

def ref_l2(p, y):
    return 0.5 * (p - y) ** 2


def ref_l1(p, y):
    return onp.abs(p - y)


def ref_huber(p, y, rho=1.0):
    e = onp.abs(p - y)
    return onp.where(e > rho, e - 0.5 * rho, 0.5 / rho * e ** 2)


def ref_hinge(p, y, margin=1.0):
    return onp.maximum(0, margin - p * y)


def ref_sq_hinge(p, y, margin=1.0):
    return onp.maximum(0, margin - p * y) ** 2


def ref_logistic(p, y, fmt="signed"):
    z = (y + 1) / 2 if fmt == "signed" else y
    s = 1 / (1 + onp.exp(-p))
    return -(z * onp.log(s) + (1 - z) * onp.log(1 - s))


def ref_bce_logits(p, y, pos_weight=None):
    s = 1 / (1 + onp.exp(-p))
    pw = 1.0 if pos_weight is None else pos_weight
    return -(pw * y * onp.log(s) + (1 - y) * onp.log(1 - s))


def ref_bce_prob(p, y, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    return -(pw * y * onp.log(p + 1e-12) + (1 - y) * onp.log(1 - p + 1e-12))


def ref_kl(p, y, from_logits=True, axis=-1):
    logq = p if from_logits else _log_softmax(p, axis)
    return y * (onp.log(y + 1e-12) - logq)


def ref_poisson(p, y, from_logits=True, full=False, eps=1e-8):
    loss = onp.exp(p) - y * p if from_logits else p - y * onp.log(p + eps)
    if full:
        t = onp.where(y > 1, y, 1.0)
        st = t * onp.log(t) - t + 0.5 * onp.log(2 * onp.pi * t)
        loss = loss + onp.where(y > 1, st, 0.0)
    return loss


ELEMENTWISE = [
    (gloss.L2Loss, {}, ref_l2, "real"),
    (gloss.L1Loss, {}, ref_l1, "real"),
    (gloss.HuberLoss, {"rho": 0.7}, lambda p, y: ref_huber(p, y, 0.7), "real"),
    (gloss.HuberLoss, {}, ref_huber, "real"),
    (gloss.HingeLoss, {}, ref_hinge, "sign"),
    (gloss.HingeLoss, {"margin": 2.0}, lambda p, y: ref_hinge(p, y, 2.0), "sign"),
    (gloss.SquaredHingeLoss, {}, ref_sq_hinge, "sign"),
    (gloss.LogisticLoss, {}, ref_logistic, "sign"),
    (gloss.LogisticLoss, {"label_format": "binary"},
     lambda p, y: ref_logistic(p, y, "binary"), "binary"),
    (gloss.SigmoidBCELoss, {}, ref_bce_logits, "binary"),
    (gloss.SigmoidBinaryCrossEntropyLoss, {"from_sigmoid": True}, ref_bce_prob, "binprob"),
    (gloss.KLDivLoss, {"from_logits": False}, lambda p, y: ref_kl(p, y, False), "dist"),
    (gloss.PoissonNLLLoss, {}, ref_poisson, "count"),
    (gloss.PoissonNLLLoss, {"from_logits": False},
     lambda p, y: ref_poisson(p, y, False), "countprob"),
    (gloss.PoissonNLLLoss, {"compute_full": True},
     lambda p, y: ref_poisson(p, y, True, True), "count"),
]


def _data(kind, shape, rng=RNG):
    """(pred, label) float64 NumPy arrays suited to a loss."""
    p = rng.normal(size=shape)
    if kind == "real":
        y = rng.normal(size=shape)
    elif kind == "sign":
        y = rng.choice([-1.0, 1.0], size=shape)
    elif kind == "binary":
        y = rng.choice([0.0, 1.0], size=shape)
    elif kind == "binprob":
        p = rng.uniform(0.05, 0.95, size=shape)
        y = rng.choice([0.0, 1.0], size=shape)
    elif kind == "dist":
        y = onp.exp(_log_softmax(rng.normal(size=shape)))
    elif kind == "count":
        y = rng.integers(0, 5, size=shape).astype(onp.float64)
    elif kind == "countprob":
        p = rng.uniform(0.2, 3.0, size=shape)
        y = rng.integers(0, 5, size=shape).astype(onp.float64)
    else:
        raise AssertionError(kind)
    return p, y


SHAPES = [(5,), (4, 1), (4, 3), (3, 2, 4)]


@pytest.mark.parametrize("cls,kw,ref,kind", ELEMENTWISE,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_ ) in enumerate(ELEMENTWISE)])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elementwise_losses_match_numpy(cls, kw, ref, kind, shape):
    p, y = _data(kind, shape)
    loss = cls(**kw)(np.array(p.astype(onp.float32)), np.array(y.astype(onp.float32)))
    expect = _mean_rest(ref(p, y))
    assert loss.shape == (shape[0],)
    onp.testing.assert_allclose(_np(loss), expect, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,kw,ref,kind", ELEMENTWISE,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_ ) in enumerate(ELEMENTWISE)])
def test_elementwise_losses_weights_and_batch_axis(cls, kw, ref, kind):
    p, y = _data(kind, (3, 4, 2))
    sw = RNG.uniform(0.5, 2.0, size=(3, 4, 1))
    f = cls(weight=0.7, **kw)
    got = f(np.array(p), np.array(y), np.array(sw))
    scale = 0.7
    onp.testing.assert_allclose(_np(got), _mean_rest(ref(p, y) * sw * scale), rtol=1e-6)
    # batch_axis=1: the per-sample loss runs along axis 1
    f1 = cls(batch_axis=1, **kw)
    got1 = f1(np.array(p), np.array(y), np.array(sw))
    assert got1.shape == (4,)
    onp.testing.assert_allclose(_np(got1), _mean_rest(ref(p, y) * sw, 1), rtol=1e-6)


@pytest.mark.parametrize("cls,kw,ref,kind", ELEMENTWISE[:4] + ELEMENTWISE[9:10],
                         ids=lambda v: getattr(v, "__name__", "")[:12])
def test_label_is_reshaped_to_pred(cls, kw, ref, kind):
    # pred (N, 1) with label (N,) must not broadcast to (N, N)
    p, y = _data(kind, (6, 1))
    got = cls(**kw)(np.array(p), np.array(y[:, 0]))
    assert got.shape == (6,)
    onp.testing.assert_allclose(_np(got), ref(p, y)[:, 0], rtol=1e-6)
    with pytest.raises(ValueError):
        cls(**kw)(np.array(p), np.array(onp.zeros(5)))


def test_l2_is_half_squared_error_and_default_weight():
    f = gloss.L2Loss()
    assert f._weight == 1.0
    out = f(np.array([[1.0, 3.0], [2.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 0.0]]))
    onp.testing.assert_allclose(_np(out), [(0.5 + 2.0) / 2, 2.0 / 2])
    assert repr(f) == "L2Loss(batch_axis=0, w=1.0)"


def test_sample_weight_of_batch_length_aligns_with_batch_axis():
    p, y = RNG.normal(size=(4, 1)), RNG.normal(size=(4, 1))
    sw = onp.array([1.0, 0.0, 2.0, 0.5])
    got = gloss.L2Loss()(np.array(p), np.array(y), np.array(sw))
    assert got.shape == (4,)
    onp.testing.assert_allclose(_np(got), ref_l2(p, y)[:, 0] * sw)
    # (N, C) loss with (N,) weights (C != N): weight each sample
    p, y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    got = gloss.L1Loss()(np.array(p), np.array(y), np.array(sw))
    onp.testing.assert_allclose(_np(got), ref_l1(p, y).mean(1) * sw)
    # (N, N) loss: NumPy broadcasting (per-column weights) as MXNet
    p, y = RNG.normal(size=(4, 4)), RNG.normal(size=(4, 4))
    got = gloss.L1Loss()(np.array(p), np.array(y), np.array(sw))
    onp.testing.assert_allclose(_np(got), (ref_l1(p, y) * sw).mean(1))


# -- softmax cross-entropy -----------------------------------------------------------------------

def ref_softmax_ce_sparse(p, y, axis=-1):
    logq = _log_softmax(p, axis)
    idx = onp.expand_dims(y.astype(onp.int64), axis)
    return -onp.take_along_axis(logq, idx, axis=axis)


@pytest.mark.parametrize("shape,axis", [((5, 4), -1), ((3, 2, 6), -1), ((3, 4, 2), 1)],
                         ids=str)
@pytest.mark.parametrize("label_dtype", ["float32", "int32", "int64"])
def test_softmax_ce_sparse(shape, axis, label_dtype):
    p = RNG.normal(size=shape)
    lshape = tuple(s for i, s in enumerate(shape) if i != axis % len(shape))
    y = RNG.integers(0, shape[axis], size=lshape)
    f = gloss.SoftmaxCrossEntropyLoss(axis=axis)
    got = f(np.array(p.astype(onp.float32)), np.array(y.astype(label_dtype)))
    expect = _mean_rest(ref_softmax_ce_sparse(p, y, axis))
    assert got.shape == (shape[0],)
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-5)
    # label with the class axis kept as size 1
    got = f(np.array(p), np.array(onp.expand_dims(y, axis).astype(label_dtype)))
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-6)
    # from_logits: pred is already log-probabilities
    got = gloss.SoftmaxCELoss(axis=axis, from_logits=True)(
        np.array(_log_softmax(p, axis)), np.array(y.astype(label_dtype)))
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-6)


def test_softmax_ce_dense_label_weights_batch_axis():
    p = RNG.normal(size=(3, 4, 5))
    y = onp.exp(_log_softmax(RNG.normal(size=(3, 4, 5))))
    full = -(_log_softmax(p) * y).sum(-1, keepdims=True)
    got = gloss.SoftmaxCELoss(sparse_label=False, weight=2.0)(np.array(p), np.array(y))
    onp.testing.assert_allclose(_np(got), _mean_rest(full * 2.0), rtol=1e-6)
    got = gloss.SoftmaxCELoss(sparse_label=False, batch_axis=1)(np.array(p), np.array(y))
    onp.testing.assert_allclose(_np(got), _mean_rest(full, 1), rtol=1e-6)


def test_softmax_ce_masked_seq2seq_weights():
    # d2l's MaskedSoftmaxCELoss: pred (N, T, V), label (N, T), weights (N, T, 1)
    n, t, v = 3, 4, 6
    p = RNG.normal(size=(n, t, v))
    y = RNG.integers(0, v, size=(n, t))
    valid = onp.array([4, 2, 1])
    w = (onp.arange(t)[None, :] < valid[:, None]).astype(onp.float64)[..., None]

    class MaskedSoftmaxCELoss(gloss.SoftmaxCELoss):
        def forward(self, pred, label, weights):
            return super().forward(pred, label, weights)

    got = MaskedSoftmaxCELoss()(np.array(p), np.array(y), np.array(w))
    expect = (ref_softmax_ce_sparse(p, y) * w).mean(axis=(1, 2))
    assert got.shape == (n,)
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-6)


# -- losses with several inputs -------------------------------------------------------------------

def test_sigmoid_bce_pos_weight_and_keywords():
    p, y = _data("binary", (4, 3))
    pw = RNG.uniform(0.5, 3.0, size=(3,))
    f = gloss.SigmoidBCELoss()
    expect = _mean_rest(ref_bce_logits(p, y, pw))
    onp.testing.assert_allclose(_np(f(np.array(p), np.array(y), None, np.array(pw))), expect,
                                rtol=1e-6)
    onp.testing.assert_allclose(_np(f(np.array(p), np.array(y), pos_weight=np.array(pw))),
                                expect, rtol=1e-6)
    q = 1 / (1 + onp.exp(-p))
    got = gloss.SigmoidBCELoss(from_sigmoid=True)(np.array(q), np.array(y), None, np.array(pw))
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_bce_prob(q, y, pw)), rtol=1e-6)
    with pytest.raises(TypeError):
        f(np.array(p), np.array(y), bogus=1)


def test_kl_div_from_log_probs_and_axis():
    p = _log_softmax(RNG.normal(size=(4, 3)))
    y = onp.exp(_log_softmax(RNG.normal(size=(4, 3))))
    got = gloss.KLDivLoss()(np.array(p), np.array(y))
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_kl(p, y)), rtol=1e-6)
    z = RNG.normal(size=(4, 3, 2))
    y = onp.exp(_log_softmax(RNG.normal(size=(4, 3, 2)), 1))
    got = gloss.KLDivLoss(from_logits=False, axis=1)(np.array(z), np.array(y))
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_kl(z, y, False, 1)), rtol=1e-6)


def test_poisson_epsilon_and_zero_counts():
    p = RNG.uniform(0.0, 2.0, size=(4, 3))
    p[0, 0] = 0.0
    y = onp.array([[0.0, 1.0, 2.0], [3.0, 0.0, 7.0], [1.0, 1.0, 0.0], [5.0, 2.0, 0.0]])
    got = gloss.PoissonNLLLoss(from_logits=False, epsilon=1e-3)(np.array(p), np.array(y))
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_poisson(p, y, False, eps=1e-3)))
    got = gloss.PoissonNLLLoss(from_logits=False)(np.array(p), np.array(y), None, 1e-2)
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_poisson(p, y, False, eps=1e-2)))
    got = gloss.PoissonNLLLoss(compute_full=True)(np.array(p), np.array(y))
    assert onp.isfinite(_np(got)).all()
    onp.testing.assert_allclose(_np(got), _mean_rest(ref_poisson(p, y, True, True)))


def ref_triplet(a, pos, neg, margin=1.0, batch_axis=0):
    d = (pos - a) ** 2 - (neg - a) ** 2
    axes = tuple(i for i in range(a.ndim) if i != batch_axis)
    return onp.maximum(0, d.sum(axis=axes) + margin)


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4)], ids=str)
def test_triplet_loss(shape):
    a, pos, neg = (RNG.normal(size=shape) * 0.5 for _ in range(3))
    got = gloss.TripletLoss()(np.array(a), np.array(pos), np.array(neg))
    onp.testing.assert_allclose(_np(got), ref_triplet(a, pos, neg), rtol=1e-6)
    sw = RNG.uniform(size=(shape[0],))
    got = gloss.TripletLoss(margin=0.3, weight=2.0)(np.array(a), np.array(pos), np.array(neg),
                                                     np.array(sw))
    onp.testing.assert_allclose(_np(got), ref_triplet(a, pos, neg, 0.3) * sw * 2.0, rtol=1e-6)
    got = gloss.TripletLoss(batch_axis=1)(np.array(a), np.array(pos), np.array(neg))
    onp.testing.assert_allclose(_np(got), ref_triplet(a, pos, neg, 1.0, 1), rtol=1e-6)


def ref_cosine(a, b, y, margin=0.0):
    cos = (a * b).sum(-1) / onp.maximum(onp.linalg.norm(a, axis=-1) *
                                          onp.linalg.norm(b, axis=-1), 1e-12)
    return onp.where(y == 1, 1 - cos, onp.maximum(0, cos - margin))


def test_cosine_embedding_loss():
    a, b = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 4))
    y = onp.array([1, -1, 1, -1, -1, 1], dtype=onp.float64)
    got = gloss.CosineEmbeddingLoss()(np.array(a), np.array(b), np.array(y))
    assert got.shape == (6,)
    onp.testing.assert_allclose(_np(got), ref_cosine(a, b, y), rtol=1e-6, atol=1e-12)
    sw = RNG.uniform(size=(6, 1))
    got = gloss.CosineEmbeddingLoss(margin=-0.2, weight=0.5)(
        np.array(a), np.array(b), np.array(y[:, None]), np.array(sw))
    onp.testing.assert_allclose(_np(got), ref_cosine(a, b, y, -0.2) * sw[:, 0] * 0.5,
                                rtol=1e-6)
    # three-dimensional inputs: the cosine runs along the last axis, then the per-sample mean
    a3, b3 = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 3, 4))
    y3 = onp.array([[1, -1, 1], [-1, -1, 1]], dtype=onp.float64)
    got = gloss.CosineEmbeddingLoss()(np.array(a3), np.array(b3), np.array(y3))
    onp.testing.assert_allclose(_np(got), ref_cosine(a3, b3, y3).mean(1), rtol=1e-6)


# -- gradients ------------------------------------------------------------------------------------

def _fd_check(fn, p, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Gradient of sum(head * fn(pred)) from autograd vs. central differences (float64)."""
    x = np.array(p)
    x.attach_grad()
    with autograd.record():
        out = fn(x)
    head = RNG.uniform(0.5, 1.5, size=out.shape)
    out.backward(np.array(head))
    got = _np(x.grad)
    expect = onp.zeros_like(p)
    for i in onp.ndindex(p.shape):
        hi, lo = p.copy(), p.copy()
        hi[i] += eps
        lo[i] -= eps
        expect[i] = ((_np(fn(np.array(hi))) - _np(fn(np.array(lo)))) * head).sum() / (2 * eps)
    onp.testing.assert_allclose(got, expect, rtol=rtol, atol=atol)


def _away_from_kinks(cls, kw, p, y):
    # hinge/huber/L1 are not differentiable where the kink is; keep the points away from it
    if cls in (gloss.HingeLoss, gloss.SquaredHingeLoss):
        m = kw.get("margin", 1.0)
        bad = onp.abs(m - p * y) < 1e-2
        p = onp.where(bad, p + 0.1, p)
    if cls in (gloss.L1Loss, gloss.HuberLoss):
        rho = kw.get("rho", 1.0)
        e = onp.abs(p - y)
        p = onp.where((e < 1e-2) | (onp.abs(e - rho) < 1e-2), p + 0.05, p)
    return p


@pytest.mark.parametrize("cls,kw,ref,kind", ELEMENTWISE,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_ ) in enumerate(ELEMENTWISE)])
def test_elementwise_gradients(cls, kw, ref, kind):
    p, y = _data(kind, (3, 4))
    p = _away_from_kinks(cls, kw, p, y)
    sw = RNG.uniform(0.5, 2.0, size=(3, 1))
    f = cls(**kw)
    _fd_check(lambda x: f(x, np.array(y), np.array(sw)), p)


@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_ce_gradient(sparse):
    p = RNG.normal(size=(3, 2, 4))
    y = RNG.integers(0, 4, size=(3, 2)).astype(onp.float64) if sparse else \
        onp.exp(_log_softmax(RNG.normal(size=(3, 2, 4))))
    f = gloss.SoftmaxCELoss(sparse_label=sparse)
    _fd_check(lambda x: f(x, np.array(y)), p)


def test_multi_input_gradients():
    p, y = _data("binary", (3, 4))
    pw = RNG.uniform(0.5, 3.0, size=(4,))
    f = gloss.SigmoidBCELoss()
    _fd_check(lambda x: f(x, np.array(y), None, np.array(pw)), p)
    pos, neg = RNG.normal(size=(3, 4)) * 0.3, RNG.normal(size=(3, 4)) * 0.3
    _fd_check(lambda x: gloss.TripletLoss()(x, np.array(pos), np.array(neg)), p * 0.3)
    b, lab = RNG.normal(size=(3, 4)), onp.array([1.0, -1.0, -1.0])
    a = RNG.normal(size=(3, 4))
    f2 = gloss.CosineEmbeddingLoss(margin=-1.0)  # keep the -1 branch away from its kink
    _fd_check(lambda x: f2(x, np.array(b), np.array(lab)), a)
    f3 = gloss.KLDivLoss(from_logits=False)
    yk = onp.exp(_log_softmax(RNG.normal(size=(3, 4))))
    _fd_check(lambda x: f3(x, np.array(yk)), p)


# -- numerical stability --------------------------------------------------------------------------

def test_cross_entropies_are_stable_in_float32():
    big = onp.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=onp.float32)
    x = np.array(big)
    x.attach_grad()
    with autograd.record():
        out = gloss.SoftmaxCELoss()(x, np.array([1, 1], dtype="int32"))
    out.backward()
    loss, g = _np(out), _np(x.grad)
    assert onp.isfinite(loss).all() and onp.isfinite(g).all()
    onp.testing.assert_allclose(loss, [2e4, 0.0], rtol=1e-6)
    onp.testing.assert_allclose(g, [[1, -1, 0], [0, 0, 0]], atol=1e-6)

    y = onp.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype=onp.float32)
    for pw in (None, np.array([2.0, 2.0, 2.0])):
        x = np.array(big)
        x.attach_grad()
        with autograd.record():
            out = gloss.SigmoidBCELoss()(x, np.array(y), None, pw)
        out.backward()
        loss, g = _np(out), _np(x.grad)
        assert loss.dtype == onp.float32
        assert onp.isfinite(loss).all() and onp.isfinite(g).all()
        w = 1.0 if pw is None else 2.0
        expect = [(1e4 + w * 1e4 + w * onp.log(2)) / 3, (w * 1e4 + 1e4 + onp.logaddexp(0, 5)) / 3]
        onp.testing.assert_allclose(loss, expect, rtol=1e-6)


# -- the base class --------------------------------------------------------------------------------

def test_custom_loss_subclasses():
    class Scaled(gloss.Loss):
        def __init__(self, scale, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def forward(self, pred, label, sample_weight=None):
            loss = np.abs(pred - gloss._reshape_like(label, pred)) * self.scale
            loss = gloss._apply_weighting(loss, self._weight, sample_weight)
            return np.mean(loss, axis=1)

    f = Scaled(3.0, weight=0.5)
    assert f._batch_axis == 0 and f._weight == 0.5
    p, y = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 2))
    onp.testing.assert_allclose(_np(f(np.array(p), np.array(y))), onp.abs(p - y).mean(1) * 1.5)

    class Legacy(gloss.Loss):  # MXNet 1.x style
        def hybrid_forward(self, F, pred, label):
            return F.np.square(pred - label).sum(axis=1)

    onp.testing.assert_allclose(_np(Legacy()(np.array(p), np.array(y))),
                                ((p - y) ** 2).sum(1))
    with pytest.raises(TypeError):
        gloss._apply_weighting(np.array(p), np.array([1.0]))
    # MXNet 1.x helpers took F first
    from framework.gluon.block import F
    onp.testing.assert_allclose(
        _np(gloss._apply_weighting(F, np.array(p), 2.0, np.array(y))), p * y * 2.0)
    assert gloss._reshape_like(F, np.array(y[:, :1]).reshape(-1), np.array(p[:, :1])).shape \
        == (4, 1)


def test_hybridized_loss_gives_the_same_values():
    p, y = RNG.normal(size=(4, 5)), RNG.integers(0, 5, size=(4,))
    f = gloss.SoftmaxCELoss()
    before = _np(f(np.array(p), np.array(y)))
    f.hybridize()
    onp.testing.assert_allclose(_np(f(np.array(p), np.array(y))), before)
    onp.testing.assert_allclose(_np(f(np.array(p), np.array(y))), before)


def test_bad_arguments():
    with pytest.raises(ValueError):
        gloss.LogisticLoss(label_format="other")
    with pytest.raises(ValueError):
        gloss.CTCLoss(layout="CTN")
    with pytest.raises(ValueError):
        gloss.CTCLoss(label_layout="NN")
    with pytest.raises(TypeError):
        gloss.L1Loss(weight=np.array([1.0]))(np.array([1.0]), np.array([2.0]))


def test_every_documented_name_is_exported():
    names = {"Loss", "L2Loss", "L1Loss", "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss",
             "SoftmaxCrossEntropyLoss", "SoftmaxCELoss", "KLDivLoss", "CTCLoss", "HuberLoss",
             "HingeLoss", "SquaredHingeLoss", "LogisticLoss", "TripletLoss", "PoissonNLLLoss",
             "CosineEmbeddingLoss"}
    assert names <= set(gloss.__all__)
    assert gloss.SoftmaxCELoss is gloss.SoftmaxCrossEntropyLoss
    assert gloss.SigmoidBCELoss is gloss.SigmoidBinaryCrossEntropyLoss


# -- CTC ------------------------------------------------------------------------------------------

def _collapse(path, blank):
    out, prev = [], None
    for k in path:
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return out


def ref_ctc(acts, labels, pred_lengths, label_lengths):
    """Brute force: sum the probability of every alignment that collapses to the label.

    ``acts`` (T, N, C) activations; blank is C-1."""
    t_max, n, c = acts.shape
    probs = onp.exp(_log_softmax(acts, -1))
    out = onp.zeros(n)
    for b in range(n):
        tb, lb = int(pred_lengths[b]), int(label_lengths[b])
        target = [int(v) for v in labels[b, :lb]]
        total = 0.0
        for path in itertools.product(range(c), repeat=tb):
            if _collapse(path, c - 1) == target:
                total += onp.prod([probs[t, b, k] for t, k in enumerate(path)])
        out[b] = -onp.log(total) if total > 0 else onp.inf
    return out


def test_ctc_matches_brute_force_padded_labels():
    t, n, c = 4, 5, 4  # alphabet {0, 1, 2} plus the blank 3
    acts = RNG.normal(size=(n, t, c))
    labels = onp.array([[0, 1, -1], [1, 1, -1], [2, -1, -1], [0, 2, 1], [-1, -1, -1]],
                       dtype=onp.float32)
    lens = onp.array([2, 2, 1, 3, 0])
    got = gloss.CTCLoss()(np.array(acts.astype(onp.float32)), np.array(labels))
    assert got.shape == (n,) and got.dtype == onp.float32
    expect = ref_ctc(acts.transpose(1, 0, 2), labels, onp.full(n, t), lens)
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-5)


def test_ctc_lengths_layouts_and_weights():
    t, n, c = 4, 4, 3  # alphabet {0, 1} plus the blank 2
    acts = RNG.normal(size=(t, n, c))
    labels = onp.array([[0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 1]])
    plen = onp.array([4, 3, 4, 2])
    llen = onp.array([2, 1, 0, 1])
    expect = ref_ctc(acts, labels, plen, llen)
    f = gloss.CTCLoss(layout="TNC", label_layout="TN")
    got = f(np.array(acts), np.array(labels.T.astype(onp.int32)),
            np.array(plen.astype(onp.float32)), np.array(llen.astype(onp.float32)))
    onp.testing.assert_allclose(_np(got), expect, rtol=1e-7)
    # NTC layout, keyword lengths, weight and sample_weight
    sw = onp.array([1.0, 0.5, 2.0, 0.0])
    g = gloss.CTCLoss(weight=3.0)
    got = g(np.array(acts.transpose(1, 0, 2)), np.array(labels), pred_lengths=np.array(plen),
            label_lengths=np.array(llen), sample_weight=np.array(sw))
    onp.testing.assert_allclose(_np(got), expect * sw * 3.0, rtol=1e-7)
    # only the input lengths given: labels padded with -1
    padded = onp.where(onp.arange(3)[None] < llen[:, None], labels, -1)
    got = g(np.array(acts.transpose(1, 0, 2)), np.array(padded), np.array(plen))
    onp.testing.assert_allclose(_np(got), expect * 3.0, rtol=1e-7)


def test_ctc_infeasible_label_is_inf_with_zero_gradient():
    acts = RNG.normal(size=(2, 3, 3))  # NTC: T = 3
    labels = onp.array([[0, 0, 1], [0, 1, -1]])  # the first needs 4 steps (repeat needs a blank)
    x = np.array(acts)
    x.attach_grad()
    with autograd.record():
        out = gloss.CTCLoss()(x, np.array(labels))
    out.backward()
    loss = _np(out)
    assert onp.isinf(loss[0]) and onp.isfinite(loss[1])
    g = _np(x.grad)
    assert (g[0] == 0).all() and onp.isfinite(g).all()
    onp.testing.assert_allclose(loss[1], ref_ctc(acts.transpose(1, 0, 2)[:, 1:], labels[1:],
                                                  [3], [2])[0], rtol=1e-7)


def test_ctc_gradient_matches_finite_differences():
    t, n, c = 4, 3, 4
    acts = RNG.normal(size=(n, t, c))
    labels = onp.array([[0, 1], [2, 2], [1, -1]])
    plen = onp.array([4, 4, 3])
    f = gloss.CTCLoss()
    _fd_check(lambda x: f(x, np.array(labels), np.array(plen)), acts, rtol=1e-5, atol=1e-8)
    # padded steps past a sample's length get no gradient
    x = np.array(acts)
    x.attach_grad()
    with autograd.record():
        f(x, np.array(labels), np.array(plen)).backward()
    assert (_np(x.grad)[2, 3] == 0).all()
    # gradients of the probabilities over the alphabet sum to zero at each valid step
    onp.testing.assert_allclose(_np(x.grad)[:, :3].sum(-1), 0.0, atol=1e-12)


def test_ctc_float32_long_sequence_is_finite():
    rng = onp.random.default_rng(1)
    acts = (rng.normal(size=(2, 60, 6)) * 20).astype(onp.float32)
    labels = rng.integers(0, 5, size=(2, 10)).astype(onp.float32)
    x = np.array(acts)
    x.attach_grad()
    with autograd.record():
        out = gloss.CTCLoss()(x, np.array(labels))
    out.backward()
    assert onp.isfinite(_np(out)).all() and onp.isfinite(_np(x.grad)).all()
