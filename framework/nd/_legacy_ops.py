"""The array functions of MXNet 1.x's legacy ``mx.nd`` namespace, on :class:`NDArray`.

Each is a thin front end over the framework's existing ops (``_create``, ``_shape``, ``_reduce``,
``_misc``, ``_npx``, ``_elemwise``) with MXNet 1.x's argument names and defaults (``ctx=``,
``dim=1`` for ``concat``, ``axis=1`` for ``split``, float32 indices from ``argmax``/``argsort``,
``exclude=`` on reductions) and its no-0-d rule (a full reduction gives shape ``(1,)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from ..device import Device, resolve
from ..engine import waitall
from . import _create, _misc, _nn, _npx, _reduce, _shape
from ._base import BaseArray
from ._elemwise import binary, unary
from ._legacy import NDArray, as_nd, check_nd, legacy_reduce, legacy_reshape, one_d, shape_error

__all__ = [
    # creation
    "array", "zeros", "ones", "empty", "full", "arange", "linspace", "eye", "zeros_like",
    "ones_like", "full_like",
    # joining and splitting
    "concat", "concatenate", "stack", "split", "add_n",
    # products
    "dot", "batch_dot",
    # reductions and searching
    "sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm", "argmax", "argmin",
    "argsort", "sort", "topk", "pick", "one_hot",
    # shape
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "flatten", "broadcast_to",
    "broadcast_like", "broadcast_axis", "broadcast_axes", "tile", "repeat", "clip", "where",
    "take", "slice", "slice_axis", "gather_nd", "reshape_like", "flip", "reverse",
    "stop_gradient", "BlockGrad", "cast", "Cast", "waitall",
    # elementwise
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "square", "abs", "sign", "negative",
    "reciprocal", "floor", "ceil", "round", "rint", "trunc", "fix", "log1p", "expm1", "log2",
    "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh",
    "arccosh", "arctanh", "rsqrt", "cbrt", "rcbrt", "erf", "erfinv", "gamma", "gammaln",
    "power", "maximum", "minimum", "add", "subtract", "multiply", "divide", "modulo",
    "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "softmax", "log_softmax",
]

# MXNet 1.x broadcast_* and elemwise_* names -> the framework's binary op
_BROADCAST = {
    "add": "add", "plus": "add", "sub": "subtract", "minus": "subtract", "mul": "multiply",
    "div": "true_divide", "mod": "mod", "power": "power", "maximum": "maximum",
    "minimum": "minimum", "hypot": "hypot", "equal": "equal", "not_equal": "not_equal",
    "greater": "greater", "greater_equal": "greater_equal", "lesser": "less",
    "lesser_equal": "less_equal", "logical_and": "logical_and", "logical_or": "logical_or",
    "logical_xor": "logical_xor",
}
_ELEMWISE = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}
_COMPARE = {"equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
            "logical_and", "logical_or", "logical_xor"}


def _dev(ctx: Any, device: Any = None) -> Device:
    return resolve(device, ctx)


def _nd(x: BaseArray) -> NDArray:
    return as_nd(x)


# -- creation ------------------------------------------------------------------------------------
def array(source_array: Any, ctx: Any = None, dtype: Any = None, device: Any = None) -> NDArray:
    """An NDArray from a list, NumPy array or array: float32 unless ``dtype`` is given, except
    that an NDArray source keeps its dtype (MXNet 1.x)."""
    if dtype is None:
        dtype = source_array._dtype if isinstance(source_array, BaseArray) else numpy.float32
    out = _create.array(source_array, dtype=dtype, device=_dev(ctx, device))
    return _nd(one_d(out) if isinstance(out, BaseArray) and not out._shape else out)


def zeros(shape: Any, ctx: Any = None, dtype: Any = None, device: Any = None,
          **kwargs: Any) -> NDArray:
    return _nd(_create.zeros(shape, dtype=dtype, device=_dev(ctx, device)))


def ones(shape: Any, ctx: Any = None, dtype: Any = None, device: Any = None,
         **kwargs: Any) -> NDArray:
    return _nd(_create.ones(shape, dtype=dtype, device=_dev(ctx, device)))


def empty(shape: Any, ctx: Any = None, dtype: Any = None, device: Any = None) -> NDArray:
    return _nd(_create.empty(shape, dtype=dtype, device=_dev(ctx, device)))


def full(shape: Any, val: Any, ctx: Any = None, dtype: Any = None, device: Any = None,
         out: NDArray | None = None) -> NDArray:
    res = _nd(_create.full(shape, val, dtype=dtype or numpy.float32,
                           device=_dev(ctx, device)))
    if out is not None:
        out[...] = res
        return out
    return res


def arange(start: Any, stop: Any = None, step: Any = 1.0, repeat: int = 1,
           infer_range: Any = None, ctx: Any = None, dtype: Any = None,
           device: Any = None) -> NDArray:
    """``[start, stop)`` by ``step``, each value ``repeat`` times (float32 by default)."""
    out = _create.arange(start, stop, step, dtype=dtype or numpy.float32,
                         device=_dev(ctx, device))
    if int(repeat) != 1:
        out = _shape.repeat(out, int(repeat), 0)
    return _nd(out)


def linspace(start: Any, stop: Any, num: int, endpoint: bool = True, ctx: Any = None,
             dtype: Any = None, device: Any = None) -> NDArray:
    return _nd(_create.linspace(start, stop, num, endpoint, dtype=dtype or numpy.float32,
                                device=_dev(ctx, device)))


def eye(N: int, M: int = 0, k: int = 0, ctx: Any = None, dtype: Any = None,
        device: Any = None) -> NDArray:
    """Identity-like matrix; ``M=0`` means ``M = N`` (MXNet 1.x)."""
    return _nd(_create.eye(N, int(M) or None, k, dtype=dtype or numpy.float32,
                           device=_dev(ctx, device)))


def zeros_like(data: BaseArray, dtype: Any = None) -> NDArray:
    return _create.zeros_like(check_nd(data, "zeros_like"), dtype)  # type: ignore


def ones_like(data: BaseArray, dtype: Any = None) -> NDArray:
    return _create.ones_like(check_nd(data, "ones_like"), dtype)  # type: ignore


def full_like(data: BaseArray, fill_value: Any, dtype: Any = None) -> NDArray:
    return _create.full_like(check_nd(data, "full_like"), fill_value, dtype)  # type: ignore


# -- joining and splitting -------------------------------------------------------------------
def _seq(data: Sequence[Any], op: str) -> list[BaseArray]:
    if len(data) == 1 and isinstance(data[0], (list, tuple)):
        data = data[0]
    if not data:
        raise ValueError(f"nd.{op}: needs at least one array")
    return [check_nd(x, op, f"input {i}") for i, x in enumerate(data)]


def concat(*data: BaseArray, dim: int = 1, num_args: int | None = None) -> NDArray:
    """Join arrays along ``dim`` (default 1, MXNet 1.x's ``Concat``)."""
    xs = _seq(data, "concat")
    if num_args is not None and int(num_args) != len(xs):
        raise ValueError(f"nd.concat: num_args={num_args} but {len(xs)} arrays were given")
    return _shape.concatenate(xs, axis=dim)  # type: ignore[return-value]


def concatenate(arrays: Sequence[BaseArray], axis: int = 0,
                always_copy: bool = True) -> NDArray:
    """Join a list of arrays along ``axis`` (default 0)."""
    xs = _seq(list(arrays), "concatenate")
    if len(xs) == 1 and not always_copy:
        return xs[0]  # type: ignore[return-value]
    return _shape.concatenate(xs, axis=axis)  # type: ignore[return-value]


def stack(*data: BaseArray, axis: int = 0, num_args: int | None = None) -> NDArray:
    return _shape.stack(_seq(data, "stack"), axis)  # type: ignore[return-value]


def split(data: BaseArray, num_outputs: int, axis: int = 1, squeeze_axis: bool = False) -> Any:
    """``num_outputs`` equal parts along ``axis`` (default 1); a single array when
    ``num_outputs`` is 1. ``squeeze_axis`` drops the split axis (parts must then have size 1)."""
    x = check_nd(data, "split")
    (ax,) = _reduce.normalize_axis(axis, x.ndim, "nd.split", False)
    n = int(num_outputs)
    if n <= 0 or x._shape[ax] % n:
        raise shape_error("split", f"axis {ax} of shape {x._shape} cannot be split into "
                          f"{num_outputs} equal parts")
    if squeeze_axis and x._shape[ax] != n:
        raise shape_error("split", f"squeeze_axis needs parts of size 1, but axis {ax} of "
                          f"shape {x._shape} split {n} ways gives size {x._shape[ax] // n}")
    return NDArray.split(x, n, ax, squeeze_axis)  # type: ignore[arg-type]


def add_n(*args: BaseArray) -> NDArray:
    """The elementwise sum of all arguments (same shapes)."""
    xs = _seq(args, "add_n")
    out = xs[0]
    for i, x in enumerate(xs[1:], 1):
        if x._shape != xs[0]._shape:
            raise shape_error("add_n", f"input {i} has shape {x._shape}, input 0 has "
                              f"{xs[0]._shape}; all must match")
        out = binary("add", out, x)
    return out if len(xs) > 1 else _shape.copy(out)  # type: ignore[return-value]


# -- products ----------------------------------------------------------------------------------
def dot(lhs: BaseArray, rhs: BaseArray, transpose_a: bool = False,
        transpose_b: bool = False) -> NDArray:
    """``numpy.dot`` with optional transposes; a 1-D·1-D product has shape ``(1,)``."""
    check_nd(lhs, "dot", "lhs")
    check_nd(rhs, "dot", "rhs")
    return NDArray.dot(lhs, rhs, transpose_a, transpose_b)  # type: ignore[arg-type]


def batch_dot(lhs: BaseArray, rhs: BaseArray, transpose_a: bool = False,
              transpose_b: bool = False) -> NDArray:
    return _npx.batch_dot(check_nd(lhs, "batch_dot", "lhs"), check_nd(rhs, "batch_dot", "rhs"),
                          transpose_a, transpose_b)  # type: ignore[return-value]


# -- reductions and searching ----------------------------------------------------------------
def _reduction(name: str) -> Any:
    def fn(data: BaseArray, axis: Any = None, keepdims: bool = False,
           exclude: bool = False) -> NDArray:
        return legacy_reduce(name, check_nd(data, name), axis, keepdims,  # type: ignore
                             exclude)

    fn.__name__ = name
    fn.__doc__ = (f"``{name}`` over ``axis`` (None or ``()``: every axis; ``exclude=True``: "
                  "the axes not listed); a full reduction has shape ``(1,)``.")
    return fn


sum = _reduction("sum")
mean = _reduction("mean")
prod = _reduction("prod")
max = _reduction("max")
min = _reduction("min")
nansum = _reduction("nansum")
nanprod = _reduction("nanprod")


def norm(data: BaseArray, ord: int = 2, axis: Any = None, keepdims: bool = False) -> NDArray:
    """The L2 (``ord=2``) or L1 (``ord=1``) norm over ``axis`` (everything by default)."""
    x = check_nd(data, "norm")
    if ord not in (1, 2):
        raise ValueError(f"nd.norm: ord must be 1 or 2, got {ord!r}")
    if ord == 1:
        return legacy_reduce("sum", unary("abs", x), axis, keepdims)  # type: ignore
    return legacy_reduce("norm", x, axis, keepdims)  # type: ignore[no-any-return]


def argmax(data: BaseArray, axis: Any = None, keepdims: bool = False) -> NDArray:
    """Index of the maximum along ``axis`` as float32 (MXNet 1.x)."""
    return legacy_reduce("argmax", check_nd(data, "argmax"), axis, keepdims)  # type: ignore


def argmin(data: BaseArray, axis: Any = None, keepdims: bool = False) -> NDArray:
    return legacy_reduce("argmin", check_nd(data, "argmin"), axis, keepdims)  # type: ignore


def argsort(data: BaseArray, axis: int = -1, is_ascend: bool = True,
            dtype: Any = "float32") -> NDArray:
    return NDArray.argsort(check_nd(data, "argsort"), axis, is_ascend, dtype)  # type: ignore


def sort(data: BaseArray, axis: int = -1, is_ascend: bool = True) -> NDArray:
    return NDArray.sort(check_nd(data, "sort"), axis, is_ascend)  # type: ignore[arg-type]


def topk(data: BaseArray, axis: int = -1, k: int = 1, ret_typ: str = "indices",
         is_ascend: bool = False, dtype: Any = "float32") -> Any:
    return _misc.topk(check_nd(data, "topk"), axis, k, ret_typ, is_ascend, dtype)


def pick(data: BaseArray, index: BaseArray, axis: int = -1, mode: str = "clip",
         keepdims: bool = False) -> NDArray:
    return one_d(_misc.pick(check_nd(data, "pick"), check_nd(index, "pick", "index"), axis,
                            mode, keepdims))


def one_hot(indices: BaseArray, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            dtype: Any = "float32") -> NDArray:
    return _misc.one_hot(check_nd(indices, "one_hot", "indices"), depth, on_value,  # type: ignore
                         off_value, dtype)


# -- shape --------------------------------------------------------------------------------------
def reshape(data: BaseArray, shape: Any, reverse: bool = False) -> NDArray:
    """Reshape with MXNet 1.x's codes: ``0`` copy, ``-1`` infer, ``-2`` copy the rest, ``-3``
    merge two, ``-4 d1 d2`` split one; ``reverse`` matches the codes from the right."""
    return legacy_reshape(check_nd(data, "reshape"), shape, reverse)  # type: ignore


def reshape_like(lhs: BaseArray, rhs: BaseArray) -> NDArray:
    return _shape.reshape(check_nd(lhs, "reshape_like", "lhs"), rhs._shape)  # type: ignore


def transpose(data: BaseArray, axes: Any = ()) -> NDArray:
    return _shape.transpose(check_nd(data, "transpose"), tuple(axes) or None)  # type: ignore


def swapaxes(data: BaseArray, dim1: int = 0, dim2: int = 0) -> NDArray:
    return _shape.swapaxes(check_nd(data, "swapaxes"), dim1, dim2)  # type: ignore


def expand_dims(data: BaseArray, axis: int) -> NDArray:
    return _shape.expand_dims(check_nd(data, "expand_dims"), axis)  # type: ignore


def squeeze(data: BaseArray, axis: Any = None) -> NDArray:
    """Drop size-1 axes; squeezing everything away leaves shape ``(1,)``."""
    return one_d(_shape.squeeze(check_nd(data, "squeeze"), axis))  # type: ignore


def flatten(data: BaseArray) -> NDArray:
    """``(d0, d1, ...) -> (d0, d1*...)`` (MXNet's ``Flatten``)."""
    return _npx.batch_flatten(check_nd(data, "flatten"))  # type: ignore[return-value]


def broadcast_to(data: BaseArray, shape: Any) -> NDArray:
    """Broadcast to ``shape``; a ``0`` in ``shape`` keeps that input dimension (MXNet 1.x)."""
    x = check_nd(data, "broadcast_to")
    shape = tuple(int(s) for s in shape)
    if len(shape) == x.ndim:
        shape = tuple(d if s == 0 else s for s, d in zip(shape, x._shape))
    return _shape.broadcast_to(x, shape)  # type: ignore[return-value]


def broadcast_like(lhs: BaseArray, rhs: BaseArray, lhs_axes: Any = None,
                   rhs_axes: Any = None) -> NDArray:
    return _npx.broadcast_like(check_nd(lhs, "broadcast_like", "lhs"),  # type: ignore
                               check_nd(rhs, "broadcast_like", "rhs"), lhs_axes, rhs_axes)


def broadcast_axis(data: BaseArray, axis: Any = (), size: Any = ()) -> NDArray:
    """Broadcast the size-1 ``axis`` (an int or tuple) to ``size``."""
    x = check_nd(data, "broadcast_axis")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    sizes = (size,) if isinstance(size, int) else tuple(size)
    if len(axes) != len(sizes):
        raise ValueError(f"nd.broadcast_axis: axis {axis!r} and size {size!r} differ in length")
    shape = list(x._shape)
    for a, s in zip(axes, sizes):
        if shape[a] != 1:
            raise shape_error("broadcast_axis", f"axis {a} of shape {x._shape} has size "
                              f"{shape[a]}, not 1")
        shape[a] = int(s)
    return _shape.broadcast_to(x, tuple(shape))  # type: ignore[return-value]


broadcast_axes = broadcast_axis


def tile(data: BaseArray, reps: Any) -> NDArray:
    return _shape.tile(check_nd(data, "tile"), reps)  # type: ignore[return-value]


def repeat(data: BaseArray, repeats: int, axis: Any = None) -> NDArray:
    return _shape.repeat(check_nd(data, "repeat"), repeats, axis)  # type: ignore


def clip(data: BaseArray, a_min: Any, a_max: Any) -> NDArray:
    return _shape.clip(check_nd(data, "clip"), a_min, a_max)  # type: ignore[return-value]


def flip(data: BaseArray, axis: Any) -> NDArray:
    return _shape.flip(check_nd(data, "flip"), axis)  # type: ignore[return-value]


reverse = flip


def where(condition: BaseArray, x: BaseArray, y: BaseArray) -> NDArray:
    """``x`` where ``condition`` is non-zero, else ``y``. ``condition`` has the shape of ``x``,
    or is 1-D with one entry per row of ``x`` (MXNet 1.x)."""
    c = check_nd(condition, "where", "condition")
    check_nd(x, "where", "x")
    check_nd(y, "where", "y")
    if x._shape != y._shape:
        raise shape_error("where", f"x has shape {x._shape} and y {y._shape}; they must match")
    if c._shape != x._shape:
        if c.ndim == 1 and x.ndim >= 1 and c._shape[0] == x._shape[0]:
            c = _shape.reshape(c, c._shape + (1,) * (x.ndim - 1))
        else:
            raise shape_error("where", f"condition has shape {c._shape}; expected {x._shape} "
                              f"or ({x._shape[0] if x._shape else 1},)")
    mask = binary("not_equal", c, 0)
    return _shape.where(mask, x, y)  # type: ignore[return-value]


def take(a: BaseArray, indices: BaseArray, axis: int = 0, mode: str = "clip") -> NDArray:
    """Rows (slices along ``axis``, default 0) of ``a`` at ``indices`` (float indices are
    truncated; ``mode`` 'clip' or 'wrap')."""
    return NDArray.take(check_nd(a, "take", "a"), indices, axis, mode)  # type: ignore


def slice(data: BaseArray, begin: Any, end: Any, step: Any = ()) -> NDArray:
    """``data[begin:end:step]`` per axis (``None`` entries mean the default); a copy."""
    return _npx.slice_(check_nd(data, "slice"), begin, end, step or None)  # type: ignore


def slice_axis(data: BaseArray, axis: int, begin: int, end: int | None) -> NDArray:
    return _npx.slice_axis(check_nd(data, "slice_axis"), axis, begin, end)  # type: ignore


def gather_nd(data: BaseArray, indices: BaseArray) -> NDArray:
    return _npx.gather_nd(check_nd(data, "gather_nd"),  # type: ignore[return-value]
                          check_nd(indices, "gather_nd", "indices"))


def stop_gradient(data: BaseArray) -> NDArray:
    """The same values with no gradient flowing back (``BlockGrad``)."""
    return _shape.detach(check_nd(data, "stop_gradient"))  # type: ignore[return-value]


BlockGrad = stop_gradient


def cast(data: BaseArray, dtype: Any) -> NDArray:
    return _shape.astype(check_nd(data, "cast"), dtype)  # type: ignore[return-value]


Cast = cast


# -- elementwise ----------------------------------------------------------------------------------
def _unary(name: str, op: str | None = None) -> Any:
    target = op or name

    def fn(data: BaseArray) -> NDArray:
        return unary(target, check_nd(data, name))  # type: ignore[no-any-return]

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{target}``."
    return fn


relu = _unary("relu")
sigmoid = _unary("sigmoid")
tanh = _unary("tanh")
exp = _unary("exp")
log = _unary("log")
sqrt = _unary("sqrt")
square = _unary("square")
abs = _unary("abs")
sign = _unary("sign")
negative = _unary("negative")
reciprocal = _unary("reciprocal")
floor = _unary("floor")
ceil = _unary("ceil")
rint = _unary("rint")
trunc = _unary("trunc")
fix = _unary("fix")
log1p = _unary("log1p")
expm1 = _unary("expm1")
log2 = _unary("log2")
log10 = _unary("log10")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
arcsinh = _unary("arcsinh")
arccosh = _unary("arccosh")
arctanh = _unary("arctanh")
rsqrt = _unary("rsqrt")
cbrt = _unary("cbrt")
rcbrt = _unary("rcbrt")


def _special(name: str) -> Any:
    def fn(data: BaseArray) -> NDArray:
        return _npx.special(name, check_nd(data, name))  # type: ignore[return-value]

    fn.__name__ = name
    return fn


erf = _special("erf")
erfinv = _special("erfinv")
gamma = _special("gamma")
gammaln = _special("gammaln")


def round(data: BaseArray) -> NDArray:
    """Round half away from zero (MXNet's ``round``; NumPy rounds half to even)."""
    x = check_nd(data, "round")
    mag = unary("floor", binary("add", unary("abs", x), 0.5))
    return binary("multiply", unary("sign", x), mag)  # type: ignore[no-any-return]


def logical_not(data: BaseArray) -> NDArray:
    x = check_nd(data, "logical_not")
    return _shape.astype(unary("logical_not", x), x._dtype)  # type: ignore[return-value]


def _binary(name: str, op: str, same_shape: bool = False) -> Any:
    def fn(lhs: Any, rhs: Any) -> NDArray:
        if not isinstance(lhs, BaseArray) and not isinstance(rhs, BaseArray):
            raise TypeError(f"nd.{name}: at least one argument must be an NDArray, got "
                            f"{type(lhs).__name__} and {type(rhs).__name__}")
        if same_shape and lhs._shape != rhs._shape:
            raise shape_error(name, f"operands have shapes {lhs._shape} and {rhs._shape}; "
                              "elemwise ops need equal shapes (use broadcast_*)")
        res = binary(op, lhs, rhs)
        if op in _COMPARE:  # MXNet 1.x: 1/0 in the input's dtype
            src = lhs if isinstance(lhs, BaseArray) else rhs
            res = _shape.astype(res, src._dtype)
        return res  # type: ignore[no-any-return]

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{op}`` with broadcasting (MXNet 1.x ``{name}``)."
    return fn


power = _binary("power", "power")
maximum = _binary("maximum", "maximum")
minimum = _binary("minimum", "minimum")
add = _binary("add", "add")
subtract = _binary("subtract", "subtract")
multiply = _binary("multiply", "multiply")
divide = _binary("divide", "true_divide")
modulo = _binary("modulo", "mod")
equal = _binary("equal", "equal")
not_equal = _binary("not_equal", "not_equal")
greater = _binary("greater", "greater")
greater_equal = _binary("greater_equal", "greater_equal")
lesser = _binary("lesser", "less")
lesser_equal = _binary("lesser_equal", "less_equal")
logical_and = _binary("logical_and", "logical_and")
logical_or = _binary("logical_or", "logical_or")
logical_xor = _binary("logical_xor", "logical_xor")

for _short, _op in _BROADCAST.items():
    globals()[f"broadcast_{_short}"] = _binary(f"broadcast_{_short}", _op)
    __all__.append(f"broadcast_{_short}")
for _short, _op in _ELEMWISE.items():
    globals()[f"elemwise_{_short}"] = _binary(f"elemwise_{_short}", _op, same_shape=True)
    __all__.append(f"elemwise_{_short}")


def softmax(data: BaseArray, axis: int = -1, temperature: float | None = None,
            length: BaseArray | None = None, use_length: bool = False,
            dtype: Any = None) -> NDArray:
    return _nn.softmax(check_nd(data, "softmax"), axis, length, temperature,  # type: ignore
                    use_length, dtype)


def log_softmax(data: BaseArray, axis: int = -1, temperature: float | None = None,
                length: BaseArray | None = None, use_length: bool = False,
                dtype: Any = None) -> NDArray:
    return _nn.softmax(check_nd(data, "log_softmax"), axis, length, temperature,  # type: ignore
                    use_length, dtype, log=True)

