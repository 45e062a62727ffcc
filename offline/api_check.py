"""Planned inputs checked against AWS's own API models: botocore's service definitions.

Each resource's inputs are laid out as the request the Pulumi AWS provider sends (api_inputs.py says
where each goes) and checked against that operation's input shape: required members, enums, string
patterns and lengths, numeric ranges, list sizes. A value that came from the stack's config names its
config key, so `teamsChannelId: 19:…@thread.tacv2` fails the plan with the key the user has to fix.

botocore comes with boto3 (`pip install .[aws]`, and the development requirements); without it the
check is skipped and the plan says so.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offline.api_inputs import API, NO_API, ApiCall
from offline.engine import ProgramRun, ResourceRecord


@dataclass(frozen=True)
class Problem:
    resource: str
    input: str
    message: str
    config_key: str | None = None
    # The refused value, when one is: it finds the config key it came from.
    value: Any = None

    @property
    def key(self) -> str:
        """What the user fixes: the config key the value came from, else the resource's input."""
        return self.config_key or f"{self.resource}.{self.input}"


class ApiModelError(Exception):
    """Planned inputs that AWS's API would refuse; each problem names its config key or input."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem.key}: {problem.message}" for problem in problems)
        super().__init__(f"inputs AWS's API models refuse:\n{lines}")


def available() -> bool:
    try:
        import botocore.session  # noqa: F401
    except ImportError:
        return False
    return True


def check(run: ProgramRun, config: Mapping[str, str] | None = None) -> list[Problem]:
    """Every planned input AWS's API model refuses, in resource order."""
    problems = []
    for resource in run.resources:
        if resource.custom and resource.type in API:
            problems += _Request(resource, API[resource.type]).problems
    return [_attributed(problem, config or {}) for problem in problems]


def unmapped_inputs(run: ProgramRun) -> list[str]:
    """`<type> <input>` for every planned input no API member receives, and types with no operation."""
    found = set()
    for resource in run.resources:
        if not resource.custom or resource.type in NO_API:
            continue
        if resource.type not in API:
            found.add(f"{resource.type} (no operation)")
            continue
        found.update(f"{resource.type} {path}" for path in _Request(resource, API[resource.type]).unmapped)
    return sorted(found)


@functools.cache
def _model(service: str):
    return _session().get_service_model(service)


@functools.cache
def _session():
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def _pattern(text: str) -> re.Pattern | None:
    """A model's pattern, matched against the whole value as services do ("[^:*]*" for a filter name)."""
    try:
        return re.compile(text)
    except re.error:
        return None  # Java-only syntax; the other constraints still apply


@dataclass(frozen=True)
class _Leaf:
    """A planned value in the request, remembering the input it came from."""

    value: Any
    input: str


@dataclass
class _Request:
    resource: ResourceRecord
    call: ApiCall
    problems: list[Problem] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        model = _model(self.call.service)
        requests: dict[str, dict] = {self.call.operation: {}}
        shape = model.operation_model(self.call.operation).input_shape
        for key, value in self.resource.inputs.items():
            if key.startswith("__") or key in self.call.not_sent:
                continue
            target = self.call.renames.get(key)
            if target and ":" in target:
                operation, target = target.split(":", 1)
                self._place(
                    requests.setdefault(operation, {}), model.operation_model(operation).input_shape, target, value, key
                )
            elif target or _member(shape, key) or key != "tags":
                self._place(requests[self.call.operation], shape, target or key, value, key)
        for operation, request in requests.items():
            operation_model = model.operation_model(operation)
            # Only the main operation is whole here; the others also take the resource's id.
            self._validate(request, operation_model.input_shape, operation, "", operation == self.call.operation)

    def _place(self, out: dict, shape, target: str, value: Any, path: str) -> None:
        segments = target.split(".")
        for index, segment in enumerate(segments):
            name, append = segment.rstrip("[]+"), segment.endswith("[+]")
            as_list = segment.endswith("]")
            member = _member(shape, name) if shape.type_name == "structure" else name
            if member is None:
                self.unmapped.append(path)
                return
            member_shape = shape.members[member] if shape.type_name == "structure" else shape.value
            last = index == len(segments) - 1
            if as_list:
                items = out.setdefault(member, [])
                element_shape = member_shape.member
                if last:
                    items.append(self._convert(value, element_shape, path))
                    return
                if append or not items:
                    items.append({})
                out, shape = items[-1] if append else items[0], element_shape
            elif last:
                out[member] = self._convert(value, member_shape, path)
            else:
                out, shape = out.setdefault(member, {}), member_shape

    def _convert(self, value: Any, shape, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            out: dict = {}
            for key, item in value.items():
                inner = f"{path}.{key}"
                if key.startswith("__") or inner in self.call.not_sent:
                    continue
                self._place(out, shape, self.call.renames.get(inner) or key, item, inner)
            return out
        if kind == "list" and isinstance(value, (list, tuple)):
            return [self._convert(item, shape.member, path) for item in value]
        if kind == "list" and isinstance(value, dict):
            pair = _pair_members(shape.member)
            if pair:
                # A map input (tags, dimensions) is a list of key/value structures in the API.
                return [{pair[0]: _Leaf(k, f"{path}.{k}"), pair[1]: _Leaf(v, f"{path}.{k}")} for k, v in value.items()]
            return [self._convert(value, shape.member, path)]
        if kind == "map" and isinstance(value, dict):
            return {_Leaf(k, path): self._convert(v, shape.value, f"{path}.{k}") for k, v in value.items()}
        return _Leaf(value, path)

    def _validate(self, value: Any, shape, operation: str, member_path: str, whole: bool) -> None:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return self._problem(value, f"is not a structure, as {operation} {member_path} is")
            for required in shape.required_members if whole else ():
                child = f"{member_path}.{required}" if member_path else required
                if required not in value and child not in self.call.provided:
                    self.problems.append(
                        Problem(
                            self.resource.name, member_path or "-", f"{operation} requires {child}, which no input sets"
                        )
                    )
            for key, item in value.items():
                child = f"{member_path}.{key}" if member_path else key
                self._validate(item, shape.members[key], operation, child, whole)
        elif kind == "list":
            items = value if isinstance(value, list) else [value]
            self._limits(len(items), shape, value, operation, member_path, "items")
            for item in items:
                self._validate(item, shape.member, operation, f"{member_path}[]", whole)
        elif kind == "map":
            for key, item in value.items():
                name = key.value if isinstance(key, _Leaf) else key
                self._validate(key, shape.key, operation, f"{member_path} key", whole)
                self._validate(item, shape.value, operation, f"{member_path}.{name}", whole)
        elif isinstance(value, _Leaf):
            self._scalar(value, shape, operation, member_path)

    def _scalar(self, leaf: _Leaf, shape, operation: str, member_path: str) -> None:
        value, kind = leaf.value, shape.type_name
        if kind == "string":
            if isinstance(value, (dict, list)):
                value = json.dumps(value)
            text = value if isinstance(value, str) else json.dumps(value)
            if shape.enum and text not in shape.enum:
                self._problem(
                    leaf, f"is not one of {', '.join(shape.enum)}, the values {operation} takes for {member_path}"
                )
            pattern = shape.metadata.get("pattern")
            compiled = _pattern(pattern) if pattern else None
            if compiled and not compiled.fullmatch(text):
                self._problem(leaf, f"does not match the pattern {pattern} that {operation} requires for {member_path}")
            self._limits(len(text), shape, leaf, operation, member_path, "characters")
        elif kind in ("integer", "long", "float", "double"):
            if isinstance(value, str):
                # Some Pulumi inputs are numbers as text (a metric filter's defaultValue); the provider converts.
                with contextlib.suppress(ValueError):
                    value = float(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._problem(leaf, f"is not a number, as {operation} {member_path} is")
            elif kind in ("integer", "long") and not float(value).is_integer():
                self._problem(leaf, f"is not a whole number, as {operation} {member_path} is")
            else:
                self._limits(value, shape, leaf, operation, member_path, "")
        elif kind == "boolean" and not isinstance(value, bool):
            self._problem(leaf, f"is not true or false, as {operation} {member_path} is")

    def _limits(self, size, shape, leaf, operation: str, member_path: str, unit: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        what = f"{size} {unit}".strip()
        if low is not None and size < low:
            self._problem(leaf, f"has {what}; {operation} {member_path} takes at least {low}")
        if high is not None and size > high:
            self._problem(leaf, f"has {what}; {operation} {member_path} takes at most {high}")

    def _problem(self, leaf: Any, message: str) -> None:
        if isinstance(leaf, _Leaf):
            self.problems.append(Problem(self.resource.name, leaf.input, f"{leaf.value!r} {message}", value=leaf.value))
        else:
            self.problems.append(Problem(self.resource.name, "-", message))


def _member(shape, name: str) -> str | None:
    if shape.type_name != "structure":
        return None
    if name in shape.members:
        return name
    return next((member for member in shape.members if member.lower() == name.lower()), None)


def _pair_members(shape) -> tuple[str, str] | None:
    """The key and value members of a key/value structure (Key/Value, Name/Value, TagKey/TagValue)."""
    if shape.type_name != "structure" or len(shape.members) != 2:
        return None
    names = list(shape.members)
    key = next((n for n in names if n.lower().endswith(("key", "name"))), None)
    value = next((n for n in names if n.lower().endswith("value")), None)
    return (key, value) if key and value and key != value else None


def _attributed(problem: Problem, config: Mapping[str, str]) -> Problem:
    """The problem under the config key whose value the input carries, if one does."""
    if not isinstance(problem.value, (str, int, float)) or isinstance(problem.value, bool):
        return problem
    text = str(problem.value)
    for key in sorted(config):
        raw = config[key]
        try:
            listed = json.loads(raw)
        except ValueError:
            listed = None
        if raw == text or (isinstance(listed, list) and text in map(str, listed)):
            where = f"{problem.resource}.{problem.input}"
            return Problem(problem.resource, problem.input, f"{problem.message} ({where})", key, problem.value)
    return problem
