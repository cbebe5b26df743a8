"""The benchmark scripts are recipes too: every name they import from ebscan exists.

They run for minutes to hours on data a test cannot afford, so this reads their imports
instead of running them; a module moved or a function renamed breaks here, not when
someone next measures.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"


def missing_imports(script: Path) -> list[str]:
    """``module.name`` for each ``from ebscan... import name`` of a script that fails."""
    missing = []
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ebscan"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    continue
                try:  # a submodule, imported by name
                    importlib.import_module(f"{node.module}.{alias.name}")
                except ModuleNotFoundError:
                    missing.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ebscan"):
                    importlib.import_module(alias.name)
    return missing


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_bench_scripts_import_what_exists(script):
    assert missing_imports(script) == []


def test_a_missing_name_is_found(tmp_path):
    script = tmp_path / "old.py"
    script.write_text("from ebscan.learn.recipe import preprocess_config, real_light_curves\n")
    assert missing_imports(script) == ["ebscan.learn.recipe.preprocess_config"]
