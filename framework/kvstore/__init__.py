"""Key-value stores for data-parallel training (MXNet's ``mx.kvstore``, also ``mx.kv``).

``kv.create(name)`` gives:

- ``'local'``: values pushed from several devices are summed on the CPU;
- ``'device'``: summed on the device of the first value (the Trainer's default for several
  devices in one process);
- ``'dist_sync'`` (also ``'dist_device_sync'``, ``'dist_sync_device'``, ``'dist'``,
  ``'horovod'``): several processes launched with ``mpirun -np N python train.py``; a push sums
  over the local devices and then over all ranks with one MPI ``Allreduce`` (mpi4py, the ``dist``
  extra). There is no parameter server: every rank keeps the full model, like Horovod.
  ``'dist_async'`` is not provided (asynchronous SGD needs a server).

The API is MXNet's: ``init``, ``push``, ``pull``, ``pushpull``, ``broadcast``, ``set_optimizer``
(then ``push`` applies the optimizer to the stored weight, MXNet's ``update_on_kvstore``),
``type``, ``rank``, ``num_workers``, ``is_capable``, ``save_optimizer_states``,
``load_optimizer_states``, and ``KVStoreBase.register`` for plug-ins.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy

from ..device import Device, cpu
from ..nd._base import BaseArray
from ..nd._create import array as _array
from ..nd._io import atomic_write
from ..optimizer.updater import Updater, get_updater

__all__ = ["KVStoreBase", "KVStore", "DistKVStore", "create"]

_DIST_NAMES = ("dist_sync", "dist_device_sync", "dist_sync_device", "dist", "horovod")


class KVStoreBase:
    """Base class of key-value stores; ``KVStoreBase.register`` adds a new type by class name."""

    _registry: dict[str, type] = {}

    @staticmethod
    def register(klass: type) -> type:
        """Class decorator: ``kv.create('<classname lower-cased>')`` then builds it."""
        name = klass.__name__.lower()
        if name in KVStoreBase._registry:
            raise ValueError(f"KVStoreBase.register: a kvstore named {name!r} already exists")
        KVStoreBase._registry[name] = klass
        return klass

    @property
    def type(self) -> str:
        raise NotImplementedError

    @property
    def rank(self) -> int:
        return 0

    @property
    def num_workers(self) -> int:
        return 1


Key = int | str
Values = BaseArray | Sequence[BaseArray]


def _as_pairs(key: Key | Sequence[Key], value: Any, what: str) -> list[tuple[Key, list[Any]]]:
    """Normalise (key, value) and (keys, values) calls into [(key, [array, ...]), ...]."""
    if isinstance(key, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(key):
            raise ValueError(f"kvstore.{what}: with a list of {len(key)} keys, the values must "
                             f"be a list of the same length, got {type(value).__name__}")
        return [(k, _as_list(v, what, k)) for k, v in zip(key, value)]
    return [(key, _as_list(value, what, key))]


def _as_list(value: Any, what: str, key: Key) -> list[Any]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"kvstore.{what}: no value given for key {key!r}")
    for v in values:
        if not isinstance(v, BaseArray):
            raise TypeError(f"kvstore.{what}: the value for key {key!r} must be an array or a "
                            f"list of arrays, got {type(v).__name__}")
    return values


@KVStoreBase.register
class KVStore(KVStoreBase):
    """The single-process store (``'local'`` or ``'device'``)."""

    def __init__(self, name: str = "local") -> None:
        self._name = name
        self._store: dict[Key, BaseArray] = {}
        self._updater: Updater | None = None

    # -- properties -----------------------------------------------------------------------------
    @property
    def type(self) -> str:
        return self._name

    def is_capable(self, capability: str) -> bool:
        """``'optimizer'``: the store can apply an optimizer on push (always true here)."""
        return capability.lower() == "optimizer"

    # -- reduction (overridden by the distributed store) ---------------------------------------
    def _reduce_device(self, values: list[BaseArray]) -> Device:
        return cpu() if self._name == "local" else values[0].device

    def _reduce(self, key: Key, values: list[BaseArray]) -> BaseArray:
        target = self._reduce_device(values)
        shape = values[0].shape
        for v in values[1:]:
            if v.shape != shape:
                raise ValueError(f"kvstore.push: the values for key {key!r} differ in shape: "
                                 f"{shape} and {v.shape}")
        total = values[0].as_in_context(target).copy()
        for v in values[1:]:
            total += v.as_in_context(target)
        return total

    # -- API ----------------------------------------------------------------------------------
    def init(self, key: Key | Sequence[Key], value: Any) -> None:
        """Store the initial value of each key (the first array when a list is given)."""
        for k, values in _as_pairs(key, value, "init"):
            if k in self._store:
                raise ValueError(f"kvstore.init: key {k!r} is already initialized")
            self._store[k] = self._initial(values[0])

    def _initial(self, value: BaseArray) -> BaseArray:
        return value.copy()

    def push(self, key: Key | Sequence[Key], value: Any, priority: int = 0) -> None:
        """Sum the pushed values (over devices; over ranks for ``dist``); with an optimizer set,
        update the stored weight with the sum as its gradient, else store the sum."""
        for k, values in _as_pairs(key, value, "push"):
            stored = self._get(k, "push")
            merged = self._reduce(k, values)
            if merged.shape != stored.shape:
                raise ValueError(f"kvstore.push: key {k!r} holds shape {stored.shape} but the "
                                 f"pushed value has shape {merged.shape}")
            if self._updater is not None:
                self._updater(k, merged.as_in_context(stored.device), stored)
            else:
                self._store[k] = merged.as_in_context(stored.device)

    def pull(self, key: Key | Sequence[Key], out: Any = None, priority: int = 0,
             ignore_sparse: bool = True) -> None:
        """Copy the stored value of each key into every array of ``out``."""
        if out is None:
            raise ValueError("kvstore.pull: out= is required (the arrays to copy into)")
        for k, outs in _as_pairs(key, out, "pull"):
            stored = self._get(k, "pull")
            for o in outs:
                if o.shape != stored.shape:
                    raise ValueError(f"kvstore.pull: key {k!r} holds shape {stored.shape} but "
                                     f"out has shape {o.shape}")
                o[...] = stored if o.device == stored.device else stored.as_in_context(o.device)

    def pushpull(self, key: Key | Sequence[Key], value: Any, out: Any = None,
                 priority: int = 0) -> None:
        """``push`` then ``pull``; without ``out`` the result is written back into ``value``."""
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key: Key | Sequence[Key], value: Any, out: Any,
                  priority: int = 0) -> None:
        """``init`` with ``value`` (rank 0's, for ``dist``) then ``pull`` into ``out``."""
        self.init(key, value)
        self.pull(key, out, priority)

    def _get(self, key: Key, what: str) -> BaseArray:
        try:
            return self._store[key]
        except KeyError:
            raise KeyError(f"kvstore.{what}: key {key!r} has not been initialized "
                           "(call init first)") from None

    # -- optimizer on the store ---------------------------------------------------------------
    def set_optimizer(self, optimizer: Any) -> None:
        """From now on ``push`` applies ``optimizer`` to the stored weights (through an
        :class:`~framework.optimizer.Updater`, one state per key)."""
        self._updater = get_updater(optimizer)

    def save_optimizer_states(self, fname: str, dump_optimizer: bool = False) -> None:
        """Write the optimizer states (pickled; with the optimizer when ``dump_optimizer``)."""
        if self._updater is None:
            raise RuntimeError("kvstore.save_optimizer_states: no optimizer was set")
        payload = self._updater.get_states(dump_optimizer)
        atomic_write(os.fspath(fname), lambda f: f.write(payload))

    def load_optimizer_states(self, fname: str) -> None:
        if self._updater is None:
            raise RuntimeError("kvstore.load_optimizer_states: set an optimizer first")
        with open(fname, "rb") as f:
            payload = f.read()
        try:
            self._updater.set_states(payload)
        except Exception as exc:
            raise ValueError(f"load_optimizer_states: {fname!r} is not a kvstore states file "
                             f"({exc})") from exc


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            "kvstore 'dist_sync' needs mpi4py and an MPI library: pip install "
            "'framework[dist]' (mpi4py + Open MPI), then launch the script with "
            "'mpirun -np N python train.py'") from exc
    return MPI


@KVStoreBase.register
class DistKVStore(KVStore):
    """Synchronous data parallelism over MPI: every push is summed over all ranks.

    Launch with ``mpirun -np N python train.py``. ``init``/``broadcast`` take rank 0's value, so
    every rank starts from the same weights.
    """

    def __init__(self, name: str = "dist_sync", comm: Any = None) -> None:
        super().__init__(name)
        mpi = _mpi()
        self._MPI = mpi
        self._comm = comm if comm is not None else mpi.COMM_WORLD

    @property
    def rank(self) -> int:
        return int(self._comm.Get_rank())

    @property
    def num_workers(self) -> int:
        return int(self._comm.Get_size())

    def _initial(self, value: BaseArray) -> BaseArray:
        host = numpy.ascontiguousarray(value.asnumpy())
        self._comm.Bcast(host, root=0)
        return _array(host, dtype=host.dtype, device=value.device)

    def _reduce(self, key: Key, values: list[BaseArray]) -> BaseArray:
        local = super()._reduce(key, values)
        return self.allreduce_arrays([local])[0]

    def allreduce_arrays(self, arrays: list[BaseArray], average: bool = False) -> list[BaseArray]:
        """Sum (or average) each array over all ranks with ONE ``Allreduce`` of a flat buffer.

        Returns new arrays on the same devices; the inputs are left untouched.
        """
        if not arrays:
            return []
        dtype = numpy.result_type(*[a.dtype for a in arrays])
        hosts = [numpy.asarray(a.asnumpy(), dtype=dtype).ravel() for a in arrays]
        flat = numpy.concatenate(hosts) if len(hosts) > 1 else hosts[0].copy()
        self._comm.Allreduce(self._MPI.IN_PLACE, flat, op=self._MPI.SUM)
        if average:
            flat /= self.num_workers
        out, start = [], 0
        for a in arrays:
            part = flat[start:start + a.size].reshape(a.shape).astype(a.dtype, copy=False)
            start += a.size
            out.append(_array(part, dtype=a.dtype, device=a.device))
        return out

    def broadcast_arrays(self, arrays: list[BaseArray], root: int = 0) -> None:
        """Overwrite each array, in place, with rank ``root``'s value."""
        for a in arrays:
            host = numpy.ascontiguousarray(a.asnumpy())
            self._comm.Bcast(host, root=root)
            a[...] = _array(host, dtype=host.dtype, device=a.device)

    def barrier(self) -> None:
        self._comm.Barrier()


def create(name: str = "local") -> KVStoreBase:
    """A new store: ``'local'``, ``'device'``, ``'dist_sync'`` (MPI) or a registered plug-in."""
    if not isinstance(name, str):
        raise TypeError(f"kv.create: name must be a string, got {type(name).__name__}")
    key = name.lower()
    if key in ("local", "device", "local_update_cpu", "local_allreduce_cpu",
               "local_allreduce_device", "nccl"):
        return KVStore("device" if key in ("device", "local_allreduce_device", "nccl")
                       else "local")
    if key in _DIST_NAMES:
        return DistKVStore(key)
    if key == "dist_async":
        raise NotImplementedError(
            "kv.create('dist_async'): asynchronous SGD needs a parameter server, which this "
            "framework does not have; use 'dist_sync' (MPI allreduce)")
    if key in KVStoreBase._registry and key not in ("kvstore", "distkvstore"):
        return KVStoreBase._registry[key]()
    known = ["local", "device", *_DIST_NAMES, *sorted(set(KVStoreBase._registry)
                                                      - {"kvstore", "distkvstore"})]
    raise ValueError(f"kv.create: unknown kvstore type {name!r}; expected one of {known}")


def is_distributed(name: Any) -> bool:
    """Whether a Trainer ``kvstore=`` argument asks for multi-process training."""
    if isinstance(name, DistKVStore):
        return True
    return isinstance(name, str) and name.lower() in _DIST_NAMES
