"""``gluon.rnn``: fused layers against the cells with the same weights (outputs, states and
gradients), layouts, begin_state, valid_length, hybridize, parameter names, files, modifiers."""

from __future__ import annotations

import numpy
import pytest

from framework import autograd, gluon, npx
from framework import np as fnp
from framework.gluon import rnn

SEED = 42

CELLS = {"lstm": rnn.LSTMCell, "gru": rnn.GRUCell, "rnn_tanh": rnn.RNNCell,
         "rnn_relu": lambda h, **kw: rnn.RNNCell(h, activation="relu", **kw)}


def _layer(mode: str, hidden: int, **kw):
    if mode == "lstm":
        return rnn.LSTM(hidden, **kw)
    if mode == "gru":
        return rnn.GRU(hidden, **kw)
    return rnn.RNN(hidden, activation=mode[4:], **kw)


def _randomize(block, seed=SEED) -> None:
    rng = numpy.random.default_rng(seed)
    for p in block.collect_params().values():
        p.set_data(fnp.array(rng.uniform(-0.5, 0.5, size=p.shape), dtype=p.dtype))


def _copy_into_cells(layer, cells, layers, dirs) -> None:
    """Layer parameters l{i}_* / r{i}_* into cells[i][d] (i2h_weight...)."""
    for i in range(layers):
        for d in range(dirs):
            for kind in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
                src = getattr(layer, f"{'lr'[d]}{i}_{kind}").data()
                getattr(cells[i][d], kind).set_data(src.copy())


def _x(shape, seed=SEED):
    return fnp.array(numpy.random.default_rng(seed).normal(size=shape), dtype="float32")


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_layer_matches_cell_unroll(mode) -> None:
    hidden, t_len, n, c = 5, 4, 3, 6
    layer = _layer(mode, hidden, input_size=c)
    layer.initialize()
    _randomize(layer)
    cell = CELLS[mode](hidden, input_size=c)
    cell.initialize()
    _copy_into_cells(layer, [[cell]], 1, 1)
    x = _x((t_len, n, c))
    states = layer.begin_state(n)
    out, new_states = layer(x, states)
    cout, cstates = cell.unroll(t_len, x, layout="TNC", merge_outputs=True)
    numpy.testing.assert_allclose(out.asnumpy(), cout.asnumpy(), rtol=1e-5, atol=1e-6)
    for s, cs in zip(new_states, cstates):
        numpy.testing.assert_allclose(s.asnumpy()[0], cs.asnumpy(), rtol=1e-5, atol=1e-6)


def test_stacked_bidirectional_layer_matches_cells_with_gradients() -> None:
    hidden, t_len, n, c, layers = 3, 5, 2, 4, 2
    layer = rnn.GRU(hidden, num_layers=layers, bidirectional=True, layout="NTC")
    layer.initialize()
    x = _x((n, t_len, c))
    layer(x)  # deferred input size
    _randomize(layer)
    stack = rnn.HybridSequentialRNNCell()
    cells = []
    for _ in range(layers):
        pair = [rnn.GRUCell(hidden), rnn.GRUCell(hidden)]
        cells.append(pair)
        stack.add(rnn.BidirectionalCell(*pair))
    stack.initialize()
    stack.unroll(t_len, x, layout="NTC")  # deferred input sizes
    _copy_into_cells(layer, cells, layers, 2)
    head = _x((n, t_len, 2 * hidden), seed=3)
    with autograd.record():
        out = layer(x)
        loss = (out * head).sum()
    loss.backward()
    with autograd.record():
        cout, _ = stack.unroll(t_len, x, layout="NTC", merge_outputs=True)
        closs = (cout * head).sum()
    closs.backward()
    numpy.testing.assert_allclose(out.asnumpy(), cout.asnumpy(), rtol=1e-5, atol=1e-6)
    for i in range(layers):
        for d in range(2):
            for kind in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
                g = getattr(layer, f"{'lr'[d]}{i}_{kind}").grad().asnumpy()
                cg = getattr(cells[i][d], kind).grad().asnumpy()
                numpy.testing.assert_allclose(g, cg, rtol=1e-4, atol=1e-5, err_msg=kind)


def test_begin_state_shapes_and_kwargs() -> None:
    lstm = rnn.LSTM(7, num_layers=3, bidirectional=True)
    states = lstm.begin_state(batch_size=4)
    assert [s.shape for s in states] == [(6, 4, 7), (6, 4, 7)]
    proj = rnn.LSTM(7, projection_size=3)
    assert [s.shape for s in proj.begin_state(2)] == [(1, 2, 3), (1, 2, 7)]
    gru = rnn.GRU(5, num_layers=2)
    (s,) = gru.begin_state(3, func=fnp.ones, dtype="float64")
    assert s.shape == (2, 3, 5) and s.dtype == numpy.float64 and float(s.sum()) == 30
    cell = rnn.LSTMCell(6)
    assert [i["shape"] for i in cell.state_info(2)] == [(2, 6), (2, 6)]
    assert [s.shape for s in cell.begin_state(2)] == [(2, 6), (2, 6)]
    seq = rnn.SequentialRNNCell()
    seq.add(rnn.LSTMCell(3))
    seq.add(rnn.GRUCell(4))
    assert [s.shape for s in seq.begin_state(5)] == [(5, 3), (5, 3), (5, 4)]


def test_ntc_equals_tnc() -> None:
    tnc = rnn.LSTM(4, num_layers=2, input_size=3)
    ntc = rnn.LSTM(4, num_layers=2, input_size=3, layout="NTC")
    tnc.initialize()
    ntc.initialize()
    _randomize(tnc)
    ntc.load_dict({k: v.data() for k, v in tnc.collect_params().items()})
    x = _x((6, 2, 3))
    a = tnc(x)
    b = ntc(fnp.swapaxes(x, 0, 1))
    assert b.shape == (2, 6, 4)
    numpy.testing.assert_allclose(a.asnumpy(), numpy.swapaxes(b.asnumpy(), 0, 1), rtol=1e-6)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_unroll_valid_length_matches_sequence_length(mode) -> None:
    hidden, t_len, n, c = 4, 5, 3, 2
    layer = _layer(mode, hidden, input_size=c, use_sequence_length=True, bidirectional=True)
    layer.initialize()
    _randomize(layer)
    lcell, rcell = CELLS[mode](hidden, input_size=c), CELLS[mode](hidden, input_size=c)
    bi = rnn.BidirectionalCell(lcell, rcell)
    bi.initialize()
    _copy_into_cells(layer, [[lcell, rcell]], 1, 2)
    x = _x((n, t_len, c))
    valid = fnp.array([5, 2, 3], dtype="float32")
    out, states = layer(fnp.swapaxes(x, 0, 1), layer.begin_state(n), valid)
    cout, cstates = bi.unroll(t_len, x, layout="NTC", merge_outputs=True, valid_length=valid)
    numpy.testing.assert_allclose(numpy.swapaxes(out.asnumpy(), 0, 1), cout.asnumpy(),
                                  rtol=1e-5, atol=1e-6)
    assert not cout.asnumpy()[1, 2:].any()
    nst = len(states)
    for k in range(nst):  # layer state k is (2, N, H): forward then reverse direction
        for d in range(2):
            numpy.testing.assert_allclose(states[k].asnumpy()[d],
                                          cstates[d * nst + k].asnumpy(), rtol=1e-5, atol=1e-6)


def test_unroll_valid_length_states_single_cell() -> None:
    cell = rnn.RNNCell(3, input_size=2)
    cell.initialize()
    x = _x((2, 4, 2))
    outs, states = cell.unroll(4, x, valid_length=fnp.array([2, 4]), merge_outputs=False)
    assert isinstance(outs, list) and len(outs) == 4
    full, _ = cell.unroll(2, x[:, :2], merge_outputs=True)
    numpy.testing.assert_allclose(states[0].asnumpy()[0], full.asnumpy()[0, 1], rtol=1e-6)
    assert not outs[3].asnumpy()[0].any()


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_relu"])
def test_hybridized_equals_imperative_with_grads(mode) -> None:
    layer = _layer(mode, 4, num_layers=2, bidirectional=True)
    layer.initialize()
    x = _x((5, 3, 2))
    layer(x)
    _randomize(layer)
    params = layer.collect_params()

    def run():
        with autograd.record():
            out, states = layer(x, layer.begin_state(3))
            loss = (out * out).sum() + sum((s * s).sum() for s in states)
        loss.backward()
        return out.asnumpy(), {k: p.grad().asnumpy().copy() for k, p in params.items()}

    out0, g0 = run()
    layer.hybridize()
    run()
    out1, g1 = run()  # a replay
    numpy.testing.assert_allclose(out1, out0, rtol=1e-6)
    for k in g0:
        numpy.testing.assert_allclose(g1[k], g0[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_hybridized_cell_equals_imperative() -> None:
    cell = rnn.HybridSequentialRNNCell()
    cell.add(rnn.LSTMCell(4))
    cell.add(rnn.ResidualCell(rnn.GRUCell(4)))
    cell.initialize()
    x = _x((2, 3, 5))
    out0, st0 = cell.unroll(3, x, merge_outputs=True)
    cell.hybridize()
    cell.unroll(3, x, merge_outputs=True)
    out1, st1 = cell.unroll(3, x, merge_outputs=True)
    numpy.testing.assert_allclose(out1.asnumpy(), out0.asnumpy(), rtol=1e-6)
    for a, b in zip(st1, st0):
        numpy.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6)


def test_parameter_names_and_shapes() -> None:
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3)
    shapes = {k: p.shape for k, p in layer.collect_params().items()}
    want = {}
    for i, n_in in ((0, 3), (1, 8)):
        for d in "lr":
            want[f"{d}{i}_i2h_weight"] = (16, n_in)
            want[f"{d}{i}_h2h_weight"] = (16, 4)
            want[f"{d}{i}_i2h_bias"] = (16,)
            want[f"{d}{i}_h2h_bias"] = (16,)
    assert shapes == want
    proj = rnn.LSTM(6, projection_size=2, input_size=3)
    pshapes = {k: p.shape for k, p in proj.collect_params().items()}
    assert pshapes["l0_h2r_weight"] == (2, 6) and pshapes["l0_h2h_weight"] == (24, 2)
    deferred = rnn.GRU(5)
    assert deferred.l0_i2h_weight.shape == (15, -1)
    cell = rnn.GRUCell(5, input_size=2)
    assert {k: p.shape for k, p in cell.collect_params().items()} == {
        "i2h_weight": (15, 2), "h2h_weight": (15, 5), "i2h_bias": (15,), "h2h_bias": (15,)}
    net = gluon.nn.HybridSequential()
    net.add(rnn.LSTM(3))
    assert "0.l0_i2h_weight" in net.collect_params()  # MXNet 1.x's structural name


def test_save_load_round_trip(tmp_path) -> None:
    layer = rnn.LSTM(4, num_layers=2, projection_size=3)
    layer.initialize()
    x = _x((3, 2, 5))
    out = layer(x).asnumpy()
    path = str(tmp_path / "lstm.params")
    layer.save_parameters(path)
    saved = numpy.load(path)  # NumPy reads the file
    assert "l1_h2r_weight" in saved.files
    other = rnn.LSTM(4, num_layers=2, projection_size=3)
    other.load_parameters(path)
    numpy.testing.assert_array_equal(other(x).asnumpy(), out)


def test_deferred_input_and_errors() -> None:
    layer = rnn.RNN(3, activation="tanh")
    layer.initialize()
    assert layer(_x((2, 4, 6))).shape == (2, 4, 3)
    assert layer.l0_i2h_weight.shape == (3, 6)
    with pytest.raises(ValueError, match="expects 6 input features"):
        layer(_x((2, 4, 5)))
    with pytest.raises(ValueError, match="3 dimensions"):
        layer(_x((2, 6)))
    with pytest.raises(ValueError, match=r"state 0 must have shape \(1, 4, 3\)"):
        layer(_x((2, 4, 6)), [fnp.zeros((1, 5, 3))])
    with pytest.raises(ValueError, match="layout"):
        rnn.GRU(3, layout="CTN")
    with pytest.raises(NotImplementedError, match="unroll"):
        rnn.BidirectionalCell(rnn.RNNCell(2), rnn.RNNCell(2))(_x((1, 2)), [])


def test_layer_dropout_only_in_training() -> None:
    layer = rnn.LSTM(8, num_layers=3, dropout=0.5, input_size=4)
    layer.initialize()
    x = _x((4, 3, 4))
    a, b = layer(x).asnumpy(), layer(x).asnumpy()
    numpy.testing.assert_array_equal(a, b)
    with autograd.record():
        c = layer(x)
    assert not numpy.allclose(c.asnumpy(), a)
    c.backward()
    assert numpy.isfinite(layer.l0_i2h_weight.grad().asnumpy()).all()


def test_modifier_cells() -> None:
    base = rnn.GRUCell(3, input_size=3)
    base.initialize()
    x = _x((2, 3))
    states = base.begin_state(2)
    out, _ = base(x, states)
    res = rnn.ResidualCell(base)
    rout, _ = res(x, states)
    numpy.testing.assert_allclose(rout.asnumpy(), out.asnumpy() + x.asnumpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="modifier"):
        base.begin_state(2)
    assert len(res.begin_state(2)) == 1
    # zoneout and dropout are the identity outside training
    zbase = rnn.LSTMCell(3, input_size=3)
    zbase.initialize()
    zone = rnn.ZoneoutCell(zbase, zoneout_outputs=0.5, zoneout_states=0.5)
    zout, zst = zone(x, zone.begin_state(2))
    want, wst = zbase(x, zone.begin_state(2))
    numpy.testing.assert_allclose(zout.asnumpy(), want.asnumpy(), rtol=1e-6)
    drop = rnn.DropoutCell(0.5)
    dout, dst = drop(x, [])
    numpy.testing.assert_array_equal(dout.asnumpy(), x.asnumpy())
    assert dst == []
    # zoneout in training: every unit is either the new value or the previous one (0 first)
    with autograd.record():
        zout, _ = zone(x, zone.begin_state(2))
    z, w = zout.asnumpy(), want.asnumpy()
    assert numpy.all((numpy.isclose(z, w)) | (z == 0))


def test_variational_dropout_mask_shared_across_steps() -> None:
    base = rnn.RNNCell(6, input_size=3)
    base.initialize()
    var = rnn.VariationalDropoutCell(base, drop_outputs=0.5)
    x = _x((4, 5, 3))
    with autograd.record():
        outs, _ = var.unroll(5, x, merge_outputs=True)
    zero = outs.asnumpy() == 0
    assert zero.any() and not zero.all()
    assert (zero == zero[:, :1]).all()  # the same units dropped at every step
    with autograd.record():
        outs2, _ = var.unroll(5, x, merge_outputs=True)  # reset: a new mask per sequence
    assert outs2.shape == (4, 5, 6)


def test_layer_trains_with_trainer() -> None:
    npx.random.seed(0)
    net = gluon.nn.HybridSequential()
    net.add(rnn.LSTM(8, layout="NTC"), gluon.nn.Dense(1, flatten=False))
    net.initialize()
    net.hybridize()
    x = _x((4, 6, 2))
    y = fnp.array(x.asnumpy().sum(axis=2, keepdims=True).cumsum(axis=1) * 0.1)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    loss_fn = gluon.loss.L2Loss()
    first = None
    for _ in range(30):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(4)
        first = float(loss.mean()) if first is None else first
    assert float(loss.mean()) < 0.5 * first


def test_export_and_import_round_trip(tmp_path) -> None:
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3, state_clip_min=-1,
                     state_clip_max=1)
    layer.initialize()
    layer.hybridize()
    x = _x((5, 2, 3))
    want = layer(x).asnumpy()
    sym, params = layer.export(str(tmp_path / "lstm"))
    loaded = gluon.SymbolBlock.imports(sym, ["data"], params)
    numpy.testing.assert_array_equal(loaded(x).asnumpy(), want)
