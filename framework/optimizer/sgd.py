"""SGD-family optimizers: ``SGD``, ``NAG``, ``LARS``, ``Signum``, ``SGLD``, ``DCASGD``.

Update rules are MXNet 2.0's, with ``g' = clip(rescale_grad * grad, clip_gradient) + wd * w``.
Momentum states hold MXNet's *negative* velocity: ``mom = momentum * mom - lr * g'`` and
``w += mom`` (the same trajectory as ``v = momentum * v + lr * g'; w -= v``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from ..nd._base import BaseArray
from ..nd._random import generator_state
from . import kernels as _k
from .optimizer import Optimizer, register

__all__ = ["SGD", "NAG", "LARS", "Signum", "SGLD", "DCASGD"]


@register
class SGD(Optimizer):
    """Stochastic gradient descent with momentum and weight decay.

    ``mom = momentum * mom - lr * g'``, ``w += mom``; without momentum ``w -= lr * g'``.
    ``lazy_update`` only matters for sparse gradients, which this framework does not have.
    MXNet 1.x defaulted to ``learning_rate=0.01``; 2.0 (followed here) uses 0.1.
    """

    def __init__(self, learning_rate: float | None = 0.1, momentum: float = 0.0,
                 lazy_update: bool = False, multi_precision: bool = False,
                 use_fused_step: bool = True, aggregate_num: int = 1, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, multi_precision=multi_precision,
                         use_fused_step=use_fused_step, aggregate_num=aggregate_num, **kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray | None:
        return self._zeros(weight) if self.momentum != 0.0 else None

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip, m = float(self.rescale_grad), self._clip(), float(self.momentum)

        def kernel(xp: Any, w: Any, g: Any, mom: Any) -> None:
            _k.k_sgd(xp, w, g, mom, lr, wd, rs, clip, m)

        self._launch("sgd_update", weight, grad, [state], kernel, master)

    def _step_many(self, indices: list[Any], weights: list[BaseArray], grads: list[BaseArray],
                   states: list[Any], lrs: list[float], wds: list[float]) -> bool:
        """The list's updates as one multi-tensor task: :meth:`_step_one`'s kernel for each."""
        if not self._inherits_update(SGD):
            return False  # a subclass's own update
        rs, clip, m = float(self.rescale_grad), self._clip(), float(self.momentum)

        def kernel(xp: Any, w: Any, g: Any, mom: Any, lr: float, wd: float) -> None:
            _k.k_sgd(xp, w, g, mom, lr, wd, rs, clip, m)

        _k.launch_many("sgd_update", weights, grads, [(s,) for s in states],
                       [(float(lr), float(wd)) for lr, wd in zip(lrs, wds)], kernel)
        return True


@register
class NAG(Optimizer):
    """Nesterov accelerated gradient: ``mom = momentum * mom - lr * g'``,
    ``w += momentum * mom - lr * g'``. 2.0 defaults (momentum 0.9); 1.x used momentum 0."""

    def __init__(self, learning_rate: float | None = 0.1, momentum: float = 0.9,
                 multi_precision: bool = False, use_fused_step: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, multi_precision=multi_precision,
                         use_fused_step=use_fused_step, **kwargs)
        self.momentum = momentum

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray | None:
        return self._zeros(weight) if self.momentum != 0.0 else None

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip, m = float(self.rescale_grad), self._clip(), float(self.momentum)

        def kernel(xp: Any, w: Any, g: Any, mom: Any) -> None:
            _k.k_nag(xp, w, g, mom, lr, wd, rs, clip, m)

        self._launch("nag_mom_update", weight, grad, [state], kernel, master)


def _trust(xp: Any, num: Any, den: Any, scale: Any = None) -> Any:
    """``scale`` (default ``num / den``), or 1 where ``num / den`` is 0, infinite or NaN
    (MXNet's trust-ratio guard)."""
    with numpy.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
        bad = ~xp.isfinite(ratio) | (ratio == 0)
        return xp.where(bad, 1.0, ratio if scale is None else scale)


def _norm_dtype(w: Any) -> Any:
    return numpy.float64 if w.dtype == numpy.float64 else numpy.float32


@register
class LARS(Optimizer):
    """LARS: SGD with a layer-wise learning rate ``lr * eta * |w| / (|g| + wd |w| + eps)``.

    ``|g|`` is the norm of ``rescale_grad * grad`` before clipping; the factor is 1 when a norm is
    0 (or not finite) and for parameters whose name ends in ``gamma``, ``beta`` or ``bias``.
    """

    def __init__(self, learning_rate: float | None = 0.1, momentum: float = 0.0,
                 eta: float = 0.001, epsilon: float = 1e-8, lazy_update: bool = False,
                 use_fused_step: bool = True, aggregate_num: int = 1, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step,
                         aggregate_num=aggregate_num, **kwargs)
        self.momentum = momentum
        self.eta = eta
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray | None:
        return self._zeros(weight) if self.momentum != 0.0 else None

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip, m = float(self.rescale_grad), self._clip(), float(self.momentum)
        eta, eps = float(self.eta), float(self.epsilon)
        name = str(self.idx2name.get(index, index))
        layerwise = not name.endswith(("gamma", "beta", "bias"))

        def kernel(xp: Any, w: Any, g: Any, mom: Any) -> None:
            lr_eff: Any = lr
            if layerwise:
                dt = _norm_dtype(w)
                w_norm = xp.linalg.norm(w.astype(dt, copy=False).ravel())
                g_norm = xp.linalg.norm(xp.multiply(g, rs, dtype=dt).ravel())
                with numpy.errstate(divide="ignore", invalid="ignore"):
                    lars = eta * w_norm / (g_norm + wd * w_norm + eps)
                lr_eff = lr * _trust(xp, w_norm, g_norm, lars)
            _k.k_sgd(xp, w, g, mom, lr_eff, wd, rs, clip, m)

        self._launch("lars_update", weight, grad, [state], kernel, master)


@register
class Signum(Optimizer):
    """signSGD / Signum: ``mom = momentum * mom - (1 - momentum) * g'``,
    ``w = (1 - lr * wd_lh) * w + lr * sign(mom)``; without momentum
    ``w = (1 - lr * (wd + wd_lh)) * w - lr * sign(grad)``."""

    def __init__(self, learning_rate: float | None = 0.01, momentum: float = 0.9,
                 wd_lh: float = 0.0, use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray | None:
        return self._zeros(weight) if self.momentum != 0.0 else None

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip, m, wd_lh = (float(self.rescale_grad), self._clip(), float(self.momentum),
                              float(self.wd_lh))

        def kernel(xp: Any, w: Any, g: Any, mom: Any) -> None:
            if mom is not None:
                gp = _k.k_grad(xp, w, g, rs, clip, wd)
                gp *= 1.0 - m
                mom *= m
                mom -= gp
                if wd_lh:
                    w *= 1.0 - lr * wd_lh
                xp.sign(mom, out=gp)
                gp *= lr
                w += gp
            else:
                w *= 1.0 - lr * (wd + wd_lh)
                s = xp.empty_like(w)
                xp.sign(g, out=s)
                s *= lr
                w -= s

        self._launch("signum_update", weight, grad, [state], kernel, master)


@register
class SGLD(Optimizer):
    """Stochastic gradient Langevin dynamics: ``w += -lr / 2 * g' + N(0, sqrt(lr))``.

    The noise comes from the device's generator (``np.random.seed`` makes it reproducible), drawn
    inside the update task in issue order.
    """

    def __init__(self, learning_rate: float | None = 0.1, use_fused_step: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip = float(self.rescale_grad), self._clip()
        gen = generator_state(weight._device)
        std = math.sqrt(lr)

        def kernel(xp: Any, w: Any, g: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            gp *= lr / 2
            w -= gp
            dt = w.dtype if w.dtype in (numpy.float32, numpy.float64) else numpy.float32
            noise = gen.get().standard_normal(size=w.shape, dtype=dt)
            noise *= std
            w += noise.astype(w.dtype, copy=False)

        self._launch("sgld_update", weight, grad, [], kernel, master,
                     extra_mutated=[gen.token])


@register
class DCASGD(Optimizer):
    """Delay-compensated async SGD: ``d = g' + lamda * g'^2 * (w - w_prev)``,
    ``mom = momentum * mom - lr * d`` (``-lr * d`` without momentum), ``w_prev = w``,
    ``w += mom``. The state is ``(mom or None, w_prev)``."""

    def __init__(self, learning_rate: float | None = 0.1, momentum: float = 0.0,
                 lamda: float = 0.04, use_fused_step: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.momentum = momentum
        self.weight_previous: dict[Any, Any] = {}
        self.lamda = lamda

    def create_state(self, index: Any, weight: BaseArray) -> tuple[Any, BaseArray]:
        mom = self._zeros(weight) if self.momentum != 0.0 else None
        return (mom, weight.copy())  # type: ignore[attr-defined]

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs, clip, m, lamda = (float(self.rescale_grad), self._clip(), float(self.momentum),
                              float(self.lamda))
        mom_arr, prev_arr = state

        def kernel(xp: Any, w: Any, g: Any, mom: Any, prev: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            d = xp.square(gp)
            tmp = xp.subtract(w, prev)
            d *= tmp
            d *= lamda
            d += gp
            d *= lr
            prev[...] = w
            if mom is not None:
                mom *= m
                mom -= d
                w += mom
            else:
                w -= d

        self._launch("dcasgd_update", weight, grad, [mom_arr, prev_arr], kernel, master)
