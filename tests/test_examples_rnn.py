"""The character-level LSTM example runs (few steps) and learns."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
