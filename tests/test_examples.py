"""The examples run (with few steps), as the README promises."""

from __future__ import annotations

import importlib.util
import pathlib
import runpy
import sys

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
