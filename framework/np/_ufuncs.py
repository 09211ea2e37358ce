"""NumPy's elementwise functions (``np.exp``, ``np.add``...) built from the op table rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nd._elemwise import BINARY, UNARY, binary, unary

__all__ = ["make_unary", "make_binary", "UNARY_NAMES", "BINARY_NAMES"]

UNARY_NAMES = tuple(n for n in UNARY if n not in ("relu", "sigmoid", "softsign", "softrelu",
                                                  "rsqrt", "rcbrt"))
BINARY_NAMES = tuple(BINARY)


def _reject(name: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{name}() got unsupported keyword arguments {sorted(kwargs)}")


def make_unary(name: str) -> Callable[..., Any]:
    def fn(x: Any, out: Any = None, **kwargs: Any) -> Any:
        _reject(name, kwargs)
        return unary(name, x, out=out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``; integer input gives float32 where NumPy gives " \
                 "float64." if UNARY[name][1] == "float" else f"Elementwise ``{name}``."
    return fn


def make_binary(name: str) -> Callable[..., Any]:
    def fn(x1: Any, x2: Any, out: Any = None, **kwargs: Any) -> Any:
        _reject(name, kwargs)
        return binary(name, x1, x2, out=out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` with broadcasting. A Python scalar never changes "
                  "the array's dtype (MXNet's rule).")
    return fn
