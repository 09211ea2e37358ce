"""Saving, loading and exporting a network; running an exported model without its Python class.

    python examples/save_load_export.py [--out DIR]

1. ``save_parameters``/``load_parameters``: the parameters only; the class must be rebuilt.
2. ``export``: the traced graph (JSON) plus the parameters; ``SymbolBlock.imports`` runs it
   without the Python code that defined it (e.g. in a serving process).
Every file is written atomically: a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy

from framework import gluon, np, npx
from framework.gluon import nn


def build() -> nn.HybridSequential:
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"),
            nn.BatchNorm(),
            nn.MaxPool2D(2),
            nn.Flatten(),
            nn.Dense(10))
    return net


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=None, help="directory for the files (default: a temp dir)")
    args = p.parse_args(argv)
    npx.set_np()
    out = args.out or tempfile.mkdtemp(prefix="framework-export-")
    os.makedirs(out, exist_ok=True)

    net = build()
    net.initialize()
    x = np.array(numpy.random.default_rng(0).normal(size=(2, 1, 8, 8)).astype("float32"))
    expected = net(x).asnumpy()

    params = os.path.join(out, "net.params")
    net.save_parameters(params)
    again = build()
    again.load_parameters(params)
    diff_params = float(numpy.abs(again(x).asnumpy() - expected).max())
    print(f"save_parameters -> load_parameters: max difference {diff_params:.1e} ({params})")

    net.hybridize()
    net(x)  # export needs one traced call
    prefix = os.path.join(out, "net")
    net.export(prefix, epoch=0)
    imported = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"],
                                         prefix + "-0000.params")
    diff_export = float(numpy.abs(imported(x).asnumpy() - expected).max())
    print(f"export -> SymbolBlock.imports: max difference {diff_export:.1e} "
          f"({prefix}-symbol.json, {prefix}-0000.params)")
    return max(diff_params, diff_export)


if __name__ == "__main__":
    main()
