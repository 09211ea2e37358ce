"""Per-coordinate adaptive optimizers: ``RMSProp``, ``AdaGrad``, ``AdaDelta``, ``FTML``, ``Ftrl``
(MXNet 2.0 update rules, ``g' = clip(rescale_grad * grad, clip_gradient) + wd * w`` unless said
otherwise)."""

from __future__ import annotations

import warnings
from typing import Any

from ..nd._base import BaseArray
from . import kernels as _k
from .optimizer import Optimizer, register

__all__ = ["RMSProp", "AdaGrad", "AdaDelta", "FTML", "Ftrl"]


def _ema_square(xp: Any, acc: Any, x: Any, rho: float, tmp: Any) -> None:
    """``acc = rho * acc + (1 - rho) * x^2`` in place (``tmp`` is scratch)."""
    xp.square(x, out=tmp)
    tmp *= 1.0 - rho
    acc *= rho
    acc += tmp


@register
class RMSProp(Optimizer):
    """RMSProp. Uncentered (Tieleman & Hinton): ``v = rho v + (1-rho) g'^2``,
    ``w -= lr * g' / (sqrt(v) + epsilon)``. Centered (Graves): ``m = rho m + (1-rho) g'``,
    ``v = rho v + (1-rho) g'^2``, ``mom = momentum * mom - lr * g' / sqrt(v - m^2 + epsilon)``,
    ``w += mom``. ``clip_weights`` clips the weights afterwards.

    The 1.x arguments ``gamma1`` (decay, now ``rho``) and ``gamma2`` (momentum) are accepted with
    a ``DeprecationWarning``.
    """

    def __init__(self, learning_rate: float | None = 0.001, rho: float = 0.9,
                 momentum: float = 0.9, epsilon: float = 1e-8, centered: bool = False,
                 clip_weights: float | None = None, use_fused_step: bool = True,
                 gamma1: float | None = None, gamma2: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        if gamma1 is not None:
            warnings.warn("RMSProp: 'gamma1' is deprecated, use 'rho'", DeprecationWarning,
                          stacklevel=2)
            rho = gamma1
        if gamma2 is not None:
            warnings.warn("RMSProp: 'gamma2' is deprecated, use 'momentum'", DeprecationWarning,
                          stacklevel=2)
            momentum = gamma2
        self.rho = rho
        self.momentum = momentum
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index: Any, weight: BaseArray) -> Any:
        if self.centered:
            return (self._zeros(weight), self._zeros(weight), self._zeros(weight))
        return self._zeros(weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rho, m, eps = float(self.rho), float(self.momentum), float(self.epsilon)
        rs, clip = float(self.rescale_grad), self._clip()
        cw = float(self.clip_weights) if self.clip_weights else None

        def finish(xp: Any, w: Any) -> None:
            if cw is not None:
                xp.clip(w, -cw, cw, out=w)

        if not self.centered:
            def kernel(xp: Any, w: Any, g: Any, v: Any) -> None:
                gp = _k.k_grad(xp, w, g, rs, clip, wd)
                tmp = xp.empty_like(gp)
                _ema_square(xp, v, gp, rho, tmp)
                xp.sqrt(v, out=tmp)
                tmp += eps
                gp /= tmp
                gp *= lr
                w -= gp
                finish(xp, w)

            self._launch("rmsprop_update", weight, grad, [state], _k.blocked(kernel), master)
            return

        def centered(xp: Any, w: Any, g: Any, mean: Any, v: Any, mom: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            tmp = xp.multiply(gp, 1.0 - rho)
            mean *= rho
            mean += tmp
            _ema_square(xp, v, gp, rho, tmp)
            xp.square(mean, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            tmp += eps
            xp.sqrt(tmp, out=tmp)
            gp /= tmp
            gp *= lr
            mom *= m
            mom -= gp
            w += mom
            finish(xp, w)

        self._launch("rmspropalex_update", weight, grad, list(state), _k.blocked(centered),
                     master)


@register
class AdaGrad(Optimizer):
    """AdaGrad: ``h += g'^2``, ``w -= lr * g' / (sqrt(h) + epsilon)``. The 1.x argument ``eps``
    is accepted as ``epsilon`` with a ``DeprecationWarning``."""

    def __init__(self, learning_rate: float | None = 0.01, epsilon: float = 1e-6,
                 use_fused_step: bool = True, eps: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        if eps is not None:
            warnings.warn("AdaGrad: 'eps' is deprecated, use 'epsilon'", DeprecationWarning,
                          stacklevel=2)
            epsilon = eps
        self.epsilon = epsilon

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray:
        return self._zeros(weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        eps, rs, clip = float(self.epsilon), float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, h: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            tmp = xp.square(gp)
            h += tmp
            xp.sqrt(h, out=tmp)
            tmp += eps
            gp /= tmp
            gp *= lr
            w -= gp

        self._launch("adagrad_update", weight, grad, [state], _k.blocked(kernel), master)


@register
class AdaDelta(Optimizer):
    """AdaDelta: ``a_g = rho a_g + (1-rho) g'^2``,
    ``delta = sqrt(a_d + epsilon) / sqrt(a_g + epsilon) * g'``,
    ``a_d = rho a_d + (1-rho) delta^2``, ``w -= lr * delta``.

    MXNet 2.0 defaults (``learning_rate=1.0``, ``epsilon=1e-6``); 1.x used ``epsilon=1e-5``,
    ignored the learning rate and applied weight decay outside the accumulators.
    """

    def __init__(self, learning_rate: float | None = 1.0, rho: float = 0.9,
                 epsilon: float = 1e-6, use_fused_step: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return (self._zeros(weight), self._zeros(weight))

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rho, eps = float(self.rho), float(self.epsilon)
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, acc_g: Any, acc_d: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            tmp = xp.empty_like(gp)
            _ema_square(xp, acc_g, gp, rho, tmp)
            delta = xp.add(acc_d, eps)
            xp.sqrt(delta, out=delta)
            xp.add(acc_g, eps, out=tmp)
            xp.sqrt(tmp, out=tmp)
            delta /= tmp
            delta *= gp
            _ema_square(xp, acc_d, delta, rho, tmp)
            delta *= lr
            w -= delta

        self._launch("adadelta_update", weight, grad, list(state), _k.blocked(kernel),
                     master)


@register
class FTML(Optimizer):
    """FTML (follow the moving leader): ``v = b2 v + (1-b2) g'^2``,
    ``d_t = (1 - b1^t) / lr * (sqrt(v / (1 - b2^t)) + epsilon)``,
    ``z = b1 z + (1-b1) g' - (d_t - b1 d_{t-1}) w``, ``w = -z / d_t``."""

    def __init__(self, learning_rate: float | None = 0.0025, beta1: float = 0.6,
                 beta2: float = 0.999, epsilon: float = 1e-8, use_fused_step: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, ...]:
        return (self._zeros(weight), self._zeros(weight), self._zeros(weight))  # d, v, z

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        b1, b2, eps = float(self.beta1), float(self.beta2), float(self.epsilon)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, d: Any, v: Any, z: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, wd)
            tmp = xp.empty_like(gp)
            _ema_square(xp, v, gp, b2, tmp)
            sigma = xp.multiply(d, -b1)
            xp.divide(v, c2, out=d)
            xp.sqrt(d, out=d)
            d += eps
            d *= c1 / lr
            sigma += d
            z *= b1
            gp *= 1.0 - b1
            z += gp
            sigma *= w
            z -= sigma
            xp.divide(z, d, out=tmp)
            xp.negative(tmp, out=w)

        self._launch("ftml_update", weight, grad, list(state), kernel, master)


@register
class Ftrl(Optimizer):
    """FTRL-proximal: with ``g' = clip(rescale_grad * grad)`` (no weight decay in the gradient),
    ``z += g' - (sqrt(n + g'^2) - sqrt(n)) / lr * w``, ``n += g'^2``,
    ``w = -sign(z) * max(|z| - lamda1, 0) / ((beta + sqrt(n)) / lr + wd)``."""

    def __init__(self, learning_rate: float | None = 0.1, lamda1: float = 0.01,
                 beta: float = 1.0, use_fused_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, use_fused_step=use_fused_step, **kwargs)
        self.lamda1 = lamda1
        self.beta = beta

    def create_state(self, index: Any, weight: BaseArray) -> tuple[BaseArray, BaseArray]:
        return (self._zeros(weight), self._zeros(weight))  # z, n

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        lamda1, beta = float(self.lamda1), float(self.beta)
        rs, clip = float(self.rescale_grad), self._clip()

        def kernel(xp: Any, w: Any, g: Any, z: Any, n: Any) -> None:
            gp = _k.k_grad(xp, w, g, rs, clip, 0.0)
            sigma = xp.sqrt(n)
            sigma *= -1.0
            n += xp.square(gp)
            denom = xp.sqrt(n)
            sigma += denom
            sigma /= lr
            sigma *= w
            z += gp
            z -= sigma
            denom += beta
            denom /= lr
            denom += wd
            xp.abs(z, out=gp)
            gp -= lamda1
            xp.maximum(gp, 0.0, out=gp)
            gp *= xp.sign(z)
            gp /= denom
            xp.negative(gp, out=w)

        self._launch("ftrl_update", weight, grad, list(state), kernel, master)
