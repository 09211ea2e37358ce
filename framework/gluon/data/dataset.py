"""Datasets: indexable collections of samples (MXNet's ``gluon.data.Dataset`` family)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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

    A single argument gives its items unchanged (not 1-tuples), as in MXNet.
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
        self._data = list(args)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, idx: int) -> Any:
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)
