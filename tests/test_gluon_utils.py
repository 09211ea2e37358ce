"""gluon.utils: splitting across devices, clip_global_norm, downloads (against a local HTTP server
started by the tests), hook handles and small helpers."""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import threading
import warnings
from collections import OrderedDict

import numpy
import pytest

import framework as mx
from framework import np
from framework.gluon import utils


# -- split_data / split_and_load ----------------------------------------------------------------
def test_split_and_load_two_devices():
    data = np.arange(12).reshape(4, 3)
    parts = utils.split_and_load(data, [mx.cpu(0), mx.cpu(1)])
    assert isinstance(parts, list) and len(parts) == 2
    assert [p.device for p in parts] == [mx.cpu(0), mx.cpu(1)]
    numpy.testing.assert_array_equal(parts[0].asnumpy(), data.asnumpy()[:2])
    numpy.testing.assert_array_equal(parts[1].asnumpy(), data.asnumpy()[2:])


def test_split_and_load_one_device_is_a_list():
    data = np.ones((3, 2))
    parts = utils.split_and_load(data, [mx.cpu(1)])
    assert isinstance(parts, list) and len(parts) == 1
    assert parts[0].device == mx.cpu(1) and parts[0].shape == (3, 2)
    assert utils.split_and_load(data, mx.cpu(0))[0].shape == (3, 2)


def test_split_and_load_numpy_keeps_dtype():
    host = numpy.arange(8, dtype=numpy.int64).reshape(4, 2)
    parts = utils.split_and_load(host, [mx.cpu(0), mx.cpu(1)])
    assert all(p.dtype == numpy.int64 for p in parts)
    numpy.testing.assert_array_equal(numpy.concatenate([p.asnumpy() for p in parts]), host)


def test_uneven_split_raises_unless_allowed():
    data = np.arange(10).reshape(5, 2)
    with pytest.raises(ValueError, match="evenly split"):
        utils.split_and_load(data, [mx.cpu(0), mx.cpu(1)])
    parts = utils.split_and_load(data, [mx.cpu(0), mx.cpu(1)], even_split=False)
    assert [p.shape[0] for p in parts] == [3, 2]
    assert [s.shape[0] for s in utils.split_data(np.zeros((7, 1)), 3, even_split=False)] == \
        [3, 2, 2]


def test_split_data_batch_axis_and_errors():
    data = np.arange(24).reshape(2, 6, 2)
    parts = utils.split_data(data, 3, batch_axis=1)
    assert [p.shape for p in parts] == [(2, 2, 2)] * 3
    numpy.testing.assert_array_equal(parts[2].asnumpy(), data.asnumpy()[:, 4:])
    with pytest.raises(ValueError, match="Too many slices"):
        utils.split_data(np.zeros((2, 3)), 3, even_split=False)
    with pytest.raises(ValueError, match="batch_axis"):
        utils.split_data(np.zeros((2, 3)), 1, batch_axis=2)
    with pytest.raises(TypeError, match="devices"):
        utils.split_and_load(np.zeros((2,)), ["cpu"])


# -- clip_global_norm ---------------------------------------------------------------------------
def test_clip_global_norm_value_and_scaling():
    a = np.full((2, 2), 3.0)
    b = np.full((3,), 4.0, device=mx.cpu(1))
    expected = numpy.sqrt(4 * 9 + 3 * 16)
    norm = utils.clip_global_norm([a, b], 1.0)
    assert isinstance(norm, float)
    assert norm == pytest.approx(expected, rel=1e-6)
    numpy.testing.assert_allclose(a.asnumpy(), numpy.full((2, 2), 3 / expected), rtol=1e-5)
    numpy.testing.assert_allclose(b.asnumpy(), numpy.full(3, 4 / expected), rtol=1e-5)
    assert b.device == mx.cpu(1)
    after = numpy.sqrt((a.asnumpy() ** 2).sum() + (b.asnumpy() ** 2).sum())
    assert after == pytest.approx(1.0, rel=1e-5)


def test_clip_global_norm_below_max_is_untouched():
    a = np.array([0.3, 0.4])
    assert utils.clip_global_norm([a], 10.0) == pytest.approx(0.5)
    numpy.testing.assert_allclose(a.asnumpy(), [0.3, 0.4])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 in the scaling
def test_clip_global_norm_nonfinite_warns_and_async_form():
    with pytest.warns(UserWarning, match="nan or inf"):
        norm = utils.clip_global_norm([np.array([numpy.inf, 1.0])], 1.0)
    assert not numpy.isfinite(norm)
    a = np.array([3.0, 4.0])
    out = utils.clip_global_norm([a], 1.0, check_isfinite=False)
    assert isinstance(out, mx.np.ndarray) and out.shape == ()
    assert float(out) == pytest.approx(5.0)
    numpy.testing.assert_allclose(a.asnumpy(), [0.6, 0.8], rtol=1e-6)


def test_clip_global_norm_float16():
    a = np.full((1000,), 100.0, dtype="float16")  # the sum of squares overflows float16
    norm = utils.clip_global_norm([a], 1.0)
    assert norm == pytest.approx(100.0 * numpy.sqrt(1000), rel=1e-3)
    assert a.dtype == numpy.float16


# -- small helpers ------------------------------------------------------------------------------
def test_check_sha1_and_replace_file(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello")
    digest = hashlib.sha1(b"hello").hexdigest()
    assert utils.check_sha1(str(f), digest)
    assert utils.check_sha1(str(f), digest.upper())
    assert not utils.check_sha1(str(f), "0" * 40)
    g = tmp_path / "b.txt"
    g.write_bytes(b"old")
    utils.replace_file(str(f), str(g))
    assert g.read_bytes() == b"hello" and not f.exists()


def test_shape_is_known():
    assert utils.shape_is_known((2, 3))
    assert utils.shape_is_known(())
    assert utils.shape_is_known((0, 3))
    assert not utils.shape_is_known((2, -1))
    assert not utils.shape_is_known(None)
    with pytest.raises(ValueError):
        utils.shape_is_known((2, -2))


def test_hook_handle_detach_and_context_manager():
    hooks: OrderedDict = OrderedDict()
    f = lambda *a: None
    h1 = utils.HookHandle(hooks, f)
    h2 = utils.HookHandle()
    h2.attach(hooks, f)  # the same function twice gets two entries
    assert list(hooks.values()) == [f, f] and h1.id != h2.id
    h1.detach()
    h1.detach()
    assert list(hooks) == [h2.id]
    with utils.HookHandle(hooks, print) as h3:
        assert h3.id in hooks
    assert h3.id not in hooks
    with pytest.raises(RuntimeError, match="twice"):
        h2.attach(hooks, f)
    plain: dict = {}
    h4 = utils.HookHandle(plain, f)
    h4.detach()
    assert plain == {}
    h5 = pickle.loads(pickle.dumps(utils.HookHandle(OrderedDict(), max)))
    h5.detach()


def test_split_rnn_params_checks_size():
    with pytest.raises(ValueError, match="expected a vector of"):
        utils.split_rnn_params(np.zeros((10,)), "lstm", 1, 5, 3)
    parts = utils.split_rnn_params(np.arange(4 * 3 * (5 + 3 + 2)), "lstm", 1, 5, 3)
    assert parts["l0_i2h_weight"].shape == (12, 5)
    assert float(parts["l0_h2h_bias"][-1]) == 4 * 3 * (5 + 3 + 2) - 1


# -- download against a local server ------------------------------------------------------------
PAYLOAD = bytes(range(256)) * 64  # 16 KiB
PAYLOAD_SHA1 = hashlib.sha1(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    counts: dict = {}
    timeout = 10

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, body: bytes, status: int = 200, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        n = self.counts[path] = self.counts.get(path, 0) + 1
        if path == "/data.bin":
            self._send(PAYLOAD)
        elif path == "/flaky.bin":  # a server error first, then the data
            self._send(b"busy", status=503) if n == 1 else self._send(PAYLOAD)
        elif path == "/drop.bin":  # the connection drops half way, every time
            self._send(PAYLOAD[:1000], length=len(PAYLOAD))
            self.close_connection = True
        elif path == "/drop_once.bin":
            if n == 1:
                self._send(PAYLOAD[:1000], length=len(PAYLOAD))
                self.close_connection = True
            else:
                self._send(PAYLOAD)
        elif path == "/corrupt.bin":
            self._send(PAYLOAD[:-1] + b"\x00")
        else:
            self._send(b"not found", status=404)


@pytest.fixture
def server():
    _Handler.counts = {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    # a safety net: the server stops itself even if the teardown below never runs
    stopper = threading.Timer(60.0, httpd.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.counts
    finally:
        stopper.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _leftovers(directory) -> list[str]:
    return sorted(os.listdir(directory))


def test_download_with_checksum(server, tmp_path):
    base, counts = server
    out = utils.download(f"{base}/data.bin", path=str(tmp_path), sha1_hash=PAYLOAD_SHA1,
                         timeout=5)
    assert out == os.path.join(str(tmp_path), "data.bin")
    assert open(out, "rb").read() == PAYLOAD
    assert _leftovers(tmp_path) == ["data.bin"]
    # an existing, valid file is not downloaded again
    assert utils.download(f"{base}/data.bin", path=str(tmp_path), sha1_hash=PAYLOAD_SHA1) == out
    assert counts["/data.bin"] == 1


def test_download_to_file_path_and_cwd(server, tmp_path, monkeypatch):
    base, _ = server
    target = tmp_path / "sub" / "named.bin"
    assert utils.download(f"{base}/data.bin", path=str(target)) == str(target)
    assert target.read_bytes() == PAYLOAD
    monkeypatch.chdir(tmp_path)
    assert utils.download(f"{base}/data.bin?x=1") == "data.bin"
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_download_overwrite_semantics(server, tmp_path):
    base, counts = server
    target = tmp_path / "data.bin"
    target.write_bytes(b"stale")
    utils.download(f"{base}/data.bin", path=str(target))  # exists, no hash: kept
    assert target.read_bytes() == b"stale" and "/data.bin" not in counts
    utils.download(f"{base}/data.bin", path=str(target), sha1_hash=PAYLOAD_SHA1)  # bad hash
    assert target.read_bytes() == PAYLOAD and counts["/data.bin"] == 1
    target.write_bytes(b"stale again")
    utils.download(f"{base}/data.bin", path=str(target), overwrite=True)
    assert target.read_bytes() == PAYLOAD and counts["/data.bin"] == 2


def test_download_checksum_failure_leaves_no_file(server, tmp_path):
    base, counts = server
    with pytest.warns(UserWarning, match="retrying"):
        with pytest.raises(utils.ChecksumError, match="SHA-1"):
            utils.download(f"{base}/corrupt.bin", path=str(tmp_path), sha1_hash=PAYLOAD_SHA1,
                           retries=1, backoff=0.01)
    assert counts["/corrupt.bin"] == 2
    assert _leftovers(tmp_path) == []
    # an old file at the target survives a failed overwrite untouched
    target = tmp_path / "corrupt.bin"
    target.write_bytes(b"previous")
    with pytest.raises(ValueError):
        utils.download(f"{base}/corrupt.bin", path=str(target), sha1_hash=PAYLOAD_SHA1,
                       retries=0, overwrite=True)
    assert target.read_bytes() == b"previous" and _leftovers(tmp_path) == ["corrupt.bin"]


def test_download_retries_after_a_failing_response(server, tmp_path):
    base, counts = server
    with pytest.warns(UserWarning, match="503"):
        out = utils.download(f"{base}/flaky.bin", path=str(tmp_path), retries=2, backoff=0.01,
                             sha1_hash=PAYLOAD_SHA1)
    assert open(out, "rb").read() == PAYLOAD
    assert counts["/flaky.bin"] == 2


def test_download_dropped_connection(server, tmp_path):
    base, counts = server
    with pytest.raises(OSError):
        utils.download(f"{base}/drop.bin", path=str(tmp_path), retries=0, timeout=5)
    assert _leftovers(tmp_path) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = utils.download(f"{base}/drop_once.bin", path=str(tmp_path), retries=1,
                             backoff=0.01, timeout=5)
    assert open(out, "rb").read() == PAYLOAD and counts["/drop_once.bin"] == 2
    assert _leftovers(tmp_path) == ["drop_once.bin"]


def test_download_client_error_is_not_retried(server, tmp_path):
    base, counts = server
    with pytest.raises(OSError, match="404"):
        utils.download(f"{base}/missing.bin", path=str(tmp_path), retries=3, backoff=0.01)
    assert counts["/missing.bin"] == 1
    assert _leftovers(tmp_path) == []


def test_download_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="retries"):
        utils.download("http://127.0.0.1:1/x.bin", path=str(tmp_path), retries=-1)
    with pytest.raises(ValueError, match="file name"):
        utils.download("http://127.0.0.1:1/")
