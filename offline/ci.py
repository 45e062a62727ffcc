"""What the workflows deploy and how a pull request previews it, decided in one tested place.

    python -m offline.ci stacks                 # JSON list of the stacks CI may preview and deploy
    python -m offline.ci stacks --role hub      # only hubs (or: --role member)
    python -m offline.ci preview-role <stack>   # point the stack file at its read-only preview role

Only the team's own stacks (the Pulumi.<stack>.yaml files beside Pulumi.yaml, never examples/)
that pin `aws:allowedAccountIds` take part: the provider then refuses any other account, so a
half-written stack file can neither fail every pull request nor deploy into whatever account the
CI credentials reach. No such stack gives an empty list, and the workflows skip their jobs.

A pull request runs code nobody has reviewed yet, so its preview must not hold the deploy role
that `aws:assumeRoles` names. `preview-role` rewrites the stack file in the CI workspace (never
committed) so the provider assumes `ci:previewRoleArn`, a read-only role of the same account.
The IAM trust policies, not this rewrite, are what stops a pull request from reaching the deploy
role: see "Credentials in CI" in docs/organization.md.

Reads stack files with offline.stack_config's reader (YAML 1.2, as Pulumi reads them) and needs only
PyYAML, so the job that lists stacks installs nothing else.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from offline.stack_config import PROJECT_DIR, StackConfigError, own_stack_files, read_yaml

PREVIEW_ROLE_KEY = "ci:previewRoleArn"
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


def _stack_file(stack: str, project_dir: Path) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def _config(stack: str, project_dir: Path) -> dict:
    config = read_yaml(_stack_file(stack, project_dir)).get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{_stack_file(stack, project_dir)}: config must be a mapping of keys to values")
    return config


def allowed_accounts(config: dict) -> list[str]:
    """The account ids a stack pins, or [] when it pins none (or something that is not an account id)."""
    accounts = config.get("aws:allowedAccountIds")
    if not isinstance(accounts, list) or not accounts:
        return []
    ids = [str(account) for account in accounts]
    return ids if all(_ACCOUNT_ID.match(account) for account in ids) else []


def deployable_stacks(project_dir: Path = PROJECT_DIR, role: str | None = None) -> list[str]:
    """Stacks that pin the accounts they may touch, optionally only hubs or only members."""
    chosen = []
    for stack in (stack_file.name for stack_file in own_stack_files(project_dir)):
        config = _config(stack, project_dir)
        if not allowed_accounts(config):
            continue
        stack_role = config.get("login-monitoring:stackRole", "member")
        if role is None or stack_role == role:
            chosen.append(stack)
    return chosen


def preview_role(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """The stack's read-only preview role, checked to live in the account the stack pins."""
    config = _config(stack, project_dir)
    accounts = allowed_accounts(config)
    if not accounts:
        raise StackConfigError(f"stack {stack} pins no aws:allowedAccountIds; CI does not preview it")
    role_arn = config.get(PREVIEW_ROLE_KEY)
    match = _ROLE_ARN.match(role_arn) if isinstance(role_arn, str) else None
    if not match:
        raise StackConfigError(
            f"stack {stack}: {PREVIEW_ROLE_KEY} must name the read-only role previews use in its account, "
            f"e.g. arn:aws:iam::{accounts[0]}:role/LoginMonitoringPreview; got {role_arn!r}"
        )
    if match.group(1) not in accounts:
        raise StackConfigError(
            f"stack {stack}: {PREVIEW_ROLE_KEY} is in account {match.group(1)}, "
            f"but the stack pins aws:allowedAccountIds {accounts}"
        )
    deploy_roles = {entry.get("roleArn") for entry in config.get("aws:assumeRoles") or [] if isinstance(entry, dict)}
    if role_arn in deploy_roles:
        raise StackConfigError(f"stack {stack}: {PREVIEW_ROLE_KEY} must not be the deploy role of aws:assumeRoles")
    return role_arn


def use_preview_role(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """Rewrite the stack file so the provider assumes the preview role, and only that role."""
    role_arn = preview_role(stack, project_dir)
    path = _stack_file(stack, project_dir)
    document = read_yaml(path)
    document["config"]["aws:assumeRoles"] = [{"roleArn": role_arn, "sessionName": f"login-monitoring-preview-{stack}"}]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return role_arn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.ci", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    stacks = commands.add_parser("stacks", help="print the stacks CI previews and deploys, as a JSON list")
    stacks.add_argument("--role", choices=("hub", "member"), help="only stacks of this role")
    preview = commands.add_parser("preview-role", help="make the stack file assume its read-only preview role")
    preview.add_argument("stack")
    for command in (stacks, preview):
        command.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    options = parser.parse_args(argv)
    try:
        if options.command == "stacks":
            print(json.dumps(deployable_stacks(options.project_dir, options.role)))
        else:
            print(f"{options.stack}: previewing as {use_preview_role(options.stack, options.project_dir)}")
    except (StackConfigError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
