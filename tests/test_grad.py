"""The generic gradient harness (DESIGN.md §9): every ``grad=True`` row of ``op_table.TABLE``.

For a row, its differentiable inputs ``x`` (float64, values from the row's input generators, with
ties, exact zeros and special values left out so that no input sits on a kink), a random head
gradient ``h`` for each float64 output ``y`` and a random direction ``v``, three checks:

- (a) first order: ``sum(grad * v)``, with ``grad`` from ``x.attach_grad(); with
  autograd.record(): y = f(x); autograd.backward(y, h)``, against the central difference
  ``d/de sum(h * f(x + e v))`` (every differentiable input perturbed at once);
- (b) double backward (rows with ``grad2=True``): ``g = autograd.grad(y, x, h,
  create_graph=True)``, then ``sum(w * g)`` differentiated again, against the central difference
  of ``sum(w * g(x + e v))``; an op whose gradient does not depend on ``x`` (a linear op) must
  give a second derivative of zero;
- (c) the gradients under the ThreadedEngine and the NaiveEngine are identical, bit for bit.

Cases: every kwargs variant on the row's main shape, and its first other non-empty shape with
the first variant, for (a); the first of those for (b) and (c). A variant for which the NumPy
reference raises (an invalid combination of shape and arguments) or that has no float64 output
is left out. Seeds are fixed (from the case id) and printed on failure.
"""

from __future__ import annotations

import dataclasses
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as onp
import pytest
from op_table import F64, TABLE, Arg, OpSpec, expected_dtype

from framework import autograd
from framework import engine as feng
from framework import np as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

THREADED, NAIVE = "ThreadedEngine", "NaiveEngine"
EPS = 1e-6
RTOL = 1e-5  # relative to the larger of the two derivatives
ATOL = 1e-8  # relative to 1 + sum(|h * y|): the round-off of the central difference


@pytest.fixture(scope="module", autouse=True)
def _threaded_engine() -> Iterator[None]:
    prev = feng.engine_type()
    if prev != THREADED:
        feng.set_engine_type(THREADED)
    yield
    if feng.engine_type() != prev:
        feng.set_engine_type(prev)


# -- cases ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GradCase:
    spec: OpSpec
    s: int  # index into spec.shapes
    k: int  # index into spec.kwargs

    @property
    def id(self) -> str:
        spec = self.spec
        shapes = "x".join(str(s).replace(" ", "") for s in spec.shape_list(spec.shapes[self.s]))
        kw = ",".join(f"{k}={v}" for k, v in spec.kwargs[self.k].items()).replace(" ", "")
        return f"{spec.id}-{shapes}-{{{kw}}}"

    @property
    def seed(self) -> int:
        return zlib.crc32(self.id.encode())


def _diff_positions(spec: OpSpec) -> tuple[int, ...]:
    """Positions among the array inputs of the differentiable ones."""
    args = [a for a in spec.inputs if isinstance(a, Arg)]
    if spec.grad_args is not None:
        return spec.grad_args
    return tuple(i for i, a in enumerate(args) if a.dtype is None)


def _smooth(a: Arg) -> Arg:
    """The row's generator without ties, exact zeros or special values (no kinks)."""
    return dataclasses.replace(a, special=False, integer=False, zeros=0.0, nans=0.0)


@dataclasses.dataclass
class Inputs:
    xs: list[Any]  # NumPy arrays and scalars, in call order
    diff: list[int]  # positions in xs of the differentiable inputs (float64)
    kw: dict[str, Any]
    rng: onp.random.Generator


def _inputs(case: GradCase) -> Inputs:
    spec = case.spec
    rng = onp.random.default_rng(case.seed)
    dts = spec.dtype_list(spec.dtypes[0])
    shapes = spec.shape_list(spec.shapes[case.s])
    want = _diff_positions(spec)
    xs: list[Any] = []
    diff: list[int] = []
    i = 0
    for a in spec.inputs:
        if isinstance(a, Arg):
            if i in want:
                diff.append(len(xs))
                xs.append(_smooth(a).make(rng, shapes[i], F64))
            else:
                xs.append(a.make(rng, shapes[i], dts[i]))
            i += 1
        else:
            xs.append(a.value)
    return Inputs(xs, diff, spec.kwargs[case.k], rng)


def _out_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _float64_outputs(spec: OpSpec, inp: Inputs) -> list[int]:
    """Positions of the outputs that are float64 for float64 inputs (the MXNet rule)."""
    dts = [onp.dtype(F64) if j in inp.diff else onp.asarray(x).dtype
           for j, x in enumerate(inp.xs) if isinstance(x, onp.ndarray)]
    want = expected_dtype(spec, dts, inp.kw)
    wants = want if isinstance(want, list) else [want]
    return [j for j, d in enumerate(wants) if onp.dtype(d) == F64]


def _usable(case: GradCase) -> bool:
    """The NumPy reference accepts the case and it has a non-empty float64 output."""
    spec = case.spec
    try:
        inp = _inputs(case)
        if not inp.diff or any(inp.xs[j].size == 0 for j in inp.diff):
            return False
        with warnings.catch_warnings(), onp.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref = _out_list(spec.ref(*inp.xs, **inp.kw))
        idx = _float64_outputs(spec, inp)
    except Exception:
        return False
    if spec.result != "array":
        return False
    if spec.out_dtype is not None and len(idx) and len(ref) < max(idx) + 1:
        return False
    return any(onp.asarray(ref[j]).size > 0 for j in idx)


def _cases(spec: OpSpec) -> list[GradCase]:
    ks = spec.grad_kwargs if spec.grad_kwargs is not None else range(len(spec.kwargs))
    first = [GradCase(spec, 0, k) for k in ks]
    others = [GradCase(spec, s, ks[0]) for s in range(1, len(spec.shapes))
              if spec.shape_list(spec.shapes[s]) != spec.shape_list(spec.shapes[0])]
    cases = [c for c in first if _usable(c)]
    more = [c for c in others if _usable(c)]
    return cases + more[:1]


GRAD_ROWS = [s for s in TABLE if s.grad is True]
_BY_ROW = {spec.id: _cases(spec) for spec in GRAD_ROWS}
CASES = [c for cs in _BY_ROW.values() for c in cs]
FIRST = [cs[0] for cs in _BY_ROW.values() if cs]
DOUBLE = [c for c in FIRST if c.spec.grad2 is True]


# -- evaluation -----------------------------------------------------------------------------------

def _framework(xs: list[Any]) -> list[Any]:
    return [fnp.array(x) if isinstance(x, onp.ndarray) else x for x in xs]


def _heads(case: GradCase, outs: Any, picks: list[int]) -> list[Any]:
    out = _out_list(outs)
    assert len(out) > max(picks), f"{case.id}: {len(out)} outputs"
    return [out[j] for j in picks]


def _objective(case: GradCase, xs: list[Any], kw: dict[str, Any], picks: list[int],
               hs: list[onp.ndarray]) -> tuple[float, float]:
    """``sum(h * f(xs))``, and ``sum(|h * f(xs)|)`` (the scale of its round-off)."""
    ys = _heads(case, case.spec.fn(*_framework(xs), **kw), picks)
    prods = [onp.where(h != 0, h * y.asnumpy(), 0) for h, y in zip(hs, ys)]
    return sum(float(p.sum()) for p in prods), sum(float(onp.abs(p).sum()) for p in prods)


def _gradients(case: GradCase, xs: list[Any], diff: list[int], kw: dict[str, Any],
               picks: list[int], hs: list[onp.ndarray]) -> list[onp.ndarray]:
    """The gradients of ``sum(h * f(xs))`` with respect to the differentiable inputs."""
    args = _framework(xs)
    for j in diff:
        args[j].attach_grad()
    with autograd.record():
        ys = _heads(case, case.spec.fn(*args, **kw), picks)
    autograd.backward(ys, [fnp.array(h, dtype=y.dtype) for h, y in zip(hs, ys)])
    grads = []
    for j in diff:
        g = args[j].grad
        assert g is not None, f"{case.id}: no gradient for input {j}"
        assert g.shape == args[j].shape and g.dtype == args[j].dtype, (
            f"{case.id}: gradient {g.dtype}{g.shape} for an input {args[j].dtype}"
            f"{args[j].shape}")
        grads.append(g.asnumpy())
    return grads


def _setup(case: GradCase) -> tuple[Inputs, list[int], list[onp.ndarray], list[onp.ndarray]]:
    """Inputs, the float64 outputs used as heads, their head gradients and the directions."""
    inp = _inputs(case)
    picks = _float64_outputs(case.spec, inp)
    ys = _heads(case, case.spec.fn(*_framework(inp.xs), **inp.kw), picks)
    # no head gradient on infinite outputs (masked_log_softmax gives -inf where masked)
    hs = [onp.where(onp.isfinite(y.asnumpy()), inp.rng.standard_normal(y.shape), 0) for y in ys]
    vs = []
    for j in inp.diff:
        v = inp.rng.standard_normal(inp.xs[j].shape)
        if case.spec.grad_dir is not None and v.ndim >= 2 and v.shape[-1] == v.shape[-2]:
            v = case.spec.grad_dir(v)
        vs.append(v)
    return inp, picks, hs, vs


def _shifted(inp: Inputs, vs: list[onp.ndarray], e: float) -> list[Any]:
    xs = list(inp.xs)
    for j, v in zip(inp.diff, vs):
        xs[j] = onp.asarray(inp.xs[j] + e * v)  # (0-d arithmetic gives NumPy scalars)
    return xs


def _compare(ad: float, fd: float, scale: float, what: str) -> None:
    tol = RTOL * max(abs(ad), abs(fd)) + ATOL * (1 + scale)
    assert abs(ad - fd) <= tol, (
        f"{what}: autograd gives {ad!r}, finite differences {fd!r} (|diff| "
        f"{abs(ad - fd):.3g} > {tol:.3g})")


# -- (a) first order ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradient(case: GradCase) -> None:
    msg = f"{case.id} (seed {case.seed})"
    inp, picks, hs, vs = _setup(case)
    grads = _gradients(case, inp.xs, inp.diff, inp.kw, picks, hs)
    ad = sum(float((g * v).sum()) for g, v in zip(grads, vs))
    hi, s1 = _objective(case, _shifted(inp, vs, EPS), inp.kw, picks, hs)
    lo, s2 = _objective(case, _shifted(inp, vs, -EPS), inp.kw, picks, hs)
    _compare(ad, (hi - lo) / (2 * EPS), max(s1, s2), msg)


# -- (b) double backward --------------------------------------------------------------------------

def _first_order_sum(case: GradCase, xs: list[Any], inp: Inputs, picks: list[int],
                     hs: list[onp.ndarray], ws: list[onp.ndarray]) -> tuple[float, float]:
    gs = _gradients(case, xs, inp.diff, inp.kw, picks, hs)
    return (sum(float((w * g).sum()) for w, g in zip(ws, gs)),
            sum(float(onp.abs(w * g).sum()) for w, g in zip(ws, gs)))


@pytest.mark.parametrize("case", DOUBLE, ids=[c.id for c in DOUBLE])
def test_double_backward(case: GradCase) -> None:
    msg = f"{case.id} (seed {case.seed})"
    inp, picks, hs, vs = _setup(case)
    ws = [inp.rng.standard_normal(inp.xs[j].shape) for j in inp.diff]
    args = _framework(inp.xs)
    xs = [args[j] for j in inp.diff]
    for x in xs:
        x.attach_grad()
    with autograd.record():
        ys = _heads(case, case.spec.fn(*args, **inp.kw), picks)
        gs = autograd.grad(ys, xs, [fnp.array(h, dtype=y.dtype) for h, y in zip(hs, ys)],
                           create_graph=True)
        total = None
        for w, g in zip(ws, gs):
            term = (g * fnp.array(w)).sum()
            total = term if total is None else total + term
    if total._node is None:  # the gradient does not depend on x: a zero second derivative
        second = [onp.zeros_like(inp.xs[j]) for j in inp.diff]
    else:
        total.backward()
        second = [x.grad.asnumpy() for x in xs]
    ad = sum(float((s * v).sum()) for s, v in zip(second, vs))
    hi, s1 = _first_order_sum(case, _shifted(inp, vs, EPS), inp, picks, hs, ws)
    lo, s2 = _first_order_sum(case, _shifted(inp, vs, -EPS), inp, picks, hs, ws)
    _compare(ad, (hi - lo) / (2 * EPS), max(s1, s2), msg + " [second order]")


# -- (c) both engines -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", FIRST, ids=[c.id for c in FIRST])
def test_engines_agree(case: GradCase) -> None:
    inp, picks, hs, _ = _setup(case)
    got = {}
    for name in (THREADED, NAIVE):
        with feng.engine_scope(name):
            got[name] = _gradients(case, inp.xs, inp.diff, inp.kw, picks, hs)
    for i, (a, b) in enumerate(zip(got[THREADED], got[NAIVE])):
        assert onp.array_equal(a, b, equal_nan=True), (
            f"{case.id} (seed {case.seed}): input {i}: the gradients differ between engines "
            f"(max |diff| {onp.nanmax(onp.abs(a - b)) if a.size else 0:.3g})")


# -- the table itself -----------------------------------------------------------------------------

def test_every_op_has_a_gradient_decision() -> None:
    """Each op of the table has a checked row (with cases), or a reason not to have one."""
    undecided = []
    for name in sorted({s.name for s in TABLE}):
        rows = [s for s in TABLE if s.name == name]
        if not any(s.grad is True or isinstance(s.grad, str) for s in rows):
            undecided.append(name)
    assert not undecided, f"ops with neither a gradient row nor a reason: {undecided}"
    empty = sorted(rid for rid, cs in _BY_ROW.items() if not cs)
    assert not empty, f"grad=True rows without a usable case: {empty}"
    for s in TABLE:
        if isinstance(s.grad, str):
            assert s.grad.strip(), f"{s.id}: empty reason"
        assert s.grad2 is True or (isinstance(s.grad2, str) and s.grad2.strip()), s.id
