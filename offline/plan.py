"""Offline plan: what `pulumi up` would create for a stack, without AWS or the Pulumi CLI.

    python -m offline.plan dev            # resource tree
    python -m offline.plan dev --json     # the same as JSON

Exit status: 0 planned, 2 configuration error (same message `pulumi preview` gives).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pulumi

from components.settings import SettingsError
from offline.engine import ProgramRun, ResourceRecord, run_program
from offline.stack_config import PROJECT_DIR, StackConfigError, load_stack_config


def plan(
    stack: str, *, project_dir: Path = PROJECT_DIR, account_id: str | None = None, region: str | None = None
) -> ProgramRun:
    return run_program(
        load_stack_config(stack, project_dir), project_dir=project_dir, account_id=account_id, region=region
    )


def to_json(run: ProgramRun) -> dict[str, Any]:
    return {
        "project": run.project,
        "stack": run.stack,
        "accountId": run.account_id,
        "region": run.region,
        "resources": [
            {
                "type": resource.type,
                "name": resource.name,
                "urn": resource.urn,
                "parent": resource.parent or None,
                "inputs": _plain(resource.inputs),
                "dependsOn": list(resource.dependencies),
            }
            for resource in run.resources
        ],
        "outputs": _plain(run.outputs),
    }


def render_tree(run: ProgramRun) -> str:
    resources = sum(1 for r in run.resources if r.custom)
    lines = [
        f"Stack {run.project}/{run.stack} (offline plan: account {run.account_id}, region {run.region})",
        f"{resources} resources in {len(run.resources) - resources} components",
        "",
    ]
    known = {r.urn for r in run.resources}
    roots = [r for r in run.resources if r.parent not in known]
    for index, root in enumerate(roots):
        _render(run, root, "", index == len(roots) - 1, lines)
    if run.outputs:
        lines += ["", "Outputs:"]
        lines += [f"  {key}: {value}" for key, value in sorted(run.outputs.items())]
    return "\n".join(lines)


def _render(run: ProgramRun, resource: ResourceRecord, indent: str, last: bool, lines: list[str]) -> None:
    branch = "└─ " if last else "├─ "
    lines.append(f"{indent}{branch}{resource.type}  {resource.name}")
    child_indent = indent + ("   " if last else "│  ")
    children = run.children(resource)
    detail_indent = child_indent + ("│    " if children else "     ")
    for key, value in sorted(resource.inputs.items()):
        for text in _describe(key, value):
            lines.append(f"{detail_indent}{text}")
    for index, child in enumerate(children):
        _render(run, child, child_indent, index == len(children) - 1, lines)


def _describe(key: str, value: Any) -> list[str]:
    if key.startswith("__"):
        return []
    if isinstance(value, pulumi.AssetArchive):
        names = sorted(value.assets)
        modules = [name for name in names if name.startswith("handlers/")]
        return [
            f"{key}: archive of {len(names)} files ({', '.join(modules)}; {len(names) - len(modules)} tzdata files)"
        ]
    statements = _policy_statements(value)
    if statements is not None:
        return [f"{key}:"] + [f"  - {_statement_line(statement)}" for statement in statements]
    return [f"{key}: {json.dumps(_plain(value), sort_keys=True)}"]


def _policy_statements(value: Any) -> list[dict] | None:
    if not isinstance(value, str) or '"Statement"' not in value:
        return None
    try:
        statements = json.loads(value)["Statement"]
    except (ValueError, KeyError, TypeError):
        return None
    return statements if isinstance(statements, list) else [statements]


def _statement_line(statement: dict) -> str:
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


def _plain(value: Any) -> Any:
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": sorted(value.assets)}
    if isinstance(value, pulumi.FileAsset):
        return {"file": value.path}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        # The wire format carries every number as a float; 900 reads better than 900.0.
        return int(value)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--account-id", help="account id to plan for (default: aws:allowedAccountIds[0] or 123456789012)"
    )
    parser.add_argument("--region", help="region to plan for (default: the stack's aws:region)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    options = parser.parse_args(argv)
    try:
        run = plan(options.stack, project_dir=options.project_dir, account_id=options.account_id, region=options.region)
    except (SettingsError, StackConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(to_json(run), indent=2) if options.json else render_tree(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
