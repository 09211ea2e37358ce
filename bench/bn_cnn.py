"""A CNN with BatchNorm and Dropout: training step, framework against PyTorch (CPU), in one run.

Run from the repository root (PyTorch lives in the bench venv)::

    /work/main/.venv-bench/bin/python bench/bn_cnn.py [--repeat 7] [--target-ms 200]
                                                      [--torch-threads N] [--blas-threads N]
                                                      [--no-torch] [--json out.json]

Workload, float32, ``BN-CNN train (batch 32)``: ``Conv(8, 3, pad 1)-BatchNorm-relu-Conv(16, 3,
pad 1)-BatchNorm-relu-MaxPool(2)-Dense(64)-BatchNorm-relu-Dropout(0.2)-Dense(10)`` on
``(32, 1, 16, 16)`` input, softmax cross-entropy, SGD with momentum 0.9. BatchNorm (running
statistics updated in place) and Dropout (a random draw) were what kept a hybridized graph
from replaying as one task until 2026-11-22; this bench shows what fusing them gives, and
``git worktree`` makes the A/B against an older commit (see docs/performance.md).

Implementations: ``framework imperative`` / ``hybridized`` / ``TrainStep`` on the
ThreadedEngine and the NaiveEngine, and PyTorch (``nn.Sequential``, ``torch.optim.SGD``). The
dropout masks differ between the libraries, so there is no numeric check; the framework rows
are checked against each other by the test suite (tests/test_train_step.py).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy
from _common import (
    ENGINES,
    FRAMEWORK_IMPLS,
    Loop,
    add_thread_flags,
    apply_thread_flags,
    busy_warning,
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
from framework.gluon import nn

try:
    import torch
except Exception:  # optional comparison
    torch = None

WORKLOAD = "BN-CNN train (batch 32)"
IMPLS = [*FRAMEWORK_IMPLS, *(f"framework TrainStep {eng}" for eng in ENGINES), "PyTorch"]
BATCH, LR = 32, 0.01


def _data() -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(0)
    return (rng.standard_normal((BATCH, 1, 16, 16), dtype=numpy.float32),
            rng.integers(0, 10, BATCH))


def _framework(mode: str) -> Loop:
    x_np, y_np = _data()
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.Conv2D(16, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(2), nn.Dense(64), nn.BatchNorm(), nn.Activation("relu"),
            nn.Dropout(0.2), nn.Dense(10))
    net.initialize(framework.init.Xavier())
    x, y = fnp.array(x_np), fnp.array(y_np.astype(numpy.float32))
    net(x)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if mode != "imperative":
        net.hybridize()
        loss_fn.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR, "momentum": 0.9})
    if mode == "TrainStep":
        one_call = gluon.TrainStep(net, loss_fn, trainer)
        return step_loop(lambda: one_call(x, y), "framework")

    def step() -> Any:
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(BATCH)
        return loss

    return step_loop(step, "framework")


def _torch() -> Loop:
    x_np, y_np = _data()
    tnn = torch.nn
    net = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.BatchNorm2d(8, momentum=0.1), tnn.ReLU(),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.BatchNorm2d(16, momentum=0.1), tnn.ReLU(),
        tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(16 * 8 * 8, 64),
        tnn.BatchNorm1d(64, momentum=0.1), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(64, 10))
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9)
    loss_fn = tnn.CrossEntropyLoss()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step_loop(step, "PyTorch")


def make_loop(impl: str) -> Loop:
    if impl == "PyTorch":
        return _torch()
    return _framework(impl.split()[1])


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 200.0, [WORKLOAD])
    add_thread_flags(p, settle_help="pause before each repeat (default 250)",
                     profile_help="(no profile mode for this bench)", steps_help="(unused)")
    args = parse(p, argv)
    global torch
    torch = apply_thread_flags(args, torch)
    prev = framework.engine.engine_type()
    try:
        info = machine_info(torch)
        impls = [i for i in IMPLS if torch is not None or i != "PyTorch"]
        res = run_workload(WORKLOAD, impls, make_loop, 1, args.repeat, args.target_ms / 1e3,
                           width=36, settle_s=args.settle_ms / 1e3)
        info["loadavg_after"] = loadavg()
        print_machine(info, ("date", "cpu", "cores", "usable_cores", "numpy", "blas_threads",
                             "torch", "torch_threads", "framework", "loadavg_before",
                             "loadavg_after"))
        print(f"\n## Results ({args.repeat} repeats; µs per training step)\n")
        print(markdown_table({WORKLOAD: res}, impls, base=FRAMEWORK_IMPLS[0],
                             base_label="framework imp.", ref="PyTorch"))
        busy_warning(info)
    finally:
        framework.engine.set_engine_type(prev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
