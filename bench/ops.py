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

import json
import sys
import time
from typing import Any

import numpy
from _common import (
    Loop,
    busy_warning,
    loadavg,
    machine_info,
    make_parser,
    markdown_table,
    parse,
    print_machine,
    run_workload,
)

import framework
from framework import np as fnp
from framework import npx

try:
    import torch
except Exception:  # optional comparison
    torch = None


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


# -- building -------------------------------------------------------------------------------------

def _build(impl: str, kind: str, shape: tuple[int, ...]) -> Loop:
    a_np, b_np = _inputs(shape)
    if impl == "NumPy":
        return _numpy_loop(kind, a_np, b_np)
    if impl == "PyTorch eager":
        return _torch_loop(kind, torch.from_numpy(a_np), torch.from_numpy(b_np))
    loop = _framework_loop(kind, fnp.array(a_np), fnp.array(b_np))
    npx.waitall()
    return loop


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 40.0, [name for name, *_ in WORKLOADS])
    args = parse(p, argv)

    global torch
    if args.no_torch:
        torch = None
    if torch is not None and args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    info = machine_info(torch)
    only = set(args.only) if args.only else None
    results: dict[str, dict[str, Any]] = {
        name: {} for name, *_ in WORKLOADS if not only or name in only}
    impls = [i for i in IMPLS if torch is not None or i != "PyTorch eager"]
    prev_engine = framework.engine.engine_type()
    t0 = time.perf_counter()
    try:
        for name, shape, kind, ops in WORKLOADS:
            if name in results:
                results[name] = run_workload(
                    name, impls, lambda impl, kind=kind, shape=shape: _build(impl, kind, shape),
                    ops, args.repeat, args.target_ms / 1e3)
    finally:
        framework.engine.set_engine_type(prev_engine)
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()

    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "torch", "torch_threads", "framework", "framework_inline_size",
                         "loadavg_before", "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats, ~{args.target_ms:g} ms each; "
          f"µs per iteration; chain5 is 5 ops per iteration)\n")
    print(markdown_table(results, IMPLS))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
