"""mx.init: name dispatch, the fan formulas, closed forms, composites, serialization, seeding."""

from __future__ import annotations

import json
import logging
import math

import numpy
import pytest

import framework as mx
from framework import init, np, npx
from framework.initializer import InitDesc, rnn_param_layout


def _fill(initializer, name, shape, dtype="float32", device=None):
    arr = np.zeros(shape, dtype=dtype, device=device)
    initializer(InitDesc(name), arr)
    return arr.asnumpy()


def test_init_is_the_initializer_module():
    assert mx.init is mx.initializer
    assert init.Xavier is mx.initializer.Xavier


def test_registry_names():
    names = set(init._REGISTRY)
    expected = set("bilinear constant fusedrnn lstmbias msraprelu normal one ones orthogonal "
                   "uniform xavier zero zeros".split())
    assert expected <= names
    assert isinstance(init.create("zeros"), init.Zero)
    assert isinstance(init.create("ones"), init.One)
    assert isinstance(init.create("Xavier", magnitude=2), init.Xavier)


# -- dispatch on the name -----------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("dense0_bias", 0.0), ("bn.gamma", 1.0), ("bn.beta", 0.0), ("bn.running_mean", 0.0),
    ("bn.running_var", 1.0), ("bn_moving_mean", 0.0), ("bn_moving_var", 1.0),
    ("q_min", 0.0), ("q_max", 1.0),
])
def test_dispatch_by_suffix(name, expected):
    out = _fill(init.Constant(7.0), name, (3,))
    numpy.testing.assert_array_equal(out, numpy.full(3, expected, numpy.float32))


def test_weight_goes_to_init_weight():
    numpy.testing.assert_array_equal(_fill(init.Constant(7.0), "fc.weight", (2, 2)),
                                     numpy.full((2, 2), 7.0))
    numpy.testing.assert_array_equal(_fill(init.One(), "weight", (2,)), numpy.ones(2))


def test_unknown_name_raises_naming_the_parameter():
    with pytest.raises(ValueError, match="'mystery_param'"):
        _fill(init.Uniform(), "mystery_param", (3,))


def test_plain_string_name_is_accepted():
    arr = np.zeros((2,))
    init.One()("layer_weight", arr)
    numpy.testing.assert_array_equal(arr.asnumpy(), [1, 1])


def test_non_array_target_raises():
    with pytest.raises(TypeError, match="framework array"):
        init.One()("w_weight", numpy.zeros(3))


def test_parameter_own_init_wins_whatever_the_name():
    # the layer-level initializer is applied through _init_weight, even for a bias
    arr = np.zeros((4,))
    init.Constant(1.0)(InitDesc("dense_bias", {"__init__": "ones"}), arr)
    numpy.testing.assert_array_equal(arr.asnumpy(), numpy.ones(4))
    arr2 = np.zeros((4,))
    init.Zero()(InitDesc("odd_name", {"__init__": init.Constant(3.0)}), arr2)
    numpy.testing.assert_array_equal(arr2.asnumpy(), numpy.full(4, 3.0))
    arr3 = np.zeros((4,))
    init.Zero()(InitDesc("x", {"__init__": init.Constant(2.0).dumps()}), arr3)
    numpy.testing.assert_array_equal(arr3.asnumpy(), numpy.full(4, 2.0))


def test_global_init_is_recorded_on_the_descriptor():
    desc = InitDesc("w_weight")
    glob = init.Uniform()
    glob(desc, np.zeros((2, 2)))
    assert desc.global_init is glob
    assert desc.attrs == {}


# -- random initializers ------------------------------------------------------------------------
def test_uniform_bounds_and_default_scale():
    assert init.Uniform().scale == 0.07
    out = _fill(init.Uniform(0.5), "w_weight", (200, 100))
    assert out.min() >= -0.5 and out.max() < 0.5
    assert abs(out.var() - 0.5 ** 2 / 3) < 0.01 * 0.5 ** 2 / 3 * 10


def test_normal_sigma():
    assert init.Normal().sigma == 0.01
    out = _fill(init.Normal(0.2), "w_weight", (300, 300))
    assert abs(out.mean()) < 0.005
    assert abs(out.std() - 0.2) < 0.004


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3, 3), (10, 4, 5)])
@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
def test_xavier_uniform_bound_and_variance(shape, factor_type):
    hw = int(numpy.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * hw, shape[0] * hw
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    bound = math.sqrt(3.0 / factor)
    np.random.seed(0)
    out = _fill(init.Xavier(factor_type=factor_type), "w_weight", shape)
    assert out.min() >= -bound and out.max() <= bound
    assert out.max() > 0.9 * bound and out.min() < -0.9 * bound
    # U(-c, c) has variance c**2 / 3 = magnitude / (3 * factor) * 3 ... = 1 / factor here
    n = out.size
    assert abs(out.var() - bound ** 2 / 3) < 5 * bound ** 2 / 3 * math.sqrt(0.8 / n) + 1e-6


def test_xavier_gaussian_and_magnitude():
    np.random.seed(1)
    out = _fill(init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2.0),
                "w_weight", (400, 250))
    assert abs(out.std() - math.sqrt(2.0 / 250)) < 0.02 * math.sqrt(2.0 / 250)


def test_xavier_rejects_vectors_and_bad_options():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        _fill(init.Xavier(), "w_weight", (5,))
    with pytest.raises(ValueError, match="factor_type"):
        init.Xavier(factor_type="bad")
    with pytest.raises(ValueError, match="rnd_type"):
        init.Xavier(rnd_type="bad")


def test_msraprelu_std():
    np.random.seed(2)
    shape = (128, 64, 3, 3)
    out = _fill(init.MSRAPrelu(factor_type="in", slope=0.0), "conv_weight", shape)
    expected = math.sqrt(2.0 / (64 * 9))
    assert abs(out.std() - expected) < 0.02 * expected
    assert init.MSRAPrelu().dumps() == '["msraprelu", {"factor_type": "avg", "slope": 0.25}]'


@pytest.mark.parametrize("shape", [(4, 10), (10, 4), (6, 2, 3)])
@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
def test_orthogonal(shape, rand_type):
    out = _fill(init.Orthogonal(scale=1.5, rand_type=rand_type), "w_weight", shape)
    flat = out.reshape(shape[0], -1).astype(numpy.float64) / 1.5
    if flat.shape[0] <= flat.shape[1]:
        numpy.testing.assert_allclose(flat @ flat.T, numpy.eye(flat.shape[0]), atol=1e-5)
    else:
        numpy.testing.assert_allclose(flat.T @ flat, numpy.eye(flat.shape[1]), atol=1e-5)


def test_bilinear_closed_form():
    shape = (2, 3, 4, 5)
    out = _fill(init.Bilinear(), "up_weight", shape)
    f = math.ceil(shape[3] / 2)
    c = (2 * f - 1 - f % 2) / (2 * f)
    expected = numpy.zeros(int(numpy.prod(shape)), numpy.float32)
    for i in range(expected.size):  # MXNet's loop, the reference
        x = i % shape[3]
        y = (i // shape[3]) % shape[2]
        expected[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
    numpy.testing.assert_allclose(out, expected.reshape(shape), rtol=1e-6)
    small = _fill(init.Bilinear(), "up_weight", (1, 1, 4, 4))[0, 0]
    numpy.testing.assert_allclose(small[0], [0.0625, 0.1875, 0.1875, 0.0625])


def test_lstm_bias_sets_the_forget_gate_slice():
    arr = np.full((12,), 5.0)
    init.LSTMBias(forget_bias=2.5)(InitDesc("lstm_i2h_bias", {"__init__": "lstmbias"}), arr)
    numpy.testing.assert_array_equal(arr.asnumpy(), [0] * 3 + [1.0] * 3 + [0] * 6)
    arr = np.full((12,), 5.0)
    init.Zero()(InitDesc("lstm_i2h_bias", {"__init__": init.LSTMBias(2.5)}), arr)
    numpy.testing.assert_array_equal(arr.asnumpy(), [0] * 3 + [2.5] * 3 + [0] * 6)


def test_constant_scalar_and_array():
    assert _fill(init.Constant(3), "w_weight", (2,)).tolist() == [3, 3]
    value = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    numpy.testing.assert_array_equal(_fill(init.Constant(value), "w_weight", (2, 3)), value)
    numpy.testing.assert_array_equal(_fill(init.Constant(np.array(value)), "w_weight", (2, 3)),
                                     value)
    assert json.loads(init.Constant(value).dumps())[1]["value"] == value.tolist()


def test_integer_and_float64_targets():
    out = _fill(init.Uniform(0.5), "w_weight", (10,), dtype="float64")
    assert out.dtype == numpy.float64
    assert (_fill(init.One(), "w_weight", (3,), dtype="int32") == 1).all()


# -- composites ---------------------------------------------------------------------------------
def test_mixed_patterns():
    mixed = init.Mixed([".*special.*", ".*"], [init.Constant(4.0), init.One()])
    a = np.zeros((2, 2))
    mixed("special_weight", a)
    numpy.testing.assert_array_equal(a.asnumpy(), numpy.full((2, 2), 4.0))
    b = np.zeros((2,))
    mixed("other_weight", b)
    numpy.testing.assert_array_equal(b.asnumpy(), numpy.ones(2))
    c = np.full((2,), 9.0)
    mixed("special_bias", c)  # the chosen initializer still dispatches on the name
    numpy.testing.assert_array_equal(c.asnumpy(), numpy.zeros(2))
    with pytest.raises(ValueError, match="'nomatch'"):
        init.Mixed(["abc"], [init.One()])("nomatch", b)
    with pytest.raises(ValueError, match="2 patterns but 1"):
        init.Mixed(["a", "b"], [init.One()])


def test_load_from_dict_and_file(tmp_path):
    weights = {"arg:fc_weight": np.full((2, 2), 3.0), "fc_bias": np.full((2,), 4.0)}
    loader = init.Load(weights, default_init=init.One())
    w, b, other = np.zeros((2, 2)), np.zeros((2,)), np.zeros((3,))
    loader("fc_weight", w)
    loader("fc_bias", b)
    loader("other_weight", other)
    assert w.asnumpy().tolist() == [[3, 3], [3, 3]]
    assert b.asnumpy().tolist() == [4, 4]
    assert other.asnumpy().tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="shape mismatch"):
        loader("fc_weight", np.zeros((3, 3)))
    with pytest.raises(ValueError, match="'missing_weight'"):
        init.Load(weights)("missing_weight", np.zeros((2,)))
    path = tmp_path / "p.npz"
    npx.savez(str(path), fc_weight=np.full((2, 2), 6.0))
    w2 = np.zeros((2, 2))
    init.Load(str(path))("fc_weight", w2)
    assert w2.asnumpy().tolist() == [[6, 6], [6, 6]]


# -- serialization and the registry ---------------------------------------------------------
def test_dumps_format():
    assert init.Normal(0.5).dumps() == '["normal", {"sigma": 0.5}]'
    assert (init.Xavier(factor_type="in", magnitude=2.34).dumps()
            == '["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]')
    assert init.Zero().dumps() == '["zero", {}]'


@pytest.mark.parametrize("obj", [
    init.Uniform(0.3), init.Normal(0.2), init.Xavier("gaussian", "out", 2), init.Constant(2.0),
    init.Orthogonal(0.5, "normal"), init.MSRAPrelu("in", 0.1), init.LSTMBias(3.0),
    init.Bilinear(), init.One(), init.Zero(),
])
def test_dumps_create_round_trip(obj):
    back = init.create(obj.dumps())
    assert type(back) is type(obj)
    assert back.dumps() == obj.dumps()


def test_create_variants():
    x = init.Xavier()
    assert init.create(x) is x
    assert isinstance(init.create(init.Normal), init.Normal)
    assert init.create("normal", sigma=0.3).sigma == 0.3
    with pytest.raises(ValueError, match="unknown initializer 'nope'"):
        init.create("nope")
    with pytest.raises(TypeError):
        init.create(3.0)


def test_register_custom_initializer():
    @init.register
    @init.alias("my_tenths")
    class TenthInit(init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 0.1

    try:
        out = np.zeros((2,))
        init.create("my_tenths")("w_weight", out)
        numpy.testing.assert_allclose(out.asnumpy(), [0.1, 0.1])
        assert isinstance(init.create("tenthinit"), TenthInit)
    finally:
        init._REGISTRY.pop("tenthinit", None)
        init._REGISTRY.pop("my_tenths", None)


def test_set_verbosity_logs(caplog):
    with caplog.at_level(logging.INFO):
        init.One().set_verbosity(True)("w_weight", np.zeros((4,)))
    assert "Initialized w_weight as weight: 1.0" in caplog.text


# -- reproducibility ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [init.Uniform, init.Normal, init.Xavier, init.MSRAPrelu,
                                  init.Orthogonal])
def test_seed_makes_initialization_reproducible(make):
    np.random.seed(123)
    a = _fill(make(), "w_weight", (5, 7))
    np.random.seed(123)
    b = _fill(make(), "w_weight", (5, 7))
    c = _fill(make(), "w_weight", (5, 7))
    numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(a, c)


def test_draws_on_the_array_device():
    dev = mx.cpu(1)
    arr = np.zeros((3, 4), device=dev)
    init.Xavier()("w_weight", arr)
    assert arr.device == dev
    assert numpy.abs(arr.asnumpy()).max() > 0


# -- fused RNN parameters -----------------------------------------------------------------------
def test_rnn_param_layout_sizes():
    layout = rnn_param_layout("lstm", 2, 5, 3, bidirectional=True)
    names = [n for n, _ in layout]
    assert names[:4] == ["l0_i2h_weight", "l0_h2h_weight", "r0_i2h_weight", "r0_h2h_weight"]
    shapes = dict(layout)
    assert shapes["l0_i2h_weight"] == (12, 5)
    assert shapes["l1_i2h_weight"] == (12, 6)
    assert shapes["r1_h2h_bias"] == (12,)
    proj = dict(rnn_param_layout("lstm", 2, 5, 4, projection_size=2))
    assert proj["l0_h2r_weight"] == (2, 4)
    assert proj["l0_h2h_weight"] == (16, 2)
    assert proj["l1_i2h_weight"] == (16, 2)
    assert "l0_h2r_bias" not in proj


def test_rnn_fused_weights_and_biases():
    from framework.gluon.utils import split_rnn_params

    layout = rnn_param_layout("gru", 2, 5, 3, bidirectional=True)
    size = sum(int(numpy.prod(s)) for _, s in layout)
    arr = np.full((size,), 9.0)
    rnn_init = init.RNNFused("gru", 2, 3, 5, num_directions=2,
                             h2h_bias_initializer="ones", i2h_weight_initializer=init.One())
    init.Uniform(0.1)(InitDesc("rnn_param", {"__init__": rnn_init}), arr)
    parts = split_rnn_params(arr, "gru", 2, 5, 3, bidirectional=True)
    for name, value in parts.items():
        host = value.asnumpy()
        if name.endswith("i2h_bias"):
            assert (host == 0).all(), name
        elif name.endswith("h2h_bias") or name.endswith("i2h_weight"):
            assert (host == 1).all(), name
        else:  # h2h weights: the global initializer, Uniform(0.1)
            assert numpy.abs(host).max() <= 0.1 and (host != 9).all(), name
    assert init.create(rnn_init.dumps()).dumps() == rnn_init.dumps()


def test_fused_rnn_forget_bias_and_layout_check():
    h, ni = 3, 5
    size = 4 * h * (ni + h + 2)
    arr = np.zeros((size,))
    fused = init.FusedRNN(init.One(), num_hidden=h, num_layers=1, mode="lstm", forget_bias=2.0)
    init.Zero()(InitDesc("lstm_parameters", {"__init__": fused}), arr)
    host = arr.asnumpy()
    weights, biases = host[:4 * h * (ni + h)], host[4 * h * (ni + h):]
    assert (weights == 1).all()
    # per (i2h, h2h): gates i, f, c, o with h values each; only f gets the forget bias
    expected = numpy.tile(numpy.repeat([0.0, 2.0, 0.0, 0.0], h), 2)
    numpy.testing.assert_array_equal(biases, expected)
    with pytest.raises(ValueError, match="does not fit"):
        fused._init_weight(InitDesc("p"), np.zeros((size + 1,)))
    back = init.create(fused.dumps())
    assert isinstance(back, init.FusedRNN) and back.dumps() == fused.dumps()
