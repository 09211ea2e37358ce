"""Gluon: blocks, parameters, layers, losses, the Trainer, data and metrics (MXNet's gluon)."""

from __future__ import annotations

from . import data, loss, metric, model_zoo, nn, parameter, rnn, utils
from ._export import SymbolBlock
from ._step import TrainStep
from .block import Block, HybridBlock
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict
from .trainer import Trainer

__all__ = [
    "Block", "HybridBlock", "SymbolBlock", "Parameter", "Constant", "ParameterDict",
    "DeferredInitializationError", "parameter", "metric", "utils", "loss", "Trainer",
    "TrainStep", "nn", "data", "model_zoo", "rnn",
]
