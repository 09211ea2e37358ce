"""``np.random``, ``npx.random`` and ``mx.random``: distributions, seeding, placement, errors
(API.md §1.5, §1.7).

Statistical checks use fixed seeds, so they are deterministic: each compares moments against
their expected values within a few standard errors and runs a goodness-of-fit test (one- or
two-sample Kolmogorov-Smirnov, or chi-square) at significance 0.001, written with NumPy only.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator

import numpy as onp
import pytest

import framework as mx
from framework import engine, np, npx

N = 200_000
KS_C = math.sqrt(-0.5 * math.log(0.001 / 2))  # KS critical coefficient at alpha = 0.001
Z_CHI = 3.09  # upper 0.001 quantile of the standard normal (chi-square critical values)


# -- statistics helpers -------------------------------------------------------------------------
def ks_one(x: onp.ndarray, cdf: Callable[[onp.ndarray], onp.ndarray]) -> None:
    """One-sample Kolmogorov-Smirnov test of ``x`` against ``cdf``."""
    x = onp.sort(onp.asarray(x, dtype=onp.float64))
    n = x.size
    f = cdf(x)
    i = onp.arange(1, n + 1)
    d = max(float(onp.max(i / n - f)), float(onp.max(f - (i - 1) / n)))
    assert d < KS_C / math.sqrt(n), f"KS statistic {d:.5f} >= {KS_C / math.sqrt(n):.5f}"


def ks_two(x: onp.ndarray, y: onp.ndarray) -> None:
    """Two-sample Kolmogorov-Smirnov test: ``x`` and ``y`` come from one distribution."""
    x = onp.sort(onp.asarray(x, dtype=onp.float64))
    y = onp.sort(onp.asarray(y, dtype=onp.float64))
    grid = onp.concatenate([x, y])
    d = float(onp.max(onp.abs(onp.searchsorted(x, grid, side="right") / x.size
                              - onp.searchsorted(y, grid, side="right") / y.size)))
    crit = KS_C * math.sqrt((x.size + y.size) / (x.size * y.size))
    assert d < crit, f"two-sample KS statistic {d:.5f} >= {crit:.5f}"


def chi_square(observed: onp.ndarray, expected: onp.ndarray) -> None:
    """Pearson's chi-square test; the critical value uses the Wilson-Hilferty approximation."""
    observed = onp.asarray(observed, dtype=onp.float64)
    expected = onp.asarray(expected, dtype=onp.float64)
    assert observed.sum() == pytest.approx(expected.sum())
    stat = float(((observed - expected) ** 2 / expected).sum())
    df = observed.size - 1
    crit = df * (1 - 2 / (9 * df) + Z_CHI * math.sqrt(2 / (9 * df))) ** 3
    assert stat < crit, f"chi-square {stat:.2f} >= {crit:.2f} (df={df})"


def moments(x: onp.ndarray, mean: float, var: float, k: float = 5.0) -> None:
    """Sample mean and variance within ``k`` standard errors of ``mean`` and ``var``."""
    x = onp.asarray(x, dtype=onp.float64).ravel()
    n = x.size
    m = x.mean()
    assert abs(m - mean) < k * math.sqrt(var / n), f"mean {m} vs {mean}"
    dev2 = (x - m) ** 2
    v = dev2.mean()
    se_v = dev2.std() / math.sqrt(n)
    assert abs(v - var) < k * se_v, f"variance {v} vs {var} (se {se_v})"


def normal_cdf(x: onp.ndarray, mu: float = 0.0, sigma: float = 1.0) -> onp.ndarray:
    erf = onp.frompyfunc(math.erf, 1, 1)
    return 0.5 * (1 + erf((x - mu) / (sigma * math.sqrt(2))).astype(onp.float64))


@contextlib.contextmanager
def busy_worker(device: mx.Device | None = None) -> Iterator[None]:
    """Hold the device's engine worker inside the block, so that every op issued there is queued
    (none runs inline), then let it go. Uses the threaded engine whatever the default is."""
    release = threading.Event()
    naive = engine.engine_type() == "NaiveEngine"
    with engine.engine_scope("ThreadedEngine") if naive else contextlib.nullcontext():
        engine.push(lambda: release.wait(10.0), (), (), device or mx.cpu(0), "hold")
        cls = type(engine.get())
        cls.inline_untouched = False  # every op queues, even one whose data is ready
        try:
            yield
        finally:
            cls.inline_untouched = True
            release.set()


@pytest.fixture(autouse=True)
def _seeded() -> Iterator[None]:
    mx.random.seed(1234)
    yield
    for _ in range(10):  # leave no pending error behind for other tests
        try:
            engine.waitall()
            break
        except Exception:
            continue


# -- distributions ----------------------------------------------------------------------------
def test_normal_moments_and_ks() -> None:
    x = np.random.normal(2.0, 3.0, size=N)
    assert x.shape == (N,) and x.dtype == onp.float32
    h = x.asnumpy()
    moments(h, 2.0, 9.0)
    ks_one(h[:50_000], lambda t: normal_cdf(t, 2.0, 3.0))


def test_standard_normal_randn() -> None:
    h = np.random.randn(400, 500).asnumpy()
    assert h.shape == (400, 500)
    moments(h, 0.0, 1.0)
    ks_one(h.ravel()[:50_000], normal_cdf)


def test_uniform_moments_and_ks() -> None:
    h = np.random.uniform(-1.0, 3.0, size=N).asnumpy()
    assert h.min() >= -1.0 and h.max() < 3.0
    moments(h, 1.0, 16.0 / 12)
    ks_one(h, lambda t: (t + 1.0) / 4.0)
    r = np.random.rand(1000).asnumpy()
    assert r.min() >= 0 and r.max() < 1


def test_randint_chi_square() -> None:
    x = np.random.randint(3, 13, size=N)
    assert x.dtype == onp.int64
    h = x.asnumpy()
    assert h.min() == 3 and h.max() == 12
    chi_square(onp.bincount(h - 3, minlength=10), onp.full(10, N / 10))
    h = np.random.randint(7, size=(N,)).asnumpy()
    assert h.min() == 0 and h.max() == 6
    chi_square(onp.bincount(h, minlength=7), onp.full(7, N / 7))


def test_exponential() -> None:
    h = np.random.exponential(2.0, size=N).asnumpy()
    assert h.min() >= 0
    moments(h, 2.0, 4.0)
    ks_one(h, lambda t: 1 - onp.exp(-t / 2.0))


def test_gamma() -> None:
    k, theta = 3, 1.5
    h = np.random.gamma(k, theta, size=N).asnumpy()
    moments(h, k * theta, k * theta**2)

    def cdf(t: onp.ndarray) -> onp.ndarray:  # integer shape: Erlang's closed form
        u = t / theta
        return 1 - onp.exp(-u) * sum(u**i / math.factorial(i) for i in range(k))

    ks_one(h, cdf)
    # a non-integer shape against NumPy's sampler
    g = np.random.gamma(0.7, 2.0, size=50_000).asnumpy()
    moments(g, 1.4, 2.8)
    ks_two(g, onp.random.default_rng(5).gamma(0.7, 2.0, size=50_000))


def test_beta() -> None:
    a, b = 2, 5
    h = np.random.beta(a, b, size=N).asnumpy()
    assert h.min() >= 0 and h.max() <= 1
    moments(h, a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1)))
    m = a + b - 1

    def cdf(t: onp.ndarray) -> onp.ndarray:  # integer a, b: a binomial tail sum
        return sum(math.comb(m, j) * t**j * (1 - t) ** (m - j) for j in range(a, m + 1))

    ks_one(h, cdf)


def test_lognormal() -> None:
    h = np.random.lognormal(0.5, 0.25, size=N).asnumpy()
    mean = math.exp(0.5 + 0.25**2 / 2)
    moments(h, mean, (math.exp(0.25**2) - 1) * mean**2)
    ks_one(onp.log(h[:50_000]), lambda t: normal_cdf(t, 0.5, 0.25))


def test_choice_with_p_chi_square() -> None:
    p = [0.1, 0.2, 0.05, 0.4, 0.25]
    x = np.random.choice(5, size=N, p=p)
    assert x.dtype == onp.int64 and x.shape == (N,)
    chi_square(onp.bincount(x.asnumpy(), minlength=5), N * onp.array(p))
    # p as a framework array, population as an array
    pop = np.array([10.0, 20.0, 30.0])
    y = np.random.choice(pop, size=(300, 200), p=np.array([0.5, 0.3, 0.2]))
    assert y.shape == (300, 200) and y.dtype == onp.float32
    h = y.asnumpy().ravel()
    counts = onp.array([(h == v).sum() for v in (10.0, 20.0, 30.0)])
    chi_square(counts, h.size * onp.array([0.5, 0.3, 0.2]))


def test_choice_uniform_and_without_replacement() -> None:
    h = np.random.choice(6, size=60_000).asnumpy()
    chi_square(onp.bincount(h, minlength=6), onp.full(6, 10_000))
    s = np.random.choice(50, size=50, replace=False).asnumpy()
    assert sorted(s.tolist()) == list(range(50))
    w = np.random.choice(10, size=3, replace=False, p=[0.1] * 10).asnumpy()
    assert len(set(w.tolist())) == 3
    # without replacement, zero-probability entries are never drawn
    z = np.random.choice(4, size=2, replace=False, p=[0.5, 0.0, 0.5, 0.0]).asnumpy()
    assert sorted(z.tolist()) == [0, 2]
    assert np.random.choice(5).shape == ()


def test_weighted_choice_without_replacement_first_pick() -> None:
    # the first element drawn without replacement follows p
    p = onp.array([0.5, 0.3, 0.2])
    firsts = [int(np.random.choice(3, size=2, replace=False, p=p)[0]) for _ in range(3000)]
    chi_square(onp.bincount(firsts, minlength=3), 3000 * p)


def test_multinomial() -> None:
    p = onp.array([0.2, 0.5, 0.3])
    x = np.random.multinomial(20, p, size=N // 4)
    assert x.shape == (N // 4, 3) and x.dtype == onp.int64
    h = x.asnumpy()
    assert (h.sum(axis=1) == 20).all() and h.min() >= 0
    for i in range(3):
        moments(h[:, i], 20 * p[i], 20 * p[i] * (1 - p[i]))
    chi_square(h.sum(axis=0), h.sum() * p)
    # the last probability takes what the others leave; a single draw has shape (k,)
    one = np.random.multinomial(7, [0.0, 1.0, 0.3])
    assert one.shape == (3,) and one.asnumpy().tolist() == [0, 7, 0]
    arr_p = np.random.multinomial(5, np.array([0.5, 0.5]), size=4)
    assert arr_p.shape == (4, 2) and (arr_p.asnumpy().sum(axis=1) == 5).all()


def test_bernoulli() -> None:
    x = npx.random.bernoulli(0.3, size=N)
    assert x.dtype == onp.float32
    h = x.asnumpy()
    assert set(onp.unique(h).tolist()) <= {0.0, 1.0}
    moments(h, 0.3, 0.21)
    chi_square(onp.array([(h == 0).sum(), (h == 1).sum()]), onp.array([0.7 * N, 0.3 * N]))
    probs = np.array([0.0, 0.25, 1.0])
    b = npx.random.bernoulli(probs, size=(50_000, 3)).asnumpy()
    assert (b[:, 0] == 0).all() and (b[:, 2] == 1).all()
    moments(b[:, 1], 0.25, 0.1875)
    # logit: a scalar logit draws exactly what the matching prob draws
    mx.random.seed(9)
    via_logit = npx.random.bernoulli(logit=math.log(0.3 / 0.7), size=1000).asnumpy()
    mx.random.seed(9)
    via_prob = npx.random.bernoulli(prob=0.3, size=1000).asnumpy()
    assert (via_logit == via_prob).all()
    lg = npx.random.bernoulli(logit=np.array([-50.0, 50.0]), size=(100, 2), dtype="int32")
    assert lg.dtype == onp.int32
    assert (lg.asnumpy() == onp.array([0, 1])).all()


def test_multivariate_normal() -> None:
    mean = onp.array([1.0, -2.0])
    cov = onp.array([[2.0, 0.6], [0.6, 1.0]])
    x = np.random.multivariate_normal(mean, cov, size=N)
    assert x.shape == (N, 2) and x.dtype == onp.float32
    h = x.asnumpy().astype(onp.float64)
    assert onp.abs(h.mean(axis=0) - mean).max() < 5 * math.sqrt(2.0 / N)
    assert onp.abs(onp.cov(h.T) - cov).max() < 0.03
    ks_one(h[:50_000, 1], lambda t: normal_cdf(t, -2.0, 1.0))
    # framework-array parameters, a singular (PSD) covariance, batched means
    s = np.random.multivariate_normal(np.zeros(2), np.array([[1.0, 1.0], [1.0, 1.0]]), size=100)
    hs = s.asnumpy()
    assert onp.allclose(hs[:, 0], hs[:, 1], atol=1e-5)
    b = np.random.multivariate_normal(np.array([[0.0, 0.0], [100.0, 100.0]]), onp.eye(2) * 1e-4,
                                      size=(5, 2))
    assert b.shape == (5, 2, 2)
    assert onp.allclose(b.asnumpy()[:, 1], 100, atol=0.1)


@pytest.mark.parametrize("name, args, mean, var", [
    ("chisquare", (4.0,), 4.0, 8.0),
    ("gumbel", (1.0, 2.0), 1.0 + 2.0 * 0.5772156649, math.pi**2 / 6 * 4.0),
    ("logistic", (1.0, 2.0), 1.0, math.pi**2 / 3 * 4.0),
    ("laplace", (-1.0, 0.5), -1.0, 2 * 0.25),
    ("rayleigh", (2.0,), 2.0 * math.sqrt(math.pi / 2), (4 - math.pi) / 2 * 4.0),
    ("weibull", (2.0,), math.gamma(1.5), math.gamma(2.0) - math.gamma(1.5) ** 2),
    ("pareto", (5.0,), 1 / 4, 5 / (16 * 3)),
    ("power", (3.0,), 0.75, 3 / (16 * 5)),
    ("f", (5.0, 20.0), 20 / 18, 2 * 400 * 23 / (5 * 18**2 * 16)),
])
def test_other_distributions(name: str, args: tuple[float, ...], mean: float,
                             var: float) -> None:
    x = getattr(np.random, name)(*args, size=100_000)
    assert x.dtype == onp.float32
    h = x.asnumpy()
    moments(h, mean, var, k=6.0)
    ref = getattr(onp.random.default_rng(11), name)(*args, size=20_000)
    ks_two(h[:20_000], ref)


def test_array_parameters_broadcast_with_size() -> None:
    loc = np.array([0.0, 10.0, 100.0])
    x = np.random.normal(loc, 0.1, size=(20_000, 3))
    assert x.shape == (20_000, 3)
    assert onp.allclose(x.asnumpy().mean(axis=0), [0, 10, 100], atol=0.01)
    y = np.random.uniform(np.zeros((2, 1)), np.array([1.0, 2.0, 3.0]))
    assert y.shape == (2, 3)
    z = np.random.gamma(np.array([1.0, 5.0]), size=(40_000, 2)).asnumpy()
    assert onp.allclose(z.mean(axis=0), [1.0, 5.0], rtol=0.03)
    lst = np.random.normal([0.0, 50.0], [1.0, 1.0])
    assert lst.shape == (2,)
    assert np.random.normal().shape == ()


def test_npx_n_variants() -> None:
    loc = np.array([0.0, 5.0])
    scale = np.array([[1.0], [2.0], [3.0]])
    assert npx.random.normal_n(loc, scale, batch_shape=(4,)).shape == (4, 3, 2)
    assert npx.random.normal_n(batch_shape=2).shape == (2,)
    u = npx.random.uniform_n(np.zeros(3), 2.0, batch_shape=(1000, 5))
    assert u.shape == (1000, 5, 3) and u.dtype == onp.float32
    h = u.asnumpy()
    assert h.min() >= 0 and h.max() < 2
    assert npx.random.uniform_n(0, 1, dtype="float64").dtype == onp.float64


def test_permutation() -> None:
    p = np.random.permutation(10)
    assert p.dtype == onp.int64 and sorted(p.asnumpy().tolist()) == list(range(10))
    x = np.arange(12).reshape(4, 3)
    q = np.random.permutation(x)
    assert q.shape == (4, 3)
    assert sorted(map(tuple, q.asnumpy().tolist())) == sorted(map(tuple, x.asnumpy().tolist()))


# -- shuffle --------------------------------------------------------------------------------
def test_shuffle_permutes_rows_in_place() -> None:
    x = np.arange(300).reshape(100, 3)
    before = x.asnumpy().copy()
    view = x[:]
    assert np.random.shuffle(x) is None
    after = x.asnumpy()
    assert not (after == before).all()
    assert sorted(map(tuple, after.tolist())) == sorted(map(tuple, before.tolist()))
    assert (after[:, 1] - after[:, 0] == 1).all()  # whole rows move
    assert (view.asnumpy() == after).all()  # in place: a view sees it


def test_shuffle_is_ordered_with_pending_ops() -> None:
    with busy_worker():
        x = np.arange(1000) + 0  # pending when shuffle is issued
        np.random.shuffle(x)
        y = x * 2  # reads the shuffled x
    hx, hy = x.asnumpy(), y.asnumpy()
    assert sorted(hx.tolist()) == list(range(1000))
    assert not (hx == onp.arange(1000)).all()
    assert (hy == hx * 2).all()


def test_shuffle_reproducible_and_errors() -> None:
    mx.random.seed(3)
    a = np.arange(50)
    np.random.shuffle(a)
    mx.random.seed(3)
    b = np.arange(50)
    np.random.shuffle(b)
    assert (a.asnumpy() == b.asnumpy()).all()
    with pytest.raises(ValueError, match="dimension"):
        np.random.shuffle(np.array(1.0))
    with pytest.raises(TypeError):
        np.random.shuffle([1, 2, 3])


# -- seeding and reproducibility ---------------------------------------------------------------
def _sequence() -> list[onp.ndarray]:
    """A mix of small (inline) and large (queued) draws of several kinds."""
    outs = [
        np.random.normal(size=5), np.random.uniform(size=(300, 300)),
        np.random.randint(0, 100, size=7), np.random.choice(10, size=4, p=[0.1] * 10),
        np.random.gamma(2.0, size=3), npx.random.bernoulli(0.5, size=(200, 200)),
        np.random.multinomial(10, [0.5, 0.5], size=2), np.random.normal(size=3),
    ]
    return [o.asnumpy() for o in outs]


def _same(a: list[onp.ndarray], b: list[onp.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and (x == y).all() for x, y in zip(a, b))


@pytest.mark.parametrize("seed_fn", [
    lambda s: mx.random.seed(s), lambda s: np.random.seed(s), lambda s: npx.random.seed(s),
    lambda s: mx.random.seed(s, ctx="all"), lambda s: npx.random.seed(s, ctx="all"),
], ids=["mx", "np", "npx", "mx-all", "npx-all"])
def test_same_seed_same_numbers(seed_fn: Callable[[int], None]) -> None:
    seed_fn(42)
    a = _sequence()
    seed_fn(42)
    b = _sequence()
    assert _same(a, b)
    seed_fn(43)
    assert not _same(a, _sequence())


def test_seed_functions_agree() -> None:
    mx.random.seed(7)
    a = _sequence()
    np.random.seed(7)
    b = _sequence()
    npx.random.seed(7)
    c = _sequence()
    assert _same(a, b) and _same(a, c)


def test_reproducible_across_engines() -> None:
    mx.random.seed(5)
    threaded = _sequence()
    with engine.engine_scope("NaiveEngine"):
        mx.random.seed(5)
        naive = _sequence()
    assert _same(threaded, naive)


def test_reproducible_inline_or_queued() -> None:
    mx.random.seed(8)
    inline = [np.random.normal(size=10).asnumpy() for _ in range(5)]
    mx.random.seed(8)
    with busy_worker():
        queued = [np.random.normal(size=10) for _ in range(5)]
    assert _same(inline, [q.asnumpy() for q in queued])


def test_seed_is_ordered_with_pending_draws() -> None:
    with busy_worker():  # the seed below is queued behind the pending draw
        mx.random.seed(11)
        first = np.random.normal(size=(500, 500))
        mx.random.seed(12)
        after = np.random.normal(size=6)
    mx.random.seed(11)
    ref_first = np.random.normal(size=(500, 500)).asnumpy()
    mx.random.seed(12)
    ref_after = np.random.normal(size=6).asnumpy()
    assert (first.asnumpy() == ref_first).all()
    assert (after.asnumpy() == ref_after).all()


def test_per_device_generators() -> None:
    c0, c1 = mx.cpu(0), mx.cpu(1)
    mx.random.seed(21)
    a0 = np.random.normal(size=8, device=c0).asnumpy()
    a1 = np.random.normal(size=8, ctx=c1).asnumpy()
    assert not (a0 == a1).all()  # devices draw independent streams
    # seeding one device leaves the other alone, and matches seeding all
    mx.random.seed(21)
    mx.random.seed(99, ctx=c1)
    assert (np.random.normal(size=8, device=c0).asnumpy() == a0).all()
    mx.random.seed(21, ctx=c1)
    assert (np.random.normal(size=8, device=c1).asnumpy() == a1).all()
    npx.random.seed(21, device=c1)
    assert (np.random.normal(size=8, ctx=c1).asnumpy() == a1).all()
    # interleaving draws on the two devices does not change either stream
    mx.random.seed(21)
    b1 = np.random.normal(size=8, ctx=c1)
    b0 = np.random.normal(size=8, ctx=c0)
    assert (b0.asnumpy() == a0).all() and (b1.asnumpy() == a1).all()


def test_failed_draw_does_not_poison_the_generator() -> None:
    with engine.engine_scope("ThreadedEngine"):
        mx.random.seed(31)
        with busy_worker():  # the failing draw and the next one are queued together
            bad = np.random.normal(0.0, np.array([1.0, -1.0]))
            good = np.random.normal(size=4)
        with pytest.raises(ValueError, match="scale"):
            bad.asnumpy()
        mx.random.seed(31)
        assert (good.asnumpy() == np.random.normal(size=4).asnumpy()).all()


# -- dtypes and placement -----------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda **k: np.random.normal(size=3, **k), lambda **k: np.random.uniform(size=3, **k),
    lambda **k: np.random.gamma(2.0, size=3, **k), lambda **k: np.random.beta(2, 2, size=3, **k),
    lambda **k: np.random.exponential(size=3, **k),
    lambda **k: np.random.lognormal(size=3, **k), lambda **k: np.random.laplace(size=3, **k),
    lambda **k: npx.random.bernoulli(0.5, size=3, **k),
    lambda **k: npx.random.normal_n(batch_shape=3, **k),
    lambda **k: np.random.randn(3, **k), lambda **k: np.random.rand(3, **k),
])
def test_float_dtypes(fn: Callable[..., mx.np.ndarray]) -> None:
    assert fn().dtype == onp.float32
    assert fn(dtype="float64").dtype == onp.float64
    assert fn(dtype=onp.float32).dtype == onp.float32
    x = fn(dtype="float16")
    assert x.dtype == onp.float16 and x.asnumpy().dtype == onp.float16


def test_integer_dtypes() -> None:
    assert np.random.randint(10, size=3).dtype == onp.int64
    r = np.random.randint(-5, 5, size=1000, dtype="int32")
    assert r.dtype == onp.int32 and r.asnumpy().min() >= -5 and r.asnumpy().max() < 5
    assert np.random.randint(0, 255, size=3, dtype=onp.uint8).dtype == onp.uint8
    assert np.random.choice(4, size=2).dtype == onp.int64
    assert np.random.choice(np.array([1, 2, 3], dtype="int32"), size=2).dtype == onp.int32
    assert npx.random.bernoulli(0.5, size=2, dtype=bool).dtype == onp.bool_
    assert np.random.multinomial(3, [0.5, 0.5]).dtype == onp.int64


def test_placement() -> None:
    c1 = mx.cpu(1)
    for x in (np.random.normal(size=2, ctx=c1), np.random.uniform(size=2, device=c1),
              np.random.randint(3, size=2, ctx=c1), np.random.choice(3, 2, ctx=c1),
              np.random.permutation(4, ctx=c1), np.random.multinomial(2, [1.0], ctx=c1),
              np.random.randn(2, ctx=c1), npx.random.bernoulli(0.5, size=2, ctx=c1),
              npx.random.uniform_n(batch_shape=2, ctx=c1),
              np.random.multivariate_normal([0.0], [[1.0]], ctx=c1)):
        assert x.device == c1
        x.wait_to_read()
    with mx.cpu(1):
        assert np.random.normal(size=2).device == c1
    # an array parameter's device is the default
    loc = np.zeros(3, device=c1)
    assert np.random.normal(loc, 1.0).device == c1
    # parameters move to an explicit device
    assert np.random.normal(loc, 1.0, device=mx.cpu(0)).device == mx.cpu(0)
    with pytest.raises(ValueError, match="differ"):
        np.random.normal(size=2, ctx=mx.cpu(0), device=c1)


def test_out_argument() -> None:
    o = np.zeros((3, 4))
    r = np.random.normal(5.0, 0.01, out=o)
    assert r is o and onp.allclose(o.asnumpy(), 5.0, atol=0.1)
    u = np.zeros(6, dtype="float64")
    np.random.uniform(2.0, 3.0, size=6, out=u)
    assert u.asnumpy().min() >= 2.0


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: np.random.normal(shape=(2,)), lambda: np.random.uniform(shape=(2,)),
    lambda: np.random.randint(0, 5, shape=(2,)), lambda: np.random.randn(2, shape=(2,)),
    lambda: np.random.gamma(1.0, shape=(2,)),
])
def test_shape_keyword_is_a_type_error(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="shape"):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: np.random.normal(0, -1.0), "scale must be non-negative"),
    (lambda: np.random.normal(0, [1.0, -2.0]), "scale must be non-negative"),
    (lambda: np.random.exponential(-2.0), "scale"),
    (lambda: np.random.gamma(-1.0), "shape"),
    (lambda: np.random.beta(0.0, 1.0), "a must be positive"),
    (lambda: np.random.lognormal(0.0, -1.0), "sigma"),
    (lambda: np.random.chisquare(0), "df"),
    (lambda: np.random.randint(5, 5), "low >= high"),
    (lambda: np.random.randint(0), "low >= high"),
    (lambda: np.random.randint(0, 300, dtype="uint8"), "out of bounds"),
    (lambda: np.random.choice(3, p=[0.5, 0.6, 0.1]), "sum to 1"),
    (lambda: np.random.choice(3, p=[0.5, 0.5]), "length"),
    (lambda: np.random.choice(3, p=[1.5, -0.5, 0.0]), r"\[0, 1\]"),
    (lambda: np.random.choice(3, size=4, replace=False), "larger sample"),
    (lambda: np.random.choice(3, size=2, replace=False, p=[1.0, 0.0, 0.0]), "non-zero"),
    (lambda: np.random.choice(0), "positive"),
    (lambda: np.random.normal(size=-1), "negative"),
    (lambda: np.random.normal(np.zeros(3), size=(2, 2)), "cannot be broadcast"),
    (lambda: npx.random.bernoulli(1.5), r"\[0, 1\]"),
    (lambda: npx.random.bernoulli(0.5, logit=0.0), "exactly one"),
    (lambda: npx.random.bernoulli(), "exactly one"),
    (lambda: np.random.multinomial(5, [0.7, 0.7, 0.1]), "<= 1"),
    (lambda: np.random.multinomial(-1, [1.0]), "non-negative"),
    (lambda: np.random.multivariate_normal([0.0, 0.0], onp.eye(3)), "cov"),
    (lambda: mx.random.seed(-1), "non-negative"),
])
def test_errors_at_the_call(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda: np.random.normal(size=2, dtype="int32"),
    lambda: np.random.randint(0.5, 3),
    lambda: np.random.randint(0, 3, dtype="bool"),
    lambda: np.random.choice(2.5),
    lambda: np.random.normal("a"),
    lambda: np.random.normal(size=2.5),
    lambda: mx.random.seed(1.5),
    lambda: np.random.multinomial(2.0, [1.0]),
    lambda: np.random.permutation(2.5),
])
def test_type_errors(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: np.random.normal(0, np.array([1.0, -1.0])), "scale"),
    (lambda: np.random.gamma(np.array([-1.0])), "shape"),
    (lambda: np.random.beta(np.array([1.0]), np.array([0.0])), "b must be positive"),
    (lambda: npx.random.bernoulli(np.array([0.5, 2.0])), "prob"),
    (lambda: np.random.choice(3, p=np.array([0.5, 0.6, 0.1])), "sum to 1"),
    (lambda: np.random.multinomial(3, np.array([0.9, 0.9, 0.1])), "<= 1"),
    (lambda: np.random.multivariate_normal(np.zeros(2), np.array([[1.0, 0.0], [0.0, -1.0]]),
                                           check_valid="raise"), "positive-semidefinite"),
])
def test_errors_in_arrays_at_the_sync_point(call: Callable[[], mx.np.ndarray],
                                            match: str) -> None:
    with engine.engine_scope("ThreadedEngine"):
        x = call()  # returns at once
        with pytest.raises(ValueError, match=match):
            x.asnumpy()
    with engine.engine_scope("NaiveEngine"):  # the naive engine raises at the call
        with pytest.raises(ValueError, match=match):
            call()


def test_non_psd_covariance_warns() -> None:
    bad = np.array([[1.0, 0.0], [0.0, -1.0]])
    with pytest.warns(RuntimeWarning, match="positive-semidefinite"):
        with engine.engine_scope("NaiveEngine"):
            np.random.multivariate_normal(np.zeros(2), bad)
    x = np.random.multivariate_normal(np.zeros(2), bad, check_valid="ignore")
    assert x.shape == (2,)
    x.wait_to_read()
