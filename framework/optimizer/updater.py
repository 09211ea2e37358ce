"""``Updater``: the closure a key-value store calls to apply an optimizer (``get_updater``).

It creates each index's state on first use (``create_state_multi_precision``), then calls
``update_multi_precision``. ``get_states``/``set_states`` pickle the states (and optionally the
optimizer itself); states loaded from a file are moved to the weight's device on first use.
"""

from __future__ import annotations

import pickle
from typing import Any

from ..nd._base import BaseArray
from ..nd._create import to_device
from .optimizer import Optimizer

__all__ = ["Updater", "get_updater"]


class Updater:
    """Applies ``optimizer`` to ``(index, grad, weight)`` triples, keeping one state per index."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Updater needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.states: dict[Any, Any] = {}
        self.states_synced: dict[Any, bool] = {}
        self.aggregate_updates = optimizer.aggregate_num > 1

    def __call__(self, index: Any, grad: Any, weight: Any) -> None:
        """Update ``weight`` (or each weight of a list) with ``grad``."""
        if isinstance(index, (list, tuple)):
            indices, grads, weights = list(index), list(grad), list(weight)
        else:
            indices, grads, weights = [index], [grad], [weight]
        if not len(indices) == len(grads) == len(weights):
            raise ValueError(f"Updater: got {len(indices)} indices, {len(grads)} gradients and "
                             f"{len(weights)} weights")
        if weights:
            self.optimizer._set_current_device(weights[0].device.device_id)
        for i, idx in enumerate(indices):
            if isinstance(idx, bytes):
                idx = indices[i] = idx.decode()
            if idx not in self.states:
                self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
            elif not self.states_synced.get(idx, False):
                self.states[idx] = self.sync_state_context(self.states[idx], weights[i].device)
                self.states_synced[idx] = True
        for idx, w, g in zip(indices, weights, grads):
            self.optimizer.update_multi_precision(idx, w, g, self.states[idx])

    def sync_state_context(self, state: Any, device: Any) -> Any:
        """``state`` (arrays, possibly nested in tuples/lists) moved to ``device``."""
        return state_to_device(state, device)

    def set_states(self, states: bytes) -> None:
        """Load states saved by :meth:`get_states` (with or without the optimizer)."""
        loaded = pickle.loads(states)
        if isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[1], Optimizer):
            self.states, self.optimizer = loaded
        else:
            self.states = loaded
        self.states_synced = dict.fromkeys(self.states.keys(), False)

    def get_states(self, dump_optimizer: bool = False) -> bytes:
        """The pickled states; with ``dump_optimizer`` the optimizer (its learning rate, update
        counts and schedule) is saved too."""
        return pickle.dumps((self.states, self.optimizer) if dump_optimizer else self.states)


def _on_device(state: Any, device: Any) -> bool:
    """Whether ``state`` (an array, or a tuple of arrays and Nones, possibly nested: the
    built-in optimizers' states) is already on ``device``; False for anything else."""
    dev = getattr(state, "_device", None)
    if dev is not None:
        return dev is device or dev == device  # type: ignore[no-any-return]
    if state.__class__ is tuple:
        for s in state:
            if s is not None and not _on_device(s, device):
                return False
        return True
    return False


def state_to_device(state: Any, device: Any) -> Any:
    """An optimizer state (arrays, possibly nested in tuples/lists) on ``device``; arrays
    already there are returned as they are, and a state wholly there is returned itself (the
    check every step makes, cheaper than rebuilding its tuple)."""
    if _on_device(state, device):
        return state
    if isinstance(state, BaseArray):
        return state if state._device == device else to_device(state, device)
    if isinstance(state, (tuple, list)):
        return type(state)(state_to_device(s, device) for s in state)
    return state


def get_updater(optimizer: Optimizer) -> Updater:
    """An :class:`Updater` for ``optimizer``."""
    return Updater(optimizer)
