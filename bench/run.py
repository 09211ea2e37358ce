"""Every workload of the performance plan in one run and one table (CPU).

Run from the repository root (PyTorch columns need the bench venv, see docs/performance.md)::

    python bench/run.py [--repeat 5] [--blas-threads 1] [--torch-threads 1] [--no-torch]
                        [--only WORKLOAD] [--scale 1.0] [--json out.json]

Workloads (float32), each measured for framework (ThreadedEngine and NaiveEngine; imperative and
hybridized where a Gluon block is involved), hand-written NumPy and PyTorch CPU when ``torch``
imports:

- ``add (10,)``: ``c = a + b``, the per-op overhead (``bench/ops.py``);
- ``chain5 (100, 100)``: ``((a + b) * a - b) * a + b``, µs per chain of 5 ops;
- ``chain5 in record``: the same with ``a``, ``b`` variables inside ``autograd.record()`` (PyTorch:
  ``requires_grad``; NumPy: the plain chain);
- ``matmul (1024, 1024)``: ``a @ b``;
- ``MLP train (batch 128)``, ``LeNet train (batch 64)``, ``MLP infer (batch 1)``: Gluon training
  steps and batch-1 inference (``bench/gluon.py``);
- ``LSTM train (T35 N32 H256)``: when ``bench/rnn.py`` is present (``npx.rnn``);
- ``BN-CNN train (batch 32)``: a CNN with BatchNorm and Dropout (``bench/bn_cnn.py``); its
  baseline is the framework's imperative ThreadedEngine row;
- ``DataLoader epoch``: when ``bench/dataloader.py`` is present; its baseline is the plain Python
  loop that builds the same batches;
- ``main job epoch (MNIST mini)``: one training epoch of ``examples/train_mnist.py``'s loop
  (``bench/mainjob.py``; at most 3 repeats of one epoch); its baseline is the framework's
  imperative ThreadedEngine row (no hand-written NumPy version of the whole job).

Timing as in the other benches (``bench/_common.py``): the loop count is calibrated per
implementation, framework loops end with ``npx.waitall()``, repeats are interleaved across the
implementations of a workload, and the table reports the median, min-max, IQR and the ratios to
the workload's baseline (NumPy, or the Python loop) and to PyTorch (each the median of the
per-repeat ratios: repeat i of two implementations ran back to back). The
correctness checks of ``bench/gluon.py`` (loss and weights against NumPy) run first. ``--scale``
multiplies every repeat's target duration (0.3 for a quick look).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import gluon as gbench
import numpy
import ops as obench
from _common import (
    Loop,
    apply_thread_flags,
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
from framework import autograd, npx
from framework import np as fnp

try:
    import torch
except Exception:  # optional comparison
    torch = None

try:
    import rnn as rbench
except Exception:  # written by another step; its row is skipped when absent
    rbench = None
try:
    import dataloader as dbench
except Exception:
    dbench = None
try:
    import mainjob as mbench
except Exception:
    mbench = None
try:
    import bn_cnn as bbench
except Exception:
    bbench = None

SMALL = ["NumPy", "framework ThreadedEngine", "framework NaiveEngine", "PyTorch eager"]
RECORD = "chain5 in record (100, 100)"
MATMUL = "matmul (1024, 1024)"
LSTM = "LSTM train (T35 N32 H256)"
DATA = "DataLoader epoch"
MAINJOB = "main job epoch (MNIST mini)"
BN_CNN = "BN-CNN train (batch 32)"


def _matmul_loop(impl: str) -> Loop:
    rng = numpy.random.default_rng(0)
    a_np = rng.standard_normal((1024, 1024), dtype=numpy.float32)
    b_np = rng.standard_normal((1024, 1024), dtype=numpy.float32)
    if impl == "NumPy":
        def np_loop(n: int) -> Any:
            for _ in range(n):
                c = a_np @ b_np
            return c
        return np_loop
    if impl.startswith("PyTorch"):
        a, b = torch.from_numpy(a_np), torch.from_numpy(b_np)

        def torch_loop(n: int) -> Any:
            for _ in range(n):
                c = a @ b
            return c
        return torch_loop
    a, b = fnp.array(a_np), fnp.array(b_np)
    npx.waitall()

    def fw_loop(n: int) -> Any:
        for _ in range(n):
            c = a @ b
        npx.waitall()
        return c
    return fw_loop


def _record_loop(impl: str) -> Loop:
    a_np, b_np = obench._inputs((100, 100))
    if impl == "NumPy":
        return obench._numpy_loop("chain5", a_np, b_np)
    if impl.startswith("PyTorch"):
        a = torch.from_numpy(a_np).requires_grad_(True)
        b = torch.from_numpy(b_np).requires_grad_(True)

        def torch_loop(n: int) -> Any:
            for _ in range(n):
                c = ((a + b) * a - b) * a + b
            return c
        return torch_loop
    a, b = fnp.array(a_np), fnp.array(b_np)
    a.attach_grad()
    b.attach_grad()
    npx.waitall()

    def fw_loop(n: int) -> Any:
        with autograd.record():
            for _ in range(n):
                c = ((a + b) * a - b) * a + b
        npx.waitall()
        return c
    return fw_loop


def _small(kind: str, shape: tuple[int, ...]) -> Callable[[str], Loop]:
    return lambda impl: obench._build(impl, kind, shape)


def workloads(args: Any) -> list[tuple[str, list[str], Callable[[str], Loop], str, str, float]]:
    """(name, implementations, loop builder, baseline, PyTorch's name, target ms)."""
    out: list[tuple[str, list[str], Callable[[str], Loop], str, str, float]] = [
        ("add (10,)", SMALL, _small("add", (10,)), "NumPy", "PyTorch eager", 40.0),
        ("chain5 (100, 100)", SMALL, _small("chain5", (100, 100)), "NumPy", "PyTorch eager",
         40.0),
        (RECORD, SMALL, _record_loop, "NumPy", "PyTorch eager", 40.0),
        (MATMUL, SMALL, _matmul_loop, "NumPy", "PyTorch eager", 100.0),
    ]
    for name in gbench.WORKLOADS:
        out.append((name, gbench.impls_for(name),
                    lambda impl, name=name: gbench.make_loop(name, impl), "NumPy", "PyTorch",
                    150.0))
    if rbench is not None:
        out.append((LSTM, list(rbench.IMPLS), rbench.make_loop, "", "PyTorch", 300.0))
    if bbench is not None:
        out.append((bbench.WORKLOAD, list(bbench.IMPLS), bbench.make_loop,
                    "framework imperative ThreadedEngine", "PyTorch", 200.0))
    if dbench is not None:
        images, labels = dbench.make_data(args.images)
        workers = 2
        names = dbench.impl_names(workers, torch is not None)
        out.append((DATA, names, lambda impl: dbench.make_loop(impl, images, labels, 256,
                                                               workers),
                    "Python loop", f"PyTorch {workers} workers", 300.0))
    if mbench is not None:
        out.append((mbench.WORKLOAD, list(mbench.IMPLS), mbench.make_loop,
                    "framework imperative ThreadedEngine", "PyTorch", 0.0))
    return out


def main(argv: list[str] | None = None) -> int:
    names = ["add (10,)", "chain5 (100, 100)", RECORD, MATMUL, *gbench.WORKLOADS, LSTM,
             BN_CNN, DATA, MAINJOB]
    p = make_parser(__doc__, 0.0, names)
    p.set_defaults(repeat=5)
    p.add_argument("--blas-threads", type=int,
                   help="threads of NumPy's OpenBLAS (default: left as OpenBLAS chose)")
    p.add_argument("--settle-ms", type=float, default=100.0,
                   help="pause before each repeat of the training workloads (default 100)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply every repeat's duration (default 1)")
    p.add_argument("--images", type=int, default=2048,
                   help="images per DataLoader epoch (default 2048)")
    args = parse(p, argv)
    global torch
    torch = apply_thread_flags(args, torch)
    prev_engine = framework.engine.engine_type()
    try:
        return run(args)
    finally:
        framework.engine.set_engine_type(prev_engine)


def run(args: Any) -> int:
    info = machine_info(torch)
    t0 = time.perf_counter()
    tables: list[str] = []
    results: dict[str, dict[str, Any]] = {}
    legend: list[str] = []
    for name, impls, build, base, ref, target in workloads(args):
        if args.only and name not in args.only:
            continue
        if torch is None:
            impls = [i for i in impls if "PyTorch" not in i]
        if name in gbench.WORKLOADS:
            for impl, c in gbench.check(name, impls).items():
                if "error" in c:
                    print(f"  check {name}: {impl}: {c['error']}", file=sys.stderr)
        training = name not in ("add (10,)", "chain5 (100, 100)", RECORD)
        # an epoch of the main job takes about a second: at most 3 repeats of one epoch each
        repeat = min(args.repeat, 3) if name == MAINJOB else args.repeat
        res = run_workload(name, impls, build, 1, repeat, target * args.scale / 1e3,
                           width=36, settle_s=args.settle_ms / 1e3 if training else 0.0)
        results[name] = res
        table = markdown_table({name: res}, impls, base=base, ref=ref, base_label="baseline",
                               ref_label="PyTorch")
        tables.append(table if not tables else "\n".join(table.splitlines()[2:]))
        legend.append(f"- {name}: baseline {base or '(none)'}, PyTorch column vs {ref}")
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()
    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "blas_threads", "torch", "torch_threads", "framework",
                         "framework_inline_size", "loadavg_before", "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats each, interleaved; µs per iteration: per op, per "
          "chain, per training step, per inference or per epoch)\n")
    print("\n".join(tables))
    print("\nRatios: " + "; ".join(s[2:] for s in legend))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
