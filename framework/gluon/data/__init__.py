"""Data loading: datasets, samplers, batchify functions and the DataLoader (``gluon.data``)."""

from __future__ import annotations

from .dataset import ArrayDataset, Dataset, SimpleDataset

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]
