"""HybridBlock.export and SymbolBlock.imports (API.md §1.10): round trips of an MLP, a CNN with
BatchNorm/Dropout/pooling and a block of shape and indexing operators (same outputs in inference,
same training-mode outputs with the same seed, gradients reach the imported parameters, the
imported block trains and exports again), the files (strict JSON, an ``.npz`` NumPy reads without
pickles, ``arg:``/``aux:``/``const:`` keys, atomic writes), operator serialisation
(``Op.to_json``/``op_from_json``) and the errors: corrupt or foreign files, wrong input names,
nothing traced yet, unserialisable steps.
"""

from __future__ import annotations

import json
import os

import numpy
import pytest

import framework as mx
from framework import autograd, gluon, np
from framework import initializer as init
from framework.gluon import HybridBlock, Parameter, SymbolBlock, nn
from framework.nd._io import FileFormatError
from framework.nd._op import Op, OpSerializationError, decode_attr, encode_attr, op_from_json

SEED = 20250401


def _rand(shape, seed=0):
    return np.array(numpy.random.default_rng(SEED + seed).uniform(-1, 1, size=shape),
                    dtype="float32")


def _eq(a, b):
    numpy.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="tanh"), nn.Dense(3))
    net.initialize(init.Xavier())
    return net


class CNN(HybridBlock):
    def __init__(self):
        super().__init__()
        self.features = nn.HybridSequential()
        self.features.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                          nn.MaxPool2D(2), nn.Conv2D(6, 3), nn.AvgPool2D(2, strides=1),
                          nn.GlobalAvgPool2D())
        self.drop = nn.Dropout(0.5)
        self.out = nn.Dense(3)

    def forward(self, x):
        return self.out(self.drop(self.features(x).reshape(x.shape[0], -1)))


class Mixer(HybridBlock):
    """Reshape, transpose, swapaxes, basic and advanced indexing, concatenate, stack, reductions,
    small and large constants, scalar arithmetic and two outputs."""

    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(12, in_units=6)
        self.scale = Parameter("scale", shape=(3,), init=init.Constant(0.5))

    def forward(self, x):
        n = x.shape[0]
        h = self.dense(x).reshape(n, 3, 4).transpose(0, 2, 1)  # (n, 4, 3)
        a = h[:, 1:3, :]
        b = h[:, ::2, -1]  # (n, 2)
        c = h[:, [0, 3], :]
        d = np.concatenate([a, c], axis=1)  # (n, 4, 3)
        e = np.swapaxes(d, 1, 2).reshape(n, -1)  # (n, 12)
        big = np.arange(1200, dtype="float32").reshape(100, 12) / 1000.0  # a large constant
        small = np.array([[1.0, -1.0, 2.0]])
        s = np.stack([b.sum(axis=1), b.mean(axis=1), np.expand_dims(b, 1).squeeze(1)[:, 0]],
                     axis=1)
        g = np.concatenate([e + big[:n], np.flip(s, axis=1), s ** 2 - 1], axis=1)
        return g, d * small * self.scale.data(x.device)


def _export(net, tmp_path, name="model", epoch=0):
    sym, params = net.export(str(tmp_path / name), epoch=epoch)
    assert sym == str(tmp_path / name) + "-symbol.json"
    assert params == str(tmp_path / name) + f"-{epoch:04d}.params"
    return sym, params


def _grads(net, *xs, train=True):
    with autograd.record(train_mode=train):
        out = net(*xs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        loss = sum((o * o).sum() for o in outs)
    loss.backward()
    return {k: p.grad().asnumpy() for k, p in net.collect_params().items()
            if p.grad_req != "null"}


# -- round trips -----------------------------------------------------------------------------

def test_mlp_round_trip_files_and_training(tmp_path):
    net = _mlp()
    net.hybridize()
    x = _rand((5, 7))
    want = net(x)
    sym, params = _export(net, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["model-0000.params", "model-symbol.json"]

    with open(sym) as f:
        doc = json.load(f)
    assert doc["format"] == "framework-graph" and doc["version"] == 1
    assert doc["inputs"] == ["data"]
    assert list(doc["params"]) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight",
                                   "2.bias"]
    (graph,) = doc["graphs"]  # the same in both training modes: written once
    assert graph["training"] is None
    assert [s["op"] for s in graph["steps"]][:2] == ["_npx_fully_connected", "_npx_activation"]
    with numpy.load(params, allow_pickle=False) as z:
        keys = {k for k in z.files if not k.startswith("__")}
        assert keys == {f"arg:{k}" for k in doc["params"]}
        numpy.testing.assert_array_equal(z["arg:0.weight"],
                                         net.collect_params()["0.weight"].data().asnumpy())

    sb = SymbolBlock.imports(sym, ["data"], params)
    assert isinstance(sb, HybridBlock)
    assert list(sb.collect_params()) == list(net.collect_params())
    _eq(sb(x), want)
    _eq(sb(_rand((2, 7), 1)), net(_rand((2, 7), 1)))  # another batch size replays too

    # gradients reach the imported parameters and equal the original's
    want_g, got_g = _grads(net, x), _grads(sb, x)
    assert set(got_g) == set(want_g)
    for k in want_g:
        numpy.testing.assert_allclose(got_g[k], want_g[k], rtol=1e-6, atol=1e-7)
        assert numpy.abs(got_g[k]).sum() > 0

    # fine-tuning lowers the loss
    trainer = gluon.Trainer(sb.collect_params(), "sgd", {"learning_rate": 0.05})
    y = _rand((5, 3), 2)
    losses = []
    for _ in range(5):
        with autograd.record():
            loss = ((sb(x) - y) ** 2).mean()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss))
    assert losses[-1] < losses[0]

    # the fine-tuned block exports again, and the original class loads the params file
    sym2, params2 = _export(sb, tmp_path, "tuned", epoch=3)
    again = SymbolBlock.imports(sym2, "data", params2)
    _eq(again(x), sb(x))
    fresh = _mlp()
    fresh.load_parameters(params2)
    _eq(fresh(x), sb(x))


def test_cnn_with_batchnorm_dropout_pooling(tmp_path):
    mx.np.random.seed(3)
    net = CNN()
    net.initialize(init.Xavier())
    net.hybridize()
    x = _rand((4, 1, 8, 8))
    _grads(net, x)  # a training step: running statistics move, the training graph is traced
    want = net(x)  # predict mode: the most recent signature
    sym, params = _export(net, tmp_path)
    with open(sym) as f:
        doc = json.load(f)
    assert [g["training"] for g in doc["graphs"]] == [False, True]
    kinds = {k: v["kind"] for k, v in doc["params"].items()}
    assert kinds["features.1.running_mean"] == "aux" and kinds["features.1.gamma"] == "arg"
    with numpy.load(params, allow_pickle=False) as z:
        assert "aux:features.1.running_var" in z.files and "arg:out.weight" in z.files

    sb = SymbolBlock.imports(sym, ["data"], params)
    assert sb.collect_params()["features.1.running_mean"].grad_req == "null"
    _eq(sb(x), want)

    # training mode: same dropout draws and batch statistics with the same seed, and the
    # running statistics are updated alike
    for _ in range(2):
        mx.np.random.seed(11)
        with autograd.train_mode():
            a = net(x)
        mx.np.random.seed(11)
        with autograd.train_mode():
            b = sb(x)
        _eq(a, b)
    for k in ("features.1.running_mean", "features.1.running_var"):
        _eq(sb.collect_params()[k].data(), net.collect_params()[k].data())
    _eq(sb(x), net(x))

    grads = _grads(sb, x)
    assert all(numpy.abs(g).sum() > 0 for g in grads.values())
    assert "features.1.running_mean" not in grads


def test_export_traces_the_other_mode_without_side_effects(tmp_path):
    mx.np.random.seed(5)
    net = CNN()
    net.initialize(init.Xavier())
    net.hybridize()
    x = _rand((3, 1, 8, 8))
    want = net(x)  # only the predict-mode graph exists
    stats = {k: p.data().asnumpy() for k, p in net.collect_params(".*running").items()}
    sym, params = _export(net, tmp_path)
    for k, v in stats.items():  # the training-mode trace left the running statistics alone
        numpy.testing.assert_array_equal(net.collect_params()[k].data().asnumpy(), v)
    with open(sym) as f:
        assert [g["training"] for g in json.load(f)["graphs"]] == [False, True]
    sb = SymbolBlock.imports(sym, "data", params)
    _eq(sb(x), want)
    mx.np.random.seed(2)
    with autograd.train_mode():
        a = net(x)
    mx.np.random.seed(2)
    with autograd.train_mode():
        b = sb(x)
    _eq(a, b)


def test_shape_and_indexing_block(tmp_path):
    net = Mixer()
    net.initialize(init.Normal(0.5))
    net.hybridize()
    x = _rand((5, 6))
    want = net(x)
    sym, params = _export(net, tmp_path)
    with open(sym) as f:
        doc = json.load(f)
    consts = doc["graphs"][0]["consts"]
    assert any("key" in c for c in consts) and any("value" in c for c in consts)
    with numpy.load(params, allow_pickle=False) as z:
        const_keys = [k for k in z.files if k.startswith("const:")]
        assert len(const_keys) == 1 and z[const_keys[0]].shape == (1200,)
    sb = SymbolBlock.imports(sym, ["data"], params)
    got = sb(x)
    assert isinstance(got, tuple) and len(got) == 2
    _eq(got[0], want[0])
    _eq(got[1], want[1])

    xa, xb = x.copy(), x.copy()
    xa.attach_grad()
    xb.attach_grad()
    want_g, got_g = _grads(net, xa), _grads(sb, xb)
    _eq(xb.grad, xa.grad)
    for k in want_g:
        numpy.testing.assert_allclose(got_g[k], want_g[k], rtol=1e-6, atol=1e-6)


def test_multiple_inputs_follow_input_names(tmp_path):
    class Two(HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(2, in_units=3)

        def forward(self, a, b):
            return self.dense(a) * 2 - b

    net = Two()
    net.initialize()
    net.hybridize()
    a, b = _rand((4, 3)), _rand((4, 2), 1)
    want = net(a, b)
    sym, params = _export(net, tmp_path)
    with open(sym) as f:
        assert json.load(f)["inputs"] == ["data0", "data1"]
    _eq(SymbolBlock.imports(sym, ["data0", "data1"], params)(a, b), want)
    _eq(SymbolBlock.imports(sym, ["data1", "data0"], params)(b, a), want)
    with pytest.raises(ValueError, match="data0"):
        SymbolBlock.imports(sym, ["data"], params)
    with pytest.raises(TypeError, match="2 array input"):
        SymbolBlock.imports(sym, ["data0", "data1"], params)(a)


def test_random_ops_constants_and_setitem_in_the_graph(tmp_path):
    class Noisy(HybridBlock):
        def forward(self, x):
            out = np.zeros((2, 3))
            out[1] = x * 2
            return out + np.random.normal(0, 1, size=(2, 3)) * 0.1

    net = Noisy()
    net.hybridize()
    x = np.ones(3)
    net(x)
    sym, params = _export(net, tmp_path)
    sb = SymbolBlock.imports(sym, "data", params)
    mx.np.random.seed(4)
    a = net(np.full((3,), 5.0))
    mx.np.random.seed(4)
    b = sb(np.full((3,), 5.0))
    _eq(a, b)
    assert not numpy.array_equal(sb(x).asnumpy(), sb(x).asnumpy())  # still random per call
    assert numpy.abs(sb(x).asnumpy()[0]).max() < 1  # the constant starts from zeros every call


def test_imported_block_without_params_file_and_hybridized(tmp_path):
    net = _mlp()
    net.hybridize()
    x = _rand((3, 4))
    net(x)
    sym, params = _export(net, tmp_path)
    sb = SymbolBlock.imports(sym, ["data"])
    with pytest.raises(RuntimeError):
        sb(x)
    sb.load_parameters(params)
    _eq(sb(x), net(x))
    sb.hybridize()
    for _ in range(2):
        _eq(sb(x), net(x))
    sym2, params2 = _export(sb, tmp_path, "rehybridized")
    _eq(SymbolBlock.imports(sym2, ["data"], params2)(x), net(x))


def test_a_mode_that_cannot_be_traced_is_left_out_with_a_warning(tmp_path):
    class PredictOnly(HybridBlock):
        def forward(self, x):
            if autograd.is_training():
                raise RuntimeError("inference only")
            return x * 2

    net = PredictOnly()
    net.hybridize()
    net(np.ones(3))
    with pytest.warns(UserWarning, match="training mode.*inference only"):
        sym, params = _export(net, tmp_path)
    with open(sym) as f:
        assert [g["training"] for g in json.load(f)["graphs"]] == [False]
    sb = SymbolBlock.imports(sym, ["data"], params, ctx=mx.cpu())
    assert sb(np.ones(3)).asnumpy().tolist() == [2.0, 2.0, 2.0]


# -- errors -------------------------------------------------------------------------------------

def test_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    net = _mlp()
    net.hybridize()
    net(_rand((2, 3)))
    sym, params = _export(net, tmp_path)
    text = open(sym).read()
    bad = tmp_path / "bad-symbol.json"
    bad.write_text(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match="bad-symbol.json.*not valid JSON"):
        SymbolBlock.imports(str(bad), ["data"], params)
    mxnet_style = tmp_path / "mxnet-symbol.json"
    mxnet_style.write_text(json.dumps({"nodes": [], "arg_nodes": [], "heads": []}))
    with pytest.raises(FileFormatError, match="MXNet symbol file"):
        SymbolBlock.imports(str(mxnet_style), ["data"])
    newer = tmp_path / "newer-symbol.json"
    newer.write_text(json.dumps(dict(json.loads(text), version=99)))
    with pytest.raises(FileFormatError, match="version 99"):
        SymbolBlock.imports(str(newer), ["data"])
    broken = json.loads(text)
    del broken["graphs"][0]["steps"][0]["inputs"]
    (tmp_path / "broken-symbol.json").write_text(json.dumps(broken))
    with pytest.raises(FileFormatError, match="broken-symbol.json.*malformed"):
        SymbolBlock.imports(str(tmp_path / "broken-symbol.json"), ["data"])
    unknown = json.loads(text)
    unknown["graphs"][0]["steps"][0]["op"] = "no_such_op"
    (tmp_path / "unknown-symbol.json").write_text(json.dumps(unknown))
    with pytest.raises(FileFormatError, match="no_such_op"):
        SymbolBlock.imports(str(tmp_path / "unknown-symbol.json"), ["data"])
    with pytest.raises(FileNotFoundError, match="missing-symbol.json"):
        SymbolBlock.imports(str(tmp_path / "missing-symbol.json"), ["data"])


def test_export_needs_a_traced_call_and_serialisable_steps(tmp_path):
    net = _mlp()
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "m"))
    net.hybridize()
    with pytest.raises(RuntimeError, match="at least once"):
        net.export(str(tmp_path / "m"))

    class Square(autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved_tensors
            return 2 * x * dy

    class Custom(HybridBlock):
        def forward(self, x):
            return Square()(x) + 1

    block = Custom()
    block.hybridize()
    block(np.ones(2))
    with pytest.raises(OpSerializationError, match="step 0.*autograd.Function"):
        block.export(str(tmp_path / "custom"))
    assert not any(p.name.startswith("custom") for p in tmp_path.iterdir())
    with pytest.raises(NotImplementedError, match="symbol API"):
        SymbolBlock(outputs="y", inputs="x")


# -- operator serialisation ---------------------------------------------------------------------

def test_attribute_encoding_round_trips_exactly():
    values = [
        None, True, 3, -2.5, float("inf"), float("nan"), "mean", 1 + 2j, (1, (2, 3)), [1, [2]],
        (slice(None), slice(1, None, 2), Ellipsis, None, 0),
        numpy.dtype("float16"), numpy.float32, numpy.int64(7), numpy.float32(0.5),
        numpy.array([[1, 2], [3, 4]], dtype=numpy.int32), numpy.array([numpy.nan]),
        {"axis": (0, 1), "keepdims": True}, mx.cpu(0),
    ]
    for v in values:
        text = json.dumps(encode_attr(v), allow_nan=False)
        back = decode_attr(json.loads(text))
        assert type(back) is type(v), (v, back)
        if isinstance(v, numpy.ndarray):
            assert back.dtype == v.dtype
            numpy.testing.assert_array_equal(back, v)
        elif isinstance(v, float) and v != v:
            assert back != back
        else:
            assert back == v, (v, back)


def test_ops_to_json_and_back():
    from framework.nd._elemwise import BinaryScalarOp
    from framework.nd._shape import _Copy, _ViewOp

    x = _rand((2, 3))
    for op in [_ViewOp("transpose", "transpose", ((1, 0),)),
               _Copy("broadcast_to", (4, 2, 3), "broadcast_to", ((4, 2, 3),)),
               BinaryScalarOp("subtract", 2.0, True)]:
        data = json.loads(json.dumps(op.to_json(), allow_nan=False))
        back = op_from_json(data)
        assert type(back) is type(op) and back.name == op.name
        _eq(back.replay([x]), op.replay([x]))

    class Holder(Op):
        name = "holder"

        def __init__(self):
            self.fn = lambda v: v

    with pytest.raises(OpSerializationError, match="'holder'.*attribute 'fn'.*function"):
        Holder().to_json()


def test_softmax_cross_entropy_loss_round_trip(tmp_path):
    # the loss op caches per-shape class offsets on itself; the graph file keeps only its
    # arguments, and the imported block computes the same loss (oracle: the Python block)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss(weight=0.5)
    loss_fn.hybridize()
    rng = numpy.random.default_rng(0)
    pred = np.array(rng.standard_normal((6, 5)).astype("float32"))
    label = np.array(rng.integers(0, 5, 6))
    want = loss_fn(pred, label).asnumpy()
    sym, params = _export(loss_fn, tmp_path, "loss")
    sb = SymbolBlock.imports(sym, ["data0", "data1"], params)
    numpy.testing.assert_allclose(sb(pred, label).asnumpy(), want, rtol=1e-6)
