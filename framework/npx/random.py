"""``npx.random``: MXNet's random extensions (``seed``, ``bernoulli``, ``uniform_n``, ``normal_n``).

The ``*_n`` variants draw ``batch_shape + broadcast(parameter shapes)`` samples. Results are
float32 by default and live on ``device``/``ctx``, else on an array parameter's device.
"""

from __future__ import annotations

import math
from typing import Any

from ..nd import _random
from ..nd._elemwise import _assign_out

__all__ = ["seed", "bernoulli", "uniform_n", "normal_n"]


def seed(seed: Any, ctx: Any = "all", device: Any = None) -> None:
    """Seed every device's generator (``ctx='all'``) or the one of ``ctx``/``device``."""
    _random.seed(seed, device if device is not None else ctx)


def bernoulli(prob: Any = None, logit: Any = None, size: Any = None, dtype: Any = None,
              ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Bernoulli draws (0 or 1) given exactly one of ``prob`` and ``logit``; float32 by
    default (any numeric or bool ``dtype`` is accepted)."""
    if (prob is None) == (logit is None):
        raise ValueError("bernoulli: give exactly one of prob and logit")
    if size is None and out is not None:
        size = out.shape
    if prob is not None:
        res = _random.sample("bernoulli", (prob,), size, dtype, device, ctx, any_dtype=True)
    elif isinstance(logit, (int, float)) and not isinstance(logit, bool):
        p = 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
        res = _random.sample("bernoulli", (p,), size, dtype, device, ctx, any_dtype=True)
    else:
        res = _random.sample("bernoulli_logit", (logit,), size, dtype, device, ctx,
                             any_dtype=True)
    return res if out is None else _assign_out("bernoulli", out, res)


def uniform_n(low: Any = 0.0, high: Any = 1.0, batch_shape: Any = None, dtype: Any = None,
              ctx: Any = None, device: Any = None) -> Any:
    """Uniform draws of shape ``batch_shape + broadcast(low.shape, high.shape)``."""
    return _random.sample("uniform", (low, high), None, dtype, device, ctx,
                          batch_shape=() if batch_shape is None else batch_shape)


def normal_n(loc: Any = 0.0, scale: Any = 1.0, batch_shape: Any = None, dtype: Any = None,
             ctx: Any = None, device: Any = None) -> Any:
    """Normal draws of shape ``batch_shape + broadcast(loc.shape, scale.shape)``."""
    return _random.sample("normal", (loc, scale), None, dtype, device, ctx,
                          batch_shape=() if batch_shape is None else batch_shape)
