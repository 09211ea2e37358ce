"""The DataLoader: mini-batches from a dataset, in the main process, in threads or in worker
processes (``gluon.data.DataLoader``).

Worker processes are forked (datasets need not be picklable). Each worker loads samples, builds
the batch as NumPy data and writes it into an anonymous shared-memory file (``memfd``); the file
descriptor travels to the main process over a Unix socket with a few bytes of metadata, and the
main process maps it and wraps the arrays (on Python < 3.13 after one copy out of the mapping,
since an ``mmap`` object there holds a file descriptor for as long as it lives). Nothing large
is pickled, and nothing is left in ``/dev/shm`` whatever happens to a worker: the memory is
freed when the last descriptor or mapping goes away. Workers never touch the GPU.

The main process waits for a batch on the worker's socket *and* the worker's process sentinel,
so a worker that dies is reported at once, and a worker that takes longer than ``timeout``
seconds raises :class:`DataLoaderTimeoutError`. An exception in a worker is raised again in the
main process (same type when possible) with the worker's traceback in the message. The workers
of an epoch are shut down when the epoch ends, on an error, on ``break`` (when the iterator is
garbage collected) and at interpreter exit.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import multiprocessing.connection
import os
import pickle
import random
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any

import numpy

from ... import engine
from ...base import FrameworkError
from ...device import Device, cpu, cpu_pinned, set_default_device
from ...nd._base import BaseArray
from ...nd._create import from_numpy, to_device
from ...np import random as _np_random
from .batchify import (
    default_batchify_fn,
    default_mp_batchify_fn,
    host_batch,
    host_view,
    is_legacy,
    to_legacy,
)
from .dataset import batch_fields
from .sampler import BatchSampler, RandomSampler, SequentialSampler, check_last_batch

__all__ = [
    "DataLoader", "DataLoaderWorkerError", "DataLoaderTimeoutError", "default_batchify_fn",
    "default_mp_batchify_fn",
]

_ALIGN = 64  # byte alignment of each array inside a batch's shared-memory file
_HEADER = struct.Struct("<Q")
_POLL_S = 1.0  # how often an idle worker checks that its parent is still alive
_GRACE_S = 0.1  # how long shutdown waits for busy workers before terminating them


class DataLoaderWorkerError(FrameworkError):
    """A DataLoader worker died, or raised an exception that cannot be re-created as its own
    type (the message holds the worker's traceback)."""


class DataLoaderTimeoutError(FrameworkError, multiprocessing.TimeoutError, TimeoutError):
    """A batch took longer than the DataLoader's ``timeout``. It is also a ``TimeoutError`` and
    ``multiprocessing.TimeoutError`` (what MXNet raises)."""


# -- argument checks -----------------------------------------------------------------------------

def _int(value: Any, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"DataLoader: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"DataLoader: {name} must be >= {minimum}, got {value}")
    return int(value)


# -- host batches (inside worker processes) ------------------------------------------------------

class _Host:
    """A NumPy batch a worker made that becomes a framework array (legacy or not) in the main
    process."""

    __slots__ = ("array", "legacy")

    def __init__(self, array: numpy.ndarray, legacy: bool) -> None:
        self.array = array
        self.legacy = legacy


def _host_batchify(data: Sequence[Any]) -> Any:
    """:func:`default_batchify_fn` computed with NumPy only (the workers' default)."""
    if not len(data):
        raise ValueError("default_batchify_fn: expected a non-empty list of samples")
    first = data[0]
    if isinstance(first, BaseArray):
        return _Host(numpy.stack([host_view(x) for x in data]), is_legacy(first))
    if isinstance(first, tuple):
        return [_host_batchify(list(field)) for field in zip(*data)]
    return _Host(host_batch(data, "default_batchify_fn"), False)


class _Leaf:
    """Where array number ``index`` of a packed batch goes in the batch's structure."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        return _Leaf, (self.index,)


def _flatten(batch: Any, leaves: list[tuple[numpy.ndarray, str]]) -> Any:
    """``batch`` with every array replaced by a :class:`_Leaf`; the arrays go to ``leaves`` with
    their kind: ``'np'`` (framework array), ``'nd'`` (legacy array) or ``'numpy'``."""
    if isinstance(batch, _Host):
        leaves.append((batch.array, "nd" if batch.legacy else "np"))
        return _Leaf(len(leaves) - 1)
    if isinstance(batch, BaseArray):
        leaves.append((host_view(batch), "nd" if is_legacy(batch) else "np"))
        return _Leaf(len(leaves) - 1)
    if isinstance(batch, numpy.ndarray) and batch.dtype.kind not in "OV":
        leaves.append((batch, "numpy"))
        return _Leaf(len(leaves) - 1)
    if type(batch) is list:
        return [_flatten(x, leaves) for x in batch]
    if type(batch) is tuple:
        return tuple(_flatten(x, leaves) for x in batch)
    if type(batch) is dict:
        return {k: _flatten(v, leaves) for k, v in batch.items()}
    return batch  # any other object is pickled as it is


def _unflatten(struct_: Any, arrays: list[Any]) -> Any:
    if isinstance(struct_, _Leaf):
        return arrays[struct_.index]
    if type(struct_) is list:
        return [_unflatten(x, arrays) for x in struct_]
    if type(struct_) is tuple:
        return tuple(_unflatten(x, arrays) for x in struct_)
    if type(struct_) is dict:
        return {k: _unflatten(v, arrays) for k, v in struct_.items()}
    return struct_


def _shared_fd(size: int) -> int:
    """A file descriptor of ``size`` bytes of anonymous shared memory (never has a name that
    could leak)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("framework-dataloader", os.MFD_CLOEXEC)
    else:  # an unlinked temporary file, in /dev/shm when there is one
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        with tempfile.TemporaryFile(dir=folder) as f:
            fd = os.dup(f.fileno())
    try:
        os.ftruncate(fd, size)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _pack(batch: Any) -> tuple[Any, int | None]:
    """``(metadata, fd)``: the batch's arrays copied into one shared-memory file, and what the
    main process needs to rebuild the batch from it."""
    leaves: list[tuple[numpy.ndarray, str]] = []
    structure = _flatten(batch, leaves)
    layout = []
    offset = 0
    for arr, kind in leaves:
        layout.append((offset, arr.shape, arr.dtype, kind))
        offset += -(-arr.nbytes // _ALIGN) * _ALIGN
    if offset == 0:
        return (structure, layout, 0), None
    fd = _shared_fd(offset)
    try:
        mm = mmap.mmap(fd, offset)
        try:
            for (arr, _), (off, shape, dtype, _) in zip(leaves, layout):
                if arr.size:
                    dst = numpy.ndarray(shape, dtype, buffer=mm, offset=off)
                    dst[...] = arr
                    del dst
        finally:
            mm.close()
    except BaseException:
        os.close(fd)
        raise
    return (structure, layout, offset), fd


def _unpack(meta: Any, fd: int | None, device: Device) -> Any:
    """The batch a worker packed, its arrays wrapping the shared memory (no copy)."""
    structure, layout, size = meta
    buf: Any = None
    if size:
        if fd is None:
            raise DataLoaderWorkerError("DataLoader: a worker sent a batch without its shared "
                                        "memory")
        try:
            buf = _map(fd, size)
        finally:
            os.close(fd)
    arrays: list[Any] = []
    for off, shape, dtype, kind in layout:
        count = math.prod(shape)
        if count and buf is not None:
            host = numpy.frombuffer(buf, dtype, count, off).reshape(shape)
        else:
            host = numpy.empty(shape, dtype)
        if kind == "numpy":
            arrays.append(host)
            continue
        arr = _from_host(host, device)
        arrays.append(to_legacy(arr) if kind == "nd" else arr)
    return _unflatten(structure, arrays)


def _map(fd: int, size: int) -> Any:
    """The ``size`` bytes of shared memory behind ``fd``, as a writable buffer that needs no
    file descriptor of its own."""
    if sys.version_info >= (3, 13):  # a mapping without a dup()ed descriptor: no copy needed
        return mmap.mmap(fd, size, trackfd=False)  # type: ignore[call-arg]
    # before 3.13 each mmap object keeps a dup() of the descriptor while it lives, so batches a
    # program keeps would exhaust the descriptor limit: copy out (one memcpy) and unmap
    out = numpy.empty(size, numpy.uint8)
    with mmap.mmap(fd, size) as mm:
        out[:] = numpy.frombuffer(mm, numpy.uint8)
    return out


def _from_host(host: numpy.ndarray, device: Device) -> BaseArray:
    return from_numpy(host, device=device)


# -- messages over a Unix socket -----------------------------------------------------------------

def _send(sock: socket.socket, body: bytes, fd: int | None = None) -> None:
    header = _HEADER.pack(len(body))
    if fd is None:
        sock.sendall(header + body)
        return
    sent = socket.send_fds(sock, [header], [fd])
    if sent < len(header):
        sock.sendall(header[sent:])
    sock.sendall(body)


def _recv_exact(sock: socket.socket, n: int, into: bytearray) -> None:
    while len(into) < n:
        chunk = sock.recv(n - len(into))
        if not chunk:
            raise EOFError("connection closed")
        into += chunk


def _recv(sock: socket.socket) -> tuple[Any, int | None]:
    """One message and the file descriptor that came with it (EOFError when closed)."""
    msg, fds, _, _ = socket.recv_fds(sock, _HEADER.size, 1)
    if not msg:
        for extra in fds:
            os.close(extra)
        raise EOFError("connection closed")
    fd = fds[0] if fds else None
    try:
        header = bytearray(msg)
        _recv_exact(sock, _HEADER.size, header)
        (n,) = _HEADER.unpack(header)
        body = bytearray()
        _recv_exact(sock, n, body)
        return pickle.loads(body), fd
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise


# -- worker processes ----------------------------------------------------------------------------

def _seed_worker(seed: Sequence[int], worker_id: int) -> None:
    """Seed Python's, NumPy's and the framework's generators for this worker and epoch."""
    state = numpy.random.SeedSequence([*seed, worker_id]).generate_state(2)
    value = int(state[0])
    random.seed(value)
    numpy.random.seed(value)
    # the CPU generator only: reseeding a GPU generator would touch CUDA in a forked child
    _np_random.seed(int(state[1]), device=cpu())


def _describe_error(exc: BaseException, batch_id: int) -> bytes:
    tb = traceback.format_exc()
    for cls in (type(exc), None):
        try:
            return pickle.dumps(("error", batch_id, cls, type(exc).__qualname__, str(exc), tb),
                                pickle.HIGHEST_PROTOCOL)
        except Exception:
            continue
    raise AssertionError("unreachable")


def _worker_loop(sock: socket.socket, inherited: list[socket.socket], dataset: Any,
                 batchify_fn: Callable[[Sequence[Any]], Any] | None, worker_id: int,
                 seed: Sequence[int], parent_pid: int) -> None:
    """Load the batches the main process asks for until it closes the socket or exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process to handle
    for s in inherited:  # other workers' parent ends: keeping them open would hide EOF
        s.close()
    _seed_worker(seed, worker_id)
    # arrays a transform creates go to the CPU even when the parent's default device is a GPU
    set_default_device(cpu())
    with cpu():
        _serve(sock, dataset, batchify_fn, parent_pid)


def _serve(sock: socket.socket, dataset: Any,
           batchify_fn: Callable[[Sequence[Any]], Any] | None, parent_pid: int) -> None:
    """Answer batch requests on ``sock`` until it closes or the parent process is gone."""
    while True:
        if not multiprocessing.connection.wait([sock], _POLL_S):
            if os.getppid() != parent_pid:
                return  # orphaned: the main process died without closing the socket
            continue
        try:
            (batch_id, indices), _ = _recv(sock)
        except (EOFError, OSError):
            return
        fd = None
        try:
            # the default batchify: a batch at a time when the dataset can (see _load)
            batch = batch_fields(dataset, indices) if batchify_fn is None else None
            if batch is None:
                samples = [dataset[i] for i in indices]
                batch = (_host_batchify(samples) if batchify_fn is None
                         else batchify_fn(samples))
            meta, fd = _pack(batch)
            body = pickle.dumps(("ok", batch_id, meta), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            if fd is not None:
                os.close(fd)
                fd = None
            body = _describe_error(exc, batch_id)
        try:
            _send(sock, body, fd)
        except OSError:
            return
        finally:
            if fd is not None:
                os.close(fd)


def _shutdown_workers(procs: list[Any], socks: list[socket.socket]) -> None:
    """Close the sockets (idle workers exit on EOF), then terminate whoever is still busy."""
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    deadline = time.monotonic() + _GRACE_S
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(1.0)
        if p.is_alive():
            p.kill()
            p.join()
        p.close()


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name} (exit code {code})"
    return f"exited with code {code}"


class _ProcessIter:
    """One epoch with worker processes; batches come back in the batch sampler's order."""

    def __init__(self, loader: DataLoader, seed: Sequence[int]) -> None:
        self._batches = iter(loader._batch_sampler)
        self._timeout = loader._timeout
        self._prefetch = max(1, loader._prefetch)
        self._device = loader._out_device()
        self._exhausted = False
        self._closed = False
        self._sent = 0
        self._rcvd = 0
        # fork copies this process: work still queued in the engine would be lost in the
        # children, so let it finish first (an error it holds is raised here)
        engine.waitall()
        batchify: Callable[[Sequence[Any]], Any] | None = loader._batchify_fn
        if batchify in (default_batchify_fn, default_mp_batchify_fn):
            batchify = None  # the workers then build NumPy batches straight away
        ctx = multiprocessing.get_context("fork")
        self._socks: list[socket.socket] = []
        self._procs: list[Any] = []
        self._finalizer = weakref.finalize(self, _shutdown_workers, self._procs, self._socks)
        for wid in range(loader._num_workers):
            parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            proc = ctx.Process(
                target=_worker_loop, name=f"DataLoader-worker-{wid}", daemon=True,
                args=(child_end, [*self._socks, parent_end], loader._dataset, batchify, wid,
                      seed, os.getpid()))
            self._socks.append(parent_end)
            try:
                proc.start()
            except BaseException:
                self.close()
                raise
            finally:
                child_end.close()
            self._procs.append(proc)
        try:
            self._fill()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> _ProcessIter:
        return self

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def close(self) -> None:
        """Shut the workers down now (also done on garbage collection and at exit)."""
        self._closed = True
        self._finalizer()

    def _fill(self) -> None:
        while not self._exhausted and self._sent - self._rcvd < self._prefetch:
            try:
                indices = next(self._batches)
            except StopIteration:
                self._exhausted = True
                return
            wid = self._sent % len(self._procs)
            body = pickle.dumps((self._sent, list(indices)), pickle.HIGHEST_PROTOCOL)
            try:
                _send(self._socks[wid], body)
            except OSError as exc:
                raise self._died(wid, self._sent) from exc
            self._sent += 1

    def _died(self, wid: int, batch_id: int) -> DataLoaderWorkerError:
        proc = self._procs[wid]
        proc.join(1.0)
        return DataLoaderWorkerError(
            f"DataLoader worker {wid} (pid {proc.pid}) {_exit_reason(proc.exitcode)} "
            f"unexpectedly while loading batch {batch_id}; a worker killed by the system is "
            f"often out of memory")

    def _wait(self, wid: int, batch_id: int) -> tuple[Any, int | None]:
        sock, proc = self._socks[wid], self._procs[wid]
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DataLoaderTimeoutError(
                    f"DataLoader: worker {wid} (pid {proc.pid}) did not return batch {batch_id} "
                    f"within timeout={self._timeout:g} s; the dataset's __getitem__ or the "
                    f"batchify_fn may hang, or pass a larger timeout")
            ready = multiprocessing.connection.wait([sock, proc.sentinel], remaining)
            if sock in ready:
                try:
                    return _recv(sock)
                except (EOFError, ConnectionError) as exc:
                    raise self._died(wid, batch_id) from exc
            if proc.sentinel in ready:
                raise self._died(wid, batch_id)

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        if self._rcvd == self._sent:
            self.close()
            raise StopIteration
        batch_id = self._rcvd
        wid = batch_id % len(self._procs)
        try:
            msg, fd = self._wait(wid, batch_id)
            if msg[0] == "error":
                if fd is not None:
                    os.close(fd)
                raise self._worker_exception(wid, msg)
            _, got, meta = msg
            if got != batch_id:
                if fd is not None:
                    os.close(fd)
                raise DataLoaderWorkerError(f"DataLoader: worker {wid} returned batch {got} "
                                            f"while batch {batch_id} was expected")
            batch = _unpack(meta, fd, self._device)
            self._rcvd += 1
            self._fill()
        except BaseException:
            self.close()
            raise
        return batch

    def _worker_exception(self, wid: int, msg: tuple[Any, ...]) -> BaseException:
        _, batch_id, cls, name, text, tb = msg
        full = (f"{text}\n\nraised in DataLoader worker {wid} (pid {self._procs[wid].pid}) while "
                f"loading batch {batch_id}; the worker's traceback:\n{tb}")
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                exc = cls(full)
                if str(exc) == full or repr(full) == str(exc):
                    return exc
            except Exception:
                pass
        return DataLoaderWorkerError(f"{name}: {full}")


# -- threads -------------------------------------------------------------------------------------

def _load(dataset: Any, batchify_fn: Callable[[Sequence[Any]], Any], indices: Any) -> Any:
    """The batch of samples ``indices``: made a batch at a time when the batchify is the default
    one and the dataset can (:func:`dataset.batch_fields`; MXNet transformed and fetched every
    sample on its own), else sample by sample."""
    if batchify_fn is default_batchify_fn or batchify_fn is default_mp_batchify_fn:
        fields = batch_fields(dataset, indices)
        if fields is not None:
            return fields
    return batchify_fn([dataset[i] for i in indices])


def _shutdown_pool(pool: ThreadPoolExecutor, futures: deque[Future[Any]]) -> None:
    for f in futures:
        f.cancel()
    futures.clear()
    pool.shutdown(wait=False, cancel_futures=True)


class _ThreadIter:
    """One epoch with a pool of threads; batches come back in order."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader._dataset
        self._batchify_fn = loader._batchify_fn
        self._batches = iter(loader._batch_sampler)
        self._timeout = loader._timeout
        self._prefetch = max(1, loader._prefetch)
        self._pin = loader._pin_device()
        self._exhausted = False
        self._pool = ThreadPoolExecutor(loader._num_workers, thread_name_prefix="DataLoader")
        self._futures: deque[Future[Any]] = deque()
        self._finalizer = weakref.finalize(self, _shutdown_pool, self._pool, self._futures)
        self._fill()

    def __iter__(self) -> _ThreadIter:
        return self

    def close(self) -> None:
        self._exhausted = True
        self._finalizer()

    def _fill(self) -> None:
        while not self._exhausted and len(self._futures) < self._prefetch:
            try:
                indices = next(self._batches)
            except StopIteration:
                self._exhausted = True
                return
            self._futures.append(
                self._pool.submit(_load, self._dataset, self._batchify_fn, indices))

    def __next__(self) -> Any:
        if not self._futures:
            self.close()
            raise StopIteration
        future = self._futures.popleft()
        try:
            batch = future.result(self._timeout)
            self._fill()
        except FutureTimeoutError:
            self.close()
            raise DataLoaderTimeoutError(
                f"DataLoader: a thread did not return its batch within "
                f"timeout={self._timeout:g} s; the dataset's __getitem__ or the batchify_fn may "
                f"hang, or pass a larger timeout") from None
        except BaseException:
            self.close()
            raise
        return _to_device(batch, self._pin) if self._pin is not None else batch


# -- the main process ----------------------------------------------------------------------------

def _to_device(batch: Any, device: Device) -> Any:
    if isinstance(batch, BaseArray):
        return to_device(batch, device)
    if type(batch) in (list, tuple):
        return type(batch)(_to_device(x, device) for x in batch)
    if type(batch) is dict:
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _same_process(dataset: Any, batchify_fn: Callable[[Sequence[Any]], Any],
                  batch_sampler: Any, pin: Device | None) -> Iterator[Any]:
    for indices in batch_sampler:
        batch = _load(dataset, batchify_fn, indices)
        yield _to_device(batch, pin) if pin is not None else batch


def _legacy_dataset(dataset: Any) -> bool:
    """Whether ``dataset`` (or the dataset a transform wraps) is an ArrayDataset of legacy
    ``nd.NDArray``s."""
    for _ in range(64):  # transform chains are short; never loop on a cycle
        if getattr(dataset, "_legacy", False):
            return True
        inner = getattr(dataset, "_data", None)
        if not hasattr(inner, "__getitem__") or not hasattr(inner, "_data"):
            return False
        dataset = inner
    return False


def _legacy_nested(batch: Any) -> Any:
    if isinstance(batch, BaseArray):
        return batch if is_legacy(batch) else to_legacy(batch)
    if type(batch) in (list, tuple):
        return type(batch)(_legacy_nested(x) for x in batch)
    return batch


def _as_legacy_batches(it: Iterator[Any]) -> Iterator[Any]:
    for batch in it:
        yield _legacy_nested(batch)


class DataLoader:
    """Mini-batches of ``dataset``, as MXNet's ``gluon.data.DataLoader``.

    Give either ``batch_size`` (with ``shuffle`` or a ``sampler``, and ``last_batch`` one of
    ``'keep'`` (default), ``'discard'``, ``'rollover'``) or a ``batch_sampler``.
    ``batchify_fn`` turns a list of samples into a batch (default: :func:`default_batchify_fn`;
    tuples become a list of arrays). ``num_workers > 0`` loads batches in forked worker
    processes, or in threads with ``thread_pool=True``; ``prefetch`` (default
    ``2 * num_workers``) bounds the batches in flight, and a batch that takes longer than
    ``timeout`` seconds raises :class:`DataLoaderTimeoutError`. ``pin_memory`` puts batches on
    ``cpu_pinned(pin_device_id)``. ``try_nopython`` and ``auto_reload`` are accepted for MXNet
    compatibility and have no effect.

    Worker processes are started for each epoch (each ``iter(loader)``) and stopped at its end,
    on an error, on ``break`` (when the iterator is garbage collected) or by the iterator's
    ``close()``. Their ``random``, ``numpy.random`` and framework generators are seeded
    differently per worker and per epoch (reproducibly after ``numpy.random.seed``). Before the
    workers are forked, queued engine work is waited for (an error it holds is raised then).

    >>> loader = DataLoader(ArrayDataset(numpy.arange(10.0), numpy.arange(10)), batch_size=4)
    >>> len(loader), [x.shape for x, y in loader]
    (3, [(4,), (4,), (2,)])
    """

    def __init__(self, dataset: Any, batch_size: int | None = None, shuffle: bool = False,
                 sampler: Any = None, last_batch: str | None = None, batch_sampler: Any = None,
                 batchify_fn: Callable[[Sequence[Any]], Any] | None = None,
                 num_workers: int = 0, pin_memory: bool = False, pin_device_id: int = 0,
                 prefetch: int | None = None, thread_pool: bool = False,
                 timeout: float = 120, try_nopython: bool | None = None,
                 auto_reload: bool | None = None) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must support len() and indexing (a Dataset, "
                            f"a list, an array), got {type(dataset).__name__}")
        self._dataset = dataset
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("DataLoader: batch_size must be specified unless batch_sampler "
                                 "is specified")
            batch_size = _int(batch_size, "batch_size", minimum=1)
            if sampler is None:
                sampler = RandomSampler(len(dataset)) if shuffle else SequentialSampler(
                    len(dataset))
            elif shuffle:
                raise ValueError("DataLoader: shuffle must not be specified if sampler is "
                                 "specified (shuffle with a RandomSampler instead)")
            last_batch = check_last_batch(last_batch or "keep", "DataLoader")
            batch_sampler = BatchSampler(sampler, batch_size, last_batch)
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("DataLoader: batch_size, shuffle, sampler and last_batch must not be "
                             "specified if batch_sampler is specified")
        elif not hasattr(batch_sampler, "__iter__") or not hasattr(batch_sampler, "__len__"):
            raise TypeError(f"DataLoader: batch_sampler must be a Sampler of index lists, got "
                            f"{type(batch_sampler).__name__}")
        self._batch_sampler = batch_sampler
        self._num_workers = max(0, _int(num_workers, "num_workers"))  # MXNet: negative means 0
        if batchify_fn is not None and not callable(batchify_fn):
            raise TypeError(f"DataLoader: batchify_fn must be callable, got "
                            f"{type(batchify_fn).__name__}")
        if batchify_fn is None:
            batchify_fn = default_mp_batchify_fn if self._num_workers else default_batchify_fn
        self._batchify_fn = batchify_fn
        self._pin_memory = bool(pin_memory)
        self._pin_device_id = _int(pin_device_id, "pin_device_id", minimum=0)
        if prefetch is None:
            prefetch = 2 * self._num_workers
        self._prefetch = _int(prefetch, "prefetch", minimum=0)
        self._thread_pool = bool(thread_pool)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float, numpy.number)) \
                or not timeout > 0:
            raise ValueError(f"DataLoader: timeout must be a positive number of seconds, got "
                             f"{timeout!r}")
        self._timeout = float(timeout)
        self._try_nopython = try_nopython
        self._auto_reload = auto_reload
        self._epoch = 0

    def __len__(self) -> int:
        """The number of batches in the next epoch."""
        return len(self._batch_sampler)

    def _pin_device(self) -> Device | None:
        return cpu_pinned(self._pin_device_id) if self._pin_memory else None

    def _out_device(self) -> Device:
        return self._pin_device() or cpu()

    def _worker_seed(self) -> list[int]:
        # derived from numpy's global state without drawing from it, so that the batches a
        # seeded program sees do not depend on num_workers; the epoch counter makes epochs differ
        state: Any = numpy.random.get_state()
        keys = numpy.asarray(state[1], dtype=numpy.uint64)
        return [int(keys[:8].sum() % (1 << 32)), int(keys.sum() % (1 << 32)), int(state[2]),
                self._epoch]

    def __iter__(self) -> Iterator[Any]:
        it = self._iter()
        if self._batchify_fn in (default_batchify_fn, default_mp_batchify_fn) \
                and _legacy_dataset(self._dataset):
            return _as_legacy_batches(it)
        return it

    def _iter(self) -> Iterator[Any]:
        self._epoch += 1
        if self._num_workers == 0:
            return _same_process(self._dataset, self._batchify_fn, self._batch_sampler,
                                 self._pin_device())
        if self._thread_pool:
            return _ThreadIter(self)
        if "fork" not in multiprocessing.get_all_start_methods():
            warnings.warn("DataLoader: worker processes need the 'fork' start method, which "
                          f"{sys.platform} lacks; using threads instead", stacklevel=2)
            return _ThreadIter(self)
        return _ProcessIter(self, self._worker_seed())
