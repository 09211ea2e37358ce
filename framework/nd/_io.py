"""Saving and loading arrays in files NumPy itself can read.

- ``save(file, arr)`` with one array writes a real ``.npy``.
- ``save(file, [a, b])`` / ``save(file, {'w': a})`` and ``savez(file, *args, **kwds)`` write an
  uncompressed ``.npz`` zip; a small extra member ``__framework_meta__`` (a uint8 array holding
  JSON) records whether a list or a dict was saved, so ``load`` gives back the same container.
  ``numpy.load(file, allow_pickle=False)`` reads every file (the metadata is just one more array).
- Files are written to a temporary file in the target directory and renamed into place, so a
  crash never leaves a half-written file where the old one was.
- ``load`` never unpickles. Truncated, corrupt or foreign files raise :class:`FileFormatError`
  naming the file and what was wrong.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy

from ..base import FrameworkError
from ..device import Device, current_device
from . import _mxnet_format  # the module, not names: it uses FileFormatError from here
from ._base import BaseArray
from ._create import from_numpy

__all__ = ["save", "savez", "load", "FileFormatError", "META_KEY", "atomic_write"]

META_KEY = "__framework_meta__"
_FORMAT = 1
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_MXNET_LEGACY_MAGIC = (0x112).to_bytes(8, "little")


class FileFormatError(FrameworkError, ValueError):
    """A file that is truncated, corrupt or not in a format ``load`` reads."""


def _path(file: Any, op: str) -> str:
    if isinstance(file, (str, os.PathLike)):
        return os.fspath(file)
    raise TypeError(f"{op}: file must be a path (str or os.PathLike), got {type(file).__name__}")


def atomic_write(path: str, write: Any) -> None:
    """Call ``write(fileobj)`` on a temporary file next to ``path``, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _host(x: Any, what: str, op: str) -> numpy.ndarray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"{op}: {what} must be an ndarray, got {type(x).__name__}")
    return numpy.asarray(x._host(), order="C")  # ascontiguousarray would make 0-d arrays 1-d


def _write_npz(path: str, arrays: dict[str, numpy.ndarray], kind: str) -> None:
    meta = json.dumps({"format": _FORMAT, "kind": kind, "keys": list(arrays)}).encode()

    def write(f: Any) -> None:
        with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED,
                             allowZip64=True) as zf:
            for name, arr in [*arrays.items(), (META_KEY, numpy.frombuffer(meta, numpy.uint8))]:
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    numpy.lib.format.write_array(member, arr, allow_pickle=False)

    atomic_write(path, write)


def save(file: Any, arr: Any) -> None:
    """Save one array (``.npy``), or a list or dict of arrays (``.npz``)."""
    path = _path(file, "save")
    if isinstance(arr, BaseArray):
        host = _host(arr, "arr", "save")
        atomic_write(path, lambda f: numpy.lib.format.write_array(f, host, allow_pickle=False))
        return
    if isinstance(arr, Mapping):
        arrays = {}
        for k, v in arr.items():
            if not isinstance(k, str):
                raise TypeError(f"save: dict keys must be str, got {type(k).__name__}")
            if k == META_KEY:
                raise ValueError(f"save: the key {META_KEY!r} is reserved")
            arrays[k] = _host(v, f"value for key {k!r}", "save")
        _write_npz(path, arrays, "dict")
        return
    if isinstance(arr, Sequence) and not isinstance(arr, (str, bytes)):
        arrays = {f"arr_{i}": _host(v, f"element {i}", "save") for i, v in enumerate(arr)}
        _write_npz(path, arrays, "list")
        return
    raise TypeError(f"save: expected an ndarray, a list or a dict of ndarrays, got "
                    f"{type(arr).__name__}")


def savez(file: Any, *args: Any, **kwds: Any) -> None:
    """Save arrays into one ``.npz``: positional ones as ``arr_0``, ``arr_1``...; ``load``
    returns a dict, as ``numpy.load`` does."""
    path = _path(file, "savez")
    arrays = {f"arr_{i}": _host(v, f"argument {i}", "savez") for i, v in enumerate(args)}
    for k, v in kwds.items():
        if k in arrays or k == META_KEY:
            raise ValueError(f"savez: cannot use {k!r} as a keyword name")
        arrays[k] = _host(v, f"keyword {k!r}", "savez")
    _write_npz(path, arrays, "dict")


def load(file: Any, device: Device | None = None) -> Any:
    """Load what :func:`save`/:func:`savez` wrote (or any ``.npy``/``.npz`` without pickles).

    Returns an ndarray for ``.npy``, a list for a saved list, a dict otherwise. MXNet's own
    binary NDArray files (``mx.nd.save``, 1.x ``save_parameters``) are read too: a list when
    they hold no names, else a dict (see :mod:`._mxnet_format`).
    """
    path = _path(file, "load")
    dev = device or current_device()
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {path!r}") from None
    if head.startswith(_NPY_MAGIC):
        return from_numpy(_read_npy(path), dev)
    if head.startswith(_ZIP_MAGIC) or head.startswith(_ZIP_EMPTY):
        return _read_npz(path, dev)
    if head == _MXNET_LEGACY_MAGIC:
        loaded = _mxnet_format.load_mxnet(path)
        if isinstance(loaded, dict):
            return {k: from_numpy(v, dev) for k, v in loaded.items()}
        return [from_numpy(v, dev) for v in loaded]
    if not head:
        raise FileFormatError(f"load: {path!r} is empty")
    raise FileFormatError(f"load: {path!r} is not a .npy, .npz or MXNet NDArray file (it "
                          f"starts with {head[:8]!r})")


def _read_npy(path: str) -> numpy.ndarray:
    try:
        arr = numpy.load(path, allow_pickle=False)
    except Exception as exc:
        raise FileFormatError(f"load: {path!r} is truncated or corrupt ({exc})") from exc
    return _check_dtype(arr, path)


def _check_dtype(arr: Any, path: str) -> numpy.ndarray:
    if not isinstance(arr, numpy.ndarray) or arr.dtype.kind not in "biufc":
        raise FileFormatError(f"load: {path!r} holds data of dtype "
                              f"{getattr(arr, 'dtype', type(arr))}, not a numeric array")
    return arr


def _read_npz(path: str, dev: Device) -> Any:
    try:
        with numpy.load(path, allow_pickle=False) as z:
            names = list(z.files)
            data = {name: _check_dtype(z[name], path) for name in names}
    except FileFormatError:
        raise
    except Exception as exc:
        raise FileFormatError(f"load: {path!r} is truncated or corrupt ({exc})") from exc
    meta_raw = data.pop(META_KEY, None)
    kind = "dict"
    if meta_raw is not None:
        try:
            meta = json.loads(meta_raw.tobytes().decode())
            kind = meta["kind"]
            if meta.get("format", 0) > _FORMAT:
                raise FileFormatError(f"load: {path!r} was written by a newer version "
                                      f"(format {meta['format']})")
        except FileFormatError:
            raise
        except Exception as exc:
            raise FileFormatError(f"load: {path!r} has corrupt metadata ({exc})") from exc
    arrays = {k: from_numpy(v, dev) for k, v in data.items()}
    if kind == "list":
        return [arrays[f"arr_{i}"] for i in range(len(arrays))]
    return arrays
