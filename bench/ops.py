"""Per-op overhead of ``framework`` against NumPy and PyTorch eager (CPU), measured in one run.

Run from the repository root::

    python bench/ops.py [--repeat 7] [--target-ms 40] [--json out.json]

Workloads, all float32 ``c = a + b``-style code as a user writes it:

- ``add (10,)`` and ``add (1000, 1000)``: one elementwise add per iteration;
- ``chain5 (100, 100)``: ``((a + b) * a - b) * a + b``, five ops per iteration;
- ``add+sync``: ``c = a + b; c.wait_to_read()`` (NumPy and PyTorch CPU are synchronous already,
  so for them this is the same loop as ``add``).

Implementations: hand-written NumPy (``numpy.add``), framework with the ``ThreadedEngine``,
framework with the ``NaiveEngine`` and, when ``import torch`` works, PyTorch eager on the CPU.
Framework loops issue N iterations, then call ``npx.waitall()`` once, so asynchronous work is
counted in full; the time is divided by N. N is calibrated so one repeat takes about
``--target-ms``; each measurement is repeated ``--repeat`` times, interleaved across the
implementations, and the median, min-max and IQR are reported, with the ratio of medians to NumPy
and to PyTorch. The garbage collector stays enabled (it is
part of what a user pays). The whole run takes well under two minutes.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy

try:
    import framework
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import framework

from framework import np as fnp
from framework import npx

try:
    import torch
except Exception:  # optional comparison
    torch = None

Loop = Callable[[int], Any]

WORKLOADS: list[tuple[str, tuple[int, ...], str, int]] = [
    # name, shape, kind, ops per iteration
    ("add (10,)", (10,), "add", 1),
    ("add (1000, 1000)", (1000, 1000), "add", 1),
    ("chain5 (100, 100)", (100, 100), "chain5", 5),
    ("add+sync (10,)", (10,), "sync", 1),
    ("add+sync (1000, 1000)", (1000, 1000), "sync", 1),
]

IMPLS = ["NumPy", "framework ThreadedEngine", "framework NaiveEngine", "PyTorch eager"]


# -- loops ----------------------------------------------------------------------------------------
# One hand-written loop per (library, workload): no extra indirection inside the timed region.

def _numpy_loop(kind: str, a: Any, b: Any) -> Loop:
    add = numpy.add

    def add_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = add(a, b)
        return c

    def chain_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = ((a + b) * a - b) * a + b
        return c

    return chain_loop if kind == "chain5" else add_loop


def _torch_loop(kind: str, a: Any, b: Any) -> Loop:
    def add_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = a + b
        return c

    def chain_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = ((a + b) * a - b) * a + b
        return c

    return chain_loop if kind == "chain5" else add_loop


def _framework_loop(kind: str, a: Any, b: Any) -> Loop:
    waitall = npx.waitall

    def add_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = a + b
        waitall()
        return c

    def chain_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = ((a + b) * a - b) * a + b
        waitall()
        return c

    def sync_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = a + b
            c.wait_to_read()
        waitall()
        return c

    return {"add": add_loop, "chain5": chain_loop, "sync": sync_loop}[kind]


def _inputs(shape: tuple[int, ...]) -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal(shape, dtype=numpy.float32)
    b = rng.standard_normal(shape, dtype=numpy.float32)
    return a, b


# -- timing ---------------------------------------------------------------------------------------

def _time(loop: Loop, n: int) -> float:
    t0 = time.perf_counter()
    loop(n)
    return time.perf_counter() - t0


def _calibrate(loop: Loop, target_s: float) -> int:
    """Iterations for one repeat to take about ``target_s`` (also warms the loop up)."""
    n = 1
    while True:
        t = _time(loop, n)
        if t >= target_s / 8 or n >= 1 << 22:
            break
        n *= 8 if t < target_s / 80 else 2
    return max(1, min(1 << 22, round(n * target_s / max(t, 1e-9))))


def _summary(samples: list[float], n: int, ops: int) -> dict[str, Any]:
    q = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    return {
        "n": n, "ops_per_iter": ops, "median_us": statistics.median(samples),
        "min_us": min(samples), "max_us": max(samples), "q1_us": q[0], "q3_us": q[2],
        "samples_us": samples,
    }


def _use_engine(impl: str) -> None:
    """Select the engine an implementation needs (a no-op for NumPy and PyTorch)."""
    if impl.startswith("framework"):
        want = impl.split()[1]
        if framework.engine.engine_type() != want:
            framework.engine.set_engine_type(want)


def _build(impl: str, kind: str, shape: tuple[int, ...]) -> Loop:
    a_np, b_np = _inputs(shape)
    if impl == "NumPy":
        return _numpy_loop(kind, a_np, b_np)
    if impl == "PyTorch eager":
        return _torch_loop(kind, torch.from_numpy(a_np), torch.from_numpy(b_np))
    loop = _framework_loop(kind, fnp.array(a_np), fnp.array(b_np))
    npx.waitall()
    return loop


def _run_workload(name: str, shape: tuple[int, ...], kind: str, ops: int, impls: list[str],
                  repeat: int, target_s: float) -> dict[str, dict[str, Any]]:
    """Measure one workload for every implementation.

    Repeats are interleaved (repeat 1 of every implementation, then repeat 2...), so a change in
    machine load while the bench runs shifts all implementations alike and spares the ratios.
    """
    out: dict[str, dict[str, Any]] = {}
    loops: dict[str, Loop] = {}
    counts: dict[str, int] = {}
    samples: dict[str, list[float]] = {}
    for impl in impls:
        try:
            _use_engine(impl)
            loops[impl] = _build(impl, kind, shape)
            counts[impl] = _calibrate(loops[impl], target_s)
            samples[impl] = []
        except Exception as exc:  # keep going: one broken case must not sink the table
            out[impl] = {"error": f"{type(exc).__name__}: {exc}"}
    for _ in range(repeat):
        for impl in list(samples):
            try:
                _use_engine(impl)
                loops[impl](1)  # warm up after an engine switch (worker start, caches)
                gc.collect()
                samples[impl].append(_time(loops[impl], counts[impl]) / counts[impl] * 1e6)
            except Exception as exc:
                out[impl] = {"error": f"{type(exc).__name__}: {exc}"}
                del samples[impl]
    for impl in impls:
        if impl in samples:
            out[impl] = _summary(samples[impl], counts[impl], ops)
        print(f"  {name:<24} {impl:<26} " + _short(out[impl]), file=sys.stderr)
    return out


def _short(r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR " + r["error"]
    return f"{r['median_us']:10.2f} us  (n={r['n']})"


# -- report ---------------------------------------------------------------------------------------

def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "framework": getattr(framework, "__version__", "?"),
        "framework_inline_size": framework._config.inline_size(),
        "torch": None,
        "torch_threads": None,
        "loadavg_before": _loadavg(),
    }
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def _fmt(x: float) -> str:
    return f"{x:.3g}" if x < 10 else f"{x:,.0f}" if x >= 1000 else f"{x:.1f}"


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| workload | implementation | median µs | min–max µs | IQR µs | × NumPy | × PyTorch |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, by_impl in results.items():
        base = by_impl.get("NumPy", {}).get("median_us")
        ref = by_impl.get("PyTorch eager", {}).get("median_us")
        for impl in IMPLS:
            r = by_impl.get(impl)
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {name} | {impl} | error: {r['error']} | | | | |")
                continue
            med = r["median_us"]
            vs_np = f"{med / base:.2f}" if base else "–"
            vs_t = f"{med / ref:.2f}" if ref else "–"
            lines.append(
                f"| {name} | {impl} | {_fmt(med)} | {_fmt(r['min_us'])}–{_fmt(r['max_us'])} | "
                f"{_fmt(r['q3_us'] - r['q1_us'])} | {vs_np} | {vs_t} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7, help="repeats per measurement (default 7)")
    p.add_argument("--target-ms", type=float, default=40.0,
                   help="approximate duration of one repeat in ms (default 40)")
    p.add_argument("--json", metavar="PATH", help="also write all samples and machine info here")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads(N) first")
    p.add_argument("--only", action="append", metavar="WORKLOAD",
                   help="measure only this workload (repeatable), e.g. 'add (10,)'")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    known = [name for name, *_ in WORKLOADS]
    for name in args.only or ():
        if name not in known:
            p.error(f"unknown workload {name!r}; choose from {known}")

    global torch
    if args.no_torch:
        torch = None
    if torch is not None and args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    info = machine_info()
    only = set(args.only) if args.only else None
    results: dict[str, dict[str, Any]] = {
        name: {} for name, *_ in WORKLOADS if not only or name in only}
    impls = [i for i in IMPLS if torch is not None or i != "PyTorch eager"]
    prev_engine = framework.engine.engine_type()
    t0 = time.perf_counter()
    try:
        for name, shape, kind, ops in WORKLOADS:
            if name in results:
                results[name] = _run_workload(name, shape, kind, ops, impls, args.repeat,
                                              args.target_ms / 1e3)
    finally:
        framework.engine.set_engine_type(prev_engine)
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = _loadavg()

    print("## Machine\n")
    for key in ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy", "torch",
                "torch_threads", "framework", "framework_inline_size", "loadavg_before",
                "loadavg_after"):
        print(f"- {key}: {info[key]}")
    print(f"\n## Results ({args.repeat} repeats, ~{args.target_ms:g} ms each; "
          f"µs per iteration; chain5 is 5 ops per iteration)\n")
    print(markdown_table(results))
    print(f"\n(total {elapsed:.1f} s)")
    load = info["loadavg_before"].split()[0]
    if load != "?" and float(load) > 0.5 * (info["usable_cores"] or 1):
        print("\nwarning: the machine was busy when the bench started (load average above half "
              "the cores); expect noisy numbers", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
