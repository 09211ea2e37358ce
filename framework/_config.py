"""Settings read from the environment once, with scoped overrides for tests.

Every ``FRAMEWORK_*`` variable also accepts its ``MXNET_*`` spelling, the framework's own name
winning when both are set.
"""

from __future__ import annotations

import os

__all__ = ["getenv", "engine_type", "max_inflight", "inline_size", "home_dir", "offline",
           "keep_freed_memory", "steps_ahead"]


def getenv(name: str, default: str | None = None) -> str | None:
    """Read ``FRAMEWORK_<name>``, falling back to ``MXNET_<name>`` and then ``default``."""
    for prefix in ("FRAMEWORK_", "MXNET_"):
        value = os.environ.get(prefix + name)
        if value is not None and value != "":
            return value
    return default


def engine_type() -> str:
    """The engine chosen by ``FRAMEWORK_ENGINE_TYPE`` / ``MXNET_ENGINE_TYPE``."""
    return getenv("ENGINE_TYPE", "ThreadedEnginePerDevice") or "ThreadedEnginePerDevice"


def max_inflight() -> int:
    """Tasks a device queue may hold before ``push`` blocks (back-pressure)."""
    return int(getenv("ENGINE_MAX_INFLIGHT", "256") or 256)


def steps_ahead() -> int:
    """How many earlier training steps may still be computing when ``Trainer.step`` returns
    (``FRAMEWORK_TRAINER_STEPS_AHEAD``, default 1; a negative value: no bound, as in MXNet)."""
    value = getenv("TRAINER_STEPS_AHEAD", "1") or "1"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"FRAMEWORK_TRAINER_STEPS_AHEAD must be an integer, got {value!r}") \
            from None


def inline_size() -> int:
    """Ops whose output has at most this many elements run on the caller's thread when
    nothing is in flight: handing them to a worker would cost more than computing them."""
    return int(getenv("ENGINE_INLINE_SIZE", "16384") or 16384)


def home_dir() -> str:
    """Where downloads are cached (``datasets/``, ``models/``): ``$FRAMEWORK_HOME``, else
    ``$MXNET_HOME``, else ``~/.framework``; read at each call, so a change takes effect at once."""
    return os.path.expanduser(getenv("HOME") or os.path.join("~", ".framework"))


def offline() -> bool:
    """Whether ``FRAMEWORK_OFFLINE`` (or ``MXNET_OFFLINE``) forbids every download."""
    return (getenv("OFFLINE") or "").strip().lower() in ("1", "true", "yes", "on")


def keep_freed_memory() -> bool:
    """Whether ``framework`` tells glibc's malloc to keep freed memory for reuse
    (``FRAMEWORK_KEEP_FREED_MEMORY``, default on; see ``framework.engine._memory``)."""
    return (getenv("KEEP_FREED_MEMORY") or "1").strip().lower() not in ("0", "false", "no", "off")
