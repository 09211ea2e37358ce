"""``mx.nd.random``: MXNet 1.x's samplers on legacy arrays.

Argument names are 1.x's (``low high loc scale shape dtype ctx out``). An empty ``shape`` gives
one value of shape ``(1,)`` (legacy arrays have no 0-d). NDArray parameters draw ``shape``
values per parameter element: the result has shape ``param.shape + shape`` (1.x's
``sample_*`` behaviour). Draws come from the device's generator, so ``mx.random.seed`` (and
``np.random.seed``) make them reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy

from ..device import resolve
from . import _random, _shape
from ._base import BaseArray
from ._elemwise import binary
from ._legacy import NDArray, as_nd, check_nd

__all__ = ["uniform", "normal", "randn", "randint", "shuffle", "exponential"]


def _shape_of(shape: Any) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, (int, numpy.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _out(res: BaseArray, out: BaseArray | None) -> NDArray:
    if out is None:
        return as_nd(res)
    if not isinstance(out, BaseArray) or out._shape != res._shape:
        raise ValueError(f"nd.random: out must be an NDArray of shape {res._shape}, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    out[...] = res
    return out  # type: ignore[return-value]


def _affine(dist: str, a: Any, b: Any, shape: Any, dtype: Any, ctx: Any,
            out: BaseArray | None) -> NDArray:
    """``a + b * standard`` (normal) or ``a + (b - a) * standard`` (uniform)."""
    extra = _shape_of(shape)
    arrays = [p for p in (a, b) if isinstance(p, BaseArray)]
    if not arrays:
        size = extra or (1,)
        dev = resolve(ctx) if ctx is not None else None
        res = _random.sample(dist, (a, b), size=size, dtype=dtype or numpy.float32, device=dev)
        return _out(res, out)
    ref = arrays[0]
    if any(p._shape != ref._shape for p in arrays):
        raise ValueError(f"nd.random.{dist}: parameter arrays must have one shape, got "
                         f"{[p._shape for p in arrays]}")
    std = (0.0, 1.0)
    res = _random.sample(dist, std, size=ref._shape + extra, dtype=dtype or ref._dtype,
                         device=ref._device)
    res = as_nd(res)

    def expand(p: Any) -> Any:
        if isinstance(p, BaseArray):
            return _shape.reshape(p, p._shape + (1,) * len(extra))
        return p

    lo, hi = expand(a), expand(b)
    scale = hi if dist == "normal" else binary("subtract", hi, lo)
    return _out(binary("add", binary("multiply", res, scale), lo), out)


def uniform(low: Any = 0.0, high: Any = 1.0, shape: Any = (), dtype: Any = None,
            ctx: Any = None, out: BaseArray | None = None, **kwargs: Any) -> NDArray:
    """Uniform samples in ``[low, high)`` (float32 by default)."""
    return _affine("uniform", low, high, shape, dtype, ctx, out)


def normal(loc: Any = 0.0, scale: Any = 1.0, shape: Any = (), dtype: Any = None,
           ctx: Any = None, out: BaseArray | None = None, **kwargs: Any) -> NDArray:
    """Gaussian samples with mean ``loc`` and standard deviation ``scale``."""
    if not isinstance(scale, BaseArray) and scale < 0:
        raise ValueError(f"nd.random.normal: scale must be non-negative, got {scale}")
    return _affine("normal", loc, scale, shape, dtype, ctx, out)


def randn(*shape: int, loc: float = 0.0, scale: float = 1.0, dtype: Any = None,
          ctx: Any = None, **kwargs: Any) -> NDArray:
    return normal(loc, scale, shape, dtype, ctx)


def exponential(scale: float = 1.0, shape: Any = (), dtype: Any = None, ctx: Any = None,
                out: BaseArray | None = None, **kwargs: Any) -> NDArray:
    dev = resolve(ctx) if ctx is not None else None
    res = _random.sample("exponential", (scale,), size=_shape_of(shape) or (1,),
                         dtype=dtype or numpy.float32, device=dev)
    return _out(res, out)


def randint(low: int, high: int, shape: Any = (), dtype: Any = None, ctx: Any = None,
            out: BaseArray | None = None, **kwargs: Any) -> NDArray:
    """Integers in ``[low, high)``; int32 by default (MXNet 1.x)."""
    dev = resolve(ctx) if ctx is not None else None
    res = _random.randint(low, high, size=_shape_of(shape) or (1,), dtype=dtype or numpy.int32,
                          device=dev)
    return _out(res, out)


def shuffle(data: BaseArray, **kwargs: Any) -> NDArray:
    """A copy of ``data`` with its first axis shuffled (1.x returns a new array)."""
    res = _shape.copy(check_nd(data, "random.shuffle"))
    _random.shuffle(res)
    return res  # type: ignore[return-value]
