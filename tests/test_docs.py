"""Every ```python block in the README and docs/ runs (blocks of one file share a namespace)."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(path: pathlib.Path) -> list[str]:
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("path", [p for p in FILES if _blocks(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_code_runs(path: pathlib.Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # files the examples write land in a temp dir
    namespace: dict = {"__name__": "__doc_example__"}
    for i, code in enumerate(_blocks(path)):
        try:
            exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message says which block
            raise AssertionError(f"{path.name}, python block {i} failed: {exc!r}\n{code}") from exc


def test_docs_have_code() -> None:
    assert _blocks(ROOT / "docs" / "engine.md")
