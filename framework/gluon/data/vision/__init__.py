"""Vision data (MXNet's ``gluon.data.vision``): datasets and image transforms.

>>> from framework.gluon.data import vision
>>> ds = vision.MNIST(train=False, subset='mini').transform_first(vision.transforms.ToTensor())
>>> ds[0][0].shape
(1, 28, 28)
"""

from __future__ import annotations

from . import datasets, transforms
from ._files import DatasetNotFoundError, DownloadError
from .datasets import CIFAR10, CIFAR100, MNIST, FashionMNIST, ImageFolderDataset

__all__ = [
    "datasets", "transforms", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100",
    "ImageFolderDataset", "DatasetNotFoundError", "DownloadError",
]
