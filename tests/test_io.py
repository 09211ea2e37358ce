"""npx.save / npx.load / npx.savez: reload round trips, NumPy readability, atomicity, bad files."""

from __future__ import annotations

import os
import zipfile

import numpy
import pytest

import framework as mx
from framework import np, npx
from framework.nd._io import FileFormatError, atomic_write

DTYPES = ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"]


def _arr(shape, dtype, seed=0):
    rng = numpy.random.default_rng(seed)
    host = (rng.normal(size=shape) * 10).astype(dtype)
    return np.array(host), host


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_single_array_round_trip_is_npy(tmp_path, dtype, shape):
    x, host = _arr(shape, dtype)
    path = tmp_path / "x.npy"
    npx.save(str(path), x)
    back = npx.load(str(path))
    assert isinstance(back, np.ndarray)
    assert back.dtype == numpy.dtype(dtype) and back.shape == shape
    numpy.testing.assert_array_equal(back.asnumpy(), host)
    # a real .npy: NumPy reads it without pickles
    numpy.testing.assert_array_equal(numpy.load(path, allow_pickle=False), host)


def test_list_round_trip(tmp_path):
    xs = [_arr((2, 2), "float32", i)[0] for i in range(3)]
    path = tmp_path / "l.npz"
    npx.save(path, xs)  # os.PathLike is accepted
    back = npx.load(path)
    assert isinstance(back, list) and len(back) == 3
    for a, b in zip(xs, back):
        numpy.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    with numpy.load(path, allow_pickle=False) as z:
        numpy.testing.assert_array_equal(z["arr_1"], xs[1].asnumpy())


def test_dict_round_trip_keeps_names_and_dtypes(tmp_path):
    d = {"w": _arr((3, 4), "float32")[0], "step": np.array(numpy.array(7, dtype=numpy.int64)),
         "mask": np.array(numpy.array([True, False]))}
    path = str(tmp_path / "d.npz")
    npx.save(path, d)
    back = npx.load(path)
    assert set(back) == set(d)
    for k in d:
        assert back[k].dtype == d[k].dtype
        numpy.testing.assert_array_equal(back[k].asnumpy(), d[k].asnumpy())


def test_savez_positional_and_keywords(tmp_path):
    a, _ = _arr((2,), "float32")
    b, _ = _arr((3,), "int32", 1)
    path = str(tmp_path / "z.npz")
    npx.savez(path, a, bias=b)
    back = npx.load(path)
    assert sorted(back) == ["arr_0", "bias"]
    numpy.testing.assert_array_equal(back["bias"].asnumpy(), b.asnumpy())
    with numpy.load(path, allow_pickle=False) as z:
        assert {"arr_0", "bias"} <= set(z.files)


def test_foreign_numpy_npz_loads_as_dict(tmp_path):
    path = str(tmp_path / "n.npz")
    numpy.savez(path, numpy.arange(3), k=numpy.ones(2, numpy.float64))
    back = npx.load(path)
    assert sorted(back) == ["arr_0", "k"]
    assert back["k"].dtype == numpy.float64


def test_load_on_device(tmp_path):
    path = str(tmp_path / "x.npy")
    npx.save(path, np.ones(3))
    with mx.cpu(1):
        assert npx.load(path).device == mx.cpu(1)


def test_save_waits_for_pending_values(tmp_path):
    x = np.ones((300, 300))
    for _ in range(5):
        x = x * 2  # large ops go through the worker queue
    path = str(tmp_path / "p.npy")
    npx.save(path, x)
    assert float(numpy.load(path)[0, 0]) == 32.0


@pytest.mark.parametrize("cut", [1, 10, 60, -7])
def test_truncated_files_raise_naming_the_file(tmp_path, cut):
    for name, obj in [("t.npy", np.arange(100)), ("t.npz", [np.arange(100), np.ones(5)])]:
        path = tmp_path / name
        npx.save(str(path), obj)
        data = path.read_bytes()
        path.write_bytes(data[:cut] if cut > 0 else data[:cut])
        with pytest.raises(FileFormatError, match=name):
            npx.load(str(path))


def test_foreign_and_empty_files_raise(tmp_path):
    p = tmp_path / "foreign.bin"
    p.write_bytes(b"hello world, not an array")
    with pytest.raises(FileFormatError, match="foreign.bin"):
        npx.load(str(p))
    e = tmp_path / "empty.npy"
    e.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        npx.load(str(e))
    legacy = tmp_path / "legacy.params"
    legacy.write_bytes((0x112).to_bytes(8, "little") + b"\0" * 16)
    with pytest.raises(FileFormatError, match="legacy"):
        npx.load(str(legacy))
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        npx.load(str(tmp_path / "missing.npy"))


def test_pickled_npy_is_refused(tmp_path):
    path = str(tmp_path / "obj.npy")
    numpy.save(path, numpy.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="obj.npy"):
        npx.load(path)


def test_corrupt_metadata_raises(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("__framework_meta__.npy", "w") as f:
            numpy.lib.format.write_array(f, numpy.frombuffer(b"{not json", numpy.uint8))
    with pytest.raises(FileFormatError, match="metadata"):
        npx.load(str(path))


def test_bad_arguments():
    with pytest.raises(TypeError, match="path"):
        npx.save(123, np.ones(2))
    with pytest.raises(TypeError, match="ndarray"):
        npx.save("/tmp/never.npy", numpy.ones(2))
    with pytest.raises(TypeError, match="keys must be str"):
        npx.save("/tmp/never.npz", {1: np.ones(2)})


def test_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "keep.npy")
    npx.save(path, np.arange(4))
    before = open(path, "rb").read()

    def explode(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, explode)
    assert open(path, "rb").read() == before
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")] == []


def test_failed_save_of_bad_element_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "keep.npz")
    npx.save(path, [np.arange(4)])
    before = open(path, "rb").read()
    with pytest.raises(TypeError):
        npx.save(path, [np.arange(3), "not an array"])
    assert open(path, "rb").read() == before
