"""The conda environments of envs/ agree with the code and with pyproject.toml.

They cannot be built here (no conda-forge), so this reads them: every third-party
package that a rule's script imports, through the ebscan modules it uses, is pinned
in that rule's environment, and every pin satisfies pyproject.toml."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src"
RULES = REPO / "workflow" / "rules"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def rule_environments() -> dict[str, tuple[Path, Path]]:
    """rule -> (its script, its conda environment file), for rules that run a script."""
    found = {}
    for smk in sorted(RULES.glob("*.smk")):
        blocks = re.split(r"^(?:rule|checkpoint) (\w+):\n", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            script = re.search(r"^\s+script:\n\s+\"(.+?)\"", body, re.M)
            conda = re.search(r"^\s+conda:\n\s+\"(.+?)\"", body, re.M)
            if script:
                assert conda, f"rule {name} ({smk.name}) runs a script without a conda env"
                found[name] = ((RULES / script[1]).resolve(), (RULES / conda[1]).resolve())
    return found


class _Code:
    """What a piece of code imports and which names it refers to."""

    def __init__(self, nodes: list[ast.AST]) -> None:
        self.imports: dict[str, str] = {}  # local name -> "module" or "module:name"
        self.modules: set[str] = set()
        self.names: set[str] = set()
        self.attributes: set[tuple[str, str]] = set()
        pending = list(nodes)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                pending += node.orelse  # imports for type checkers never run
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.modules.add(alias.name)
                    self.imports[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self.modules.add(node.module)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}:{alias.name}"
            elif isinstance(node, ast.Name):
                self.names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                self.attributes.add((node.value.id, node.attr))
            pending += ast.iter_child_nodes(node)


def _module(name: str) -> ast.Module | None:
    path = PACKAGE.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return ast.parse(candidate.read_text())
    return None


@functools.cache
def third_party_imports(script: Path) -> set[str]:
    """Top-level names of the packages a script's code can import, through ebscan.

    Code runs in units: a module's top level (when it is imported), a function's
    body or a class's methods (when some running code refers to them). Each unit's
    imports are followed, and the ebscan functions and classes it names run in turn;
    calls through objects reach their class when the code names it.
    """
    outside: set[str] = set()
    done: set[tuple[str, str]] = set()
    pending: list[tuple[str, str]] = []

    def run(code: _Code, module: str, tree: ast.Module | None) -> None:
        for name in code.modules:
            parts = name.split(".")
            if parts[0] != "ebscan":
                outside.add(parts[0])
            pending.extend((".".join(parts[:i]), "") for i in range(1, len(parts) + 1))
        defined = {}
        if tree is not None:
            defined = {
                node.name: node
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.ClassDef)
            }
        imported = {**top_imports.get(module, {}), **code.imports}
        for name in code.names:
            if name in defined:
                pending.append((module, name))
            elif ":" in imported.get(name, "") and imported[name].startswith("ebscan"):
                pending.append(tuple(imported[name].split(":")))
        for owner, attribute in code.attributes:
            target = imported.get(owner, "")
            if target.startswith("ebscan"):
                pending.append((target.replace(":", "."), attribute))

    top_imports: dict[str, dict[str, str]] = {}
    run(_Code([ast.parse(script.read_text())]), "", None)
    while pending:
        module, name = pending.pop()
        tree = _module(module)
        if tree is None:
            if name and _module(f"{module}.{name}") is not None:
                pending.append((f"{module}.{name}", ""))
            continue
        if (module, name) in done:
            continue
        if name and (module, "") not in done:
            # The top level first: its imports say what the body's names are.
            pending += [(module, name), (module, "")]
            continue
        done.add((module, name))
        if not name:  # the module's top level, without the bodies it defines
            body = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
            code = _Code(body)
            top_imports[module] = code.imports
        else:
            node = next((n for n in tree.body if getattr(n, "name", None) == name), None)
            if node is None:
                continue
            code = _Code([node])
        pending.append((module, ""))
        run(code, module, tree)
    return {name for name in outside if name not in sys.stdlib_module_names}


def environment(path: Path) -> tuple[str, dict[str, str]]:
    """(the python version, {package: pinned version}) of a conda environment file."""
    spec = yaml.safe_load(path.read_text())
    python, pins = "", {}
    for dependency in spec["dependencies"]:
        if isinstance(dependency, dict):
            for line in dependency["pip"]:
                if not line.startswith("-e "):
                    name, version = line.split("==")
                    pins[canonicalize_name(name)] = version
        elif dependency.startswith("python="):
            python = dependency.removeprefix("python=")
    return python, pins


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution(module: str) -> str:
    """The installed distribution that provides an importable top-level name."""
    (name,) = _distributions()[module]
    return canonicalize_name(name)


def project_requirements() -> dict[str, SpecifierSet]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += [line for line in extra if not line.startswith("ebscan[")]
    return {canonicalize_name(r.name): r.specifier for r in map(Requirement, lines)}


ENVIRONMENTS = rule_environments()


def test_every_rule_with_a_script_is_found():
    assert {"manifest", "download", "preprocess", "gls", "infer", "train", "catalog"} <= set(
        ENVIRONMENTS
    )
    assert {env.name for _, env in ENVIRONMENTS.values()} == {
        "io.yaml",
        "preprocess.yaml",
        "ml.yaml",
    }


def test_the_import_scan_follows_ebscan_modules():
    """Known chains: a download job reaches tqdm through ebscan.acquire.mast, an inference job
    ONNX Runtime through the functions of ebscan.survey.inference it calls."""
    script, _ = ENVIRONMENTS["download"]
    assert {"numpy", "fitsio", "tqdm"} <= third_party_imports(script)
    assert "tensorflow" not in third_party_imports(script)
    script, _ = ENVIRONMENTS["infer"]
    assert {"onnxruntime", "onnx", "keras", "h5py"} <= third_party_imports(script)
    # The simulated stars' EBs call batman through the signal table of ebscan.sim.signals;
    # assembling a training set never trains, so never imports Keras.
    assert "batman" in third_party_imports(ENVIRONMENTS["simulated"][0])
    assert "keras" not in third_party_imports(ENVIRONMENTS["training_set"][0])


@pytest.mark.parametrize("rule", sorted(ENVIRONMENTS))
def test_a_rules_environment_has_what_its_script_imports(rule):
    script, env = ENVIRONMENTS[rule]
    _, pins = environment(env)
    needed = {distribution(module) for module in third_party_imports(script)}
    missing = sorted(needed - set(pins))
    assert not missing, f"rule {rule} ({script.name}) imports {missing}, not in envs/{env.name}"


@pytest.mark.parametrize("env", sorted({env for _, env in ENVIRONMENTS.values()}))
def test_pins_agree_with_pyproject(env):
    python, pins = environment(env)
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(python + ".0")
    wanted = project_requirements()
    assert set(pins) <= set(wanted), f"envs/{env.name} pins packages pyproject.toml lacks"
    for name, version in pins.items():
        assert wanted[name].contains(version), (
            f"envs/{env.name}: {name}=={version} outside pyproject.toml's {wanted[name]}"
        )
