"""MXNet's binary NDArray file format (API.md §1.25): round trips for every dtype, files whose bytes
this test builds by hand from the format description (list, dict, V1/V2/V3 and pre-V1 records,
bfloat16), truncation at every cut point, corrupt and hostile headers, ``npx.load`` of MXNet
files, and Gluon ``load_parameters`` of MXNet ``.params`` (structural names, 1.x global names
matched by order, the mismatch errors) plus ``save_parameters(format='mxnet')``.
"""

from __future__ import annotations

import os
import struct

import numpy
import pytest

import framework as mx
from framework import np, npx
from framework.gluon import nn
from framework.nd._io import FileFormatError
from framework.nd._mxnet_format import dumps, is_mxnet_file, load_mxnet, loads, save_mxnet

SEED = 20250611
V1, V2, V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA
# MXNet's type flags, written out here from the format description (mshadow's enum)
FLAGS = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
         "int64": 6, "bool": 7, "int16": 8, "uint16": 9, "uint32": 10, "uint64": 11}


def _host(shape, dtype, seed=0):
    rng = numpy.random.default_rng(SEED + seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if numpy.dtype(dtype).kind == "u":
        return rng.integers(0, 200, size=shape).astype(dtype)
    return (rng.normal(size=shape) * 20).astype(dtype)


# -- hand-built bytes --------------------------------------------------------------------------
def _header(n):
    return struct.pack("<QQQ", 0x112, 0, n)


def _names(names):
    out = struct.pack("<Q", len(names))
    for name in names:
        raw = name.encode()
        out += struct.pack("<Q", len(raw)) + raw
    return out


def _v23(arr, magic=V2, flag=None, dev=(1, 0)):
    """A V2/V3 record: magic, stype 0, int32 ndim, int64 dims, dev type/id, type flag, data."""
    flag = FLAGS[str(arr.dtype)] if flag is None else flag
    out = struct.pack("<Iii", magic, 0, arr.ndim)
    out += b"".join(struct.pack("<q", d) for d in arr.shape)
    out += struct.pack("<iii", dev[0], dev[1], flag)
    return out + arr.astype(arr.dtype.newbyteorder("<")).tobytes()


def _v1(arr):
    """A V1 record: magic, int32 ndim, int64 dims (no storage type), dev, type flag, data."""
    out = struct.pack("<Ii", V1, arr.ndim) + b"".join(struct.pack("<q", d) for d in arr.shape)
    return out + struct.pack("<iii", 1, 0, FLAGS[str(arr.dtype)]) + arr.tobytes()


def _pre_v1(arr):
    """A record from before V1: no magic, uint32 ndim, uint32 dims, dev, type flag, data."""
    out = struct.pack("<I", arr.ndim) + b"".join(struct.pack("<I", d) for d in arr.shape)
    return out + struct.pack("<iii", 2, 0, FLAGS[str(arr.dtype)]) + arr.tobytes()


def _file(records, names=()):
    return _header(len(records)) + b"".join(records) + _names(list(names))


# -- round trips -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", list(FLAGS))
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3), (2, 3, 4)])
def test_round_trip_every_dtype_and_shape(dtype, shape):
    host = _host(shape, dtype)
    back = loads(dumps([host]))
    assert isinstance(back, list) and len(back) == 1
    assert back[0].dtype == numpy.dtype(dtype) and back[0].shape == shape
    numpy.testing.assert_array_equal(back[0], host)
    back = loads(dumps({"x": host}))
    assert list(back) == ["x"]
    numpy.testing.assert_array_equal(back["x"], host)


def test_written_bytes_equal_the_hand_built_file():
    a = _host((2, 3), "float32")
    b = _host((4,), "int64", 1)
    assert dumps([a, b]) == _file([_v23(a), _v23(b)])
    assert dumps({"w": a, "step": b}) == _file([_v23(a), _v23(b)], ["w", "step"])
    assert dumps((a,), np_shape=True) == _file([_v23(a, V3)])
    assert dumps([]) == _file([])
    # a 0-d array needs NumPy-shape records; a file never mixes versions (MXNet's loader wants
    # every record of a file to match its mode)
    s = numpy.array(7, dtype=numpy.int32)
    assert dumps([a, s]) == _file([_v23(a, V3), _v23(s, V3)])
    with pytest.raises(ValueError, match="0-d"):
        dumps([a, s], np_shape=False)


def test_framework_arrays_and_non_native_byte_order():
    x = np.array(_host((3, 2), "float64"))
    big = _host((3,), "int32").astype(">i4")
    back = loads(dumps({"x": x, "big": big}))
    numpy.testing.assert_array_equal(back["x"], x.asnumpy())
    numpy.testing.assert_array_equal(back["big"], big)
    assert back["big"].dtype == numpy.dtype("int32")


def test_save_and_load_files(tmp_path):
    d = {"a": np.array(_host((2, 2), "float16")), "b": _host((), "float64")}
    path = tmp_path / "d.params"
    save_mxnet(path, d)
    assert is_mxnet_file(path) and is_mxnet_file(str(path))
    back = load_mxnet(path)
    for k in d:
        numpy.testing.assert_array_equal(back[k], numpy.asarray(d[k]))
    assert not is_mxnet_file(tmp_path / "missing")
    (tmp_path / "short").write_bytes(b"\x12\x01")
    assert not is_mxnet_file(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="missing"):
        load_mxnet(tmp_path / "missing")


def test_bad_arguments_leave_the_old_file(tmp_path):
    path = tmp_path / "keep.params"
    save_mxnet(path, [_host((2,), "float32")])
    before = path.read_bytes()
    with pytest.raises(TypeError, match="complex"):
        save_mxnet(path, [numpy.zeros(2, numpy.complex64)])
    with pytest.raises(TypeError, match="keys must be str"):
        save_mxnet(path, {1: numpy.zeros(2)})
    with pytest.raises(TypeError, match="element 1"):
        save_mxnet(path, [numpy.zeros(2), [1.0, 2.0]])
    with pytest.raises(TypeError, match="wrap a single array"):
        save_mxnet(path, numpy.zeros(2))
    with pytest.raises(TypeError, match="fname"):
        save_mxnet(3, [numpy.zeros(2)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.params"]  # no temporary file left behind


# -- reading hand-built files --------------------------------------------------------------------
def test_hand_built_list_and_dict():
    a = _host((3, 4), "float32")
    b = _host((2,), "uint8", 1)
    out = loads(_file([_v23(a), _v23(b)]))
    assert isinstance(out, list)
    numpy.testing.assert_array_equal(out[0], a)
    numpy.testing.assert_array_equal(out[1], b)
    out = loads(_file([_v23(a), _v23(b)], ["arg:w", "aux:m"]))
    assert list(out) == ["arg:w", "aux:m"]
    numpy.testing.assert_array_equal(out["aux:m"], b)
    out = loads(_file([_v23(a, V3)], ["é"]))  # names are UTF-8
    numpy.testing.assert_array_equal(out["é"], a)


def test_hand_built_v1_pre_v1_and_v3_records():
    a = _host((2, 3), "float64")
    b = _host((4,), "int32", 1)
    s = numpy.array(2.5, dtype=numpy.float32)
    e = numpy.zeros((0, 3), numpy.float32)
    out = loads(_file([_v1(a), _pre_v1(b), _v23(s, V3), _v23(e, V3), _v23(a, V2)]))
    numpy.testing.assert_array_equal(out[0], a)
    numpy.testing.assert_array_equal(out[1], b)
    assert out[2].shape == () and out[2] == 2.5
    assert out[3].shape == (0, 3)
    numpy.testing.assert_array_equal(out[4], a)


def test_hand_built_gpu_device_record_loads_on_the_host():
    a = _host((3,), "float32")
    numpy.testing.assert_array_equal(loads(_file([_v23(a, dev=(2, 1))]))[0], a)


def test_bfloat16_is_read_as_float32():
    values = numpy.array([1.0, -2.5, 3.140625, 0.0, -0.0078125, 65280.0], numpy.float32)
    bits = (values.view(numpy.uint32) >> 16).astype(numpy.uint16)  # exact in bf16
    rec = struct.pack("<Iiiq", V2, 0, 1, len(values)) + struct.pack("<iii", 1, 0, 12)
    out = loads(_file([rec + bits.tobytes()]))
    assert out[0].dtype == numpy.float32
    numpy.testing.assert_array_equal(out[0], values)


# -- truncated and corrupt files --------------------------------------------------------------
def test_every_truncation_raises(tmp_path):
    buf = _file([_v23(_host((2,), "float32")), _v23(numpy.array(3, numpy.int8), V3)],
                ["ab", "c"])
    loads(buf)  # the whole file is fine
    for cut in range(len(buf)):
        with pytest.raises(FileFormatError):
            loads(buf[:cut])
    path = tmp_path / "cut.params"
    path.write_bytes(buf[:40])
    with pytest.raises(FileFormatError, match=r"cut\.params.*truncated.*offset 36"):
        load_mxnet(path)
    with pytest.raises(FileFormatError, match="cut.params"):
        npx.load(str(path))


def _corrupt(buf, match):
    with pytest.raises(FileFormatError, match=match):
        loads(buf)


def test_corrupt_headers():
    a = _host((2,), "float32")
    good = _v23(a)
    _corrupt(struct.pack("<QQQ", 0x113, 0, 1) + good + _names([]), "file magic is 0x113")
    _corrupt(_file([struct.pack("<I", 0xDEADBEEF) + good[4:]]), "0xDEADBEEF")
    _corrupt(_file([good[:4] + struct.pack("<i", 7) + good[8:]]), "storage type 7")
    _corrupt(_file([good[:-12 - 8] + struct.pack("<iii", 9, 0, 0) + good[-8:]]),
             "device type 9")
    _corrupt(_file([good[:-8 - 4] + struct.pack("<i", 13) + good[-8:]]), "type flag 13")
    _corrupt(_file([good[:8] + struct.pack("<i", -3) + good[12:]]), "ndim=-3")
    _corrupt(_file([good]) + b"\x00", "1 unexpected bytes")
    _corrupt(_header(1) + good + _names(["x", "y"]), "2 names for 1 arrays")
    _corrupt(_header(2) + good + good + _names(["x", "x"]), "appears twice")
    _corrupt(_header(1) + good + struct.pack("<QQ", 1, 2) + b"\xff\xfe", "UTF-8")
    # an uninitialised ("none") NDArray has no data
    _corrupt(_file([struct.pack("<Iii", V2, 0, 0)]), "uninitialised")
    _corrupt(_file([struct.pack("<Iii", V3, 0, -1)]), "uninitialised")


@pytest.mark.parametrize("stype,name", [(1, "row_sparse"), (2, "csr")])
def test_sparse_arrays_are_rejected_cleanly(stype, name):
    a = _host((2,), "float32")
    rec = _v23(a)
    _corrupt(_file([rec[:4] + struct.pack("<i", stype) + rec[8:]]), f"sparse {name}")


def test_absurd_sizes_are_rejected_before_allocating():
    _corrupt(_file([struct.pack("<Iii", V2, 0, 1000)]), "ndim=1000")
    _corrupt(_file([struct.pack("<I", 31) + b"\x00" * 8]), "truncated")  # pre-V1 ndim 31
    huge = struct.pack("<Iii", V2, 0, 2) + struct.pack("<qq", 2 ** 40, 2 ** 40)
    _corrupt(_file([huge + struct.pack("<iii", 1, 0, 1)]), "only 8 bytes remain")
    _corrupt(struct.pack("<QQQ", 0x112, 0, 2 ** 60) + b"\x00" * 16, "declares 1152921504606846976")
    _corrupt(_header(0) + struct.pack("<Q", 2 ** 62), "4611686018427387904 names for 0")
    _corrupt(_header(1) + _v23(_host((1,), "int8")) + struct.pack("<QQ", 1, 2 ** 62),
             "name 0 declares")
    _corrupt(_file([struct.pack("<Iii", V2, 0, 1) + struct.pack("<q", -5)
                    + struct.pack("<iii", 1, 0, 0)]), "negative dimension")


# -- npx.load ---------------------------------------------------------------------------------
def test_npx_load_reads_mxnet_files(tmp_path):
    a = _host((2, 3), "float32")
    b = _host((3,), "int64", 1)
    path = tmp_path / "list.nd"
    path.write_bytes(_file([_v23(a), _v23(b)]))
    out = npx.load(str(path))
    assert isinstance(out, list) and all(isinstance(x, np.ndarray) for x in out)
    numpy.testing.assert_array_equal(out[0].asnumpy(), a)
    assert out[1].dtype == numpy.int64
    path.write_bytes(_file([_v23(a)]))  # one unnamed array is still a list (1.9.1)
    assert isinstance(npx.load(str(path)), list)
    path.write_bytes(_file([_v23(a), _v23(b)], ["a", "b"]))
    out = npx.load(str(path), device=mx.cpu(1))
    assert set(out) == {"a", "b"} and out["b"].device == mx.cpu(1)
    numpy.testing.assert_array_equal(out["b"].asnumpy(), b)


# -- Gluon ----------------------------------------------------------------------------------
def _net(deferred=False):
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=0 if deferred else 4), nn.BatchNorm(in_channels=0 if deferred
                                                                    else 3),
            nn.Dense(2, in_units=0 if deferred else 3))
    return net


def _weights(seed=0):
    """Values in 1.x collect_params order: dense w, b; bn gamma, beta, mean, var; dense w, b."""
    shapes = [(3, 4), (3,), (3,), (3,), (3,), (3,), (2, 3), (2,)]
    out = [_host(s, "float32", seed + i) for i, s in enumerate(shapes)]
    out[5] = numpy.abs(out[5]) + 0.5  # a variance
    return out


STRUCTURAL = ["0.weight", "0.bias", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
              "2.weight", "2.bias"]
GLOBAL_1X = ["hybridsequential0_dense0_weight", "hybridsequential0_dense0_bias",
             "hybridsequential0_batchnorm0_gamma", "hybridsequential0_batchnorm0_beta",
             "hybridsequential0_batchnorm0_running_mean",
             "hybridsequential0_batchnorm0_running_var",
             "hybridsequential0_dense1_weight", "hybridsequential0_dense1_bias"]


def _check(net, values):
    for name, v in zip(STRUCTURAL, values):
        numpy.testing.assert_array_equal(net.collect_params()[name].data().asnumpy(), v)


@pytest.mark.parametrize("names", [STRUCTURAL, GLOBAL_1X,
                                   ["arg:" + n if "running" not in n else "aux:" + n
                                    for n in GLOBAL_1X]])
def test_load_parameters_of_hand_built_mxnet_file(tmp_path, names):
    values = _weights()
    path = tmp_path / "model.params"
    path.write_bytes(_file([_v23(v) for v in values], names))
    net = _net(deferred=True)  # shapes come from the file
    net.load_parameters(str(path))
    _check(net, values)
    x = _host((5, 4), "float32", 99)
    assert net(np.array(x)).shape == (5, 2)


def test_load_parameters_1x_names_mismatch(tmp_path):
    values = _weights()
    path = tmp_path / "bad.params"
    swapped = [values[1], values[0], *values[2:]]
    swapped_names = [GLOBAL_1X[1], GLOBAL_1X[0], *GLOBAL_1X[2:]]
    path.write_bytes(_file([_v23(v) for v in swapped], swapped_names))
    with pytest.raises(ValueError, match=r"by order.*#0.*dense0_bias.*'0\.weight'"):
        _net().load_parameters(str(path))
    # same shapes, wrong order (beta before gamma): the parameter names catch it
    names = [GLOBAL_1X[0], GLOBAL_1X[1], GLOBAL_1X[3], GLOBAL_1X[2], *GLOBAL_1X[4:]]
    path.write_bytes(_file([_v23(v) for v in values], names))
    with pytest.raises(ValueError, match=r"#2.*batchnorm0_beta.*'1\.gamma'"):
        _net().load_parameters(str(path))
    path.write_bytes(_file([_v23(v) for v in values[:7]], GLOBAL_1X[:7]))
    with pytest.raises(ValueError, match=r"holds 7 parameters and the network 8.*#7.*2\.bias"):
        _net().load_parameters(str(path))
    wrong = [*values[:6], _host((2, 5), "float32"), values[7]]
    path.write_bytes(_file([_v23(v) for v in wrong], GLOBAL_1X))
    with pytest.raises(ValueError, match=r"#6.*\(2, 5\).*'2\.weight'"):
        _net().load_parameters(str(path))


def test_load_parameters_options_with_mxnet_files(tmp_path):
    values = _weights()
    path = tmp_path / "half.params"
    path.write_bytes(_file([_v23(v.astype(numpy.float16)) for v in values], GLOBAL_1X))
    with pytest.raises(ValueError, match="dtype mismatch"):
        _net().load_parameters(str(path))
    net = _net()
    net.load_parameters(str(path), cast_dtype=True)
    assert net.collect_params()["0.weight"].dtype == numpy.float32
    _check(net, [v.astype(numpy.float16).astype(numpy.float32) for v in values])
    net = _net()
    net.load_parameters(str(path), cast_dtype=True, dtype_source="saved")
    assert net.collect_params()["0.weight"].data().dtype == numpy.float16
    # structural names: allow_missing / ignore_extra work as for .npz files
    path.write_bytes(_file([_v23(v) for v in values[:7]], STRUCTURAL[:7]))
    with pytest.raises(ValueError, match="missing"):
        _net().load_parameters(str(path))
    net = _net()
    net.initialize()
    net.load_parameters(str(path), allow_missing=True)
    _check(net, values[:7])


def test_save_parameters_mxnet_format_round_trip(tmp_path):
    net = _net()
    net.initialize()
    path = tmp_path / "out.params"
    net.save_parameters(str(path), format="mxnet")
    raw = path.read_bytes()
    assert raw[:8] == struct.pack("<Q", 0x112)
    assert struct.unpack("<I", raw[24:28])[0] == V2  # V2 records: 1.x reads them in both modes
    loaded = load_mxnet(path)
    assert list(loaded) == STRUCTURAL
    for name, p in net.collect_params().items():
        numpy.testing.assert_array_equal(loaded[name], p.data().asnumpy())
    other = _net(deferred=True)
    other.load_parameters(str(path))
    _check(other, [loaded[n] for n in STRUCTURAL])
    with pytest.raises(ValueError, match="format must be"):
        net.save_parameters(str(path), format="pickle")


def test_parameter_dict_save_load_mxnet_format(tmp_path):
    net = _net()
    net.initialize()
    path = tmp_path / "pd.params"
    net.collect_params().save(str(path), format="mxnet")
    assert is_mxnet_file(path)
    other = _net()
    other.initialize()
    other.collect_params().load(str(path))
    for name, p in net.collect_params().items():
        numpy.testing.assert_array_equal(other.collect_params()[name].data().asnumpy(),
                                         p.data().asnumpy())
    # a 1.x ParameterDict.save file (global names) loads by order
    values = _weights(5)
    path.write_bytes(_file([_v23(v) for v in values], GLOBAL_1X))
    other.collect_params().load(str(path))
    _check(other, values)
