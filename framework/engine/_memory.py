"""Host memory policy: keep freed memory for reuse instead of giving it back at every free.

NumPy allocates every array through the C library's ``malloc``. With glibc's defaults, blocks
from 128 KB up are first served by ``mmap`` and, once the dynamic threshold has moved, from the
heap, whose top is trimmed (given back to the kernel) whenever more than twice that threshold is
free there. A training step allocates and frees the same few 0.1-4 MB buffers (activations,
gradients, im2col columns) every iteration, so the pages went back to the kernel at each step and
every 4 KB of them faulted back in at the next: measured here, about 1,000-2,000 page faults per
LeNet step and 10.5-11 ms a step, against none and 6.2 ms with the policy below. MXNet kept
freed memory in its own pooled storage manager for the same reason.

:func:`keep_freed_memory` sets glibc's ``M_TRIM_THRESHOLD`` (no trimming until 256 MB are free
at the heap's top) and ``M_MMAP_THRESHOLD`` (``mmap`` only for blocks of 32 MB or more, glibc's
own ceiling for the dynamic threshold). ``framework`` applies it at import unless
``FRAMEWORK_KEEP_FREED_MEMORY=0`` (or ``MXNET_KEEP_FREED_MEMORY=0``). The cost: the process keeps
up to 256 MB of freed heap, and memory freed from a block under 32 MB stays with the process.
On C libraries other than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys

from .. import _config

__all__ = ["keep_freed_memory", "STATUS"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
TRIM_BYTES, MMAP_BYTES = 256 << 20, 32 << 20


def keep_freed_memory() -> str:
    """Apply the policy (idempotent); returns a line saying what is in effect."""
    if not sys.platform.startswith("linux"):
        return "C library defaults (not Linux)"
    try:
        mallopt = ctypes.CDLL(None).mallopt
        gnu = ctypes.CDLL(None).gnu_get_libc_version
    except (OSError, AttributeError):
        return "C library defaults (not glibc)"
    gnu.restype = ctypes.c_char_p
    if mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES) != 1 or \
            mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES) != 1:
        return "C library defaults (mallopt refused)"
    return (f"keep freed memory (glibc {gnu().decode()}: M_TRIM_THRESHOLD 256 MB, "
            "M_MMAP_THRESHOLD 32 MB)")


def _apply() -> str:
    if not _config.keep_freed_memory():
        return "C library defaults (FRAMEWORK_KEEP_FREED_MEMORY=0)"
    return keep_freed_memory()


#: what :func:`_apply` did when ``framework`` was imported
STATUS = _apply()
