"""kvstore: local/device stores against NumPy sums; dist_sync over MPI with 2 ranks."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import numpy
import pytest

import framework as mx
from framework import np, optimizer


@pytest.mark.parametrize("name", ["local", "device"])
def test_push_sums_over_devices_and_pull_copies(name):
    kv = mx.kv.create(name)
    assert kv.type == name and kv.rank == 0 and kv.num_workers == 1
    kv.init("w", np.zeros((2, 3)))
    vals = [np.full((2, 3), 1.0, ctx=mx.cpu(0)), np.full((2, 3), 2.0, ctx=mx.cpu(1)),
            np.arange(6.0, ctx=mx.cpu(0)).reshape(2, 3)]
    kv.push("w", vals)
    outs = [np.zeros((2, 3), ctx=mx.cpu(0)), np.zeros((2, 3), ctx=mx.cpu(1))]
    kv.pull("w", out=outs)
    want = 3.0 + numpy.arange(6.0).reshape(2, 3)
    for o in outs:
        numpy.testing.assert_array_equal(o.asnumpy(), want)
    assert outs[1].device == mx.cpu(1)


def test_list_of_keys_pushpull_and_broadcast():
    kv = mx.kv.create("device")
    kv.init([1, 2], [np.zeros(2), np.zeros(3)])
    a, b = np.ones(2), np.full(3, 4.0)
    kv.pushpull([1, 2], [a, b])  # no out: written back into the values
    numpy.testing.assert_array_equal(a.asnumpy(), [1, 1])
    numpy.testing.assert_array_equal(b.asnumpy(), [4, 4, 4])
    out = [np.zeros(2, ctx=mx.cpu(0)), np.zeros(2, ctx=mx.cpu(1))]
    kv.broadcast(9, np.array([5.0, 6.0]), out=out)
    for o in out:
        numpy.testing.assert_array_equal(o.asnumpy(), [5, 6])


def test_set_optimizer_updates_the_stored_weight():
    kv = mx.kv.create("local")
    assert kv.is_capable("optimizer")
    kv.init(0, np.array([1.0, 2.0]))
    kv.set_optimizer(optimizer.SGD(learning_rate=0.5))
    kv.push(0, [np.array([1.0, 1.0]), np.array([1.0, 3.0])])  # summed gradient [2, 4]
    out = np.zeros(2)
    kv.pull(0, out=out)
    numpy.testing.assert_allclose(out.asnumpy(), [1 - 0.5 * 2, 2 - 0.5 * 4])


def test_optimizer_states_round_trip(tmp_path):
    """A store restored from saved momentum continues exactly like the original."""
    def store(w0):
        kv = mx.kv.create("local")
        kv.init(0, np.array(w0))
        kv.set_optimizer(optimizer.SGD(learning_rate=0.1, momentum=0.9))
        return kv

    kv = store([1.0, 2.0])
    kv.push(0, np.array([1.0, 1.0]))
    kv.save_optimizer_states(str(tmp_path / "s.states"))
    w1, w2 = np.zeros(2), np.zeros(2)
    kv.pull(0, out=w1)
    kv2 = store(w1.asnumpy())  # the same weight, and the momentum restored from the file
    kv2.load_optimizer_states(str(tmp_path / "s.states"))
    for k in (kv, kv2):
        k.push(0, np.array([0.5, -1.0]))
    kv.pull(0, out=w1)
    kv2.pull(0, out=w2)
    numpy.testing.assert_array_equal(w1.asnumpy(), w2.asnumpy())
    # momentum 0.9 * -0.1 carried over: w = 0.9 - 0.09 - 0.05 and 1.9 - 0.09 + 0.1
    numpy.testing.assert_allclose(w2.asnumpy(), [0.76, 1.91], rtol=1e-6)
    (tmp_path / "bad").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a kvstore states file"):
        kv2.load_optimizer_states(str(tmp_path / "bad"))


def test_errors_name_the_key_and_shapes():
    kv = mx.kv.create("local")
    with pytest.raises(KeyError, match="'x'.*not been initialized"):
        kv.push("x", np.ones(2))
    kv.init("x", np.ones(2))
    with pytest.raises(ValueError, match="already initialized"):
        kv.init("x", np.ones(2))
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        kv.push("x", np.ones(3))
    with pytest.raises(ValueError, match="differ in shape"):
        kv.push("x", [np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match="array or a list of arrays"):
        kv.push("x", [1.0, 2.0])
    with pytest.raises(ValueError, match="unknown kvstore type 'bogus'"):
        mx.kv.create("bogus")
    with pytest.raises(NotImplementedError, match="parameter server"):
        mx.kv.create("dist_async")


def test_register_plugin():
    @mx.kv.KVStoreBase.register
    class TestStoreForUnitTest(mx.kv.KVStore):
        def __init__(self):
            super().__init__("teststoreforunittest")

    assert mx.kv.create("TestStoreForUnitTest").type == "teststoreforunittest"
    with pytest.raises(ValueError, match="already exists"):
        mx.kv.KVStoreBase.register(TestStoreForUnitTest)


def _mpirun() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    found = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or shutil.which("mpirun")
    return found


@pytest.mark.skipif(_mpirun() is None, reason="needs mpi4py and mpirun (the 'dist' extra)")
def test_dist_sync_trainer_matches_single_process_over_two_ranks():
    worker = pathlib.Path(__file__).with_name("mpi_worker.py")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               FRAMEWORK_ENGINE_TYPE="NaiveEngine", OMP_NUM_THREADS="1")
    cmd = [_mpirun(), "--oversubscribe", "-np", "2", sys.executable, str(worker)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.count("same_everywhere=True") == 2, out


def test_string_keys_with_an_optimizer_count_updates_per_key():
    kv = mx.kv.create("local")
    kv.init(["a", "b"], [np.zeros(1), np.zeros(1)])
    kv.set_optimizer(optimizer.Adam(learning_rate=0.1))
    for _ in range(2):
        kv.push("a", np.ones(1))
    kv.push("b", np.ones(1))
    out_a, out_b = np.zeros(1), np.zeros(1)
    kv.pull(["a", "b"], out=[out_a, out_b])
    # Adam's first steps move by ~lr each, whatever the gradient's scale
    numpy.testing.assert_allclose(out_a.asnumpy(), [-0.2], rtol=1e-3)
    numpy.testing.assert_allclose(out_b.asnumpy(), [-0.1], rtol=1e-3)
