"""Learning-rate schedules (MXNet's ``mx.lr_scheduler``).

A scheduler maps ``num_update`` (the largest number of updates applied to any weight, counted
from 1) to a learning rate. Schedulers follow MXNet 2.0:

* the first ``warmup_steps`` updates (``num_update < warmup_steps``) ramp linearly from
  ``warmup_begin_lr`` to ``base_lr`` (``'linear'``) or stay at ``warmup_begin_lr``
  (``'constant'``);
* :class:`FactorScheduler` multiplies the rate by ``factor`` after every ``step`` updates
  (with ``step=2, factor=0.5`` and ``base_lr=1``: updates 1, 2 give 1.0; 3, 4 give 0.5), never
  going below ``stop_factor_lr``;
* :class:`MultiFactorScheduler` multiplies it by ``factor`` once ``num_update`` passes each entry
  of ``step``;
* :class:`PolyScheduler` and :class:`CosineScheduler` decay from ``base_lr`` to ``final_lr`` over
  ``max_update`` updates (warmup included) and then stay at ``final_lr``.

Factor schedulers keep state (they advance as ``num_update`` grows), as in MXNet. When an
optimizer's ``learning_rate`` overrides a scheduler's ``base_lr``, the warmup target and the
decay start of the polynomial and cosine schedules move with it (MXNet left those at the
constructor's value, so the override was silently lost there).
"""

from __future__ import annotations

import logging
import math

__all__ = [
    "LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler", "CosineScheduler",
]

_log = logging.getLogger(__name__)


class LRScheduler:
    """Base class of learning-rate schedules.

    Parameters
    ----------
    base_lr : the initial learning rate (reached at the end of warmup).
    warmup_steps : number of warmup updates before the schedule proper starts.
    warmup_begin_lr : the learning rate warmup starts from.
    warmup_mode : ``'linear'`` (equal increments up to ``base_lr``) or ``'constant'``
        (``warmup_begin_lr`` throughout the warmup).
    """

    def __init__(self, base_lr: float = 0.01, warmup_steps: int = 0,
                 warmup_begin_lr: float = 0, warmup_mode: str = "linear") -> None:
        if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool):
            raise TypeError(f"warmup_steps must be an int, got {type(warmup_steps).__name__}")
        if warmup_steps < 0:
            raise ValueError(f"Warmup steps has to be positive or 0, got {warmup_steps}")
        if warmup_begin_lr > base_lr:
            raise ValueError(f"Base lr ({base_lr}) has to be higher than warmup_begin_lr "
                             f"({warmup_begin_lr})")
        if warmup_mode not in ("linear", "constant"):
            raise ValueError(f"Supports only 'linear' and 'constant' modes of warmup, got "
                             f"{warmup_mode!r}")
        self.base_lr = base_lr
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    def _reset_base_lr(self, value: float) -> None:
        """Restart the schedule from ``value`` (used when an optimizer overrides the rate)."""
        self.base_lr = value
        self.warmup_final_lr = value

    def get_warmup_lr(self, num_update: int) -> float:
        """The learning rate at update ``num_update`` of the warmup."""
        if num_update >= self.warmup_steps:
            raise ValueError(f"update {num_update} is past the {self.warmup_steps} warmup steps")
        if self.warmup_mode == "linear":
            increase = ((self.warmup_final_lr - self.warmup_begin_lr)
                        * float(num_update) / float(self.warmup_steps))
            return self.warmup_begin_lr + increase
        return self.warmup_begin_lr

    def __call__(self, num_update: int) -> float:
        """The learning rate after ``num_update`` updates."""
        raise NotImplementedError("must override this")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_lr={self.base_lr})"


def _check_max_update(max_update: int, warmup_steps: int) -> None:
    if not isinstance(max_update, int) or isinstance(max_update, bool):
        raise TypeError(f"max_update must be an int, got {type(max_update).__name__}")
    if max_update < 1:
        raise ValueError(f"maximum number of updates must be strictly positive, got {max_update}")
    if warmup_steps >= max_update:
        raise ValueError(f"max_update ({max_update}) must be larger than warmup_steps "
                         f"({warmup_steps})")


class FactorScheduler(LRScheduler):
    """``base_lr * factor ** floor((num_update - 1) / step)``, floored at ``stop_factor_lr``."""

    def __init__(self, step: int, factor: float = 1, stop_factor_lr: float = 1e-8,
                 base_lr: float = 0.01, warmup_steps: int = 0, warmup_begin_lr: float = 0,
                 warmup_mode: str = "linear") -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if step < 1:
            raise ValueError(f"Schedule step must be greater or equal than 1 round, got {step}")
        if factor > 1.0:
            raise ValueError(f"Factor must be no more than 1 to make lr reduce, got {factor}")
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        # a loop, not an if: resuming training may jump several steps at once
        while num_update > self.count + self.step:
            self.count += self.step
            self.base_lr *= self.factor
            if self.base_lr < self.stop_factor_lr:
                self.base_lr = self.stop_factor_lr
                _log.info("Update[%d]: now learning rate arrived at %0.5e, will not change in "
                          "the future", num_update, self.base_lr)
            else:
                _log.info("Update[%d]: Change learning rate to %0.5e", num_update, self.base_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """Multiply the rate by ``factor`` each time ``num_update`` passes an entry of ``step``."""

    def __init__(self, step: list[int], factor: float = 1, base_lr: float = 0.01,
                 warmup_steps: int = 0, warmup_begin_lr: float = 0,
                 warmup_mode: str = "linear") -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, (list, tuple)) or len(step) < 1:
            raise ValueError(f"step must be a non-empty list of increasing ints, got {step!r}")
        for i, s in enumerate(step):
            if i != 0 and step[i] <= step[i - 1]:
                raise ValueError("Schedule step must be an increasing integer list")
            if s < 1:
                raise ValueError("Schedule step must be greater or equal than 1 round")
        if factor > 1.0:
            raise ValueError(f"Factor must be no more than 1 to make lr reduce, got {factor}")
        self.step = list(step)
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind < len(self.step) and num_update > self.step[self.cur_step_ind]:
            self.count = self.step[self.cur_step_ind]
            self.cur_step_ind += 1
            self.base_lr *= self.factor
            _log.info("Update[%d]: Change learning rate to %0.5e", num_update, self.base_lr)
        return self.base_lr


class PolyScheduler(LRScheduler):
    """``final_lr + (base_lr - final_lr) * (1 - n / max_steps) ** pwr`` after warmup, where
    ``n = num_update - warmup_steps`` and ``max_steps = max_update - warmup_steps``."""

    def __init__(self, max_update: int, base_lr: float = 0.01, pwr: float = 2,
                 final_lr: float = 0, warmup_steps: int = 0, warmup_begin_lr: float = 0,
                 warmup_mode: str = "linear") -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        _check_max_update(max_update, warmup_steps)
        self.power = pwr
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = max_update - warmup_steps

    def _reset_base_lr(self, value: float) -> None:
        super()._reset_base_lr(value)
        self.base_lr_orig = value

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            frac = float(num_update - self.warmup_steps) / float(self.max_steps)
            self.base_lr = (self.final_lr + (self.base_lr_orig - self.final_lr)
                             * pow(1 - frac, self.power))
        return self.base_lr


class CosineScheduler(LRScheduler):
    """``final_lr + (base_lr - final_lr) * (1 + cos(pi * n / max_steps)) / 2`` after warmup,
    where ``n = num_update - warmup_steps`` and ``max_steps = max_update - warmup_steps``."""

    def __init__(self, max_update: int, base_lr: float = 0.01, final_lr: float = 0,
                 warmup_steps: int = 0, warmup_begin_lr: float = 0,
                 warmup_mode: str = "linear") -> None:
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        _check_max_update(max_update, warmup_steps)
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = max_update - warmup_steps

    def _reset_base_lr(self, value: float) -> None:
        super()._reset_base_lr(value)
        self.base_lr_orig = value

    def __call__(self, num_update: int) -> float:
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            frac = (num_update - self.warmup_steps) / self.max_steps
            self.base_lr = (self.final_lr + (self.base_lr_orig - self.final_lr)
                             * (1 + math.cos(math.pi * frac)) / 2)
        return self.base_lr
