"""gluon.TrainStep: one call (one engine task, then the trainer's update) per training step.

The oracle is the standard four calls (record, forward, loss, backward, trainer.step) on a twin
network from the same weights: losses, gradients and weights must be equal bit for bit, whether
the step ran as one task (``compiled``) or fell back to the four calls.
"""

from __future__ import annotations

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


def _data(shape, seed=0):
    return np.array(onp.random.default_rng(seed).normal(size=shape).astype("float32"))


def _labels(n, classes, seed=1):
    return np.array(onp.random.default_rng(seed).integers(0, classes, n).astype("float32"))


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="relu"), nn.Dense(4))
    return net


def _lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Conv2D(6, 3, activation="relu"), nn.MaxPool2D(2), nn.Dense(10))
    return net


def _twins(make, x, hybridize=True, static_alloc=False, opt="sgd", opt_kw=None):
    """Two networks with the same weights, each with a loss and a trainer."""
    out = []
    for _ in range(2):
        mx.random.seed(7)
        net = make()
        net.initialize(mx.init.Xavier())
        net(x)
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        if hybridize:
            net.hybridize(static_alloc=static_alloc)
            loss_fn.hybridize()
        trainer = gluon.Trainer(net.collect_params(), opt,
                                dict(opt_kw or {"learning_rate": 0.1}))
        out.append((net, loss_fn, trainer))
    return out


def _standard(net, loss_fn, trainer, x, y, batch=None, output=None):
    with autograd.record():
        out = net(x)
        loss = loss_fn(out, y)
    loss.backward()
    trainer.step(x.shape[0] if batch is None else batch)
    if output is not None:
        output.append(out)
    return loss


def _assert_same(a, b):
    for (name, p), q in zip(a.collect_params().items(), b.collect_params().values()):
        onp.testing.assert_array_equal(p.data().asnumpy(), q.data().asnumpy(), err_msg=name)
        if p.grad_req != "null":
            onp.testing.assert_array_equal(p.grad().asnumpy(), q.grad().asnumpy(),
                                           err_msg=name)


def _run_both(ref, got, x, y, steps, batch=None):
    step = gluon.TrainStep(*got, return_output=True)
    flags = []
    for _ in range(steps):
        outs = []
        want = _standard(*ref, x, y, batch, outs).asnumpy()
        want_out = outs[0].asnumpy()
        loss, out = step(x, y, batch)
        flags.append(step.compiled)
        onp.testing.assert_array_equal(loss.asnumpy(), want)
        onp.testing.assert_array_equal(out.asnumpy(), want_out)
        _assert_same(ref[0], got[0])
    return step, flags


@pytest.mark.parametrize("opt, kw", [("sgd", {"learning_rate": 0.1}),
                                     ("sgd", {"learning_rate": 0.1, "momentum": 0.9,
                                              "wd": 1e-3}),
                                     ("adam", {"learning_rate": 0.01})])
def test_mlp_step_is_one_task_and_bit_identical(opt, kw):
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x, opt=opt, opt_kw=kw)
    _step, flags = _run_both(ref, got, x, y, 5)
    # trace, then the first fused call (which traces the backward programs), then one task
    assert flags == [False, False, True, True, True]


def test_cnn_step_with_pooling_and_static_alloc():
    x, y = _data((3, 1, 14, 14)), _labels(3, 10)
    ref, got = _twins(_lenet, x, static_alloc=True)
    _step, flags = _run_both(ref, got, x, y, 4)
    assert flags[-1]


def test_a_net_ending_in_a_flatten_of_its_own_result_is_one_task():
    def conv_flatten():  # as MobileNetV2 and SqueezeNet end: no Dense after the Flatten
        net = nn.HybridSequential()
        net.add(nn.Conv2D(4, 3, activation="relu"), nn.BatchNorm(), nn.Conv2D(10, 1),
                nn.GlobalAvgPool2D(), nn.Flatten())
        return net

    x, y = _data((3, 2, 6, 6)), _labels(3, 10)
    ref, got = _twins(conv_flatten, x, opt="sgd", opt_kw={"learning_rate": 0.1,
                                                           "momentum": 0.9})
    _step, flags = _run_both(ref, got, x, y, 4)
    assert flags == [False, False, True, True]


def test_one_engine_task_for_forward_loss_and_backward(monkeypatch):
    x, y = _data((6, 12)), _labels(6, 4)
    (net, loss_fn, trainer), = _twins(_mlp, x)[:1]
    step = gluon.TrainStep(net, loss_fn, trainer)
    for _ in range(3):
        step(x, y)
    npx.waitall()
    names = []
    from framework.nd import _base
    real = _base.execute

    def spy(name, *a, **k):
        names.append(name)
        return real(name, *a, **k)

    monkeypatch.setattr(_base, "execute", spy)
    import framework.gluon._step as step_mod
    import framework.nd._update as upd
    monkeypatch.setattr(step_mod, "execute", spy)
    monkeypatch.setattr(upd, "execute", spy)
    step(x, y)
    npx.waitall()
    assert step.compiled
    assert names == ["train step of HybridSequential 'HybridSequential' with "
                     "SoftmaxCrossEntropyLoss 'SoftmaxCrossEntropyLoss'", "multi_sgd_update[6]"]


def test_grad_req_add_frozen_layer_and_explicit_batch_size():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x)
    for net, _l, _t in (ref, got):
        net[0].weight.grad_req = "add"
        net[1].collect_params().setattr("grad_req", "null")
    step = gluon.TrainStep(*got)
    for i in range(5):
        if i == 3:  # accumulated gradients, zeroed by hand as a user would
            for net, _l, _t in (ref, got):
                net[0].weight.zero_grad()
        want = _standard(*ref, x, y, batch=12).asnumpy()
        onp.testing.assert_array_equal(step(x, y, batch_size=12).asnumpy(), want)
        _assert_same(ref[0], got[0])
    assert step.compiled


def test_changing_grad_req_after_the_plan_follows_it():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x)
    step, _flags = _run_both(ref, got, x, y, 3)
    assert step.compiled
    for net, _l, _t in (ref, got):
        net[2].weight.grad_req = "null"
    _step2, flags = _run_both(ref, got, x, y, 4)
    assert flags[-1]  # a new plan for the new pattern


def test_dropout_nets_are_one_task_and_draw_the_standard_masks():
    def with_dropout():
        net = nn.HybridSequential()
        net.add(nn.Dense(16, activation="relu"), nn.Dropout(0.3), nn.Dense(4))
        return net

    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(with_dropout, x)
    step = gluon.TrainStep(*got)
    big = np.zeros((1000, 1000))
    for i in range(5):
        mx.random.seed(11 + i)
        want = _standard(*ref, x, y).asnumpy()
        want_next = np.random.uniform(size=3).asnumpy()  # a later draw keeps its place
        mx.random.seed(11 + i)
        slow = (big @ big)[:6, :12] + x  # x, pending for a while: the step's task waits
        loss = step(slow, y)
        onp.testing.assert_array_equal(np.random.uniform(size=3).asnumpy(), want_next)
        onp.testing.assert_array_equal(loss.asnumpy(), want)
        _assert_same(ref[0], got[0])
    assert step.compiled


class _ZeroFirst(HybridBlock):
    """Writes into an array in place (a mask it makes): not fusable."""

    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4)

    def forward(self, x):
        mask = np.ones((1, 4))
        mask[0, 0] = 0
        return self.dense(x) * mask


def _bn_net():
    net = nn.HybridSequential()
    net.add(nn.Dense(16), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(4))
    return net


def test_batchnorm_nets_are_one_task_with_the_running_statistics():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_bn_net, x)
    step, flags = _run_both(ref, got, x, y, 5)  # (_assert_same compares running_mean/var)
    assert flags[-1]
    big = np.zeros((1000, 1000))
    _standard(*ref, x, y)
    step((big @ big)[:6, :12] + x, y)  # the task waits for its input...
    assert step.compiled
    stats = got[0][1].running_mean.data().asnumpy()  # ...and this read waits for the task
    onp.testing.assert_array_equal(stats, ref[0][1].running_mean.data().asnumpy())
    onp.testing.assert_array_equal(got[0](x).asnumpy(), ref[0](x).asnumpy())  # inference


def test_blocks_that_cannot_be_one_task_run_the_four_calls():
    x, y = _data((6, 12)), _labels(6, 4)
    for make, hyb in ((_mlp, False), (_ZeroFirst, True)):
        ref, got = _twins(make, x, hybridize=hyb)
        _step, flags = _run_both(ref, got, x, y, 4)
        assert not any(flags)


def test_hybridizing_after_many_imperative_steps_still_compiles():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x, hybridize=False)
    step, flags = _run_both(ref, got, x, y, 1)
    for _ in range(5):
        _standard(*ref, x, y)
        step(x, y)
        assert not step.compiled
    for net, loss_fn, _t in (ref, got):
        net.hybridize()
        loss_fn.hybridize()
    for _ in range(3):
        want = _standard(*ref, x, y).asnumpy()
        onp.testing.assert_array_equal(step(x, y)[0].asnumpy(), want)
    assert step.compiled
    _assert_same(ref[0], got[0])


def test_hooks_rehybridize_and_new_shapes_fall_back_then_compile_again():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x)
    step, _ = _run_both(ref, got, x, y, 3)
    assert step.compiled
    seen = []
    handle = got[0].register_forward_hook(lambda blk, args, out: seen.append(out.shape))
    ref_handle = ref[0].register_forward_hook(lambda blk, args, out: None)
    want = _standard(*ref, x, y).asnumpy()
    onp.testing.assert_array_equal(step(x, y)[0].asnumpy(), want)
    assert not step.compiled and seen == [(6, 4)]
    handle.detach()
    ref_handle.detach()
    for net, _loss_fn, _t in (ref, got):
        net.hybridize()
    flags = []
    for xs, ys in ((x, y),) * 3 + ((_data((4, 12), 3), _labels(4, 4, 4)),) * 3:
        want = _standard(*ref, xs, ys).asnumpy()
        onp.testing.assert_array_equal(step(xs, ys)[0].asnumpy(), want)
        flags.append(step.compiled)
        _assert_same(ref[0], got[0])
    assert flags == [False, False, True, False, False, True]


def test_inputs_that_need_gradients_and_calls_while_recording_fall_back():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x)
    step, _ = _run_both(ref, got, x, y, 3)
    xg = x.copy()
    xg.attach_grad()
    loss, _out = step(xg, y)
    assert not step.compiled
    loss.wait_to_read()
    assert xg.grad.shape == x.shape and onp.abs(xg.grad.asnumpy()).sum() > 0
    with autograd.record():
        step(x, y)
    assert not step.compiled


def test_the_returned_loss_has_no_graph_and_bad_arguments_are_named():
    x, y = _data((6, 12)), _labels(6, 4)
    (net, loss_fn, trainer), = _twins(_mlp, x)[:1]
    step = gluon.TrainStep(net, loss_fn, trainer)
    for _ in range(3):
        loss = step(x, y)
    assert step.compiled
    with pytest.raises(mx.base.MXNetError, match="computational graph"):
        loss.backward()
    with pytest.raises(TypeError, match="trainer must be a Trainer"):
        gluon.TrainStep(net, loss_fn, "sgd")
    with pytest.raises(TypeError, match="net must be a Block"):
        gluon.TrainStep(lambda a: a, loss_fn, trainer)
    with pytest.raises(ValueError, match="batch size"):
        step(np.array(1.0), y)


class _Boom(Op):
    """Doubles its input; fails inside its kernel when armed."""

    name = "boom_op"
    armed = False
    fresh_output = True

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def forward(self, xp, x):
        if _Boom.armed:
            raise ValueError("kernel exploded")
        return x * 2

    def backward(self, inputs, outputs, out_grads):
        return [out_grads[0] * 2]


class _BoomNet(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4)

    def forward(self, x):
        return apply(_Boom(), (self.dense(x),))


def test_an_error_inside_the_one_task_names_the_op_and_the_line():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_BoomNet, x)
    step, _ = _run_both(ref, got, x, y, 3)
    assert step.compiled
    _Boom.armed = True
    try:
        with pytest.raises(ValueError) as info:
            loss, _out = step(x, y)  # the line the error must name
            loss.asnumpy()
    finally:
        _Boom.armed = False
    msg = str(info.value)
    assert "kernel exploded" in msg and "boom_op" in msg
    assert "test_train_step.py" in msg


def test_a_view_of_a_gradient_sees_the_new_values():
    x, y = _data((6, 12)), _labels(6, 4)
    ref, got = _twins(_mlp, x)
    step, _ = _run_both(ref, got, x, y, 3)
    # nothing else holds the old gradient buffer: the array takes the new one over (no copy)
    before = id(got[0][0].weight.grad()._buf)  # (an id: holding the buffer would pin it)
    step(x, y)
    _standard(*ref, x, y)
    npx.waitall()
    assert step.compiled and id(got[0][0].weight.grad()._buf) != before
    rows = got[0][0].weight.grad()[0:2]  # shares the gradient's buffer: it must be copied into
    _standard(*ref, x, y)
    step(x, y)
    assert step.compiled
    onp.testing.assert_array_equal(rows.asnumpy(), ref[0][0].weight.grad().asnumpy()[0:2])


def test_shards_on_two_devices_match_the_standard_data_parallel_loop():
    devices = [mx.cpu(0), mx.cpu(1)]
    x, y = _data((8, 12)), _labels(8, 4)
    xs = gluon.utils.split_and_load(x, devices)
    ys = gluon.utils.split_and_load(y, devices)
    nets = []
    for _ in range(2):
        mx.random.seed(7)
        net = _mlp()
        net.initialize(mx.init.Xavier(), ctx=devices)
        net(xs[0])  # (the deferred initialization, from the same seed)
        net.hybridize()
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        loss_fn.hybridize()
        nets.append((net, loss_fn, gluon.Trainer(net.collect_params(), "sgd",
                                                 {"learning_rate": 0.1, "momentum": 0.9})))
    (rnet, rloss, rtrainer), got = nets
    step = gluon.TrainStep(*got, return_output=True)
    flags = []
    for _ in range(4):
        with autograd.record():
            want = [rloss(rnet(a), b) for a, b in zip(xs, ys)]
        for loss in want:
            loss.backward()
        rtrainer.step(8)
        losses, outs = step(xs, ys)
        flags.append(step.compiled)
        assert [o.device for o in outs] == devices and [o.shape for o in outs] == [(4, 4)] * 2
        for a, b in zip(losses, want):
            onp.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
        for p, q in zip(rnet.collect_params().values(), got[0].collect_params().values()):
            for a, b in zip(p.list_data(), q.list_data()):
                onp.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert flags == [False, False, True, True]
    with pytest.raises(ValueError, match="label must be a list of as many"):
        step(xs, ys[:1])
