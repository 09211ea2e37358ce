"""Where the microseconds of a small ``np.add(a, b)`` go (ThreadedEngine, inline fast path).

Run from the repository root::

    python bench/small_op_profile.py [--rounds 40]

Each step of ``framework.nd._elemwise.binary()``'s fast path is timed on its own with ``timeit``
(20,000 calls per sample, the minimum over ``--rounds`` samples, all statements interleaved so a
change in machine load hits them alike), minus an empty statement. What the listed steps do not
explain is the interpreter's own work in ``binary()`` (argument checks, branches, attribute
loads). This reads framework internals, so it may need an update when ``binary()`` changes.
``a + b`` on two arrays of one shape and dtype no longer goes through ``binary()`` (ndarray's
operators have a fast path of their own, ``_elemwise.make_operator``); it is printed for scale.
"""

from __future__ import annotations

import argparse
import math
import threading
import timeit

import numpy

import framework
from framework import np as fnp
from framework.engine import _engine as _eng
from framework.engine._engine import Var
from framework.nd import _elemwise as E

STEPS = [
    # label, statement; the rows marked + add up to the fast path
    ("+ np.add(a, b) -> binary() call layers", "CALL"),
    ("+ ndarray._pending(): new array object + engine Var", "cls._pending(shape, dt, dev)"),
    ("    of which Var()", "Var()"),
    ("    of which object.__new__(ndarray)", "object.__new__(cls)"),
    ("+ autograd 'recording?' check", "E.ACTIVE.count and E.STATE.recording"),
    ("+ dev.xp (property)", "dev.xp"),
    ("+ math.prod(shape) <= inline size, var.err checks",
     "math.prod(shape) <= 16384 and (a._v is None or a._v.err is None) and "
     "(b._v is None or b._v.err is None)"),
    ("+ engine lock + 'anything queued?' scan",
     "with eng.lock:\n for w in eng.worker_list:\n  pass"),
    ("+ _buf(a), _buf(b)", "E._buf(a); E._buf(b)"),
    ("+ numpy.add(a, b) itself", "add(na, nb)"),
    ("+ table lambda around it (getattr(xp, 'add'))", "LAMBDA"),
    ("+ result dtype check and store", "type(r) is not xp.ndarray or r.dtype != dt; a._buf = na"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=40)
    args = p.parse_args(argv)
    framework.engine.set_engine_type("ThreadedEngine")
    a = fnp.ones((10,))
    b = fnp.ones((10,))
    g = {
        "a": a, "b": b, "na": a._buf, "nb": b._buf, "add": numpy.add, "xp": numpy, "E": E,
        "Var": Var, "cls": type(a), "shape": a._shape, "dt": a._dtype, "dev": a._device,
        "eng": _eng._engine, "math": math, "fn_": E.BINARY["add"][0],
        "r": numpy.add(a._buf, b._buf), "threading": threading,
    }
    g["fnp"] = fnp
    stmts = {"empty": "pass", "binary": "E.binary('add', a, b)", "a + b": "a + b",
             "np.add": "fnp.add(a, b)",
             "numpy.add": "add(na, nb)", "lambda": "fn_(xp, na, nb)"}
    stmts.update({label: s for label, s in STEPS if s not in ("CALL", "LAMBDA")})
    timers = {k: timeit.Timer(s, globals=g) for k, s in stmts.items()}
    best = dict.fromkeys(timers, math.inf)
    n = 20000
    for _ in range(args.rounds):
        for k, t in timers.items():
            best[k] = min(best[k], t.timeit(n) / n * 1e6)
    e = best["empty"]
    cost = {k: v - e for k, v in best.items()}
    cost["+ np.add(a, b) -> binary() call layers"] = cost["np.add"] - cost["binary"]
    cost["+ table lambda around it (getattr(xp, 'add'))"] = cost["lambda"] - cost["numpy.add"]
    listed = sum(cost[label] for label, _ in STEPS if label.startswith("+"))
    calls = cost[STEPS[0][0]]
    print("| step | µs |\n|---|---:|")
    for label, _ in STEPS:
        if not label.startswith("="):
            print(f"| {label.strip()} | {cost[label]:.3f} |")
    print(f"| + rest of binary(): type/device/shape/dtype checks, branches, locals | "
          f"{cost['binary'] - (listed - calls):.3f} |")
    print(f"| **= E.binary('add', a, b)** | {cost['binary']:.3f} |")
    print(f"| **= np.add(a, b)** | {cost['np.add']:.3f} |")
    print(f"| a + b (ndarray's operator fast path, not binary()) | {cost['a + b']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
