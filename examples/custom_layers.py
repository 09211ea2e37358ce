"""A custom HybridBlock and a custom autograd.Function, checked against finite differences.

    python examples/custom_layers.py [--steps N]

``ScaledTanh`` is a layer with its own parameters, written once with ``forward`` and hybridized
for speed; ``StableSoftplus`` is an ``autograd.Function`` with a hand-written backward (the
numerically safe ``sigmoid(x)``), the way MXNet users write custom operators in Python.
"""

from __future__ import annotations

import argparse

import numpy

from framework import autograd, gluon, init, np, npx
from framework.gluon import nn


class ScaledTanh(gluon.HybridBlock):
    """``alpha * tanh(beta * x)`` with a learned ``alpha`` and ``beta`` per feature."""

    def __init__(self, units: int) -> None:
        super().__init__()
        self.alpha = gluon.Parameter("alpha", shape=(units,), init=init.One())
        self.beta = gluon.Parameter("beta", shape=(units,), init=init.Constant(0.5))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.alpha.data() * np.tanh(self.beta.data() * x)


class StableSoftplus(autograd.Function):
    """``log(1 + exp(x))`` without overflow; backward is ``sigmoid(x)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        (x,) = self.saved_tensors
        return dy / (1 + np.exp(-x))


def check_function_gradient() -> float:
    """Largest difference between the hand-written backward and central differences."""
    x = np.array([-30.0, -2.0, 0.0, 1.5, 40.0], dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = StableSoftplus()(x)
    y.backward()
    xs = x.asnumpy()
    eps = 1e-6
    f = lambda v: numpy.logaddexp(0, v)  # NumPy's own stable softplus is the oracle
    numeric = (f(xs + eps) - f(xs - eps)) / (2 * eps)
    return float(numpy.abs(x.grad.asnumpy() - numeric).max())


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    args = p.parse_args(argv)
    npx.set_np()

    err = check_function_gradient()
    print(f"StableSoftplus: backward vs finite differences, max error {err:.2e}")

    # fit y = 2 * tanh(1.5 x) + softplus noise-free target with the custom layer
    rng = numpy.random.default_rng(0)
    xs = rng.uniform(-2, 2, size=(256, 3)).astype("float32")
    target = 2.0 * numpy.tanh(1.5 * xs)
    net = nn.HybridSequential()
    net.add(ScaledTanh(3))
    net.initialize()
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    x, y = np.array(xs), np.array(target)
    loss_fn = gluon.loss.L2Loss()
    for _ in range(args.steps):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(x.shape[0])
    final = float(loss.mean().item())
    alpha = net[0].alpha.data().asnumpy()
    beta = net[0].beta.data().asnumpy()
    print(f"ScaledTanh fit: loss {final:.2e}, alpha {numpy.round(alpha, 3)}, "
          f"beta {numpy.round(beta, 3)} (true 2.0 and 1.5)")
    return final


if __name__ == "__main__":
    main()
