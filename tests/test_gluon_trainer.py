"""gluon.Trainer (API.md §1.15, §2 items 11 and 21): construction from every kind of parameter
container and optimizer spec, ``rescale_grad = scale / batch_size``, weights after several
SGD / momentum / Adam steps against NumPy implementations of the update rules, stale-gradient
errors and ``ignore_stale_grad``, ``grad_req='null'``, ``allreduce_grads`` + clipping +
``update``, learning rates and schedulers, ``save_states``/``load_states`` and data parallelism
over two logical CPU devices.
"""

from __future__ import annotations

import math
import os

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, np
from framework import initializer as init
from framework import optimizer as opt
from framework.gluon import Parameter, nn
from framework.lr_scheduler import FactorScheduler

SEED = 20250311


def _rand(shape, seed=0):
    return numpy.random.default_rng(SEED + seed).uniform(-1.0, 1.0, size=shape)


def _net(seed=0, in_units=3, units=2, device=None):
    """A Dense layer with fixed, reproducible weights."""
    net = nn.Dense(units, in_units=in_units)
    net.initialize(device=device)
    net.weight.set_data(np.array(_rand((units, in_units), seed)))
    net.bias.set_data(np.array(_rand((units,), seed + 1)))
    return net


def _batch(n=4, seed=10, in_units=3, units=2):
    return (np.array(_rand((n, in_units), seed)), np.array(_rand((n, units), seed + 1)))


def _backward(net, x, y):
    """Squared-error loss summed over the batch (as ``loss.backward()`` on per-sample losses)."""
    with autograd.record():
        loss = ((net(x) - y) ** 2).sum(axis=1)
    loss.backward()


def _weights(net):
    return {k: p.data().asnumpy().astype(numpy.float64) for k, p in net.collect_params().items()}


def _grads(net):
    return {k: p.grad().asnumpy().astype(numpy.float64) for k, p in net.collect_params().items()}


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = actual.asnumpy() if hasattr(actual, "asnumpy") else numpy.asarray(actual)
    numpy.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# -- construction -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["dict", "ParameterDict", "list", "tuple"])
def test_params_containers(kind):
    net = _net()
    params = net.collect_params()
    assert isinstance(params, gluon.ParameterDict)
    arg = {"dict": dict(params), "ParameterDict": params, "list": list(params.values()),
           "tuple": tuple(params.values())}[kind]
    trainer = gluon.Trainer(arg, "sgd", {"learning_rate": 0.5})
    assert len(trainer._params) == 2
    assert all(isinstance(p, Parameter) for p in trainer._params)
    before = _weights(net)
    x, y = _batch()
    _backward(net, x, y)
    grads = _grads(net)
    trainer.step(4)
    for k in before:
        _close(_weights(net)[k], before[k] - 0.5 * grads[k] / 4)


def test_private_attributes_and_single_device_kvstore():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1,
                                                          "rescale_grad": 2.0})
    assert trainer._kvstore is None
    assert trainer._scale == 2.0
    assert isinstance(trainer._optimizer, opt.SGD)
    assert trainer.optimizer is trainer._optimizer
    assert trainer._params == list(net.collect_params().values())
    assert hasattr(trainer, "_update_on_kvstore")


def test_optimizer_by_name_or_instance():
    net = _net()
    assert isinstance(gluon.Trainer(net.collect_params(), "adam")._optimizer, opt.Adam)
    assert isinstance(gluon.Trainer(net.collect_params(), "Adam")._optimizer, opt.Adam)
    sgd = opt.SGD(learning_rate=0.3, momentum=0.5)
    trainer = gluon.Trainer(net.collect_params(), sgd)
    assert trainer._optimizer is sgd and trainer.learning_rate == 0.3
    with pytest.raises(ValueError):  # hyper-parameters belong on the instance
        gluon.Trainer(net.collect_params(), opt.SGD(), {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="no_such_optimizer"):
        gluon.Trainer(net.collect_params(), "no_such_optimizer")


def test_bad_params_rejected():
    net = _net()
    with pytest.raises(ValueError):
        gluon.Trainer(net.weight, "sgd")  # a bare Parameter is not a container
    with pytest.raises(ValueError):
        gluon.Trainer([net.weight, np.ones(3)], "sgd")


def test_shared_parameters_counted_once():
    net = _net()
    trainer = gluon.Trainer([net.weight, net.bias, net.weight], "sgd")
    assert len(trainer._params) == 2


# -- rescale_grad and update rules ----------------------------------------------------------------

def test_step_sets_rescale_grad():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    assert trainer._optimizer.rescale_grad == 0.25
    _backward(net, x, y)
    trainer.step(1)
    assert trainer._optimizer.rescale_grad == 1.0
    scaled = gluon.Trainer(net.collect_params(), "sgd", {"rescale_grad": 3.0})
    _backward(net, x, y)
    scaled.step(6)
    assert scaled._optimizer.rescale_grad == 0.5


def _sgd_ref(w, g, state, lr, wd, momentum, rescale, clip):
    gp = rescale * g
    if clip is not None:
        gp = numpy.clip(gp, -clip, clip)
    gp = gp + wd * w
    if momentum == 0:
        return w - lr * gp, state
    state = momentum * state - lr * gp
    return w + state, state


def _adam_ref(w, g, state, lr, wd, t, rescale, b1=0.9, b2=0.999, eps=1e-8):
    m, v = state
    gp = rescale * g + wd * w
    m = b1 * m + (1 - b1) * gp
    v = b2 * v + (1 - b2) * gp * gp
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - lr_t * m / (numpy.sqrt(v) + eps), (m, v)


@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(learning_rate=0.1)),
    ("sgd", dict(learning_rate=0.05, wd=0.01)),
    ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.001)),
    ("sgd", dict(learning_rate=0.2, momentum=0.5, clip_gradient=0.3)),
    ("adam", dict(learning_rate=0.01)),
    ("adam", dict(learning_rate=0.05, wd=0.01, beta1=0.8, beta2=0.99)),
])
def test_update_rules_match_numpy(name, kw):
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), name, dict(kw))
    w = _weights(net)
    if name == "sgd":
        states = {k: numpy.zeros_like(v) for k, v in w.items()}
    else:
        states = {k: (numpy.zeros_like(v), numpy.zeros_like(v)) for k, v in w.items()}
    batch = 4
    for t in range(1, 6):
        x, y = _batch(batch, seed=10 + t)
        _backward(net, x, y)
        grads = _grads(net)
        trainer.step(batch)
        for k in w:
            if name == "sgd":
                w[k], states[k] = _sgd_ref(w[k], grads[k], states[k], kw["learning_rate"],
                                           kw.get("wd", 0.0), kw.get("momentum", 0.0),
                                           1 / batch, kw.get("clip_gradient"))
            else:
                w[k], states[k] = _adam_ref(w[k], grads[k], states[k], kw["learning_rate"],
                                            kw.get("wd", 0.0), t, 1 / batch,
                                            kw.get("beta1", 0.9), kw.get("beta2", 0.999))
        for k, v in _weights(net).items():
            _close(v, w[k], rtol=1e-5, atol=1e-6)


def test_step_does_not_zero_gradients():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch()
    _backward(net, x, y)
    g = _grads(net)
    trainer.step(4)
    for k, v in _grads(net).items():
        _close(v, g[k])


def test_grad_req_add_accumulates_until_zero_grad():
    net = _net()
    net.collect_params().setattr("grad_req", "add")
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.0})
    x, y = _batch()
    _backward(net, x, y)
    once = _grads(net)
    _backward(net, x, y)
    for k, v in _grads(net).items():
        _close(v, 2 * once[k])
    trainer.step(4)
    net.zero_grad()
    assert all(not v.any() for v in _grads(net).values())


def test_trainer_created_before_deferred_init():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, activation="tanh"), nn.Dense(1))
    net.initialize(init.Normal(0.5))
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = np.array(_rand((5, 4), 3))
    y = np.array(_rand((5, 1), 4))
    losses = []
    for _ in range(20):
        with autograd.record():
            loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss.item()))
    assert losses[-1] < losses[0]
    assert net[0].weight.shape == (3, 4)


# -- stale gradients and skipped parameters --------------------------------------------------------

class _TwoBranch(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.used = nn.Dense(2, in_units=3)
        self.unused = nn.Dense(2, in_units=3)

    def forward(self, x):
        return self.used(x)


def test_stale_gradient_raises_user_warning():
    net = _TwoBranch()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch()
    _backward(net, x, y)
    before = _weights(net)
    with pytest.raises(UserWarning, match=r"unused\.weight.*not been updated by backward"):
        trainer.step(4)
    # nothing was updated by the failed step
    for k, v in _weights(net).items():
        _close(v, before[k])


def test_second_step_without_backward_is_stale():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    with pytest.raises(UserWarning, match="stale|not been updated"):
        trainer.step(4)
    _backward(net, x, y)
    trainer.step(4)  # fresh again


def test_ignore_stale_grad_skips_unused_params():
    net = _TwoBranch()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    x, y = _batch()
    before = _weights(net)
    for _ in range(2):
        _backward(net, x, y)
        g = _grads(net)
        cur = _weights(net)
        trainer.step(4, ignore_stale_grad=True)
        after = _weights(net)
        for k in ("used.weight", "used.bias"):
            _close(after[k], cur[k] - 0.5 * g[k] / 4)
    after = _weights(net)
    for k in ("unused.weight", "unused.bias"):
        numpy.testing.assert_array_equal(after[k], before[k])
    # the used ones were consumed: a further step without backward is stale again
    with pytest.raises(UserWarning):
        trainer.step(4)
    trainer.step(4, ignore_stale_grad=True)  # all stale: a no-op
    for k, v in _weights(net).items():
        numpy.testing.assert_array_equal(v, after[k])


def test_grad_req_null_params_are_skipped():
    net = _TwoBranch()
    net.initialize()
    net.unused.collect_params().setattr("grad_req", "null")
    net.used.bias.grad_req = "null"
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    before = _weights(net)
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)  # no stale error for the 'null' params
    after = _weights(net)
    for k in ("unused.weight", "unused.bias", "used.bias"):
        numpy.testing.assert_array_equal(after[k], before[k])
    assert not numpy.allclose(after["used.weight"], before["used.weight"])


def test_constant_is_never_updated():
    class WithConst(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(2, in_units=3)
            self.scale = gluon.Constant(np.array([2.0, 3.0]))

        def forward(self, x):
            return self.dense(x) * self.scale.data()

    net = WithConst()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    _close(net.scale.data(), [2.0, 3.0])


# -- allreduce_grads + clipping + update -----------------------------------------------------------

def test_allreduce_clip_update_matches_numpy():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    params = list(net.collect_params().values())
    x, y = _batch()
    for _ in range(3):
        _backward(net, x, y)
        w, g = _weights(net), _grads(net)
        norm = math.sqrt(sum(float((v ** 2).sum()) for v in g.values()))
        assert norm > 0.5  # so clipping really happens
        trainer.allreduce_grads()
        total = gluon.utils.clip_global_norm([p.grad() for p in params], 0.5)
        assert abs(float(total) - norm) < 1e-4 * norm
        trainer.update(4)
        assert trainer._optimizer.rescale_grad == 0.25
        for k, v in _weights(net).items():
            _close(v, w[k] - 0.1 * g[k] * (0.5 / norm) / 4)


def test_d2l_grad_clipping_in_place_on_grad():
    """d2l's ``grad_clipping`` scales ``param.grad`` in place, then calls ``trainer.step``."""
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x, y = _batch()
    _backward(net, x, y)
    w, g = _weights(net), _grads(net)
    params = [p.data() for p in net.collect_params().values()]
    norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    theta = 0.25
    assert norm > theta
    for p in params:
        p.grad[:] *= theta / norm
    trainer.step(1)
    for k, v in _weights(net).items():
        _close(v, w[k] - 0.1 * g[k] * theta / norm)


# -- learning rate ---------------------------------------------------------------------------------

def test_learning_rate_and_set_learning_rate():
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
    assert trainer.learning_rate == pytest.approx(0.2)
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == pytest.approx(0.05)
    assert trainer._optimizer.learning_rate == pytest.approx(0.05)
    _backward(net, x, y)
    w, g = _weights(net), _grads(net)
    trainer.step(4)
    for k, v in _weights(net).items():
        _close(v, w[k] - 0.05 * g[k] / 4)
    assert gluon.Trainer(net.collect_params(), "sgd").learning_rate == pytest.approx(0.1)
    assert gluon.Trainer(net.collect_params(), "adam").learning_rate == pytest.approx(0.001)


def test_lr_scheduler():
    net = _net()
    sched = FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    # SGD's 2.0 default learning_rate (0.1) would override the scheduler's base_lr: pass it
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"lr_scheduler": sched,
                                                          "learning_rate": 1.0})
    assert trainer.learning_rate == pytest.approx(1.0)
    x, y = _batch()
    expected_lrs = [1.0, 1.0, 0.5, 0.5, 0.25]
    for lr in expected_lrs:
        _backward(net, x, y)
        w, g = _weights(net), _grads(net)
        trainer.step(4)
        for k, v in _weights(net).items():
            _close(v, w[k] - lr * g[k] / 4)
    assert trainer.learning_rate == pytest.approx(0.25)
    with pytest.raises(UserWarning, match="LRScheduler"):
        trainer.set_learning_rate(0.1)


# -- save_states / load_states -------------------------------------------------------------------

@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(learning_rate=0.1, momentum=0.9)),
    ("adam", dict(learning_rate=0.05)),
])
def test_save_load_states_continues_identically(tmp_path, name, kw):
    batches = [_batch(4, seed=20 + i) for i in range(6)]

    def train(net, trainer, bs):
        for x, y in bs:
            _backward(net, x, y)
            trainer.step(4)

    ref = _net()
    ref_trainer = gluon.Trainer(ref.collect_params(), name, dict(kw))
    train(ref, ref_trainer, batches)

    net = _net()
    trainer = gluon.Trainer(net.collect_params(), name, dict(kw))
    train(net, trainer, batches[:3])
    states = str(tmp_path / "trainer.states")
    params = str(tmp_path / "net.params")
    trainer.save_states(states)
    net.save_parameters(params)
    assert os.listdir(tmp_path) == sorted(["trainer.states", "net.params"]) or \
        sorted(os.listdir(tmp_path)) == ["net.params", "trainer.states"]

    net2 = _net(seed=99)
    net2.load_parameters(params)
    trainer2 = gluon.Trainer(net2.collect_params(), name, dict(kw))
    trainer2.load_states(states)
    train(net2, trainer2, batches[3:])
    for k, v in _weights(net2).items():
        numpy.testing.assert_array_equal(v, _weights(ref)[k])


def test_load_states_restores_learning_rate(tmp_path):
    """MXNet pickles the optimizer with the states, so a changed learning rate is restored."""
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    trainer.set_learning_rate(0.01)
    trainer.save_states(str(tmp_path / "s"))
    trainer2 = gluon.Trainer(_net().collect_params(), "sgd", {"learning_rate": 0.1})
    trainer2.load_states(str(tmp_path / "s"))
    assert trainer2.learning_rate == pytest.approx(0.01)


def test_save_states_before_any_step(tmp_path):
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "adam")
    trainer.save_states(str(tmp_path / "s"))
    trainer2 = gluon.Trainer(net.collect_params(), "adam")
    trainer2.load_states(str(tmp_path / "s"))
    x, y = _batch()
    _backward(net, x, y)
    trainer2.step(4)


def test_load_states_rejects_foreign_and_corrupt_files(tmp_path):
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"momentum": 0.9})
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    good = tmp_path / "good.states"
    trainer.save_states(str(good))
    before = _weights(net)

    garbage = tmp_path / "garbage.states"
    garbage.write_bytes(b"this is not a states file at all")
    truncated = tmp_path / "truncated.states"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    params_file = tmp_path / "net.params"
    net.save_parameters(str(params_file))
    empty = tmp_path / "empty.states"
    empty.write_bytes(b"")
    for bad in (garbage, truncated, params_file, empty):
        with pytest.raises(ValueError, match=bad.name):
            trainer.load_states(str(bad))
    with pytest.raises(FileNotFoundError):
        trainer.load_states(str(tmp_path / "missing.states"))
    # a failed load leaves the trainer usable, and the good file still loads
    trainer.load_states(str(good))
    _backward(net, x, y)
    trainer.step(4)
    assert not numpy.allclose(_weights(net)["weight"], before["weight"])


def test_save_states_is_atomic(tmp_path, monkeypatch):
    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"momentum": 0.9})
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    path = tmp_path / "s.states"
    trainer.save_states(str(path))
    old = path.read_bytes()
    import pickle

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pickle, "dumps", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        trainer.save_states(str(path))
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["s.states"]


# -- several devices -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(learning_rate=0.1, momentum=0.9)),
    ("adam", dict(learning_rate=0.01)),
])
def test_two_devices_match_single_device(name, kw):
    devices = [mx.cpu(0), mx.cpu(1)]
    single = _net()
    multi = nn.Dense(2, in_units=3)
    multi.initialize(ctx=devices)
    for p, q in zip(multi.collect_params().values(), single.collect_params().values()):
        assert p.list_ctx() == devices
        p.set_data(q.data())
    t_single = gluon.Trainer(single.collect_params(), name, dict(kw))
    t_multi = gluon.Trainer(multi.collect_params(), name, dict(kw))
    for i in range(4):
        x, y = _batch(6, seed=30 + i)
        _backward(single, x, y)
        t_single.step(6)
        xs = gluon.utils.split_and_load(x, devices)
        ys = gluon.utils.split_and_load(y, devices)
        assert [a.device for a in xs] == devices
        with autograd.record():
            losses = [((multi(a) - b) ** 2).sum(axis=1) for a, b in zip(xs, ys)]
        for loss in losses:
            loss.backward()
        t_multi.step(6)
        for name_, p in multi.collect_params().items():
            copies = [d.asnumpy() for d in p.list_data()]
            assert [d.device for d in p.list_data()] == devices
            numpy.testing.assert_array_equal(copies[0], copies[1])
            _close(copies[0], single.collect_params()[name_].data().asnumpy(), rtol=1e-5,
                   atol=1e-6)


def test_two_devices_allreduce_sums_gradients():
    devices = [mx.cpu(0), mx.cpu(1)]
    net = nn.Dense(2, in_units=3)
    net.initialize(ctx=devices)
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch(4)
    xs = gluon.utils.split_and_load(x, devices)
    ys = gluon.utils.split_and_load(y, devices)
    with autograd.record():
        losses = [((net(a) - b) ** 2).sum() for a, b in zip(xs, ys)]
    for loss in losses:
        loss.backward()
    per_device = [g.asnumpy() for g in net.weight.list_grad()]
    trainer.allreduce_grads()
    for g in net.weight.list_grad():
        _close(g, per_device[0] + per_device[1])


def test_two_devices_stale_when_one_device_had_no_backward():
    devices = [mx.cpu(0), mx.cpu(1)]
    net = nn.Dense(2, in_units=3)
    net.initialize(ctx=devices)
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch(4)
    xs = gluon.utils.split_and_load(x, devices)
    ys = gluon.utils.split_and_load(y, devices)
    with autograd.record():
        loss = ((net(xs[0]) - ys[0]) ** 2).sum()
    loss.backward()
    with pytest.raises(UserWarning, match="not been updated"):
        trainer.step(4)


def test_load_states_rejects_other_pickles(tmp_path):
    import pickle

    net = _net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"momentum": 0.9})
    for i, obj in enumerate([[1, 2, 3], {"weights": 1}, {"states": {7: None}},
                             {0: numpy.zeros(3)}]):
        path = tmp_path / f"other{i}.states"
        path.write_bytes(pickle.dumps(obj))
        with pytest.raises(ValueError, match=path.name):
            trainer.load_states(str(path))


def test_load_states_restores_scheduler_and_counts(tmp_path):
    net = _net()
    kw = {"lr_scheduler": FactorScheduler(step=2, factor=0.5, base_lr=1.0),
          "learning_rate": 1.0}
    trainer = gluon.Trainer(net.collect_params(), "sgd", kw)
    x, y = _batch()
    for _ in range(3):
        _backward(net, x, y)
        trainer.step(4)
    trainer.save_states(str(tmp_path / "s"))
    fresh = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    fresh.load_states(str(tmp_path / "s"))
    assert fresh._optimizer.num_update == 3
    assert fresh.learning_rate == pytest.approx(0.5)
    assert fresh._optimizer.param_dict[0] is net.weight
    _backward(net, x, y)
    w, g = _weights(net), _grads(net)
    fresh.step(4)
    for k, v in _weights(net).items():
        _close(v, w[k] - 0.5 * g[k] / 4)


def test_states_follow_parameters_to_a_new_device():
    net = _net()
    ref = _net()
    kw = {"learning_rate": 0.1, "momentum": 0.9}
    trainer = gluon.Trainer(net.collect_params(), "sgd", dict(kw))
    ref_trainer = gluon.Trainer(ref.collect_params(), "sgd", dict(kw))
    for i in range(3):
        if i == 1:
            net.reset_ctx(mx.cpu(1))
        dev = net.weight.list_ctx()[0]
        x, y = _batch(seed=40 + i)
        _backward(net, x.as_in_context(dev), y.as_in_context(dev))
        trainer.step(4)
        _backward(ref, x, y)
        ref_trainer.step(4)
    assert net.weight.data().device == mx.cpu(1)
    assert trainer._states[0].device == mx.cpu(1)
    for k, v in _weights(net).items():
        _close(v, _weights(ref)[k])


def test_unused_deferred_and_uninitialized_parameters():
    class Deferred(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.used = nn.Dense(2)
            self.unused = nn.Dense(2)

        def forward(self, x):
            return self.used(x)

    net = Deferred()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    x, y = _batch()
    _backward(net, x, y)
    # the never-called branch is still waiting for its shape: stale, like an unused one
    with pytest.raises(UserWarning, match=r"unused\.weight.*unused\.bias"):
        trainer.step(4)
    before = net.used.weight.data().asnumpy()
    trainer.step(4, ignore_stale_grad=True)
    assert not numpy.allclose(net.used.weight.data().asnumpy(), before)
    assert net.unused.weight.shape == (2, -1)

    fresh = Deferred()
    with pytest.raises(RuntimeError, match="not been initialized"):
        gluon.Trainer(fresh.collect_params(), "sgd").step(1)


def test_save_states_with_an_unpicklable_optimizer(tmp_path):
    class Local(opt.SGD):  # defined in a function: pickle cannot find it by name
        pass

    net = _net()
    trainer = gluon.Trainer(net.collect_params(), Local(learning_rate=0.1, momentum=0.9))
    x, y = _batch()
    _backward(net, x, y)
    trainer.step(4)
    trainer.save_states(str(tmp_path / "s"))
    trainer.load_states(str(tmp_path / "s"))
    assert isinstance(trainer._optimizer, Local)
    assert trainer._optimizer.num_update == 1


# -- how far the Python thread may run ahead of the engine ----------------------------------------

def _gate():
    """A task on the default CPU queue that blocks until the returned Event is set."""
    import threading

    from framework.engine import Var

    release = threading.Event()
    mx.engine.get().push(lambda: release.wait(30), writes=[Var()], device=mx.cpu(0),
                         name="gate")
    return release


def _step_in_thread(trainer):
    import threading

    t = threading.Thread(target=trainer.step, args=(4,), daemon=True)
    t.start()
    t.join(0.3)
    return t


@pytest.mark.parametrize("ahead", [1, 2])
def test_step_waits_for_the_step_that_many_steps_back(ahead):
    with mx.engine.engine_scope("ThreadedEngine"):
        net = _net()
        x, y = _batch()
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
        assert trainer.steps_ahead == 1  # the default
        trainer.steps_ahead = ahead
        release = _gate()
        for _ in range(ahead):  # these return although the gate holds the queue
            _backward(net, x, y)
            trainer.step(4)
        _backward(net, x, y)
        t = _step_in_thread(trainer)
        assert t.is_alive(), "step must wait for the work issued before the step that many back"
        release.set()
        t.join(30)
        assert not t.is_alive()
        mx.npx.waitall()


@pytest.mark.parametrize("ahead", [-1, 0])
def test_step_unbounded_or_synchronous(ahead):
    with mx.engine.engine_scope("ThreadedEngine"):
        net = _net()
        x, y = _batch()
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
        trainer.steps_ahead = ahead
        if ahead < 0:  # MXNet's behaviour: any number of steps ahead
            release = _gate()
            for _ in range(3):
                _backward(net, x, y)
                t = _step_in_thread(trainer)
                assert not t.is_alive()
            release.set()
        else:  # the step returns with its own update done
            _backward(net, x, y)
            trainer.step(4)
            w = net.weight.data()._var.writer
            assert w is None or w[0].done >= w[1]
        mx.npx.waitall()


def test_steps_ahead_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRAMEWORK_TRAINER_STEPS_AHEAD", "3")
    assert gluon.Trainer(_net().collect_params(), "sgd").steps_ahead == 3
    monkeypatch.setenv("FRAMEWORK_TRAINER_STEPS_AHEAD", "many")
    with pytest.raises(ValueError, match="FRAMEWORK_TRAINER_STEPS_AHEAD must be an integer"):
        gluon.Trainer(_net().collect_params(), "sgd")


def test_trainer_with_steps_in_flight_pickles_and_copies():
    import copy
    import pickle

    with mx.engine.engine_scope("ThreadedEngine"):
        net = _net()
        x, y = _batch()
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
        release = _gate()  # the step's mark stays unfinished
        _backward(net, x, y)
        trainer.step(4)
        assert trainer._marks[-1] is not None
        for clone in (pickle.loads(pickle.dumps(trainer)), copy.deepcopy(trainer)):
            assert len(clone._marks) == 0 and clone.steps_ahead == 1
        release.set()
        mx.npx.waitall()
