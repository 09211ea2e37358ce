"""MXNet's binary NDArray list format: what ``mx.nd.save``, 1.x ``npx.save`` of a list or dict,
1.x ``save_parameters``/``ParameterDict.save`` and ``export``'s ``.params`` write.

Layout (little-endian; API.md §1.25)::

    uint64 0x112            list magic
    uint64 0                reserved (MXNet ignores it)
    uint64 n                number of arrays, then n records:
        uint32 magic        0xF993FAC9 (V2) or 0xF993FACA (V3, NumPy-shape semantics)
        int32  stype        0 = dense (1 row_sparse and 2 csr carry extra headers: rejected)
        int32  ndim         then int64 dims[ndim]; V3: ndim 0 is a 0-d array
        int32  dev_type     1 cpu, 2 gpu, 3 cpu_pinned, 5 cpu_shared
        int32  dev_id
        int32  type_flag    0 f32, 1 f64, 2 f16, 3 u8, 4 i32, 5 i8, 6 i64, 7 bool, 8 i16,
                            9 u16, 10 u32, 11 u64, 12 bf16
        raw C-order data    itemsize * prod(dims) bytes
    uint64 k                number of names (0, or n), then k times: uint64 len, utf-8 bytes

Older records are read too: V1 (magic 0xF993FAC8, no stype, int64 dims) and the records from
before V1, which have no magic at all (the first word is ndim, then uint32 dims). A record whose
shape is "none" (V1/V2 ndim 0, V3 ndim -1 or a -1 dim) is an uninitialised NDArray without data.

Which record version is written: MXNet's loader insists that a file's records match the
reader's mode (V3 needs NumPy-shape semantics on; V2 needs it off, except that ``load_parameters``
retries in legacy mode), so one file never mixes versions. ``np_shape=None`` (the default) writes
V2 when every array has ``ndim >= 1``, which 1.x ``mx.nd.load`` and ``load_parameters`` in both
modes read, and V3 for the whole file when some array is 0-d, which V2 cannot express (ndim 0
means "none" there). ``np_shape=True``/``False`` forces V3/V2.

bfloat16 (type flag 12) has no NumPy dtype: it is read as float32 (exact, the bf16 bits are the
upper half of a float32).

Reading never goes past the end of the buffer and checks every count and size against the bytes
that remain before allocating; truncated or corrupt input raises :class:`FileFormatError` naming
the file, the offset and what was expected there.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy

# _io dispatches npx.load to this reader and this module uses _io's error class and atomic
# writer: importing the module objects (not names) lets either be imported first.
from . import _io
from ._base import BaseArray

__all__ = ["is_mxnet_file", "loads", "dumps", "load_mxnet", "save_mxnet", "LIST_MAGIC"]

LIST_MAGIC = 0x112
_V1_MAGIC = 0xF993FAC8
_V2_MAGIC = 0xF993FAC9
_V3_MAGIC = 0xF993FACA
_MAX_NDIM = 32
_BF16_FLAG = 12

_FLAG_TO_DTYPE: dict[int, numpy.dtype] = {
    flag: numpy.dtype(name) for flag, name in enumerate(
        ["float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool", "int16",
         "uint16", "uint32", "uint64"])
}
_DTYPE_TO_FLAG = {dt: flag for flag, dt in _FLAG_TO_DTYPE.items()}
_DEV_TYPES = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
_SPARSE = {1: "row_sparse", 2: "csr"}


class _Reader:
    """Bounds-checked little-endian reads over a buffer; errors name the source and offset."""

    def __init__(self, buf: bytes | bytearray | memoryview, source: str) -> None:
        self.buf = memoryview(buf).cast("B")
        self.pos = 0
        self.source = source

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def error(self, msg: str, at: int | None = None) -> _io.FileFormatError:
        where = self.pos if at is None else at
        return _io.FileFormatError(f"load: {self.source!r} is not a valid MXNet NDArray file: "
                                   f"at offset {where}: {msg}")

    def take(self, n: int, what: str) -> memoryview:
        if n > self.remaining:
            raise _io.FileFormatError(
                f"load: {self.source!r} is truncated: at offset {self.pos} expected {what} "
                f"({n} bytes), but only {self.remaining} bytes remain")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def scalar(self, fmt: str, what: str) -> int:
        return int(struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0])


def _read_shape(r: _Reader, ndim: int, wide: bool, what: str) -> tuple[int, ...]:
    if ndim > _MAX_NDIM:
        raise r.error(f"{what} declares ndim={ndim}; expected at most {_MAX_NDIM}", r.pos - 4)
    fmt = "q" if wide else "I"
    raw = r.take(ndim * struct.calcsize(fmt), f"the {ndim} dims of {what}")
    return tuple(struct.unpack(f"<{ndim}{fmt}", raw))


def _read_array(r: _Reader, i: int) -> numpy.ndarray:
    what = f"array {i}"
    start = r.pos
    magic = r.scalar("I", f"the record magic of {what}")
    if magic in (_V2_MAGIC, _V3_MAGIC):
        stype = r.scalar("i", f"the storage type of {what}")
        if stype in _SPARSE:
            raise _io.FileFormatError(
                f"load: {r.source!r}: {what} (offset {start}) is a sparse {_SPARSE[stype]} "
                "array; only dense arrays can be read (in MXNet, save "
                "x.tostype('default') instead)")
        if stype != 0:
            raise r.error(f"{what} has unknown storage type {stype}; expected 0 (dense)",
                          r.pos - 4)
        ndim = r.scalar("i", f"the ndim of {what}")
        if ndim < -1:
            raise r.error(f"{what} declares ndim={ndim}", r.pos - 4)
        # legacy (V2) semantics: ndim 0 is "none"; NumPy-shape (V3): ndim -1 or a -1 dim is
        none = ndim == -1 or (ndim == 0 and magic == _V2_MAGIC)
        shape = () if ndim <= 0 else _read_shape(r, ndim, True, what)
        if magic == _V3_MAGIC and -1 in shape:
            none = True
    elif magic == _V1_MAGIC:
        ndim = r.scalar("i", f"the ndim of {what}")
        if ndim < -1:
            raise r.error(f"{what} declares ndim={ndim}", r.pos - 4)
        none = ndim <= 0
        shape = () if none else _read_shape(r, ndim, True, what)
    elif magic <= _MAX_NDIM:
        # records from before V1 have no magic: this word is ndim, followed by uint32 dims
        none = magic == 0
        shape = _read_shape(r, magic, False, what)
    else:
        raise r.error(f"{what} starts with 0x{magic:08X}; expected a record magic "
                      f"(0x{_V1_MAGIC:08X}, 0x{_V2_MAGIC:08X} or 0x{_V3_MAGIC:08X})", start)
    if none:
        raise _io.FileFormatError(f"load: {r.source!r}: {what} (offset {start}) is an "
                                  "uninitialised NDArray with no shape or data")
    if any(d < 0 for d in shape):
        raise r.error(f"{what} has a negative dimension in shape {shape}")
    dev_at = r.pos
    dev_type = r.scalar("i", f"the device type of {what}")
    if dev_type not in _DEV_TYPES:
        raise r.error(f"{what} has unknown device type {dev_type}; expected one of "
                      f"{sorted(_DEV_TYPES)}", dev_at)
    r.scalar("i", f"the device id of {what}")
    flag = r.scalar("i", f"the type flag of {what}")
    if flag == _BF16_FLAG:
        stored = numpy.dtype("<u2")
    elif flag in _FLAG_TO_DTYPE:
        stored = _FLAG_TO_DTYPE[flag].newbyteorder("<")
    else:
        raise r.error(f"{what} has unknown type flag {flag}; expected 0..12", r.pos - 4)
    size = 1
    for d in shape:
        size *= d
    nbytes = size * stored.itemsize
    if nbytes > r.remaining:  # checked before anything is allocated
        raise _io.FileFormatError(
            f"load: {r.source!r} is truncated: at offset {r.pos} expected the data of {what} "
            f"(shape {shape}, {nbytes} bytes), but only {r.remaining} bytes remain")
    raw = r.take(nbytes, f"the data of {what}")
    host = numpy.frombuffer(raw, dtype=stored, count=size) if size else numpy.empty(0, stored)
    if flag == _BF16_FLAG:
        host = (host.astype(numpy.uint32) << 16).view(numpy.float32)
    else:
        host = host.astype(stored.newbyteorder("="))  # a private, writable copy
    return host.reshape(shape)


def loads(buf: bytes | bytearray | memoryview,
          source: str = "<bytes>") -> list[numpy.ndarray] | dict[str, numpy.ndarray]:
    """Parse an MXNet NDArray file's bytes: a list when it holds no names, else a dict.

    ``source`` names the input in error messages.
    """
    r = _Reader(buf, source)
    magic = r.scalar("Q", "the file magic")
    if magic != LIST_MAGIC:
        raise r.error(f"the file magic is 0x{magic:X}; expected 0x{LIST_MAGIC:X}", 0)
    r.scalar("Q", "the reserved header word")
    count_at = r.pos
    count = r.scalar("Q", "the number of arrays")
    if count * 4 > r.remaining:
        raise r.error(f"the file declares {count} arrays, more than the {r.remaining} bytes "
                      "that remain can hold", count_at)
    arrays = [_read_array(r, i) for i in range(count)]
    names_at = r.pos
    n_names = r.scalar("Q", "the number of names")
    if n_names not in (0, count):
        raise r.error(f"the file has {n_names} names for {count} arrays; expected 0 or "
                      f"{count}", names_at)
    names: list[str] = []
    for i in range(n_names):
        length_at = r.pos
        length = r.scalar("Q", f"the length of name {i}")
        if length > r.remaining:
            raise _io.FileFormatError(
                f"load: {source!r} is truncated: at offset {length_at} name {i} declares "
                f"{length} bytes, but only {r.remaining} bytes remain")
        raw = r.take(length, f"name {i}")
        try:
            name = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise r.error(f"name {i} is not valid UTF-8 ({exc})", length_at + 8) from None
        if name in names:
            raise r.error(f"name {name!r} appears twice", length_at)
        names.append(name)
    if r.remaining:
        raise r.error(f"{r.remaining} unexpected bytes after the last name")
    if names:
        return dict(zip(names, arrays))
    return arrays


def _host(x: Any, what: str) -> numpy.ndarray:
    if isinstance(x, BaseArray):
        host = numpy.asarray(x._host())
    elif isinstance(x, (numpy.ndarray, numpy.generic)):
        host = numpy.asarray(x)
    else:
        raise TypeError(f"save_mxnet: {what} must be an ndarray (framework or NumPy), got "
                        f"{type(x).__name__}")
    if host.dtype.newbyteorder("=") not in _DTYPE_TO_FLAG:
        raise TypeError(f"save_mxnet: {what} has dtype {host.dtype}, which MXNet's format "
                        f"cannot hold; expected one of {sorted(str(d) for d in _DTYPE_TO_FLAG)}")
    if host.ndim > _MAX_NDIM:
        raise ValueError(f"save_mxnet: {what} has {host.ndim} dimensions; MXNet reads at most "
                         f"{_MAX_NDIM}")
    return host


def _record(host: numpy.ndarray, v3: bool) -> bytes:
    head = struct.pack("<Iii", _V3_MAGIC if v3 else _V2_MAGIC, 0, host.ndim)
    dims = struct.pack(f"<{host.ndim}q", *host.shape)
    flag = _DTYPE_TO_FLAG[host.dtype.newbyteorder("=")]
    tail = struct.pack("<iii", 1, 0, flag)  # device cpu(0), then the type flag
    data = host.astype(host.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
    return head + dims + tail + data


def dumps(data: Any, np_shape: bool | None = None) -> bytes:
    """The bytes of an MXNet NDArray file holding ``data``: a list or tuple (unnamed) or a dict
    with str keys (named) of framework or NumPy arrays.

    ``np_shape`` picks the record version (see the module docstring): ``None`` writes V2 unless
    some array is 0-d, ``True`` writes V3 (NumPy-shape semantics), ``False`` writes V2.
    """
    if isinstance(data, Mapping):
        names = []
        hosts = []
        for k, v in data.items():
            if not isinstance(k, str):
                raise TypeError(f"save_mxnet: dict keys must be str, got {type(k).__name__}")
            names.append(k)
            hosts.append(_host(v, f"the value for key {k!r}"))
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        names = []
        hosts = [_host(v, f"element {i}") for i, v in enumerate(data)]
    elif isinstance(data, (BaseArray, numpy.ndarray)):
        raise TypeError("save_mxnet: MXNet's format holds a list or dict of arrays; wrap a "
                        "single array in a list")
    else:
        raise TypeError(f"save_mxnet: expected a list, tuple or dict of arrays, got "
                        f"{type(data).__name__}")
    scalars = [i for i, h in enumerate(hosts) if h.ndim == 0]
    if np_shape is None:
        v3 = bool(scalars)
    elif np_shape is False and scalars:
        which = names[scalars[0]] if names else scalars[0]
        raise ValueError(f"save_mxnet: array {which!r} is 0-d, which MXNet's legacy (V2) "
                         "records cannot hold; pass np_shape=True or None")
    else:
        v3 = bool(np_shape)
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(hosts))]
    parts += [_record(h, v3) for h in hosts]
    parts.append(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode("utf-8")
        parts.append(struct.pack("<Q", len(raw)) + raw)
    return b"".join(parts)


def _path(fname: Any, op: str) -> str:
    if isinstance(fname, (str, os.PathLike)):
        return os.fspath(fname)
    raise TypeError(f"{op}: fname must be a path (str or os.PathLike), got "
                    f"{type(fname).__name__}")


def is_mxnet_file(path: Any) -> bool:
    """Whether ``path`` starts with MXNet's NDArray-list magic (``False`` if it cannot be read)."""
    try:
        with open(_path(path, "is_mxnet_file"), "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and struct.unpack("<Q", head)[0] == LIST_MAGIC


def load_mxnet(fname: Any) -> list[numpy.ndarray] | dict[str, numpy.ndarray]:
    """Read an MXNet NDArray file (``mx.nd.save``, 1.x ``save_parameters``...) into NumPy
    arrays: a list when the file holds no names, else a dict."""
    path = _path(fname, "load_mxnet")
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"load_mxnet: no such file: {path!r}") from None
    return loads(buf, path)


def save_mxnet(fname: Any, data: Any, np_shape: bool | None = None) -> None:
    """Write ``data`` (a list, tuple or dict of arrays) in MXNet's binary format, atomically.

    The bytes are built before the file is touched, so a bad argument leaves no file behind.
    """
    path = _path(fname, "save_mxnet")
    buf = dumps(data, np_shape=np_shape)
    _io.atomic_write(path, lambda f: f.write(buf))
