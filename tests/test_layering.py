"""Imports point down the layers (DESIGN.md §1): a module never imports from a layer above it."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "framework"

# bottom to top; a module may import only from its own layer or layers below
LAYERS = [
    ["base", "_config"],
    ["device", "dtype"],
    ["engine"],
    ["nd"],
    ["autograd"],
    ["np", "npx", "random"],
    ["gluon", "optimizer", "lr_scheduler", "initializer", "kvstore", "kv", "init", "metric"],
    ["test_utils"],
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _layer_of(parts: list[str]) -> str | None:
    return parts[0] if parts and parts[0] in RANK else None


def _modules() -> list[pathlib.Path]:
    return sorted(p for p in ROOT.rglob("*.py"))


def _imports(path: pathlib.Path) -> list[tuple[list[str], int]]:
    """Absolute module paths (inside framework) that ``path`` imports, with line numbers."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(rel[:-1]) if rel[-1] != "__init__" else list(rel[:-1])
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                mod = base + (node.module.split(".") if node.module else [])
                if node.module is None:
                    for alias in node.names:
                        out.append((mod + [alias.name], node.lineno))
                    continue
                out.append((mod, node.lineno))
            elif node.module and node.module.split(".")[0] == "framework":
                out.append((node.module.split(".")[1:], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "framework":
                    out.append((alias.name.split(".")[1:], node.lineno))
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: pathlib.Path) -> None:
    rel = list(path.relative_to(ROOT).with_suffix("").parts)
    own = _layer_of(rel)
    if own is None:  # __init__/__main__: the public surface and CLI, may import everything
        return
    for target, line in _imports(path):
        layer = _layer_of(target)
        if layer is None:
            continue
        assert RANK[layer] <= RANK[own], (
            f"{path.relative_to(ROOT)}:{line} imports framework.{'.'.join(target)} "
            f"(layer '{layer}') from layer '{own}', which is below it")


def test_every_module_is_in_a_layer() -> None:
    for path in _modules():
        rel = list(path.relative_to(ROOT).with_suffix("").parts)
        if rel in (["__init__"], ["__main__"]):  # the public surface and the command line
            continue
        assert _layer_of(rel) is not None, f"{path} is in no layer of DESIGN.md §1"


def test_layering_check_catches_an_upward_import(tmp_path: pathlib.Path) -> None:
    bad = ROOT / "engine" / "_probe_tmp.py"
    bad.write_text("from ..nd import ndarray\n")
    try:
        with pytest.raises(AssertionError, match="below it"):
            test_imports_point_down(bad)
    finally:
        bad.unlink()
