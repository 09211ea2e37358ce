"""The op table (DESIGN.md §9, STYLE.md example 12): one :class:`OpSpec` row per operator.

A row names the framework callable, the NumPy reference, how to generate its inputs (value
ranges per input), the dtypes and shapes to try, keyword-argument variants, the result dtype
under MXNet's rules and per-dtype tolerances. ``tests/test_ops.py`` turns every row into test
cases (dtypes x shapes x variants x engines x contiguous/non-contiguous inputs).

Result dtypes follow MXNet, not NumPy, where they differ (API.md §2 items 1-2): float-valued math
on integers and bools gives float32; float + int arrays give the float type; a Python scalar never
changes an array's dtype (except a bool array's); mean/std/var of integers give float32;
argmax/argmin give int64; ``npx.topk`` indices are float32. The NumPy reference is computed in
float64 where MXNet gives a float for integer input, then cast to the expected dtype.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as onp
from numpy.exceptions import AxisError

from framework import np as fnp
from framework import npx

__all__ = [
    "Arg", "Scalar", "OpSpec", "TABLE", "FLOATS", "INTS", "ALL", "NUMERIC", "SHAPES",
    "BIN_SHAPES", "mx_promote", "mx_scalar", "to_float", "expected_dtype", "tolerance",
]

F16, F32, F64 = onp.dtype("float16"), onp.dtype("float32"), onp.dtype("float64")
I8, I32, I64 = onp.dtype("int8"), onp.dtype("int32"), onp.dtype("int64")
U8, U64, BOOL = onp.dtype("uint8"), onp.dtype("uint64"), onp.dtype("bool")

#: the first dtype of a row's list is its "main" dtype (tried with every shape and variant)
FLOATS = (F32, F16, F64)
INTS = (I32, I8, I64, U8)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (BOOL,)
INT_BOOL = INTS + (BOOL,)

#: mixed pairs for binary ops (MXNet promotion: a float wins over an int of any size)
MIXED = ((F32, I32), (I64, F16), (F16, F64), (I8, U8), (BOOL, I32), (F32, BOOL), (I32, I64))
MIXED_INT = ((I8, U8), (BOOL, I32), (I32, I64), (U8, I64))

#: one shape per row entry; the first is the main shape
SHAPES = ((3, 4), (), (0,), (2, 0), (5,), (2, 3, 4))
SCALAR_SHAPES = ((3, 4), (), (0,), (2, 3, 4))
#: pairs for binary ops, broadcasting included
BIN_SHAPES = (
    ((3, 4), (3, 4)), ((), ()), ((0,), (0,)), ((5,), ()), ((), (5,)), ((3, 4), (4,)),
    ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((2, 0), (2, 1)), ((4, 3), (2, 1, 3)),
)

#: (rtol, atol) per dtype; a row may override some
TOL = {
    F16: (1e-2, 1e-2), F32: (1e-5, 1e-5), F64: (1e-10, 1e-12),
}


# -- dtype rules (written independently of framework.dtype, from API.md §2) ---------------------

def to_float(dt: onp.dtype) -> onp.dtype:
    """Float-valued math: floats keep their type, integers and bools give float32."""
    return dt if dt.kind in "fc" else F32


def mx_promote(a: onp.dtype, b: onp.dtype) -> onp.dtype:
    """MXNet's promotion of two arrays: a float wins over any int/bool; else NumPy's."""
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return onp.promote_types(a, b)


def mx_scalar(a: onp.dtype, s: Any) -> onp.dtype:
    """Array op Python scalar: the array's dtype, except a bool array takes the scalar's kind."""
    if a.kind != "b" or isinstance(s, bool):
        return a
    return I64 if isinstance(s, int) else F32


def _arrays(ins: Sequence[Any]) -> list[onp.dtype]:
    return [d for d in ins if isinstance(d, onp.dtype)]


def _promote_all(ins: Sequence[Any]) -> onp.dtype:
    arrs = _arrays(ins)
    if len(arrs) == 1:
        scalars = [s for s in ins if not isinstance(s, onp.dtype)]
        return mx_scalar(arrs[0], scalars[0]) if scalars else arrs[0]
    dt = arrs[0]
    for d in arrs[1:]:
        dt = mx_promote(dt, d)
    return dt


# out_dtype rules: (input dtypes, or the Python value of scalar inputs; kwargs) -> dtype(s)
def same(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return _arrays(ins)[0]


def floating(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    if kw.get("dtype") is not None:
        return onp.dtype(kw["dtype"])
    return to_float(_promote_all(ins))


def boolean(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return BOOL


def arith(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return _promote_all(ins)


def int64(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return I64


def accum(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    """sum/prod/cumsum/cumprod: bool and small ints accumulate in int64 (uint64 if unsigned)."""
    if kw.get("dtype") is not None:
        return onp.dtype(kw["dtype"])
    dt = _arrays(ins)[0]
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return I64
    if dt.kind == "u" and dt.itemsize < 8:
        return U64
    return dt


def fixed(dt: Any) -> Callable[[Sequence[Any], dict[str, Any]], onp.dtype]:
    d = onp.dtype(dt)
    return lambda ins, kw: d


def kw_dtype(default: Any) -> Callable[[Sequence[Any], dict[str, Any]], onp.dtype]:
    return lambda ins, kw: onp.dtype(kw.get("dtype") or default)


# -- inputs ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Arg:
    """An array input: values uniform in [low, high) (integers: [ilow, ihigh], which default to
    the integers inside [low, high]; unsigned types start at 0)."""

    low: float = -5.0
    high: float = 5.0
    ilow: int | None = None
    ihigh: int | None = None
    nonzero: bool = False  # keep |x| >= 0.5 (divisors)
    zeros: float = 0.0  # fraction of exact zeros
    integer: bool = False  # integer-valued floats (ties for comparisons)
    special: bool = False  # put nan, inf, -inf and -0.0 into float inputs
    dtype: Any = None  # a fixed dtype (index arrays, conditions); None: the case's dtype

    def make(self, rng: onp.random.Generator, shape: tuple[int, ...],
             dtype: onp.dtype) -> onp.ndarray:
        dt = onp.dtype(self.dtype) if self.dtype is not None else dtype
        if dt.kind == "b":
            x = onp.asarray(rng.random(shape) < 0.5)
            if self.nonzero:
                x[...] = True
        elif dt.kind in "iu":
            lo = self.ilow if self.ilow is not None else math.ceil(self.low)
            hi = self.ihigh if self.ihigh is not None else math.floor(self.high)
            if dt.kind == "u":
                lo = max(lo, 0)
            x = onp.asarray(rng.integers(lo, hi + 1, size=shape))
            if self.nonzero:
                x[x == 0] = 1 if hi >= 1 else -1
            x = x.astype(dt)
        else:
            x = onp.asarray(rng.uniform(self.low, self.high, size=shape))
            if self.integer:
                x = onp.floor(x)
            if self.nonzero:
                small = onp.abs(x) < 0.5
                x[small] = onp.where(x[small] < 0, -0.5, 0.5) if self.low < 0 else 0.5
            if self.special and x.size >= 4:
                pos = rng.permutation(x.size)[:4]
                x.reshape(-1)[pos] = [onp.nan, onp.inf, -onp.inf, -0.0]
            x = x.astype(dt)
        x = onp.array(x)  # ufuncs give NumPy scalars for 0-d input
        if self.zeros:
            x[onp.asarray(rng.random(shape) < self.zeros)] = 0
        return x


@dataclasses.dataclass(frozen=True)
class Scalar:
    """A Python scalar input, passed as is to both the framework and NumPy."""

    value: Any


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """One operator under test.

    ``fn`` takes framework arrays (default ``getattr(framework.np, name)``), ``ref`` the same
    arguments as NumPy arrays; both get one of ``kwargs``. ``dtypes`` entries are one dtype for
    every array input or a tuple with one per array input; ``shapes`` entries likewise (a shape,
    or a tuple of shapes when the op takes several arrays). ``out_dtype(ins, kwargs)`` is the
    MXNet result dtype (a list for ops returning several arrays). ``grad`` marks rows whose
    gradient the harness will check once autograd lands (unused for now).
    """

    name: str
    ref: Callable[..., Any]
    fn: Callable[..., Any] | None = None
    inputs: tuple[Arg | Scalar, ...] = (Arg(),)
    dtypes: tuple[Any, ...] = FLOATS
    shapes: tuple[Any, ...] = SHAPES
    kwargs: tuple[dict[str, Any], ...] = ({},)
    out_dtype: Callable[[Sequence[Any], dict[str, Any]], Any] = same
    tol: dict[onp.dtype, tuple[float, float]] = dataclasses.field(default_factory=dict)
    id: str = ""
    noncontig: bool = True
    ref_upcast: bool = True  # compute the reference in float64 for int inputs of float results
    grad: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)
        if self.fn is None:
            object.__setattr__(self, "fn", getattr(fnp, self.name))

    @property
    def n_arrays(self) -> int:
        return sum(isinstance(a, Arg) for a in self.inputs)

    def shape_list(self, entry: Any) -> tuple[tuple[int, ...], ...]:
        """The shapes of the array inputs for one ``shapes`` entry."""
        if self.n_arrays == 1:
            return (tuple(entry),)
        return tuple(tuple(s) for s in entry)

    def dtype_list(self, entry: Any) -> tuple[onp.dtype, ...]:
        """The dtype of each array input for one ``dtypes`` entry (fixed dtypes win)."""
        args = [a for a in self.inputs if isinstance(a, Arg)]
        if isinstance(entry, tuple):
            ds = tuple(onp.dtype(d) for d in entry)
        else:
            ds = (onp.dtype(entry),) * len(args)
        return tuple(onp.dtype(a.dtype) if a.dtype is not None else d for a, d in zip(args, ds))


def expected_dtype(spec: OpSpec, dtypes: Sequence[onp.dtype], kw: dict[str, Any]) -> Any:
    """The MXNet result dtype of ``spec`` for these array dtypes (scalars passed by value)."""
    it = iter(dtypes)
    ins = [next(it) if isinstance(a, Arg) else a.value for a in spec.inputs]
    return spec.out_dtype(ins, kw)


def tolerance(spec: OpSpec, dt: onp.dtype) -> tuple[float, float]:
    if dt in spec.tol:
        return spec.tol[dt]
    return TOL.get(dt, (0.0, 0.0))


# -- references for ops NumPy lacks or spells differently -----------------------------------------

def _f64(x: onp.ndarray) -> onp.ndarray:
    return onp.asarray(x, dtype=onp.float64)


def _ref_sigmoid(x: onp.ndarray) -> onp.ndarray:
    return 1 / (1 + onp.exp(-x))


def _ref_softmax(x: onp.ndarray, axis: int = -1, temperature: float | None = None,
                 log: bool = False, dtype: Any = None) -> onp.ndarray:
    if dtype is not None:
        x = x.astype(dtype)
    if x.size == 0:
        return x.copy()
    if temperature is not None:
        x = x / temperature
    s = x - onp.max(x, axis=axis, keepdims=True)
    lse = onp.log(onp.sum(onp.exp(s), axis=axis, keepdims=True))
    return s - lse if log else onp.exp(s - lse)


def _ref_log_softmax(x: onp.ndarray, axis: int = -1,
                     temperature: float | None = None) -> onp.ndarray:
    return _ref_softmax(x, axis, temperature, log=True)


def _order(x: onp.ndarray, axis: int, ascend: bool) -> onp.ndarray:
    """Stable sort order along ``axis`` (ties keep their original order either way)."""
    return onp.argsort(_f64(x) if ascend else -_f64(x), axis=axis, kind="stable")


def _ref_topk(x: onp.ndarray, axis: int | None = -1, k: int = 1, ret_typ: str = "indices",
              is_ascend: bool = False, dtype: Any = "float32") -> Any:
    if axis is None:
        x, axis = x.reshape(-1), 0
    idx = onp.take(_order(x, axis, is_ascend), onp.arange(k), axis=axis)
    vals = onp.take_along_axis(x, idx, axis=axis)
    if ret_typ == "mask":
        mask = onp.zeros(x.shape, dtype=x.dtype)
        onp.put_along_axis(mask, idx, 1, axis=axis)
        return mask
    if ret_typ == "value":
        return vals
    if ret_typ == "indices":
        return idx
    return vals, idx


def _topk_dtype(ins: Sequence[Any], kw: dict[str, Any]) -> Any:
    idx = onp.dtype(kw.get("dtype", "float32"))
    data = _arrays(ins)[0]
    return {"indices": idx, "value": data, "mask": data, "both": [data, idx]}[
        kw.get("ret_typ", "indices")]


def _ref_pick(data: onp.ndarray, index: onp.ndarray, axis: int = -1, mode: str = "clip",
              keepdims: bool = False) -> onp.ndarray:
    n = data.shape[axis]
    idx = index.astype(onp.int64)
    idx = onp.clip(idx, 0, n - 1) if mode == "clip" else onp.mod(idx, n)
    out = onp.take_along_axis(data, onp.expand_dims(idx, axis), axis=axis)
    return out if keepdims else onp.squeeze(out, axis=axis)


def _ref_one_hot(x: onp.ndarray, depth: int, on_value: float = 1.0, off_value: float = 0.0,
                 dtype: Any = "float32") -> onp.ndarray:
    hit = x.astype(onp.int64)[..., None] == onp.arange(depth)
    return onp.where(hit, on_value, off_value)


def _ref_sort(x: onp.ndarray, axis: int | None = -1, descending: bool = False) -> onp.ndarray:
    r = onp.sort(x, axis=axis)
    return onp.flip(r, axis=0 if axis is None else axis) if descending else r


def _ref_argsort(x: onp.ndarray, axis: int | None = -1, descending: bool = False) -> onp.ndarray:
    if x.ndim == 0 and axis is not None:  # as np.sort (np.argsort would flatten)
        raise AxisError(axis, 0)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return _order(x, axis, not descending)


def _scalar_axis(ref: Callable[..., Any]) -> Callable[..., Any]:
    """MXNet's reductions take axis 0 or -1 on a 0-d array (NumPy's mean/std/var do not)."""
    def run(x: onp.ndarray, axis: Any = None, **kw: Any) -> Any:
        if x.ndim == 0 and axis is not None:
            axes = axis if isinstance(axis, tuple) else (axis,)
            if len(axes) == 1 and axes[0] in (0, -1):
                axis = None
        return ref(x, axis=axis, **kw)

    return run


def _ref_take(a: onp.ndarray, idx: onp.ndarray, axis: int | None = None,
              mode: str = "clip") -> onp.ndarray:
    return onp.take(a, idx.astype(onp.int64), axis=axis, mode=mode)


def _ref_nonzero(x: onp.ndarray) -> tuple[onp.ndarray, ...]:
    return onp.nonzero(x)


# -- the table ------------------------------------------------------------------------------------

_ROUND_TOL = {F16: (1e-3, 1e-2), F32: (1e-6, 1e-5)}
_TRIG_TOL = {F16: (2e-2, 2e-2), F32: (2e-5, 1e-5)}
#: sums over many elements in a different order (non-contiguous input) round differently
_RED_TOL = {F16: (2e-2, 1.5e-1), F32: (1e-5, 5e-5)}

UNARY_DOMAIN: dict[str, Arg] = {
    "sqrt": Arg(0.0, 5.0), "log": Arg(0.1, 5.0), "log2": Arg(0.1, 5.0),
    "log10": Arg(0.1, 5.0), "log1p": Arg(-0.9, 5.0), "arcsin": Arg(-0.99, 0.99),
    "arccos": Arg(-0.99, 0.99), "arctanh": Arg(-0.9, 0.9), "arccosh": Arg(1.0, 5.0),
    "tan": Arg(-1.2, 1.2), "reciprocal": Arg(nonzero=True), "exp": Arg(-5.0, 5.0),
}

#: name -> (dtype rule, dtypes, input); the rule matches framework/nd/_elemwise.py's table
UNARY_ROWS: dict[str, tuple[Any, tuple[Any, ...], Arg]] = {}
for _n in ("abs", "absolute", "square", "floor", "ceil", "trunc", "rint", "fix"):
    UNARY_ROWS[_n] = (same, ALL, Arg(special=True))
for _n in ("negative", "positive", "sign"):  # NumPy rejects bool for these; so does MXNet
    UNARY_ROWS[_n] = (same, NUMERIC, Arg(special=True))
UNARY_ROWS["fabs"] = (floating, ALL, Arg(special=True))
for _n in ("sqrt", "cbrt", "exp", "expm1", "exp2", "log", "log2", "log10", "log1p", "sin", "cos",
           "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
           "arctanh", "degrees", "radians", "deg2rad", "rad2deg", "reciprocal"):
    UNARY_ROWS[_n] = (floating, ALL, UNARY_DOMAIN.get(_n, Arg()))
for _n in ("isnan", "isinf", "isfinite", "signbit", "isposinf", "isneginf"):
    UNARY_ROWS[_n] = (boolean, ALL, Arg(special=True))
UNARY_ROWS["logical_not"] = (boolean, ALL, Arg(-2, 2, zeros=0.4, special=True))
UNARY_ROWS["bitwise_not"] = (same, INT_BOOL, Arg(-8, 8))
UNARY_ROWS["invert"] = (same, INT_BOOL, Arg(-8, 8))

_UNARY_REF = {"bitwise_not": onp.invert, "absolute": onp.abs}

#: name -> (dtype rule, same-dtype list, mixed pairs, inputs, scalars to try)
BINARY_ROWS: dict[str, tuple[Any, tuple[Any, ...], tuple[Any, ...], tuple[Arg, Arg],
                             tuple[Any, ...]]] = {}
_plain = (Arg(), Arg())
_divisor = (Arg(), Arg(nonzero=True))
for _n in ("add", "subtract", "multiply"):
    BINARY_ROWS[_n] = (arith, ALL, MIXED, _plain, (2, 2.5))  # bool - bool raises
for _n in ("maximum", "minimum", "fmax", "fmin"):
    BINARY_ROWS[_n] = (arith, ALL, MIXED, (Arg(special=True), Arg(special=True)), (2, 2.5))
for _n in ("floor_divide", "mod", "remainder", "fmod"):
    BINARY_ROWS[_n] = (arith, NUMERIC, MIXED[:4], _divisor, (2, 2.5))
BINARY_ROWS["power"] = (arith, NUMERIC, MIXED[:4], (Arg(0.5, 3.0), Arg(0.0, 3.0)), (2, 0.5))
for _n in ("divide", "true_divide"):
    BINARY_ROWS[_n] = (floating, ALL, MIXED, _divisor, (2, 2.5))
for _n in ("hypot", "arctan2", "logaddexp", "copysign"):
    BINARY_ROWS[_n] = (floating, ALL, MIXED, _plain, (2, 2.5))
_ties = Arg(-2, 2, integer=True)
for _n in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    BINARY_ROWS[_n] = (boolean, ALL, MIXED, (_ties, _ties), (1, 0.5))
_logic = Arg(-2, 2, zeros=0.4)
for _n in ("logical_and", "logical_or", "logical_xor"):
    BINARY_ROWS[_n] = (boolean, ALL, MIXED, (_logic, _logic), (0, 2.5))
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    BINARY_ROWS[_n] = (arith, INT_BOOL, MIXED_INT, (Arg(-8, 8), Arg(-8, 8)), (3, True))
for _n in ("left_shift", "right_shift"):
    BINARY_ROWS[_n] = (arith, INTS, MIXED_INT[::2], (Arg(-8, 8), Arg(0, 3)), (2,))
for _n in ("gcd", "lcm"):
    BINARY_ROWS[_n] = (arith, INTS + (BOOL,), MIXED_INT[::2], (Arg(-12, 12), Arg(-12, 12)),
                       (4,))

_BIN_REF = {"divide": onp.true_divide}

#: Python operators and the framework function each one calls
OPERATORS = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "true_divide": operator.truediv, "floor_divide": operator.floordiv, "mod": operator.mod,
    "power": operator.pow, "bitwise_and": operator.and_, "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor, "left_shift": operator.lshift, "right_shift": operator.rshift,
    "equal": operator.eq, "not_equal": operator.ne, "less": operator.lt,
    "less_equal": operator.le, "greater": operator.gt, "greater_equal": operator.ge,
}


def _unary_rows() -> list[OpSpec]:
    rows = []
    for name, (rule, dtypes, arg) in UNARY_ROWS.items():
        ref = _UNARY_REF.get(name, getattr(onp, name, None))
        tol = _TRIG_TOL if rule is floating else {}
        rows.append(OpSpec(name, ref=ref, inputs=(arg,), dtypes=dtypes, out_dtype=rule,
                           tol=tol, grad=rule is floating))
    # methods of ndarray (and npx functions) that have no np function
    rows += [
        OpSpec("relu", fn=npx.relu, ref=lambda x: onp.maximum(x, 0), dtypes=ALL,
               inputs=(Arg(special=True),), grad=True),
        OpSpec("relu", id="relu.method", fn=lambda x: x.relu(), ref=lambda x: onp.maximum(x, 0),
               dtypes=NUMERIC),
        OpSpec("sigmoid", fn=npx.sigmoid, ref=_ref_sigmoid, dtypes=ALL, out_dtype=floating,
               inputs=(Arg(-8, 8),), tol=_TRIG_TOL, grad=True),
        OpSpec("sigmoid", id="sigmoid.method", fn=lambda x: x.sigmoid(), ref=_ref_sigmoid,
               dtypes=(F32, I32), out_dtype=floating, tol=_TRIG_TOL),
        OpSpec("rsqrt", fn=lambda x: x.rsqrt(), ref=lambda x: 1 / onp.sqrt(x), dtypes=ALL[:6],
               out_dtype=floating, inputs=(Arg(0.1, 5.0),), tol=_TRIG_TOL),
        OpSpec("rcbrt", fn=lambda x: x.rcbrt(), ref=lambda x: 1 / onp.cbrt(x), dtypes=ALL[:6],
               out_dtype=floating, inputs=(Arg(nonzero=True),), tol=_TRIG_TOL),
        OpSpec("softsign", fn=lambda x: x.softsign(), ref=lambda x: x / (1 + onp.abs(x)),
               dtypes=ALL[:6], out_dtype=floating, tol=_TRIG_TOL),
        OpSpec("exp", id="exp.method", fn=lambda x: x.exp(), ref=onp.exp, dtypes=(F32, I8),
               out_dtype=floating, tol=_TRIG_TOL),
        OpSpec("abs", id="abs.operator", fn=abs, ref=abs, dtypes=(F32, I32)),
        OpSpec("negative", id="negative.operator", fn=operator.neg, ref=operator.neg,
               dtypes=(F32, I32)),
        OpSpec("positive", id="positive.operator", fn=operator.pos, ref=operator.pos,
               dtypes=(F32, I32)),
        OpSpec("invert", id="invert.operator", fn=operator.invert, ref=operator.invert,
               dtypes=(I32, BOOL), inputs=(Arg(-8, 8),)),
    ]
    return rows


def _with_scalar(f: Callable[..., Any], s: Any, left: bool) -> Callable[..., Any]:
    if left:
        return lambda x, **kw: f(s, x, **kw)
    return lambda x, **kw: f(x, s, **kw)


def _binary_rows() -> list[OpSpec]:
    rows = []
    for name, (rule, dtypes, mixed, args, scalars) in BINARY_ROWS.items():
        ref = _BIN_REF.get(name, getattr(onp, name))
        tol = _TRIG_TOL if rule is floating else {}
        rows.append(OpSpec(name, ref=ref, inputs=args, dtypes=dtypes + mixed, shapes=BIN_SHAPES,
                           out_dtype=rule, tol=tol, grad=rule is not boolean))
        fw = getattr(fnp, name)
        for s in scalars:
            sdt = tuple(d for d in dtypes if not (isinstance(s, float) and d.kind == "u"))
            sdt = tuple(d for d in sdt if d not in (F64, I64))  # nothing new for the rule
            # array op scalar
            rows.append(OpSpec(name, id=f"{name}[x,{s!r}]", fn=_with_scalar(fw, s, False),
                               ref=_with_scalar(ref, s, False), inputs=(args[0], Scalar(s)),
                               dtypes=sdt, shapes=SCALAR_SHAPES, out_dtype=rule, tol=tol))
            # scalar op array (the array takes the role of the second operand)
            rows.append(OpSpec(name, id=f"{name}[{s!r},x]", fn=_with_scalar(fw, s, True),
                               ref=_with_scalar(ref, s, True), inputs=(Scalar(s), args[1]),
                               dtypes=sdt, shapes=SCALAR_SHAPES, out_dtype=rule, tol=tol))
        if name in OPERATORS:
            op = OPERATORS[name]
            odt = (dtypes[0], dtypes[1]) + mixed[:1]
            rows.append(OpSpec(name, id=f"{name}.operator", fn=op, ref=op, inputs=args,
                               dtypes=odt, shapes=BIN_SHAPES[:1] + BIN_SHAPES[5:7],
                               out_dtype=rule, tol=tol))
            s = scalars[0]
            rows.append(OpSpec(name, id=f"{name}.operator[x,{s!r}]",
                               fn=_with_scalar(op, s, False), ref=_with_scalar(op, s, False),
                               inputs=(args[0], Scalar(s)), dtypes=odt[:2], shapes=SHAPES[:3],
                               out_dtype=rule, tol=tol))
            rows.append(OpSpec(name, id=f"{name}.operator[{s!r},x]",
                               fn=_with_scalar(op, s, True), ref=_with_scalar(op, s, True),
                               inputs=(Scalar(s), args[1]), dtypes=odt[:2], shapes=SHAPES[:3],
                               out_dtype=rule, tol=tol))
    rows.append(OpSpec("power", id="pow", fn=fnp.pow, ref=onp.power,
                       inputs=BINARY_ROWS["power"][3], dtypes=(F32, I32), shapes=BIN_SHAPES[:6],
                       out_dtype=arith))
    return rows


RED_SHAPES = ((2, 3, 4), (), (0,), (2, 0), (5,), (3, 4))
RED_KW = ({}, {"axis": 0}, {"axis": -1}, {"axis": (0, 1)}, {"axis": 1, "keepdims": True},
          {"keepdims": True}, {"axis": (-1, 0)})
ARG_KW = ({}, {"axis": 0}, {"axis": -1}, {"axis": 1, "keepdims": True}, {"keepdims": True})
CUM_KW = ({}, {"axis": 0}, {"axis": -1})
STAT_KW = ({}, {"axis": 0}, {"axis": -1, "ddof": 1}, {"ddof": 1},
           {"axis": (0, 1), "keepdims": True})


def _reduction_rows() -> list[OpSpec]:
    prod_arg = Arg(0.7, 1.4, ilow=-2, ihigh=2)
    return [
        OpSpec("sum", ref=_scalar_axis(onp.sum), dtypes=ALL, shapes=RED_SHAPES,
               kwargs=RED_KW + ({"dtype": F64},), out_dtype=accum, tol=_RED_TOL, grad=True),
        OpSpec("prod", ref=_scalar_axis(onp.prod), dtypes=ALL, shapes=RED_SHAPES,
               inputs=(prod_arg,),
               kwargs=RED_KW, out_dtype=accum, tol=_RED_TOL, grad=True),
        OpSpec("mean", ref=_scalar_axis(onp.mean), dtypes=ALL, shapes=RED_SHAPES,
               kwargs=RED_KW + ({"dtype": F64},), out_dtype=floating, tol=_RED_TOL, grad=True),
        OpSpec("std", ref=_scalar_axis(onp.std), dtypes=ALL, shapes=RED_SHAPES, kwargs=STAT_KW,
               out_dtype=floating, tol=_RED_TOL, grad=True),
        OpSpec("var", ref=_scalar_axis(onp.var), dtypes=ALL, shapes=RED_SHAPES, kwargs=STAT_KW,
               out_dtype=floating, tol=_RED_TOL, grad=True),
        OpSpec("max", ref=_scalar_axis(onp.max), dtypes=ALL, shapes=RED_SHAPES, kwargs=RED_KW,
               inputs=(Arg(special=True),), grad=True),
        OpSpec("min", ref=_scalar_axis(onp.min), dtypes=ALL, shapes=RED_SHAPES, kwargs=RED_KW,
               grad=True),
        OpSpec("amax", ref=_scalar_axis(onp.amax), dtypes=(F32, I32), shapes=RED_SHAPES,
               kwargs=RED_KW[:3]),
        OpSpec("amin", ref=_scalar_axis(onp.amin), dtypes=(F32, I32), shapes=RED_SHAPES,
               kwargs=RED_KW[:3]),
        OpSpec("all", ref=_scalar_axis(onp.all), dtypes=ALL, shapes=RED_SHAPES, kwargs=RED_KW,
               inputs=(Arg(-2, 2, zeros=0.1),), out_dtype=boolean),
        OpSpec("any", ref=_scalar_axis(onp.any), dtypes=ALL, shapes=RED_SHAPES, kwargs=RED_KW,
               inputs=(Arg(-2, 2, zeros=0.8),), out_dtype=boolean),
        OpSpec("argmax", ref=_scalar_axis(onp.argmax), dtypes=ALL, shapes=RED_SHAPES, kwargs=ARG_KW,
               out_dtype=int64),
        OpSpec("argmin", ref=_scalar_axis(onp.argmin), dtypes=ALL, shapes=RED_SHAPES, kwargs=ARG_KW,
               out_dtype=int64),
        OpSpec("cumsum", ref=onp.cumsum, dtypes=ALL, shapes=RED_SHAPES, kwargs=CUM_KW,
               out_dtype=accum, tol=_RED_TOL, grad=True),
        OpSpec("cumprod", ref=onp.cumprod, dtypes=ALL, shapes=RED_SHAPES, inputs=(prod_arg,),
               kwargs=CUM_KW, out_dtype=accum, tol=_RED_TOL, grad=True),
        # float16 statistics of many elements accumulate in float32 (the float16 sum overflows)
        *[OpSpec(n, id=f"{n}[float16-accumulate]", dtypes=(F16,), shapes=((300, 300),),
                 inputs=(Arg(0.0, 2.0),), kwargs=({}, {"axis": 0}), out_dtype=floating,
                 ref=lambda x, _n=n, **kw: getattr(onp, _n)(_f64(x), **kw), tol=_RED_TOL)
          for n in ("mean", "std", "var")],
        # method forms
        OpSpec("sum", id="sum.method", fn=lambda x, **kw: x.sum(**kw), ref=_scalar_axis(onp.sum),
               dtypes=(F32, I8, BOOL), shapes=RED_SHAPES[:3], kwargs=RED_KW[:3],
               out_dtype=accum, tol=_RED_TOL),
        OpSpec("mean", id="mean.method", fn=lambda x, **kw: x.mean(**kw),
               ref=_scalar_axis(onp.mean),
               dtypes=(F32, I32), shapes=RED_SHAPES[:3], kwargs=RED_KW[:3], out_dtype=floating,
               tol=_RED_TOL),
        OpSpec("max", id="max.method", fn=lambda x, **kw: x.max(**kw), ref=_scalar_axis(onp.max),
               dtypes=(F32, I32), shapes=RED_SHAPES[:3], kwargs=RED_KW[:3]),
        OpSpec("argmax", id="argmax.method", fn=lambda x, **kw: x.argmax(**kw),
               ref=_scalar_axis(onp.argmax),
               dtypes=(F32, I32), shapes=RED_SHAPES[:2], kwargs=ARG_KW[:3], out_dtype=int64),
        OpSpec("norm", id="norm.method", fn=lambda x, **kw: x.norm(**kw),
               ref=lambda x, **kw: onp.linalg.norm(x, **kw), dtypes=(F32, I32, F64),
               shapes=((3, 4), (5,), (0,), (2, 3, 4)),
               kwargs=({}, {"axis": 0}, {"axis": -1, "keepdims": True}), out_dtype=floating,
               tol=_RED_TOL),
    ]


def _f(name: str, *args: Any, **kw: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(framework, NumPy) callables of ``name`` with fixed extra arguments."""
    fw, ref = getattr(fnp, name), getattr(onp, name)
    return (lambda *xs, **k: fw(*xs, *args, **kw, **k)), (lambda *xs, **k: ref(*xs, *args, **kw,
                                                                                **k))


def _row(name: str, id: str, *args: Any, shapes: Any, dtypes: Any = (F32, I32, BOOL, F16),
         **kw: Any) -> OpSpec:
    fw, ref = _f(name, *args)
    return OpSpec(name, id=id, fn=fw, ref=ref, shapes=shapes, dtypes=dtypes, **kw)


def _shape_rows() -> list[OpSpec]:
    S3 = ((2, 3, 4),)
    rows = [
        _row("reshape", "reshape[-1]", (-1,), shapes=SHAPES),
        _row("reshape", "reshape[4,-1]", (4, -1), shapes=((2, 3, 4), (3, 4), (4, 0), (8,))),
        _row("reshape", "reshape[-1,2,1]", (-1, 2, 1), shapes=((3, 4), (2, 3, 4), (0,), (2,))),
        _row("reshape", "reshape[()]", (), shapes=((), (1,), (1, 1))),
        _row("reshape", "reshape[0,3]", (0, 3), shapes=((0,), (2, 0), (0, 5))),
        OpSpec("reshape", id="reshape.method", fn=lambda x: x.reshape(2, -1),
               ref=lambda x: x.reshape(2, -1), shapes=((3, 4), (2, 3, 4), (2,), (2, 0))),
        OpSpec("reshape", id="reshape.method_tuple", fn=lambda x: x.reshape((-1, 3)),
               ref=lambda x: x.reshape((-1, 3)), shapes=((3, 4), (2, 3, 4), (0,))),
        OpSpec("ravel", ref=onp.ravel, dtypes=(F32, I32, BOOL, F16)),
        OpSpec("flatten", fn=lambda x: x.flatten(), ref=lambda x: x.flatten(),
               dtypes=(F32, I8)),
        OpSpec("transpose", ref=onp.transpose, dtypes=(F32, I32, BOOL, F16)),
        _row("transpose", "transpose[1,0,2]", (1, 0, 2), shapes=((2, 3, 4), (2, 0, 3))),
        _row("transpose", "transpose[-1,0]", (-1, 0), shapes=((3, 4), (2, 0))),
        OpSpec("transpose", id="transpose.method", fn=lambda x: x.transpose(2, 0, 1),
               ref=lambda x: x.transpose(2, 0, 1), shapes=S3),
        OpSpec("transpose", id="T", fn=lambda x: x.T, ref=lambda x: x.T),
        _row("swapaxes", "swapaxes[0,-1]", 0, -1, shapes=((3, 4), (2, 3, 4), (5,), (2, 0))),
        _row("swapaxes", "swapaxes[1,2]", 1, 2, shapes=S3),
        _row("expand_dims", "expand_dims[0]", 0, shapes=SHAPES),
        _row("expand_dims", "expand_dims[-1]", -1, shapes=SHAPES),
        _row("expand_dims", "expand_dims[(0,2)]", (0, 2), shapes=((3, 4), (5,), (2, 0))),
        OpSpec("squeeze", ref=onp.squeeze, shapes=((1, 3, 1), (3, 1, 4), (1,), (), (2, 3, 4),
                                                 (1, 0))),
        _row("squeeze", "squeeze[0]", 0, shapes=((1, 3, 1), (1,), (1, 0))),
        _row("squeeze", "squeeze[-1]", -1, shapes=((1, 3, 1), (4, 1))),
        _row("squeeze", "squeeze[(0,2)]", (0, 2), shapes=((1, 3, 1),)),
        _row("broadcast_to", "broadcast_to[2,3,4]", (2, 3, 4),
             shapes=((3, 1), (4,), (), (1, 1, 4), (2, 3, 4))),
        _row("broadcast_to", "broadcast_to[3,0]", (3, 0), shapes=((0,), (1, 0), (3, 1))),
        OpSpec("broadcast_to", id="broadcast_like.method",
               fn=lambda x: x.broadcast_like(fnp.zeros((2, 3, 4))),
               ref=lambda x: onp.broadcast_to(x, (2, 3, 4)), shapes=((3, 1), (4,), ())),
        _row("tile", "tile[2]", 2, shapes=SHAPES),
        _row("tile", "tile[(2,1)]", (2, 1), shapes=((3, 4), (5,), ())),
        _row("tile", "tile[(1,2,2)]", (1, 2, 2), shapes=((3, 4), (2, 3, 4))),
        OpSpec("repeat", fn=lambda x, **kw: fnp.repeat(x, 2, **kw),
               ref=lambda x, **kw: onp.repeat(x, 2, **kw), dtypes=(F32, I32, BOOL),
               kwargs=({}, {"axis": 0}, {"axis": -1})),
        OpSpec("repeat", id="repeat[0]", fn=lambda x: fnp.repeat(x, 0, axis=0),
               ref=lambda x: onp.repeat(x, 0, axis=0), shapes=((3, 4), (5,))),
        OpSpec("flip", ref=onp.flip, dtypes=(F32, I32, BOOL),
               kwargs=({}, {"axis": 0}, {"axis": -1}, {"axis": (0, 1)})),
        _row("diag", "diag[1d]", shapes=((4,), (1,), (0,)), kwargs=({}, {"k": 1}, {"k": -2})),
        _row("diag", "diag[2d]", shapes=((3, 4), (4, 3), (0, 3)),
             kwargs=({}, {"k": 1}, {"k": -2}, {"k": 5})),
        OpSpec("diagonal", fn=lambda x, **kw: x.diagonal(**kw),
               ref=lambda x, **kw: onp.diagonal(x, **kw), shapes=((3, 4), (2, 3, 4)),
               kwargs=({}, {"offset": 1}, {"offset": -1, "axis1": 1, "axis2": 0})),
        OpSpec("clip", ref=onp.clip, fn=fnp.clip, inputs=(Arg(-2, 2),),
               dtypes=(F32, I32, F16, I8, F64, I64, U8),
               kwargs=({"a_min": -1, "a_max": 1}, {"a_min": None, "a_max": 0.5},
                       {"a_min": 0, "a_max": None})),
        OpSpec("clip", id="clip.method", fn=lambda x: x.clip(-1.5, 0.5),
               ref=lambda x: onp.clip(x, -1.5, 0.5).astype(x.dtype), dtypes=(F32, I32)),
        OpSpec("clip", id="clip[arrays]", fn=fnp.clip, ref=onp.clip,
               inputs=(Arg(), Arg(-2, 0), Arg(0, 2)), dtypes=(F32, I32),
               shapes=(((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), ()), ((5,), (1,), (5,))),
               out_dtype=arith),
        OpSpec("copy", ref=onp.copy, dtypes=(F32, I32, BOOL)),
    ]
    rows += [
        OpSpec("concatenate", fn=lambda *xs, **kw: fnp.concatenate(list(xs), **kw),
               ref=lambda *xs, **kw: onp.concatenate(list(xs), **kw), inputs=(Arg(), Arg()),
               dtypes=(F32, I32, BOOL) + MIXED[:3],
               shapes=(((3, 4), (2, 4)), ((0,), (3,)), ((2, 3, 4), (2, 3, 4)), ((2, 0), (1, 0))),
               out_dtype=arith),
        OpSpec("concatenate", id="concatenate[axis]",
               fn=lambda *xs, **kw: fnp.concatenate(list(xs), **kw),
               ref=lambda *xs, **kw: onp.concatenate(list(xs), **kw), inputs=(Arg(),) * 3,
               dtypes=(F32, (I32, F16, I8)),
               shapes=(((3, 4), (3, 2), (3, 1)), ((2, 3, 4), (2, 3, 1), (2, 3, 0))),
               kwargs=({"axis": -1}, {"axis": None}), out_dtype=arith),
        OpSpec("concatenate", id="concat", fn=lambda *xs: fnp.concat(list(xs)),
               ref=lambda *xs: onp.concatenate(list(xs)), inputs=(Arg(), Arg()),
               shapes=(((3, 4), (2, 4)),), dtypes=(F32,), out_dtype=arith),
        OpSpec("stack", fn=lambda *xs, **kw: fnp.stack(list(xs), **kw),
               ref=lambda *xs, **kw: onp.stack(list(xs), **kw), inputs=(Arg(), Arg(), Arg()),
               dtypes=(F32, I32, BOOL),
               shapes=(((3, 4),) * 3, ((),) * 3, ((0,),) * 3, ((2, 3, 4),) * 3),
               kwargs=({}, {"axis": -1}, {"axis": 1})),
        OpSpec("split", fn=lambda x, *a, **kw: fnp.split(x, 2, **kw),
               ref=lambda x, **kw: onp.split(x, 2, **kw), shapes=((4, 6), (2, 3, 4), (6,),
                                                                 (0, 2)),
               kwargs=({}, {"axis": -1}), dtypes=(F32, I32, BOOL),
               out_dtype=same),
        OpSpec("split", id="split[indices]", fn=lambda x, **kw: fnp.split(x, [1, 3], **kw),
               ref=lambda x, **kw: onp.split(x, [1, 3], **kw), shapes=((4, 6), (2, 5, 4), (6,)),
               kwargs=({}, {"axis": 1}), out_dtype=same),
        OpSpec("split", id="split.method", fn=lambda x: x.split(3, axis=1),
               ref=lambda x: onp.split(x, 3, axis=1), shapes=((4, 6), (2, 3, 4)),
               out_dtype=same),
        OpSpec("where", ref=onp.where, inputs=(Arg(dtype=BOOL), Arg(), Arg()),
               dtypes=(F32, I32, (BOOL, F32, I32), (BOOL, I8, U8), (BOOL, F16, F64)),
               shapes=(((3, 4),) * 3, ((3, 4), (4,), (3, 1)), ((), (5,), ()), ((0,),) * 3,
                       ((2, 1, 4), (3, 1), (2, 3, 4))), out_dtype=lambda ins, kw: mx_promote(
                           ins[1], ins[2])),
        OpSpec("where", id="where[x,scalar]", fn=lambda c, x: fnp.where(c, x, 2.5),
               ref=lambda c, x: onp.where(c, x, onp.asarray(2.5, x.dtype)),
               inputs=(Arg(dtype=BOOL), Arg()), dtypes=(F32, I32, F16),
               shapes=(((3, 4), (3, 4)), ((3, 1), (4,))), out_dtype=lambda ins, kw: ins[1]),
        OpSpec("where", id="where[scalar,x]", fn=lambda c, y: fnp.where(c, 1, y),
               ref=lambda c, y: onp.where(c, onp.asarray(1, y.dtype), y),
               inputs=(Arg(dtype=BOOL), Arg()), dtypes=(F32, I32, F16),
               shapes=(((3, 4), (3, 4)), ((3, 1), (4,))), out_dtype=lambda ins, kw: ins[1]),
        OpSpec("where", id="where[cond]", fn=fnp.where, ref=onp.nonzero,
               inputs=(Arg(-2, 2, zeros=0.5),), dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (5,), (0,), (2, 3, 4)), out_dtype=int64),
    ]
    return rows


def _misc_rows() -> list[OpSpec]:
    mm_shapes = (((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
                 ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((0, 3), (3, 2)),
                 ((3, 0), (0, 2)), ((2, 3, 4), (2, 4, 1)))
    dot_shapes = (((3, 4), (4, 5)), ((4,), (4,)), ((), (3,)), ((3, 4), ()), ((3, 4), (4,)),
                  ((4,), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (5, 4, 2)), ((0, 3), (3, 2)),
                  ((3, 0), (0, 2)))
    idx = Arg(ilow=-2, ihigh=6, dtype=I64)
    fidx = Arg(ilow=-2, ihigh=6, dtype=F32, integer=True, low=-2, high=6)
    return [
        OpSpec("dot", ref=onp.dot, inputs=(Arg(), Arg()), dtypes=(F32, I32, F64, F16) + MIXED[:3],
               shapes=dot_shapes, out_dtype=arith, tol=_RED_TOL, grad=True),
        OpSpec("dot", id="dot.method", fn=lambda a, b: a.dot(b), ref=onp.dot,
               inputs=(Arg(), Arg()), dtypes=(F32,), shapes=dot_shapes[:2], out_dtype=arith,
               tol=_RED_TOL),
        OpSpec("matmul", ref=onp.matmul, inputs=(Arg(), Arg()),
               dtypes=(F32, I32, F64, F16) + MIXED[:3], shapes=mm_shapes, out_dtype=arith,
               tol=_RED_TOL, grad=True),
        OpSpec("matmul", id="matmul.operator", fn=operator.matmul, ref=operator.matmul,
               inputs=(Arg(), Arg()), dtypes=(F32, I32), shapes=mm_shapes[:6], out_dtype=arith,
               tol=_RED_TOL),
        OpSpec("sort", ref=_ref_sort, fn=fnp.sort, dtypes=ALL, shapes=RED_SHAPES,
               inputs=(Arg(integer=True),),
               kwargs=({}, {"axis": 0}, {"axis": None}, {"axis": -1, "descending": True})),
        OpSpec("argsort", ref=_ref_argsort, fn=fnp.argsort, dtypes=ALL, shapes=RED_SHAPES,
               inputs=(Arg(integer=True),), out_dtype=int64,
               kwargs=({}, {"axis": 0}, {"axis": None}, {"axis": -1, "descending": True})),
        OpSpec("sort", id="sort.method", fn=lambda x: x.sort(), ref=lambda x: onp.sort(x),
               dtypes=(F32, I32)),
        OpSpec("argsort", id="argsort.method", fn=lambda x: x.argsort(),
               ref=_ref_argsort, dtypes=(F32, I32),
               inputs=(Arg(integer=True),), out_dtype=int64),
        OpSpec("take", ref=_ref_take, fn=fnp.take, inputs=(Arg(), idx), dtypes=ALL,
               shapes=(((3, 4), (5,)), ((2, 3, 4), (2, 3)), ((5,), ()), ((3, 4), (0,)),
                       ((4,), (2, 2))),
               kwargs=({}, {"axis": 0}, {"axis": -1}, {"axis": 1, "mode": "wrap"},
                       {"mode": "clip"}), ref_upcast=False),
        OpSpec("take", id="take[float_idx]", ref=_ref_take, fn=fnp.take, inputs=(Arg(), fidx),
               dtypes=(F32, I32), shapes=(((3, 4), (5,)), ((6,), (2, 3))),
               kwargs=({}, {"axis": 0}), ref_upcast=False),
        OpSpec("take", id="take.method", fn=lambda a, i: a.take(i, axis=0),
               ref=lambda a, i: onp.take(a, i, axis=0, mode="clip"), inputs=(Arg(), idx),
               dtypes=(F32,), shapes=(((3, 4), (5,)),), ref_upcast=False),
        OpSpec("nonzero", ref=_ref_nonzero, inputs=(Arg(-2, 2, zeros=0.5),), dtypes=ALL,
               shapes=((3, 4), (5,), (0,), (2, 0), (2, 3, 4)),
               out_dtype=int64),
        OpSpec("nonzero", id="nonzero.method", fn=lambda x: x.nonzero(), ref=_ref_nonzero,
               inputs=(Arg(-2, 2, zeros=0.5),), dtypes=(F32,), shapes=((3, 4),),
               out_dtype=int64),
        OpSpec("round", ref=onp.round, dtypes=(F32, F16, F64, I32, I8),
               inputs=(Arg(-20, 20, special=True),),
               kwargs=({}, {"decimals": 1}, {"decimals": 2}, {"decimals": -1}), tol=_ROUND_TOL),
        OpSpec("around", ref=onp.around, dtypes=(F32, I32), kwargs=({}, {"decimals": 1}),
               tol=_ROUND_TOL),
        OpSpec("round_", fn=fnp.round_, ref=onp.round, dtypes=(F32,),
               kwargs=({}, {"decimals": 1}), tol=_ROUND_TOL),
        OpSpec("round", id="round.method", fn=lambda x, **kw: x.round(**kw), ref=onp.round,
               dtypes=(F32,), kwargs=({}, {"decimals": 2}), tol=_ROUND_TOL),
        # npx
        OpSpec("topk", fn=npx.topk, ref=_ref_topk, dtypes=NUMERIC, shapes=((3, 5), (6,),
                                                                          (2, 3, 4)),
               inputs=(Arg(integer=True),), out_dtype=_topk_dtype,
               kwargs=({"k": 2}, {"k": 2, "ret_typ": "value"}, {"k": 2, "ret_typ": "both"},
                       {"k": 2, "ret_typ": "mask"}, {"k": 1, "axis": 0, "ret_typ": "both"},
                       {"k": 3, "is_ascend": True, "ret_typ": "both"},
                       {"k": 2, "dtype": "int32"}, {"k": 2, "axis": None, "ret_typ": "both"})),
        OpSpec("topk", id="topk.method", fn=lambda x, **kw: x.topk(**kw), ref=_ref_topk,
               dtypes=(F32,), shapes=((3, 5),), out_dtype=_topk_dtype,
               kwargs=({"k": 2}, {"k": 2, "ret_typ": "both"})),
        OpSpec("pick", fn=npx.pick, ref=_ref_pick, inputs=(Arg(), Arg(-1, 5, integer=True)),
               dtypes=((F32, F32), (F32, I64), (I32, I32), (F16, F32), (F64, I8)),
               shapes=(((3, 4), (3,)), ((2, 3, 4), (2, 3)), ((5,), ())),
               kwargs=({}, {"keepdims": True}, {"mode": "wrap"}), ref_upcast=False, grad=True),
        OpSpec("pick", id="pick[axis0]", fn=npx.pick, ref=_ref_pick,
               inputs=(Arg(), Arg(-1, 5, integer=True)), dtypes=((F32, F32),),
               shapes=(((3, 4), (4,)),), kwargs=({"axis": 0}, {"axis": 0, "keepdims": True}),
               ref_upcast=False),
        OpSpec("pick", id="pick.method", fn=lambda d, i: d.pick(i), ref=_ref_pick,
               inputs=(Arg(), Arg(0, 3, integer=True)), dtypes=((F32, F32),),
               shapes=(((3, 4), (3,)),), ref_upcast=False),
        OpSpec("one_hot", fn=npx.one_hot, ref=_ref_one_hot, inputs=(Arg(-1, 6, integer=True),),
               dtypes=(F32, I32, I64, U8), shapes=((4,), (2, 3), (), (0,)),
               kwargs=({"depth": 5}, {"depth": 3, "on_value": 2.5, "off_value": -1.0},
                       {"depth": 4, "dtype": "int32"}, {"depth": 0}),
               out_dtype=kw_dtype("float32"), ref_upcast=False),
        OpSpec("one_hot", id="one_hot.method", fn=lambda x: x.one_hot(4),
               ref=lambda x: _ref_one_hot(x, 4), inputs=(Arg(0, 3, integer=True),), dtypes=(F32,),
               shapes=((4,), (2, 3)), out_dtype=fixed(F32), ref_upcast=False),
        OpSpec("softmax", fn=npx.softmax, ref=_ref_softmax, dtypes=(F32, F16, F64, I32),
               shapes=((3, 4), (5,), (2, 3, 4), (2, 0)),
               kwargs=({}, {"axis": 0}, {"temperature": 2.0}, {"axis": 1, "dtype": "float64"}),
               out_dtype=floating, tol=_TRIG_TOL, grad=True),
        OpSpec("log_softmax", fn=npx.log_softmax, ref=_ref_log_softmax,
               dtypes=(F32, F16, F64, I32), shapes=((3, 4), (5,), (2, 3, 4), (2, 0)),
               kwargs=({}, {"axis": 0}, {"temperature": 0.5}), out_dtype=floating,
               tol=_TRIG_TOL, grad=True),
        OpSpec("softmax", id="softmax.method", fn=lambda x, **kw: x.softmax(**kw),
               ref=_ref_softmax, dtypes=(F32,), shapes=((3, 4),), kwargs=({}, {"axis": 0}),
               out_dtype=floating, tol=_TRIG_TOL),
        OpSpec("log_softmax", id="log_softmax.method", fn=lambda x: x.log_softmax(),
               ref=_ref_log_softmax, dtypes=(F32,), shapes=((3, 4),), out_dtype=floating,
               tol=_TRIG_TOL),
    ]


#: Array-API (NumPy 2) spellings -> the row they alias
ALIASES = {
    "acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh", "atan": "arctan",
    "atanh": "arctanh", "atan2": "arctan2", "bitwise_invert": "invert",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
}


def _alias_rows(rows: list[OpSpec]) -> list[OpSpec]:
    by_id = {r.id: r for r in rows}
    out = []
    for alias, name in ALIASES.items():
        base = by_id[name]
        out.append(dataclasses.replace(base, name=alias, id=alias, fn=getattr(fnp, alias),
                                       ref=getattr(onp, alias), dtypes=base.dtypes[:2],
                                       shapes=base.shapes[:3]))
    out += [
        OpSpec("permute_dims", fn=lambda x: fnp.permute_dims(x, (2, 0, 1)),
               ref=lambda x: onp.permute_dims(x, (2, 0, 1)), shapes=((2, 3, 4), (2, 0, 3))),
        OpSpec("matrix_transpose", ref=onp.matrix_transpose, shapes=((3, 4), (2, 3, 4), (2, 0))),
    ]
    return out


_ROWS = _unary_rows() + _binary_rows() + _reduction_rows() + _shape_rows() + _misc_rows()
TABLE: list[OpSpec] = _ROWS + _alias_rows(_ROWS)

_ids = [s.id for s in TABLE]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})
