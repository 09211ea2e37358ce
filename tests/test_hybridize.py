"""hybridize(): trace once per signature, replay without Python; parity with imperative runs."""

from __future__ import annotations

import numpy as onp
import pytest

import framework as mx
from framework import autograd, engine, np, npx
from framework.base import NotImplementedForSymbol
from framework.gluon import HybridBlock, Parameter


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"], autouse=True)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


class Affine(HybridBlock):
    """y = relu(x @ w.T + b) * scale, with a print-like side effect counter."""

    def __init__(self, units, in_units=-1):
        super().__init__()
        self.weight = Parameter("weight", shape=(units, in_units), allow_deferred_init=True)
        self.bias = Parameter("bias", shape=(units,), init="zeros")
        self.calls = 0

    def infer_shape(self, x):
        self.weight.shape = (self.weight.shape[0], x.shape[-1])

    def forward(self, x):
        self.calls += 1
        w = self.weight.data(x.device)
        y = np.dot(x, w.T) + self.bias.data(x.device)
        return npx.relu(y) * 2.0


class Net(HybridBlock):
    def __init__(self):
        super().__init__()
        self.a = Affine(8)
        self.b = Affine(3)

    def forward(self, x):
        h = self.a(x)
        h = h.reshape(h.shape[0], 2, 4).transpose(0, 2, 1).reshape(h.shape[0], -1)
        return self.b(h) + h[:, :3].sum(axis=1, keepdims=True)


def _data(n=5, d=6, seed=0):
    return np.array(onp.random.default_rng(seed).normal(size=(n, d)))


def _run(net, x):
    x = x.copy()
    x.attach_grad()
    with autograd.record():
        y = net(x)
        loss = (y * y).sum()
    loss.backward()
    grads = {k: p.grad().asnumpy() for k, p in net.collect_params().items()}
    return y.asnumpy(), x.grad.asnumpy(), grads


def test_outputs_and_gradients_match_imperative():
    mx.np.random.seed(1)
    net = Net()
    net.initialize(mx.init.Normal(0.5))
    x = _data()
    want = _run(net, x)
    net.hybridize()
    for _ in range(3):  # first call traces, later ones replay
        got = _run(net, x)
        onp.testing.assert_array_equal(got[0], want[0])
        onp.testing.assert_array_equal(got[1], want[1])
        for k in want[2]:
            onp.testing.assert_array_equal(got[2][k], want[2][k])


def test_python_forward_runs_once_per_signature():
    net = Net()
    net.initialize()
    net.hybridize()
    for _ in range(3):
        net(_data())
    assert net.a.calls == 1 and net.b.calls == 1
    net(_data(n=7))  # new batch size: a new signature is traced once
    net(_data(n=7))
    assert net.a.calls == 2
    with autograd.train_mode():  # training mode is part of the signature
        net(_data())
    assert net.a.calls == 3


def test_replay_sees_new_parameter_values():
    net = Affine(2, in_units=3)
    net.initialize()
    net.hybridize()
    x = np.ones((1, 3))
    net(x)
    net.weight.set_data(np.ones((2, 3)))
    net.bias.set_data(np.array([1.0, -10.0]))
    assert net(x).asnumpy().tolist() == [[8.0, 0.0]]


def test_random_ops_stay_random():
    class Noisy(HybridBlock):
        def forward(self, x):
            return x + np.random.uniform(size=x.shape)

    net = Noisy()
    net.hybridize()
    x = np.zeros(4)
    a, b = net(x).asnumpy(), net(x).asnumpy()
    assert not onp.array_equal(a, b)


def test_dropout_follows_training_mode():
    class Drop(HybridBlock):
        def forward(self, x):
            return npx.dropout(x, p=0.5)

    net = Drop()
    net.hybridize()
    x = np.ones((100,))
    assert net(x).asnumpy().tolist() == [1.0] * 100  # identity outside training
    with autograd.record():
        y = net(x).asnumpy()
    assert set(onp.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).sum() < 100


def test_data_dependent_control_flow_names_the_line():
    class Branchy(HybridBlock):
        def forward(self, x):
            if x.sum() > 0:  # data-dependent
                return x
            return -x

    net = Branchy()
    net.hybridize()
    with pytest.raises(NotImplementedForSymbol, match="test_hybridize.py"):
        net(np.ones(3))
    net.hybridize(False)
    assert net(np.ones(3)).asnumpy().tolist() == [1.0, 1.0, 1.0]


def test_constants_and_setitem_inside_forward_are_fresh_each_call():
    class Builder(HybridBlock):
        def forward(self, x):
            out = np.zeros((2, 3))
            out[1] = x * 2
            return out

    net = Builder()
    net.hybridize()
    first = net(np.ones(3))
    second = net(np.full((3,), 5.0))
    assert first.asnumpy().tolist() == [[0, 0, 0], [2, 2, 2]]
    assert second.asnumpy().tolist() == [[0, 0, 0], [10, 10, 10]]
    x = np.ones(3)
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward()
    assert x.grad.asnumpy().tolist() == [2.0, 2.0, 2.0]


def test_keyword_arguments_are_rejected():
    net = Affine(2, in_units=3)
    net.initialize()
    net.hybridize()
    with pytest.raises(TypeError, match="keyword"):
        net(x=np.ones((1, 3)))


def test_nested_structures_and_multiple_outputs():
    class Two(HybridBlock):
        def forward(self, pair, scale):
            a, b = pair
            return a * scale, [b + 1, a - b]

    net = Two()
    net.hybridize()
    a, b = np.ones(2), np.arange(2)
    out1 = net((a, b), 3.0)
    out2 = net((a * 2, b), 3.0)
    assert out1[0].asnumpy().tolist() == [3.0, 3.0]
    assert out2[0].asnumpy().tolist() == [6.0, 6.0]
    assert out2[1][1].asnumpy().tolist() == [2.0, 1.0]


def test_hybrid_forward_1x_style():
    class Old(HybridBlock):
        def __init__(self):
            super().__init__()
            self.weight = Parameter("weight", shape=(3,))

        def hybrid_forward(self, F, x, weight):
            return F.npx.relu(F.np.multiply(x, weight)) + F.relu(x)

    net = Old()
    net.initialize(mx.init.One())
    want = net(np.array([-1.0, 2.0, 3.0])).asnumpy()
    net.hybridize()
    assert net(np.array([-1.0, 2.0, 3.0])).asnumpy().tolist() == want.tolist() == [0, 4, 6]


def test_static_alloc_never_reuses_outputs_held_by_the_caller():
    net = Net()
    net.initialize(mx.init.Normal(0.5))
    xs = [_data(seed=i) for i in range(3)]
    want = [net(x).asnumpy() for x in xs]
    net.hybridize(static_alloc=True, static_shape=True)
    held = [net(x) for x in xs * 2]  # trace, then replays
    for _ in range(3):
        net(xs[0])
    for i, y in enumerate(held):
        onp.testing.assert_array_equal(y.asnumpy(), want[i % 3])
    bufs = [y._buf for y in held]
    assert not any(onp.shares_memory(a, b) for i, a in enumerate(bufs) for b in bufs[i + 1:])


def test_constants_written_or_returned_are_fresh_each_call():
    class Consts(HybridBlock):
        def forward(self, x):
            acc = np.zeros(3)
            acc += x  # in place into a constant
            out = np.zeros((2, 3))
            row = out[1]
            row[:] = acc * 2  # through a view of a constant
            return out, np.arange(4).reshape(2, 2)  # a constant returned as a view

    net = Consts()
    net.hybridize(static_alloc=True)
    first = net(np.ones(3))
    first[1][:] = -1  # the caller writes into an output
    second = net(np.full((3,), 5.0))
    third = net(np.ones(3))
    assert first[0].asnumpy().tolist() == [[0, 0, 0], [2, 2, 2]]
    assert second[0].asnumpy().tolist() == [[0, 0, 0], [10, 10, 10]]
    assert third[0].asnumpy().tolist() == [[0, 0, 0], [2, 2, 2]]
    assert second[1].asnumpy().tolist() == third[1].asnumpy().tolist() == [[0, 1], [2, 3]]


def test_detach_and_same_device_copies_follow_the_input():
    class Cut(HybridBlock):
        def forward(self, x):
            return x.as_in_context(x.device) * 2 + x.detach() + npx.stop_gradient(x)

    net = Cut()
    net.hybridize()
    assert net(np.ones(2)).asnumpy().tolist() == [4.0, 4.0]
    assert net(np.full((2,), 5.0)).asnumpy().tolist() == [20.0, 20.0]
    x = np.ones(2)
    x.attach_grad()
    with autograd.record():
        y = net(x)
    y.backward()
    assert x.grad.asnumpy().tolist() == [2.0, 2.0]  # only the as_in_context term
