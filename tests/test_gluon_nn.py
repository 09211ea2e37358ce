"""gluon.nn layers: outputs against NumPy references written here, gradients (input and
parameters) against float64 central finite differences, deferred versus explicit input sizes,
initializer precedence, BatchNorm statistics, Dropout modes, containers, ``__repr__`` and
``summary`` text in MXNet's format, and the errors for bad arguments and shapes.

The helpers take ``hybridize``: every test parametrized over ``HYBRIDIZE`` runs the layer
imperatively and, once ``True`` is added to the list, hybridized as well.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy
import pytest

from framework import autograd, np
from framework import initializer as init
from framework.base import ShapeError
from framework.gluon import Parameter, nn

HYBRIDIZE = [False, True]
SEED = 20250307
EPS = 1e-6


# -- helpers ----------------------------------------------------------------------------------

def _rand(shape, seed=0, low=-1.0, high=1.0):
    return numpy.random.default_rng(SEED + seed).uniform(low, high, size=shape)


def _distinct(shape, seed=0):
    """Values at least 0.05 apart: max pooling has no ties, even after a finite difference."""
    n = math.prod(shape)
    return (numpy.random.default_rng(SEED + seed).permutation(n).reshape(shape) - n / 2) * 0.05


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = actual.asnumpy() if hasattr(actual, "asnumpy") else numpy.asarray(actual)
    numpy.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _params(net):
    """Parameter values by structural name, as float64 NumPy arrays."""
    return {k: p.data().asnumpy().astype(numpy.float64) for k, p in net.collect_params().items()}


def run(net, *inputs, hybridize=False, train=False, dtype="float32"):
    """Initialize ``net`` (if needed), call it on ``inputs`` (NumPy arrays) and return the
    output as NumPy."""
    if any(p._data is None and p._deferred is None for p in net.collect_params().values()):
        net.initialize(init.Normal(0.5))
    if hybridize:
        net.hybridize()
    args = [np.array(x, dtype=dtype) for x in inputs]
    with autograd.train_mode() if train else autograd.predict_mode():
        out = net(*args)
        if hybridize and not train:  # the first call traced the graph: check a replay too
            numpy.testing.assert_array_equal(net(*args).asnumpy(), out.asnumpy())
    return out.asnumpy()


def check_forward(net, x, ref, hybridize=False, train=False, rtol=1e-5, atol=1e-6):
    """``net(x)`` equals ``ref(x, params)`` (params: float64 NumPy by structural name)."""
    out = run(net, x, hybridize=hybridize, train=train)
    expected = ref(numpy.asarray(x, dtype=numpy.float64), _params(net))
    assert out.shape == expected.shape, (out.shape, expected.shape)
    _close(out, expected, rtol=rtol, atol=atol)
    return out


def check_grads(net, x, hybridize=False, train=False, wrt_input=True, rtol=1e-5, atol=1e-7):
    """Gradients of ``sum(net(x) * head)`` w.r.t. the input and every trainable parameter
    against float64 central finite differences."""
    net.cast("float64")
    if any(p._data is None and p._deferred is None for p in net.collect_params().values()):
        net.initialize(init.Normal(0.5))
    if hybridize:
        net.hybridize()
    x = numpy.asarray(x, dtype=numpy.float64)
    mode = autograd.train_mode if train else autograd.predict_mode

    def value(xv):
        with mode():
            return net(np.array(xv, dtype="float64")).asnumpy()

    head = numpy.random.default_rng(SEED).standard_normal(value(x).shape)
    xa = np.array(x, dtype="float64")
    xa.attach_grad()
    with autograd.record(train_mode=train):
        loss = (net(xa) * np.array(head, dtype="float64")).sum()
    loss.backward()
    objective = lambda xv: float((value(xv) * head).sum())

    if wrt_input:
        numeric = numpy.zeros_like(x)
        for idx in numpy.ndindex(x.shape):
            plus, minus = x.copy(), x.copy()
            plus[idx] += EPS
            minus[idx] -= EPS
            numeric[idx] = (objective(plus) - objective(minus)) / (2 * EPS)
        _close(xa.grad, numeric, rtol=rtol, atol=atol)

    for name, p in net.collect_params().items():
        if p.grad_req == "null":
            continue
        base = p.data().asnumpy().copy()
        numeric = numpy.zeros_like(base)
        for idx in numpy.ndindex(base.shape):
            vals = []
            for step in (EPS, -EPS):
                w = base.copy()
                w[idx] += step
                p.set_data(np.array(w, dtype="float64"))
                vals.append(objective(x))
            numeric[idx] = (vals[0] - vals[1]) / (2 * EPS)
        p.set_data(np.array(base, dtype="float64"))
        try:
            _close(p.grad(), numeric, rtol=rtol, atol=atol)
        except AssertionError as exc:
            raise AssertionError(f"gradient of parameter {name!r}") from exc


# -- NumPy references ---------------------------------------------------------------------------

def _offsets(kernel):
    return itertools.product(*[range(k) for k in kernel])


def _win(off, dilate, stride, count):
    return tuple(slice(o * d, o * d + s * (c - 1) + 1, s)
                 for o, d, s, c in zip(off, dilate, stride, count))


def ref_conv(x, w, b, stride, pad, dilate, groups):
    nd = x.ndim - 2
    n, c = x.shape[:2]
    f, k = w.shape[0], w.shape[2:]
    xp = numpy.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sp = [(x.shape[2 + i] + 2 * pad[i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1
              for i in range(nd)]
    out = numpy.zeros((n, f, *out_sp))
    cg, fg = c // groups, f // groups
    for g in range(groups):
        for off in _offsets(k):
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + _win(off, dilate, stride,
                                                                          out_sp)]
            wk = w[(slice(g * fg, (g + 1) * fg), slice(None)) + off]
            out[:, g * fg:(g + 1) * fg] += numpy.einsum("nc...,fc->nf...", patch, wk)
    if b is not None:
        out += b.reshape((1, f) + (1,) * nd)
    return out


def ref_deconv(x, w, b, stride, pad, dilate, adj, groups):
    nd = x.ndim - 2
    n, c = x.shape[:2]
    k, fg = w.shape[2:], w.shape[1]
    cg, f = c // groups, fg * groups
    in_sp = x.shape[2:]
    full = [(in_sp[i] - 1) * stride[i] + dilate[i] * (k[i] - 1) + 1 + adj[i] for i in range(nd)]
    buf = numpy.zeros((n, f, *full))
    for g in range(groups):
        for off in _offsets(k):
            wk = w[(slice(g * cg, (g + 1) * cg), slice(None)) + off]
            contrib = numpy.einsum("nc...,cf->nf...", x[:, g * cg:(g + 1) * cg], wk)
            buf[(slice(None), slice(g * fg, (g + 1) * fg)) + _win(off, dilate, stride,
                                                                  in_sp)] += contrib
    out = buf[(slice(None), slice(None)) + tuple(slice(p, fu - p) for p, fu in zip(pad, full))]
    if b is not None:
        out = out + b.reshape((1, f) + (1,) * nd)
    return out


def ref_pool(x, kernel, stride, pad, kind, ceil_mode=False, count_include_pad=True):
    nd = x.ndim - 2
    in_sp = x.shape[2:]
    rnd = math.ceil if ceil_mode else math.floor
    out_sp = [int(rnd((in_sp[i] + 2 * pad[i] - kernel[i]) / stride[i])) + 1 for i in range(nd)]
    extra = [max(0, (out_sp[i] - 1) * stride[i] + kernel[i] - in_sp[i] - 2 * pad[i])
             for i in range(nd)]
    widths = [(0, 0), (0, 0)] + [(pad[i], pad[i] + extra[i]) for i in range(nd)]
    fill = -numpy.inf if kind == "max" else 0.0
    xp = numpy.pad(x, widths, constant_values=fill)
    real = numpy.pad(numpy.ones(in_sp), widths[2:])
    out = numpy.zeros(x.shape[:2] + tuple(out_sp))
    for pos in itertools.product(*[range(o) for o in out_sp]):
        sl = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, stride, kernel))
        window = xp[(slice(None), slice(None)) + sl].reshape(x.shape[:2] + (-1,))
        if kind == "max":
            out[(slice(None), slice(None)) + pos] = window.max(-1)
        else:
            count = math.prod(kernel) if count_include_pad else real[sl].sum()
            out[(slice(None), slice(None)) + pos] = window.sum(-1) / count
    return out


def _bn_ref(x, gamma, beta, mean, var, axis, eps):
    shape = [1] * x.ndim
    shape[axis] = -1
    r = lambda a: a.reshape(shape)
    return (x - r(mean)) / numpy.sqrt(r(var) + eps) * r(gamma) + r(beta)


def _moments(x, axes):
    return x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)


_erf = numpy.vectorize(math.erf)
_SELU_L, _SELU_A = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
_sigmoid = lambda v: 1 / (1 + numpy.exp(-v))

ACTIVATIONS = {
    "relu": lambda v: numpy.maximum(v, 0),
    "sigmoid": _sigmoid,
    "tanh": numpy.tanh,
    "softrelu": lambda v: numpy.log1p(numpy.exp(v)),
    "softsign": lambda v: v / (1 + numpy.abs(v)),
}


# -- Dense --------------------------------------------------------------------------------------

@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_dense_forward(hybridize, flatten, activation):
    x = _rand((2, 3, 4))
    net = nn.Dense(5, activation=activation, flatten=flatten)

    def ref(xv, p):
        xv = xv.reshape(2, -1) if flatten else xv
        y = xv @ p["weight"].T + p["bias"]
        return ACTIVATIONS[activation](y) if activation else y

    out = check_forward(net, x, ref, hybridize)
    assert net.weight.shape == ((5, 12) if flatten else (5, 4))
    assert out.shape == ((2, 5) if flatten else (2, 3, 5))


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_dense_no_bias_and_dtype(hybridize):
    net = nn.Dense(3, use_bias=False, in_units=4, dtype="float64")
    assert list(net.collect_params()) == ["weight"]
    out = check_forward(net, _rand((2, 4)), lambda x, p: x @ p["weight"].T, hybridize)
    assert net.weight.dtype == numpy.float64 and out.shape == (2, 3)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("flatten", [True, False])
def test_dense_grads(hybridize, flatten):
    check_grads(nn.Dense(3, activation="tanh", flatten=flatten), _rand((2, 2, 3)), hybridize)


# -- convolutions -------------------------------------------------------------------------------

CONV_CASES = [
    # cls, x shape, kwargs
    (nn.Conv1D, (2, 2, 7), dict(channels=3, kernel_size=3)),
    (nn.Conv1D, (2, 4, 9), dict(channels=4, kernel_size=2, strides=2, padding=1, dilation=2,
                                groups=2)),
    (nn.Conv2D, (2, 2, 5, 6), dict(channels=3, kernel_size=3, padding=1)),
    (nn.Conv2D, (1, 4, 6, 5), dict(channels=2, kernel_size=(2, 3), strides=(2, 1),
                                   dilation=(1, 2), groups=2, use_bias=False)),
    (nn.Conv3D, (1, 2, 4, 3, 4), dict(channels=2, kernel_size=2, padding=(0, 1, 0))),
]


def _conv_ref(kw, nd):
    t = lambda v, d: (v,) * nd if isinstance(v, int) else tuple(v) if v is not None else (d,) * nd

    def ref(x, p):
        return ref_conv(x, p["weight"], p.get("bias"), t(kw.get("strides", 1), 1),
                        t(kw.get("padding", 0), 0), t(kw.get("dilation", 1), 1),
                        kw.get("groups", 1))
    return ref


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("cls, shape, kw", CONV_CASES)
def test_conv_forward(hybridize, cls, shape, kw):
    check_forward(cls(**kw), _rand(shape), _conv_ref(kw, len(shape) - 2), hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("cls, shape, kw", [CONV_CASES[0], CONV_CASES[3], CONV_CASES[4]])
def test_conv_grads(hybridize, cls, shape, kw):
    check_grads(cls(**kw), _rand(shape), hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_conv_channel_last_and_activation(hybridize):
    x = _rand((2, 5, 4, 3))  # NHWC
    net = nn.Conv2D(4, 3, layout="NHWC", activation="relu", padding=1)
    out = run(net, x, hybridize=hybridize)
    assert net.weight.shape == (4, 3, 3, 3)
    p = _params(net)
    w_first = numpy.moveaxis(p["weight"], -1, 1)
    expected = ref_conv(x.transpose(0, 3, 1, 2), w_first, p["bias"], (1, 1), (1, 1), (1, 1), 1)
    _close(out, numpy.maximum(expected, 0).transpose(0, 2, 3, 1))


DECONV_CASES = [
    (nn.Conv1DTranspose, (2, 2, 4), dict(channels=3, kernel_size=3)),
    (nn.Conv1DTranspose, (1, 4, 5), dict(channels=4, kernel_size=3, strides=2, padding=1,
                                         output_padding=1, groups=2)),
    (nn.Conv2DTranspose, (1, 2, 3, 4), dict(channels=3, kernel_size=(2, 3), strides=2,
                                            dilation=(2, 1), padding=(1, 0))),
    (nn.Conv3DTranspose, (1, 2, 2, 3, 2), dict(channels=2, kernel_size=2, use_bias=False)),
]


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("cls, shape, kw", DECONV_CASES)
def test_conv_transpose_forward(hybridize, cls, shape, kw):
    nd = len(shape) - 2
    t = lambda v, d: (v,) * nd if isinstance(v, int) else tuple(v) if v is not None else (d,) * nd

    def ref(x, p):
        return ref_deconv(x, p["weight"], p.get("bias"), t(kw.get("strides", 1), 1),
                          t(kw.get("padding", 0), 0), t(kw.get("dilation", 1), 1),
                          t(kw.get("output_padding", 0), 0), kw.get("groups", 1))

    net = cls(**kw)
    check_forward(net, _rand(shape), ref, hybridize)
    assert net.weight.shape[:2] == (shape[1], kw["channels"] // kw.get("groups", 1))


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("cls, shape, kw", DECONV_CASES[1:3])
def test_conv_transpose_grads(hybridize, cls, shape, kw):
    check_grads(cls(**kw), _rand(shape), hybridize)


# -- pooling ------------------------------------------------------------------------------------

POOL_CASES = [
    (nn.MaxPool1D, (2, 2, 7), dict(), "max"),
    (nn.MaxPool2D, (1, 2, 5, 6), dict(pool_size=3, strides=2, padding=1), "max"),
    (nn.MaxPool2D, (1, 2, 5, 5), dict(pool_size=2, ceil_mode=True), "max"),
    (nn.MaxPool3D, (1, 1, 4, 5, 4), dict(pool_size=(2, 3, 2), strides=(2, 1, 2)), "max"),
    (nn.AvgPool1D, (2, 2, 6), dict(pool_size=3, strides=1, padding=1), "avg"),
    (nn.AvgPool2D, (1, 2, 5, 5), dict(pool_size=3, strides=2, padding=1,
                                      count_include_pad=False), "avg"),
    (nn.AvgPool2D, (1, 2, 4, 6), dict(), "avg"),
    (nn.AvgPool3D, (1, 2, 4, 4, 2), dict(pool_size=2), "avg"),
]


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("cls, shape, kw, kind", POOL_CASES)
def test_pool_forward(hybridize, cls, shape, kw, kind):
    nd = len(shape) - 2
    t = lambda v: (v,) * nd if isinstance(v, int) else tuple(v)
    kernel = t(kw.get("pool_size", 2))
    stride = t(kw["strides"]) if "strides" in kw else kernel

    def ref(x, p):
        return ref_pool(x, kernel, stride, t(kw.get("padding", 0)), kind,
                        kw.get("ceil_mode", False), kw.get("count_include_pad", True))

    check_forward(cls(**kw), _distinct(shape), ref, hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("case", [1, 3, 5])
def test_pool_grads(hybridize, case):
    cls, shape, kw, _ = POOL_CASES[case]
    check_grads(cls(**kw), _distinct(shape), hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_global_pools(hybridize, nd):
    shape = (2, 3) + (4, 3, 2)[:nd]
    x = _distinct(shape)
    axes = tuple(range(2, 2 + nd))
    for name, fn in (("Max", numpy.max), ("Avg", numpy.mean)):
        net = getattr(nn, f"Global{name}Pool{nd}D")()
        check_forward(net, x, lambda v, p, fn=fn: fn(v, axis=axes, keepdims=True), hybridize)
    check_grads(getattr(nn, f"GlobalAvgPool{nd}D")(), x, hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_pool_channel_last(hybridize):
    x = _distinct((1, 4, 6, 2))
    out = run(nn.MaxPool2D(layout="NHWC"), x, hybridize=hybridize)
    expected = ref_pool(x.transpose(0, 3, 1, 2), (2, 2), (2, 2), (0, 0), "max")
    _close(out, expected.transpose(0, 2, 3, 1))
    out = run(nn.GlobalAvgPool1D(layout="NWC"), x[0], hybridize=hybridize)
    _close(out, x[0].mean(axis=1, keepdims=True))


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_reflection_pad(hybridize):
    x = _rand((1, 2, 3, 4))
    ref = lambda v, p: numpy.pad(v, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    check_forward(nn.ReflectionPad2D(2), x, ref, hybridize)
    check_grads(nn.ReflectionPad2D(1), x, hybridize)


# -- normalisation ------------------------------------------------------------------------------

@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("axis", [1, -1])
def test_batchnorm_training_and_inference(hybridize, axis):
    x = _rand((4, 3, 2), low=-2, high=3)
    c = x.shape[axis]
    red = tuple(i for i in range(3) if i != axis % 3)
    net = nn.BatchNorm(axis=axis)
    net.initialize()
    if hybridize:
        net.hybridize()
    gamma = _rand((c,), 1, 0.5, 1.5)
    beta = _rand((c,), 2)
    net.gamma.set_data(np.array(gamma))
    net.beta.set_data(np.array(beta))
    xa = np.array(x)
    with autograd.record():
        out = net(xa)
    mean, var = x.mean(axis=red), x.var(axis=red)  # biased variance
    _close(out, _bn_ref(x, gamma, beta, mean, var, axis % 3, 1e-5), rtol=1e-4, atol=1e-5)
    _close(net.running_mean.data(), 0.9 * 0 + 0.1 * mean)
    _close(net.running_var.data(), 0.9 * 1 + 0.1 * var)
    # inference: the running statistics normalise and stay unchanged
    rmean, rvar = 0.1 * mean, 0.9 + 0.1 * var
    out = net(xa)
    _close(out, _bn_ref(x, gamma, beta, rmean, rvar, axis % 3, 1e-5), rtol=1e-4, atol=1e-5)
    _close(net.running_mean.data(), rmean)
    assert net.running_mean.grad_req == "null" and net.running_var.grad_req == "null"


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_batchnorm_options(hybridize):
    x = _rand((3, 2, 2))
    net = nn.BatchNorm(scale=False, center=False, use_global_stats=True, in_channels=2,
                       momentum=0.5, epsilon=1e-3)
    net.initialize()
    assert net.gamma.grad_req == "null" and net.beta.grad_req == "null"
    net.running_mean.set_data(np.array([0.5, -0.5]))
    with autograd.record():
        out = net(np.array(x))
    # use_global_stats: running statistics even in training, and no update
    _close(out, _bn_ref(x, numpy.ones(2), numpy.zeros(2), numpy.array([0.5, -0.5]),
                        numpy.ones(2), 1, 1e-3), rtol=1e-4)
    _close(net.running_mean.data(), [0.5, -0.5])
    # scale=False is fix_gamma: gamma is treated as 1 whatever its value
    net2 = nn.BatchNorm(scale=False)
    net2.initialize()
    net2(np.array(x))
    net2.gamma.set_data(np.array([3.0, 3.0]))
    with autograd.record():
        out = net2(np.array(x))
    m, v = _moments(x, (0, 2))
    _close(out, (x - m) / numpy.sqrt(v + 1e-5), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_batchnorm_grads(hybridize):
    check_grads(nn.BatchNorm(), _rand((3, 2, 2), low=-2, high=2), hybridize, train=True,
                rtol=1e-4, atol=1e-6)
    check_grads(nn.BatchNorm(axis=-1), _rand((4, 3)), hybridize, train=False)


def test_batchnorm_cast_float16_keeps_float32_statistics():
    net = nn.BatchNorm(in_channels=2)
    net.initialize()
    net.cast("float16")
    assert all(p.dtype == numpy.float32 for p in net.collect_params().values())
    net.cast("float64")
    assert all(p.dtype == numpy.float64 for p in net.collect_params().values())


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("axis", [-1, 1])
def test_layernorm(hybridize, axis):
    x = _rand((2, 3, 4), low=-2, high=2)

    def ref(v, p):
        m, var = _moments(v, axis)
        shape = [1, 1, 1]
        shape[axis] = -1
        return (v - m) / numpy.sqrt(var + 1e-5) * p["gamma"].reshape(shape) + \
            p["beta"].reshape(shape)

    net = nn.LayerNorm(axis=axis)
    check_forward(net, x, ref, hybridize)
    assert net.gamma.shape == (x.shape[axis],)
    check_grads(nn.LayerNorm(axis=axis), x, hybridize, rtol=1e-4)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("groups", [1, 2])
def test_groupnorm(hybridize, groups):
    x = _rand((2, 4, 3), low=-2, high=2)

    def ref(v, p):
        g = v.reshape(2, groups, -1)
        m, var = _moments(g, 2)
        norm = ((g - m) / numpy.sqrt(var + 1e-5)).reshape(v.shape)
        return norm * p["gamma"].reshape(1, -1, 1) + p["beta"].reshape(1, -1, 1)

    check_forward(nn.GroupNorm(num_groups=groups), x, ref, hybridize)
    check_grads(nn.GroupNorm(num_groups=groups), x, hybridize, rtol=1e-4)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("axis", [1, 2])
def test_instancenorm(hybridize, axis):
    x = _rand((2, 3, 4), low=-2, high=2)
    other = 3 - axis  # the remaining (spatial) axis

    def ref(v, p):
        m, var = _moments(v, other)
        shape = [1, 1, 1]
        shape[axis] = -1
        return (v - m) / numpy.sqrt(var + 1e-5) * p["gamma"].reshape(shape) + \
            p["beta"].reshape(shape)

    net = nn.InstanceNorm(axis=axis)
    check_forward(net, x, ref, hybridize)
    assert net.gamma.grad_req == "null" and net.beta.grad_req == "write"  # scale=False
    check_grads(nn.InstanceNorm(axis=axis, scale=True), x, hybridize, rtol=1e-4)


# -- dropout, embedding, flatten, lambdas, identity ---------------------------------------------

@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_dropout(hybridize):
    x = _rand((50, 40), low=0.5, high=1.5)
    net = nn.Dropout(0.5)
    if hybridize:
        net.hybridize()
    xa = np.array(x)
    _close(net(xa), x)  # identity outside training
    np.random.seed(3)
    xa.attach_grad()
    with autograd.record():
        out = net(xa)
    out.backward()
    y = out.asnumpy()
    kept = y != 0
    _close(y[kept], 2 * x.astype(numpy.float32)[kept])  # inverted: survivors scaled by 1/(1-p)
    assert 0.4 < kept.mean() < 0.6
    _close(xa.grad, numpy.where(kept, 2.0, 0.0))
    # axes share one draw
    with autograd.record():
        y = nn.Dropout(0.5, axes=(1,))(np.array(x)).asnumpy()
    assert ((y == 0).all(axis=1) | (y != 0).all(axis=1)).all()
    # rate 0 copies
    with autograd.record():
        _close(nn.Dropout(0)(xa), x)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_embedding(hybridize):
    idx = numpy.array([[0, 3, 1], [4, 4, 2]], dtype=numpy.float64)
    net = nn.Embedding(5, 3)
    check_forward(net, idx, lambda v, p: p["weight"][v.astype(int)], hybridize)
    assert net.weight.shape == (5, 3)
    check_grads(nn.Embedding(5, 2), idx, hybridize, wrt_input=False)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
def test_flatten_identity_lambdas(hybridize):
    x = _rand((2, 3, 4))
    check_forward(nn.Flatten(), x, lambda v, p: v.reshape(2, -1), hybridize)
    check_forward(nn.Identity(), x, lambda v, p: v, hybridize)
    check_forward(nn.HybridLambda("tanh"), x, lambda v, p: numpy.tanh(v), hybridize)
    check_forward(nn.HybridLambda(lambda v: v * 2), x, lambda v, p: v * 2, hybridize)
    # 1.x style: function(F, x)
    check_forward(nn.HybridLambda(lambda F, v: F.np.abs(v)), x, lambda v, p: numpy.abs(v),
                  hybridize)
    check_forward(nn.Lambda("relu"), x, lambda v, p: numpy.maximum(v, 0))
    check_forward(nn.Lambda(lambda v: v + 1), x, lambda v, p: v + 1)
    check_grads(nn.Flatten(), x[:, :2, :2], hybridize)


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("hybrid", [False, True])
def test_concatenate(hybridize, hybrid):
    net = nn.HybridConcatenate(axis=1) if hybrid else nn.Concatenate(axis=1)
    net.add(nn.Dense(2), nn.Dense(3), nn.Identity())
    x = _rand((2, 4))

    def ref(v, p):
        return numpy.concatenate([v @ p["0.weight"].T + p["0.bias"],
                                  v @ p["1.weight"].T + p["1.bias"], v], axis=1)

    check_forward(net, x, ref, hybridize)
    sliced = net[1:]
    assert type(sliced) is type(net) and sliced.axis == 1 and len(sliced) == 2


# -- activations --------------------------------------------------------------------------------

def _gelu_tanh(v):
    return 0.5 * v * (1 + numpy.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))


ACT_CASES = [
    *[(lambda a=a: nn.Activation(a), lambda v, p, a=a: ACTIVATIONS[a](v)) for a in ACTIVATIONS],
    (lambda: nn.LeakyReLU(0.1), lambda v, p: numpy.where(v > 0, v, 0.1 * v)),
    (lambda: nn.ELU(0.7), lambda v, p: numpy.where(v > 0, v, 0.7 * (numpy.exp(v) - 1))),
    (lambda: nn.SELU(), lambda v, p: _SELU_L * numpy.where(v > 0, v, _SELU_A * numpy.expm1(v))),
    (lambda: nn.GELU(), lambda v, p: 0.5 * v * (1 + _erf(v / math.sqrt(2)))),
    (lambda: nn.GELU(approximation="tanh"), lambda v, p: _gelu_tanh(v)),
    (lambda: nn.Swish(1.5), lambda v, p: v * _sigmoid(1.5 * v)),
    (lambda: nn.SiLU(), lambda v, p: v * _sigmoid(v)),
    (lambda: nn.PReLU(), lambda v, p: numpy.where(v > 0, v, p["alpha"] * v)),
    (lambda: nn.PReLU(init.Constant(0.1), in_channels=3),
     lambda v, p: numpy.where(v > 0, v, p["alpha"].reshape(1, 3, 1) * v)),
]


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("make, ref", ACT_CASES)
def test_activation_layers(hybridize, make, ref):
    # values away from the kinks at 0 so that finite differences are smooth
    x = _rand((2, 3, 2), low=0.1, high=2.0) * numpy.where(_rand((2, 3, 2), 1) > 0, 1, -1)
    check_forward(make(), x, ref, hybridize)
    check_grads(make(), x, hybridize)


def test_prelu_default_alpha():
    net = nn.PReLU()
    net.initialize(init.Constant(1))  # the layer's own Constant(0.25) wins
    _close(net.alpha.data(), [0.25])
    _close(net(np.array([-4.0, 2.0])), [-1.0, 2.0])


# -- deferred initialization and initializers -----------------------------------------------------

DEFERRED_CASES = [
    (lambda n: nn.Dense(4, in_units=n), (2, 2, 3), lambda s: s[1] * s[2]),
    (lambda n: nn.Dense(4, flatten=False, in_units=n), (2, 5, 3), lambda s: s[-1]),
    (lambda n: nn.Conv2D(4, 3, groups=2, in_channels=n), (1, 6, 4, 4), lambda s: s[1]),
    (lambda n: nn.Conv1D(4, 3, layout="NWC", in_channels=n), (1, 5, 6), lambda s: s[-1]),
    (lambda n: nn.Conv2DTranspose(4, 3, in_channels=n), (1, 3, 4, 4), lambda s: s[1]),
    (lambda n: nn.BatchNorm(in_channels=n), (2, 3, 4), lambda s: s[1]),
    (lambda n: nn.BatchNorm(axis=2, in_channels=n), (2, 3, 4), lambda s: s[2]),
    (lambda n: nn.LayerNorm(in_channels=n), (2, 3, 4), lambda s: s[-1]),
    (lambda n: nn.GroupNorm(2, in_channels=n), (2, 4, 3), lambda s: s[1]),
    (lambda n: nn.InstanceNorm(in_channels=n), (2, 3, 4), lambda s: s[1]),
]


@pytest.mark.parametrize("hybridize", HYBRIDIZE)
@pytest.mark.parametrize("make, shape, size", DEFERRED_CASES)
def test_deferred_matches_explicit(hybridize, make, shape, size):
    x = _rand(shape)
    deferred, explicit = make(0), make(size(shape))
    unknown = [p for p in deferred.collect_params().values() if -1 in p.shape]
    assert unknown, "in_units/in_channels=0 leaves a dimension unknown"
    deferred.initialize()
    with pytest.raises(Exception, match="deferred"):
        unknown[0].data()
    explicit.initialize()
    out_e = run(explicit, x, hybridize=hybridize)
    out_d = run(deferred, x, hybridize=hybridize)
    for (name, pd), pe in zip(deferred.collect_params().items(),
                              explicit.collect_params().values()):
        assert pd.shape == pe.shape, name
        pd.set_data(pe.data())
    assert out_d.shape == out_e.shape
    _close(run(deferred, x, hybridize=hybridize), out_e)


def test_initializer_precedence():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=2), nn.BatchNorm(), nn.Dense(2, weight_initializer="zeros",
                                                                bias_initializer="ones"),
            nn.Conv1D(2, 1, weight_initializer=init.Constant(3)))
    net.initialize(init.Constant(1))
    net[:3](np.ones((2, 2)))
    _close(net[0].weight.data(), numpy.ones((3, 2)))
    _close(net[0].bias.data(), numpy.zeros(3))  # layer-level 'zeros' wins (API.md §2 item 18)
    p = _params(net[1])
    _close(p["gamma"], numpy.ones(3))
    _close(p["beta"], numpy.zeros(3))
    _close(p["running_mean"], numpy.zeros(3))
    _close(p["running_var"], numpy.ones(3))
    _close(net[2].weight.data(), numpy.zeros((2, 3)))
    _close(net[2].bias.data(), numpy.ones(2))
    net[3](np.ones((1, 4, 3)))
    _close(net[3].weight.data(), numpy.full((2, 4, 1), 3.0))


def test_cast():
    net = nn.HybridSequential()
    net.add(nn.Dense(3), nn.LayerNorm())
    net.initialize()
    net.cast("float64")
    out = net(np.array(_rand((2, 4)), dtype="float64"))
    assert out.dtype == numpy.float64
    assert all(p.dtype == numpy.float64 for p in net.collect_params().values())
    net.cast("float32")
    assert net[0].weight.data().dtype == numpy.float32


# -- containers, names, repr, summary -------------------------------------------------------------

def test_sequential_indexing():
    for cls in (nn.Sequential, nn.HybridSequential):
        net = cls()
        layers = [nn.Dense(4), nn.Dropout(0.1), nn.Dense(2)]
        net.add(*layers)
        assert len(net) == 3
        assert net[0] is layers[0] and net[-1] is layers[2]
        assert list(net) == layers
        sub = net[1:]
        assert type(sub) is cls and len(sub) == 2 and sub[0] is layers[1]
        with pytest.raises(IndexError):
            net[3]
        net.initialize()
        assert run(net, _rand((5, 3))).shape == (5, 2)
        assert run(net[:1], _rand((5, 3))).shape == (5, 4)


def test_sequential_passes_multiple_outputs():
    net = nn.Sequential()
    net.add(nn.Lambda(lambda x: (x, x * 2)), nn.Lambda(lambda a, b: a + b))
    _close(net(np.array([1.0, 2.0])), [3.0, 6.0])


def test_sequential_of_hybrid_blocks_warns_on_hybridize():
    net = nn.Sequential()
    net.add(nn.Dense(2), nn.Dense(3))
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize()
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize(False)
    mixed = nn.Sequential()
    mixed.add(nn.Dense(2), nn.Lambda("relu"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mixed.hybridize(False)


def test_collect_params_structural_names():
    class Net(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.features = nn.HybridSequential()
            self.features.add(nn.Conv2D(2, 3), nn.BatchNorm(), nn.Dense(3))
            self.output = nn.Dense(1, use_bias=False)

        def forward(self, x):
            return self.output(self.features(x))

    net = Net()
    assert list(net.collect_params()) == [
        "features.0.weight", "features.0.bias", "features.1.gamma", "features.1.beta",
        "features.1.running_mean", "features.1.running_var", "features.2.weight",
        "features.2.bias", "output.weight"]
    assert list(net.collect_params(".*running")) == ["features.1.running_mean",
                                                     "features.1.running_var"]
    seq = nn.Sequential()
    seq.add(nn.Dense(2), nn.Dense(1))
    assert list(seq.collect_params()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    net.initialize()
    assert net(np.ones((1, 1, 5, 5))).shape == (1, 1)


def test_repr():
    assert repr(nn.Dense(3, in_units=144)) == "Dense(144 -> 3, linear)"
    assert repr(nn.Dense(10, activation="relu")) == "Dense(None -> 10, Activation(relu))"
    assert repr(nn.Conv2D(4, 3, in_channels=1)) == \
        "Conv2D(1 -> 4, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2D(8, 3, padding=1, strides=2, dilation=2, groups=2, use_bias=False,
                          activation="relu")) == (
        "Conv2D(None -> 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "dilation=(2, 2), groups=2, bias=False, Activation(relu))")
    assert repr(nn.Conv1DTranspose(4, 3, in_channels=2, output_padding=1, strides=2)) == \
        "Conv1DTranspose(2 -> 4, kernel_size=(3,), stride=(2,), output_padding=(1,))"
    assert repr(nn.MaxPool2D()) == ("MaxPool2D(size=(2, 2), stride=(2, 2), padding=(0, 0), "
                                    "ceil_mode=False, global_pool=False, pool_type=max, "
                                    "layout=NCHW)")
    assert repr(nn.BatchNorm(in_channels=3)) == (
        "BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, use_global_stats=False, "
        "in_channels=3)")
    assert repr(nn.Dropout(0.3)) == "Dropout(p = 0.3, axes=())"
    assert repr(nn.Embedding(10, 4)) == "Embedding(10 -> 4, float32)"
    assert repr(nn.Activation("tanh")) == "Activation(tanh)"
    assert repr(nn.LeakyReLU(0.1)) == "LeakyReLU(0.1)"
    assert repr(nn.Flatten()) == "Flatten"
    net = nn.Sequential()
    inner = nn.HybridSequential()
    inner.add(nn.Dense(3, in_units=2), nn.Dropout(0.5))
    net.add(nn.Dense(2, in_units=5, activation="relu"), inner)
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Dense(5 -> 2, Activation(relu))\n"
        "  (1): HybridSequential(\n"
        "    (0): Dense(2 -> 3, linear)\n"
        "    (1): Dropout(p = 0.5, axes=())\n"
        "  )\n"
        ")")
    assert repr(nn.HybridSequential()) == "HybridSequential(\n\n)"


def test_summary(capsys):
    net = nn.HybridSequential()
    net.add(nn.Dense(4, in_units=3), nn.Dense(2))
    net.initialize()
    net.summary(np.ones((2, 3)))
    expected = (
        "--------------------------------------------------------------------------------\n"
        "        Layer (type)                                Output Shape         Param #\n"
        "================================================================================\n"
        "               Input                                      (2, 3)               0\n"
        "             Dense-1                                      (2, 4)              16\n"
        "             Dense-2                                      (2, 2)              10\n"
        "================================================================================\n"
        "Parameters in forward computation graph, duplicate included\n"
        "   Total params: 26\n"
        "   Trainable params: 26\n"
        "   Non-trainable params: 0\n"
        "Shared params in forward computation graph: 0\n"
        "Unique parameters in model: 26\n"
        "--------------------------------------------------------------------------------\n")
    assert capsys.readouterr().out == expected


def test_summary_counts_batchnorm_statistics_as_non_trainable(capsys):
    net = nn.Sequential()
    net.add(nn.Conv2D(2, 3, in_channels=1), nn.BatchNorm(), nn.GlobalAvgPool2D(), nn.Flatten())
    net.initialize()
    net.summary(np.ones((1, 1, 5, 5)))
    out = capsys.readouterr().out
    for row in ("Conv2D-1", "BatchNorm-2", "GlobalAvgPool2D-3", "Flatten-4"):
        assert row in out
    assert "Total params: 28" in out and "Non-trainable params: 4" in out


# -- errors -------------------------------------------------------------------------------------

def test_shape_mismatch_names_block_path_and_shapes():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=4), nn.Dense(2, in_units=5))
    net.initialize()
    with pytest.raises(ShapeError, match=r"Dense '1'.*\(2, 5\).*expects 5.*\(2, 3\) has 3"):
        net(np.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"Dense '0'.*expects 4.*\(2, 6\) has 6"):
        net(np.ones((2, 6)))
    conv = nn.Conv2D(2, 3, in_channels=3)
    conv.initialize()
    with pytest.raises(ShapeError, match=r"Conv2D 'Conv2D'.*expects 3 input channels.*has 4"):
        conv(np.ones((1, 4, 5, 5)))
    with pytest.raises(ShapeError, match=r"expects 4-d input \(layout NCHW\)"):
        conv(np.ones((4, 5, 5)))
    grouped = nn.Conv2D(4, 3, groups=2)
    grouped.initialize()
    with pytest.raises(ShapeError, match="not divisible by groups 2"):
        grouped(np.ones((1, 3, 5, 5)))
    gn = nn.GroupNorm(2)
    gn.initialize()
    with pytest.raises(ShapeError, match="divisible by num_groups 2"):
        gn(np.ones((1, 3, 4)))
    bn = nn.BatchNorm(in_channels=2)
    bn.initialize()
    with pytest.raises(ShapeError, match=r"BatchNorm 'BatchNorm'.*expects 2 channels"):
        bn(np.ones((2, 3)))


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Dense(0), "units"),
    (lambda: nn.Dense(3, in_units=-1), "in_units"),
    (lambda: nn.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: nn.Conv2D(4, 3, strides=0), "strides"),
    (lambda: nn.Conv2D(4, 3, layout="NCW"), "layout"),
    (lambda: nn.Conv2D(3, 3, groups=2), "groups"),
    (lambda: nn.Conv1D(4, 3, padding=(1, 1)), "padding"),
    (lambda: nn.MaxPool2D(layout="NCDHW"), "layout"),
    (lambda: nn.AvgPool1D(pool_size=(2, 2)), "pool_size"),
    (lambda: nn.Activation("swish"), "activation"),
    (lambda: nn.LeakyReLU(-0.1), "alpha"),
    (lambda: nn.GELU("exact"), "approximation"),
    (lambda: nn.Dropout(1.5), "rate"),
    (lambda: nn.Embedding(0, 3), "input_dim"),
    (lambda: nn.GroupNorm(0), "num_groups"),
    (lambda: nn.Lambda("no_such_op"), "no_such_op"),
    (lambda: nn.HybridLambda(3), "Unrecognized"),
    (lambda: nn.ReflectionPad2D((1, 2)), "padding"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_custom_block_without_infer_shape_raises():
    class Custom(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.weight = Parameter("weight", shape=(3, -1), allow_deferred_init=True)

        def forward(self, x):
            return x @ self.weight.data().T

    net = Custom()
    net.initialize()
    with pytest.raises(RuntimeError, match="infer_shape"):
        net(np.ones((2, 4)))
