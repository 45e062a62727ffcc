"""Plan inputs as the lines a reviewer reads; shared by the plan and its diff."""

from __future__ import annotations

import json
from typing import Any


def describe_input(key: str, value: Any) -> list[str]:
    """One input as plan lines; `value` is already plain (see Computed.plain)."""
    if key.startswith("__"):
        return []
    if isinstance(value, dict) and set(value) == {"archive"}:
        archive = value["archive"]
        return [
            f"{key}: archive of {archive['files']} files ({', '.join(archive['handlers'])}; "
            f"{archive['files'] - len(archive['handlers'])} tzdata files), sha256 {archive['sha256'][:12]}"
        ]
    statements = policy_statements(value)
    if statements is not None:
        return [f"{key}:"] + [f"  - {statement_line(statement)}" for statement in statements]
    return [f"{key}: {json.dumps(value, sort_keys=True)}"]


def policy_statements(value: Any) -> list[dict] | None:
    if not isinstance(value, str) or '"Statement"' not in value:
        return None
    try:
        statements = json.loads(value)["Statement"]
    except (ValueError, KeyError, TypeError):
        return None
    return statements if isinstance(statements, list) else [statements]


def statement_line(statement: dict) -> str:
    actions = statement.get("Action", [])
    actions = ", ".join(actions) if isinstance(actions, list) else actions
    resources = statement.get("Resource", [])
    resources = ", ".join(resources) if isinstance(resources, list) else resources
    principal = statement.get("Principal")
    line = f"{statement.get('Effect')} {actions}" + (f" on {resources}" if resources else "")
    if principal:
        line += f" to {json.dumps(principal)}"
    if statement.get("Condition"):
        line += f" if {json.dumps(statement['Condition'], sort_keys=True)}"
    return f"[{statement.get('Sid', '-')}] {line}"
