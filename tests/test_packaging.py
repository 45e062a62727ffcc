"""What `pip install .` ships: every command resolves, every package and data file is listed, and the
dependencies are the ones Pulumi installs from requirements.txt."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from offline import stack_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SCRIPTS = PROJECT["project"]["scripts"]
PACKAGES = PROJECT["tool"]["setuptools"]["packages"]


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-r"))]


@pytest.mark.parametrize("command", sorted(SCRIPTS))
def test_every_command_resolves_to_a_callable_in_a_shipped_package(command):
    module_name, _, attribute = SCRIPTS[command].partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    assert callable(target)
    assert module_name.rpartition(".")[0] in PACKAGES or module_name in PACKAGES


def test_the_commands_the_readme_documents_are_installed():
    assert {"plan", "replay", "verify", "history", "backtest", "redrive"} == {
        name.removeprefix("login-monitoring-") for name in SCRIPTS
    }


def test_every_python_package_of_the_program_is_shipped():
    shipped_roots = {name.split(".")[0] for name in PACKAGES}
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for root in shipped_roots
        for init in (ROOT / root).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= set(PACKAGES), f"packages missing from pyproject.toml: {sorted(found - set(PACKAGES))}"
    assert "tests" not in shipped_roots and "bench" not in shipped_roots


def test_package_data_matches_files_that_exist():
    for package, patterns in PROJECT["tool"]["setuptools"]["package-data"].items():
        folder = ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            assert any(path.is_file() for path in folder.glob(pattern)), f"{package}: {pattern} matches nothing"


def test_dependencies_are_requirements_txt():
    assert sorted(PROJECT["project"]["dependencies"]) == sorted(requirement_lines("requirements.txt"))


def test_the_aws_extra_matches_the_dev_requirements():
    boto3 = next(line for line in requirement_lines("requirements-dev.txt") if line.startswith("boto3"))
    assert PROJECT["project"]["optional-dependencies"]["aws"] == [boto3]


def test_an_installed_copy_finds_the_project_from_the_current_directory(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "offline" / "stack_config.py"
    installed.parent.mkdir(parents=True)
    monkeypatch.setattr(stack_config, "__file__", str(installed))
    project = tmp_path / "project"
    (project / "deep" / "er").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: login-monitoring\n")
    assert stack_config.find_project_dir(project / "deep" / "er") == project.resolve()
    assert stack_config.find_project_dir(tmp_path) == tmp_path.resolve()
    with pytest.raises(stack_config.StackConfigError, match=r"no Pulumi.yaml in .*pass --project-dir"):
        stack_config.load_stack_config("dev", tmp_path)


def test_a_clone_uses_itself_wherever_the_command_starts(tmp_path):
    assert stack_config.find_project_dir(tmp_path) == ROOT


@pytest.mark.parametrize("command", sorted(SCRIPTS))
def test_each_command_names_itself_in_its_usage_as_it_was_typed(command, monkeypatch, capsys):
    module_name, _, attribute = SCRIPTS[command].partition(":")
    module = importlib.import_module(module_name)
    typed_module = module_name.removesuffix(".__main__")
    for argv0, expected in ((f"/venv/bin/{command}", command), (module.__file__, f"python -m {typed_module}")):
        monkeypatch.setattr("sys.argv", [argv0, "--help"])
        with pytest.raises(SystemExit) as stopped:
            getattr(module, attribute)()
        assert stopped.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: {expected} "), command


def test_the_program_and_every_command_load_without_the_aws_sdk():
    # Pulumi builds the program's venv from requirements.txt alone, which has no boto3 or botocore:
    # only the Lambda handlers (where the runtime provides them) and the AWS-calling commands may
    # import them, and those commands only when they call AWS.
    import subprocess
    import sys

    modules = sorted({target.partition(":")[0] for target in SCRIPTS.values()} | {"components.login_monitoring"})
    script = (
        "import importlib, sys\n"
        "class NoAwsSdk:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('boto3', 'botocore'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoAwsSdk())\n"
        f"for module in {modules!r}:\n"
        "    importlib.import_module(module)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
