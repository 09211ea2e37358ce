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
    # the recorded forward writes the relu over the convolution's dead result
    (fwd,) = _graphs(net)
    assert [st[4].name for st in fwd.fused.run_prog
            if st[0] == 0 and st[1] != st[4].forward] == ["_npx_activation"]


class _TanhRelu(HybridBlock):
    def forward(self, x):
        return npx.relu(np.tanh(x * 3.0)) * 2.0


def test_recorded_relu_keeps_an_input_whose_producer_reads_it_back():
    # tanh's gradient reads tanh's result: a relu written over it would change the gradient,
    # so the recorded program keeps it (oracle: the imperative gradient, and 1 - tanh^2)
    blk = _TanhRelu()
    x0 = _data((4, 5), 2)
    grads = []
    for hybrid in (False, True, True, True):
        if hybrid:
            blk.hybridize()
        x = x0.copy()
        x.attach_grad()
        with autograd.record():
            y = blk(x)
        y.backward()
        grads.append(x.grad.asnumpy())
    (fwd,) = _graphs(blk)
    assert all(st[0] == 1 or st[1] == st[4].forward for st in fwd.fused.run_prog)
    t = onp.tanh(x0.asnumpy() * 3.0)
    onp.testing.assert_allclose(grads[0], 6.0 * (1 - t * t) * (t > 0), rtol=1e-5, atol=1e-6)
    for g in grads[1:]:
        onp.testing.assert_array_equal(g, grads[0])


def test_dropout_is_fused_stays_random_and_draws_the_imperative_masks():
    net = nn.HybridSequential()
    net.add(nn.Dense(50), nn.Dropout(0.5), nn.Dense(3))
    net.initialize()
    x = np.ones((4, 6))
    net(x)  # (the deferred initialization draws too: before the seeded runs)

    def run(n):
        mx.random.seed(3)
        seen = []
        for _ in range(n):
            with autograd.record():
                y = net(x)
            y.backward()
            other = np.random.uniform(size=3)  # another draw between calls keeps its place
            seen.append((y.asnumpy(), net[0].weight.grad().asnumpy().copy(), other.asnumpy()))
        return seen

    want = run(4)
    net.hybridize()
    got = run(4)
    assert all(g.fused is not None for g in _graphs(net))
    assert all(g.fused.tokens for g in _graphs(net))
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            onp.testing.assert_array_equal(a, b)
    assert not onp.array_equal(got[2][0], got[3][0])
    with autograd.train_mode():
        a, b = (net(x).asnumpy() for _ in range(2))
    assert not onp.array_equal(a, b)


def test_a_fused_draw_keeps_its_place_behind_slow_work():
    # the fused task waits for a slow input; a later small draw, which could run inline at
    # once, must still draw after the task's mask: the task writes the generator's token
    net = nn.HybridSequential()
    net.add(nn.Dense(8), nn.Dropout(0.5))
    net.initialize()
    big = np.ones((1000, 1000))
    net(np.ones((4, 6)))

    def run():
        mx.random.seed(5)
        slow = (big @ big)[:4, :6] * 0 + 1  # pending for a while (ThreadedEngine)
        out = net(slow)
        other = np.random.uniform(size=3)
        return out.asnumpy(), other.asnumpy()

    with autograd.train_mode():
        want = run()
        net.hybridize()
        run()
        run()
        got = run()
    assert all(g.fused is not None for g in _graphs(net))
    for a, b in zip(want, got):
        onp.testing.assert_array_equal(a, b)


def test_batchnorm_is_fused_with_its_running_statistics_and_bit_identical():
    def make():
        mx.random.seed(1)
        net = nn.HybridSequential()
        net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(5),
                nn.BatchNorm(momentum=0.5), nn.Dense(3))
        net.initialize(mx.init.Xavier())
        net(x)
        return net

    x = _data((4, 2, 8, 8))
    imp, hyb = make(), make()
    hyb.hybridize()
    for _ in range(4):
        seen = []
        for net in (imp, hyb):
            with autograd.record():
                y = net(x)
            y.backward()
            seen.append([y.asnumpy()] + [p.data().asnumpy() for p in
                                         net.collect_params().values()]
                        + [p.grad().asnumpy() for p in net.collect_params().values()
                           if p.grad_req != "null"])
        for a, b in zip(*seen):
            onp.testing.assert_array_equal(a, b)
    (graph,) = _graphs(hyb)
    assert graph.fused is not None and len(graph.fused.effects) == 4
    # the running statistics, read right after a call that waits for a slow input, are
    # those the call wrote
    big = np.zeros((1000, 1000))
    with autograd.train_mode():
        hyb((big @ big)[:4, :128].reshape(4, 2, 8, 8) + x)
        imp(x)
    onp.testing.assert_array_equal(hyb[1].running_mean.data().asnumpy(),
                                   imp[1].running_mean.data().asnumpy())
    onp.testing.assert_array_equal(hyb(x).asnumpy(), imp(x).asnumpy())  # inference


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


# -- fused backward: one autograd node per graph call, its backward one cached task ------------

def _backward_graphs(block):
    return [b for g in _graphs(block) for b in g.fused.backward.values()]


def _graph_node(out):
    from framework.gluon._hybrid import _GraphBackward

    node = out._node[0]
    assert isinstance(node.op, _GraphBackward)
    return node


def test_one_node_per_call_and_a_fused_backward_program():
    net, loss_fn = _mlp(), gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data((5, 12)), np.array([0, 1, 2, 3, 1])
    want = _step(net, loss_fn, x, y)
    net.hybridize()
    loss_fn.hybridize()
    _step(net, loss_fn, x, y)  # trace
    with autograd.record():
        out = net(x)
        loss = loss_fn(out, y)
    node = _graph_node(out)
    assert len(node.inputs) == 1 + 6 and node.outputs == (out,)
    _graph_node(loss)
    for _ in range(2):  # the first traces the backward program, the second replays it
        got = _step(net, loss_fn, x, y)
        for k in want[1]:
            onp.testing.assert_array_equal(got[1][k], want[1][k])
    back = _backward_graphs(net) + _backward_graphs(loss_fn)
    assert back and all(b is not None and b.fused is not None for b in back)


def test_fused_backward_grad_req_add_and_input_gradients():
    x, y = _data((4, 12), 1), np.array([3, 0, 2, 1])
    results = []
    net, loss_fn = _mlp(), gluon.loss.SoftmaxCrossEntropyLoss()
    net(x)
    for p in net.collect_params().values():
        p.grad_req = "add"
    for hybrid in (False, True):
        net.hybridize(hybrid)
        loss_fn.hybridize(hybrid)
        for p in net.collect_params().values():
            p.zero_grad()
        xs = x.copy()
        xs.attach_grad(grad_req="add")
        for _ in range(3):  # trace, replay (no input gradient yet), replays with it
            with autograd.record():
                loss = loss_fn(net(xs), y)
            loss.backward()
        results.append((xs.grad.asnumpy(), {k: p.grad().asnumpy() for k, p in
                                            net.collect_params().items()}))
        if hybrid:
            assert all(b.fused is not None for b in _backward_graphs(net))
    (gx0, g0), (gx1, g1) = results
    onp.testing.assert_array_equal(gx1, gx0)
    for k in g0:
        onp.testing.assert_array_equal(g1[k], g0[k])


def test_fused_backward_retain_graph_and_freed_graph():
    net = _mlp()
    net.hybridize()
    x = _data((3, 12), 2)
    net(x)
    with autograd.record():
        out = net(x)
    out.backward(retain_graph=True)
    first = {k: p.grad().asnumpy().copy() for k, p in net.collect_params().items()}
    out.backward()
    for k, p in net.collect_params().items():
        onp.testing.assert_array_equal(p.grad().asnumpy(), first[k])
    with pytest.raises(mx.base.FrameworkError, match="second time"):
        out.backward()
    net.hybridize(False)
    with autograd.record():
        ref = net(x)
    ref.backward()
    for k, p in net.collect_params().items():
        onp.testing.assert_array_equal(p.grad().asnumpy(), first[k])


@pytest.mark.parametrize("hybridize", [False, True])
def test_training_step_leaves_no_reference_cycles(hybridize):
    """After ``backward`` (graph not retained) nothing of the step waits for the cycle
    collector: the outputs and intermediates die by reference counting, so their buffers go
    back to the allocator at once (a hybridized call's backward op used to keep the call's
    arrays, whose ``_node`` pointed back at it)."""
    net = _mlp()
    if hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x, y = _data((6, 12), 4), np.array([0, 1, 2, 3, 0, 1])

    def step():
        with autograd.record():
            out = net(x)
            loss = loss_fn(out, y)
        loss.backward()
        trainer.step(6)
        return loss

    for _ in range(3):  # deferred initialization, the traces: one-time, not checked
        step()
    npx.waitall()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            step()
        npx.waitall()
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert left == []


class _Cube(HybridBlock):
    def forward(self, x):
        return x * x * x + x


def test_create_graph_uses_the_per_op_graph():
    x0 = _data((2, 5), 3)
    res = []
    for hybrid in (False, True):
        blk = _Cube()
        if hybrid:
            blk.hybridize()
            blk(x0)
            blk(x0)
            assert _graphs(blk)[0].fused is not None
        x = x0.copy()
        x.attach_grad()
        with autograd.record():
            y = blk(x)
            (dx,) = autograd.grad(y, [x], create_graph=True)
        dx.backward()
        res.append((dx.asnumpy(), x.grad.asnumpy()))
    xn = x0.asnumpy()
    onp.testing.assert_allclose(res[1][0], 3 * xn * xn + 1, rtol=1e-6)
    onp.testing.assert_allclose(res[1][1], 6 * xn, rtol=1e-6)
    onp.testing.assert_array_equal(res[1][0], res[0][0])
    onp.testing.assert_array_equal(res[1][1], res[0][1])


class _BoomBack(Op):
    """Doubles its input; its backward is :class:`_Boom` (doubles too; fails when armed)."""

    name = "boomback_op"

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def forward(self, xp, x):
        return x * 2

    def backward(self, inputs, outputs, out_grads):
        return [apply(_Boom(), (out_grads[0],))]


class _BoomBackBlock(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(3)

    def forward(self, x):
        return apply(_BoomBack(), (self.dense(x),))


def test_error_in_the_fused_backward_names_the_op():
    blk = _BoomBackBlock()
    blk.initialize()
    blk.hybridize()
    x = _data((2, 4))
    for _ in range(3):
        with autograd.record():
            out = blk(x)
        out.backward()
    assert all(b.fused is not None for b in _backward_graphs(blk))
    want = blk.dense.weight.grad().asnumpy().copy()
    onp.testing.assert_array_equal(want, 2 * onp.ones((3, 1)) * x.asnumpy().sum(0))
    _Boom.armed = True
    try:
        with pytest.raises(ValueError) as info:
            with autograd.record():
                out = blk(x)
            out.backward()
            blk.dense.weight.grad().asnumpy()
    finally:
        _Boom.armed = False
    msg = str(info.value)
    assert "kernel exploded" in msg and "boom_op" in msg and "backward of" in msg
    npx.waitall()


# -- multi-tensor optimizer update ---------------------------------------------------------------

def _count_pushes(monkeypatch):
    from framework.nd import _update as kernels

    names = []
    real = kernels.execute

    def counting(name, *args, **kwargs):
        names.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(kernels, "execute", counting)
    return names


@pytest.mark.parametrize("opt,kw", [
    ("sgd", {"momentum": 0.9, "wd": 1e-3}),
    ("adam", {"wd": 1e-3, "clip_gradient": 0.5}),
    ("lamb", {}),
])
def test_trainer_step_is_one_task_with_the_same_arithmetic(monkeypatch, opt, kw):
    x, y = _data((5, 12)), np.array([0, 1, 2, 3, 1])
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    nets = []
    first = _mlp()
    first(x)
    for batched in (False, True):
        net = _mlp()
        net(x)
        params = net.collect_params()
        for p, p0 in zip(params.values(), first.collect_params().values()):
            p.set_data(p0.data().copy())
        list(params.values())[0].lr_mult = 0.5
        list(params.values())[1].wd_mult = 3.0
        tr = gluon.Trainer(params, opt, {"learning_rate": 0.1, **kw})
        for _ in range(3):
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            if batched:
                names = _count_pushes(monkeypatch)
                tr.step(5)
                monkeypatch.undo()
                assert len(names) == 1 and names[0].startswith("multi_")
            else:  # the oracle: one update at a time
                for i, p in enumerate(params.values()):
                    st = tr._states.setdefault(
                        i, tr._optimizer.create_state_multi_precision(i, p.data()))
                    tr._optimizer.rescale_grad = 1 / 5
                    tr._optimizer.update(i, p.data(), p.grad(), st)
        nets.append((net, tr))
    (n0, t0), (n1, t1) = nets
    for p0, p1 in zip(n0.collect_params().values(), n1.collect_params().values()):
        onp.testing.assert_array_equal(p1.data().asnumpy(), p0.data().asnumpy())
    assert t1._optimizer._index_update_count == t0._optimizer._index_update_count


def test_batched_update_multi_precision_and_early_errors(monkeypatch):
    from framework import optimizer

    ws = [np.array(onp.random.default_rng(i).normal(size=(3, 4)).astype("float16"))
          for i in range(3)]
    gs = [np.array(onp.full((3, 4), 0.25 * (i + 1), "float16")) for i in range(3)]
    ref = [w.copy() for w in ws]
    opt0 = optimizer.create("sgd", learning_rate=0.5, momentum=0.9, multi_precision=True)
    opt1 = optimizer.create("sgd", learning_rate=0.5, momentum=0.9, multi_precision=True)
    s0 = [opt0.create_state_multi_precision(i, w) for i, w in enumerate(ref)]
    s1 = [opt1.create_state_multi_precision(i, w) for i, w in enumerate(ws)]
    for _ in range(2):
        for i in range(3):
            opt0.update(i, ref[i], gs[i], s0[i])
        names = _count_pushes(monkeypatch)
        opt1.update([0, 1, 2], ws, gs, s1)
        monkeypatch.undo()
        assert len(names) == 1
    for a, b, sa, sb in zip(ref, ws, s0, s1):
        onp.testing.assert_array_equal(b.asnumpy(), a.asnumpy())
        onp.testing.assert_array_equal(sb[0].asnumpy(), sa[0].asnumpy())
    bad = np.zeros((4, 3), dtype="float16")
    names = _count_pushes(monkeypatch)
    with pytest.raises(ValueError, match=r"gradient shape \(4, 3\) does not match"):
        opt1.update([0, 1], ws[:2], [gs[0], bad], s1[:2])
    # as one update at a time: the first update is issued, the second fails before its task
    assert names == ["sgd_update"]
    assert opt1._index_update_count == {0: 3, 1: 3, 2: 2}


# -- relu gradient as one kernel, identity views dropped from the fused programs ----------------

@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_relu_gradient_is_one_op_with_multiply_semantics():
    xn = onp.array([[-2.0, -0.0, 0.0, 1.5], [3.0, -1.0, 2.0, -4.0]], "float32")
    hn = onp.array([[-1.0, -2.0, onp.inf, 3.0], [-5.0, onp.inf, -onp.inf, onp.nan]], "float32")
    x, h = np.array(xn), np.array(hn)
    x.attach_grad()
    with autograd.record():
        y = npx.activation(x, act_type="relu")
    y.backward(h)
    want = onp.multiply(hn, xn > 0)  # masked -1.0 gives -0.0, masked inf gives NaN
    got = x.grad.asnumpy()
    onp.testing.assert_array_equal(got, want)
    assert (onp.signbit(got) == onp.signbit(want)).all() and onp.isnan(got[1, 1])
    # its own gradient (create_graph): the same mask on the incoming gradient, none for x
    h.attach_grad()
    with autograd.record():
        y = npx.activation(x, act_type="relu")
        (dx,) = autograd.grad(y, [x], head_grads=h, create_graph=True)
    c = np.array(onp.arange(1, 9, dtype="float32").reshape(2, 4))
    dx.backward(c)
    onp.testing.assert_array_equal(h.grad.asnumpy(), c.asnumpy() * (xn > 0))


def test_relu_gradient_op_checks_its_inputs():
    from framework.nd._nn import _RELU_GRAD

    with pytest.raises(mx.base.ShapeError, match=r"relu_grad: gradient of shape \(2, 3\)"):
        apply(_RELU_GRAD, (np.zeros((2, 3)), np.zeros((3, 2))))


def _op_names(graph):
    return [getattr(st[4], "name", "") for st in graph.fused.run_prog]


def test_mlp_backward_program_has_no_identity_reshape_and_one_relu_step():
    net, loss_fn = _mlp(), gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data((5, 12)), np.array([0, 1, 2, 3, 1])
    want = _step(net, loss_fn, x, y)
    net.hybridize()
    for _ in range(3):
        got = _step(net, loss_fn, x, y)
        for k in want[1]:
            onp.testing.assert_array_equal(got[1][k], want[1][k])
    (back,) = _backward_graphs(net)
    names = _op_names(back)
    assert "reshape" not in names and "greater" not in names and "multiply" not in names
    assert names.count("relu_grad") == 2 and names.count("dot") == 5
    # both relu gradients write into the dead product of the layer above, and the recorded
    # forward writes each relu over its Dense's dead result (the gradients above are
    # bit-identical to the imperative ones with it)
    from framework.gluon._hybrid import _OP

    def swapped(prog):
        return [st[4].name for st in prog if st[0] == _OP and st[1] != st[4].forward]

    assert swapped(back.fused.run_prog_nograd) == ["relu_grad", "relu_grad"]
    (fwd,) = _graphs(net)
    assert swapped(fwd.fused.run_prog) == ["_npx_activation", "_npx_activation"]
    assert swapped(back.fused.run_prog) == []


def test_in_place_steps_never_overwrite_a_live_or_returned_buffer():
    from framework.gluon._hybrid import _OP, _VIEW, _in_place
    from framework.nd._misc import Dot
    from framework.nd._nn import _RELU_GRAD

    dot = Dot()

    def step(kind, op, ins, outs):
        return (kind, getattr(op, "forward", None), ins, outs, op, True,
                [(o, (2, 2), onp.dtype("float32")) for o in outs])

    base = [step(_OP, dot, [0, 1], [2]), step(_OP, _RELU_GRAD, [2, 3], [4])]
    assert _in_place(base, {4})[1][1] == _RELU_GRAD.forward_inplace
    assert _in_place(base, {2, 4})[1][1] == _RELU_GRAD.forward  # slot 2 is returned
    later = base + [step(_OP, dot, [2, 1], [5])]
    assert _in_place(later, {4, 5})[1][1] == _RELU_GRAD.forward  # read again later
    viewed = [base[0], step(_VIEW, None, [2], [6]), base[1]]
    assert _in_place(viewed, {4, 6})[2][1] == _RELU_GRAD.forward  # a view shares it
    not_fresh = [step(_OP, _Boom(), [0], [2]), base[1]]
    assert _in_place(not_fresh, {4})[1][1] == _RELU_GRAD.forward  # producer not fresh
    # a step that may return a view of slot 2 (an op not known to return a new array, such as
    # basic indexing) read it before: its result could outlive the in-place write
    indexed = [base[0], step(_OP, _Boom(), [2], [6]), base[1], step(_OP, dot, [6, 1], [7])]
    assert _in_place(indexed, {4, 7})[2][1] == _RELU_GRAD.forward
    other_shape = [base[0], (_OP, _RELU_GRAD.forward, [2, 3], [4], _RELU_GRAD, True,
                             [(4, (2, 2), onp.dtype("float64"))])]
    assert _in_place(other_shape, {4})[1][1] == _RELU_GRAD.forward  # the result's dtype differs
    outside = [step(_OP, _RELU_GRAD, [7, 3], [4])]
    assert _in_place(outside, {4})[0][1] == _RELU_GRAD.forward  # an input of the call


def test_recorded_programs_write_only_relu_over_a_result_its_producer_never_reads_back():
    from framework.gluon._hybrid import _OP, _in_place
    from framework.nd._misc import Dot
    from framework.nd._nn import _RELU_GRAD, Activation, FullyConnected

    relu = Activation("relu")

    def step(op, ins, outs):
        return (_OP, op.forward, ins, outs, op, True,
                [(o, (2, 2), onp.dtype("float32")) for o in outs])

    def kern(prog, k):
        return _in_place(prog, {5}, recording=True)[k][1]

    dense = step(FullyConnected(), [0, 1, 2], [3])
    assert kern([dense, step(relu, [3], [5])], 1) != relu.forward  # in place
    # a producer whose backward may read its own result back (Dot does not declare otherwise)
    assert kern([step(Dot(), [0, 1], [3]), step(relu, [3], [5])], 1) == relu.forward
    # an op whose gradient needs more than the sign of its input: never while recording
    assert kern([dense, step(_RELU_GRAD, [3, 4], [5])], 1) == _RELU_GRAD.forward
    assert _in_place([dense, step(_RELU_GRAD, [3, 4], [5])], {5})[1][1] == \
        _RELU_GRAD.forward_inplace  # (not recording: it may)


class _IdentityViews(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(6, in_units=12)

    def forward(self, x):
        h = x.reshape(x.shape).transpose((0, 1))  # identity views: these two and two below
        h = npx.activation(self.dense(h), act_type="relu").reshape((-1, 6))
        return (h * 2.0).reshape((5, 6)) + h.reshape((5, 2, 3)).reshape((5, 6))


def test_identity_views_are_not_run_and_results_stay_bit_identical():
    blk = _IdentityViews()
    blk.initialize(mx.init.Normal(0.3))
    x0 = _data((5, 12), 4)
    res = []
    for hybrid in (False, True, True, True):
        if hybrid:
            blk.hybridize()
        x = x0.copy()
        x.attach_grad()
        with autograd.record():
            out = blk(x)
        out.backward(np.array(onp.linspace(-1, 1, 30, dtype="float32").reshape(5, 6)))
        res.append((out.asnumpy(), x.grad.asnumpy(), blk.dense.weight.grad().asnumpy().copy()))
        res.append(blk(x0).asnumpy())  # autograd off
    graphs = _graphs(blk)  # training (recorded) and inference
    assert len(graphs) == 2
    for graph in graphs:
        fused = graph.fused
        assert fused is not None and len(fused.alias) == 4
        assert len(fused.run_prog) == len(fused.prog) - 4
        assert len([1 for st in fused.run_prog if st[0] == 1]) == 2  # the two real reshapes
    for got in res[2:]:
        want = res[0] if isinstance(got, tuple) else res[1]
        for g, w in zip(got, want) if isinstance(got, tuple) else [(got, want)]:
            onp.testing.assert_array_equal(g, w)


class _SquareKeepsDouble(Op):
    """``x**2`` with ``2x`` as an auxiliary second output that its backward reuses."""

    name = "square_keeps_double"
    nout = 2
    aux_outputs = (1,)
    seen: list = []

    def infer(self, x):
        return [(x.shape, x.dtype), (x.shape, x.dtype)]

    def forward(self, xp, x):
        return x * x, 2 * x

    def backward(self, inputs, outputs, out_grads):
        _SquareKeepsDouble.seen.append(out_grads[1])
        return [out_grads[0] * outputs[1]]


class _AuxBlock(HybridBlock):
    def forward(self, x):
        return apply(_SquareKeepsDouble(), (npx.relu(x) + 1,))[0] * 3


@pytest.mark.parametrize("hybrid", [False, True])
def test_an_auxiliary_output_gets_no_gradient_and_its_value_is_reused(hybrid):
    # the oracle: d/dx 3 * (relu(x) + 1)**2 = 6 * (relu(x) + 1) * (x > 0)
    blk = _AuxBlock()
    if hybrid:
        blk.hybridize()
    xv = onp.array([[-1.0, 0.5, 2.0], [3.0, -0.25, 1.0]], dtype=onp.float32)
    want = 6 * (onp.maximum(xv, 0) + 1) * (xv > 0)
    for _ in range(3):  # hybridized: trace, then the fused forward and the cached backward
        _SquareKeepsDouble.seen.clear()
        x = np.array(xv)
        x.attach_grad()
        with autograd.record():
            y = blk(x)
        y.backward()
        onp.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-6)
        onp.testing.assert_allclose(y.asnumpy(), 3 * (onp.maximum(xv, 0) + 1) ** 2, rtol=1e-6)
        # the formula ran (imperatively, or when the cached backward was traced) and got
        # None, not zeros, for the auxiliary output
        assert all(g is None for g in _SquareKeepsDouble.seen)


class _BoomDiff(_Boom):
    def backward(self, inputs, outputs, out_grads):
        return [out_grads[0] * 2]


class _BoomDiffBlock(HybridBlock):
    def forward(self, x):
        return apply(_BoomDiff(), (npx.relu(x),)) + 1


def test_a_failed_recorded_forward_fails_its_cached_backward_too():
    blk = _BoomDiffBlock()
    blk.hybridize()
    x = _data((2, 3))
    x.attach_grad()
    for _ in range(2):  # trace, then the fused forward and the cached backward program
        with autograd.record():
            y = blk(x)
        y.backward()
    assert all(b.fused is not None for b in _backward_graphs(blk))
    _Boom.armed = True
    try:
        with pytest.raises(ValueError, match="kernel exploded"):  # (NaiveEngine: at the call)
            with autograd.record():
                y = blk(x)
            y.backward()
            x.grad.asnumpy()
    finally:
        _Boom.armed = False
    npx.waitall()
    with autograd.record():
        y = blk(x)
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), 2.0 * (x.asnumpy() > 0))


def test_second_order_gradients_after_the_cached_backward_program():
    # the call's intermediate arrays are made only when needed: here, by create_graph after
    # the first-order backward ran the cached program on the kept buffers (oracle: the
    # imperative run of the same block)
    net = _mlp()

    def run(hybrid):
        if hybrid:
            net.hybridize()
        x = _data((5, 12))
        x.attach_grad()
        for _ in range(2):
            with autograd.record():
                y = net(x)
            y.backward()
        first = x.grad.asnumpy()
        with autograd.record():
            y = net(x)
            (gx,) = autograd.grad(y, [x], create_graph=True)
            z = (gx * gx).sum()
        z.backward()
        return first, x.grad.asnumpy()

    want = run(False)
    for got, w in zip(run(True), want):
        onp.testing.assert_allclose(got, w, rtol=1e-6, atol=1e-7)


class _AfterTwoOutputs(HybridBlock):
    def forward(self, x):
        a = apply(_SquareKeepsDouble(), (npx.relu(x),))
        return apply(_Boom(), (a[0] + a[1],))


def test_the_compiled_program_names_a_failing_step_after_a_multi_output_one():
    # steps: relu 0, the two-output op 1, add 2, boom 3 (several lines each in the compiled
    # program: the step is found from the line that raised)
    blk = _AfterTwoOutputs()
    blk.hybridize()
    x = _data((2, 3))
    want = blk(x).asnumpy()
    onp.testing.assert_array_equal(blk(x).asnumpy(), want)
    _Boom.armed = True
    try:
        with pytest.raises(ValueError, match=r"kernel exploded \(in operator 'boom_op', step 3 "):
            blk(x).asnumpy()
    finally:
        _Boom.armed = False


class _PythonFloatTotal(Op):
    """Returns a Python float (a kernel result that is not an array): the fused program must
    convert it to the traced 0-d array, as the op-by-op path does."""

    name = "python_float_total"

    def infer(self, x):
        return [((), x.dtype)]

    def forward(self, xp, x):
        return float(x.sum())


class _TotalBlock(HybridBlock):
    def forward(self, x):
        return apply(_PythonFloatTotal(), (x * 2,)) + 1


def test_the_compiled_program_converts_results_that_are_not_arrays():
    blk = _TotalBlock()
    x = _data((3, 4))
    want = blk(x).asnumpy()
    blk.hybridize()
    for _ in range(3):
        got = blk(x)
        assert got.dtype == onp.float32 and got.shape == ()
        onp.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)
    assert _graphs(blk)[0].fused is not None


class _ManyTwoOutputs(HybridBlock):
    def forward(self, x):
        for _ in range(4):  # four two-output steps (and four adds) before the failing one
            a = apply(_SquareKeepsDouble(), (x,))
            x = a[0] + a[1]
        y = apply(_Boom(), (npx.relu(x),))
        return ((y + 1) * 2 - 3) / 4  # steps after it: the failing one is not simply the last


def test_the_compiled_program_names_the_step_after_many_multi_output_ones():
    # steps: (two-output, add) x 4 = 0..7, relu 8, boom 9, then four more
    blk = _ManyTwoOutputs()
    blk.hybridize()
    x = _data((2, 3)) * 0.1
    blk(x).wait_to_read()
    blk(x).wait_to_read()
    _Boom.armed = True
    try:
        with pytest.raises(ValueError, match=r"'boom_op', step 9 "):
            blk(x).asnumpy()
    finally:
        _Boom.armed = False


class _ElementwiseChain(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(8, in_units=6)

    def forward(self, x, row):
        h = npx.activation(self.dense(x), act_type="relu")  # relu into the dense's result
        h = np.tanh(h * 2.0 + 1.0) - row  # scalar ops, a unary ufunc, an array op
        b = (np.exp(h[:, :1] * 0.5) + row)  # a (n, 1) result broadcast: not into that buffer
        return np.maximum(h * b, 0.25) / 3.0


def test_elementwise_chains_run_in_place_and_stay_bit_identical():
    blk = _ElementwiseChain()
    blk.initialize(mx.init.Normal(0.5))
    x, row = _data((5, 6), 7), _data((1, 8), 8)
    want = blk(x, row).asnumpy()
    blk.hybridize()
    for _ in range(3):
        onp.testing.assert_array_equal(blk(x, row).asnumpy(), want)
    fused = _graphs(blk)[0].fused
    names = [getattr(st[4], "name", "") for st in fused.run_prog_nograd
             if st[0] == 0 and st[1] != st[4].forward]
    # in place: relu, *2, +1, tanh, -row; exp in the (n, 1) branch, but not its + row (which
    # broadcasts to (n, 8)); not h * b (h was indexed: a view of it may live on); then maximum
    # and /3. Never the steps reading only the graph's inputs
    assert names == ["_npx_activation", "multiply", "add", "tanh", "subtract", "exp",
                     "maximum", "true_divide"], names
    # the program run under record() keeps the intermediates that the backward reads: only the
    # relu goes over the Dense's result (its gradient needs only the sign, which relu keeps)
    assert [getattr(st[4], "name", "") for st in fused.run_prog
            if st[0] == 0 and st[1] != st[4].forward] == ["_npx_activation"]
    # under record() the intermediates are kept: the same values, gradients as imperative
    x.attach_grad()
    with autograd.record():
        y = blk(x, row)
    y.backward()
    g_h = x.grad.asnumpy()
    blk.hybridize(False)
    with autograd.record():
        y2 = blk(x, row)
    y2.backward()
    onp.testing.assert_array_equal(y.asnumpy(), y2.asnumpy())
    onp.testing.assert_array_equal(g_h, x.grad.asnumpy())


def test_a_recorded_convolution_keeps_its_columns_in_the_fused_programs(tmp_path):
    """Recorded, a convolution keeps its im2col columns for the weight gradient (an auxiliary
    output of the fused forward): the same gradients as the imperative ops, relu still in
    place over its result, and the graph exports and imports."""
    from framework.gluon._hybrid import _OP, _in_place
    from framework.nd._conv import ConvGeom, ConvolutionKeep
    from framework.nd._nn import Activation, FullyConnected

    def make():
        net = nn.HybridSequential()
        net.add(nn.Conv2D(4, 2, activation="relu"), nn.Conv2D(3, 3, activation="relu"),
                nn.MaxPool2D(2), nn.Flatten(), nn.Dense(5))
        net.initialize(mx.init.Normal(0.3))
        return net

    x, y = _data((2, 2, 8, 8), 3), np.array([1, 4])
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    net = make()
    want = _step(net, loss_fn, x, y)
    net.hybridize()
    for _ in range(2):
        got = _step(net, loss_fn, x, y)
        onp.testing.assert_allclose(got[0], want[0], rtol=1e-6)
        for k in want[1]:
            onp.testing.assert_allclose(got[1][k], want[1][k], rtol=1e-5, atol=1e-6)
    (fwd,) = _graphs(net)
    ops = [type(st[4]).__name__ for st in fwd.fused.run_prog if st[0] == _OP]
    assert ops.count("ConvolutionKeep") == 2
    assert [st[4].name for st in fwd.fused.run_prog
            if st[0] == _OP and st[1] != st[4].forward] == ["_npx_activation"] * 2
    prefix = str(tmp_path / "cnn")
    net.export(prefix)
    back = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
    onp.testing.assert_allclose(back(x).asnumpy(), net(x).asnumpy(), rtol=1e-6)

    # a multi-output op's other outputs may be views of its inputs: a relu after it must not
    # be written over such an input, though its first result is fresh
    def step(op, ins, outs):
        return (_OP, op.forward, ins, outs, op, len(outs) == 1,
                [(o, (2, 2), onp.dtype("float32")) for o in outs])

    relu = Activation("relu")
    keep = ConvolutionKeep(ConvGeom((1, 1), (1, 1), (1, 1), (0, 0), 1, False))
    prog = [step(FullyConnected(), [0, 1], [3]), step(keep, [3, 2], [6, 7]),
            step(relu, [3], [8]), step(relu, [6], [9])]
    kern = [k for _kind, k, *_ in _in_place(prog, {8, 9}, recording=True)]
    assert kern[2] == relu.forward  # slot 3 may live on in slot 7
    assert kern[3] != relu.forward  # the convolution's own result: in place


class _ConvThenFlatten(HybridBlock):
    """Ends with views of what its own ops made (MobileNetV2 and SqueezeNet end so)."""

    def __init__(self, transpose=False):
        super().__init__()
        self.conv = nn.Conv2D(4, 3)
        self.transpose = transpose

    def forward(self, x):
        y = npx.relu(self.conv(x))
        if self.transpose:
            return y.transpose((0, 2, 3, 1)).reshape(x.shape[0], -1)
        return y.reshape(x.shape[0], -1)


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("static_alloc", [False, True])
def test_a_returned_view_of_a_computed_buffer_is_fused(transpose, static_alloc):
    mx.random.seed(3)
    net = _ConvThenFlatten(transpose)
    net.initialize(mx.init.Normal(0.3))
    xs = [_data((2, 1, 6, 6), seed=i) for i in range(3)]
    want = [net(x).asnumpy() for x in xs]
    loss_fn = gluon.loss.L2Loss()
    label = _data(want[0].shape, seed=9)

    def step(x):
        with autograd.record():
            loss = loss_fn(net(x), label)
        loss.backward()
        return loss.asnumpy(), {k: p.grad().asnumpy().copy() for k, p in
                                net.collect_params().items()}

    want_step = step(xs[0])
    net.hybridize(static_alloc=static_alloc)
    kept = [net(x) for x in xs * 2]  # the first call traces; all stay alive
    for i, y in enumerate(kept):
        onp.testing.assert_array_equal(y.asnumpy(), want[i % 3])
    assert all(g.fused is not None for g in _graphs(net))
    for _ in range(2):
        got = step(xs[0])
        onp.testing.assert_array_equal(got[0], want_step[0])
        for k in want_step[1]:
            onp.testing.assert_array_equal(got[1][k], want_step[1][k])


class _ViewOfInput(HybridBlock):
    def forward(self, x):
        return x.reshape(-1), x * 2


def test_a_returned_view_of_an_input_is_not_fused_and_stays_a_view():
    blk = _ViewOfInput()
    blk.hybridize()
    x = _data((2, 3))
    for _ in range(3):
        flat, twice = blk(x)
        onp.testing.assert_array_equal(twice.asnumpy(), x.asnumpy() * 2)
    assert all(g.fused is None for g in _graphs(blk))
    x[:] = 1.0  # the view follows its input, ordered by the input's variable
    onp.testing.assert_array_equal(flat.asnumpy(), onp.ones(6, "float32"))
