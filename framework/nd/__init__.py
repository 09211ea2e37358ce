"""Arrays and operators: ``ndarray``, the operator registry and the op families.

This package is the layer below autograd and the ``np``/``npx`` front ends. It is also MXNet
1.x's legacy ``nd`` namespace: ``nd.NDArray`` (``_legacy``), its functions (``_legacy_ops``), the
CamelCase layer ops, ``pad``, the ``*_update`` ops and ``save``/``load`` (``_legacy_nn``), and the
``nd.random``/``nd.linalg`` submodules.
"""

from __future__ import annotations

from ..engine import waitall
from . import (
    _create,
    _elemwise,
    _index,
    _legacy,
    _legacy_nn,
    _legacy_ops,
    _misc,
    _op,
    _reduce,
    _shape,
    linalg,
    random,
)
from ._array import ndarray, set_autograd_hooks, set_np_function_table
from ._base import BaseArray, broadcast_shapes, execute
from ._legacy import NDArray
from ._op import REGISTRY, Op, apply, get_op, register

__all__ = [
    "ndarray", "BaseArray", "Op", "REGISTRY", "apply", "get_op", "register", "execute",
    "broadcast_shapes", "set_autograd_hooks", "set_np_function_table", "waitall",
    "_create", "_elemwise", "_index", "_misc", "_op", "_reduce", "_shape",
]

# the legacy namespace: every public name of _legacy_ops and _legacy_nn
for _mod in (_legacy_ops, _legacy_nn):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
__all__ += ["NDArray", "random", "linalg", "_legacy", "_legacy_nn", "_legacy_ops",
            *_legacy_ops.__all__, *_legacy_nn.__all__]
