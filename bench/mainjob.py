"""The main job's time per epoch: ``examples/train_mnist.py``'s training loop, against PyTorch.

Run from the repository root (PyTorch lives in the bench venv)::

    /work/main/.venv-bench/bin/python bench/mainjob.py [--repeat 3] [--blas-threads N]
                                                       [--torch-threads N] [--no-torch]

One iteration is one training epoch over the shipped MNIST mini subset (4,000 images, batch
64, shuffled), by the main job's own ``train_mnist.train_epoch``: ``DataLoader`` over
``transform_first(ToTensor, Normalize)``, LeNet (``train_mnist.lenet``: 5x5 convolutions, the
first padded, max pooling, three dense layers), softmax cross-entropy, Adam (lr 0.002), and the
running loss and accuracy sums kept on the device. The progress bar and the test pass are left
out.

Implementations: ``framework`` imperative, hybridized (the net and the loss, as ``--hybridize``
sets them up) and ``TrainStep`` (``--train-step``: each step one ``gluon.TrainStep`` call), on
the ThreadedEngine and the NaiveEngine; ``PyTorch``: the same network, loss and optimizer,
with a ``torch.utils.data`` ``DataLoader`` over a dataset that applies the same per-image
conversion and normalisation in NumPy. There is no hand-written NumPy row for this workload:
the per-step NumPy floor of a LeNet is the ``LeNet train (batch 64)`` row of
``bench/gluon.py``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy
from _common import ENGINES, FRAMEWORK_IMPLS, Loop

import framework
from framework import gluon, init, npx
from framework.gluon.data.vision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import train_mnist

try:
    import torch
except Exception:  # optional comparison
    torch = None

WORKLOAD = "main job epoch (MNIST mini)"
IMPLS = [*FRAMEWORK_IMPLS, *(f"framework TrainStep {eng}" for eng in ENGINES), "PyTorch"]
BATCH, LR = 64, 0.002
MEAN, STD = 0.1307, 0.3081


def _framework_loop(mode: str) -> Loop:
    """``mode``: 'imperative', 'hybridized' (``--hybridize``) or 'TrainStep'
    (``--train-step``), as the main job sets them up."""
    train, _test, mean, std = train_mnist.load_data("mnist-mini", None)
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    loader = gluon.data.DataLoader(train.transform_first(to_input), BATCH, shuffle=True)
    net = train_mnist.lenet()
    net.initialize(init.Xavier())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if mode != "imperative":
        net.hybridize()
        loss_fn.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": LR})
    one_call = gluon.TrainStep(net, loss_fn, trainer, return_output=True) \
        if mode == "TrainStep" else None

    def loop(n: int) -> Any:
        for _ in range(n):
            loss_sum, _correct, _seen = train_mnist.train_epoch(net, loader, loss_fn, trainer,
                                                                framework.cpu(),
                                                                one_call=one_call)
        npx.waitall()
        return loss_sum

    return loop


def _torch_loop() -> Loop:
    train, _test, _mean, _std = train_mnist.load_data("mnist-mini", None)
    images = train._data.asnumpy() if hasattr(train._data, "asnumpy") else numpy.asarray(
        train._data)
    labels = numpy.asarray(train._label, dtype=numpy.int64)
    tnn = torch.nn

    class Images(torch.utils.data.Dataset):  # the same per-image work as ToTensor + Normalize
        def __len__(self) -> int:
            return len(labels)

        def __getitem__(self, i: int) -> tuple[Any, int]:
            x = images[i].transpose(2, 0, 1).astype(numpy.float32) / 255.0
            return torch.from_numpy((x - MEAN) / STD), int(labels[i])

    loader = torch.utils.data.DataLoader(Images(), batch_size=BATCH, shuffle=True)
    net = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2, 2),
                         tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten(),
                         tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                         tnn.Linear(84, 10))
    loss_fn = tnn.CrossEntropyLoss(reduction="none")
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def loop(n: int) -> Any:
        for _ in range(n):
            loss_sum = torch.zeros(())
            correct = torch.zeros(())
            for data, label in loader:
                opt.zero_grad()
                out = net(data)
                loss = loss_fn(out, label)
                loss.mean().backward()
                opt.step()
                with torch.no_grad():
                    loss_sum = loss_sum + loss.sum()
                    correct = correct + (out.argmax(dim=1) == label).sum()
        return loss_sum

    return loop


def make_loop(impl: str) -> Loop:
    """The epoch loop of ``impl`` (its engine must already be selected)."""
    if impl == "PyTorch":
        if torch is None:
            raise RuntimeError("PyTorch is not installed")
        return _torch_loop()
    return _framework_loop(impl.split()[1])


def main(argv: list[str] | None = None) -> int:
    from _common import (
        add_thread_flags,
        apply_thread_flags,
        machine_info,
        make_parser,
        markdown_table,
        parse,
        print_machine,
        run_workload,
    )

    global torch
    p = make_parser(__doc__, 0.0, [WORKLOAD])
    p.set_defaults(repeat=3)
    add_thread_flags(p, settle_help="sleep before each repeat (default 250)",
                     profile_help="(not used by this bench)", steps_help="(not used)")
    args = parse(p, argv)
    torch = apply_thread_flags(args, torch)
    info = machine_info(torch)
    impls = [i for i in IMPLS if torch is not None or i != "PyTorch"]
    prev = framework.engine.engine_type()
    try:
        res = run_workload(WORKLOAD, impls, make_loop, 1, args.repeat, 0.0, width=36,
                           settle_s=args.settle_ms / 1e3)
    finally:
        framework.engine.set_engine_type(prev)
    print_machine(info, ("date", "cpu", "cores", "numpy", "blas_threads", "torch",
                         "torch_threads", "loadavg_before"))
    print(f"\n## Results ({args.repeat} repeats; µs per epoch)\n")
    print(markdown_table({WORKLOAD: res}, impls, base="framework imperative ThreadedEngine",
                         ref="PyTorch", base_label="framework imp.", ref_label="PyTorch"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
