"""Fused recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` (MXNet's ``gluon.rnn.rnn_layer``).

Each layer runs the whole sequence through one ``npx.rnn`` call. Parameters are kept **per
layer and direction with MXNet 1.x's names** (``l0_i2h_weight (G*H, in)``, ``l0_h2h_weight``,
``l0_i2h_bias``, ``l0_h2h_bias``, ``r0_*`` for the reverse direction, ``l0_h2r_weight`` with a
projection), so files saved by MXNet 1.x (structural names such as ``0.l0_i2h_weight``) load by
name. At each call they are concatenated into the fused vector ``npx.rnn`` takes (MXNet 2.0's
``rnn_param`` layout, :func:`framework.initializer.rnn_param_layout`): one copy of the weights
per call, and the gradient flows back to each piece through the concatenation.
"""

from __future__ import annotations

from typing import Any

from ... import np, npx
from ...base import ShapeError
from ...nd._array import ndarray
from ...nd._rnn import param_layout
from ..block import HybridBlock
from ..nn.basic_layers import check_dim, check_ndim, device_of, where
from ..parameter import Parameter

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


class _RNNLayer(HybridBlock):
    """Shared implementation of the fused layers (see the module docstring)."""

    def __init__(self, hidden_size: int, num_layers: int, layout: str, dropout: float,
                 bidirectional: bool, input_size: int, i2h_weight_initializer: Any,
                 h2h_weight_initializer: Any, i2h_bias_initializer: Any,
                 h2h_bias_initializer: Any, mode: str, projection_size: int | None = None,
                 h2r_weight_initializer: Any = None, lstm_state_clip_min: float | None = None,
                 lstm_state_clip_max: float | None = None, lstm_state_clip_nan: bool = False,
                 dtype: Any = "float32", use_sequence_length: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if layout not in ("TNC", "NTC"):
            raise ValueError(f"{name}: layout must be 'TNC' or 'NTC', got {layout!r}")
        if int(hidden_size) <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if int(num_layers) <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if int(input_size) < 0:
            raise ValueError(f"{name}: input_size must be >= 0 (0: inferred), got "
                             f"{input_size!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}")
        self._hidden_size = int(hidden_size)
        self._projection_size = int(projection_size) if projection_size else None
        self._num_layers = int(num_layers)
        self._mode = mode
        self._layout = layout
        self._dropout = float(dropout)
        self._dir = 2 if bidirectional else 1
        self._input_size = int(input_size)
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = bool(use_sequence_length)
        self._gates = _GATES[mode]
        g, h = self._gates, self._hidden_size
        out = self._projection_size or h
        inits = {"i2h_weight": i2h_weight_initializer, "h2h_weight": h2h_weight_initializer,
                 "i2h_bias": i2h_bias_initializer, "h2h_bias": h2h_bias_initializer,
                 "h2r_weight": h2r_weight_initializer}
        n_in = self._input_size
        for layer in range(self._num_layers):
            for d in ("l", "r")[:self._dir]:
                shapes = {"i2h_weight": (g * h, n_in or -1), "h2h_weight": (g * h, out),
                          "i2h_bias": (g * h,), "h2h_bias": (g * h,)}
                if self._projection_size:
                    shapes["h2r_weight"] = (self._projection_size, h)
                for kind, shape in shapes.items():
                    pname = f"{d}{layer}_{kind}"
                    setattr(self, pname, Parameter(pname, shape=shape, init=inits[kind],
                                                   dtype=dtype, allow_deferred_init=True))
            n_in = out * self._dir
        # the order of the fused vector (all weights, then all biases)
        self._fused_names = [n for n, _ in param_layout(
            mode, self._num_layers, 1, h, self._dir == 2, self._projection_size)]

    # -- states -----------------------------------------------------------------------------------
    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        """Shape, layout and dtype of each state: ``(num_layers * directions, batch, H)``
        (the hidden state is ``(..., projection_size)`` with a projection)."""
        out = self._projection_size or self._hidden_size
        info = [{"shape": (self._num_layers * self._dir, batch_size, out), "__layout__": "LNC",
                 "dtype": self._dtype}]
        if self._mode == "lstm":
            info.append({"shape": (self._num_layers * self._dir, batch_size, self._hidden_size),
                         "__layout__": "LNC", "dtype": self._dtype})
        return info

    def begin_state(self, batch_size: int = 0, func: Any = None, **kwargs: Any) -> list[Any]:
        """Initial states: ``func(shape=..., dtype=..., **kwargs)`` (default ``np.zeros``) for
        each entry of :meth:`state_info`; ``kwargs`` may give ``device``/``ctx``, ``dtype``."""
        return _begin_state(self.state_info(batch_size), func, kwargs)

    # -- shapes -----------------------------------------------------------------------------------
    def _check_input(self, x: Any) -> None:
        check_ndim(self, x, 3, f"3 dimensions (layout {self._layout})")
        if x.ndim != 3:
            raise ShapeError(f"{where(self)}: the input must have 3 dimensions (layout "
                             f"{self._layout}), got shape {x.shape}")

    def infer_shape(self, x: Any, *args: Any) -> None:
        self._check_input(x)
        g, h = self._gates, self._hidden_size
        for d in ("l", "r")[:self._dir]:
            getattr(self, f"{d}0_i2h_weight").shape = (g * h, x.shape[2])

    def cast(self, dtype: Any) -> None:
        super().cast(dtype)
        self._dtype = dtype

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, inputs: Any, states: Any = None, sequence_length: Any = None) -> Any:
        self._check_input(inputs)
        check_dim(self, self.l0_i2h_weight, 1, inputs.shape[2], inputs,
                  "input features (input.shape[2])")
        x = np.swapaxes(inputs, 0, 1) if self._layout == "NTC" else inputs
        batch = x.shape[1]
        skip_states = states is None
        if skip_states:
            states = self.begin_state(batch, device=x.device, dtype=x.dtype)
        if isinstance(states, ndarray):
            states = [states]
        states = list(states)
        info = self.state_info(batch)
        if len(states) != len(info):
            raise ValueError(f"{where(self)}: expected {len(info)} state array(s), got "
                             f"{len(states)}")
        for i, (s, want) in enumerate(zip(states, info)):
            if tuple(s.shape) != want["shape"]:
                raise ShapeError(f"{where(self)}: state {i} must have shape {want['shape']} "
                                 f"(num_layers*directions, batch, hidden), got {s.shape}")
        if self._use_sequence_length and sequence_length is None:
            raise ValueError(f"{where(self)}: use_sequence_length=True needs the "
                             "sequence_length argument")
        dev = device_of(x)
        flat = [getattr(self, n).data(dev).reshape(-1) for n in self._fused_names]
        params = np.concatenate(flat, axis=0) if len(flat) > 1 else flat[0]
        res = npx.rnn(x, params, states[0], states[1] if self._mode == "lstm" else None,
                      mode=self._mode, state_size=self._hidden_size,
                      num_layers=self._num_layers, bidirectional=self._dir == 2,
                      p=self._dropout, state_outputs=True,
                      sequence_length=sequence_length if self._use_sequence_length else None,
                      use_sequence_length=self._use_sequence_length,
                      projection_size=self._projection_size,
                      lstm_state_clip_min=self._lstm_state_clip_min,
                      lstm_state_clip_max=self._lstm_state_clip_max,
                      lstm_state_clip_nan=self._lstm_state_clip_nan)
        out, new_states = res[0], list(res[1:])
        if self._layout == "NTC":
            out = np.swapaxes(out, 0, 1)
        return out if skip_states else (out, new_states)

    def __repr__(self) -> str:
        shape = self.l0_i2h_weight.shape
        n_in = shape[1] if shape is not None and shape[1] > 0 else None
        s = f"{type(self).__name__}({n_in} -> {self._hidden_size}, {self._layout}"
        if self._num_layers != 1:
            s += f", num_layers={self._num_layers}"
        if self._dropout:
            s += f", dropout={self._dropout}"
        if self._dir == 2:
            s += ", bidirectional"
        return s + ")"


def _begin_state(infos: list[dict[str, Any]], func: Any, kwargs: dict[str, Any]) -> list[Any]:
    func = np.zeros if func is None else func
    states = []
    for info in infos:
        spec = {k: v for k, v in info.items() if not k.startswith("__")}
        spec.update(kwargs)
        shape = spec.pop("shape")
        states.append(func(shape=shape, **spec))
    return states


class RNN(_RNNLayer):
    """Elman RNN, ``h_t = activation(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` with
    ``activation`` ``'relu'`` or ``'tanh'``, over a whole sequence (layout ``'TNC'`` by default,
    or ``'NTC'``). ``out = layer(x)``, or ``out, states = layer(x, states)``."""

    def __init__(self, hidden_size: int, num_layers: int = 1, activation: str = "relu",
                 layout: str = "TNC", dropout: float = 0, bidirectional: bool = False,
                 i2h_weight_initializer: Any = None, h2h_weight_initializer: Any = None,
                 i2h_bias_initializer: Any = "zeros", h2h_bias_initializer: Any = "zeros",
                 input_size: int = 0, dtype: Any = "float32", use_sequence_length: bool = False,
                 **kwargs: Any) -> None:
        if activation not in ("relu", "tanh"):
            raise ValueError(f"RNN: activation must be 'relu' or 'tanh', got {activation!r}")
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "rnn_" + activation, dtype=dtype,
                         use_sequence_length=use_sequence_length, **kwargs)


class LSTM(_RNNLayer):
    """Long short-term memory over a whole sequence (gates ``[i, f, g, o]``); two states
    ``[h, c]``. ``projection_size`` adds LSTMP's projection of the output and hidden state;
    ``state_clip_min/max`` clip the cell state (``state_clip_nan``: NaN becomes the minimum)."""

    def __init__(self, hidden_size: int, num_layers: int = 1, layout: str = "TNC",
                 dropout: float = 0, bidirectional: bool = False, input_size: int = 0,
                 i2h_weight_initializer: Any = None, h2h_weight_initializer: Any = None,
                 i2h_bias_initializer: Any = "zeros", h2h_bias_initializer: Any = "zeros",
                 projection_size: int | None = None, h2r_weight_initializer: Any = None,
                 state_clip_min: float | None = None, state_clip_max: float | None = None,
                 state_clip_nan: bool = False, dtype: Any = "float32",
                 use_sequence_length: bool = False, **kwargs: Any) -> None:
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "lstm", projection_size, h2r_weight_initializer,
                         state_clip_min, state_clip_max, state_clip_nan, dtype,
                         use_sequence_length, **kwargs)


class GRU(_RNNLayer):
    """Gated recurrent unit over a whole sequence (gates ``[r, z, n]``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``)."""

    def __init__(self, hidden_size: int, num_layers: int = 1, layout: str = "TNC",
                 dropout: float = 0, bidirectional: bool = False, input_size: int = 0,
                 i2h_weight_initializer: Any = None, h2h_weight_initializer: Any = None,
                 i2h_bias_initializer: Any = "zeros", h2h_bias_initializer: Any = "zeros",
                 dtype: Any = "float32", use_sequence_length: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "gru", dtype=dtype,
                         use_sequence_length=use_sequence_length, **kwargs)
