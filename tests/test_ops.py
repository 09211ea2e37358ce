"""The generic op harness (DESIGN.md §9): every row of ``op_table.TABLE`` against NumPy.

Each row becomes a representative product of cases rather than the full one: every dtype on the
main shape; every shape x kwargs variant on the main dtype; the NaiveEngine on every shape and
variant; non-contiguous inputs (a transposed view, ``.T`` of a contiguous array) on every shape
that allows one, both engines, every dtype. A case checks, against the NumPy reference cast to
the MXNet result dtype: the result type (a framework ndarray, 0-d for full reductions), shape
and dtype (known at the call, before the op ran), and the values (NaN-aware, per-dtype
tolerances). Where NumPy raises, the framework must raise too, at the call.

Under the ThreadedEngine the device queue is held by a gate task while the op is called, so the
op really goes through the queue (small ops would otherwise run inline) and its shape, dtype and
argument errors must be known without waiting for any data.

Ops with a Python result (``allclose``, ``shape``) are compared by value; results that are not
unique (decompositions, partitions, unordered unique values) through the row's canonical form;
ops that wait for values they compute themselves (``sync=True``) are called without the gate.

The bad-argument tests at the end check the error types and messages users rely on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import types
import warnings
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as onp
import pytest
from numpy.exceptions import AxisError
from op_table import ALIASES, TABLE, Arg, OpSpec, expected_dtype, tolerance

import framework
from framework import engine as feng
from framework import np as fnp
from framework import npx
from framework.base import MXNetError

# NumPy's warnings for log(0), empty means etc.: the values are what is checked
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

THREADED, NAIVE = "ThreadedEngine", "NaiveEngine"
_GATE_S = 10.0  # a call that takes this long waited on the held queue (a sync inside the call)


# -- engines --------------------------------------------------------------------------------------

def _use_engine(name: str) -> None:
    """Switch engines only when needed (cases are ordered so that this happens rarely)."""
    if type(feng.get()).__name__ != name:
        feng.set_engine_type(name)


@pytest.fixture(scope="module", autouse=True)
def _restore_engine() -> Iterator[None]:
    prev = feng.engine_type()
    yield
    if feng.engine_type() != prev:
        feng.set_engine_type(prev)


@pytest.fixture(autouse=True)
def _clean_engine() -> Iterator[None]:
    # an error left pending by an earlier test must not be reported by this one
    with contextlib.suppress(Exception):
        feng.waitall()
    yield


@contextlib.contextmanager
def _queued(engine: str) -> Iterator[None]:
    """Under the ThreadedEngine, hold the CPU queue while the block runs.

    Ops called in the block are queued behind the gate instead of running inline, so they must
    infer shape and dtype (and raise argument errors) without waiting for data. A block that
    waits on the queue anyway is released by the gate's timeout and reported.
    """
    if engine == NAIVE:
        yield
        return
    ev = threading.Event()
    feng.push(lambda: ev.wait(_GATE_S), device=framework.cpu(), name="test-gate")
    eng_cls = type(feng.get())
    eng_cls.inline_untouched = False  # held queue: small ops queue too, even on ready inputs
    t0 = time.perf_counter()
    try:
        yield
    finally:
        eng_cls.inline_untouched = True
        ev.set()
    waited = time.perf_counter() - t0
    assert waited < 0.8 * _GATE_S, (
        f"the call blocked for {waited:.1f}s on the held engine queue: it synchronised on data "
        "instead of inferring shape/dtype at the call")


# -- cases ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    spec: OpSpec
    d: int  # index into spec.dtypes
    s: int  # index into spec.shapes
    k: int  # index into spec.kwargs
    engine: str
    contiguous: bool

    @property
    def id(self) -> str:
        spec = self.spec
        dts = "x".join(str(d) for d in spec.dtype_list(spec.dtypes[self.d]))
        shapes = "x".join(str(s).replace(" ", "") for s in spec.shape_list(spec.shapes[self.s]))
        kw = ",".join(f"{k}={v}" for k, v in spec.kwargs[self.k].items()).replace(" ", "")
        eng = "threaded" if self.engine == THREADED else "naive"
        layout = "C" if self.contiguous else "T"
        return f"{spec.id}-{dts}-{shapes}-{{{kw}}}-{eng}-{layout}"

    @property
    def seed(self) -> int:
        return zlib.crc32(self.id.encode())


def _can_transpose(shape: tuple[int, ...]) -> bool:
    """``.T`` of a contiguous array with this shape is a non-contiguous view."""
    return len(shape) >= 2 and min(shape) >= 2


def _cases(spec: OpSpec) -> list[Case]:
    nd, ns, nk = len(spec.dtypes), len(spec.shapes), len(spec.kwargs)
    nc = [s for s in range(ns) if spec.noncontig and any(
        _can_transpose(sh) for sh in spec.shape_list(spec.shapes[s]))]
    keys = [(d, 0, 0, THREADED, True) for d in range(nd)]
    keys += [(0, s, k, THREADED, True) for s in range(ns) for k in range(nk)]
    keys += [(0, s, 0, NAIVE, True) for s in range(ns)]
    keys += [(0, 0, k, NAIVE, True) for k in range(nk)]
    keys += [(0, s, k, THREADED, False) for s in nc for k in range(nk)]
    keys += [(0, s, 0, NAIVE, False) for s in nc]
    if nc:
        keys += [(d, nc[0], 0, THREADED, False) for d in range(min(nd, 4))]
    return [Case(spec, *key) for key in dict.fromkeys(keys)]


# threaded cases first, then naive ones: each xdist worker switches engines only a few times
CASES = sorted((c for spec in TABLE for c in _cases(spec)), key=lambda c: c.engine == NAIVE)


# -- checking -------------------------------------------------------------------------------------

def _to_framework(x: onp.ndarray, contiguous: bool) -> Any:
    if contiguous or not _can_transpose(x.shape):
        return fnp.array(x)  # a NumPy array keeps its dtype
    view = fnp.array(onp.ascontiguousarray(x.T)).T
    assert not view._alloc_buffer().flags.c_contiguous, "harness: expected a strided view"
    return view


def _as_list(x: Any) -> list[Any] | None:
    return list(x) if isinstance(x, (list, tuple)) else None


def _cast(ref: Any, dt: onp.dtype) -> onp.ndarray:
    with warnings.catch_warnings(), onp.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return onp.asarray(ref).astype(dt)


def _check_meta(out: Any, want: onp.ndarray, dt: onp.dtype, msg: str) -> None:
    assert isinstance(out, fnp.ndarray), f"{msg}: result is {type(out).__name__}, not ndarray"
    assert out.shape == want.shape, f"{msg}: shape {out.shape}, NumPy gives {want.shape}"
    assert out.dtype == dt, f"{msg}: dtype {out.dtype}, expected {dt} (MXNet's rule)"


def _check_values(spec: OpSpec, out: Any, want: onp.ndarray, dt: onp.dtype, msg: str) -> None:
    got = out.asnumpy()
    assert got.dtype == dt and got.shape == want.shape, (
        f"{msg}: computed {got.dtype}{got.shape} but the array says {dt}{want.shape}")
    if dt.kind in "fc":
        rtol, atol = tolerance(spec, dt)
        onp.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True,
                                    err_msg=msg)
    else:
        onp.testing.assert_array_equal(got, want, err_msg=msg)


def _inputs(case: Case) -> tuple[list[Any], list[Any], Any, dict[str, Any]]:
    """(NumPy inputs, reference inputs, expected dtype(s), kwargs) of a case."""
    spec = case.spec
    rng = onp.random.default_rng(case.seed)
    dts = spec.dtype_list(spec.dtypes[case.d])
    shapes = spec.shape_list(spec.shapes[case.s])
    kw = spec.kwargs[case.k]
    want_dt = None if spec.result == "python" else expected_dtype(spec, dts, kw)
    wants = want_dt if isinstance(want_dt, list) else [want_dt] if want_dt is not None else []
    upcast = spec.ref_upcast and any(onp.dtype(d).kind == "f" for d in wants)
    xs: list[Any] = []
    refs: list[Any] = []
    i = 0
    for a in spec.inputs:
        if isinstance(a, Arg):
            x = a.make(rng, shapes[i], dts[i])
            xs.append(x)
            # float results of int/bool inputs: NumPy computes in float64, we cast after
            refs.append(x.astype(onp.float64) if upcast and a.dtype is None and
                        x.dtype.kind in "biu" else x)
            i += 1
        else:
            xs.append(a.value)
            refs.append(a.value)
    return xs, refs, want_dt, kw


def _call_scope(case: Case) -> contextlib.AbstractContextManager[None]:
    """The queue is held for the call unless the op itself waits for values it computes."""
    return contextlib.nullcontext() if case.spec.sync else _queued(case.engine)


def _check_python(out: Any, ref: Any, msg: str) -> None:
    """An op with a Python result (``allclose``, ``shape``...): the same value and kind."""
    assert not isinstance(out, fnp.ndarray), f"{msg}: returned an ndarray, NumPy {ref!r}"
    if isinstance(ref, (bool, onp.bool_)):
        assert isinstance(out, bool), f"{msg}: returned {out!r}, not a bool"
    elif isinstance(ref, tuple):
        assert isinstance(out, tuple), f"{msg}: returned {out!r}, not a tuple"
    assert out == ref, f"{msg}: returned {out!r}, NumPy {ref!r}"


def _check_canon(spec: OpSpec, outs: list[Any], refs_out: list[Any], xs: list[Any],
                 kw: dict[str, Any], dt: onp.dtype, msg: str) -> None:
    """Compare the canonical forms (``OpSpec.canon``) of the result and of the reference."""
    assert spec.canon is not None
    got = spec.canon([o.asnumpy() for o in outs], xs, kw)
    want = spec.canon([onp.asarray(r) for r in refs_out], xs, kw)
    assert len(got) == len(want), f"{msg}: canonical forms differ in length"
    rtol, atol = tolerance(spec, dt)
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = onp.asarray(g), onp.asarray(w)
        assert g.shape == w.shape, f"{msg}: canonical form {i}: shape {g.shape}, NumPy {w.shape}"
        if g.dtype.kind in "fc" or w.dtype.kind in "fc":
            onp.testing.assert_allclose(g.astype(onp.float64), w.astype(onp.float64), rtol=rtol,
                                        atol=atol, equal_nan=True,
                                        err_msg=f"{msg}: canonical form {i}")
        else:
            onp.testing.assert_array_equal(g, w, err_msg=f"{msg}: canonical form {i}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_op(case: Case) -> None:
    spec = case.spec
    xs, refs, want_dt, kw = _inputs(case)
    msg = f"{case.id} (seed {case.seed})"
    ref_exc: Exception | None = None
    with warnings.catch_warnings(), onp.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            ref = spec.ref(*refs, **kw)
        except Exception as exc:  # NumPy rejects these arguments: so must we
            ref_exc = exc
    _use_engine(case.engine)
    args = [_to_framework(x, case.contiguous) if isinstance(x, onp.ndarray) else x for x in xs]

    if ref_exc is not None:
        with _call_scope(case):
            try:
                out = spec.fn(*args, **kw)
            except Exception as exc:
                err: Exception | None = exc
            else:
                err = None
        assert err is not None, (
            f"{msg}: NumPy raises {type(ref_exc).__name__}({ref_exc}) but the call did not")
        same_kind = [b for b in (type(ref_exc), ValueError, TypeError, IndexError)
                     if isinstance(ref_exc, b)]
        assert isinstance(err, tuple(same_kind)), (
            f"{msg}: raised {type(err).__name__}({err}); NumPy raises "
            f"{type(ref_exc).__name__}({ref_exc})")
        return

    if spec.result == "python":
        with _call_scope(case):
            out = spec.fn(*args, **kw)
        _check_python(out, ref, msg)
        return

    ref_list = _as_list(ref)
    raw = [onp.asarray(r) for r in ref_list] if ref_list is not None else [onp.asarray(ref)]
    dts = want_dt if isinstance(want_dt, list) else [want_dt] * len(raw)
    wants = [_cast(w, dt) for w, dt in zip(raw, dts)]
    with _call_scope(case):
        out = spec.fn(*args, **kw)
        outs = _as_list(out)
        if ref_list is None:
            assert outs is None, f"{msg}: returned a {type(out).__name__}, NumPy an array"
            outs = [out]
        else:
            assert outs is not None and len(outs) == len(wants), (
                f"{msg}: returned {type(out).__name__} of {len(outs or [])} arrays, NumPy "
                f"{len(wants)}")
        for o, w, dt in zip(outs, wants, dts):
            _check_meta(o, w, dt, msg)  # known before the op has run
    feng.waitall()
    if spec.canon is not None:
        _check_canon(spec, outs, raw, xs, kw, dts[0] if dts else onp.dtype("float64"), msg)
        return
    for o, w, dt in zip(outs, wants, dts):
        _check_values(spec, o, w, dt, msg)


#: Public callables of ``np``, ``np.linalg`` and ``npx`` that have no op-table row, and why.
#: (Classes, modules and constants are not ops and are skipped without being listed.)
NOT_OPS = {
    # pure dtype utilities: no array computation (tested in test_stats.py)
    "result_type", "promote_types", "can_cast", "min_scalar_type",
    # printing and file I/O (test_ndarray.py, test_np_more.py, test_io.py)
    "set_printoptions", "genfromtxt", "npx.save", "npx.load", "npx.savez",
    # npx's switches, devices and synchronisation: not array ops
    "npx.set_np", "npx.reset_np", "npx.is_np_array", "npx.is_np_shape",
    "npx.is_np_default_dtype", "npx.set_np_default_dtype", "npx.use_np", "npx.waitall",
    "npx.cpu", "npx.gpu", "npx.cpu_pinned", "npx.num_gpus", "npx.current_device",
    "npx.current_context", "npx.gpu_memory_info", "npx.get_cuda_compute_capability",
    # the fused RNN: checked step by step against a NumPy reference (tests/test_rnn.py)
    "npx.rnn",
}


def _public_callables() -> list[str]:
    """Every public callable of the three namespaces, qualified as op-table row names."""
    names = []
    for prefix, ns in (("", fnp), ("linalg.", fnp.linalg), ("npx.", npx)):
        for n in ns.__all__:
            obj = getattr(ns, n)
            if callable(obj) and not isinstance(obj, (type, types.ModuleType)):
                names.append(prefix + n)
    return names


def test_table_covers_every_op() -> None:
    covered = {s.name for s in TABLE} | {s.id for s in TABLE}
    public = _public_callables()
    missing = sorted(n for n in public if n not in covered and n not in NOT_OPS)
    assert not missing, f"ops without an op-table row: {missing}"
    stale = sorted(NOT_OPS - set(public))
    assert not stale, f"NOT_OPS names that are not public callables: {stale}"
    listed = sorted(NOT_OPS & covered)
    assert not listed, f"NOT_OPS names that have a row: {listed}"
    for name in ALIASES:
        assert callable(getattr(fnp, name)), name


# -- bad arguments: the error type and message, raised at the call --------------------------------

def _raises_at_call(exc: type[BaseException] | tuple[type[BaseException], ...],
                    call: Callable[[], Any]) -> BaseException:
    """``call()`` must raise ``exc`` itself, with the engine queue held: no sync, no deferral."""
    with feng.engine_scope(THREADED), _queued(THREADED):
        with pytest.raises(exc) as info:
            call()
    return info.value


def _a(shape: tuple[int, ...], dtype: Any = "float32") -> Any:
    return fnp.ones(shape, dtype=dtype)


BROADCAST_ERRORS = [
    ("add", lambda a, b: fnp.add(a, b), (2, 3), (4,)),
    ("multiply", lambda a, b: fnp.multiply(a, b), (2, 3), (3, 2)),
    ("greater", lambda a, b: fnp.greater(a, b), (5,), (4,)),
    ("arctan2", lambda a, b: fnp.arctan2(a, b), (2, 3, 4), (3, 5)),
    ("maximum", lambda a, b: fnp.maximum(a, b), (0,), (2,)),
    ("operator+", lambda a, b: a + b, (2, 3), (4,)),
    ("operator<", lambda a, b: a < b, (2, 3), (2,)),
    ("where", lambda a, b: fnp.where(_a((2, 3), bool), a, b), (2, 3), (4,)),
]


@pytest.mark.parametrize("name,call,sa,sb", BROADCAST_ERRORS, ids=[b[0] for b in BROADCAST_ERRORS])
def test_broadcast_mismatch(name: str, call: Any, sa: tuple[int, ...],
                            sb: tuple[int, ...]) -> None:
    err = _raises_at_call(MXNetError, lambda: call(_a(sa), _a(sb)))
    assert isinstance(err, ValueError), f"{name}: {type(err).__mro__} is not a ValueError"
    assert str(sa) in str(err) and str(sb) in str(err), f"{name}: {err} names the shapes"


def _x() -> Any:
    return _a((2, 3))


AXIS_ERRORS = [
    ("sum", lambda: fnp.sum(_x(), axis=2)),
    ("sum-tuple", lambda: fnp.sum(_x(), axis=(0, 2))),
    ("prod", lambda: fnp.prod(_x(), axis=-3)),
    ("mean", lambda: fnp.mean(_x(), axis=-3)),
    ("std", lambda: fnp.std(_x(), axis=5)),
    ("var", lambda: fnp.var(_x(), axis=2)),
    ("max", lambda: fnp.max(_x(), axis=(0, 2))),
    ("min", lambda: _x().min(axis=2)),
    ("all", lambda: fnp.all(_x(), axis=2)),
    ("any", lambda: fnp.any(_x(), axis=-3)),
    ("argmax", lambda: fnp.argmax(_x(), axis=2)),
    ("argmin", lambda: fnp.argmin(_x(), axis=-3)),
    ("cumsum", lambda: fnp.cumsum(_x(), axis=2)),
    ("cumprod", lambda: fnp.cumprod(_x(), axis=-3)),
    ("expand_dims", lambda: fnp.expand_dims(_x(), 3)),
    ("squeeze", lambda: fnp.squeeze(_a((1, 3)), axis=2)),
    ("swapaxes", lambda: fnp.swapaxes(_x(), 0, 2)),
    ("flip", lambda: fnp.flip(_x(), axis=2)),
    ("sort", lambda: fnp.sort(_x(), axis=2)),
    ("argsort", lambda: fnp.argsort(_x(), axis=-3)),
    ("concatenate", lambda: fnp.concatenate([_x(), _x()], axis=2)),
    ("stack", lambda: fnp.stack([_x(), _x()], axis=3)),
    ("split", lambda: fnp.split(_x(), 2, axis=2)),
    ("repeat", lambda: fnp.repeat(_x(), 2, axis=2)),
    ("take", lambda: fnp.take(_x(), fnp.array([0, 1], dtype="int64"), axis=2)),
    ("softmax", lambda: npx.softmax(_x(), axis=2)),
    ("log_softmax", lambda: npx.log_softmax(_x(), axis=-3)),
    ("topk", lambda: npx.topk(_x(), axis=2)),
    ("pick", lambda: npx.pick(_x(), _a((2,)), axis=2)),
]


@pytest.mark.parametrize("name,call", AXIS_ERRORS, ids=[a[0] for a in AXIS_ERRORS])
def test_bad_axis(name: str, call: Any) -> None:
    _raises_at_call(AxisError, call)


RESHAPE_ERRORS = [
    ("np.reshape", lambda x: fnp.reshape(x, (4,)), (4,)),
    ("unknown", lambda x: fnp.reshape(x, (4, -1)), (4, -1)),
    ("method", lambda x: x.reshape(5, 2), (5, 2)),
    ("method-tuple", lambda x: x.reshape((7,)), (7,)),
]


@pytest.mark.parametrize("name,call,new", RESHAPE_ERRORS, ids=[r[0] for r in RESHAPE_ERRORS])
def test_reshape_size_mismatch(name: str, call: Any, new: tuple[int, ...]) -> None:
    err = _raises_at_call(MXNetError, lambda: call(_x()))
    assert isinstance(err, ValueError)
    assert "(2, 3)" in str(err) and str(new) in str(err), f"{err} should name both shapes"


BITWISE_ERRORS = [
    ("bitwise_and", lambda: fnp.bitwise_and(_x(), _x())),
    ("bitwise_or-mixed", lambda: fnp.bitwise_or(_x(), _a((2, 3), "int32"))),
    ("bitwise_xor-scalar", lambda: fnp.bitwise_xor(_a((2, 3), "int32"), 1.5)),
    ("bitwise_not", lambda: fnp.bitwise_not(_x())),
    ("invert", lambda: fnp.invert(_a((2,), "float16"))),
    ("left_shift", lambda: fnp.left_shift(_x(), _a((3,), "int32"))),
    ("right_shift", lambda: fnp.right_shift(_a((3,), "int8"), 1.0)),
    ("gcd", lambda: fnp.gcd(_x(), _x())),
    ("operator&", lambda: _x() & _x()),
    ("operator|", lambda: _x() | 1),
    ("operator~", lambda: ~_x()),
]


@pytest.mark.parametrize("name,call", BITWISE_ERRORS, ids=[b[0] for b in BITWISE_ERRORS])
def test_bitwise_on_floats(name: str, call: Any) -> None:
    _raises_at_call(TypeError, call)


EMPTY_ERRORS = [
    ("max", lambda: fnp.max(_a((0,)))),
    ("min-axis", lambda: fnp.min(_a((2, 0)), axis=1)),
    ("amax", lambda: fnp.amax(_a((0, 3)), axis=0)),
    ("method", lambda: _a((3, 0)).max()),
    ("argmax", lambda: fnp.argmax(_a((0,)))),
    ("argmin-axis", lambda: fnp.argmin(_a((0, 3)), axis=0)),
]


@pytest.mark.parametrize("name,call", EMPTY_ERRORS, ids=[e[0] for e in EMPTY_ERRORS])
def test_reduction_of_empty(name: str, call: Any) -> None:
    _raises_at_call(ValueError, call)


OTHER_ERRORS = [
    ("matmul", ValueError, lambda: fnp.matmul(_a((2, 3)), _a((4, 5))), ("(2, 3)", "(4, 5)")),
    ("dot", ValueError, lambda: fnp.dot(_a((2, 3)), _a((4,))), ("(2, 3)", "(4,)")),
    ("concatenate", ValueError, lambda: fnp.concatenate([_a((2, 3)), _a((2, 4))]),
     ("(2, 3)", "(2, 4)")),
    ("stack", ValueError, lambda: fnp.stack([_a((2, 3)), _a((3, 2))]), ("(2, 3)", "(3, 2)")),
    ("broadcast_to", ValueError, lambda: fnp.broadcast_to(_a((2, 3)), (4, 3)),
     ("(2, 3)", "(4, 3)")),
    ("split", ValueError, lambda: fnp.split(_a((5,)), 2), ()),
    ("pick", ValueError, lambda: npx.pick(_a((2, 3)), _a((3,))), ("(2, 3)", "(3,)")),
    ("negative-bool", TypeError, lambda: fnp.negative(_a((2,), bool)), ()),
    ("subtract-bool", TypeError, lambda: _a((2,), bool) - _a((2,), bool), ("subtract",)),
    ("subtract-bool-scalar", TypeError, lambda: fnp.subtract(True, _a((2,), bool)), ()),
    ("gcd-bool", TypeError, lambda: fnp.gcd(_a((2,), bool), _a((2,), bool)), ()),
    ("numpy-operand", TypeError, lambda: fnp.add(_x(), onp.ones((2, 3))), ()),
    ("numpy-operator", TypeError, lambda: _x() * onp.ones((2, 3)), ()),
]


@pytest.mark.parametrize("name,exc,call,needles", OTHER_ERRORS, ids=[o[0] for o in OTHER_ERRORS])
def test_other_bad_arguments(name: str, exc: type[BaseException], call: Any,
                             needles: tuple[str, ...]) -> None:
    err = _raises_at_call(exc, call)
    for n in needles:
        assert n in str(err), f"{name}: {err!s} should mention {n}"
