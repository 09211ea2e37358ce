"""DataLoader throughput (images/s) against a plain Python loop and PyTorch's DataLoader, in one
run.

Run from the repository root (PyTorch is measured when it imports, e.g. with ``.venv-bench``)::

    python bench/dataloader.py [--repeat 5] [--target-ms 1000] [--json out.json]
                               [--images 10240] [--batch 256] [--workers 2] [--no-torch]

Workload: one epoch over ``--images`` random 28x28 uint8 images with int labels (an
``ArrayDataset``), batch ``--batch``, in order, every image passing through a ToTensor-like
transform written in NumPy (HWC uint8 -> CHW float32 in [0, 1], then ``(x - 0.5) / 0.25``). One
iteration is one full epoch, so worker start-up (fork) and shutdown are included, as they are
for PyTorch without ``persistent_workers``.

Implementations:

- ``Python loop``: ``numpy.stack`` of the transformed images and ``numpy.asarray`` of the labels
  for each batch, in the main process: the floor for doing the same work with no loader at all.
- ``framework 0 workers`` / ``N workers`` / ``N threads`` (ThreadedEngine):
  ``gluon.data.DataLoader`` with
  ``num_workers=0``, ``num_workers=N`` (forked processes, batches through shared memory) and
  ``num_workers=N, thread_pool=True``; batches are framework arrays (``npx.waitall()`` at the end).
- ``PyTorch 0 workers`` / ``N workers``: ``torch.utils.data.DataLoader`` over a map-style dataset
  with the same transform (default collate to tensors).

The table gives the median time per epoch and images/s, and the ratios to the Python loop.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy
from _common import (
    Loop,
    busy_warning,
    loadavg,
    machine_info,
    make_parser,
    markdown_table,
    parse,
    print_machine,
    run_workload,
)

import framework
from framework import npx
from framework.gluon import data as gdata

try:
    import torch
    import torch.utils.data
except ImportError:  # the bench venv has it; the project's own does not need it
    torch = None

WORKLOAD = "epoch"


def to_tensor(img: numpy.ndarray) -> numpy.ndarray:
    """HWC uint8 -> CHW float32 in [0, 1], normalised with mean 0.5 and std 0.25."""
    x = img.astype(numpy.float32).transpose(2, 0, 1) / 255.0
    return (x - 0.5) / 0.25


def make_data(n: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28, 1), dtype=numpy.uint8)
    labels = rng.integers(0, 10, size=n).astype(numpy.int32)
    return images, labels


def framework_impls(workers: int) -> dict[str, dict[str, Any]]:
    """The framework configurations by name (``bench/_common.use_engine`` reads the engine)."""
    return {
        "framework 0 workers, ThreadedEngine": {},
        f"framework {workers} workers, ThreadedEngine": {"num_workers": workers},
        f"framework {workers} threads, ThreadedEngine": {"num_workers": workers,
                                                          "thread_pool": True},
    }


def impl_names(workers: int, with_torch: bool) -> list[str]:
    names = ["Python loop", *framework_impls(workers)]
    if with_torch:
        names += ["PyTorch 0 workers", f"PyTorch {workers} workers"]
    return names


def make_loop(impl: str, images: numpy.ndarray, labels: numpy.ndarray, batch: int,
              workers: int) -> Loop:
    n = len(images)
    if impl == "Python loop":
        def loop(iters: int) -> None:
            for _ in range(iters):
                for start in range(0, n, batch):
                    idx = range(start, min(start + batch, n))
                    x = numpy.stack([to_tensor(images[i]) for i in idx])
                    y = numpy.asarray([labels[i] for i in idx])
                    assert x.shape[0] == y.shape[0]
        return loop
    if impl.startswith("framework"):
        ds = gdata.ArrayDataset(images, labels).transform_first(to_tensor)
        loader = gdata.DataLoader(ds, batch_size=batch, **framework_impls(workers)[impl])

        def loop(iters: int) -> None:
            for _ in range(iters):
                for x, y in loader:
                    assert x.shape[0] == y.shape[0]
            npx.waitall()
        return loop
    if impl.startswith("PyTorch"):
        assert torch is not None

        class TorchDataset(torch.utils.data.Dataset):  # type: ignore[misc,name-defined]
            def __len__(self) -> int:
                return n

            def __getitem__(self, i: int) -> tuple[numpy.ndarray, Any]:
                return to_tensor(images[i]), labels[i]

        tl = torch.utils.data.DataLoader(
            TorchDataset(), batch_size=batch,
            num_workers=0 if impl.startswith("PyTorch 0") else workers)

        def loop(iters: int) -> None:
            for _ in range(iters):
                for x, y in tl:
                    assert x.shape[0] == y.shape[0]
        return loop
    raise ValueError(impl)


def check(images: numpy.ndarray, labels: numpy.ndarray, batch: int, workers: int) -> None:
    """Every framework configuration gives the Python loop's batches."""
    ds = gdata.ArrayDataset(images[:3 * batch], labels[:3 * batch]).transform_first(to_tensor)
    for kwargs in ({}, {"num_workers": workers}, {"num_workers": workers, "thread_pool": True}):
        for k, (x, y) in enumerate(gdata.DataLoader(ds, batch_size=batch, **kwargs)):
            idx = range(k * batch, (k + 1) * batch)
            ref = numpy.stack([to_tensor(images[i]) for i in idx])
            numpy.testing.assert_allclose(x.asnumpy(), ref, rtol=1e-6)
            numpy.testing.assert_array_equal(y.asnumpy(), labels[idx.start:idx.stop])


def main(argv: list[str] | None = None) -> int:
    p = make_parser(__doc__, 1000.0, [WORKLOAD])
    p.set_defaults(repeat=5)
    p.add_argument("--images", type=int, default=10240, help="images per epoch (default 10240)")
    p.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    p.add_argument("--workers", type=int, default=2, help="workers/threads (default 2)")
    args = parse(p, argv)
    use_torch = torch is not None and not args.no_torch
    if use_torch and args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    info = machine_info(torch if use_torch else None)
    images, labels = make_data(args.images)
    check(images, labels, args.batch, args.workers)
    impls = impl_names(args.workers, use_torch)

    def build(impl: str) -> Callable[[int], Any]:
        return make_loop(impl, images, labels, args.batch, args.workers)

    t0 = time.perf_counter()
    results = {WORKLOAD: run_workload(f"epoch of {args.images} images", impls, build, 1,
                                      args.repeat, args.target_ms / 1e3, width=36)}
    elapsed = time.perf_counter() - t0
    info["loadavg_after"] = loadavg()

    print_machine(info, ("date", "cpu", "cores", "usable_cores", "platform", "python", "numpy",
                         "torch", "torch_threads", "framework", "loadavg_before",
                         "loadavg_after"))
    print(f"\n## Results ({args.repeat} repeats; one epoch of {args.images} 28x28 uint8 images, "
          f"batch {args.batch}, with the transform)\n")
    print("| implementation | median ms / epoch | images/s | × Python loop |")
    print("|---|---:|---:|---:|")
    base = results[WORKLOAD].get("Python loop", {}).get("median_us")
    for impl in impls:
        r = results[WORKLOAD][impl]
        if "error" in r:
            print(f"| {impl} | error: {r['error']} | | |")
            continue
        med = r["median_us"]
        ratio = f"{med / base:.2f}" if base else "–"
        print(f"| {impl} | {med / 1e3:.1f} | {args.images / (med / 1e6):,.0f} | {ratio} |")
    print("\nraw timings (µs per epoch):\n")
    print(markdown_table(results, impls, base="Python loop", ref=f"PyTorch {args.workers} workers",
                         base_label="Python loop", ref_label="PyTorch N workers"))
    print(f"\n(total {elapsed:.1f} s)")
    busy_warning(info)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeat": args.repeat, "target_ms": args.target_ms,
                       "images": args.images, "batch": args.batch, "workers": args.workers,
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    framework.engine.waitall()
    sys.exit(main())
