"""A first look at framework: NumPy-style arrays on an asynchronous engine.

Run with ``python examples/demo.py``. (A training example on shipped MNIST data replaces this
demo as the main job once Gluon and the data pipeline land.)
"""

from __future__ import annotations

import time

import numpy

import framework as mx
from framework import np, npx


def main() -> None:
    npx.set_np()
    print("devices:", mx.cpu(), "GPUs:", mx.num_gpus())

    # float32 by default; ops return immediately and run on the engine
    a = np.arange(12).reshape(3, 4)
    b = np.ones((3, 4)) * 2
    c = (a * b + 1).sum(axis=1)
    print("c =", c)                      # printing waits for the data

    # linear least squares: the products run on the engine, the 3x3 solve on the host
    X = np.array(numpy.random.default_rng(0).normal(size=(256, 3)))
    w_true = np.array([1.5, -2.0, 0.5])
    y = X @ w_true
    w = numpy.linalg.solve((X.T @ X).asnumpy(), (X.T @ y).asnumpy())
    print("recovered weights:", numpy.round(w, 4))

    # asynchrony: a big chain of ops is queued at once, then one sync point
    x = np.ones((1000, 1000))
    t0 = time.perf_counter()
    for _ in range(20):
        x = x * 1.0001
    issued = time.perf_counter() - t0
    npx.waitall()
    total = time.perf_counter() - t0
    print(f"20 ops on (1000, 1000): issued in {issued * 1e3:.1f} ms, done in "
          f"{total * 1e3:.1f} ms")

    # files NumPy itself can read
    npx.savez("/tmp/framework_demo.npz", a=a, c=c)
    print("reloaded:", sorted(npx.load("/tmp/framework_demo.npz")))


if __name__ == "__main__":
    main()
