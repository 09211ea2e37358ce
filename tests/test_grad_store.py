"""How backward stores gradients into ``.grad``: the buffer may be taken over instead of copied,
but every reference a user holds must still see the new values, and no two arrays may end up
sharing a gradient buffer."""

from __future__ import annotations

import numpy
import pytest

from framework import autograd, engine, gluon, np

ENGINES = ["ThreadedEnginePerDevice", "NaiveEngine"]


@pytest.fixture(params=ENGINES)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


def test_held_grad_and_its_views_see_new_values(eng):
    x = np.array([1.0, 2.0, 3.0])
    x.attach_grad()
    g = x.grad
    view = x.grad[1:]
    host = numpy.asarray(x.grad)  # a NumPy view of the buffer, taken before backward
    for k in (2.0, 3.0):
        with autograd.record():
            y = (x * k).sum()
        y.backward()
        numpy.testing.assert_array_equal(g.asnumpy(), [k, k, k])
        numpy.testing.assert_array_equal(view.asnumpy(), [k, k])
        numpy.testing.assert_array_equal(host, [k, k, k])
        assert x.grad is g


def test_head_gradient_passed_through_is_not_shared(eng):
    x = np.array([1.0, 2.0])
    x.attach_grad()
    head = np.array([5.0, 7.0])
    with autograd.record():
        y = x * 1.0
    y.backward(head)
    numpy.testing.assert_array_equal(x.grad.asnumpy(), [5.0, 7.0])
    head[:] = 0.0  # must not change x.grad
    numpy.testing.assert_array_equal(x.grad.asnumpy(), [5.0, 7.0])


def test_one_gradient_for_two_variables_is_not_shared(eng):
    a = np.array([1.0, 2.0])
    b = np.array([3.0, 4.0])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        y = (a + b).sum()  # both gradients are the same ones
    y.backward()
    a.grad[:] = 9.0
    numpy.testing.assert_array_equal(b.grad.asnumpy(), [1.0, 1.0])


def test_grad_req_add_accumulates(eng):
    x = np.array([1.0, 2.0])
    x.attach_grad(grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = (x * x).sum()
        y.backward()
    numpy.testing.assert_allclose(x.grad.asnumpy(), [6.0, 12.0])


@pytest.mark.parametrize("hybridize", [False, True])
def test_held_parameter_grads_match_between_imperative_and_hybridized(hybridize, eng):
    numpy.random.seed(0)
    X = np.array(numpy.random.normal(size=(8, 5)).astype("float32"))
    results = []
    for hyb in (False, hybridize):
        net = gluon.nn.HybridSequential()
        net.add(gluon.nn.Dense(4, activation="relu"), gluon.nn.Dense(2))
        net.initialize()
        for p, v in zip(net.collect_params().values(), _fixed(net, X)):
            p.set_data(v)
        if hyb:
            net.hybridize()
        held = [p.grad() for p in net.collect_params().values()]
        for _ in range(2):
            with autograd.record():
                loss = (net(X) ** 2).sum()
            loss.backward()
        results.append([h.asnumpy().copy() for h in held])
        for h, p in zip(held, net.collect_params().values()):
            assert h is p.grad()
    for a, b in zip(*results):
        numpy.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _fixed(net, X):
    net(X)  # deferred init
    rng = numpy.random.default_rng(1)
    return [np.array(rng.normal(size=p.shape).astype("float32"))
            for p in net.collect_params().values()]
