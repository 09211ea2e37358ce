"""Optimizers (MXNet's ``mx.optimizer``): the ``Optimizer`` base class, the registry
(``register``, ``create``), ``Updater``/``get_updater`` and every built-in optimizer.

``create('sgd', learning_rate=0.1)`` makes an optimizer by its lowercased class name. Each update
of one parameter runs as one asynchronous, in-place engine task; the raw update kernels that the
legacy ``nd.*_update`` operators use are in :mod:`.kernels`.
"""

from __future__ import annotations

from . import kernels
from .adam import LAMB, LANS, AdaBelief, Adam, Adamax, AdamW, Nadam
from .adaptive import FTML, AdaDelta, AdaGrad, Ftrl, RMSProp
from .kernels import adam_update, sgd_mom_update, sgd_update
from .optimizer import Optimizer, Test, create, register, registered
from .sgd import DCASGD, LARS, NAG, SGD, SGLD, Signum
from .updater import Updater, get_updater

__all__ = [
    "Optimizer", "create", "register", "registered", "Updater", "get_updater", "kernels",
    "SGD", "NAG", "LARS", "Signum", "SGLD", "DCASGD",
    "Adam", "AdamW", "Adamax", "Nadam", "AdaBelief", "LAMB", "LANS",
    "RMSProp", "AdaGrad", "AdaDelta", "FTML", "Ftrl", "Test",
    "sgd_update", "sgd_mom_update", "adam_update",
]
