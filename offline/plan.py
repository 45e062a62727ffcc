"""Offline plan: what `pulumi up` would create for a stack, without AWS or the Pulumi CLI.

    python -m offline.plan dev            # resource tree
    python -m offline.plan dev --json     # the same as JSON
    python -m offline.plan --all          # every stack file, yours and examples/: hubs first, members read theirs
    python -m offline.plan dev --diff before.json   # only what changed since a saved --json plan
    python -m offline.plan dev --deploy-policy      # IAM policy the stack's deploy role needs
    python -m offline.plan dev --preview-policy     # read-only policy of its preview role

The policies print as a JSON list of managed-policy documents, each within IAM's 6,144 characters:
one document, or more when a stack needs more (attach each to the role).

Exit status: 0 planned, 2 configuration error (same message `pulumi preview` gives), or an input AWS's
API model refuses (checked against botocore's service definitions, naming the config key it came from).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.config_keys import account_ids
from components.hub_connection import HubStackError
from components.settings import SettingsError
from offline import api_check, cli
from offline.engine import ProgramRun, ResourceRecord, run_program
from offline.plan_diff import diff_plans, diff_to_json, render_diff
from offline.plan_text import describe_input
from offline.stack_config import (
    PROJECT_DIR,
    StackConfigError,
    StackFile,
    example_stack_files,
    load_stack_config,
    own_stack_files,
    require_project,
    stack_names,
)


def plan(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    account_id: str | None = None,
    region: str | None = None,
    example: bool | None = None,
) -> ProgramRun:
    config = load_stack_config(stack, project_dir, example=example)
    require_program(project_dir)
    if account_id is not None:
        _check_account(account_id, config)
    outputs = {}
    hub_name = (config.get(f"{config.project}:hubStack") or "").rsplit("/", 1)[-1]
    siblings = example_stack_files(project_dir) if config.example else own_stack_files(project_dir)
    if hub_name and hub_name in {sibling.name for sibling in siblings}:
        # A member's plan needs its hub's outputs: plan the hub from its stack file first. An example
        # reports to the example hub, a stack of the team's to the team's own hub.
        hub = load_stack_config(hub_name, project_dir, example=config.example)
        outputs[hub_name] = run_program(hub, project_dir=project_dir).outputs
    run = run_program(config, project_dir=project_dir, account_id=account_id, region=region, stack_outputs=outputs)
    check_against_api_models(run, config)
    return run


def check_against_api_models(run: ProgramRun, config) -> None:
    """Raise ApiModelError for inputs AWS's API models refuse, naming the config key they came from."""
    if not api_check.available():
        run.warnings.append("botocore is not installed: inputs were not checked against AWS's API models")
        return
    problems = api_check.check(run, config.values)
    if problems:
        raise api_check.ApiModelError(problems)


def require_program(project_dir: Path) -> None:
    """A folder with Pulumi.yaml but no __main__.py holds stack files, not the program that plans them."""
    require_project(project_dir)
    if not (project_dir / "__main__.py").is_file():
        raise StackConfigError(
            f"no __main__.py in {project_dir}: --project-dir must be a clone of login-monitoring, not only its stacks"
        )


def _check_account(account_id: str, config) -> None:
    """--account-id must be an account the stack may deploy to, as the provider would insist."""
    allowed = account_ids(config.get("aws:allowedAccountIds") or "[]") or []
    forbidden = account_ids(config.get("aws:forbiddenAccountIds") or "[]") or []
    if not re.fullmatch(r"\d{12}", account_id):
        raise SettingsError([("aws:allowedAccountIds", f"--account-id {account_id!r} is not a 12-digit account id")])
    if allowed and account_id not in allowed:
        raise SettingsError([("aws:allowedAccountIds", f"--account-id {account_id} is not among {', '.join(allowed)}")])
    if account_id in forbidden:
        raise SettingsError([("aws:forbiddenAccountIds", f"--account-id {account_id} is forbidden for this stack")])


@dataclass
class StackPlan:
    stack: str
    role: str
    run: ProgramRun | None = None
    error: str | None = None
    example: bool = False

    @property
    def label(self) -> str:
        return StackFile(self.stack, Path(), self.example).label


def plan_all(project_dir: Path = PROJECT_DIR) -> list[StackPlan]:
    """Plan every stack file: the team's own, then the examples, each set hubs first, so members read
    their hub plan's outputs as their StackReference (an example's hub is an example, an own stack's its own).

    A stack that cannot be read or planned is reported with its problem; the others are still planned.
    """
    require_program(project_dir)
    return _plan_set(own_stack_files(project_dir), project_dir) + _plan_set(
        example_stack_files(project_dir), project_dir
    )


def _plan_set(files: list[StackFile], project_dir: Path) -> list[StackPlan]:
    plans: list[StackPlan] = []
    configs = []
    for stack_file in files:
        try:
            configs.append(load_stack_config(stack_file.name, project_dir, example=stack_file.example))
        except StackConfigError as error:
            plans.append(StackPlan(stack_file.name, "?", error=str(error), example=stack_file.example))

    def role(config) -> str:
        return config.get(f"{config.project}:stackRole") or "member"

    outputs: dict[str, dict] = {}
    for config in sorted(configs, key=lambda c: (role(c) != "hub", c.stack)):
        plan = StackPlan(config.stack, role(config), example=config.example)
        try:
            plan.run = run_program(config, project_dir=project_dir, stack_outputs=outputs)
            check_against_api_models(plan.run, config)
        except (SettingsError, HubStackError, api_check.ApiModelError) as error:
            plan.run = None
            plan.error = str(error)
        except Exception as error:
            # One broken stack must not hide the plans of the others; its error still names it.
            plan.error = f"the program failed: {type(error).__name__}: {error}"
        else:
            outputs[config.stack] = plan.run.outputs
        plans.append(plan)
    return sorted(plans, key=lambda p: (p.role != "hub", p.run is None and p.role == "?", p.stack))


def render_all(plans: list[StackPlan]) -> str:
    lines = [f"{len(plans)} stacks planned offline (yours, then examples/; hubs first):", ""]
    for plan in plans:
        if plan.error:
            lines.append(f"  FAIL  {plan.label:<24} {plan.role:<7} {plan.error.splitlines()[0]}")
            lines += [f"{'':39}{line}" for line in plan.error.splitlines()[1:]]
            continue
        run = plan.run
        custom = sum(1 for r in run.resources if r.custom)
        detail = f"account {run.account_id}, {run.region}: {custom} resources"
        hub = next((r.inputs.get("name") for r in run.of_type("pulumi:pulumi:StackReference")), None)
        if hub:
            detail += f", reports to {hub}"
        lines.append(f"  ok    {plan.label:<24} {plan.role:<7} {detail}")
        lines += [f"{'':39}warning: {warning}" for warning in run.warnings]
    return "\n".join(lines)


def to_json(run: ProgramRun) -> dict[str, Any]:
    plain = Computed(run).plain
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
                "inputs": plain(resource.inputs),
                "dependsOn": list(resource.dependencies),
                **({"retainOnDelete": True} if resource.retain_on_delete else {}),
            }
            for resource in run.resources
        ],
        "outputs": plain(run.outputs),
        "warnings": list(run.warnings),
    }


def dump_json(document: Any) -> str:
    """The one JSON form of every plan: sorted keys, so equal plans are equal bytes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


class Computed:
    """Shows values the provider would compute (auto-names, ARNs, ids) as ${<resource>.<attribute>}."""

    def __init__(self, run: ProgramRun) -> None:
        self.names = run.computed
        # Longest first, so an ARN is replaced whole before the name inside it.
        alternatives = sorted(self.names, key=lambda value: (-len(value), value))
        self.pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def text(self, value: str) -> str:
        if self.pattern is None:
            return value
        return self.pattern.sub(lambda match: "${" + self.names[match.group(0)] + "}", value)

    def plain(self, value: Any) -> Any:
        if isinstance(value, pulumi.AssetArchive):
            return {"archive": _archive_summary(value)}
        if isinstance(value, pulumi.FileAsset):
            return {"file": value.path}
        if isinstance(value, dict):
            return {key: self.plain(item) for key, item in value.items() if not key.startswith("__")}
        if isinstance(value, (list, tuple)):
            return [self.plain(item) for item in value]
        if isinstance(value, float) and value.is_integer():
            # The wire format carries every number as a float; 900 reads better than 900.0.
            return int(value)
        if isinstance(value, str):
            return self.text(value)
        return value


def _archive_summary(archive: pulumi.AssetArchive) -> dict[str, Any]:
    """File count, the project's own modules, and one digest over every file: a code change shows as a change."""
    digest = hashlib.sha256()
    for name in sorted(archive.assets):
        asset = archive.assets[name]
        digest.update(name.encode() + b"\0")
        if isinstance(asset, pulumi.FileAsset):
            digest.update(_file_digest(asset.path).encode())
        elif isinstance(asset, pulumi.StringAsset):
            digest.update(hashlib.sha256(asset.text.encode()).hexdigest().encode())
    modules = [name for name in sorted(archive.assets) if name.startswith("handlers/")]
    return {"files": len(archive.assets), "handlers": modules, "sha256": digest.hexdigest()}


@functools.cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def render_tree(run: ProgramRun) -> str:
    resources = sum(1 for r in run.resources if r.custom)
    lines = [
        f"Stack {run.project}/{run.stack} (offline plan: account {run.account_id}, region {run.region})",
        f"{resources} resources in {len(run.resources) - resources} components",
        "${resource.attribute}: a value AWS assigns when the resource is created",
        "",
    ]
    computed = Computed(run)
    known = {r.urn for r in run.resources}
    roots = [r for r in run.resources if r.parent not in known]
    for index, root in enumerate(roots):
        _render(run, computed, root, "", index == len(roots) - 1, lines)
    if run.outputs:
        lines += ["", "Outputs:"]
        lines += [
            f"  {key}: {json.dumps(computed.plain(value), sort_keys=True)}"
            for key, value in sorted(run.outputs.items())
        ]
    return "\n".join(lines)


def _render(
    run: ProgramRun, computed: Computed, resource: ResourceRecord, indent: str, last: bool, lines: list[str]
) -> None:
    branch = "└─ " if last else "├─ "
    kept = "  (kept on destroy)" if resource.retain_on_delete else ""
    lines.append(f"{indent}{branch}{resource.type}  {resource.name}{kept}")
    child_indent = indent + ("   " if last else "│  ")
    children = run.children(resource)
    detail_indent = child_indent + ("│    " if children else "     ")
    for key, value in sorted(resource.inputs.items()):
        for text in describe_input(key, computed.plain(value)):
            lines.append(f"{detail_indent}{text}")
    for index, child in enumerate(children):
        _render(run, computed, child, child_indent, index == len(children) - 1, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=cli.program("offline.plan"), description=__doc__.splitlines()[0])
    parser.add_argument(
        "stack",
        nargs="?",
        default="dev",
        help="stack name: reads Pulumi.<stack>.yaml, else examples/Pulumi.<stack>.yaml (default: dev)",
    )
    parser.add_argument("--all", action="store_true", help="plan every stack of the project and report per stack")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--account-id", help="account id to plan for (default: aws:allowedAccountIds[0] or 123456789012)"
    )
    parser.add_argument("--region", help="region to plan for (default: the stack's aws:region)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    parser.add_argument(
        "--diff",
        metavar="BEFORE",
        help="print only what changes against BEFORE: a plan saved with --json, or another stack's name",
    )
    policies = parser.add_mutually_exclusive_group()
    policies.add_argument(
        "--deploy-policy", action="store_true", help="print the IAM policy the stack's deploy role needs"
    )
    policies.add_argument(
        "--preview-policy", action="store_true", help="print the read-only IAM policy of the stack's preview role"
    )
    options = parser.parse_args(argv)
    if options.all and (options.deploy_policy or options.preview_policy):
        parser.error("--deploy-policy and --preview-policy are for one stack, not --all")
    if options.all:
        try:
            plans = plan_all(options.project_dir)
        except StackConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if options.json:
            print(
                dump_json(
                    [
                        {
                            "stack": p.stack,
                            "example": p.example,
                            "role": p.role,
                            "error": p.error,
                            "plan": to_json(p.run) if p.run else None,
                        }
                        for p in plans
                    ]
                )
            )
        else:
            print(render_all(plans))
        return 2 if any(p.error for p in plans) else 0
    try:
        run = plan(options.stack, project_dir=options.project_dir, account_id=options.account_id, region=options.region)
        before = _before(options) if options.diff else None
    except (SettingsError, StackConfigError, HubStackError, api_check.ApiModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if options.deploy_policy or options.preview_policy:
        return _print_policy(run, options)
    if before is not None:
        label, document = before
        diff = diff_plans(document, to_json(run), before_label=label, after_label=f"{run.project}/{run.stack}")
        print(dump_json(diff_to_json(diff)) if options.json else render_diff(diff))
        return 0
    print(dump_json(to_json(run)) if options.json else render_tree(run))
    return 0


def _print_policy(run: ProgramRun, options: argparse.Namespace) -> int:
    # Imported here: role_policies reads plans with this module's Computed.
    from offline import role_policies

    config = load_stack_config(options.stack, options.project_dir)
    pinned = account_ids(config.get("aws:allowedAccountIds") or "[]") or []
    account = options.account_id or (pinned[0] if pinned else None)
    build = role_policies.deploy_policy if options.deploy_policy else role_policies.preview_policy
    try:
        parts = role_policies.split(build(run, account))
    except role_policies.PolicyGapError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if len(parts) > 1:
        print(
            f"note: {len(parts)} managed policies, each within IAM's {role_policies.MANAGED_POLICY_LIMIT} characters;"
            " attach every one to the role",
            file=sys.stderr,
        )
    if account is None:
        print("note: the stack pins no aws:allowedAccountIds; ARNs name any account (*)", file=sys.stderr)
    print(dump_json(parts))
    return 0


def _before(options: argparse.Namespace) -> tuple[str, dict]:
    """The plan to compare with: a saved JSON plan, or another stack planned now."""
    path = Path(options.diff)
    if path.is_file():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise StackConfigError(f"--diff {path}: not a readable JSON plan ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
            raise StackConfigError(f"--diff {path}: not a plan saved with --json (no resources list)")
        return str(path), document
    if options.diff in stack_names(options.project_dir):
        other = plan(options.diff, project_dir=options.project_dir)
        return f"{other.project}/{other.stack}", to_json(other)
    raise StackConfigError(f"--diff {options.diff}: no such file, and no stack of that name")


def run() -> None:
    """The installed `login-monitoring-plan` command."""
    cli.run(main)


if __name__ == "__main__":
    run()
