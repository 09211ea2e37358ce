"""The legacy ``nd`` namespace: ``nd.NDArray`` semantics and MXNet 1.x's functions."""

from __future__ import annotations

import numpy
import pytest

import framework as mx
from framework import autograd, nd, np, npx
from framework.nd._mxnet_format import load_mxnet

RNG = numpy.random.default_rng(7)


def _r(*shape: int) -> numpy.ndarray:
    return RNG.standard_normal(shape).astype(numpy.float32)


def _close(a, b, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    a = a.asnumpy() if hasattr(a, "asnumpy") else numpy.asarray(a)
    b = b.asnumpy() if hasattr(b, "asnumpy") else numpy.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    numpy.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# -- the array ---------------------------------------------------------------------------------
def test_repr_and_dtype_type() -> None:
    a = nd.array([1, 2, 3])
    assert repr(a) == "\n[1. 2. 3.]\n<NDArray 3 @cpu(0)>"
    assert str(a) == repr(a)
    assert repr(nd.zeros((2, 3))) == "\n[[0. 0. 0.]\n [0. 0. 0.]]\n<NDArray 2x3 @cpu(0)>"
    assert a.dtype is numpy.float32  # the type, not a dtype instance
    assert nd.array(numpy.arange(3)).dtype is numpy.float32  # 1.x: float32 unless told
    assert nd.array([1, 2], dtype="int32").dtype is numpy.int32
    assert nd.array(a.astype("int64")).dtype is numpy.int64  # an NDArray keeps its dtype
    assert isinstance(a, nd.NDArray) and not isinstance(a, np.ndarray)
    assert a.context == mx.cpu() and a.ctx == mx.cpu()


def test_no_zero_d_arrays() -> None:
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    assert x.sum().shape == (1,)
    assert nd.sum(x).shape == (1,)
    assert x.max().asscalar() == 6
    assert x[0].shape == (3,)
    assert x[1, 2].shape == (1,)
    assert x[0][1].asscalar() == 2
    assert nd.dot(nd.array([1, 2]), nd.array([3, 4])).shape == (1,)
    assert nd.norm(x).shape == (1,)
    assert nd.array(5).shape == (1,)


def test_pickle_copy_and_devices() -> None:
    import copy
    import pickle

    a = nd.array([[1, 2], [3, 4]])
    b = pickle.loads(pickle.dumps(a))
    assert type(b) is nd.NDArray and b.asnumpy().tolist() == [[1, 2], [3, 4]]
    c = copy.deepcopy(a)
    c[0] = 0
    assert a.asnumpy()[0, 0] == 1 and type(c) is nd.NDArray
    assert a.as_in_context(mx.cpu()) is a
    d = a.copyto(mx.cpu())
    assert type(d) is nd.NDArray and d is not a
    e = nd.zeros((2, 2))
    a.copyto(e)
    assert e.asnumpy().tolist() == [[1, 2], [3, 4]]
    assert [r.shape for r in nd.array([1, 2])] == [(1,), (1,)]
    assert a.astype("int32").dtype is numpy.int32


def test_asscalar() -> None:
    v = nd.array([2.5]).asscalar()
    assert v == 2.5 and isinstance(v, numpy.float32)
    with pytest.raises(ValueError, match="not a scalar"):
        nd.array([1, 2]).asscalar()


def test_reductions_axis_keepdims_exclude() -> None:
    h = _r(2, 3, 4)
    x = nd.array(h)
    _close(nd.sum(x, axis=1), h.sum(1))
    _close(nd.mean(x, axis=(0, 2), keepdims=True), h.mean((0, 2), keepdims=True))
    _close(nd.sum(x, axis=1, exclude=True), h.sum((0, 2)))
    _close(x.max(axis=()), h.max().reshape(1))
    _close(nd.prod(x, axis=-1), h.prod(-1), rtol=1e-4)
    _close(nd.min(x, axis=0, exclude=True), h.min((1, 2)))
    am = nd.argmax(x, axis=2)
    assert am.dtype is numpy.float32  # 1.x returns indices as float32
    _close(am, h.argmax(2).astype(numpy.float32))
    _close(nd.argmin(x.reshape((-1,))), numpy.array([h.argmin()], numpy.float32))
    _close(nd.norm(x, axis=1), numpy.linalg.norm(h, axis=1), rtol=1e-5)
    _close(nd.norm(x, ord=1), numpy.abs(h).sum().reshape(1), rtol=1e-5)


@pytest.mark.parametrize("shape, codes, expected", [
    ((2, 3, 4), (0, -1), (2, 12)),
    ((2, 3, 4), (-2, 1, 1), (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), (1, 2, 3, 4)),
    ((2, 3, 4), (0, 0, -1), (2, 3, 4)),
    ((2, 3, 4), (4, -1), (4, 6)),
    ((6, 4), (-4, -1, 3, 0), (2, 3, 4)),
])
def test_reshape_special_codes(shape, codes, expected) -> None:
    h = _r(*shape)
    x = nd.array(h)
    for y in (x.reshape(codes), nd.reshape(x, codes), nd.Reshape(x, shape=codes)):
        assert isinstance(y, nd.NDArray)
        _close(y, h.reshape(expected))


def test_reshape_reverse() -> None:
    x = nd.zeros((10, 5, 4))
    assert x.reshape((-1, 0), reverse=True).shape == (50, 4)
    assert nd.reshape(x, (-1, 0)).shape == (40, 5)
    with pytest.raises(ValueError, match="-1"):
        x.reshape((-1, -1))


def test_comparisons_and_arithmetic() -> None:
    a, b = nd.array([1, 2, 3]), nd.array([3, 2, 1])
    eq = a == b
    assert isinstance(eq, nd.NDArray) and eq.dtype is numpy.float32
    _close(eq, [0, 1, 0])
    _close(a > 1, [0, 1, 1])
    _close(nd.broadcast_greater(a, b), [0, 0, 1])
    _close(a + 1 - b * 2 / 4, [1 + 1 - 1.5, 2 + 1 - 1, 3 + 1 - 0.5])
    _close(2 ** a, [2, 4, 8])
    c = nd.array(_r(2, 1))
    _close(nd.broadcast_add(c, a), c.asnumpy() + a.asnumpy())
    a += 1
    _close(a, [2, 3, 4])
    with pytest.raises(ValueError, match="equal shapes"):
        nd.elemwise_add(c, a)
    _close(nd.elemwise_mul(a, b), [6, 6, 4])


def test_mixing_with_np_or_numpy_raises() -> None:
    a = nd.ones((2,))
    with pytest.raises(TypeError, match="np.ndarray"):
        a + np.ones((2,))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        a * numpy.ones(2)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        numpy.ones(2) + a


def test_conversion_shares_memory_both_ways() -> None:
    x = nd.array([[1, 2], [3, 4]])
    y = x.as_np_ndarray()
    assert type(y) is np.ndarray and y._var is x._var
    y[0, 0] = 10  # a write through the np view is seen by the NDArray
    assert x.asnumpy()[0, 0] == 10
    x[1] = 7  # and the other way round
    assert y.asnumpy().tolist() == [[10, 2], [7, 7]]
    z = np.zeros((3,))
    w = z.as_nd_ndarray()
    assert type(w) is nd.NDArray and w._var is z._var
    w += 5
    assert z.asnumpy().tolist() == [5, 5, 5]
    assert w.as_nd_ndarray() is w and y.as_np_ndarray() is y


def test_autograd_on_ndarray_and_across_conversion() -> None:
    h = _r(3, 2)
    x = nd.array(h)
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum() + (x.as_np_ndarray() * 3).sum().as_nd_ndarray()
    assert isinstance(y, nd.NDArray) and y.shape == (1,)
    y.backward()
    assert isinstance(x.grad, nd.NDArray)
    _close(x.grad, 2 * h + 3)
    # a view converted outside record aliases the variable: its gradient lands in x.grad
    v = x.as_np_ndarray()
    with autograd.record():
        (v * 4).sum().backward()
    _close(x.grad, numpy.full((3, 2), 4.0))


def test_stop_gradient_blocks() -> None:
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * nd.stop_gradient(x) + nd.BlockGrad(x)).sum()
    y.backward()
    _close(x.grad, [1.0, 2.0])


# -- functions -------------------------------------------------------------------------------
def test_creation() -> None:
    assert nd.zeros((2, 3), ctx=mx.cpu()).shape == (2, 3)
    assert nd.ones(4, dtype="int32").dtype is numpy.int32
    _close(nd.full((2,), 7), [7, 7])
    _close(nd.arange(3, repeat=2), [0, 0, 1, 1, 2, 2])
    assert nd.arange(5).dtype is numpy.float32
    _close(nd.eye(2, 3, 1), numpy.eye(2, 3, 1))
    _close(nd.linspace(0, 1, 5), numpy.linspace(0, 1, 5))
    assert isinstance(nd.zeros_like(nd.ones((2,))), nd.NDArray)
    assert nd.empty((1, 2)).shape == (1, 2)


def test_join_split_and_products() -> None:
    a, b = _r(2, 3), _r(2, 4)
    x, y = nd.array(a), nd.array(b)
    _close(nd.concat(x, y), numpy.concatenate([a, b], 1))  # dim=1 by default
    _close(nd.Concat(x, x, dim=0), numpy.concatenate([a, a], 0))
    _close(nd.concatenate([x, x]), numpy.concatenate([a, a]))
    _close(nd.stack(x, x, axis=1), numpy.stack([a, a], 1))
    parts = nd.split(y, num_outputs=2)  # axis=1 by default
    assert len(parts) == 2 and parts[1].shape == (2, 2)
    _close(parts[1], b[:, 2:])
    sq = nd.SliceChannel(x, num_outputs=3, axis=1, squeeze_axis=True)
    _close(sq[2], a[:, 2])
    with pytest.raises(ValueError, match="equal parts"):
        nd.split(x, 2)
    _close(nd.dot(x, y, transpose_a=True), a.T @ b, rtol=1e-5)
    _close(nd.dot(x, x, transpose_b=True), a @ a.T, rtol=1e-5)
    p, q = _r(3, 2, 4), _r(3, 4, 5)
    _close(nd.batch_dot(nd.array(p), nd.array(q)), p @ q, rtol=1e-5)
    _close(nd.add_n(x, x, x), 3 * a)


def test_indexing_functions() -> None:
    a = _r(3, 4)
    x = nd.array(a)
    idx = nd.array([2, 0])
    _close(nd.take(x, idx), a[[2, 0]])
    _close(nd.pick(x, nd.array([0, 3, 1]), axis=1), a[[0, 1, 2], [0, 3, 1]])
    _close(nd.one_hot(nd.array([1, 0]), 3), numpy.eye(3)[[1, 0]])
    top = nd.topk(x, k=2)
    _close(top, numpy.argsort(-a, axis=1)[:, :2].astype(numpy.float32))
    _close(nd.argsort(x, axis=0), numpy.argsort(a, 0).astype(numpy.float32))
    _close(nd.sort(x, is_ascend=False), -numpy.sort(-a, 1))
    _close(nd.slice(x, begin=(1, None), end=(3, 3)), a[1:3, :3])
    _close(nd.slice_axis(x, axis=1, begin=1, end=-1), a[:, 1:-1])
    _close(nd.gather_nd(x, nd.array([[0, 2], [1, 3]])), a[[0, 2], [1, 3]])
    cond = nd.array([1, 0, 1])
    _close(nd.where(cond, x, -x), numpy.where(numpy.array([1, 0, 1])[:, None] != 0, a, -a))
    _close(nd.clip(x, -0.5, 0.5), numpy.clip(a, -0.5, 0.5))
    _close(nd.broadcast_to(nd.array(a[:1]), (0, 4)), a[:1])
    _close(nd.broadcast_to(nd.array(a[:1]), (3, 4)), numpy.broadcast_to(a[:1], (3, 4)))
    _close(nd.broadcast_axis(nd.array(a[:, :1]), axis=1, size=2),
           numpy.broadcast_to(a[:, :1], (3, 2)))
    _close(nd.transpose(x), a.T)
    b3 = _r(2, 3, 4)
    _close(nd.flatten(nd.array(b3)), b3.reshape(2, 12))
    _close(nd.array(b3).flatten(), b3.reshape(2, 12))
    _close(nd.round(nd.array([0.5, 1.5, -0.5, 2.4])), [1, 2, -1, 2])


def test_elementwise_family() -> None:
    a = numpy.abs(_r(5)) + 0.1
    x = nd.array(a)
    for name in ("exp", "log", "sqrt", "square", "abs", "sign", "tanh", "sigmoid", "relu"):
        special = {"sigmoid": lambda v: 1 / (1 + numpy.exp(-v)), "relu": lambda v: v}
        ref = special[name] if name in special else getattr(numpy, name)
        _close(getattr(nd, name)(x), ref(a), rtol=1e-5)
    _close(nd.power(x, 2), a ** 2, rtol=1e-5)
    _close(nd.maximum(x, 0.5), numpy.maximum(a, 0.5))
    _close(nd.softmax(nd.array(a[None])), (numpy.exp(a) / numpy.exp(a).sum())[None], rtol=1e-5)
    _close(nd.log_softmax(x), a - numpy.log(numpy.exp(a).sum()), rtol=1e-5)


# -- CamelCase layer ops vs np/npx and NumPy ----------------------------------------------------
def test_fully_connected_and_activations() -> None:
    a, w, b = _r(4, 2, 3), _r(5, 6), _r(5)
    out = nd.FullyConnected(nd.array(a), nd.array(w), nd.array(b), num_hidden=5)
    assert isinstance(out, nd.NDArray)
    _close(out, a.reshape(4, 6) @ w.T + b, rtol=1e-5)
    nob = nd.FullyConnected(nd.array(a), nd.array(w), num_hidden=5, no_bias=True)
    _close(nob, a.reshape(4, 6) @ w.T, rtol=1e-5)
    x = nd.array(a)
    _close(nd.Activation(x, act_type="tanh"), numpy.tanh(a), rtol=1e-5)
    _close(nd.Activation(x, act_type="softrelu"), numpy.log1p(numpy.exp(a)), rtol=1e-5)
    _close(nd.LeakyReLU(x, slope=0.1), numpy.where(a > 0, a, 0.1 * a))
    _close(nd.Flatten(x), a.reshape(4, 6))


def test_convolution_pooling_vs_npx() -> None:
    a, w, b = _r(2, 3, 7, 7), _r(4, 3, 3, 3), _r(4)
    x = nd.array(a)
    out = nd.Convolution(x, nd.array(w), nd.array(b), kernel=(3, 3), num_filter=4,
                         stride=(2, 2), pad=(1, 1))
    ref = npx.convolution(np.array(a), np.array(w), np.array(b), kernel=(3, 3), num_filter=4,
                          stride=(2, 2), pad=(1, 1))
    assert isinstance(out, nd.NDArray) and out.shape == (2, 4, 4, 4)
    _close(out, ref.asnumpy(), rtol=1e-5)
    # stride 1, no pad: check one output position by hand
    c1 = nd.Convolution(x, nd.array(w), kernel=(3, 3), num_filter=4, no_bias=True)
    _close(c1[1, 2, 3, 4], (a[1, :, 3:6, 4:7] * w[2]).sum().reshape(1), rtol=1e-4)
    wd = _r(3, 2, 2, 2)
    dc = nd.Deconvolution(x, nd.array(wd), kernel=(2, 2), num_filter=2, stride=(2, 2))
    ref_dc = npx.deconvolution(np.array(a), np.array(wd), kernel=(2, 2), num_filter=2,
                               stride=(2, 2), no_bias=True)
    _close(dc, ref_dc.asnumpy(), rtol=1e-5)
    mp = nd.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    _close(mp, a[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).max((3, 5)))
    ap = nd.Pooling(x, kernel=(2, 2), pool_type="avg", global_pool=True)
    _close(ap, a.mean((2, 3), keepdims=True), rtol=1e-5)


def test_norms_dropout_embedding_sequence_mask() -> None:
    a = _r(4, 3, 2)
    x = nd.array(a)
    gamma, beta = nd.array([1.0, 2.0, 3.0]), nd.array([0.0, 1.0, -1.0])
    mean, var = nd.array([0.1, 0.2, 0.3]), nd.array([1.0, 2.0, 0.5])
    out = nd.BatchNorm(x, gamma, beta, mean, var, eps=1e-3, fix_gamma=False,
                       use_global_stats=True)
    ref = ((a - mean.asnumpy()[None, :, None]) / numpy.sqrt(var.asnumpy()[None, :, None] + 1e-3)
           * gamma.asnumpy()[None, :, None] + beta.asnumpy()[None, :, None])
    _close(out, ref, rtol=1e-5)
    ln = nd.LayerNorm(x, nd.ones((2,)), nd.zeros((2,)), axis=-1, eps=1e-5)
    mu, sd = a.mean(-1, keepdims=True), numpy.sqrt(a.var(-1, keepdims=True) + 1e-5)
    _close(ln, (a - mu) / sd, rtol=1e-4, atol=1e-5)
    _close(nd.Dropout(x, p=0.5), a)  # not training: identity
    with autograd.record():
        d = nd.Dropout(nd.ones((1000,)), p=0.5)
    kept = d.asnumpy()
    assert set(numpy.unique(kept)) <= {0.0, 2.0} and 300 < (kept > 0).sum() < 700
    emb = _r(5, 3)
    _close(nd.Embedding(nd.array([4, 0]), nd.array(emb), input_dim=5, output_dim=3), emb[[4, 0]])
    seq = nd.SequenceMask(x, nd.array([1, 3, 2]), use_sequence_length=True, value=-1.0)
    ref_m = a.copy()
    for j, n in enumerate([1, 3, 2]):
        ref_m[n:, j] = -1
    _close(seq, ref_m)
    _close(nd.SequenceMask(x), a)


def test_softmax_output_forward_and_gradient() -> None:
    a = _r(4, 5)
    lab = numpy.array([1, 0, 4, 2], numpy.float32)
    x = nd.array(a)
    x.attach_grad()
    with autograd.record():
        out = nd.SoftmaxOutput(x, nd.array(lab), grad_scale=2.0)
    e = numpy.exp(a - a.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    _close(out, p, rtol=1e-5)
    out.backward(nd.ones((4, 5)) * 123)  # the head gradient is ignored
    _close(x.grad, 2.0 * (p - numpy.eye(5)[lab.astype(int)]), rtol=1e-5, atol=1e-6)
    with autograd.record():
        out = nd.SoftmaxOutput(x, nd.array([1, -1, 4, -1]), use_ignore=True,
                               normalization="valid")
    out.backward()
    g = (p - numpy.eye(5)[[1, 0, 4, 0]]) / 2
    g[[1, 3]] = 0
    _close(x.grad, g, rtol=1e-5, atol=1e-6)


# -- pad ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_vs_numpy(mode: str) -> None:
    a = _r(2, 1, 4, 5)
    width = (0, 0, 0, 0, 1, 2, 3, 1)
    out = nd.pad(nd.array(a), mode=mode, pad_width=width, constant_value=1.5)
    kw = {"constant_values": 1.5} if mode == "constant" else {}
    ref = numpy.pad(a, [(0, 0), (0, 0), (1, 2), (3, 1)], mode=mode, **kw)
    assert isinstance(out, nd.NDArray)
    _close(out, ref)
    a5 = _r(1, 2, 3, 3, 3)
    out5 = nd.pad(nd.array(a5), mode=mode, pad_width=(0, 0, 0, 0, 1, 1, 0, 2, 2, 0))
    _close(out5, numpy.pad(a5, [(0, 0), (0, 0), (1, 1), (0, 2), (2, 0)], mode=mode))


def test_pad_gradient_and_errors() -> None:
    a = _r(1, 1, 4, 4)
    x = nd.array(a)
    x.attach_grad()
    gout = _r(1, 1, 6, 8)
    with autograd.record():
        y = nd.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 1, 1, 2, 2))
    y.backward(nd.array(gout))
    # the adjoint of reflect padding: scatter-add each output position back to its source
    rows = numpy.pad(numpy.arange(4), (1, 1), mode="reflect")
    cols = numpy.pad(numpy.arange(4), (2, 2), mode="reflect")
    ref = numpy.zeros((4, 4), numpy.float32)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ref[r, c] += gout[0, 0, i, j]
    _close(x.grad, ref[None, None], rtol=1e-5)
    with pytest.raises(ValueError, match="4-D or 5-D"):
        nd.pad(nd.zeros((2, 3, 4)), pad_width=(0, 0, 0, 0, 1, 1))
    with pytest.raises(ValueError, match="batch and channel"):
        nd.pad(nd.zeros((2, 3, 4, 4)), pad_width=(1, 0, 0, 0, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="2\\*ndim"):
        nd.pad(nd.zeros((2, 3, 4, 4)), pad_width=(0, 0, 1, 1))
    with pytest.raises(ValueError, match="smaller"):
        nd.pad(nd.zeros((1, 1, 2, 2)), mode="reflect", pad_width=(0, 0, 0, 0, 2, 0, 0, 0))
    with pytest.raises(ValueError, match="mode"):
        nd.pad(nd.zeros((1, 1, 2, 2)), mode="wrap", pad_width=(0,) * 8)


# -- optimizer update operators ------------------------------------------------------------------
def _g(w, g, rescale, clip, wd):
    gp = g * numpy.float32(rescale)
    if clip > 0:
        gp = numpy.clip(gp, -clip, clip)
    return gp + wd * w


def test_sgd_update_vs_numpy() -> None:
    w, g = _r(3, 4), _r(3, 4) * 10
    kw = dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=1.0)
    ref = w - 0.1 * _g(w, g, 0.5, 1.0, 0.01)
    weight = nd.array(w)
    out = nd.sgd_update(weight, nd.array(g), **kw)
    _close(out, ref)
    _close(weight, w)  # not in place without out=
    nd.sgd_update(weight, nd.array(g), out=weight, **kw)
    _close(weight, ref)
    assert type(out) is nd.NDArray


def test_sgd_mom_update_vs_numpy() -> None:
    w, g, m = _r(5), _r(5), _r(5)
    kw = dict(lr=0.05, momentum=0.9, wd=0.001, rescale_grad=1.0 / 8, clip_gradient=-1.0)
    m_ref = 0.9 * m - 0.05 * _g(w, g, 1.0 / 8, -1, 0.001)
    weight, mom = nd.array(w), nd.array(m)
    nd.sgd_mom_update(weight, nd.array(g), mom, out=weight, **kw)
    _close(mom, m_ref)
    _close(weight, w + m_ref)


def test_adam_update_vs_numpy() -> None:
    w, g = _r(2, 3), _r(2, 3) * 5
    mean, var = numpy.abs(_r(2, 3)) * 0.1, numpy.abs(_r(2, 3)) * 0.01
    kw = dict(lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.1, rescale_grad=2.0,
              clip_gradient=3.0)
    gp = _g(w, g, 2.0, 3.0, 0.1)
    m_ref = 0.8 * mean + 0.2 * gp
    v_ref = 0.99 * var + 0.01 * gp * gp
    w_ref = w - 0.01 * m_ref / (numpy.sqrt(v_ref) + 1e-6)
    weight, m, v = nd.array(w), nd.array(mean), nd.array(var)
    out = nd.adam_update(weight, nd.array(g), m, v, out=weight, **kw)
    assert out is weight
    _close(m, m_ref)
    _close(v, v_ref)
    _close(weight, w_ref)
    with pytest.raises(ValueError, match="shape"):
        nd.adam_update(weight, nd.zeros((3,)), m, v, lr=0.1)


# -- random, linalg, files -------------------------------------------------------------------
def test_random() -> None:
    mx.random.seed(3)
    u = nd.random.uniform(-1, 2, shape=(200,))
    mx.random.seed(3)
    u2 = nd.random.uniform(-1, 2, shape=(200,))
    assert isinstance(u, nd.NDArray) and u.dtype is numpy.float32
    _close(u, u2)
    h = u.asnumpy()
    assert h.min() >= -1 and h.max() < 2
    assert nd.random.uniform().shape == (1,)
    n = nd.random.normal(loc=5, scale=0.1, shape=(2, 500)).asnumpy()
    assert n.shape == (2, 500) and abs(n.mean() - 5) < 0.05
    lo = nd.array([0.0, 10.0])
    batch = nd.random.uniform(lo, lo + 1, shape=(3,))
    assert batch.shape == (2, 3) and (batch.asnumpy()[1] >= 10).all()
    r = nd.random.randint(2, 5, shape=(100,))
    assert r.dtype is numpy.int32 and set(numpy.unique(r.asnumpy())) <= {2, 3, 4}
    x = nd.arange(10)
    s = nd.random.shuffle(x)
    assert sorted(s.asnumpy().tolist()) == list(range(10))
    _close(x, numpy.arange(10))  # 1.x returns a shuffled copy


def test_linalg() -> None:
    a, b, c = _r(3, 4), _r(4, 2), _r(3, 2)
    A, B, C = nd.array(a), nd.array(b), nd.array(c)
    _close(nd.linalg.gemm(A, B, C, alpha=2.0, beta=0.5), 2 * a @ b + 0.5 * c, rtol=1e-5)
    _close(nd.linalg.gemm2(A, A, transpose_b=True), a @ a.T, rtol=1e-5)
    _close(nd.linalg.syrk(A), a @ a.T, rtol=1e-5)
    _close(nd.linalg.syrk(A, transpose=True, alpha=0.5), 0.5 * a.T @ a, rtol=1e-5)
    spd = (a @ a.T + 3 * numpy.eye(3)).astype(numpy.float32)
    L = nd.linalg.potrf(nd.array(spd))
    _close(L, numpy.linalg.cholesky(spd), rtol=1e-4, atol=1e-5)
    _close(nd.linalg.sumlogdiag(L), numpy.log(numpy.diag(numpy.linalg.cholesky(spd))).sum()
           .reshape(1), rtol=1e-4)
    rhs = _r(3, 2)
    low = numpy.tril(numpy.linalg.cholesky(spd))
    _close(nd.linalg.trsm(L, nd.array(rhs), alpha=2.0), numpy.linalg.solve(low, 2 * rhs),
           rtol=1e-4, atol=1e-5)
    _close(nd.linalg.trsm(L, nd.array(rhs.T), rightside=True, transpose=True),
           numpy.linalg.solve(low, rhs).T, rtol=1e-4, atol=1e-5)
    _close(nd.linalg.inverse(nd.array(spd)), numpy.linalg.inv(spd), rtol=1e-4, atol=1e-5)
    _close(nd.linalg.det(nd.array(spd)), numpy.linalg.det(spd).reshape(1), rtol=1e-4)
    with pytest.raises(ValueError, match="square"):
        nd.linalg.potrf(A)


def test_save_load_round_trip(tmp_path) -> None:
    a, b = nd.array(_r(2, 3)), nd.array([1, 2, 3], dtype="int32")
    f = str(tmp_path / "list.nd")
    nd.save(f, [a, b])
    got = nd.load(f)
    assert isinstance(got, list) and all(isinstance(g, nd.NDArray) for g in got)
    _close(got[0], a)
    assert got[1].dtype is numpy.int32 and got[1].asnumpy().tolist() == [1, 2, 3]
    raw = load_mxnet(f)  # the MXNet binary format, read independently
    numpy.testing.assert_array_equal(raw[0], a.asnumpy())
    g = str(tmp_path / "dict.nd")
    nd.save(g, {"w": a, "b": b})
    d = nd.load(g)
    assert sorted(d) == ["b", "w"]
    _close(d["w"], a)
    nd.save(f, a)
    assert len(nd.load(f)) == 1
    with pytest.raises(TypeError, match="dict must map"):
        nd.save(f, {"x": 1})


@pytest.mark.parametrize("mode,gates", [("lstm", 4), ("gru", 3), ("rnn_tanh", 1)])
def test_rnn_matches_npx_rnn_and_returns_ndarray(mode, gates) -> None:
    T, N, D, H = 3, 2, 4, 5
    rng = numpy.random.default_rng(1)
    x = rng.normal(size=(T, N, D)).astype("float32")
    w = (rng.normal(size=gates * H * (D + H + 2)) * 0.1).astype("float32")
    h = rng.normal(size=(1, N, H)).astype("float32")
    cell = [nd.array(h)] if mode == "lstm" else []
    out = nd.RNN(nd.array(x), nd.array(w), nd.array(h), *cell, state_size=H, mode=mode,
                 state_outputs=True)
    ref = npx.rnn(np.array(x), np.array(w), np.array(h), *[np.array(h)] * len(cell), mode=mode,
                  state_size=H, state_outputs=True)
    assert len(out) == len(ref) and all(type(o) is nd.NDArray for o in out)
    for o, r in zip(out, ref):
        numpy.testing.assert_array_equal(o.asnumpy(), r.asnumpy())
    with pytest.raises(ValueError, match="state_size"):
        nd.RNN(nd.array(x), nd.array(w), nd.array(h), mode=mode)
