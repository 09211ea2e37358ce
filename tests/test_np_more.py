"""Creation and shape-manipulation functions of np (framework/np/_more.py) against NumPy."""

from __future__ import annotations

import numpy as onp
import pytest

import framework as mx
from framework import engine, np, npx

RNG = onp.random.default_rng(7)
A = RNG.normal(size=(3, 4)).astype("float32")
B3 = RNG.normal(size=(2, 3, 4)).astype("float32")


@pytest.fixture(params=["ThreadedEngine", "NaiveEngine"], autouse=True)
def eng(request):
    with engine.engine_scope(request.param):
        yield request.param


def check(got, want, dtype=None):
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w, dtype)
        return
    assert isinstance(got, np.ndarray), type(got)
    w = onp.asarray(want)
    if dtype is not None:
        assert got.dtype == onp.dtype(dtype), (got.dtype, dtype)
    assert got.shape == w.shape, (got.shape, w.shape)
    onp.testing.assert_allclose(got.asnumpy(), w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("src", [A, B3, A.T])
def test_roll(src):
    x = np.array(src)
    for shift, axis in [(1, None), (-2, None), (2, 0), (1, -1), ((1, 2), (0, 1))]:
        check(np.roll(x, shift, axis=axis), onp.roll(src, shift, axis=axis))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap", "maximum",
                                  "mean", "minimum", "linear_ramp"])
def test_pad_modes(mode):
    x = np.array(A)
    check(np.pad(x, ((1, 2), (0, 3)), mode=mode), onp.pad(A, ((1, 2), (0, 3)), mode=mode))
    check(np.pad(x, 1, mode=mode), onp.pad(A, 1, mode=mode))


def test_pad_constant_values_and_errors():
    check(np.pad(np.array(A), 2, constant_values=7), onp.pad(A, 2, constant_values=7))
    with pytest.raises(ValueError, match="non-negative"):
        np.pad(np.array(A), -1)
    with pytest.raises(ValueError, match="not supported"):
        np.pad(np.array(A), 1, mode="bogus")


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_triu_tri(k):
    check(np.tril(np.array(A), k), onp.tril(A, k))
    check(np.triu(np.array(B3), k), onp.triu(B3, k))
    check(np.tri(3, 5, k), onp.tri(3, 5, k), "float32")
    for got, want in zip(np.tril_indices(4, k), onp.tril_indices(4, k)):
        check(got, want, "int64")
    for got, want in zip(np.triu_indices(3, k, 5), onp.triu_indices(3, k, 5)):
        check(got, want, "int64")
    # a 1-d input gives the square matrix of its rows (NumPy, and MXNet's TrilOpShape)
    check(np.tril(np.arange(3), k), onp.tril(onp.arange(3), k), "float32")
    with pytest.raises(ValueError, match="1-d"):
        np.tril(np.array(3.0))


def test_insert_delete_append():
    x = np.array(A)
    check(np.insert(x, [1, 3], 9.0, axis=1), onp.insert(A, [1, 3], 9.0, axis=1))
    check(np.insert(x, 2, [1, 2, 3, 4], axis=0), onp.insert(A, 2, [1, 2, 3, 4], axis=0))
    check(np.insert(x, 5, 1.0), onp.insert(A, 5, 1.0))
    check(np.delete(x, [0, 2], axis=0), onp.delete(A, [0, 2], axis=0))
    check(np.delete(x, slice(0, None, 2), axis=1), onp.delete(A, slice(0, None, 2), axis=1))
    check(np.delete(x, np.array([1, 1, 3], dtype="int64")), onp.delete(A, [1, 1, 3]))
    check(np.append(x, x, axis=1), onp.append(A, A, axis=1))
    check(np.append(x, [1.0, 2.0]), onp.append(A, [1.0, 2.0]))


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
def test_rot90(k):
    check(np.rot90(np.array(B3), k), onp.rot90(B3, k))
    check(np.rot90(np.array(B3), k, axes=(1, 2)), onp.rot90(B3, k, axes=(1, 2)))


def test_axis_moves():
    x = np.array(B3)
    check(np.moveaxis(x, 0, -1), onp.moveaxis(B3, 0, -1))
    check(np.moveaxis(x, [0, 1], [2, 0]), onp.moveaxis(B3, [0, 1], [2, 0]))
    for axis, start in [(2, 0), (0, 3), (1, 1), (-1, 1)]:
        check(np.rollaxis(x, axis, start), onp.rollaxis(B3, axis, start))
    check(np.permute_dims(x, (2, 0, 1)), onp.transpose(B3, (2, 0, 1)))
    check(np.matrix_transpose(x), onp.swapaxes(B3, -1, -2))


def test_stacks_and_atleast():
    v = onp.arange(4, dtype="float32")
    check(np.vstack([np.array(A), np.array(v)]), onp.vstack([A, v]))
    check(np.row_stack([np.array(v), np.array(v)]), onp.vstack([v, v]))
    check(np.hstack([np.array(v), np.array(v)]), onp.hstack([v, v]))
    check(np.hstack([np.array(A), np.array(A)]), onp.hstack([A, A]))
    check(np.dstack([np.array(A), np.array(A)]), onp.dstack([A, A]))
    check(np.column_stack([np.array(v), np.array(v)]), onp.column_stack([v, v]))
    for f, g in [(np.atleast_1d, onp.atleast_1d), (np.atleast_2d, onp.atleast_2d),
                 (np.atleast_3d, onp.atleast_3d)]:
        for src in [onp.float32(3), v, A, B3]:
            check(f(np.array(src)), g(src))
        check(f(np.array(v), np.array(A)), g(v, A))


def test_splits():
    x = np.array(onp.arange(24, dtype="float32").reshape(4, 6))
    h = onp.arange(24, dtype="float32").reshape(4, 6)
    check(np.array_split(x, 3, axis=1), onp.array_split(h, 3, axis=1))
    check(np.array_split(np.arange(7), 3), onp.array_split(onp.arange(7.0), 3))
    check(np.hsplit(x, 2), onp.hsplit(h, 2))
    check(np.vsplit(x, [1, 3]), onp.vsplit(h, [1, 3]))
    check(np.dsplit(np.array(B3), 2), onp.dsplit(B3, 2))
    with pytest.raises(ValueError, match="equal"):
        np.hsplit(x, 4)
    with pytest.raises(ValueError, match="2 or more"):
        np.vsplit(np.arange(4), 2)


def test_flips_meshgrid_broadcast():
    check(np.fliplr(np.array(A)), onp.fliplr(A))
    check(np.flipud(np.array(A)), onp.flipud(A))
    xs, ys = onp.arange(3.0), onp.arange(2.0)
    for kw in [{}, {"indexing": "ij"}, {"sparse": True}]:
        check(np.meshgrid(np.array(xs), np.array(ys), **kw), onp.meshgrid(xs, ys, **kw))
    got = np.broadcast_arrays(np.array(A), np.array(onp.ones((1, 4), "float32")))
    check(got, onp.broadcast_arrays(A, onp.ones((1, 4), "float32")))
    assert np.broadcast_shapes((3, 1), (1, 4), (4,)) == (3, 4)


def test_creation_helpers():
    check(np.logspace(0, 2, 5), onp.logspace(0, 2, 5), "float32")
    check(np.geomspace(1, 8, 4), onp.geomspace(1, 8, 4), "float32")
    check(np.diagflat(np.array([[1, 2], [3, 4]]), 1), onp.diagflat([[1, 2], [3, 4]], 1))
    check(np.indices((2, 3)), onp.indices((2, 3)), "int64")
    check(np.hamming(5), onp.hamming(5), "float32")
    check(np.hanning(5), onp.hanning(5), "float32")
    check(np.blackman(6), onp.blackman(6), "float32")
    check(np.vander(np.array([1.0, 2.0, 3.0]), 4), onp.vander([1.0, 2.0, 3.0], 4))
    check(np.polyval(np.array([1.0, -2.0, 3.0]), np.array(A)), onp.polyval([1, -2, 3], A))
    check(np.resize(np.array(A), (5, 3)), onp.resize(A, (5, 3)))
    check(np.trim_zeros(np.array([0.0, 0, 1, 2, 0])), onp.trim_zeros(onp.array([0.0, 0, 1, 2, 0])))
    assert np.arange(3, ctx=mx.cpu(1)).device == mx.cpu(1)
    assert np.logspace(0, 1, 3, device=mx.cpu(1)).device == mx.cpu(1)


def test_genfromtxt(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n3,4.5\n")
    got = np.genfromtxt(str(p), delimiter=",", skip_header=1)
    check(got, [[1, 2], [3, 4.5]], "float32")


def test_diagonal_fill_diagonal_unravel():
    check(np.diagonal(np.array(B3), 1, 1, 2), onp.diagonal(B3, 1, 1, 2))
    check(np.diagonal(np.array(A), -1), onp.diagonal(A, -1))
    y = np.zeros((3, 4))
    np.fill_diagonal(y, 5.0)
    want = onp.zeros((3, 4), "float32")
    onp.fill_diagonal(want, 5.0)
    check(y, want)
    got = np.unravel_index(np.array([5, 7, 11], dtype="int64"), (3, 4))
    check(got, onp.unravel_index([5, 7, 11], (3, 4)), "int64")
    for got, want in zip(np.diag_indices_from(np.zeros((3, 3))), onp.diag_indices(3)):
        check(got, want)


def test_array_api_aliases():
    x = np.array([0.25, 0.5])
    check(np.acos(x), onp.arccos([0.25, 0.5]))
    check(np.atan2(x, x), onp.arctan2([0.25, 0.5], [0.25, 0.5]))
    check(np.bitwise_left_shift(np.array([1, 2], dtype="int32"), 2), [4, 8], "int32")
    assert onp.float32 in np.floating_dtypes


@pytest.mark.parametrize("ascend", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8"])
def test_topk_of_few_from_long_rows_keeps_the_sorted_tie_order(ascend, dtype):
    # k <= n/8 takes the partition path: the same indices as a stable full sort (ties by
    # lower index first, in both directions), on data full of ties
    import numpy as onp
    rng = onp.random.default_rng(5)
    for shape, axis in (((4, 3, 64), -1), ((40, 5), 0), ((2, 50, 3), 1)):
        a = rng.integers(0, 4, shape).astype(dtype) if dtype != "float32" else \
            onp.round(rng.normal(size=shape), 1).astype(dtype)
        n = shape[axis]
        k = max(1, n // 10)
        key = a if ascend else (-a.astype("float64"))
        want = onp.take(onp.argsort(key, axis=axis, kind="stable"), onp.arange(k), axis=axis)
        got = npx.topk(np.array(a), axis=axis, k=k, ret_typ="indices", is_ascend=ascend,
                       dtype="int64")
        onp.testing.assert_array_equal(got.asnumpy(), want)
        vals = npx.topk(np.array(a), axis=axis, k=k, ret_typ="value", is_ascend=ascend)
        onp.testing.assert_array_equal(vals.asnumpy(), onp.take_along_axis(a, want, axis=axis))
    # NaN: the full sort's order (NaN counts as the largest)
    f = onp.arange(40, dtype="float32")
    f[[3, 17]] = onp.nan
    got = npx.topk(np.array(f), k=3, ret_typ="indices", is_ascend=ascend, dtype="int64")
    key = f if ascend else onp.flip(f)
    order = onp.argsort(key, kind="stable")
    want = order[:3] if ascend else onp.flip(39 - order)[:3]
    onp.testing.assert_array_equal(got.asnumpy(), want)


def test_register_takes_only_ops_and_topk_is_registered_as_its_op():
    from framework.nd._misc import TopK
    from framework.nd._op import REGISTRY, get_op, register
    assert get_op("topk") is TopK
    with pytest.raises(TypeError, match="Op class or instance"):
        register("_not_an_op")(lambda x: x)
    assert "_not_an_op" not in REGISTRY
