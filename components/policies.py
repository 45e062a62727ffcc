"""IAM policy documents as plain data (rendered with Output.json_dumps, no invokes)."""

from __future__ import annotations

from typing import Any

import pulumi


def document(*statements: dict[str, Any]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, actions: list[str], resources: list[Any], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def assume_role_by(service: str) -> pulumi.Output[str]:
    # No aws:SourceAccount here: neither CloudTrail nor Lambda documents sending it when
    # assuming a role, and a condition on a missing key would silently deny delivery.
    return document(
        {"Sid": "TrustService", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    )


def account_administers_key(account_root_arn: pulumi.Input[str]) -> dict[str, Any]:
    # Lets the account's IAM policies grant use of the key; without it no role could be allowed to use it.
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }
