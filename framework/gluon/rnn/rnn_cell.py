"""Recurrent cells: one time step per call (MXNet's ``gluon.rnn.rnn_cell``).

``output, new_states = cell(x_t, states)``; ``cell.unroll(length, inputs, ...)`` runs a whole
sequence step by step. ``RNNCell``, ``LSTMCell`` and ``GRUCell`` use the same gate math and
parameter shapes as the fused layers (``i2h_weight (G*H, in)``, ``h2h_weight (G*H, H)``,
``i2h_bias``, ``h2h_bias``), so a layer's ``l0_*`` parameters drop into a cell. They compute
with ``np``/``npx``, so they work under NumPy semantics (MXNet 1.9.1's cells did not).

Modifier cells (``DropoutCell``, ``ZoneoutCell``, ``ResidualCell``, ``VariationalDropoutCell``)
and containers (``SequentialRNNCell``, ``BidirectionalCell``) wrap other cells. Every cell is
a ``HybridBlock`` and may be hybridized, except the two that keep values across calls
(``ZoneoutCell``'s previous output, ``VariationalDropoutCell``'s masks): their ``hybridize``
hybridizes the wrapped cell and leaves themselves imperative, since a replayed graph cannot
carry Python state from one call to the next.

Differences from MXNet: with ``valid_length``, a sequence of length 0 keeps its begin state
(MXNet reads an undefined step).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ... import np, npx
from ...base import ShapeError
from ...nd._array import ndarray
from ..block import Block, HybridBlock
from ..nn.basic_layers import check_dim, check_ndim, device_of, where
from ..parameter import Parameter
from .rnn_layer import _begin_state

__all__ = [
    "RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
    "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
    "ZoneoutCell", "ResidualCell", "BidirectionalCell", "VariationalDropoutCell",
]


# -- sequence helpers -------------------------------------------------------------------------

def _format_sequence(length: int, inputs: Any, layout: str, merge: bool | None,
                     what: str = "unroll") -> tuple[Any, int, int]:
    """``(inputs as a list of steps (merge False) or one array (merge True; None keeps the
    given form), time axis, batch size)``."""
    if layout not in ("NTC", "TNC"):
        raise ValueError(f"{what}: layout must be 'NTC' or 'TNC', got {layout!r}")
    axis = layout.find("T")
    if isinstance(inputs, ndarray):
        if inputs.ndim < 2 or inputs.shape[axis] != length:
            raise ShapeError(f"{what}: inputs of shape {inputs.shape} do not hold length="
                             f"{length} steps along axis {axis} (layout {layout})")
        batch = inputs.shape[layout.find("N")]
        if merge is False:
            inputs = [inputs[i] if axis == 0 else inputs[:, i] for i in range(length)]
        return inputs, axis, batch
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, ndarray) for x in inputs):
        raise TypeError(f"{what}: inputs must be an ndarray or a list of ndarrays, got "
                        f"{type(inputs).__name__}")
    if len(inputs) != length:
        raise ValueError(f"{what}: got {len(inputs)} input steps for length={length}")
    batch = inputs[0].shape[0]
    if merge is True:
        return np.stack(list(inputs), axis=axis), axis, batch
    return list(inputs), axis, batch


def _begin_for(cell: RecurrentCell, begin_state: Any, inputs: Any, batch: int) -> list[Any]:
    if begin_state is not None:
        return list(begin_state)
    first = inputs if isinstance(inputs, ndarray) else inputs[0]
    return cell.begin_state(batch, device=first.device, dtype=first.dtype)


def _mask_steps(outputs: Any, length: int, valid_length: Any, axis: int,
                merge: bool) -> Any:
    """Zero every step at or past each sequence's ``valid_length``."""
    if not isinstance(outputs, ndarray):
        outputs = np.stack(list(outputs), axis=axis)
    outputs = npx.sequence_mask(outputs, sequence_length=valid_length, use_sequence_length=True,
                                axis=axis)
    if not merge:
        outputs = [outputs[i] if axis == 0 else outputs[:, i] for i in range(length)]
    return outputs


def _last_valid(begin: Any, steps: list[Any], valid_length: Any) -> Any:
    """The state after each sequence's last valid step (its begin state for length 0)."""
    stacked = np.stack([begin, *steps], axis=0)  # (T + 1, N, ...)
    t_len = len(steps)
    idx = np.clip(valid_length, 0, t_len).astype("int64")
    idx = idx.reshape((1, -1) + (1,) * (stacked.ndim - 2))
    idx = np.broadcast_to(idx, (1,) + tuple(stacked.shape[1:]))
    return np.take_along_axis(stacked, idx, axis=0)[0]


def _reverse_steps(steps: list[Any], valid_length: Any) -> list[Any]:
    """Reverse a list of (N, ...) steps in time; with ``valid_length``, only each sequence's
    first ``valid_length`` steps (MXNet's SequenceReverse)."""
    if valid_length is None:
        return list(reversed(steps))
    t_len = len(steps)
    stacked = np.stack(list(steps), axis=0)
    t = np.arange(t_len, dtype="int64", device=stacked.device).reshape(-1, 1)
    lens = valid_length.astype("int64").reshape(1, -1)
    idx = np.where(t < lens, lens - 1 - t, t)  # (T, N)
    idx = idx.reshape(tuple(idx.shape) + (1,) * (stacked.ndim - 2))
    idx = np.broadcast_to(idx, tuple(stacked.shape))
    out = np.take_along_axis(stacked, idx, axis=0)
    return [out[i] for i in range(t_len)]


def _activate(x: Any, act: Any) -> Any:
    if isinstance(act, str):
        if act == "tanh":
            return np.tanh(x)
        if act == "sigmoid":
            return npx.sigmoid(x)
        if act == "relu":
            return npx.relu(x)
        return npx.activation(x, act_type=act)
    return act(x)


# -- base classes -------------------------------------------------------------------------------

class RecurrentCell(Block):
    """Base class of recurrent cells: ``forward(inputs, states) -> (output, new_states)``,
    ``state_info``, ``begin_state``, ``unroll`` and ``reset``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._modified = False
        self.reset()

    def reset(self) -> None:
        """Forget per-sequence values (modifier masks, previous outputs) before a new
        sequence; ``unroll`` calls it."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            if isinstance(cell, RecurrentCell):
                cell.reset()

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        """Shape (``(batch_size, H)``) and layout of each state."""
        raise NotImplementedError(f"{type(self).__name__} must implement state_info")

    def begin_state(self, batch_size: int = 0, func: Any = None, **kwargs: Any) -> list[Any]:
        """Initial states: ``func(shape=..., **kwargs)`` (default ``np.zeros``) for each entry
        of :meth:`state_info`; ``kwargs`` may give ``device``/``ctx`` and ``dtype``."""
        if self._modified:
            raise RuntimeError(f"{type(self).__name__}: after applying a modifier cell, call "
                               "begin_state on the modifier cell instead")
        return _begin_state(self.state_info(batch_size), func, kwargs)

    def unroll(self, length: int, inputs: Any, begin_state: Any = None, layout: str = "NTC",
               merge_outputs: bool | None = None, valid_length: Any = None) -> tuple[Any, Any]:
        """Run ``length`` steps. ``inputs``: one array (time axis from ``layout``) or a list
        of ``(N, C)`` steps. Returns ``(outputs, states)``: outputs stacked along the time
        axis when ``merge_outputs`` is True, a list when False, and in the input's form when
        None. With ``valid_length`` (N,), outputs past each length are 0 and the states are
        those after each sequence's last valid step."""
        self.reset()
        steps, axis, batch = _format_sequence(length, inputs, layout, False)
        states = _begin_for(self, begin_state, steps, batch)
        begin = states
        outputs = []
        history = []
        for i in range(length):
            out, states = self(steps[i], states)
            outputs.append(out)
            if valid_length is not None:
                history.append(states)
        if valid_length is not None:
            states = [_last_valid(b, list(h), valid_length)
                      for b, h in zip(begin, zip(*history))]
            outputs = _mask_steps(outputs, length, valid_length, axis, False)
        if merge_outputs is None:
            merge_outputs = isinstance(inputs, ndarray)
        outputs, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def forward(self, inputs: Any, states: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward")


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A recurrent cell that can be hybridized (each step replays the traced graph)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)


# -- the three cells ----------------------------------------------------------------------------

class _GatedCell(HybridRecurrentCell):
    """Parameters ``i2h_weight (G*H, in)``, ``h2h_weight (G*H, H)``, ``i2h_bias``, ``h2h_bias``
    and the two projections of a step."""

    _gates = 1
    _nstates = 1

    def __init__(self, hidden_size: int, i2h_weight_initializer: Any,
                 h2h_weight_initializer: Any, i2h_bias_initializer: Any,
                 h2h_bias_initializer: Any, input_size: int, dtype: Any,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if int(hidden_size) <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if int(input_size) < 0:
            raise ValueError(f"{name}: input_size must be >= 0 (0: inferred), got "
                             f"{input_size!r}")
        self._hidden_size = int(hidden_size)
        self._input_size = int(input_size)
        self._dtype = dtype
        gh = self._gates * self._hidden_size
        self.i2h_weight = Parameter("i2h_weight", shape=(gh, self._input_size or -1),
                                    init=i2h_weight_initializer, dtype=dtype,
                                    allow_deferred_init=True)
        self.h2h_weight = Parameter("h2h_weight", shape=(gh, self._hidden_size),
                                    init=h2h_weight_initializer, dtype=dtype,
                                    allow_deferred_init=True)
        self.i2h_bias = Parameter("i2h_bias", shape=(gh,), init=i2h_bias_initializer,
                                  dtype=dtype, allow_deferred_init=True)
        self.h2h_bias = Parameter("h2h_bias", shape=(gh,), init=h2h_bias_initializer,
                                  dtype=dtype, allow_deferred_init=True)

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC",
                 "dtype": self._dtype} for _ in range(self._nstates)]

    def _in_size(self, x: Any) -> int:
        check_ndim(self, x, 2, "at least 2 dimensions (batch, features)")
        size = 1
        for d in x.shape[1:]:
            size *= d
        return size

    def infer_shape(self, inputs: Any, *args: Any) -> None:
        self.i2h_weight.shape = (self._gates * self._hidden_size, self._in_size(inputs))

    def cast(self, dtype: Any) -> None:
        super().cast(dtype)
        self._dtype = dtype

    def _projections(self, inputs: Any, states: Any) -> tuple[Any, Any, list[Any]]:
        if isinstance(states, ndarray):
            states = [states]
        states = list(states)
        if len(states) != self._nstates:
            raise ValueError(f"{where(self)}: expected {self._nstates} state array(s), got "
                             f"{len(states)}")
        check_dim(self, self.i2h_weight, 1, self._in_size(inputs), inputs,
                  "input features (the product of input.shape[1:])")
        want = (inputs.shape[0], self._hidden_size)
        for i, s in enumerate(states):
            if tuple(s.shape) != want:
                raise ShapeError(f"{where(self)}: state {i} must have shape {want} (batch, "
                                 f"hidden_size), got {s.shape}")
        dev = device_of(inputs)
        gh = self._gates * self._hidden_size
        i2h = npx.fully_connected(inputs, self.i2h_weight.data(dev), self.i2h_bias.data(dev),
                                  num_hidden=gh)
        h2h = npx.fully_connected(states[0], self.h2h_weight.data(dev),
                                  self.h2h_bias.data(dev), num_hidden=gh)
        return i2h, h2h, states

    def __repr__(self) -> str:
        shape = self.i2h_weight.shape
        n_in = shape[1] if shape is not None and shape[1] > 0 else None
        return f"{type(self).__name__}({n_in} -> {self._hidden_size})"


class RNNCell(_GatedCell):
    """Elman cell: ``h' = activation(W_ih x + b_ih + W_hh h + b_hh)``; one state."""

    def __init__(self, hidden_size: int, activation: Any = "tanh",
                 i2h_weight_initializer: Any = None, h2h_weight_initializer: Any = None,
                 i2h_bias_initializer: Any = "zeros", h2h_bias_initializer: Any = "zeros",
                 input_size: int = 0, dtype: Any = "float32", **kwargs: Any) -> None:
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, dtype,
                         **kwargs)
        self._activation = activation

    def forward(self, inputs: Any, states: Any) -> Any:
        i2h, h2h, _ = self._projections(inputs, states)
        output = _activate(i2h + h2h, self._activation)
        return output, [output]


class LSTMCell(_GatedCell):
    """LSTM cell, gates ``[i, f, g, o]``: ``c' = f * c + i * g``, ``h' = o * tanh(c')``;
    states ``[h, c]``."""

    _gates = 4
    _nstates = 2

    def __init__(self, hidden_size: int, i2h_weight_initializer: Any = None,
                 h2h_weight_initializer: Any = None, i2h_bias_initializer: Any = "zeros",
                 h2h_bias_initializer: Any = "zeros", input_size: int = 0,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 dtype: Any = "float32", **kwargs: Any) -> None:
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, dtype,
                         **kwargs)
        self._activation = activation
        self._recurrent_activation = recurrent_activation

    def forward(self, inputs: Any, states: Any) -> Any:
        i2h, h2h, states = self._projections(inputs, states)
        gates = np.split(i2h + h2h, 4, axis=-1)
        rec = self._recurrent_activation
        in_gate = _activate(gates[0], rec)
        forget_gate = _activate(gates[1], rec)
        in_transform = _activate(gates[2], self._activation)
        out_gate = _activate(gates[3], rec)
        next_c = forget_gate * states[1] + in_gate * in_transform
        next_h = out_gate * _activate(next_c, self._activation)
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    """GRU cell, gates ``[r, z, n]``: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h``; one state."""

    _gates = 3

    def __init__(self, hidden_size: int, i2h_weight_initializer: Any = None,
                 h2h_weight_initializer: Any = None, i2h_bias_initializer: Any = "zeros",
                 h2h_bias_initializer: Any = "zeros", input_size: int = 0,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 dtype: Any = "float32", **kwargs: Any) -> None:
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, dtype,
                         **kwargs)
        self._activation = activation
        self._recurrent_activation = recurrent_activation

    def forward(self, inputs: Any, states: Any) -> Any:
        i2h, h2h, states = self._projections(inputs, states)
        i_r, i_z, i_n = np.split(i2h, 3, axis=-1)
        h_r, h_z, h_n = np.split(h2h, 3, axis=-1)
        rec = self._recurrent_activation
        reset_gate = _activate(i_r + h_r, rec)
        update_gate = _activate(i_z + h_z, rec)
        candidate = _activate(i_n + reset_gate * h_n, self._activation)
        next_h = (1 - update_gate) * candidate + update_gate * states[0]
        return next_h, [next_h]


# -- containers ---------------------------------------------------------------------------------

class _SequentialCellMixin:
    """Stacked cells: each one's output is the next one's input; states are concatenated."""

    _children: Any

    def add(self, cell: RecurrentCell) -> None:
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"{type(self).__name__}.add: expected a recurrent cell, got "
                            f"{type(cell).__name__}")
        self.register_child(cell)  # type: ignore[attr-defined]
        self._on_child_change()  # type: ignore[attr-defined]

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        return [i for c in self._children.values() for i in c.state_info(batch_size)]

    def begin_state(self, batch_size: int = 0, func: Any = None, **kwargs: Any) -> list[Any]:
        return [s for c in self._children.values()
                for s in c.begin_state(batch_size, func, **kwargs)]

    def forward(self, inputs: Any, states: Any) -> Any:
        states = list(states)
        p = 0
        next_states: list[Any] = []
        for cell in self._children.values():
            n = len(cell.state_info())
            inputs, st = cell(inputs, states[p:p + n])
            p += n
            next_states.extend(st)
        return inputs, next_states

    def unroll(self, length: int, inputs: Any, begin_state: Any = None, layout: str = "NTC",
               merge_outputs: bool | None = None, valid_length: Any = None) -> tuple[Any, Any]:
        self.reset()  # type: ignore[attr-defined]
        _, _, batch = _format_sequence(length, inputs, layout, None)
        states = _begin_for(self, begin_state, inputs, batch)  # type: ignore[arg-type]
        cells = list(self._children.values())
        p = 0
        next_states: list[Any] = []
        for i, cell in enumerate(cells):
            n = len(cell.state_info())
            inputs, st = cell.unroll(length, inputs, states[p:p + n], layout,
                                     merge_outputs if i == len(cells) - 1 else None,
                                     valid_length)
            p += n
            next_states.extend(st)
        return inputs, next_states

    def __getitem__(self, i: int) -> Any:
        return list(self._children.values())[i]

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._children.values()))


class SequentialRNNCell(_SequentialCellMixin, RecurrentCell):
    """Stacks recurrent cells (``add``)."""


class HybridSequentialRNNCell(_SequentialCellMixin, HybridRecurrentCell):
    """Stacks hybridizable recurrent cells; hybridizing traces one step of the whole stack."""


class BidirectionalCell(HybridRecurrentCell):
    """Runs ``l_cell`` forward and ``r_cell`` backward in time and concatenates their outputs
    on the feature axis. It can only be unrolled (a single step has no 'backward')."""

    def __init__(self, l_cell: RecurrentCell, r_cell: RecurrentCell,
                 output_prefix: str = "bi_") -> None:
        super().__init__()
        self.l_cell = l_cell
        self.r_cell = r_cell
        self._output_prefix = output_prefix

    def forward(self, inputs: Any, states: Any) -> Any:
        raise NotImplementedError("BidirectionalCell cannot be stepped; use unroll")

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        return self.l_cell.state_info(batch_size) + self.r_cell.state_info(batch_size)

    def begin_state(self, batch_size: int = 0, func: Any = None, **kwargs: Any) -> list[Any]:
        return (self.l_cell.begin_state(batch_size, func, **kwargs)
                + self.r_cell.begin_state(batch_size, func, **kwargs))

    def unroll(self, length: int, inputs: Any, begin_state: Any = None, layout: str = "NTC",
               merge_outputs: bool | None = None, valid_length: Any = None) -> tuple[Any, Any]:
        self.reset()
        steps, axis, batch = _format_sequence(length, inputs, layout, False)
        states = _begin_for(self, begin_state, steps, batch)
        n_l = len(self.l_cell.state_info(batch))
        l_out, l_states = self.l_cell.unroll(length, steps, states[:n_l], layout, False,
                                             valid_length)
        r_out, r_states = self.r_cell.unroll(length, _reverse_steps(steps, valid_length),
                                             states[n_l:], layout, False, valid_length)
        r_out = _reverse_steps(r_out, valid_length)
        outputs = [np.concatenate([a, b], axis=-1) for a, b in zip(l_out, r_out)]
        if valid_length is not None:
            outputs = _mask_steps(outputs, length, valid_length, axis, False)
        if merge_outputs is None:
            merge_outputs = isinstance(inputs, ndarray)
        outputs, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        return outputs, l_states + r_states


# -- modifiers ----------------------------------------------------------------------------------

class DropoutCell(HybridRecurrentCell):
    """Applies dropout (``rate``, shared along ``axes``) to its input; no state."""

    def __init__(self, rate: float, axes: Any = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"DropoutCell: rate must be in [0, 1), got {rate!r}")
        self._rate = float(rate)
        self._axes = axes

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        return []

    def forward(self, inputs: Any, states: Any) -> Any:
        if self._rate > 0:
            inputs = npx.dropout(inputs, p=self._rate, axes=self._axes)
        return inputs, list(states)

    def unroll(self, length: int, inputs: Any, begin_state: Any = None, layout: str = "NTC",
               merge_outputs: bool | None = None, valid_length: Any = None) -> tuple[Any, Any]:
        self.reset()
        merged, _, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if isinstance(merged, ndarray):  # the whole sequence at once
            return self(merged, list(begin_state) if begin_state else [])
        return super().unroll(length, inputs, begin_state, layout, merge_outputs, valid_length)

    def __repr__(self) -> str:
        return f"DropoutCell(rate={self._rate}, axes={self._axes})"


class ModifierCell(HybridRecurrentCell):
    """Base class of cells that wrap ``base_cell`` and change its inputs, outputs or states;
    the parameters are the base cell's."""

    def __init__(self, base_cell: RecurrentCell) -> None:
        if getattr(base_cell, "_modified", False):
            raise ValueError(f"Cell {type(base_cell).__name__} is already modified. One cell "
                             "cannot be modified twice")
        super().__init__()
        base_cell._modified = True
        self.base_cell = base_cell

    def state_info(self, batch_size: int = 0) -> list[dict[str, Any]]:
        return self.base_cell.state_info(batch_size)

    def begin_state(self, batch_size: int = 0, func: Any = None, **kwargs: Any) -> list[Any]:
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(batch_size, func, **kwargs)
        finally:
            self.base_cell._modified = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_cell!r})"


class _StatefulModifier(ModifierCell):
    """A modifier that keeps values between calls: it stays imperative under hybridize."""

    def hybridize(self, active: bool = True, **kwargs: Any) -> None:
        self.base_cell.hybridize(active, **kwargs)


class ZoneoutCell(_StatefulModifier):
    """Zoneout (Krueger et al., 2016): in training, each output and state unit keeps its
    previous value with probability ``zoneout_outputs`` / ``zoneout_states``."""

    def __init__(self, base_cell: RecurrentCell, zoneout_outputs: float = 0.0,
                 zoneout_states: float = 0.0) -> None:
        if isinstance(base_cell, BidirectionalCell):
            raise TypeError("ZoneoutCell cannot wrap a BidirectionalCell; wrap each of its "
                            "cells instead")
        for arg, p in (("zoneout_outputs", zoneout_outputs), ("zoneout_states", zoneout_states)):
            if not 0.0 <= float(p) < 1.0:
                raise ValueError(f"ZoneoutCell: {arg} must be in [0, 1), got {p!r}")
        super().__init__(base_cell)  # reset() sets _prev_output
        self.zoneout_outputs = float(zoneout_outputs)
        self.zoneout_states = float(zoneout_states)

    def reset(self) -> None:
        super().reset()
        self._prev_output = None

    def forward(self, inputs: Any, states: Any) -> Any:
        next_output, next_states = self.base_cell(inputs, states)

        def keep_new(p: float, like: Any) -> Any:  # nonzero where the new value is kept
            return npx.dropout(np.ones(like.shape, dtype=like.dtype, device=like.device), p=p)

        prev = self._prev_output
        if prev is None:
            prev = np.zeros(next_output.shape, dtype=next_output.dtype,
                            device=next_output.device)
        output = next_output
        if self.zoneout_outputs:
            output = np.where(keep_new(self.zoneout_outputs, next_output), next_output, prev)
        if self.zoneout_states:
            next_states = [np.where(keep_new(self.zoneout_states, new), new, old)
                           for new, old in zip(next_states, states)]
        self._prev_output = output
        return output, list(next_states)


class ResidualCell(ModifierCell):
    """Adds the input to the base cell's output (He et al., 2016); shapes must agree."""

    def forward(self, inputs: Any, states: Any) -> Any:
        output, states = self.base_cell(inputs, states)
        return output + inputs, states

    def unroll(self, length: int, inputs: Any, begin_state: Any = None, layout: str = "NTC",
               merge_outputs: bool | None = None, valid_length: Any = None) -> tuple[Any, Any]:
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs, begin_state, layout,
                                                    merge_outputs, valid_length)
        finally:
            self.base_cell._modified = True
        merge = isinstance(outputs, ndarray)
        ins, axis, _ = _format_sequence(length, inputs, layout, merge)
        if valid_length is not None:
            ins = _mask_steps(ins, length, valid_length, axis, merge)
        if merge:
            return outputs + ins, states
        return [o + i for o, i in zip(outputs, ins)], states


class VariationalDropoutCell(_StatefulModifier):
    """Variational dropout (Gal and Ghahramani, 2016): one dropout mask per sequence (drawn
    at the first step after ``reset``) for the inputs, the first state and the outputs."""

    def __init__(self, base_cell: RecurrentCell, drop_inputs: float = 0.0,
                 drop_states: float = 0.0, drop_outputs: float = 0.0) -> None:
        if isinstance(base_cell, BidirectionalCell):
            raise TypeError("VariationalDropoutCell cannot wrap a BidirectionalCell; wrap each "
                            "of its cells instead")
        for arg, p in (("drop_inputs", drop_inputs), ("drop_states", drop_states),
                       ("drop_outputs", drop_outputs)):
            if not 0.0 <= float(p) < 1.0:
                raise ValueError(f"VariationalDropoutCell: {arg} must be in [0, 1), got {p!r}")
        super().__init__(base_cell)  # reset() sets the masks
        self.drop_inputs = float(drop_inputs)
        self.drop_states = float(drop_states)
        self.drop_outputs = float(drop_outputs)

    def reset(self) -> None:
        super().reset()
        self.drop_inputs_mask = None
        self.drop_states_mask = None
        self.drop_outputs_mask = None

    @staticmethod
    def _mask(p: float, like: Any) -> Any:
        return npx.dropout(np.ones(like.shape, dtype=like.dtype, device=like.device), p=p)

    def forward(self, inputs: Any, states: Any) -> Any:
        states = list(states)
        if self.drop_states:
            if self.drop_states_mask is None:
                self.drop_states_mask = self._mask(self.drop_states, states[0])
            states[0] = states[0] * self.drop_states_mask  # h is always the first state
        if self.drop_inputs:
            if self.drop_inputs_mask is None:
                self.drop_inputs_mask = self._mask(self.drop_inputs, inputs)
            inputs = inputs * self.drop_inputs_mask
        output, next_states = self.base_cell(inputs, states)
        if self.drop_outputs:
            if self.drop_outputs_mask is None:
                self.drop_outputs_mask = self._mask(self.drop_outputs, output)
            output = output * self.drop_outputs_mask
        return output, next_states

    def __repr__(self) -> str:
        return (f"VariationalDropoutCell(base_cell={self.base_cell!r}, "
                f"drop_inputs={self.drop_inputs}, drop_states={self.drop_states}, "
                f"drop_outputs={self.drop_outputs})")
