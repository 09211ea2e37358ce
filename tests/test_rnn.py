"""``npx.rnn``: forward against a step-by-step NumPy reference (every mode, several layers, both
directions, projection, sequence lengths, cell clipping), gradients against finite differences
(float64, tiny sizes), dropout between layers, errors, autograd and the engine."""

from __future__ import annotations

import numpy
import pytest

from framework import autograd, npx
from framework import np as fnp
from framework.gluon.utils import split_rnn_params
from framework.nd._rnn import param_size

SEED = 1234


def _sigmoid(x: numpy.ndarray) -> numpy.ndarray:
    return 1.0 / (1.0 + numpy.exp(-x))


def ref_rnn(mode, x, params, h0, c0=None, num_layers=1, bidirectional=False, hidden=4,
            proj=None, lengths=None, clip=None, masks=None, scale=1.0):
    """Plain per-step NumPy reference: (out, hy, cy)."""
    t_len, n, n_in = x.shape
    w = split_rnn_params(params, mode, num_layers, n_in, hidden, bidirectional, proj)
    dirs = 2 if bidirectional else 1
    hy, cy = numpy.zeros_like(h0), (numpy.zeros_like(c0) if c0 is not None else None)
    lens = numpy.full(n, t_len) if lengths is None else numpy.asarray(lengths, dtype=int)
    inp = x
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            p = "lr"[d] + str(layer) + "_"
            wi, wh = w[p + "i2h_weight"], w[p + "h2h_weight"]
            bi, bh = w[p + "i2h_bias"], w[p + "h2h_bias"]
            out = numpy.zeros((t_len, n, h0.shape[2]))
            for b in range(n):
                h = h0[k, b].copy()
                c = c0[k, b].copy() if c0 is not None else None
                steps = range(lens[b])
                for t in (reversed(steps) if d == 1 else steps):
                    xt = inp[t, b]
                    if mode == "lstm":
                        z = wi @ xt + bi + wh @ h + bh
                        i, f, g, o = numpy.split(z, 4)
                        c = _sigmoid(f) * c + _sigmoid(i) * numpy.tanh(g)
                        if clip is not None:
                            c = numpy.clip(c, *clip)
                        h = _sigmoid(o) * numpy.tanh(c)
                        if proj:
                            h = w[p + "h2r_weight"] @ h
                    elif mode == "gru":
                        xi = wi @ xt + bi
                        hh = wh @ h + bh
                        r = _sigmoid(xi[:hidden] + hh[:hidden])
                        zg = _sigmoid(xi[hidden:2 * hidden] + hh[hidden:2 * hidden])
                        nn_ = numpy.tanh(xi[2 * hidden:] + r * hh[2 * hidden:])
                        h = (1 - zg) * nn_ + zg * h
                    else:
                        z = wi @ xt + bi + wh @ h + bh
                        h = numpy.maximum(z, 0) if mode == "rnn_relu" else numpy.tanh(z)
                    out[t, b] = h
                hy[k, b] = h
                if c is not None:
                    cy[k, b] = c
            outs.append(out)
        inp = numpy.concatenate(outs, axis=2)
        if masks is not None and layer < num_layers - 1:
            inp = inp * masks[layer] * scale
    return inp, hy, cy


def _setup(mode, t_len=5, n=3, n_in=4, hidden=4, layers=1, bidir=False, proj=None,
           dtype="float64", seed=SEED):
    rng = numpy.random.default_rng(seed)
    size = param_size(mode, layers, n_in, hidden, bidir, proj)
    dirs = 2 if bidir else 1
    x = rng.normal(size=(t_len, n, n_in))
    params = rng.uniform(-0.6, 0.6, size=size)
    h0 = rng.normal(size=(layers * dirs, n, proj or hidden)) * 0.5
    c0 = rng.normal(size=(layers * dirs, n, hidden)) * 0.5 if mode == "lstm" else None
    cast = (lambda a: None if a is None else a.astype(dtype))
    return cast(x), cast(params), cast(h0), cast(c0)


def _call(mode, x, params, h0, c0, **kw):
    fa = (lambda a: None if a is None else fnp.array(a, dtype=a.dtype))
    return npx.rnn(fa(x), fa(params), fa(h0), fa(c0), mode=mode, state_outputs=True, **kw)


CASES = [
    # mode, layers, bidirectional, projection
    ("rnn_relu", 1, False, None), ("rnn_tanh", 2, True, None), ("lstm", 1, False, None),
    ("lstm", 2, True, None), ("gru", 1, False, None), ("gru", 2, True, None),
    ("lstm", 2, True, 3), ("rnn_tanh", 3, False, None),
]


@pytest.mark.parametrize("mode,layers,bidir,proj", CASES)
def test_forward_matches_reference(mode, layers, bidir, proj) -> None:
    hidden = 4
    x, params, h0, c0 = _setup(mode, hidden=hidden, layers=layers, bidir=bidir, proj=proj)
    outs = _call(mode, x, params, h0, c0, state_size=hidden, num_layers=layers,
                 bidirectional=bidir, projection_size=proj)
    ref = ref_rnn(mode, x, params, h0, c0, layers, bidir, hidden, proj)
    assert len(outs) == (3 if mode == "lstm" else 2)
    for got, want in zip(outs, ref):
        numpy.testing.assert_allclose(got.asnumpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode,bidir", [("lstm", True), ("gru", True), ("rnn_tanh", False),
                                        ("rnn_relu", True)])
def test_sequence_length(mode, bidir) -> None:
    hidden, layers = 3, 2
    x, params, h0, c0 = _setup(mode, t_len=6, n=4, hidden=hidden, layers=layers, bidir=bidir)
    lengths = numpy.array([6, 3, 1, 0])
    outs = _call(mode, x, params, h0, c0, state_size=hidden, num_layers=layers,
                 bidirectional=bidir, sequence_length=fnp.array(lengths, dtype="int32"),
                 use_sequence_length=True)
    ref = ref_rnn(mode, x, params, h0, c0, layers, bidir, hidden, lengths=lengths)
    for got, want in zip(outs, ref):
        numpy.testing.assert_allclose(got.asnumpy(), want, rtol=1e-10, atol=1e-12)
    assert not outs[0].asnumpy()[3:, 1].any()  # zero past the length


def test_state_clip() -> None:
    x, params, h0, c0 = _setup("lstm", hidden=4)
    params = params * 4  # large weights drive the cell past the clip range
    outs = _call("lstm", x, params, h0, c0, state_size=4, lstm_state_clip_min=-0.5,
                 lstm_state_clip_max=0.4)
    ref = ref_rnn("lstm", x, params, h0, c0, hidden=4, clip=(-0.5, 0.4))
    for got, want in zip(outs, ref):
        numpy.testing.assert_allclose(got.asnumpy(), want, rtol=1e-10, atol=1e-12)
    assert outs[2].asnumpy().max() <= 0.4 and outs[2].asnumpy().min() >= -0.5


def test_state_clip_nan() -> None:
    x, params, h0, c0 = _setup("lstm", hidden=4)
    c0[0, 0, 1] = numpy.nan
    outs = _call("lstm", x[:1], params, h0, c0, state_size=4, lstm_state_clip_min=-0.5,
                 lstm_state_clip_max=0.4, lstm_state_clip_nan=True)
    assert numpy.isfinite(outs[0].asnumpy()).all()
    outs = _call("lstm", x[:1], params, h0, c0, state_size=4)
    assert numpy.isnan(outs[0].asnumpy()[0, 0]).any()


def test_output_only_and_float32() -> None:
    x, params, h0, c0 = _setup("gru", dtype="float32")
    out = npx.rnn(fnp.array(x), fnp.array(params), fnp.array(h0), mode="gru", state_size=4)
    ref = ref_rnn("gru", x.astype(float), params.astype(float), h0.astype(float))[0]
    assert out.dtype == numpy.float32 and out.shape == (5, 3, 4)
    numpy.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)


# -- gradients ---------------------------------------------------------------------------------

def _loss_weights(shapes, seed=7):
    rng = numpy.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


def _numeric_grad(f, arr, eps=1e-6):
    g = numpy.zeros_like(arr)
    flat, gf = arr.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gf[i] = (up - down) / (2 * eps)
    return g


GRAD_CASES = [
    ("lstm", 2, True, None, None), ("gru", 2, True, None, None), ("rnn_tanh", 1, True, None, None),
    ("rnn_relu", 2, False, None, None), ("lstm", 1, True, 2, None), ("lstm", 2, True, None,
                                                                     [3, 1]),
    ("gru", 1, True, None, [2, 3]), ("rnn_tanh", 2, True, None, [1, 3]),
]


@pytest.mark.parametrize("mode,layers,bidir,proj,lengths", GRAD_CASES)
def test_gradient_finite_differences(mode, layers, bidir, proj, lengths) -> None:
    hidden = 3
    x, params, h0, c0 = _setup(mode, t_len=3, n=2, n_in=2, hidden=hidden, layers=layers,
                               bidir=bidir, proj=proj)
    lens = None if lengths is None else numpy.array(lengths)
    kw = dict(state_size=hidden, num_layers=layers, bidirectional=bidir, projection_size=proj)
    if lens is not None:
        kw.update(sequence_length=fnp.array(lens, dtype="float64"), use_sequence_length=True)
    shapes = [a.shape for a in ref_rnn(mode, x, params, h0, c0, layers, bidir, hidden, proj,
                                       lens) if a is not None]
    heads = _loss_weights(shapes)

    def loss() -> float:
        outs = ref_rnn(mode, x, params, h0, c0, layers, bidir, hidden, proj, lens)
        return sum(float((o * w).sum()) for o, w in zip([o for o in outs if o is not None],
                                                           heads))

    arrays = [fnp.array(a, dtype="float64") for a in (x, params, h0, c0) if a is not None]
    for a in arrays:
        a.attach_grad()
    with autograd.record():
        outs = npx.rnn(*arrays[:3], arrays[3] if mode == "lstm" else None, mode=mode,
                       state_outputs=True, **kw)
        total = sum((o * fnp.array(w)).sum() for o, w in zip(outs, heads))
    total.backward()
    for a, host in zip(arrays, [x, params, h0, c0]):
        want = _numeric_grad(loss, host)
        numpy.testing.assert_allclose(a.grad.asnumpy(), want, rtol=1e-5, atol=1e-7)


def test_gradient_with_clip() -> None:
    x, params, h0, c0 = _setup("lstm", t_len=3, n=2, n_in=2, hidden=3)
    params = params * 3
    heads = _loss_weights([(3, 2, 3), (1, 2, 3), (1, 2, 3)])
    clip = (-0.3, 0.35)

    def loss() -> float:
        outs = ref_rnn("lstm", x, params, h0, c0, hidden=3, clip=clip)
        return sum(float((o * w).sum()) for o, w in zip(outs, heads))

    p = fnp.array(params)
    p.attach_grad()
    with autograd.record():
        outs = npx.rnn(fnp.array(x), p, fnp.array(h0), fnp.array(c0), mode="lstm",
                       state_size=3, state_outputs=True, lstm_state_clip_min=clip[0],
                       lstm_state_clip_max=clip[1])
        total = sum((o * fnp.array(w)).sum() for o, w in zip(outs, heads))
    total.backward()
    numpy.testing.assert_allclose(p.grad.asnumpy(), _numeric_grad(loss, params), rtol=1e-5,
                                  atol=1e-7)


def test_dropout_between_layers() -> None:
    mode, hidden, layers = "gru", 3, 3
    x, params, h0, _ = _setup(mode, t_len=4, n=5, hidden=hidden, layers=layers)
    fx, fp, fh = fnp.array(x), fnp.array(params), fnp.array(h0)
    # outside training mode dropout does nothing
    out = npx.rnn(fx, fp, fh, mode=mode, state_size=hidden, num_layers=layers, p=0.5)
    numpy.testing.assert_allclose(out.asnumpy(), ref_rnn(mode, x, params, h0, None, layers,
                                                          hidden=hidden)[0], rtol=1e-10)
    npx.random.seed(3)
    with autograd.train_mode():
        a = npx.rnn(fx, fp, fh, mode=mode, state_size=hidden, num_layers=layers, p=0.5)
    npx.random.seed(3)
    with autograd.train_mode():
        b = npx.rnn(fx, fp, fh, mode=mode, state_size=hidden, num_layers=layers, p=0.5)
    numpy.testing.assert_array_equal(a.asnumpy(), b.asnumpy())  # seeded
    assert not numpy.allclose(a.asnumpy(), out.asnumpy())
    # the same masks, drawn the way the op draws them, reproduce it in the reference
    npx.random.seed(3)
    from framework.nd._random import sample
    masks = sample("bernoulli", (0.5,), size=(layers - 1, 4, 5, hidden), dtype="float64",
                   device=fx.device).asnumpy()
    ref = ref_rnn(mode, x, params, h0, None, layers, hidden=hidden, masks=masks, scale=2.0)[0]
    numpy.testing.assert_allclose(a.asnumpy(), ref, rtol=1e-10, atol=1e-12)


def test_errors_name_the_argument() -> None:
    x, params, h0, c0 = _setup("lstm")
    fx, fp, fh, fc = (fnp.array(a) for a in (x, params, h0, c0))
    with pytest.raises(ValueError, match="parameters must be a vector of 160"):
        npx.rnn(fx, fp[:-1], fh, fc, mode="lstm", state_size=4)
    with pytest.raises(ValueError, match=r"state must have shape \(1, 3, 4\)"):
        npx.rnn(fx, fp, fh[:, :2], fc, mode="lstm", state_size=4)
    with pytest.raises(ValueError, match="needs state_cell"):
        npx.rnn(fx, fp, fh, mode="lstm", state_size=4)
    with pytest.raises(ValueError, match="data must be 3-d"):
        npx.rnn(fx[0], fp, fh, fc, mode="lstm", state_size=4)
    with pytest.raises(ValueError, match="mode must be one of"):
        npx.rnn(fx, fp, fh, fc, mode="lstm2", state_size=4)
    with pytest.raises(ValueError, match=r"sequence_length must have shape \(3,\)"):
        npx.rnn(fx, fp, fh, fc, mode="lstm", state_size=4, use_sequence_length=True,
                sequence_length=fnp.array([1, 2]))
    with pytest.raises(TypeError, match="dtype"):
        npx.rnn(fx, fp.astype("float32"), fh, fc, mode="lstm", state_size=4)
    with pytest.raises(ValueError, match="projection_size is only supported"):
        npx.rnn(fx, fp, fh, None, mode="gru", state_size=4, projection_size=2)


def test_parameter_size_matches_mxnet_formula() -> None:
    # MXNet's GetRnnParamSize: G*H*(I + H + 2) for the first layer, G*H*(D*H + H + 2) above
    for mode, g in (("lstm", 4), ("gru", 3), ("rnn_tanh", 1)):
        for dirs in (1, 2):
            size = g * 5 * (7 + 5 + 2) * dirs + 2 * g * 5 * (dirs * 5 + 5 + 2) * dirs
            assert param_size(mode, 3, 7, 5, dirs == 2) == size


@pytest.mark.parametrize("engine", ["NaiveEngine", "ThreadedEngine"])
def test_both_engines_and_gradient_of_data_only(engine) -> None:
    from framework import engine as feng

    x, params, h0, c0 = _setup("lstm", hidden=4, layers=2, bidir=True)
    ref = ref_rnn("lstm", x, params, h0, c0, 2, True, 4)
    with feng.engine_scope(engine):
        fx = fnp.array(x)
        fx.attach_grad()
        with autograd.record():
            out = npx.rnn(fx, fnp.array(params), fnp.array(h0), fnp.array(c0), mode="lstm",
                          state_size=4, num_layers=2, bidirectional=True)
        out.backward()
        numpy.testing.assert_allclose(out.asnumpy(), ref[0], rtol=1e-10, atol=1e-12)
        assert fx.grad.shape == x.shape and numpy.abs(fx.grad.asnumpy()).sum() > 0
