"""The optimizers' update kernels (``k_*``), their launcher and MXNet's ``*_update`` operators.

They live in the array layer (:mod:`framework.nd._update`) so that the legacy ``nd`` namespace
(``nd.sgd_update`` ...) and the optimizers run the same one-task kernels; this module is the
optimizer layer's name for them.
"""

from __future__ import annotations

from ..nd._update import (  # noqa: F401  (re-exported)
    Buf,
    adam_update,
    batched,
    blocked,
    in_blocks,
    k_adam,
    k_grad,
    k_moments,
    k_nag,
    k_sgd,
    launch,
    launch_many,
    sgd_mom_update,
    sgd_update,
)

__all__ = ["sgd_update", "sgd_mom_update", "adam_update", "launch", "launch_many", "batched"]
