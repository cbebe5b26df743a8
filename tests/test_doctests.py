"""The examples of the documentation run: every docstring example of the package
(numpydoc ``Examples`` sections) and docs/notebook.md.

Modules are picked by reading their source for ``>>>``, not by importing them, so
collecting these tests imports nothing (TensorFlow least of all); each test imports
its own module."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "ebscan"
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if ">>> " in path.read_text()
)


def run_examples(tests: list[doctest.DocTest]) -> tuple[doctest.DocTestRunner, str]:
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    return runner, "".join(report)


def test_modules_with_examples_are_found():
    assert {"ebscan.notebook", "ebscan.paths"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    runner, report = run_examples(doctest.DocTestFinder().find(importlib.import_module(name)))
    assert runner.tries > 0, f"{name}: no example found"
    assert runner.failures == 0, report


def test_notebook_guide(spoc_dir, monkeypatch):
    """docs/notebook.md, run from the repository's root as its paths assume."""
    monkeypatch.chdir(REPO)
    path = REPO / "docs" / "notebook.md"
    test = doctest.DocTestParser().get_doctest(path.read_text(), {}, path.name, str(path), 0)
    runner, report = run_examples([test])
    assert runner.tries >= 5, "docs/notebook.md: too few examples"
    assert runner.failures == 0, report
