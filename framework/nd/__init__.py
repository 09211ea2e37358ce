"""Arrays and operators: ``ndarray``, the operator registry and the op families.

This package is the layer below autograd and the ``np``/``npx`` front ends. The legacy MXNet
``nd`` namespace (``nd.NDArray`` without NumPy semantics) will also live here.
"""

from __future__ import annotations

from ..engine import waitall
from . import _create, _elemwise, _index, _misc, _op, _reduce, _shape
from ._array import ndarray, set_autograd_hooks, set_np_function_table
from ._base import BaseArray, broadcast_shapes, execute
from ._op import REGISTRY, Op, apply, get_op, register

__all__ = [
    "ndarray", "BaseArray", "Op", "REGISTRY", "apply", "get_op", "register", "execute",
    "broadcast_shapes", "set_autograd_hooks", "set_np_function_table", "waitall",
    "_create", "_elemwise", "_index", "_misc", "_op", "_reduce", "_shape",
]
