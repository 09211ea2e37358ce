"""The cache key of a hybridized call (``gluon._hybrid.signature``): the all-arrays fast path
and the general path."""

from __future__ import annotations

import numpy as onp
import pytest

from framework import autograd, engine, np
from framework.gluon import HybridBlock
from framework.gluon._hybrid import signature


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"], autouse=True)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


class Scale(HybridBlock):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x, *rest):
        self.calls += 1
        out = x * 2
        for r in rest:
            out = out + (r if not isinstance(r, (list, tuple)) else r[0])
        return out


def test_keys_tell_shape_dtype_type_and_mode_apart():
    a = np.ones((2, 3))
    keys = {
        signature((a,)),
        signature((np.ones((3, 2)),)),
        signature((np.ones((2, 3), dtype="float64"),)),
        signature((a, a)),
        signature((a, np.ones((2, 3)))),
        signature(((a,),)),  # nested: the general path
        signature((a, 1.0)),  # a non-array: the general path
    }
    with autograd.train_mode():
        keys.add(signature((a,)))
    assert len(keys) == 8
    assert signature((a,)) == signature((np.zeros((2, 3)),))
    assert signature((a, 1.0)) == signature((np.zeros((2, 3)), 1.0))
    assert signature((a, 1.0)) != signature((a, 2.0))


def test_fast_and_general_paths_replay_correctly():
    net = Scale()
    net.hybridize()
    x, y = np.array([1.0, 2.0]), np.array([10.0, 20.0])
    for _ in range(2):
        onp.testing.assert_array_equal(net(x).asnumpy(), [2.0, 4.0])
        onp.testing.assert_array_equal(net(x, y).asnumpy(), [12.0, 24.0])
        onp.testing.assert_array_equal(net(x, [y]).asnumpy(), [12.0, 24.0])
    assert net.calls == 3  # each signature traced once, then replayed
    onp.testing.assert_array_equal(net(y, x).asnumpy(), [21.0, 42.0])  # new inputs, same graph
    assert net.calls == 3


@pytest.mark.parametrize("nested", [False, True])
def test_the_same_array_twice_is_its_own_signature(nested):
    """A graph traced with f(x, x) reads one slot for both arguments: f(x, y) must not replay
    it (nor the other way round)."""
    net = Scale()
    net.hybridize()
    x, y = np.array([1.0, 2.0]), np.array([10.0, 20.0])

    def call(a, b):
        return net(a, [b] if nested else b).asnumpy()

    onp.testing.assert_array_equal(call(x, x), [3.0, 6.0])
    onp.testing.assert_array_equal(call(x, y), [12.0, 24.0])
    onp.testing.assert_array_equal(call(y, y), [30.0, 60.0])
    onp.testing.assert_array_equal(call(y, x), [21.0, 42.0])
    assert net.calls == 2
