"""Vision datasets (MXNet's ``gluon.data.vision.datasets``): MNIST, Fashion-MNIST, CIFAR-10/100
and images in class folders.

Items are ``(image, label)`` as in MXNet: the image a framework ``uint8`` array in HWC layout
(``(28, 28, 1)`` or ``(32, 32, 3)``), the label a ``numpy.int32``. A slice ``ds[a:b]`` gives a
batch of images and a NumPy array of labels. ``transform(image, label)`` (MXNet's callback) is
applied to each item when given; ``ds.transform_first(fn)`` transforms the image only.

Files are downloaded on first use into ``$FRAMEWORK_HOME/datasets/<name>`` (see
:mod:`._files` for mirrors, checksums and ``FRAMEWORK_OFFLINE``). ``MNIST(subset='mini')``
reads a 5,000-image subset shipped in the package and never needs the network.

>>> from framework.gluon.data.vision import MNIST
>>> train = MNIST(train=True, subset='mini')
>>> len(train), train[0][0].shape, train[0][0].dtype, type(train[0][1]).__name__
(4000, (28, 28, 1), dtype('uint8'), 'int32')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ....nd._create import from_numpy
from ..dataset import Dataset
from ._files import (
    DatasetNotFoundError,
    FileFormatError,
    Remote,
    Source,
    dataset_dir,
    fetch,
    read_cifar,
    read_idx_pair,
    safe_extract,
)

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset", "SOURCES",
           "MINI_DIR", "MINI_FILES"]

_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# Checksums are those the mirrors publish (torchvision's and Zalando's MD5 lists, the MD5s on
# https://www.cs.toronto.edu/~kriz/cifar.html).
SOURCES: dict[str, Source] = {
    "mnist": Source(
        "mnist",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/",
         "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        tuple(Remote(n, h) for n, h in zip(_MNIST_FILES, (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"))),
        "http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": Source(
        "fashion-mnist",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
        tuple(Remote(n, h) for n, h in zip(_MNIST_FILES, (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"))),
        "https://github.com/zalandoresearch/fashion-mnist"),
    "cifar10": Source(
        "cifar10", ("https://www.cs.toronto.edu/~kriz/",),
        (Remote("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),),
        "https://www.cs.toronto.edu/~kriz/cifar.html"),
    "cifar100": Source(
        "cifar100", ("https://www.cs.toronto.edu/~kriz/",),
        (Remote("cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"),),
        "https://www.cs.toronto.edu/~kriz/cifar.html"),
}

#: The shipped MNIST subset (``tools/make_mnist_mini.py``; see ``_mnist_mini/LICENSE.md``).
MINI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_mnist_mini")
#: Its files and their SHA-256 digests.
MINI_FILES = {
    "train-images-idx3-ubyte.gz":
        "40f228f6e53ac03d56140a227b69c5b60818e1f1209a98a01f7d797cd82e4667",
    "train-labels-idx1-ubyte.gz":
        "e7ecb47cc39f52b2199575408f984b3802f7944ac70c7bb47ede28e21c4879d7",
    "t10k-images-idx3-ubyte.gz":
        "b75451e5a50d52b20941528d47921e1dc8326ee30f677ba392fc2f8b013b8271",
    "t10k-labels-idx1-ubyte.gz":
        "26ab17287d581975673902cf09e70aded893f75cbc5f9d809628c712120b57dd",
}


class _DownloadedDataset(Dataset):
    """Images held as one NumPy array, labels as an int32 NumPy array."""

    _namespace = ""

    def __init__(self, root: str | os.PathLike[str] | None,
                 transform: Callable[..., Any] | None) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: transform must be callable, got "
                            f"{type(transform).__name__}")
        self._transform = transform
        path = dataset_dir(self._namespace) if root is None else os.fspath(root)
        self._root = os.path.expanduser(path)
        self._data, self._label = self._get_data()

    def _get_data(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._label)

    def __getitem__(self, idx: Any) -> Any:
        image = from_numpy(self._data[idx], zero_copy=False)
        label = self._label[idx]
        if self._transform is not None:
            return self._transform(image, label)
        return image, label

    def _batch_fields(self, indices: Sequence[int]) -> list[Any] | None:
        """The default batch of samples ``indices`` (``gluon.data.dataset.batch_fields``): the
        images and labels gathered with one indexing each."""
        if self._transform is not None or \
                type(self).__getitem__ is not _DownloadedDataset.__getitem__:
            return None  # (a subclass's own __getitem__ decides what a sample is)
        idx = numpy.asarray(indices, dtype=numpy.intp)
        return [from_numpy(self._data[idx]), from_numpy(self._label[idx])]


class MNIST(_DownloadedDataset):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, ``(28, 28, 1)``
    ``uint8``, labels 0-9.

    ``root`` defaults to ``$FRAMEWORK_HOME/datasets/mnist`` (read at the call).
    ``subset='mini'`` reads the subset shipped in the package instead (no network, ``root`` is
    ignored): 5,000 real MNIST images split per digit with a seeded shuffle into 4,000 training
    (400 per digit) and 1,000 test images (100 per digit); see ``_mnist_mini/LICENSE.md``.
    """

    _namespace = "mnist"

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Callable[..., Any] | None = None, subset: str | None = None) -> None:
        if subset not in (None, "full", "mini"):
            raise ValueError(f"{type(self).__name__}: subset must be None, 'full' or 'mini', got "
                             f"{subset!r}")
        if subset == "mini" and type(self) is not MNIST:
            raise ValueError(f"{type(self).__name__}: subset='mini' exists for MNIST only")
        self._train = bool(train)
        self._subset = subset
        super().__init__(root, transform)

    def _get_data(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        prefix = "train" if self._train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
        if self._subset == "mini":
            self._root = MINI_DIR
            paths = [os.path.join(MINI_DIR, n) for n in names]
        else:
            hint = ("For a small MNIST that works offline use MNIST(subset='mini') (4,000 "
                    "training and 1,000 test images shipped with the package)."
                    if type(self) is MNIST else "")
            found = fetch(SOURCES[self._namespace], self._root, names, hint)
            paths = [found[n] for n in names]
        return read_idx_pair(paths[0], paths[1], (28, 28), 10)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing,
    ``(28, 28, 1)`` ``uint8``, labels 0-9. ``root`` defaults to
    ``$FRAMEWORK_HOME/datasets/fashion-mnist``."""

    _namespace = "fashion-mnist"

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Callable[..., Any] | None = None) -> None:
        super().__init__(root, train, transform)


def _cifar_files(root: str, source: Source, folder: str,
                 names: list[str]) -> list[str]:
    """The extracted batch files, extracting the (downloaded if needed) archive when any is
    missing."""
    paths = [os.path.join(root, folder, n) for n in names]
    if all(os.path.isfile(p) for p in paths):
        return paths
    archive = source.files[0].filename
    try:
        found = fetch(source, root, [archive])
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(f"{exc}\n(Or put the extracted files {', '.join(names)} in "
                                   f"{os.path.join(root, folder)}.)") from None
    safe_extract(found[archive], root)
    for p in paths:
        if not os.path.isfile(p):
            raise FileFormatError(f"{found[archive]}: the archive has no member "
                                  f"{os.path.relpath(p, root)}")
    return paths


class CIFAR10(_DownloadedDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, ``(32, 32, 3)`` ``uint8``,
    labels 0-9. ``root`` defaults to ``$FRAMEWORK_HOME/datasets/cifar10``; the binary archive
    is downloaded there and its batches extracted into ``cifar-10-batches-bin/``."""

    _namespace = "cifar10"
    _records = 10000  # per batch file

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Callable[..., Any] | None = None) -> None:
        self._train = bool(train)
        super().__init__(root, transform)

    def _get_data(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        names = ([f"data_batch_{i}.bin" for i in range(1, 6)] if self._train
                 else ["test_batch.bin"])
        paths = _cifar_files(self._root, SOURCES["cifar10"], "cifar-10-batches-bin", names)
        parts = [read_cifar(p, 1, 0, (10,), count=self._records) for p in paths]
        return (numpy.concatenate([p[0] for p in parts]),
                numpy.concatenate([p[1] for p in parts]))


class CIFAR100(_DownloadedDataset):
    """CIFAR-100: 50,000 training and 10,000 test colour images, ``(32, 32, 3)`` ``uint8``.
    Labels are the 20 coarse classes, or the 100 fine ones with ``fine_label=True`` (MXNet's
    default is coarse). ``root`` defaults to ``$FRAMEWORK_HOME/datasets/cifar100``."""

    _namespace = "cifar100"
    _records = (50000, 10000)  # train.bin, test.bin

    def __init__(self, root: str | os.PathLike[str] | None = None, fine_label: bool = False,
                 train: bool = True, transform: Callable[..., Any] | None = None) -> None:
        self._train = bool(train)
        self._fine_label = bool(fine_label)
        super().__init__(root, transform)

    def _get_data(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        name = "train.bin" if self._train else "test.bin"
        (path,) = _cifar_files(self._root, SOURCES["cifar100"], "cifar-100-binary", [name])
        return read_cifar(path, 2, int(self._fine_label), (20, 100),
                          count=self._records[0 if self._train else 1])


# -- images in class folders --------------------------------------------------------------------
_UNSET = object()
# Pillow decodes JPEG/PNG when it is installed (it is not a dependency); it is imported at the
# first decode, which keeps ~10 ms off ``import framework``. None: not installed.
_PILImage: Any = _UNSET


def _pil() -> Any:
    global _PILImage
    if _PILImage is _UNSET:
        try:
            from PIL import Image as pil
        except ImportError:  # pragma: no cover - exercised only where Pillow is absent
            pil = None  # type: ignore[assignment]
        _PILImage = pil
    return _PILImage


_LUMA = numpy.array([0.299, 0.587, 0.114])


def _to_channels(img: numpy.ndarray, flag: int, path: str) -> numpy.ndarray:
    """An ``(H, W)`` / ``(H, W, C)`` array as ``(H, W, 3)`` (``flag=1``) or ``(H, W, 1)``."""
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise FileFormatError(f"{path}: expected an (H, W) or (H, W, C) image with 1, 3 or 4 "
                              f"channels, got shape {img.shape}")
    if img.dtype.kind not in "uif" or img.dtype.kind == "b":
        raise FileFormatError(f"{path}: expected a numeric image, got dtype {img.dtype}")
    if img.shape[2] == 4:  # drop alpha
        img = img[:, :, :3]
    if flag:
        return numpy.ascontiguousarray(numpy.repeat(img, 3, axis=2) if img.shape[2] == 1
                                       else img)
    if img.shape[2] == 1:
        return numpy.ascontiguousarray(img)
    gray = img.astype(numpy.float64) @ _LUMA
    if img.dtype.kind in "ui":
        gray = numpy.rint(gray)
    return gray.astype(img.dtype)[:, :, None]


def _load_image(path: str, flag: int) -> numpy.ndarray:
    if path.lower().endswith(".npy"):
        try:
            img = numpy.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise FileFormatError(f"{path}: not a readable .npy image ({exc})") from exc
        return _to_channels(img, flag, path)
    pil = _pil()
    if pil is None:
        raise ImportError(f"ImageFolderDataset: decoding {path} needs Pillow, which is not "
                          "installed (pip install pillow), or store the images as .npy arrays")
    try:
        with pil.open(path) as im:
            img = numpy.asarray(im.convert("RGB" if flag else "L"))
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{path}: cannot decode the image ({exc})") from exc
    return _to_channels(img, flag, path)


class ImageFolderDataset(Dataset):
    """Images stored as ``root/<class>/<image>``: the classes are the sorted sub-folder names
    (``synsets``), ``items`` lists ``(path, label)`` in order.

    ``flag=1`` gives ``(H, W, 3)`` RGB images, ``flag=0`` ``(H, W, 1)`` grayscale ones.
    ``.jpg``/``.jpeg``/``.png`` files are decoded with Pillow (an error names the file when it
    is not installed); ``.npy`` files (``(H, W)`` or ``(H, W, C)`` arrays) are always read.
    Other files are skipped with a warning. ``transform(image, label)`` as in MXNet.
    """

    _exts = (".jpg", ".jpeg", ".png", ".npy")

    def __init__(self, root: str | os.PathLike[str], flag: int = 1,
                 transform: Callable[..., Any] | None = None) -> None:
        if flag not in (0, 1):
            raise ValueError(f"ImageFolderDataset: flag must be 0 (grayscale) or 1 (RGB), got "
                             f"{flag!r}")
        self._root = os.path.expanduser(os.fspath(root))
        if not os.path.isdir(self._root):
            raise FileNotFoundError(f"ImageFolderDataset: root {self._root} is not a directory")
        self._flag = flag
        self._transform = transform
        self.synsets: list[str] = []
        self.items: list[tuple[str, int]] = []
        self._list_images(self._root)

    def _list_images(self, root: str) -> None:
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                warnings.warn(f"Ignoring {path}, which is not a directory.", stacklevel=3)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                file = os.path.join(path, filename)
                ext = os.path.splitext(file)[1].lower()
                if ext not in self._exts:
                    warnings.warn(f"Ignoring {file} of type {ext}. Only support "
                                  f"{', '.join(self._exts)}", stacklevel=3)
                    continue
                self.items.append((file, label))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> Any:
        path, label = self.items[idx]
        image = from_numpy(_load_image(path, self._flag))
        if self._transform is not None:
            return self._transform(image, label)
        return image, label

