"""Datasets: indexable collections of samples (MXNet's ``gluon.data.Dataset`` family)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ...nd._base import BaseArray
from .sampler import FilterSampler, SequentialSampler

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """Abstract dataset: subclasses implement ``__getitem__(idx)`` and ``__len__()``.

    ``transform(fn, lazy=True)`` and ``transform_first(fn, lazy=True)`` return new datasets whose
    items pass through ``fn``; with ``lazy=False`` every item is transformed once, up front.
    """

    def __getitem__(self, idx: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def transform(self, fn: Callable[..., Any], lazy: bool = True) -> Dataset:
        """Apply ``fn`` to every sample; a tuple sample is passed as ``fn(*sample)``."""
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn: Callable[..., Any], lazy: bool = True) -> Dataset:
        """Apply ``fn`` to the first element of every sample only (usually the image)."""
        return self.transform(_TransformFirst(fn), lazy)

    def filter(self, fn: Callable[[Any], Any]) -> Dataset:
        """The samples for which ``fn(sample)`` is true (``fn`` runs on every sample, now)."""
        return _SampledDataset(self, FilterSampler(fn, self))

    def shard(self, num_shards: int, index: int) -> Dataset:
        """Part ``index`` of ``num_shards`` contiguous parts; the first ``len % num_shards``
        parts hold one sample more than the others.

        >>> [list(SimpleDataset(list(range(10))).shard(3, i)) for i in range(3)]
        [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
        """
        num_shards = _int_arg(num_shards, "num_shards", "Dataset.shard")
        index = _int_arg(index, "index", "Dataset.shard")
        if num_shards < 1:
            raise ValueError(f"Dataset.shard: num_shards must be >= 1, got {num_shards}")
        if not 0 <= index < num_shards:
            raise ValueError(f"Dataset.shard: index must be in [0, {num_shards}), got {index}")
        length = len(self)
        size, rest = divmod(length, num_shards)
        start = size * index + min(index, rest)
        stop = start + size + (1 if index < rest else 0)
        return _SampledDataset(self, SequentialSampler(stop - start, start))

    def take(self, count: int | None) -> Dataset:
        """The first ``count`` samples (all of them when ``count`` is None or too large)."""
        length = len(self)
        if count is None:
            count = length
        count = _int_arg(count, "count", "Dataset.take")
        if count < 0:
            raise ValueError(f"Dataset.take: count must be None or >= 0, got {count}")
        return _SampledDataset(self, SequentialSampler(min(count, length)))

    def sample(self, sampler: Any) -> Dataset:
        """The samples at the indices ``sampler`` yields (iterated once, now)."""
        if not hasattr(sampler, "__iter__"):
            raise TypeError(f"Dataset.sample: sampler must be iterable (a Sampler), got "
                            f"{type(sampler).__name__}")
        return _SampledDataset(self, sampler)


def _int_arg(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}") from None


class _SampledDataset(Dataset):
    """The samples of ``data`` at the indices a sampler gave."""

    def __init__(self, data: Any, sampler: Any) -> None:
        self._data = data
        self._indices = list(sampler)

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, idx: int) -> Any:
        return self._data[self._indices[idx]]


class SimpleDataset(Dataset):
    """A dataset over any sequence (a list, a NumPy array, ...)."""

    def __init__(self, data: Sequence[Any]) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, idx: int) -> Any:
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data: Dataset, fn: Callable[..., Any]) -> None:
        self._data = data
        self._fn = fn

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, idx: int) -> Any:
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)

    def _batch_fields(self, indices: Sequence[int]) -> list[Any] | None:
        """(see :func:`batch_fields`) A transform of the first field that acts on each sample
        alone runs once, on the batch: one call instead of one per sample."""
        fn = self._fn
        if not isinstance(fn, _TransformFirst) or not _acts_per_sample(fn._fn):
            return None
        fields = batch_fields(self._data, indices)
        if fields is None:
            return None
        fields[0] = fn._fn(fields[0])
        return fields


def batch_fields(dataset: Any, indices: Sequence[int]) -> list[Any] | None:
    """``default_batchify_fn([dataset[i] for i in indices])`` for a dataset of tuple samples,
    made a batch at a time when the dataset knows how (the images gathered with one indexing,
    a ``transform_first`` transform that acts on each sample of a batch alone applied once to
    the whole batch); None when it does not. The values are the same, bit for bit."""
    fetch = getattr(dataset, "_batch_fields", None)
    return None if fetch is None else fetch(indices)


def _acts_per_sample(fn: Any) -> bool:
    """Whether ``fn`` maps a stacked batch to the stack of what it makes of each sample:
    transforms that declare it (``ToTensor``, ``Normalize``, ``Cast``: elementwise, on HWC or
    NHWC, CHW or NCHW data alike), and plain chains of them (``Compose``)."""
    from ..nn.basic_layers import HybridSequential, Sequential

    if getattr(type(fn), "_acts_per_sample", False):
        return True
    if isinstance(fn, (Sequential, HybridSequential)) and \
            type(fn).forward in (Sequential.forward, HybridSequential.forward):
        children = list(fn._children.values())
        return bool(children) and all(_acts_per_sample(c) for c in children)
    return False


class _TransformFirst:
    """Picklable ``fn`` applied to the first element (worker processes need to pickle it)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, x: Any, *args: Any) -> Any:
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class ArrayDataset(Dataset):
    """Zips several equally long arrays or sequences: item ``i`` is ``(a[i], b[i], ...)``.

    A single argument gives its items unchanged (not 1-tuples), as in MXNet. A 1-D framework
    array is stored as NumPy (MXNet does the same), so its items are NumPy scalars.
    """

    def __init__(self, *args: Any) -> None:
        if not args:
            raise ValueError("ArrayDataset needs at least one array")
        self._length = len(args[0])
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError(
                    f"ArrayDataset: all arrays must have the same length; argument 0 has "
                    f"{self._length} items but argument {i} has {len(data)}")
        self._data = [numpy.array(data) if isinstance(data, BaseArray) and data.ndim == 1
                      else data for data in args]
        # built from legacy nd.NDArrays (MXNet 1.x code): the DataLoader then returns NDArrays
        # for every field, also those stored as NumPy above, as MXNet 1.x does
        self._legacy = any(type(data).__name__ == "NDArray" for data in args)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, idx: int) -> Any:
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)
