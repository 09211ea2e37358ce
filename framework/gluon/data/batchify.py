"""Batchify functions: turn a list of samples into a batch (``gluon.data.batchify``).

A batchify function takes the list of samples a :class:`~framework.gluon.data.DataLoader` drew
for one batch and returns the batch. Samples may be framework arrays, NumPy arrays, lists or
numbers; results are framework ``np.ndarray`` arrays, or legacy ``nd.NDArray`` arrays when the
samples are legacy arrays.

>>> Stack()([numpy.array([1, 2]), numpy.array([3, 4])]).shape
(2, 2)
>>> Pad(val=-1)([[1, 2, 3], [4]]).tolist()
[[1, 2, 3], [4, -1, -1]]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ... import np as _np
from ...nd._base import BaseArray
from ...nd._create import from_numpy

__all__ = [
    "Stack", "Pad", "Append", "Group", "AsList", "default_batchify_fn", "default_mp_batchify_fn",
]


# -- helpers shared with the DataLoader ----------------------------------------------------------

def is_legacy(x: Any) -> bool:
    """True for a legacy ``nd.NDArray`` (detected by class name: ``framework.nd`` may not have
    the class, and it must not be imported here only to test for it)."""
    return any(cls.__name__ == "NDArray" for cls in type(x).__mro__)


def as_np(x: Any) -> Any:
    """A legacy array as a framework ``np.ndarray`` (zero-copy); anything else unchanged."""
    if is_legacy(x) and hasattr(x, "as_np_ndarray"):
        return x.as_np_ndarray()
    return x


def host_view(x: BaseArray) -> numpy.ndarray:
    """The values of a framework array as NumPy (waits for them; may share memory)."""
    return x._host()


def to_legacy(x: Any) -> Any:
    """A framework array as a legacy ``nd.NDArray`` (zero-copy)."""
    return x.as_nd_ndarray()


def host_batch(data: Sequence[Any], owner: str) -> numpy.ndarray:
    """``numpy.asarray(data)`` for a batch of numbers or NumPy arrays, checked to be numeric and
    rectangular. NumPy dtypes are kept (Python ints give int64, floats float64), as in MXNet."""
    try:
        out = numpy.asarray(data)
    except ValueError as exc:
        shapes = sorted({numpy.shape(d) for d in data})
        raise ValueError(f"{owner}: the samples of a batch must all have the same shape to be "
                         f"stacked, got shapes {shapes}; use batchify.Pad or a custom "
                         f"batchify_fn for samples of different sizes") from exc
    if out.dtype.kind in "OUSVM":
        raise TypeError(f"{owner}: cannot make a numeric batch from samples of type "
                        f"{type(data[0]).__name__} (NumPy gives dtype {out.dtype}); use "
                        f"batchify.AsList inside batchify.Group for non-numeric fields")
    return out


def _first(data: Sequence[Any], owner: str) -> Any:
    try:
        return data[0]
    except (IndexError, TypeError, KeyError):
        raise ValueError(f"{owner}: expected a non-empty list of samples, got "
                         f"{type(data).__name__} {data!r:.80}") from None


def _stack_arrays(data: Sequence[Any]) -> Any:
    out = _np.stack([as_np(x) for x in data])
    return to_legacy(out) if is_legacy(data[0]) else out


# -- default batchify ------------------------------------------------------------------------------

def default_batchify_fn(data: Sequence[Any]) -> Any:
    """MXNet's default: framework arrays are stacked, tuples are batched field by field (a list
    of batches comes back), anything else goes through ``numpy.asarray`` (dtype kept).

    >>> [b.shape for b in default_batchify_fn([(numpy.zeros(3), 1), (numpy.ones(3), 0)])]
    [(2, 3), (2,)]
    """
    first = _first(data, "default_batchify_fn")
    if isinstance(first, BaseArray):
        return _stack_arrays(data)
    if isinstance(first, tuple):
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    return from_numpy(host_batch(data, "default_batchify_fn"))


def default_mp_batchify_fn(data: Sequence[Any]) -> Any:
    """The default batchify of worker processes: the same batches as
    :func:`default_batchify_fn`. Inside a DataLoader worker the batch is built directly as NumPy
    data in shared memory instead, and the main process wraps it without a copy."""
    return default_batchify_fn(data)


# -- batchify classes ----------------------------------------------------------------------------

class Stack:
    """Stack samples of one shape into a batch; tuple or list samples are stacked field by
    field (a list of batches comes back).

    ``use_shared_mem`` is accepted for MXNet compatibility; DataLoader workers always return
    their batches through shared memory.
    """

    def __init__(self, use_shared_mem: bool = False) -> None:
        self._use_shared_mem = use_shared_mem

    def __call__(self, data: Sequence[Any]) -> Any:
        first = _first(data, "Stack")
        if isinstance(first, BaseArray):
            return _stack_arrays(data)
        if isinstance(first, (tuple, list)):
            return [self(list(field)) for field in zip(*data)]
        return from_numpy(host_batch(data, "Stack"))


class Pad:
    """Pad samples to the largest size in the batch along every axis with ``val``, then stack.

    Samples are framework arrays, NumPy arrays or (nested) lists of numbers, all with the same
    number of dimensions. ``dtype`` (default: the first sample's) is the result's dtype;
    ``round_to`` rounds every padded size up to a multiple of it. With ``ret_length`` the call
    returns ``(batch, lengths)``, ``lengths`` being each sample's size along ``axis`` (int32).

    >>> batch, lengths = Pad(ret_length=True)([[1, 2, 3, 4], [4, 5, 6], [8, 2]])
    >>> batch.tolist(), lengths.tolist()
    ([[1, 2, 3, 4], [4, 5, 6, 0], [8, 2, 0, 0]], [4, 3, 2])
    """

    def __init__(self, val: Any = 0, dtype: Any = None, round_to: int | None = None,
                 axis: int = 0, ret_length: bool = False, use_shared_mem: bool = False) -> None:
        if round_to is not None:
            if isinstance(round_to, bool) or not isinstance(round_to, (int, numpy.integer)):
                raise TypeError(f"Pad: round_to must be None or an int, got {round_to!r}")
            if round_to < 1:
                raise ValueError(f"Pad: round_to must be >= 1, got {round_to}")
        if isinstance(axis, bool) or not isinstance(axis, (int, numpy.integer)):
            raise TypeError(f"Pad: axis must be an int, got {axis!r}")
        self._val = 0 if val is None else val
        self._dtype = None if dtype is None else numpy.dtype(dtype)
        self._round_to = None if round_to is None else int(round_to)
        self._axis = int(axis)
        self._ret_length = bool(ret_length)
        self._use_shared_mem = use_shared_mem

    def __call__(self, data: Sequence[Any]) -> Any:
        first = _first(data, "Pad")
        if not isinstance(first, (BaseArray, numpy.ndarray, list)):
            raise TypeError(f"Pad: each sample must be an array or a list, got "
                            f"{type(first).__name__}; for samples with several fields use "
                            f"Group(Pad(), Stack(), ...)")
        arrs = [host_view(x) if isinstance(x, BaseArray) else numpy.asarray(x) for x in data]
        ndim = arrs[0].ndim
        if ndim == 0:
            raise ValueError("Pad: samples must have at least one dimension, got scalars")
        for i, a in enumerate(arrs):
            if a.ndim != ndim:
                raise ValueError(f"Pad: all samples must have the same number of dimensions; "
                                 f"sample 0 has shape {arrs[0].shape}, sample {i} has {a.shape}")
        if not -ndim <= self._axis < ndim:
            raise ValueError(f"Pad: axis {self._axis} is out of range for samples with {ndim} "
                             f"dimensions")
        shape = [max(a.shape[d] for a in arrs) for d in range(ndim)]
        if self._round_to is not None:
            shape = [self._round_to * math.ceil(n / self._round_to) for n in shape]
        dtype = self._dtype if self._dtype is not None else arrs[0].dtype
        out = numpy.full((len(arrs), *shape), self._val, dtype=dtype)
        for i, a in enumerate(arrs):
            out[(i,) + tuple(slice(0, n) for n in a.shape)] = a
        batch = from_numpy(out)
        if is_legacy(first):
            batch = to_legacy(batch)
        if not self._ret_length:
            return batch
        axis = operator.index(self._axis) % ndim
        lengths = from_numpy(numpy.array([a.shape[axis] for a in arrs], dtype=numpy.int32))
        return batch, to_legacy(lengths) if is_legacy(first) else lengths


class Append:
    """A list with one array per sample (shapes may differ), each given a batch axis of size 1
    at ``batch_axis`` when ``expand``.

    >>> [a.shape for a in Append()([numpy.zeros(3), numpy.zeros(2)])]
    [(1, 3), (1, 2)]
    """

    def __init__(self, expand: bool = True, batch_axis: int = 0,
                 use_shared_mem: bool = False) -> None:
        if isinstance(batch_axis, bool) or not isinstance(batch_axis, (int, numpy.integer)):
            raise TypeError(f"Append: batch_axis must be an int, got {batch_axis!r}")
        self._expand = bool(expand)
        self._batch_axis = int(batch_axis)
        self._use_shared_mem = use_shared_mem

    def __call__(self, data: Sequence[Any]) -> list[Any]:
        _first(data, "Append")
        out = []
        for x in data:
            legacy = is_legacy(x)
            arr = as_np(x) if isinstance(x, BaseArray) else _np.array(x)
            if self._expand:
                arr = _np.expand_dims(arr, self._batch_axis)
            out.append(to_legacy(arr) if legacy else arr)
        return out


class Group:
    """Apply the ``i``-th batchify function to the ``i``-th field of every sample; returns a
    tuple. ``Group(f, g)``, ``Group([f, g])`` and ``Group((f, g))`` are the same.

    >>> data, label = Group(Pad(), Stack())([([1, 2, 3], 0), ([4], 1)])
    >>> data.tolist(), label.tolist()
    ([[1, 2, 3], [4, 0, 0]], [0, 1])
    """

    def __init__(self, fn: Any, *args: Callable[[Sequence[Any]], Any]) -> None:
        if isinstance(fn, (list, tuple)):
            if args:
                raise TypeError(f"Group: give the batchify functions either as arguments or as "
                                f"one list, not both (got fn={fn!r} and args={args!r})")
            fns = tuple(fn)
        else:
            fns = (fn, *args)
        for i, f in enumerate(fns):
            if not callable(f):
                raise TypeError(f"Group: batchify function {i} must be callable, got "
                                f"{type(f).__name__}")
        self._fn = fns

    def __call__(self, data: Sequence[Any]) -> tuple[Any, ...]:
        first = _first(data, "Group")
        for i, sample in enumerate(data):
            if not hasattr(sample, "__len__") or len(sample) != len(self._fn):
                raise ValueError(f"Group: every sample must have {len(self._fn)} fields (one per "
                                 f"batchify function); sample {i} is {type(first).__name__} "
                                 f"{sample!r:.80}")
        return tuple(f([sample[i] for sample in data]) for i, f in enumerate(self._fn))


class AsList:
    """The samples as a plain list, unchanged (for text or other non-array fields)."""

    def __call__(self, data: Sequence[Any]) -> list[Any]:
        return list(data)
