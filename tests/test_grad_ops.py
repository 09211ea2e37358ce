"""Gradients of the reductions, products, linear algebra, statistics, npx and np extras.

Each check compares the gradient from ``autograd`` along a random direction ``v`` with central
finite differences of ``sum(h * f(x))`` in float64; the double-backward checks do the same for
the gradient itself (``autograd.grad(..., create_graph=True)``). A focused complement to the
table-driven harness in ``test_grad.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as onp
import pytest

from framework import autograd, np, npx
from framework.base import FrameworkError
from framework.nd import _linalg, _misc, _npx

SEED = 20240611
EPS = 1e-6


def _arr(a: onp.ndarray) -> Any:
    return np.array(a, dtype=a.dtype)


def _directions(shape: tuple[int, ...], rng: onp.random.Generator, sym: bool) -> onp.ndarray:
    v = rng.standard_normal(shape)
    return v + onp.swapaxes(v, -1, -2) if sym else v


def check_grad(f: Callable[..., Any], args: Sequence[onp.ndarray], wrt: Sequence[int] = (0,),
               rtol: float = 1e-6, atol: float = 1e-8, sym: Sequence[int] = (),
               seed: int = SEED) -> None:
    """autograd's gradient of sum(h * f(*args)) along a random v against central differences
    (``sym``: inputs perturbed symmetrically, for ops that read one triangle)."""
    rng = onp.random.default_rng(seed)
    args = [onp.asarray(a) for a in args]
    xs = [_arr(a) for a in args]
    for i in wrt:
        xs[i].attach_grad()
    with autograd.record():
        y = f(*xs)
    h = rng.standard_normal(y.shape)
    y.backward(np.array(h, dtype=y.dtype))

    def value(vals: list[onp.ndarray]) -> float:
        return float((f(*[_arr(v) for v in vals]).asnumpy() * h).sum())

    for i in wrt:
        v = _directions(args[i].shape, rng, i in sym)
        plus, minus = list(args), list(args)
        plus[i] = args[i] + EPS * v
        minus[i] = args[i] - EPS * v
        num = (value(plus) - value(minus)) / (2 * EPS)
        grad = xs[i].grad
        assert grad is not None and grad.shape == args[i].shape, f"seed {seed}: input {i}"
        ana = float((grad.asnumpy() * v).sum())
        assert abs(num - ana) <= atol + rtol * max(abs(num), abs(ana)), (
            f"seed {seed}: input {i}: finite differences {num!r}, autograd {ana!r}")


def check_double(f: Callable[..., Any], args: Sequence[onp.ndarray], rtol: float = 1e-5,
                 atol: float = 1e-7, sym: bool = False, seed: int = SEED) -> None:
    """The same check for x -> <h, df/dx> (so second derivatives, through create_graph)."""
    rng = onp.random.default_rng(seed)
    args = [onp.asarray(a) for a in args]
    with autograd.record():
        y0 = f(*[_arr(a) for a in args])
    h = np.array(rng.standard_normal(y0.shape), dtype=y0.dtype)
    h2 = rng.standard_normal(args[0].shape)

    def first(vals: list[onp.ndarray]) -> tuple[Any, Any]:
        xs = [_arr(v) for v in vals]
        xs[0].attach_grad()
        with autograd.record():
            y = f(*xs)
            (gx,) = autograd.grad([y], [xs[0]], [h], create_graph=True)
            z = (gx * np.array(h2)).sum()
        return xs[0], z

    x, z = first(args)
    z.backward()
    v = _directions(args[0].shape, rng, sym)
    plus, minus = list(args), list(args)
    plus[0] = args[0] + EPS * v
    minus[0] = args[0] - EPS * v
    num = (float(first(plus)[1].asnumpy()) - float(first(minus)[1].asnumpy())) / (2 * EPS)
    ana = float((x.grad.asnumpy() * v).sum())
    assert abs(num - ana) <= atol + rtol * max(abs(num), abs(ana)), (
        f"seed {seed}: second derivative: finite differences {num!r}, autograd {ana!r}")


def _sq(x: Any) -> Any:
    return x * x


def _int(v: Any) -> Any:
    return np.array(v, dtype="int64")


def _bool(v: Any) -> Any:
    return np.array(v, dtype="bool")


def _rng(k: int = 0) -> onp.random.Generator:
    return onp.random.default_rng(SEED + k)


def _randn(*shape: int, k: int = 0) -> onp.ndarray:
    return _rng(k).standard_normal(shape)


def _spd(n: int, k: int = 0, batch: tuple[int, ...] = ()) -> onp.ndarray:
    a = _randn(*batch, n, n, k=k)
    return a @ onp.swapaxes(a, -1, -2) + n * onp.eye(n)


def _distinct(*shape: int, k: int = 0) -> onp.ndarray:
    """Values far enough apart that no tie flips under the finite-difference step."""
    n = math.prod(shape)
    return (_rng(k).permutation(n) * 0.37 + _rng(k + 1).uniform(0, 0.1, n)).reshape(shape)


# -- reductions -----------------------------------------------------------------------------------

A34 = _randn(3, 4)
ZEROS = A34.copy()
ZEROS[0, 1] = 0.0  # one zero in row 0
ZEROS[2, 0] = ZEROS[2, 3] = 0.0  # two in row 2

REDUCE_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray]]] = {
    "sum": (lambda x: np.sum(x, axis=1), [A34]),
    "sum_keepdims": (lambda x: np.sum(x, axis=0, keepdims=True), [A34]),
    "mean": (lambda x: np.mean(x, axis=(0, 1)), [A34]),
    "var": (lambda x: np.var(x, axis=0), [A34]),
    "std_ddof": (lambda x: np.std(x, axis=1, ddof=1), [A34]),
    "max": (lambda x: np.max(x, axis=1), [_distinct(3, 4)]),
    "min_all": (lambda x: np.min(x), [_distinct(3, 4)]),
    "prod": (lambda x: np.prod(x, axis=1), [A34]),
    "prod_zeros": (lambda x: np.prod(x, axis=1), [ZEROS]),
    "prod_axes_zeros": (lambda x: np.prod(x, axis=(0, 1), keepdims=True), [ZEROS]),
    "nansum": (lambda x: np.nansum(x, axis=0), [onp.where(ZEROS == 0, onp.nan, ZEROS)]),
    "nanprod": (lambda x: np.nanprod(x, axis=1), [onp.where(ZEROS == 0, onp.nan, ZEROS)]),
    "cumsum": (lambda x: np.cumsum(x, axis=1), [A34]),
    "cumsum_flat": (lambda x: np.cumsum(x), [A34]),
    "cumprod": (lambda x: np.cumprod(x, axis=1), [A34]),
    "cumprod_zeros": (lambda x: np.cumprod(x, axis=1), [ZEROS]),
    "cumprod_flat_zeros": (lambda x: np.cumprod(x), [ZEROS]),
    "ndarray_norm": (lambda x: x.norm(), [A34]),
    "ndarray_norm_axis": (lambda x: x.norm(ord=1, axis=1), [A34]),
}


@pytest.mark.parametrize("name", list(REDUCE_CASES))
def test_reduce_grad(name: str) -> None:
    f, args = REDUCE_CASES[name]
    check_grad(f, args)


def test_max_splits_ties_equally() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = np.max(x, axis=1)
    y.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_prod_zeros_exact() -> None:
    x = np.array([2.0, 0.0, 3.0, 4.0], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = np.prod(x)
    y.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), [0.0, 24.0, 0.0, 0.0])


def test_integer_and_index_outputs_have_no_gradient() -> None:
    x = np.array([[1.0, 5.0], [3.0, 2.0]], dtype="float64")
    x.attach_grad()
    with autograd.record():
        idx = np.argmax(x, axis=1)
        y = (np.take(x, idx) * 2).sum() + np.any(x > 2).astype("float64")
    y.backward()  # argmax is [1, 0]: flat positions 1 and 0
    onp.testing.assert_allclose(x.grad.asnumpy(), [[2.0, 2.0], [0.0, 0.0]])


# -- products, sorting, take ----------------------------------------------------------------------

B45 = _randn(4, 5, k=1)
V4 = _randn(4, k=2)

MISC_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray], tuple[int, ...]]] = {
    "matmul": (np.matmul, [A34, B45], (0, 1)),
    "matmul_batched": (np.matmul, [_randn(2, 1, 3, 4), _randn(3, 4, 2, k=1)], (0, 1)),
    "matmul_vec_mat": (np.matmul, [V4, _randn(2, 4, 3, k=1)], (0, 1)),
    "matmul_mat_vec": (np.matmul, [_randn(2, 3, 4), V4], (0, 1)),
    "matmul_vec_vec": (np.matmul, [V4, _randn(4, k=3)], (0, 1)),
    "dot": (np.dot, [A34, B45], (0, 1)),
    "dot_vec": (np.dot, [A34, V4], (0, 1)),
    "dot_nd": (np.dot, [_randn(2, 3, 4), _randn(2, 4, 3, k=1)], (0, 1)),
    "dot_scalar": (np.dot, [onp.array(1.5), A34], (0, 1)),
    "sort": (lambda x: np.sort(x, axis=1), [_distinct(3, 4)], (0,)),
    "sort_flat": (lambda x: np.sort(x, axis=None), [_distinct(3, 4)], (0,)),
    "take_repeats": (lambda x: np.take(x, np.array([0, 2, 2, 1, 2]), axis=1), [A34], (0,)),
    "take_flat_2d": (lambda x: np.take(x, np.array([[0, 11], [11, 5]])), [A34], (0,)),
    "take_clip_wrap": (lambda x: np.take(x, np.array([-1, 7, 1]), axis=1, mode="wrap")
                       + np.take(x, np.array([9, -3, 1]), axis=1, mode="clip"), [A34], (0,)),
    "round": (lambda x: np.round(x * 10.0, 1) + x, [A34], (0,)),
}


@pytest.mark.parametrize("name", list(MISC_CASES))
def test_misc_grad(name: str) -> None:
    f, args, wrt = MISC_CASES[name]
    check_grad(f, args, wrt)


def test_sort_descending_op() -> None:
    check_grad(lambda x: _misc.sort(x, axis=0, descending=True), [_distinct(3, 4)])


# -- linear algebra -------------------------------------------------------------------------------

SQ = _randn(3, 3, k=4) + 3 * onp.eye(3)
SQ_B = _randn(2, 3, 3, k=5) + 3 * onp.eye(3)
TALL = _randn(5, 3, k=6)
WIDE = _randn(3, 5, k=7)


def _gauge(u: Any, ref: Any) -> Any:
    """Singular/eigen vectors with the sign fixed by their first row (a gauge-invariant loss)."""
    return u * np.sign(ref[..., :1, :])


def _svd_loss(a: Any, full: bool = False) -> Any:
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    sign = np.sign(u[..., :1, :])
    return np.concatenate([(u * sign).reshape(-1), s.reshape(-1),
                           (vh * np.swapaxes(sign, -1, -2)).reshape(-1)])


def _eigh_loss(a: Any) -> Any:
    w, v = np.linalg.eigh(a)
    return np.concatenate([w.reshape(-1), _gauge(v, v).reshape(-1)])


def _qr_loss(a: Any, mode: str = "reduced") -> Any:
    if mode == "r":
        return np.linalg.qr(a, mode="r")
    q, r = np.linalg.qr(a, mode=mode)
    return np.concatenate([q.reshape(-1), r.reshape(-1)])


LINALG_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray], tuple[int, ...],
                              tuple[int, ...]]] = {
    "inv": (np.linalg.inv, [SQ_B], (0,), ()),
    "det": (np.linalg.det, [SQ_B], (0,), ()),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], [SQ - 4 * onp.eye(3)], (0,), ()),
    "solve_matrix": (np.linalg.solve, [SQ_B, _randn(2, 3, 2)], (0, 1), ()),
    "solve_vector": (np.linalg.solve, [SQ, _randn(3)], (0, 1), ()),
    "solve_broadcast": (np.linalg.solve, [SQ, _randn(2, 3, 2)], (0, 1), ()),
    "cholesky": (np.linalg.cholesky, [_spd(3, batch=(2,))], (0,), (0,)),
    "cholesky_upper": (lambda a: np.linalg.cholesky(a, upper=True), [_spd(3)], (0,), (0,)),
    "qr_tall": (_qr_loss, [TALL], (0,), ()),
    "qr_square_batch": (_qr_loss, [SQ_B], (0,), ()),
    "qr_wide": (_qr_loss, [WIDE], (0,), ()),
    "qr_r": (lambda a: _qr_loss(a, "r"), [TALL], (0,), ()),
    "svd_tall": (_svd_loss, [TALL], (0,), ()),
    "svd_wide": (_svd_loss, [WIDE], (0,), ()),
    "svd_full": (lambda a: _svd_loss(a, True), [TALL], (0,), ()),
    "svdvals": (lambda a: np.linalg.svd(a, compute_uv=False), [_randn(2, 4, 3)], (0,), ()),
    "eigh": (_eigh_loss, [_spd(3, k=8)], (0,), (0,)),
    "eigvalsh": (np.linalg.eigvalsh, [_spd(4, k=9)], (0,), (0,)),
    "pinv_tall": (np.linalg.pinv, [TALL], (0,), ()),
    "pinv_wide": (np.linalg.pinv, [WIDE], (0,), ()),
    "lstsq": (lambda a, b: np.concatenate([r.reshape(-1) for r in np.linalg.lstsq(a, b)[:2]]
                                          + [np.linalg.lstsq(a, b)[3]]),
              [TALL, _randn(5, 2)], (0, 1), ()),
    "lstsq_vector": (lambda a, b: np.linalg.lstsq(a, b)[0], [TALL, _randn(5)], (0, 1), ()),
    "tensorinv": (lambda a: np.linalg.tensorinv(a, ind=1), [_randn(6, 2, 3) + onp.eye(6).reshape(
        6, 2, 3) * 3], (0,), ()),
    "tensorsolve": (np.linalg.tensorsolve, [onp.eye(6).reshape(2, 3, 6) * 3 + _randn(2, 3, 6),
                                            _randn(2, 3)], (0, 1), ()),
    "matrix_power_3": (lambda a: np.linalg.matrix_power(a, 3), [SQ_B], (0,), ()),
    "matrix_power_neg": (lambda a: np.linalg.matrix_power(a, -2), [SQ], (0,), ()),
    "matrix_power_0": (lambda a: np.linalg.matrix_power(a, 0) + a, [SQ], (0,), ()),
    "multi_dot": (lambda a, b, c: np.linalg.multi_dot([a, b, c]), [V4, B45, _randn(5, 2)],
                  (0, 1, 2), ()),
    "multi_dot_mats": (lambda a, b: np.linalg.multi_dot([a, b, np.ones((5, 2))]), [A34, B45],
                       (0, 1), ()),
    "diagonal": (lambda x: np.linalg.diagonal(x, offset=1), [_randn(2, 3, 4)], (0,), ()),
    "diagonal_axes": (lambda x: _linalg.diagonal(x, -1, 2, 0), [_randn(3, 2, 4)], (0,), ()),
    "trace": (lambda x: np.trace(x, offset=-1), [_randn(4, 3, 2)], (0,), ()),
    "outer": (np.outer, [V4, _randn(2, 3)], (0, 1), ()),
    "inner": (np.inner, [A34, _randn(2, 4)], (0, 1), ()),
    "inner_scalar": (np.inner, [onp.array(2.0), A34], (0, 1), ()),
    "vdot": (np.vdot, [A34, _randn(4, 3)], (0, 1), ()),
    "vecdot": (np.linalg.vecdot, [A34, _randn(2, 1, 4)], (0, 1), ()),
    "tensordot": (lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
                  [_randn(2, 3, 4), _randn(4, 5, 2)], (0, 1), ()),
    "tensordot_int": (lambda a, b: np.tensordot(a, b, axes=1), [A34, B45], (0, 1), ()),
    "einsum_matmul": (lambda a, b: np.einsum("ij,jk->ik", a, b), [A34, B45], (0, 1), ()),
    "einsum_diag_sum": (lambda a: np.einsum("ii->i", a) + np.einsum("ii", a), [SQ], (0,), ()),
    "einsum_own_label": (lambda a, b: np.einsum("ij,k->i", a, b), [A34, V4], (0, 1), ()),
    "einsum_ellipsis": (lambda a, b: np.einsum("...ij,jk->...ik", a, b),
                        [_randn(2, 1, 3, 4), B45], (0, 1), ()),
    "einsum_broadcast": (lambda a, b: np.einsum("...j,...j->...", a, b),
                         [_randn(2, 3, 4), _randn(3, 1)], (0, 1), ()),
    "einsum_three": (lambda a, b, c: np.einsum("ij,jk,ki->", a, b, c), [A34, B45, _randn(5, 3)],
                     (0, 1, 2), ()),
    "einsum_implicit": (lambda a: np.einsum("iij", a), [_randn(3, 3, 2)], (0,), ()),
    "kron": (np.kron, [_randn(2, 3), _randn(3, 1, 2)], (0, 1), ()),
    "cross_3": (np.cross, [_randn(4, 3), _randn(3, k=1)], (0, 1), ()),
    "cross_2_3": (lambda a, b: np.cross(a, b, axisa=0), [_randn(2, 4), _randn(4, 3)], (0, 1), ()),
    "cross_2_2": (np.cross, [_randn(4, 2), _randn(4, 2, k=1)], (0, 1), ()),
    "cross_axisc": (lambda a, b: np.cross(a, b, axisc=0), [_randn(4, 3), _randn(4, 3, k=1)],
                    (0, 1), ()),
}


@pytest.mark.parametrize("name", list(LINALG_CASES))
def test_linalg_grad(name: str) -> None:
    f, args, wrt, sym = LINALG_CASES[name]
    check_grad(f, args, wrt, sym=sym, rtol=1e-5)


NORM_CASES: list[tuple[Any, Any, onp.ndarray]] = [
    (None, None, _randn(2, 3, 2)), (2, 1, A34), (1, 0, A34), (math.inf, 1, _distinct(3, 4)),
    (-math.inf, None, _distinct(5)), (3, 1, A34), (0.5, 1, A34 + 3), ("fro", (0, 1), A34),
    ("nuc", (1, 2), _randn(2, 3, 4)), (2, (0, 1), A34), (-2, (0, 1), A34), (1, (0, 1), A34),
    (-1, (0, 1), A34), (math.inf, (0, 1), A34), (-math.inf, (1, 0), A34),
]


@pytest.mark.parametrize("case", range(len(NORM_CASES)))
def test_norm_grad(case: int) -> None:
    ord, axis, x = NORM_CASES[case]
    check_grad(lambda a: np.linalg.norm(a, ord=ord, axis=axis, keepdims=case % 2 == 1), [x],
               rtol=1e-5)


def test_norm_zero_vector_gradient_is_zero() -> None:
    x = np.zeros((3,), dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = np.linalg.norm(x)
    y.backward()
    onp.testing.assert_array_equal(x.grad.asnumpy(), 0)


def test_qr_raw_not_differentiable() -> None:
    x = np.array(TALL)
    x.attach_grad()
    with autograd.record():
        h, _ = np.linalg.qr(x, mode="raw")
    with pytest.raises(FrameworkError, match="not differentiable"):
        h.backward()


@pytest.mark.parametrize("a", [TALL, WIDE], ids=["tall", "wide"])
def test_svd_full_undetermined_part_raises(a: onp.ndarray) -> None:
    # the columns of U (rows of Vh) past min(m, n) are an arbitrary basis: no gradient through
    # them (the check needs the data, so it fails at the sync point); s alone is fine
    x = np.array(a)
    x.attach_grad()
    with autograd.record():
        u, s, vh = np.linalg.svd(x)
        y = (u * np.array(onp.ones(u.shape))).sum() + (vh * np.array(onp.ones(vh.shape))).sum()
    y.backward()
    with pytest.raises(FrameworkError, match="full_matrices=False"):
        x.grad.asnumpy()
    with autograd.record():
        u, s, vh = np.linalg.svd(x)
    s.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), (u[:, :3] @ vh[:3]).asnumpy(), rtol=1e-12)


# -- statistics -----------------------------------------------------------------------------------

NANS = onp.where(ZEROS == 0, onp.nan, ZEROS)
XP = onp.array([-1.0, 0.5, 1.25, 3.0])
FP = onp.array([2.0, -1.0, 0.5, 4.0])

STATS_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray], tuple[int, ...]]] = {
    "average": (lambda a: np.average(a, axis=1), [A34], (0,)),
    "average_weights": (lambda a, w: np.average(a, axis=0, weights=w), [A34, _rng().uniform(
        0.5, 2, (3, 4))], (0, 1)),
    "average_axis_weights": (lambda a, w: np.average(a, axis=1, weights=w), [A34, _rng().uniform(
        0.5, 2, 4)], (0, 1)),
    "average_returned": (lambda a, w: np.concatenate(np.average(
        a, axis=(2, 0), weights=w, returned=True)), [_randn(2, 3, 4), _rng().uniform(
            0.5, 2, (4, 2))], (0, 1)),
    "percentile": (lambda a: np.percentile(a, [10.0, 50.0, 95.0], axis=1), [_distinct(3, 7)],
                   (0,)),
    "quantile_keepdims": (lambda a: np.quantile(a, 0.3, axis=(0, 2), keepdims=True),
                          [_distinct(3, 2, 4)], (0,)),
    "quantile_method": (lambda a: np.quantile(a, [0.2, 0.7], method="midpoint"),
                        [_distinct(9)], (0,)),
    "median": (lambda a: np.median(a, axis=0), [_distinct(4, 3)], (0,)),
    "nanmedian": (lambda a: np.nanmedian(a, axis=1), [NANS], (0,)),
    "nanpercentile": (lambda a: np.nanpercentile(a, 40.0), [NANS], (0,)),
    "nanmean": (lambda a: np.nanmean(a, axis=1), [NANS], (0,)),
    "nanvar": (lambda a: np.nanvar(a, axis=1, ddof=1), [NANS], (0,)),
    "nanstd": (lambda a: np.nanstd(a, axis=0), [NANS], (0,)),
    "nanmax": (lambda a: np.nanmax(a, axis=1), [onp.where(ZEROS == 0, onp.nan, _distinct(3, 4))],
               (0,)),
    "nanmin": (lambda a: np.nanmin(a), [onp.where(ZEROS == 0, onp.nan, _distinct(3, 4))], (0,)),
    "nancumsum": (lambda a: np.nancumsum(a, axis=1), [NANS], (0,)),
    "nancumprod": (lambda a: np.nancumprod(a), [NANS], (0,)),
    "ptp": (lambda a: np.ptp(a, axis=1), [_distinct(3, 4)], (0,)),
    "cov": (np.cov, [A34], (0,)),
    "cov_y_rowvar": (lambda m, y: np.cov(m, y, rowvar=False), [A34, _randn(3)], (0, 1)),
    "cov_weights": (lambda m, f, a: np.cov(m, fweights=f, aweights=a), [
        A34, onp.array([1, 2, 1, 3]), onp.array([0.5, 1.0, 2.0, 1.5])], (0,)),
    "corrcoef": (np.corrcoef, [A34], (0,)),
    "diff": (lambda a: np.diff(a, n=2, axis=1), [A34], (0,)),
    "diff_prepend": (lambda a, p, q: np.diff(a, axis=0, prepend=p, append=q),
                     [A34, _randn(1, 4), _randn(2, 4)], (0, 1, 2)),
    "ediff1d": (lambda a, b, e: np.ediff1d(a, to_begin=b, to_end=e), [A34, _randn(2), _randn(1)],
                (0, 1, 2)),
    "take_along_axis": (lambda a: np.take_along_axis(a, _int([[0, 0], [3, 1], [2, 2]]),
                                                     axis=1), [A34], (0,)),
    "take_along_axis_bcast": (lambda a: np.take_along_axis(a, _int([[1], [0]]), axis=0),
                              [_randn(2, 1)], (0,)),
    "take_along_axis_flat": (lambda a: np.take_along_axis(a, _int([5, 5, -1]), axis=None),
                             [A34], (0,)),
    "interp": (lambda x, f: np.interp(x, np.array(XP), f),
               [onp.array([-2.0, -0.3, 0.7, 2.2, 3.5]), FP], (0, 1)),
    "interp_left_right": (lambda f: np.interp(np.array([-2.0, 0.7, 3.5]), np.array(XP), f,
                                              left=0.0, right=-1.0), [FP], (0,)),
    "interp_period": (lambda x, f: np.interp(x, np.array(XP), f, period=5.0),
                      [onp.array([-2.3, 0.7, 6.1, 3.4]), FP], (0, 1)),
    "choose": (lambda a, b: np.choose(_int([[0, 1, 1], [1, 0, 1]]), [a, b]),
               [_randn(2, 3), _randn(3)], (0, 1)),
    "select": (lambda a, b, d: np.select([_bool([True, False, True]),
                                          _bool([True, True, False])], [a, b], d),
               [_randn(3), _randn(2, 3), _randn(1)], (0, 1, 2)),
    "nan_to_num": (lambda a: np.nan_to_num(a, nan=2.0), [NANS], (0,)),
}


@pytest.mark.parametrize("name", list(STATS_CASES))
def test_stats_grad(name: str) -> None:
    f, args, wrt = STATS_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_grad(f, args, wrt, rtol=1e-5)


def test_median_grad_goes_to_the_middle_values() -> None:
    x = np.array([4.0, 1.0, 3.0, 2.0], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = np.median(x)
    y.backward()
    onp.testing.assert_allclose(x.grad.asnumpy(), [0.0, 0.0, 0.5, 0.5])


# -- npx ------------------------------------------------------------------------------------------

NPX_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray], tuple[int, ...]]] = {
    "slice": (lambda x: npx.slice(x, (0, None), (3, None), (2, -1)), [_randn(4, 5)], (0,)),
    "slice_axis": (lambda x: npx.slice_axis(x, axis=1, begin=1, end=-1), [A34], (0,)),
    "gather_nd": (lambda x: npx.gather_nd(x, np.array([[0, 2, 2, -1], [1, 0, 0, 3]])),
                  [_randn(3, 4, 2)], (0,)),
    "index_add": (lambda a, v: npx.index_add(a, np.array([[0, 2, 0], [1, 1, 1]]), v),
                  [_randn(3, 2, 2), _randn(3, 2)], (0, 1)),
    "index_update": (lambda a, v: npx.index_update(a, np.array([[0, 2], [1, 0]]), v),
                     [_randn(3, 2, 2), _randn(1, 2)], (0, 1)),
    "erf": (npx.erf, [_randn(3, 4)], (0,)),
    "erfinv": (npx.erfinv, [_rng().uniform(-0.95, 0.95, (3, 4))], (0,)),
    "gamma": (npx.gamma, [onp.array([-2.5, -0.4, 0.3, 1.0, 2.7, 11.5, 30.2])], (0,)),
    "gammaln": (npx.gammaln, [onp.array([-2.5, -0.4, 0.3, 1.0, 2.7, 11.5, 130.2])], (0,)),
    "reshape": (lambda x: npx.reshape(x, (-2, -6, 2, 2)), [A34], (0,)),
    "batch_flatten": (lambda x: npx.batch_flatten(x) * 2, [_randn(2, 3, 2)], (0,)),
    "reshape_like": (lambda x: npx.reshape_like(x, np.zeros((2, 6))), [A34], (0,)),
    "broadcast_like": (lambda x: npx.broadcast_like(x, np.zeros((3, 4))), [_randn(3, 1)], (0,)),
    "log_sigmoid": (npx.log_sigmoid, [A34], (0,)),
    "mish": (npx.mish, [A34], (0,)),
    "softsign": (npx.softsign, [A34], (0,)),
}


@pytest.mark.parametrize("name", list(NPX_CASES))
def test_npx_grad(name: str) -> None:
    f, args, wrt = NPX_CASES[name]
    check_grad(f, args, wrt)


def test_cast_gradient_is_cast_back() -> None:
    x = np.array(A34)
    x.attach_grad()
    with autograd.record():
        y = npx.cast(x, "float32")
    y.backward(np.ones((3, 4), dtype="float32") * 0.5)
    assert x.grad.dtype == onp.float64
    onp.testing.assert_array_equal(x.grad.asnumpy(), 0.5)


def test_digamma_trigamma_values() -> None:
    eg = 0.57721566490153286061
    x = np.array([1.0, 0.5, -0.5, 10.0], dtype="float64")
    psi = _npx.special("digamma", x).asnumpy()
    psi1 = _npx.special("trigamma", x).asnumpy()
    onp.testing.assert_allclose(psi, [-eg, -eg - 2 * math.log(2), -eg - 2 * math.log(2) + 2,
                                      sum(1 / k for k in range(1, 10)) - eg], rtol=1e-14)
    onp.testing.assert_allclose(psi1, [math.pi ** 2 / 6, math.pi ** 2 / 2, math.pi ** 2 / 2 + 4,
                                       math.pi ** 2 / 6 - sum(1 / k ** 2 for k in range(1, 10))],
                                rtol=1e-14)


# -- np extras ------------------------------------------------------------------------------------

MORE_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray]]] = {
    "roll": (lambda x: np.roll(x, (1, -2), axis=(0, 1)), [A34]),
    "roll_flat": (lambda x: np.roll(x, 5), [A34]),
    "pad_constant": (lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=3.0), [A34]),
    "pad_edge": (lambda x: np.pad(x, 2, mode="edge"), [A34]),
    "pad_reflect": (lambda x: np.pad(x, ((2, 1), (3, 3)), mode="reflect"), [A34]),
    "pad_symmetric": (lambda x: np.pad(x, 3, mode="symmetric"), [A34]),
    "pad_wrap": (lambda x: np.pad(x, ((1, 4), (0, 2)), mode="wrap"), [A34]),
    "tril": (lambda x: np.tril(x, -1), [_randn(2, 3, 4)]),
    "triu": (lambda x: np.triu(x, 1), [A34]),
    "insert": (lambda x: np.insert(x, [1, 1, 3], 9.0, axis=1), [A34]),
    "insert_flat": (lambda x: np.insert(x, 2, 5.0), [A34]),
    "delete": (lambda x: np.delete(x, [0, 2], axis=1), [A34]),
    "resize": (lambda x: np.resize(x, (5, 4)), [A34]),
    "vander": (lambda x: np.vander(x, 4), [V4]),
    "vander_increasing": (lambda x: np.vander(x, 5, increasing=True), [V4]),
    "polyval": (lambda p: np.polyval(p, np.array(V4)), [_randn(3)]),
}


@pytest.mark.parametrize("name", list(MORE_CASES))
def test_np_more_grad(name: str) -> None:
    f, args = MORE_CASES[name]
    check_grad(f, args)


def test_pad_mode_without_gradient_raises() -> None:
    x = np.array(A34)
    x.attach_grad()
    with autograd.record():
        y = np.pad(x, 1, mode="mean")
    with pytest.raises(FrameworkError, match="mode='mean'"):
        y.backward()


# -- layouts and dtypes ----------------------------------------------------------------------------


@pytest.mark.parametrize("f", [
    lambda a: np.matmul(a.T, a), lambda a: np.sort(a.T, axis=1),
    lambda a: np.quantile(a.T, 0.3, axis=0), lambda a: np.cumprod(a.T[:, ::-1], axis=1),
    lambda a: np.linalg.inv(a[:3].T), lambda a: np.take(a.T, _int([2, 0, 2]), axis=1),
], ids=["matmul", "sort", "quantile", "cumprod", "inv", "take"])
def test_non_contiguous_inputs(f: Callable[..., Any]) -> None:
    check_grad(f, [_randn(4, 3, k=11)], rtol=1e-5)


@pytest.mark.parametrize("f", [
    lambda x: np.prod(x, axis=0), lambda x: np.median(x, axis=1), lambda x: np.linalg.det(x[:3]),
    lambda x: np.einsum("ij->j", x), lambda x: np.pad(x, 1, mode="edge"),
    lambda x: npx.gammaln(x * x + 1), lambda x: np.std(x), lambda x: np.sum(x, dtype="float64"),
], ids=["prod", "median", "det", "einsum", "pad", "gammaln", "std", "sum_dtype"])
def test_float32_gradients_stay_float32(f: Callable[..., Any]) -> None:
    x = np.array(_randn(4, 3).astype("float32"))
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward()
    assert x.grad.dtype == onp.float32


@pytest.mark.parametrize("f", [
    lambda x: np.sum(x, axis=0), lambda x: np.prod(x, axis=0), lambda x: np.cumprod(x, axis=0),
    lambda x: np.sort(x, axis=0), lambda x: np.matmul(x.T, x),
], ids=["sum", "prod", "cumprod", "sort", "matmul"])
def test_empty_inputs(f: Callable[..., Any]) -> None:
    x = np.zeros((0, 3), dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward()
    assert x.grad.shape == (0, 3)


# -- double backward ------------------------------------------------------------------------------

DOUBLE_CASES: dict[str, tuple[Callable[..., Any], list[onp.ndarray], bool]] = {
    "prod_zeros": (lambda x: np.prod(x, axis=1), [ZEROS], False),
    "cumprod": (lambda x: np.cumprod(x, axis=1), [A34], False),
    "cumprod_zeros": (lambda x: np.cumprod(x, axis=1), [ZEROS], False),
    "cumprod_three_zeros": (lambda x: np.cumprod(x), [onp.array([1.5, 0.0, 2.0, 0.0, -1.0, 0.0,
                                                                 3.0])], False),
    "std": (lambda x: np.std(x, axis=0, ddof=1), [A34], False),
    "var": (lambda x: np.var(x), [A34], False),
    "max_sq": (lambda x: np.max(x * x, axis=1), [_distinct(3, 4)], False),
    "matmul_self": (lambda x: np.matmul(x, x), [SQ_B], False),
    "dot_nd": (lambda x: np.dot(x, np.swapaxes(x, -1, -2)), [_randn(2, 3, 4)], False),
    "sort_sq": (lambda x: np.sort(x, axis=1) * x, [_distinct(3, 4)], False),
    "take_sq": (lambda x: _sq(np.take(x, _int([0, 2, 2]), axis=1)), [A34], False),
    "inv": (np.linalg.inv, [SQ], False),
    "det": (np.linalg.det, [SQ_B], False),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], [SQ], False),
    "solve": (lambda a: np.linalg.solve(a, np.ones((3, 2))), [SQ], False),
    "cholesky": (np.linalg.cholesky, [_spd(3)], True),
    "eigvalsh": (np.linalg.eigvalsh, [_spd(3, k=3)], True),
    "svdvals": (lambda a: np.linalg.svd(a, compute_uv=False), [TALL], False),
    "norm2": (lambda x: np.linalg.norm(x, axis=1), [A34], False),
    "norm_nuc": (lambda x: np.linalg.norm(x, "nuc"), [A34], False),
    "einsum_trace_cube": (lambda x: np.einsum("ij,jk,ki->", x, x, x), [SQ], False),
    "einsum_diag": (lambda x: _sq(np.einsum("ii->i", x)) * x[0], [SQ], False),
    "kron": (lambda x: np.kron(x, x), [_randn(2, 2)], False),
    "cross": (lambda x: np.cross(x, x[::-1]), [_randn(2, 3)], False),
    "matrix_power": (lambda x: np.linalg.matrix_power(x, 3), [SQ], False),
    "pinv": (np.linalg.pinv, [TALL], False),
    "cov": (np.cov, [A34], False),
    "corrcoef": (np.corrcoef, [A34], False),
    "average_weights": (lambda w: np.average(np.array(A34), axis=1, weights=w * w),
                        [_randn(4)], False),
    "quantile": (lambda x: np.quantile(x * x, 0.35, axis=1), [_distinct(3, 5)], False),
    "nanvar": (lambda x: np.nanvar(x, axis=1), [NANS], False),
    "interp_fp": (lambda f: np.interp(np.array([0.1, 2.0]), np.array(XP), f * f), [FP], False),
    "erf": (npx.erf, [A34], False),
    "erfinv": (npx.erfinv, [_rng().uniform(-0.9, 0.9, (3, 4))], False),
    "gamma": (npx.gamma, [onp.array([-1.5, 0.4, 2.2, 5.1])], False),
    "gammaln": (npx.gammaln, [onp.array([-1.5, 0.4, 2.2, 5.1])], False),
    "gather_nd": (lambda x: npx.gather_nd(x * x, np.array([[0, 2, 2]])), [_randn(3, 2)], False),
    "slice": (lambda x: npx.slice_axis(x * x, axis=0, begin=1, end=3), [A34], False),
    "pad_reflect": (lambda x: np.pad(x * x, 2, mode="reflect"), [A34], False),
    "vander": (lambda x: np.vander(x, 4), [V4], False),
    "roll_tril": (lambda x: np.tril(np.roll(x * x, 1)), [A34], False),
}


@pytest.mark.parametrize("name", list(DOUBLE_CASES))
def test_double_backward(name: str) -> None:
    f, args, sym = DOUBLE_CASES[name]
    check_double(f, args, sym=sym)


def test_twice_differentiable_only_where_documented() -> None:
    # digamma's derivative (trigamma) has no derivative: a third derivative of gammaln raises
    x = np.array([1.5, 2.5], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = npx.gammaln(x)
        (g1,) = autograd.grad([y], [x], create_graph=True)
        (g2,) = autograd.grad([g1], [x], create_graph=True)
    assert g2.asnumpy().shape == (2,)
    with pytest.raises(FrameworkError, match="trigamma"):
        g2.backward()
