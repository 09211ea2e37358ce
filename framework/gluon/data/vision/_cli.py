"""``python -m framework datasets ...``: fetch, check and locate the vision datasets.

    datasets download NAME [--root DIR]   download (and extract) every file of NAME
    datasets verify NAME [--root DIR]     check the cached files against their checksums
    datasets path NAME [--root DIR]       print the directory NAME is cached in

NAME is one of mnist, fashion-mnist, cifar10, cifar100, mnist-mini (the subset shipped in the
package: nothing to download). ``--root`` defaults to ``$FRAMEWORK_HOME/datasets/NAME``.
Exit status: 0 on success, 1 when a file is missing, corrupt or cannot be downloaded, 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ... import utils
from ._files import FileFormatError, dataset_dir, fetch, read_cifar, safe_extract
from .datasets import CIFAR10, CIFAR100, MINI_DIR, MINI_FILES, SOURCES

__all__ = ["main", "NAMES"]

NAMES = ("mnist", "fashion-mnist", "cifar10", "cifar100", "mnist-mini")

def _cifar_members(name: str) -> list[tuple[str, str, int, tuple[int, ...], int]]:
    """The extracted CIFAR batches: (folder, file, label bytes, classes per label byte,
    records)."""
    ten: tuple[int, ...] = (10,)
    if name == "cifar10":
        n = CIFAR10._records
        return [("cifar-10-batches-bin", f"data_batch_{i}.bin", 1, ten, n)
                for i in range(1, 6)] + [("cifar-10-batches-bin", "test_batch.bin", 1, ten, n)]
    if name == "cifar100":
        train, test = CIFAR100._records
        return [("cifar-100-binary", "train.bin", 2, (20, 100), train),
                ("cifar-100-binary", "test.bin", 2, (20, 100), test)]
    return []


def _root(name: str, root: str | None) -> str:
    if name == "mnist-mini":
        return MINI_DIR
    return os.path.expanduser(root) if root else dataset_dir(name)


def _download(name: str, root: str, out: TextIO) -> int:
    if name == "mnist-mini":
        print(f"mnist-mini is shipped with the package in {root}; nothing to download", file=out)
        return 0
    paths = fetch(SOURCES[name], root)
    if name in ("cifar10", "cifar100"):
        for path in paths.values():
            safe_extract(path, root)
    for path in paths.values():
        print(path, file=out)
    return 0


def _verify(name: str, root: str, out: TextIO) -> int:
    if name == "mnist-mini":
        files = dict(MINI_FILES)
    else:
        files = {r.filename: r.checksum for r in SOURCES[name].files}
    bad = 0
    for filename, checksum in files.items():
        path = os.path.join(root, filename)
        if not os.path.isfile(path):
            status = "MISSING"
            # CIFAR: the archive may have been deleted after extraction; check the batches
            if name in ("cifar10", "cifar100"):
                status = "MISSING (archive; extracted batches checked below)"
            else:
                bad += 1
        elif utils.check_hash(path, checksum):
            status = "OK"
        else:
            status = f"BAD CHECKSUM (expected {checksum})"
            bad += 1
        print(f"{status:8s} {path}", file=out)
    for folder, filename, label_bytes, classes, count in _cifar_members(name):
        path = os.path.join(root, folder, filename)
        if not os.path.isfile(path):
            status = "MISSING"
            bad += 1
        else:
            try:
                read_cifar(path, label_bytes, 0, classes, count)
                status = "OK"
            except FileFormatError as exc:
                status = f"BAD ({exc})"
                bad += 1
        print(f"{status:8s} {path}", file=out)
    print(f"{name}: {'all files OK' if not bad else f'{bad} problem(s)'} in {root}", file=out)
    return 0 if not bad else 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``datasets`` command line (``argv`` may start with ``'datasets'``)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["datasets"]:
        args_in = args_in[1:]
    stream = sys.stdout if out is None else out
    parser = argparse.ArgumentParser(prog="python -m framework datasets",
                                     description="Download, verify or locate vision datasets.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in (("download", "download (and extract) a dataset"),
                          ("verify", "check the cached files against their checksums"),
                          ("path", "print the directory a dataset is cached in")):
        p = sub.add_parser(command, help=text)
        p.add_argument("name", choices=NAMES)
        p.add_argument("--root", default=None, help="cache directory (default: "
                       "$FRAMEWORK_HOME/datasets/NAME)")
    try:
        args = parser.parse_args(args_in)
    except SystemExit as exc:  # argparse exits on --help and on errors
        return int(exc.code or 0)
    root = _root(args.name, args.root)
    if args.command == "path":
        print(root, file=stream)
        return 0
    if args.command == "verify":
        return _verify(args.name, root, stream)
    try:
        return _download(args.name, root, stream)
    except (OSError, FileFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
