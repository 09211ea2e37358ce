"""framework: a Gluon-style deep learning framework on an asynchronous NumPy/CuPy engine.

MXNet code runs after ``import framework as mx``::

    >>> import framework as mx
    >>> from framework import np, npx
    >>> npx.set_np()
    >>> (np.array([1, 2, 3]) * 2).sum()
    array(12.)
"""

from __future__ import annotations

from . import (
    autograd,
    base,
    device,
    dtype,
    engine,
    initializer,
    kvstore,
    lr_scheduler,
    metric,
    nd,
    np,
    npx,
    optimizer,
    random,
)
from .base import FrameworkError, MXNetError
from .device import (
    Context,
    Device,
    cpu,
    cpu_pinned,
    current_context,
    current_device,
    gpu,
    gpu_memory_info,
    num_gpus,
)

context = device
kv = kvstore
init = initializer
__version__ = "0.1.0"

__all__ = [
    "autograd", "base", "device", "context", "dtype", "engine", "nd", "np", "npx", "random",
    "initializer", "init", "kvstore", "kv", "metric", "optimizer", "lr_scheduler",
    "test_utils",
    "FrameworkError", "MXNetError", "Context", "Device", "cpu", "cpu_pinned", "gpu",
    "current_context", "current_device", "gpu_memory_info", "num_gpus", "waitall",
    "__version__",
]

waitall = engine.waitall


def __getattr__(name: str) -> object:
    # test_utils sits above every other layer; import it on first use like MXNet users expect
    if name == "test_utils":
        import importlib

        return importlib.import_module(".test_utils", __name__)
    raise AttributeError(f"module 'framework' has no attribute {name!r}")
