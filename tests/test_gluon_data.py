"""gluon.data: samplers, Dataset helpers, batchify functions and the DataLoader (same process,
worker processes, threads), including worker failures, timeouts and clean shutdown."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time

import numpy
import pytest

import framework as mx
from framework import np
from framework.gluon import data as gdata
from framework.gluon.data import batchify
from framework.gluon.data.dataloader import DataLoaderTimeoutError, DataLoaderWorkerError

MAIN_PID = os.getpid()


# -- samplers ------------------------------------------------------------------------------------

def test_sequential_sampler_start():
    assert list(gdata.SequentialSampler(4)) == [0, 1, 2, 3]
    assert list(gdata.SequentialSampler(3, start=5)) == [5, 6, 7]
    assert len(gdata.SequentialSampler(3, start=5)) == 3


def test_random_sampler_is_a_new_permutation_each_time():
    numpy.random.seed(0)
    s = gdata.RandomSampler(50)
    a, b = list(s), list(s)
    assert sorted(a) == sorted(b) == list(range(50)) and a != b and len(s) == 50
    assert all(type(i) is int for i in a)
    numpy.random.seed(0)
    assert list(s) == a  # numpy.random.seed makes it reproducible


@pytest.mark.parametrize("last_batch, epoch1, epoch2", [
    ("keep", [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
    ("discard", [[0, 1, 2, 3], [4, 5, 6, 7]], [[0, 1, 2, 3], [4, 5, 6, 7]]),
    # API.md §2 item 23: the 2 leftover samples start the next epoch
    ("rollover", [[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]),
])
def test_batch_sampler_last_batch(last_batch, epoch1, epoch2):
    bs = gdata.BatchSampler(gdata.SequentialSampler(10), 4, last_batch)
    assert len(bs) == len(epoch1)
    assert list(bs) == epoch1
    assert len(bs) == len(epoch2)
    assert list(bs) == epoch2


def test_batch_sampler_rollover_len_follows_leftover():
    bs = gdata.BatchSampler(gdata.SequentialSampler(10), 4, "rollover")
    lens = []
    for _ in range(4):
        lens.append(len(bs))
        assert len(list(bs)) == lens[-1]
    assert lens == [2, 3, 2, 3]


def test_batch_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="last_batch"):
        gdata.BatchSampler(gdata.SequentialSampler(3), 2, "drop")
    with pytest.raises(ValueError, match="batch_size"):
        gdata.BatchSampler(gdata.SequentialSampler(3), 0)
    with pytest.raises(TypeError, match="batch_size"):
        gdata.BatchSampler(gdata.SequentialSampler(3), 2.0)


def test_filter_sampler():
    ds = gdata.SimpleDataset(list(range(10)))
    s = gdata.FilterSampler(lambda x: x % 3 == 0, ds)
    assert list(s) == [0, 3, 6, 9] and len(s) == 4


def test_interval_sampler():
    assert list(gdata.IntervalSampler(13, 3)) == [0, 3, 6, 9, 12, 1, 4, 7, 10, 2, 5, 8, 11]
    assert len(gdata.IntervalSampler(13, 3)) == 13
    s = gdata.IntervalSampler(13, 3, rollover=False)
    assert list(s) == [0, 3, 6, 9, 12] and len(s) == 5
    with pytest.raises(ValueError, match="interval"):
        gdata.IntervalSampler(3, 3)


# -- datasets ------------------------------------------------------------------------------------

def test_dataset_filter_take_sample():
    ds = gdata.SimpleDataset(list(range(10)))
    assert list(ds.filter(lambda x: x > 6)) == [7, 8, 9]
    assert list(ds.take(3)) == [0, 1, 2]
    assert len(ds.take(None)) == 10 and len(ds.take(100)) == 10
    assert list(ds.sample(gdata.IntervalSampler(10, 4, rollover=False))) == [0, 4, 8]
    assert list(ds.transform(lambda x: x * 2).take(2)) == [0, 2]
    with pytest.raises(ValueError, match="count"):
        ds.take(-1)


@pytest.mark.parametrize("length, shards", [(10, 3), (7, 7), (5, 2), (3, 4)])
def test_dataset_shard_is_contiguous_first_shards_longer(length, shards):
    ds = gdata.SimpleDataset(list(range(length)))
    parts = [list(ds.shard(shards, i)) for i in range(shards)]
    assert sum(parts, []) == list(range(length))  # contiguous, in order, no overlap
    sizes = [len(p) for p in parts]
    base, rest = divmod(length, shards)
    assert sizes == [base + 1] * rest + [base] * (shards - rest)


def test_dataset_shard_rejects_bad_index():
    ds = gdata.SimpleDataset([1, 2, 3])
    with pytest.raises(ValueError, match="index"):
        ds.shard(2, 2)
    with pytest.raises(ValueError, match="num_shards"):
        ds.shard(0, 0)


def test_array_dataset_stores_1d_framework_array_as_numpy():
    ds = gdata.ArrayDataset(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0]))
    x, y = ds[1]
    assert isinstance(x, np.ndarray) and x.shape == (2,)
    assert isinstance(y, numpy.float32) and y == 6.0


# -- batchify ------------------------------------------------------------------------------------

def test_default_batchify_keeps_numpy_dtypes_and_batches_tuples():
    rng = numpy.random.default_rng(0)
    samples = [(rng.standard_normal(3), int(i), numpy.float32(i) / 2) for i in range(4)]
    assert batchify.default_batchify_fn is gdata.default_batchify_fn
    x, y, z = gdata.default_batchify_fn(samples)
    assert isinstance(x, np.ndarray) and x.dtype == numpy.float64
    numpy.testing.assert_array_equal(x.asnumpy(), numpy.stack([s[0] for s in samples]))
    assert y.dtype == numpy.int64 and y.asnumpy().tolist() == [0, 1, 2, 3]
    assert z.dtype == numpy.float32 and z.asnumpy().tolist() == [0, 0.5, 1, 1.5]


def test_default_batchify_stacks_framework_arrays():
    a = [np.array(numpy.full((2, 3), i, numpy.float32)) for i in range(3)]
    out = gdata.default_batchify_fn(a)
    assert isinstance(out, np.ndarray) and out.shape == (3, 2, 3)
    numpy.testing.assert_array_equal(out.asnumpy(), numpy.stack([x.asnumpy() for x in a]))


def test_default_batchify_ragged_samples_name_pad():
    with pytest.raises(ValueError, match="Pad"):
        gdata.default_batchify_fn([numpy.zeros(2), numpy.zeros(3)])
    with pytest.raises(TypeError, match="AsList"):
        gdata.default_batchify_fn(["a", "b"])


def test_stack_matches_numpy():
    arrs = [numpy.arange(6).reshape(2, 3) * i for i in range(4)]
    out = batchify.Stack()(arrs)
    assert out.dtype == numpy.int64
    numpy.testing.assert_array_equal(out.asnumpy(), numpy.stack(arrs))
    fields = batchify.Stack()([[1, 2.5], [3, 4.5]])  # lists are batched field by field
    assert [f.asnumpy().tolist() for f in fields] == [[1, 3], [2.5, 4.5]]
    framework_out = batchify.Stack()([np.array(a) for a in arrs])
    numpy.testing.assert_array_equal(framework_out.asnumpy(), numpy.stack(arrs))


def test_pad_matches_hand_built():
    a, b, c = [1, 2, 3, 4], [4, 5, 6], [8, 2]
    out = batchify.Pad()([a, b, c])
    expect = numpy.array([[1, 2, 3, 4], [4, 5, 6, 0], [8, 2, 0, 0]])
    numpy.testing.assert_array_equal(out.asnumpy(), expect)
    assert out.dtype == numpy.int64


def test_pad_2d_round_to_dtype_and_lengths():
    x = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    y = numpy.ones((1, 5), numpy.float32)
    out, lengths = batchify.Pad(val=-1, round_to=4, axis=1, ret_length=True,
                                dtype="float64")([np.array(x), y])
    expect = numpy.full((2, 4, 8), -1.0)
    expect[0, :2, :3] = x
    expect[1, :1, :5] = y
    assert out.dtype == numpy.float64
    numpy.testing.assert_array_equal(out.asnumpy(), expect)
    assert lengths.dtype == numpy.int32 and lengths.asnumpy().tolist() == [3, 5]


def test_pad_rejects_bad_input():
    with pytest.raises(TypeError, match="Group"):
        batchify.Pad()([(1, 2), (3, 4)])
    with pytest.raises(ValueError, match="dimensions"):
        batchify.Pad()([numpy.zeros(2), numpy.zeros((2, 2))])
    with pytest.raises(ValueError, match="round_to"):
        batchify.Pad(round_to=0)


def test_append():
    out = batchify.Append()([numpy.arange(3), [1.0, 2.0]])
    assert [o.shape for o in out] == [(1, 3), (1, 2)]
    assert out[0].dtype == numpy.int64 and out[1].dtype == numpy.float32
    numpy.testing.assert_array_equal(out[0].asnumpy(), numpy.arange(3)[None])
    out = batchify.Append(expand=True, batch_axis=1)([numpy.zeros((2, 3))])
    assert out[0].shape == (2, 1, 3)
    assert batchify.Append(expand=False)([numpy.zeros(4)])[0].shape == (4,)


def test_group_and_aslist():
    data = [([1, 2, 3, 4], "a", 0), ([5, 7], "b", 1)]
    x, text, y = batchify.Group(batchify.Pad(), batchify.AsList(), batchify.Stack())(data)
    numpy.testing.assert_array_equal(x.asnumpy(), [[1, 2, 3, 4], [5, 7, 0, 0]])
    assert text == ["a", "b"] and y.asnumpy().tolist() == [0, 1]
    g = batchify.Group([batchify.Stack(), batchify.Stack()])
    assert len(g([(1, 2), (3, 4)])) == 2
    with pytest.raises(ValueError, match="2 fields"):
        g([(1, 2, 3)])
    with pytest.raises(TypeError, match="callable"):
        batchify.Group(batchify.Stack(), 3)


def test_batchify_keeps_legacy_ndarray():
    if not hasattr(mx.nd, "NDArray") or not hasattr(mx.nd, "array"):
        pytest.skip("framework.nd.NDArray is not available yet")
    samples = [mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 4.0])]
    out = gdata.default_batchify_fn(samples)
    assert type(out).__name__ == "NDArray" and out.shape == (2, 2)
    assert type(batchify.Stack()(samples)).__name__ == "NDArray"
    assert type(batchify.Pad()(samples)).__name__ == "NDArray"
    loader = gdata.DataLoader(gdata.SimpleDataset(samples), batch_size=2, num_workers=1)
    assert [type(b).__name__ for b in loader] == ["NDArray"]


# -- DataLoader ----------------------------------------------------------------------------------

def _dataset(n=23):
    x = numpy.arange(n * 6, dtype=numpy.float32).reshape(n, 2, 3)
    return gdata.ArrayDataset(x, numpy.arange(n))


def _as_numpy(batch):
    if isinstance(batch, (list, tuple)):
        return [_as_numpy(b) for b in batch]
    return batch.asnumpy()


@pytest.mark.parametrize("last_batch, sizes", [
    ("keep", [4, 4, 2]), ("discard", [4, 4]), ("rollover", [4, 4]),
])
def test_loader_last_batch(last_batch, sizes):
    loader = gdata.DataLoader(gdata.SimpleDataset(list(range(10))), batch_size=4,
                              last_batch=last_batch)
    assert len(loader) == len(sizes)
    batches = [b.asnumpy().tolist() for b in loader]
    assert [len(b) for b in batches] == sizes
    if last_batch == "rollover":
        assert len(loader) == 3
        assert [b.asnumpy().tolist() for b in loader] == [[8, 9, 0, 1], [2, 3, 4, 5],
                                                           [6, 7, 8, 9]]


def test_loader_same_batches_in_process_workers_and_threads():
    ds = _dataset()
    sampler = gdata.IntervalSampler(len(ds), 5)
    ref = [_as_numpy(b) for b in gdata.DataLoader(ds, batch_size=4, sampler=sampler)]
    assert len(ref) == 6
    for kwargs in ({"num_workers": 2}, {"num_workers": 2, "thread_pool": True},
                   {"num_workers": 3, "prefetch": 1}):
        loader = gdata.DataLoader(ds, batch_size=4, sampler=sampler, **kwargs)
        got = []
        for x, y in loader:
            assert isinstance(x, np.ndarray) and x.device == mx.cpu()
            assert x.dtype == numpy.float32 and y.dtype == numpy.int64
            got.append(_as_numpy([x, y]))
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            numpy.testing.assert_array_equal(g[0], r[0])
            numpy.testing.assert_array_equal(g[1], r[1])


def test_loader_shuffle_covers_every_sample_each_epoch():
    ds = _dataset(30)
    loader = gdata.DataLoader(ds, batch_size=7, shuffle=True, num_workers=2)
    orders = []
    for _ in range(2):
        labels = numpy.concatenate([y.asnumpy() for _, y in loader])
        assert sorted(labels.tolist()) == list(range(30))
        orders.append(labels.tolist())
    assert orders[0] != orders[1]


def test_loader_worker_batches_are_writable_and_outlive_the_epoch():
    loader = gdata.DataLoader(_dataset(8), batch_size=4, num_workers=2)
    kept = [x for x, _ in loader]
    gc.collect()
    kept[0][:] = 1.0  # shared memory stays mapped while an array uses it
    assert kept[0].asnumpy().sum() == 24.0
    numpy.testing.assert_array_equal(kept[1].asnumpy()[0], numpy.arange(24, 30).reshape(2, 3))


def test_loader_custom_batchify_in_workers():
    ds = gdata.SimpleDataset([(numpy.arange(i + 1), f"s{i}", {"k": i}) for i in range(5)])

    def numpy_batchify(samples):
        return {"pad": batchify.Pad()([s[0] for s in samples]).asnumpy(),
                "text": [s[1] for s in samples], "raw": numpy.array([s[2]["k"] for s in samples])}

    for kwargs in ({}, {"num_workers": 2}):
        out = list(gdata.DataLoader(ds, batch_size=3, batchify_fn=numpy_batchify, **kwargs))
        assert isinstance(out[0]["pad"], numpy.ndarray) and out[0]["pad"].shape == (3, 3)
        assert out[1]["text"] == ["s3", "s4"] and out[1]["raw"].tolist() == [3, 4]
    group = batchify.Group(batchify.Pad(val=-1), batchify.AsList(), batchify.AsList())
    (x, text, _), = list(gdata.DataLoader(ds, batch_size=5, batchify_fn=group, num_workers=2))
    assert isinstance(x, np.ndarray) and x.shape == (5, 5) and x.asnumpy()[0, 1] == -1
    assert text == ["s0", "s1", "s2", "s3", "s4"]


def test_framework_ops_run_inside_workers():
    ds = _dataset(6).transform_first(lambda x: (np.array(x) * 2 + 1).sum(axis=0))
    ref = [_as_numpy(b) for b in gdata.DataLoader(ds, batch_size=3)]
    got = [_as_numpy(b) for b in gdata.DataLoader(ds, batch_size=3, num_workers=2)]
    numpy.testing.assert_array_equal(got[0][0], ref[0][0])
    numpy.testing.assert_array_equal(got[1][0], ref[1][0])


def test_framework_array_dataset_in_workers_sees_queued_values():
    # the arrays are still being computed by the engine when the loader forks its workers
    a = np.random.uniform(size=(1000, 1000))
    x = (a @ a)[:7] * 2 + 1
    y = np.arange(7)
    loader = gdata.DataLoader(gdata.ArrayDataset(x, y), batch_size=3, num_workers=2,
                              timeout=20)  # without the wait before fork, workers would hang
    got = [_as_numpy(b) for b in loader]
    numpy.testing.assert_array_equal(numpy.concatenate([g[0] for g in got]), x.asnumpy())
    numpy.testing.assert_array_equal(numpy.concatenate([g[1] for g in got]), y.asnumpy())
    assert got[0][0].dtype == numpy.float32


class _RandomDataset(gdata.Dataset):
    """Each item draws from numpy's and the framework's generators (seeded per worker)."""

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return numpy.array([numpy.random.rand(), float(np.random.uniform().item())])


def test_workers_are_seeded_per_worker_and_per_epoch():
    numpy.random.seed(1)
    loader = gdata.DataLoader(_RandomDataset(), batch_size=1, num_workers=2)
    epochs = [numpy.concatenate([b.asnumpy() for b in loader]) for _ in range(2)]
    # batch 0 and 1 come from workers 0 and 1: their first draws differ
    assert not numpy.allclose(epochs[0][0], epochs[0][1])
    assert not numpy.allclose(epochs[0], epochs[1])
    numpy.random.seed(1)
    again = gdata.DataLoader(_RandomDataset(), batch_size=1, num_workers=2)
    numpy.testing.assert_array_equal(numpy.concatenate([b.asnumpy() for b in again]), epochs[0])


class _FailingDataset(gdata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        if idx == 5:
            raise KeyError(f"bad sample {idx}")
        return numpy.float32(idx)


@pytest.mark.parametrize("kwargs", [{"num_workers": 2}, {"num_workers": 2, "thread_pool": True}])
def test_worker_exception_is_reraised_with_traceback(kwargs):
    loader = gdata.DataLoader(_FailingDataset(), batch_size=2, **kwargs)
    it = iter(loader)
    assert next(it).asnumpy().tolist() == [0, 1]
    assert next(it).asnumpy().tolist() == [2, 3]
    with pytest.raises(KeyError, match="bad sample 5") as info:
        next(it)
    if not kwargs.get("thread_pool"):
        assert "_FailingDataset" not in str(info.type)
        assert "__getitem__" in str(info.value) and "worker" in str(info.value)
    assert list(it) == []  # the epoch is over after an error


class _KillingDataset(gdata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        if idx == 4 and os.getpid() != MAIN_PID:
            os.kill(os.getpid(), signal.SIGKILL)
        return numpy.float32(idx)


def _children():
    return {p.pid for p in multiprocessing.active_children()}


def test_killed_worker_is_reported_not_a_hang():
    before = _children()
    loader = gdata.DataLoader(_KillingDataset(), batch_size=2, num_workers=2, timeout=30)
    t0 = time.monotonic()
    with pytest.raises(DataLoaderWorkerError, match="SIGKILL"):
        for _ in loader:
            pass
    assert time.monotonic() - t0 < 10
    assert _children() <= before


class _SlowDataset(gdata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, idx):
        if idx == 2:
            time.sleep(3.0)
        return numpy.float32(idx)


@pytest.mark.parametrize("thread_pool", [False, True])
def test_timeout_raises(thread_pool):
    before = _children()
    loader = gdata.DataLoader(_SlowDataset(), batch_size=1, num_workers=1, timeout=0.3,
                              thread_pool=thread_pool)
    it = iter(loader)
    next(it)
    next(it)
    t0 = time.monotonic()
    with pytest.raises(DataLoaderTimeoutError, match="timeout=0.3"):
        next(it)
    assert time.monotonic() - t0 < 2.5
    assert isinstance(DataLoaderTimeoutError("x"), TimeoutError)
    del it
    gc.collect()
    assert _children() <= before


def _shm_entries():
    # only names Python's or our shared memory could have: other programs on the machine may
    # create and remove their own entries while the test runs
    names = os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []
    return sorted(n for n in names if n.startswith(("psm_", "mp-", "framework")))


def _fd_count():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def _shared_mappings():
    if not os.path.exists("/proc/self/maps"):
        return []
    with open("/proc/self/maps") as f:
        # the loader's batch files; multiprocessing's own semaphores (/dev/shm/sem.*), made by
        # other tests in this process, are not batches
        return [line for line in f if "framework-dataloader" in line
                or ("/dev/shm/" in line and "/dev/shm/sem." not in line)]


def test_break_and_gc_shut_workers_down_and_leak_nothing():
    before = _children()
    ds = _dataset(40)
    loader = gdata.DataLoader(ds, batch_size=2, num_workers=2, prefetch=6)
    list(loader)  # warm up (lazy imports, engine threads)
    gc.collect()
    shm, fds = _shm_entries(), _fd_count()
    it = iter(loader)
    pids = it.worker_pids()
    next(it)
    assert all(os.path.exists(f"/proc/{p}") for p in pids)
    del it  # what `break` does to the for loop's iterator
    gc.collect()
    assert _children() <= before
    for _ in range(3):
        for i, _batch in enumerate(loader):
            if i == 2:
                break
        for _batch in loader:
            pass
    gc.collect()
    assert _children() <= before
    assert not any(os.path.exists(f"/proc/{p}") and
                   open(f"/proc/{p}/stat").read().split()[2] != "Z" for p in pids)
    assert _shm_entries() == shm
    assert _fd_count() == fds
    del _batch
    gc.collect()
    assert _shared_mappings() == []


def test_pin_memory_device():
    loader = gdata.DataLoader(_dataset(4), batch_size=2, pin_memory=True)
    assert all(x.device == mx.cpu_pinned(0) for x, _ in loader)
    loader = gdata.DataLoader(_dataset(4), batch_size=2, pin_memory=True, num_workers=1)
    assert all(x.device == mx.cpu_pinned(0) for x, _ in loader)


def test_loader_argument_validation():
    ds = _dataset(4)
    with pytest.raises(ValueError, match="batch_size must be specified"):
        gdata.DataLoader(ds)
    with pytest.raises(ValueError, match="shuffle must not be specified"):
        gdata.DataLoader(ds, batch_size=2, shuffle=True, sampler=gdata.SequentialSampler(4))
    bs = gdata.BatchSampler(gdata.SequentialSampler(4), 2)
    with pytest.raises(ValueError, match="batch_sampler"):
        gdata.DataLoader(ds, batch_size=2, batch_sampler=bs)
    with pytest.raises(ValueError, match="last_batch"):
        gdata.DataLoader(ds, batch_size=2, last_batch="drop")
    with pytest.raises(ValueError, match="timeout"):
        gdata.DataLoader(ds, batch_size=2, timeout=0)
    with pytest.raises(ValueError, match="prefetch"):
        gdata.DataLoader(ds, batch_size=2, prefetch=-1)
    with pytest.raises(TypeError, match="batchify_fn"):
        gdata.DataLoader(ds, batch_size=2, batchify_fn=3)
    with pytest.raises(TypeError, match="dataset"):
        gdata.DataLoader(3, batch_size=2)
    loader = gdata.DataLoader(ds, batch_sampler=bs, num_workers=-1)
    assert len(loader) == 2 and len(list(loader)) == 2


# -- batches made a batch at a time ----------------------------------------------------------------

def _mnist_batches(transform, **kw):
    from framework.gluon.data.vision import MNIST

    ds = MNIST(train=False, subset="mini").transform_first(transform)
    return [[f.asnumpy() for f in b] for b in gdata.DataLoader(ds, 96, **kw)]


@pytest.mark.parametrize("workers", [{}, {"num_workers": 2, "thread_pool": True},
                                     {"num_workers": 2}])
def test_per_sample_transforms_run_once_per_batch_with_the_same_values(workers, monkeypatch):
    from framework.gluon.data import dataset as dmod
    from framework.gluon.data.vision import transforms as T

    to_input = T.Compose([T.ToTensor(), T.Normalize(0.13, 0.31), T.Cast("float64")])
    # oracle: the same loader with a batchify that is not the default (sample by sample)
    want = _mnist_batches(to_input, batchify_fn=lambda s: batchify.default_batchify_fn(s),
                          **workers)
    batched = multiprocessing.Value("i", 0)  # (shared with forked worker processes)
    orig = dmod._LazyTransformDataset._batch_fields

    def counted(self, idx):
        with batched.get_lock():
            batched.value += len(idx)
        return orig(self, idx)

    monkeypatch.setattr(dmod._LazyTransformDataset, "_batch_fields", counted)
    got = _mnist_batches(to_input, **workers)
    assert batched.value == 1000
    assert len(got) == len(want) == 11  # the last batch: 40
    for g, w in zip(got, want):
        assert [a.dtype for a in g] == [a.dtype for a in w] == [numpy.float64, numpy.int32]
        for a, b in zip(g, w):
            numpy.testing.assert_array_equal(a, b)


def test_transforms_that_draw_per_sample_stay_per_sample():
    from framework.gluon.data.dataset import _acts_per_sample
    from framework.gluon.data.vision import transforms as T

    assert _acts_per_sample(T.Compose([T.ToTensor(), T.Normalize(0.5, 0.2)]))
    assert not _acts_per_sample(T.Compose([T.RandomFlipLeftRight(), T.ToTensor()]))
    assert not _acts_per_sample(T.Compose([T.ToTensor(), lambda x: x * 2]))
    assert not _acts_per_sample(lambda x: x)
    from framework.gluon.data.vision import MNIST

    ds = MNIST(train=False, subset="mini")
    assert ds.transform_first(T.RandomFlipLeftRight())._batch_fields([0, 1]) is None
    own = MNIST(train=False, subset="mini", transform=lambda x, y: (x, y))
    assert own._batch_fields([0, 1]) is None  # the dataset's own per-sample transform
    img, label = ds._batch_fields([3, 1])
    numpy.testing.assert_array_equal(img.asnumpy(), numpy.stack([ds[3][0].asnumpy(),
                                                                  ds[1][0].asnumpy()]))
    assert label.dtype == numpy.int32 and label.asnumpy().tolist() == [ds[3][1], ds[1][1]]


def test_a_dataset_subclass_with_its_own_getitem_is_fetched_sample_by_sample():
    from framework.gluon.data.vision import MNIST
    from framework.gluon.data.vision import transforms as T

    class Doubled(MNIST):
        def __getitem__(self, idx):
            image, label = super().__getitem__(idx)
            return image, label * 2

    ds = MNIST(train=False, subset="mini")
    ds.__class__ = Doubled  # (the shipped subset is MNIST's own)
    assert ds._batch_fields([0, 1]) is None
    loader = gdata.DataLoader(ds.transform_first(T.ToTensor()), 4)
    _, label = next(iter(loader))
    assert label.asnumpy().tolist() == [ds[i][1] for i in range(4)]
