"""Devices: cpu/gpu, equality, scoping, ctx=/device= spellings, CuPy being optional."""

from __future__ import annotations

import threading

import pytest

import framework as mx
from framework import np, npx
from framework.device import Device, resolve


def test_cpu_gpu_repr_equality_hash():
    assert repr(mx.cpu()) == "cpu(0)" and str(mx.gpu(1)) == "gpu(1)"
    assert mx.cpu(0) == mx.Device("cpu", 0) == mx.Context("cpu", 0)
    assert mx.cpu(0) != mx.cpu(1) and mx.cpu(0) != mx.gpu(0)
    assert len({mx.cpu(0), mx.cpu(0), mx.cpu(1)}) == 2
    assert mx.gpu(2).device_type == "gpu" and mx.gpu(2).device_id == 2
    assert (mx.cpu().device_typeid, mx.gpu().device_typeid, mx.cpu_pinned().device_typeid) == \
        (1, 2, 3)
    assert mx.Context is mx.Device


def test_bad_device_arguments():
    with pytest.raises(ValueError, match="device_type"):
        Device("tpu", 0)
    with pytest.raises(ValueError, match="device_id"):
        Device("cpu", -1)


def test_with_device_scopes_creation_and_restores():
    assert mx.current_device() == mx.cpu(0)
    with mx.cpu(1) as d:
        assert d == mx.cpu(1)
        assert mx.current_context() == mx.cpu(1)
        assert np.zeros(3).device == mx.cpu(1)
        assert np.array([1, 2]).ctx == mx.cpu(1)
        with mx.cpu(2):
            assert np.ones(1).context == mx.cpu(2)
        assert npx.current_device() == mx.cpu(1)
    assert np.zeros(3).device == mx.cpu(0)


def test_device_scope_is_per_thread():
    seen = []
    with mx.cpu(3):
        t = threading.Thread(target=lambda: seen.append(mx.current_device()))
        t.start()
        t.join()
    assert seen == [mx.cpu(0)]


def test_ctx_and_device_keywords():
    assert np.zeros(2, ctx=mx.cpu(1)).device == mx.cpu(1)
    assert np.ones(2, device=mx.cpu(1)).device == mx.cpu(1)
    assert np.arange(3, ctx="cpu(1)").device == mx.cpu(1)
    assert resolve(ctx=mx.cpu(1), device=mx.cpu(1)) == mx.cpu(1)
    with pytest.raises(ValueError, match="differ"):
        resolve(ctx=mx.cpu(1), device=mx.cpu(0))


def test_num_gpus_without_cuda_is_zero_and_gpu_use_is_a_clear_error():
    if mx.num_gpus() > 0:
        pytest.skip("a GPU is present")
    assert npx.num_gpus() == 0
    with pytest.raises(RuntimeError, match="gpu"):
        np.zeros(3, ctx=mx.gpu(0))


def test_cpu_device_xp_is_numpy():
    import numpy

    assert mx.cpu(5).xp is numpy


@pytest.mark.gpu
def test_gpu_array_round_trip():
    if mx.num_gpus() == 0:
        pytest.skip("no GPU")
    x = np.array([1.0, 2.0], ctx=mx.gpu(0))
    assert x.device == mx.gpu(0)
    assert x.as_in_context(mx.cpu()).asnumpy().tolist() == [1.0, 2.0]
    assert "device=gpu(0)" in repr(x)
