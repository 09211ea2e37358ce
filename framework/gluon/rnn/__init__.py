"""Recurrent layers and cells (MXNet's ``gluon.rnn``): the fused ``RNN``/``LSTM``/``GRU``
layers over whole sequences, and cells that run one step per call."""

from __future__ import annotations

from .rnn_cell import (
    BidirectionalCell,
    DropoutCell,
    GRUCell,
    HybridRecurrentCell,
    HybridSequentialRNNCell,
    LSTMCell,
    ModifierCell,
    RecurrentCell,
    ResidualCell,
    RNNCell,
    SequentialRNNCell,
    VariationalDropoutCell,
    ZoneoutCell,
)
from .rnn_layer import GRU, LSTM, RNN

__all__ = [
    "RNN", "LSTM", "GRU", "RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell",
    "GRUCell", "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
    "ZoneoutCell", "ResidualCell", "BidirectionalCell", "VariationalDropoutCell",
]
