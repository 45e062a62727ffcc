"""IAM policy documents linted with parliament, which reads AWS's own IAM definitions: every action exists,
every resource fits the actions next to it, every condition key belongs to them.

A finding the project accepts is listed in ACCEPTED with the reason; any other finding fails the test.
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    # parliament still imports pkg_resources; the warning says nothing about the policies.
    warnings.simplefilter("ignore")
    import parliament


@dataclass(frozen=True)
class Accepted:
    """A finding that does not apply to one kind of document, and why."""

    kind: str  # identity, trust, key, sink, ...: see KINDS
    issue: str
    subject: str  # the action or detail, a shell-style pattern
    reason: str


# What each planned policy input is, by (resource type, input).
KINDS = {
    ("aws:iam/role:Role", "assumeRolePolicy"): "trust",
    ("aws:iam/rolePolicy:RolePolicy", "policy"): "identity",
    ("aws:kms/key:Key", "policy"): "key",
    ("aws:oam/sinkPolicy:SinkPolicy", "policy"): "sink",
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"): "bucket",
    ("aws:sns/topicPolicy:TopicPolicy", "policy"): "topic",
    ("aws:sqs/queuePolicy:QueuePolicy", "policy"): "queue",
}

ACCEPTED: tuple[Accepted, ...] = (
    Accepted(
        "identity",
        "RESOURCE_MISMATCH",
        "athena:*[Tt]ag*",
        "AWS lists every taggable Athena resource type (capacity reservation, data catalog, workgroup) as "
        "required for its tag actions; a call tags one of them, here the stack's workgroup",
    ),
    Accepted(
        "identity",
        "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        "s3:Put*",
        "the deploy role writes the policy and lifecycle of the buckets the stack creates, which is what "
        "deploying them means; it holds no object actions, and the policy pack checks what the policy grants",
    ),
    Accepted(
        "trust",
        "MALFORMED",
        "Statement contains neither Resource nor NotResource",
        "a trust policy names no Resource: the role it belongs to is the resource",
    ),
    Accepted(
        "key",
        "RESOURCE_STAR",
        "kms:*",
        'in a key policy "Resource": "*" means the key itself; AWS requires it there',
    ),
    Accepted(
        "sink",
        "RESOURCE_STAR",
        "oam:*",
        'in a sink policy "Resource": "*" means the sink itself, as in AWS\'s examples',
    ),
    Accepted(
        "key",
        "MISMATCHED_TYPE",
        "Type mismatch: ArnLike requires a value of type Arn but given String",
        "kms:EncryptionContext:aws:logs:arn holds the log group's ARN; CloudWatch Logs documents this condition "
        "for keys that encrypt log groups",
    ),
    Accepted(
        "key",
        "UNKNOWN_CONDITION_FOR_ACTION",
        "Unknown condition kms:EncryptionContext:aws:logs:arn for action kms:Describe*",
        "CloudWatch Logs' documented key policy grants kms:Describe* under the log group's encryption context; "
        "the statement is AWS's own",
    ),
)


def findings(document: dict[str, Any] | str) -> list[tuple[str, str, str]]:
    """(issue, action or subject, detail) for every finding, one per action where the linter lists several."""
    text = document if isinstance(document, str) else json.dumps(document)
    found = []
    for finding in parliament.analyze_policy_string(text).findings:
        detail = finding.detail
        if isinstance(detail, list) and detail and all(isinstance(item, dict) and "action" in item for item in detail):
            for item in detail:
                found.append((finding.issue, item["action"], json.dumps(item, sort_keys=True)))
        elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
            found += [(finding.issue, item, item) for item in detail]
        else:
            escalation = re.search(r"does allow (\S+)", str(detail))
            found.append((finding.issue, escalation.group(1) if escalation else str(detail), str(detail)))
    return sorted(set(found))


def accepted_by(kind: str, finding: tuple[str, str, str]) -> Accepted | None:
    issue, subject, _ = finding
    return next(
        (a for a in ACCEPTED if a.kind == kind and a.issue == issue and fnmatch.fnmatchcase(subject, a.subject)),
        None,
    )


def unaccepted(document: dict[str, Any] | str, kind: str = "identity") -> list[tuple[str, str, str]]:
    return [finding for finding in findings(document) if accepted_by(kind, finding) is None]


def access_level(action: str) -> str | None:
    """AWS's access level of an action: List, Read, Write, Permissions management or Tagging."""
    service, name = action.split(":", 1)
    for privilege in _privileges(service):
        if privilege["privilege"].lower() == name.lower():
            return privilege["access_level"]
    return None


def star_only(action: str) -> bool:
    """Whether AWS authorizes the action on "Resource": "*" only (no resource type of its own)."""
    service, name = action.split(":", 1)
    for privilege in _privileges(service):
        if privilege["privilege"].lower() == name.lower():
            return all(not resource["resource_type"] for resource in privilege["resource_types"])
    return False


def _privileges(service: str) -> list[dict]:
    return next((s["privileges"] for s in parliament.iam_definition if s["prefix"] == service), [])
