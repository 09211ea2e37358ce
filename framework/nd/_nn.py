"""Network operators: activations, masked softmax, fully connected, dropout and embedding
(convolution and pooling are in :mod:`._conv`, normalisations in :mod:`._norm`).

Each op is a fused primitive with an ``xp`` forward (one pass instead of a dozen engine tasks,
and numerically stable where the naive composition is not) and a backward written in framework
ops, so gradients are themselves differentiable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, ShapeError
from ._base import BaseArray, broadcast_shapes
from ._elemwise import binary, sigmoid_kernel, softplus, unary
from ._gradutil import add, cast_like, mul
from ._misc import dot, softmax_grad
from ._misc import log_softmax as log_softmax_
from ._misc import softmax as softmax_
from ._npx import SPECIAL, _scatter_add, chunked, erfc_pos32, special
from ._op import Op, apply, register
from ._random import sample
from ._reduce import normalize_axis, reduce
from ._shape import astype, reshape, transpose
from ._tape import STATE, requires_grad

__all__ = [
    "ACTIVATIONS", "LEAKY_ACTIVATIONS", "Activation", "LeakyReLU", "LengthMask",
    "MaskedSoftmax", "FullyConnected", "Dropout", "Embedding", "EmbeddingGrad", "activation",
    "leaky_relu", "softmax", "masked_softmax", "fully_connected", "dropout", "embedding",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

_F32 = numpy.dtype(numpy.float32)
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946
_GELU_TANH_C = math.sqrt(2.0 / math.pi)
_GELU_TANH_A = 0.044715


def _positive(x: BaseArray) -> BaseArray:
    """1.0 where x > 0, else 0.0, in x's dtype (a constant in the graph)."""
    return astype(binary("greater", x, 0), x._dtype)


def _check_real(x: BaseArray, op: str, arg: str = "data") -> None:
    if x._dtype.kind not in "iuf":
        raise DTypeError(f"{op}: {arg} must be a real numeric array, got {x._dtype}")


def _work_float(xp: Any, x: Any) -> Any:
    """x in a floating type: floats keep theirs, integers compute in float32."""
    return x if x.dtype.kind == "f" else x.astype(_F32)


# -- activations --------------------------------------------------------------------------------

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softrelu", "softsign", "log_sigmoid", "mish")


@register("_npx_activation")
class Activation(Op):
    """``npx.activation``: relu, sigmoid, tanh, softrelu (softplus), softsign, log_sigmoid, mish;
    all stable for large ``|x|`` (logaddexp and exp(-|x|) forms)."""

    def __init__(self, act_type: str = "relu") -> None:
        if act_type not in ACTIVATIONS:
            raise ValueError(f"activation: act_type must be one of {ACTIVATIONS}, got "
                             f"{act_type!r}")
        self.act = act_type

    def infer(self, x: BaseArray) -> Specs:
        _check_real(x, "activation")
        return [(x._shape, x._dtype if self.act == "relu" else _dt.float_result(x._dtype))]

    def forward(self, xp: Any, x: Any) -> Any:
        act = self.act
        if act == "relu":
            return xp.maximum(x, x.dtype.type(0))
        x = _work_float(xp, x)
        if act == "sigmoid":
            return sigmoid_kernel(xp, x)
        if act == "tanh":
            return xp.tanh(x)
        if act == "softrelu":
            return softplus(xp, x)
        if act == "softsign":
            return x / (1 + xp.abs(x))
        if act == "log_sigmoid":
            y = softplus(xp, -x)
            return xp.negative(y, out=y)
        y = softplus(xp, x)  # mish
        xp.tanh(y, out=y)
        y *= x
        return y

    def forward_into(self, xp: Any, out: Any, x: Any) -> bool:
        """``forward`` written into ``out`` (hybridize(static_alloc=True)); False (nothing
        written) for the activations that have no such path."""
        if self.act != "relu":
            return False
        xp.maximum(x, x.dtype.type(0), out=out)
        return True

    #: the result is a new array (for a fused program's in-place pass)
    fresh_output = True

    @property
    def inplace_when_recording(self) -> bool:
        """relu's gradient reads only the sign of its input, which its output shares: a
        recorded fused program may write relu over its (otherwise dead) input."""
        return self.act == "relu"

    @property
    def forward_inplace(self) -> Any:
        """relu written into ``x`` (a fused program's dead buffer); None for the others."""
        if self.act != "relu":
            return None
        return lambda xp, x: xp.maximum(x, x.dtype.type(0), out=x)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x,), (y,), (g,) = inputs, outputs, out_grads
        if x._dtype.kind != "f":
            return [None]
        act = self.act
        if act == "relu":
            if g._dtype == x._dtype and g._shape == x._shape:
                return [apply(_RELU_GRAD, (g, x))]  # one kernel: g * (x > 0)
            d = _positive(x)
        elif act == "sigmoid":
            d = mul(y, binary("subtract", 1.0, y))
        elif act == "tanh":
            d = binary("subtract", 1.0, mul(y, y))
        elif act == "softrelu":
            d = unary("sigmoid", x)
        elif act == "softsign":
            den = add(unary("abs", x), 1.0)
            d = binary("divide", 1.0, mul(den, den))
        elif act == "log_sigmoid":
            d = unary("sigmoid", unary("negative", x))
        else:  # mish: tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
            t = unary("tanh", unary("softrelu", x))
            d = add(t, mul(mul(x, binary("subtract", 1.0, mul(t, t))), unary("sigmoid", x)))
        return [mul(g, d)]


class _ActivationGrad(Op):
    """An activation's gradient ``g * f'(x)`` as one op, inputs ``(g, x)`` of one shape and
    dtype."""

    fresh_output = True  # (its product is a new array)

    def infer(self, g: BaseArray, x: BaseArray) -> Specs:
        if g._shape != x._shape or g._dtype != x._dtype:
            raise ShapeError(f"{self.name}: gradient of shape {g._shape} and dtype {g._dtype} "
                             f"must match the input's, {x._shape} and {x._dtype}")
        return [(g._shape, g._dtype)]


class _ReluGrad(_ActivationGrad):
    """The relu gradient ``g * (x > 0)`` as one op (one kernel, one step of a fused backward
    program, instead of ``greater`` then ``multiply``). The product keeps ``multiply``'s
    semantics: ``-0.0`` where ``g < 0`` is masked, NaN where an infinite ``g`` is masked. Its own
    gradient: the same mask applied to the incoming gradient, none for ``x``."""

    name = "relu_grad"

    def forward(self, xp: Any, g: Any, x: Any) -> Any:
        return xp.multiply(g, xp.greater(x, x.dtype.type(0)))

    def forward_inplace(self, xp: Any, g: Any, x: Any) -> Any:
        """``forward`` written into ``g`` (a fused program's dead incoming gradient)."""
        return xp.multiply(g, xp.greater(x, x.dtype.type(0)), out=g)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (g, x), (og,) = inputs, out_grads
        if og._dtype != g._dtype or og._shape != g._shape:
            return [mul(og, _positive(x)), None]
        return [apply(self, (og, x)), None]


_RELU_GRAD = _ReluGrad()


LEAKY_ACTIVATIONS = ("leaky", "prelu", "rrelu", "elu", "selu", "gelu", "gelu_tanh")


def _erf_xp(xp: Any, x: Any) -> Any:
    flat = x.astype(numpy.float64).reshape(-1)
    with numpy.errstate(all="ignore"):
        r = SPECIAL["erf"](xp, flat) if flat.size else flat
    return r.reshape(x.shape).astype(x.dtype, copy=False)


def _cdf32(xp: Any, x: Any) -> Any:
    """Phi(x), the standard normal CDF, of a float32 array: ``erfc(-x / sqrt 2) / 2`` by
    :func:`erfc_pos32` (Numerical Recipes' erfc), evaluated in float32 (relative error ~1e-6,
    also in the lower tail, where 1 + erf(x) would cancel)."""
    f = numpy.float32
    z = xp.abs(x)
    z *= f(_SQRT1_2)
    p = erfc_pos32(xp, z)
    p *= f(0.5)  # Phi(-|x|)
    # Phi(x) = 1 - Phi(-|x|) for x >= 0: added as p + (x >= 0) (1 - 2p), not by where(),
    # whose NumPy loop branches on each element (a third of this kernel's time)
    q = p * f(-2.0)
    q += f(1.0)
    q *= x >= 0
    p += q
    return p


def _cdf64(xp: Any, x: Any) -> Any:
    """Phi(x) of a float64 array through the float64-exact erf."""
    return (1 + _erf_xp(xp, x * x.dtype.type(_SQRT1_2))) * x.dtype.type(0.5)


def _gelu_exact(xp: Any, x: Any) -> Any:
    """GELU (the erf form) of a float array: float64 through the float64-exact erf; float32 and
    float16 through :func:`_cdf32` in float32 (5x faster than converting to float64)."""
    if x.dtype.itemsize >= 8:
        return x * _cdf64(xp, x)
    x32 = x.astype(numpy.float32, copy=False)
    y = chunked(xp, lambda v: v * _cdf32(xp, v), x32)
    return y.astype(x.dtype, copy=False)


def _gelu_grad32(xp: Any, g: Any, x: Any) -> Any:
    """``g * (Phi(x) + x phi(x))`` of float32 chunks (:class:`_GeluGrad`)."""
    f = numpy.float32
    d = xp.multiply(x, x)
    d *= f(-0.5)
    xp.exp(d, out=d)
    d *= f(_INV_SQRT_2PI)
    d *= x
    d += _cdf32(xp, x)
    d *= g
    return d


class _GeluGrad(_ActivationGrad):
    """The GELU (erf form) gradient ``g * (Phi(x) + x phi(x))`` as one op, used when the
    backward is not itself recorded (``create_graph`` keeps the differentiable formula)."""

    name = "gelu_grad"

    def forward(self, xp: Any, g: Any, x: Any) -> Any:
        if x.dtype.itemsize >= 8:
            pdf = xp.exp(x * x * x.dtype.type(-0.5)) * x.dtype.type(_INV_SQRT_2PI)
            return g * (_cdf64(xp, x) + x * pdf)
        out = chunked(xp, lambda gv, xv: _gelu_grad32(xp, gv, xv),
                      g.astype(numpy.float32, copy=False), x.astype(numpy.float32, copy=False))
        return out.astype(x.dtype, copy=False)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        raise NotImplementedError("gelu_grad is only used when the backward is not recorded")


_GELU_GRAD = _GeluGrad()


@register("_npx_leaky_relu")
class LeakyReLU(Op):
    """``npx.leaky_relu``. Inputs: ``(x,)``, or ``(x, gamma)`` for prelu (gamma broadcast along
    axis 1, or of size 1), or ``(x, slopes)`` for rrelu in training (one slope per element)."""

    def __init__(self, act_type: str = "leaky", slope: float = 0.25) -> None:
        if act_type not in LEAKY_ACTIVATIONS:
            raise ValueError(f"leaky_relu: act_type must be one of {LEAKY_ACTIVATIONS}, got "
                             f"{act_type!r}")
        self.act = act_type
        self.slope = float(slope)
        self.gshape: Shape = ()

    def infer(self, x: BaseArray, s: BaseArray | None = None) -> Specs:
        op = "leaky_relu"
        _check_real(x, op)
        if x._dtype.kind != "f":
            raise DTypeError(f"{op}: data must be a floating array, got {x._dtype}")
        if self.act in ("prelu", "rrelu"):
            if s is None:
                raise ValueError(f"{op}: act_type={self.act!r} needs "
                                 f"{'gamma' if self.act == 'prelu' else 'the slopes'}")
            if self.act == "prelu":
                chans = x._shape[1] if x.ndim > 1 else 1
                if s.size == 1:
                    self.gshape = (1,) * x.ndim
                elif s._shape == (chans,) and x.ndim > 1:
                    self.gshape = (1, chans) + (1,) * (x.ndim - 2)
                else:
                    raise ShapeError(f"{op}: gamma must have shape ({chans},) (the channel "
                                     f"axis 1 of data shape {x._shape}) or size 1, got "
                                     f"{s._shape}")
            elif s._shape != x._shape:
                raise ShapeError(f"{op}: rrelu slopes must have the data shape {x._shape}")
        elif s is not None:
            raise ValueError(f"{op}: gamma is only used with act_type='prelu'")
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any, s: Any = None) -> Any:
        act = self.act
        zero = x.dtype.type(0)
        if act in ("leaky", "prelu", "rrelu"):
            if act == "leaky":
                slope: Any = x.dtype.type(self.slope)
                if 0 <= self.slope <= 1:  # max(x, slope x): NumPy's where() is a scalar loop
                    return xp.maximum(x, x * slope)
            elif act == "prelu":
                slope = s.astype(x.dtype, copy=False).reshape(self.gshape)
            else:
                slope = s.astype(x.dtype, copy=False)
            return xp.where(x > zero, x, x * slope)
        if act in ("elu", "selu"):
            alpha = self.slope if act == "elu" else _SELU_ALPHA
            # alpha expm1(min(x, 0)) + max(x, 0): the two branches without where() (a scalar
            # loop in NumPy); expm1 of min(x, 0) never overflows
            y = xp.expm1(xp.minimum(x, zero))
            y = y * x.dtype.type(alpha)  # (a 0-d input gives scalars: no in-place ops)
            y = y + xp.maximum(x, zero)
            return y * x.dtype.type(_SELU_LAMBDA) if act == "selu" else y
        if act == "gelu":
            return _gelu_exact(xp, x)
        inner = x.dtype.type(_GELU_TANH_C) * (x + x.dtype.type(_GELU_TANH_A) * x * x * x)
        return x * (1 + xp.tanh(inner)) * x.dtype.type(0.5)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x = inputs[0]
        (g,) = out_grads
        act = self.act
        if act in ("leaky", "prelu", "rrelu"):
            pos = _positive(x)
            neg = binary("subtract", 1.0, pos)
            if act == "leaky":
                return [mul(g, add(pos, mul(neg, self.slope)))]
            s = inputs[1]
            sb = reshape(s, self.gshape) if act == "prelu" else s
            gx = mul(g, add(pos, mul(neg, cast_like(sb, x))))
            if act == "rrelu":
                return [gx, None]
            gs = mul(mul(g, x), neg)
            axes = tuple(i for i, d in enumerate(self.gshape) if d == 1)
            gs = reshape(reduce("sum", gs, axis=axes), s._shape)
            return [gx, cast_like(gs, s)]
        if act in ("elu", "selu"):
            alpha = self.slope if act == "elu" else _SELU_ALPHA
            pos = _positive(x)
            e = unary("exp", binary("minimum", x, 0.0))
            d = add(pos, mul(mul(binary("subtract", 1.0, pos), e), alpha))
            if act == "selu":
                d = mul(d, _SELU_LAMBDA)
            return [mul(g, d)]
        if act == "gelu":  # Phi(x) + x phi(x)
            if not STATE.grad and g._dtype == x._dtype and g._shape == x._shape:
                return [apply(_GELU_GRAD, (g, x))]  # one op (float32: the float32 kernel)
            cdf = mul(add(special("erf", mul(x, _SQRT1_2)), 1.0), 0.5)
            pdf = mul(unary("exp", mul(mul(x, x), -0.5)), _INV_SQRT_2PI)
            return [mul(g, add(cdf, mul(x, pdf)))]
        # gelu_tanh: 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
        x2 = mul(x, x)
        t = unary("tanh", mul(mul(add(mul(x2, _GELU_TANH_A), 1.0), x), _GELU_TANH_C))
        dinner = mul(add(mul(x2, 3 * _GELU_TANH_A), 1.0), _GELU_TANH_C)
        d = add(mul(add(t, 1.0), 0.5),
                 mul(mul(mul(x, binary("subtract", 1.0, mul(t, t))), dinner), 0.5))
        return [mul(g, d)]


# -- softmax with a mask or lengths -----------------------------------------------------------

@register("_npx_length_mask")
class LengthMask(Op):
    """Boolean mask of ``x``'s shape: True where the position along ``axis`` is below
    ``length`` (whose shape is x's without that axis)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def infer(self, x: BaseArray, length: BaseArray) -> Specs:
        (ax,) = normalize_axis(self.axis, x.ndim, "softmax", False)
        self.ax = ax
        expect = x._shape[:ax] + x._shape[ax + 1:]
        if length._shape != expect:
            raise ShapeError(f"softmax: length must have shape {expect} (data shape {x._shape} "
                             f"without axis {ax}), got {length._shape}")
        if length._dtype.kind not in "iuf":
            raise DTypeError(f"softmax: length must be numeric, got {length._dtype}")
        return [(x._shape, numpy.dtype(numpy.bool_))]

    def forward(self, xp: Any, x: Any, length: Any) -> Any:
        ax = self.ax
        n = x.shape[ax]
        steps = xp.arange(n).reshape((n,) + (1,) * (x.ndim - ax - 1))
        lens = xp.expand_dims(length.astype(numpy.int64), ax)
        return xp.ascontiguousarray(xp.broadcast_to(steps < lens, x.shape))


@register("_npx_masked_softmax")
class MaskedSoftmax(Op):
    """Softmax (``log=True``: log-softmax) along ``axis`` over the positions where ``mask`` (which
    broadcasts to the data) is true; masked positions give ``fill`` (0 for softmax)."""

    def __init__(self, axis: int = -1, temperature: float | None = None, log: bool = False,
                 fill: float = 0.0, dtype: Any = None) -> None:
        self.axis = axis
        self.t = 1.0 if temperature is None else float(temperature)
        if self.t == 0:
            raise ValueError("softmax: temperature must be non-zero")
        self.log = log
        self.fill = fill
        self.dtype = _dt.normalize(dtype)

    def infer(self, x: BaseArray, mask: BaseArray) -> Specs:
        (self.ax,) = normalize_axis(self.axis, x.ndim, "masked_softmax", False)
        if broadcast_shapes(x._shape, mask._shape, "masked_softmax") != x._shape:
            raise ShapeError(f"masked_softmax: mask of shape {mask._shape} does not broadcast "
                             f"to the data shape {x._shape}")
        self.out_dt = self.dtype or _dt.float_result(x._dtype)
        return [(x._shape, self.out_dt)]

    def forward(self, xp: Any, x: Any, mask: Any) -> Any:
        dt = self.out_dt
        x = x.astype(dt, copy=False)
        if x.size == 0:
            return x.copy()
        ax = self.ax
        m = xp.broadcast_to(mask if mask.dtype == numpy.bool_ else mask != 0, x.shape)
        # masked inputs become the lowest finite value (not -inf: an all-masked row stays finite)
        xm = xp.where(m, x, numpy.finfo(dt).min)
        shifted = xm - xp.max(xm, axis=ax, keepdims=True)
        if self.t != 1:
            shifted = shifted / dt.type(self.t)
        e = xp.exp(shifted) * m
        s = xp.sum(e, axis=ax, keepdims=True)
        s = xp.where(s > 0, s, dt.type(1))
        if self.log:
            return xp.where(m, shifted - xp.log(s), dt.type(self.fill))
        e /= s
        return e

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, mask), (y,), (g,) = inputs, outputs, out_grads
        if x._dtype.kind != "f":
            return [None, None]
        maskf = None
        if self.log:
            maskf = astype(binary("not_equal", mask, 0), y._dtype)
        gx = softmax_grad(y, g, self.ax, self.t, self.log, maskf)
        return [cast_like(gx, x), None]


# -- fully connected ----------------------------------------------------------------------------

def _as_2d(a: BaseArray, cols: int) -> BaseArray:
    """``a`` as a ``(-1, cols)`` matrix; ``a`` itself when it already is one (no identity
    reshape: in a traced backward program each would be a step of its own)."""
    if a.ndim == 2 and a._shape[1] == cols:
        return a
    return reshape(a, (-1, cols))


@register("_npx_fully_connected")
class FullyConnected(Op):
    """``y = x W^T + b``; ``flatten`` collapses x's trailing axes, otherwise the last axis is
    transformed."""

    #: the result is a new array (its GEMM's): a fused program may overwrite it once it is dead
    fresh_output = True
    #: the backward formula reads x, w and the output's gradient, never the output itself
    backward_reads_output = False

    def __init__(self, flatten: bool = True) -> None:
        self.flatten = bool(flatten)

    def infer(self, x: BaseArray, w: BaseArray, b: BaseArray | None = None) -> Specs:
        op = "fully_connected"
        _check_real(x, op, "x")
        _check_real(w, op, "weight")
        if w.ndim != 2:
            raise ShapeError(f"{op}: weight must be 2-d (num_hidden, in_units), got shape "
                             f"{w._shape}")
        if x.ndim == 0:
            raise ShapeError(f"{op}: x must have at least one dimension")
        h, k = w._shape
        if self.flatten:
            lead: Shape = x._shape[:1]
            units = math.prod(x._shape[1:])
        else:
            lead = x._shape[:-1]
            units = x._shape[-1]
        if units != k:
            how = f"the product of x.shape[1:] = {x._shape[1:]}" if self.flatten else \
                "x.shape[-1]"
            raise ShapeError(f"{op}: weight {w._shape} expects {k} input units, but x of shape "
                             f"{x._shape} gives {units} ({how}, flatten={self.flatten})")
        dt = x._dtype
        if w._dtype is not dt or dt.kind != "f":  # (one float dtype: the result's)
            dt = _dt.binary_result(dt, w._dtype)
        if b is not None:
            _check_real(b, op, "bias")
            if b._shape != (h,):
                raise ShapeError(f"{op}: bias must have shape ({h},), got {b._shape}")
            if b._dtype is not dt or dt.kind != "f":
                dt = _dt.binary_result(dt, b._dtype)
        self.k, self.h, self.dt = k, h, dt
        return [(lead + (h,), dt)]

    def forward(self, xp: Any, x: Any, w: Any, b: Any = None) -> Any:
        x2 = x.reshape(-1, self.k).astype(self.dt, copy=False)
        y = xp.matmul(x2, w.astype(self.dt, copy=False).T)
        if b is not None:
            y += b.astype(self.dt, copy=False)
        lead = x.shape[:1] if self.flatten else x.shape[:-1]
        return y.reshape(lead + (self.h,))

    def forward_into(self, xp: Any, out: Any, x: Any, w: Any, b: Any = None) -> bool:
        """``forward`` written into the contiguous ``out`` (the same GEMM and bias add)."""
        x2 = x.reshape(-1, self.k).astype(self.dt, copy=False)
        y = out.reshape(-1, self.h)
        xp.matmul(x2, w.astype(self.dt, copy=False).T, out=y)
        if b is not None:
            y += b.astype(self.dt, copy=False)
        return True

    #: a relu follows the product inside this op (:class:`_FullyConnectedRelu`): its output's
    #: sign masks the incoming gradient
    relu = False

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, w = inputs[0], inputs[1]
        (g,) = out_grads
        # only the gradients an input needs (x is often the data batch: its product with w is
        # the largest of the three); all of them when none takes part (backward called directly)
        every = not any(requires_grad(t) for t in inputs)
        wants = (x._dtype.kind == "f" and (every or requires_grad(x)), every or requires_grad(w),
                 len(inputs) == 3 and (every or requires_grad(inputs[2])))
        y = outputs[0] if self.relu else None
        dt = g._dtype
        if STATE.trace is None and not STATE.grad and any(wants) and dt.kind == "f" and \
                x._dtype == dt and w._dtype == dt and (len(inputs) == 2 or inputs[2]._dtype == dt):
            # not recorded, not traced: the three products as ONE op (one task)
            made = apply(_FullyConnectedGrad(wants, self.k, self.h, x._shape, self.relu),
                         (g, x, w) if y is None else (g, x, w, y))
            it = iter(made if isinstance(made, tuple) else (made,))
            return [next(it) if want else None for want in wants[:len(inputs)]]
        if y is not None:  # relu's gradient first: the sign of its output is its input's
            g = apply(_RELU_GRAD, (g, y)) if g._dtype == y._dtype and g._shape == y._shape \
                else mul(g, _positive(y))
        g2 = _as_2d(g, self.h)
        grads = [None, None]
        if wants[0]:
            gx = dot(g2, w)
            grads[0] = cast_like(gx if gx._shape == x._shape else reshape(gx, x._shape), x)
        if wants[1]:
            grads[1] = cast_like(dot(transpose(g2), _as_2d(x, self.k)), w)
        if len(inputs) == 3:
            grads.append(cast_like(reduce("sum", g2, axis=0), inputs[2]) if wants[2] else None)
        return grads


class _FullyConnectedRelu(FullyConnected):
    """``relu(x W^T + b)`` as one op: the relu is written over the GEMM's fresh result. What an
    imperative ``Dense(activation='relu')`` issues (one dispatch and one engine task instead of
    two, one buffer instead of two); the same values as ``fully_connected`` then ``relu``. Its
    gradient masks the incoming one by the sign of its output, which is its pre-activation's.
    Never traced: a hybridized Dense records the two ops."""

    name = "fully_connected_relu"
    backward_reads_output = True  # (the relu's mask)
    relu = True

    def forward(self, xp: Any, x: Any, w: Any, b: Any = None) -> Any:
        y = FullyConnected.forward(self, xp, x, w, b)
        return xp.maximum(y, y.dtype.type(0), out=y)

    def forward_into(self, xp: Any, out: Any, x: Any, w: Any, b: Any = None) -> bool:
        FullyConnected.forward_into(self, xp, out, x, w, b)
        xp.maximum(out, out.dtype.type(0), out=out)
        return True


def fully_connected_relu(x: BaseArray, weight: BaseArray, bias: BaseArray | None,
                         flatten: bool) -> BaseArray:
    """``relu(fully_connected(x, weight, bias, flatten=flatten))`` as one op (see
    :class:`_FullyConnectedRelu`)."""
    op = "fully_connected"
    inputs = [_arr(x, op, "x"), _arr(weight, op, "weight")]
    if bias is not None:
        inputs.append(_arr(bias, op, "bias"))
    return apply(_FullyConnectedRelu(flatten), inputs)  # type: ignore[no-any-return]


class _FullyConnectedGrad(Op):
    """The gradients of :class:`FullyConnected`'s inputs that are wanted, as one op: ``g @ w``
    (x's, in x's shape), ``g.T @ x`` (w's), ``g.sum(0)`` (the bias's), each the NumPy call that
    the separate ``dot``/``transpose``/``sum`` ops make, so the same values. It saves two op
    dispatches and two engine tasks per layer in an imperative backward. Used only while
    autograd does not record the backward and no trace is on: a hybridized backward program
    keeps the separate ops (its in-place pass writes the relu gradient into ``g @ w``), and
    ``create_graph`` needs them to be differentiable."""

    name = "fully_connected_grad"

    def __init__(self, wants: tuple[bool, bool, bool], k: int, h: int,
                 x_shape: tuple[int, ...], relu: bool = False) -> None:
        self.wants = wants
        self.k, self.h = k, h
        self.x_shape = x_shape
        self.relu = relu  # a fourth input: the relu output whose sign masks g (_ReluGrad's)
        self.nout = sum(wants)  # type: ignore[misc]

    def infer(self, g: BaseArray, x: BaseArray, w: BaseArray, y: Any = None) -> Specs:
        dt = g._dtype
        specs = []
        if self.wants[0]:
            specs.append((x._shape, dt))
        if self.wants[1]:
            specs.append((w._shape, dt))
        if self.wants[2]:
            specs.append(((self.h,), dt))
        return specs

    def forward(self, xp: Any, g: Any, x: Any, w: Any, y: Any = None) -> Any:
        if y is not None:
            g = _RELU_GRAD.forward(xp, g, y)
        g2 = g.reshape(-1, self.h)
        out = []
        if self.wants[0]:
            out.append(xp.matmul(g2, w).reshape(self.x_shape))
        if self.wants[1]:
            out.append(xp.matmul(g2.transpose((1, 0)), x.reshape(-1, self.k)))
        if self.wants[2]:
            out.append(g2.sum(axis=(0,), dtype=g.dtype, keepdims=False))
        return out[0] if len(out) == 1 else out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        raise NotImplementedError("fully_connected_grad is only used when the backward is not "
                                  "recorded")


# -- dropout, embedding -------------------------------------------------------------------------

@register("_npx_dropout")
class Dropout(Op):
    """``x * mask * scale`` with a 0/1 ``mask`` that broadcasts to x (inverted dropout: scale is
    1/(1-p)). The mask is drawn by the caller with the device's generator."""

    def __init__(self, scale: float) -> None:
        self.scale = float(scale)

    def infer(self, x: BaseArray, mask: BaseArray) -> Specs:
        if broadcast_shapes(x._shape, mask._shape, "dropout") != x._shape:
            raise ShapeError(f"dropout: mask of shape {mask._shape} does not broadcast to "
                             f"{x._shape}")
        return [(x._shape, x._dtype)]

    def forward(self, xp: Any, x: Any, mask: Any) -> Any:
        keep = mask.astype(x.dtype, copy=False) * x.dtype.type(self.scale)
        return x * keep

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, mask), (g,) = inputs, out_grads
        if x._dtype.kind != "f":
            return [None, None]
        return [apply(Dropout(self.scale), (g, mask)), None]


def _rows(xp: Any, data: Any, input_dim: int) -> Any:
    # out-of-range indices are clipped to [0, input_dim) (MXNet's dense embedding)
    return xp.clip(data.astype(numpy.int64), 0, input_dim - 1)


@register("_npx_embedding")
class Embedding(Op):
    """Rows of ``weight`` (input_dim, output_dim) at the (float or int) indices ``data``."""

    def __init__(self, input_dim: int) -> None:
        self.input_dim = int(input_dim)

    def infer(self, data: BaseArray, weight: BaseArray) -> Specs:
        if data._dtype.kind not in "iuf":
            raise DTypeError(f"embedding: data must hold indices (int or float), got "
                             f"{data._dtype}")
        if weight.ndim != 2 or weight._shape[0] != self.input_dim:
            raise ShapeError(f"embedding: weight must have shape ({self.input_dim}, "
                             f"output_dim), got {weight._shape}")
        return [(data._shape + weight._shape[1:], weight._dtype)]

    def forward(self, xp: Any, data: Any, weight: Any) -> Any:
        return xp.take(weight, _rows(xp, data, self.input_dim), axis=0)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        data, _ = inputs
        (g,) = out_grads
        return [None, apply(EmbeddingGrad(self.input_dim), (data, g))]


@register("_npx_embedding_grad")
class EmbeddingGrad(Op):
    """The gradient of :class:`Embedding` in its weight: ``g``'s rows summed into a zero
    (input_dim, output_dim) array at the indices (repeated indices accumulate)."""

    def __init__(self, input_dim: int) -> None:
        self.input_dim = int(input_dim)

    def infer(self, data: BaseArray, g: BaseArray) -> Specs:
        if g._shape[:data.ndim] != data._shape or g.ndim != data.ndim + 1:
            raise ShapeError(f"embedding (gradient): shape {g._shape} does not fit indices "
                             f"{data._shape}")
        return [((self.input_dim, g._shape[-1]), g._dtype)]

    def forward(self, xp: Any, data: Any, g: Any) -> Any:
        out = xp.zeros((self.input_dim, g.shape[-1]), dtype=g.dtype)
        rows = _rows(xp, data, self.input_dim).reshape(-1)
        _scatter_add(xp, out, rows, g.reshape(rows.shape[0], g.shape[-1]))
        return out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        data, _ = inputs
        (h,) = out_grads
        return [None, apply(Embedding(self.input_dim), (data, h))]


# -- front ends ---------------------------------------------------------------------------------

def _arr(x: Any, op: str, arg: str) -> BaseArray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"{op}: {arg} must be an ndarray, got {type(x).__name__}")
    return x


def activation(data: BaseArray, act_type: str = "relu") -> BaseArray:
    return apply(Activation(act_type), (_arr(data, "activation", "data"),))  # type: ignore


def leaky_relu(data: BaseArray, gamma: BaseArray | None = None, act_type: str = "leaky",
               slope: float = 0.25, lower_bound: float = 0.125,
               upper_bound: float = 0.334) -> BaseArray:
    """MXNet's LeakyReLU family; rrelu draws its slopes (in training) from the device's
    generator, and uses their mean otherwise."""
    op = "leaky_relu"
    x = _arr(data, op, "data")
    if act_type == "rrelu":
        lo, hi = float(lower_bound), float(upper_bound)
        if not lo <= hi:
            raise ValueError(f"{op}: lower_bound {lo} must not exceed upper_bound {hi}")
        if not STATE.training:
            return apply(LeakyReLU("leaky", (lo + hi) / 2), (x,))  # type: ignore[no-any-return]
        LeakyReLU("rrelu").infer(x, x)  # validate before drawing
        slopes = sample("uniform", (lo, hi), size=x._shape, dtype=x._dtype,
                        device=x._device)
        return apply(LeakyReLU("rrelu"), (x, slopes))  # type: ignore[no-any-return]
    if act_type == "prelu":
        return apply(LeakyReLU("prelu"), (x, _arr(gamma, op, "gamma")))  # type: ignore
    return apply(LeakyReLU(act_type, slope), (x,))  # type: ignore[no-any-return]


def softmax(data: BaseArray, axis: int = -1, length: BaseArray | None = None,
            temperature: float | None = None, use_length: bool = False, dtype: Any = None,
            log: bool = False) -> BaseArray:
    """(Log-)softmax; with ``use_length`` the positions at or past ``length`` along ``axis``
    give 0 (MXNet: for log_softmax too)."""
    op = "log_softmax" if log else "softmax"
    x = _arr(data, op, "data")
    if not use_length:
        return (log_softmax_ if log else softmax_)(x, axis, temperature, dtype)
    if length is None:
        raise ValueError(f"{op}: use_length=True needs length")
    mask = apply(LengthMask(axis), (x, _arr(length, op, "length")))
    return apply(MaskedSoftmax(axis, temperature, log, 0.0, dtype),  # type: ignore
                 (x, mask))


def masked_softmax(data: BaseArray, mask: BaseArray, axis: int = -1, temperature: float = 1.0,
                   normalize: bool = True, log: bool = False) -> BaseArray:
    """Softmax over the positions where ``mask`` is true (0 elsewhere; -inf for the log form).
    ``normalize`` is accepted for MXNet code: the max is always subtracted (same result, and
    exp never overflows)."""
    op = "masked_log_softmax" if log else "masked_softmax"
    x = _arr(data, op, "data")
    m = _arr(mask, op, "mask")
    fill = -numpy.inf if log else 0.0
    return apply(MaskedSoftmax(axis, temperature, log, fill), (x, m))  # type: ignore


def fully_connected(x: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                    num_hidden: int | None = None, no_bias: bool = False,
                    flatten: bool = True) -> BaseArray:
    op = "fully_connected"
    inputs = [_arr(x, op, "x"), _arr(weight, op, "weight")]
    if num_hidden is not None and weight.ndim == 2 and int(num_hidden) != weight._shape[0]:
        raise ShapeError(f"{op}: num_hidden={num_hidden} but weight has shape {weight._shape}")
    if bias is not None and not no_bias:
        inputs.append(_arr(bias, op, "bias"))
    return apply(FullyConnected(flatten), inputs)  # type: ignore[no-any-return]


def dropout(data: BaseArray, p: float = 0.5, mode: str = "training", axes: Any = (),
            cudnn_off: bool | None = False) -> BaseArray:
    """Inverted dropout: in training (or ``mode='always'``) each element (or each slice along
    ``axes``, which share one draw) is zeroed with probability ``p`` and the survivors scaled by
    1/(1-p); otherwise ``data`` itself is returned."""
    op = "dropout"
    x = _arr(data, op, "data")
    if mode not in ("training", "always"):
        raise ValueError(f"{op}: mode must be 'training' or 'always', got {mode!r}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    if p == 0.0 or (mode == "training" and not STATE.training):
        return x
    shared = () if axes is None else normalize_axis(tuple(axes) if isinstance(
        axes, (tuple, list)) else axes, x.ndim, op)
    mask_shape = tuple(1 if i in shared else d for i, d in enumerate(x._shape))
    mdt = x._dtype if x._dtype.kind == "f" else _F32
    mask = sample("bernoulli", (1.0 - p,), size=mask_shape, dtype=mdt, device=x._device)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return apply(Dropout(scale), (x, mask))  # type: ignore[no-any-return]


def embedding(data: BaseArray, weight: BaseArray, input_dim: int | None = None,
              output_dim: int | None = None, dtype: Any = "float32",
              sparse_grad: bool = False) -> BaseArray:
    """Rows of ``weight`` at the indices ``data`` (clipped to [0, input_dim)); the weight
    gradient is dense even with ``sparse_grad=True``."""
    op = "embedding"
    d = _arr(data, op, "data")
    w = _arr(weight, op, "weight")
    if w.ndim != 2:
        raise ShapeError(f"{op}: weight must be 2-d (input_dim, output_dim), got {w._shape}")
    n = w._shape[0] if input_dim is None else int(input_dim)
    if output_dim is not None and int(output_dim) != w._shape[1]:
        raise ShapeError(f"{op}: output_dim={output_dim} but weight has shape {w._shape}")
    return apply(Embedding(n), (d, w))  # type: ignore[no-any-return]
