"""Timing and reporting helpers shared by the benches (``bench/ops.py``, ``bench/autograd.py``).

A *loop* is a callable ``loop(n)`` that runs ``n`` iterations of one workload with one
implementation (framework loops end with ``npx.waitall()`` so asynchronous work is counted).
:func:`run_workload` calibrates each loop, then times the repeats interleaved across the
implementations and summarises them; :func:`markdown_table` prints medians, min-max, IQR and the
ratios to a baseline and to a reference implementation (medians of the per-repeat ratios).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy

try:
    import framework
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import framework

__all__ = [
    "Loop", "time_loop", "calibrate", "summary", "use_engine", "run_workload", "short",
    "ENGINES", "FRAMEWORK_IMPLS", "timed_tasks", "step_loop", "check_steps",
    "loadavg", "machine_info", "blas_threads", "set_blas_threads", "fmt", "markdown_table",
    "print_machine", "busy_warning", "apply_thread_flags",
]

Loop = Callable[[int], Any]


# -- the allocator ------------------------------------------------------------------------------

#: the host memory policy ``framework`` applied at import (``framework.engine._memory``): glibc
#: keeps freed memory for reuse. It holds for every implementation in a bench process, the
#: hand-written NumPy and PyTorch included, so that each is timed at its best: with glibc's
#: defaults the NumPy MLP step took ~420 page faults and 35-80% longer.
#: ``FRAMEWORK_KEEP_FREED_MEMORY=0`` measures everything under glibc's defaults instead.
MALLOC = framework.engine._memory.STATUS


# -- timing ---------------------------------------------------------------------------------------

def make_parser(doc: str, target_ms: float, workloads: Sequence[str]) -> argparse.ArgumentParser:
    """The flags every bench takes; a bench adds its own and calls :func:`parse`."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7, help="repeats per measurement (default 7)")
    p.add_argument("--target-ms", type=float, default=target_ms,
                   help=f"approximate duration of one repeat in ms (default {target_ms:g})")
    p.add_argument("--json", metavar="PATH", help="also write all samples and machine info here")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads(N) first")
    p.add_argument("--only", action="append", metavar="WORKLOAD",
                   help=f"measure only this workload (repeatable), one of {list(workloads)}")
    p.set_defaults(_workloads=list(workloads))
    return p


def add_thread_flags(p: argparse.ArgumentParser, settle_help: str, profile_help: str,
                     steps_help: str) -> None:
    """Flags of the training benches: BLAS threads, settle pause, profile mode."""
    p.add_argument("--blas-threads", type=int,
                   help="threads of NumPy's OpenBLAS (default: left as OpenBLAS chose)")
    p.add_argument("--settle-ms", type=float, default=250.0, help=settle_help)
    p.add_argument("--profile", action="store_true", help=profile_help)
    p.add_argument("--steps", type=int, default=200, help=steps_help)


def parse(p: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse and check ``--repeat`` and ``--only``."""
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    for name in args.only or ():
        if name not in args._workloads:
            p.error(f"unknown workload {name!r}; choose from {args._workloads}")
    return args


def time_loop(loop: Loop, n: int) -> float:
    t0 = time.perf_counter()
    loop(n)
    return time.perf_counter() - t0


def calibrate(loop: Loop, target_s: float) -> int:
    """Iterations for one repeat to take about ``target_s`` (also warms the loop up)."""
    loop(1)  # first calls can be slow (lazy initialisation), do not calibrate on them
    n = 1
    while True:
        t = time_loop(loop, n)
        if t >= target_s / 8 or n >= 1 << 22:
            break
        n *= 8 if t < target_s / 80 else 2
    return max(1, min(1 << 22, round(n * target_s / max(t, 1e-9))))


def summary(samples: list[float], n: int, ops: int) -> dict[str, Any]:
    q = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    return {
        "n": n, "ops_per_iter": ops, "median_us": statistics.median(samples),
        "min_us": min(samples), "max_us": max(samples), "q1_us": q[0], "q3_us": q[2],
        "samples_us": samples,
    }


def step_loop(step: Callable[[], Any], impl: str) -> Loop:
    """``loop(n)``: ``n`` calls of ``step``; a framework implementation's loop ends with
    ``npx.waitall()``, so that its asynchronous work is counted in full."""
    if not impl.startswith("framework"):
        def loop(n: int) -> Any:
            for _ in range(n):
                step()

        return loop
    waitall = framework.npx.waitall

    def framework_loop(n: int) -> Any:
        for _ in range(n):
            step()
        waitall()

    return framework_loop


def check_steps(impls: Sequence[str],
                build: Callable[[str], tuple[Callable[[], Any], Callable[[], Any]]],
                steps: int = 2, what: str = "loss", tol: float = 1e-4) -> dict[str, Any]:
    """``steps`` steps of each implementation from the same start, compared with the first
    implementation that runs. ``build(impl)`` returns ``(step, read)``; ``read()`` returns
    ``(loss or output, weights)``. The differences are the largest ones relative to the
    reference's largest magnitude; one above ``tol`` is reported as the implementation's error."""
    out: dict[str, Any] = {}
    ref: tuple[str, Any, Any] | None = None

    def rel(a: Any, b: Any) -> float:
        a, b = numpy.asarray(a, numpy.float64), numpy.asarray(b, numpy.float64)
        return float(numpy.max(numpy.abs(a - b)) / (numpy.max(numpy.abs(b)) or 1.0))

    for impl in impls:
        try:
            use_engine(impl)
            step, read = build(impl)
            for _ in range(steps):
                step()
            if impl.startswith("framework"):
                framework.npx.waitall()
            loss, ws = read()
        except Exception as exc:
            out[impl] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        if ref is None:
            ref = (impl, loss, ws)
        d_loss = rel(loss, ref[1])
        d_w = max(rel(w, r) for w, r in zip(ws, ref[2], strict=True))
        out[impl] = {"loss": loss, "loss_rel_diff": d_loss, "weights_rel_diff": d_w}
        if d_loss > tol or d_w > tol:
            out[impl]["error"] = (f"disagrees with {ref[0]}: rel. diff of the {what} "
                                  f"{d_loss:.2g}, of the weights {d_w:.2g}")
    return out


#: the framework's engines, and its implementation names in the training benches' tables
ENGINES = ("ThreadedEngine", "NaiveEngine")
FRAMEWORK_IMPLS = [f"framework {mode} {eng}" for eng in ENGINES
                   for mode in ("imperative", "hybridized")]


@contextlib.contextmanager
def timed_tasks(record: Callable[[str, float], None],
                skip: Callable[[], bool] | None = None) -> Iterator[None]:
    """Inside the block, every task pushed to the current engine (the NaiveEngine runs them at
    the push: their time is their own) reports ``record(name, seconds)``; with ``skip``, a task
    is not run at all while ``skip()`` is true (what the Python around the kernels costs)."""
    cls = type(framework.engine._engine._engine)
    orig = cls.push
    clock = time.perf_counter

    def push(self: Any, task: Any, reads: Any = (), writes: Any = (), device: Any = None,
             name: str = "op") -> None:
        def timed() -> None:
            if skip is not None and skip():
                return
            t = clock()
            try:
                task()
            finally:
                record(name, clock() - t)

        orig(self, timed, reads, writes, device, name)

    cls.push = push  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.push = orig  # type: ignore[method-assign]


def use_engine(impl: str) -> None:
    """Select the engine an implementation names (``framework ... NaiveEngine``); a no-op for
    implementations that are not framework's."""
    if impl.startswith("framework"):
        want = next(w for w in impl.replace(",", " ").split() if w.endswith("Engine"))
        if framework.engine.engine_type() != want:
            framework.engine.set_engine_type(want)


def short(r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR " + r["error"]
    return f"{r['median_us']:10.2f} us  (n={r['n']})"


def run_workload(name: str, impls: Sequence[str], build: Callable[[str], Loop], ops: int,
                 repeat: int, target_s: float, width: int = 26,
                 settle_s: float = 0.0) -> dict[str, dict[str, Any]]:
    """Measure one workload for every implementation; ``build(impl)`` returns its loop (called
    after the implementation's engine is selected).

    Repeats are interleaved (repeat 1 of every implementation, then repeat 2...), so a change in
    machine load while the bench runs shifts all implementations alike and spares the ratios.
    ``settle_s``: sleep this long before each repeat, so that the thread pools of the previous
    implementation (OpenBLAS, OpenMP), which spin for a while after their last use, are idle
    and do not compete with this one for the cores.
    """
    out: dict[str, dict[str, Any]] = {}
    loops: dict[str, Loop] = {}
    counts: dict[str, int] = {}
    samples: dict[str, list[float]] = {}
    for impl in impls:
        try:
            use_engine(impl)
            loops[impl] = build(impl)
            counts[impl] = calibrate(loops[impl], target_s)
            samples[impl] = []
        except Exception as exc:  # keep going: one broken case must not sink the table
            out[impl] = {"error": f"{type(exc).__name__}: {exc}"}
    for _ in range(repeat):
        for impl in list(samples):
            try:
                use_engine(impl)
                if settle_s:
                    time.sleep(settle_s)
                loops[impl](1)  # warm up after an engine switch (worker start, caches)
                gc.collect()
                samples[impl].append(time_loop(loops[impl], counts[impl]) / counts[impl] * 1e6)
            except Exception as exc:
                out[impl] = {"error": f"{type(exc).__name__}: {exc}"}
                del samples[impl]
    for impl in impls:
        if impl in samples:
            out[impl] = summary(samples[impl], counts[impl], ops)
        print(f"  {name:<24} {impl:<{width}} " + short(out[impl]), file=sys.stderr)
    return out


# -- machine --------------------------------------------------------------------------------------

def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _openblas() -> tuple[Any, str] | None:
    """NumPy's OpenBLAS library and its symbol prefix/suffix, found among the loaded libraries
    (what ``threadpoolctl`` does, for the one BLAS NumPy's wheels ship)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                               ("openblas_", "64_"), ("openblas_", "")):
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, f"{prefix}%s{suffix}"
    return None


def blas_threads() -> int | None:
    """Threads NumPy's OpenBLAS uses (None when it cannot be found)."""
    found = _openblas()
    if found is None:
        return None
    lib, pattern = found
    return int(getattr(lib, pattern % "get_num_threads")())


def set_blas_threads(n: int) -> bool:
    """Set NumPy's OpenBLAS thread count; False when the library cannot be found."""
    found = _openblas()
    if found is None:
        return False
    lib, pattern = found
    getattr(lib, pattern % "set_num_threads")(int(n))
    return True



def apply_thread_flags(args: argparse.Namespace, torch_module: Any) -> Any:
    """Apply ``--no-torch``, ``--torch-threads`` and ``--blas-threads``; returns the torch module
    to measure with (None when it is skipped or missing)."""
    if args.no_torch:
        torch_module = None
    if torch_module is not None and args.torch_threads:
        torch_module.set_num_threads(args.torch_threads)
    if getattr(args, "blas_threads", None) and not set_blas_threads(args.blas_threads):
        print("warning: NumPy's OpenBLAS not found; --blas-threads ignored", file=sys.stderr)
    return torch_module


def machine_info(torch: Any = None) -> dict[str, Any]:
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
        "blas_threads": blas_threads(),
        "framework": getattr(framework, "__version__", "?"),
        "framework_inline_size": framework._config.inline_size(),
        "malloc": MALLOC,
        "torch": None,
        "torch_threads": None,
        "loadavg_before": loadavg(),
    }
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def print_machine(info: dict[str, Any], keys: Sequence[str]) -> None:
    print("## Machine\n")
    for key in (*keys, "malloc"):
        print(f"- {key}: {info[key]}")


def busy_warning(info: dict[str, Any]) -> None:
    load = info["loadavg_before"].split()[0]
    if load != "?" and float(load) > 0.5 * (info["usable_cores"] or 1):
        print("\nwarning: the machine was busy when the bench started (load average above half "
              "the cores); expect noisy numbers", file=sys.stderr)


# -- report ---------------------------------------------------------------------------------------

def fmt(x: float) -> str:
    return f"{x:.3g}" if x < 10 else f"{x:,.0f}" if x >= 1000 else f"{x:.1f}"


def _ratio(r: dict[str, Any], other: dict[str, Any], other_median: float | None) -> str:
    """``r`` against ``other``: the median of the paired per-repeat ratios (see
    :func:`markdown_table`), "–" without a reference."""
    if not other_median:
        return "–"
    a, b = r.get("samples_us"), other.get("samples_us")
    if a and b and len(a) == len(b):
        return f"{statistics.median(x / y for x, y in zip(a, b)):.2f}"
    return f"{r['median_us'] / other_median:.2f}"


def markdown_table(results: dict[str, dict[str, Any]], impls: Sequence[str],
                   base: str = "NumPy", ref: str = "PyTorch eager",
                   base_label: str = "NumPy", ref_label: str = "PyTorch",
                   refs: dict[str, str] | None = None) -> str:
    """One row per (workload, implementation): median, min-max, IQR, and the ratios to ``base``
    and ``ref`` (``refs`` may name another reference per workload).

    A ratio is the median of the per-repeat ratios: repeat i of both implementations ran back
    to back (``run_workload`` interleaves them), so each ratio compares the two under the same
    machine load, and a slow spell of the machine moves the ratios less than the medians. When
    the repeats do not pair up (an implementation failed midway), the ratio of the medians."""
    lines = [
        f"| workload | implementation | median µs | min–max µs | IQR µs | × {base_label} | "
        f"× {ref_label} |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, by_impl in results.items():
        b = by_impl.get(base, {}).get("median_us")
        r_name = (refs or {}).get(name, ref)
        rf = by_impl.get(r_name, {}).get("median_us")
        for impl in impls:
            r = by_impl.get(impl)
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {name} | {impl} | error: {r['error']} | | | | |")
                continue
            med = r["median_us"]
            vs_b = _ratio(r, by_impl.get(base, {}), b)
            vs_r = _ratio(r, by_impl.get(r_name, {}), rf)
            lines.append(
                f"| {name} | {impl} | {fmt(med)} | {fmt(r['min_us'])}–{fmt(r['max_us'])} | "
                f"{fmt(r['q3_us'] - r['q1_us'])} | {vs_b} | {vs_r} |")
    return "\n".join(lines)
