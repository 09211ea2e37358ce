"""Gluon helpers (MXNet's ``gluon.utils``): splitting batches across devices, gradient clipping,
downloads with checksums, hook handles and fused-RNN parameter splitting.

>>> from framework import np, cpu
>>> from framework.gluon.utils import split_and_load
>>> [x.shape for x in split_and_load(np.zeros((4, 3)), [cpu(0), cpu(1)])]
[(2, 3), (2, 3)]
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import tempfile
import time
import urllib.parse
import warnings
import weakref
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import numpy
import requests
from tqdm import tqdm

from .. import np as _np
from ..device import Device
from ..initializer import rnn_param_layout
from ..nd._base import BaseArray

__all__ = [
    "split_data", "split_and_load", "clip_global_norm", "check_sha1", "check_hash", "download",
    "replace_file", "shape_is_known", "HookHandle", "split_rnn_params", "ChecksumError",
]


# -- batches across devices ---------------------------------------------------------------------
def split_data(data: Any, num_slice: int, batch_axis: int = 0,
               even_split: bool = True) -> list[Any]:
    """Split ``data`` into ``num_slice`` slices along ``batch_axis``.

    With ``even_split=False`` the first ``size % num_slice`` slices get one extra element;
    otherwise ``size`` must be a multiple of ``num_slice`` (``ValueError``).
    """
    if num_slice < 1:
        raise ValueError(f"split_data: num_slice must be at least 1, got {num_slice}")
    shape = tuple(data.shape)
    if not -len(shape) <= batch_axis < len(shape):
        raise ValueError(f"split_data: batch_axis {batch_axis} is out of range for data of "
                         f"shape {shape}")
    size = shape[batch_axis]
    if size < num_slice:
        raise ValueError(f"Too many slices for data with shape {shape}: {size} elements along "
                         f"axis {batch_axis} cannot make {num_slice} slices")
    if even_split and size % num_slice != 0:
        raise ValueError(f"data with shape {shape} cannot be evenly split into {num_slice} "
                         f"slices along axis {batch_axis}. Use a batch size that's a multiple "
                         f"of {num_slice} or set even_split=False to allow uneven "
                         "partitioning of data.")
    if num_slice == 1:
        return [data]
    each, extras = divmod(size, num_slice)
    sizes = [each + 1] * extras + [each] * (num_slice - extras)
    points = list(itertools.accumulate(sizes))[:-1]
    return list(_np.split(data, points, axis=batch_axis))


def _devices(ctx_list: Any) -> list[Device]:
    if isinstance(ctx_list, Device):
        return [ctx_list]
    devices = list(ctx_list)
    if not devices:
        raise ValueError("split_and_load: ctx_list is empty")
    for d in devices:
        if not isinstance(d, Device):
            raise TypeError(f"split_and_load: ctx_list must hold devices (mx.cpu(), mx.gpu()), "
                            f"got {type(d).__name__}")
    return devices


def split_and_load(data: Any, ctx_list: Sequence[Device] | Device, batch_axis: int = 0,
                   even_split: bool = True) -> list[Any]:
    """Split ``data`` (a framework or NumPy array) along ``batch_axis`` and put slice ``i`` on
    ``ctx_list[i]``. Always returns a list, even for one device. NumPy input keeps its dtype."""
    devices = _devices(ctx_list)
    if not isinstance(data, BaseArray):
        data = _np.array(data, device=devices[0])
    if len(devices) == 1:
        return [data.as_in_context(devices[0])]
    slices = split_data(data, len(devices), batch_axis, even_split)
    return [s.as_in_context(d) for s, d in zip(slices, devices)]


# -- gradient clipping --------------------------------------------------------------------------
def clip_global_norm(arrays: Sequence[Any], max_norm: float,
                     check_isfinite: bool = True) -> Any:
    """Rescale ``arrays`` in place so that their joint 2-norm is at most ``max_norm``.

    Returns the total norm *before* clipping: a Python float when ``check_isfinite`` (which
    waits for the result and warns if it is nan or inf), else a 0-d array, so nothing waits.
    The norm accumulates in float32 at least (float16 gradients do not overflow).
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("clip_global_norm: arrays is empty")
    device = arrays[0].device
    total = None
    for arr in arrays:
        x = arr.reshape(-1)
        if x.dtype != numpy.float64:
            x = x.astype("float32")
        sq = (x * x).sum().as_in_context(device)
        total = sq if total is None else total + sq
    assert total is not None
    total_norm = _np.sqrt(total)
    if check_isfinite:
        value = float(total_norm.item())
        if not math.isfinite(value):
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be "
                                      "undefined."), stacklevel=2)
    scale = _np.minimum(max_norm / (total_norm + 1e-8), 1.0)
    for arr in arrays:
        arr *= scale.as_in_context(arr.device).astype(arr.dtype)
    return value if check_isfinite else total_norm


# -- files and downloads ------------------------------------------------------------------------
class ChecksumError(UserWarning, ValueError):
    """A downloaded file's SHA-1 does not match. (MXNet raised a ``UserWarning`` here; this is
    both that and a ``ValueError``.)"""


def check_sha1(filename: str | os.PathLike[str], sha1_hash: str) -> bool:
    """Whether the SHA-1 of the file's content is ``sha1_hash`` (hex, any case)."""
    return _file_digest(filename, "sha1") == sha1_hash.lower()


# the hash a hex digest names, by its length: mirrors publish MD5 or SHA-256 as often as SHA-1
_DIGEST_ALGOS = {32: ("md5", "MD5"), 40: ("sha1", "SHA-1"), 64: ("sha256", "SHA-256")}


def _digest_algo(hexdigest: str) -> tuple[str, str]:
    algo = _DIGEST_ALGOS.get(len(hexdigest))
    if algo is None:
        raise ValueError(f"a checksum must be an MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64) "
                         f"digest, got {hexdigest!r} ({len(hexdigest)} characters)")
    return algo


def _file_digest(filename: str | os.PathLike[str], algo: str) -> str:
    h = hashlib.new(algo)
    with open(filename, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_hash(filename: str | os.PathLike[str], hexdigest: str) -> bool:
    """Whether the file's MD5, SHA-1 or SHA-256 (chosen by the digest's length: 32, 40 or 64
    hex digits) is ``hexdigest`` (any case)."""
    return _file_digest(filename, _digest_algo(hexdigest)[0]) == hexdigest.lower()


def replace_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Move ``src`` onto ``dst`` atomically (same file system), replacing ``dst``."""
    os.replace(src, dst)


def _target(url: str, path: str | os.PathLike[str] | None) -> str:
    base = urllib.parse.urlsplit(url).path.split("/")[-1]
    if path is None:
        if not base:
            raise ValueError(f"download: cannot make a file name from the URL {url!r}; pass "
                             "path=")
        return base
    path = os.path.expanduser(os.fspath(path))
    if os.path.isdir(path):
        if not base:
            raise ValueError(f"download: cannot make a file name from the URL {url!r}; pass a "
                             "file path")
        return os.path.join(path, base)
    return path


def _fetch(url: str, fname: str, sha1_hash: str | None, verify_ssl: bool,
           timeout: Any) -> None:
    """One attempt: stream ``url`` into a temporary file next to ``fname``, check it, rename it
    into place. Whatever fails, the temporary file is removed and ``fname`` is untouched."""
    directory = os.path.dirname(os.path.abspath(fname))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(fname)}.", suffix=".part",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f, requests.get(url, stream=True, verify=verify_ssl,
                                                    timeout=timeout) as r:
            if r.status_code != 200:
                raise _HTTPStatusError(r.status_code, url)
            length = r.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            written = 0
            with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=os.path.basename(fname), disable=None, leave=False) as bar:
                for chunk in r.iter_content(chunk_size=1 << 16):
                    if chunk:
                        f.write(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            if (expected is not None and written != expected
                    and not r.headers.get("Content-Encoding")):
                raise OSError(f"download of {url} is incomplete: got {written} of {expected} "
                              "bytes")
            f.flush()
            os.fsync(f.fileno())
        if sha1_hash and not check_hash(tmp, sha1_hash):
            raise ChecksumError(f"File {fname} was downloaded from {url} but its "
                                f"{_digest_algo(sha1_hash)[1]} does not match {sha1_hash}. The "
                                "repository may be outdated or the download corrupted.")
        replace_file(tmp, fname)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class _HTTPStatusError(OSError):
    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"Failed downloading url {url}: HTTP status {status}")
        self.status = status


def _retryable(exc: BaseException) -> bool:
    # a client error other than a timeout or rate limit will not change by asking again
    if isinstance(exc, _HTTPStatusError):
        return not (400 <= exc.status < 500) or exc.status in (408, 425, 429)
    return isinstance(exc, (OSError, requests.RequestException, ChecksumError))


def download(url: str, path: str | os.PathLike[str] | None = None, overwrite: bool = False,
             sha1_hash: str | None = None, retries: int = 5, verify_ssl: bool = True,
             timeout: float | tuple[float, float] = 60.0, backoff: float = 1.0) -> str:
    """Download ``url`` to ``path`` (a file, a directory, or the URL's file name in the current
    directory) and return the file name.

    An existing file is kept unless ``overwrite`` or its SHA-1 differs from ``sha1_hash``. The
    data streams into a temporary file in the target directory that is renamed into place only
    when complete and (with ``sha1_hash``) verified, so the target never holds a partial
    file. Failed attempts (network errors, 5xx, a checksum mismatch) are retried ``retries``
    times, sleeping ``backoff * 2**k`` seconds (at most 30) in between; ``timeout`` is
    requests' connect/read timeout in seconds. A checksum mismatch raises
    :class:`ChecksumError`. ``sha1_hash`` may also be an MD5 or SHA-256 digest (told apart by
    length, see :func:`check_hash`).
    """
    if retries < 0:
        raise ValueError(f"download: retries must be at least 0, got {retries}")
    fname = _target(url, path)
    if not verify_ssl:
        warnings.warn("Unverified HTTPS request is being made (verify_ssl=False). Adding "
                      "certificate verification is strongly advised.", stacklevel=2)
    if sha1_hash:
        _digest_algo(sha1_hash)  # a malformed digest fails before any transfer
    if (not overwrite and os.path.exists(fname)
            and (not sha1_hash or check_hash(fname, sha1_hash))):
        return fname
    directory = os.path.dirname(os.path.abspath(fname))
    os.makedirs(directory, exist_ok=True)
    for attempt in range(retries + 1):
        try:
            _fetch(url, fname, sha1_hash, verify_ssl, timeout)
            return fname
        except Exception as exc:
            if attempt == retries or not _retryable(exc):
                raise
            delay = min(backoff * 2 ** attempt, 30.0)
            left = retries - attempt
            warnings.warn(f"download of {url} failed ({exc!r}); retrying in {delay:.1f} s, "
                          f"{left} attempt{'s' if left > 1 else ''} left", stacklevel=2)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# -- shapes and hooks ---------------------------------------------------------------------------
def shape_is_known(shape: Sequence[int] | None) -> bool:
    """Whether every dimension of ``shape`` is known (``-1`` marks an unknown one)."""
    if shape is None:
        return False
    for dim in shape:
        if dim == -1:
            return False
        if dim < -1:
            raise ValueError(f"shape dimension size cannot be less than -1, got {dim} in "
                             f"{tuple(shape)}")
    return True


_HOOK_IDS = itertools.count()


class HookHandle:
    """A handle on a hook stored in a dict-like registry; ``detach()`` removes it, and using
    the handle as a context manager detaches on exit.

    ``HookHandle(hooks, hook)`` attaches at once; ``HookHandle()`` then ``attach(hooks, hook)``
    is MXNet's form. The registry is held weakly when it allows it (an ``OrderedDict`` does),
    so a handle does not keep a dead block's hooks alive.
    """

    def __init__(self, hooks_dict: MutableMapping[int, Callable[..., Any]] | None = None,
                 hook: Callable[..., Any] | None = None) -> None:
        self._hooks_ref: Callable[[], MutableMapping[int, Any] | None] | None = None
        self._id: int | None = None
        if hooks_dict is not None:
            if hook is None:
                raise TypeError("HookHandle: a hook is needed with hooks_dict")
            self.attach(hooks_dict, hook)

    @property
    def id(self) -> int | None:
        """The key of the hook in its registry (``None`` before ``attach``)."""
        return self._id

    def attach(self, hooks_dict: MutableMapping[int, Callable[..., Any]],
               hook: Callable[..., Any]) -> None:
        """Store ``hook`` in ``hooks_dict`` under a fresh key (hooks run in attach order)."""
        if self._hooks_ref is not None:
            raise RuntimeError("The same handle cannot be attached twice.")
        self._id = next(_HOOK_IDS)
        hooks_dict[self._id] = hook
        try:
            self._hooks_ref = weakref.ref(hooks_dict)  # type: ignore[arg-type]
        except TypeError:  # a plain dict cannot be weakly referenced
            self._hooks_ref = lambda: hooks_dict

    def detach(self) -> None:
        """Remove the hook (again is a no-op)."""
        hooks = self._hooks_ref() if self._hooks_ref is not None else None
        if hooks is not None and self._id is not None:
            hooks.pop(self._id, None)

    def __getstate__(self) -> tuple[Any, int | None]:
        return (self._hooks_ref() if self._hooks_ref is not None else None, self._id)

    def __setstate__(self, state: tuple[Any, int | None]) -> None:
        hooks, self._id = state
        self._hooks_ref = None
        if hooks is not None:
            try:
                self._hooks_ref = weakref.ref(hooks)
            except TypeError:
                self._hooks_ref = lambda: hooks

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.detach()


# -- fused RNN parameters -----------------------------------------------------------------------
def split_rnn_params(param: Any, mode: str, num_layers: int, input_size: int,
                     hidden_size: int, bidirectional: bool = False,
                     projection_size: int | None = None) -> dict[str, Any]:
    """Split a fused RNN parameter vector into named views ``{l0_i2h_weight: (G*H, in), ...,
    r0_h2h_bias: (G*H,)}`` (MXNet 2.0). The layout is
    :func:`framework.initializer.rnn_param_layout`; the pieces are reshaped slices of
    ``param``."""
    layout = rnn_param_layout(mode, num_layers, input_size, hidden_size, bidirectional,
                              projection_size)
    total = sum(int(numpy.prod(s)) for _, s in layout)
    if tuple(param.shape) != (total,):
        raise ValueError(f"split_rnn_params: expected a vector of {total} values for this "
                         f"{mode!r} layout, got shape {tuple(param.shape)}")
    out: dict[str, Any] = {}
    begin = 0
    for name, shape in layout:
        size = int(numpy.prod(shape))
        out[name] = param[begin:begin + size].reshape(shape)
        begin += size
    return out
