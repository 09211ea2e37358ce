"""Normalisation operators: batch, layer, group and instance normalisation.

Each is a fused primitive (one pass for the statistics and the affine transform) whose backward
is written in framework ops. The backward recomputes the batch statistics from the input instead
of reusing the forward's: the statistics are outputs whose own gradients are blocked (as in
MXNet), so reusing them would give wrong second derivatives.

Batch normalisation updates its running statistics during the forward pass, in training mode, as
a separate engine task that writes them in place (:func:`update_running_stats`; MXNet's CPU
operator does it in the backward pass, after which the values agree).
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import DTypeError, ShapeError
from ._base import BaseArray, execute
from ._create import zeros_like
from ._elemwise import unary
from ._gradutil import add, cast_like, mul, sub
from ._op import Op, apply, register
from ._reduce import channel_sum, normalize_axis, reduce
from ._shape import reshape
from ._tape import STATE

__all__ = [
    "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "update_running_stats",
    "batch_norm", "layer_norm", "group_norm", "instance_norm",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

_F32 = numpy.dtype(numpy.float32)


def _check_real(x: BaseArray, op: str, arg: str = "data") -> None:
    if x._dtype.kind not in "iuf":
        raise DTypeError(f"{op}: {arg} must be a real numeric array, got {x._dtype}")


def _arr(x: Any, op: str, arg: str) -> BaseArray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"{op}: {arg} must be an ndarray, got {type(x).__name__}")
    return x


# -- normalisations -----------------------------------------------------------------------------

def _acc_dtype(dt: numpy.dtype) -> numpy.dtype:
    """Statistics are accumulated in float32 at least (float16 data)."""
    if dt.kind != "f":
        return _F32
    return dt if dt.itemsize >= 4 else _F32


def _norm_grad(x: BaseArray, g: BaseArray, gamma: BaseArray | None, view: Shape,
               red: tuple[int, ...], pshape: Shape, eps: float) -> tuple[BaseArray, BaseArray]:
    """(dL/dx, xhat) of ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with batch
    statistics over ``red`` of x viewed as ``view``, in framework ops."""
    xv = reshape(x, view)
    gv = reshape(g, view)
    mu = reduce("mean", xv, axis=red, keepdims=True)
    xc = sub(xv, mu)
    var = reduce("mean", mul(xc, xc), axis=red, keepdims=True)
    inv = unary("rsqrt", add(var, eps))
    xhat = mul(xc, inv)
    gxhat = gv if gamma is None else mul(gv, reshape(gamma, pshape))
    s1 = reduce("mean", gxhat, axis=red, keepdims=True)
    s2 = reduce("mean", mul(gxhat, xhat), axis=red, keepdims=True)
    gx = mul(sub(sub(gxhat, s1), mul(xhat, s2)), inv)
    return reshape(gx, x._shape), xhat


def _param_grads(gv: BaseArray, xhat: BaseArray, gamma: BaseArray, beta: BaseArray,
                 pshape: Shape, fix_gamma: bool = False) -> tuple[BaseArray, BaseArray]:
    axes = tuple(i for i, d in enumerate(pshape) if d == 1)
    gbeta = reshape(reduce("sum", gv, axis=axes), beta._shape)
    if fix_gamma:
        ggamma = zeros_like(gamma)
    else:
        ggamma = reshape(reduce("sum", mul(gv, xhat), axis=axes), gamma._shape)
    return cast_like(ggamma, gamma), cast_like(gbeta, beta)


class _Norm(Op):
    """Normalise x viewed as ``view`` over the axes ``red``; gamma and beta broadcast as
    ``pshape``. Outputs (out, mean, std); subclasses set the view in ``layout``."""

    nout = 3
    view: Shape = ()
    red: tuple[int, ...] = ()
    pshape: Shape = ()
    stat_shape: Shape = ()
    name_ = "norm"

    def __init__(self, eps: float) -> None:
        self.eps = float(eps)

    def layout(self, x: BaseArray, gamma: BaseArray) -> None:
        raise NotImplementedError

    def infer(self, x: BaseArray, gamma: BaseArray, beta: BaseArray) -> Specs:
        op = self.name_
        _check_real(x, op)
        _check_real(gamma, op, "gamma")
        _check_real(beta, op, "beta")
        self.layout(x, gamma)
        if beta._shape != gamma._shape:
            raise ShapeError(f"{op}: beta shape {beta._shape} differs from gamma shape "
                             f"{gamma._shape}")
        dt = _dt.float_result(x._dtype)
        return [(x._shape, dt), (self.stat_shape, dt), (self.stat_shape, dt)]

    def forward(self, xp: Any, x: Any, gamma: Any, beta: Any) -> Any:
        out_dt = _dt.float_result(x.dtype)
        acc = _acc_dtype(x.dtype)
        xv = x.reshape(self.view).astype(acc, copy=False)
        # two-pass moments; the centred data becomes the output in place (seven passes over
        # x, not eight, and two temporaries fewer)
        mean = xv.mean(axis=self.red, keepdims=True)
        y = xv - mean
        var = (y * y).mean(axis=self.red, keepdims=True)
        std = xp.sqrt(var + acc.type(self.eps))
        y /= std
        y *= gamma.astype(acc, copy=False).reshape(self.pshape)
        y += beta.astype(acc, copy=False).reshape(self.pshape)
        return (y.reshape(x.shape).astype(out_dt, copy=False),
                mean.reshape(self.stat_shape).astype(out_dt, copy=False),
                std.reshape(self.stat_shape).astype(out_dt, copy=False))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, gamma, beta = inputs
        g = out_grads[0]  # mean and std pass no gradient (MXNet)
        if _one_op_grad(x, g, gamma):
            # the three gradients as ONE op, from the statistics the forward returned
            gx, ggamma, gbeta = apply(_NormGrad(self.view, self.red, self.pshape, beta._dtype),
                                      (x, g, gamma, outputs[1], outputs[2]))
            return [gx, ggamma, gbeta]
        gx, xhat = _norm_grad(x, g, gamma, self.view, self.red, self.pshape, self.eps)
        ggamma, gbeta = _param_grads(reshape(g, self.view), xhat, gamma, beta, self.pshape)
        return [cast_like(gx, x) if x._dtype.kind == "f" else None, ggamma, gbeta]


def _grad_specs(op: str, x: BaseArray, g: BaseArray, gamma: BaseArray,
                beta_dtype: str) -> Specs:
    """The outputs of a one-op normalisation gradient: (gx, ggamma, gbeta)."""
    if g._shape != x._shape:
        raise ShapeError(f"{op} gradient: output gradient {g._shape} does not match x "
                         f"{x._shape}")
    return [(x._shape, x._dtype), (gamma._shape, gamma._dtype),
            (gamma._shape, numpy.dtype(beta_dtype))]


@register("_norm_grad")
class _NormGrad(Op):
    """The gradients of LayerNorm, GroupNorm and InstanceNorm, ``(gx, ggamma, gbeta)``, in one
    op. Inputs ``(x, g, gamma, mean, std)``: the data, the output's gradient, the scale and the
    statistics the forward returned. With x viewed as ``view``, the statistics over ``red``,
    ``xhat = (x - mean) / std`` and ``h = g * gamma``: ``gx = (h - mean(h) - xhat * mean(h *
    xhat)) / std``, ``ggamma = sum(g * xhat)`` and ``gbeta = sum(g)`` over the axes gamma
    broadcasts along. :func:`_norm_grad`'s formula (which ``create_graph`` keeps) in about
    half the passes, without re-reducing the statistics; the values agree to float rounding."""

    nout = 3

    def __init__(self, view: Shape, red: tuple[int, ...], pshape: Shape,
                 beta_dtype: Any) -> None:
        self.view = tuple(view)
        self.red = tuple(red)
        self.pshape = tuple(pshape)
        self.beta_dtype = numpy.dtype(beta_dtype).name

    def infer(self, x: BaseArray, g: BaseArray, gamma: BaseArray, mean: BaseArray,
              std: BaseArray) -> Specs:
        return _grad_specs("normalisation", x, g, gamma, self.beta_dtype)

    def forward(self, xp: Any, x: Any, g: Any, gamma: Any, mean: Any, std: Any) -> Any:
        view, red, pshape = self.view, self.red, self.pshape
        sshape = tuple(1 if i in red else d for i, d in enumerate(view))
        gv = g.reshape(view)
        inv = 1 / std.reshape(sshape)
        xhat = x.reshape(view) - mean.reshape(sshape)
        xhat *= inv
        h = gv * gamma.reshape(pshape)
        work = gv * xhat
        kept = [i for i, d in enumerate(pshape) if d != 1]
        if len(kept) == 1:  # one gamma axis (LayerNorm, InstanceNorm): the staged sum
            ggamma, gbeta = channel_sum(xp, work, kept[0]), channel_sum(xp, gv, kept[0])
        else:
            axes = tuple(i for i, d in enumerate(pshape) if d == 1)
            ggamma, gbeta = work.sum(axis=axes), gv.sum(axis=axes)
        s1 = h.mean(axis=red, keepdims=True)
        xp.multiply(h, xhat, out=work)
        s2 = work.mean(axis=red, keepdims=True)
        h -= s1
        xhat *= s2
        h -= xhat
        h *= inv
        return h.reshape(x.shape), ggamma.reshape(gamma.shape).astype(gamma.dtype, copy=False), \
            gbeta.reshape(gamma.shape).astype(self.beta_dtype, copy=False)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        raise NotImplementedError("the normalisation gradient op is only used when the "
                                  "backward is not recorded")


@register("_npx_layer_norm")
class LayerNorm(_Norm):
    """Layer normalisation over one axis; gamma and beta have that axis' length."""

    name_ = "layer_norm"

    def __init__(self, axis: int = -1, eps: float = 1e-5) -> None:
        super().__init__(eps)
        self.axis = axis

    def layout(self, x: BaseArray, gamma: BaseArray) -> None:
        (ax,) = normalize_axis(self.axis, x.ndim, "layer_norm", False)
        n = x._shape[ax]
        if gamma._shape != (n,):
            raise ShapeError(f"layer_norm: gamma must have shape ({n},) (axis {ax} of data "
                             f"shape {x._shape}), got {gamma._shape}")
        self.view = x._shape
        self.red = (ax,)
        self.pshape = tuple(n if i == ax else 1 for i in range(x.ndim))
        self.stat_shape = tuple(1 if i == ax else d for i, d in enumerate(x._shape))


@register("_npx_group_norm")
class GroupNorm(_Norm):
    """Group normalisation: channels (axis 1) split into ``num_groups`` groups, each normalised
    over its channels and the spatial axes. gamma/beta are per channel (C,) (MXNet 2.0) or per
    group (num_groups,) (MXNet 1.x)."""

    name_ = "group_norm"

    def __init__(self, num_groups: int = 1, eps: float = 1e-5) -> None:
        super().__init__(eps)
        self.groups = int(num_groups)
        if self.groups < 1:
            raise ValueError(f"group_norm: num_groups must be >= 1, got {num_groups}")

    def layout(self, x: BaseArray, gamma: BaseArray) -> None:
        op, gr = "group_norm", self.groups
        if x.ndim < 2:
            raise ShapeError(f"{op}: data must be (N, C, ...), got shape {x._shape}")
        n, c = x._shape[:2]
        if c % gr:
            raise ShapeError(f"{op}: {c} channels are not divisible by num_groups={gr}")
        rest = math.prod(x._shape[2:])
        self.view = (n, gr, c // gr, rest)
        self.red = (2, 3)
        if gamma._shape == (c,):
            self.pshape = (1, gr, c // gr, 1)
        elif gamma._shape == (gr,):
            self.pshape = (1, gr, 1, 1)
        else:
            raise ShapeError(f"{op}: gamma must have shape ({c},) (per channel) or ({gr},) (per "
                             f"group), got {gamma._shape}")
        self.stat_shape = (n, gr)


@register("_npx_instance_norm")
class InstanceNorm(_Norm):
    """Instance normalisation: each (sample, channel) normalised over the spatial axes."""

    name_ = "instance_norm"

    def layout(self, x: BaseArray, gamma: BaseArray) -> None:
        op = "instance_norm"
        if x.ndim < 3:
            raise ShapeError(f"{op}: data must be (N, C, spatial...), got shape {x._shape}")
        n, c = x._shape[:2]
        if gamma._shape != (c,):
            raise ShapeError(f"{op}: gamma must have shape ({c},), got {gamma._shape}")
        self.view = (n, c, math.prod(x._shape[2:]))
        self.red = (2,)
        self.pshape = (1, c, 1)
        self.stat_shape = (n, c)


@register("_npx_batch_norm")
class BatchNorm(Op):
    """Batch normalisation over every axis but ``axis``. Inputs (x, gamma, beta, running_mean,
    running_var); outputs (out, mean, var): the batch statistics (biased variance) in training,
    the running ones with ``use_global``. Updating the running statistics is a separate engine
    task (:func:`update_running_stats`), issued by the caller."""

    nout = 3

    def __init__(self, eps: float = 1e-3, fix_gamma: bool = True, use_global: bool = False,
                 axis: int = 1) -> None:
        self.eps = float(eps)
        self.fix_gamma = bool(fix_gamma)
        self.use_global = bool(use_global)
        self.axis = axis

    def infer(self, x: BaseArray, gamma: BaseArray, beta: BaseArray, rmean: BaseArray,
              rvar: BaseArray) -> Specs:
        op = "batch_norm"
        _check_real(x, op, "x")
        if x.ndim < 1:
            raise ShapeError(f"{op}: x must have at least one dimension")
        (ax,) = normalize_axis(self.axis, x.ndim, op, False)
        c = x._shape[ax]
        for arg, a in (("gamma", gamma), ("beta", beta), ("running_mean", rmean),
                       ("running_var", rvar)):
            _check_real(a, op, arg)
            if a._shape != (c,):
                raise ShapeError(f"{op}: {arg} must have shape ({c},) (axis {ax} of x shape "
                                 f"{x._shape}), got {a._shape}")
        self.ax = ax
        self.red = tuple(i for i in range(x.ndim) if i != ax)
        self.pshape = tuple(c if i == ax else 1 for i in range(x.ndim))
        dt = _dt.float_result(x._dtype)
        return [(x._shape, dt), ((c,), dt), ((c,), dt)]

    def forward(self, xp: Any, x: Any, gamma: Any, beta: Any, rmean: Any, rvar: Any) -> Any:
        out_dt = _dt.float_result(x.dtype)
        acc = _acc_dtype(x.dtype)
        xa = x.astype(acc, copy=False)
        c = x.shape[self.ax]
        if self.use_global:
            mean = rmean.astype(acc, copy=True).reshape(self.pshape)
            var = rvar.astype(acc, copy=True).reshape(self.pshape)
        else:
            # two-pass moments with the per-channel sums staged (channel_sum); the centred
            # data becomes the output in place
            n = acc.type(x.size // c) if c else acc.type(1)
            mean = (channel_sum(xp, xa, self.ax) / n).reshape(self.pshape)
            y = xa - mean
            sq = y * y
            var = (channel_sum(xp, sq, self.ax) / n).reshape(self.pshape)
        inv = 1 / xp.sqrt(var + acc.type(self.eps))
        scale = inv if self.fix_gamma else inv * gamma.astype(acc, copy=False).reshape(
            self.pshape)
        shift = beta.astype(acc, copy=False).reshape(self.pshape)
        if self.use_global:
            # the running statistics: x * scale + (beta - mean * scale), two passes over x
            # (PyTorch's CPU kernel groups it so too)
            y = xa * scale
            y += shift - mean * scale
        else:
            y *= scale
            y += shift
        return (y.astype(out_dt, copy=False), mean.reshape(c).astype(out_dt, copy=False),
                var.reshape(c).astype(out_dt, copy=False))

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x, gamma, beta, rmean, rvar = inputs
        g = out_grads[0]  # the statistics outputs pass no gradient (MXNet)
        gam = None if self.fix_gamma else gamma
        if not self.use_global and _one_op_grad(x, g, gamma):
            # the three gradients as ONE op, from the batch statistics the forward returned
            gx, ggamma, gbeta = apply(_BatchNormGrad(self.eps, self.fix_gamma, self.ax,
                                                     beta._dtype), (x, g, gamma, outputs[1],
                                                                    outputs[2]))
            return [gx, ggamma, gbeta, None, None]
        if self.use_global:
            inv = reshape(unary("rsqrt", add(rvar, self.eps)), self.pshape)
            xhat = mul(sub(x, reshape(rmean, self.pshape)), inv)
            scale = inv if gam is None else mul(inv, reshape(gam, self.pshape))
            gx = mul(g, scale)
        else:
            gx, xhat = _norm_grad(x, g, gam, x._shape, self.red, self.pshape, self.eps)
        ggamma, gbeta = _param_grads(g, xhat, gamma, beta, self.pshape, self.fix_gamma)
        gx = cast_like(gx, x) if x._dtype.kind == "f" else None
        return [gx, ggamma, gbeta, None, None]


#: input dtypes whose batch statistics the forward returns in full precision (the accumulation
#: dtype is the data's: float16 data accumulates in float32, then rounds its statistics)
_EXACT_STATS = frozenset({numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)})


def _one_op_grad(x: BaseArray, g: BaseArray, gamma: BaseArray) -> bool:
    """Whether a normalisation's backward may be its one-op gradient: not differentiated again
    (``create_graph`` needs the formula), and statistics exactly what the forward normalised
    with (data, gradient and scale of one float32/float64 dtype)."""
    return not STATE.grad and x._dtype in _EXACT_STATS and g._dtype == x._dtype \
        and gamma._dtype == x._dtype


@register("_batch_norm_grad")
class _BatchNormGrad(Op):
    """The gradients of training-mode BatchNorm, ``(gx, ggamma, gbeta)``, in one op. Inputs
    ``(x, g, gamma, mean, var)``: the data, the output's gradient, the scale and the batch
    statistics the forward returned. With ``xhat = (x - mean) / sqrt(var + eps)``, ``n`` the
    number of elements per channel, ``gbeta = sum(g)``, ``ggamma = sum(g * xhat)`` and
    ``gx = gamma / sqrt(var + eps) * (g - gbeta / n - xhat * ggamma / n)``: the formula of
    :func:`_norm_grad` with its sums shared, in about half the passes over x."""

    nout = 3

    def __init__(self, eps: float, fix_gamma: bool, axis: int, beta_dtype: Any) -> None:
        self.eps = float(eps)
        self.fix_gamma = bool(fix_gamma)
        self.axis = int(axis)
        self.beta_dtype = numpy.dtype(beta_dtype).name

    def infer(self, x: BaseArray, g: BaseArray, gamma: BaseArray, mean: BaseArray,
              var: BaseArray) -> Specs:
        return _grad_specs("batch_norm", x, g, gamma, self.beta_dtype)

    def forward(self, xp: Any, x: Any, g: Any, gamma: Any, mean: Any, var: Any) -> Any:
        ax = self.axis
        red = tuple(i for i in range(x.ndim) if i != ax)
        pshape = tuple(d if i == ax else 1 for i, d in enumerate(x.shape))
        n = math.prod(x.shape[i] for i in red)
        dt = x.dtype
        # gx = s g + a (x - mean) + b per channel, s = gamma / sqrt(var + eps): six passes
        # over x's size, with the two per-channel sums staged (channel_sum)
        inv = 1 / xp.sqrt(var + dt.type(self.eps))  # (C,)
        xc = x - mean.reshape(pshape)
        gbeta = channel_sum(xp, g, ax)
        work = g * xc
        ggamma = channel_sum(xp, work, ax) * inv  # sum(g * xhat)
        s = inv if self.fix_gamma else inv * gamma
        nn = dt.type(n)
        a = (s * inv * ggamma / nn).reshape(pshape)
        b = (s * gbeta / nn).reshape(pshape)
        xp.multiply(g, s.reshape(pshape), out=work)
        xc *= a
        work -= xc
        work -= b
        if self.fix_gamma:
            ggamma = xp.zeros_like(ggamma)
        return work, ggamma.astype(gamma.dtype, copy=False), \
            gbeta.astype(self.beta_dtype, copy=False)


def update_running_stats(rmean: BaseArray, rvar: BaseArray, mean: BaseArray, var: BaseArray,
                         momentum: float) -> None:
    """``running = momentum * running + (1 - momentum) * batch``, in place, as one engine task
    writing both running arrays (not recorded by autograd: it is not an op)."""
    m = float(momentum)

    def run() -> None:
        _update_stats(m, rmean._alloc_buffer(), rvar._alloc_buffer(), mean._buf, var._buf)

    execute("batch_norm(running stats)", run, (mean, var), (), mutated=(rmean, rvar))
    trace = STATE.trace
    if trace is not None:  # a hybridized graph repeats the update on every call
        trace.add(_RunningStats(m), (rmean, rvar, mean, var), (), None)


def _update_stats(m: float, rmean: Any, rvar: Any, mean: Any, var: Any) -> None:
    """The running-statistics update on buffers, in place."""
    for buf, batch in ((rmean, mean), (rvar, var)):
        new = buf * m + batch.astype(buf.dtype, copy=False) * (1.0 - m)
        buf[...] = new


@register("_batch_norm_running_stats")
class _RunningStats(Op):
    """The running-statistics update as a step of a hybridized graph (a side effect with no
    outputs and no gradient; inputs ``(running_mean, running_var, mean, var)``). A fused
    replay runs :meth:`update` on the buffers."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum

    def update(self, xp: Any, rmean: Any, rvar: Any, mean: Any, var: Any) -> None:
        _update_stats(self.momentum, rmean, rvar, mean, var)

    def replay(self, inputs: Any) -> Any:
        update_running_stats(*inputs, self.momentum)
        return ()


# -- front ends ---------------------------------------------------------------------------------

def batch_norm(x: BaseArray, gamma: BaseArray, beta: BaseArray, running_mean: BaseArray,
               running_var: BaseArray, eps: float = 1e-3, momentum: float = 0.9,
               fix_gamma: bool = True, use_global_stats: bool = False,
               output_mean_var: bool = False, axis: int = 1) -> Any:
    """Batch normalisation. In training mode (``autograd.record()``/``train_mode()``) it uses
    the batch statistics and updates the running ones in place during the forward pass."""
    op = "batch_norm"
    args = [_arr(a, op, n) for a, n in ((x, "x"), (gamma, "gamma"), (beta, "beta"),
                                        (running_mean, "running_mean"),
                                        (running_var, "running_var"))]
    training = STATE.training and not use_global_stats
    out, mean, var = apply(BatchNorm(eps, fix_gamma, not training, axis), args)
    if training:
        update_running_stats(running_mean, running_var, mean, var, momentum)
    if output_mean_var:
        return out, mean, unary("rsqrt", add(var, float(eps)))
    return out


def layer_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray, axis: int = -1,
               eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    op = "layer_norm"
    out, mean, std = apply(LayerNorm(axis, eps), [_arr(a, op, n) for a, n in (
        (data, "data"), (gamma, "gamma"), (beta, "beta"))])
    return (out, mean, std) if output_mean_var else out


def group_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray, num_groups: int = 1,
               eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    op = "group_norm"
    out, mean, std = apply(GroupNorm(num_groups, eps), [_arr(a, op, n) for a, n in (
        (data, "data"), (gamma, "gamma"), (beta, "beta"))])
    return (out, mean, std) if output_mean_var else out


def instance_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray,
                  eps: float = 1e-3) -> BaseArray:
    op = "instance_norm"
    out, _, _ = apply(InstanceNorm(eps), [_arr(a, op, n) for a, n in (
        (data, "data"), (gamma, "gamma"), (beta, "beta"))])
    return out  # type: ignore[no-any-return]
