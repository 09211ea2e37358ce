"""``mx.random``: MXNet's top-level random module: ``seed``, ``uniform``, ``normal``, ``randint``.

The samplers are those of ``np.random`` (NumPy semantics, float32 results), not the legacy
``nd`` ones: ``uniform(low, high, size)``, ``normal(loc, scale, size)``.
"""

from __future__ import annotations

from typing import Any

from .nd import _random
from .np.random import normal, randint, uniform

__all__ = ["seed", "uniform", "normal", "randint"]


def seed(seed_state: Any, ctx: Any = "all", device: Any = None) -> None:
    """Seed every device's generator (``ctx='all'``) or the one of ``ctx``/``device``.

    Each device's stream is derived from ``(seed_state, device)``, so devices differ and each is
    reproducible; seeding one device leaves the others alone.
    """
    _random.seed(seed_state, device if device is not None else ctx)
