"""``framework.np``: MXNet's NumPy-compatible front end (``mx.np``).

Differences from NumPy that MXNet code relies on (API.md §2): float32 is the default dtype (lists
of ints or bools included); a Python scalar never changes an array's dtype; reductions and
indexing return 0-d arrays; ops are asynchronous and run on the array's device.
"""

from __future__ import annotations

import numpy as _onp

from ..nd import _create
from ..nd._array import ndarray, set_np_function_table
from . import _funcs, _linalg_top, _more, _stats, _ufuncs, linalg, random
from ._funcs import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    around,
    broadcast_to,
    clip,
    concat,
    concatenate,
    copy,
    cumprod,
    cumsum,
    diag,
    dot,
    expand_dims,
    flip,
    from_dlpack,
    matmul,
    max,
    mean,
    min,
    ndim,
    nonzero,
    prod,
    ravel,
    repeat,
    reshape,
    round,
    round_,
    shape,
    size,
    sort,
    split,
    squeeze,
    stack,
    std,
    sum,
    swapaxes,
    take,
    tile,
    transpose,
    var,
    where,
)

array = _create.array
asarray = _create.asarray
zeros = _create.zeros
ones = _create.ones
empty = _create.empty
full = _create.full
zeros_like = _create.zeros_like
ones_like = _create.ones_like
empty_like = _create.empty_like
full_like = _create.full_like
arange = _create.arange
linspace = _create.linspace
eye = _create.eye
identity = _create.identity

# elementwise functions, one per op-table row
abs = _ufuncs.make_unary("abs")
absolute = _ufuncs.make_unary("absolute")
fabs = _ufuncs.make_unary("fabs")
negative = _ufuncs.make_unary("negative")
positive = _ufuncs.make_unary("positive")
sign = _ufuncs.make_unary("sign")
square = _ufuncs.make_unary("square")
floor = _ufuncs.make_unary("floor")
ceil = _ufuncs.make_unary("ceil")
trunc = _ufuncs.make_unary("trunc")
rint = _ufuncs.make_unary("rint")
fix = _ufuncs.make_unary("fix")
sqrt = _ufuncs.make_unary("sqrt")
cbrt = _ufuncs.make_unary("cbrt")
exp = _ufuncs.make_unary("exp")
expm1 = _ufuncs.make_unary("expm1")
exp2 = _ufuncs.make_unary("exp2")
log = _ufuncs.make_unary("log")
log2 = _ufuncs.make_unary("log2")
log10 = _ufuncs.make_unary("log10")
log1p = _ufuncs.make_unary("log1p")
sin = _ufuncs.make_unary("sin")
cos = _ufuncs.make_unary("cos")
tan = _ufuncs.make_unary("tan")
arcsin = _ufuncs.make_unary("arcsin")
arccos = _ufuncs.make_unary("arccos")
arctan = _ufuncs.make_unary("arctan")
sinh = _ufuncs.make_unary("sinh")
cosh = _ufuncs.make_unary("cosh")
tanh = _ufuncs.make_unary("tanh")
arcsinh = _ufuncs.make_unary("arcsinh")
arccosh = _ufuncs.make_unary("arccosh")
arctanh = _ufuncs.make_unary("arctanh")
degrees = _ufuncs.make_unary("degrees")
radians = _ufuncs.make_unary("radians")
deg2rad = _ufuncs.make_unary("deg2rad")
rad2deg = _ufuncs.make_unary("rad2deg")
reciprocal = _ufuncs.make_unary("reciprocal")
isnan = _ufuncs.make_unary("isnan")
isinf = _ufuncs.make_unary("isinf")
isfinite = _ufuncs.make_unary("isfinite")
isposinf = _ufuncs.make_unary("isposinf")
isneginf = _ufuncs.make_unary("isneginf")
signbit = _ufuncs.make_unary("signbit")
logical_not = _ufuncs.make_unary("logical_not")
bitwise_not = _ufuncs.make_unary("bitwise_not")
invert = _ufuncs.make_unary("invert")

add = _ufuncs.make_binary("add")
subtract = _ufuncs.make_binary("subtract")
multiply = _ufuncs.make_binary("multiply")
divide = _ufuncs.make_binary("divide")
true_divide = _ufuncs.make_binary("true_divide")
floor_divide = _ufuncs.make_binary("floor_divide")
power = _ufuncs.make_binary("power")
pow = power
mod = _ufuncs.make_binary("mod")
remainder = _ufuncs.make_binary("remainder")
fmod = _ufuncs.make_binary("fmod")
maximum = _ufuncs.make_binary("maximum")
minimum = _ufuncs.make_binary("minimum")
fmax = _ufuncs.make_binary("fmax")
fmin = _ufuncs.make_binary("fmin")
hypot = _ufuncs.make_binary("hypot")
arctan2 = _ufuncs.make_binary("arctan2")
logaddexp = _ufuncs.make_binary("logaddexp")
copysign = _ufuncs.make_binary("copysign")
equal = _ufuncs.make_binary("equal")
not_equal = _ufuncs.make_binary("not_equal")
greater = _ufuncs.make_binary("greater")
greater_equal = _ufuncs.make_binary("greater_equal")
less = _ufuncs.make_binary("less")
less_equal = _ufuncs.make_binary("less_equal")
logical_and = _ufuncs.make_binary("logical_and")
logical_or = _ufuncs.make_binary("logical_or")
logical_xor = _ufuncs.make_binary("logical_xor")
bitwise_and = _ufuncs.make_binary("bitwise_and")
bitwise_or = _ufuncs.make_binary("bitwise_or")
bitwise_xor = _ufuncs.make_binary("bitwise_xor")
left_shift = _ufuncs.make_binary("left_shift")
right_shift = _ufuncs.make_binary("right_shift")
gcd = _ufuncs.make_binary("gcd")
lcm = _ufuncs.make_binary("lcm")

# dtypes and constants
bool_ = _onp.bool_
bool = _onp.bool_
int8 = _onp.int8
int16 = _onp.int16
int32 = _onp.int32
int64 = _onp.int64
uint8 = _onp.uint8
uint16 = _onp.uint16
uint32 = _onp.uint32
uint64 = _onp.uint64
float16 = _onp.float16
float32 = _onp.float32
float64 = _onp.float64
dtype = _onp.dtype
finfo = _onp.finfo
iinfo = _onp.iinfo
pi = _onp.pi
e = _onp.e
inf = _onp.inf
nan = _onp.nan
NaN = NAN = _onp.nan
PINF = _onp.inf
NINF = -_onp.inf
PZERO = 0.0
NZERO = -0.0
newaxis = None

__all__ = [
    "ndarray", "array", "asarray", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
    "empty_like", "full_like", "arange", "linspace", "eye", "identity", "copy", "from_dlpack",
    *_ufuncs.UNARY_NAMES, "absolute", *_ufuncs.BINARY_NAMES, "pow",
    *_funcs.__all__,
    "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "dtype", "finfo", "iinfo", "pi", "e", "inf", "nan", "NaN",
    "NAN", "PINF", "NINF", "PZERO", "NZERO", "newaxis",
]
# functions defined in the family modules, each listing its names in __all__
for _mod in (_more, _stats, _linalg_top):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    __all__ += _mod.__all__
__all__ += ["random", "linalg"]
__all__ = list(dict.fromkeys(__all__))

# NumPy functions called on framework arrays dispatch here (__array_function__/__array_ufunc__)
set_np_function_table({name: globals()[name] for name in __all__
                       if callable(globals()[name]) and not isinstance(globals()[name], type)})
set_np_function_table({"linalg." + name: getattr(linalg, name) for name in linalg.__all__})
