"""Samplers: iterables of dataset indices, and of batches of indices (``gluon.data.*Sampler``).

A sampler yields indices into a dataset; a :class:`BatchSampler` groups another sampler's
indices into lists, which is what the :class:`~framework.gluon.data.DataLoader` iterates.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

import numpy

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler", "FilterSampler",
    "IntervalSampler",
]

_LAST_BATCH = ("keep", "discard", "rollover")


def _count(value: Any, name: str, owner: str, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum``, or a TypeError/ValueError naming the argument."""
    if isinstance(value, (bool, numpy.bool_)):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    try:
        out = operator.index(value)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}") from None
    if out < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {out}")
    return out


def check_last_batch(last_batch: Any, owner: str) -> str:
    """``last_batch`` checked against ``'keep'``, ``'discard'`` and ``'rollover'``."""
    if last_batch not in _LAST_BATCH:
        raise ValueError(f"{owner}: last_batch must be one of 'keep', 'discard' or 'rollover', "
                         f"got {last_batch!r}")
    return str(last_batch)


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` and ``__len__``."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """The indices ``start, start + 1, ..., start + length - 1`` in order.

    >>> list(SequentialSampler(3, start=2))
    [2, 3, 4]
    """

    def __init__(self, length: int, start: int = 0) -> None:
        self._length = _count(length, "length", "SequentialSampler")
        self._start = _count(start, "start", "SequentialSampler")

    def __iter__(self) -> Iterator[int]:
        return iter(range(self._start, self._start + self._length))

    def __len__(self) -> int:
        return self._length


class RandomSampler(Sampler):
    """A new random permutation of ``range(length)`` on every iteration.

    The permutation is drawn from ``numpy.random``, so ``numpy.random.seed`` makes it
    reproducible.
    """

    def __init__(self, length: int) -> None:
        self._length = _count(length, "length", "RandomSampler")

    def __iter__(self) -> Iterator[int]:
        indices = numpy.arange(self._length)
        numpy.random.shuffle(indices)
        return iter(indices.tolist())

    def __len__(self) -> int:
        return self._length


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    ``last_batch`` says what happens to a final, incomplete batch: ``'keep'`` yields it,
    ``'discard'`` drops it, ``'rollover'`` keeps its indices and puts them at the front of the
    next iteration (so ``len()`` can change from one epoch to the next).

    >>> list(BatchSampler(SequentialSampler(10), 4, 'keep'))
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    >>> bs = BatchSampler(SequentialSampler(10), 4, 'rollover')
    >>> list(bs), list(bs)
    ([[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]])
    """

    def __init__(self, sampler: Any, batch_size: int, last_batch: str = "keep") -> None:
        if not hasattr(sampler, "__iter__"):
            raise TypeError(f"BatchSampler: sampler must be iterable (a Sampler), got "
                            f"{type(sampler).__name__}")
        self._sampler = sampler
        self._batch_size = _count(batch_size, "batch_size", "BatchSampler", minimum=1)
        self._last_batch = check_last_batch(last_batch, "BatchSampler")
        self._prev: list[Any] = []

    def __iter__(self) -> Iterator[list[Any]]:
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self) -> int:
        n, size = len(self._sampler), self._batch_size
        if self._last_batch == "keep":
            return (n + size - 1) // size
        if self._last_batch == "discard":
            return n // size
        return (len(self._prev) + n) // size


class FilterSampler(Sampler):
    """The indices ``i`` of ``dataset`` for which ``fn(dataset[i])`` is true (computed once)."""

    def __init__(self, fn: Callable[[Any], Any], dataset: Any) -> None:
        if not callable(fn):
            raise TypeError(f"FilterSampler: fn must be callable, got {type(fn).__name__}")
        self._fn = fn
        self._dataset = dataset
        self._indices = [i for i in range(len(dataset)) if fn(dataset[i])]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices)

    def __len__(self) -> int:
        return len(self._indices)


class IntervalSampler(Sampler):
    """Every ``interval``-th index of ``range(length)``; with ``rollover`` the passes that start
    at 1, 2, ..., ``interval - 1`` follow, so every index comes once.

    >>> list(IntervalSampler(13, interval=3))
    [0, 3, 6, 9, 12, 1, 4, 7, 10, 2, 5, 8, 11]
    >>> list(IntervalSampler(13, interval=3, rollover=False))
    [0, 3, 6, 9, 12]
    """

    def __init__(self, length: int, interval: int, rollover: bool = True) -> None:
        self._length = _count(length, "length", "IntervalSampler")
        self._interval = _count(interval, "interval", "IntervalSampler", minimum=1)
        if self._interval >= self._length:
            raise ValueError(f"IntervalSampler: interval ({self._interval}) must be smaller than "
                             f"length ({self._length})")
        self._rollover = bool(rollover)

    def __iter__(self) -> Iterator[int]:
        for first in range(self._interval if self._rollover else 1):
            yield from range(first, self._length, self._interval)

    def __len__(self) -> int:
        if self._rollover:
            return self._length
        return (self._length + self._interval - 1) // self._interval
