"""hybridize's fused replay (one engine task per call) and static_alloc buffer reuse.

The oracle is always the imperative run of the same block: outputs and gradients must be equal
bit for bit; errors must name the op that failed and the user's line.
"""

from __future__ import annotations

import gc

import numpy as onp
import pytest

import framework as mx
from framework import autograd, engine, gluon, np, npx
from framework.gluon import HybridBlock, nn
from framework.nd._op import Op, apply


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"], autouse=True)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="relu"), nn.Dense(4))
    net.initialize(mx.init.Normal(0.3))
    return net


def _data(shape, seed=0):
    return np.array(onp.random.default_rng(seed).normal(size=shape).astype("float32"))


def _graphs(block):
    return list(block._cached.values())


def _step(net, loss_fn, x, y):
    with autograd.record():
        loss = loss_fn(net(x), y)
    loss.backward()
    return loss.asnumpy(), {k: p.grad().asnumpy().copy() for k, p in
                            net.collect_params().items()}


def test_mlp_and_loss_are_fused_and_bit_identical():
    net, loss_fn = _mlp(), gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data((5, 12)), np.array([0, 1, 2, 3, 1])
    want = _step(net, loss_fn, x, y)
    want_infer = net(x).asnumpy()
    net.hybridize()
    loss_fn.hybridize()
    for _ in range(3):  # trace, then fused replays
        got = _step(net, loss_fn, x, y)
        onp.testing.assert_array_equal(got[0], want[0])
        for k in want[1]:
            onp.testing.assert_array_equal(got[1][k], want[1][k])
        onp.testing.assert_array_equal(net(x).asnumpy(), want_infer)
    assert all(g.fused is not None for g in _graphs(net) + _graphs(loss_fn))


def test_cnn_with_views_is_fused_and_bit_identical():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(3, 3, activation="relu"), nn.MaxPool2D(2), nn.Flatten(), nn.Dense(5))
    net.initialize(mx.init.Normal(0.3))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data((2, 1, 8, 8)), np.array([1, 4])
    want = _step(net, loss_fn, x, y)
    net.hybridize()
    for _ in range(2):
        got = _step(net, loss_fn, x, y)
        onp.testing.assert_array_equal(got[0], want[0])
        for k in want[1]:
            onp.testing.assert_array_equal(got[1][k], want[1][k])
    assert all(g.fused is not None for g in _graphs(net))


def test_random_ops_are_not_fused_and_stay_random():
    net = nn.HybridSequential()
    net.add(nn.Dense(50), nn.Dropout(0.5))
    net.initialize()
    net.hybridize()
    x = np.ones((4, 6))
    with autograd.train_mode():
        a, b, c = (net(x).asnumpy() for _ in range(3))
    assert not onp.array_equal(b, c)
    assert all(g.fused is None for g in _graphs(net))
    del a


def test_parameter_cast_after_trace_falls_back_and_follows_the_dtype():
    net = _mlp()
    x = _data((3, 12))
    net.hybridize()
    net(x)
    net(x)
    net.cast("float64")
    x64 = x.astype("float64")
    got = net(x64)
    assert got.dtype == onp.float64
    net.hybridize(False)
    onp.testing.assert_array_equal(got.asnumpy(), net(x64).asnumpy())


class _Boom(Op):
    """Fails inside its kernel (not at the call) when armed: a runtime error in a graph."""

    name = "boom_op"
    armed = False

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def forward(self, xp, x):
        if _Boom.armed:
            raise ValueError("kernel exploded")
        return x * 2


class _BoomBlock(HybridBlock):
    def forward(self, x):
        return apply(_Boom(), (npx.relu(x),)) + 1


def test_error_inside_the_fused_task_names_the_op_and_the_line():
    blk = _BoomBlock()
    blk.hybridize()
    x = _data((2, 3))
    blk(x)
    blk(x)
    assert _graphs(blk)[0].fused is not None
    _Boom.armed = True
    try:
        with pytest.raises(ValueError) as info:
            out = blk(x)  # the line the error must name
            out.asnumpy()
    finally:
        _Boom.armed = False
    msg = str(info.value)
    assert "kernel exploded" in msg and "boom_op" in msg
    assert "test_hybrid_fused.py" in msg
    npx.waitall()
    onp.testing.assert_array_equal(blk(x).asnumpy(), (onp.maximum(x.asnumpy(), 0) * 2) + 1)


def _ptr(a):
    return a._buf.__array_interface__["data"][0]


def test_static_alloc_reuses_buffers_once_the_output_is_dropped():
    net = _mlp()
    xs = [_data((3, 12), seed=i) for i in range(4)]
    want = [net(x).asnumpy() for x in xs]
    net.hybridize(static_alloc=True)
    net(xs[0]).wait_to_read()  # trace
    ptrs = []
    for i, x in enumerate(xs):
        out = net(x)
        out.wait_to_read()
        onp.testing.assert_array_equal(out.asnumpy(), want[i])
        ptrs.append(_ptr(out))
        del out
        gc.collect()
    assert len(set(ptrs)) == 1  # the same output buffer every call
    fused = _graphs(net)[0].fused
    assert fused is not None and fused.pooled  # the Dense and relu steps write in place


def test_static_alloc_never_overwrites_what_the_caller_keeps():
    net = _mlp()
    xs = [_data((3, 12), seed=i) for i in range(3)]
    want = [net(x).asnumpy() for x in xs]
    net.hybridize(static_alloc=True)
    kept = net(xs[0])  # trace
    replays = [net(x) for x in xs]  # each alive while the next call runs
    view = replays[1].reshape(-1)  # a framework view keeps the buffer too
    host = onp.asarray(replays[2])  # and so may a NumPy array over it
    for _ in range(3):
        net(xs[0]).wait_to_read()
    onp.testing.assert_array_equal(kept.asnumpy(), want[0])
    for i, y in enumerate(replays):
        onp.testing.assert_array_equal(y.asnumpy(), want[i])
    onp.testing.assert_array_equal(view.asnumpy(), want[1].reshape(-1))
    onp.testing.assert_array_equal(host, want[2])
    ptrs = [_ptr(y) for y in replays]
    assert len(set(ptrs)) == len(ptrs)


def test_static_alloc_training_matches_imperative():
    net, loss_fn = _mlp(), gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data((5, 12)), np.array([0, 1, 2, 3, 1])
    want = _step(net, loss_fn, x, y)
    net.hybridize(static_alloc=True)
    for _ in range(3):
        got = _step(net, loss_fn, x, y)
        onp.testing.assert_array_equal(got[0], want[0])
        for k in want[1]:
            onp.testing.assert_array_equal(got[1][k], want[1][k])


# -- pooling kernels (strided-slice formulation) against the window-view reference ---------------

@pytest.mark.parametrize("kernel,stride,pad,conv", [
    ((2, 2), (2, 2), (0, 0), "valid"),   # LeNet's: windows tile the input
    ((3, 3), (2, 2), (1, 1), "valid"),   # overlapping, padded
    ((2, 3), (3, 1), (0, 1), "full"),    # gaps between rows, overlap along columns
    ((3, 3), (1, 1), (0, 0), "same"),
])
def test_max_pool_and_its_scatter_match_the_window_reference(kernel, stride, pad, conv):
    from framework.nd import _conv

    rng = onp.random.default_rng(3)
    x = onp.maximum(rng.normal(size=(2, 3, 7, 8)), 0).astype("float32")  # ties at zero
    x[0, 0, 1, 1] = onp.nan
    geom = _conv.pool_geom(x.shape, kernel, stride, pad, conv, False, True, None)
    pool = _conv.Pooling(geom, "max")
    win = _conv._pool_windows(onp, x, geom, -onp.inf)
    want = win.max(axis=(-2, -1))
    onp.testing.assert_array_equal(pool.forward(onp, x), want)
    for g_inf in (False, True):
        g = rng.normal(size=want.shape).astype("float32")
        if g_inf:
            g[1, 2, 0, 0] = onp.inf
        am = _conv._argmax_windows(onp, x, geom)
        ref = _conv._window_scatter(
            onp, lambda j, offs, am=am, g=g: onp.where(am == j, g, onp.float32(0)), geom, 2, 3,
            g.dtype)
        got = _conv.MaxPoolScatter(geom).forward(onp, x, g)
        onp.testing.assert_array_equal(got, ref)
    xf = onp.nan_to_num(x)
    for kind in ("avg", "sum"):
        w0 = _conv._pool_windows(onp, xf, geom, 0).sum(axis=(-2, -1))
        if kind == "avg":
            w0 = w0 / geom.divisor()
        onp.testing.assert_allclose(_conv.Pooling(geom, kind).forward(onp, xf), w0, rtol=1e-6)
