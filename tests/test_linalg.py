"""np.linalg and the top-level products against NumPy, on both engines.

Unique results are compared with NumPy directly; decompositions whose signs or order are not
unique (svd, qr, eig, eigh) are checked by reconstruction. Every case also checks that the shape
and dtype known at the call match the computed result.
"""

from __future__ import annotations

import warnings

import numpy
import pytest

from framework import np
from framework.base import ShapeError
from framework.engine import engine_scope

LinAlgError = numpy.linalg.LinAlgError
inf = numpy.inf

ENGINES = ["NaiveEngine", "ThreadedEngine"]


@pytest.fixture(params=ENGINES)
def engine(request):
    with engine_scope(request.param):
        yield request.param


def _rng(seed=0):
    return numpy.random.default_rng(seed)


def host(shape, dtype="float64", kind="general", seed=0):
    """A NumPy input: 'general', 'square' (well conditioned), 'spd' or 'sym'."""
    rng = _rng(seed)
    if numpy.dtype(dtype).kind in "iu":
        a = rng.integers(-4, 5, size=shape)
    else:
        a = rng.normal(size=shape)
    if kind in ("square", "spd", "sym"):
        n = shape[-1]
        if kind == "spd":
            a = a @ numpy.swapaxes(a, -1, -2) + n * numpy.eye(n)
        elif kind == "sym":
            a = a + numpy.swapaxes(a, -1, -2)
        else:
            a = a + 3 * n * numpy.eye(n)
    return numpy.array(a, order="C").astype(dtype)


def result_dtype(dtype):
    dt = numpy.dtype(dtype)
    return dt if dt.kind in "fc" else numpy.dtype("float32")


def tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if result_dtype(dtype).itemsize <= 8 and \
        result_dtype(dtype) != numpy.float64 else dict(rtol=1e-9, atol=1e-9)


def check(res, expected, dtype=None, **kw):
    """``res`` (framework) has ``expected``'s shape (known before computing) and values."""
    expected = numpy.asarray(expected)
    assert isinstance(res, np.ndarray)
    assert res.shape == expected.shape, (res.shape, expected.shape)
    if dtype is not None:
        assert res.dtype == dtype, (res.dtype, dtype)
    out = res.asnumpy()
    assert out.shape == expected.shape and out.dtype == res.dtype
    numpy.testing.assert_allclose(out, expected, **kw)


def mt(x):
    return numpy.swapaxes(x, -1, -2)


def mh(x):
    return numpy.conj(mt(x))


# -- norms ------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 0, 1, 2, 3, 0.5, -1, inf, -inf]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, inf, -inf]


@pytest.mark.filterwarnings("ignore:divide by zero")  # negative orders of zeros, as NumPy
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_norm_vector_and_matrix_orders(engine, dtype):
    a = host((3, 4, 5), dtype)
    x = np.array(a)
    rd = result_dtype(dtype)
    ref = a.astype("float64")
    for ord in VECTOR_ORDS:
        for axis in (0, -1):
            for keepdims in (False, True):
                check(np.linalg.norm(x, ord, axis, keepdims),
                      numpy.linalg.norm(ref, ord, axis, keepdims), rd, **tol(dtype))
    for ord in MATRIX_ORDS:
        for axis in ((1, 2), (2, 0), (-1, -2)):
            for keepdims in (False, True):
                check(np.linalg.norm(x, ord, axis, keepdims),
                      numpy.linalg.norm(ref, ord, axis, keepdims), rd, **tol(dtype))
        check(np.linalg.norm(x[0], ord), numpy.linalg.norm(ref[0], ord), rd, **tol(dtype))
    check(np.linalg.norm(x), numpy.linalg.norm(ref), rd, **tol(dtype))
    check(np.linalg.norm(x, keepdims=True), numpy.linalg.norm(ref, keepdims=True), rd,
          **tol(dtype))
    check(np.linalg.norm(x[0, 0], 3), numpy.linalg.norm(ref[0, 0], 3), rd, **tol(dtype))


def test_norm_special_inputs(engine):
    a = host((4, 3))
    check(np.linalg.norm(np.array(a).T, "nuc"), numpy.linalg.norm(a.T, "nuc"), rtol=1e-10)
    c = (host((3, 4)) + 1j * host((3, 4), seed=1)).astype("complex64")
    for ord in ("fro", 2, 1, inf):
        check(np.linalg.norm(np.array(c), ord), numpy.linalg.norm(c, ord),
              numpy.dtype("float32"), rtol=1e-5)
    check(np.linalg.norm(np.array(c), axis=1), numpy.linalg.norm(c, axis=1), rtol=1e-5)
    # 0-size where NumPy allows it
    z = numpy.zeros((0, 3), "float32")
    for kw in ({}, {"ord": "fro"}, {"ord": 2, "axis": 1}, {"ord": 1, "axis": 0},
               {"axis": 0}, {"ord": inf}, {"ord": 2}, {"ord": "nuc"}, {"ord": 1},
               {"ord": -1}, {"ord": inf, "axis": 0}, {"ord": -inf, "axis": 1}):
        check(np.linalg.norm(np.array(z), **kw), numpy.linalg.norm(z, **kw), numpy.float32)
    check(np.linalg.norm(np.array(numpy.float32(3.0))), 3.0)
    check(np.linalg.norm(np.array([True, False, True])), numpy.sqrt(2), numpy.float32)


def test_norm_errors():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="dimensions"):
        np.linalg.norm(x, 2)
    with pytest.raises(ValueError, match="vectors"):
        np.linalg.norm(x, "fro", axis=1)
    with pytest.raises(ValueError, match="matrices"):
        np.linalg.norm(x, 3, axis=(0, 1))
    with pytest.raises(ValueError, match="duplicate"):
        np.linalg.norm(x, axis=(1, 1))
    with pytest.raises(ValueError):
        np.linalg.norm(x, axis=(0, 1, 2))
    with pytest.raises(ValueError, match="zero-size"):
        np.linalg.norm(np.zeros((0, 3)), -inf, axis=0)
    with pytest.raises(ValueError, match="zero-size"):
        np.linalg.norm(np.zeros((0, 3)), -2)
    with pytest.raises(numpy.exceptions.AxisError):
        np.linalg.norm(x, axis=3)


def test_vector_and_matrix_norm(engine):
    a = host((2, 3, 4), "float32")
    x = np.array(a)
    for ord in (2, 1, inf, -inf, 0, 3):
        for axis in (None, 1, (0, 2), (-1, 0)):
            check(np.linalg.vector_norm(x, axis=axis, ord=ord),
                  numpy.linalg.vector_norm(a, axis=axis, ord=ord), numpy.float32, rtol=1e-5)
    check(np.linalg.vector_norm(x, axis=(0, 2), keepdims=True),
          numpy.linalg.vector_norm(a, axis=(0, 2), keepdims=True), rtol=1e-5)
    for ord in MATRIX_ORDS[1:]:
        for keepdims in (False, True):
            check(np.linalg.matrix_norm(x, ord=ord, keepdims=keepdims),
                  numpy.linalg.matrix_norm(a, ord=ord, keepdims=keepdims), numpy.float32,
                  rtol=1e-5)
    check(np.linalg.matrix_norm(np.array(host((3, 3), "int64"))),
          numpy.linalg.matrix_norm(host((3, 3), "int64")), numpy.float32, rtol=1e-6)
    with pytest.raises(ValueError, match="vectors"):
        np.linalg.vector_norm(x, ord="fro")
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        np.linalg.matrix_norm(np.ones(3))


# -- inverse, determinant, solve --------------------------------------------------------------

SQUARE_SHAPES = [(3, 3), (2, 4, 4), (2, 1, 2, 2), (0, 3, 3), (0, 0)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_inv_det_slogdet(engine, dtype, shape):
    a = host(shape, dtype, "square")
    x = np.array(a)
    rd = result_dtype(dtype)
    ref = a.astype("float64")
    check(np.linalg.inv(x), numpy.linalg.inv(ref), rd, **tol(dtype))
    check(np.linalg.det(x), numpy.linalg.det(ref), rd, rtol=tol(dtype)["rtol"])
    sign, logdet = np.linalg.slogdet(x)
    es, el = numpy.linalg.slogdet(ref)
    check(sign, es, rd)
    check(logdet, el, rd, **tol(dtype))
    assert np.linalg.slogdet(x).logabsdet.shape == el.shape


def test_inv_det_of_transposed_view_and_complex(engine):
    a = host((4, 4), kind="square")
    t = np.array(a).T  # a non-contiguous view
    check(np.linalg.inv(t), numpy.linalg.inv(a.T), rtol=1e-10)
    check(np.linalg.det(t), numpy.linalg.det(a.T), rtol=1e-10)
    c = (a + 1j * host((4, 4), seed=3)).astype("complex128")
    check(np.linalg.inv(np.array(c)), numpy.linalg.inv(c), numpy.complex128, rtol=1e-10)
    sign, logdet = np.linalg.slogdet(np.array(c))
    assert sign.dtype == numpy.complex128 and logdet.dtype == numpy.float64
    check(sign, numpy.linalg.slogdet(c)[0], rtol=1e-10)
    # float16 is computed in float32 and stays float16
    h = np.array(a.astype("float16"))
    r = np.linalg.inv(h)
    assert r.dtype == numpy.float16
    numpy.testing.assert_allclose(r.asnumpy(), numpy.linalg.inv(a), rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_solve(engine, dtype):
    rd = result_dtype(dtype)
    cases = [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 4)),
             ((2, 3, 3), (3, 1)), ((4, 1, 3, 3), (2, 3, 2)), ((0, 3, 3), (0, 3, 2))]
    for sa, sb in cases:
        a = host(sa, dtype, "square")
        b = host(sb, dtype, seed=1)
        check(np.linalg.solve(np.array(a), np.array(b)),
              numpy.linalg.solve(a.astype("float64"), b.astype("float64")), rd, **tol(dtype))
    a, b = host((3, 3), kind="square"), host((3, 2), seed=1)
    check(np.linalg.solve(np.array(a).T, np.array(b)), numpy.linalg.solve(a.T, b), rtol=1e-10)
    # float32 with float64 gives float64
    r = np.linalg.solve(np.array(a.astype("float32")), np.array(b))
    assert r.dtype == numpy.float64


def test_tensorinv_tensorsolve(engine):
    a = host((4, 6, 8, 3), kind="general")
    a = a.reshape(24, 24) + 10 * numpy.eye(24)
    a = a.reshape(4, 6, 8, 3)
    check(np.linalg.tensorinv(np.array(a), ind=2), numpy.linalg.tensorinv(a, ind=2),
          rtol=1e-10, atol=1e-12)
    b6 = a.reshape(24, 24).reshape(24, 8, 3)
    check(np.linalg.tensorinv(np.array(b6), ind=1), numpy.linalg.tensorinv(b6, ind=1),
          rtol=1e-10, atol=1e-12)
    r = np.linalg.tensorinv(np.array(host((2, 2), "int32", "square")), ind=1)
    assert r.dtype == numpy.float32
    a = host((2, 3, 6), seed=2).reshape(6, 6) + 6 * numpy.eye(6)
    a = a.reshape(2, 3, 6)
    b = host((2, 3), seed=3)
    check(np.linalg.tensorsolve(np.array(a), np.array(b)), numpy.linalg.tensorsolve(a, b),
          rtol=1e-10)
    a2 = numpy.moveaxis(a, 2, 0).copy()  # shape (6, 2, 3)
    b2 = host((2, 3), seed=4)
    check(np.linalg.tensorsolve(np.array(a2), np.array(b2), axes=(0,)),
          numpy.linalg.tensorsolve(a2, b2, axes=(0,)), rtol=1e-10)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\)"):
        np.linalg.tensorinv(np.ones((2, 3, 4)), ind=1)
    with pytest.raises(ShapeError):
        np.linalg.tensorsolve(np.ones((2, 3, 6)), np.ones((2, 2)))


# -- decompositions (checked by reconstruction) -----------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (2, 3, 2, 3), (0, 3), (2, 0, 3)],
                         ids=str)
def test_svd(engine, dtype, shape):
    a = host(shape, dtype)
    x = np.array(a)
    rd = result_dtype(dtype)
    ref = a.astype("float64")
    t = tol(dtype)
    s_ref = numpy.linalg.svd(ref, compute_uv=False)
    for full in (True, False):
        u, s, vh = np.linalg.svd(x, full_matrices=full)
        eu, _, evh = numpy.linalg.svd(ref, full_matrices=full)
        assert u.shape == eu.shape and vh.shape == evh.shape and u.dtype == rd
        check(s, s_ref, rd, **t)
        un, sn, vn = u.asnumpy(), s.asnumpy(), vh.asnumpy()
        k = sn.shape[-1]
        rec = (un[..., :, :k] * sn[..., None, :]) @ vn[..., :k, :]
        numpy.testing.assert_allclose(rec, ref, **t)
        if full and un.size:  # orthogonal factors
            eye = numpy.broadcast_to(numpy.eye(un.shape[-1]), un.shape)
            numpy.testing.assert_allclose(mt(un) @ un, eye, **t)
    check(np.linalg.svd(x, compute_uv=False), s_ref, rd, **t)
    check(np.linalg.svdvals(x), s_ref, rd, **t)


def test_svd_hermitian_view_and_named_fields(engine):
    a = host((4, 4), kind="sym")
    x = np.array(a)
    res = np.linalg.svd(x, hermitian=True)
    rec = (res.U.asnumpy() * res.S.asnumpy()) @ res.Vh.asnumpy()
    numpy.testing.assert_allclose(rec, a, atol=1e-10)
    check(np.linalg.svd(x, compute_uv=False, hermitian=True),
          numpy.linalg.svd(a, compute_uv=False), rtol=1e-10)
    b = host((3, 5))
    u, s, vh = np.linalg.svd(np.array(b).T)
    numpy.testing.assert_allclose((u.asnumpy()[:, :3] * s.asnumpy()) @ vh.asnumpy(), b.T,
                                  atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)], ids=str)
def test_cholesky(engine, dtype, shape):
    a = host(shape, "float64", "spd")
    if dtype == "int32":
        a = numpy.round(a).astype("int32") + 2 * numpy.eye(shape[-1], dtype="int32")
    a = a.astype(dtype)
    x = np.array(a)
    ref = a.astype("float64")
    rd = result_dtype(dtype)
    low = np.linalg.cholesky(x)
    check(low, numpy.linalg.cholesky(ref), rd, **tol(dtype))
    ln = low.asnumpy().astype("float64")
    numpy.testing.assert_allclose(ln @ mt(ln), ref, **tol(dtype))
    up = np.linalg.cholesky(x, upper=True)
    check(up, numpy.linalg.cholesky(ref, upper=True), rd, **tol(dtype))


def test_cholesky_not_positive_definite_fails_at_sync(engine):
    x = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(LinAlgError):
        np.linalg.cholesky(x).asnumpy()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (2, 0, 3)], ids=str)
def test_qr(engine, dtype, shape):
    a = host(shape, dtype)
    x = np.array(a)
    ref = a.astype("float64")
    rd = result_dtype(dtype)
    for mode in ("reduced", "complete"):
        q, r = np.linalg.qr(x, mode=mode)
        eq, er = numpy.linalg.qr(ref, mode=mode)
        assert q.shape == eq.shape and r.shape == er.shape and q.dtype == rd == r.dtype
        qn, rn = q.asnumpy(), r.asnumpy()
        numpy.testing.assert_allclose(qn @ rn, ref, **tol(dtype))
        numpy.testing.assert_allclose(numpy.tril(rn, -1), 0, atol=1e-6)
        numpy.testing.assert_allclose(mt(qn) @ qn,
                                      numpy.broadcast_to(numpy.eye(qn.shape[-1]),
                                                         mt(qn).shape[:-1] + qn.shape[-1:]),
                                      **tol(dtype))
    r = np.linalg.qr(x, mode="r")
    assert r.shape == numpy.linalg.qr(ref, mode="r").shape
    numpy.testing.assert_allclose(numpy.abs(r.asnumpy()),
                                  numpy.abs(numpy.linalg.qr(ref, mode="r")), **tol(dtype))
    h, tau = np.linalg.qr(x, mode="raw")
    eh, etau = numpy.linalg.qr(ref, mode="raw")
    assert h.shape == eh.shape and tau.shape == etau.shape
    with pytest.raises(ValueError, match="mode"):
        np.linalg.qr(x, mode="full")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 3, 3)], ids=str)
def test_eigh_eigvalsh(engine, dtype, shape):
    a = host(shape, dtype, "sym")
    x = np.array(a)
    ref = a.astype("float64")
    rd = result_dtype(dtype)
    for uplo in ("L", "U"):
        w, v = np.linalg.eigh(x, UPLO=uplo)
        check(w, numpy.linalg.eigvalsh(ref, UPLO=uplo), rd, **tol(dtype))
        vn = v.asnumpy().astype("float64")
        assert v.dtype == rd
        numpy.testing.assert_allclose(ref @ vn, vn * w.asnumpy()[..., None, :], **tol(dtype))
        check(np.linalg.eigvalsh(x, UPLO=uplo), numpy.linalg.eigvalsh(ref, UPLO=uplo), rd,
              **tol(dtype))
    # UPLO reads only one triangle
    lower = numpy.tril(a)
    check(np.linalg.eigvalsh(np.array(lower), "L"), numpy.linalg.eigvalsh(ref), rd, **tol(dtype))
    with pytest.raises(ValueError, match="UPLO"):
        np.linalg.eigh(x, UPLO="X")


def test_eigh_complex_hermitian(engine):
    c = host((3, 3)) + 1j * host((3, 3), seed=1)
    c = c + mh(c)
    w, v = np.linalg.eigh(np.array(c))
    assert w.dtype == numpy.float64 and v.dtype == numpy.complex128
    vn = v.asnumpy()
    numpy.testing.assert_allclose(c @ vn, vn * w.asnumpy(), atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)], ids=str)
def test_eig_eigvals(engine, dtype, shape):
    # triangular matrices have real eigenvalues: their diagonal
    a = numpy.triu(host(shape, dtype)) + 3 * numpy.eye(shape[-1], dtype=dtype)
    a = a.astype(dtype)
    x = np.array(a)
    ref = a.astype("float64")
    rd = result_dtype(dtype)
    w, v = np.linalg.eig(x)
    assert w.dtype == rd and v.dtype == rd and v.shape == shape
    vn, wn = v.asnumpy().astype("float64"), w.asnumpy().astype("float64")
    numpy.testing.assert_allclose(ref @ vn, vn * wn[..., None, :], **tol(dtype))
    ev = numpy.sort(numpy.linalg.eigvals(ref).real, axis=-1)
    got = np.linalg.eigvals(x)
    assert got.shape == ev.shape and got.dtype == rd
    numpy.testing.assert_allclose(numpy.sort(got.asnumpy(), axis=-1), ev, **tol(dtype))
    res = np.linalg.eig(x)
    assert res.eigenvalues.shape == shape[:-1]


def test_eig_complex(engine):
    rot = numpy.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(LinAlgError, match="complex"):
        np.linalg.eigvals(np.array(rot)).asnumpy()
    with pytest.raises(LinAlgError, match="complex"):
        np.linalg.eig(np.array(rot))[0].asnumpy()
    c = rot.astype("complex128")
    w, v = np.linalg.eig(np.array(c))
    assert w.dtype == numpy.complex128
    numpy.testing.assert_allclose(c @ v.asnumpy(), v.asnumpy() * w.asnumpy(), atol=1e-12)
    numpy.testing.assert_allclose(numpy.sort_complex(np.linalg.eigvals(np.array(c)).asnumpy()),
                                  numpy.sort_complex(numpy.linalg.eigvals(c)), atol=1e-12)


# -- pseudo-inverse, least squares, rank, cond, powers ----------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (0, 3), (2, 0, 3)], ids=str)
def test_pinv(engine, dtype, shape):
    a = host(shape, dtype)
    ref = a.astype("float64")
    check(np.linalg.pinv(np.array(a)), numpy.linalg.pinv(ref), result_dtype(dtype),
          **tol(dtype))


def test_pinv_options(engine):
    a = host((4, 4), kind="sym")
    a[:, 0] = a[:, 1]
    a[0, :] = a[1, :]  # rank deficient, still symmetric
    x = np.array(a)
    check(np.linalg.pinv(x, hermitian=True), numpy.linalg.pinv(a, hermitian=True), atol=1e-8)
    check(np.linalg.pinv(x, rcond=0.5), numpy.linalg.pinv(a, rcond=0.5), atol=1e-8)
    check(np.linalg.pinv(x, rtol=None), numpy.linalg.pinv(a, rtol=None), atol=1e-8)
    check(np.linalg.pinv(x, rtol=0.3), numpy.linalg.pinv(a, rtol=0.3), atol=1e-8)
    check(np.linalg.pinv(x.T), numpy.linalg.pinv(a.T), atol=1e-8)
    with pytest.raises(ValueError):
        np.linalg.pinv(x, rcond=0.1, rtol=0.1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("sa,sb", [((6, 3), (6,)), ((6, 3), (6, 2)), ((3, 5), (3, 2)),
                                   ((4, 4), (4,)), ((5, 2), (5, 0))], ids=str)
def test_lstsq(engine, dtype, sa, sb):
    a, b = host(sa, dtype), host(sb, dtype, seed=1)
    ra, rb = a.astype("float64"), b.astype("float64")
    x, res, rank, s = np.linalg.lstsq(np.array(a), np.array(b))
    ex, eres, erank, es = numpy.linalg.lstsq(ra, rb)
    rd = result_dtype(dtype)
    check(x, ex, rd, **tol(dtype))
    check(res, eres, rd, **tol(dtype))
    check(rank, erank, numpy.int64)
    check(s, es, rd, **tol(dtype))


def test_lstsq_rank_deficient_and_rcond(engine):
    a = host((6, 3))
    a[:, 2] = a[:, 0] + a[:, 1]
    b = host((6, 2), seed=2)
    res = np.linalg.lstsq(np.array(a), np.array(b))
    ex, eres, erank, es = numpy.linalg.lstsq(a, b)
    assert int(res.rank) == erank == 2
    assert res.residuals.shape == eres.shape == (0,)
    check(res.x, ex, atol=1e-10)
    ex, eres, erank, _ = numpy.linalg.lstsq(a, b, rcond=0.9)
    x, r, rank, _ = np.linalg.lstsq(np.array(a), np.array(b), rcond=0.9)
    check(x, ex, atol=1e-10)
    assert int(rank) == erank and r.shape == eres.shape
    with pytest.raises(ShapeError, match=r"\(6, 3\).*\(5,\)"):
        np.linalg.lstsq(np.array(a), np.ones(5))
    with pytest.raises(LinAlgError):
        np.linalg.lstsq(np.ones((2, 3, 3)), np.ones(3))


def test_matrix_rank(engine):
    a = host((3, 5, 4))
    a[1, :, 3] = a[1, :, 0]
    a[2] = 0
    check(np.linalg.matrix_rank(np.array(a)), numpy.linalg.matrix_rank(a), numpy.int64)
    check(np.linalg.matrix_rank(np.array(a.astype("float32"))), numpy.linalg.matrix_rank(a))
    check(np.linalg.matrix_rank(np.array(a), tol=1e-3), numpy.linalg.matrix_rank(a, tol=1e-3))
    check(np.linalg.matrix_rank(np.array(a), rtol=0.5), numpy.linalg.matrix_rank(a, rtol=0.5))
    s = host((4, 4), kind="sym")
    check(np.linalg.matrix_rank(np.array(s), hermitian=True),
          numpy.linalg.matrix_rank(s, hermitian=True))
    check(np.linalg.matrix_rank(np.eye(4)), 4)
    check(np.linalg.matrix_rank(np.ones(4)), 1, numpy.int64)
    check(np.linalg.matrix_rank(np.zeros(4)), 0)
    check(np.linalg.matrix_rank(np.array(host((3, 4), "int32"))),
          numpy.linalg.matrix_rank(host((3, 4), "int32")))
    check(np.linalg.matrix_rank(np.zeros((2, 0, 3))), numpy.linalg.matrix_rank(
        numpy.zeros((2, 0, 3))))


def test_cond(engine):
    a = host((2, 4, 4), kind="square")
    for p in (None, 1, -1, 2, -2, inf, -inf, "fro", "nuc"):
        check(np.linalg.cond(np.array(a), p), numpy.linalg.cond(a, p), numpy.float64,
              rtol=1e-8)
    b = host((3, 5), "float32")
    check(np.linalg.cond(np.array(b)), numpy.linalg.cond(b.astype("float64")), numpy.float32,
          rtol=1e-4)
    check(np.linalg.cond(np.array(host((3, 3), "int32", "square")), 1),
          numpy.linalg.cond(host((3, 3), "int32", "square").astype(float), 1), numpy.float32,
          rtol=1e-5)
    with pytest.raises(ShapeError, match=r"\(3, 5\)"):
        np.linalg.cond(np.array(b), 1)
    with pytest.raises(ValueError):
        np.linalg.cond(np.array(a), 3)


def test_matrix_power(engine):
    a = host((2, 3, 3), kind="square")
    x = np.array(a)
    for n in (0, 1, 2, 5, -1, -3):
        check(np.linalg.matrix_power(x, n), numpy.linalg.matrix_power(a, n), numpy.float64,
              rtol=1e-8)
    i = host((3, 3), "int32")
    check(np.linalg.matrix_power(np.array(i), 3), numpy.linalg.matrix_power(i, 3), numpy.int32)
    ii = host((3, 3), "int32", "square")
    check(np.linalg.matrix_power(np.array(ii), -2),
          numpy.linalg.matrix_power(ii.astype(float), -2), numpy.float32, rtol=1e-4)
    with pytest.raises(TypeError):
        np.linalg.matrix_power(x, 1.5)
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        np.linalg.matrix_power(np.ones((2, 3)), 2)


def test_multi_dot(engine):
    shapes = [(4,), (4, 6), (6, 3), (3, 2), (2,)]
    arrs = [host(s, seed=i) for i, s in enumerate(shapes)]
    xs = [np.array(a) for a in arrs]
    check(np.linalg.multi_dot(xs), numpy.linalg.multi_dot(arrs), numpy.float64, rtol=1e-10)
    check(np.linalg.multi_dot(xs[1:4]), numpy.linalg.multi_dot(arrs[1:4]), rtol=1e-10)
    check(np.linalg.multi_dot([xs[1].T, xs[0]]), numpy.linalg.multi_dot([arrs[1].T, arrs[0]]),
          rtol=1e-10)
    ints = [np.array(host((2, 2), "int32", seed=i)) for i in range(3)]
    assert np.linalg.multi_dot(ints).dtype == numpy.int32
    with pytest.raises(ShapeError, match=r"\(4, 6\).*\(3, 2\)"):
        np.linalg.multi_dot([xs[1], xs[3]])
    with pytest.raises(ValueError):
        np.linalg.multi_dot([xs[1]])


# -- array-API additions to np.linalg ---------------------------------------------------------

def test_linalg_2_0_functions(engine):
    a = host((2, 3, 4), "float32")
    b = host((2, 3, 4), "float32", seed=1)
    x, y = np.array(a), np.array(b)
    check(np.linalg.diagonal(x), numpy.linalg.diagonal(a), numpy.float32)
    check(np.linalg.diagonal(x, offset=1), numpy.linalg.diagonal(a, offset=1))
    check(np.linalg.diagonal(x, offset=-2), numpy.linalg.diagonal(a, offset=-2))
    check(np.linalg.trace(x), numpy.linalg.trace(a), numpy.float32, rtol=1e-6)
    check(np.linalg.trace(x, offset=1), numpy.linalg.trace(a, offset=1), rtol=1e-6)
    check(np.linalg.trace(np.array(host((3, 3), "int32"))),
          numpy.linalg.trace(host((3, 3), "int32")), numpy.int64)
    mtr = np.linalg.matrix_transpose(x)
    check(mtr, numpy.linalg.matrix_transpose(a))
    check(np.linalg.vecdot(x, y), numpy.linalg.vecdot(a, b), numpy.float32, rtol=1e-5)
    check(np.linalg.vecdot(x, y, axis=1), numpy.linalg.vecdot(a, b, axis=1), rtol=1e-5)
    check(np.linalg.vecdot(x, np.array(b[0, 0])), numpy.linalg.vecdot(a, b[0, 0]), rtol=1e-5)
    check(np.linalg.svdvals(x), numpy.linalg.svdvals(a), numpy.float32, rtol=1e-5)
    u, v = host((3,)), host((5,), seed=1)
    check(np.linalg.outer(np.array(u), np.array(v)), numpy.linalg.outer(u, v), rtol=1e-12)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\)"):
        np.linalg.outer(x, np.array(v))
    c, d = host((4, 3)), host((4, 3), seed=1)
    check(np.linalg.cross(np.array(c), np.array(d)), numpy.linalg.cross(c, d), rtol=1e-12)
    check(np.linalg.cross(np.array(c.T), np.array(d.T), axis=0),
          numpy.linalg.cross(c.T, d.T, axis=0), rtol=1e-12)
    with pytest.raises(ShapeError):
        np.linalg.cross(np.ones((3, 2)), np.ones((3, 2)))
    bt = numpy.moveaxis(b, 2, 0)
    check(np.linalg.tensordot(x, np.array(bt), axes=1),
          numpy.linalg.tensordot(a, bt, axes=1), rtol=1e-5)
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        np.linalg.matrix_transpose(np.ones(3))
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\).*\(2, 3, 5\)"):
        np.linalg.vecdot(x, np.ones((2, 3, 5)))


# -- top-level products -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_outer_inner_vdot_kron(engine, dtype):
    a, b = host((2, 3), dtype), host((3, 4), dtype, seed=1)
    v, w = host((3,), dtype, seed=2), host((3,), dtype, seed=3)
    x, y = np.array(a), np.array(b)
    dt = numpy.dtype(dtype)
    t = tol(dtype)
    check(np.outer(x, y), numpy.outer(a, b), dt, **t)
    check(np.outer(np.array(v), np.array(w)), numpy.outer(v, w), dt, **t)
    check(np.inner(x, y.T), numpy.inner(a, b.T), dt, **t)
    check(np.inner(np.array(v), np.array(w)), numpy.inner(v, w), dt, **t)
    check(np.inner(np.array(a[0, 0]), y), numpy.inner(a[0, 0], b), dt, **t)
    check(np.vdot(x, np.array(b[:2, :3])), numpy.vdot(a, b[:2, :3]), dt, **t)
    check(np.kron(x, y), numpy.kron(a, b), dt, **t)
    check(np.kron(np.array(v), y), numpy.kron(v, b), dt, **t)
    check(np.kron(np.array(host((2, 1, 2), dtype)), y),
          numpy.kron(host((2, 1, 2), dtype), b), dt, **t)
    check(np.outer(np.zeros((0,)), np.ones(3)), numpy.outer(numpy.zeros(0), numpy.ones(3)))


def test_products_mixed_dtypes_complex_and_errors(engine):
    a = np.array(host((2, 3), "float32"))
    i = np.array(host((3, 2), "int32"))
    assert np.inner(a, i.T).dtype == numpy.float32  # MXNet: int never upcasts a float
    assert np.kron(a, i).dtype == numpy.float32
    c = host((3,)) + 1j * host((3,), seed=1)
    d = host((3,), seed=2) + 1j * host((3,), seed=3)
    check(np.vdot(np.array(c), np.array(d)), numpy.vdot(c, d), rtol=1e-12)
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3, 2\)"):
        np.inner(a, i)
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4,\)"):
        np.vdot(a, np.ones(4))
    with pytest.raises(TypeError, match="numpy"):
        np.outer(numpy.ones(3), a)
    with pytest.raises(TypeError):
        np.linalg.inv(numpy.eye(3))
    out = np.zeros((6, 6))
    assert np.outer(a, a, out=out) is out
    check(out, numpy.outer(a.asnumpy(), a.asnumpy()), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_tensordot(engine, dtype):
    a, b = host((3, 4, 5), dtype), host((4, 5, 2), dtype, seed=1)
    c = host((5, 3, 4), dtype, seed=2)
    x, y, z = np.array(a), np.array(b), np.array(c)
    dt, t = numpy.dtype(dtype), tol(dtype)
    check(np.tensordot(x, y), numpy.tensordot(a, b), dt, **t)
    check(np.tensordot(x, y, axes=0), numpy.tensordot(a, b, axes=0), dt, **t)
    check(np.tensordot(x, z, axes=([0, 1], [1, 2])),
          numpy.tensordot(a, c, axes=([0, 1], [1, 2])), dt, **t)
    check(np.tensordot(x, z, axes=([-1], [0])), numpy.tensordot(a, c, axes=([-1], [0])), **t)
    check(np.tensordot(x, z, axes=(2, 0)), numpy.tensordot(a, c, axes=(2, 0)), **t)
    check(np.tensordot(z.T, x.T, axes=1), numpy.tensordot(c.T, a.T, axes=1), **t)
    with pytest.raises(ShapeError, match=r"\(3, 4, 5\).*\(5, 3, 4\)"):
        np.tensordot(x, z)
    with pytest.raises(ShapeError):
        np.tensordot(x, y, axes=([0, 1], [0]))
    with pytest.raises(ShapeError):
        np.tensordot(np.ones(3), np.ones(3), axes=2)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,i", [(4,), (4,)]),
    ("i,j->ij", [(3,), (0,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("i...->...", [(2, 3, 4)]),
    ("a...b,b...->a...", [(2, 4, 3), (3, 4)]),
    ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("Ba,aB", [(2, 3), (3, 2)]),
    ("bA", [(2, 3)]),
    ("ijk->", [(2, 3, 4)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("", [()]),
    (",->", [(), ()]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum(engine, subscripts, shapes):
    arrs = [host(s, seed=i) for i, s in enumerate(shapes)]
    expected = numpy.einsum(subscripts, *arrs)
    check(np.einsum(subscripts, *[np.array(a) for a in arrs]), expected, numpy.float64,
          rtol=1e-10)
    if len(arrs) > 1:
        check(np.einsum(subscripts, *[np.array(a) for a in arrs], optimize=True), expected,
              rtol=1e-10)


def test_einsum_dtypes_views_sublists(engine):
    i = host((3, 4), "int32")
    check(np.einsum("ij,kj->ik", np.array(i), np.array(i)), numpy.einsum("ij,kj->ik", i, i),
          numpy.int32)
    f = host((3, 4), "float32")
    assert np.einsum("ij,ij->i", np.array(f), np.array(i)).dtype == numpy.float32
    a = host((3, 3))
    x = np.array(a)
    d = np.einsum("ii->i", x)  # a copy, never a view of the input
    x[0, 0] = 100.0
    numpy.testing.assert_allclose(d.asnumpy(), numpy.diagonal(a))
    check(np.einsum("ij,jk", np.array(a).T, np.array(a)), a.T @ a, rtol=1e-12)
    b = host((3, 4), seed=1)
    check(np.einsum(np.array(a), [0, 1], np.array(b), [1, 2], [0, 2]), a @ b, rtol=1e-12)
    check(np.einsum(np.array(a), [Ellipsis, 0]), numpy.einsum(a, [Ellipsis, 0]))
    out = np.zeros((3, 4))
    assert np.einsum("ij,jk->ik", x, np.array(b), out=out) is out


def test_einsum_errors():
    x, y = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(ShapeError, match=r"'j'.*\(2, 3\).*\(4, 5\)"):
        np.einsum("ij,jk->ik", x, y)
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        np.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="operand"):
        np.einsum("ij,jk", x)
    with pytest.raises(ValueError, match="'q'"):
        np.einsum("ij->q", x)
    with pytest.raises(ValueError, match="repeat"):
        np.einsum("ij->ii", x)
    with pytest.raises(ShapeError, match="'...'"):
        np.einsum("...i->i", np.ones((2, 3)))
    with pytest.raises(ShapeError, match="different sizes"):
        np.einsum("ii->i", x)
    with pytest.raises(ValueError):
        np.einsum("i1->i", x)
    with pytest.raises(ShapeError, match="broadcast"):
        np.einsum("...i,...i", np.ones((2, 3)), np.ones((4, 3)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_cross(engine, dtype):
    a3, b3 = host((4, 3), dtype), host((4, 3), dtype, seed=1)
    a2, b2 = host((4, 2), dtype, seed=2), host((4, 2), dtype, seed=3)
    dt = numpy.dtype(dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # NumPy: 2-d vectors
        for a, b in ((a3, b3), (a2, b3), (a3, b2), (a2, b2), (a3[0], b3), (a2[0], b2)):
            check(np.cross(np.array(a), np.array(b)), numpy.cross(a, b), dt, **tol(dtype))
        check(np.cross(np.array(a3.T), np.array(b3), axisa=0),
              numpy.cross(a3.T, b3, axisa=0), dt, **tol(dtype))
        check(np.cross(np.array(a3), np.array(b3), axisc=0),
              numpy.cross(a3, b3, axisc=0), **tol(dtype))
        c, d = host((3, 2, 5), dtype), host((3, 1, 5), dtype, seed=1)
        check(np.cross(np.array(c), np.array(d), axis=0), numpy.cross(c, d, axis=0),
              **tol(dtype))
        check(np.cross(np.array(a3).T, np.array(b2).T, axis=0),
              numpy.cross(a3.T, b2.T, axis=0), **tol(dtype))
    with pytest.raises(ShapeError, match=r"\(4, 4\)"):
        np.cross(np.ones((4, 4)), np.ones((4, 3)))
    with pytest.raises(ShapeError, match="broadcast"):
        np.cross(np.ones((4, 3)), np.ones((5, 3)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_trace(engine, dtype):
    a = host((3, 4, 5), dtype)
    x = np.array(a)
    exp_dt = numpy.trace(a).dtype
    for kw in ({}, {"offset": 1}, {"offset": -2}, {"axis1": 1, "axis2": 2},
               {"axis1": -1, "axis2": 0, "offset": 2}, {"offset": 10}):
        check(np.trace(x, **kw), numpy.trace(a, **kw), exp_dt, rtol=1e-5)
    check(np.trace(x, dtype="float64"), numpy.trace(a, dtype="float64"), numpy.float64,
          rtol=1e-5)
    check(np.trace(np.array(a[0]).T), numpy.trace(a[0].T), rtol=1e-5)
    with pytest.raises(ValueError):
        np.trace(x, axis1=1, axis2=1)
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        np.trace(np.ones(3))


# -- errors and asynchrony --------------------------------------------------------------------

def test_shape_errors_raise_at_the_call_naming_shapes():
    for fn in (np.linalg.inv, np.linalg.det, np.linalg.cholesky, np.linalg.eig,
               np.linalg.eigh, np.linalg.eigvals, np.linalg.slogdet):
        with pytest.raises(ShapeError, match=r"\(2, 3\)") as info:
            fn(np.ones((2, 3)))
        assert isinstance(info.value, LinAlgError)  # what NumPy raises, too
        with pytest.raises(LinAlgError, match=r"\(3,\)"):
            fn(np.ones(3))
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(4,\)"):
        np.linalg.solve(np.eye(3), np.ones(4))
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(2, 4\)"):
        np.linalg.solve(np.eye(3), np.ones((2, 4)))
    with pytest.raises(ShapeError, match="broadcast"):
        np.linalg.solve(np.ones((2, 3, 3)), np.ones((4, 3, 1)))
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        np.linalg.svd(np.ones((2, 3)), hermitian=True)


def test_singular_inverse_fails_at_sync_point():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with engine_scope("ThreadedEngine"):
        big = np.ones((400, 400))
        busy = np.linalg.inv(big + np.eye(400) * 400)  # keeps the worker busy
        r = np.linalg.inv(singular)  # returns at once
        assert r.shape == (2, 2) and r.dtype == numpy.float32
        with pytest.raises(LinAlgError, match="linalg_inv"):
            r.asnumpy()
        busy.wait_to_read()
    with engine_scope("NaiveEngine"):
        with pytest.raises(LinAlgError):
            np.linalg.inv(singular).asnumpy()
    with pytest.raises(LinAlgError):
        np.linalg.solve(singular, np.ones(2)).asnumpy()
    with pytest.raises(LinAlgError):
        np.linalg.tensorinv(np.zeros((2, 2)), ind=1).asnumpy()


def test_numpy_functions_dispatch_to_framework(engine):
    a = host((2, 3, 3), kind="square")
    x = np.array(a)
    r = numpy.linalg.inv(x)
    assert isinstance(r, np.ndarray)
    check(r, numpy.linalg.inv(a), rtol=1e-10)
    # numpy.trace is the top-level trace (first two axes), numpy.linalg.trace the last two
    check(numpy.trace(x), numpy.trace(a), rtol=1e-10)
    check(numpy.linalg.trace(x), numpy.linalg.trace(a), rtol=1e-10)
    check(numpy.einsum("bij->bji", x), numpy.einsum("bij->bji", a))
    assert isinstance(numpy.linalg.norm(x), np.ndarray)
