"""The asynchronous engine (see ``_engine``): ``push``, ``wait_for``, ``waitall``, engine types."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import _memory  # noqa: F401  (the host memory policy, applied at import)
from ._engine import (
    AsyncError,
    Engine,
    NaiveEngine,
    ThreadedEngine,
    Var,
    engine_type,
    get,
    push,
    set_engine_type,
    user_location,
    wait_for,
    waitall,
)

__all__ = [
    "AsyncError", "Engine", "NaiveEngine", "ThreadedEngine", "Var", "engine_type", "get", "push",
    "set_engine_type", "user_location", "wait_for", "waitall", "bulk", "set_bulk_size",
    "engine_scope",
]

_bulk_size = 15


def set_bulk_size(size: int) -> int:
    """Accepted for MXNet compatibility; returns the previous value.

    MXNet groups ops into bulks to cut per-op engine cost. This engine already runs small ops
    inline when nothing is queued, so the value has no effect on scheduling.
    """
    global _bulk_size
    prev, _bulk_size = _bulk_size, int(size)
    return prev


@contextlib.contextmanager
def bulk(size: int) -> Iterator[None]:
    """``with engine.bulk(n):`` (MXNet compatibility, see :func:`set_bulk_size`)."""
    prev = set_bulk_size(size)
    try:
        yield
    finally:
        set_bulk_size(prev)


@contextlib.contextmanager
def engine_scope(name: str) -> Iterator[None]:
    """Use engine ``name`` ('NaiveEngine' or 'ThreadedEngine') inside the block."""
    prev = engine_type()
    try:
        # switching waits for the old engine and may raise its pending error after the switch
        set_engine_type(name)
        yield
    finally:
        set_engine_type(prev)
