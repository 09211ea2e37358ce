"""Gluon training steps and batch-1 inference against PyTorch and hand-written NumPy (CPU), in one
run.

Run from the repository root::

    python bench/gluon.py [--repeat 7] [--target-ms 150] [--json out.json]
                          [--torch-threads N] [--blas-threads N] [--no-torch] [--only W]
    python bench/gluon.py --profile [--steps 200]    # where the hybridized MLP's time goes

Workloads, float32, every implementation starting from the same weights:

- ``MLP train (batch 128)``: one training step of a 784-256-128-10 perceptron (ReLU), batch 128:
  forward, softmax cross-entropy, backward, SGD update (lr 0.01, no momentum).
- ``LeNet train (batch 64)``: the same for ``Conv(6, 5)-relu-MaxPool(2)-Conv(16, 5)-relu-
  MaxPool(2)-Dense(120)-relu-Dense(84)-relu-Dense(10)`` on ``(64, 1, 28, 28)`` input.
- ``MLP infer (batch 1)``: the MLP's forward on one ``(1, 784)`` sample, autograd off; the time
  until the output is ready (framework loops call ``out.wait_to_read()`` every iteration).

Implementations:

- ``framework imperative`` / ``framework hybridized``, each with the ``ThreadedEngine`` and the
  ``NaiveEngine``: ``gluon.nn.HybridSequential`` of ``Dense``/``Conv2D``/``MaxPool2D`` layers
  (``activation='relu'``), ``gluon.loss.SoftmaxCrossEntropyLoss``, ``gluon.Trainer`` with
  ``'sgd'``; the step is ``with autograd.record(): loss = loss_fn(net(x), y)``,
  ``loss.backward()``, ``trainer.step(batch)``. *hybridized* calls ``hybridize()`` on the network
  and on the loss.
- ``framework TrainStep`` (training workloads), with either engine: the hybridized blocks and
  the same trainer, the step as one ``gluon.TrainStep(net, loss_fn, trainer)`` call (one engine
  task for forward, loss and backward, then the trainer's update).
- ``PyTorch``: ``nn.Sequential`` of ``nn.Linear``/``nn.Conv2d``/``nn.MaxPool2d``/``nn.ReLU``,
  ``nn.CrossEntropyLoss``, ``torch.optim.SGD``; ``zero_grad()``, forward, ``backward()``,
  ``step()``. Inference runs eager under ``torch.no_grad()``.
- ``NumPy``: the same math written by hand (MXNet-style explicit forward, backward and update;
  the convolutions as im2col + GEMM, with col2im for the second layer's data gradient): the floor
  for a NumPy-based design, with no graph, no dispatch and no engine.

Before timing, two steps of each training implementation are checked against NumPy's (loss and
all updated weights), and one inference output likewise. Timing as in ``bench/ops.py``: the loop
count N is calibrated so one repeat takes about ``--target-ms``; framework loops end with
``npx.waitall()`` so asynchronous work is counted in full; ``--repeat`` repeats are interleaved
across the implementations; median, min-max, IQR and the ratios of the medians to NumPy and to
PyTorch are reported. Each repeat starts after a ``--settle-ms`` pause, so the thread pools of
the implementation measured before it (OpenBLAS, PyTorch's OpenMP), which spin for a while after
their last use, do not compete for the cores. NumPy's BLAS threads (``--blas-threads``) and
PyTorch's (``--torch-threads``) are left as the libraries chose unless given, and reported. The
garbage collector stays on. The run takes about 1.5 minutes.

``--profile`` instead prints, for the hybridized MLP training step and batch-1 inference: the
step against the hand-written NumPy step phase by phase (forward, loss, backward, update;
interleaved; the framework's time inside engine tasks, the Python around them, and the Python
alone with every task skipped), the ThreadedEngine's worker-thread time task by task against the
same tasks on the NaiveEngine, the time spent inside engine tasks against the whole, and
``cProfile`` (grouped by component, then the top functions) with both engines.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy
from _common import (
    ENGINES,
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
    timed_tasks,
)
from numpy.lib.stride_tricks import sliding_window_view

import framework
from framework import autograd, gluon, npx
from framework import np as fnp
from framework.gluon import nn

try:
    import torch
except Exception:  # optional comparison
    torch = None

#: the training step as one ``gluon.TrainStep`` call (hybridized blocks; training workloads)
STEP_IMPLS = [f"framework TrainStep {eng}" for eng in ENGINES]
IMPLS = ["NumPy", *FRAMEWORK_IMPLS, *STEP_IMPLS, "PyTorch"]

MLP, LENET, INFER = "MLP train (batch 128)", "LeNet train (batch 64)", "MLP infer (batch 1)"
WORKLOADS = (MLP, LENET, INFER)


def impls_for(workload: str) -> list[str]:
    """The implementations of a workload (``TrainStep`` only for the training steps)."""
    return [i for i in IMPLS if (torch is not None or i != "PyTorch")
            and (workload != INFER or i not in STEP_IMPLS)]
MLP_SIZES = (784, 256, 128, 10)
LR = 0.01

Arrays = list[numpy.ndarray]
#: (step, read-back): read-back gives the last loss (or output) and every weight, as NumPy
Model = tuple[Callable[[], Any], Callable[[], tuple[Any, Arrays]]]


# -- data and weights -----------------------------------------------------------------------------

def _he(rng: numpy.random.Generator, shape: tuple[int, ...]) -> numpy.ndarray:
    fan_in = int(numpy.prod(shape[1:]))
    return rng.standard_normal(shape, dtype=numpy.float32) * numpy.float32((2 / fan_in) ** 0.5)


def _bias(rng: numpy.random.Generator, n: int) -> numpy.ndarray:
    return rng.uniform(-0.05, 0.05, n).astype(numpy.float32)


def data(workload: str) -> tuple[numpy.ndarray, numpy.ndarray, Arrays]:
    """Input, labels and weights in Gluon's/PyTorch's layout: Dense ``(out, in)``, Conv
    ``(out, in, kh, kw)``; the list is ordered like ``collect_params()`` and ``parameters()``."""
    rng = numpy.random.default_rng(0)
    if workload == LENET:
        x = rng.standard_normal((64, 1, 28, 28), dtype=numpy.float32)
        shapes = [(6, 1, 5, 5), (16, 6, 5, 5), (120, 256), (84, 120), (10, 84)]
    else:
        x = rng.standard_normal((1 if workload == INFER else 128, 784), dtype=numpy.float32)
        shapes = [(m, k) for k, m in zip(MLP_SIZES[:-1], MLP_SIZES[1:])]
    y = rng.integers(0, 10, x.shape[0])
    params: Arrays = []
    for s in shapes:
        params += [_he(rng, s), _bias(rng, s[0])]
    return x, y, params


# -- NumPy: hand-written forward, backward and update ---------------------------------------------

def _softmax_ce(z: numpy.ndarray, y: numpy.ndarray, rows: numpy.ndarray,
                inv_n: numpy.float32) -> tuple[Any, numpy.ndarray]:
    """Mean softmax cross-entropy and its gradient in ``z``."""
    s = z - z.max(axis=1, keepdims=True)
    e = numpy.exp(s)
    se = e.sum(axis=1, keepdims=True)
    loss = (numpy.log(se[:, 0]) - s[rows, y]).mean()
    dz = e / se
    dz[rows, y] -= 1
    dz *= inv_n
    return loss, dz


def _dense_back(d: numpy.ndarray, h: numpy.ndarray, w: numpy.ndarray, pre: numpy.ndarray | None,
                grads: Arrays) -> numpy.ndarray | None:
    """Gradients of ``h @ w.T + b`` given ``d``; returns the gradient of the previous ReLU's
    input ``pre`` (None for the first layer)."""
    grads += [d.T @ h, d.sum(axis=0)]
    if pre is None:
        return None
    dh = d @ w
    dh *= pre > 0
    return dh


def numpy_mlp_phases(x: numpy.ndarray, y: numpy.ndarray,
                     params: Arrays) -> tuple[Callable[[], Any], ...]:
    """The hand-written MLP step as its four phases, in order: forward, loss (with its
    gradient), backward, update (``w -= lr * g``, in place on ``params``); they pass their
    results to the next through shared state. The last returns the loss."""
    w1, b1, w2, b2, w3, b3 = params
    rows = numpy.arange(len(y))
    inv_n = numpy.float32(1 / len(y))
    lr = numpy.float32(LR)
    st: dict[str, Any] = {}

    def forward() -> None:
        a1 = x @ w1.T
        a1 += b1
        h1 = numpy.maximum(a1, 0)
        a2 = h1 @ w2.T
        a2 += b2
        h2 = numpy.maximum(a2, 0)
        z = h2 @ w3.T
        z += b3
        st.update(a1=a1, h1=h1, a2=a2, h2=h2, z=z)

    def loss() -> None:
        st["loss"], st["dz"] = _softmax_ce(st["z"], y, rows, inv_n)

    def backward() -> None:
        g3: Arrays = []
        d2 = _dense_back(st["dz"], st["h2"], w3, st["a2"], g3)
        g2: Arrays = []
        d1 = _dense_back(d2, st["h1"], w2, st["a1"], g2)
        g1: Arrays = []
        _dense_back(d1, x, w1, None, g1)
        st["grads"] = g1 + g2 + g3

    def update() -> Any:
        for p, g in zip(params, st.pop("grads")):
            p -= lr * g
        out = st["loss"]
        st.clear()
        return out

    return forward, loss, backward, update


def numpy_mlp(x: numpy.ndarray, y: numpy.ndarray, params: Arrays) -> Model:
    forward, loss, backward, update = numpy_mlp_phases(x, y, params)
    last: list[Any] = [None]

    def step() -> Any:
        forward()
        loss()
        backward()
        last[0] = update()
        return last[0]

    return step, lambda: (float(last[0]), [p.copy() for p in params])


def numpy_mlp_infer(x: numpy.ndarray, params: Arrays) -> Model:
    w1, b1, w2, b2, w3, b3 = params
    last: list[Any] = [None]

    def infer() -> Any:
        h = numpy.maximum(x @ w1.T + b1, 0)
        h = numpy.maximum(h @ w2.T + b2, 0)
        last[0] = h @ w3.T + b3
        return last[0]

    return infer, lambda: (last[0].copy(), [p.copy() for p in params])


def _im2col(x: numpy.ndarray, k: int) -> numpy.ndarray:
    """``(C, N, H, W)`` -> ``(C * k * k, N * OH * OW)``, rows ordered like the weight's
    ``(C, kh, kw)``: one copy of the window view, in runs of OW contiguous elements."""
    c, n, h, w = x.shape
    win = sliding_window_view(x, (k, k), axis=(2, 3))  # (C, N, OH, OW, k, k), a view
    return win.transpose(0, 4, 5, 1, 2, 3).reshape(c * k * k, -1)


def _col2im(dcols: numpy.ndarray, shape: tuple[int, ...], k: int) -> numpy.ndarray:
    """Adjoint of :func:`_im2col`: ``(C * k * k, N * OH * OW)`` -> ``(C, N, H, W)``, one
    strided add per kernel offset."""
    c, n, h, w = shape
    oh, ow = h - k + 1, w - k + 1
    d = dcols.reshape(c, k, k, n, oh, ow)
    dx = numpy.zeros(shape, dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + oh, j:j + ow] += d[:, i, j]
    return dx


def _quads(a: numpy.ndarray) -> list[numpy.ndarray]:
    return [a[..., 0::2, 0::2], a[..., 0::2, 1::2], a[..., 1::2, 0::2], a[..., 1::2, 1::2]]


def _pool(a: numpy.ndarray) -> numpy.ndarray:
    """2x2 max pooling, stride 2, over the last two axes."""
    q = _quads(a)
    return numpy.maximum(numpy.maximum(q[0], q[1]), numpy.maximum(q[2], q[3]))


def _pool_back(g: numpy.ndarray, a: numpy.ndarray, out: numpy.ndarray) -> numpy.ndarray:
    """Gradient of :func:`_pool`: ``g`` to the window maxima. Ties only occur between zeros
    after the ReLU, whose gradient the ReLU then drops."""
    d = numpy.zeros_like(a)
    for dq, aq in zip(_quads(d), _quads(a)):
        numpy.multiply(g, aq == out, out=dq)
    return d


def _conv(x: numpy.ndarray, w: numpy.ndarray, b: numpy.ndarray) -> tuple[numpy.ndarray, ...]:
    """Valid convolution, stride 1, of ``(C, N, H, W)`` data: returns ``(F, N, OH, OW)`` and
    the column matrix (kept for backward)."""
    f, k = w.shape[0], w.shape[-1]
    cols = _im2col(x, k)
    y = w.reshape(f, -1) @ cols
    y += b[:, None]
    _, n, h, wd = x.shape
    return y.reshape(f, n, h - k + 1, wd - k + 1), cols


def numpy_lenet(x: numpy.ndarray, y: numpy.ndarray, params: Arrays) -> Model:
    """LeNet with activations laid out ``(C, N, H, W)`` inside (MXNet-style im2col + GEMM; the
    input has one channel, so its NCHW array is that layout after a free reshape); the flatten
    before the dense layers uses Gluon's NCHW order."""
    c1, c1b, c2, c2b, w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    x_c = x.reshape(1, n, 28, 28)
    rows = numpy.arange(n)
    inv_n = numpy.float32(1 / n)
    lr = numpy.float32(LR)
    last: list[Any] = [None]

    def step() -> Any:
        a1, cols1 = _conv(x_c, c1, c1b)  # (6, N, 24, 24)
        r1 = numpy.maximum(a1, 0)
        p1 = _pool(r1)  # (6, N, 12, 12)
        a2, cols2 = _conv(p1, c2, c2b)  # (16, N, 8, 8)
        r2 = numpy.maximum(a2, 0)
        p2 = _pool(r2)  # (16, N, 4, 4)
        f = p2.transpose(1, 0, 2, 3).reshape(n, 256)  # Gluon flattens NCHW
        a3 = f @ w1.T
        a3 += b1
        h3 = numpy.maximum(a3, 0)
        a4 = h3 @ w2.T
        a4 += b2
        h4 = numpy.maximum(a4, 0)
        z = h4 @ w3.T
        z += b3
        loss, dz = _softmax_ce(z, y, rows, inv_n)
        g5: Arrays = []
        d4 = _dense_back(dz, h4, w3, a4, g5)
        g4: Arrays = []
        d3 = _dense_back(d4, h3, w2, a3, g4)
        g3 = [d3.T @ f, d3.sum(axis=0)]
        dp2 = (d3 @ w1).reshape(n, 16, 4, 4).transpose(1, 0, 2, 3)
        da2 = _pool_back(dp2, r2, p2)
        da2 *= a2 > 0
        dg2 = da2.reshape(16, -1)
        g2 = [(dg2 @ cols2.T).reshape(c2.shape), dg2.sum(axis=1)]
        dp1 = _col2im(c2.reshape(16, -1).T @ dg2, p1.shape, 5)
        da1 = _pool_back(dp1, r1, p1)
        da1 *= a1 > 0
        dg1 = da1.reshape(6, -1)
        g1 = [(dg1 @ cols1.T).reshape(c1.shape), dg1.sum(axis=1)]
        for p, g in zip(params, g1 + g2 + g3 + g4 + g5):
            p -= lr * g
        last[0] = loss
        return loss

    return step, lambda: (float(last[0]), [p.copy() for p in params])


# -- framework Gluon ------------------------------------------------------------------------------

def gluon_net(workload: str) -> Any:
    net = nn.HybridSequential()
    if workload == LENET:
        net.add(nn.Conv2D(6, 5, activation="relu"), nn.MaxPool2D(2),
                nn.Conv2D(16, 5, activation="relu"), nn.MaxPool2D(2),
                nn.Dense(120, activation="relu"), nn.Dense(84, activation="relu"), nn.Dense(10))
    else:
        net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"),
                nn.Dense(10))
    return net


def framework_model(workload: str, hybridize: bool, train_step: bool = False) -> Model:
    x_np, y_np, params_np = data(workload)
    net = gluon_net(workload)
    net.initialize()
    x, y = fnp.array(x_np), fnp.array(y_np)
    net(x)  # finish the deferred initialization, then load the common weights
    params = list(net.collect_params().values())
    for p, v in zip(params, params_np, strict=True):
        p.set_data(fnp.array(v))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybridize:
        net.hybridize()
        loss_fn.hybridize()
    last: list[Any] = [None]

    def read() -> tuple[Any, Arrays]:
        out = last[0].asnumpy()
        return (out if workload == INFER else float(out.mean()),
                [p.data().asnumpy() for p in params])

    npx.waitall()
    if workload == INFER:
        def infer() -> Any:
            out = net(x)
            out.wait_to_read()
            last[0] = out
            return out

        return infer, read

    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
    record = autograd.record
    batch = x_np.shape[0]
    if train_step:
        one_call = gluon.TrainStep(net, loss_fn, trainer)

        def step_once() -> Any:
            loss = one_call(x, y)
            last[0] = loss
            return loss

        return step_once, read

    def step() -> Any:
        with record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
        last[0] = loss
        return loss

    return step, read


# -- PyTorch --------------------------------------------------------------------------------------

def torch_model(workload: str) -> Model:
    x_np, y_np, params_np = data(workload)
    tnn = torch.nn
    if workload == LENET:
        net = tnn.Sequential(tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                             tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                             tnn.Linear(256, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                             tnn.Linear(84, 10))
    else:
        net = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                             tnn.Linear(128, 10))
    params = list(net.parameters())
    with torch.no_grad():
        for p, v in zip(params, params_np, strict=True):
            p.copy_(torch.from_numpy(v))
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    last: list[Any] = [None]

    def read() -> tuple[Any, Arrays]:
        out = last[0].detach().numpy().copy()
        return (out if workload == INFER else float(out),
                [p.detach().numpy().copy() for p in params])

    if workload == INFER:
        no_grad = torch.no_grad

        def infer() -> Any:
            with no_grad():
                out = net(x)
            last[0] = out
            return out

        return infer, read

    loss_fn = tnn.CrossEntropyLoss()
    opt = torch.optim.SGD(params, lr=LR)

    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        last[0] = loss
        return loss

    return step, read


# -- building, checking ---------------------------------------------------------------------------

def build(workload: str, impl: str) -> Model:
    if impl == "NumPy":
        x, y, params = data(workload)
        if workload == INFER:
            return numpy_mlp_infer(x, params)
        return (numpy_lenet if workload == LENET else numpy_mlp)(x, y, params)
    if impl == "PyTorch":
        return torch_model(workload)
    mode = impl.split()[1]
    return framework_model(workload, hybridize=mode in ("hybridized", "TrainStep"),
                           train_step=mode == "TrainStep")


def make_loop(workload: str, impl: str) -> Loop:
    return step_loop(build(workload, impl)[0], impl)


def check(workload: str, impls: list[str]) -> dict[str, Any]:
    """Two steps (one inference) of each implementation from the same start, compared with
    NumPy's (the first): loss (output) and every weight."""
    return check_steps(impls, lambda impl: build(workload, impl),
                       steps=1 if workload == INFER else 2,
                       what="output" if workload == INFER else "loss")


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 150.0, list(WORKLOADS))
    add_thread_flags(p, settle_help="sleep before each repeat so the previous implementation's "
                     "thread pools (OpenBLAS, OpenMP), which spin after their last use, are idle "
                     "(default 250)",
                     profile_help="instead of the table: where the hybridized MLP's time goes",
                     steps_help="training steps per profile (inference: 20x as many; default 200)")
    args = parse(p, argv)

    global torch
    torch = apply_thread_flags(args, torch)

    prev_engine = framework.engine.engine_type()
    try:
        if args.profile:
            return profile(args.steps)
        return run(args)
    finally:
        framework.engine.set_engine_type(prev_engine)


def run(args: argparse.Namespace) -> int:
    info = machine_info(torch)
    names = [w for w in WORKLOADS if not args.only or w in args.only]
    results: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name in names:
        impls = impls_for(name)
        checks[name] = check(name, impls)
        for impl, c in checks[name].items():
            print(f"  check {name:<22} {impl:<34} " + (
                c.get("error") or f"rel. diff to NumPy: {'output' if name == INFER else 'loss'}"
                f" {c['loss_rel_diff']:.1g}, weights {c['weights_rel_diff']:.1g}"),
                file=sys.stderr)
        results[name] = run_workload(name, impls, lambda impl, name=name: make_loop(name, impl),
                                     1, args.repeat, args.target_ms / 1e3, width=34,
                                     settle_s=args.settle_ms / 1e3)
        for impl, c in checks[name].items():
            if "error" in c:
                results[name][impl] = {"error": c["error"]}
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()

    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "blas_threads", "torch", "torch_threads", "framework",
                         "framework_inline_size", "loadavg_before", "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats, ~{args.target_ms:g} ms each, {args.settle_ms:g} "
          f"ms pause before each; µs per training step or per inference)\n")
    print(markdown_table(results, IMPLS, ref="PyTorch"))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "settle_ms": args.settle_ms, "check": checks, "results": results}, f,
                      indent=1)
    return 0


# -- profile --------------------------------------------------------------------------------------

#: cProfile rows grouped by component: (label, test on (file, function name))
_GROUPS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("waiting for the engine's worker (lock acquire)",
     lambda f, fn: "acquire' of '_thread" in fn),
    ("NumPy kernels (op forward/run, optimizer kernels, NumPy C calls)",
     lambda f, fn: ("framework/nd/" in f and fn in ("forward", "run", "<lambda>"))
     or f.endswith("optimizer/kernels.py") or "numpy" in fn or "/numpy/" in f),
    ("engine (push, inline run, queues)",
     lambda f, fn: "framework/engine/" in f or "threading.py" in f or "lock" in fn),
    ("autograd (tape, backward walk)",
     lambda f, fn: "framework/autograd/" in f or f.endswith("nd/_tape.py")),
    ("gluon: Block/HybridBlock call, replay, layers, loss",
     lambda f, fn: "framework/gluon/" in f and "trainer" not in f),
    ("Trainer + optimizer (Python)",
     lambda f, fn: f.endswith("gluon/trainer.py") or "framework/optimizer/" in f),
    ("op dispatch: infer, apply, array objects, gradient formulas",
     lambda f, fn: "framework/" in f),
    ("other (builtins, isinstance, len...)", lambda f, fn: True),
]


def _grouped(stats: pstats.Stats, per: int) -> list[tuple[str, float]]:
    totals = {label: 0.0 for label, _ in _GROUPS}
    for (f, _line, fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore
        for label, test in _GROUPS:
            if test(f, fn):
                totals[label] += tt
                break
    return [(label, t / per * 1e6) for label, t in totals.items()]


def _task_time(fn: Callable[[], Any], n: int) -> tuple[float, float, int]:
    """Under the NaiveEngine: µs per call in total, µs inside engine tasks (the NumPy kernels and
    result stores), and tasks per call."""
    spent = [0.0, 0]

    def record(_name: str, seconds: float) -> None:
        spent[0] += seconds
        spent[1] += 1

    clock = time.perf_counter
    with timed_tasks(record):
        t0 = clock()
        for _ in range(n):
            fn()
        total = clock() - t0
    return total / n * 1e6, spent[0] / n * 1e6, spent[1] // n


def _hybrid_mlp() -> tuple[Any, Any, Any, Any, Any]:
    x_np, y_np, params_np = data(MLP)
    net = gluon_net(MLP)
    net.initialize()
    x, y = fnp.array(x_np), fnp.array(y_np)
    net(x)
    for p, v in zip(net.collect_params().values(), params_np, strict=True):
        p.set_data(fnp.array(v))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    net.hybridize()
    loss_fn.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
    return net, loss_fn, trainer, x, y


def _numpy_phases(x: numpy.ndarray, y: numpy.ndarray, params: Arrays,
                  acc: dict[str, float]) -> Callable[[], None]:
    """``numpy_mlp``'s step, timing its phases into ``acc``."""
    phases = list(zip(("forward", "loss", "backward", "update"),
                      numpy_mlp_phases(x, y, params)))
    clock = time.perf_counter

    def step() -> None:
        for name, fn in phases:
            t = clock()
            fn()
            acc[name] += clock() - t

    return step


def phase_compare(steps: int) -> None:
    """The hybridized MLP step against hand-written NumPy, phase by phase, interleaved step by
    step (NaiveEngine: a phase's time is its own), with the framework's time inside engine
    tasks (kernels, result stores) apart from the Python around them, and the step with every
    task skipped (the Python alone, caches warm)."""
    framework.engine.set_engine_type("NaiveEngine")
    net, loss_fn, trainer, x, y = _hybrid_mlp()
    x_np, y_np, params_np = data(MLP)
    names = ("forward", "loss", "backward", "update")
    np_acc = dict.fromkeys(names, 0.0)
    np_step = _numpy_phases(x_np, y_np, params_np, np_acc)
    fw_acc = dict.fromkeys(names, 0.0)
    in_acc = dict.fromkeys(names, 0.0)
    clock = time.perf_counter
    phase = ["forward"]
    skip = [False]

    def record(_name: str, seconds: float) -> None:
        in_acc[phase[0]] += seconds

    def fw_step() -> None:
        t0 = clock()
        phase[0] = "forward"
        with autograd.record():
            out = net(x)
            t1 = clock()
            phase[0] = "loss"
            loss = loss_fn(out, y)
        t2 = clock()
        phase[0] = "backward"
        loss.backward()
        t3 = clock()
        phase[0] = "update"
        trainer.step(128)
        t4 = clock()
        fw_acc["forward"] += t1 - t0
        fw_acc["loss"] += t2 - t1
        fw_acc["backward"] += t3 - t2
        fw_acc["update"] += t4 - t3

    per_step: dict[str, list[float]] = {}

    def sample(label: str, acc: dict[str, float]) -> None:
        for k in names:
            per_step.setdefault(f"{label} {k}", []).append(acc[k] * 1e6)
        per_step.setdefault(f"{label} step", []).append(sum(acc.values()) * 1e6)
        for k in names:
            acc[k] = 0.0

    with timed_tasks(record, skip=lambda: skip[0]):
        for _ in range(20):
            np_step()
            fw_step()
        for k in names:
            np_acc[k] = fw_acc[k] = in_acc[k] = 0.0
        for _ in range(steps):
            np_step()
            sample("numpy", np_acc)
            fw_step()
            sample("tasks", in_acc)
            sample("framework", fw_acc)
        skip[0] = True
        for _ in range(steps):
            fw_step()
            sample("python", fw_acc)
            for k in names:
                in_acc[k] = 0.0
    npx.waitall()

    def q(key: str, f: float) -> float:
        v = sorted(per_step[key])
        return v[int(f * (len(v) - 1))]

    print(f"\n## Hybridized MLP step against hand-written NumPy, by phase (NaiveEngine; µs, "
          f"{steps} interleaved steps; 10th percentile, median in brackets)\n")
    print("| phase | NumPy | framework | in engine tasks | Python around them | Python alone "
          "(tasks skipped) | framework − NumPy |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k in (*names, "step"):
        npq, fwq, inq, pyq = (q(f"{lab} {k}", 0.1) for lab in ("numpy", "framework", "tasks",
                                                                 "python"))
        npm, fwm = q(f"numpy {k}", 0.5), q(f"framework {k}", 0.5)
        bold = "**" if k == "step" else ""
        print(f"| {bold}{k}{bold} | {npq:,.0f} ({npm:,.0f}) | {fwq:,.0f} ({fwm:,.0f}) | "
              f"{inq:,.0f} | {fwq - inq:,.0f} | {pyq:,.0f} | {fwq - npq:+,.0f} |")
    print("\n(forward: the net's call; loss: the loss block's call; backward: `loss.backward()`; "
          "update: `trainer.step`. The NumPy phases are the same math written by hand; its loss "
          "phase also computes the loss gradient, which the framework computes in backward.)")


def _mlp_step(one_call: bool = False) -> Callable[[], None]:
    """A hybridized MLP training step on the current engine, warmed up (20 steps): the four
    calls, or (``one_call``) one ``gluon.TrainStep`` call."""
    net, loss_fn, trainer, x, y = _hybrid_mlp()
    train_step = gluon.TrainStep(net, loss_fn, trainer)

    def step() -> None:
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(128)

    def step_once() -> None:
        train_step(x, y)

    fn = step_once if one_call else step
    for _ in range(20):
        fn()
    npx.waitall()
    return fn


def threaded_worker(steps: int) -> None:
    """The hybridized MLP step on the ThreadedEngine, as the four calls and as one TrainStep
    call, against the hand-written NumPy step in the same process (three rounds, interleaved):
    how long the worker thread is busy per step, task by task, and how long the main thread
    waits for it; next to the same tasks' times on the NaiveEngine (what they cost without a
    second thread contending for the GIL)."""
    from framework.engine import _engine as eng_mod

    clock = time.perf_counter
    busy: dict[str, float] = {}
    waited = [0.0]
    orig_run, orig_sleep = eng_mod._run_task, eng_mod._Worker._sleep_until

    def run_task(engine: Any, task: Any) -> None:
        t = clock()
        orig_run(engine, task)
        busy[task.name] = busy.get(task.name, 0.0) + clock() - t

    def sleep_until(self: Any, seq: int) -> None:
        t = clock()
        orig_sleep(self, seq)
        waited[0] += clock() - t

    naive: dict[bool, dict[str, float]] = {False: {}, True: {}}

    framework.engine.set_engine_type("NaiveEngine")
    for one_call in (False, True):
        step = _mlp_step(one_call)
        acc = naive[one_call]
        with timed_tasks(lambda name, seconds, acc=acc: acc.__setitem__(
                name, acc.get(name, 0.0) + seconds)):
            for _ in range(steps):
                step()

    framework.engine.set_engine_type("ThreadedEngine")
    x_np, y_np, params_np = data(MLP)
    numpy_step = numpy_mlp(x_np, y_np, params_np)[0]
    kinds = {"four calls": _mlp_step(False), "TrainStep": _mlp_step(True)}
    rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kinds}
    tasks: dict[str, dict[str, float]] = {k: {} for k in kinds}
    numpy_times = []
    per = 1e6 / steps
    for _round in range(3):
        t0 = clock()
        for _ in range(steps):
            numpy_step()
        numpy_times.append((clock() - t0) * per)
        for kind, step in kinds.items():
            busy.clear()
            waited[0] = 0.0
            eng_mod._run_task = run_task
            eng_mod._Worker._sleep_until = sleep_until  # type: ignore[method-assign]
            try:
                t0 = clock()
                for _ in range(steps):
                    step()
                npx.waitall()
                total = clock() - t0
            finally:
                eng_mod._run_task = orig_run
                eng_mod._Worker._sleep_until = orig_sleep  # type: ignore[method-assign]
            rows[kind].append((total * per, sum(busy.values()) * per, waited[0] * per))
            for name, t in busy.items():
                tasks[kind][name] = tasks[kind].get(name, 0.0) + t / 3
    print(f"\n## ThreadedEngine: the worker thread's time per hybridized MLP step ({steps} steps "
          f"a round, 3 rounds interleaved with the hand-written NumPy step; µs, round by "
          f"round)\n")
    print("| step | step µs | × NumPy (same round) | worker busy | main thread waiting |")
    print("|---|---:|---:|---:|---:|")
    print(f"| NumPy | {' / '.join(f'{t:,.0f}' for t in numpy_times)} | 1.00 | – | – |")
    for kind, vals in rows.items():
        print(f"| {kind} | {' / '.join(f'{v[0]:,.0f}' for v in vals)} | "
              f"{' / '.join(f'{v[0] / n:.2f}' for v, n in zip(vals, numpy_times))} | "
              f"{' / '.join(f'{v[1]:,.0f}' for v in vals)} | "
              f"{' / '.join(f'{v[2]:,.0f}' for v in vals)} |")
    print("\n| task | on the worker (ThreadedEngine, mean of the rounds) | same task, "
          "NaiveEngine |")
    print("|---|---:|---:|")
    for kind in kinds:
        alone = naive[kind == "TrainStep"]
        for name, t in tasks[kind].items():
            print(f"| {kind}: {name} | {t * per:,.0f} | {alone.get(name, 0.0) * per:,.0f} |")


def profile(steps: int) -> int:
    info = machine_info(torch)
    print("## Machine\n")
    for key in ("date", "cpu", "cores", "numpy", "blas_threads", "framework", "loadavg_before"):
        print(f"- {key}: {info[key]}")

    phase_compare(max(200, steps))
    threaded_worker(max(200, steps))

    framework.engine.set_engine_type("NaiveEngine")
    net, loss_fn, trainer, x, y = _hybrid_mlp()
    x1 = fnp.array(data(INFER)[0])
    holder: list[Any] = [None]
    n = max(1, steps // 10)

    def fwd() -> None:
        with autograd.record():
            holder[0] = loss_fn(net(x), y)

    def bwd() -> None:
        holder[0].backward()

    def upd() -> None:
        trainer.step(128)

    def infer() -> None:
        net(x1).wait_to_read()

    def step() -> None:
        fwd()
        bwd()
        upd()

    print("\n## Time inside engine tasks (NaiveEngine: NumPy kernels and result stores) against "
          "the whole\n")
    print("| workload | µs per call | of which in tasks | outside (Python) | tasks per call |")
    print("|---|---:|---:|---:|---:|")
    one_call = _mlp_step(one_call=True)
    for label, fn, reps in (("hybridized MLP step", step, max(10, n)),
                            ("hybridized MLP step, one TrainStep call", one_call, max(10, n)),
                            ("hybridized MLP infer (batch 1)", infer, max(200, 20 * n))):
        best = min((_task_time(fn, reps) for _ in range(5)), key=lambda r: r[0])
        total, inside, tasks = best
        print(f"| {label} | {total:,.0f} | {inside:,.0f} | {total - inside:,.0f} | {tasks} |")

    for eng in ENGINES:
        framework.engine.set_engine_type(eng)
        net, loss_fn, trainer, x, y = _hybrid_mlp()
        x1 = fnp.array(data(INFER)[0])
        for label, fn, reps in (("MLP train step", step, steps),
                                ("MLP infer (batch 1)", infer, 20 * steps)):
            for _ in range(5):
                fn()
            npx.waitall()
            pr = cProfile.Profile()
            pr.enable()
            for _ in range(reps):
                fn()
            npx.waitall()
            pr.disable()
            buf = io.StringIO()
            st = pstats.Stats(pr, stream=buf)
            print(f"\n## cProfile: hybridized {label}, {eng}, {reps} calls (µs per call of "
                  f"tottime; cProfile inflates Python overhead)\n")
            print("| component | µs per call |")
            print("|---|---:|")
            rows = _grouped(st, reps)
            for group, us in rows:
                print(f"| {group} | {us:,.1f} |")
            print(f"| **total** | {sum(us for _, us in rows):,.1f} |")
            st.sort_stats("tottime").print_stats(18)
            text = buf.getvalue()
            print("\n```")
            print(text[text.index("ncalls") - 3:].rstrip().replace(os.getcwd() + "/", ""))
            print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
