"""The examples run (with few steps), as the README promises."""

from __future__ import annotations

import importlib.util
import pathlib
import runpy
import sys

import numpy as onp
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("hybridize", [False, True])
def test_train_mlp_learns_the_synthetic_task(hybridize, capsys):
    args = ["--epochs", "2"] + (["--hybridize"] if hybridize else [])
    accuracy = _load("train_mlp").main(args)
    assert accuracy > 0.75  # the classes overlap: the best possible is about 0.85
    assert "epoch 2" in capsys.readouterr().out


def test_demo_runs(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["demo.py"])
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    assert "recovered weights" in capsys.readouterr().out


def test_custom_layers_example(capsys):
    final_loss = _load("custom_layers").main(["--steps", "60"])
    out = capsys.readouterr().out
    assert "max error" in out
    err = float(out.split("max error ")[1].split()[0])
    assert err < 1e-6  # the hand-written backward agrees with finite differences
    assert final_loss < 0.05


def test_save_load_export_example(tmp_path, capsys):
    diff = _load("save_load_export").main(["--out", str(tmp_path)])
    assert diff < 1e-6
    assert (tmp_path / "net-symbol.json").exists() and (tmp_path / "net-0000.params").exists()


def test_linear_regression_example(capsys):
    err_scratch, err_gluon = _load("linear_regression").main(["--epochs", "3", "--n", "1000"])
    assert err_scratch < 0.05 and err_gluon < 0.05


def test_mlp_scratch_example(capsys):
    accuracy = _load("mlp_scratch").main(["--epochs", "3", "--limit", "1000"])
    assert accuracy > 0.75  # three epochs on 1,000 real digits


@pytest.mark.parametrize("hybridize", [False, True])
def test_main_job_one_epoch_on_a_slice(hybridize, tmp_path, capsys):
    args = ["--epochs", "1", "--limit", "1000", "--quiet", "--out", str(tmp_path)]
    accuracy = _load("train_mnist").main(args + (["--hybridize"] if hybridize else []))
    assert accuracy > 0.6
    assert (tmp_path / "lenet.params").exists()
    out = capsys.readouterr().out
    assert "test accuracy" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_main_job_train_step_gives_the_hybridized_numbers(tmp_path, capsys):
    import framework as mx

    job = _load("train_mnist")
    args = ["--epochs", "2", "--limit", "300", "--quiet", "--batch-size", "32"]
    params = {}
    accuracy = {}
    for flag in ("--hybridize", "--train-step"):
        out = tmp_path / flag.strip("-")
        accuracy[flag] = job.main(args + [flag, "--out", str(out)])
        params[flag] = mx.npx.load(str(out / "lenet.params"))
    assert accuracy["--hybridize"] == accuracy["--train-step"]
    a, b = params["--hybridize"], params["--train-step"]
    assert sorted(a) == sorted(b)
    for k in a:
        onp.testing.assert_array_equal(a[k].asnumpy(), b[k].asnumpy(), err_msg=k)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch 2:")]
    assert len(lines) == 2 and lines[0].split(", ")[:3] == lines[1].split(", ")[:3]


@pytest.mark.parametrize("hybridize", [False, True])
def test_char_lstm_learns(hybridize, capsys):
    args = ["--epochs", "2", "--steps", "8", "--hidden", "64", "--sample-len", "20",
            "--no-progress"] + (["--hybridize"] if hybridize else [])
    module = _load("char_lstm")
    vocab = len(set(module.load_text()))
    ppl = module.main(args)
    out = capsys.readouterr().out
    assert "epoch 2: perplexity" in out and "sample:" in out
    first = float(out.split("epoch 1: perplexity ")[1].split(",")[0])
    assert ppl < first < vocab  # a uniform guess has perplexity = vocabulary size
