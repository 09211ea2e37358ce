"""Cost of autograd in ``framework`` against hand-written NumPy and PyTorch (CPU), in one run.

Run from the repository root::

    python bench/autograd.py [--repeat 7] [--target-ms 100] [--json out.json]
                             [--torch-threads N] [--blas-threads N] [--no-torch] [--only W]
    python bench/autograd.py --profile [--steps 200]    # where the framework's MLP step goes

Workloads, float32:

- ``add (10,)``, the cost of recording: ``c = a + b`` where ``a`` and ``b`` are variables
  (``attach_grad()``), outside ``autograd.record()`` and inside it (the ``with`` block around the
  whole loop, so each iteration records one op); NumPy's ``numpy.add`` and PyTorch's ``a + b``
  with ``requires_grad`` off and on, for scale.
- ``MLP step``: one training step of a 784-256-128-10 perceptron (ReLU, softmax cross-entropy
  averaged over the batch), batch 128: forward, backward, and the SGD update ``w -= lr * grad``
  of the six parameters. Framework, twice: ``np.dot`` + bias + ``npx.relu`` (weights
  ``(in, out)``), and ``npx.fully_connected`` + ``npx.activation`` (weights ``(out, in)``,
  Gluon's layout); the loss is ``-npx.pick(npx.log_softmax(z), y).mean()``. NumPy: the same
  math written by hand, forward and explicit gradient formulas (the floor: no graph, no
  dispatch). PyTorch: ``F.linear``, ``torch.relu``, ``F.cross_entropy``, ``loss.backward()``,
  and the update under ``no_grad`` (``p.grad = None`` after it, as ``zero_grad()`` does).

Framework runs with the ``ThreadedEngine`` and the ``NaiveEngine``; framework loops end with
``npx.waitall()``, so asynchronous work is counted in full. Every implementation starts the MLP
from the same weights; before timing, one step of each is checked against NumPy's (loss and
updated weights). Timing as in ``bench/ops.py``: N calibrated so one repeat takes about
``--target-ms``, ``--repeat`` repeats interleaved across implementations, median, min-max, IQR
and ratios of medians. NumPy's BLAS threads (``--blas-threads``, default: OpenBLAS's own choice)
and PyTorch's intra-op threads (``--torch-threads``, default: the number of usable cores) are
reported with the machine. The whole run takes well under a minute.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import math
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy
from _common import (
    Loop,
    add_thread_flags,
    busy_warning,
    check_steps,
    loadavg,
    machine_info,
    make_parser,
    markdown_table,
    parse,
    print_machine,
    run_workload,
    set_blas_threads,
    step_loop,
    timed_tasks,
    use_engine,
)

import framework
from framework import autograd, npx
from framework import np as fnp

try:
    import torch
except Exception:  # optional comparison
    torch = None

ADD_IMPLS = [
    "NumPy",
    "framework ThreadedEngine, outside record",
    "framework ThreadedEngine, in record",
    "framework NaiveEngine, outside record",
    "framework NaiveEngine, in record",
    "PyTorch, requires_grad off",
    "PyTorch, requires_grad on",
]
MLP_IMPLS = [
    "NumPy",
    "framework np.dot ThreadedEngine",
    "framework np.dot NaiveEngine",
    "framework fully_connected ThreadedEngine",
    "framework fully_connected NaiveEngine",
    "PyTorch",
]
WORKLOADS = {"add (10,)": ADD_IMPLS, "MLP step": MLP_IMPLS}
REFS = {"add (10,)": "PyTorch, requires_grad on", "MLP step": "PyTorch"}

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.01


# -- add (10,): the cost of recording --------------------------------------------------------------

def _add_loop(impl: str) -> Loop:
    rng = numpy.random.default_rng(0)
    a_np = rng.standard_normal(10, dtype=numpy.float32)
    b_np = rng.standard_normal(10, dtype=numpy.float32)
    if impl == "NumPy":
        add = numpy.add

        def np_loop(n: int) -> Any:
            c = None
            for _ in range(n):
                c = add(a_np, b_np)
            return c

        return np_loop
    if impl.startswith("PyTorch"):
        grad = impl.endswith("on")
        a = torch.from_numpy(a_np).requires_grad_(grad)
        b = torch.from_numpy(b_np).requires_grad_(grad)

        def torch_loop(n: int) -> Any:
            c = None
            for _ in range(n):
                c = a + b
            return c

        return torch_loop
    a, b = fnp.array(a_np), fnp.array(b_np)
    a.attach_grad()
    b.attach_grad()
    npx.waitall()
    waitall = npx.waitall
    record = autograd.record

    def outside_loop(n: int) -> Any:
        c = None
        for _ in range(n):
            c = a + b
        waitall()
        return c

    def record_loop(n: int) -> Any:
        c = None
        with record():
            for _ in range(n):
                c = a + b
        waitall()
        return c

    return record_loop if impl.endswith("in record") else outside_loop


# -- MLP step -------------------------------------------------------------------------------------

def mlp_data(sizes: tuple[int, ...] = SIZES, batch: int = BATCH
             ) -> tuple[numpy.ndarray, numpy.ndarray, list[numpy.ndarray]]:
    """Input batch, labels and [W1, b1, W2, b2, W3, b3] with W of shape (in, out) (He init)."""
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0]), dtype=numpy.float32)
    y = rng.integers(0, sizes[-1], batch)
    params = []
    for k, m in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((k, m), dtype=numpy.float32) * numpy.float32(math.sqrt(2 / k))
        params += [w, numpy.zeros(m, dtype=numpy.float32)]
    return x, y, params


Step = Callable[[], Any]
#: (step, read-back): read-back gives the last loss and the weights, as NumPy, in (in, out) layout
Model = tuple[Step, Callable[[], tuple[float, list[numpy.ndarray]]]]


def numpy_mlp(x: numpy.ndarray, y: numpy.ndarray, params: list[numpy.ndarray],
              update: bool = True) -> Model:
    """Hand-written forward and backward: the floor for the same math (``update=False``: the
    step without the SGD update)."""
    w1, b1, w2, b2, w3, b3 = params
    rows = numpy.arange(len(y))
    lr = numpy.float32(LR)
    inv_n = numpy.float32(1 / len(y))
    last: list[Any] = [None]

    def step() -> Any:
        a1 = x @ w1
        a1 += b1
        h1 = numpy.maximum(a1, 0)
        a2 = h1 @ w2
        a2 += b2
        h2 = numpy.maximum(a2, 0)
        z = h2 @ w3
        z += b3
        s = z - z.max(axis=1, keepdims=True)
        e = numpy.exp(s)
        se = e.sum(axis=1, keepdims=True)
        loss = -(s[rows, y] - numpy.log(se[:, 0])).mean()
        dz = e / se  # softmax
        dz[rows, y] -= 1
        dz *= inv_n
        g_w3, g_b3 = h2.T @ dz, dz.sum(axis=0)
        d2 = dz @ w3.T
        d2 *= a2 > 0
        g_w2, g_b2 = h1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ w2.T
        d1 *= a1 > 0
        g_w1, g_b1 = x.T @ d1, d1.sum(axis=0)
        if update:
            for p, g in zip(params, (g_w1, g_b1, g_w2, g_b2, g_w3, g_b3)):
                p -= lr * g
        last[0] = loss
        return loss

    return step, lambda: (float(last[0]), [p.copy() for p in params])


def framework_mlp(x_np: numpy.ndarray, y_np: numpy.ndarray, params_np: list[numpy.ndarray],
                  style: str = "np.dot") -> Model:
    """The MLP as a framework user writes it: ``np.dot`` style or ``npx.fully_connected``."""
    fc = style == "fully_connected"
    # fully_connected takes Gluon's (out, in) weights
    params = [fnp.array(p.T.copy() if fc and p.ndim == 2 else p) for p in params_np]
    for p in params:
        p.attach_grad()
    x, y = fnp.array(x_np), fnp.array(y_np)
    w1, b1, w2, b2, w3, b3 = params
    last: list[Any] = [None]
    record = autograd.record

    def dot_step() -> Any:
        with record():
            h = npx.relu(fnp.dot(x, w1) + b1)
            h = npx.relu(fnp.dot(h, w2) + b2)
            z = fnp.dot(h, w3) + b3
            loss = -npx.pick(npx.log_softmax(z), y).mean()
        loss.backward()
        for p in params:
            p -= LR * p.grad
        last[0] = loss
        return loss

    def fc_step() -> Any:
        with record():
            h = npx.activation(npx.fully_connected(x, w1, b1, num_hidden=SIZES[1]), "relu")
            h = npx.activation(npx.fully_connected(h, w2, b2, num_hidden=SIZES[2]), "relu")
            z = npx.fully_connected(h, w3, b3, num_hidden=SIZES[3])
            loss = -npx.pick(npx.log_softmax(z), y).mean()
        loss.backward()
        for p in params:
            p -= LR * p.grad
        last[0] = loss
        return loss

    def read() -> tuple[float, list[numpy.ndarray]]:
        ws = [p.asnumpy() for p in params]
        return float(last[0].item()), [w.T.copy() if fc and w.ndim == 2 else w for w in ws]

    npx.waitall()
    return (fc_step if fc else dot_step), read


def torch_mlp(x_np: numpy.ndarray, y_np: numpy.ndarray, params_np: list[numpy.ndarray]) -> Model:
    F = torch.nn.functional
    params = [torch.tensor(p.T.copy() if p.ndim == 2 else p, requires_grad=True)
              for p in params_np]
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    w1, b1, w2, b2, w3, b3 = params
    last: list[Any] = [None]
    no_grad = torch.no_grad

    def step() -> Any:
        h = torch.relu(F.linear(x, w1, b1))
        h = torch.relu(F.linear(h, w2, b2))
        loss = F.cross_entropy(F.linear(h, w3, b3), y)
        loss.backward()
        with no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        last[0] = loss
        return loss

    def read() -> tuple[float, list[numpy.ndarray]]:
        ws = [p.detach().numpy() for p in params]
        return float(last[0].item()), [w.T.copy() if w.ndim == 2 else w.copy() for w in ws]

    return step, read


def build_mlp(impl: str) -> Model:
    x, y, params = mlp_data()
    if impl == "NumPy":
        return numpy_mlp(x, y, params)
    if impl == "PyTorch":
        return torch_mlp(x, y, params)
    return framework_mlp(x, y, params, impl.split()[1])


def _mlp_loop(impl: str) -> Loop:
    return step_loop(build_mlp(impl)[0], impl)


def check_mlp(impls: list[str]) -> dict[str, Any]:
    """Two steps of each implementation from the same start; loss and weights against NumPy's."""
    return check_steps(impls, build_mlp)


# -- the run --------------------------------------------------------------------------------------

def _build(name: str, impl: str) -> Loop:
    return _add_loop(impl) if name == "add (10,)" else _mlp_loop(impl)


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 100.0, list(WORKLOADS))
    add_thread_flags(p, settle_help="pause before each MLP repeat so the previous "
                     "implementation's BLAS and OpenMP threads stop spinning (default 250)",
                     profile_help="instead of the table: where the framework MLP step's time goes",
                     steps_help="steps per profile sample with --profile (default 200)")
    args = parse(p, argv)

    global torch
    if args.no_torch:
        torch = None
    if torch is not None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        torch.set_num_threads(args.torch_threads or cores)
    if args.blas_threads and not set_blas_threads(args.blas_threads):
        print("warning: NumPy's OpenBLAS not found; --blas-threads ignored", file=sys.stderr)

    if args.profile:
        return profile(args.steps)

    info = machine_info(torch)
    only = set(args.only) if args.only else None
    names = [name for name in WORKLOADS if not only or name in only]
    results: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    prev_engine = framework.engine.engine_type()
    t0 = time.perf_counter()
    try:
        for name in names:
            impls = [i for i in WORKLOADS[name] if torch is not None or
                     not i.startswith("PyTorch")]
            if name == "MLP step":
                checks = check_mlp(impls)
                for impl, c in checks.items():
                    print(f"  check {impl:<40} " + (c.get("error") or
                          f"loss {c['loss']:.6f}, rel. diff to NumPy: loss "
                          f"{c['loss_rel_diff']:.1g}, weights {c['weights_rel_diff']:.1g}"),
                          file=sys.stderr)
            results[name] = run_workload(
                name, impls, lambda impl, name=name: _build(name, impl), 1, args.repeat,
                args.target_ms / 1e3, width=40,
                settle_s=args.settle_ms / 1e3 if name == "MLP step" else 0.0)
            for impl, c in checks.items():
                if name == "MLP step" and "error" in c:
                    results[name][impl] = {"error": c["error"]}
    finally:
        framework.engine.set_engine_type(prev_engine)
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()

    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "blas_threads", "torch", "torch_threads", "framework",
                         "framework_inline_size", "loadavg_before", "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats, ~{args.target_ms:g} ms each; µs per iteration: "
          f"one add, or one training step)\n")
    print(markdown_table(results, [*ADD_IMPLS, *MLP_IMPLS[1:]], refs=REFS,
                         ref_label="PyTorch (requires_grad)"))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "check": checks, "results": results}, f, indent=1)
    return 0


# -- profile --------------------------------------------------------------------------------------

def _phases_numpy(x: numpy.ndarray, y: numpy.ndarray,
                  params: list[numpy.ndarray]) -> dict[str, Callable[[], Any]]:
    """The NumPy floor cut into forward / forward+backward / update / step."""
    step = numpy_mlp(x, y, params)[0]
    forward_backward = numpy_mlp(x, y, params, update=False)[0]
    w1, b1, w2, b2, w3, b3 = params
    rows = numpy.arange(len(y))

    def fwd() -> Any:
        h1 = numpy.maximum(x @ w1 + b1, 0)
        h2 = numpy.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        s = z - z.max(axis=1, keepdims=True)
        return -(s[rows, y] - numpy.log(numpy.exp(s).sum(axis=1))).mean()

    grads = [numpy.full_like(p, 1e-6) for p in params]
    lr = numpy.float32(LR)

    def update() -> None:
        for p, g in zip(params, grads):
            p -= lr * g

    return {"forward": fwd, "forward + backward": forward_backward, "update": update,
            "step": step}


def _phases_framework(x_np: numpy.ndarray, y_np: numpy.ndarray,
                      params_np: list[numpy.ndarray]) -> dict[str, Callable[[], Any]]:
    params = [fnp.array(p) for p in params_np]
    for p in params:
        p.attach_grad()
    x, y = fnp.array(x_np), fnp.array(y_np)
    w1, b1, w2, b2, w3, b3 = params
    waitall = npx.waitall

    def fwd() -> Any:
        h = npx.relu(fnp.dot(x, w1) + b1)
        h = npx.relu(fnp.dot(h, w2) + b2)
        z = fnp.dot(h, w3) + b3
        return -npx.pick(npx.log_softmax(z), y).mean()

    def forward() -> None:
        fwd()
        waitall()

    def forward_rec() -> None:
        with autograd.record():
            fwd()
        waitall()

    def forward_backward() -> None:
        with autograd.record():
            loss = fwd()
        loss.backward()
        waitall()

    def update() -> None:
        for p in params:
            p -= LR * p.grad
        waitall()

    def step() -> None:
        with autograd.record():
            loss = fwd()
        loss.backward()
        for p in params:
            p -= LR * p.grad
        waitall()

    forward_backward()
    return {"forward": forward, "forward, recording": forward_rec,
            "forward + backward": forward_backward, "update": update, "step": step}


def _task_time(step: Callable[[], Any], steps: int,
               samples: int = 7) -> tuple[float, float, int]:
    """Under the NaiveEngine: (µs per call, µs of it inside engine tasks, tasks per call) for
    the fastest of ``samples`` runs of ``steps`` calls. Inside tasks is the NumPy kernels and
    storing their results; small ops the operator fast path computes are not tasks."""
    spent = [0.0, 0]

    def record(_name: str, seconds: float) -> None:
        spent[0] += seconds
        spent[1] += 1

    clock = time.perf_counter
    best = (math.inf, 0.0, 0)
    with timed_tasks(record):
        for _ in range(samples):
            spent[:] = [0.0, 0]
            gc.collect()
            t0 = clock()
            for _ in range(steps):
                step()
            wall = (clock() - t0) / steps * 1e6
            if wall < best[0]:
                best = (wall, spent[0] / steps * 1e6, spent[1] // steps)
    return best


#: cProfile rows -> what they are, by file and function
_CATEGORIES = [
    ("NumPy (kernels, its Python wrappers)", lambda f, fn: "numpy" in f or "numpy" in fn),
    ("task bodies (call the kernel, store the result)",
     lambda f, fn: fn in ("forward", "run", "fn", "_set_result", "_buffers", "_relu", "<lambda>",
                          "timed") or fn.startswith("_") and f.endswith("_elemwise.py")
     and fn in ("_sigmoid", "_softsign", "_softrelu")),
    ("engine (execute, push, worker, wait)",
     lambda f, fn: f.endswith(("_engine.py", "threading.py")) or f.endswith("_base.py")
     and fn in ("execute", "fail_now") or "lock" in fn or "'wait'" in fn),
    ("autograd (tape, backward walk)",
     lambda f, fn: "autograd" in f or f.endswith("_tape.py") or "contextlib" in f),
    ("op front ends (dispatch, infer, new arrays, views, gradient formulas)",
     lambda f, fn: "framework" in f),
    ("other Python (builtins)", lambda f, fn: True),
]


def _categorise(stats: pstats.Stats, steps: int) -> list[tuple[str, float]]:
    totals = {name: 0.0 for name, _ in _CATEGORIES}
    for (f, _line, fn), row in stats.stats.items():  # type: ignore[attr-defined]
        for name, match in _CATEGORIES:
            if match(f, fn):
                totals[name] += row[2]
                break
    return [(name, t / steps * 1e6) for name, t in totals.items()]


def _time_phases(cases: list[tuple[str, str, Callable[[], Any]]], rounds: int,
                 n: int) -> dict[tuple[str, str], list[float]]:
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for who, phase, fn in cases:
            use_engine(who)
            fn()
            gc.collect()
            t = time.perf_counter()
            for _ in range(n):
                fn()
            samples.setdefault((who, phase), []).append((time.perf_counter() - t) / n * 1e6)
    return samples


def profile(steps: int) -> int:
    """Where the framework MLP step goes: phase timings against NumPy's at the bench's size and
    at a tiny size (where kernels cost nothing and what remains is framework overhead), time
    inside engine tasks, and cProfile by category."""
    print("## Machine\n")
    info = machine_info(torch)
    for key in ("date", "cpu", "cores", "numpy", "blas_threads", "framework",
                "loadavg_before"):
        print(f"- {key}: {info[key]}")
    rounds = 9
    tiny = ((8, 8, 8, 4), 4)
    for sizes, batch in ((SIZES, BATCH), tiny):
        x, y, params = mlp_data(sizes, batch)
        cases: list[tuple[str, str, Callable[[], Any]]] = []
        for eng in ("NaiveEngine", "ThreadedEngine"):
            framework.engine.set_engine_type(eng)
            for phase, fn in _phases_framework(x, y, [p.copy() for p in params]).items():
                cases.append((f"framework {eng}", phase, fn))
        for phase, fn in _phases_numpy(x, y, [p.copy() for p in params]).items():
            cases.append(("NumPy", phase, fn))
        n = max(1, steps // 10) if sizes == SIZES else steps
        samples = _time_phases(cases, rounds, n)
        print(f"\n## Phases, sizes {'-'.join(map(str, sizes))}, batch {batch} (µs per call; "
              f"median and min of {rounds} interleaved samples of {n} calls)\n")
        print("| implementation | phase | median µs | min µs |")
        print("|---|---|---:|---:|")
        for (who, phase), s in samples.items():
            print(f"| {who} | {phase} | {statistics.median(s):,.1f} | {min(s):,.1f} |")

    x, y, params = mlp_data()
    framework.engine.set_engine_type("NaiveEngine")
    phases = _phases_framework(x, y, [p.copy() for p in params])
    print("\n## Inside engine tasks (NaiveEngine, np.dot style; fastest of 7 samples; the "
          "timing wrapper adds ~0.3 µs per task)\n")
    print("| phase | tasks | µs per call | inside tasks | outside (framework Python) |")
    print("|---|---:|---:|---:|---:|")
    for phase in ("forward, recording", "forward + backward", "update", "step"):
        wall, inside, tasks = _task_time(phases[phase], max(10, steps // 10))
        print(f"| {phase} | {tasks} | {wall:,.0f} | {inside:,.0f} | {wall - inside:,.0f} |")

    for eng in ("NaiveEngine", "ThreadedEngine"):
        framework.engine.set_engine_type(eng)
        step = _phases_framework(x, y, [p.copy() for p in params])["step"]
        pr = cProfile.Profile()
        t0 = time.perf_counter()
        pr.enable()
        for _ in range(steps):
            step()
        pr.disable()
        wall = (time.perf_counter() - t0) / steps * 1e6
        st = pstats.Stats(pr, stream=io.StringIO())
        print(f"\n## cProfile, {eng}, {steps} steps ({wall:,.0f} µs per step under the "
              f"profiler, which inflates Python code more than NumPy's)\n")
        print("| category (tottime) | µs per step | share |")
        print("|---|---:|---:|")
        cats = _categorise(st, steps)
        total = sum(t for _, t in cats) or 1.0
        for name, t in cats:
            print(f"| {name} | {t:,.0f} | {100 * t / total:.0f}% |")
        buf = io.StringIO()
        st.stream = buf  # type: ignore[attr-defined]
        st.sort_stats("tottime").print_stats(20)
        text = buf.getvalue()
        print("\n```")
        print(text[text.index("ncalls") - 3:].rstrip().replace(os.getcwd() + "/", ""))
        print("```")
    framework.engine.set_engine_type("ThreadedEngine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
