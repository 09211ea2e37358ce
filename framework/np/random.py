"""``np.random``: MXNet's NumPy-style random functions.

Differences from NumPy: results are framework arrays on a device (``device=``/``ctx=``; by
default the device of an array parameter, else the current device); floating results are float32
unless ``dtype=`` says otherwise; ``size=`` is the only shape keyword (``shape=`` is a TypeError);
draws are asynchronous, and invalid values inside array parameters raise ``ValueError`` at the
sync point. Each device has its own generator, seeded with :func:`seed` (see
``framework.nd._random``).
"""

from __future__ import annotations

from typing import Any

from ..nd import _random
from ..nd._base import BaseArray
from ..nd._elemwise import _assign_out

__all__ = [
    "normal", "uniform", "randn", "rand", "randint", "choice", "shuffle", "permutation",
    "multinomial", "multivariate_normal", "gamma", "beta", "exponential", "lognormal",
    "chisquare", "gumbel", "logistic", "pareto", "power", "rayleigh", "weibull", "laplace", "f",
    "seed",
]


def _out(res: BaseArray, out: Any, name: str) -> Any:
    if out is None:
        return res
    return _assign_out(f"random.{name}", out, res)


def _draw(dist: str, params: tuple[Any, ...], size: Any, dtype: Any, ctx: Any, device: Any,
          out: Any) -> Any:
    if size is None and out is not None:
        size = out.shape
    return _out(_random.sample(dist, params, size, dtype, device, ctx), out, dist)


def seed(seed: Any, device: Any = "all", ctx: Any = None) -> None:
    """Seed the generators of all devices (or of ``device``); ``None`` draws fresh entropy."""
    _random.seed(seed, ctx if ctx is not None else device)


def normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None,
           ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Normal draws; float32 by default."""
    return _draw("normal", (loc, scale), size, dtype, ctx, device, out)


def uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: Any = None,
            ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Uniform draws in ``[low, high)``; float32 by default."""
    return _draw("uniform", (low, high), size, dtype, ctx, device, out)


def _shape_args(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape


def randn(*shape: Any, dtype: Any = None, ctx: Any = None, device: Any = None) -> Any:
    """Standard normal draws of shape ``shape``; float32 by default."""
    return normal(0.0, 1.0, _shape_args(shape), dtype, ctx, device)


def rand(*shape: Any, dtype: Any = None, ctx: Any = None, device: Any = None) -> Any:
    """Uniform ``[0, 1)`` draws of shape ``shape``; float32 by default."""
    return uniform(0.0, 1.0, _shape_args(shape), dtype, ctx, device)


def randint(low: Any, high: Any = None, size: Any = None, dtype: Any = None, ctx: Any = None,
            device: Any = None, out: Any = None) -> Any:
    """Integers in ``[low, high)``; int64 by default; ``low``/``high`` must be Python ints."""
    if size is None and out is not None:
        size = out.shape
    return _out(_random.randint(low, high, size, dtype, device, ctx), out, "randint")


def choice(a: Any, size: Any = None, replace: bool = True, p: Any = None, ctx: Any = None,
           device: Any = None, out: Any = None) -> Any:
    """Sample from ``arange(a)`` (int64) or the 1-D array ``a``; a 0-d array when size is None."""
    if size is None and out is not None:
        size = out.shape
    return _out(_random.choice(a, size, replace, p, device, ctx), out, "choice")


def shuffle(x: Any) -> None:
    """Shuffle ``x`` in place along axis 0 (asynchronously, in order with other ops on ``x``)."""
    _random.shuffle(x)


def permutation(x: Any, ctx: Any = None, device: Any = None) -> Any:
    """A permuted ``arange(x)`` (int64) or a shuffled copy of the array ``x``."""
    return _random.permutation(x, device, ctx)


def multinomial(n: Any, pvals: Any, size: Any = None, ctx: Any = None,
                device: Any = None) -> Any:
    """Multinomial counts, shape ``size + (len(pvals),)``, int64."""
    return _random.multinomial(n, pvals, size, device, ctx)


def multivariate_normal(mean: Any, cov: Any, size: Any = None, check_valid: Any = None,
                        tol: Any = None, dtype: Any = None, ctx: Any = None,
                        device: Any = None) -> Any:
    """Multivariate normal draws, shape ``size + (k,)``; float32 by default; ``mean`` of shape
    ``(..., k)`` and ``cov`` of shape ``(..., k, k)`` may carry broadcasting batch dimensions."""
    return _random.multivariate_normal(mean, cov, size, check_valid, tol, dtype, device, ctx)


def gamma(shape: Any, scale: Any = 1.0, size: Any = None, dtype: Any = None, ctx: Any = None,
          device: Any = None, out: Any = None) -> Any:
    """Gamma draws; float32 by default."""
    return _draw("gamma", (shape, scale), size, dtype, ctx, device, out)


def beta(a: Any, b: Any, size: Any = None, dtype: Any = None, ctx: Any = None,
         device: Any = None, out: Any = None) -> Any:
    """Beta draws; float32 by default."""
    return _draw("beta", (a, b), size, dtype, ctx, device, out)


def exponential(scale: Any = 1.0, size: Any = None, dtype: Any = None, ctx: Any = None,
                device: Any = None, out: Any = None) -> Any:
    """Exponential draws; float32 by default."""
    return _draw("exponential", (scale,), size, dtype, ctx, device, out)


def lognormal(mean: Any = 0.0, sigma: Any = 1.0, size: Any = None, dtype: Any = None,
              ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Log-normal draws; float32 by default."""
    return _draw("lognormal", (mean, sigma), size, dtype, ctx, device, out)


def chisquare(df: Any, size: Any = None, dtype: Any = None, ctx: Any = None,
              device: Any = None, out: Any = None) -> Any:
    """Chi-square draws; float32 by default."""
    return _draw("chisquare", (df,), size, dtype, ctx, device, out)


def gumbel(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None,
           ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Gumbel draws; float32 by default."""
    return _draw("gumbel", (loc, scale), size, dtype, ctx, device, out)


def logistic(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None,
             ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Logistic draws; float32 by default."""
    return _draw("logistic", (loc, scale), size, dtype, ctx, device, out)


def laplace(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None,
            ctx: Any = None, device: Any = None, out: Any = None) -> Any:
    """Laplace draws; float32 by default."""
    return _draw("laplace", (loc, scale), size, dtype, ctx, device, out)


def pareto(a: Any, size: Any = None, dtype: Any = None, ctx: Any = None, device: Any = None,
           out: Any = None) -> Any:
    """Pareto II (Lomax) draws as NumPy's; float32 by default."""
    return _draw("pareto", (a,), size, dtype, ctx, device, out)


def power(a: Any, size: Any = None, dtype: Any = None, ctx: Any = None, device: Any = None,
          out: Any = None) -> Any:
    """Power-distribution draws; float32 by default."""
    return _draw("power", (a,), size, dtype, ctx, device, out)


def rayleigh(scale: Any = 1.0, size: Any = None, dtype: Any = None, ctx: Any = None,
             device: Any = None, out: Any = None) -> Any:
    """Rayleigh draws; float32 by default."""
    return _draw("rayleigh", (scale,), size, dtype, ctx, device, out)


def weibull(a: Any, size: Any = None, dtype: Any = None, ctx: Any = None, device: Any = None,
            out: Any = None) -> Any:
    """Weibull draws; float32 by default."""
    return _draw("weibull", (a,), size, dtype, ctx, device, out)


def f(dfnum: Any, dfden: Any, size: Any = None, dtype: Any = None, ctx: Any = None,
      device: Any = None, out: Any = None) -> Any:
    """F-distribution draws; float32 by default."""
    return _draw("f", (dfnum, dfden), size, dtype, ctx, device, out)
