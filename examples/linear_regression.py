"""Linear regression on synthetic data, twice: from scratch with ``np``/``autograd``, then Gluon.

    python examples/linear_regression.py [--epochs N]

The data come from ``y = X w + b + noise`` with known ``w`` and ``b``, so the recovered values can
be checked (this is the first chapter of "Dive into Deep Learning", written for MXNet).
"""

from __future__ import annotations

import argparse

import numpy

from framework import autograd, gluon, np, npx
from framework.gluon import nn

TRUE_W = numpy.array([2.0, -3.4], dtype="float32")
TRUE_B = 4.2


def synthetic_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = numpy.random.default_rng(seed)
    X = rng.normal(size=(n, len(TRUE_W))).astype("float32")
    y = X @ TRUE_W + TRUE_B + rng.normal(scale=0.01, size=n).astype("float32")
    return np.array(X), np.array(y.reshape(-1, 1))


def from_scratch(X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int = 10,
                 lr: float = 0.03) -> tuple[numpy.ndarray, float]:
    w = np.random.normal(0, 0.01, (X.shape[1], 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()
    n = X.shape[0]
    for epoch in range(epochs):
        order = numpy.random.default_rng(epoch).permutation(n)
        for start in range(0, n, batch_size):
            idx = np.array(order[start:start + batch_size], dtype="int64")
            with autograd.record():
                loss = ((np.dot(X[idx], w) + b - y[idx]) ** 2 / 2).sum()
            loss.backward()
            w[:] = w - lr * w.grad / batch_size   # minibatch SGD, in place like d2l's sgd()
            b[:] = b - lr * b.grad / batch_size
        full = (((np.dot(X, w) + b - y) ** 2) / 2).mean()
        print(f"scratch epoch {epoch + 1}: loss {full.item():.6f}")
    return w.asnumpy().ravel(), float(b.item())


def with_gluon(X: np.ndarray, y: np.ndarray, epochs: int,
               batch_size: int = 10) -> tuple[numpy.ndarray, float]:
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size, shuffle=True)
    net = nn.Dense(1)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.03})
    loss_fn = gluon.loss.L2Loss()
    for epoch in range(epochs):
        for xb, yb in loader:
            with autograd.record():
                loss = loss_fn(net(xb), yb)
            loss.backward()
            trainer.step(xb.shape[0])
        print(f"gluon epoch {epoch + 1}: loss {loss_fn(net(X), y).mean().item():.6f}")
    return net.weight.data().asnumpy().ravel(), float(net.bias.data().item())


def main(argv: list[str] | None = None) -> tuple[float, float]:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--n", type=int, default=1000)
    args = p.parse_args(argv)
    npx.set_np()
    X, y = synthetic_data(args.n)
    errors = []
    for name, fit in (("from scratch", from_scratch), ("gluon", with_gluon)):
        w, b = fit(X, y, args.epochs)
        err = max(float(numpy.abs(w - TRUE_W).max()), abs(b - TRUE_B))
        errors.append(err)
        print(f"{name}: w {numpy.round(w, 4)}, b {b:.4f} (true {TRUE_W}, {TRUE_B}); "
              f"max error {err:.4f}")
    return errors[0], errors[1]


if __name__ == "__main__":
    main()
