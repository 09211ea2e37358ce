"""The benches' shared table: ratios are medians of the per-repeat (paired) ratios."""

from __future__ import annotations

import importlib.util
import os

# (loaded by path: putting bench/ on sys.path would shadow names such as ``gluon``)
_spec = importlib.util.spec_from_file_location(
    "_bench_common", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench",
                                  "_common.py"))
assert _spec is not None and _spec.loader is not None
_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_common)
markdown_table, summary = _common.markdown_table, _common.summary


def _row(table: str, impl: str) -> list[str]:
    line = next(x for x in table.splitlines() if f"| {impl} |" in x)
    return [c.strip() for c in line.strip("|").split("|")]


def test_ratios_pair_the_repeats_and_fall_back_to_the_medians() -> None:
    # repeat 2 ran in a slow spell for both, repeat 3 for A alone: paired, A is half of B in
    # two repeats of three (0.50); the ratio of the medians would say 10 / 2.4
    a = summary([1.0, 10.0, 10.0], 1, 1)
    b = summary([2.0, 20.0, 2.4], 1, 1)
    table = markdown_table({"w": {"A": a, "NumPy": b, "PyTorch eager": b}}, ["A", "NumPy"])
    assert _row(table, "A")[-2:] == ["0.50", "0.50"]
    assert _row(table, "NumPy")[-2:] == ["1.00", "1.00"]
    # unpaired (one implementation lost a repeat): the ratio of the medians, 10 / 11
    short = summary([2.0, 20.0], 1, 1)
    table = markdown_table({"w": {"A": a, "NumPy": short}}, ["A", "NumPy"])
    assert _row(table, "A")[-2:] == [f"{10.0 / 11.0:.2f}", "–"]
