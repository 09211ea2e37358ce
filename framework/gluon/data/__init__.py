"""Data loading: datasets, samplers, batchify functions and the DataLoader (``gluon.data``)."""

from __future__ import annotations

from . import batchify, vision
from .dataloader import (
    DataLoader,
    DataLoaderTimeoutError,
    DataLoaderWorkerError,
    default_batchify_fn,
    default_mp_batchify_fn,
)
from .dataset import ArrayDataset, Dataset, SimpleDataset
from .sampler import (
    BatchSampler,
    FilterSampler,
    IntervalSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

__all__ = [
    "Dataset", "SimpleDataset", "ArrayDataset", "Sampler", "SequentialSampler", "RandomSampler",
    "BatchSampler", "FilterSampler", "IntervalSampler", "DataLoader", "DataLoaderWorkerError",
    "DataLoaderTimeoutError", "default_batchify_fn", "default_mp_batchify_fn", "batchify",
    "vision",
]
