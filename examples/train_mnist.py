"""The main job: train a LeNet-style CNN on MNIST with Gluon, the way an MXNet user writes it.

By default it trains on the 5,000-image real MNIST subset that ships with the package (4,000
training and 1,000 held-out test images), so it runs offline in about a minute on 2 CPU cores::

    python examples/train_mnist.py                       # mini MNIST, 10 epochs
    python examples/train_mnist.py --hybridize --epochs 5
    python examples/train_mnist.py --train-step             # each step one gluon.TrainStep call
    python examples/train_mnist.py --dataset fashion-mnist   # full download (needs network)
    python examples/train_mnist.py --dataset cifar10 --gpu

It prints a tqdm progress bar per epoch with the running loss and accuracy, the test accuracy after
every epoch, saves the parameters (``--out``/lenet.params) and, when matplotlib is installed (the
``plot`` extra), a PNG of the loss/accuracy curves.

The progress bar never stalls the engine: the numbers it shows are those of the *previous* step,
whose computation has finished by the time the current step has been issued, so reading them does
not wait (docs/engine.md explains the pattern).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy
from tqdm import tqdm

import framework as mx
from framework import autograd, gluon, init, np, npx
from framework.gluon import nn
from framework.gluon.data.vision import transforms

DATASETS = ("mnist-mini", "mnist", "fashion-mnist", "cifar10")


def lenet(classes: int = 10) -> nn.HybridSequential:
    """LeNet-5 with ReLU and max pooling; input sizes are inferred at the first batch."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, kernel_size=5, padding=2, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(120, activation="relu"),
            nn.Dense(84, activation="relu"),
            nn.Dense(classes))
    return net


def load_data(name: str, root: str | None) -> tuple[gluon.data.Dataset, gluon.data.Dataset,
                                                    tuple[float, ...], tuple[float, ...]]:
    """Train and test datasets plus the per-channel mean and std used to normalise them."""
    vision = gluon.data.vision
    kw = {} if root is None else {"root": root}
    if name == "mnist-mini":
        train = vision.MNIST(train=True, subset="mini")
        test = vision.MNIST(train=False, subset="mini")
        return train, test, (0.1307,), (0.3081,)
    if name == "mnist":
        return (vision.MNIST(train=True, **kw), vision.MNIST(train=False, **kw),
                (0.1307,), (0.3081,))
    if name == "fashion-mnist":
        return (vision.FashionMNIST(train=True, **kw), vision.FashionMNIST(train=False, **kw),
                (0.2860,), (0.3530,))
    if name == "cifar10":
        return (vision.CIFAR10(train=True, **kw), vision.CIFAR10(train=False, **kw),
                (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    raise ValueError(f"--dataset must be one of {', '.join(DATASETS)}; got {name!r}")


def evaluate(net: nn.HybridSequential, loader: gluon.data.DataLoader, device: mx.Device) -> float:
    metric = gluon.metric.Accuracy()
    for data, label in loader:
        data = data.as_in_context(device)
        label = label.as_in_context(device)
        metric.update(label, net(data))
    return float(metric.get()[1])


def train_epoch(net: nn.HybridSequential, batches: Iterable[Any], loss_fn: gluon.loss.Loss,
                trainer: gluon.Trainer, device: mx.Device,
                show: Callable[[np.ndarray, np.ndarray, int], None] | None = None,
                one_call: gluon.TrainStep | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """One pass over ``batches``; returns the summed loss and correct count (arrays on
    ``device``) and the number of samples. The sums stay on the device: ``show`` (a progress
    display) gets the previous step's, which the engine has already computed, so it never
    makes Python wait for the current step. ``one_call``: a ``gluon.TrainStep(net, loss_fn,
    trainer, return_output=True)`` that makes each step one call (the same numbers)."""
    loss_sum = np.zeros((), device=device)
    correct = np.zeros((), device=device)
    seen = 0
    shown: tuple[np.ndarray, np.ndarray, int] | None = None
    for data, label in batches:
        data = data.as_in_context(device)
        label = label.as_in_context(device)
        if one_call is not None:
            loss, out = one_call(data, label)
        else:
            with autograd.record():
                out = net(data)
                loss = loss_fn(out, label)
            loss.backward()
            trainer.step(data.shape[0])
        loss_sum = loss_sum + loss.sum()
        correct = correct + (out.argmax(axis=1) == label).sum()
        if shown is not None and show is not None:
            show(*shown)
        seen += data.shape[0]
        shown = (loss_sum, correct, seen)
    return loss_sum, correct, seen


def save_plot(history: dict[str, list[float]], path: str) -> bool:
    """Loss and accuracy curves as a PNG; returns False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return False
    epochs = numpy.arange(1, len(history["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["loss"], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax2.plot(epochs, history["train_acc"], marker="o", label="train")
    ax2.plot(epochs, history["test_acc"], marker="o", label="test")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)  # a crash never leaves half a PNG behind
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist-mini", choices=DATASETS)
    p.add_argument("--root", default=None, help="dataset cache (default: $FRAMEWORK_HOME/datasets)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.002, help="Adam learning rate")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--hybridize", action="store_true", help="trace the network once and replay it")
    p.add_argument("--train-step", action="store_true",
                   help="each step as one gluon.TrainStep call (implies --hybridize; same numbers)")
    p.add_argument("--gpu", action="store_true", help="train on gpu(0) (needs CuPy and a GPU)")
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N training and test images (quick checks)")
    p.add_argument("--out", default=os.path.join("runs", "train_mnist"),
                   help="where lenet.params and curves.png are written")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    """Train, evaluate and save; returns the final test accuracy."""
    args = parse_args(argv)
    npx.set_np()
    if args.gpu and mx.num_gpus() < 1:
        sys.exit("--gpu was given but no GPU can be used (python -m framework info says why)")
    device = mx.gpu(0) if args.gpu else mx.cpu()
    mx.random.seed(args.seed)
    numpy.random.seed(args.seed)

    train, test, mean, std = load_data(args.dataset, args.root)
    if args.limit is not None:
        train, test = train.take(args.limit), test.take(args.limit)
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    train_loader = gluon.data.DataLoader(train.transform_first(to_input), args.batch_size,
                                         shuffle=True, num_workers=args.num_workers)
    test_loader = gluon.data.DataLoader(test.transform_first(to_input), 256,
                                        num_workers=args.num_workers)

    net = lenet()
    net.initialize(init.Xavier(), device=device)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if args.hybridize or args.train_step:
        net.hybridize()
        loss_fn.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})
    one_call = gluon.TrainStep(net, loss_fn, trainer, return_output=True) \
        if args.train_step else None

    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    test_acc = 0.0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False,
                   disable=args.quiet, file=sys.stdout, dynamic_ncols=True)

        def show(prev_loss: np.ndarray, prev_correct: np.ndarray, prev_seen: int,
                 bar: Any = bar) -> None:
            bar.set_postfix(loss=f"{prev_loss.item() / prev_seen:.4f}",
                            acc=f"{prev_correct.item() / prev_seen:.4f}", refresh=False)

        loss_sum, correct, seen = train_epoch(net, bar, loss_fn, trainer, device,
                                              None if args.quiet else show, one_call)
        bar.close()
        history["loss"].append(loss_sum.item() / max(seen, 1))
        history["train_acc"].append(correct.item() / max(seen, 1))
        test_acc = evaluate(net, test_loader, device)
        history["test_acc"].append(test_acc)
        print(f"epoch {epoch}: loss {history['loss'][-1]:.4f}, "
              f"train acc {history['train_acc'][-1]:.4f}, test acc {test_acc:.4f}, "
              f"{time.perf_counter() - start:.1f} s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    params = os.path.join(args.out, "lenet.params")
    net.save_parameters(params)
    plot = os.path.join(args.out, "curves.png")
    plotted = save_plot(history, plot)
    print(f"test accuracy {test_acc:.4f} on {len(test)} held-out images; parameters in {params}"
          + (f"; curves in {plot}" if plotted else "; install the 'plot' extra for curves.png"))
    return test_acc


if __name__ == "__main__":
    main()
