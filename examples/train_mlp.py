"""Train a small Gluon MLP on a fixed synthetic 10-class problem.

This is the main job until the MNIST subset ships with the package (Step 5 of the plan): the
same Gluon code an MXNet user writes, end to end: data, model, loss, Trainer, metric.

    python examples/train_mlp.py --epochs 5 --hybridize
"""

from __future__ import annotations

import argparse
import time

import numpy

import framework as mx
from framework import autograd, gluon, init, np, npx
from framework.gluon import nn


def make_data(n: int, dim: int = 20, classes: int = 10, seed: int = 0) -> tuple:
    """Gaussian clusters around fixed random centres: a task with a known right answer."""
    centres = numpy.random.default_rng(1234).normal(scale=0.6, size=(classes, dim))
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    features = centres[labels] + rng.normal(size=(n, dim))
    return features.astype("float32"), labels.astype("int32")


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--hybridize", action="store_true")
    args = parser.parse_args(argv)

    npx.set_np()
    mx.np.random.seed(0)
    x_train, y_train = make_data(4000, seed=0)
    x_test, y_test = make_data(1000, seed=1)

    net = nn.HybridSequential()
    net.add(nn.Dense(64, activation="relu"), nn.Dense(10))
    net.initialize(init.Xavier())
    if args.hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})

    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = numpy.random.default_rng(epoch).permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            data, label = np.array(x_train[idx]), np.array(y_train[idx])
            with autograd.record():
                loss = loss_fn(net(data), label)
            loss.backward()
            trainer.step(len(idx))
            total += float(loss.sum())
        metric = gluon.metric.Accuracy()
        metric.update(np.array(y_test), net(np.array(x_test)))
        acc = metric.get()[1]
        print(f"epoch {epoch + 1}: train loss {total / len(x_train):.4f}, "
              f"test accuracy {acc:.3f}, {time.perf_counter() - start:.2f} s")
    return float(acc)


if __name__ == "__main__":
    main()
