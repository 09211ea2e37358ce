"""npx array operators: reshape codes, sequence_mask, batch_dot, gather_nd, slicing, index_add...,
and the special functions, each against a NumPy or closed-form oracle on both engines."""

from __future__ import annotations

import math
import types

import numpy
import pytest

import framework as mx
from framework import np, npx
from framework.base import FrameworkError, ShapeError
from framework.engine import engine_scope
from framework.nd._npx import _scatter_add, legacy_reshape_shape, npx_reshape_shape

RNG_SEED = 20240917


@pytest.fixture(params=["NaiveEngine", "ThreadedEngine"])
def engine(request):
    with engine_scope(request.param):
        yield request.param


def _rng(seed=RNG_SEED):
    return numpy.random.default_rng(seed)


def _arr(shape, dtype="float32", seed=0, low=-5.0, high=5.0):
    host = _rng(seed).uniform(low, high, size=shape).astype(dtype)
    return np.array(host), host


# -- reshape ---------------------------------------------------------------------------------------

# (input shape, newshape, reverse, expected) from MXNet's npx.reshape documentation and API.md
NPX_RESHAPE_DOC = [
    ((2, 3, 4), (-2, -1), False, (2, 12)),
    ((2, 3, 8), (-2, -2, 2, -1), False, (2, 3, 2, 4)),
    ((8, 3, 3, 3, 4, 4), (-6, 2, -1, -4), False, (2, 4, 3, 3, 3, 4, 4)),
    ((8, 3, 3, 3, 4, 4), (-5, -4), False, (24, 3, 3, 4, 4)),
    ((8, 1, 1, 1, 3), (-2, -3, -3, -3, -2), False, (8, 3)),
    ((8, 3, 3, 3, 3, 8), (-4, -5), True, (8, 3, 3, 3, 24)),
    ((8, 3, 2, 4, 8), (-4, -1, 2, -6), True, (8, 3, 2, 4, 4, 2)),
    ((2, 3, 4), (4, -1), False, (4, 6)),
    ((2, 3, 4), 24, False, (24,)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-4,), False, (2, 3, 4)),
    ((2, 3, 4), (-2, -6, -1, 3, -2), False, (2, 1, 3, 4)),
    ((6, 1), (-6, 2, 3, -3), False, (2, 3)),
    ((0, 3), (-2, -2), False, (0, 3)),
]


@pytest.mark.parametrize("shape,newshape,reverse,expected", NPX_RESHAPE_DOC)
def test_npx_reshape_documented_examples(engine, shape, newshape, reverse, expected):
    assert npx_reshape_shape(shape, newshape, reverse) == expected
    x, host = _arr(shape)
    y = npx.reshape(x, newshape, reverse=reverse)
    assert y.shape == expected and y.dtype == numpy.float32
    numpy.testing.assert_array_equal(y.asnumpy(), host.reshape(expected))


def test_npx_reshape_is_a_view_of_contiguous_data(engine):
    x, host = _arr((2, 3, 4))
    y = npx.reshape(x, (-2, -1))
    assert y._var is x._var  # shares the buffer and its engine variable
    z = npx.reshape(x.transpose(), (-1,))  # non-contiguous: a copy with the right values
    numpy.testing.assert_array_equal(z.asnumpy(), host.T.reshape(-1))


@pytest.mark.parametrize("newshape,match", [
    ((-7, 2), r"invalid code -7 in newshape \(-7, 2\) for input shape \(2, 3, 4\)"),
    ((-1, -1), r"more than one -1.*\(2, 3, 4\)"),
    ((-3, -1), r"-3 .*skips only input dimensions of size 1.*\(2, 3, 4\) is 2"),
    ((5, -1), r"cannot reshape array of shape \(2, 3, 4\) into shape \(5, -1\)"),
    ((2, 3, 5), r"cannot reshape array of shape \(2, 3, 4\) into shape \(2, 3, 5\)"),
    ((-2, -2, -2, -2), r"code -2 .*needs 1 more input dimension.*\(2, 3, 4\)"),
    ((-2, -2, -5), r"code -5 .*needs 2 more input dimension.*\(2, 3, 4\)"),
    ((-6, 5, -1, -4), r"code -6 .*split dimensions \(5, 0\) do not multiply to .* 2"),
    ((-6, -1, -1, -4), r"cannot both be -1"),
    ((-2, -6), r"-6 .*must be followed by the two dimensions"),
])
def test_npx_reshape_bad_codes_name_the_shape_and_code(newshape, match):
    x = np.zeros((2, 3, 4))
    with pytest.raises(ShapeError, match=match):
        npx.reshape(x, newshape)
    with pytest.raises(FrameworkError):  # MXNetError too
        npx.reshape(x, newshape)


# MXNet 1.x legacy Reshape (nd.reshape) documentation examples
LEGACY_DOC = [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
]


@pytest.mark.parametrize("shape,codes,reverse,expected", LEGACY_DOC)
def test_legacy_reshape_codes(shape, codes, reverse, expected):
    assert legacy_reshape_shape(shape, codes, reverse) == expected


def test_legacy_reshape_errors():
    with pytest.raises(ShapeError, match=r"invalid code -5 in shape \(-5,\) .*\(2, 3, 4\)"):
        legacy_reshape_shape((2, 3, 4), (-5,))
    with pytest.raises(ShapeError, match=r"split dimensions"):
        legacy_reshape_shape((2, 3, 4), (-4, 5, -1, -2))


# -- sequence_mask ---------------------------------------------------------------------------------

def _seq_mask_ref(data, lengths, value, axis):
    out = data.copy()
    for b, n in enumerate(lengths):
        n = int(n)
        if axis == 0:
            out[max(n, 0):, b] = value
        else:
            out[b, max(n, 0):] = value
    return out


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (6, 2, 3, 2)])
@pytest.mark.parametrize("len_dtype", ["float32", "int32", "int64"])
def test_sequence_mask_matches_reference(engine, axis, shape, len_dtype):
    x, host = _arr(shape, seed=1)
    batch = shape[1 - axis]
    lengths = _rng(2).integers(0, shape[axis] + 2, size=batch).astype(len_dtype)
    out = npx.sequence_mask(x, np.array(lengths), use_sequence_length=True, value=-7.5,
                            axis=axis)
    assert out.shape == shape and out.dtype == numpy.float32
    numpy.testing.assert_array_equal(out.asnumpy(), _seq_mask_ref(host, lengths, -7.5, axis))


def test_sequence_mask_d2l_call_and_identity(engine):
    # d2l's masked_softmax: npx.sequence_mask(X, valid_len, True, value=-1e6, axis=1)
    x = np.ones((4, 5), dtype="float64")
    valid = np.array([1.0, 2.0, 5.0, 0.0])
    out = npx.sequence_mask(x, valid, True, value=-1e6, axis=1)
    expect = numpy.where(numpy.arange(5)[None, :] < numpy.array([1, 2, 5, 0])[:, None], 1.0, -1e6)
    numpy.testing.assert_array_equal(out.asnumpy(), expect)
    assert out.dtype == numpy.float64
    # without use_sequence_length the data comes back unchanged (a new array)
    same = npx.sequence_mask(x, valid)
    numpy.testing.assert_array_equal(same.asnumpy(), numpy.ones((4, 5)))
    assert same is not x
    # fractional lengths are truncated, integer data keeps its dtype
    xi = np.array(numpy.arange(6, dtype=numpy.int32).reshape(3, 2))
    out = npx.sequence_mask(xi, np.array([1.7, 0.2]), True, value=-1)
    numpy.testing.assert_array_equal(out.asnumpy(), [[0, -1], [-1, -1], [-1, -1]])
    assert out.dtype == numpy.int32


def test_sequence_mask_errors():
    x = np.zeros((4, 3, 2))
    with pytest.raises(ValueError, match="axis must be 0 or 1.*2"):
        npx.sequence_mask(x, np.array([1, 2, 3]), True, axis=2)
    with pytest.raises(ShapeError, match=r"sequence_length must have shape \(3,\).*\(4, 3, 2\).*"
                                         r"got \(4,\)"):
        npx.sequence_mask(x, np.array([1, 2, 3, 4]), True, axis=0)
    with pytest.raises(ShapeError, match=r"shape \(4,\)"):
        npx.sequence_mask(x, np.array([1, 2, 3]), True, axis=1)
    with pytest.raises(ValueError, match="needs sequence_length"):
        npx.sequence_mask(x, None, True)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        npx.sequence_mask(np.zeros(3), np.array([1.0]), True)


# -- batch_dot -------------------------------------------------------------------------------------

@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("batch,dtype", [((3,), "float32"), ((2, 3), "float64"), ((4,), "int32")])
def test_batch_dot(engine, ta, tb, batch, dtype):
    n, k, m = 2, 5, 3
    a_shape = batch + ((k, n) if ta else (n, k))
    b_shape = batch + ((m, k) if tb else (k, m))
    a, ha = _arr(a_shape, dtype, seed=3)
    b, hb = _arr(b_shape, dtype, seed=4)
    out = npx.batch_dot(a, b, transpose_a=ta, transpose_b=tb)
    ref = numpy.matmul(numpy.swapaxes(ha, -1, -2) if ta else ha,
                       numpy.swapaxes(hb, -1, -2) if tb else hb)
    assert out.shape == batch + (n, m) and out.dtype == numpy.dtype(dtype)
    numpy.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5)


def test_batch_dot_errors():
    with pytest.raises(ShapeError, match=r"at least 3.*\(2, 3\) and \(2, 3, 4\)"):
        npx.batch_dot(np.zeros((2, 3)), np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match=r"batch dimensions must be equal.*\(2, 3, 4\) and "
                                         r"\(3, 4, 5\)"):
        npx.batch_dot(np.zeros((2, 3, 4)), np.zeros((3, 4, 5)))
    with pytest.raises(ShapeError, match=r"not aligned \(4 != 5\) with transpose_a=False"):
        npx.batch_dot(np.zeros((2, 3, 4)), np.zeros((2, 5, 6)))


# -- gather_nd -------------------------------------------------------------------------------------

def test_gather_nd_documented_examples(engine):
    data = np.array([[0, 1], [2, 3]])
    out = npx.gather_nd(data, np.array([[1, 1, 0], [0, 1, 0]]))
    numpy.testing.assert_array_equal(out.asnumpy(), [2, 3, 0])
    data = np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    out = npx.gather_nd(data, np.array([[0, 1], [1, 0]]))
    numpy.testing.assert_array_equal(out.asnumpy(), [[3, 4], [5, 6]])
    assert out.dtype == numpy.float32


@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("ind_dtype", ["int32", "int64", "float32"])
def test_gather_nd_random(engine, m, ind_dtype):
    dshape = (4, 5, 3, 2)
    data, host = _arr(dshape, "float64", seed=5)
    rng = _rng(6)
    ind = numpy.stack([rng.integers(-dshape[i], dshape[i], size=(3, 2)) for i in range(m)])
    out = npx.gather_nd(data, np.array(ind.astype(ind_dtype)))
    ref = host[tuple(ind)]
    assert out.shape == (3, 2) + dshape[m:]
    numpy.testing.assert_array_equal(out.asnumpy(), ref)


def test_gather_nd_errors(engine):
    data = np.zeros((2, 3))
    with pytest.raises(ShapeError, match=r"indices must have at least 2 dimensions.*shape \(2,\)"):
        npx.gather_nd(data, np.array([0, 1], dtype="int32"))
    with pytest.raises(ShapeError, match=r"indices of shape \(3, 1\) index 3 dimension.*\(2, 3\)"):
        npx.gather_nd(data, np.zeros((3, 1), dtype="int32"))
    # found when the op runs: at the call with NaiveEngine, at the first sync otherwise
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        npx.gather_nd(data, np.array([[0, 1], [1, 3]], dtype="int64")).asnumpy()
    with pytest.raises(IndexError, match="index -3 is out of bounds for axis 0 with size 2"):
        npx.gather_nd(data, np.array([[-3], [0]], dtype="int64")).asnumpy()


# -- batch_flatten, cast, shape_array, stop_gradient -----------------------------------------------

@pytest.mark.parametrize("shape,expected", [((2, 3, 4), (2, 12)), ((5,), (5, 1)),
                                            ((0, 3), (0, 3)), ((3, 0, 2), (3, 0))])
def test_batch_flatten(engine, shape, expected):
    x, host = _arr(shape)
    y = npx.batch_flatten(x)
    assert y.shape == expected
    numpy.testing.assert_array_equal(y.asnumpy(), host.reshape(expected))


def test_batch_flatten_of_0d_is_an_error():
    with pytest.raises(ShapeError, match="at least one dimension"):
        npx.batch_flatten(np.array(1.0))


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "uint8", "bool"])
def test_cast(engine, dtype):
    x, host = _arr((3, 4), seed=7, low=0, high=9)
    y = npx.cast(x, dtype)
    assert y.dtype == numpy.dtype(dtype)
    numpy.testing.assert_array_equal(y.asnumpy(), host.astype(dtype))


def test_shape_array_and_stop_gradient(engine):
    for shape in [(), (3,), (2, 0, 4)]:
        s = npx.shape_array(np.zeros(shape))
        assert s.dtype == numpy.int64 and s.shape == (len(shape),)
        numpy.testing.assert_array_equal(s.asnumpy(), numpy.array(shape, dtype=numpy.int64))
    x, host = _arr((2, 3))
    y = npx.stop_gradient(x)
    numpy.testing.assert_array_equal(y.asnumpy(), host)
    assert isinstance(y, np.ndarray)


# -- arange_like, reshape_like, broadcast_like -----------------------------------------------------

def test_arange_like(engine):
    x = np.zeros((3, 4))
    numpy.testing.assert_array_equal(npx.arange_like(x).asnumpy(),
                                     numpy.arange(12, dtype=numpy.float32).reshape(3, 4))
    out = npx.arange_like(x, start=1.5, step=-0.5, repeat=2)
    numpy.testing.assert_allclose(out.asnumpy(),
                                  (1.5 - 0.5 * (numpy.arange(12) // 2)).reshape(3, 4))
    out = npx.arange_like(x, axis=-1)
    numpy.testing.assert_array_equal(out.asnumpy(), [0, 1, 2, 3])
    out = npx.arange_like(x, start=2, step=3, axis=0)
    numpy.testing.assert_array_equal(out.asnumpy(), [2, 5, 8])
    xi = np.zeros((2, 2), dtype="int32")
    out = npx.arange_like(xi, start=1)
    assert out.dtype == numpy.int32
    numpy.testing.assert_array_equal(out.asnumpy(), [[1, 2], [3, 4]])
    assert npx.arange_like(x, ctx=mx.cpu()).device == mx.cpu()
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        npx.arange_like(x, repeat=0)


@pytest.mark.parametrize("lshape,rshape,args,expected", [
    ((30, 7), (15, 2, 4), (0, 1, 0, 2), (15, 2, 7)),
    ((3, 5), (1, 15, 4), (0, 2, 1, 2), (15,)),
    ((2, 6), (3, 4), (None, None, None, None), (3, 4)),
    ((2, 3, 4), (6, 5), (0, -1, 0, 1), (6, 4)),
    ((2, 3, 4), (7, 12), (-2, None, -1, None), (2, 12)),
])
def test_reshape_like(engine, lshape, rshape, args, expected):
    lhs, host = _arr(lshape)
    out = npx.reshape_like(lhs, np.zeros(rshape), *args)
    assert out.shape == expected
    numpy.testing.assert_array_equal(out.asnumpy(), host.reshape(expected))


def test_reshape_like_errors():
    with pytest.raises(ShapeError, match=r"cannot reshape lhs of shape \(2, 3\) .*\(4,\)"):
        npx.reshape_like(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ShapeError, match="invalid lhs_begin=1, lhs_end=1"):
        npx.reshape_like(np.zeros((2, 3)), np.zeros(6), 1, 1, 0, 1)


def test_broadcast_like(engine):
    out = npx.broadcast_like(np.array([[1, 2, 3]]), np.array([[5, 6, 7], [7, 8, 9]]))
    numpy.testing.assert_array_equal(out.asnumpy(), [[1, 2, 3], [1, 2, 3]])
    out = npx.broadcast_like(np.array([9]), np.array([1, 2, 3, 4, 5]), lhs_axes=(0,),
                             rhs_axes=(-1,))
    numpy.testing.assert_array_equal(out.asnumpy(), [9] * 5)
    x, host = _arr((1, 3, 1))
    out = npx.broadcast_like(x, np.zeros((4, 5, 6)), lhs_axes=(0, 2), rhs_axes=(1, 0))
    numpy.testing.assert_array_equal(out.asnumpy(), numpy.broadcast_to(host, (5, 3, 4)))
    with pytest.raises(ShapeError, match=r"cannot broadcast lhs of shape \(2, 3\) to \(4, 3\)"):
        npx.broadcast_like(np.zeros((2, 3)), np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="numbers of dimensions differ"):
        npx.broadcast_like(np.zeros(3), np.zeros((4, 3)))


# -- slice, slice_axis -----------------------------------------------------------------------------

def test_slice_documented_examples(engine):
    x = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    numpy.testing.assert_array_equal(npx.slice(x, begin=(0, 1), end=(2, 4)).asnumpy(),
                                     [[2, 3, 4], [6, 7, 8]])
    out = npx.slice(x, begin=(None, 0), end=(None, 3), step=(-1, 2))
    numpy.testing.assert_array_equal(out.asnumpy(), [[9, 11], [5, 7], [1, 3]])
    numpy.testing.assert_array_equal(npx.slice_axis(x, axis=0, begin=1, end=3).asnumpy(),
                                     [[5, 6, 7, 8], [9, 10, 11, 12]])
    numpy.testing.assert_array_equal(npx.slice_axis(x, axis=1, begin=0, end=2).asnumpy(),
                                     [[1, 2], [5, 6], [9, 10]])
    numpy.testing.assert_array_equal(npx.slice_axis(x, axis=1, begin=-3, end=-1).asnumpy(),
                                     [[2, 3], [6, 7], [10, 11]])
    numpy.testing.assert_array_equal(npx.slice_axis(x, axis=-1, begin=2, end=None).asnumpy(),
                                     [[3, 4], [7, 8], [11, 12]])


@pytest.mark.parametrize("begin,end,step", [
    ((0,), (8,), None), ((1, 2), (7, 15), (2, 3)), ((-1, None, 3), (0, None, None), (-1, 5, 2)),
    ((None, -2), (None, 0), (-3, -2)), ((7, 15, 8, 8), (None, None, None, 0), (-1, -4, -3, -1)),
    ((2,), (2,), None), ((-20,), (20,), (1,)),
])
def test_slice_matches_numpy_and_copies(engine, begin, end, step):
    x, host = _arr((8, 16, 9, 9), seed=8)
    out = npx.slice(x, begin, end, step)
    key = tuple(slice(b, e, None if step is None else step[i])
                for i, (b, e) in enumerate(zip(begin, end)))
    numpy.testing.assert_array_equal(out.asnumpy(), host[key])
    if out.size:
        out[...] = 0  # a new array: writing into it leaves the input alone
        numpy.testing.assert_array_equal(x.asnumpy(), host)


def test_slice_errors():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"step\[1\] cannot be 0"):
        npx.slice(x, (0, 0), (2, 2), (1, 0))
    with pytest.raises(ShapeError, match=r"more than the 2 dimension.*\(3, 4\)"):
        npx.slice(x, (0, 0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match="same length"):
        npx.slice(x, (0, 0), (1,))
    with pytest.raises(ShapeError, match=r"invalid begin=3, end=1 for axis 1 of size 4"):
        npx.slice_axis(x, 1, 3, 1)


# -- nonzero ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,dtype", [((5,), "float32"), ((3, 4), "int32"),
                                         ((2, 3, 4), "bool"), ((0, 3), "float32")])
def test_nonzero_is_n_by_ndim_int64(engine, shape, dtype):
    host = (_rng(9).integers(0, 3, size=shape) * (_rng(10).random(shape) > 0.5)).astype(dtype)
    out = npx.nonzero(np.array(host))
    assert out.dtype == numpy.int64 and out.shape == (int(numpy.count_nonzero(host)), len(shape))
    numpy.testing.assert_array_equal(out.asnumpy(), numpy.argwhere(host))
    # np.nonzero is its transpose, split
    for got, ref in zip(out.asnumpy().T, numpy.nonzero(host)):
        numpy.testing.assert_array_equal(got, ref)


def test_nonzero_of_0d(engine):
    assert npx.nonzero(np.array(3.0)).asnumpy().tolist() == [[0]]
    assert npx.nonzero(np.array(0.0)).shape == (0, 1)


# -- index_add, index_update -----------------------------------------------------------------------

def _index_ref(a, ind, val, mode):
    a = a.copy()
    ind = numpy.asarray(ind)
    ind = ind.reshape(1, 1) if ind.ndim == 0 else (ind[None] if ind.ndim == 1 else ind)
    k, n = ind.shape
    v = numpy.broadcast_to(val.astype(a.dtype), (n,) + a.shape[k:])
    for j in range(n):
        pos = tuple(ind[:, j])
        if mode == "add":
            a[pos] += v[j]
        else:
            a[pos] = v[j]
    return a


INDEX_CASES = [
    ((2,), numpy.array(1), ()),
    ((2, 3, 4), numpy.array([[0, 1], [2, 0]]), ()),
    ((2, 3, 4), numpy.array([[0, 1], [2, 0]]), (2, 4)),
    ((2, 3, 4), numpy.array([[0, 1], [2, 0]]), (1, 1)),
    ((2, 3, 4), numpy.array([[1, 0, 1]]), (3, 3, 4)),
    ((2, 3, 4), numpy.array([1, 0, 1]), (3, 1)),
    ((2, 3, 4), numpy.array([[0, 1], [2, 0], [3, 1]]), (2,)),
    ((4, 5), numpy.array([[0, 0, 3], [1, 1, 4]]), (3,)),  # repeated position (0, 1)
]


@pytest.mark.parametrize("mode", ["add", "update"])
@pytest.mark.parametrize("ashape,ind,vshape", INDEX_CASES)
@pytest.mark.parametrize("dtype,ind_dtype", [("float32", "int32"), ("int64", "int64"),
                                             ("float64", "int64")])
def test_index_add_update(engine, mode, ashape, ind, vshape, dtype, ind_dtype):
    a, ha = _arr(ashape, dtype, seed=11)
    val, hv = _arr(vshape, dtype, seed=12)
    fn = npx.index_add if mode == "add" else npx.index_update
    out = fn(a, np.array(ind.astype(ind_dtype)), val)
    assert out.shape == ashape and out.dtype == numpy.dtype(dtype)
    if mode == "update" and ashape == (4, 5):
        # the value at a repeated position is one of the written values
        got = out.asnumpy()
        assert got[0, 1] in (hv[0], hv[1])
        mask = numpy.ones(ashape, bool)
        mask[0, 1] = False
        numpy.testing.assert_allclose(got[mask], _index_ref(ha, ind, hv, mode)[mask], rtol=1e-6)
    else:
        numpy.testing.assert_allclose(out.asnumpy(), _index_ref(ha, ind, hv, mode), rtol=1e-6)
    numpy.testing.assert_array_equal(a.asnumpy(), ha)  # a new array; the input is unchanged


def test_index_add_accumulates_repeats(engine):
    a = np.zeros((2, 2))
    out = npx.index_add(a, np.array([[0, 0], [0, 0]], dtype="int32"), np.array([1.0, 2.0]))
    numpy.testing.assert_array_equal(out.asnumpy(), [[3, 0], [0, 0]])


def test_index_add_on_non_contiguous_input_and_portable_scatter_add(engine):
    a, ha = _arr((4, 3), seed=14)
    at = a.transpose()  # (3, 4), not C-contiguous
    out = npx.index_add(at, np.array([[2, 0, 2]], dtype="int32"), np.ones((3, 4)))
    ref = ha.T.copy()
    ref[2] += 2
    ref[0] += 1
    numpy.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-6)
    numpy.testing.assert_array_equal(a.asnumpy(), ha)
    # the path used for CuPy (no ufunc.at): distinct rows per pass
    fake_xp = types.SimpleNamespace(arange=numpy.arange, unique=numpy.unique, ones=numpy.ones)
    dst = numpy.zeros((5, 2))
    rows = numpy.array([3, 1, 3, 3, 0, 1])
    vals = numpy.arange(12.0).reshape(6, 2)
    _scatter_add(fake_xp, dst, rows, vals)
    ref = numpy.zeros((5, 2))
    numpy.add.at(ref, rows, vals)
    numpy.testing.assert_array_equal(dst, ref)


def test_index_add_errors(engine):
    a = np.zeros((2, 3))
    ind = np.array([[0, 1]], dtype="int32")
    with pytest.raises(ShapeError, match=r"val of shape \(3, 4\) cannot be broadcast to "
                                         r"\(2, 3\)"):
        npx.index_add(a, ind, np.zeros((3, 4)))
    with pytest.raises(ShapeError, match=r"indexes 3 dimensions, but a of shape \(2, 3\)"):
        npx.index_update(a, np.zeros((3, 1), dtype="int32"), np.zeros(1))
    with pytest.raises(ShapeError, match="at least one dimension"):
        npx.index_add(np.array(1.0), ind, np.zeros(1))
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        npx.index_add(a, np.array([[0, 2]], dtype="int32"), np.ones(3)).asnumpy()
    with pytest.raises(IndexError, match="negative indices are not allowed"):
        npx.index_update(a, np.array([[-1]], dtype="int32"), np.ones(3)).wait_to_read()


# -- elementwise activations -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations(engine, dtype):
    host = numpy.concatenate([numpy.linspace(-30, 30, 301), [-800.0, 800.0, 0.0]]).astype(dtype)
    x = np.array(host)
    h = host.astype(numpy.float64)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    softplus = numpy.logaddexp(0.0, h)
    numpy.testing.assert_allclose(npx.softsign(x).asnumpy(), h / (1 + numpy.abs(h)), rtol=rtol)
    ls = npx.log_sigmoid(x).asnumpy()
    assert numpy.all(numpy.isfinite(ls)) and ls.dtype == numpy.dtype(dtype)
    numpy.testing.assert_allclose(ls, -numpy.logaddexp(0.0, -h), rtol=rtol, atol=1e-30)
    numpy.testing.assert_allclose(npx.mish(x).asnumpy(), h * numpy.tanh(softplus), rtol=rtol,
                                  atol=1e-30)
    for sigma in (1.0, 2.0, 0.5):
        ref = numpy.where(numpy.abs(h) < 1 / sigma ** 2, 0.5 * (sigma * h) ** 2,
                          numpy.abs(h) - 0.5 / sigma ** 2)
        numpy.testing.assert_allclose(npx.smooth_l1(x, sigma).asnumpy(), ref, rtol=rtol)
    # MXNet's documented example (sigma = 1)
    out = npx.smooth_l1(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), 1.0)
    numpy.testing.assert_allclose(out.asnumpy(), [1.5, 0.125, 0.0, 0.125, 1.5])


# -- special functions -----------------------------------------------------------------------------

def _erf_grid():
    return numpy.concatenate([numpy.linspace(-7, 7, 4001), numpy.geomspace(1e-300, 1, 200),
                              -numpy.geomspace(1e-300, 1, 200), [0.0, -0.0, 0.5, -0.5, 4.0, 30]])


def _rel_err(got, ref, floor):
    return numpy.max(numpy.abs(got - ref) / numpy.maximum(numpy.abs(ref), floor))


def test_erf_against_math(engine):
    x = _erf_grid()
    ref = numpy.array([math.erf(v) for v in x])
    got = npx.erf(np.array(x)).asnumpy()
    assert got.dtype == numpy.float64
    assert _rel_err(got, ref, 1e-300) < 2e-15
    got32 = npx.erf(np.array(x.astype(numpy.float32))).asnumpy()
    ref32 = numpy.array([math.erf(v) for v in x.astype(numpy.float32).astype(float)])
    assert got32.dtype == numpy.float32
    assert _rel_err(got32.astype(float), ref32, 1e-38) < 1e-6
    specials = npx.erf(np.array([numpy.inf, -numpy.inf, numpy.nan])).asnumpy()
    numpy.testing.assert_array_equal(specials, [1.0, -1.0, numpy.nan])


def _erfinv_ref(p):
    """erfinv by bisection, then Newton on math.erf (math.erfc near +-1)."""
    if p in (1.0, -1.0):
        return math.copysign(math.inf, p)
    if p == 0:
        return p
    a = abs(p)
    lo, hi = 0.0, 7.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if math.erf(mid) < a:
            lo = mid
        else:
            hi = mid
    y = 0.5 * (lo + hi)
    for _ in range(20):
        d = 2 / math.sqrt(math.pi) * math.exp(-y * y)
        if a < 0.5:
            y -= (math.erf(y) - a) / d
        else:  # Newton on log(erfc(y)) = log(1 - a): erfc keeps its precision near a = 1
            e = math.erfc(y)
            y += (math.log(e) - math.log(1 - a)) * e / d
    return math.copysign(y, p)


def test_erfinv_against_inverse_of_math_erf(engine):
    p = numpy.concatenate([numpy.linspace(-0.999, 0.999, 1999), 1 - numpy.geomspace(1e-16, 0.5, 60),
                           -(1 - numpy.geomspace(1e-16, 0.5, 60)), numpy.geomspace(1e-300, 0.5, 60),
                           [0.0, 1.0, -1.0]])
    ref = numpy.array([_erfinv_ref(v) for v in p])
    got = npx.erfinv(np.array(p)).asnumpy()
    assert _rel_err(got[numpy.isfinite(ref)], ref[numpy.isfinite(ref)], 1e-300) < 1e-13
    assert got[-2] == numpy.inf and got[-1] == -numpy.inf
    # round trip through erf
    back = npx.erf(np.array(got[numpy.isfinite(got)])).asnumpy()
    numpy.testing.assert_allclose(back, p[numpy.isfinite(got)], rtol=2e-15, atol=0)
    out = npx.erfinv(np.array([1.5, -2.0, numpy.nan], dtype="float32")).asnumpy()
    assert out.dtype == numpy.float32 and numpy.all(numpy.isnan(out))
    p32 = numpy.linspace(-0.9999, 0.9999, 999).astype(numpy.float32)
    ref32 = numpy.array([_erfinv_ref(float(v)) for v in p32])
    got32 = npx.erfinv(np.array(p32)).asnumpy()
    assert got32.dtype == numpy.float32
    assert _rel_err(got32.astype(float), ref32, 1e-30) < 1e-6


def _gamma_grid():
    x = numpy.concatenate([numpy.linspace(-40.25, 171.5, 6001), numpy.geomspace(1e-8, 0.5, 100),
                           -numpy.geomspace(1e-8, 0.4, 50), numpy.arange(1, 30) + 0.0,
                           numpy.arange(1, 20) + 0.5, -numpy.arange(0, 20) - 0.5])
    return x[(x > 0) | (x != numpy.floor(x))]


def test_gamma_against_math(engine):
    x = _gamma_grid()
    ref = numpy.array([math.gamma(v) for v in x])
    got = npx.gamma(np.array(x)).asnumpy()
    assert _rel_err(got, ref, 1e-300) < 5e-13
    ints = numpy.arange(1, 20) + 0.0
    numpy.testing.assert_allclose(npx.gamma(np.array(ints)).asnumpy(),
                                  [math.factorial(int(n) - 1) for n in ints], rtol=1e-14)
    x32 = x[numpy.abs(x) < 34].astype(numpy.float32)
    ref32 = numpy.array([math.gamma(float(v)) for v in x32])
    got32 = npx.gamma(np.array(x32)).asnumpy()
    assert got32.dtype == numpy.float32
    ok = numpy.abs(ref32) > 1e-37  # float32 normal range
    assert _rel_err(got32[ok].astype(float), ref32[ok], 1e-38) < 2e-6
    sp = npx.gamma(np.array([0.0, -0.0, -1.0, -7.0, numpy.inf, -numpy.inf, numpy.nan, 172.0,
                             200.0, -190.5])).asnumpy()
    numpy.testing.assert_array_equal(sp[:6], [numpy.inf, -numpy.inf, numpy.nan, numpy.nan,
                                              numpy.inf, numpy.nan])
    assert numpy.isnan(sp[6]) and sp[7] == numpy.inf and sp[8] == numpy.inf and sp[9] == 0.0


def test_gammaln_against_math(engine):
    x = numpy.concatenate([_gamma_grid(), numpy.geomspace(171, 1e300, 100),
                           1 + numpy.linspace(-0.3, 0.3, 301), 2 + numpy.linspace(-0.3, 0.3, 301)])
    ref = numpy.array([math.lgamma(v) for v in x])
    got = npx.gammaln(np.array(x)).asnumpy()
    near_root = (numpy.abs(x - 1) < 0.3) | (numpy.abs(x - 2) < 0.3) | (x < 0)
    # math.lgamma itself is only accurate to ~1e-16 absolute near its roots 1 and 2 (and at the
    # roots for x < 0): compare there with an absolute tolerance
    assert _rel_err(got[~near_root], ref[~near_root], 1e-300) < 1e-13
    numpy.testing.assert_allclose(got[near_root], ref[near_root], rtol=1e-13, atol=3e-15)
    # relative accuracy at the roots: lgamma(2 + z) - lgamma(1 + z) = log1p(z)
    z = numpy.concatenate([numpy.geomspace(1e-15, 0.25, 100), -numpy.geomspace(1e-15, 0.25, 100)])
    z = (2 + z) - 2  # exactly representable next to 2 (and so next to 1)
    d = npx.gammaln(np.array(2 + z)).asnumpy() - npx.gammaln(np.array(1 + z)).asnumpy()
    numpy.testing.assert_allclose(d, numpy.log1p(z), rtol=1e-14)
    assert npx.gammaln(np.array([1.0, 2.0])).asnumpy().tolist() == [0.0, 0.0]
    x32 = x[numpy.abs(x) < 1e30].astype(numpy.float32)
    ref32 = numpy.array([math.lgamma(float(v)) for v in x32])
    got32 = npx.gammaln(np.array(x32)).asnumpy()
    assert got32.dtype == numpy.float32
    numpy.testing.assert_allclose(got32, ref32, rtol=2e-6, atol=1e-7)
    sp = npx.gammaln(np.array([0.0, -3.0, numpy.inf, -numpy.inf, numpy.nan])).asnumpy()
    numpy.testing.assert_array_equal(sp[:4], [numpy.inf] * 4)
    assert numpy.isnan(sp[4])


@pytest.mark.parametrize("name", ["erf", "erfinv", "gamma", "gammaln"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float16"])
def test_special_dtypes_and_shapes(engine, name, dtype):
    host = numpy.array([[0, 1], [1, 0], [2, 3]] if name != "erfinv" else [[0, 1], [1, 0], [0, 0]])
    host = host.astype(dtype)
    out = getattr(npx, name)(np.array(host))
    expect_dt = numpy.float16 if dtype == "float16" else numpy.float32
    assert out.dtype == expect_dt and out.shape == (3, 2)
    fn = {"erf": math.erf, "erfinv": _erfinv_ref, "gamma": math.gamma,
          "gammaln": math.lgamma}[name]
    ref = numpy.array([[fn(float(v)) if not (name in ("gamma", "gammaln") and v == 0) else
                        numpy.inf for v in row] for row in host.astype(float)])
    numpy.testing.assert_allclose(out.asnumpy().astype(float), ref,
                                  rtol=1e-3 if dtype == "float16" else 1e-6)
    # 0-d and empty inputs
    assert getattr(npx, name)(np.array(0.5)).shape == ()
    assert getattr(npx, name)(np.zeros((0, 3))).shape == (0, 3)


def test_erf_float32_kernel_against_math_erf(engine):
    # float32 (and float16) data take a float32 kernel: the series below 0.84 in magnitude,
    # 1 - erfc (Numerical Recipes' fit) above; about 1.5 ulp at worst
    x = numpy.concatenate([numpy.linspace(-6, 6, 60001), numpy.geomspace(1e-38, 0.9, 500),
                           -numpy.geomspace(1e-38, 0.9, 500), [0.8399999, 0.84, 0.8400001]])
    x = x.astype(numpy.float32)
    got = npx.erf(np.array(x)).asnumpy()
    assert got.dtype == numpy.float32
    ref = numpy.array([math.erf(float(v)) for v in x])
    nz = ref != 0
    assert _rel_err(got[nz].astype(float), ref[nz], 1e-45) < 3e-7
    special = npx.erf(np.array(numpy.array([0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan],
                                           dtype=numpy.float32))).asnumpy()
    numpy.testing.assert_array_equal(special, [0.0, -0.0, 1.0, -1.0, numpy.nan])
    assert numpy.signbit(special[1])
    # chunked like any large input: the result does not depend on the chunking
    big = _rng(14).normal(size=70001).astype(numpy.float32)
    out = npx.erf(np.array(big)).asnumpy()
    ref = numpy.concatenate([npx.erf(np.array(big[i:i + 5000])).asnumpy()
                             for i in range(0, big.size, 5000)])
    numpy.testing.assert_array_equal(out, ref)


def test_special_large_inputs_are_chunked_consistently(engine):
    # more elements than one processing chunk: the result must not depend on the chunking
    x = _rng(13).uniform(-0.99, 0.99, 70001)
    out = npx.erfinv(np.array(x)).asnumpy()
    ref = numpy.concatenate([npx.erfinv(np.array(x[i:i + 5000])).asnumpy()
                             for i in range(0, x.size, 5000)])
    numpy.testing.assert_array_equal(out, ref)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="npx.erf: data must be an ndarray"):
        npx.erf(numpy.ones(3))
    with pytest.raises(TypeError, match="npx.reshape: a must be an ndarray"):
        npx.reshape([1, 2], (-1,))
    with pytest.raises(TypeError, match="complex"):
        npx.gamma(np.array(numpy.ones(2, dtype=numpy.complex64)))


def test_every_public_name_is_exported():
    from framework.npx import _ops
    for name in _ops.__all__:
        assert getattr(npx, name) is getattr(_ops, name)
        assert name in npx.__all__
