"""``gluon.Trainer``: applies an optimizer to a set of parameters (API.md §1.15, §2 item 21).

``step(batch_size)`` sets the optimizer's ``rescale_grad`` to ``scale / batch_size`` (the loss's
backward sums per-sample gradients, so this gives a mean-gradient step), reduces gradients across
devices when a parameter lives on several, and updates. Gradients are never zeroed here:
``grad_req='write'`` overwrites them on the next backward. A trainable parameter whose gradient
was not produced by a backward since the last step is an error (MXNet raises ``UserWarning`` as
an exception) unless ``ignore_stale_grad=True``.

Several processes (``kvstore='dist_sync'``, launched with ``mpirun -np N``): every rank starts
from rank 0's weights, and after the local reduction the gradients are AVERAGED over the ranks
with one MPI allreduce per step, so ``step(per_rank_batch_size)`` makes exactly the update that
one process would make on the concatenation of all ranks' batches (Horovod's rule; MXNet's
parameter server summed instead, which made the learning rate depend on the number of workers).
"""

from __future__ import annotations

import os
import pickle
from collections import deque
from collections.abc import Iterable
from typing import Any

from .. import _config
from .. import engine as _engine
from .. import kvstore as _kv
from .. import optimizer as _opt
from ..autograd import pause
from ..nd._create import array as _array
from ..nd._io import atomic_write
from ..optimizer.updater import state_to_device
from .parameter import Parameter

__all__ = ["Trainer"]


class Trainer:
    """Applies an ``Optimizer`` to parameters.

    ``params``: a dict (e.g. ``net.collect_params()``), a ParameterDict or a list of Parameters.
    ``optimizer``: a registered name (``'sgd'``, ``'adam'``...) or an ``Optimizer`` instance.
    """

    def __init__(self, params: Any, optimizer: Any, optimizer_params: dict[str, Any] | None = None,
                 kvstore: Any = "device", compression_params: Any = None,
                 update_on_kvstore: bool | None = None) -> None:
        if isinstance(params, dict):
            items = list(params.items())
        elif isinstance(params, (list, tuple)):
            items = [(getattr(p, "name", str(i)), p) for i, p in enumerate(params)]
        else:
            raise ValueError(f"Trainer: params must be a dict, ParameterDict or list of "
                             f"Parameters, got {type(params).__name__}")
        self._params: list[Parameter] = []
        self._names: list[str] = []
        seen: set[int] = set()
        for name, p in items:
            if not isinstance(p, Parameter):
                raise ValueError(f"Trainer: {name!r} is a {type(p).__name__}, not a Parameter")
            if id(p) in seen:
                continue
            seen.add(id(p))
            self._params.append(p)
            self._names.append(name)
        if compression_params is not None:
            raise NotImplementedError("Trainer: gradient compression is not supported")
        self._compression_params = compression_params
        optimizer_params = dict(optimizer_params or {})
        self._scale = float(optimizer_params.get("rescale_grad", 1.0))
        self._kvstore_type = kvstore
        self._kvstore: Any = None
        self._synced: set[int] = set()  # ids of parameters already broadcast from rank 0
        if _kv.is_distributed(kvstore):
            self._kvstore = kvstore if isinstance(kvstore, _kv.DistKVStore) \
                else _kv.create(kvstore)
        self._update_on_kvstore = bool(update_on_kvstore) if update_on_kvstore is not None \
            else False
        self._init_optimizer(optimizer, optimizer_params)
        self._states: dict[int, Any] = {}
        self.steps_ahead = _config.steps_ahead()
        self._marks: deque[Any] = deque()  # engine marks taken at the last steps' ends
        self._sync_params()

    def _init_optimizer(self, optimizer: Any, optimizer_params: dict[str, Any]) -> None:
        param_dict = dict(enumerate(self._params))
        if isinstance(optimizer, _opt.Optimizer):
            if optimizer_params:
                raise ValueError("Trainer: optimizer_params must be None when optimizer is an "
                                 "Optimizer instance (set them on the instance)")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            sched = optimizer_params.get("lr_scheduler")
            if sched is not None and "learning_rate" not in optimizer_params:
                # d2l passes only a scheduler: its base_lr is the rate (MXNet 1.x), not the
                # optimizer's default learning_rate
                optimizer_params["learning_rate"] = sched.base_lr
            self._optimizer = _opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._optimizer.idx2name = dict(enumerate(self._names))

    # -- properties ---------------------------------------------------------------------------
    @property
    def optimizer(self) -> Any:
        return self._optimizer

    @property
    def learning_rate(self) -> float:
        return float(self._optimizer.learning_rate)

    def set_learning_rate(self, lr: float) -> None:
        self._optimizer.set_learning_rate(lr)

    # -- stepping -----------------------------------------------------------------------------
    def step(self, batch_size: float, ignore_stale_grad: bool = False) -> None:
        """One update with gradients rescaled by ``scale / batch_size``."""
        self._optimizer.rescale_grad = self._scale / batch_size
        live = self._check_fresh(ignore_stale_grad)
        self._allreduce(live)
        self._update(ignore_stale_grad, live)
        self._bound_steps()

    def allreduce_grads(self) -> None:
        """Sum each parameter's gradients over its devices (for clipping between the two
        halves of ``step``)."""
        self._allreduce()

    def update(self, batch_size: float, ignore_stale_grad: bool = False) -> None:
        """The update half of ``step`` (after ``allreduce_grads``)."""
        self._optimizer.rescale_grad = self._scale / batch_size
        self._update(ignore_stale_grad, self._check_fresh(ignore_stale_grad))
        self._bound_steps()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_marks"] = deque()  # (marks name this process's engine and its threads)
        return state

    def _bound_steps(self) -> None:
        """Return only once at most ``steps_ahead`` earlier steps are still computing: wait
        for the work issued before the end of the step that many steps back.

        MXNet let the Python thread run any number of steps ahead of the engine. Here, with
        one step ahead (the default), the next step's Python (data, forward, backward calls)
        runs while the engine computes this step, and then waits: the Python thread holds the
        GIL while it runs, so running further ahead only starves the engine's worker of the
        GIL it needs between kernels, and keeps more steps' inputs alive."""
        ahead = self.steps_ahead
        if ahead < 0:
            return
        eng = _engine.get()
        marks = self._marks
        marks.append(eng.mark())
        while len(marks) > ahead:
            eng.wait_mark(marks.popleft())

    def _trainable(self) -> Iterable[tuple[int, Parameter]]:
        return [(i, p) for i, p in enumerate(self._params)
                if p._grad_req != "null" and p._data is not None]

    def _check_fresh(self, ignore_stale_grad: bool) -> list[tuple[int, list[Any]]]:
        """Refuse stale gradients (unless ``ignore_stale_grad``); returns the trainable
        parameters' indices and arrays (one per device)."""
        live = []
        # every device's copy needs a fresh gradient (MXNet checks each one); a parameter whose
        # deferred initialization never happened was not used either
        stale = []
        for i, p in enumerate(self._params):
            if p._grad_req == "null":
                continue
            data = p._data
            if data is None:
                if not ignore_stale_grad:
                    if p._deferred is None:
                        p._check()  # raises: never initialized
                    stale.append(self._names[i])
                continue
            arrays = list(data.values())
            live.append((i, arrays))
            if not ignore_stale_grad:
                for a in arrays:
                    if not getattr(a, "_fresh", False):
                        stale.append(self._names[i])
                        break
        if stale:
            raise UserWarning(
                f"Gradient of Parameter(s) {stale} on context(s) "
                f"{[str(d) for d in self._params[0].list_ctx()]} has not been updated by "
                "backward since last `step`. This could mean a bug in your model that made it "
                "only use a subset of the Parameters (Blocks) for this iteration. If you are "
                "intentionally only using a subset, call step with ignore_stale_grad=True to "
                "suppress this warning and skip updating of Parameters with stale gradient")
        return live

    def _sync_params(self) -> None:
        """Multi-process: give every rank rank 0's initialized weights (once per parameter)."""
        if self._kvstore is None:
            return
        todo = [p for p in self._params if p._data is not None and id(p) not in self._synced]
        if not todo:
            return
        with pause():
            for p in todo:
                datas = p.list_data()
                self._kvstore.broadcast_arrays(datas[:1])
                for c in datas[1:]:
                    c[...] = datas[0].as_in_context(c.device)
                self._synced.add(id(p))

    @property
    def num_workers(self) -> int:
        return 1 if self._kvstore is None else self._kvstore.num_workers

    def _allreduce(self, live: list[tuple[int, list[Any]]] | None = None) -> None:
        """``live``: :meth:`_check_fresh`'s list, when the caller has it."""
        self._sync_params()  # parameters whose deferred initialization happened since
        if live is None or any(len(arrays) > 1 for _i, arrays in live):
            self._allreduce_local()
        if self._kvstore is None:
            return
        params = [p for _, p in self._trainable()]
        with pause():
            firsts = [p.list_grad()[0] for p in params]
            for p, avg in zip(params, self._kvstore.allreduce_arrays(firsts, average=True)):
                for g in p.list_grad():
                    g[...] = avg if g.device == avg.device else avg.as_in_context(g.device)

    def _allreduce_local(self) -> None:
        several = [p for _, p in self._trainable() if len(p._data) > 1]  # type: ignore[arg-type]
        if not several:
            return
        with pause():
            for p in several:
                grads = p.list_grad()
                first = grads[0]
                total = first.copy()
                for g in grads[1:]:
                    total += g.as_in_context(first.device)
                for g in grads:
                    g[...] = total if g.device == total.device else total.as_in_context(g.device)

    def _update(self, ignore_stale_grad: bool, live: list[tuple[int, list[Any]]]) -> None:
        indices, weights, grads, states = [], [], [], []
        others: list[tuple[Any, list[Any]]] = []
        all_states = self._states
        for i, datas in live:
            if ignore_stale_grad and not any(getattr(a, "_fresh", False) for a in datas):
                continue
            w = datas[0]
            state = all_states.get(i, _NO_STATE)
            if state is _NO_STATE:
                state = all_states[i] = self._optimizer.create_state_multi_precision(i, w)
            elif state is not None:  # the parameter may have moved (reset_ctx) since then
                state = all_states[i] = state_to_device(state, w._device)
            indices.append(i)
            weights.append(w)
            grads.append(w._grad)
            states.append(state)
            if len(datas) > 1:
                others.append((w, datas[1:]))
            for a in datas:
                a._fresh = False
        if not indices:
            return
        with pause():
            self._optimizer.update_multi_precision(indices, weights, grads, states)
            # every device keeps an identical copy of the weight
            for w, copies in others:
                for c in copies:
                    c[...] = w.as_in_context(c.device)

    # -- states -------------------------------------------------------------------------------
    def save_states(self, fname: str) -> None:
        """Save the optimizer states (pickled, written atomically)."""
        data = {"states": {i: _to_host(s) for i, s in self._states.items()},
                "num_update": self._optimizer.num_update,
                "index_update_count": dict(self._optimizer._index_update_count)}
        # the optimizer goes in too (as MXNet's dump_optimizer=True): its learning rate,
        # scheduler and update counts are restored by load_states; one that cannot be pickled
        # (a class defined in a function, a lambda schedule) is left out
        try:
            payload = pickle.dumps({**data, "optimizer": self._optimizer})
        except (pickle.PicklingError, TypeError, AttributeError):
            payload = pickle.dumps(data)
        atomic_write(os.fspath(fname), lambda f: f.write(payload))

    def load_states(self, fname: str) -> None:
        with open(fname, "rb") as f:
            try:
                data = pickle.load(f)
            except Exception as exc:
                raise ValueError(f"load_states: {fname!r} is not a Trainer states file "
                                 f"({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("states"), dict) or any(
                not isinstance(i, int) or not 0 <= i < len(self._params) for i in data["states"]):
            raise ValueError(f"load_states: {fname!r} is not a states file written by "
                             "Trainer.save_states for these parameters")
        loaded_opt = data.get("optimizer")
        if isinstance(loaded_opt, _opt.Optimizer):
            loaded_opt.param_dict = dict(enumerate(self._params))
            loaded_opt.idx2name = dict(enumerate(self._names))
            self._optimizer = loaded_opt
        self._states = {}
        for i, s in data["states"].items():
            device = self._params[i].list_ctx()[0] if i < len(self._params) else None
            self._states[int(i)] = _from_host(s, device)
        self._optimizer.num_update = data.get("num_update", 0)
        counts = self._optimizer._index_update_count  # in place: _all_index_update_counts[0]
        counts.clear()
        counts.update(data.get("index_update_count", {}))


_NO_STATE = object()


def _to_host(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, (list, tuple)):
        return type(state)(_to_host(s) for s in state)
    if hasattr(state, "asnumpy"):
        return ("__array__", state.asnumpy())
    return state


def _from_host(state: Any, device: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, tuple) and len(state) == 2 and state[0] == "__array__":
        return _array(state[1], dtype=state[1].dtype, device=device)
    if isinstance(state, (list, tuple)):
        return type(state)(_from_host(s, device) for s in state)
    return state
