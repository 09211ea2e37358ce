"""Adam-family optimizers: ``Adam``, ``AdamW``, ``Adamax``, ``Nadam``, ``AdaBelief``, ``LAMB``,
``LANS`` (MXNet 2.0 update rules; ``t`` is the parameter's update count, from 1)."""

from __future__ import annotations

import math
from typing import Any

import numpy

from ..nd._base import BaseArray
from . import kernels as _k
from .optimizer import Optimizer, register
from .sgd import _trust

__all__ = ["Adam", "AdamW", "Adamax", "Nadam", "AdaBelief", "LAMB", "LANS"]


def _corrected(lr: float, beta1: float, beta2: float, t: int) -> float:
    """Adam's rate at update ``t`` with the moments' bias correction folded in."""
    return lr * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)


def _mean_var_state(opt: Optimizer, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
    return (opt._zeros(weight), opt._zeros(weight))


@register
class Adam(Optimizer):
    """Adam: ``g' = clip(rescale_grad * g) + wd * w``, ``m = b1 m + (1-b1) g'``,
    ``v = b2 v + (1-b2) g'^2``, ``lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``,
    ``w -= lr_t * m / (sqrt(v) + epsilon)`` (bias correction folded into the rate)."""

    def __init__(self, learning_rate: float | None = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8, lazy_update: bool = False,
                 use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return _mean_var_state(self, weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        lr_t = _corrected(lr, b1, b2, t)
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, v: Any) -> None:
            _k.k_adam(xp, w, g, m, v, lr_t, b1, b2, eps, wd, rs, clip)

        self._launch("adam_update", weight, grad, list(state), kernel, master)

    def _step_many(self, indices: list[Any], weights: list[BaseArray], grads: list[BaseArray],
                   states: list[Any], lrs: list[float], wds: list[float]) -> bool:
        """The list's updates as one multi-tensor task: :meth:`_step_one`'s kernel for each."""
        if not self._inherits_update(Adam):
            return False  # a subclass's own update
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        rs, clip = float(self.rescale_grad), self._clip()
        counts = self._index_update_count
        args = []
        for index, lr, wd in zip(indices, lrs, wds):
            t = counts[index]
            args.append((_corrected(float(lr), b1, b2, t), float(wd)))

        def kernel(xp: Any, w: Any, g: Any, m: Any, v: Any, lr_t: float, wd: float) -> None:
            _k.k_adam(xp, w, g, m, v, lr_t, b1, b2, eps, wd, rs, clip)

        _k.launch_many("adam_update", weights, grads, states, args, kernel)
        return True


@register
class AdamW(Optimizer):
    """AdamW (decoupled weight decay): ``g' = clip(rescale_grad * g)``, moments as Adam,
    ``w -= lr_t * (m / (sqrt(v) + epsilon) + wd * w)`` with ``lr_t`` bias-corrected when
    ``correct_bias`` (else ``lr_t = lr``)."""

    def __init__(self, learning_rate: float | None = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-6, correct_bias: bool = True,
                 use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.correct_bias = correct_bias

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return _mean_var_state(self, weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        lr_t = _corrected(lr, b1, b2, t) if self.correct_bias else lr
        rs, clip = float(self.rescale_grad), self._clip()

        def block(xp: Any, w: Any, g: Any, m: Any, v: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, 0.0)
            _k.k_moments(xp, gp, m, v, b1, b2)
            d = xp.sqrt(v, out=gp)
            d += eps
            xp.divide(m, d, out=d)
            if wd:
                d += w * wd
            d *= lr_t
            w -= d

        self._launch("adamw_update", weight, grad, list(state), _k.blocked(block), master)


@register
class Adamax(Optimizer):
    """AdaMax: ``m = b1 m + (1-b1) g'``, ``u = max(b2 u, |g'|)``,
    ``w -= lr / (1 - b1^t) * m / u``."""

    def __init__(self, learning_rate: float | None = 0.002, beta1: float = 0.9,
                 beta2: float = 0.999, use_fused_step: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return _mean_var_state(self, weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2 = float(self.beta1), float(self.beta2)
        lr_t = lr / (1.0 - b1 ** t)
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, u: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            m *= b1
            tmp = xp.multiply(gp, 1.0 - b1)
            m += tmp
            u *= b2
            xp.abs(gp, out=tmp)
            xp.maximum(u, tmp, out=u)
            xp.divide(m, u, out=tmp)
            tmp *= lr_t
            w -= tmp

        self._launch("adamax_update", weight, grad, list(state), _k.blocked(kernel),
                     master)


@register
class Nadam(Optimizer):
    """Nesterov Adam with MXNet's warming momentum schedule
    ``mu_t = b1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))``.

    As in MXNet the running product ``m_schedule`` lives on the optimizer (it advances at every
    parameter update, not per parameter).
    """

    def __init__(self, learning_rate: float | None = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8, schedule_decay: float = 0.004,
                 use_fused_step: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.0

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return _mean_var_state(self, weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps, sd = (float(self.beta1), float(self.beta2), float(self.epsilon),
                           float(self.schedule_decay))
        mom_t = b1 * (1.0 - 0.5 * 0.96 ** (t * sd))
        mom_t1 = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * sd))
        self.m_schedule = self.m_schedule * mom_t
        m_next = self.m_schedule * mom_t1
        coef_m = mom_t1 / (1.0 - m_next)
        coef_g = (1.0 - mom_t) / (1.0 - self.m_schedule)
        coef2 = 1.0 - b2 ** t
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, v: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            _k.k_moments(xp, gp, m, v, b1, b2)
            gp *= coef_g
            tmp = xp.multiply(m, coef_m)
            gp += tmp  # mean_bar
            xp.divide(v, coef2, out=tmp)
            xp.sqrt(tmp, out=tmp)
            tmp += eps
            xp.divide(gp, tmp, out=gp)
            gp *= lr
            w -= gp

        self._launch("nadam_update", weight, grad, list(state), _k.blocked(kernel),
                     master)


@register
class AdaBelief(AdamW):
    """AdaBelief: ``g' = clip(rescale_grad * g + wd * w)`` (weight decay before clipping, as in
    MXNet), ``m = b1 m + (1-b1) g'``, ``s = b2 s + (1-b2) (g' - m)^2 + epsilon``,
    ``w -= lr_t * m / (sqrt(s) + epsilon)`` with ``lr_t`` bias-corrected when ``correct_bias``."""

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        lr_t = _corrected(lr, b1, b2, t) if self.correct_bias else lr
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, s: Any) -> None:
            gp = xp.multiply(g, rs, dtype=w.dtype)
            if wd:
                gp += w * wd
            if clip is not None:
                xp.clip(gp, -clip, clip, out=gp)
            tmp = xp.multiply(gp, 1.0 - b1)
            m *= b1
            m += tmp
            xp.subtract(gp, m, out=tmp)
            xp.square(tmp, out=tmp)
            tmp *= 1.0 - b2
            s *= b2
            s += tmp
            s += eps
            xp.sqrt(s, out=tmp)
            tmp += eps
            xp.divide(m, tmp, out=tmp)
            tmp *= lr_t
            w -= tmp

        self._launch("adabelief_update", weight, grad, list(state), _k.blocked(kernel),
                     master)


def _bounded_norm(xp: Any, w: Any, lower: float | None, upper: float | None) -> Any:
    r = xp.linalg.norm(w.ravel())
    if lower is not None:
        r = xp.maximum(r, lower)
    if upper is not None:
        r = xp.minimum(r, upper)
    return r


def _state_dtype(weight: BaseArray) -> Any:
    return numpy.float32 if weight.dtype == numpy.float16 else weight.dtype


@register
class LAMB(Optimizer):
    """LAMB: Adam moments of ``clip(rescale_grad * g)``, ``u = m_hat / (sqrt(v_hat) + eps) +
    wd * w`` (``m_hat, v_hat`` bias-corrected when ``bias_correction``), then
    ``w -= lr * r * u`` with trust ratio ``r = |w| / |u|`` (``|w|`` clamped to
    ``[lower_bound, upper_bound]``; ``r = 1`` when a norm is 0)."""

    def __init__(self, learning_rate: float | None = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-6, lower_bound: float | None = None,
                 upper_bound: float | None = None, bias_correction: bool = True,
                 aggregate_num: int = 4, use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, aggregate_num=aggregate_num,
                         use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        dt = _state_dtype(weight)
        return (self._zeros(weight, dt), self._zeros(weight, dt))

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        c1, c2 = (1.0 - b1 ** t, 1.0 - b2 ** t) if self.bias_correction else (1.0, 1.0)
        lo, hi = self.lower_bound, self.upper_bound
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, v: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, 0.0)
            _k.k_moments(xp, gp, m, v, b1, b2)
            r1 = _bounded_norm(xp, w, lo, hi)
            u = xp.divide(v, c2)
            xp.sqrt(u, out=u)
            u += eps
            xp.divide(m, u, out=u)
            if c1 != 1.0:
                u /= c1
            if wd:
                u += w * wd
            r2 = xp.linalg.norm(u.ravel())
            u *= lr * _trust(xp, r1, r2)
            w -= u.astype(w.dtype, copy=False)

        self._launch("lamb_update", weight, grad, list(state), kernel, master)


@register
class LANS(Optimizer):
    """LANS: the rescaled gradient is normalized by its norm and clipped; Adam moments; two
    trust-ratio steps, ``w -= lr * beta1 * r_m * (m_hat / d + wd * w)`` then
    ``w -= lr * (1 - beta1) * r_g * (g / d + wd * w)`` with ``d = sqrt(v_hat) + epsilon``
    (the second uses the weight after the first). A zero gradient is left unnormalized (MXNet
    divided by 0 and produced NaN)."""

    def __init__(self, learning_rate: float | None = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-6, lower_bound: float | None = None,
                 upper_bound: float | None = None, aggregate_num: int = 4,
                 use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, aggregate_num=aggregate_num,
                         use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        dt = _state_dtype(weight)
        return (self._zeros(weight, dt), self._zeros(weight, dt))

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        lo, hi = self.lower_bound, self.upper_bound
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, m: Any, v: Any) -> None:
            gp = xp.multiply(g, rs, dtype=w.dtype)
            gn = xp.linalg.norm(gp.ravel())
            gp /= xp.where(gn == 0, 1.0, gn).astype(gp.dtype)
            if clip is not None:
                xp.clip(gp, -clip, clip, out=gp)
            _k.k_moments(xp, gp, m, v, b1, b2)
            r1 = _bounded_norm(xp, w, lo, hi)
            d = xp.divide(v, c2)
            xp.sqrt(d, out=d)
            d += eps
            u = xp.divide(m, d)
            u /= c1
            if wd:
                u += w * wd
            r2 = xp.linalg.norm(u.ravel())
            u *= lr * b1 * _trust(xp, r1, r2)
            w -= u.astype(w.dtype, copy=False)
            u = xp.divide(gp, d)
            if wd:
                u += w * wd
            r2 = xp.linalg.norm(u.ravel())
            u *= lr * (1.0 - b1) * _trust(xp, r1, r2)
            w -= u.astype(w.dtype, copy=False)

        self._launch("lans_update", weight, grad, list(state), kernel, master)
