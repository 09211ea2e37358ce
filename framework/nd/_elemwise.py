"""Elementwise operators, one table row each.

A row names the op, its ``xp`` computation and its dtype rule:

- ``same``: the input dtype (``abs``, ``floor``, ``relu``...);
- ``float``: floating inputs keep their type, integers and bools give float32 (``exp``, ``/``);
- ``bool``: a boolean result (comparisons, ``isnan``);
- ``arith``: MXNet's promotion between two arrays, or the array's dtype against a Python scalar;
- ``int``: integer and bool inputs only (bitwise ops).

Binary ops take two arrays, or an array and a Python scalar on either side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, FrameworkError, ShapeError
from ..engine import _engine as _eng
from . import _create, _reduce, _shape  # call-time use in gradients (those import us)
from ._base import _INLINE, BaseArray, broadcast_shapes, execute, fail_now
from ._op import Op, register
from ._tape import ACTIVE, STATE, check_write
from ._tape import record as _record

__all__ = ["UNARY", "BINARY", "unary", "binary", "is_scalar"]

_SCALAR_TYPES = (int, float, bool, complex, numpy.generic)


def is_scalar(x: Any) -> bool:
    return isinstance(x, _SCALAR_TYPES) and not isinstance(x, numpy.ndarray)


def _fix(r: Any, dt: numpy.dtype, xp: Any) -> Any:
    if type(r) is not xp.ndarray:
        r = xp.asarray(r)
    if r.dtype != dt:
        r = r.astype(dt)
    return r


def _buf(x: BaseArray) -> Any:
    b = x._buf
    return b if b is not None else x._alloc_buffer()


# -- unary ----------------------------------------------------------------------------------------

def _relu(xp: Any, x: Any) -> Any:
    return xp.maximum(x, 0)


def sigmoid_kernel(xp: Any, x: Any) -> Any:
    """``exp(min(x, 0)) / (1 + exp(-|x|))``: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise,
    where no exp overflows. No where(): NumPy's is a scalar loop (2.8 ms for 573K float32,
    against 0.3 for an exp); the same values as selecting between the two."""
    if x.ndim == 0:  # (ufuncs of 0-d arrays give scalars, which out= cannot take)
        return sigmoid_kernel(xp, x.reshape(1)).reshape(())
    den = xp.abs(x)
    xp.negative(den, out=den)
    xp.exp(den, out=den)
    den += den.dtype.type(1)
    num = xp.minimum(x, x.dtype.type(0))
    xp.exp(num, out=num)
    num /= den
    return num


def softplus(xp: Any, x: Any) -> Any:
    """``log(1 + exp(x))`` of a float buffer, stably: ``max(x, 0) + log1p(exp(-|x|))``. The
    formula of NumPy's ``logaddexp(x, 0)``, but in vectorised passes: NumPy's float32 exp and
    log1p use SIMD, its logaddexp a scalar loop (573K float32: 7.5 -> 1.0 ms); the values
    agree to rounding."""
    if x.ndim == 0:
        return softplus(xp, x.reshape(1)).reshape(())
    r = xp.abs(x)
    xp.negative(r, out=r)
    xp.exp(r, out=r)
    xp.log1p(r, out=r)
    r += xp.maximum(x, x.dtype.type(0))
    return r


def _softsign(xp: Any, x: Any) -> Any:
    return x / (1 + xp.abs(x))


def _np(name: str) -> Callable[[Any, Any], Any]:
    return lambda xp, x: getattr(xp, name)(x)


#: name -> (computation, dtype rule, dtypes it rejects as 'kind' letters)
UNARY: dict[str, tuple[Callable[[Any, Any], Any], str, str]] = {}


#: unary rows that are one NumPy ufunc call (name -> ufunc name): a fused program may write
#: their result into a dead input buffer (``ufunc(x, out=x)``, the same values)
_UNARY_UFUNC: dict[str, str] = {}


def _u(name: str, rule: str, fn: Callable[[Any, Any], Any] | None = None,
       reject: str = "") -> None:
    UNARY[name] = (fn if fn is not None else _np(name), rule, reject)
    if fn is None and rule in ("same", "float") and isinstance(getattr(numpy, name, None),
                                                               numpy.ufunc):
        _UNARY_UFUNC[name] = name


for _n in ("abs", "negative", "positive", "sign", "square", "floor", "ceil", "trunc", "rint",
           "fix"):
    _u(_n, "same", reject="b" if _n in ("negative", "sign", "positive") else "")
_u("absolute", "same", _np("abs"))
_u("fabs", "float", _np("fabs"))
for _n in ("sqrt", "cbrt", "exp", "expm1", "exp2", "log", "log2", "log10", "log1p", "sin", "cos",
           "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
           "arctanh", "degrees", "radians", "deg2rad", "rad2deg", "reciprocal"):
    _u(_n, "float", (lambda xp, x: xp.reciprocal(x)) if _n == "reciprocal" else None)
for _n in ("isnan", "isinf", "isfinite", "signbit", "isposinf", "isneginf"):
    _u(_n, "bool")
_u("logical_not", "bool")
_u("bitwise_not", "same", _np("invert"), reject="fc")
_u("invert", "same", reject="fc")
_u("relu", "same", _relu)
_UNARY_UFUNC["relu"] = "maximum"  # maximum(x, 0)
_u("sigmoid", "float", sigmoid_kernel)
_u("softsign", "float", _softsign)
_u("softrelu", "float", softplus)
_u("rsqrt", "float", lambda xp, x: 1 / xp.sqrt(x))
_u("rcbrt", "float", lambda xp, x: 1 / xp.cbrt(x))


def _unary_dtype(rule: str, dt: numpy.dtype) -> numpy.dtype:
    if rule == "same":
        return dt
    if rule == "float":
        return _dt.float_result(dt)
    return numpy.dtype(numpy.bool_)


class UnaryOp(Op):
    """An elementwise op of one array (a row of :data:`UNARY`)."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.fn, self.rule, self.reject = UNARY[name]

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        if x._dtype.kind in self.reject:
            raise DTypeError(f"{self.name}: input dtype {x._dtype} is not supported")
        return [(x._shape, _unary_dtype(self.rule, x._dtype))]

    def forward(self, xp: Any, x: Any) -> Any:
        if self.rule == "float" and x.dtype.kind not in "fc":
            x = x.astype(_dt.default_float())
        return self.fn(xp, x)

    @property
    def fresh_output(self) -> bool:
        """The result is a new array (for a fused program's in-place pass)."""
        return self.name in _UNARY_UFUNC

    @property
    def forward_inplace(self) -> Callable[[Any, Any], Any] | None:
        """``forward`` written into ``x`` (a dead buffer of the result's dtype and shape)."""
        uf = _UNARY_UFUNC.get(self.name)
        if uf is None:
            return None
        if uf == "maximum":
            return lambda xp, x: xp.maximum(x, 0, out=x)
        return lambda xp, x: getattr(xp, uf)(x, out=x)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        grad = UNARY_GRAD.get(self.name)
        if grad is None or x._dtype.kind not in "fc":
            return [None]
        return [_cast_like(grad(x, y, g), x)]


_UNARY_OPS: dict[str, UnaryOp] = {}
for _n in UNARY:
    _UNARY_OPS[_n] = register(_n)(UnaryOp(_n))


def unary(name: str, x: BaseArray, out: BaseArray | None = None) -> BaseArray:
    """Apply the elementwise op ``name`` to ``x``."""
    op = _UNARY_OPS[name]
    if not isinstance(x, BaseArray):
        raise TypeError(f"{name}: expected an ndarray, got {type(x).__name__}")
    ((shape, dt),) = op.infer(x)
    res = type(x)._pending(shape, dt, x._device)
    xp = x._device.xp
    fn_, rule = op.fn, op.rule
    fdt = _dt.default_float()

    def run() -> None:
        b = _buf(x)
        if rule == "float" and b.dtype.kind not in "fc":
            b = b.astype(fdt)
        res._set_result(fn_(xp, b))

    execute(name, run, (x,), (res,))
    if ACTIVE.count and STATE.recording:
        _record(op, (x,), (res,))
    if out is not None:
        return _assign_out(name, out, res)
    return res


# -- binary ---------------------------------------------------------------------------------------

#: name -> (computation xp, a, b; dtype rule)
BINARY: dict[str, tuple[Callable[[Any, Any, Any], Any], str]] = {}


#: binary rows with a float or arithmetic result that are one NumPy ufunc call (name -> ufunc
#: name): a fused program may write their result into a dead first input (``out=``)
_BINARY_UFUNC: dict[str, str] = {}


def _b(name: str, rule: str, fn: Callable[[Any, Any, Any], Any] | None = None,
       np_name: str | None = None) -> None:
    if fn is None:
        n = np_name or name
        fn = lambda xp, a, b, _n=n: getattr(xp, _n)(a, b)
        if rule in ("arith", "float"):
            _BINARY_UFUNC[name] = n
    if rule == "float":
        fn = _float_inputs(fn)
    BINARY[name] = (fn, rule)


def _float_inputs(fn: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    """Compute float-valued ops of 1-byte ints and bools in float32, as MXNet does (NumPy
    would pick its float16 loops for them, then the float32 result has float16 precision)."""
    fdt = _dt.default_float()

    def run(xp: Any, a: Any, b: Any) -> Any:
        if getattr(a, "ndim", None) is not None and a.dtype.itemsize == 1:
            a = a.astype(fdt)
        if getattr(b, "ndim", None) is not None and b.dtype.itemsize == 1:
            b = b.astype(fdt)
        return fn(xp, a, b)

    return run


for _n in ("add", "subtract", "multiply", "power", "mod", "remainder", "fmod", "floor_divide",
           "maximum", "minimum", "fmax", "fmin"):
    _b(_n, "arith")
_b("true_divide", "float")
_b("divide", "float", np_name="true_divide")
for _n in ("hypot", "arctan2", "logaddexp", "copysign"):
    _b(_n, "float")
for _n in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
           "logical_and", "logical_or", "logical_xor"):
    _b(_n, "bool")
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "gcd",
           "lcm"):
    _b(_n, "int")


#: ops NumPy has no bool loop for (the error is raised at the call, not in the task)
_NO_BOOL = {
    "subtract": "boolean subtract is not supported (as in NumPy); use logical_xor or ^",
    "gcd": "bool inputs are not supported", "lcm": "bool inputs are not supported",
}


def _binary_dtype(name: str, rule: str, da: numpy.dtype, db: numpy.dtype) -> numpy.dtype:
    if rule == "bool":
        return numpy.dtype(numpy.bool_)
    dt = _dt.binary_result(da, db)
    if rule == "float":
        return _dt.float_result(dt)
    if dt.kind == "b" and name in _NO_BOOL:
        raise DTypeError(f"{name}: {_NO_BOOL[name]}")
    if rule == "int" and dt.kind not in "iub":
        raise DTypeError(f"{name}: only integer and bool inputs are supported, got {da} and {db}")
    return dt


def _scalar_dtype(name: str, rule: str, da: numpy.dtype, s: Any) -> numpy.dtype:
    if rule == "bool":
        return numpy.dtype(numpy.bool_)
    dt = _dt.scalar_result(da, s)
    if rule == "float":
        return _dt.float_result(dt)
    if dt.kind == "b" and name in _NO_BOOL:
        raise DTypeError(f"{name}: {_NO_BOOL[name]}")
    if rule == "int" and (dt.kind not in "iub" or isinstance(s, (float, complex))):
        raise DTypeError(f"{name}: only integer and bool inputs are supported, got {da} and "
                         f"{type(s).__name__}")
    return dt


class BinaryOp(Op):
    """An elementwise op of two arrays (a row of :data:`BINARY`)."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.fn, self.rule = BINARY[name]

    def infer(self, a: BaseArray, b: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        shape = broadcast_shapes(a._shape, b._shape, self.name)
        return [(shape, _binary_dtype(self.name, self.rule, a._dtype, b._dtype))]

    def forward(self, xp: Any, a: Any, b: Any) -> Any:
        return self.fn(xp, a, b)

    @property
    def fresh_output(self) -> bool:
        """The result is a new array (for a fused program's in-place pass)."""
        return self.name in _BINARY_UFUNC

    @property
    def forward_inplace(self) -> Callable[[Any, Any, Any], Any] | None:
        """``forward`` written into ``a`` (a dead buffer of the result's dtype and shape)."""
        uf = _BINARY_UFUNC.get(self.name)
        if uf is None:
            return None
        one_byte = self.rule == "float"  # (as _float_inputs: 1-byte ints computed in float)
        fdt = _dt.default_float()

        def inplace(xp: Any, a: Any, b: Any) -> Any:
            if one_byte and b.dtype.itemsize == 1:
                b = b.astype(fdt)
            return getattr(xp, uf)(a, b, out=a)

        return inplace

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (a, b), (y,), (g,) = inputs, outputs, out_grads
        grad = BINARY_GRAD.get(self.name)
        if grad is None:
            return [None, None]
        fa, fb = grad
        ga = _unbroadcast(fa(a, b, y, g), a) if _wants_grad(a) else None
        gb = _unbroadcast(fb(a, b, y, g), b) if _wants_grad(b) else None
        return [ga, gb]


class BinaryScalarOp(Op):
    """A binary row applied to an array and a Python scalar (recorded for autograd only;
    the computation itself goes through :func:`binary`)."""

    def __init__(self, name: str, scalar: Any, reverse: bool) -> None:
        self.name = name  # type: ignore[misc]
        self.scalar = scalar
        self.reverse = reverse

    def infer(self, x: BaseArray) -> list[tuple[tuple[int, ...], numpy.dtype]]:
        rule = BINARY[self.name][1]
        return [(x._shape, _scalar_dtype(self.name, rule, x._dtype, self.scalar))]

    def forward(self, xp: Any, x: Any) -> Any:
        fn = BINARY[self.name][0]
        return fn(xp, self.scalar, x) if self.reverse else fn(xp, x, self.scalar)

    @property
    def fresh_output(self) -> bool:
        """The result is a new array (for a fused program's in-place pass)."""
        return self.name in _BINARY_UFUNC

    @property
    def forward_inplace(self) -> Callable[[Any, Any], Any] | None:
        """``forward`` written into ``x`` (a dead buffer of the result's dtype and shape)."""
        uf = _BINARY_UFUNC.get(self.name)
        if uf is None:
            return None
        s, rev = self.scalar, self.reverse
        if rev:
            return lambda xp, x: getattr(xp, uf)(s, x, out=x)
        return lambda xp, x: getattr(xp, uf)(x, s, out=x)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        grad = BINARY_GRAD.get(self.name)
        if grad is None:
            return [None]
        if self.reverse:
            return [_unbroadcast(grad[1](self.scalar, x, y, g), x)]
        return [_unbroadcast(grad[0](x, self.scalar, y, g), x)]


_BINARY_OPS: dict[str, BinaryOp] = {}
for _n in BINARY:
    _BINARY_OPS[_n] = register(_n)(BinaryOp(_n))


def _scalar_value(s: Any) -> Any:
    return s.item() if isinstance(s, numpy.generic) else s


def binary(name: str, a: Any, b: Any, out: BaseArray | None = None) -> Any:
    """Apply the elementwise op ``name`` to two arrays, or an array and a scalar."""
    fn_, rule = BINARY[name]
    a_arr = isinstance(a, BaseArray)
    b_arr = isinstance(b, BaseArray)
    if a_arr and b_arr:
        dev = a._device
        if b._device is not dev and b._device != dev:
            raise FrameworkError(f"{name}: inputs are on different devices, {dev} and "
                                 f"{b._device}; move one with as_in_context()/to_device()")
        sa = a._shape
        shape = sa if sa == b._shape else broadcast_shapes(sa, b._shape, name)
        da, db = a._dtype, b._dtype
        dt = da if (da is db and rule == "arith" and da.kind != "b") else _binary_dtype(
            name, rule, da, db)
        cls = type(a)
        inputs: tuple[BaseArray, ...] = (a, b)
        x, y = a, b
        mode = 0
    elif a_arr and is_scalar(b):
        b = _scalar_value(b)
        dev, shape, cls = a._device, a._shape, type(a)
        dt = _scalar_dtype(name, rule, a._dtype, b)
        inputs = (a,)
        x, y = a, b
        mode = 1
    elif b_arr and is_scalar(a):
        a = _scalar_value(a)
        dev, shape, cls = b._device, b._shape, type(b)
        dt = _scalar_dtype(name, rule, b._dtype, a)
        inputs = (b,)
        x, y = b, a
        mode = 2
    else:
        bad = b if a_arr else a
        if isinstance(bad, numpy.ndarray):
            raise TypeError(
                f"{name}: cannot mix a framework ndarray with a numpy.ndarray (shape "
                f"{bad.shape}); convert explicitly with np.array(x) or x.asnumpy()")
        raise TypeError(f"{name}: unsupported operand types {type(a).__name__} and "
                        f"{type(b).__name__}")
    res = cls._pending(shape, dt, dev)
    if ACTIVE.count and STATE.recording:
        if mode == 0:
            _record(_BINARY_OPS[name], inputs, (res,))
        else:
            _record(BinaryScalarOp(name, y, mode == 2), inputs, (res,))
    xp = dev.xp
    engine = _eng._engine
    xv, yv = x._v, (y._v if mode == 0 else None)  # (None: no task ever touched it)
    if (not engine.naive and math.prod(shape) <= _INLINE and (xv is None or xv.err is None)
            and (yv is None or yv.err is None)):
        # fast path: compute on this thread when nothing is queued anywhere, or when no
        # unfinished task writes an input (the output is fresh: nothing else can touch it)
        with engine.lock:  # type: ignore[attr-defined]
            if xv is None:
                reads = () if yv is None else (yv,)
            else:
                reads = (xv,) if yv is None else (xv, yv)
            if engine.may_run_now(reads, ()):  # type: ignore[attr-defined]
                try:
                    bx = _buf(x)
                    if mode == 0:
                        r = fn_(xp, bx, _buf(y))
                    elif mode == 1:
                        r = fn_(xp, bx, y)
                    else:
                        r = fn_(xp, y, bx)
                    if type(r) is not xp.ndarray or r.dtype != dt:
                        r = _fix(r, dt, xp)
                    res._buf = r
                except Exception as exc:
                    fail_now(exc, name, (res,))
                if out is not None:
                    return _assign_out(name, out, res)
                return res

    _push_binary(name, fn_, xp, x, y, mode, inputs, res)
    if out is not None:
        return _assign_out(name, out, res)
    return res


def _push_binary(name: str, fn_: Callable[[Any, Any, Any], Any], xp: Any, x: BaseArray, y: Any,
                 mode: int, inputs: tuple[BaseArray, ...], res: BaseArray) -> None:
    """Queue ``binary()``'s computation on the engine. A separate function so that ``binary()``
    itself has no closure cells: creating and reading them cost its fast path ~8%."""

    def run() -> None:
        bx = _buf(x)
        if mode == 0:
            r = fn_(xp, bx, _buf(y))
        elif mode == 1:
            r = fn_(xp, bx, y)
        else:
            r = fn_(xp, y, bx)
        res._set_result(r)

    execute(name, run, inputs, (res,), inline=False)


def _assign_out(name: str, out: BaseArray, res: BaseArray) -> BaseArray:
    """Write ``res`` into ``out`` (NumPy's ``out=``): same shape, any dtype (cast)."""
    if not isinstance(out, BaseArray):
        raise TypeError(f"{name}: out must be an ndarray, got {type(out).__name__}")
    if out._shape != res._shape:
        raise ShapeError(f"{name}: out has shape {out._shape}, the result has shape "
                         f"{res._shape}")

    check_write(out)

    def run() -> None:
        _buf(out)[...] = _buf(res)

    execute(f"{name}(out=)", run, (res,), (), mutated=(out,))
    if ACTIVE.count and STATE.recording:
        _record(_ASSIGN, (res, out), (out,))
    return out


#: in-place ops computed straight into the target's buffer by :func:`binary_inplace`
_INPLACE = {"add": "add", "subtract": "subtract", "multiply": "multiply",
            "true_divide": "true_divide"}


def binary_inplace(name: str, out: BaseArray, o: Any) -> bool:
    """``out <op>= o`` as one task writing ``out``'s buffer (``xp.<op>(out, o, out=out)``), for
    the case where that is exactly ``binary()`` then ``_assign_out()``: not recording, a
    floating ``out``, and ``o`` a Python number or an array of ``out``'s dtype and device whose
    shape broadcasts to ``out``'s. Saves the result's allocation and the copy. Returns False
    (having done nothing) otherwise."""
    if (ACTIVE.count and STATE.recording) or name not in _INPLACE or out._dtype.kind != "f":
        return False
    if isinstance(o, BaseArray):
        if (o._dtype != out._dtype or o._device != out._device
                or (o._shape != out._shape and not _broadcasts_to(o._shape, out._shape))):
            return False
        inputs: tuple[BaseArray, ...] = (o,)
    elif type(o) is float or type(o) is int:
        inputs = ()
    else:
        return False
    fn = getattr(out._device.xp, _INPLACE[name])

    def run() -> None:
        b = _buf(out)
        fn(b, _buf(o) if inputs else o, out=b)

    execute(name, run, inputs, (), mutated=(out,))
    return True


def _broadcasts_to(s: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether an array of shape ``s`` broadcasts to exactly ``shape``."""
    return len(s) <= len(shape) and all(d == 1 or d == t
                                         for d, t in zip(reversed(s), reversed(shape)))


class _Assign(Op):
    """Records writing a result into an existing array (``out=``, ``x += y``); inputs are
    ``(result, target)``."""

    name = "assign"

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        return [_cast_like(out_grads[0], inputs[0]), None]

    def replay(self, inputs: Any) -> Any:
        return _assign_out("out", inputs[1], inputs[0])


_ASSIGN = _Assign()


# -- gradients ------------------------------------------------------------------------------------
# Written in framework ops, so that they are differentiable themselves (double backward).

def _arith(name: str, py: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # gradients of scalar variants combine two Python scalars too (e.g. b - 1 in power's)
    def f(a: Any, b: Any) -> Any:
        if isinstance(a, BaseArray) or isinstance(b, BaseArray):
            return binary(name, a, b)
        return py(a, b)

    return f


_mul = _arith("multiply", lambda a, b: a * b)
_div = _arith("true_divide", lambda a, b: a / b)
_add = _arith("add", lambda a, b: a + b)
_sub = _arith("subtract", lambda a, b: a - b)


def _neg(a: Any) -> Any:
    return unary("negative", a)


def _mask(cond: Any, g: Any) -> Any:
    """``g`` where ``cond`` holds, 0 elsewhere (cond is a bool array)."""
    return binary("multiply", g, cond)


def _log(v: Any) -> Any:
    return unary("log", v) if isinstance(v, BaseArray) else math.log(v)


def _zeros(x: Any, g: Any) -> Any:
    return _create.zeros_like(g if isinstance(g, BaseArray) else x)


def _sign(v: Any) -> Any:
    return unary("sign", v) if isinstance(v, BaseArray) else float(numpy.sign(v))


def _floor(v: Any) -> Any:
    return unary("floor", v) if isinstance(v, BaseArray) else math.floor(v)


def _trunc(v: Any) -> Any:
    return unary("trunc", v) if isinstance(v, BaseArray) else math.trunc(v)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG = 180.0 / math.pi

#: name -> d(op)/dx times the output gradient, as f(x, y, g)
UNARY_GRAD: dict[str, Callable[[Any, Any, Any], Any]] = {
    "abs": lambda x, y, g: _mul(g, unary("sign", x)),
    "absolute": lambda x, y, g: _mul(g, unary("sign", x)),
    "fabs": lambda x, y, g: _mul(g, unary("sign", x)),
    "negative": lambda x, y, g: _neg(g),
    "positive": lambda x, y, g: g,
    "square": lambda x, y, g: _mul(_mul(g, x), 2.0),
    "sqrt": lambda x, y, g: _div(g, _mul(y, 2.0)),
    "cbrt": lambda x, y, g: _div(g, _mul(_mul(y, y), 3.0)),
    "exp": lambda x, y, g: _mul(g, y),
    "expm1": lambda x, y, g: _mul(g, _add(y, 1.0)),
    "exp2": lambda x, y, g: _mul(g, _mul(y, _LN2)),
    "log": lambda x, y, g: _div(g, x),
    "log2": lambda x, y, g: _div(g, _mul(x, _LN2)),
    "log10": lambda x, y, g: _div(g, _mul(x, _LN10)),
    "log1p": lambda x, y, g: _div(g, _add(x, 1.0)),
    "sin": lambda x, y, g: _mul(g, unary("cos", x)),
    "cos": lambda x, y, g: _neg(_mul(g, unary("sin", x))),
    "tan": lambda x, y, g: _mul(g, _add(_mul(y, y), 1.0)),
    "arcsin": lambda x, y, g: _div(g, unary("sqrt", _sub(1.0, _mul(x, x)))),
    "arccos": lambda x, y, g: _neg(_div(g, unary("sqrt", _sub(1.0, _mul(x, x))))),
    "arctan": lambda x, y, g: _div(g, _add(_mul(x, x), 1.0)),
    "sinh": lambda x, y, g: _mul(g, unary("cosh", x)),
    "cosh": lambda x, y, g: _mul(g, unary("sinh", x)),
    "tanh": lambda x, y, g: _mul(g, _sub(1.0, _mul(y, y))),
    "arcsinh": lambda x, y, g: _div(g, unary("sqrt", _add(_mul(x, x), 1.0))),
    "arccosh": lambda x, y, g: _div(g, unary("sqrt", _sub(_mul(x, x), 1.0))),
    "arctanh": lambda x, y, g: _div(g, _sub(1.0, _mul(x, x))),
    "degrees": lambda x, y, g: _mul(g, _DEG),
    "rad2deg": lambda x, y, g: _mul(g, _DEG),
    "radians": lambda x, y, g: _div(g, _DEG),
    "deg2rad": lambda x, y, g: _div(g, _DEG),
    "reciprocal": lambda x, y, g: _neg(_mul(g, _mul(y, y))),
    # where(x > 0, g, 0), not g * (x >= 0): the subgradient at 0 is 0, as in MXNet
    "relu": lambda x, y, g: _mask(binary("greater", x, 0), g),
    "sigmoid": lambda x, y, g: _mul(g, _mul(y, _sub(1.0, y))),
    "softsign": lambda x, y, g: _div(g, unary("square", _add(unary("abs", x), 1.0))),
    "softrelu": lambda x, y, g: _mul(g, unary("sigmoid", x)),
    "rsqrt": lambda x, y, g: _mul(g, _mul(unary("square", y), _mul(y, -0.5))),
    "rcbrt": lambda x, y, g: _mul(g, _mul(unary("square", unary("square", y)), -1.0 / 3.0)),
}
for _n in ("sign", "floor", "ceil", "trunc", "rint", "fix"):
    UNARY_GRAD[_n] = lambda x, y, g: _zeros(x, g)

#: name -> (d/da, d/db): each f(a, b, y, g) gives that input's gradient before un-broadcasting;
#: a or b may be a Python scalar. Only the gradients an input needs are computed.
BINARY_GRAD: dict[str, tuple[Callable[[Any, Any, Any, Any], Any],
                             Callable[[Any, Any, Any, Any], Any]]] = {
    "add": (lambda a, b, y, g: g, lambda a, b, y, g: g),
    "subtract": (lambda a, b, y, g: g, lambda a, b, y, g: _neg(g)),
    "multiply": (lambda a, b, y, g: _mul(g, b), lambda a, b, y, g: _mul(g, a)),
    "true_divide": (lambda a, b, y, g: _div(g, b),
                    lambda a, b, y, g: _neg(_div(_mul(g, y), b))),
    "divide": (lambda a, b, y, g: _div(g, b), lambda a, b, y, g: _neg(_div(_mul(g, y), b))),
    "power": (lambda a, b, y, g: _mul(g, _mul(b, binary("power", a, _sub(b, 1.0)))),
              lambda a, b, y, g: _mul(g, _mul(y, _log(a)))),
    "maximum": (lambda a, b, y, g: _mask(binary("greater_equal", a, b), g),
                lambda a, b, y, g: _mask(binary("less", a, b), g)),
    "minimum": (lambda a, b, y, g: _mask(binary("less_equal", a, b), g),
                lambda a, b, y, g: _mask(binary("greater", a, b), g)),
    "fmax": (lambda a, b, y, g: _mask(binary("greater_equal", a, b), g),
             lambda a, b, y, g: _mask(binary("less", a, b), g)),
    "fmin": (lambda a, b, y, g: _mask(binary("less_equal", a, b), g),
             lambda a, b, y, g: _mask(binary("greater", a, b), g)),
    "mod": (lambda a, b, y, g: g, lambda a, b, y, g: _neg(_mul(g, _floor(_div(a, b))))),
    "remainder": (lambda a, b, y, g: g, lambda a, b, y, g: _neg(_mul(g, _floor(_div(a, b))))),
    "fmod": (lambda a, b, y, g: g, lambda a, b, y, g: _neg(_mul(g, _trunc(_div(a, b))))),
    "floor_divide": (lambda a, b, y, g: _zeros(a, g), lambda a, b, y, g: _zeros(b, g)),
    "hypot": (lambda a, b, y, g: _mul(g, _div(a, y)), lambda a, b, y, g: _mul(g, _div(b, y))),
    "arctan2": (lambda a, b, y, g: _mul(g, _div(b, _add(_mul(a, a), _mul(b, b)))),
                lambda a, b, y, g: _neg(_mul(g, _div(a, _add(_mul(a, a), _mul(b, b)))))),
    "logaddexp": (lambda a, b, y, g: _mul(g, unary("exp", _sub(a, y))),
                  lambda a, b, y, g: _mul(g, unary("exp", _sub(b, y)))),
    "copysign": (lambda a, b, y, g: _mul(g, _mul(_sign(a), _sign(b))),
                 lambda a, b, y, g: _zeros(b, g)),
}


def _wants_grad(x: BaseArray) -> bool:
    return x._dtype.kind in "fc" and (x._node is not None or x._grad_req != "null")


def _cast_like(g: Any, x: BaseArray) -> Any:
    if not isinstance(g, BaseArray):
        return _create.full_like(x, g)
    if g._dtype != x._dtype:
        return _shape.astype(g, x._dtype)
    return g


def _unbroadcast(g: Any, x: Any) -> Any:
    """Sum ``g`` over the axes broadcasting added to ``x``, back to ``x``'s shape and dtype;
    None when ``x`` is not a differentiable array (a scalar, or integers)."""
    if not isinstance(x, BaseArray) or x._dtype.kind not in "fc" or g is None:
        return None
    if not isinstance(g, BaseArray):
        return _create.full_like(x, g)
    if g._shape != x._shape:
        extra = len(g._shape) - len(x._shape)
        axes = tuple(range(extra)) + tuple(
            i + extra for i, d in enumerate(x._shape) if d == 1 and g._shape[i + extra] != 1)
        if len(axes) == g.ndim - 1 and g.ndim > 1:  # one axis kept (a per-channel bias)
            g = _reduce.sum_but(g, next(i for i in range(g.ndim) if i not in axes))
        elif axes:
            g = _reduce.reduce("sum", g, axis=axes, keepdims=True)
        if g._shape != x._shape:
            g = _shape.reshape(g, x._shape)
    return _cast_like(g, x)


# -- the fast path for Python operators -----------------------------------------------------------

_NP_NDARRAY = numpy.ndarray
_new = object.__new__


def _record_operator(bop: BinaryOp, reverse: bool, a: Any, b: Any, bb: Any, res: Any) -> None:
    """Record ``make_operator``'s result as :func:`binary` would have."""
    if bb is b:  # a Python number
        _record(BinaryScalarOp(bop.name, b, reverse), (a,), (res,))
    else:
        _record(bop, (b, a) if reverse else (a, b), (res,))


def _dtypes_of_kinds(kinds: str) -> frozenset[numpy.dtype]:
    """The native-byte-order NumPy dtypes whose kind is one of ``kinds``."""
    return frozenset(d for d in map(numpy.dtype, set(numpy.sctypeDict.values()))
                     if d.kind in kinds and d.isnative)


_FLOAT_DTYPES = _dtypes_of_kinds("f")


def make_operator(name: str, kinds: str, reverse: bool = False) -> Callable[[Any, Any], Any]:
    """The function behind ``a <op> b`` for ndarray's operator methods.

    The common case (two CPU arrays of one shape and dtype, or a float array and a Python
    number; small; nothing queued) computes right here with one NumPy call, and records itself
    as ``binary`` would while autograd records. It is the same computation ``binary`` would
    run inline, minus the dispatch: a small op costs about what PyTorch's eager op does.
    Everything else goes through :func:`binary`.
    ``kinds`` are the dtype kinds for which NumPy's result dtype equals MXNet's here.
    """
    ufunc = getattr(numpy, "true_divide" if name == "divide" else name)
    bop = _BINARY_OPS[name]
    same = _dtypes_of_kinds(kinds)  # (a set test: cheaper than ``dtype.kind in kinds``)

    def slow(a: Any, b: Any) -> Any:  # everything else: the general binary()
        return binary(name, b, a) if reverse else binary(name, a, b)

    def op(a: Any, b: Any) -> Any:
        ab = a._buf
        if ab.__class__ is _NP_NDARRAY:
            bc = b.__class__
            dt = a._dtype
            if bc is a.__class__:
                bb = b._buf
                if (bb.__class__ is not _NP_NDARRAY or a._shape != b._shape
                        or dt is not b._dtype or dt not in same or a._device is not b._device
                        or (b._v is not None and b._v.err is not None)):
                    bb = None
            elif (bc is float or bc is int) and dt in _FLOAT_DTYPES:
                bb = b
            else:
                bb = None
            engine = _eng._engine
            if bb is not None and ab.size <= _INLINE and (a._v is None or a._v.err is None):
                if engine.naive:
                    r = ufunc(bb, ab) if reverse else ufunc(ab, bb)
                else:
                    # lock-free: the op is pure (a fresh output), so it may run optimistically
                    # and keep its result only if no push or inline run started or ended
                    # meanwhile (the engine's seqlock counter, see ThreadedEngine.__init__) and
                    # nothing was queued (early returns: each test costs on this path)
                    gen = engine.gen  # type: ignore[attr-defined]
                    if gen & 1:
                        return slow(a, b)
                    for w in engine.worker_list:  # type: ignore[attr-defined]
                        if w.pushed != w.done:
                            return slow(a, b)
                    r = ufunc(bb, ab) if reverse else ufunc(ab, bb)
                    if engine.gen != gen:  # type: ignore[attr-defined]
                        return slow(a, b)
                # the result array, made here (BaseArray._wrap inlined: a call is a measurable
                # share of the ~1 us this path costs); its shape is a's (same shapes, or a
                # Python number)
                if r.__class__ is not _NP_NDARRAY:
                    r = numpy.asarray(r)
                res = _new(a.__class__)
                res._buf = r
                res._v = None  # made on first use (BaseArray._var)
                res._device = a._device
                res._shape = a._shape
                res._dtype = r.dtype
                res._grad = None
                res._grad_req = "null"
                res._node = None
                if ACTIVE.count and STATE.recording:
                    _record_operator(bop, reverse, a, b, bb, res)
                return res
        return slow(a, b)

    op.__name__ = name
    return op
