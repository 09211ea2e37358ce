"""End to end: a small CNN (Conv2D-BatchNorm-relu-MaxPool-Dense) built with gluon.nn, hybridized,
trained with Trainer('adam') and SoftmaxCrossEntropyLoss on a fixed synthetic 4-class task of 8x8
one-channel images (horizontal, vertical, diagonal and anti-diagonal bars at random positions,
plus noise), reaches >= 95% test accuracy in a few epochs; the imperative and hybridized networks
give the same first-batch loss and gradients from the same initialization.
"""

from __future__ import annotations

import time

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, np
from framework import initializer as init
from framework.gluon import nn

SEED = 20250402
CLASSES = 4
SIZE = 8


def _bars(n, rng):
    """``n`` images (n, 1, 8, 8) and labels: class 0 a horizontal bar, 1 a vertical bar, 2 a
    diagonal, 3 an anti-diagonal, each at a random offset, with Gaussian noise."""
    labels = rng.integers(0, CLASSES, size=n)
    images = rng.normal(0.0, 0.3, size=(n, 1, SIZE, SIZE))
    idx = numpy.arange(SIZE)
    for i, c in enumerate(labels):
        k = rng.integers(1, SIZE - 1)
        if c == 0:
            images[i, 0, k, :] += 1.0
        elif c == 1:
            images[i, 0, :, k] += 1.0
        else:
            shift = rng.integers(-2, 3)
            cols = idx + shift if c == 2 else SIZE - 1 - idx + shift
            ok = (cols >= 0) & (cols < SIZE)
            images[i, 0, idx[ok], cols[ok]] += 1.0
    return images.astype(numpy.float32), labels.astype(numpy.float32)


def _data():
    rng = numpy.random.default_rng(SEED)
    return _bars(512, rng), _bars(256, rng)


def _net():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, kernel_size=3, padding=1, in_channels=1), nn.BatchNorm(in_channels=8),
            nn.Activation("relu"), nn.MaxPool2D(pool_size=2),
            nn.Dense(CLASSES, in_units=8 * (SIZE // 2) ** 2))
    mx.np.random.seed(SEED)
    net.initialize(init.Xavier())
    return net


def _first_batch(net, x, y, loss_fn):
    with autograd.record():
        loss = loss_fn(net(x), y)
    loss.backward()
    return loss.asnumpy(), {k: p.grad().asnumpy() for k, p in net.collect_params().items()
                            if p.grad_req != "null"}


def test_imperative_and_hybridized_first_batch_agree():
    (xtr, ytr), _ = _data()
    x, y = np.array(xtr[:32]), np.array(ytr[:32])
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    imperative, hybrid = _net(), _net()
    for k, p in imperative.collect_params().items():
        numpy.testing.assert_array_equal(p.data().asnumpy(),
                                         hybrid.collect_params()[k].data().asnumpy())
    hybrid.hybridize()
    want_loss, want_grads = _first_batch(imperative, x, y, loss_fn)
    for _ in range(2):  # the trace, then a replay
        hybrid.collect_params().zero_grad()
        got_loss, got_grads = _first_batch(hybrid, x, y, loss_fn)
        numpy.testing.assert_allclose(got_loss, want_loss, rtol=1e-6, atol=1e-7)
        for k in want_grads:
            numpy.testing.assert_allclose(got_grads[k], want_grads[k], rtol=1e-5, atol=1e-7)
    assert want_loss.mean() == pytest.approx(got_loss.mean(), rel=1e-6)


def test_small_cnn_learns_oriented_bars():
    start = time.perf_counter()
    (xtr, ytr), (xte, yte) = _data()
    net = _net()
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.02})
    order_rng = numpy.random.default_rng(SEED + 1)
    batch = 32
    epoch_losses = []
    for _epoch in range(6):
        order = order_rng.permutation(len(xtr))
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x, y = np.array(xtr[idx]), np.array(ytr[idx])
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(len(idx))
            total += float(loss.sum())
        epoch_losses.append(total / len(xtr))
    metric = gluon.metric.Accuracy()
    for i in range(0, len(xte), 64):
        metric.update([np.array(yte[i:i + 64])], [net(np.array(xte[i:i + 64]))])
    name, acc = metric.get()
    assert name == "accuracy"
    assert acc >= 0.95, (acc, epoch_losses)
    assert epoch_losses[-1] < epoch_losses[0]
    assert time.perf_counter() - start < 60  # ~2 s here; generous for slow machines
