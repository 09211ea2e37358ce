"""Dataset files: where they are cached, how they are fetched, and the readers of the formats the
vision datasets come in (IDX, CIFAR binary batches, tar archives).

- Cache: ``$FRAMEWORK_HOME/datasets/<name>`` (``MXNET_HOME`` is honoured too; the default home is
  ``~/.framework``), read when a dataset is created, not when this module is imported.
- Mirrors: each dataset lists public mirrors tried in order; ``FRAMEWORK_DATASET_MIRROR=URL``
  replaces them all with ``URL/<name>/<file>`` (a local copy, a company proxy).
- ``FRAMEWORK_OFFLINE=1`` never touches the network: a missing file raises
  :class:`DatasetNotFoundError`, which says which files to put in which directory.
- Downloads go through :func:`framework.gluon.utils.download` (retries with back-off, a checksum
  check, a temporary file renamed into place), so the cache never holds a partial file.
- Readers validate what they read (magic numbers, dimensions, sizes) and name the file when
  something does not fit; a tar member is never written outside the target directory.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy

from ...._config import getenv, home_dir, offline
from ....base import FrameworkError
from ....nd._io import FileFormatError
from ... import utils

__all__ = [
    "Remote", "Source", "DatasetNotFoundError", "DownloadError", "FileFormatError", "data_home",
    "dataset_dir", "offline", "mirrors", "fetch", "read_idx", "read_cifar", "safe_extract",
]

#: ``download`` settings for dataset files (tests shorten them).
DOWNLOAD_RETRIES = 3
DOWNLOAD_BACKOFF = 1.0
DOWNLOAD_TIMEOUT = 60.0


class DatasetNotFoundError(FrameworkError, FileNotFoundError):
    """Dataset files are missing and may not be downloaded (``FRAMEWORK_OFFLINE=1``)."""


class DownloadError(FrameworkError, OSError):
    """No mirror could deliver a dataset file (the message lists every attempt)."""


@dataclass(frozen=True)
class Remote:
    """A file of a dataset and its published checksum (MD5, SHA-1 or SHA-256 hex digest)."""

    filename: str
    checksum: str


@dataclass(frozen=True)
class Source:
    """Where a dataset's files come from: ``mirrors`` are base URLs tried in order."""

    name: str
    mirrors: tuple[str, ...]
    files: tuple[Remote, ...]
    homepage: str

    def remote(self, filename: str) -> Remote:
        for r in self.files:
            if r.filename == filename:
                return r
        raise KeyError(f"{self.name} has no file {filename!r}")


# -- locations ----------------------------------------------------------------------------------
data_home = home_dir


def dataset_dir(name: str) -> str:
    """The default cache directory of a dataset: ``<home>/datasets/<name>``."""
    return os.path.join(data_home(), "datasets", name)


def mirrors(source: Source) -> tuple[str, ...]:
    """The base URLs to try for ``source``: ``$FRAMEWORK_DATASET_MIRROR/<name>/`` alone when
    that variable is set, else the dataset's public mirrors."""
    override = getenv("DATASET_MIRROR")
    if override:
        return (f"{override.rstrip('/')}/{source.name}/",)
    return source.mirrors


def _present(path: str, checksum: str) -> bool:
    return os.path.isfile(path) and utils.check_hash(path, checksum)


def missing_message(source: Source, root: str, filenames: Sequence[str], hint: str = "") -> str:
    urls = mirrors(source)
    lines = [f"{source.name}: these files are missing from {root} (or their checksums do not "
             "match) and downloads are disabled (FRAMEWORK_OFFLINE=1):"]
    for name in filenames:
        lines.append(f"  {name}  (checksum {source.remote(name).checksum}; from "
                     f"{urls[0].rstrip('/')}/{name})")
    lines.append(f"Copy them into {root}, or unset FRAMEWORK_OFFLINE to download them"
                 f" ({source.homepage}).")
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def fetch(source: Source, root: str, filenames: Iterable[str] | None = None,
          hint: str = "") -> dict[str, str]:
    """Make sure ``filenames`` (default: all of ``source``'s files) are in ``root`` with their
    published checksums, downloading what is missing; returns ``{filename: path}``."""
    names = [r.filename for r in source.files] if filenames is None else list(filenames)
    os.makedirs(root, exist_ok=True)
    paths = {n: os.path.join(root, n) for n in names}
    todo = [n for n in names if not _present(paths[n], source.remote(n).checksum)]
    if todo and offline():
        raise DatasetNotFoundError(missing_message(source, root, todo, hint))
    for name in todo:
        failures = []
        for base in mirrors(source):
            url = f"{base.rstrip('/')}/{name}"
            try:
                utils.download(url, path=paths[name], sha1_hash=source.remote(name).checksum,
                               overwrite=True, retries=DOWNLOAD_RETRIES, backoff=DOWNLOAD_BACKOFF,
                               timeout=DOWNLOAD_TIMEOUT)
                break
            except Exception as exc:  # try the next mirror; report all of them at the end
                failures.append((url, exc))
        else:
            tried = "\n".join(f"  {url}: {exc}" for url, exc in failures)
            raise DownloadError(f"{source.name}: could not download {name} into {root}:\n{tried}"
                                f"\nSet FRAMEWORK_DATASET_MIRROR to another mirror, or copy the "
                                f"file into {root} by hand.") from failures[-1][1]
    return paths


# -- IDX (MNIST's format) -----------------------------------------------------------------------
# type byte -> big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: str) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic number."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def read_idx(path: str, ndim: int | None = None) -> numpy.ndarray:
    """Read an IDX file (gzip-compressed or not) into a native-endian NumPy array, checking the
    magic number, the number of dimensions (``ndim`` when given) and that the data size matches
    the header."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise FileFormatError(f"{path}: not an IDX file (only {len(raw)} bytes)")
    zero, kind, nd = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or kind not in _IDX_TYPES:
        raise FileFormatError(f"{path}: not an IDX file (magic number {raw[:4].hex()}, expected "
                              "00 00 <type> <ndim> with type 08, 09, 0b, 0c, 0d or 0e)")
    if ndim is not None and nd != ndim:
        raise FileFormatError(f"{path}: expected an IDX file with {ndim} dimensions, the header "
                              f"says {nd}")
    header = 4 + 4 * nd
    if len(raw) < header:
        raise FileFormatError(f"{path}: truncated IDX header ({len(raw)} bytes, {nd} dimensions "
                              f"need {header})")
    dims = struct.unpack_from(f">{nd}I", raw, 4)
    dtype = numpy.dtype(_IDX_TYPES[kind])
    need = math.prod(dims) * dtype.itemsize
    if len(raw) - header != need:
        raise FileFormatError(f"{path}: the header gives dimensions {dims} ({need} bytes of "
                              f"data) but the file holds {len(raw) - header} bytes of data")
    data = numpy.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def read_idx_pair(images_path: str, labels_path: str, image_shape: tuple[int, ...],
                  num_classes: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Images ``(N,) + image_shape + (1,)`` uint8 and labels ``(N,)`` int32 from two IDX
    files, checked against each other."""
    images = read_idx(images_path, ndim=1 + len(image_shape))
    labels = read_idx(labels_path, ndim=1)
    if images.dtype != numpy.uint8 or tuple(images.shape[1:]) != image_shape:
        raise FileFormatError(f"{images_path}: expected uint8 images of shape {image_shape}, got "
                              f"{images.dtype} images of shape {tuple(images.shape[1:])}")
    if labels.dtype != numpy.uint8:
        raise FileFormatError(f"{labels_path}: expected uint8 labels, got {labels.dtype}")
    if len(images) != len(labels):
        raise FileFormatError(f"{images_path} holds {len(images)} images but {labels_path} "
                              f"holds {len(labels)} labels")
    if labels.size and int(labels.max()) >= num_classes:
        raise FileFormatError(f"{labels_path}: label {int(labels.max())} is out of range for "
                              f"{num_classes} classes")
    return images.reshape(images.shape + (1,)), labels.astype(numpy.int32)


# -- CIFAR binary batches -----------------------------------------------------------------------
_CIFAR_PIXELS = 3 * 32 * 32


def read_cifar(path: str, label_bytes: int, label_index: int, num_classes: Sequence[int],
               count: int | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Read a CIFAR binary batch: records of ``label_bytes`` label bytes (CIFAR-10: 1;
    CIFAR-100: coarse then fine) and 3,072 pixel bytes (R, G, B planes of 32x32). Returns HWC
    images ``(N, 32, 32, 3)`` uint8 and the labels at ``label_index`` as int32. Each label
    byte ``i`` must be below ``num_classes[i]``; ``count`` is the expected number of records."""
    with open(path, "rb") as f:
        raw = f.read()
    record = label_bytes + _CIFAR_PIXELS
    if not raw or len(raw) % record:
        raise FileFormatError(f"{path}: not a CIFAR batch: {len(raw)} bytes is not a positive "
                              f"multiple of the {record}-byte record ({label_bytes} label "
                              f"byte{'s' if label_bytes > 1 else ''} + 3072 pixels)")
    data = numpy.frombuffer(raw, dtype=numpy.uint8).reshape(-1, record)
    if count is not None and len(data) != count:
        raise FileFormatError(f"{path}: expected {count} records, the file holds {len(data)}")
    for i in range(label_bytes):
        top = int(data[:, i].max())
        if top >= num_classes[i]:
            raise FileFormatError(f"{path}: label byte {i} holds {top}, out of range for "
                                  f"{num_classes[i]} classes")
    images = data[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return numpy.ascontiguousarray(images), data[:, label_index].astype(numpy.int32)


# -- tar archives -------------------------------------------------------------------------------
def _member_path(archive: str, dest: str, member: tarfile.TarInfo) -> str:
    name = member.name
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if (name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in parts
            or (parts and ":" in parts[0])):
        raise FileFormatError(f"{archive}: refusing member {name!r}: its path leaves the "
                              "extraction directory")
    if not (member.isfile() or member.isdir()):
        raise FileFormatError(f"{archive}: refusing member {name!r}: only regular files and "
                              "directories are extracted (no links or devices)")
    target = os.path.join(dest, *parts)
    real_dest = os.path.realpath(dest)
    if os.path.commonpath([real_dest, os.path.realpath(target)]) != real_dest:
        raise FileFormatError(f"{archive}: refusing member {name!r}: it resolves outside {dest}")
    return target


def safe_extract(archive: str, dest: str) -> list[str]:
    """Extract the regular files of a (compressed) tar archive into ``dest`` and return their
    paths. Every member is checked before anything is written: absolute paths, ``..``, links
    and devices are refused (:class:`FileFormatError`). Each file is written to a temporary
    name and renamed into place."""
    os.makedirs(dest, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            targets = [(m, _member_path(archive, dest, m)) for m in members]
            out = []
            for member, target in targets:
                if member.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None  # a regular file always has a stream
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(target))
                try:
                    with os.fdopen(fd, "wb") as f:
                        while chunk := src.read(1 << 20):
                            f.write(chunk)
                    os.replace(tmp, target)
                except BaseException:
                    if os.path.exists(tmp):
                        os.remove(tmp)
                    raise
                out.append(target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"{archive}: corrupt or truncated tar archive ({exc})") from exc
    return out
