"""The ``Optimizer`` base class, the registry (``register``/``create``) and the ``Test`` optimizer.

Semantics follow MXNet 2.0 (``mxnet.optimizer.Optimizer``):

* ``update(indices, weights, grads, states)`` takes single items or lists. For each parameter it
  bumps the update count, reads the learning rate (from the scheduler when there is one, times
  ``lr_mult``) and the weight decay (times ``wd_mult``), and issues the update.
* ``lr_mult``/``wd_mult`` come from ``param_dict`` (gluon Parameters, by index), then from
  :meth:`set_lr_mult`/:meth:`set_wd_mult` (by index or by name through ``param_idx2name``).
  Unlike MXNet 1.x there is no implicit ``wd_mult = 0`` for names not ending in ``_weight``.
* ``multi_precision=True`` keeps a float32 master copy of each float16 weight in its state
  (``(master, inner_state)``); the update runs in float32 and is cast back into the weight.
* ``clip_gradient`` None or 0 disables clipping.

Every built-in optimizer issues the update of one parameter as a single asynchronous engine task
that works in place on the buffers (see :mod:`.kernels`); the learning rate, weight decay and step
count are read when the update is issued. ``update`` with a list of parameters collects those
tasks (``kernels.batched``) and pushes one task per device that runs them in order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ..nd import _create
from ..nd._base import BaseArray
from ..nd._tape import check_write
from . import kernels as _k

__all__ = ["Optimizer", "Test", "create", "register", "registered"]

_F16 = numpy.dtype(numpy.float16)
_F32 = numpy.dtype(numpy.float32)


#: optimizer class -> whether :meth:`Optimizer._batchable` (fixed per class)
_BATCHABLE: dict[type, bool] = {}


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Optimizer:
    """Base class of optimizers.

    Parameters
    ----------
    rescale_grad : multiply gradients by this before updating (``Trainer`` sets 1/batch_size).
    param_idx2name : ``{index: name}``, used by the name-keyed ``lr_mult``/``wd_mult``.
    wd : weight decay (L2) coefficient.
    clip_gradient : clip the rescaled gradient into ``[-clip_gradient, clip_gradient]``.
    learning_rate : initial learning rate; overrides ``lr_scheduler.base_lr`` (with a warning)
        when both are given; 0.01 when neither is.
    lr_scheduler : a :class:`~framework.lr_scheduler.LRScheduler`.
    begin_num_update : the update count to start from.
    multi_precision : keep float32 master copies of float16 weights.
    param_dict : ``{index: Parameter}``; the parameters' ``lr_mult``/``wd_mult`` take precedence.
    aggregate_num, use_fused_step : accepted for MXNet compatibility (every update is already
        one fused task per parameter, and the built-in optimizers push the updates of a list as
        one task per device).
    """

    opt_registry: dict[str, type[Optimizer]] = {}

    def __init__(self, rescale_grad: float = 1.0, param_idx2name: dict[int, str] | None = None,
                 wd: float = 0.0, clip_gradient: float | None = None,
                 learning_rate: float | None = None, lr_scheduler: Any = None,
                 sym: Any = None, begin_num_update: int = 0, multi_precision: bool = False,
                 param_dict: dict[Any, Any] | None = None, aggregate_num: int | None = None,
                 use_fused_step: bool | None = None, **kwargs: Any) -> None:
        kwargs.pop("allow_np", None)  # 1.x argument, no longer meaningful
        if kwargs:
            names = ", ".join(repr(k) for k in sorted(kwargs))
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {names}")
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError("param_idx2name should be a dict of param indexes to names, got "
                            f"{type(param_idx2name).__name__}")
        if lr_scheduler is not None and not callable(lr_scheduler):
            raise TypeError(f"lr_scheduler must be an LRScheduler, got "
                            f"{type(lr_scheduler).__name__}")
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None:
            if lr_scheduler.base_lr != learning_rate:
                warnings.warn("learning rate from ``lr_scheduler`` has been overwritten by "
                              "``learning_rate`` in optimizer.", UserWarning, stacklevel=2)
                reset = getattr(lr_scheduler, "_reset_base_lr", None)
                if reset is not None:
                    reset(learning_rate)
                else:
                    lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult: dict[Any, float] = {}
        self.wd_mult: dict[Any, float] = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts: dict[int, dict[Any, int]] = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 1 if aggregate_num is None else aggregate_num
        self.idx2name = dict(param_idx2name)
        self.sym_info = ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = True
        self.use_fused_step = bool(use_fused_step) if use_fused_step is not None else False
        self.set_lr_mult({})
        self.set_wd_mult({})

    # -- registry ---------------------------------------------------------------------------
    @staticmethod
    def register(klass: type[Optimizer]) -> type[Optimizer]:
        """Register an optimizer class under its lowercased class name (a decorator)."""
        if not isinstance(klass, type) or not issubclass(klass, Optimizer):
            raise TypeError(f"register expects an Optimizer subclass, got {klass!r}")
        name = klass.__name__.lower()
        old = Optimizer.opt_registry.get(name)
        if old is not None and old is not klass:
            warnings.warn(f"WARNING: New optimizer {klass.__module__}.{klass.__name__} is "
                          f"overriding existing optimizer {old.__module__}.{old.__name__}",
                          stacklevel=2)
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name: str, **kwargs: Any) -> Optimizer:
        """An instance of the optimizer registered as ``name`` (case-insensitive)."""
        if not isinstance(name, str):
            raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
        klass = Optimizer.opt_registry.get(name.lower())
        if klass is None:
            known = ", ".join(sorted(Optimizer.opt_registry))
            raise ValueError(f"Cannot find optimizer {name!r}; registered optimizers: {known}")
        return klass(**kwargs)

    # -- learning rate ----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current learning rate (from the scheduler, at ``num_update``, when there is one)."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr: float) -> None:
        """Set the learning rate; raises ``UserWarning`` when a scheduler owns it (as MXNet)."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of "
                              "the optimizer only when the LRScheduler of the optimizer is "
                              "undefined.")
        self.lr = lr

    def set_lr_mult(self, args_lr_mult: dict[Any, float]) -> None:
        """Per-parameter learning-rate multipliers, keyed by index or by name."""
        self.lr_mult = {}
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult: dict[Any, float]) -> None:
        """Per-parameter weight-decay multipliers, keyed by index or by name."""
        self.wd_mult = {}
        self.wd_mult.update(args_wd_mult)

    # -- counts, rates ----------------------------------------------------------------------
    def _set_current_context(self, device_id: int) -> None:
        """Deprecated name of :meth:`_set_current_device`."""
        self._set_current_device(device_id)

    def _set_current_device(self, device_id: int) -> None:
        """Keep separate update counts per device (several devices update the same index)."""
        if device_id not in self._all_index_update_counts:
            self._all_index_update_counts[device_id] = {}
        self._index_update_count = self._all_index_update_counts[device_id]

    def _update_count(self, index: Any) -> None:
        """Count one more update of ``index`` (or of each index in a list)."""
        for idx in _as_list(index):
            if idx not in self._index_update_count:
                self._index_update_count[idx] = self.begin_num_update
            self._index_update_count[idx] += 1
            self.num_update = max(self._index_update_count[idx], self.num_update)

    def _get_lrs(self, indices: Sequence[Any]) -> list[float]:
        """Learning rates of ``indices`` (scheduler or ``lr``, times ``lr_mult``)."""
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        lrs = [lr for _ in indices]
        for i, index in enumerate(indices):
            if index in self.param_dict:
                lrs[i] *= self.param_dict[index].lr_mult
            elif index in self.lr_mult:
                lrs[i] *= self.lr_mult[index]
            elif index in self.idx2name:
                lrs[i] *= self.lr_mult.get(self.idx2name[index], 1.0)
        return lrs

    def _get_lr(self, index: Any) -> float:
        return self._get_lrs([index])[0]

    def _get_wds(self, indices: Sequence[Any]) -> list[float]:
        """Weight decays of ``indices`` (``wd`` times ``wd_mult``)."""
        wds = [self.wd for _ in indices]
        for i, index in enumerate(indices):
            if index in self.param_dict:
                wds[i] *= self.param_dict[index].wd_mult
            elif index in self.wd_mult:
                wds[i] *= self.wd_mult[index]
            elif index in self.idx2name:
                wds[i] *= self.wd_mult.get(self.idx2name[index], 1.0)
        return wds

    def _get_wd(self, index: Any) -> float:
        return self._get_wds([index])[0]

    def _clip(self) -> float | None:
        """``clip_gradient`` as a float, or None when clipping is off (None or 0)."""
        c = self.clip_gradient
        return float(c) if c else None

    # -- states -----------------------------------------------------------------------------
    def create_state(self, index: Any, weight: BaseArray) -> Any:
        """The auxiliary state of one weight (None when the optimizer keeps none)."""
        return None

    def create_state_multi_precision(self, index: Any, weight: BaseArray) -> Any:
        """Like :meth:`create_state`; with ``multi_precision`` and a float16 weight the state is
        ``(float32 master copy, create_state(index, master))``."""
        if self.multi_precision and weight.dtype == _F16:
            master = weight.astype(numpy.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == _F16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or "
                          "slow convergence. Consider using multi_precision=True option of the "
                          "optimizer", stacklevel=2)
        return self.create_state(index, weight)

    @staticmethod
    def _zeros(weight: BaseArray, dtype: Any = None) -> BaseArray:
        return _create.zeros_like(weight, dtype=dtype)

    # -- updates ----------------------------------------------------------------------------
    def update(self, indices: Any, weights: Any, grads: Any, states: Any) -> None:
        """Update one parameter or a list of them (``step``, or ``fused_step`` when
        ``use_fused_step``). States are those of :meth:`create_state_multi_precision`."""
        if not isinstance(indices, (list, tuple)):
            indices, weights, grads, states = [indices], [weights], [grads], [states]
        else:
            indices, weights, grads, states = (list(indices), _as_list(weights),
                                               _as_list(grads), _as_list(states))
        if not len(indices) == len(weights) == len(grads) == len(states):
            raise ValueError(f"update: got {len(indices)} indices, {len(weights)} weights, "
                             f"{len(grads)} gradients and {len(states)} states")
        for w, g in zip(weights, grads):
            if not isinstance(w, BaseArray) or not isinstance(g, BaseArray):
                raise TypeError(f"update: weights and gradients must be arrays, got "
                                f"{type(w).__name__} and {type(g).__name__}")
        if len(indices) > 1 and self._batchable():
            # multi-tensor apply: the updates of a list go to the engine as one task per device
            with _k.batched():
                if self.use_fused_step:
                    self.fused_step(indices, weights, grads, states)
                else:
                    self.step(indices, weights, grads, states)
        elif self.use_fused_step:
            self.fused_step(indices, weights, grads, states)
        else:
            self.step(indices, weights, grads, states)

    def _batchable(self) -> bool:
        """Whether the updates of a list can be collected into one task: the built-in
        ``step``/``fused_step`` and a built-in ``_step_one`` (which only issues
        :func:`kernels.launch`; a subclass's own code might issue other ops in between)."""
        cls = type(self)
        known = _BATCHABLE.get(cls)
        if known is None:
            known = _BATCHABLE[cls] = (
                cls.step is Optimizer.step and cls.fused_step is Optimizer.fused_step
                and cls._step_one.__module__.startswith(__name__.rpartition(".")[0] + ".")
                and cls._launch is Optimizer._launch)
        return known

    def update_multi_precision(self, indices: Any, weights: Any, grads: Any,
                               states: Any) -> None:
        """:meth:`update` for states made by :meth:`create_state_multi_precision`."""
        if type(self).step is Optimizer.step and type(self).fused_step is Optimizer.fused_step:
            self.update(indices, weights, grads, states)  # built-in: master copies handled there
            return
        # a subclass with its own ``step``: run it on the master copies, then cast back
        single = not isinstance(indices, (list, tuple))
        if single:
            indices, weights, grads, states = [indices], [weights], [grads], [states]
        ws, gs, ss = [], [], []
        for w, g, s in zip(weights, grads, states):
            if self.multi_precision and w.dtype == _F16:
                ws.append(s[0])
                gs.append(g.astype(numpy.float32))
                ss.append(s[1])
            else:
                ws.append(w)
                gs.append(g)
                ss.append(s)
        self.update(indices, ws, gs, ss)
        for w, m in zip(weights, ws):
            if m is not w:
                w[...] = m.astype(w.dtype)

    def step(self, indices: list[Any], weights: list[BaseArray], grads: list[BaseArray],
             states: list[Any]) -> None:
        """One optimization step of each listed parameter."""
        cls = type(self)
        if self.lr_scheduler is None and len(indices) > 1 and cls._update_count is \
                Optimizer._update_count and cls._get_lr is Optimizer._get_lr and \
                cls._get_wd is Optimizer._get_wd and len(set(indices)) == len(indices):
            # the rates depend on no count here: the same values as one index at a time
            self._update_count(indices)
            lrs, wds = self._get_lrs(indices), self._get_wds(indices)
            if not (self.multi_precision and any(w._dtype == _F16 for w in weights)):
                for w in weights:
                    check_write(w)
                if self._step_many(indices, weights, grads, states, lrs, wds):
                    return
        else:
            lrs = wds = None
        for k, (index, weight, grad, state) in enumerate(zip(indices, weights, grads, states)):
            if lrs is None or wds is None:
                self._update_count(index)
                lr, wd = self._get_lr(index), self._get_wd(index)
            else:
                lr, wd = lrs[k], wds[k]
            t = self._index_update_count[index]
            master = None
            if self.multi_precision and weight.dtype == _F16:
                if not (isinstance(state, (tuple, list)) and len(state) == 2
                        and isinstance(state[0], BaseArray) and state[0].dtype == _F32):
                    raise ValueError(f"{type(self).__name__}: multi_precision needs the state "
                                     "made by create_state_multi_precision for float16 weights")
                master, state = state
            check_write(weight)
            self._step_one(index, weight, grad, state, float(lr), float(wd), t, master)

    def fused_step(self, indices: list[Any], weights: list[BaseArray], grads: list[BaseArray],
                   states: list[Any]) -> None:
        """Same as :meth:`step` (every update is already one fused task)."""
        Optimizer.step(self, indices, weights, grads, states)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        """Issue the update of one parameter (``master``: its float32 copy, or None)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement an update")

    def _step_many(self, indices: list[Any], weights: list[BaseArray], grads: list[BaseArray],
                   states: list[Any], lrs: list[float], wds: list[float]) -> bool:
        """Issue the updates of a whole list at once, with the rates already computed (no
        float16 master copies); False (the default) leaves them to :meth:`_step_one`, one at a
        time. An optimizer can issue them as one multi-tensor task here
        (:func:`kernels.launch_many`); the update counts are already incremented."""
        return False

    def _inherits_update(self, cls: type) -> bool:
        """Whether this optimizer updates as ``cls`` does (no subclass overrides its
        ``_step_one`` or the launch): then ``cls._step_many`` issues the same kernels."""
        own = type(self)
        return (own._step_one is cls._step_one  # type: ignore[attr-defined]
                and own._launch is Optimizer._launch)

    def _launch(self, name: str, weight: BaseArray, grad: BaseArray,
                states: Sequence[BaseArray | None], kernel: Callable[..., None],
                master: BaseArray | None, extra_mutated: Sequence[BaseArray] = ()) -> None:
        """Run ``kernel(xp, w, g, *states)`` as one in-place engine task."""
        _k.launch(name, weight, grad, states, kernel, master=master,
                  extra_mutated=extra_mutated)

    # -- pickling -----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        ret = self.__dict__.copy()
        ret.pop("param_dict", None)  # parameters are re-attached by the trainer
        return ret

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__ = state
        self.param_dict = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.lr}, wd={self.wd})"


register = Optimizer.register
create = Optimizer.create_optimizer


def registered() -> list[str]:
    """Names of the registered optimizers."""
    return sorted(Optimizer.opt_registry)


@register
class Test(Optimizer):
    """The test optimizer: ``w -= lr * (rescale_grad * g + wd * w)``; its state is zeros."""

    def create_state(self, index: Any, weight: BaseArray) -> BaseArray:
        return self._zeros(weight)

    def _step_one(self, index: Any, weight: BaseArray, grad: BaseArray, state: Any, lr: float,
                  wd: float, t: int, master: BaseArray | None) -> None:
        rs = float(self.rescale_grad)

        def kernel(xp: Any, w: Any, g: Any) -> None:
            _k.k_sgd(xp, w, g, None, lr, wd, rs, None, 0.0)

        self._launch("test_update", weight, grad, [], kernel, master)
