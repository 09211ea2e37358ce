"""LSTM training step: framework against PyTorch (CPU), in one run.

Run from the repository root (PyTorch lives in the bench venv)::

    /work/main/.venv-bench/bin/python bench/rnn.py [--repeat 7] [--target-ms 300]
                                                   [--torch-threads N] [--blas-threads N]
                                                   [--no-torch] [--json out.json]

Workload, float32: ``LSTM train (T35 N32 H256)``: one step of a one-layer LSTM, input size 256,
hidden size 256, sequence length 35, batch 32 (layout TNC), zero initial states: forward, the
loss ``0.5 * sum((out - y)^2) / batch``, backward (BPTT), SGD update (lr 0.01) of the four
weight arrays.

Implementations:

- ``framework imperative`` / ``framework hybridized`` (``ThreadedEngine`` and ``NaiveEngine``):
  ``gluon.rnn.LSTM`` (one fused ``npx.rnn`` op: one GEMM for the input projection of the whole
  sequence, one GEMM per step, hand-written BPTT), ``gluon.Trainer`` with ``'sgd'``.
- ``PyTorch``: ``torch.nn.LSTM`` (its CPU kernel), ``torch.optim.SGD``.

Before timing, two steps of each implementation are checked against the first one's (loss and
updated weights; PyTorch's LSTM has the same gate order and two bias vectors, so the weights
copy over). Timing as in ``bench/gluon.py``: calibrated loop counts, framework loops end with
``npx.waitall()``, interleaved repeats, medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy
from _common import (
    FRAMEWORK_IMPLS,
    Loop,
    add_thread_flags,
    apply_thread_flags,
    busy_warning,
    check_steps,
    loadavg,
    machine_info,
    make_parser,
    markdown_table,
    parse,
    print_machine,
    run_workload,
    step_loop,
)

import framework
from framework import autograd, gluon
from framework import np as fnp
from framework.gluon import rnn

try:
    import torch
except Exception:  # optional comparison
    torch = None

IMPLS = [*FRAMEWORK_IMPLS, "PyTorch"]
LSTM_STEP = "LSTM train (T35 N32 H256)"
WORKLOADS = (LSTM_STEP,)
T, N, IN, H = 35, 32, 256, 256
LR = 0.01
NAMES = ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")

Arrays = list[numpy.ndarray]
Model = tuple[Callable[[], Any], Callable[[], tuple[Any, Arrays]]]


def data() -> tuple[numpy.ndarray, numpy.ndarray, Arrays]:
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(T, N, IN)).astype("float32")
    y = rng.normal(scale=0.5, size=(T, N, H)).astype("float32")
    bound = 1.0 / numpy.sqrt(H)
    shapes = [(4 * H, IN), (4 * H, H), (4 * H,), (4 * H,)]
    return x, y, [rng.uniform(-bound, bound, size=s).astype("float32") for s in shapes]


def framework_model(hybridize: bool) -> Model:
    x, y, weights = data()
    layer = rnn.LSTM(H, input_size=IN)
    layer.initialize()
    for name, w in zip(NAMES, weights):
        getattr(layer, f"l0_{name}").set_data(fnp.array(w))
    if hybridize:
        layer.hybridize()
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": LR})
    fx, fy = fnp.array(x), fnp.array(y)
    last: list[Any] = [None]

    def step() -> Any:
        with autograd.record():
            out = layer(fx)
            diff = out - fy
            loss = (diff * diff).sum() * (0.5 / N)
        loss.backward()
        trainer.step(1)
        last[0] = loss

    def read() -> tuple[Any, Arrays]:
        return float(last[0]), [getattr(layer, f"l0_{n}").data().asnumpy() for n in NAMES]

    return step, read


def torch_model() -> Model:
    assert torch is not None
    x, y, weights = data()
    lstm = torch.nn.LSTM(IN, H, num_layers=1)
    with torch.no_grad():
        for name, w in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                           weights):
            getattr(lstm, name).copy_(torch.from_numpy(w))
    opt = torch.optim.SGD(lstm.parameters(), lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    last: list[Any] = [None]

    def step() -> Any:
        opt.zero_grad()
        out, _ = lstm(tx)
        loss = ((out - ty) ** 2).sum() * (0.5 / N)
        loss.backward()
        opt.step()
        last[0] = loss

    def read() -> tuple[Any, Arrays]:
        ws = [getattr(lstm, n).detach().numpy().copy()
              for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        return float(last[0]), ws

    return step, read


def build(impl: str) -> Model:
    if impl == "PyTorch":
        return torch_model()
    return framework_model(hybridize=impl.split()[1] == "hybridized")


def make_loop(impl: str) -> Loop:
    return step_loop(build(impl)[0], impl)


def check(impls: list[str]) -> dict[str, Any]:
    """Two steps of each implementation from the same start, compared with the first one's."""
    return check_steps(impls, build)


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 300.0, list(WORKLOADS))
    add_thread_flags(p, settle_help="sleep before each repeat so the previous implementation's "
                     "thread pools are idle (default 250)",
                     profile_help="(not used by this bench)",
                     steps_help="(not used by this bench)")
    args = parse(p, argv)
    global torch
    torch = apply_thread_flags(args, torch)
    prev_engine = framework.engine.engine_type()
    try:
        return run(args)
    finally:
        framework.engine.set_engine_type(prev_engine)


def run(args: argparse.Namespace) -> int:
    info = machine_info(torch)
    impls = [i for i in IMPLS if torch is not None or i != "PyTorch"]
    t0 = time.perf_counter()
    checks = check(impls)
    for impl, c in checks.items():
        print(f"  check {LSTM_STEP:<26} {impl:<34} " + (
            c.get("error") or f"rel. diff: loss {c['loss_rel_diff']:.1g}, weights "
            f"{c['weights_rel_diff']:.1g}"), file=sys.stderr)
    results = {LSTM_STEP: run_workload(LSTM_STEP, impls, make_loop, 1, args.repeat,
                                       args.target_ms / 1e3, width=34,
                                       settle_s=args.settle_ms / 1e3)}
    for impl, c in checks.items():
        if "error" in c:
            results[LSTM_STEP][impl] = {"error": c["error"]}
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()
    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "blas_threads", "torch", "torch_threads", "framework",
                         "loadavg_before", "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats, ~{args.target_ms:g} ms each; µs per training "
          "step)\n")
    print(markdown_table(results, IMPLS, base=FRAMEWORK_IMPLS[0], base_label="framework imp.",
                         ref="PyTorch"))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "check": checks, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
