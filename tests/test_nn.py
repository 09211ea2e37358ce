"""npx network operators: forward against NumPy references written here (loop-based convolution,
deconvolution and pooling on tiny shapes), gradients against central finite differences (float64,
through the public autograd API), second derivatives of the convolutions and pooling, training
versus inference behaviour (dropout, batch_norm, rrelu), batch_norm's running statistics, and
numerical stability at |x| = 1e4 in float32."""

from __future__ import annotations

import itertools
import math

import numpy
import pytest

from framework import autograd, engine, np, npx
from framework import initializer as mx_init
from framework.base import ShapeError

SEED = 20250301
EPS = 1e-6


def _rng(seed: int = SEED) -> numpy.random.Generator:
    return numpy.random.default_rng(seed)


def _rand(shape, seed=0, low=-1.0, high=1.0):
    return _rng(seed).uniform(low, high, size=shape)


def _distinct(shape, seed=0):
    """Values at least 0.05 apart (no ties for max pooling, even after a finite difference)."""
    n = math.prod(shape)
    return (_rng(seed).permutation(n).reshape(shape) - n / 2) * 0.05


def _close(actual, expected, rtol=1e-6, atol=1e-8):
    actual = actual.asnumpy() if hasattr(actual, "asnumpy") else numpy.asarray(actual)
    numpy.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# -- gradient checks --------------------------------------------------------------------------

def _value(fn, hosts, head, train):
    with autograd.train_mode() if train else autograd.predict_mode():
        out = fn(*[np.array(h) for h in hosts])
    return float((out.asnumpy() * head).sum())


def _numeric(fn, hosts, i, head, train, eps=EPS):
    work = [h.copy() for h in hosts]
    flat = work[i].reshape(-1)
    g = numpy.zeros(flat.size)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        fp = _value(fn, work, head, train)
        flat[k] = old - eps
        fm = _value(fn, work, head, train)
        flat[k] = old
        g[k] = (fp - fm) / (2 * eps)
    return g.reshape(hosts[i].shape)


def check_grad(fn, hosts, wrt=None, train=False, rtol=1e-5, atol=1e-7, seed=1):
    """autograd gradients of sum(fn(*hosts) * head) against central differences."""
    hosts = [numpy.asarray(h, dtype=numpy.float64) for h in hosts]
    wrt = range(len(hosts)) if wrt is None else wrt
    arrays = [np.array(h) for h in hosts]
    for i in wrt:
        arrays[i].attach_grad()
    with autograd.record(train_mode=train):
        out = fn(*arrays)
    head = _rng(seed).standard_normal(out.shape)
    out.backward(np.array(head))
    for i in wrt:
        numpy.testing.assert_allclose(arrays[i].grad.asnumpy(),
                                      _numeric(fn, hosts, i, head, train), rtol=rtol, atol=atol,
                                      err_msg=f"gradient of input {i}")


def check_grad2(fn, hosts, i=0, j=0, rtol=1e-5, atol=1e-6):
    """Second derivative: d/dx_j sum(d sum(fn * head)/dx_i * head2), by autograd (create_graph)
    against central differences of the autograd first derivative."""
    hosts = [numpy.asarray(h, dtype=numpy.float64) for h in hosts]
    probe = fn(*[np.array(h) for h in hosts])
    head = _rng(1).standard_normal(probe.shape)
    head2 = _rng(2).standard_normal(hosts[i].shape)

    def first(*arrs):
        xs = [np.array(a.asnumpy()) for a in arrs]
        xs[i].attach_grad()
        with autograd.record():
            out = fn(*xs)
        out.backward(np.array(head))
        return xs[i].grad

    arrays = [np.array(h) for h in hosts]
    for a in arrays:
        a.attach_grad()
    with autograd.record():
        out = fn(*arrays)
        (g,) = autograd.grad(out, [arrays[i]], head_grads=[np.array(head)], create_graph=True)
        z = (g * np.array(head2)).sum()
    z.backward()
    numeric = _numeric(first, hosts, j, head2, False, eps=1e-5)
    numpy.testing.assert_allclose(arrays[j].grad.asnumpy(), numeric, rtol=rtol, atol=atol)


# -- activations --------------------------------------------------------------------------------

def _np_sigmoid(x):
    e = numpy.exp(-numpy.abs(x))
    return numpy.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _np_softplus(x):
    return numpy.logaddexp(x, 0)


ACT_REF = {
    "relu": lambda x: numpy.maximum(x, 0),
    "sigmoid": _np_sigmoid,
    "tanh": numpy.tanh,
    "softrelu": _np_softplus,
    "softsign": lambda x: x / (1 + numpy.abs(x)),
    "log_sigmoid": lambda x: -_np_softplus(-x),
    "mish": lambda x: x * numpy.tanh(_np_softplus(x)),
}


@pytest.mark.parametrize("act", sorted(ACT_REF))
def test_activation_forward_and_gradient(act):
    x = _rand((3, 4), seed=3, low=-3, high=3)
    _close(npx.activation(np.array(x), act_type=act), ACT_REF[act](x))
    check_grad(lambda a: npx.activation(a, act_type=act), [x])


def test_activation_dtypes_and_errors():
    assert npx.activation(np.array([1, -2], dtype="int32"), "relu").dtype == numpy.int32
    assert npx.activation(np.array([1, -2], dtype="int32"), "sigmoid").dtype == numpy.float32
    with pytest.raises(ValueError, match="act_type"):
        npx.activation(np.array([1.0]), act_type="swish")


_ERF = numpy.vectorize(math.erf)
SELU_A, SELU_L = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
LEAKY_REF = {
    "leaky": lambda x, s: numpy.where(x > 0, x, s * x),
    "elu": lambda x, s: numpy.where(x > 0, x, s * numpy.expm1(numpy.minimum(x, 0))),
    "selu": lambda x, s: SELU_L * numpy.where(x > 0, x, SELU_A * numpy.expm1(numpy.minimum(x,
                                                                                         0))),
    "gelu": lambda x, s: 0.5 * x * (1 + _ERF(x / math.sqrt(2))),
    "gelu_tanh": lambda x, s: 0.5 * x * (1 + numpy.tanh(math.sqrt(2 / math.pi) *
                                                        (x + 0.044715 * x ** 3))),
}


@pytest.mark.parametrize("act", sorted(LEAKY_REF))
def test_leaky_relu_forward_and_gradient(act):
    x = _rand((2, 3, 2), seed=4, low=-3, high=3)
    _close(npx.leaky_relu(np.array(x), act_type=act, slope=0.3), LEAKY_REF[act](x, 0.3),
           rtol=1e-6 if act != "gelu" else 1e-12)
    check_grad(lambda a: npx.leaky_relu(a, act_type=act, slope=0.3), [x])


@pytest.mark.parametrize("gshape", [(3,), (1,)])
def test_prelu_forward_and_gradients(gshape):
    x = _rand((2, 3, 4), seed=5, low=-2, high=2)
    gamma = _rand(gshape, seed=6, low=0.1, high=0.5)
    gb = gamma.reshape((1, -1, 1)) if gshape == (3,) else gamma
    _close(npx.leaky_relu(np.array(x), np.array(gamma), act_type="prelu"),
           numpy.where(x > 0, x, gb * x))
    check_grad(lambda a, g: npx.leaky_relu(a, g, act_type="prelu"), [x, gamma])
    with pytest.raises(ShapeError, match="gamma"):
        npx.leaky_relu(np.array(x), np.ones(4), act_type="prelu")


def test_rrelu_random_slopes_in_training_mean_slope_otherwise():
    x = -numpy.arange(1.0, 201.0).reshape(10, 20)
    lo, hi = 0.1, 0.3
    out = npx.leaky_relu(np.array(x), act_type="rrelu", lower_bound=lo, upper_bound=hi)
    _close(out, x * (lo + hi) / 2)
    np.random.seed(7)
    xa = np.array(x)
    xa.attach_grad()
    with autograd.record():
        y = npx.leaky_relu(xa, act_type="rrelu", lower_bound=lo, upper_bound=hi)
    y.backward()
    slopes = y.asnumpy() / x
    assert lo <= slopes.min() and slopes.max() < hi and slopes.std() > 0.03
    _close(xa.grad, slopes)  # the gradient uses the same slopes
    np.random.seed(7)
    with autograd.train_mode():
        again = npx.leaky_relu(np.array(x), act_type="rrelu", lower_bound=lo, upper_bound=hi)
    _close(again, y.asnumpy())


# -- softmax family -----------------------------------------------------------------------------

def _np_softmax(x, axis, t=1.0):
    e = numpy.exp((x - x.max(axis=axis, keepdims=True)) / t)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("axis,temperature", [(-1, None), (0, 2.0)])
def test_softmax_gradients(log, axis, temperature):
    x = _rand((3, 4), seed=8, low=-2, high=2)
    fn = npx.log_softmax if log else npx.softmax
    ref = _np_softmax(x, axis, temperature or 1.0)
    _close(fn(np.array(x), axis=axis, temperature=temperature), numpy.log(ref) if log else ref)
    check_grad(lambda a: fn(a, axis=axis, temperature=temperature), [x])


@pytest.mark.parametrize("log", [False, True])
def test_softmax_with_length(log):
    x = _rand((2, 5, 3), seed=9, low=-2, high=2)
    length = numpy.array([[5, 2, 0], [1, 3, 4]])
    fn = npx.log_softmax if log else npx.softmax
    out = fn(np.array(x), axis=1, length=np.array(length, dtype="int32"), use_length=True)
    ref = numpy.zeros_like(x)
    for n, c in itertools.product(range(2), range(3)):
        m = length[n, c]
        if m:
            s = _np_softmax(x[n, :m, c], 0)
            ref[n, :m, c] = numpy.log(s) if log else s
    _close(out, ref)
    lens = np.array(length.astype("float64"))
    check_grad(lambda a: fn(a, axis=1, length=lens, use_length=True), [x])
    # without use_length the length is ignored (MXNet)
    _close(fn(np.array(x), axis=1, length=lens), numpy.log(_np_softmax(x, 1)) if log else
           _np_softmax(x, 1))


def test_masked_softmax_documented_examples():
    data = np.arange(5.0)
    mask = np.array([1, 0, 1, 0, 1])
    _close(npx.masked_softmax(data, mask), [0.01587624, 0.0, 0.11731042, 0.0, 0.8668133],
           rtol=1e-6)
    ls = npx.masked_log_softmax(data, mask).asnumpy()
    # MXNet's documented values carry float32 rounding of its own (the exact third value is
    # -log(1 + e^-2 + e^-4) = -0.1429316)
    numpy.testing.assert_allclose(ls[[0, 2, 4]], [-4.1429286, -2.1429286, -0.14292854],
                                  atol=1e-5)
    assert numpy.isneginf(ls[[1, 3]]).all()
    data2 = np.arange(10.0).reshape(2, 5)
    _close(npx.masked_softmax(data2, mask, axis=0),
           [[0.00669285, 0, 0.00669285, 0, 0.00669285], [0.9933072, 0, 0.9933072, 0, 0.9933072]],
           rtol=1e-6)


@pytest.mark.parametrize("log", [False, True])
def test_masked_softmax_gradients(log):
    x = _rand((3, 4), seed=10, low=-2, high=2)
    mask = numpy.array([[True, False, True, True], [False, True, True, False],
                        [True, True, True, True]])
    fn = npx.masked_log_softmax if log else npx.masked_softmax
    m = np.array(mask)
    out = fn(np.array(x), m, temperature=1.5).asnumpy()
    for r in range(3):
        s = _np_softmax(x[r, mask[r]], 0, 1.5)
        numpy.testing.assert_allclose(out[r, mask[r]], numpy.log(s) if log else s, rtol=1e-6)
        assert (out[r, ~mask[r]] == (-numpy.inf if log else 0)).all()
    # the masked positions of log-softmax are -inf: compare the gradient on a finite head
    check_grad(lambda a: np.where(m, fn(a, m, temperature=1.5), np.zeros(a.shape)) if log else
               fn(a, m, temperature=1.5), [x])


def test_softmax_family_is_stable_at_1e4():
    x = numpy.array([[1e4, -1e4, 0.0, 1e4 - 1]], dtype="float32")
    for fn, ref in ((npx.softmax, [[1 / (1 + math.e ** -1), 0, 0, 1 / (1 + math.e)]]),
                    (npx.log_softmax, [[-math.log1p(math.e ** -1), -2e4 - math.log1p(
                        math.e ** -1), -1e4 - math.log1p(math.e ** -1),
                        -1 - math.log1p(math.e ** -1)]])):
        a = np.array(x)
        a.attach_grad()
        with autograd.record():
            y = fn(a)
        y.backward()
        assert numpy.isfinite(y.asnumpy()).all() and numpy.isfinite(a.grad.asnumpy()).all()
        _close(y, ref, rtol=1e-5, atol=1e-6)
    mask = np.array([[True, True, False, True]])
    for fn in (npx.masked_softmax, npx.masked_log_softmax):
        y = fn(np.array(x), mask).asnumpy()
        assert numpy.isfinite(y[:, [0, 1, 3]]).all()
    lens = np.array([2])
    _close(npx.softmax(np.array(x), length=lens, use_length=True), [[1, 0, 0, 0]])


@pytest.mark.parametrize("act", sorted(ACT_REF))
def test_activations_are_stable_at_1e4(act):
    x = numpy.array([-1e4, -30.0, 0.5, 30.0, 1e4], dtype="float32")
    a = np.array(x)
    a.attach_grad()
    with autograd.record():
        y = npx.activation(a, act_type=act)
    y.backward()
    assert numpy.isfinite(y.asnumpy()).all() and numpy.isfinite(a.grad.asnumpy()).all()
    _close(y, ACT_REF[act](x.astype("float64")), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", sorted(LEAKY_REF))
def test_leaky_activations_are_stable_at_1e4(act):
    x = numpy.array([-1e4, -3.0, 0.5, 1e4], dtype="float32")
    a = np.array(x)
    a.attach_grad()
    with autograd.record():
        y = npx.leaky_relu(a, act_type=act)
    y.backward()
    assert numpy.isfinite(y.asnumpy()).all() and numpy.isfinite(a.grad.asnumpy()).all()
    _close(y, LEAKY_REF[act](x.astype("float64"), 0.25), rtol=1e-5, atol=1e-6)


# -- fully connected ----------------------------------------------------------------------------

@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_fully_connected(flatten, bias):
    x = _rand((2, 3, 4), seed=11)
    k = 12 if flatten else 4
    w = _rand((5, k), seed=12)
    b = _rand((5,), seed=13)
    ref = (x.reshape(2, 12) if flatten else x) @ w.T + (b if bias else 0)
    args = [x, w, b] if bias else [x, w]

    def fn(*a):
        return npx.fully_connected(*a, num_hidden=5, flatten=flatten, no_bias=not bias)

    _close(fn(*[np.array(v) for v in args]), ref)
    check_grad(fn, args)
    with pytest.raises(ShapeError, match="input units"):
        npx.fully_connected(np.ones((2, 7)), np.ones((5, 4)), num_hidden=5)


@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_grad", [True, False])
def test_fully_connected_gradient_op_gives_the_separate_products_values(flatten, bias, x_grad):
    # a backward that autograd does not record runs the layer's products as one op; with
    # create_graph the separate dot/transpose/sum ops run: the same NumPy calls, the same bits
    k = 12 if flatten else 4
    arrays = [np.array(_rand((2, 3, 4), seed=21).astype("float32")),
              np.array(_rand((5, k), seed=22).astype("float32")),
              np.array(_rand((5,), seed=23).astype("float32"))][:3 if bias else 2]
    wanted = arrays if x_grad else arrays[1:]
    for a in wanted:
        a.attach_grad()

    def loss():
        y = npx.fully_connected(*arrays, num_hidden=5, flatten=flatten, no_bias=not bias)
        return (y * y).sum()

    with autograd.record():
        z = loss()
    z.backward()
    fused = [a.grad.asnumpy() for a in wanted]
    with autograd.record():
        separate = autograd.grad(loss(), wanted, create_graph=True)
    for f, s in zip(fused, separate):
        numpy.testing.assert_array_equal(f, s.asnumpy())
    if not x_grad:
        assert arrays[0].grad is None


def test_imperative_dense_relu_is_one_op_with_the_two_ops_values():
    from framework import gluon

    x = np.array(_rand((6, 4), seed=31).astype("float32"))
    results = []
    for hooked in (False, True):
        net = gluon.nn.Dense(5, activation="relu", in_units=4)
        net.initialize(mx_init.Constant(0.0))
        net.weight.set_data(np.array(_rand((5, 4), seed=32).astype("float32")))
        net.bias.set_data(np.array(_rand((5,), seed=33).astype("float32")))
        seen = []
        if hooked:  # a hook on the activation block must run: then the two ops are issued
            net.act.register_forward_hook(lambda blk, args, out, seen=seen: seen.append(out.shape))
        with autograd.record():
            y = net(x)
            z = (y * y).sum()
        assert y._node[0].op.name == ("_npx_activation" if hooked else "fully_connected_relu")
        assert seen == ([(6, 5)] if hooked else [])
        z.backward()
        results.append([y.asnumpy(), net.weight.grad().asnumpy(), net.bias.grad().asnumpy()])
    w = _rand((5, 4), seed=32).astype("float32")
    want = numpy.maximum(x.asnumpy() @ w.T + _rand((5,), seed=33).astype("float32"), 0)
    numpy.testing.assert_allclose(results[0][0], want, rtol=1e-6, atol=1e-6)
    for fused, two_ops in zip(*results):  # the same bits as fully_connected then relu
        numpy.testing.assert_array_equal(fused, two_ops)


# -- convolution references (direct loops, tiny shapes) ----------------------------------------

def ref_conv(x, w, b, stride, pad, dilate, groups):
    n, c = x.shape[:2]
    sp, k = x.shape[2:], w.shape[2:]
    f = w.shape[0]
    nd = len(sp)
    xp = numpy.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    osp = [(sp[i] + 2 * pad[i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    out = numpy.zeros((n, f, *osp))
    cg, fg = c // groups, f // groups
    for fi in range(f):
        xs = xp[:, (fi // fg) * cg:(fi // fg + 1) * cg]
        for o in itertools.product(*map(range, osp)):
            for kk in itertools.product(*map(range, k)):
                pos = tuple(o[i] * stride[i] + kk[i] * dilate[i] for i in range(nd))
                out[(slice(None), fi, *o)] += xs[(slice(None), slice(None), *pos)] @ \
                    w[(fi, slice(None), *kk)]
        if b is not None:
            out[:, fi] += b[fi]
    return out


def ref_deconv(y, w, b, stride, pad, dilate, groups, adj):
    n, cin = y.shape[:2]
    sp, k = y.shape[2:], w.shape[2:]
    fg = w.shape[1]
    nd = len(sp)
    osp = [stride[i] * (sp[i] - 1) + dilate[i] * (k[i] - 1) + 1 - 2 * pad[i] + adj[i]
           for i in range(nd)]
    full = numpy.zeros((n, fg * groups, *[osp[i] + 2 * pad[i] for i in range(nd)]))
    cin_g = cin // groups
    for ci in range(cin):
        g = ci // cin_g
        for i in itertools.product(*map(range, sp)):
            for kk in itertools.product(*map(range, k)):
                pos = tuple(i[d] * stride[d] + kk[d] * dilate[d] for d in range(nd))
                full[(slice(None), slice(g * fg, (g + 1) * fg), *pos)] += \
                    y[(slice(None), ci, *i)][:, None] * w[(ci, slice(None), *kk)][None, :]
    out = full[(slice(None), slice(None), *[slice(pad[i], pad[i] + osp[i]) for i in range(nd)])]
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * nd)
    return out


def _last(a):
    return numpy.moveaxis(a, 1, -1)


def _first(a):
    return numpy.moveaxis(a, -1, 1)


CONV_CASES = [  # (data shape NC..., filters, kernel, stride, pad, dilate, groups)
    ((2, 3, 7), 4, (3,), (2,), (1,), (1,), 1),
    ((1, 4, 6), 6, (2,), (1,), (0,), (2,), 2),
    ((2, 2, 5, 6), 3, (3, 2), (1, 2), (1, 0), (1, 1), 1),
    ((1, 4, 6, 5), 4, (2, 3), (2, 1), (1, 2), (2, 1), 4),
    ((1, 2, 4, 5, 4), 4, (2, 3, 2), (1, 2, 1), (1, 0, 1), (1, 1, 2), 2),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{len(c[2])}d-g{c[6]}")
@pytest.mark.parametrize("layout", ["first", "last"])
def test_convolution_forward(case, layout):
    shape, f, k, s, p, d, g = case
    x = _rand(shape, seed=14)
    w = _rand((f, shape[1] // g, *k), seed=15)
    b = _rand((f,), seed=16)
    ref = ref_conv(x, w, b, s, p, d, g)
    nd = len(k)
    lay = None
    if layout == "last":
        x, w, ref = _last(x), _last(w), _last(ref)
        lay = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[nd]
    out = npx.convolution(np.array(x), np.array(w), np.array(b), kernel=k, stride=s, pad=p,
                          dilate=d, num_filter=f, num_group=g, layout=lay)
    _close(out, ref, rtol=1e-10)
    nob = npx.convolution(np.array(x), np.array(w), None, kernel=k, stride=s, pad=p, dilate=d,
                          num_filter=f, num_group=g, no_bias=True, layout=lay)
    bias_shape = (1,) * (nd + 1) + (f,) if layout == "last" else (1, f) + (1,) * nd
    _close(nob, ref - b.reshape(bias_shape), rtol=1e-10)


@pytest.mark.parametrize("case", [CONV_CASES[0], CONV_CASES[3], CONV_CASES[4]],
                         ids=["1d", "2d-groups", "3d"])
def test_convolution_gradients(case):
    shape, f, k, s, p, d, g = case
    if len(k) == 3:
        shape = (1, 2, 3, 4, 3)
    x = _rand(shape, seed=17)
    w = _rand((f, shape[1] // g, *k), seed=18)
    b = _rand((f,), seed=19)
    check_grad(lambda a, ww, bb: npx.convolution(a, ww, bb, kernel=k, stride=s, pad=p, dilate=d,
                                                 num_filter=f, num_group=g), [x, w, b])


def test_convolution_gradients_channel_last():
    x = _rand((1, 5, 4, 4), seed=20)
    w = _rand((2, 2, 3, 2), seed=21)  # (F, kh, kw, C/g)
    check_grad(lambda a, ww: npx.convolution(a, ww, kernel=(2, 3), stride=(2, 1), pad=(1, 1),
                                             num_group=2, layout="NHWC", no_bias=True), [x, w])


@pytest.mark.parametrize("i,j", [(0, 1), (1, 0), (1, 1)])
def test_convolution_second_derivatives(i, j):
    x = _rand((1, 2, 4, 5), seed=22)
    w = _rand((2, 1, 2, 3), seed=23)

    def fn(a, ww):
        y = npx.convolution(a, ww, kernel=(2, 3), stride=(2, 1), pad=(1, 1), num_group=2,
                            no_bias=True)
        return y * y  # so that d2/dx2 is not zero

    check_grad2(fn, [x, w], i=i, j=j)


def _conv_grads(x, w, b, keep, **kw):
    """(y, dx, dw, db) of sum(convolution * head), with the forward's columns kept for the
    weight gradient (``ConvolutionKeep``) or not."""
    from framework.nd import _conv
    saved = _conv._KEEP_COLS
    _conv._KEEP_COLS = saved if keep else 0
    try:
        arrays = [np.array(a) for a in (x, w, b)]
        for a in arrays:
            a.attach_grad()
        with autograd.record():
            y = npx.convolution(*arrays, **kw)
        kinds = type(y._node[0].op).__name__ if y._node else None
        y.backward(np.array(_rng(5).standard_normal(y.shape)))
    finally:
        _conv._KEEP_COLS = saved
    assert kinds == ("ConvolutionKeep" if keep else "Convolution")
    return [y.asnumpy()] + [a.grad.asnumpy() for a in arrays]


@pytest.mark.parametrize("case", [
    ((2, 1, 20, 21), 3, (3, 3), (1, 1), (1, 1), (1, 1), 1, None),  # 420 positions: per sample
    ((2, 4, 9, 8), 6, (3, 2), (2, 1), (1, 0), (1, 2), 2, None),  # few positions: samples last
    ((2, 4, 9, 8), 6, (3, 2), (2, 1), (1, 0), (1, 2), 2, "NHWC"),
    ((2, 3, 1, 300), 4, (1, 1), (2, 1), (0, 0), (1, 1), 1, None),  # its windows are x itself
    ((2, 2, 7), 3, (3,), (1,), (1,), (1,), 1, None),
], ids=["large-out", "small-out", "channel-last", "1x1-strided", "1d"])
def test_convolution_keeping_columns_matches_recomputing_them(case):
    """While autograd records, a convolution keeps its im2col columns for the weight gradient:
    the same gradients as the op that takes its im2col again, and as finite differences."""
    shape, f, k, s, p, d, g, lay = case
    x = _rand(shape, seed=31)
    w = _rand((f, shape[1] // g, *k), seed=32)
    b = _rand((f,), seed=33)
    if lay is not None:
        x, w = _last(x), _last(w)
    kw = dict(kernel=k, stride=s, pad=p, dilate=d, num_group=g, layout=lay)
    kept = _conv_grads(x, w, b, True, **kw)
    again = _conv_grads(x, w, b, False, **kw)
    for a, e in zip(kept, again):
        numpy.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
    if case[2] == (3, 3):  # the per-sample layout, against finite differences too
        check_grad(lambda a, ww: npx.convolution(a, ww, **kw, no_bias=True), [x, w], wrt=[1])


def test_convolution_keeps_columns_only_when_useful(monkeypatch):
    from framework.nd import _conv
    x, w = np.array(_rand((2, 3, 6, 6), seed=34)), np.array(_rand((4, 3, 3, 3), seed=35))
    x.attach_grad()
    with autograd.record():  # the weight takes no part: no weight gradient to feed
        y = npx.convolution(x, w, kernel=(3, 3), no_bias=True)
    assert type(y._node[0].op) is _conv.Convolution
    w.attach_grad()
    y = npx.convolution(x, w, kernel=(3, 3), no_bias=True)  # not recording
    assert y._node is None
    w1 = np.array(_rand((4, 3, 1, 1), seed=36))
    w1.attach_grad()
    with autograd.record():  # a pointwise convolution's columns are x: nothing to save
        y = npx.convolution(x, w1, kernel=(1, 1), no_bias=True)
    assert type(y._node[0].op) is _conv.Convolution
    with autograd.record():  # strided, its windows can still be x itself: kept as a copy
        y = npx.convolution(np.array(_rand((2, 3, 1, 300), seed=37)), w1, kernel=(1, 1),
                            stride=(2, 1), no_bias=True)
    node = y._node[0]
    assert type(node.op) is _conv.ConvolutionKeep
    cols, data = node.outputs[1], node.inputs[0]
    cols.wait_to_read()
    assert not numpy.shares_memory(cols._buf, data._buf)
    monkeypatch.setattr(_conv, "_KEEP_COLS", 2 * 3 * 9 * 16 - 1)  # one element too many
    with autograd.record():
        y = npx.convolution(x, w, kernel=(3, 3), no_bias=True)
    assert type(y._node[0].op) is _conv.Convolution
    monkeypatch.setattr(_conv, "_KEEP_COLS", 2 * 3 * 9 * 16)
    with autograd.record():
        y = npx.convolution(x, w, kernel=(3, 3), no_bias=True)
    assert type(y._node[0].op) is _conv.ConvolutionKeep
    assert y.shape == (2, 4, 4, 4)  # the columns stay inside the graph


DECONV_CASES = [  # (data shape, filters, kernel, stride, pad, dilate, groups, adj)
    ((2, 3, 4), 2, (3,), (2,), (1,), (1,), 1, (1,)),
    ((1, 4, 3, 4), 6, (2, 3), (2, 1), (0, 1), (1, 2), 2, (1, 0)),
    ((1, 2, 2, 3, 2), 2, (2, 2, 3), (1, 2, 2), (0, 1, 1), (2, 1, 1), 1, (0, 1, 1)),
]


@pytest.mark.parametrize("case", DECONV_CASES, ids=["1d", "2d-groups", "3d"])
@pytest.mark.parametrize("layout", ["first", "last"])
def test_deconvolution_forward(case, layout):
    shape, f, k, s, p, d, g, adj = case
    y = _rand(shape, seed=24)
    w = _rand((shape[1], f // g, *k), seed=25)
    b = _rand((f,), seed=26)
    ref = ref_deconv(y, w, b, s, p, d, g, adj)
    lay = None
    if layout == "last":
        y, w, ref = _last(y), _last(w), _last(ref)
        lay = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[len(k)]
    out = npx.deconvolution(np.array(y), np.array(w), np.array(b), kernel=k, stride=s, pad=p,
                            dilate=d, adj=adj, num_filter=f, num_group=g, layout=lay)
    _close(out, ref, rtol=1e-10)


def test_deconvolution_target_shape_and_gradients():
    y = _rand((1, 2, 3, 3), seed=27)
    w = _rand((2, 3, 3, 3), seed=28)
    out = npx.deconvolution(np.array(y), np.array(w), kernel=(3, 3), stride=(2, 2),
                            target_shape=(6, 7), num_filter=3, no_bias=True)
    assert out.shape == (1, 3, 6, 7)
    # MXNet: total = 2*(3-1) + 3 - target; adj = total % 2, pad = (total + 1) // 2
    _close(out, ref_deconv(y, w, None, (2, 2), (1, 0), (1, 1), 1, (1, 0)), rtol=1e-10)
    b = _rand((3,), seed=29)
    check_grad(lambda a, ww, bb: npx.deconvolution(a, ww, bb, kernel=(3, 3), stride=(2, 2),
                                                   pad=(1, 0), adj=(1, 1), num_filter=3),
               [y, w, b])


def test_deconvolution_is_the_data_gradient_of_convolution():
    x = np.array(_rand((2, 4, 6, 5), seed=30))
    w = np.array(_rand((6, 2, 3, 2), seed=31))
    head = np.array(_rand((2, 6, 3, 4), seed=32))
    x.attach_grad()
    with autograd.record():
        y = npx.convolution(x, w, kernel=(3, 2), stride=(2, 1), pad=(1, 0), num_group=2,
                            no_bias=True)
    y.backward(head)
    d = npx.deconvolution(head, w, kernel=(3, 2), stride=(2, 1), pad=(1, 0), adj=(1, 0),
                          num_filter=4, num_group=2, no_bias=True)
    _close(x.grad, d.asnumpy(), rtol=1e-12)


def test_deconvolution_second_derivative():
    def fn(a, ww):
        y = npx.deconvolution(a, ww, kernel=(3,), stride=(2,), pad=(1,), adj=(1,),
                              no_bias=True)
        return y * y

    check_grad2(fn, [_rand((1, 2, 3), seed=33), _rand((2, 2, 3), seed=34)], i=0, j=1)


def test_convolution_errors_are_raised_at_the_call():
    x = np.ones((1, 3, 5, 5))
    with pytest.raises(ShapeError, match="channels"):
        npx.convolution(x, np.ones((4, 2, 3, 3)), kernel=(3, 3), num_filter=4)
    with pytest.raises(ShapeError, match="larger than the padded input"):
        npx.convolution(x, np.ones((4, 3, 7, 7)), kernel=(7, 7), num_filter=4)
    with pytest.raises(ShapeError, match="num_filter"):
        npx.convolution(x, np.ones((4, 3, 3, 3)), kernel=(3, 3), num_filter=5)
    with pytest.raises(ValueError, match="layout"):
        npx.convolution(x, np.ones((4, 3, 3, 3)), kernel=(3, 3), layout="NCW")
    with pytest.raises(ValueError, match="stride"):
        npx.convolution(x, np.ones((4, 3, 3, 3)), kernel=(3, 3), stride=(1, 1, 1))


# -- pooling ------------------------------------------------------------------------------------

def ref_pool(x, kernel, stride, pad, kind, convention="valid", include=True, p=2):
    n, c = x.shape[:2]
    sp = x.shape[2:]
    nd = len(sp)
    if convention == "same":
        osp = [-(-sp[i] // stride[i]) for i in range(nd)]
        before = [max((osp[i] - 1) * stride[i] + kernel[i] - sp[i], 0) // 2 for i in range(nd)]
        after = [max((osp[i] - 1) * stride[i] + kernel[i] - sp[i], 0) - before[i]
                 for i in range(nd)]
    else:
        rnd = math.floor if convention == "valid" else math.ceil
        osp = [int(rnd((sp[i] + 2 * pad[i] - kernel[i]) / stride[i])) + 1 for i in range(nd)]
        before, after = list(pad), list(pad)
    out = numpy.zeros((n, c, *osp))
    for o in itertools.product(*map(range, osp)):
        starts = [o[i] * stride[i] - before[i] for i in range(nd)]
        ends = [min(starts[i] + kernel[i], sp[i] + after[i]) for i in range(nd)]
        lo = [max(s, 0) for s in starts]
        hi = [min(e, sp[i]) for i, e in enumerate(ends)]
        win = x[(slice(None), slice(None), *[slice(a, b) for a, b in zip(lo, hi)])]
        win = win.reshape(n, c, -1)
        if kind == "max":
            v = win.max(axis=-1)
        elif kind == "sum":
            v = win.sum(axis=-1)
        elif kind == "lp":
            v = ((win ** p).sum(axis=-1)) ** (1.0 / p)
        else:
            count = math.prod((e - s) for s, e in zip(starts, ends)) if include else \
                math.prod(b - a for a, b in zip(lo, hi))
            v = win.sum(axis=-1) / count
        out[(slice(None), slice(None), *o)] = v
    return out


POOL_CASES = [  # (shape, kernel, stride, pad, kind, convention, count_include_pad)
    ((2, 2, 7), (3,), (2,), (1,), "max", "valid", True),
    ((1, 2, 7), (2,), (2,), (0,), "max", "same", True),
    ((1, 2, 6), (3,), (2,), (1,), "avg", "full", False),
    ((2, 1, 5, 6), (2, 3), (2, 2), (1, 1), "avg", "valid", True),
    ((1, 2, 5, 5), (3, 2), (2, 2), (1, 0), "avg", "full", False),
    ((1, 2, 5, 4), (2, 2), (1, 2), (0, 1), "sum", "valid", True),
    ((1, 2, 4, 5), (2, 2), (2, 2), (0, 0), "lp", "full", True),
    ((1, 1, 5, 6), (3, 3), (2, 2), (1, 1), "max", "full", True),
    ((1, 1, 5, 6), (2, 3), (2, 2), (0, 0), "max", "same", True),
    ((1, 2, 4, 3, 5), (2, 2, 3), (2, 1, 2), (1, 0, 1), "max", "valid", True),
    ((1, 1, 4, 4, 3), (2, 3, 2), (1, 2, 1), (0, 1, 1), "avg", "valid", False),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{len(c[1])}d-{c[4]}-{c[5]}")
@pytest.mark.parametrize("layout", ["first", "last"])
def test_pooling_forward(case, layout):
    shape, k, s, p, kind, conv, include = case
    x = _distinct(shape, seed=35)
    if kind == "lp":
        x = numpy.abs(x) + 0.1
    ref = ref_pool(x, k, s, p, kind, conv, include)
    lay = None
    if layout == "last":
        x, ref = _last(x), _last(ref)
        lay = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[len(k)]
    out = npx.pooling(np.array(x), kernel=k, stride=s, pad=p, pool_type=kind,
                      pooling_convention=conv, count_include_pad=include, layout=lay,
                      p_value=2)
    _close(out, ref, rtol=1e-10)


@pytest.mark.parametrize("case", [POOL_CASES[i] for i in (0, 2, 4, 5, 6, 8, 9)],
                         ids=lambda c: f"{len(c[1])}d-{c[4]}-{c[5]}")
def test_pooling_gradients(case):
    shape, k, s, p, kind, conv, include = case
    x = _distinct(shape, seed=36)
    if kind == "lp":
        x = numpy.abs(x) + 0.1
    check_grad(lambda a: npx.pooling(a, kernel=k, stride=s, pad=p, pool_type=kind,
                                     pooling_convention=conv, count_include_pad=include,
                                     p_value=2), [x])


def test_pooling_gradients_channel_last_and_global():
    x = _distinct((2, 4, 5, 3), seed=37)
    check_grad(lambda a: npx.pooling(a, kernel=(2, 3), stride=(2, 1), pad=(1, 1),
                                     layout="NHWC"), [x])
    check_grad(lambda a: npx.pooling(a, pool_type="avg", global_pool=True), [x])
    for kind in ("avg", "sum"):  # the global adjoint's broadcast, both layouts
        check_grad(lambda a, kind=kind: npx.pooling(a, pool_type=kind, global_pool=True,
                                                    layout="NHWC"), [x])
        check_grad(lambda a, kind=kind: npx.pooling(a, kernel=(5, 3), pool_type=kind), [x])
    out = npx.pooling(np.array(x), kernel=(1, 1), pool_type="avg", global_pool=True)
    _close(out, x.mean(axis=(2, 3), keepdims=True))


def test_max_pooling_gradient_goes_to_the_first_maximum():
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 3.0]]])
    x.attach_grad()
    with autograd.record():
        y = npx.pooling(x, kernel=(3,), stride=(1,), pool_type="max")
    y.backward()
    _close(y, [[[3.0, 3.0, 3.0]]])
    _close(x.grad, [[[0.0, 2.0, 1.0, 0.0, 0.0]]])  # windows [1,3,3], [3,3,2], [3,2,3]


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_second_derivative(kind):
    def fn(a):
        y = npx.pooling(a, kernel=(2, 2), stride=(1, 2), pad=(1, 0), pool_type=kind)
        return y * y

    check_grad2(fn, [_distinct((1, 2, 3, 4), seed=38)])


def test_pooling_errors():
    with pytest.raises(ShapeError, match="exceeds"):
        npx.pooling(np.ones((1, 1, 3, 3)), kernel=(5, 5))
    with pytest.raises(ValueError, match="pool_type"):
        npx.pooling(np.ones((1, 1, 3, 3)), kernel=(2, 2), pool_type="median")
    with pytest.raises(ValueError, match="pad must be 0"):
        npx.pooling(np.ones((1, 1, 3, 3)), kernel=(2, 2), pad=(1, 1), pooling_convention="same")


# -- normalisations -----------------------------------------------------------------------------

def _bn_ref(x, gamma, beta, mean, var, eps, axis=1):
    shp = [1] * x.ndim
    shp[axis] = -1
    return (x - mean.reshape(shp)) / numpy.sqrt(var.reshape(shp) + eps) * gamma.reshape(shp) + \
        beta.reshape(shp)


@pytest.mark.parametrize("axis", [1, -1])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_batch_norm_training_and_inference(axis, fix_gamma):
    x = _rand((4, 3, 2), seed=39, low=-2, high=3)
    ax = axis % 3
    c = x.shape[ax]
    gamma, beta = _rand((c,), seed=40, low=0.5, high=2), _rand((c,), seed=41)
    rm, rv = _rand((c,), seed=42), _rand((c,), seed=43, low=0.5, high=2)
    red = tuple(i for i in range(3) if i != ax)
    g_used = numpy.ones(c) if fix_gamma else gamma
    args = [np.array(v) for v in (x, gamma, beta, rm, rv)]
    # inference: running statistics, which stay unchanged
    out = npx.batch_norm(*args, eps=1e-3, fix_gamma=fix_gamma, axis=axis)
    _close(out, _bn_ref(x, g_used, beta, rm, rv, 1e-3, ax))
    _close(args[3], rm)
    _close(args[4], rv)
    # training: batch statistics (biased variance), running stats updated
    with autograd.train_mode():
        out, mean, invstd = npx.batch_norm(*args, eps=1e-3, momentum=0.8, fix_gamma=fix_gamma,
                                           output_mean_var=True, axis=axis)
    bm, bv = x.mean(axis=red), x.var(axis=red)
    _close(out, _bn_ref(x, g_used, beta, bm, bv, 1e-3, ax))
    _close(mean, bm)
    _close(invstd, 1 / numpy.sqrt(bv + 1e-3))
    _close(args[3], 0.8 * rm + 0.2 * bm)
    _close(args[4], 0.8 * rv + 0.2 * bv)
    # use_global_stats in training uses (and keeps) the running statistics
    rm2, rv2 = args[3].asnumpy().copy(), args[4].asnumpy().copy()
    with autograd.train_mode():
        out = npx.batch_norm(*args, fix_gamma=fix_gamma, use_global_stats=True, axis=axis)
    _close(out, _bn_ref(x, g_used, beta, rm2, rv2, 1e-3, ax))
    _close(args[3], rm2)


def test_batch_norm_running_stats_after_backward_as_mxnet():
    # API.md §2 item 16: 0.9 * 0 + 0.1 * mean and 0.9 * 1 + 0.1 * biased variance (mean 3,
    # variance 6.5 here)
    x = numpy.array([[0.0], [1.0], [5.0], [6.0]])
    rm, rv = np.zeros(1), np.ones(1)
    xa = np.array(x)
    xa.attach_grad()
    with autograd.record():
        y = npx.batch_norm(xa, np.ones(1), np.zeros(1), rm, rv)
    y.backward()
    _close(rm, [0.3])
    _close(rv, [1.55])
    assert rm.grad is None


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_batch_norm_gradients(train, fix_gamma):
    x = _rand((3, 2, 2), seed=44, low=-2, high=2)
    gamma, beta = _rand((2,), seed=45, low=0.5, high=2), _rand((2,), seed=46)
    rm, rv = np.array(_rand((2,), seed=47)), np.array(_rand((2,), seed=48, low=0.5, high=2))
    check_grad(lambda a, g, b: npx.batch_norm(a, g, b, rm, rv, fix_gamma=fix_gamma),
               [x, gamma, beta], train=train, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, axis", [((4, 3, 5, 5), 1), ((6, 5), 1), ((2, 4, 4, 3), -1)])
@pytest.mark.parametrize("fix_gamma", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_one_op_gradients_match_the_formula(shape, axis, fix_gamma, dtype):
    # the one-op gradient (used when the backward is not recorded) against the framework-op
    # formula (what a recorded backward, create_graph=True, differentiates)
    c = shape[axis]
    _one_op_matches_formula(
        lambda x, g, b: npx.batch_norm(x, g, b, np.zeros(c), np.ones(c), fix_gamma=fix_gamma,
                                       axis=axis), shape, (c,), dtype, seed=60)


def _one_op_matches_formula(fn, shape, gshape, dtype, seed):
    """The gradients of ``fn(x, gamma, beta)`` from its one-op backward (the backward not
    recorded) against the framework-op formula (what create_graph=True differentiates)."""
    x = np.array(_rand(shape, seed=seed, low=-2, high=2).astype(dtype))
    gamma = np.array(_rand(gshape, seed=seed + 1, low=0.5, high=2).astype(dtype))
    beta = np.array(_rand(gshape, seed=seed + 2).astype(dtype))
    head = np.array(_rand(shape, seed=seed + 3).astype(dtype))
    grads = []
    for create_graph in (False, True):
        for a in (x, gamma, beta):
            a.attach_grad()
        with autograd.record():
            y = fn(x, gamma, beta)
        autograd.backward([y], [head], create_graph=create_graph)
        grads.append([a.grad.asnumpy().copy() for a in (x, gamma, beta)])
    tol = 1e-4 if dtype == "float32" else 1e-10
    for one_op, formula in zip(*grads):
        assert one_op.dtype == formula.dtype
        numpy.testing.assert_allclose(one_op, formula, rtol=tol, atol=tol)


def test_batch_norm_second_derivative():
    rm, rv = np.zeros(2), np.ones(2)

    def fn(a, g):
        with autograd.train_mode():
            y = npx.batch_norm(a, g, np.zeros(2), rm, rv, fix_gamma=False)
        return y * y

    check_grad2(fn, [_rand((3, 2), seed=49), _rand((2,), seed=50, low=0.5, high=1.5)], i=0, j=0)


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm(axis):
    x = _rand((2, 3, 4), seed=51, low=-2, high=2)
    n = x.shape[axis]
    gamma, beta = _rand((n,), seed=52, low=0.5, high=2), _rand((n,), seed=53)
    shp = [1, 1, 1]
    shp[axis] = n
    mean = x.mean(axis=axis, keepdims=True)
    std = numpy.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)
    out, m, s = npx.layer_norm(np.array(x), np.array(gamma), np.array(beta), axis=axis,
                               output_mean_var=True)
    _close(out, (x - mean) / std * gamma.reshape(shp) + beta.reshape(shp))
    _close(m, mean)
    _close(s, std)
    check_grad(lambda a, g, b: npx.layer_norm(a, g, b, axis=axis), [x, gamma, beta])


@pytest.mark.parametrize("per", ["channel", "group"])
def test_group_norm(per):
    x = _rand((2, 4, 3), seed=54, low=-2, high=2)
    c, groups = 4, 2
    gshape = (c,) if per == "channel" else (groups,)
    gamma, beta = _rand(gshape, seed=55, low=0.5, high=2), _rand(gshape, seed=56)
    xv = x.reshape(2, groups, -1)
    mean, std = xv.mean(axis=2), numpy.sqrt(xv.var(axis=2) + 1e-5)
    norm = ((xv - mean[..., None]) / std[..., None]).reshape(x.shape)
    gb = (gamma if per == "channel" else numpy.repeat(gamma, 2)).reshape(1, c, 1)
    bb = (beta if per == "channel" else numpy.repeat(beta, 2)).reshape(1, c, 1)
    out, m, s = npx.group_norm(np.array(x), np.array(gamma), np.array(beta), num_groups=groups,
                               output_mean_var=True)
    _close(out, norm * gb + bb)
    _close(m, mean)
    _close(s, std)
    check_grad(lambda a, g, b: npx.group_norm(a, g, b, num_groups=groups), [x, gamma, beta])


def test_instance_norm():
    x = _rand((2, 3, 2, 2), seed=57, low=-2, high=2)
    gamma, beta = _rand((3,), seed=58, low=0.5, high=2), _rand((3,), seed=59)
    mean = x.mean(axis=(2, 3), keepdims=True)
    std = numpy.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-3)
    out = npx.instance_norm(np.array(x), np.array(gamma), np.array(beta))
    _close(out, (x - mean) / std * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1))
    check_grad(lambda a, g, b: npx.instance_norm(a, g, b), [x, gamma, beta])


# -- dropout, embedding -------------------------------------------------------------------------

def test_dropout_identity_outside_training():
    x = np.array(_rand((50, 40), seed=60))
    assert npx.dropout(x, p=0.5) is x  # inference: the input itself (MXNet: an identity copy)
    with autograd.predict_mode():
        assert npx.dropout(x, p=0.5) is x
    y = npx.dropout(x, p=0.5, mode="always")
    assert (y.asnumpy() == 0).mean() > 0.3


def test_dropout_training_inverted_reproducible_and_differentiable():
    host = _rand((100, 60), seed=61, low=0.5, high=1.5)
    x = np.array(host)
    x.attach_grad()
    np.random.seed(3)
    with autograd.record():
        y = npx.dropout(x, p=0.3)
    head = _rng(62).standard_normal(host.shape)
    y.backward(np.array(head))
    out = y.asnumpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.02
    numpy.testing.assert_allclose(out[kept], host[kept] / 0.7, rtol=1e-6)
    _close(x.grad, numpy.where(kept, head / 0.7, 0.0))
    np.random.seed(3)
    with autograd.train_mode():
        again = npx.dropout(np.array(host), p=0.3)
    _close(again, out)


def test_dropout_axes_share_the_mask():
    x = np.ones((6, 50, 4))
    with autograd.train_mode():
        y = npx.dropout(x, p=0.5, axes=(0, 2)).asnumpy()
    assert (y == y[:1, :, :1]).all()
    assert 0 < (y[0, :, 0] == 0).sum() < 50
    with autograd.train_mode():
        assert (npx.dropout(x, p=1.0).asnumpy() == 0).all()


def test_embedding_forward_clip_and_gradients():
    w = _rand((5, 3), seed=63)
    idx = numpy.array([[1.0, 4.0, 1.0], [0.0, 7.0, -2.0]])
    out = npx.embedding(np.array(idx), np.array(w), input_dim=5, output_dim=3)
    _close(out, w[numpy.clip(idx.astype(int), 0, 4)])
    d = np.array(idx)
    check_grad(lambda ww: npx.embedding(d, ww, 5, 3), [w])
    wa = np.array(w)
    wa.attach_grad()
    with autograd.record():
        y = npx.embedding(np.array(idx, dtype="int32"), wa, 5, 3)
    y.backward()
    _close(wa.grad, [[2] * 3, [2] * 3, [0] * 3, [0] * 3, [2] * 3])  # 0, -2 -> 0; 4, 7 -> 4
    check_grad2(lambda ww: npx.embedding(d, ww, 5, 3) * npx.embedding(d, ww, 5, 3), [w])


# -- gradients of the npx array ops -------------------------------------------------------------

def test_pick_topk_sequence_mask_batch_dot_gradients():
    x = _distinct((3, 4), seed=64)
    idx = np.array([3.0, 0.0, 7.0])  # clipped to 3
    check_grad(lambda a: npx.pick(a, idx, axis=1), [x])
    check_grad(lambda a: npx.pick(np.array(x) * 0 + a, np.array([1, -1, 5]), axis=1,
                                  mode="wrap", keepdims=True), [x])
    check_grad(lambda a: npx.topk(a, k=2, ret_typ="value"), [x])
    check_grad(lambda a: npx.topk(a, axis=0, k=2, ret_typ="both")[0] * 1.0, [x])
    check_grad(lambda a: npx.topk(a, axis=None, k=3, ret_typ="value"), [x])
    seq = _rand((4, 3, 2), seed=65)
    lens = np.array([1.0, 4.0, 2.0])
    check_grad(lambda a: npx.sequence_mask(a, lens, use_sequence_length=True, value=-1.0),
               [seq])
    check_grad(lambda a: npx.sequence_mask(a, np.array([2.0, 0.0, 1.0, 3.0]),
                                           use_sequence_length=True, axis=1), [seq])
    a, b = _rand((2, 3, 4), seed=66), _rand((2, 4, 3), seed=67)
    for ta, tb in itertools.product([False, True], repeat=2):
        aa = numpy.swapaxes(a, 1, 2) if ta else a
        bb = numpy.swapaxes(b, 1, 2) if tb else b
        check_grad(lambda p, q, ta=ta, tb=tb: npx.batch_dot(p, q, transpose_a=ta,
                                                            transpose_b=tb), [aa, bb])


def test_one_hot_and_topk_indices_pass_no_gradient():
    x = np.array(_rand((2, 3), seed=68))
    x.attach_grad()
    with autograd.record():
        y = npx.topk(x, k=2, ret_typ="indices") * 1.0 + x.sum()
    y.backward()
    _close(x.grad, numpy.full((2, 3), 4.0))
    i = np.array([0.0, 2.0])
    i.attach_grad()
    with autograd.record():
        z = npx.one_hot(i, 3)
    z.backward()
    _close(i.grad, [0.0, 0.0])


def test_erf_gradient():
    x = _rand((5,), seed=69, low=-2, high=2)
    check_grad(lambda a: npx.erf(a), [x])
    check_grad(lambda a: npx.erfinv(a), [x * 0.4])


@pytest.mark.parametrize("p", [1, 3])
def test_lp_pooling_other_powers(p):
    x = numpy.abs(_distinct((1, 2, 4, 5), seed=70)) + 0.1
    out = npx.pooling(np.array(x), kernel=(2, 2), stride=(1, 2), pool_type="lp", p_value=p)
    _close(out, ref_pool(x, (2, 2), (1, 2), (0, 0), "lp", p=p), rtol=1e-10)
    check_grad(lambda a: npx.pooling(a, kernel=(2, 2), stride=(1, 2), pool_type="lp",
                                     p_value=p), [x])


def test_softmax_dtype_argument_keeps_the_input_gradient_dtype():
    x = np.array(_rand((2, 3), seed=71).astype("float16"))
    x.attach_grad()
    with autograd.record():
        y = npx.softmax(x, dtype="float32")
    assert y.dtype == numpy.float32
    y.backward(np.array(_rand((2, 3), seed=72).astype("float32")))
    assert x.grad.dtype == numpy.float16


@pytest.mark.parametrize("engine_type", ["NaiveEngine", "ThreadedEngine"])
def test_network_ops_agree_on_both_engines(engine_type):
    x = _rand((2, 3, 5, 5), seed=73)
    w = _rand((4, 3, 3, 3), seed=74)
    rm, rv = numpy.zeros(4), numpy.ones(4)
    with engine.engine_scope(engine_type):
        xa, wa = np.array(x), np.array(w)
        rma, rva = np.array(rm), np.array(rv)
        xa.attach_grad()
        np.random.seed(11)
        with autograd.record():
            y = npx.convolution(xa, wa, kernel=(3, 3), pad=(1, 1), no_bias=True)
            y = npx.batch_norm(y, np.ones(4), np.zeros(4), rma, rva, momentum=0.5)
            y = npx.pooling(npx.activation(y), kernel=(2, 2), stride=(2, 2))
            y = npx.dropout(y, p=0.25)
        y.backward()
        got = (y.asnumpy(), xa.grad.asnumpy(), rma.asnumpy(), rva.asnumpy())
    conv = ref_conv(x, w, None, (1, 1), (1, 1), (1, 1), 1)
    bm, bv = conv.mean(axis=(0, 2, 3)), conv.var(axis=(0, 2, 3))
    _close(got[2], 0.5 * bm)
    _close(got[3], 0.5 + 0.5 * bv)
    assert numpy.isfinite(got[1]).all() and got[0].shape == (2, 4, 2, 2)
    if engine_type == "ThreadedEngine":  # the same seed gives the same result on both engines
        with engine.engine_scope("NaiveEngine"):
            np.random.seed(11)
            with autograd.train_mode():
                z = npx.convolution(np.array(x), np.array(w), kernel=(3, 3), pad=(1, 1),
                                    no_bias=True)
                z = npx.batch_norm(z, np.ones(4), np.zeros(4), np.array(rm), np.array(rv))
                z = npx.dropout(npx.pooling(npx.activation(z), kernel=(2, 2), stride=(2, 2)),
                                p=0.25)
            _close(z, got[0], rtol=1e-10)


def test_smooth_l1_gradient():
    x = numpy.array([-3.0, -0.4, -0.1, 0.2, 0.7, 2.5])
    check_grad(lambda a: npx.smooth_l1(a, scalar=1.5), [x])


@pytest.mark.parametrize("fn", [
    lambda a: npx.activation(a, act_type="sigmoid"),
    lambda a: npx.activation(a, act_type="mish"),
    lambda a: npx.activation(a, act_type="softsign"),
    lambda a: npx.leaky_relu(a, act_type="gelu"),
    lambda a: npx.leaky_relu(a, act_type="selu"),
    lambda a: npx.log_softmax(a, axis=-1, temperature=2.0),
    lambda a: npx.softmax(a, axis=0),
    lambda a: npx.layer_norm(a, np.array([0.5, 2.0, 1.0]), np.zeros(3)),
    lambda a: npx.group_norm(a, np.array([0.5, 2.0]), np.zeros(2), num_groups=2),
], ids=["sigmoid", "mish", "softsign", "gelu", "selu", "log_softmax", "softmax", "layer_norm",
        "group_norm"])
def test_smooth_ops_second_derivatives(fn):
    check_grad2(lambda a: fn(a) * fn(a), [_rand((2, 4, 3), seed=75, low=-2, high=2)])


@pytest.mark.parametrize("shape,ax", [((4, 3, 5, 6), 1), ((4, 3, 5, 6), 3), ((4, 3, 5, 6), 0),
                                      ((7, 5), 1), ((7, 5), 0), ((2, 3, 4), 1), ((1, 3, 4), 1),
                                      ((3, 1, 1), 1), ((0, 3, 2), 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_channel_sum_matches_numpy_over_every_other_axis(shape, ax, dtype):
    from framework.nd._reduce import channel_sum
    x = numpy.random.default_rng(0).normal(size=shape).astype(dtype)
    red = tuple(i for i in range(len(shape)) if i != ax)
    acc = "float32" if dtype == "float16" else None
    want = x.astype("float64").sum(axis=red)
    got = channel_sum(numpy, x, ax, dtype=acc)
    assert got.shape == (shape[ax],)
    assert got.dtype == numpy.dtype(acc or dtype)
    numpy.testing.assert_allclose(got, want, rtol=1e-5 if dtype != "float64" else 1e-12,
                                  atol=1e-5)
    # a non-contiguous input (a transposed view) gives the same sums
    xt = numpy.swapaxes(numpy.ascontiguousarray(numpy.swapaxes(x, 0, -1)), 0, -1)
    assert not xt.flags.c_contiguous or x.ndim < 2 or min(shape) <= 1
    numpy.testing.assert_array_equal(channel_sum(numpy, xt, ax, dtype=acc), got)


@pytest.mark.parametrize("axis", [0, 1, 3])
def test_sum_but_op_values_and_gradient(axis):
    from framework.nd._reduce import sum_but
    x = _rand((2, 3, 4, 5), seed=31)
    got = sum_but(np.array(x.astype("float32")), axis)
    red = tuple(i for i in range(4) if i != axis)
    numpy.testing.assert_allclose(got.asnumpy(), x.sum(axis=red), rtol=1e-5, atol=1e-5)
    check_grad(lambda a: sum_but(a, axis), [x])
    # float16 keeps sum's own kernel (and its dtype)
    h = sum_but(np.array(x.astype("float16")), axis)
    assert h.dtype == numpy.float16
    numpy.testing.assert_allclose(h.asnumpy(), x.sum(axis=red), rtol=1e-2, atol=2e-2)


def test_convolution_bias_gradient_channel_last():
    x = _rand((2, 4, 4, 5), seed=24)  # (N, H, W, C)
    w = _rand((3, 2, 2, 5), seed=25)  # (F, kh, kw, C)
    b = _rand((3,), seed=26)
    check_grad(lambda a, ww, bb: npx.convolution(a, ww, bb, kernel=(2, 2), layout="NHWC",
                                                 num_filter=3), [x, w, b])


@pytest.mark.parametrize("kind,shape,kw,gshape", [
    ("layer", (3, 5, 8), {"axis": -1}, (8,)),
    ("layer", (4, 6, 2), {"axis": 1}, (6,)),
    ("group", (2, 6, 3, 3), {"num_groups": 3}, (6,)),
    ("group", (2, 6, 4), {"num_groups": 2}, (2,)),
    ("instance", (2, 3, 4, 5), {}, (3,)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_one_op_gradients_match_the_formula(kind, shape, kw, gshape, dtype):
    # _NormGrad (the backward not recorded) against the framework-op formula
    fn = {"layer": npx.layer_norm, "group": npx.group_norm,
          "instance": npx.instance_norm}[kind]
    _one_op_matches_formula(lambda x, g, b: fn(x, g, b, **kw), shape, gshape, dtype, seed=70)


def test_norm_gradient_is_one_op_unless_recorded(monkeypatch):
    from framework.nd import _norm
    made = []
    real = _norm._NormGrad.forward
    monkeypatch.setattr(_norm._NormGrad, "forward",
                        lambda self, *a: made.append(1) or real(self, *a))
    x = np.array(_rand((2, 4, 3), seed=74).astype("float32"))
    x.attach_grad()
    gamma, beta = np.ones(3), np.zeros(3)
    with autograd.record():
        y = npx.layer_norm(x, gamma, beta)
    y.backward()
    npx.waitall()
    assert made == [1]
    # float16 data (statistics rounded to float16) keeps the formula
    h = np.array(_rand((2, 4, 3), seed=75).astype("float16"))
    h.attach_grad()
    with autograd.record():
        y = npx.layer_norm(h, gamma.astype("float16"), beta.astype("float16"))
    y.backward()
    npx.waitall()
    assert made == [1] and h.grad.dtype == numpy.float16


@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float16", 2e-3)])
def test_gelu_low_precision_kernel_matches_the_float64_erf(dtype, rtol):
    # float32/float16 GELU runs a float32 normal-CDF kernel (in chunks on the host); the
    # reference is the erf form in float64, over the range where the output is normal
    lim = 9.0 if dtype == "float32" else 4.0
    xs = numpy.concatenate([numpy.linspace(-lim, lim, 150001), [0.0, -0.0, 1e-30, -1e-30]])
    x = xs.astype(dtype)
    xd = x.astype("float64")
    erf = numpy.vectorize(math.erf)
    want = 0.5 * xd * (1 + erf(xd / math.sqrt(2)))
    got = npx.leaky_relu(np.array(x), act_type="gelu").asnumpy()
    assert got.dtype == numpy.dtype(dtype)
    tiny = numpy.finfo(dtype).tiny
    ok = numpy.abs(want) > tiny * 1e3
    numpy.testing.assert_allclose(got[ok].astype("float64"), want[ok], rtol=rtol,
                                  atol=float(numpy.finfo(dtype).eps) * 1e-3)
    # the one-op gradient against the differentiable formula (create_graph keeps it)
    head = numpy.random.default_rng(3).normal(size=x.shape).astype(dtype)
    grads = []
    for create_graph in (False, True):
        a = np.array(x)
        a.attach_grad()
        with autograd.record():
            y = npx.leaky_relu(a, act_type="gelu")
        autograd.backward([y], [np.array(head)], create_graph=create_graph)
        grads.append(a.grad.asnumpy().astype("float64"))
    pdf = numpy.exp(-xd * xd / 2) / math.sqrt(2 * math.pi)
    want_g = head.astype("float64") * (0.5 * (1 + erf(xd / math.sqrt(2))) + xd * pdf)
    # (near x = -0.75 the derivative crosses zero: there only an absolute bound holds)
    atol = 1e-6 if dtype == "float32" else 2e-3
    numpy.testing.assert_allclose(grads[0], want_g, rtol=rtol * 5, atol=atol)
    if dtype == "float32":  # (float16's formula computes erf and exp in float16 itself)
        numpy.testing.assert_allclose(grads[1], want_g, rtol=rtol * 5, atol=atol)


@pytest.mark.parametrize("stride,dilate,pad", [(1, 1, 1), (2, 1, 1), (1, 2, 2), (2, 1, 0)])
def test_depthwise_convolution_gradients(stride, dilate, pad):
    # one input and one output channel per group: the data gradient's direct path
    x = _rand((2, 3, 6, 5), seed=80)
    w = _rand((3, 1, 3, 3), seed=81)
    b = _rand((3,), seed=82)
    check_grad(lambda a, ww, bb: npx.convolution(a, ww, bb, kernel=(3, 3), stride=stride,
                                                 dilate=dilate, pad=pad, num_filter=3,
                                                 num_group=3), [x, w, b])


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_global_max_pooling_gradient_goes_to_the_first_maximum(layout):
    x = _distinct((2, 3, 4, 5), seed=90)
    if layout == "NHWC":
        x = x.transpose(0, 2, 3, 1).copy()
    check_grad(lambda a: npx.pooling(a, pool_type="max", global_pool=True, layout=layout), [x])
    # ties: the first maximum in row-major order gets it all; a NaN counts as the maximum
    t = numpy.zeros((1, 2, 2, 3), "float32")
    t[0, 0] = [[1, 5, 2], [5, 0, 5]]
    t[0, 1] = [[1, numpy.nan, 2], [numpy.nan, 0, 7]]
    a = np.array(t)
    a.attach_grad()
    with autograd.record():
        y = npx.pooling(a, pool_type="max", global_pool=True)
    y.backward(np.array([[[[2.0]], [[3.0]]]]))
    want = numpy.zeros_like(t)
    want[0, 0, 0, 1] = 2.0
    want[0, 1, 0, 1] = 3.0
    numpy.testing.assert_array_equal(a.grad.asnumpy(), want)
