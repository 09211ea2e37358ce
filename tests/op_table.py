"""The op table (DESIGN.md §9, STYLE.md example 12): one :class:`OpSpec` row per operator.

A row names the framework callable, the NumPy reference, how to generate its inputs (value
ranges per input), the dtypes and shapes to try, keyword-argument variants, the result dtype
under MXNet's rules and per-dtype tolerances. ``tests/test_ops.py`` turns every row into test
cases (dtypes x shapes x variants x engines x contiguous/non-contiguous inputs) and checks that
every public callable of ``np``, ``np.linalg`` and ``npx`` has a row; ``tests/test_grad.py``
checks the gradients of the differentiable ones (see the end of this module).

Result dtypes follow MXNet, not NumPy, where they differ (API.md §2 items 1-2): float-valued math
on integers and bools gives float32; float + int arrays give the float type; a Python scalar never
changes an array's dtype (except a bool array's); mean/std/var of integers give float32;
argmax/argmin give int64; ``npx.topk`` indices are float32. The NumPy reference is computed in
float64 where MXNet gives a float for integer input, then cast to the expected dtype.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as onp
from numpy.exceptions import AxisError

from framework import autograd, npx
from framework import np as fnp

__all__ = [
    "Arg", "Scalar", "OpSpec", "TABLE", "FLOATS", "INTS", "ALL", "NUMERIC", "SHAPES",
    "BIN_SHAPES", "mx_promote", "mx_scalar", "to_float", "expected_dtype", "tolerance", "resolve",
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
    nans: float = 0.0  # fraction of NaNs in float inputs (the nan* reductions)
    #: a transform of the values before the cast (int64 or float64 array -> array of the same
    #: kind): structured inputs such as sorted vectors or well-conditioned matrices
    post: Callable[[onp.ndarray], onp.ndarray] | None = None

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
            if self.post is not None:
                x = onp.asarray(self.post(x))
            x = x.astype(dt)
        else:
            x = onp.asarray(rng.uniform(self.low, self.high, size=shape))
            if self.integer:
                x = onp.floor(x)
            if self.nonzero:
                small = onp.abs(x) < 0.5
                x[small] = onp.where(x[small] < 0, -0.5, 0.5) if self.low < 0 else 0.5
            if self.post is not None:
                x = onp.array(self.post(x), dtype=onp.float64)
            if self.nans:
                x[onp.asarray(rng.random(shape) < self.nans)] = onp.nan
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
    MXNet result dtype (a list for ops returning several arrays).

    Gradients (``tests/test_grad.py``; set by :func:`_mark_grads` from the tables at the end of
    this module rather than row by row): ``grad=True`` rows are checked against finite
    differences, in float64, and under both engines; ``grad="reason"`` says why an op is not
    differentiable (an integer or boolean result, a Python result...); ``grad=False`` marks a
    variant row (a method, an operator, another spelling) whose op is checked through its main
    row. ``grad2`` is True, or the reason the double-backward check does not apply.
    ``grad_args`` are the positions (among the array inputs) of the differentiable inputs
    (default: every input whose dtype follows the case); ``grad_dir`` maps a random direction
    to an admissible one (symmetric matrices for ``eigh``); ``grad_kwargs`` restricts the
    kwargs variants (by position) that are differentiated.

    ``name`` is the public name the row covers: ``"sum"`` for ``np.sum``, ``"linalg.inv"`` for
    ``np.linalg.inv``, ``"npx.relu"`` for ``npx.relu``. Results other than arrays:

    - ``result="python"``: the op returns a Python value (``allclose``, ``shape``...), compared
      with ``==`` and of the same kind (a bool for a bool).
    - ``canon(outputs, inputs, kwargs) -> arrays``: results that are not unique (decompositions,
      partitions, unordered sets) are compared through a canonical form computed from NumPy
      arrays, e.g. the reconstruction ``U @ diag(S) @ Vh`` and ``S`` of an SVD; the shapes and
      dtypes of the raw outputs are still checked against the reference. ``inputs`` are the
      NumPy inputs of the case (scalars as given).
    - ``sync=True``: the call itself waits for values it computes (a Python result, a
      data-dependent shape of an intermediate result), so it is not made with the engine queue
      held.
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
    grad: bool | str = False
    grad2: bool | str = True
    grad_args: tuple[int, ...] | None = None
    grad_dir: Callable[[onp.ndarray], onp.ndarray] | None = None
    grad_kwargs: tuple[int, ...] | None = None  # the kwargs variants to differentiate
    result: str = "array"  # "array": ndarray(s); "python": a Python value
    canon: Callable[[list[onp.ndarray], list[Any], dict[str, Any]], list[Any]] | None = None
    sync: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)
        if self.fn is None:
            object.__setattr__(self, "fn", resolve(self.name))

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


def resolve(name: str) -> Any:
    """The public callable a row name stands for (``"linalg.inv"``, ``"npx.relu"``, ``"sum"``)."""
    if name.startswith("npx."):
        return getattr(npx, name[4:])
    if name.startswith("linalg."):
        return getattr(fnp.linalg, name[7:])
    return getattr(fnp, name)


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
        OpSpec("npx.relu", fn=npx.relu, ref=lambda x: onp.maximum(x, 0), dtypes=ALL,
               inputs=(Arg(special=True),), grad=True),
        OpSpec("relu", id="relu.method", fn=lambda x: x.relu(), ref=lambda x: onp.maximum(x, 0),
               dtypes=NUMERIC),
        OpSpec("npx.sigmoid", fn=npx.sigmoid, ref=_ref_sigmoid, dtypes=ALL, out_dtype=floating,
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
        OpSpec("npx.topk", fn=npx.topk, ref=_ref_topk, dtypes=NUMERIC, shapes=((3, 5), (6,),
                                                                          (2, 3, 4)),
               inputs=(Arg(integer=True),), out_dtype=_topk_dtype,
               kwargs=({"k": 2}, {"k": 2, "ret_typ": "value"}, {"k": 2, "ret_typ": "both"},
                       {"k": 2, "ret_typ": "mask"}, {"k": 1, "axis": 0, "ret_typ": "both"},
                       {"k": 3, "is_ascend": True, "ret_typ": "both"},
                       {"k": 2, "dtype": "int32"}, {"k": 2, "axis": None, "ret_typ": "both"})),
        OpSpec("topk", id="topk.method", fn=lambda x, **kw: x.topk(**kw), ref=_ref_topk,
               dtypes=(F32,), shapes=((3, 5),), out_dtype=_topk_dtype,
               kwargs=({"k": 2}, {"k": 2, "ret_typ": "both"})),
        OpSpec("npx.pick", fn=npx.pick, ref=_ref_pick, inputs=(Arg(), Arg(-1, 5, integer=True)),
               dtypes=((F32, F32), (F32, I64), (I32, I32), (F16, F32), (F64, I8)),
               shapes=(((3, 4), (3,)), ((2, 3, 4), (2, 3)), ((5,), ())),
               kwargs=({}, {"keepdims": True}, {"mode": "wrap"}), ref_upcast=False, grad=True),
        OpSpec("npx.pick", id="pick[axis0]", fn=npx.pick, ref=_ref_pick,
               inputs=(Arg(), Arg(-1, 5, integer=True)), dtypes=((F32, F32),),
               shapes=(((3, 4), (4,)),), kwargs=({"axis": 0}, {"axis": 0, "keepdims": True}),
               ref_upcast=False),
        OpSpec("pick", id="pick.method", fn=lambda d, i: d.pick(i), ref=_ref_pick,
               inputs=(Arg(), Arg(0, 3, integer=True)), dtypes=((F32, F32),),
               shapes=(((3, 4), (3,)),), ref_upcast=False),
        OpSpec("npx.one_hot", fn=npx.one_hot, ref=_ref_one_hot, inputs=(Arg(-1, 6, integer=True),),
               dtypes=(F32, I32, I64, U8), shapes=((4,), (2, 3), (), (0,)),
               kwargs=({"depth": 5}, {"depth": 3, "on_value": 2.5, "off_value": -1.0},
                       {"depth": 4, "dtype": "int32"}, {"depth": 0}),
               out_dtype=kw_dtype("float32"), ref_upcast=False),
        OpSpec("one_hot", id="one_hot.method", fn=lambda x: x.one_hot(4),
               ref=lambda x: _ref_one_hot(x, 4), inputs=(Arg(0, 3, integer=True),), dtypes=(F32,),
               shapes=((4,), (2, 3)), out_dtype=fixed(F32), ref_upcast=False),
        OpSpec("npx.softmax", fn=npx.softmax, ref=_ref_softmax, dtypes=(F32, F16, F64, I32),
               shapes=((3, 4), (5,), (2, 3, 4), (2, 0)),
               kwargs=({}, {"axis": 0}, {"temperature": 2.0}, {"axis": 1, "dtype": "float64"}),
               out_dtype=floating, tol=_TRIG_TOL, grad=True),
        OpSpec("npx.log_softmax", fn=npx.log_softmax, ref=_ref_log_softmax,
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


# -- Step 2: the rest of np, np.linalg and npx -----------------------------------------------------
#
# Public names without a row (test_ops.NOT_OPS lists them with the reason): np.random and
# npx.random (statistical tests in test_random.py); dtype utilities (result_type, promote_types,
# can_cast, min_scalar_type, finfo, iinfo and the dtype objects; tested in test_stats.py);
# set_printoptions, genfromtxt, npx.save/load/savez (I/O and printing, tested in test_io.py and
# test_np_more.py); npx's switches and devices (set_np, cpu, waitall,
# get_cuda_compute_capability...). Classes (finfo, iinfo, the dtypes, ndarray), modules and
# constants are not callable ops.

def _pos(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` taking its leading positional arguments from the ``args`` keyword: one row can then
    try several call forms (``arange(5)``, ``arange(2, 9, 2)``) as kwargs variants."""
    return lambda *xs, args=(), **kw: f(*xs, *args, **kw)


def _lists(f: Callable[..., Any], n: int = 0) -> Callable[..., Any]:
    """``f`` taking a sequence of arrays (``vstack([a, b])``): the last inputs after the first
    ``n`` are passed as one list."""
    return lambda *xs, **kw: f(*xs[:n], list(xs[n:]), **kw)


def _no_values(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    """``empty``: only the shape and dtype are defined."""
    return []


def _sq(x: onp.ndarray) -> onp.ndarray:
    return onp.swapaxes(x, -1, -2)


def _eye_like(x: onp.ndarray) -> onp.ndarray:
    return onp.eye(x.shape[-1], dtype=x.dtype)


def _square(x: onp.ndarray) -> bool:
    """Structured-matrix generators leave other shapes alone (the op must reject them)."""
    return x.ndim >= 2 and x.shape[-1] == x.shape[-2]


def _wellcond(x: onp.ndarray) -> onp.ndarray:
    """Square matrices made diagonally dominant (invertible, condition number ~3)."""
    return x + 4 * 5 * max(x.shape[-1], 1) * _eye_like(x) if _square(x) else x


def _spd(x: onp.ndarray) -> onp.ndarray:
    """Symmetric positive definite matrices (cholesky, eigh)."""
    return x @ _sq(x) + max(x.shape[-1], 1) * _eye_like(x) if _square(x) else x


def _realeig(x: onp.ndarray) -> onp.ndarray:
    """Non-symmetric matrices with real, well separated eigenvalues 4, 8, 12..."""
    if not _square(x):
        return x
    n = x.shape[-1]
    return onp.triu(x, 1) + onp.diag(4 * onp.arange(1, n + 1)).astype(x.dtype)


def _some_nans(x: onp.ndarray) -> onp.ndarray:
    """NaNs at the flat positions 3 mod 7: no slice along any axis of the shapes used is all
    NaN (nanargmax raises for those only when the data arrives)."""
    if x.dtype.kind != "f":
        return x
    x = x.copy()
    x.reshape(-1)[onp.arange(x.size) % 7 == 3] = onp.nan
    return x


def _lowrank(x: onp.ndarray) -> onp.ndarray:
    x = x.copy()
    if x.ndim >= 2 and x.shape[-2] > 1:
        x[..., -1, :] = x[..., 0, :]
    return x


def _sorted(x: onp.ndarray) -> onp.ndarray:
    return onp.sort(x, axis=-1)


def _norm0d(f: Callable[..., Any]) -> Callable[..., Any]:
    """MXNet's norms take axis 0 or -1 of a 0-d array: the norm of the one element."""
    def run(x: onp.ndarray, axis: Any = None, **kw: Any) -> Any:
        if x.ndim == 0 and axis in (0, -1):
            return onp.asarray(f(x.reshape(1), axis=0, **kw)).reshape(())
        return f(x, axis=axis, **kw)
    return run


def _lin(f: Callable[..., Any]) -> Callable[..., Any]:
    """NumPy's linalg rejects float16: the reference computes it in float32."""
    def run(*xs: Any, **kw: Any) -> Any:
        return f(*[x.astype(F32) if isinstance(x, onp.ndarray) and x.dtype == F16 else x
                   for x in xs], **kw)
    return run


def _all_same(ins: Sequence[Any], kw: dict[str, Any]) -> list[onp.dtype]:
    """One output per array input, each of its input's dtype (meshgrid, broadcast_arrays)."""
    return list(_arrays(ins))


def _many(rule: Callable[..., Any], n: int) -> Callable[..., list[Any]]:
    return lambda ins, kw: [rule(ins, kw)] * n


_ND_TOL = {F16: (2e-2, 5e-2), F32: (1e-4, 1e-4), F64: (1e-9, 1e-9)}  # linear algebra


def _creation_rows() -> list[OpSpec]:
    none: dict[str, Any] = {"inputs": (), "shapes": ((),), "dtypes": (F32,)}
    shp = ({"shape": (3, 4)}, {"shape": ()}, {"shape": (0, 3)}, {"shape": 5, "dtype": "int32"},
           {"shape": (2, 2), "dtype": "bool"}, {"shape": [2], "dtype": F16})

    def full_dt(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
        if kw.get("dtype") is not None:
            return onp.dtype(kw["dtype"])
        return BOOL if isinstance(kw.get("fill_value"), bool) else F32

    like_kw = ({}, {"dtype": "int32"}, {"dtype": F64})
    like_dt = lambda ins, kw: onp.dtype(kw.get("dtype") or _arrays(ins)[0])
    seq = Scalar([[1, 2.5, 3], [4, 5, 6]])
    rows = [
        OpSpec("zeros", ref=onp.zeros, kwargs=shp, out_dtype=kw_dtype(F32), **none),
        OpSpec("ones", ref=onp.ones, kwargs=shp, out_dtype=kw_dtype(F32), **none),
        OpSpec("empty", ref=onp.empty, kwargs=shp, out_dtype=kw_dtype(F32), canon=_no_values,
               **none),
        OpSpec("full", ref=onp.full, out_dtype=full_dt, **none,
               kwargs=({"shape": (3, 4), "fill_value": 2.5}, {"shape": (), "fill_value": 7},
                       {"shape": (2, 0), "fill_value": 1}, {"shape": 3, "fill_value": True},
                       {"shape": (2, 3), "fill_value": -3, "dtype": "int8"})),
        OpSpec("full", id="full[array]", ref=lambda v: onp.full((2, 3), v),
               fn=lambda v: fnp.full((2, 3), v), shapes=((3,), (), (1, 3)), dtypes=(F32, I32)),
        OpSpec("zeros_like", ref=onp.zeros_like, kwargs=like_kw, out_dtype=like_dt, dtypes=ALL),
        OpSpec("ones_like", ref=onp.ones_like, kwargs=like_kw, out_dtype=like_dt, dtypes=ALL),
        OpSpec("empty_like", ref=onp.empty_like, kwargs=like_kw, out_dtype=like_dt,
               dtypes=(F32, I32, BOOL), canon=_no_values),
        OpSpec("full_like", ref=onp.full_like, out_dtype=like_dt, dtypes=ALL,
               kwargs=({"fill_value": 3}, {"fill_value": 1.5, "dtype": F64},
                       {"fill_value": 0, "dtype": "bool"})),
        OpSpec("array", ref=onp.array, dtypes=ALL, kwargs=({}, {"dtype": "int32"}, {"dtype": F16}),
               out_dtype=like_dt),
        OpSpec("array", id="array[list]", ref=onp.array, inputs=(seq,), shapes=((),),
               dtypes=(F32,), out_dtype=kw_dtype(F32), kwargs=({}, {"dtype": "int64"})),
        OpSpec("array", id="array[ndmin]", ref=onp.array, dtypes=(F32,),
               shapes=((3,), ()), kwargs=({"ndmin": 2},)),
        OpSpec("asarray", ref=onp.asarray, dtypes=ALL, kwargs=({}, {"dtype": "float64"}),
               out_dtype=like_dt),
        OpSpec("asarray", id="asarray[list]", ref=onp.asarray, inputs=(seq,), shapes=((),),
               dtypes=(F32,), out_dtype=kw_dtype(F32)),
        OpSpec("from_dlpack", fn=lambda x: fnp.from_dlpack(x.asnumpy()), ref=onp.from_dlpack,
               dtypes=(F32, I32, BOOL), sync=True),
        OpSpec("arange", fn=_pos(fnp.arange), ref=_pos(onp.arange), out_dtype=kw_dtype(F32),
               **none, kwargs=({"args": (5,)}, {"args": (2, 9, 2)}, {"args": (0, 1, 0.1)},
                               {"args": (5,), "dtype": "int32"}, {"args": (3, 3)},
                               {"args": (5, 0, -1.5)}, {"args": (1, 4), "dtype": F64})),
        OpSpec("linspace", fn=_pos(fnp.linspace), ref=_pos(onp.linspace), out_dtype=kw_dtype(F32),
               **none, kwargs=({"args": (0, 1, 5)}, {"args": (-2, 3, 4), "endpoint": False},
                               {"args": (0, 1, 0)}, {"args": (1, 2, 1)},
                               {"args": (0, 10, 6), "dtype": "int32"})),
        OpSpec("linspace", id="linspace[retstep]",
               fn=lambda: fnp.linspace(0, 2, 5, retstep=True)[0],
               ref=lambda: onp.linspace(0, 2, 5, retstep=True)[0], out_dtype=kw_dtype(F32),
               **none),
        OpSpec("logspace", fn=_pos(fnp.logspace), ref=_pos(onp.logspace), out_dtype=kw_dtype(F32),
               **none, kwargs=({"args": (0, 2, 5)}, {"args": (1, 3, 4), "base": 2.0},
                               {"args": (0, 1, 0)}, {"args": (0, 2, 3), "endpoint": False,
                                                     "dtype": F64})),
        OpSpec("geomspace", fn=_pos(fnp.geomspace), ref=_pos(onp.geomspace),
               out_dtype=kw_dtype(F32), **none,
               kwargs=({"args": (1, 1000, 4)}, {"args": (2, 32, 5), "endpoint": False},
                       {"args": (-1, -100, 3)}, {"args": (1, 8, 4), "dtype": F64})),
        OpSpec("eye", fn=_pos(fnp.eye), ref=_pos(onp.eye), out_dtype=kw_dtype(F32), **none,
               kwargs=({"args": (3,)}, {"args": (3, 4), "k": 1}, {"args": (4, 2), "k": -1},
                       {"args": (0,)}, {"args": (2,), "dtype": "int32"})),
        OpSpec("identity", fn=_pos(fnp.identity), ref=_pos(onp.identity),
               out_dtype=kw_dtype(F32), **none,
               kwargs=({"args": (3,)}, {"args": (0,)}, {"args": (2,), "dtype": "bool"})),
        OpSpec("tri", fn=_pos(fnp.tri), ref=_pos(onp.tri), out_dtype=kw_dtype(F32), **none,
               kwargs=({"args": (3,)}, {"args": (3, 4, 1)}, {"args": (4, 2, -1)},
                       {"args": (0,)}, {"args": (2,), "dtype": "int32"})),
        *[OpSpec(n, fn=_pos(getattr(fnp, n)),
                 ref=lambda args, dtype=None, _f=getattr(onp, n): _f(*args),
                 out_dtype=kw_dtype(F32), tol=_TRIG_TOL, **none,
                 kwargs=({"args": (5,)}, {"args": (1,)}, {"args": (0,)},
                         {"args": (6,), "dtype": F64}))
          for n in ("hamming", "hanning", "blackman")],
        OpSpec("indices", fn=_pos(fnp.indices), ref=_pos(onp.indices), **none,
               out_dtype=lambda ins, kw: (
                   [onp.dtype(kw.get("dtype") or I64)] * len(kw["args"][0]) if kw.get("sparse")
                   else onp.dtype(kw.get("dtype") or I64)),
               kwargs=({"args": ((2, 3),)}, {"args": ((2, 3),), "sparse": True},
                       {"args": ((0, 2),)}, {"args": ((3,),), "dtype": "int32"})),
        *[OpSpec(n, fn=_pos(getattr(fnp, n)), ref=_pos(getattr(onp, n)), **none,
                 out_dtype=_many(int64, 2),
                 kwargs=({"args": (4,)}, {"args": (4, 1)}, {"args": (3, -1, 5)}, {"args": (0,)}))
          for n in ("tril_indices", "triu_indices")],
        OpSpec("meshgrid", fn=fnp.meshgrid, ref=onp.meshgrid, inputs=(Arg(), Arg()),
               dtypes=(F32, (I32, F32)), out_dtype=_all_same,
               shapes=(((3,), (4,)), ((0,), (2,)), ((), (3,)), ((2, 2), (3,))),
               kwargs=({}, {"indexing": "ij"}, {"sparse": True})),
        OpSpec("meshgrid", id="meshgrid[3]", fn=fnp.meshgrid, ref=onp.meshgrid,
               inputs=(Arg(),) * 3, dtypes=(F32,), out_dtype=_all_same,
               shapes=(((2,), (3,), (4,)),), kwargs=({}, {"indexing": "ij"})),
    ]
    return rows


def _ref_fill_diagonal(x: onp.ndarray, **kw: Any) -> onp.ndarray:
    y = x.copy()
    onp.fill_diagonal(y, **kw)
    return y


def _fill_diagonal(x: Any, **kw: Any) -> Any:
    y = x.copy()
    fnp.fill_diagonal(y, **kw)
    return y


def _more_rows() -> list[OpSpec]:
    tfb = (F32, I32, BOOL)
    two = (Arg(), Arg())
    stack_dt = (F32, I32, BOOL, (F32, I32), (I8, U8))
    idx = Arg(ilow=0, ihigh=11)
    rows = [
        OpSpec("diagflat", ref=onp.diagflat, dtypes=tfb, shapes=((3,), (2, 2), (), (0,)),
               kwargs=({}, {"k": 1}, {"k": -2})),
        *[OpSpec(n, ref=getattr(onp, n), dtypes=(F32, I32, BOOL, F16),
                 shapes=((3, 4), (2, 3, 4), (4, 3), (0, 3), (5,)),
                 kwargs=({}, {"k": 1}, {"k": -1})) for n in ("tril", "triu")],
        *[OpSpec(n, ref=getattr(onp, n), dtypes=(F32,), out_dtype=_many(int64, 2),
                 shapes=((3, 4), (4, 4), (0, 3), (5,)), kwargs=({}, {"k": 1}))
          for n in ("tril_indices_from", "triu_indices_from")],
        OpSpec("diag_indices_from", ref=onp.diag_indices_from, dtypes=(F32,),
               shapes=((3, 3), (2, 2, 2), (3, 4)), out_dtype=lambda ins, kw: [I64] * 3),
        OpSpec("unravel_index", ref=onp.unravel_index, inputs=(idx,), dtypes=(I64, I32, U8),
               shapes=((5,), (), (0,), (2, 3)),
               kwargs=({"shape": (3, 4)}, {"shape": (3, 4), "order": "F"}, {"shape": (12,)}),
               out_dtype=lambda ins, kw: [I64] * len(kw["shape"])),
        OpSpec("moveaxis", ref=onp.moveaxis, dtypes=tfb, shapes=((2, 3, 4), (3, 4), (2, 0, 3)),
               kwargs=({"source": 0, "destination": -1},
                       {"source": (0, 1), "destination": (-1, -2)},
                       {"source": 2, "destination": 0})),
        OpSpec("rollaxis", ref=onp.rollaxis, dtypes=tfb, shapes=((2, 3, 4), (3, 4), (2, 0, 3)),
               kwargs=({"axis": 2}, {"axis": 2, "start": 1}, {"axis": -1, "start": 0},
                       {"axis": 0, "start": 3})),
        OpSpec("broadcast_arrays", ref=onp.broadcast_arrays, inputs=two,
               dtypes=(F32, (I32, BOOL)), out_dtype=_all_same,
               shapes=(((3, 1), (1, 4)), ((), (5,)), ((2, 0), (1, 1)), ((3, 4), (3, 4)),
                       ((3,), (4,)))),
        OpSpec("broadcast_shapes", fn=_pos(fnp.broadcast_shapes), ref=_pos(onp.broadcast_shapes),
               inputs=(), shapes=((),), dtypes=(F32,), result="python",
               kwargs=({"args": ((3, 1), (1, 4))}, {"args": ((), (5,), (2, 1))},
                       {"args": ((2, 0), (1,))}, {"args": ((2, 3), (4,))}, {"args": (3, (2, 1))})),
        *[OpSpec(n, ref=getattr(onp, n), dtypes=tfb, shapes=SHAPES)
          for n in ("atleast_1d", "atleast_2d", "atleast_3d")],
        *[OpSpec(n, id=f"{n}[2]", ref=getattr(onp, n), inputs=two, dtypes=(F32, (I32, BOOL)),
                 shapes=(((), (3, 4)), ((5,), (0,))), out_dtype=_all_same)
          for n in ("atleast_1d", "atleast_2d", "atleast_3d")],
        OpSpec("vstack", fn=_lists(fnp.vstack), ref=_lists(onp.vstack), inputs=two,
               dtypes=stack_dt, out_dtype=arith,
               shapes=(((3, 4), (2, 4)), ((4,), (4,)), ((), ()), ((2, 3, 4), (1, 3, 4)),
                       ((0,), (0,)), ((3, 4), (3,)))),
        OpSpec("row_stack", fn=_lists(fnp.row_stack), ref=_lists(onp.vstack), inputs=two,
               dtypes=(F32,), out_dtype=arith, shapes=(((3, 4), (2, 4)),)),
        OpSpec("hstack", fn=_lists(fnp.hstack), ref=_lists(onp.hstack), inputs=two,
               dtypes=stack_dt, out_dtype=arith,
               shapes=(((3, 4), (3, 2)), ((4,), (2,)), ((), ()), ((2, 0), (2, 3)),
                       ((3, 4), (2, 4)))),
        OpSpec("dstack", fn=_lists(fnp.dstack), ref=_lists(onp.dstack), inputs=two,
               dtypes=stack_dt, out_dtype=arith,
               shapes=(((3, 4), (3, 4)), ((4,), (4,)), ((2, 3, 4), (2, 3, 1)), ((), ()))),
        OpSpec("column_stack", fn=_lists(fnp.column_stack), ref=_lists(onp.column_stack),
               inputs=two, dtypes=stack_dt, out_dtype=arith,
               shapes=(((3,), (3,)), ((3, 2), (3,)), ((0,), (0,)), ((3,), (4,)))),
        OpSpec("array_split", ref=onp.array_split, dtypes=tfb, shapes=((5, 4), (7,), (2, 5, 3),
                                                                         (0, 3)),
               kwargs=({"indices_or_sections": 3}, {"indices_or_sections": [1, 2], "axis": 1},
                       {"indices_or_sections": 2, "axis": -1})),
        OpSpec("hsplit", ref=onp.hsplit, dtypes=tfb, shapes=((4, 6), (6,), (2, 4, 3), ()),
               kwargs=({"indices_or_sections": 2}, {"indices_or_sections": [1]})),
        OpSpec("vsplit", ref=onp.vsplit, dtypes=tfb, shapes=((4, 6), (2, 3, 4), (6,)),
               kwargs=({"indices_or_sections": 2}, {"indices_or_sections": [1]})),
        OpSpec("dsplit", ref=onp.dsplit, dtypes=tfb, shapes=((2, 3, 4), (1, 1, 6), (3, 4)),
               kwargs=({"indices_or_sections": 2}, {"indices_or_sections": [1, 3]})),
        OpSpec("fliplr", ref=onp.fliplr, dtypes=tfb, shapes=((3, 4), (2, 3, 4), (5,), (2, 0))),
        OpSpec("flipud", ref=onp.flipud, dtypes=tfb, shapes=((3, 4), (5,), (), (0, 2))),
        OpSpec("roll", ref=onp.roll, dtypes=tfb + (F16,), shapes=((3, 4), (0,), (2, 3, 4), (5,)),
               kwargs=({"shift": 2}, {"shift": -1, "axis": 0},
                       {"shift": (1, 2), "axis": (0, 1)}, {"shift": 5, "axis": -1})),
        OpSpec("roll", id="roll[0d]", ref=onp.roll, dtypes=(F32,), shapes=((),),
               kwargs=({"shift": 2}, {"shift": (1, 2)})),
        OpSpec("rot90", ref=onp.rot90, dtypes=tfb, shapes=((3, 4), (2, 3, 4), (0, 3), (5,)),
               kwargs=({}, {"k": 2}, {"k": 3}, {"k": -1, "axes": (1, 0)}, {"k": 4})),
        OpSpec("rot90", id="rot90[axes]", ref=onp.rot90, dtypes=(F32,), shapes=((2, 3, 4),),
               kwargs=({"k": 1, "axes": (1, 2)}, {"k": 3, "axes": (2, 0)})),
        OpSpec("append", ref=onp.append, inputs=two, dtypes=(F32, I32, BOOL, (F32, I32)),
               out_dtype=arith, shapes=(((3, 4), (2, 4)), ((3,), (2,)), ((), ()),
                                        ((3, 4), (3, 4))),
               kwargs=({}, {"axis": 0}, {"axis": -1})),
        OpSpec("insert", ref=onp.insert, dtypes=(F32, I32, BOOL, F16),
               shapes=((3, 4), (5,), (0,), (2, 3, 4)),
               kwargs=({"obj": 1, "values": 9}, {"obj": [0, 2], "values": [7, 8]},
                       {"obj": 1, "values": 5, "axis": 1}, {"obj": 0, "values": 3, "axis": 0},
                       {"obj": slice(0, 2), "values": 4, "axis": -1})),
        OpSpec("insert", id="insert[array]", fn=lambda x, v: fnp.insert(x, 1, v, axis=0),
               ref=lambda x, v: onp.insert(x, 1, v, axis=0), inputs=two,
               dtypes=(F32, (I32, I32), (F32, I32)), shapes=(((3, 4), (4,)), ((3, 4), (2, 4)))),
        OpSpec("delete", ref=onp.delete, dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (5,), (2, 3, 4), (4, 0)),
               kwargs=({"obj": 1}, {"obj": [0, 2], "axis": 1},
                       {"obj": slice(None, None, 2), "axis": 0}, {"obj": -1, "axis": -1})),
        OpSpec("pad", ref=onp.pad, dtypes=(F32, I32, BOOL, F16), shapes=((3, 4), (5,), (), (0, 2)),
               kwargs=({"pad_width": 1}, {"pad_width": ((1, 2), (0, 1))},
                       {"pad_width": 2, "mode": "edge"}, {"pad_width": 1, "mode": "reflect"},
                       {"pad_width": 1, "constant_values": 3}, {"pad_width": 2, "mode": "wrap"},
                       {"pad_width": (1, 0), "mode": "symmetric"})),
        OpSpec("pad", id="pad[stat]", ref=onp.pad, dtypes=(F32, F64), shapes=((3, 4), (5,)),
               kwargs=({"pad_width": 1, "mode": "mean"}, {"pad_width": 2, "mode": "maximum"},
                       {"pad_width": 1, "mode": "median"},
                       {"pad_width": 2, "mode": "linear_ramp", "end_values": 1})),
        OpSpec("resize", ref=onp.resize, dtypes=(F32, I32, BOOL), shapes=((3, 4), (5,), (), (0,)),
               kwargs=({"new_shape": (2, 7)}, {"new_shape": 5}, {"new_shape": (0,)},
                       {"new_shape": (3, 4)})),
        OpSpec("diagonal", id="diagonal[np]", fn=fnp.diagonal, ref=onp.diagonal,
               dtypes=(F32, I32, BOOL), shapes=((3, 4), (2, 3, 4), (0, 3), (5,)),
               kwargs=({}, {"offset": 1}, {"offset": -1, "axis1": 1, "axis2": 0},
                       {"axis1": -1, "axis2": 0})),
        OpSpec("fill_diagonal", fn=_fill_diagonal, ref=_ref_fill_diagonal,
               dtypes=(F32, I32, BOOL), shapes=((3, 3), (5, 3), (3, 5), (2, 2, 2), (0, 0)),
               kwargs=({"val": 5}, {"val": 2, "wrap": True})),
        OpSpec("vander", ref=onp.vander, inputs=(Arg(-2, 2),), dtypes=(F32, I32, F64),
               shapes=((4,), (0,), (3,), (2, 2)), kwargs=({}, {"N": 3}, {"increasing": True})),
        OpSpec("polyval", ref=onp.polyval, inputs=(Arg(-2, 2), Arg(-2, 2)),
               dtypes=(F32, I32, (I32, F32), F64), out_dtype=arith,
               shapes=(((3,), (4,)), ((3,), ()), ((4,), (2, 3)), ((3,), (0,)), ((0,), (2,)))),
        OpSpec("trim_zeros", ref=onp.trim_zeros, inputs=(Arg(-2, 2, zeros=0.5),),
               dtypes=(F32, I32, BOOL), shapes=((8,), (0,), (3,)),
               kwargs=({}, {"trim": "f"}, {"trim": "b"})),
        OpSpec("shape", ref=onp.shape, result="python", dtypes=(F32,)),
        OpSpec("size", ref=onp.size, result="python", dtypes=(F32,)),
        OpSpec("ndim", ref=onp.ndim, result="python", dtypes=(F32,)),
        OpSpec("shares_memory", fn=lambda x: fnp.shares_memory(x, x),
               ref=lambda x: onp.shares_memory(x, x), result="python", dtypes=(F32,),
               shapes=((3, 4), (5,))),
        OpSpec("may_share_memory", fn=lambda x: fnp.may_share_memory(x, x.copy()),
               ref=lambda x: onp.may_share_memory(x, x.copy()), result="python", dtypes=(F32,),
               shapes=((3, 4), (5,))),
    ]
    return rows


def _partition_canon(vals: onp.ndarray, kw: dict[str, Any]) -> list[Any]:
    """What a partition defines: the sorted values, the kth values, and that everything before
    (after) a kth position is no greater (no smaller) than the value there."""
    axis = kw.get("axis", -1)
    if axis is None:
        vals, axis = vals.reshape(-1), 0
    v = onp.moveaxis(vals, axis, -1)
    n = v.shape[-1]
    kths = sorted(k % n for k in onp.atleast_1d(kw["kth"])) if n else []
    ok = [bool(onp.all(v[..., :k] <= v[..., k:k + 1])) and bool(onp.all(v[..., k + 1:] >=
                                                                         v[..., k:k + 1]))
          for k in kths]
    return [onp.sort(v, axis=-1), v[..., kths], onp.array(ok)]


def _canon_partition(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    return _partition_canon(outs[0], kw)


def _canon_argpartition(outs: list[onp.ndarray], ins: list[Any],
                        kw: dict[str, Any]) -> list[Any]:
    x, idx, axis = ins[0], outs[0], kw.get("axis", -1)
    if axis is None:
        x, axis = x.reshape(-1), 0
    vals = onp.take_along_axis(x, idx, axis=axis)
    return [*_partition_canon(vals, kw), onp.sort(idx, axis=axis)]


def _canon_unique(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    """Array-API ``unique_*`` leave the order of the values open: sort them (and the counts,
    first indices with them); the inverse must rebuild the input."""
    x = ins[0]
    order = onp.argsort(outs[0], kind="stable")
    res = [o[order] if o.shape == outs[0].shape else o for o in outs]
    if len(outs) == 2 and outs[1].shape == x.shape:  # unique_inverse
        res[1] = outs[0][outs[1]]
    if len(outs) == 4:  # unique_all: values, indices, inverse_indices, counts
        res[1] = x.reshape(-1)[outs[1][order]]
        res[2] = outs[0][outs[2]]
    return res


def _canon_sorted(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    return [onp.sort(o, axis=-1) for o in outs]


def _ref_in1d(a: onp.ndarray, b: onp.ndarray, **kw: Any) -> onp.ndarray:
    return onp.isin(a.reshape(-1), b, **kw)  # np.in1d is gone from NumPy 2.4


def _hist_dt(ins: Sequence[Any], kw: dict[str, Any]) -> list[onp.dtype]:
    data = _arrays(ins)[0]
    if kw.get("density") or len(_arrays(ins)) > 1:
        floats = [d for d in _arrays(ins)]
        h = F64 if F64 in floats else F32
    else:
        h = I64
    return [h, to_float(data)]


def _first(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return _arrays(ins)[0]


def _second(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
    return _arrays(ins)[1]


def _promote_from(i: int) -> Callable[..., onp.dtype]:
    """The promoted dtype of the array inputs from the ``i``-th on (choices of choose/select)."""
    def rule(ins: Sequence[Any], kw: dict[str, Any]) -> onp.dtype:
        arrs = _arrays(ins)[i:]
        dt = arrs[0]
        for d in arrs[1:]:
            dt = mx_promote(dt, d)
        return dt
    return rule


def _ref_apply_along(x: onp.ndarray, **kw: Any) -> onp.ndarray:
    return onp.apply_along_axis(lambda r: r[::-1] * 2, kw["axis"], x)


def _stats_rows() -> list[OpSpec]:
    nan = Arg(nans=0.2)
    ties = Arg(-2, 2, integer=True)
    srt = Arg(-4, 4, post=_sorted)
    q_kw = ({"q": 0.3}, {"q": [0.1, 0.5, 0.9], "axis": 0}, {"q": 0.5, "axis": -1, "keepdims": True},
            {"q": 0.25, "method": "nearest"}, {"q": 0.7, "method": "lower", "axis": 1},
            {"q": 0.6, "axis": (0, 1)})
    p_kw = tuple({**k, "q": onp.multiply(k["q"], 100).tolist()} for k in q_kw)
    med_kw = ({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)})
    nonempty = ((2, 3, 4), (), (5,), (3, 4))
    cov_kw = ({}, {"rowvar": False}, {"bias": True}, {"ddof": 0})
    nanred = RED_KW[:6]
    rows = [
        OpSpec("average", ref=_scalar_axis(onp.average), dtypes=ALL,
               shapes=RED_SHAPES[:2] + RED_SHAPES[4:],
               kwargs=({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)}),
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("average", id="average[weights]", inputs=(Arg(), Arg(0.5, 2.0)),
               fn=lambda a, w, **kw: fnp.average(a, weights=w, **kw),
               ref=lambda a, w, **kw: onp.average(a, weights=w, **kw),
               dtypes=(F32, I32, F64, (F32, I32), (I32, F16)), out_dtype=floating, tol=_RED_TOL,
               shapes=(((3, 4), (3, 4)), ((3, 4), (4,)), ((5,), (5,))),
               kwargs=({}, {"axis": -1}, {"axis": -1, "returned": True})),
        OpSpec("quantile", ref=_scalar_axis(onp.quantile), dtypes=NUMERIC, shapes=nonempty,
               kwargs=q_kw,
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("percentile", ref=_scalar_axis(onp.percentile), dtypes=NUMERIC, shapes=nonempty,
               kwargs=p_kw,
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("median", ref=_scalar_axis(onp.median), dtypes=NUMERIC, shapes=RED_SHAPES,
               kwargs=med_kw,
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("count_nonzero", ref=onp.count_nonzero, dtypes=ALL, shapes=RED_SHAPES,
               inputs=(Arg(-2, 2, zeros=0.5),), out_dtype=int64,
               kwargs=({}, {"axis": 0}, {"axis": (0, 1), "keepdims": True}, {"axis": -1})),
        OpSpec("histogram", ref=onp.histogram, dtypes=(F32, I32, F64, F16, U8),
               shapes=((3, 4), (0,), (), (5,)), out_dtype=_hist_dt, tol=_RED_TOL,
               kwargs=({}, {"bins": 5, "range": (-2, 2)}, {"bins": 4, "density": True},
                       {"bins": [-3, -1, 0, 2, 5]}, {"bins": "auto"})),
        OpSpec("histogram", id="histogram[weights]", inputs=(Arg(), Arg(0, 2)),
               fn=lambda a, w, **kw: fnp.histogram(a, weights=w, **kw),
               ref=lambda a, w, **kw: onp.histogram(a, weights=w, **kw),
               dtypes=((F32, F32), (I32, F64)), shapes=(((3, 4), (3, 4)), ((5,), (5,))),
               kwargs=({"bins": 3}, {"bins": 3, "density": True}), out_dtype=_hist_dt,
               tol=_RED_TOL),
        OpSpec("bincount", ref=onp.bincount, inputs=(Arg(0, 6),), dtypes=(I64, I32, U8, BOOL),
               shapes=((8,), (0,), (), (2, 3)), kwargs=({}, {"minlength": 10}),
               out_dtype=int64),
        OpSpec("bincount", id="bincount[weights]", inputs=(Arg(0, 6), Arg()),
               fn=lambda x, w, **kw: fnp.bincount(x, weights=w, **kw),
               ref=lambda x, w, **kw: onp.bincount(x, weights=w, **kw),
               dtypes=((I64, F32), (I32, F64), (U8, I32)), shapes=(((8,), (8,)), ((0,), (0,))),
               kwargs=({}, {"minlength": 8}), ref_upcast=False,
               out_dtype=lambda ins, kw: F64 if ins[1] == F64 else F32),
        OpSpec("nansum", ref=_scalar_axis(onp.nansum), inputs=(nan,), dtypes=ALL,
               shapes=RED_SHAPES, kwargs=nanred, out_dtype=accum, tol=_RED_TOL),
        OpSpec("nanprod", ref=_scalar_axis(onp.nanprod), inputs=(Arg(0.7, 1.4, ilow=-2, ihigh=2,
                                                                         nans=0.2),),
               dtypes=ALL, shapes=RED_SHAPES, kwargs=nanred, out_dtype=accum, tol=_RED_TOL),
        *[OpSpec(n, ref=_scalar_axis(getattr(onp, n)), inputs=(nan,), dtypes=ALL,
                 shapes=RED_SHAPES, kwargs=nanred + ({"axis": 0, "ddof": 1},) * (n != "nanmean"),
                 out_dtype=floating, tol=_RED_TOL) for n in ("nanmean", "nanstd", "nanvar")],
        *[OpSpec(n, ref=_scalar_axis(getattr(onp, n)), inputs=(nan,), dtypes=ALL,
                 shapes=RED_SHAPES, kwargs=nanred) for n in ("nanmax", "nanmin")],
        *[OpSpec(n, ref=_scalar_axis(getattr(onp, n)), inputs=(Arg(post=_some_nans),),
                 dtypes=ALL,
                 shapes=RED_SHAPES, kwargs=ARG_KW, out_dtype=int64)
          for n in ("nanargmax", "nanargmin")],
        OpSpec("nancumsum", ref=onp.nancumsum, inputs=(nan,), dtypes=ALL, shapes=RED_SHAPES,
               kwargs=CUM_KW, out_dtype=accum, tol=_RED_TOL),
        OpSpec("nancumprod", ref=onp.nancumprod, inputs=(Arg(0.7, 1.4, ilow=-2, ihigh=2,
                                                             nans=0.2),),
               dtypes=ALL, shapes=RED_SHAPES, kwargs=CUM_KW, out_dtype=accum, tol=_RED_TOL),
        OpSpec("nanmedian", ref=_scalar_axis(onp.nanmedian), inputs=(nan,), dtypes=NUMERIC,
               shapes=RED_SHAPES,
               kwargs=med_kw, out_dtype=floating, tol=_RED_TOL),
        OpSpec("nanquantile", ref=_scalar_axis(onp.nanquantile), inputs=(nan,), dtypes=NUMERIC,
               shapes=nonempty, kwargs=q_kw, out_dtype=floating, tol=_RED_TOL),
        OpSpec("nanpercentile", ref=_scalar_axis(onp.nanpercentile), inputs=(nan,), dtypes=NUMERIC,
               shapes=nonempty, kwargs=p_kw, out_dtype=floating, tol=_RED_TOL),
        OpSpec("ptp", ref=_scalar_axis(onp.ptp), dtypes=NUMERIC, shapes=RED_SHAPES,
               kwargs=ARG_KW + ({"axis": (0, 1)},)),
        OpSpec("cov", ref=onp.cov, dtypes=(F32, I32, F64, F16), shapes=((3, 5), (5,), (2, 4)),
               kwargs=cov_kw, out_dtype=floating, tol=_RED_TOL),
        OpSpec("cov", id="cov[y]", ref=onp.cov, inputs=(Arg(), Arg()), dtypes=(F32, (I32, F32)),
               shapes=(((2, 5), (5,)), ((3, 4), (1, 4))), kwargs=({}, {"bias": True}),
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("cov", id="cov[weights]", ref=lambda m, f, a, **kw: onp.cov(
            m, fweights=f, aweights=a, **kw), fn=lambda m, f, a, **kw: fnp.cov(
            m, fweights=f, aweights=a, **kw), inputs=(Arg(), Arg(ilow=1, ihigh=3, dtype=I64),
                                                      Arg(0.5, 2.0)),
               dtypes=(F32, F64), shapes=(((3, 5), (5,), (5,)),), kwargs=({}, {"ddof": 0}),
               out_dtype=floating, tol=_RED_TOL),
        OpSpec("corrcoef", ref=onp.corrcoef, dtypes=(F32, I32, F64), shapes=((3, 5), (5,), (2, 4)),
               kwargs=({}, {"rowvar": False}), out_dtype=floating, tol=_RED_TOL),
        OpSpec("corrcoef", id="corrcoef[y]", ref=onp.corrcoef, inputs=(Arg(), Arg()),
               dtypes=(F32,), shapes=(((2, 5), (5,)),), out_dtype=floating, tol=_RED_TOL),
        OpSpec("isclose", ref=onp.isclose, inputs=(Arg(-1, 1, integer=True, special=True),
                                                   Arg(-1, 1, integer=True, special=True)),
               dtypes=ALL + MIXED[:3], shapes=BIN_SHAPES[:7], out_dtype=boolean,
               kwargs=({}, {"rtol": 0.5, "atol": 0.5}, {"equal_nan": True})),
        OpSpec("isclose", id="isclose[near]", fn=lambda x: fnp.isclose(x, x * (1 + 1e-6)),
               ref=lambda x: onp.isclose(x, x * (1 + 1e-6)), dtypes=(F32, F64),
               out_dtype=boolean),
        OpSpec("allclose", ref=onp.allclose, inputs=(Arg(-1, 1, integer=True),) * 2,
               dtypes=(F32, I32, (F32, I32)), result="python", sync=True,
               shapes=(((3, 4), (3, 4)), ((), ()), ((0,), (0,)), ((3, 4), (4,)), ((2,), (3,))),
               kwargs=({}, {"atol": 1.5})),
        OpSpec("allclose", id="allclose[self]", fn=lambda x: fnp.allclose(x, x),
               ref=lambda x: onp.allclose(x, x), result="python", sync=True,
               inputs=(Arg(special=True),), dtypes=(F32,), shapes=((3, 4),),
               kwargs=({}, {"equal_nan": True})),
        OpSpec("array_equal", ref=onp.array_equal, inputs=(Arg(-1, 1, integer=True),) * 2,
               dtypes=(F32, I32, BOOL, (F32, I32)), result="python", sync=True,
               shapes=(((2, 2), (2, 2)), ((), ()), ((0,), (0,)), ((3, 4), (4,)), ((1,), (1,)))),
        OpSpec("array_equal", id="array_equal[self]", fn=lambda x, **kw: fnp.array_equal(
            x, x.copy(), **kw), ref=lambda x, **kw: onp.array_equal(x, x.copy(), **kw),
               inputs=(Arg(special=True),), result="python", sync=True, dtypes=(F32, I32),
               kwargs=({}, {"equal_nan": True})),
        OpSpec("array_equiv", ref=onp.array_equiv, inputs=(Arg(-1, 1, integer=True),) * 2,
               dtypes=(F32, I32, (F32, I32)), result="python", sync=True,
               shapes=(((2, 2), (2, 2)), ((), ()), ((0,), (0,)), ((3, 4), (4,)), ((2,), (3,)),
                       ((1, 2), (2,)))),
        OpSpec("array_equiv", id="array_equiv[self]", fn=lambda x: fnp.array_equiv(x, x[:1]),
               ref=lambda x: onp.array_equiv(x, x[:1]), result="python", sync=True,
               inputs=(Arg(-1, 1, integer=True),), dtypes=(F32,), shapes=((1, 4), (2, 1))),
        OpSpec("nan_to_num", ref=onp.nan_to_num, inputs=(Arg(special=True),), dtypes=ALL,
               kwargs=({}, {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}, {"copy": False})),
        OpSpec("unique", ref=onp.unique, inputs=(ties,), dtypes=ALL, shapes=RED_SHAPES,
               out_dtype=lambda ins, kw: [_arrays(ins)[0]] + [I64] * sum(
                   bool(kw.get(k)) for k in ("return_index", "return_inverse", "return_counts")),
               kwargs=({}, {"return_counts": True},
                       {"return_index": True, "return_inverse": True}, {"axis": 0},
                       {"axis": -1, "return_inverse": True, "return_counts": True})),
        OpSpec("unique", id="unique[nan]", ref=onp.unique, inputs=(Arg(-1, 1, integer=True,
                                                                       nans=0.3),),
               dtypes=(F32, F64), shapes=((8,),), kwargs=({}, {"equal_nan": False})),
        OpSpec("unique_values", ref=onp.unique_values, inputs=(ties,), dtypes=ALL,
               shapes=RED_SHAPES, canon=_canon_unique),
        OpSpec("unique_counts", ref=onp.unique_counts, inputs=(ties,), dtypes=(F32, I32, BOOL),
               shapes=RED_SHAPES, out_dtype=lambda ins, kw: [_arrays(ins)[0], I64],
               canon=_canon_unique),
        OpSpec("unique_inverse", ref=onp.unique_inverse, inputs=(ties,), dtypes=(F32, I32, BOOL),
               shapes=RED_SHAPES, out_dtype=lambda ins, kw: [_arrays(ins)[0], I64],
               canon=_canon_unique),
        OpSpec("unique_all", ref=onp.unique_all, inputs=(ties,), dtypes=(F32, I32, BOOL),
               shapes=RED_SHAPES, out_dtype=lambda ins, kw: [_arrays(ins)[0]] + [I64] * 3,
               canon=_canon_unique),
        OpSpec("searchsorted", ref=onp.searchsorted, inputs=(Arg(-3, 3, integer=True,
                                                                 post=_sorted), ties),
               dtypes=(F32, I32, (F32, I32), (I8, F64), U8), out_dtype=int64,
               shapes=(((5,), (3, 4)), ((5,), ()), ((0,), (3,)), ((5,), (0,))),
               kwargs=({}, {"side": "right"})),
        OpSpec("searchsorted", id="searchsorted[scalar]", fn=lambda a, **kw: fnp.searchsorted(
            a, 0.5, **kw), ref=lambda a, **kw: onp.searchsorted(a, 0.5, **kw), inputs=(srt,),
               dtypes=(F32, I32), shapes=((5,), (0,)), out_dtype=int64,
               kwargs=({}, {"side": "right"})),
        OpSpec("searchsorted", id="searchsorted[sorter]",
               fn=lambda a, v: fnp.searchsorted(a, v, sorter=fnp.argsort(a)),
               ref=lambda a, v: onp.searchsorted(a, v, sorter=onp.argsort(a, kind="stable")),
               inputs=(Arg(), Arg()), dtypes=(F32, I32), shapes=(((6,), (3, 2)),),
               out_dtype=int64),
        OpSpec("argwhere", ref=onp.argwhere, inputs=(Arg(-2, 2, zeros=0.5),), dtypes=ALL,
               shapes=RED_SHAPES, out_dtype=int64),
        OpSpec("flatnonzero", ref=onp.flatnonzero, inputs=(Arg(-2, 2, zeros=0.5),), dtypes=ALL,
               shapes=RED_SHAPES, out_dtype=int64),
        OpSpec("diff", ref=onp.diff, dtypes=(F32, I32, BOOL, U8, F16),
               shapes=((3, 4), (5,), (2, 3, 4), (0,), (), (4, 0)),
               kwargs=({}, {"n": 2}, {"axis": 0}, {"prepend": 0}, {"append": 2, "axis": 0},
                       {"n": 0}, {"n": 5})),
        OpSpec("diff", id="diff[arrays]", fn=lambda a, p: fnp.diff(a, prepend=p, append=p),
               ref=lambda a, p: onp.diff(a, prepend=p, append=p), inputs=(Arg(), Arg()),
               dtypes=(F32, I32), shapes=(((3, 4), (3, 1)), ((5,), ()), ((3, 4), (3, 2)))),
        OpSpec("ediff1d", ref=onp.ediff1d, dtypes=(F32, I32, F16), shapes=((5,), (3, 4), (0,), ()),
               kwargs=({}, {"to_end": [9, 8]}, {"to_begin": 5}, {"to_begin": 1, "to_end": -2})),
        OpSpec("interp", ref=onp.interp, inputs=(Arg(-6, 6), srt, Arg()), tol=_TRIG_TOL,
               dtypes=(F32, F64, (I32, F32, F32), (F32, F32, F64), (F32, I32, F16)),
               shapes=(((3, 4), (5,), (5,)), ((), (5,), (5,)), ((0,), (3,), (3,)),
                       ((4,), (5,), (4,))),
               kwargs=({}, {"left": -1.0, "right": 9.0}),
               out_dtype=lambda ins, kw: to_float(_arrays(ins)[2])),
        OpSpec("interp", id="interp[period]", ref=onp.interp, inputs=(Arg(-6, 6), srt, Arg()),
               dtypes=(F32, F64), shapes=(((3, 4), (5,), (5,)),), kwargs=({"period": 3.0},),
               out_dtype=lambda ins, kw: to_float(_arrays(ins)[2]), tol=_TRIG_TOL),
        *[OpSpec("take_along_axis", id=f"take_along_axis[{ax}]", ref=onp.take_along_axis,
                 inputs=(Arg(), Arg(ilow=0, ihigh=2, dtype=None)), ref_upcast=False,
                 dtypes=((F32, I64), (I32, I32), (BOOL, I64), (F16, U8)), shapes=shapes,
                 kwargs=({"axis": ax},))
          for ax, shapes in ((0, (((3, 4), (2, 4)), ((3, 4), (0, 4)), ((3, 4), (5, 1)),
                                  ((3,), (4,)))),
                             (-1, (((3, 4), (3, 2)), ((2, 3, 4), (2, 3, 0)), ((3, 4), (1, 5)))),
                             (1, (((2, 3, 4), (2, 1, 4)), ((3, 4), (3, 6)))))],
        OpSpec("take_along_axis", id="take_along_axis[None]", ref=onp.take_along_axis,
               inputs=(Arg(), Arg(ilow=0, ihigh=5, dtype=I64)), dtypes=(F32,),
               shapes=(((3, 4), (5,)), ((6,), (2,))), kwargs=({"axis": None},)),
        OpSpec("digitize", ref=onp.digitize, inputs=(ties, Arg(-3, 3, post=_sorted)),
               dtypes=(F32, I32, (F32, I32), (I32, F64)), out_dtype=int64,
               shapes=(((3, 4), (5,)), ((), (3,)), ((0,), (4,)), ((5,), (0,))),
               kwargs=({}, {"right": True})),
        OpSpec("digitize", id="digitize[decreasing]", fn=lambda x, b: fnp.digitize(x, b[::-1]),
               ref=lambda x, b: onp.digitize(x, b[::-1]), inputs=(ties, Arg(-3, 3, post=_sorted)),
               dtypes=(F32,), out_dtype=int64, shapes=(((3, 4), (5,)),)),
        OpSpec("extract", ref=onp.extract, inputs=(Arg(dtype=BOOL), Arg()),
               dtypes=(F32, I32, BOOL, F16), out_dtype=_second,
               shapes=(((3, 4), (3, 4)), ((), ()), ((0,), (0,)), ((2, 3, 4), (2, 3, 4)))),
        OpSpec("extract", id="extract[nonbool]", ref=onp.extract,
               inputs=(Arg(-1, 1, integer=True), Arg()), dtypes=((F32, F32), (I32, F32)),
               out_dtype=_second, shapes=(((3, 4), (3, 4)),)),
        OpSpec("compress", ref=onp.compress, inputs=(Arg(dtype=BOOL), Arg()), out_dtype=_second,
               dtypes=(F32, I32, BOOL), shapes=(((3,), (3, 4)), ((4,), (3, 4)), ((0,), (0, 2)),
                                                ((2,), (2, 3, 4))),
               kwargs=({"axis": 0}, {"axis": -1}, {})),
        OpSpec("choose", fn=lambda a, *cs, **kw: fnp.choose(a, list(cs), **kw),
               ref=lambda a, *cs, **kw: onp.choose(a, list(cs), **kw),
               inputs=(Arg(ilow=0, ihigh=2, dtype=I64), Arg(), Arg(), Arg()),
               dtypes=(F32, I32, (I64, F32, I32, F16)), out_dtype=_promote_from(1),
               shapes=(((3, 4), (3, 4), (4,), ()), ((5,),) * 4, ((0,), (0,), (1,), ()),
                       ((), (), (), ()))),
        OpSpec("choose", id="choose[mode]", fn=lambda a, *cs, **kw: fnp.choose(a, list(cs), **kw),
               ref=lambda a, *cs, **kw: onp.choose(a, list(cs), **kw),
               inputs=(Arg(ilow=-2, ihigh=5, dtype=I64), Arg(), Arg()), dtypes=(F32,),
               out_dtype=_promote_from(1), shapes=(((3, 4), (3, 4), (4,)),),
               kwargs=({"mode": "wrap"}, {"mode": "clip"})),
        OpSpec("choose", id="choose[scalars]", fn=lambda a, c: fnp.choose(a, [c, 2.5]),
               ref=lambda a, c: onp.choose(a, [c, onp.asarray(2.5, c.dtype)]),
               inputs=(Arg(ilow=0, ihigh=1, dtype=I64), Arg()), dtypes=(F32, I32),
               out_dtype=_second, shapes=(((3, 4), (3, 4)),)),
        OpSpec("select", fn=lambda c1, c2, a, b, **kw: fnp.select([c1, c2], [a, b], **kw),
               ref=lambda c1, c2, a, b, **kw: onp.select([c1, c2], [a, b], **kw),
               inputs=(Arg(dtype=BOOL), Arg(dtype=BOOL), Arg(), Arg()),
               dtypes=(F32, I32, (BOOL, BOOL, F32, I32), (BOOL, BOOL, I8, U8)),
               out_dtype=_promote_from(2),
               shapes=(((3, 4),) * 4, ((3, 4), (4,), (3, 1), ()), ((0,),) * 4, ((),) * 4),
               kwargs=({}, {"default": 7})),
        OpSpec("lexsort", fn=lambda *ks, **kw: fnp.lexsort(list(ks), **kw),
               ref=lambda *ks, **kw: onp.lexsort(list(ks), **kw), inputs=(ties, ties),
               dtypes=(F32, I32, (F32, BOOL)), out_dtype=int64,
               shapes=(((6,), (6,)), ((3, 4), (3, 4)), ((0,), (0,)), ((), ())),
               kwargs=({}, {"axis": 0})),
        OpSpec("partition", ref=onp.partition, inputs=(ties,), dtypes=(F32, I32, BOOL, F16),
               shapes=((3, 4), (5,), (2, 3, 4), ()), canon=_canon_partition,
               kwargs=({"kth": 1}, {"kth": 2, "axis": 0}, {"kth": -1}, {"kth": (0, 2)},
                       {"kth": 3, "axis": None})),
        OpSpec("argpartition", ref=onp.argpartition, inputs=(ties,), dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (5,), (2, 3, 4)), canon=_canon_argpartition,
               out_dtype=int64,
               kwargs=({"kth": 1}, {"kth": 2, "axis": 0}, {"kth": -1}, {"kth": (0, 2)},
                       {"kth": 3, "axis": None})),
        OpSpec("isin", ref=onp.isin, inputs=(ties, ties), out_dtype=boolean,
               dtypes=(F32, I32, (F32, I32), (BOOL, I8)),
               shapes=(((3, 4), (5,)), ((), (3,)), ((0,), (2,)), ((5,), (0,)), ((3, 2), (2, 2))),
               kwargs=({}, {"invert": True})),
        OpSpec("in1d", ref=_ref_in1d, inputs=(ties, ties), out_dtype=boolean,
               dtypes=(F32, I32, (F32, I32)),
               shapes=(((3, 4), (5,)), ((), (3,)), ((0,), (2,)), ((5,), (0,))),
               kwargs=({}, {"invert": True})),
        *[OpSpec(n, ref=getattr(onp, n), inputs=(ties, ties),
                 dtypes=(F32, I32, BOOL, (F32, I32), (I8, U8)),
                 out_dtype=_first if n == "setdiff1d" else arith,
                 shapes=(((6,), (5,)), ((3, 4), (2,)), ((0,), (3,)), ((), (3,)), ((4,), (0,))))
          for n in ("intersect1d", "setdiff1d", "setxor1d", "union1d")],
        OpSpec("intersect1d", id="intersect1d[indices]", ref=onp.intersect1d,
               inputs=(Arg(-20, 20, integer=True, post=lambda x: onp.unique(x)[:x.size]),) * 2,
               dtypes=(F32, (I32, F32)), shapes=(((6,), (5,)),),
               out_dtype=lambda ins, kw: [arith(ins, kw), I64, I64],
               kwargs=({"return_indices": True}, {"assume_unique": True})),
        OpSpec("apply_along_axis", fn=lambda x, **kw: fnp.apply_along_axis(
            lambda r: r[::-1] * 2, kw["axis"], x), ref=_ref_apply_along, sync=True,
               dtypes=(F32, I32), shapes=((3, 4), (2, 3, 4), (5,)),
               kwargs=({"axis": 0}, {"axis": -1})),
        OpSpec("apply_along_axis", id="apply_along_axis[reduce]",
               fn=lambda x: fnp.apply_along_axis(lambda r: r.max(), 1, x),
               ref=lambda x: onp.apply_along_axis(lambda r: r.max(), 1, x), sync=True,
               dtypes=(F32, I32), shapes=((3, 4), (2, 3, 4))),
        OpSpec("apply_over_axes", fn=lambda x, **kw: fnp.apply_over_axes(fnp.sum, x, **kw),
               ref=lambda x, **kw: onp.apply_over_axes(onp.sum, x, **kw), dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (2, 3, 4)), kwargs=({"axes": 0}, {"axes": (0, 1)}, {"axes": [-1]}),
               out_dtype=accum, tol=_RED_TOL),
    ]
    return rows


def _f64s(outs: list[onp.ndarray]) -> list[onp.ndarray]:
    return [onp.asarray(o, dtype=onp.float64) for o in outs]


def _canon_svd(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    """U @ diag(S) @ Vh rebuilds the input; S is unique; U and Vh are orthonormal."""
    if len(outs) == 1:
        return outs
    u, s, vh = _f64s(outs)
    k = s.shape[-1]
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    return [rebuilt, s, _sq(u) @ u, vh @ _sq(vh)]


def _canon_qr(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    """Q @ R rebuilds the input and Q is orthonormal; R alone is unique up to row signs."""
    if len(outs) == 1:
        return [onp.abs(outs[0])]
    q, r = _f64s(outs)
    return [q @ r, _sq(q) @ q, onp.abs(r)]


def _canon_eig(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    """Sorted eigenvalues, and A v - v w (zero) with unit eigenvectors."""
    a = onp.asarray(ins[0], dtype=onp.float64)
    if len(outs) == 1:
        return [onp.sort(outs[0], axis=-1)]
    w, v = _f64s(outs)
    return [onp.sort(w, axis=-1), a @ v - v * w[..., None, :],
            onp.linalg.norm(v, axis=-2) if v.size else v]


def _hermitian(a: onp.ndarray, uplo: str) -> onp.ndarray:
    """The symmetric matrix eigh sees: one triangle mirrored."""
    t = onp.tril(a) if uplo == "L" else onp.triu(a)
    return t + _sq(t) - t * _eye_like(t)


def _canon_eigh(outs: list[onp.ndarray], ins: list[Any], kw: dict[str, Any]) -> list[Any]:
    a = _hermitian(onp.asarray(ins[0], dtype=onp.float64), kw.get("UPLO", "L"))
    w, v = _f64s(outs)
    return [w, a @ v - v * w[..., None, :], _sq(v) @ v]


def _ref_eigh(a: onp.ndarray, UPLO: str = "L") -> Any:
    return onp.linalg.eigh(a.astype(F32) if a.dtype == F16 else a, UPLO=UPLO)


def _linalg_rows() -> list[OpSpec]:
    la = onp.linalg
    wc = Arg(post=_wellcond)
    sq_shapes = ((3, 3), (2, 4, 4), (1, 1), (0, 0), (2, 0, 0), (3, 4))
    fl = dict(out_dtype=floating, tol=_ND_TOL)
    ldt = (F32, F64, I32, F16)
    inf = onp.inf
    rows = [
        OpSpec("linalg.norm", ref=_norm0d(_lin(la.norm)), dtypes=ldt,
               shapes=((3, 4), (5,), (0,), (), (2, 3, 4)),
               kwargs=({}, {"ord": 1}, {"ord": inf, "axis": 0}, {"axis": (0, 1), "ord": "fro"},
                       {"ord": 2, "axis": -1, "keepdims": True}, {"ord": "nuc"},
                       {"ord": -inf}, {"ord": 3, "axis": 0}, {"ord": -2}), **fl),
        OpSpec("linalg.vector_norm", ref=_norm0d(_lin(la.vector_norm)), dtypes=ldt,
               shapes=((3, 4), (5,), (), (0,), (2, 3, 4)),
               kwargs=({}, {"ord": 1}, {"axis": 0, "keepdims": True}, {"ord": inf},
                       {"ord": 0}, {"ord": -1, "axis": (0, 1)}), **fl),
        OpSpec("linalg.matrix_norm", ref=_lin(la.matrix_norm), dtypes=ldt,
               shapes=((3, 4), (2, 3, 4), (5,), (0, 3)),
               kwargs=({}, {"ord": 1}, {"ord": -inf}, {"ord": 2},
                       {"ord": "nuc", "keepdims": True}), **fl),
        OpSpec("linalg.inv", ref=_lin(la.inv), inputs=(wc,), dtypes=ldt, shapes=sq_shapes, **fl),
        OpSpec("linalg.det", ref=_lin(la.det), inputs=(wc,), dtypes=ldt, shapes=sq_shapes,
               out_dtype=floating, tol={F16: (2e-2, 1e-1), F32: (1e-4, 1e-2)}),
        OpSpec("linalg.slogdet", ref=_lin(la.slogdet), inputs=(Arg(post=_realeig),),
               dtypes=ldt, shapes=sq_shapes, out_dtype=_many(floating, 2), tol=_ND_TOL),
        OpSpec("linalg.slogdet", id="linalg.slogdet[random]", ref=_lin(la.slogdet),
               dtypes=(F32, F64), shapes=((3, 3), (2, 4, 4)), out_dtype=_many(floating, 2),
               tol=_ND_TOL),
        OpSpec("linalg.svd", ref=_lin(la.svd), dtypes=ldt,
               shapes=((3, 4), (4, 3), (2, 3, 3), (0, 3), (5,)),
               kwargs=({}, {"full_matrices": False}, {"compute_uv": False}),
               out_dtype=lambda ins, kw: floating(ins, kw) if kw.get("compute_uv") is False
               else [floating(ins, kw)] * 3, canon=_canon_svd, tol=_ND_TOL),
        OpSpec("linalg.svd", id="linalg.svd[square]", ref=la.svd, dtypes=(F32,),
               shapes=((3, 3), (2, 4, 4)), out_dtype=_many(floating, 3), canon=_canon_svd,
               tol=_ND_TOL),
        OpSpec("linalg.svdvals", ref=_lin(la.svdvals), dtypes=ldt,
               shapes=((3, 4), (4, 3), (2, 3, 3), (0, 3), (5,)), **fl),
        OpSpec("linalg.cholesky", ref=_lin(la.cholesky), inputs=(Arg(post=_spd),), dtypes=ldt,
               shapes=sq_shapes, kwargs=({}, {"upper": True}), **fl),
        OpSpec("linalg.qr", ref=_lin(la.qr), dtypes=ldt, shapes=((4, 3), (3, 4), (2, 3, 3),
                                                                 (0, 3), (5,)),
               kwargs=({}, {"mode": "complete"}, {"mode": "r"}),
               out_dtype=lambda ins, kw: floating(ins, kw) if kw.get("mode") == "r"
               else [floating(ins, kw)] * 2, canon=_canon_qr, tol=_ND_TOL),
        OpSpec("linalg.solve", ref=_lin(la.solve), inputs=(wc, Arg()), dtypes=ldt + ((F32, I32),),
               shapes=(((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((0, 0), (0,)),
                       ((3, 3), (4,)), ((2, 3, 3), (3, 1))), **fl),
        OpSpec("linalg.eig", ref=_lin(la.eig), inputs=(Arg(post=_realeig),), dtypes=ldt,
               shapes=sq_shapes, out_dtype=_many(floating, 2), canon=_canon_eig, tol=_ND_TOL),
        OpSpec("linalg.eigvals", ref=_lin(la.eigvals), inputs=(Arg(post=_realeig),), dtypes=ldt,
               shapes=sq_shapes, canon=_canon_eig, **fl),
        OpSpec("linalg.eigh", ref=_ref_eigh, dtypes=ldt, shapes=sq_shapes,
               kwargs=({}, {"UPLO": "U"}), out_dtype=_many(floating, 2), canon=_canon_eigh,
               tol=_ND_TOL),
        OpSpec("linalg.eigvalsh", ref=_lin(la.eigvalsh), dtypes=ldt, shapes=sq_shapes,
               kwargs=({}, {"UPLO": "U"}), **fl),
        OpSpec("linalg.pinv", ref=_lin(la.pinv), dtypes=ldt,
               shapes=((3, 4), (4, 3), (2, 3, 3), (0, 3), (5,)),
               kwargs=({}, {"rcond": 0.1}, {"rtol": 0.1}), **fl),
        OpSpec("linalg.pinv", id="linalg.pinv[hermitian]", ref=_lin(la.pinv),
               inputs=(Arg(post=_spd),), dtypes=(F32, F64), shapes=((3, 3), (2, 4, 4)),
               kwargs=({"hermitian": True},), **fl),
        OpSpec("linalg.lstsq", ref=_lin(la.lstsq), inputs=(Arg(), Arg()), dtypes=ldt, sync=True,
               shapes=(((4, 3), (4,)), ((4, 3), (4, 2)), ((3, 4), (3,)), ((3, 3), (3, 2)),
                       ((4, 3), (3,))), kwargs=({"rcond": None},),
               out_dtype=lambda ins, kw: [floating(ins, kw), floating(ins, kw), I64,
                                          floating(ins, kw)], tol=_ND_TOL),
        OpSpec("linalg.matrix_rank", ref=_lin(la.matrix_rank), inputs=(Arg(post=_lowrank),),
               dtypes=ldt, shapes=((3, 4), (2, 3, 3), (4,), (), (0, 3)), out_dtype=int64,
               kwargs=({}, {"tol": 0.5}, {"rtol": 1e-3})),
        OpSpec("linalg.tensorinv", ref=_lin(la.tensorinv), dtypes=ldt[:3], shapes=((2, 3, 6),),
               inputs=(Arg(post=lambda x: x + 20 * onp.eye(6, dtype=x.dtype).reshape(2, 3, 6)),),
               kwargs=({"ind": 2},), **fl),
        OpSpec("linalg.tensorinv", id="linalg.tensorinv[ind1]", ref=_lin(la.tensorinv),
               dtypes=(F32,), shapes=((6, 2, 3),), kwargs=({"ind": 1},),
               inputs=(Arg(post=lambda x: x + 20 * onp.eye(6, dtype=x.dtype).reshape(6, 2, 3)),),
               **fl),
        OpSpec("linalg.tensorsolve", ref=_lin(la.tensorsolve),
               inputs=(Arg(post=lambda x: x + 20 * onp.eye(6, dtype=x.dtype).reshape(2, 3, 6)),
                       Arg()),
               dtypes=ldt[:3], shapes=(((2, 3, 6), (2, 3)), ((2, 3, 6), (6,))), **fl),
        OpSpec("linalg.cond", ref=_lin(la.cond), inputs=(wc,), dtypes=ldt,
               shapes=((3, 3), (2, 4, 4), (3, 4)),
               kwargs=({}, {"p": "fro"}, {"p": 1}, {"p": -2}, {"p": inf}), **fl),
        OpSpec("linalg.matrix_power", ref=_lin(la.matrix_power),
               inputs=(Arg(-2, 2, post=_wellcond),), dtypes=ldt,
               shapes=((3, 3), (2, 4, 4), (0, 0), (3, 4)),
               kwargs=({"n": 0}, {"n": 1}, {"n": 3}, {"n": -2}),
               out_dtype=lambda ins, kw: floating(ins, kw) if kw["n"] < 0 else _arrays(ins)[0],
               tol=_ND_TOL),
        OpSpec("linalg.multi_dot", fn=_lists(fnp.linalg.multi_dot), ref=_lists(la.multi_dot),
               inputs=(Arg(), Arg(), Arg()), dtypes=(F32, I32, F64, (F32, I32, F16)),
               shapes=(((3, 4), (4, 5), (5, 2)), ((4,), (4, 3), (3,)), ((2, 0), (0, 3), (3, 1)),
                       ((3, 4), (5, 2), (2, 2))), out_dtype=arith, tol=_RED_TOL),
        OpSpec("linalg.multi_dot", id="linalg.multi_dot[2]", fn=_lists(fnp.linalg.multi_dot),
               ref=_lists(la.multi_dot), inputs=(Arg(), Arg()), dtypes=(F32,),
               shapes=(((3, 4), (4,)),), out_dtype=arith, tol=_RED_TOL),
        OpSpec("linalg.cross", ref=la.cross, inputs=(Arg(), Arg()), dtypes=(F32, I32, (F32, I32)),
               shapes=(((3,), (3,)), ((4, 3), (4, 3)), ((4, 3), (3,)), ((2,), (2,)),
                       ((3, 4), (3, 4))),
               kwargs=({}, {"axis": 0}), out_dtype=arith),
        OpSpec("linalg.diagonal", ref=la.diagonal, dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (2, 3, 4), (5,), (0, 2)), kwargs=({}, {"offset": 1},
                                                                 {"offset": -1})),
        OpSpec("linalg.outer", ref=la.outer, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, BOOL, (F32, I32)),
               shapes=(((3,), (4,)), ((0,), (2,)), ((2, 3), (3,)), ((), (2,)))),
        OpSpec("linalg.tensordot", ref=la.tensordot, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, (F32, I32)), tol=_RED_TOL,
               shapes=(((2, 3, 4), (3, 4, 5)), ((3, 4), (3, 4)), ((0, 3), (3, 0))),
               kwargs=({}, {"axes": 1}, {"axes": ((1, 2), (0, 1))}, {"axes": 0})),
        OpSpec("linalg.trace", ref=la.trace, dtypes=ALL, out_dtype=accum, tol=_RED_TOL,
               shapes=((3, 4), (2, 3, 4), (5,), (2, 0, 3)),
               kwargs=({}, {"offset": 1}, {"offset": -1}, {"dtype": F64})),
        OpSpec("linalg.matrix_transpose", ref=la.matrix_transpose, dtypes=(F32, I32, BOOL),
               shapes=((3, 4), (2, 3, 4), (5,), (0, 2))),
        OpSpec("linalg.vecdot", ref=la.vecdot, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, (F32, I32), F64), tol=_RED_TOL,
               shapes=(((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 3)), ((0, 3), (3,)),
                       ((3,), (4,))), kwargs=({}, {"axis": 0})),
        # np's top-level products
        OpSpec("outer", ref=onp.outer, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, F64, BOOL, (F32, I32)),
               shapes=(((3,), (4,)), ((2, 3), (2,)), ((), (3,)), ((0,), (3,)))),
        OpSpec("inner", ref=onp.inner, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, F64, (F32, I32)), tol=_RED_TOL,
               shapes=(((3,), (3,)), ((2, 3), (4, 3)), ((), (3,)), ((2, 0), (3, 0)),
                       ((3,), (4,)))),
        OpSpec("vdot", ref=onp.vdot, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, F64, (F32, I32)), tol=_RED_TOL,
               shapes=(((3,), (3,)), ((2, 3), (3, 2)), ((), ()), ((0,), (0,)), ((3,), (4,)))),
        OpSpec("tensordot", ref=onp.tensordot, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, F64, (F32, I32)), tol=_RED_TOL,
               shapes=(((2, 3, 4), (3, 4, 5)), ((3, 4), (3, 4)), ((0, 3), (3, 0)),
                       ((2, 3), (4, 5))),
               kwargs=({}, {"axes": 1}, {"axes": ((1, 2), (0, 1))}, {"axes": 0},
                       {"axes": ([0], [1])})),
        OpSpec("kron", ref=onp.kron, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, BOOL, (F32, I32)),
               shapes=(((2, 3), (3, 2)), ((3,), (2,)), ((), (3,)), ((2, 0), (2, 2)),
                       ((2, 3, 2), (2,)))),
        OpSpec("cross", ref=onp.cross, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32, I32, (F32, I32)),
               shapes=(((3,), (3,)), ((4, 3), (4, 3)), ((4, 3), (3,)), ((2,), (3,)),
                       ((3, 4), (3, 4))), kwargs=({}, {"axis": 0})),
        OpSpec("cross", id="cross[axes]", ref=onp.cross, inputs=(Arg(), Arg()), out_dtype=arith,
               dtypes=(F32,), shapes=(((3, 4), (4, 3)),),
               kwargs=({"axisa": 0, "axisb": 1, "axisc": 0},)),
        OpSpec("trace", ref=onp.trace, dtypes=ALL, out_dtype=accum, tol=_RED_TOL,
               shapes=((3, 4), (2, 3, 4), (5,), (0, 3)),
               kwargs=({}, {"offset": 1}, {"axis1": 1, "axis2": 2}, {"dtype": F64})),
    ]
    for sub, shapes in (("ij,jk->ik", (((3, 4), (4, 5)), ((0, 4), (4, 2)))),
                        ("ii->i", (((3, 3),), ((0, 0),))), ("ij->", (((3, 4),), ((2, 0),))),
                        ("i,i->", (((3,), (3,)),)), ("bij,bjk->bik", (((2, 3, 4), (2, 4, 5)),)),
                        ("...ij->...ji", (((2, 3, 4),), ((3,),))), ("ij,ij->ij", (((3, 4),) * 2,)),
                        ("i,j", (((3,), (4,)),)), ("ij,jk,kl->il", (((2, 3), (3, 4), (4, 2)),))):
        n = sub.split("->")[0].count(",") + 1
        rows.append(OpSpec("einsum", id=f"einsum[{sub}]", inputs=(Arg(),) * n,
                           fn=lambda *xs, _s=sub: fnp.einsum(_s, *xs),
                           ref=lambda *xs, _s=sub: onp.einsum(_s, *xs), out_dtype=arith,
                           dtypes=((F32, I32, (F32, I32) + (F32,) * (n - 2)) if n > 1
                                   else (F32, I32, F64)),
                           shapes=shapes if n > 1 else tuple(s[0] for s in shapes),
                           tol=_RED_TOL))
    rows.append(OpSpec("einsum", id="einsum[sublists]", inputs=(Arg(), Arg()),
                       fn=lambda a, b: fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]),
                       ref=lambda a, b: onp.einsum(a, [0, 1], b, [1, 2], [0, 2]), out_dtype=arith,
                       dtypes=(F32,), shapes=(((3, 4), (4, 2)),), tol=_RED_TOL))
    return rows


def _erfinv(p: float) -> float:
    """erfinv by bisection on math.erf, polished by Newton steps (an independent reference)."""
    if math.isnan(p) or abs(p) > 1:
        return math.nan
    if abs(p) == 1:
        return math.copysign(math.inf, p)
    lo, hi = -6.0, 6.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid) < p else (lo, mid)
    x = (lo + hi) / 2
    for _ in range(2):
        x -= (math.erf(x) - p) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def _vec(f: Callable[[float], float]) -> Callable[..., onp.ndarray]:
    return lambda x: onp.vectorize(f, otypes=[onp.float64])(onp.asarray(x, dtype=onp.float64))


def _ref_sequence_mask(data: onp.ndarray, length: onp.ndarray, use_sequence_length: bool = False,
                       value: float = 0.0, axis: int = 0) -> onp.ndarray:
    steps = onp.arange(data.shape[axis])
    keep = steps[:, None] < length[None, :] if axis == 0 else steps[None, :] < length[:, None]
    keep = keep.reshape(keep.shape + (1,) * (data.ndim - 2))
    return onp.where(keep, data, onp.asarray(value).astype(data.dtype))


def _ref_batch_dot(a: onp.ndarray, b: onp.ndarray, transpose_a: bool = False,
                   transpose_b: bool = False) -> onp.ndarray:
    return onp.matmul(_sq(a) if transpose_a else a, _sq(b) if transpose_b else b)


def _ref_gather_nd(data: onp.ndarray, idx: onp.ndarray) -> onp.ndarray:
    return data[tuple(idx.astype(onp.int64))]


def _ref_arange_like(x: onp.ndarray, start: float = 0.0, step: float = 1.0, repeat: int = 1,
                     axis: int | None = None) -> onp.ndarray:
    shape = x.shape if axis is None else (x.shape[axis],)
    n = math.prod(shape)
    return (start + step * (onp.arange(n) // repeat)).reshape(shape)


def _ref_batch_flatten(x: onp.ndarray) -> onp.ndarray:
    if x.ndim == 0:
        raise ValueError("batch_flatten of a 0-d array")
    return x.reshape(x.shape[0], math.prod(x.shape[1:]))


def _ref_reshape_like(lhs: onp.ndarray, rhs: onp.ndarray, lhs_begin: int | None = None,
                      lhs_end: int | None = None, rhs_begin: int | None = None,
                      rhs_end: int | None = None) -> onp.ndarray:
    ls, rs = list(lhs.shape), list(rhs.shape)
    new = ls[:lhs_begin or 0] + rs[rhs_begin:rhs_end] + (ls[lhs_end:] if lhs_end is not None
                                                           else [])
    return lhs.reshape(new)


def _ref_broadcast_like(lhs: onp.ndarray, rhs: onp.ndarray, lhs_axes: Any = None,
                        rhs_axes: Any = None) -> onp.ndarray:
    if lhs_axes is None:
        if lhs.ndim != rhs.ndim:  # MXNet: no new leading axes (unlike np.broadcast_to)
            raise ValueError(f"broadcast_like: {lhs.shape} vs {rhs.shape}")
        return onp.broadcast_to(lhs, rhs.shape)
    shape = list(lhs.shape)
    for la, ra in zip(lhs_axes, rhs_axes):
        shape[la] = rhs.shape[ra]
    return onp.broadcast_to(lhs, shape)


def _ref_slice(x: onp.ndarray, begin: Any, end: Any, step: Any = None) -> onp.ndarray:
    step = step or (None,) * len(begin)
    return x[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))]


def _ref_slice_axis(x: onp.ndarray, axis: int, begin: int, end: int | None) -> onp.ndarray:
    n = x.shape[axis]
    b, e = begin % n if n and begin < 0 else begin, n if end is None else end % n if end < 0 \
        else end
    if not 0 <= b <= e <= n:  # MXNet raises where Python slicing would clip
        raise ValueError(f"slice_axis: begin={begin}, end={end} for size {n}")
    key = [slice(None)] * x.ndim
    key[axis] = slice(begin, end)
    return x[tuple(key)]


def _ref_index_modify(add: bool) -> Callable[..., onp.ndarray]:
    def run(a: onp.ndarray, ind: onp.ndarray, val: onp.ndarray) -> onp.ndarray:
        ind = ind.astype(onp.int64)
        ind = ind.reshape(1, 1) if ind.ndim == 0 else ind[None] if ind.ndim == 1 else ind
        key = tuple(ind)
        vals = onp.broadcast_to(val, (ind.shape[1],) + a.shape[ind.shape[0]:]).astype(a.dtype)
        out = a.copy()
        if add:
            onp.add.at(out, key, vals)
        else:
            out[key] = vals
        return out
    return run


def _ref_smooth_l1(x: onp.ndarray, scalar: float = 1.0) -> onp.ndarray:
    s2 = scalar * scalar
    return onp.where(onp.abs(x) < 1 / s2, 0.5 * s2 * x * x, onp.abs(x) - 0.5 / s2)


def _distinct(n: int) -> Callable[[onp.ndarray], onp.ndarray]:
    """Index arrays without repeated positions (index_update)."""
    return lambda x: (onp.arange(x.size)[::-1] % n).reshape(x.shape)


def _npx_rows() -> list[OpSpec]:
    fd = (F32, I32, BOOL, F16)
    fl = dict(out_dtype=floating, tol=_TRIG_TOL)
    rs = [((2, 3, 4), (-2, -1), (2, 12)), ((2, 3, 4), (-2, -5), (2, 12)),
          ((2, 3, 4), (-5, -2), (6, 4)), ((2, 3, 4), (-6, 1, -1, -2, -2), (1, 2, 3, 4)),
          ((2, 3, 4), (-4,), (2, 3, 4)), ((1, 3, 4), (-3, -2, -2), (3, 4)),
          ((2, 3, 4), (4, -1), (4, 6)), ((2, 0, 4), (-2, -1), (2, 0)),
          ((2, 3, 4), (-2, -6, -1, 2, -2), (2, 1, 2, 3, 4)), ((2, 3, 4), (0, 5), None)]
    rows = [
        *[OpSpec("npx.reshape", id=f"npx.reshape[{src}->{new}]",
                 fn=lambda x, _n=new: npx.reshape(x, _n),
                 ref=(lambda x, _t=to: x.reshape(_t)) if to is not None else
                 (lambda x: onp.reshape(x, (0, 5))), dtypes=fd, shapes=(src,))
          for src, new, to in rs],
        OpSpec("npx.reshape", id="npx.reshape[reverse]",
               fn=lambda x: npx.reshape(x, (-1, -2), reverse=True),
               ref=lambda x: x.reshape(-1, x.shape[-1]), dtypes=(F32,), shapes=((2, 3, 4),)),
        OpSpec("npx.sequence_mask", fn=npx.sequence_mask, ref=_ref_sequence_mask,
               inputs=(Arg(), Arg(0, 4, integer=True)), dtypes=((F32, F32), (I32, I64),
                                                                 (F16, F32), (F64, I32)),
               shapes=(((4, 3), (3,)), ((4, 3, 2), (3,)), ((0, 3), (3,)), ((4, 0), (0,))),
               kwargs=({"use_sequence_length": True},
                       {"use_sequence_length": True, "value": -1.0}), ref_upcast=False),
        OpSpec("npx.sequence_mask", id="npx.sequence_mask[axis1]", fn=npx.sequence_mask,
               ref=_ref_sequence_mask, inputs=(Arg(), Arg(0, 4, integer=True)),
               dtypes=((F32, F32),), shapes=(((3, 4), (3,)), ((3, 4, 2), (3,))),
               kwargs=({"use_sequence_length": True, "axis": 1},), ref_upcast=False),
        OpSpec("npx.sequence_mask", id="npx.sequence_mask[off]", fn=npx.sequence_mask,
               ref=lambda x: x.copy(), dtypes=fd, shapes=((4, 3), (4, 3, 2))),
        OpSpec("npx.batch_dot", fn=npx.batch_dot, ref=_ref_batch_dot, inputs=(Arg(), Arg()),
               dtypes=(F32, I32, F64, (F32, I32)), out_dtype=arith, tol=_RED_TOL,
               shapes=(((2, 3, 4), (2, 4, 5)), ((0, 3, 4), (0, 4, 2)), ((2, 2, 3, 4), (2, 2, 4, 1)),
                       ((2, 3, 4), (3, 4, 5)))),
        OpSpec("npx.batch_dot", id="npx.batch_dot[T]", fn=npx.batch_dot, ref=_ref_batch_dot,
               inputs=(Arg(), Arg()), dtypes=(F32,), out_dtype=arith, tol=_RED_TOL,
               shapes=(((2, 4, 3), (2, 5, 4)),),
               kwargs=({"transpose_a": True, "transpose_b": True},)),
        OpSpec("npx.batch_dot", id="npx.batch_dot[Tb]", fn=npx.batch_dot, ref=_ref_batch_dot,
               inputs=(Arg(), Arg()), dtypes=(F32,), out_dtype=arith, tol=_RED_TOL,
               shapes=(((2, 3, 4), (2, 5, 4)),), kwargs=({"transpose_b": True},)),
        OpSpec("npx.gather_nd", fn=npx.gather_nd, ref=_ref_gather_nd,
               inputs=(Arg(), Arg(ilow=-2, ihigh=1, low=-2, high=1, integer=True)),
               dtypes=((F32, I64), (I32, I32), (BOOL, I64), (F16, F32)), ref_upcast=False,
               shapes=(((3, 4), (2, 5)), ((3, 4), (1, 5)), ((2, 3, 4), (3, 1)), ((3, 4), (2, 0)),
                       ((3, 4), (2, 2, 2)))),
        OpSpec("npx.batch_flatten", fn=npx.batch_flatten, ref=_ref_batch_flatten, dtypes=fd,
               shapes=((2, 3, 4), (3, 4), (5,), (0, 3), ())),
        OpSpec("npx.cast", fn=npx.cast, ref=lambda x, dtype: x.astype(dtype), dtypes=fd,
               inputs=(Arg(-3, 3),), out_dtype=kw_dtype(None),
               kwargs=({"dtype": "int32"}, {"dtype": F16}, {"dtype": "bool"}, {"dtype": F64})),
        OpSpec("npx.erf", fn=npx.erf, ref=_vec(math.erf), dtypes=ALL[:7], inputs=(Arg(-3, 3),),
               **fl),
        OpSpec("npx.erfinv", fn=npx.erfinv, ref=_vec(_erfinv), dtypes=ALL[:7],
               inputs=(Arg(-0.99, 0.99),), **fl),
        OpSpec("npx.gamma", fn=npx.gamma, ref=_vec(math.gamma), dtypes=ALL[:7],
               inputs=(Arg(0.1, 5.0),), **fl),
        OpSpec("npx.gamma", id="npx.gamma[negative]", fn=npx.gamma, ref=_vec(math.gamma),
               dtypes=(F64,), inputs=(Arg(-3.9, -0.1, post=lambda x: onp.where(
                   onp.abs(x - onp.round(x)) < 0.1, x + 0.3, x)),), **fl),
        OpSpec("npx.gammaln", fn=npx.gammaln, ref=_vec(math.lgamma), dtypes=ALL[:7],
               inputs=(Arg(0.1, 8.0),), **fl),
        OpSpec("npx.arange_like", fn=npx.arange_like, ref=_ref_arange_like,
               dtypes=(F32, I32, F64, F16), shapes=((3, 4), (5,), (), (0,), (2, 3, 4)),
               kwargs=({}, {"start": 2.0, "step": 3.0}, {"repeat": 2}, {"axis": -1},
                       {"start": 1.0, "step": 0.5, "axis": 0})),
        OpSpec("npx.reshape_like", fn=npx.reshape_like, ref=_ref_reshape_like,
               inputs=(Arg(), Arg()), dtypes=((F32, F32), (I32, F16), (BOOL, F32)),
               out_dtype=_first,
               shapes=(((3, 4), (2, 6)), ((2, 3, 4), (6, 4)), ((), (1, 1)), ((0, 3), (3, 0)))),
        OpSpec("npx.reshape_like", id="npx.reshape_like[ranges]", fn=npx.reshape_like,
               ref=_ref_reshape_like, inputs=(Arg(), Arg()), dtypes=((F32, F32),),
               out_dtype=_first, shapes=(((2, 3, 4), (6, 12)),),
               kwargs=({"lhs_begin": 0, "lhs_end": 2, "rhs_begin": 0, "rhs_end": 1},
                       {"lhs_begin": 1, "lhs_end": None, "rhs_begin": 1, "rhs_end": None},
                       {"lhs_begin": -2, "rhs_begin": -1})),
        OpSpec("npx.broadcast_like", fn=npx.broadcast_like, ref=_ref_broadcast_like,
               inputs=(Arg(), Arg()), dtypes=((F32, F32), (I32, F16), (BOOL, F32)),
               out_dtype=_first, shapes=(((3, 1), (3, 4)), ((1,), (2, 3)), ((), (2, 2)),
                                         ((1, 4), (0, 4)))),
        OpSpec("npx.broadcast_like", id="npx.broadcast_like[axes]", fn=npx.broadcast_like,
               ref=_ref_broadcast_like, inputs=(Arg(), Arg()), dtypes=((F32, F32),),
               out_dtype=_first, shapes=(((3, 1), (5, 4)),),
               kwargs=({"lhs_axes": (1,), "rhs_axes": (0,)},)),
        OpSpec("npx.slice", fn=npx.slice, ref=_ref_slice, dtypes=fd,
               shapes=((3, 4), (2, 3, 4), (0, 4)),
               kwargs=({"begin": (0, 1), "end": (2, 3)},
                       {"begin": (None,), "end": (None,), "step": (-1,)},
                       {"begin": (1, None), "end": (None, -1), "step": (2, 1)})),
        OpSpec("npx.slice_axis", fn=npx.slice_axis, ref=_ref_slice_axis, dtypes=fd,
               shapes=((3, 4), (2, 3, 4), (0, 4)),
               kwargs=({"axis": 0, "begin": 1, "end": 2}, {"axis": -1, "begin": 0, "end": None},
                       {"axis": 1, "begin": -2, "end": -1})),
        OpSpec("npx.nonzero", fn=npx.nonzero, ref=lambda x: onp.argwhere(onp.atleast_1d(x)),
               inputs=(Arg(-2, 2, zeros=0.5),),
               dtypes=ALL, shapes=RED_SHAPES, out_dtype=int64),
        OpSpec("npx.index_add", fn=npx.index_add, ref=_ref_index_modify(True),
               inputs=(Arg(), Arg(ilow=0, ihigh=2, low=0, high=2, integer=True), Arg()),
               dtypes=((F32, I64, F32), (I32, I32, I32), (F32, I64, I32), (F16, F32, F16)),
               ref_upcast=False,
               shapes=(((5, 3), (4,), (4, 3)), ((5, 3), (4,), (3,)), ((5, 3), (4,), ()),
                       ((3, 4, 2), (2, 4), (4, 2)), ((5,), (), ()))),
        OpSpec("npx.index_update", fn=npx.index_update, ref=_ref_index_modify(False),
               inputs=(Arg(), Arg(dtype=I64, post=_distinct(3)), Arg()),
               dtypes=((F32, I64, F32), (I32, I64, I32), (F32, I64, F16)), ref_upcast=False,
               shapes=(((5, 3), (3,), (3, 3)), ((5, 3), (3,), (3,)), ((3, 4, 2), (2, 3), (3, 2)),
                       ((5,), (), ()))),
        OpSpec("npx.stop_gradient", fn=npx.stop_gradient, ref=onp.copy, dtypes=ALL),
        OpSpec("npx.shape_array", fn=npx.shape_array,
               ref=lambda x: onp.array(x.shape, dtype=onp.int64), dtypes=(F32, BOOL),
               out_dtype=int64),
        OpSpec("npx.softsign", fn=npx.softsign, ref=lambda x: x / (1 + onp.abs(x)),
               dtypes=ALL[:7], **fl),
        OpSpec("npx.log_sigmoid", fn=npx.log_sigmoid, ref=lambda x: -onp.logaddexp(0, -x),
               dtypes=ALL[:7], inputs=(Arg(-20, 20),), **fl),
        OpSpec("npx.mish", fn=npx.mish, ref=lambda x: x * onp.tanh(onp.logaddexp(0, x)),
               dtypes=ALL[:7], **fl),
        OpSpec("npx.smooth_l1", fn=npx.smooth_l1, ref=_ref_smooth_l1, dtypes=ALL[:7],
               inputs=(Arg(-3, 3),), kwargs=({}, {"scalar": 2.0}, {"scalar": 0.5}), **fl),
    ]
    return rows


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


# -- npx network operators ------------------------------------------------------------------------

_SELU_L, _SELU_A = 1.0507009873554805, 1.6732632423543772
_ACT: dict[str, Callable[[onp.ndarray], onp.ndarray]] = {
    "relu": lambda x: onp.maximum(x, 0), "sigmoid": _ref_sigmoid, "tanh": onp.tanh,
    "softrelu": lambda x: onp.logaddexp(0, x), "softsign": lambda x: x / (1 + onp.abs(x)),
    "log_sigmoid": lambda x: -onp.logaddexp(0, -x),
    "mish": lambda x: x * onp.tanh(onp.logaddexp(0, x)),
}


def _ref_activation(x: onp.ndarray, act_type: str = "relu") -> onp.ndarray:
    return _ACT[act_type](x)


def _ref_leaky_relu(x: onp.ndarray, gamma: onp.ndarray | None = None, act_type: str = "leaky",
                    slope: float = 0.25, lower_bound: float = 0.125,
                    upper_bound: float = 0.334) -> onp.ndarray:
    if act_type == "prelu":
        g = gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) if gamma.size > 1 and x.ndim > 1 \
            else gamma.reshape(-1)[0]
        return onp.where(x > 0, x, g * x)
    if act_type == "rrelu":  # outside training: the mean slope
        return onp.where(x > 0, x, (lower_bound + upper_bound) / 2 * x)
    if act_type == "elu":
        return onp.where(x > 0, x, slope * onp.expm1(x))
    if act_type == "selu":
        return _SELU_L * onp.where(x > 0, x, _SELU_A * onp.expm1(x))
    if act_type == "gelu":
        return 0.5 * x * (1 + _vec(math.erf)(x / math.sqrt(2)))
    if act_type == "gelu_tanh":
        return 0.5 * x * (1 + onp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return onp.where(x > 0, x, slope * x)


def _ref_masked_softmax(x: onp.ndarray, mask: onp.ndarray, axis: int = -1,
                        temperature: float = 1.0, log: bool = False) -> onp.ndarray:
    m = onp.broadcast_to(mask.astype(bool), x.shape)
    if x.size == 0:
        return x.copy()
    s = onp.where(m, x / temperature, -onp.inf)
    top = onp.max(s, axis=axis, keepdims=True)
    top = onp.where(onp.isfinite(top), top, 0)
    e = onp.where(m, onp.exp(s - top), 0)
    tot = onp.sum(e, axis=axis, keepdims=True)
    if log:
        return onp.where(m, s - top - onp.log(onp.where(tot > 0, tot, 1)), -onp.inf)
    return e / onp.where(tot > 0, tot, 1)


def _ref_fully_connected(x: onp.ndarray, w: onp.ndarray, b: onp.ndarray | None = None,
                         flatten: bool = True, **kw: Any) -> onp.ndarray:
    if flatten:
        x = x.reshape(x.shape[0], math.prod(x.shape[1:]))
    y = x @ w.T
    return y + b if b is not None else y


def _conv_args(nd: int, stride: Any, dilate: Any, pad: Any) -> tuple[Any, Any, Any]:
    out = (tuple(stride or (1,) * nd), tuple(dilate or (1,) * nd), tuple(pad or (0,) * nd))
    if any(len(a) != nd for a in out):
        raise ValueError(f"{out}: one entry per spatial dimension ({nd}) expected")
    return out


def _ref_convolution(x: onp.ndarray, w: onp.ndarray, b: onp.ndarray | None = None,
                     stride: Any = None, dilate: Any = None, pad: Any = None,
                     num_group: int = 1, **kw: Any) -> onp.ndarray:
    """Cross-correlation (NC + spatial), summed over the kernel offsets."""
    nd = x.ndim - 2
    stride, dilate, pad = _conv_args(nd, stride, dilate, pad)
    xp = onp.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    k = w.shape[2:]
    size = [(xp.shape[2 + i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    n, c, f, g = x.shape[0], x.shape[1], w.shape[0], num_group
    xg = xp.reshape(n, g, c // g, *xp.shape[2:])
    wg = w.reshape(g, f // g, c // g, *k)
    out = onp.zeros((n, g, f // g, *size), dtype=onp.result_type(x, w))
    for off in itertools.product(*[range(kk) for kk in k]):
        sl = tuple(slice(off[i] * dilate[i], off[i] * dilate[i] + stride[i] * (size[i] - 1) + 1,
                         stride[i]) for i in range(nd))
        out += onp.einsum("ngc...,gfc->ngf...", xg[(slice(None),) * 3 + sl],
                          wg[(Ellipsis, *off)])
    out = out.reshape(n, f, *size)
    return out + b.reshape(1, f, *(1,) * nd) if b is not None else out


def _ref_deconvolution(x: onp.ndarray, w: onp.ndarray, b: onp.ndarray | None = None,
                       stride: Any = None, dilate: Any = None, pad: Any = None, adj: Any = None,
                       num_group: int = 1, **kw: Any) -> onp.ndarray:
    """Transposed convolution: each input element scatters ``x * w`` into the output."""
    nd = x.ndim - 2
    stride, dilate, pad = _conv_args(nd, stride, dilate, pad)
    adj = tuple(adj or (0,) * nd)
    k = w.shape[2:]
    n, c, g = x.shape[0], x.shape[1], num_group
    f = w.shape[1] * g
    full = [stride[i] * (x.shape[2 + i] - 1) + dilate[i] * (k[i] - 1) + 1 for i in range(nd)]
    y = onp.zeros((n, g, f // g, *[full[i] + adj[i] for i in range(nd)]),
                  dtype=onp.result_type(x, w))
    xg = x.reshape(n, g, c // g, *x.shape[2:])
    wg = w.reshape(g, c // g, f // g, *k)
    for off in itertools.product(*[range(kk) for kk in k]):
        sl = tuple(slice(off[i] * dilate[i],
                         off[i] * dilate[i] + stride[i] * (x.shape[2 + i] - 1) + 1, stride[i])
                   for i in range(nd))
        y[(slice(None),) * 3 + sl] += onp.einsum("ngc...,gcf->ngf...", xg, wg[(Ellipsis, *off)])
    size = [full[i] - 2 * pad[i] + adj[i] for i in range(nd)]
    y = y[(slice(None),) * 3 + tuple(slice(pad[i], pad[i] + size[i]) for i in range(nd))]
    y = y.reshape(n, f, *size)
    return y + b.reshape(1, f, *(1,) * nd) if b is not None else y


def _ref_pooling(x: onp.ndarray, kernel: Any = None, stride: Any = None, pad: Any = None,
                 pool_type: str = "max", pooling_convention: str = "valid",
                 global_pool: bool = False, count_include_pad: bool | None = None,
                 p_value: int | None = None) -> onp.ndarray:
    nd = x.ndim - 2
    if global_pool:
        kernel, stride, pad = x.shape[2:], (1,) * nd, (0,) * nd
    stride, _, pad = _conv_args(nd, stride, None, pad)
    k = tuple(kernel)
    size = []
    for i in range(nd):
        span = x.shape[2 + i] + 2 * pad[i] - k[i]
        size.append((-(-span // stride[i]) if pooling_convention == "full"
                     else span // stride[i]) + 1)
    extra = [max(0, (size[i] - 1) * stride[i] + k[i] - x.shape[2 + i] - 2 * pad[i])
             for i in range(nd)]
    widths = [(0, 0), (0, 0)] + [(pad[i], pad[i] + extra[i]) for i in range(nd)]
    fill = -onp.inf if pool_type == "max" else 0
    xp = onp.pad(x.astype(onp.float64), widths, constant_values=fill)
    ones = onp.pad(onp.ones(x.shape[2:]), widths[2:])
    win = onp.lib.stride_tricks.sliding_window_view(xp, k, axis=tuple(range(2, 2 + nd)))
    cnt = onp.lib.stride_tricks.sliding_window_view(ones, k)
    sel = (slice(None),) * 2 + tuple(slice(None, (size[i] - 1) * stride[i] + 1, stride[i])
                                     for i in range(nd))
    win, cnt = win[sel], cnt[sel[2:]]
    axes = tuple(range(-nd, 0))
    if pool_type == "max":
        return win.max(axis=axes)
    if pool_type == "sum":
        return win.sum(axis=axes)
    if pool_type == "lp":
        return (onp.abs(win) ** p_value).sum(axis=axes) ** (1 / p_value)
    if count_include_pad is False:
        return win.sum(axis=axes) / cnt.sum(axis=axes)
    return win.mean(axis=axes)


def _ref_batch_norm(x: onp.ndarray, gamma: onp.ndarray, beta: onp.ndarray, mean: onp.ndarray,
                    var: onp.ndarray, eps: float = 1e-3, fix_gamma: bool = True,
                    axis: int = 1, output_mean_var: bool = False, train: bool = False,
                    **kw: Any) -> Any:
    ax = axis % x.ndim
    red = tuple(i for i in range(x.ndim) if i != ax)
    if train:
        mean, var = x.mean(axis=red), x.var(axis=red)
    shape = [1] * x.ndim
    shape[ax] = -1
    g = onp.ones_like(gamma) if fix_gamma else gamma
    inv = 1 / onp.sqrt(var + eps)
    out = (x - mean.reshape(shape)) * (inv * g).reshape(shape) + beta.reshape(shape)
    return (out, mean, inv) if output_mean_var else out


def _in_mode(f: Callable[..., Any], train: bool) -> Callable[..., Any]:
    """``f`` in training or inference mode, whatever the caller's (the gradient checks record,
    and so train, while their finite differences do not)."""
    def run(*xs: Any, **kw: Any) -> Any:
        with autograd.train_mode() if train else autograd.predict_mode():
            return f(*xs, **kw)
    return run


def _batch_norm(train: bool) -> Callable[..., Any]:
    return _in_mode(npx.batch_norm, train)


def _seeded_dropout(x: Any, **kw: Any) -> Any:
    """Training-mode dropout with the same mask on every call (a fixed seed)."""
    fnp.random.seed(1234)
    return _in_mode(npx.dropout, True)(x, **kw)


def _ref_layer_norm(x: onp.ndarray, gamma: onp.ndarray, beta: onp.ndarray, axis: int = -1,
                    eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    mean = x.mean(axis=axis, keepdims=True)
    std = onp.sqrt(x.var(axis=axis, keepdims=True) + eps)
    shape = [1] * x.ndim
    shape[axis] = -1
    out = (x - mean) / std * gamma.reshape(shape) + beta.reshape(shape)
    return (out, mean, std) if output_mean_var else out


def _ref_group_norm(x: onp.ndarray, gamma: onp.ndarray, beta: onp.ndarray, num_groups: int = 1,
                    eps: float = 1e-5) -> onp.ndarray:
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(f"{c} channels in {num_groups} groups")
    xg = x.reshape(n, num_groups, -1)
    out = (xg - xg.mean(axis=-1, keepdims=True)) / onp.sqrt(xg.var(axis=-1, keepdims=True) + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if gamma.size == num_groups != c:  # MXNet 1.x: per-group gamma/beta
        out = out * gamma.reshape(1, -1, 1) + beta.reshape(1, -1, 1)
        return out.reshape(x.shape)
    return out.reshape(x.shape) * gamma.reshape(shape) + beta.reshape(shape)


def _ref_instance_norm(x: onp.ndarray, gamma: onp.ndarray, beta: onp.ndarray,
                       eps: float = 1e-3) -> onp.ndarray:
    red = tuple(range(2, x.ndim))
    out = (x - x.mean(axis=red, keepdims=True)) / onp.sqrt(x.var(axis=red, keepdims=True) + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return out * gamma.reshape(shape) + beta.reshape(shape)


def _ref_embedding(idx: onp.ndarray, w: onp.ndarray, **kw: Any) -> onp.ndarray:
    return w[onp.clip(idx.astype(onp.int64), 0, w.shape[0] - 1)]


def _ref_softmax_length(x: onp.ndarray, length: onp.ndarray, axis: int = -1,
                        log: bool = False) -> onp.ndarray:
    pos = onp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - 1 - axis % x.ndim))
    keep = pos < onp.expand_dims(length.astype(onp.int64), axis)
    out = _ref_masked_softmax(x, keep, axis, log=log)
    return onp.where(keep, out, 0)


def _ref_constraint_violated(x: onp.ndarray) -> onp.ndarray:
    raise ValueError("negative")  # (an input of zeros: the constraint fails)


def _nn_rows() -> list[OpSpec]:
    fl = (F32, F64, F16)
    pos = Arg(0.5, 2.0)
    conv_dt = (F32, F64)
    rows = [
        OpSpec("npx.activation", fn=npx.activation, ref=_ref_activation, dtypes=fl,
               kwargs=tuple({"act_type": a} for a in _ACT), tol=_TRIG_TOL,
               shapes=((3, 4), (), (0,), (2, 3, 4))),
        OpSpec("npx.leaky_relu", fn=_in_mode(npx.leaky_relu, False), ref=_ref_leaky_relu,
               dtypes=fl,
               tol=_TRIG_TOL, shapes=((3, 4), (), (0,), (2, 3, 4)),
               kwargs=({}, {"slope": 0.1}, {"act_type": "elu", "slope": 0.7},
                       {"act_type": "selu"}, {"act_type": "gelu"}, {"act_type": "gelu_tanh"},
                       {"act_type": "rrelu"})),
        OpSpec("npx.leaky_relu", id="npx.leaky_relu[prelu]",
               fn=lambda x, g: npx.leaky_relu(x, g, act_type="prelu"),
               ref=lambda x, g: _ref_leaky_relu(x, g, act_type="prelu"), inputs=(Arg(), pos),
               dtypes=(F32, F64), shapes=(((2, 3, 4), (3,)), ((2, 3), (1,)), ((4, 3), (3,))),
               out_dtype=_first, tol=_TRIG_TOL),
        *[OpSpec(f"npx.{n}", fn=getattr(npx, n),
                 ref=lambda x, m, _log=log, **kw: _ref_masked_softmax(x, m, log=_log, **kw),
                 inputs=(Arg(), Arg(dtype=BOOL)), dtypes=fl, out_dtype=_first, tol=_TRIG_TOL,
                 shapes=(((3, 4), (3, 4)), ((2, 3, 4), (3, 4)), ((5,), (5,)), ((0, 4), (0, 4))),
                 kwargs=({}, {"axis": 0}, {"temperature": 2.0}), grad_args=(0,))
          for n, log in (("masked_softmax", False), ("masked_log_softmax", True))],
        OpSpec("npx.softmax", id="npx.softmax[length]",
               fn=lambda x, n, **kw: npx.softmax(x, length=n, use_length=True, **kw),
               ref=_ref_softmax_length, inputs=(Arg(), Arg(1, 4, dtype=I32)), dtypes=(F32, F64),
               shapes=(((3, 4), (3,)), ((2, 3, 4), (2, 3))), out_dtype=_first, tol=_TRIG_TOL),
        OpSpec("npx.fully_connected", fn=npx.fully_connected, ref=_ref_fully_connected,
               inputs=(Arg(), Arg(), Arg()), dtypes=(F32, F64, F16), out_dtype=_first,
               shapes=(((4, 3), (5, 3), (5,)), ((2, 3, 4), (5, 12), (5,)), ((0, 3), (2, 3), (2,)),
                       ((4, 3), (5, 2), (5,))), tol=_RED_TOL),
        OpSpec("npx.fully_connected", id="npx.fully_connected[flatten=False]",
               fn=lambda x, w, b: npx.fully_connected(x, w, b, flatten=False),
               ref=lambda x, w, b: _ref_fully_connected(x, w, b, flatten=False),
               inputs=(Arg(), Arg(), Arg()), dtypes=(F32,), out_dtype=_first, tol=_RED_TOL,
               shapes=(((2, 3, 4), (5, 4), (5,)),)),
        OpSpec("npx.fully_connected", id="npx.fully_connected[no_bias]",
               fn=lambda x, w: npx.fully_connected(x, w, no_bias=True, num_hidden=w.shape[0]),
               ref=lambda x, w: _ref_fully_connected(x, w), inputs=(Arg(), Arg()),
               dtypes=(F32,), out_dtype=_first, tol=_RED_TOL, shapes=(((4, 3), (5, 3)),)),
        OpSpec("npx.convolution", fn=npx.convolution, ref=_ref_convolution,
               inputs=(Arg(), Arg(), Arg()), dtypes=conv_dt, out_dtype=arith, tol=_RED_TOL,
               shapes=(((2, 3, 6, 5), (4, 3, 3, 2), (4,)), ((2, 2, 7), (3, 2, 3), (3,)),
                       ((1, 2, 4, 4, 3), (2, 2, 2, 2, 2), (2,)),
                       ((0, 3, 5, 5), (2, 3, 3, 3), (2,))),
               kwargs=({}, {"stride": (2, 1), "pad": (1, 0)}, {"dilate": (2, 1)})),
        OpSpec("npx.convolution", id="npx.convolution[groups]", fn=npx.convolution,
               ref=_ref_convolution, inputs=(Arg(), Arg(), Arg()), dtypes=(F32,),
               out_dtype=_first, tol=_RED_TOL,
               shapes=(((2, 4, 5, 5), (6, 2, 3, 3), (6,)),),
               kwargs=({"num_group": 2}, {"num_group": 2, "stride": (2, 2), "pad": (1, 1)})),
        OpSpec("npx.convolution", id="npx.convolution[no_bias]",
               fn=lambda x, w, **kw: npx.convolution(x, w, no_bias=True, **kw),
               ref=_ref_convolution, inputs=(Arg(), Arg()), dtypes=(F32,), out_dtype=_first,
               tol=_RED_TOL, shapes=(((2, 3, 5), (4, 3, 2)),), kwargs=({}, {"pad": (1,)})),
        OpSpec("npx.deconvolution", fn=npx.deconvolution, ref=_ref_deconvolution,
               inputs=(Arg(), Arg(), Arg()), dtypes=conv_dt, out_dtype=arith, tol=_RED_TOL,
               shapes=(((2, 3, 4, 3), (3, 4, 3, 2), (4,)), ((2, 2, 5), (2, 3, 3), (3,))),
               kwargs=({}, {"stride": (2, 2), "pad": (1, 0)}, {"stride": (2, 1), "adj": (1, 0)},
                       {"dilate": (2, 1)})),
        OpSpec("npx.deconvolution", id="npx.deconvolution[groups]", fn=npx.deconvolution,
               ref=_ref_deconvolution, inputs=(Arg(), Arg(), Arg()), dtypes=(F32,),
               out_dtype=_first, tol=_RED_TOL, shapes=(((2, 4, 3, 3), (4, 3, 2, 2), (6,)),),
               kwargs=({"num_group": 2}, {"num_group": 2, "stride": (2, 2)})),
        OpSpec("npx.pooling", fn=npx.pooling, ref=_ref_pooling, dtypes=fl, tol=_RED_TOL,
               shapes=((2, 3, 6, 5), (0, 2, 4, 4)),
               kwargs=({"kernel": (2, 2)}, {"kernel": (3, 2), "stride": (2, 1), "pad": (1, 1)},
                       {"kernel": (2, 2), "pool_type": "avg"},
                       {"kernel": (3, 3), "pool_type": "avg", "pad": (1, 1)},
                       {"kernel": (3, 3), "pool_type": "avg", "pad": (1, 1),
                        "count_include_pad": False},
                       {"kernel": (2, 3), "pool_type": "sum", "stride": (2, 2)},
                       {"kernel": (2, 2), "pool_type": "lp", "p_value": 2},
                       {"kernel": (3, 3), "stride": (2, 2), "pooling_convention": "full"},
                       {"global_pool": True, "pool_type": "avg"}, {"global_pool": True})),
        OpSpec("npx.pooling", id="npx.pooling[1d]", fn=npx.pooling, ref=_ref_pooling,
               dtypes=(F32,), shapes=((2, 3, 7),), tol=_RED_TOL,
               kwargs=({"kernel": (3,), "stride": (2,)}, {"kernel": (2,), "pool_type": "avg"})),
        OpSpec("npx.pooling", id="npx.pooling[3d]", fn=npx.pooling, ref=_ref_pooling,
               dtypes=(F32,), shapes=((1, 2, 4, 4, 3),), tol=_RED_TOL,
               kwargs=({"kernel": (2, 2, 2)}, {"kernel": (3, 2, 2), "pool_type": "avg",
                                               "pad": (1, 0, 1)})),
        OpSpec("npx.batch_norm", fn=_batch_norm(False), ref=_ref_batch_norm,
               inputs=(Arg(), pos, Arg(), Arg(), pos), dtypes=(F32, F64, F16), tol=_RED_TOL,
               shapes=(((2, 3, 4), (3,), (3,), (3,), (3,)), ((4, 3), (3,), (3,), (3,), (3,)),
                       ((2, 3, 2, 2), (3,), (3,), (3,), (3,))),
               kwargs=({}, {"fix_gamma": False}, {"fix_gamma": False, "eps": 1e-5}),
               grad_args=(0, 1, 2)),
        OpSpec("npx.batch_norm", id="npx.batch_norm[axis]", fn=_batch_norm(False),
               ref=_ref_batch_norm, inputs=(Arg(), pos, Arg(), Arg(), pos), dtypes=(F32,),
               shapes=(((2, 3, 4), (4,), (4,), (4,), (4,)),), tol=_RED_TOL,
               kwargs=({"axis": -1, "fix_gamma": False},)),
        OpSpec("npx.batch_norm", id="npx.batch_norm[train]", fn=_batch_norm(True),
               ref=lambda *xs, **kw: _ref_batch_norm(*xs, train=True, **kw),
               inputs=(Arg(), pos, Arg(), Arg(), pos), dtypes=(F32, F64), tol=_RED_TOL,
               shapes=(((4, 3, 2), (3,), (3,), (3,), (3,)), ((5, 3), (3,), (3,), (3,), (3,))),
               kwargs=({"fix_gamma": False}, {"fix_gamma": False, "output_mean_var": True}),
               out_dtype=lambda ins, kw: [_arrays(ins)[0]] * 3 if kw.get("output_mean_var")
               else _arrays(ins)[0], grad_args=(0, 1, 2), grad=True),
        OpSpec("npx.layer_norm", fn=npx.layer_norm, ref=_ref_layer_norm,
               inputs=(Arg(), pos, Arg()), dtypes=(F32, F64, F16), tol=_RED_TOL,
               shapes=(((3, 4), (4,), (4,)), ((2, 3, 4), (4,), (4,)), ((4,), (4,), (4,)),
                       ((0, 4), (4,), (4,))),
               kwargs=({}, {"eps": 1e-3})),
        OpSpec("npx.layer_norm", id="npx.layer_norm[axis]", fn=npx.layer_norm,
               ref=_ref_layer_norm, inputs=(Arg(), pos, Arg()), dtypes=(F32,), tol=_RED_TOL,
               shapes=(((3, 4, 2), (4,), (4,)),),
               kwargs=({"axis": 1}, {"axis": 1, "output_mean_var": True}),
               out_dtype=lambda ins, kw: [_arrays(ins)[0]] * 3 if kw.get("output_mean_var")
               else _arrays(ins)[0]),
        OpSpec("npx.group_norm", fn=npx.group_norm, ref=_ref_group_norm,
               inputs=(Arg(), pos, Arg()), dtypes=(F32, F64), tol=_RED_TOL,
               shapes=(((2, 4, 3), (4,), (4,)), ((2, 6, 2, 2), (6,), (6,)), ((3, 4), (4,), (4,))),
               kwargs=({"num_groups": 2}, {"num_groups": 1}, {"num_groups": 4, "eps": 1e-3})),
        OpSpec("npx.instance_norm", fn=npx.instance_norm, ref=_ref_instance_norm,
               inputs=(Arg(), pos, Arg()), dtypes=(F32, F64, F16), tol=_RED_TOL,
               shapes=(((2, 3, 4), (3,), (3,)), ((2, 3, 2, 3), (3,), (3,))),
               kwargs=({}, {"eps": 1e-5})),
        OpSpec("npx.constraint_check", fn=npx.constraint_check, ref=lambda x: onp.all(x),
               inputs=(Arg(dtype=BOOL, nonzero=True),), dtypes=(BOOL,), out_dtype=boolean,
               sync=True),
        OpSpec("npx.constraint_check", id="npx.constraint_check[violated]",
               fn=lambda x: npx.constraint_check(x, "negative"), ref=_ref_constraint_violated,
               inputs=(Arg(zeros=1.0),), dtypes=(F32,), shapes=((3, 4), (5,)), out_dtype=boolean,
               sync=True),
        OpSpec("npx.dropout", fn=_in_mode(npx.dropout, False), ref=lambda x, **kw: x.copy(),
               dtypes=fl, kwargs=({}, {"p": 0.3}, {"p": 0.0, "mode": "always"})),
        OpSpec("npx.dropout", id="npx.dropout[train]", fn=_seeded_dropout, ref=lambda x, **kw: x,
               dtypes=(F32, F64), shapes=((3, 4), (2, 3, 4)), canon=_no_values,
               kwargs=({"p": 0.5}, {"p": 0.3, "axes": (0,)}), grad=True),
        OpSpec("npx.embedding", fn=npx.embedding, ref=_ref_embedding,
               inputs=(Arg(-1, 6, integer=True), Arg()), out_dtype=_second, ref_upcast=False,
               dtypes=((F32, F32), (I32, F64), (I64, F16), (F32, F64)),
               shapes=(((4,), (5, 3)), ((2, 3), (5, 3)), ((), (5, 3)), ((0,), (5, 3))),
               kwargs=({"input_dim": 5, "output_dim": 3}, {}), grad_args=(1,)),
    ]
    return rows


# -- gradients ------------------------------------------------------------------------------------

_INT = "integer op"
_BOOL = "boolean result"
_IDX = "integer indices or counts"
_PY = "Python result"
_NOARR = "no array inputs"
_CONST = "depends on the input's shape only"

#: ops without a gradient, and why (test_grad.py checks every other op's main row)
NOT_DIFFERENTIABLE: dict[str, str] = {
    **dict.fromkeys(("bitwise_not", "invert", "bitwise_and", "bitwise_or", "bitwise_xor",
                     "left_shift", "right_shift", "gcd", "lcm", "bitwise_invert",
                     "bitwise_left_shift", "bitwise_right_shift"), _INT),
    **dict.fromkeys(("isnan", "isinf", "isfinite", "signbit", "isposinf", "isneginf",
                     "logical_not", "logical_and", "logical_or", "logical_xor", "equal",
                     "not_equal", "greater", "greater_equal", "less", "less_equal", "all", "any",
                     "isclose", "isin", "in1d"), _BOOL),
    **dict.fromkeys(("argmax", "argmin", "argsort", "nonzero", "argwhere", "flatnonzero",
                     "searchsorted", "digitize", "lexsort", "argpartition", "nanargmax",
                     "nanargmin", "count_nonzero", "bincount", "histogram", "unravel_index",
                     "tril_indices_from", "triu_indices_from", "diag_indices_from",
                     "linalg.matrix_rank", "npx.nonzero", "npx.shape_array", "npx.one_hot"),
                    _IDX),
    **dict.fromkeys(("shape", "size", "ndim", "allclose", "array_equal", "array_equiv",
                     "shares_memory", "may_share_memory", "broadcast_shapes"), _PY),
    **dict.fromkeys(("zeros_like", "ones_like", "empty_like", "full_like", "npx.arange_like"),
                    _CONST),
    **dict.fromkeys(("unique", "unique_values", "unique_counts", "unique_inverse", "unique_all",
                     "intersect1d", "setdiff1d", "setxor1d", "union1d"),
                    "set operation: a sorted selection of distinct values (MXNet has no "
                    "gradient)"),
    "array": "a new leaf array (a copy that is not recorded, as MXNet's np.array)",
    "asarray": "a new leaf array, as np.array",
    "from_dlpack": "goes through a NumPy array",
    "fill_diagonal": "in place: writes into arrays in a recorded graph raise",
    "npx.stop_gradient": "blocks the gradient by design (test_autograd.py checks it)",
    "apply_along_axis": "loops on the host over NumPy rows (not recorded)",
    "npx.constraint_check": _BOOL,
    **dict.fromkeys(("linalg.eig", "linalg.eigvals", "linalg.cond", "partition"),
                    "declared not differentiable by the framework (FrameworkError at backward)"),
}

#: per-row settings of the gradient checks (row id -> OpSpec fields)
GRAD_SETTINGS: dict[str, dict[str, Any]] = {
    "npx.pick": {"grad_args": (0,)},
    **{f"take_along_axis[{ax}]": {"grad_args": (0,)} for ax in (0, -1, 1)},
    "npx.sequence_mask": {"grad_args": (0,)},
    "npx.gather_nd": {"grad_args": (0,)},
    "npx.index_add": {"grad_args": (0, 2)},
    "npx.index_update": {"grad_args": (0, 2)},
    "npx.reshape_like": {"grad_args": (0,)},
    "npx.broadcast_like": {"grad_args": (0,)},
    "interp": {"grad_args": (0, 2)},
    "bincount[weights]": {"grad": True, "grad_args": (1,)},
    "average[weights]": {"grad": True},
    "cov[y]": {"grad": True},
    "linalg.eigh": {"grad_dir": lambda v: (v + _sq(v)) / 2},
    "linalg.eigvalsh": {"grad_dir": lambda v: (v + _sq(v)) / 2},
    "linalg.cholesky": {"grad_dir": lambda v: (v + _sq(v)) / 2},
    "linalg.pinv[hermitian]": {"grad": True, "grad_dir": lambda v: (v + _sq(v)) / 2},
    "npx.topk": {"grad": True},
    # the full U, Vh of a non-square SVD and the complete Q are not unique (qr raises for them)
    "linalg.svd": {"grad_kwargs": (1, 2)},
    "linalg.svd[square]": {"grad": True},
    "linalg.qr": {"grad_kwargs": (0, 2)},
    "nan_to_num": {"grad_kwargs": (0, 1)},  # copy=False writes in place
    "choose[mode]": {"grad": True},
    "einsum[ii->i]": {"grad": True},
    "einsum[...ij->...ji]": {"grad": True},
    "einsum[ij,jk,kl->il]": {"grad": True},
}


def _npx_name(spec: OpSpec) -> OpSpec:
    """Method rows of npx ops (``x.relu()``) are variants of the npx function's row."""
    if "." not in spec.name and not hasattr(fnp, spec.name) and hasattr(npx, spec.name):
        return dataclasses.replace(spec, name=f"npx.{spec.name}")
    return spec


def _mark_grads(rows: list[OpSpec]) -> list[OpSpec]:
    """The first row of each name is its op's main row: checked, or marked not differentiable;
    the other rows are variants unless :data:`GRAD_SETTINGS` says otherwise."""
    out, seen = [], set()
    for spec in rows:
        spec = _npx_name(spec)
        grad: bool | str = spec.name not in seen
        seen.add(spec.name)
        if spec.n_arrays == 0:
            grad = _NOARR
        elif spec.name in NOT_DIFFERENTIABLE:
            grad = NOT_DIFFERENTIABLE[spec.name]
        fields = {"grad": grad, **GRAD_SETTINGS.get(spec.id, {})}
        out.append(dataclasses.replace(spec, **fields))
    return out


_ROWS = _unary_rows() + _binary_rows() + _reduction_rows() + _shape_rows() + _misc_rows()
TABLE: list[OpSpec] = _mark_grads(_ROWS + _alias_rows(_ROWS) + _creation_rows() + _more_rows()
                                  + _stats_rows() + _linalg_rows() + _npx_rows()
                                  + _nn_rows())

_ids = [s.id for s in TABLE]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})
