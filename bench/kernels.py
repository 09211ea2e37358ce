"""Kernel micro-benchmarks: the NumPy formulations the framework chose, against the obvious ones.

Run from the repository root (PyTorch, for the last table, lives in the bench venv)::

    python bench/kernels.py [--rounds 30] [--blas-threads 1] [--no-torch]

Each table times its candidates interleaved, round after round (10 calls a round), and prints
the 25th percentile of the per-call times in µs: on a VM whose speed changes from minute to
minute, that is steadier than a median or a minimum. The candidates of one table compute the
same values (checked before timing, to float rounding).

- **Per-channel sums**: ``x.sum(axis=(0, 2, 3))`` against ``nd._reduce.channel_sum`` (the
  slabs before the channel axis first, then each channel's contiguous run), on the gradient
  shapes of LeNet's and the BN-CNN's convolutions.
- **BatchNorm kernels**: the framework's training-mode forward and one-op backward
  (``nd._norm.BatchNorm``, ``_BatchNormGrad``) against the textbook NumPy formulas (three-axis
  means, ``xhat``, the separate sums).
- **LSTM step product**: one recurrent step's ``(32, 256) @ (256, 1024)`` plus the add into the
  gates, in NumPy (OpenBLAS) row-major and transposed, and PyTorch's ``addmm_`` (MKL): the
  per-step part of the LSTM's gap to PyTorch.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy
from _common import loadavg, set_blas_threads

from framework.nd import _norm
from framework.nd._reduce import channel_sum

Fns = dict[str, Callable[[], Any]]


def timed(fns: Fns, rounds: int, calls: int = 10) -> dict[str, float]:
    """25th percentile of the per-call µs of each candidate, timed interleaved."""
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(calls):
                f()
            samples[k].append((time.perf_counter() - t) / calls * 1e6)
    return {k: float(numpy.percentile(v, 25)) for k, v in samples.items()}


def _same(a: Any, b: Any, what: str) -> None:
    scale = max(1.0, float(numpy.abs(b).max()))
    if float(numpy.abs(numpy.asarray(a) - numpy.asarray(b)).max()) > 1e-4 * scale:
        raise AssertionError(f"{what}: the candidates disagree")


def channel_sums(rounds: int) -> None:
    print("\n## Per-channel sums (µs per call, 25th percentile)\n")
    print("| shape | `x.sum(axis=(0, 2, 3))` | `channel_sum` (staged) | ratio |")
    print("|---|---:|---:|---:|")
    rng = numpy.random.default_rng(0)
    for shape in [(64, 6, 24, 24), (64, 16, 8, 8), (32, 8, 16, 16), (32, 16, 16, 16)]:
        g = rng.standard_normal(shape, dtype=numpy.float32)
        _same(channel_sum(numpy, g, 1), g.astype(numpy.float64).sum(axis=(0, 2, 3)), "sum")
        t = timed({"numpy": lambda g=g: g.sum(axis=(0, 2, 3)),
                   "staged": lambda g=g: channel_sum(numpy, g, 1)}, rounds)
        print(f"| {shape} | {t['numpy']:.1f} | {t['staged']:.1f} | "
              f"{t['staged'] / t['numpy']:.2f} |")


def _textbook_bn(x: Any, gamma: Any, beta: Any, eps: float) -> Any:
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / numpy.sqrt(var + eps) * gamma.reshape(1, -1, 1, 1) \
        + beta.reshape(1, -1, 1, 1)


def _textbook_bn_grad(x: Any, g: Any, gamma: Any, mean: Any, var: Any, eps: float) -> Any:
    red = (0, 2, 3)
    n = x.size // x.shape[1]
    inv = 1 / numpy.sqrt(var.reshape(1, -1, 1, 1) + eps)
    xhat = (x - mean.reshape(1, -1, 1, 1)) * inv
    gbeta = g.sum(axis=red)
    ggamma = (g * xhat).sum(axis=red)
    gx = gamma.reshape(1, -1, 1, 1) * inv * (
        g - gbeta.reshape(1, -1, 1, 1) / n - xhat * ggamma.reshape(1, -1, 1, 1) / n)
    return gx, ggamma, gbeta


def _bn_candidates(shape: tuple[int, ...], eps: float) -> Fns:
    """The textbook and the framework's BatchNorm forward and backward on one input shape."""
    rng = numpy.random.default_rng(1)
    c = shape[1]
    x = rng.standard_normal(shape, dtype=numpy.float32)
    g = rng.standard_normal(shape, dtype=numpy.float32)
    gamma = rng.uniform(0.5, 1.5, c).astype(numpy.float32)
    beta = rng.standard_normal(c, dtype=numpy.float32)
    fwd = _norm.BatchNorm(eps=eps, fix_gamma=False)
    fwd.ax, fwd.red = 1, (0, 2, 3)
    fwd.pshape = (1, c, 1, 1)
    rm, rv = numpy.zeros(c, numpy.float32), numpy.ones(c, numpy.float32)
    y, mean, var = fwd.forward(numpy, x, gamma, beta, rm, rv)
    _same(y, _textbook_bn(x, gamma, beta, eps), "BatchNorm forward")
    bwd = _norm._BatchNormGrad(eps, False, 1, "float32")
    _same(bwd.forward(numpy, x, g, gamma, mean, var)[0],
          _textbook_bn_grad(x, g, gamma, mean, var, eps)[0], "BatchNorm backward")
    return {
        "tf": lambda: _textbook_bn(x, gamma, beta, eps),
        "ff": lambda: fwd.forward(numpy, x, gamma, beta, rm, rv),
        "tb": lambda: _textbook_bn_grad(x, g, gamma, mean, var, eps),
        "fb": lambda: bwd.forward(numpy, x, g, gamma, mean, var),
    }


def batch_norm(rounds: int) -> None:
    print("\n## BatchNorm kernels, training mode (µs per call, 25th percentile)\n")
    print("| input | forward: textbook | forward: framework | backward: textbook | "
          "backward: framework |")
    print("|---|---:|---:|---:|---:|")
    for shape in [(32, 16, 16, 16), (32, 8, 16, 16)]:
        t = timed(_bn_candidates(shape, 1e-5), rounds)
        print(f"| {shape} | {t['tf']:.0f} | {t['ff']:.0f} | {t['tb']:.0f} | {t['fb']:.0f} |")


def lstm_step(rounds: int, torch: Any) -> None:
    print("\n## One LSTM step's recurrent product and add, (32, 256) @ (256, 1024) "
          "(µs per call, 25th percentile)\n")
    rng = numpy.random.default_rng(2)
    h = rng.standard_normal((32, 256), dtype=numpy.float32)
    w = rng.standard_normal((256, 1024), dtype=numpy.float32)
    wt = numpy.ascontiguousarray(w.T)
    gates = rng.standard_normal((32, 1024), dtype=numpy.float32)
    rec = numpy.empty((32, 1024), numpy.float32)
    rec_t = numpy.empty((1024, 32), numpy.float32)

    def row_major() -> None:  # what nd._rnn does
        numpy.matmul(h, w, out=rec)
        gates.__iadd__(rec)

    def transposed() -> None:
        numpy.matmul(wt, h.T, out=rec_t)
        gates.__iadd__(rec_t.T)

    fns: Fns = {"NumPy `h @ W`, then add": row_major,
                "NumPy `(W.T @ h.T).T`, then add": transposed}
    if torch is not None:
        th, tw, tg = torch.from_numpy(h), torch.from_numpy(w), torch.from_numpy(gates.copy())
        fns["PyTorch `gates.addmm_(h, W)`"] = lambda: tg.addmm_(th, tw)
    t = timed(fns, rounds)
    print("| implementation | µs |")
    print("|---|---:|")
    for k, v in t.items():
        print(f"| {k} | {v:.0f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="threads of NumPy's OpenBLAS (and PyTorch's), default: as they chose")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    args = p.parse_args(argv)
    torch = None
    if not args.no_torch:
        try:
            import torch  # type: ignore[no-redef]
        except Exception:
            torch = None
    if args.blas_threads is not None:
        set_blas_threads(args.blas_threads)
        if torch is not None:
            torch.set_num_threads(args.blas_threads)
    print(f"load average before: {loadavg()}")
    channel_sums(args.rounds)
    batch_norm(args.rounds)
    lstm_step(args.rounds, torch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
