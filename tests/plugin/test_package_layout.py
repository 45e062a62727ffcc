"""The package as the Pulumi CLI finds it: PulumiPlugin.yaml in plugin/, away from the program's Pulumi.yaml, and a
virtual environment that installs what the provider imports and nothing of the program's own tools."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import yaml

from plugin.provider import ROOT

PLUGIN = ROOT / "plugin"
# The fields of the CLI's PluginProject (sdk/go/common/workspace/project.go); any other is ignored, so a `main:`
# there would not choose the entry point: the Python host runs the folder holding PulumiPlugin.yaml.
PLUGIN_PROJECT_FIELDS = {"runtime", "packages"}


def test_the_plugin_project_sits_in_the_folder_the_host_runs():
    project = yaml.safe_load((PLUGIN / "PulumiPlugin.yaml").read_text(encoding="utf-8"))
    assert set(project) <= PLUGIN_PROJECT_FIELDS, sorted(set(project) - PLUGIN_PROJECT_FIELDS)
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": "venv"}
    assert (PLUGIN / "__main__.py").is_file() and (PLUGIN / "requirements.txt").is_file()


def test_the_root_is_a_program_only():
    # The CLI refuses a folder holding both ("detected both Pulumi.yaml and PulumiPlugin.yaml").
    assert (ROOT / "Pulumi.yaml").is_file()
    assert not [path.name for path in ROOT.iterdir() if path.name.lower().startswith("pulumiplugin.")]


def _requirements(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group()).lower()


def _module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _third_party_imports(entry: Path) -> set[str]:
    """Top-level modules outside the standard library and this repository that the entry point can import,
    following the repository's own modules (function-level imports included)."""
    seen: set[Path] = set()
    found: set[str] = set()
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                if (ROOT / top).is_dir() or (ROOT / f"{top}.py").is_file():
                    if local := _module_file(module):
                        pending.append(local)
                else:
                    found.add(top)
    return found


def _distribution(module: str) -> str:
    try:
        return _name(importlib.metadata.distribution(module).metadata["Name"])
    except importlib.metadata.PackageNotFoundError:
        # A module named unlike its distribution (yaml, of PyYAML): the slower lookup of every installed one.
        return _name(importlib.metadata.packages_distributions()[module][0])


def test_the_plugin_installs_what_the_provider_imports_and_no_more():
    imported = {_distribution(module) for module in _third_party_imports(PLUGIN / "__main__.py")}
    required = _requirements(PLUGIN / "requirements.txt")
    assert {_name(line) for line in required} == imported
    # One pin per dependency: the program's.
    assert set(required) <= set(_requirements(ROOT / "requirements.txt"))
    assert {"duckdb", "sqlglot"} & imported == set()
