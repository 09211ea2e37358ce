"""gluon.Block / HybridBlock / Parameter / Constant / ParameterDict (API.md §1.10, §1.11, §1.25,
§2 items 17-20 and 25): registration, structural names, initialization (twice, forced, deferred,
initializer precedence), the parameter file round trip and its failure modes (mismatched
networks, dtypes, devices, corrupt and foreign files, crashes in the middle of a save), 1.x
``ParameterDict`` and ``hybrid_forward`` compatibility, hooks, ``apply``, ``cast``, sharing,
``__repr__``, the Parameter API and ``summary`` text.
"""

from __future__ import annotations

import os
import warnings

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, np
from framework import initializer as init
from framework.base import ShapeError
from framework.gluon import Constant, DeferredInitializationError, Parameter, nn
from framework.nd._io import FileFormatError

SEED = 20250312


def _rand(shape, seed=0):
    return numpy.random.default_rng(SEED + seed).uniform(-1.0, 1.0, size=shape)


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = actual.asnumpy() if hasattr(actual, "asnumpy") else numpy.asarray(actual)
    numpy.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _values(net):
    return {k: p.data().asnumpy() for k, p in net.collect_params().items()}


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(4, activation="relu"), nn.Dense(3))
    return net


class _Model(nn.HybridBlock):
    """features (a HybridSequential with a BatchNorm) + output Dense: a nested network."""

    def __init__(self, out=2):
        super().__init__()
        self.features = nn.HybridSequential()
        self.features.add(nn.Dense(4, in_units=3), nn.BatchNorm(), nn.Dense(5))
        self.output = nn.Dense(out)

    def forward(self, x):
        return self.output(self.features(x))


def _ready(net, shape=(2, 3), seed=0):
    """Initialize ``net`` and run one forward so every deferred shape is known."""
    net.initialize(init.Normal(0.5))
    net(np.array(_rand(shape, seed)))
    return net


# -- registration ---------------------------------------------------------------------------------

def test_attribute_registration_of_children_and_parameters():
    class Net(nn.Block):
        def __init__(self):
            super().__init__()
            self.scale = Parameter("scale", shape=(2,), init="ones")
            self.body = nn.Dense(2, in_units=3)
            self.not_a_block = 3

        def forward(self, x):
            return self.body(x) * self.scale.data()

    net = Net()
    assert list(net._children) == ["body"]
    assert list(net.collect_params()) == ["scale", "body.weight", "body.bias"]
    net.initialize()
    assert net(np.ones((4, 3))).shape == (4, 2)
    # replacing a Parameter with another one re-registers it; deleting unregisters
    net.scale = Parameter("scale", shape=(1,))
    assert net.collect_params()["scale"].shape == (1,)
    del net.body
    assert list(net.collect_params()) == ["scale"]
    assert not net._children


def test_register_child_and_containers_of_blocks_warn():
    class Net(nn.Block):
        def __init__(self):
            super().__init__()
            with pytest.warns(UserWarning, match="unregistered container"):
                self.layers = [nn.Dense(2), nn.Dense(3)]
            with pytest.warns(UserWarning, match="unregistered container"):
                self.named = {"a": nn.Dense(2)}
            for layer in self.layers:
                self.register_child(layer)
            self.register_child(self.named["a"], "a")

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    net = Net()
    assert list(net._children) == ["0", "1", "a"]
    assert list(net.collect_params()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                          "a.weight", "a.bias"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.plain = [1, 2, 3]  # a list without Blocks does not warn
    net.initialize()
    assert net(np.ones((1, 5))).shape == (1, 3)


def test_replacing_block_attribute_with_non_block_raises():
    class Net(nn.Block):
        def __init__(self):
            super().__init__()
            self.body = nn.Dense(2)

    net = Net()
    with pytest.raises(TypeError, match="body"):
        net.body = 3
    with pytest.raises(TypeError):
        net.body = np.ones(2)
    net.body = nn.Dense(5)  # another Block is fine
    assert net._children["body"] is net.body


def test_block_without_super_init_raises():
    class Bad(nn.Block):
        def __init__(self):
            self.dense = nn.Dense(2)

    with pytest.raises(RuntimeError, match="super"):
        Bad()


def test_call_rejects_keyword_arguments():
    net = nn.Dense(2, in_units=2)
    net.initialize()
    with pytest.raises(TypeError, match="keyword"):
        net(x=np.ones((1, 2)))


# -- collect_params -------------------------------------------------------------------------------

def test_collect_params_structural_names_and_select():
    net = _Model()
    params = net.collect_params()
    assert isinstance(params, gluon.parameter.ParameterDict)
    assert isinstance(params, gluon.ParameterDict) and isinstance(params, dict)
    assert list(params) == [
        "features.0.weight", "features.0.bias", "features.1.gamma", "features.1.beta",
        "features.1.running_mean", "features.1.running_var", "features.2.weight",
        "features.2.bias", "output.weight", "output.bias"]
    assert list(net.collect_params(".*weight")) == [
        "features.0.weight", "features.2.weight", "output.weight"]
    assert list(net.collect_params("features.1.*|output.bias")) == [
        "features.1.gamma", "features.1.beta", "features.1.running_mean",
        "features.1.running_var", "output.bias"]
    assert list(net.features.collect_params()) == [k[len("features."):] for k in params
                                                   if k.startswith("features.")]
    assert list(params.select(".*bias")) == ["features.0.bias", "features.2.bias",
                                             "output.bias"]
    # the parameter's name is the structural one once collected
    assert params["features.0.weight"].name == "features.0.weight"
    assert not net.collect_params("nothing_matches")


# -- initialize ------------------------------------------------------------------------------------

def test_initialize_twice_warns_and_force_reinit():
    net = nn.Dense(3, in_units=2)
    net.initialize(init.Constant(1.0))
    with pytest.warns(UserWarning, match="already initialized"):
        net.initialize(init.Constant(2.0))
    _close(net.weight.data(), numpy.ones((3, 2)))
    net.initialize(init.Constant(2.0), force_reinit=True)
    _close(net.weight.data(), numpy.full((3, 2), 2.0))
    _close(net.bias.data(), numpy.zeros(3))  # the layer's bias_initializer wins


def test_default_initializer_is_uniform_007():
    net = nn.Dense(200, in_units=100)
    net.initialize()
    w = net.weight.data().asnumpy()
    assert w.dtype == numpy.float32
    assert numpy.abs(w).max() <= 0.07 and numpy.abs(w).max() > 0.06
    assert not net.bias.data().asnumpy().any()


def test_deferred_initialization():
    net = _mlp()
    assert net[0].weight.shape == (4, -1)
    with pytest.raises(RuntimeError, match="not been initialized") as info:
        net[0].weight.data()
    assert not isinstance(info.value, DeferredInitializationError)
    net.initialize()
    with pytest.raises(DeferredInitializationError, match="deferred"):
        net[0].weight.data()
    with pytest.raises(DeferredInitializationError):
        net[1].weight.list_data()
    assert net[0].weight.list_ctx() == [mx.cpu()]
    out = net(np.ones((5, 7)))
    assert out.shape == (5, 3)
    assert net[0].weight.shape == (4, 7) and net[1].weight.shape == (3, 4)
    assert net[0].weight.data().shape == (4, 7)


def test_deferred_init_error_names_block_path_and_shapes():
    class Custom(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.weight = Parameter("weight", shape=(3, -1), allow_deferred_init=True)

        def forward(self, x):
            return x @ self.weight.data().T

    net = nn.HybridSequential()
    net.add(nn.Dense(2), Custom())
    net.initialize()
    with pytest.raises(RuntimeError, match=r"Custom '1'.*weight.*\(3, -1\).*infer_shape.*"
                                           r"\(4, 2\)"):
        net(np.ones((4, 6)))


def test_shape_error_names_block_path_and_shapes():
    net = _Model()
    net.initialize()
    net(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"Dense 'features\.0'.*\(4, 3\).*\(2, 7\)"):
        net(np.ones((2, 7)))
    fixed = nn.HybridSequential()
    fixed.add(nn.Dense(3, in_units=4), nn.Dense(2, in_units=5))
    fixed.initialize()
    with pytest.raises(ShapeError, match=r"Dense '1'.*\(2, 5\).*\(2, 3\)"):
        fixed(np.ones((2, 4)))


def test_parameter_without_deferred_init_needs_a_shape():
    p = Parameter("w", shape=(2, -1))
    with pytest.raises(ValueError, match="unknown shape"):
        p.initialize()


def test_initializer_precedence():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=2), nn.BatchNorm(in_channels=3),
            nn.Dense(2, in_units=3, weight_initializer="zeros", bias_initializer="ones"))
    net.initialize(init.Constant(1.0))
    _close(net[0].weight.data(), numpy.ones((3, 2)))
    _close(net[0].bias.data(), numpy.zeros(3))
    _close(net[1].gamma.data(), numpy.ones(3))
    _close(net[1].beta.data(), numpy.zeros(3))
    _close(net[1].running_mean.data(), numpy.zeros(3))
    _close(net[1].running_var.data(), numpy.ones(3))
    _close(net[2].weight.data(), numpy.zeros((2, 3)))
    _close(net[2].bias.data(), numpy.ones(2))
    # a Parameter's own init wins as well, whatever its name
    p = Parameter("anything", shape=(2, 2), init=init.Constant(7.0))
    p.initialize(init=None, default_init=init.Constant(1.0))
    _close(p.data(), numpy.full((2, 2), 7.0))
    # force_reinit keeps the precedence
    net.initialize(init.Constant(3.0), force_reinit=True)
    _close(net[0].weight.data(), numpy.full((3, 2), 3.0))
    _close(net[2].weight.data(), numpy.zeros((2, 3)))


# -- save_parameters / load_parameters -------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    net = _ready(_Model())
    net.features[0].cast("float64")  # dtypes survive the trip
    fname = str(tmp_path / "model.params")
    net.save_parameters(fname)
    with numpy.load(fname, allow_pickle=False) as z:
        stored = {k: z[k] for k in z.files if not k.startswith("__")}
    assert sorted(stored) == sorted(net.collect_params())
    assert stored["features.0.weight"].dtype == numpy.float64
    assert stored["output.weight"].dtype == numpy.float32
    for k, v in _values(net).items():
        numpy.testing.assert_array_equal(stored[k], v)

    other = _Model()
    other.features[0].cast("float64")
    other.load_parameters(fname)  # deferred shapes come from the file
    for k, v in _values(net).items():
        got = other.collect_params()[k].data().asnumpy()
        assert got.dtype == v.dtype
        numpy.testing.assert_array_equal(got, v)
    x = np.array(_rand((3, 3), 5))
    _close(other(x), net(x).asnumpy())


def test_load_reports_missing_and_unexpected_together(tmp_path):
    net = _ready(_Model())
    fname = str(tmp_path / "model.params")
    net.save_parameters(fname)

    class Other(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.features = nn.HybridSequential()
            self.features.add(nn.Dense(4, in_units=3), nn.BatchNorm(), nn.Dense(5))
            self.head = nn.Dense(2)

        def forward(self, x):
            return self.head(self.features(x))

    other = Other()
    with pytest.raises(ValueError) as info:
        other.load_parameters(fname)
    msg = str(info.value)
    assert "head.weight" in msg and "head.bias" in msg  # missing
    assert "output.weight" in msg and "output.bias" in msg  # unexpected
    assert "model.params" in msg
    assert "allow_missing" in msg and "ignore_extra" in msg
    with pytest.raises(ValueError, match="output.weight"):
        other.load_parameters(fname, allow_missing=True)
    with pytest.raises(ValueError, match="head.weight"):
        other.load_parameters(fname, ignore_extra=True)
    other.initialize()
    other.load_parameters(fname, allow_missing=True, ignore_extra=True)
    for k in ("features.0.weight", "features.1.running_var", "features.2.bias"):
        numpy.testing.assert_array_equal(other.collect_params()[k].data().asnumpy(),
                                         _values(net)[k])
    other(np.ones((2, 3)))
    assert other.head.weight.shape == (2, 5)


def test_load_shape_mismatch(tmp_path):
    net = nn.Dense(3, in_units=2)
    net.initialize()
    fname = str(tmp_path / "d.params")
    net.save_parameters(fname)
    with pytest.raises(ValueError, match=r"weight.*\(3, 4\).*\(3, 2\)"):
        wrong = nn.Dense(3, in_units=4)
        wrong.load_parameters(fname)
    deferred = nn.Dense(4)  # (4, -1): the known dimension does not match the file
    with pytest.raises(ValueError, match=r"weight"):
        deferred.load_parameters(fname)
    with pytest.raises(ValueError, match="expected shape"):
        Parameter("w", shape=(4, -1), allow_deferred_init=True).shape = (3, 2)


def test_cast_dtype_and_dtype_source(tmp_path):
    net = nn.Dense(3, in_units=2)
    net.initialize()
    fname = str(tmp_path / "d.params")
    net.save_parameters(fname)
    f64 = nn.Dense(3, in_units=2, dtype="float64")
    f64.initialize()
    with pytest.raises(ValueError, match="cast_dtype"):
        f64.load_parameters(fname)
    f64.load_parameters(fname, cast_dtype=True)  # dtype_source='current'
    assert f64.weight.dtype == numpy.float64
    assert f64.weight.data().dtype == numpy.float64
    _close(f64.weight.data(), net.weight.data().asnumpy())
    f64.load_parameters(fname, cast_dtype=True, dtype_source="saved")
    assert f64.weight.dtype == numpy.float32
    assert f64.weight.data().dtype == numpy.float32
    with pytest.raises(ValueError, match="dtype_source"):
        f64.load_parameters(fname, cast_dtype=True, dtype_source="other")


class _Tied(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.a = nn.Dense(3, in_units=3)
        self.b = nn.Dense(3, in_units=3)
        self.b.share_parameters(self.a.collect_params())

    def forward(self, x):
        return self.b(self.a(x))


def test_deduplicate_shared_parameters(tmp_path):
    net = _Tied()
    net.initialize()
    assert net.a.weight is net.b.weight
    assert list(net.collect_params()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    full, dedup = str(tmp_path / "full.params"), str(tmp_path / "dedup.params")
    net.save_parameters(full)
    net.save_parameters(dedup, deduplicate=True)
    with numpy.load(dedup, allow_pickle=False) as z:
        assert sorted(k for k in z.files if not k.startswith("__")) == ["a.bias", "a.weight"]
    with numpy.load(full, allow_pickle=False) as z:
        assert len([k for k in z.files if not k.startswith("__")]) == 4
    for fname in (full, dedup):
        other = _Tied()
        other.load_parameters(fname)
        assert other.a.weight is other.b.weight
        numpy.testing.assert_array_equal(other.b.weight.data().asnumpy(),
                                         net.a.weight.data().asnumpy())


def test_load_onto_another_device(tmp_path):
    net = _ready(_mlp(), (2, 5))
    fname = str(tmp_path / "m.params")
    net.save_parameters(fname)
    other = _mlp()
    other.load_parameters(fname, ctx=mx.cpu(1))
    for k, p in other.collect_params().items():
        assert p.list_ctx() == [mx.cpu(1)]
        assert p.data().device == mx.cpu(1)
        numpy.testing.assert_array_equal(p.data().asnumpy(), _values(net)[k])
    out = other(np.array(_rand((2, 5)), device=mx.cpu(1)))
    assert out.device == mx.cpu(1)
    other.load_parameters(fname, device=mx.cpu(0))
    assert other[0].weight.list_ctx() == [mx.cpu(0)]
    # loading keeps the devices of an initialized network by default
    two = _mlp()
    two.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    two.load_parameters(fname)
    assert two[0].weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    for d in two[0].weight.list_data():
        numpy.testing.assert_array_equal(d.asnumpy(), _values(net)["0.weight"])


def test_corrupt_truncated_and_foreign_files(tmp_path):
    net = _ready(_mlp(), (2, 5))
    good = tmp_path / "good.params"
    net.save_parameters(str(good))
    data = good.read_bytes()
    cases = {
        "truncated.params": data[: len(data) // 2],
        "header_only.params": data[:40],
        "garbage.params": b"definitely not a parameter file",
        "empty.params": b"",
        "legacy.params": (0x112).to_bytes(8, "little") + bytes(16),
        "pickle.params": __import__("pickle").dumps({"0.weight": [1, 2]}),
    }
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2: len(corrupt) // 2 + 64] = b"\xff" * 64
    cases["corrupt.params"] = bytes(corrupt)
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(FileFormatError, match=name):
            _mlp().load_parameters(str(path))
    assert issubclass(FileFormatError, ValueError)
    with pytest.raises(FileNotFoundError):
        _mlp().load_parameters(str(tmp_path / "missing.params"))
    # a single array or a list of arrays is not a parameter file
    mx.npx.save(str(tmp_path / "one.npy"), np.ones(3))
    mx.npx.save(str(tmp_path / "list.npz"), [np.ones(3)])
    for name in ("one.npy", "list.npz"):
        with pytest.raises(ValueError, match=name):
            _mlp().load_parameters(str(tmp_path / name))


def test_crash_during_save_keeps_old_file(tmp_path, monkeypatch):
    net = _ready(_mlp(), (2, 5))
    fname = tmp_path / "m.params"
    net.save_parameters(str(fname))
    old = fname.read_bytes()
    net.initialize(init.Constant(5.0), force_reinit=True)

    real = numpy.lib.format.write_array
    calls = []

    def crash_after_first(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            fp.write(b"\x00" * 10)  # part of the second array
            raise OSError("simulated crash")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(numpy.lib.format, "write_array", crash_after_first)
    with pytest.raises(OSError, match="simulated crash"):
        net.save_parameters(str(fname))
    monkeypatch.undo()
    assert len(calls) == 2
    assert fname.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.params"]
    restored = _mlp()
    restored.load_parameters(str(fname))
    assert not numpy.allclose(restored[0].weight.data().asnumpy(), 5.0)


def test_save_parameters_of_uninitialized_net_raises(tmp_path):
    net = _mlp()
    net.initialize()
    with pytest.raises(DeferredInitializationError):
        net.save_parameters(str(tmp_path / "x.params"))
    assert not os.listdir(tmp_path)


def test_load_dict():
    net = _ready(_mlp(), (2, 5))
    values = {k: p.data() for k, p in net.collect_params().items()}
    other = _mlp()
    other.load_dict(values)
    for k, v in _values(net).items():
        numpy.testing.assert_array_equal(other.collect_params()[k].data().asnumpy(), v)
    other.load_dict({k: v.asnumpy() for k, v in values.items()}, device=mx.cpu(1))
    assert other[1].bias.list_ctx() == [mx.cpu(1)]
    with pytest.raises(ValueError, match="1.bias"):
        other.load_dict({k: v for k, v in values.items() if k != "1.bias"})
    other.load_dict({k: v for k, v in values.items() if k != "1.bias"}, allow_missing=True)
    with pytest.raises(ValueError, match="extra_param"):
        other.load_dict({**values, "extra_param": np.ones(2)})
    other.load_dict({**values, "extra_param": np.ones(2)}, ignore_extra=True)


def test_save_load_block_save_prefix(tmp_path):
    net = _ready(_mlp(), (2, 5))
    net.save(str(tmp_path / "model"))
    assert os.path.exists(tmp_path / "model.params")
    other = _mlp()
    other.load(str(tmp_path / "model"))
    numpy.testing.assert_array_equal(other[1].weight.data().asnumpy(),
                                     net[1].weight.data().asnumpy())


# -- 1.x ParameterDict ----------------------------------------------------------------------------

def test_parameterdict_methods(tmp_path):
    net = _mlp()
    params = net.collect_params()
    assert list(params.keys()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(params.values()) == [net[0].weight, net[0].bias, net[1].weight, net[1].bias]
    assert [k for k, _ in params.items()] == list(params)
    assert params["1.bias"] is net[1].bias
    params.initialize(init.Constant(0.5), ctx=[mx.cpu(0), mx.cpu(1)])
    net(np.ones((2, 6)))
    _close(net[0].weight.data(), numpy.full((4, 6), 0.5))
    assert params.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    params.reset_ctx(mx.cpu(1))
    assert all(p.list_ctx() == [mx.cpu(1)] for p in params.values())
    _close(net[0].weight.data(), numpy.full((4, 6), 0.5))
    params.reset_device(mx.cpu(0))
    assert params.list_ctx() == [mx.cpu(0)]

    with autograd.record():
        net(np.ones((2, 6))).sum().backward()
    assert net[0].weight.grad().asnumpy().any()
    params.zero_grad()
    assert not any(p.grad().asnumpy().any() for p in params.values())

    params.setattr("grad_req", "null")
    assert all(p.grad_req == "null" for p in params.values())
    assert net[0].weight.data().grad is None
    params.setattr("grad_req", "write")
    params.setattr("lr_mult", 0.5)
    assert net[1].bias.lr_mult == 0.5


def test_parameterdict_save_load_with_prefixes(tmp_path):
    net = _ready(_mlp(), (2, 5))
    params = net.collect_params()
    fname = str(tmp_path / "pd.params")
    params.save(fname)
    with numpy.load(fname, allow_pickle=False) as z:
        assert sorted(k for k in z.files if not k.startswith("__")) == sorted(params)

    pd = gluon.ParameterDict("mlp0_")
    assert pd.prefix == "mlp0_"
    for k, p in params.items():
        pd.get(k, shape=p.shape)
    assert list(pd) == ["mlp0_" + k for k in params]
    pd.load(fname, restore_prefix="mlp0_")
    for k, p in params.items():
        numpy.testing.assert_array_equal(pd["mlp0_" + k].data().asnumpy(),
                                         p.data().asnumpy())
    stripped = str(tmp_path / "stripped.params")
    pd.save(stripped, strip_prefix="mlp0_")
    with numpy.load(stripped, allow_pickle=False) as z:
        assert sorted(k for k in z.files if not k.startswith("__")) == sorted(params)
    with pytest.raises(ValueError, match="other_"):
        pd.save(stripped, strip_prefix="other_")
    other = _mlp()
    other.collect_params().load(stripped, ctx=mx.cpu(1))
    assert other[0].weight.list_ctx() == [mx.cpu(1)]
    with pytest.raises(ValueError, match="mlp0_"):
        other.collect_params().load(fname, restore_prefix="mlp0_")
    pd.load_dict({"mlp0_0.bias": np.ones(4)}, allow_missing=True)
    _close(pd["mlp0_0.bias"].data(), numpy.ones(4))


def test_params_get_in_1x_style_block():
    class MyDense(nn.Block):
        def __init__(self, units, in_units, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.weight = self.params.get("weight", shape=(in_units, units))
                self.bias = self.params.get("bias", shape=(units,))
                self.scale = self.params.get_constant("scale", [2.0])

        def forward(self, x):
            return (np.dot(x, self.weight.data()) + self.bias.data()) * self.scale.data()

    net = MyDense(3, 4, prefix="mydense_")
    assert net.prefix == "mydense_" and net.name == "mydense"
    assert self_consistent(net)
    assert list(net.collect_params()) == ["weight", "bias", "scale"]
    assert net.params.get("weight") is net.weight  # the same Parameter on a second get
    assert net.params.get_constant("scale") is net.scale
    assert isinstance(net.scale, Constant) and net.scale.grad_req == "null"
    net.initialize(init.Constant(1.0))
    _close(net.weight.data(), numpy.ones((4, 3)))
    _close(net.bias.data(), numpy.zeros(3))
    _close(net.scale.data(), [2.0])
    _close(net(np.ones((2, 4))), numpy.full((2, 3), 8.0))

    seq = nn.Sequential()
    seq.add(MyDense(3, 4), MyDense(2, 3))
    assert list(seq.collect_params()) == ["0.weight", "0.bias", "0.scale", "1.weight",
                                          "1.bias", "1.scale"]
    # 1.x sharing: params=other.params
    shared = MyDense(3, 4, params=net.params)
    assert shared.weight is net.weight and shared.bias is net.bias


def self_consistent(block):
    """Every registered parameter is reachable by attribute or the block's own dict."""
    return all(block.params[k] is p for k, p in block._reg_params.items())


def test_params_get_under_another_attribute_name_registered_once():
    class Net(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.w = self.params.get("weight", shape=(2, 3))

        def hybrid_forward(self, F, x, w):
            return F.np.dot(x, w.T)

    net = Net()
    assert list(net.collect_params()) == ["w"]
    net.initialize(init.Constant(1.0))
    _close(net(np.ones((1, 3))), [[3.0, 3.0]])


def test_hybrid_forward_1x_style():
    class Net(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.weight = Parameter("weight", shape=(2, 3), init=init.Constant(0.5))
            self.bias = Parameter("bias", shape=(2,), init=init.Constant(1.0))
            self.inner = nn.Dense(2, in_units=2, weight_initializer="ones")

        def hybrid_forward(self, F, x, weight, bias):
            return self.inner(F.npx.relu(F.np.dot(x, weight.T) + bias))

    net = Net()
    net.initialize()
    x = np.array([[1.0, -2.0, 4.0]])
    expected = numpy.full((1, 2), 2 * (1.5 + 1.0))
    _close(net(x), expected)
    net.hybridize()
    _close(net(x), expected)
    _close(net(x), expected)
    with autograd.record():
        y = net(x).sum()
    y.backward()
    _close(net.bias.grad(), [2.0, 2.0])


# -- hooks, apply, cast, zero_grad, sharing ------------------------------------------------------

def test_forward_hooks_and_detach():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    calls = []

    def pre(block, inputs):
        assert block is net
        calls.append(("pre", inputs[0].shape))

    def post(block, inputs, outputs):
        calls.append(("post", inputs[0].shape, outputs.shape))

    h_pre = net.register_forward_pre_hook(pre)
    h_post = net.register_forward_hook(post)
    net(np.ones((4, 3)))
    assert calls == [("pre", (4, 3)), ("post", (4, 3), (4, 2))]
    h_pre.detach()
    net(np.ones((1, 3)))
    assert calls[2:] == [("post", (1, 3), (1, 2))]
    h_post.detach()
    h_post.detach()  # idempotent
    net(np.ones((1, 3)))
    assert len(calls) == 3
    with net.register_forward_hook(post):
        net(np.ones((5, 3)))
    net(np.ones((5, 3)))
    assert len(calls) == 4


def test_apply_visits_children_first():
    net = nn.Sequential()
    inner = nn.HybridSequential()
    inner.add(nn.Dense(2), nn.Dropout(0.5))
    net.add(nn.Dense(3), inner)
    order = []
    assert net.apply(lambda b: order.append(b)) is net
    assert order == [net[0], inner[0], inner[1], inner, net]


def test_cast_float64_and_train():
    net = _mlp()
    net.initialize()
    net(np.ones((2, 3)))
    for i, p in enumerate(net.collect_params().values()):
        p.set_data(np.array(_rand(p.shape, i)))  # not the global random state
    net.cast("float64")
    assert all(p.dtype == numpy.float64 and p.data().dtype == numpy.float64
               for p in net.collect_params().values())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = np.array(_rand((2, 3)), dtype="float64")
    with autograd.record():
        out = net(x)
        loss = (out ** 2).sum()
    assert out.dtype == numpy.float64
    loss.backward()
    assert net[0].weight.grad().dtype == numpy.float64
    before = net[1].weight.data().asnumpy()
    grad = net[1].weight.grad().asnumpy()
    assert numpy.abs(grad).max() > 0
    trainer.step(2)
    assert net[1].weight.data().dtype == numpy.float64
    numpy.testing.assert_allclose(net[1].weight.data().asnumpy(), before - 0.1 * grad / 2,
                                  rtol=1e-12, atol=1e-14)


def test_zero_grad():
    net = _ready(_mlp(), (2, 5))
    with autograd.record():
        net(np.ones((2, 5))).sum().backward()
    _close(net[1].bias.grad(), numpy.full(3, 2.0))
    net.zero_grad()
    for p in net.collect_params().values():
        assert not p.grad().asnumpy().any()


def test_share_parameters():
    a = _ready(_mlp(), (2, 5))
    b = _mlp()
    b.share_parameters(a.collect_params())
    for k, p in b.collect_params().items():
        assert p is a.collect_params()[k]
    x = np.array(_rand((2, 5), 1))
    _close(b(x), a(x).asnumpy())
    # training one trains the other
    trainer = gluon.Trainer(b.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        b(x).sum().backward()
    trainer.step(1)
    _close(a[1].bias.data(), b[1].bias.data().asnumpy())
    # partial sharing by structural name
    c = _mlp()
    c.share_parameters({"1.weight": a[1].weight})
    assert c[1].weight is a[1].weight and c[0].weight is not a[0].weight


def test_hybridize_recurses_from_plain_block():
    class Net(nn.Block):
        def __init__(self):
            super().__init__()
            self.body = _mlp()

        def forward(self, x):
            return self.body(x)

    net = Net()
    net.initialize()
    x = np.ones((2, 3))
    expected = net(x).asnumpy()
    net.hybridize()
    assert net.body._active and net.body[0]._active
    _close(net(x), expected)


# -- __repr__ --------------------------------------------------------------------------------------

def test_repr_of_nested_blocks():
    class Net(nn.Block):
        def __init__(self):
            super().__init__()
            self.features = nn.HybridSequential()
            self.features.add(nn.Dense(3, in_units=2), nn.Activation("relu"))
            self.output = nn.Dense(1, in_units=3)

    assert repr(Net()) == (
        "Net(\n"
        "  (features): HybridSequential(\n"
        "    (0): Dense(2 -> 3, linear)\n"
        "    (1): Activation(relu)\n"
        "  )\n"
        "  (output): Dense(3 -> 1, linear)\n"
        ")")

    class Leaf(nn.Block):
        def forward(self, x):
            return x

    assert repr(Leaf()) == "Leaf(\n\n)"
    assert repr(Parameter("weight", shape=(2, 3))).startswith("Parameter weight (shape=(2, 3)")


# -- the Parameter API --------------------------------------------------------------------------

def test_parameter_data_grad_lists_and_devices():
    p = Parameter("weight", shape=(2, 3))
    assert p.name == "weight" and p.shape == (2, 3) and p.dtype == numpy.float32
    assert p.grad_req == "write" and p.lr_mult == 1.0 and p.wd_mult == 1.0
    with pytest.raises(RuntimeError, match="not been initialized"):
        p.data()
    with pytest.raises(RuntimeError):
        p.list_data()
    p.initialize(init=init.Constant(2.0), ctx=[mx.cpu(0), mx.cpu(1)])
    assert p.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    assert p.list_device() == p.list_ctx()
    assert [d.device for d in p.list_data()] == [mx.cpu(0), mx.cpu(1)]
    assert [g.device for g in p.list_grad()] == [mx.cpu(0), mx.cpu(1)]
    assert p.data(mx.cpu(1)).device == mx.cpu(1)
    assert p.data(device=mx.cpu(1)) is p.list_data()[1]
    assert p.grad(mx.cpu(1)) is p.list_grad()[1]
    with pytest.raises(RuntimeError, match="cpu\\(2\\)"):
        p.data(mx.cpu(2))
    for g in p.list_grad():
        assert not g.asnumpy().any()
    p.set_data(np.arange(6).reshape(2, 3))
    for d in p.list_data():
        _close(d, numpy.arange(6).reshape(2, 3))
        assert d.dtype == numpy.float32
    with pytest.raises(ValueError):
        p.set_data(np.ones((3, 2)))
    _close(p._reduce(), numpy.arange(6).reshape(2, 3))
    with pytest.warns(UserWarning, match="already initialized"):
        p.initialize()


def test_parameter_grad_req_setter():
    p = Parameter("weight", shape=(2,))
    p.initialize()
    assert p.data().grad is not None
    p.grad_req = "null"
    assert p.data().grad is None
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()
    with pytest.raises(RuntimeError):
        p.list_grad()
    p.grad_req = "add"
    x = p.data()
    for _ in range(2):
        with autograd.record():
            (x * 3).sum().backward()
    _close(p.grad(), [6.0, 6.0])
    p.zero_grad()
    _close(p.grad(), [0.0, 0.0])
    with pytest.raises(ValueError, match="grad_req"):
        p.grad_req = "sometimes"
    # set before initialization: the data comes without a gradient
    q = Parameter("weight", shape=(2,), grad_req="null")
    q.initialize()
    assert q.data().grad is None


def test_parameter_unknown_shape():
    p = Parameter("weight", shape=(3, -1), allow_deferred_init=True)
    assert p.shape == (3, -1)
    assert Parameter("w", shape=(3, None)).shape == (3, -1)
    p.initialize(init=init.Constant(1.0))
    with pytest.raises(DeferredInitializationError):
        p.data()
    assert p.list_ctx() == [mx.cpu()]
    p.shape = (3, 4)
    assert p.shape == (3, 4)
    p._finish_deferred_init()
    _close(p.data(), numpy.ones((3, 4)))
    with pytest.raises(ValueError):
        p.shape = (3, 5)
    # set_data completes a deferred initialization as well
    q = Parameter("weight", shape=(2, -1), allow_deferred_init=True)
    q.initialize()
    q.set_data(np.ones((2, 5)))
    assert q.shape == (2, 5)
    _close(q.data(), numpy.ones((2, 5)))


def test_lr_mult_and_wd_mult_honoured_by_trainer():
    net = nn.Dense(2, in_units=3)
    net.initialize(init.Constant(1.0))
    net.bias.set_data(np.ones(2))
    net.weight.lr_mult = 0.0
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "wd": 0.5})
    x = np.ones((4, 3))
    with autograd.record():
        net(x).sum().backward()
    trainer.step(4)
    _close(net.weight.data(), numpy.ones((2, 3)))  # lr_mult=0: does not move
    # bias: grad 4 per unit, rescaled by 1/4 => 1, plus wd 0.5 * 1
    _close(net.bias.data(), numpy.ones(2) - 0.1 * (1.0 + 0.5))
    net.weight.lr_mult = 2.0
    net.bias.wd_mult = 0.0
    w, b = net.weight.data().asnumpy(), net.bias.data().asnumpy()
    with autograd.record():
        net(x).sum().backward()
    trainer.step(4)
    _close(net.weight.data(), w - 2 * 0.1 * (1.0 + 0.5 * w))
    _close(net.bias.data(), b - 0.1 * 1.0)


def test_constant():
    c1 = Constant("scale", [1.0, 2.0])  # 1.x: Constant(name, value)
    c2 = Constant(np.array([[3.0]]))  # 2.0: Constant(value)
    c3 = Constant(value=[4.0])
    for c, expected in ((c1, [1.0, 2.0]), (c2, [[3.0]]), (c3, [4.0])):
        assert c.grad_req == "null"
        c.initialize(default_init=init.Constant(9.0))
        _close(c.data(), expected)
        assert c.data().grad is None
    c1.grad_req = "write"  # not differentiable: stays 'null'
    assert c1.grad_req == "null"
    assert c1.name == "scale"

    class Net(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(2, in_units=2)
            self.const = Constant(np.array([10.0, 20.0]))

        def forward(self, x):
            return self.dense(x) + self.const.data()

    net = Net()
    net.initialize(init.Constant(1.0))
    _close(net.const.data(), [10.0, 20.0])
    net.initialize(init.Constant(1.0), force_reinit=True)
    _close(net.const.data(), [10.0, 20.0])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        net(np.ones((1, 2))).sum().backward()
    trainer.step(1)
    _close(net.const.data(), [10.0, 20.0])
    assert "const" in net.collect_params()


# -- summary ---------------------------------------------------------------------------------------

def test_summary_text(capsys):
    class Net(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.features = nn.HybridSequential()
            self.features.add(nn.Dense(4, in_units=3), nn.BatchNorm(), nn.Dense(3))
            self.output = nn.Dense(3, in_units=3)
            self.tied = nn.Dense(3, in_units=3)
            self.tied.share_parameters(self.output.collect_params())

        def forward(self, x):
            return self.tied(self.output(self.features(x)))

    net = Net()
    net.initialize()
    net.summary(np.ones((2, 3)))
    expected = (
        "--------------------------------------------------------------------------------\n"
        "        Layer (type)                                Output Shape         Param #\n"
        "================================================================================\n"
        "               Input                                      (2, 3)               0\n"
        "             Dense-1                                      (2, 4)              16\n"
        "         BatchNorm-2                                      (2, 4)              16\n"
        "             Dense-3                                      (2, 3)              15\n"
        "             Dense-4                                      (2, 3)              12\n"
        "             Dense-5                                      (2, 3)              12\n"
        "               Net-6                                      (2, 3)               0\n"
        "================================================================================\n"
        "Parameters in forward computation graph, duplicate included\n"
        "   Total params: 71\n"
        "   Trainable params: 63\n"
        "   Non-trainable params: 8\n"
        "Shared params in forward computation graph: 12\n"
        "Unique parameters in model: 59\n"
        "--------------------------------------------------------------------------------\n")
    assert capsys.readouterr().out == expected
    for line in expected.splitlines():
        assert len(line) <= 80
    # summary removes its hooks
    assert not any(b._forward_hooks for b in [net, net.output, net.features[0]])


def test_summary_multiple_inputs_and_outputs(capsys):
    class Two(nn.Block):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(2, in_units=3)

        def forward(self, x, y):
            return self.dense(x), y * 2

    net = Two()
    net.initialize()
    net.summary(np.ones((4, 3)), np.ones((5,)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[3] == "{:>20}  {:>42} {:>15}".format("Input", "(4, 3), (5,)", 0)
    assert lines[4] == "{:>20}  {:>42} {:>15}".format("Dense-1", "(4, 2)", 8)
    assert lines[5] == "{:>20}  {:>42} {:>15}".format("Two-2", "(4, 2), (5,)", 0)


def test_summary_refuses_hybridized_block():
    net = _mlp()
    net.initialize()
    net.hybridize()
    with pytest.raises(AssertionError, match="hybridized"):
        net.summary(np.ones((1, 3)))


def test_load_npz_written_by_numpy_and_npx(tmp_path):
    net = _ready(_mlp(), (2, 5))
    values = _values(net)
    numpy.savez(str(tmp_path / "plain.npz"), **values)
    mx.npx.savez(str(tmp_path / "npx.npz"), **{k: np.array(v) for k, v in values.items()})
    for name in ("plain.npz", "npx.npz"):
        other = _mlp()
        other.load_parameters(str(tmp_path / name))
        for k, v in values.items():
            numpy.testing.assert_array_equal(other.collect_params()[k].data().asnumpy(), v)


def test_block_level_setattr_reset_device_and_cast():
    net = _ready(_mlp(), (2, 5))
    net.setattr("grad_req", "null")
    assert all(p.grad_req == "null" for p in net.collect_params().values())
    net.setattr("grad_req", "write")
    net.reset_device(mx.cpu(1))
    assert all(p.list_ctx() == [mx.cpu(1)] for p in net.collect_params().values())
    net.reset_ctx([mx.cpu(0), mx.cpu(1)])
    assert net[0].weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    net[1].cast("float16")
    assert net[1].weight.dtype == numpy.float16 and net[0].weight.dtype == numpy.float32
    assert net[1].weight.data(mx.cpu(1)).dtype == numpy.float16
    assert net[1].weight.data(mx.cpu(1)).grad.dtype == numpy.float16


def test_set_data_on_a_deferred_parameter_keeps_the_requested_devices():
    p = gluon.Parameter("weight", shape=(2, -1), allow_deferred_init=True)
    p.initialize(ctx=[mx.cpu(1), mx.cpu(2)])
    p.set_data(np.ones((2, 3)))
    assert p.list_ctx() == [mx.cpu(1), mx.cpu(2)]
    assert p.data(mx.cpu(2)).asnumpy().tolist() == [[1.0] * 3] * 2
