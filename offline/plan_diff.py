"""What changes between two offline plans, the way a reviewer reads `pulumi preview --diff`.

Both sides are plan JSON documents (`python -m offline.plan <stack> --json`). Resources are
matched by their URN without the stack and project, so two stacks can be compared as well as
two versions of one. For an update only the inputs that changed are listed; nested mappings
by their dotted path, IAM policy documents statement by statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from offline.plan_text import describe_input, policy_statements, statement_line


@dataclass(frozen=True)
class InputChange:
    path: str
    before: Any
    after: Any
    missing_before: bool = False
    missing_after: bool = False


@dataclass
class ResourceChange:
    action: str  # create, delete, update
    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)  # create: every input
    changes: list[InputChange] = field(default_factory=list)  # update: changed inputs only


@dataclass
class PlanDiff:
    before: str
    after: str
    resources: list[ResourceChange]
    unchanged: int
    outputs: list[InputChange]

    def count(self, action: str) -> int:
        return sum(1 for change in self.resources if change.action == action)


_MISSING = object()


def diff_plans(before: dict, after: dict, *, before_label: str, after_label: str) -> PlanDiff:
    old, new = _by_key(before), _by_key(after)
    changes: list[ResourceChange] = []
    unchanged = 0
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was is None:
            changes.append(ResourceChange("create", now["type"], now["name"], inputs=now["inputs"]))
        elif now is None:
            changes.append(ResourceChange("delete", was["type"], was["name"]))
        else:
            inputs = _changes(_compared(was), _compared(now))
            if inputs:
                changes.append(ResourceChange("update", now["type"], now["name"], changes=inputs))
            else:
                unchanged += 1
    order = {"delete": 0, "create": 1, "update": 2}
    changes.sort(key=lambda change: (order[change.action], change.name, change.type))
    return PlanDiff(
        before_label,
        after_label,
        changes,
        unchanged,
        _changes(before.get("outputs") or {}, after.get("outputs") or {}),
    )


def _compared(resource: dict) -> dict[str, Any]:
    # Whether destroy keeps the resource is a resource option, not an input, but a reviewer must see it change.
    return {**resource["inputs"], "(retainOnDelete)": bool(resource.get("retainOnDelete"))}


def _by_key(plan: dict) -> dict[str, dict]:
    # urn:pulumi:<stack>::<project>::<type chain>::<name>: drop stack and project.
    return {resource["urn"].split("::", 2)[-1]: resource for resource in plan.get("resources", [])}


def _changes(before: dict, after: dict, prefix: str = "") -> list[InputChange]:
    found: list[InputChange] = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, _MISSING), after.get(key, _MISSING)
        if was == now:
            continue
        path = f"{prefix}{key}"
        if isinstance(was, dict) and isinstance(now, dict) and not _is_archive(was):
            found += _changes(was, now, path + ".")
            continue
        found.append(
            InputChange(
                path,
                None if was is _MISSING else was,
                None if now is _MISSING else now,
                missing_before=was is _MISSING,
                missing_after=now is _MISSING,
            )
        )
    return found


def _is_archive(value: dict) -> bool:
    return set(value) == {"archive"}


def render_diff(diff: PlanDiff) -> str:
    lines = [
        f"Plan {diff.after} compared with {diff.before}: {diff.count('create')} to create, "
        f"{diff.count('delete')} to delete, {diff.count('update')} to update, {diff.unchanged} unchanged",
    ]
    symbol = {"create": "+", "delete": "-", "update": "~"}
    for change in diff.resources:
        lines += ["", f"{symbol[change.action]} {change.type}  {change.name}"]
        if change.action == "create":
            for key, value in sorted(change.inputs.items()):
                lines += [f"      {line}" for line in describe_input(key, value)]
        for item in change.changes:
            lines += [f"      {line}" for line in _describe_change(item)]
    if diff.outputs:
        lines += ["", "Outputs:"]
        for item in diff.outputs:
            lines += [f"  {line}" for line in _describe_change(item)]
    if not diff.resources and not diff.outputs:
        lines += ["", "No changes."]
    return "\n".join(lines)


def _describe_change(change: InputChange) -> list[str]:
    if change.missing_before:
        return [f"+ {line}" for line in describe_input(change.path, change.after)]
    if change.missing_after:
        return [f"- {line}" for line in describe_input(change.path, change.before)]
    old, new = policy_statements(change.before), policy_statements(change.after)
    if old is not None and new is not None:
        return [f"~ {change.path}: (policy, statement by statement)"] + [
            f"    {line}" for line in _statement_changes(old, new)
        ]
    if _is_archive_value(change.before) and _is_archive_value(change.after):
        before, after = change.before["archive"], change.after["archive"]
        return [f"~ {change.path}: archive sha256 {before['sha256'][:12]} -> {after['sha256'][:12]}"]
    return [f"~ {change.path}: {_short(change.before)} -> {_short(change.after)}"]


def _is_archive_value(value: Any) -> bool:
    return isinstance(value, dict) and _is_archive(value)


def _statement_changes(before: list[dict], after: list[dict]) -> list[str]:
    old, new = _statements_by_id(before), _statements_by_id(after)
    lines = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        if was is None:
            lines.append(f"+ {statement_line(now)}")
        elif now is None:
            lines.append(f"- {statement_line(was)}")
        else:
            lines += [f"- {statement_line(was)}", f"+ {statement_line(now)}"]
    return lines


def _statements_by_id(statements: list[dict]) -> dict[str, dict]:
    # Statements without a Sid are matched by their whole content: any change reads as remove + add.
    return {
        statement.get("Sid") or json.dumps(statement, sort_keys=True): statement
        for statement in statements
        if isinstance(statement, dict)
    }


def _short(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def diff_to_json(diff: PlanDiff) -> dict[str, Any]:
    def change(item: InputChange) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": item.path}
        if not item.missing_before:
            entry["before"] = item.before
        if not item.missing_after:
            entry["after"] = item.after
        return entry

    return {
        "before": diff.before,
        "after": diff.after,
        "summary": {action: diff.count(action) for action in ("create", "delete", "update")}
        | {"unchanged": diff.unchanged},
        "resources": [
            {"action": c.action, "type": c.type, "name": c.name}
            | ({"inputs": c.inputs} if c.action == "create" else {})
            | ({"changes": [change(item) for item in c.changes]} if c.action == "update" else {})
            for c in diff.resources
        ],
        "outputs": [change(item) for item in diff.outputs],
    }
