"""Gluon on legacy ``nd.NDArray``: networks built and trained as in MXNet 1.x (no set_np)."""

from __future__ import annotations

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, nd, np
from framework.gluon import nn

RNG = numpy.random.default_rng(11)


def _data(n: int = 64, d: int = 10, k: int = 3) -> tuple[numpy.ndarray, numpy.ndarray]:
    centers = RNG.standard_normal((k, d)) * 3
    labels = RNG.integers(0, k, n)
    x = centers[labels] + RNG.standard_normal((n, d))
    return x.astype(numpy.float32), labels.astype(numpy.float32)


def _mlp(hybrid: bool) -> nn.HybridSequential:
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu"), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    if hybrid:
        net.hybridize()
    return net


@pytest.mark.parametrize("hybrid", [False, True])
def test_mlp_trained_with_nd_arrays(hybrid: bool) -> None:
    x, y = _data()
    X, Y = nd.array(x), nd.array(y)
    net = _mlp(hybrid)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    losses = []
    for _ in range(30):
        with autograd.record():
            out = net(X)
            loss = loss_fn(out, Y)
        assert isinstance(out, nd.NDArray) and isinstance(loss, nd.NDArray)
        assert loss.shape == (64,)
        loss.backward()
        trainer.step(X.shape[0])
        losses.append(loss.mean().asscalar())
    assert losses[-1] < 0.5 * losses[0]
    acc = (nd.argmax(net(X), axis=1) == Y).mean().asscalar()
    assert acc > 0.9


@pytest.mark.parametrize("hybrid", [False, True])
def test_legacy_and_np_calls_agree(hybrid: bool) -> None:
    x, y = _data(8)
    net = _mlp(hybrid)
    out_nd = net(nd.array(x))
    out_np = net(np.array(x))
    assert type(out_nd) is nd.NDArray and type(out_np) is np.ndarray
    numpy.testing.assert_allclose(out_nd.asnumpy(), out_np.asnumpy(), rtol=1e-6)
    # gradients reach the parameters the same way in both modes
    loss_fn = gluon.loss.L2Loss()
    grads = []
    for X, Y in ((nd.array(x), nd.array(y)), (np.array(x), np.array(y))):
        with autograd.record():
            loss = loss_fn(net(X)[:, 0], Y)
        loss.backward()
        grads.append(net[0].weight.grad().asnumpy().copy())
    numpy.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)


def test_plain_sequential_of_layers() -> None:
    x, _ = _data(5)
    net = nn.Sequential()
    net.add(nn.Dense(4, activation="tanh"), nn.Dropout(0.5), nn.Dense(2))
    net.initialize()
    out = net(nd.array(x))
    assert type(out) is nd.NDArray and out.shape == (5, 2)
    ref = net(np.array(x))
    numpy.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-6)


def test_input_gradient_flows_through_a_network() -> None:
    x, _ = _data(4)
    net = _mlp(True)
    X = nd.array(x)
    X.attach_grad()
    with autograd.record():
        s = net(X).sum()
    s.backward()
    Z = np.array(x)
    Z.attach_grad()
    with autograd.record():
        net(Z).sum().backward()
    assert isinstance(X.grad, nd.NDArray)
    numpy.testing.assert_allclose(X.grad.asnumpy(), Z.grad.asnumpy(), rtol=1e-5, atol=1e-7)


class _Scale(gluon.HybridBlock):
    """A 1.x-style block: its own parameter, ops called through F."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []
        self.dense = nn.Dense(4)
        self.scale = gluon.Parameter("scale", shape=(4,), init=mx.init.Constant(2.0))

    def hybrid_forward(self, F, x, scale):
        self.seen.append((F, type(x), type(scale)))
        h = F.relu(self.dense(x))
        return F.broadcast_mul(h, F.reshape(scale, shape=(1, -1))) + 1


@pytest.mark.parametrize("hybrid", [False, True])
def test_hybrid_forward_gets_nd(hybrid: bool) -> None:
    blk = _Scale()
    blk.initialize()
    if hybrid:
        blk.hybridize()
    x = nd.array(RNG.standard_normal((3, 5)).astype(numpy.float32))
    outs = [blk(x) for _ in range(3)]
    assert all(type(o) is nd.NDArray for o in outs)
    F, tx, ts = blk.seen[0]
    assert F is nd and tx is nd.NDArray and ts is nd.NDArray
    # hybridized: traced once, replayed after (the Python body runs once per signature)
    assert len(blk.seen) == (1 if hybrid else 3)
    h = numpy.maximum(x.asnumpy() @ blk.dense.weight.data().asnumpy().T
                      + blk.dense.bias.data().asnumpy(), 0)
    numpy.testing.assert_allclose(outs[-1].asnumpy(), h * 2 + 1, rtol=1e-5)
    # the same block called with np arrays runs NumPy-style (F.np/F.npx) and gives np arrays
    with pytest.raises(AttributeError):
        blk(np.array(x.asnumpy()))  # F.broadcast_mul does not exist NumPy-style
    # gradients reach the hybrid_forward parameter through the NDArray views
    with autograd.record():
        loss = blk(x).sum()
    loss.backward()
    dscale = numpy.maximum(x.asnumpy() @ blk.dense.weight.data().asnumpy().T
                           + blk.dense.bias.data().asnumpy(), 0).sum(0)
    numpy.testing.assert_allclose(blk.scale.grad().asnumpy(), dscale, rtol=1e-5)


class _LegacyBlock(gluon.Block):
    """A plain Block written for legacy arrays: nd functions and Parameter.data()."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = gluon.Parameter("weight", shape=(5, 2))
        self.out = nn.Dense(1)

    def forward(self, x):
        w = self.weight.data()
        assert isinstance(w, nd.NDArray) and isinstance(x, nd.NDArray)
        return self.out(nd.relu(nd.dot(x, w)))


def test_plain_block_with_legacy_forward() -> None:
    blk = _LegacyBlock()
    blk.initialize(mx.init.Normal(0.5))
    x = nd.array(RNG.standard_normal((6, 5)).astype(numpy.float32))
    with autograd.record():
        out = blk(x)
        loss = (out * out).mean()
    assert isinstance(out, nd.NDArray) and out.shape == (6, 1)
    loss.backward()
    w = blk.weight.data()
    assert type(w) is np.ndarray  # outside legacy code: the np array
    assert float(numpy.abs(blk.weight.grad().asnumpy()).sum()) > 0
    trainer = gluon.Trainer(blk.collect_params(), "sgd", {"learning_rate": 0.1})
    before = w.asnumpy().copy()
    trainer.step(1)
    assert not numpy.allclose(before, blk.weight.data().asnumpy())


def test_classic_loss_buffer_loop(capsys) -> None:
    """MXNet 1.x's classic Gluon loop, unchanged except ``import framework as mx`` (the names
    ``autograd``, ``gluon``, ``nd``, ``nn`` are imported from it at the top of this file)."""
    if not hasattr(gluon.data, "DataLoader"):
        pytest.skip("gluon.data.DataLoader is not available yet")
    mx.random.seed(42)
    X = nd.random.normal(shape=(200, 20))
    w_true = nd.random.normal(shape=(20, 10))
    y = nd.argmax(nd.dot(X, w_true), axis=1)

    net = nn.Dense(10)
    net.initialize(mx.init.Normal(sigma=0.1))
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    train_data = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=20,
                                       shuffle=True, num_workers=2)

    prev_loss = None
    epoch_losses = []
    for _epoch in range(4):
        cumulative = 0.0
        for data, label in train_data:
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            if prev_loss is not None:  # the previous step's loss buffer is still valid
                print("loss", prev_loss.asnumpy().mean())
            prev_loss = loss
            cumulative += loss.mean().asscalar()
        epoch_losses.append(cumulative)
    assert isinstance(prev_loss, nd.NDArray)
    printed = [float(line.split()[1]) for line in capsys.readouterr().out.splitlines()]
    assert len(printed) == 4 * 10 - 1
    assert epoch_losses[-1] < 0.6 * epoch_losses[0]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_over_legacy_arrays_gives_legacy_batches(num_workers) -> None:
    """MXNet 1.x: batches of an ArrayDataset of NDArrays are NDArrays (labels too), so the
    classic accuracy line mixing outputs and labels works."""
    X = nd.random.uniform(shape=(12, 4))
    y = nd.array([0, 1, 2] * 4)
    ds = gluon.data.ArrayDataset(X, y).transform_first(lambda x: x * 1)
    loader = gluon.data.DataLoader(ds, batch_size=4, num_workers=num_workers)
    net = gluon.nn.Dense(3)
    net.initialize()
    correct = 0.0
    for data, label in loader:
        assert type(data) is nd.NDArray and type(label) is nd.NDArray and label.shape == (4,)
        correct += (net(data).argmax(axis=1) == label.astype("float32")).sum().asscalar()
    assert 0 <= correct <= 12
