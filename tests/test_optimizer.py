"""``mx.optimizer`` and ``mx.lr_scheduler`` (API.md §1.16, §1.17, §2 item 21).

Every optimizer runs several steps on random weights and gradients and is compared with a NumPy
implementation of MXNet 2.0's published update rule written here, independently of the framework
code (float64 reference). Variants cover rescale_grad, clip_gradient, weight decay, lr/wd
multipliers, optimizer-specific options, float32/float64, float16 with multi_precision, and both
engines.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import numpy as onp
import pytest

import framework as mx
from framework import autograd, engine, gluon, np
from framework import lr_scheduler as lrs
from framework.base import FrameworkError
from framework.optimizer import kernels as K

SHAPE = (5, 7)
STEPS = 5
LR = 0.05


# -- NumPy references of the published rules ---------------------------------------------------
def prep(g: onp.ndarray, w: onp.ndarray, o: dict[str, Any], wd: float) -> onp.ndarray:
    """MXNet 2.0: clip(rescale_grad * g, clip_gradient) + wd * w."""
    g = g * o.get("rescale_grad", 1.0)
    c = o.get("clip_gradient")
    if c:
        g = onp.clip(g, -c, c)
    return g + wd * w


def nz(a: onp.ndarray) -> onp.ndarray:
    return onp.zeros_like(a)


def ref_sgd(w, g, s, lr, wd, t, o):
    gg = prep(g, w, o, wd)
    m = o.get("momentum", 0.0)
    if m:
        # API.md: velocity v = m*v + lr*g'; w -= v  (MXNet stores -v)
        s.setdefault("v", nz(w))
        s["v"] = m * s["v"] + lr * gg
        return w - s["v"]
    return w - lr * gg


def ref_nag(w, g, s, lr, wd, t, o):
    gg = prep(g, w, o, wd)
    m = o.get("momentum", 0.9)
    if m:
        s.setdefault("v", nz(w))
        s["v"] = m * s["v"] + lr * gg
        return w - (m * s["v"] + lr * gg)
    return w - lr * gg


def ref_adam(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-8)
    gg = prep(g, w, o, wd)
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - lr_t * s["m"] / (onp.sqrt(s["v"]) + eps)


def ref_adamw(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-6)
    gg = prep(g, w, o, 0.0)
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) if o.get("correct_bias", True) else lr
    return w - lr_t * (s["m"] / (onp.sqrt(s["v"]) + eps) + wd * w)


def ref_adamax(w, g, s, lr, wd, t, o):
    b1, b2 = o.get("beta1", 0.9), o.get("beta2", 0.999)
    gg = prep(g, w, o, wd)
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["u"] = onp.maximum(b2 * s.get("u", nz(w)), onp.abs(gg))
    return w - lr / (1 - b1 ** t) * s["m"] / s["u"]


def ref_nadam(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-8)
    sd = o.get("schedule_decay", 0.004)
    gg = prep(g, w, o, wd)
    mu_t = b1 * (1 - 0.5 * 0.96 ** (t * sd))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * sd))
    s["sched"] = s.get("sched", 1.0) * mu_t
    sched_next = s["sched"] * mu_next
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    g_hat = gg / (1 - s["sched"])
    m_hat = s["m"] / (1 - sched_next)
    v_hat = s["v"] / (1 - b2 ** t)
    m_bar = mu_next * m_hat + (1 - mu_t) * g_hat
    return w - lr * m_bar / (onp.sqrt(v_hat) + eps)


def ref_adabelief(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-6)
    gg = g * o.get("rescale_grad", 1.0) + wd * w  # AdaBelief: weight decay before clipping
    if o.get("clip_gradient"):
        gg = onp.clip(gg, -o["clip_gradient"], o["clip_gradient"])
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["s"] = b2 * s.get("s", nz(w)) + (1 - b2) * (gg - s["m"]) ** 2 + eps
    lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) if o.get("correct_bias", True) else lr
    return w - lr_t * s["m"] / (onp.sqrt(s["s"]) + eps)


def trust(r1: float, r2: float) -> float:
    with onp.errstate(divide="ignore", invalid="ignore"):
        r = r1 / r2
    return 1.0 if (not onp.isfinite(r) or r == 0) else r


def ref_lamb(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-6)
    gg = prep(g, w, o, 0.0)
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    r1 = onp.linalg.norm(w)
    if o.get("lower_bound") is not None:
        r1 = max(r1, o["lower_bound"])
    if o.get("upper_bound") is not None:
        r1 = min(r1, o["upper_bound"])
    if o.get("bias_correction", True):
        u = (s["m"] / (1 - b1 ** t)) / (onp.sqrt(s["v"] / (1 - b2 ** t)) + eps) + wd * w
    else:
        u = s["m"] / (onp.sqrt(s["v"]) + eps) + wd * w
    return w - lr * trust(r1, onp.linalg.norm(u)) * u


def ref_lans(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-6)
    gg = g * o.get("rescale_grad", 1.0)
    gg = gg / onp.linalg.norm(gg)
    if o.get("clip_gradient"):
        gg = onp.clip(gg, -o["clip_gradient"], o["clip_gradient"])
    s["m"] = b1 * s.get("m", nz(w)) + (1 - b1) * gg
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    r1 = onp.linalg.norm(w)
    d = onp.sqrt(s["v"] / (1 - b2 ** t)) + eps
    u = s["m"] / (1 - b1 ** t) / d + wd * w
    w = w - lr * b1 * trust(r1, onp.linalg.norm(u)) * u
    u = gg / d + wd * w
    return w - lr * (1 - b1) * trust(r1, onp.linalg.norm(u)) * u


def ref_lars(w, g, s, lr, wd, t, o):
    eta, eps = o.get("eta", 0.001), o.get("epsilon", 1e-8)
    wn = onp.linalg.norm(w)
    gn = onp.linalg.norm(g * o.get("rescale_grad", 1.0))
    with onp.errstate(divide="ignore", invalid="ignore"):
        ratio = wn / gn
    scale = eta * wn / (gn + wd * wn + eps) if onp.isfinite(ratio) and ratio != 0 else 1.0
    return ref_sgd(w, g, s, lr * scale, wd, t, o)


def ref_signum(w, g, s, lr, wd, t, o):
    m, wd_lh = o.get("momentum", 0.9), o.get("wd_lh", 0.0)
    if m:
        gg = prep(g, w, o, wd)
        s["mom"] = m * s.get("mom", nz(w)) - (1 - m) * gg
        return (1 - lr * wd_lh) * w + lr * onp.sign(s["mom"])
    return (1 - lr * (wd + wd_lh)) * w - lr * onp.sign(g)


def ref_dcasgd(w, g, s, lr, wd, t, o):
    m, lam = o.get("momentum", 0.0), o.get("lamda", 0.04)
    gg = prep(g, w, o, wd)
    prev = s.get("prev", w.copy())
    d = gg + lam * gg * gg * (w - prev)
    s["prev"] = w.copy()
    if m:
        s["mom"] = m * s.get("mom", nz(w)) - lr * d
        return w + s["mom"]
    return w - lr * d


def ref_rmsprop(w, g, s, lr, wd, t, o):
    rho, m, eps = o.get("rho", 0.9), o.get("momentum", 0.9), o.get("epsilon", 1e-8)
    gg = prep(g, w, o, wd)
    s["v"] = rho * s.get("v", nz(w)) + (1 - rho) * gg * gg
    if not o.get("centered", False):
        w = w - lr * gg / (onp.sqrt(s["v"]) + eps)
    else:
        s["mean"] = rho * s.get("mean", nz(w)) + (1 - rho) * gg
        s["mom"] = m * s.get("mom", nz(w)) - lr * gg / onp.sqrt(s["v"] - s["mean"] ** 2 + eps)
        w = w + s["mom"]
    if o.get("clip_weights"):
        w = onp.clip(w, -o["clip_weights"], o["clip_weights"])
    return w


def ref_adagrad(w, g, s, lr, wd, t, o):
    eps = o.get("epsilon", 1e-6)
    gg = prep(g, w, o, wd)
    s["h"] = s.get("h", nz(w)) + gg * gg
    return w - lr * gg / (onp.sqrt(s["h"]) + eps)


def ref_adadelta(w, g, s, lr, wd, t, o):
    rho, eps = o.get("rho", 0.9), o.get("epsilon", 1e-6)
    gg = prep(g, w, o, wd)
    s["ag"] = rho * s.get("ag", nz(w)) + (1 - rho) * gg * gg
    delta = onp.sqrt(s.get("ad", nz(w)) + eps) / onp.sqrt(s["ag"] + eps) * gg
    s["ad"] = rho * s.get("ad", nz(w)) + (1 - rho) * delta * delta
    return w - lr * delta


def ref_ftml(w, g, s, lr, wd, t, o):
    b1, b2, eps = o.get("beta1", 0.6), o.get("beta2", 0.999), o.get("epsilon", 1e-8)
    gg = prep(g, w, o, wd)
    s["v"] = b2 * s.get("v", nz(w)) + (1 - b2) * gg * gg
    d_t = (1 - b1 ** t) / lr * (onp.sqrt(s["v"] / (1 - b2 ** t)) + eps)
    s["z"] = b1 * s.get("z", nz(w)) + (1 - b1) * gg - (d_t - b1 * s.get("d", nz(w))) * w
    s["d"] = d_t
    return -s["z"] / d_t


def ref_ftrl(w, g, s, lr, wd, t, o):
    lam, beta = o.get("lamda1", 0.01), o.get("beta", 1.0)
    gg = prep(g, w, o, 0.0)
    n = s.get("n", nz(w))
    s["z"] = s.get("z", nz(w)) + gg - (onp.sqrt(n + gg * gg) - onp.sqrt(n)) * w / lr
    s["n"] = n + gg * gg
    z = s["z"]
    return ((onp.sign(z) * lam - z) / ((beta + onp.sqrt(s["n"])) / lr + wd)
            * (onp.abs(z) > lam))


def ref_test(w, g, s, lr, wd, t, o):
    return w - lr * (o.get("rescale_grad", 1.0) * g + wd * w)


# name -> (reference, extra variant kwargs)
CASES: dict[str, tuple[Callable[..., onp.ndarray], dict[str, Any]]] = {
    "sgd": (ref_sgd, {"momentum": 0.9}),
    "nag": (ref_nag, {"momentum": 0.7}),
    "adam": (ref_adam, {"beta1": 0.8, "beta2": 0.9, "epsilon": 1e-6}),
    "adamw": (ref_adamw, {"beta1": 0.8, "correct_bias": False}),
    "adamax": (ref_adamax, {"beta1": 0.7, "beta2": 0.9}),
    "nadam": (ref_nadam, {"schedule_decay": 0.008, "beta2": 0.9}),
    "adabelief": (ref_adabelief, {"beta1": 0.8, "correct_bias": False}),
    "lamb": (ref_lamb, {"bias_correction": False, "lower_bound": 0.5, "upper_bound": 2.0}),
    "lans": (ref_lans, {"beta1": 0.8, "beta2": 0.9}),
    "lars": (ref_lars, {"momentum": 0.9, "eta": 0.5}),
    "signum": (ref_signum, {"momentum": 0.0, "wd_lh": 0.02}),
    "dcasgd": (ref_dcasgd, {"momentum": 0.9, "lamda": 0.5}),
    "rmsprop": (ref_rmsprop, {"centered": True, "momentum": 0.8, "clip_weights": 0.9}),
    "adagrad": (ref_adagrad, {"epsilon": 1e-4}),
    "adadelta": (ref_adadelta, {"rho": 0.8, "epsilon": 1e-4}),
    "ftml": (ref_ftml, {"beta1": 0.5, "beta2": 0.99}),
    "ftrl": (ref_ftrl, {"lamda1": 0.05, "beta": 0.5}),
    "test": (ref_test, {}),
}

COMMON = {"rescale_grad": 0.5, "clip_gradient": 0.3, "wd": 0.02}


def _data(dtype: Any, seed: int) -> tuple[onp.ndarray, list[onp.ndarray]]:
    rng = onp.random.default_rng(seed)
    w = rng.uniform(-1, 1, SHAPE).astype(dtype)
    gs = [rng.standard_normal(SHAPE).astype(dtype) for _ in range(STEPS)]
    return w, gs


def run_case(name: str, kwargs: dict[str, Any], dtype: Any, *, lr_mult: float = 1.0,
             wd_mult: float = 1.0, by_name: bool = False, seed: int = 0) -> None:
    ref, _ = CASES[name]
    w0, gs = _data(dtype, seed)
    mp = onp.dtype(dtype) == onp.float16
    kw = dict(kwargs)
    if by_name:
        kw["param_idx2name"] = {3: "dense0_weight"}
    opt = mx.optimizer.create(name, learning_rate=LR, multi_precision=mp, **kw)
    if lr_mult != 1.0 or wd_mult != 1.0:
        key = "dense0_weight" if by_name else 3
        opt.set_lr_mult({key: lr_mult})
        opt.set_wd_mult({key: wd_mult})
    w = np.array(w0)
    state = opt.create_state_multi_precision(3, w)
    ref_w = w0.astype(onp.float64)
    ref_state: dict[str, Any] = {}
    wd = kw.get("wd", 0.0) * wd_mult
    for t, g in enumerate(gs, start=1):
        opt.update_multi_precision(3, w, np.array(g), state)
        ref_w = ref(ref_w, g.astype(onp.float64), ref_state, LR * lr_mult, wd, t, kw)
    got = w.asnumpy()
    assert got.dtype == onp.dtype(dtype)
    if mp:
        master = state[0].asnumpy()
        assert master.dtype == onp.float32
        onp.testing.assert_allclose(master, ref_w, rtol=3e-4, atol=3e-5)
        onp.testing.assert_array_equal(got, master.astype(onp.float16))
    elif onp.dtype(dtype) == onp.float32:
        onp.testing.assert_allclose(got, ref_w, rtol=3e-4, atol=3e-5)
    else:
        onp.testing.assert_allclose(got, ref_w, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [onp.float32, onp.float64])
def test_defaults(name: str, dtype: Any) -> None:
    run_case(name, {}, dtype)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [onp.float32, onp.float64])
def test_rescale_clip_wd_options(name: str, dtype: Any) -> None:
    run_case(name, {**COMMON, **CASES[name][1]}, dtype, seed=1)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("by_name", [False, True])
def test_lr_wd_mult(name: str, by_name: bool) -> None:
    run_case(name, {"wd": 0.03, "clip_gradient": 0.8}, onp.float64, lr_mult=0.5, wd_mult=2.0,
             by_name=by_name, seed=2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_multi_precision_float16(name: str) -> None:
    run_case(name, {**COMMON, **CASES[name][1]}, onp.float16, seed=3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_naive_engine(name: str) -> None:
    with engine.engine_scope("NaiveEngine"):
        run_case(name, {**COMMON, **CASES[name][1]}, onp.float32, seed=4)


def test_other_variants() -> None:
    run_case("sgd", {"momentum": 0.0, **COMMON}, onp.float64, seed=5)
    run_case("nag", {"momentum": 0.0, **COMMON}, onp.float64, seed=5)
    run_case("signum", {"momentum": 0.8, "wd_lh": 0.01, **COMMON}, onp.float64, seed=5)
    run_case("dcasgd", {"momentum": 0.0, **COMMON}, onp.float64, seed=5)
    run_case("rmsprop", {"centered": False, "clip_weights": 0.5, **COMMON}, onp.float64, seed=5)
    run_case("lamb", {"bias_correction": True, "lower_bound": 3.0, **COMMON}, onp.float64,
             seed=5)
    run_case("adamw", {"correct_bias": True, "wd": 0.1}, onp.float64, seed=5)


def test_lars_skips_bias_names() -> None:
    w0, gs = _data(onp.float64, 6)
    opt = mx.optimizer.LARS(learning_rate=LR, momentum=0.9, eta=0.5,
                            param_idx2name={0: "dense0_bias"})
    w = np.array(w0)
    st = opt.create_state(0, w)
    ref_w, ref_st = w0.copy(), {}
    for t, g in enumerate(gs, start=1):
        opt.update(0, w, np.array(g), st)
        ref_w = ref_sgd(ref_w, g, ref_st, LR, 0.0, t, {"momentum": 0.9})
    onp.testing.assert_allclose(w.asnumpy(), ref_w, rtol=1e-10)


def test_sgd_momentum_state_is_negative_velocity() -> None:
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)
    w = np.ones((3,))
    st = opt.create_state(0, w)
    opt.update(0, w, np.full((3,), 2.0), st)
    opt.update(0, w, np.full((3,), 2.0), st)
    # v1 = 0.2, v2 = 0.9 * 0.2 + 0.2 = 0.38; w = 1 - 0.58; MXNet stores -v
    onp.testing.assert_allclose(st.asnumpy(), -0.38, rtol=1e-6)
    onp.testing.assert_allclose(w.asnumpy(), 0.42, rtol=1e-6)


def test_update_accepts_lists_and_counts_per_index() -> None:
    opt = mx.optimizer.Adam(learning_rate=0.01)
    ws = [np.ones((2, 2)), np.ones((3,))]
    gs = [np.ones((2, 2)), np.ones((3,))]
    sts = [opt.create_state(i, w) for i, w in enumerate(ws)]
    opt.update([0, 1], ws, gs, sts)
    opt.update(0, ws[0], gs[0], sts[0])
    assert opt._index_update_count == {0: 2, 1: 1}
    assert opt.num_update == 2
    with pytest.raises(ValueError, match="indices"):
        opt.update([0, 1], ws, gs[:1], sts)


def test_one_task_per_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    from framework.nd import _update

    real = _update.execute

    def counting(name, fn, inputs, outputs, mutated=(), inline=None):
        calls.append(name)
        return real(name, fn, inputs, outputs, mutated, inline)

    monkeypatch.setattr(_update, "execute", counting)
    for name in sorted(CASES):
        calls.clear()
        opt = mx.optimizer.create(name, multi_precision=True, **COMMON)
        w = np.array(onp.ones(SHAPE, onp.float16))
        st = opt.create_state_multi_precision(0, w)
        g = np.array(onp.ones(SHAPE, onp.float16))
        opt.update_multi_precision(0, w, g, st)
        assert len(calls) == 1, (name, calls)
    mx.waitall()


def test_hyperparameters_read_at_push_time() -> None:
    opt = mx.optimizer.SGD(learning_rate=1.0)
    w = np.zeros((4,))
    opt.update(0, w, np.ones((4,)), None)
    opt.set_learning_rate(100.0)  # must not affect the update already issued
    onp.testing.assert_allclose(w.asnumpy(), -1.0)


def test_sgld_noise_and_seed() -> None:
    n = 40_000
    lr = 0.04

    def run(seed: int) -> onp.ndarray:
        mx.random.seed(seed)
        opt = mx.optimizer.SGLD(learning_rate=lr, wd=0.1)
        w = np.ones((n,))
        opt.update(0, w, np.full((n,), 2.0), None)
        return w.asnumpy()

    a, b, c = run(7), run(7), run(8)
    onp.testing.assert_array_equal(a, b)
    assert not onp.array_equal(a, c)
    noise = a - (1 - lr / 2 * (2.0 + 0.1))
    assert abs(noise.mean()) < 4 * math.sqrt(lr / n)
    assert abs(noise.std() - math.sqrt(lr)) < 0.02 * math.sqrt(lr)


# -- legacy kernels -------------------------------------------------------------------------------
@pytest.mark.parametrize("clip", [-1.0, 0.4])
def test_kernels(clip: float) -> None:
    rng = onp.random.default_rng(9)
    w0 = rng.uniform(-1, 1, SHAPE).astype(onp.float32)
    g0 = rng.standard_normal(SHAPE).astype(onp.float32)
    o = {"rescale_grad": 0.7, "clip_gradient": clip if clip > 0 else None}
    w64, g64 = w0.astype(onp.float64), g0.astype(onp.float64)

    w = np.array(w0)
    out = K.sgd_update(w, np.array(g0), lr=0.1, wd=0.01, rescale_grad=0.7, clip_gradient=clip)
    onp.testing.assert_array_equal(w.asnumpy(), w0)  # a new array without out=
    onp.testing.assert_allclose(out.asnumpy(), w64 - 0.1 * prep(g64, w64, o, 0.01), rtol=1e-5)
    res = K.sgd_update(w, np.array(g0), 0.1, 0.01, 0.7, clip, out=w)
    assert res is w
    onp.testing.assert_allclose(w.asnumpy(), out.asnumpy(), rtol=1e-6)

    w, mom = np.array(w0), np.full(SHAPE, 0.1)
    K.sgd_mom_update(w, np.array(g0), mom, lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.7,
                     clip_gradient=clip, out=w)
    ref_mom = 0.9 * 0.1 - 0.1 * prep(g64, w64, o, 0.01)
    onp.testing.assert_allclose(mom.asnumpy(), ref_mom, rtol=1e-5, atol=1e-7)
    onp.testing.assert_allclose(w.asnumpy(), w64 + ref_mom, rtol=1e-5, atol=1e-7)

    w, m, v = np.array(w0), np.full(SHAPE, 0.1), np.full(SHAPE, 0.2)
    K.adam_update(w, np.array(g0), m, v, lr=0.01, beta1=0.8, beta2=0.9, epsilon=1e-6, wd=0.01,
                  rescale_grad=0.7, clip_gradient=clip, out=w)
    gg = prep(g64, w64, o, 0.01)
    rm, rv = 0.8 * 0.1 + 0.2 * gg, 0.9 * 0.2 + 0.1 * gg * gg
    onp.testing.assert_allclose(m.asnumpy(), rm, rtol=1e-5, atol=1e-7)
    onp.testing.assert_allclose(v.asnumpy(), rv, rtol=1e-5, atol=1e-7)
    # no bias correction in the operator
    onp.testing.assert_allclose(w.asnumpy(), w64 - 0.01 * rm / (onp.sqrt(rv) + 1e-6),
                                rtol=1e-5, atol=1e-7)


def test_kernel_errors() -> None:
    w = np.ones((3,))
    with pytest.raises(ValueError, match="shape"):
        K.sgd_update(w, np.ones((4,)), lr=0.1)
    with pytest.raises(TypeError):
        K.sgd_update(onp.ones(3), w, lr=0.1)
    with pytest.raises(ValueError, match="out"):
        K.sgd_update(w, w, lr=0.1, out=np.ones((2,)))


def test_multi_tensor_sgd_checks_every_update_and_matches_closed_form() -> None:
    opt = mx.optimizer.SGD(learning_rate=0.5, momentum=0.9, wd=0.1, rescale_grad=0.5)
    ws = [np.array(onp.full(s, 2.0, onp.float32)) for s in ((3,), (2, 2))]
    gs = [np.array(onp.full(s, 4.0, onp.float32)) for s in ((3,), (2, 2))]
    states = [opt.create_state(i, w) for i, w in enumerate(ws)]
    opt.update([0, 1], ws, gs, states)
    # mom = 0.9 * 0 - 0.5 * (0.5 * 4 + 0.1 * 2) = -1.1; w = 2 - 1.1
    for w, m in zip(ws, states):
        onp.testing.assert_allclose(m.asnumpy(), -1.1, rtol=1e-6)
        onp.testing.assert_allclose(w.asnumpy(), 0.9, rtol=1e-6)
    # a failing update does not stop the others; the task raises the first error
    seen = []

    def kernel(xp, w, g, s, lr, wd):
        seen.append(w.shape)
        if w.shape == (3,):
            raise FloatingPointError("bad update")
        w -= lr * g

    with pytest.raises(FloatingPointError, match="bad update.*sgd_update of parameter 0 of 2"):
        K.launch_many("sgd_update", ws, gs, [(None,), (None,)], [(0.5, 0.0), (0.5, 0.0)],
                      kernel)  # (NaiveEngine: raises here; ThreadedEngine: at the sync)
        ws[0].asnumpy()
    assert seen == [(3,), (2, 2)]
    onp.testing.assert_allclose(ws[1].asnumpy(), 0.9 - 2.0, rtol=1e-6)
    # weights on two devices: one task per device, the same closed form
    on = [np.array(onp.full(3, 2.0, onp.float32), device=mx.cpu(i)) for i in (0, 1)]
    gon = [np.array(onp.full(3, 4.0, onp.float32), device=mx.cpu(i)) for i in (0, 1)]
    opt2 = mx.optimizer.SGD(learning_rate=0.5, wd=0.1, rescale_grad=0.5)
    opt2.update([0, 1], on, gon, [None, None])
    for w in on:  # w = 2 - 0.5 * (0.5 * 4 + 0.1 * 2)
        onp.testing.assert_allclose(w.asnumpy(), 0.9, rtol=1e-6)
    with pytest.raises(ValueError, match=r"gradient shape \(4,\) does not match weight shape"):
        K.launch_many("sgd_update", [ws[0], ws[1]], [np.ones((4,)), gs[1]], [(None,), (None,)],
                      [(0.1, 0.0), (0.1, 0.0)], lambda xp, w, g, s, lr, wd: None)



@pytest.mark.parametrize("base", [mx.optimizer.SGD, mx.optimizer.Adam])
def test_a_subclass_with_its_own_update_is_not_batched(base: type) -> None:
    """The multi-tensor update runs the base class's kernels: a subclass that overrides
    ``_step_one`` gets its own update for every parameter, one at a time."""
    calls: list[Any] = []

    class Halved(base):  # type: ignore[misc, valid-type]
        def _step_one(self, index, weight, grad, state, lr, wd, t, master):
            calls.append(index)
            super()._step_one(index, weight, grad, state, lr * 0.5, wd, t, master)

    ws = [np.array(onp.full(s, 2.0, onp.float32)) for s in ((3,), (2, 2))]
    gs = [np.array(onp.full(s, 1.0, onp.float32)) for s in ((3,), (2, 2))]
    plain = base(learning_rate=0.1)
    ref = [np.array(onp.full(s, 2.0, onp.float32)) for s in ((3,), (2, 2))]
    plain.update([0, 1], ref, gs, [plain.create_state(i, w) for i, w in enumerate(ref)])
    opt = Halved(learning_rate=0.2)
    opt.update([0, 1], ws, gs, [opt.create_state(i, w) for i, w in enumerate(ws)])
    assert calls == [0, 1]
    for w, r in zip(ws, ref):  # half of twice the rate: the base class's update
        onp.testing.assert_allclose(w.asnumpy(), r.asnumpy(), rtol=1e-6)


# -- registry, base class, Updater ------------------------------------------------------------
def test_create_and_defaults() -> None:
    assert isinstance(mx.optimizer.create("SGD"), mx.optimizer.SGD)
    assert mx.optimizer.create("sgd").learning_rate == 0.1  # 2.0 default
    assert mx.optimizer.create("adam").learning_rate == 0.001
    assert mx.optimizer.create("nag").momentum == 0.9
    assert mx.optimizer.Optimizer().learning_rate == 0.01
    assert mx.optimizer.create("adadelta", rho=0.8).rho == 0.8
    for name in ["sgd", "adam", "nag", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
                 "adamw", "signum", "ftml", "ftrl", "lamb", "lars", "sgld", "dcasgd", "lans",
                 "adabelief", "test"]:
        assert name in mx.optimizer.registered()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="registered optimizers: .*adam.*sgd"):
        mx.optimizer.create("nosuchopt")
    with pytest.raises(TypeError, match="bogus"):
        mx.optimizer.create("sgd", bogus=1)
    with pytest.raises(TypeError):
        mx.optimizer.create(3)
    with pytest.raises(TypeError, match="param_idx2name"):
        mx.optimizer.SGD(param_idx2name=[1, 2])
    with pytest.raises(TypeError, match="lr_scheduler"):
        mx.optimizer.SGD(lr_scheduler=0.1)
    opt = mx.optimizer.SGD()
    with pytest.raises(ValueError, match="shape"):
        opt.update(0, np.ones((3,)), np.ones((2,)), None)
    with pytest.raises(TypeError):
        opt.update(0, onp.ones(3), np.ones((3,)), None)
    mp = mx.optimizer.Adam(multi_precision=True)
    w16 = np.ones((3,), dtype="float16")
    with pytest.raises(ValueError, match="create_state_multi_precision"):
        mp.update(0, w16, w16, mp.create_state(0, w16))
    with pytest.warns(UserWarning, match="multi_precision"):
        mx.optimizer.Adam().create_state_multi_precision(0, w16)


def test_update_inside_record_raises() -> None:
    w = np.ones((3,))
    w.attach_grad()
    opt = mx.optimizer.SGD()
    with autograd.record():
        with pytest.raises(FrameworkError, match="computational graph"):
            opt.update(0, w, np.ones((3,)), None)


def test_register_custom_optimizer() -> None:
    @mx.optimizer.register
    class MyTestOpt(mx.optimizer.Optimizer):
        def step(self, indices, weights, grads, states):
            for i, w, g in zip(indices, weights, grads):
                self._update_count(i)
                w[:] = w - self._get_lr(i) * g

    try:
        opt = mx.optimizer.create("mytestopt", learning_rate=0.5)
        assert type(opt) is MyTestOpt
        w = np.ones((2,))
        upd = mx.optimizer.get_updater(opt)
        upd(0, np.ones((2,)), w)
        onp.testing.assert_allclose(w.asnumpy(), 0.5)
        with pytest.warns(UserWarning, match="overriding"):
            mx.optimizer.register(type("MyTestOpt", (mx.optimizer.Optimizer,), {}))
    finally:
        mx.optimizer.Optimizer.opt_registry.pop("mytestopt", None)


def test_custom_step_multi_precision_fallback() -> None:
    class Plain(mx.optimizer.Optimizer):
        def step(self, indices, weights, grads, states):
            for w, g in zip(weights, grads):
                assert w.dtype == onp.float32 and g.dtype == onp.float32
                w[:] = w - 0.25 * g

    opt = Plain(multi_precision=True)
    w = np.ones((4,), dtype="float16")
    st = opt.create_state_multi_precision(0, w)
    opt.update_multi_precision(0, w, np.ones((4,), dtype="float16"), st)
    onp.testing.assert_allclose(w.asnumpy(), 0.75)
    assert w.dtype == onp.float16


def test_param_dict_multipliers() -> None:
    class P:
        lr_mult = 0.5
        wd_mult = 0.0

    opt = mx.optimizer.SGD(learning_rate=1.0, wd=0.5, param_dict={0: P()},
                           param_idx2name={1: "b"})
    opt.set_lr_mult({0: 10.0, "b": 3.0})
    opt.set_wd_mult({"b": 2.0})
    assert opt._get_lrs([0, 1, 2]) == [0.5, 3.0, 1.0]
    assert opt._get_wds([0, 1, 2]) == [0.0, 1.0, 0.5]
    # 2.0: no implicit wd_mult=0 for names not ending in _weight
    assert mx.optimizer.SGD(wd=0.5, param_idx2name={0: "fc_bias"})._get_wd(0) == 0.5
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.param_dict == {} and clone.lr_mult == {0: 10.0, "b": 3.0}


def test_deprecated_1x_kwargs() -> None:
    with pytest.warns(DeprecationWarning):
        r = mx.optimizer.RMSProp(gamma1=0.8, gamma2=0.7)
    assert (r.rho, r.momentum) == (0.8, 0.7)
    with pytest.warns(DeprecationWarning):
        a = mx.optimizer.AdaGrad(eps=1e-3)
    assert a.epsilon == 1e-3
    mx.optimizer.SGD(lazy_update=True, sym=None, allow_np=True)


@pytest.mark.parametrize("dump", [False, True])
def test_updater_states_round_trip(dump: bool) -> None:
    rng = onp.random.default_rng(11)
    w0 = [rng.standard_normal((3, 4)).astype(onp.float32), rng.standard_normal((5,))]
    gs = [[rng.standard_normal(w.shape).astype(w.dtype) for w in w0] for _ in range(5)]

    def make() -> Any:
        return mx.optimizer.Adam(learning_rate=0.01, wd=0.01)

    upd = mx.optimizer.get_updater(make())
    ws = [np.array(w) for w in w0]
    for step in gs[:3]:
        upd([0, 1], [np.array(g) for g in step], ws)
    blob = upd.get_states(dump_optimizer=dump)
    snapshot = [w.asnumpy() for w in ws]

    upd2 = mx.optimizer.Updater(make())
    upd2.set_states(blob)
    if not dump:  # the update counts live in the optimizer
        upd2.optimizer._index_update_count.update(upd.optimizer._index_update_count)
        upd2.optimizer.num_update = upd.optimizer.num_update
    else:
        assert upd2.optimizer.num_update == 3
    ws2 = [np.array(w) for w in snapshot]
    for step in gs[3:]:
        upd([0, 1], [np.array(g) for g in step], ws)
        for i in (0, 1):
            upd2(i, np.array(step[i]), ws2[i])
    for a, b in zip(ws, ws2):
        onp.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6)
    assert isinstance(upd2.states[0], tuple)


def test_learning_rate_and_scheduler() -> None:
    o1 = mx.optimizer.Optimizer(learning_rate=0.01)
    o1.set_learning_rate(0.2)
    assert o1.learning_rate == 0.2
    sched = lrs.FactorScheduler(step=1)
    with pytest.warns(UserWarning, match="overwritten"):
        o2 = mx.optimizer.Optimizer(lr_scheduler=sched, learning_rate=0.3)
    assert o2.learning_rate == 0.3
    o2.lr_scheduler.base_lr = 0.4
    assert o2.learning_rate == 0.4
    with pytest.raises(UserWarning):
        o2.set_learning_rate(0.5)
    o3 = mx.optimizer.SGD(learning_rate=None, lr_scheduler=lrs.FactorScheduler(2, base_lr=0.7))
    assert o3.learning_rate == 0.7
    with pytest.warns(UserWarning):
        o4 = mx.optimizer.Adam(learning_rate=0.5,
                               lr_scheduler=lrs.CosineScheduler(10, base_lr=1.0))
    assert o4.lr_scheduler(0) == 0.5 and o4.lr_scheduler(10) == 0.0


def test_scheduler_drives_updates() -> None:
    sched = lrs.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
    opt = mx.optimizer.SGD(learning_rate=None, lr_scheduler=sched)
    w = np.zeros((2,))
    seen = []
    for _ in range(3):
        before = w.asnumpy()
        opt.update(0, w, np.ones((2,)), None)
        seen.append(float((before - w.asnumpy())[0]))
    assert seen == [1.0, 0.5, 0.25]


# -- lr_scheduler ---------------------------------------------------------------------------------
def test_factor_scheduler() -> None:
    s = lrs.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    assert [s(n) for n in range(1, 8)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    s = lrs.FactorScheduler(step=1, factor=0.1, stop_factor_lr=1e-3, base_lr=1.0)
    assert s(10) == 1e-3
    s = lrs.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    assert s(9) == 0.0625  # jumping ahead (resumed training) applies every decay


def test_multifactor_scheduler() -> None:
    s = lrs.MultiFactorScheduler(step=[2, 4], factor=0.1, base_lr=1.0)
    got = [s(n) for n in range(1, 7)]
    onp.testing.assert_allclose(got, [1.0, 1.0, 0.1, 0.1, 0.01, 0.01])


def test_poly_and_cosine() -> None:
    p = lrs.PolyScheduler(max_update=10, base_lr=1.0, pwr=2)
    assert p(0) == 1.0 and p(5) == 0.25 and p(10) == 0.0 and p(15) == 0.0
    p = lrs.PolyScheduler(max_update=10, base_lr=1.0, pwr=1, final_lr=0.2)
    assert math.isclose(p(5), 0.6)
    c = lrs.CosineScheduler(max_update=10, base_lr=1.0, final_lr=0.1)
    assert c(0) == 1.0 and math.isclose(c(5), 0.55) and math.isclose(c(10), 0.1)
    assert math.isclose(c(20), 0.1)


def test_warmup() -> None:
    s = lrs.FactorScheduler(step=100, base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2)
    got = [s(n) for n in range(6)]
    onp.testing.assert_allclose(got, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    s = lrs.MultiFactorScheduler(step=[10], base_lr=1.0, warmup_steps=3, warmup_begin_lr=0.1,
                                 warmup_mode="constant")
    assert [s(n) for n in range(4)] == [0.1, 0.1, 0.1, 1.0]
    c = lrs.CosineScheduler(max_update=6, base_lr=1.0, final_lr=0.0, warmup_steps=2)
    onp.testing.assert_allclose([c(0), c(1), c(2), c(4), c(6)], [0.0, 0.5, 1.0, 0.5, 0.0],
                                atol=1e-12)
    p = lrs.PolyScheduler(max_update=6, base_lr=1.0, pwr=1, warmup_steps=2, warmup_begin_lr=0.5)
    onp.testing.assert_allclose([p(1), p(2), p(4)], [0.75, 1.0, 0.5])


def test_scheduler_errors() -> None:
    with pytest.raises(ValueError, match="warmup"):
        lrs.FactorScheduler(step=1, warmup_mode="exp")
    with pytest.raises(ValueError, match="Factor"):
        lrs.FactorScheduler(step=1, factor=2.0)
    with pytest.raises(ValueError, match="step"):
        lrs.FactorScheduler(step=0)
    with pytest.raises(ValueError, match="increasing"):
        lrs.MultiFactorScheduler(step=[3, 2])
    with pytest.raises(ValueError, match="warmup_begin_lr"):
        lrs.CosineScheduler(10, base_lr=0.1, warmup_begin_lr=0.5)
    with pytest.raises(ValueError, match="positive"):
        lrs.PolyScheduler(max_update=0)
    with pytest.raises(ValueError, match="warmup_steps"):
        lrs.CosineScheduler(max_update=3, warmup_steps=3)
    with pytest.raises(TypeError):
        lrs.CosineScheduler(max_update=3.5)
    with pytest.raises(NotImplementedError):
        lrs.LRScheduler()(1)


def test_no_warnings_in_normal_use() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = mx.optimizer.create("lamb", wd=0.1)
        w = np.zeros((3,))
        st = opt.create_state(0, w)
        opt.update(0, w, np.zeros((3,)), st)  # zero norms: trust ratio falls back to 1
        assert onp.isfinite(w.asnumpy()).all()


@pytest.mark.gpu
@pytest.mark.skipif(mx.num_gpus() == 0, reason="needs a CUDA GPU and CuPy")
@pytest.mark.parametrize("name", sorted(CASES) + ["sgld"])
def test_gpu_matches_cpu(name: str) -> None:
    kw = {**COMMON, **CASES.get(name, (None, {}))[1]}
    results = []
    for dev in (mx.cpu(), mx.gpu(0)):
        mx.random.seed(1)
        w0, gs = _data(onp.float32, 12)
        opt = mx.optimizer.create(name, learning_rate=LR, **kw)
        w = np.array(w0, device=dev)
        st = opt.create_state_multi_precision(0, w)
        for g in gs:
            opt.update(0, w, np.array(g, device=dev), st)
        assert w.device == dev
        results.append(w.asnumpy())
    if name == "sgld":  # different generators: only check the update ran
        assert onp.isfinite(results[1]).all()
        return
    onp.testing.assert_allclose(results[1], results[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("gdtype", ["float32", "float16"])
def test_large_sgd_update_in_blocks_is_bit_identical(momentum, gdtype, monkeypatch):
    # a weight larger than a block is updated block by block; the oracle is the same kernel on
    # the whole array at once (the block size forced above the weight's)
    from framework.nd import _update
    rng = onp.random.default_rng(0)
    n = 3 * _update._BLOCK + 123
    w0 = rng.standard_normal(n).astype(onp.float32).reshape(-1, 1)
    g = rng.standard_normal(n).astype(gdtype).reshape(-1, 1)
    m0 = rng.standard_normal(n).astype(onp.float32).reshape(-1, 1)
    out = []
    for block in (_update._BLOCK, 10 * n):
        monkeypatch.setattr(_update, "_BLOCK", block)
        w, m = w0.copy(), m0.copy()
        _update.k_sgd(onp, w, g, m if momentum else None, 0.1, 0.01, 1 / 32, None, momentum)
        out.append((w, m))
    onp.testing.assert_array_equal(out[0][0], out[1][0])
    onp.testing.assert_array_equal(out[0][1], out[1][1])
    if not momentum:  # and the closed form
        want = w0 * onp.float32(1 - 0.1 * 0.01) - g.astype(onp.float32) * onp.float32(0.1 / 32)
        onp.testing.assert_allclose(out[0][0], want, rtol=1e-6)


def test_large_adam_updates_run_in_blocks_with_the_same_values(monkeypatch):
    from framework.nd import _update as upd
    rng = onp.random.default_rng(0)
    n = 3 * upd._BLOCK + 17  # several blocks and a ragged last one
    w0, g = rng.standard_normal(n).astype("float32"), rng.standard_normal(n).astype("float32")
    m0 = rng.standard_normal(n).astype("float32") * 0.1
    v0 = rng.uniform(0, 1, n).astype("float32")
    calls = []
    real = upd._adam_block
    monkeypatch.setattr(upd, "_adam_block", lambda *a: calls.append(1) or real(*a))
    out = []
    for block in (upd._BLOCK, 10 ** 12):  # blocked, then one call
        monkeypatch.setattr(upd, "_BLOCK", block)
        w, m, v = w0.copy(), m0.copy(), v0.copy()
        upd.k_adam(onp, w, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.5, 1.0)
        out.append((w, m, v))
    assert len(calls) == 4 + 1
    for a, b in zip(*out):
        onp.testing.assert_array_equal(a, b)
    # a non-contiguous weight is updated in one call
    calls.clear()
    monkeypatch.setattr(upd, "_BLOCK", 1024)
    w2 = onp.zeros((4096, 2), "float32")[:, 0]
    z = onp.zeros(4096, "float32")
    upd.k_adam(onp, w2, z + 1, z.copy(), z.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1.0, None)
    assert len(calls) == 1


@pytest.mark.parametrize("name, kw", [
    ("rmsprop", {"learning_rate": 0.01}), ("rmsprop", {"learning_rate": 0.01, "centered": True}),
    ("adagrad", {}), ("adadelta", {}), ("adamax", {}), ("nadam", {}), ("adabelief", {}),
    ("adamw", {"wd": 0.01}), ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}),
    ("sgd", {"learning_rate": 0.1, "clip_gradient": 0.5})])
def test_blocked_optimizers_give_the_unblocked_values(monkeypatch, name, kw):
    from framework.nd import _update as upd
    n = 2 * upd._BLOCK + 5
    outs = []
    for block in (upd._BLOCK, 10 ** 12):
        monkeypatch.setattr(upd, "_BLOCK", block)
        p = gluon.Parameter("x_weight", shape=(n,))
        p.initialize(init=mx.init.Constant(0.5))
        tr = gluon.Trainer({"x": p}, name, kw)
        for i in range(3):
            p.grad()[:] = mx.np.array(onp.random.default_rng(i).normal(size=n).astype("float32"))
            p.data()._fresh = True  # (a gradient set by hand, as backward marks it)
            tr.step(2)
        outs.append(p.data().asnumpy())
    assert not (outs[0] == 0.5).all()  # (updated)
    onp.testing.assert_array_equal(*outs)
