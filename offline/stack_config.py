"""Stack config as the Pulumi CLI would hand it to the program.

The CLI merges the defaults declared in Pulumi.yaml with the stack file's values
and passes every value as a string (lists as JSON). The offline runs do the same,
so the program reads config exactly as it does under `pulumi preview`.

A team's own stacks are the Pulumi.<stack>.yaml files beside Pulumi.yaml, where the CLI
looks for them; they are what CI previews and deploys. The examples live in examples/, so
the CLI and CI never take them for a stack of the team's. A stack name reads the team's
own file first and falls back to the example of that name (`python -m offline.plan dev`
on a fresh clone plans examples/Pulumi.dev.yaml).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml


def find_project_dir(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml that the commands read by default.

    Run from a clone (or an editable install) it is the clone, wherever the command is started. An
    installed copy has no Pulumi.yaml beside it, so, like the pulumi CLI, it takes the nearest folder
    holding one from the current directory upwards (or the current directory, whose error then names it).
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "Pulumi.yaml").is_file():
        return checkout
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / "Pulumi.yaml").is_file()), here)


PROJECT_DIR = find_project_dir()


EXAMPLES = "examples"


class StackConfigError(Exception):
    """The project or stack file cannot be read."""


@dataclass(frozen=True)
class StackFile:
    """One Pulumi.<stack>.yaml: a team's own (beside Pulumi.yaml) or an example (in examples/)."""

    name: str
    path: Path
    example: bool

    @property
    def label(self) -> str:
        """How the commands name it: `dev` for a stack of the team's, `examples/dev` for the example."""
        return f"{EXAMPLES}/{self.name}" if self.example else self.name


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    example: bool = field(default=False, compare=False)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)


def load_stack_config(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    overrides: dict[str, Any] | None = None,
    *,
    example: bool | None = None,
) -> StackConfig:
    """The stack's config; example=None takes the team's own file, else the example of that name."""
    require_project(project_dir)
    project_file = _read_yaml(project_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str):
        raise StackConfigError(f"{project_dir / 'Pulumi.yaml'} has no project name")
    values = {}
    for key, declaration in (project_file.get("config") or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(declaration, dict) and "default" in declaration:
            values[full_key] = declaration["default"]
        elif not isinstance(declaration, dict):
            values[full_key] = declaration

    stack_file = find_stack_file(stack, project_dir, example=example)
    for key, value in ((_read_yaml(stack_file.path).get("config")) or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and "secure" in value:
            raise StackConfigError(f"{full_key} is a secret; the offline plan cannot decrypt it")
        values[full_key] = value
    values.update(overrides or {})
    return StackConfig(
        project=project,
        stack=stack,
        values={key: as_config_string(value) for key, value in values.items()},
        example=stack_file.example,
    )


def require_project(project_dir: Path) -> None:
    if not (project_dir / "Pulumi.yaml").is_file():
        raise StackConfigError(f"no Pulumi.yaml in {project_dir}: run in the project's folder or pass --project-dir")


def _files_in(folder: Path, example: bool) -> list[StackFile]:
    paths = sorted(folder.glob("Pulumi.*.yaml"))
    return [StackFile(path.name[len("Pulumi.") : -len(".yaml")], path, example) for path in paths]


def own_stack_files(project_dir: Path = PROJECT_DIR) -> list[StackFile]:
    """The team's own stacks: the files beside Pulumi.yaml, which the CLI and CI deploy."""
    return _files_in(project_dir, example=False)


def example_stack_files(project_dir: Path = PROJECT_DIR) -> list[StackFile]:
    return _files_in(project_dir / EXAMPLES, example=True)


def stack_files(project_dir: Path = PROJECT_DIR) -> list[StackFile]:
    """Every stack file the project holds: the team's own, then the examples."""
    return own_stack_files(project_dir) + example_stack_files(project_dir)


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Every stack name a command accepts: the team's own and the examples'."""
    return sorted({stack_file.name for stack_file in stack_files(project_dir)})


def find_stack_file(stack: str, project_dir: Path = PROJECT_DIR, *, example: bool | None = None) -> StackFile:
    """The team's own Pulumi.<stack>.yaml, else the example of that name (or only one kind, when asked)."""
    kinds = {None: (False, True), False: (False,), True: (True,)}[example]
    for kind in kinds:
        folder = project_dir / EXAMPLES if kind else project_dir
        path = folder / f"Pulumi.{stack}.yaml"
        if path.exists():
            return StackFile(stack, path, kind)
    where = f"{EXAMPLES}/" if example else ""
    known = [f.label for f in stack_files(project_dir) if example is None or f.example == example]
    raise StackConfigError(f"no stack file {where}Pulumi.{stack}.yaml; stacks here: {', '.join(known) or 'none'}")


def as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's message spans lines with a caret drawing; a problem per stack reads best on one."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


class _StackFileLoader(yaml.SafeLoader):
    """Reads a stack file as Pulumi does: YAML 1.2's core schema, not PyYAML's YAML 1.1.

    Under 1.1 `yes`, `no`, `on` and `off` are booleans, `010` is octal and `2024-05-01` a date; Pulumi
    reads them as the text they are, so `encryptAlertTopic: yes` is the string 'yes' and fails the key's
    declared boolean type instead of passing as true. A mapping that names a key twice is refused too;
    YAML libraries otherwise keep the last one silently.
    """

    yaml_implicit_resolvers: ClassVar[dict] = {}

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
        if digits.startswith(("0o", "0x")):
            return sign * int(digits, 0)
        return sign * int(digits, 10)  # 010 is ten in YAML 1.2

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        duplicates = []
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in seen:
                duplicates.append(
                    f"{key} (line {key_node.start_mark.line + 1}, first on line {seen[key].start_mark.line + 1})"
                )
            seen.setdefault(key, key_node)
        if duplicates:
            raise yaml.constructor.ConstructorError(None, None, "duplicate keys: " + "; ".join(duplicates))
        return super().construct_mapping(node, deep=deep)


# The YAML 1.2 core schema's tags (https://yaml.org/spec/1.2.2/#1032-tag-resolution); ints before floats,
# as the first match wins. Merge keys stay, as the YAML library Pulumi's CLI uses supports them.
for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("merge", r"^(?:<<)$", ["<"]),
):
    _StackFileLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)
_StackFileLoader.add_constructor("tag:yaml.org,2002:int", _StackFileLoader.construct_yaml_int)


def read_yaml(path: Path) -> dict:
    """A stack or project file as Pulumi reads it (see _StackFileLoader); errors name the file, on one line."""
    return _read_yaml(path)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StackConfigError(f"{path} does not exist") from None
    try:
        document = _parsed(text)
    except yaml.YAMLError as error:
        raise StackConfigError(f"{path} is not valid YAML: {_one_line(error)}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackConfigError(f"{path} must hold a mapping at the top level")
    return copy.deepcopy(document)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    # Planning every stack reads Pulumi.yaml once per stack; parsing it is slower than the rest of reading config.
    return yaml.load(text, Loader=_StackFileLoader)
