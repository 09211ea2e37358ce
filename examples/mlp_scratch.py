"""An MLP on MNIST from scratch: ``np`` arrays, ``autograd`` and a hand-written SGD, no Gluon.

    python examples/mlp_scratch.py [--epochs N] [--limit N]

The parameters are plain arrays with ``attach_grad()``; the softmax cross-entropy, the minibatch
loop and the update are written out, as in the from-scratch chapters of "Dive into Deep Learning".
Trains on the MNIST subset that ships with the package (4,000 train / 1,000 test images).
"""

from __future__ import annotations

import argparse

import numpy

from framework import autograd, np, npx
from framework.gluon.data.vision import MNIST


def load(train: bool, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The whole split as (N, 784) float32 in [0, 1] and (N,) int32 labels."""
    ds = MNIST(train=train, subset="mini")
    n = len(ds) if limit is None else min(limit, len(ds))
    images = numpy.stack([ds[i][0].asnumpy() for i in range(n)]).reshape(n, -1)
    labels = numpy.array([ds[i][1] for i in range(n)], dtype="int32")
    return np.array(images.astype("float32") / 255), np.array(labels)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_prob = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.take_along_axis(log_prob, labels.reshape(-1, 1).astype("int64"), axis=1)


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--limit", type=int, default=None, help="use only N images per split")
    args = p.parse_args(argv)
    npx.set_np()
    np.random.seed(0)

    X, y = load(True, args.limit)
    X_test, y_test = load(False, args.limit)
    params = [np.random.normal(0, 0.01, (784, args.hidden)), np.zeros(args.hidden),
              np.random.normal(0, 0.01, (args.hidden, 10)), np.zeros(10)]
    for param in params:
        param.attach_grad()

    def net(x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = params
        return np.dot(npx.relu(np.dot(x, w1) + b1), w2) + b2

    n = X.shape[0]
    accuracy = 0.0
    for epoch in range(args.epochs):
        order = numpy.random.default_rng(epoch).permutation(n)
        total = np.zeros(())
        for start in range(0, n, args.batch_size):
            idx = np.array(order[start:start + args.batch_size], dtype="int64")
            with autograd.record():
                loss = softmax_cross_entropy(net(X[idx]), y[idx]).sum()
            loss.backward()
            for param in params:      # SGD, in place: the arrays keep their gradient buffers
                param[:] = param - args.lr * param.grad / idx.shape[0]
            total = total + loss      # stays on the engine; read once per epoch
        predictions = net(X_test).argmax(axis=1)
        accuracy = float((predictions == y_test).mean().item())
        print(f"epoch {epoch + 1}: loss {total.item() / n:.4f}, test acc {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
