"""IAM policy documents linted with parliament, which reads AWS's own IAM definitions: every action exists,
every resource fits the actions next to it, every condition key belongs to them.

A finding the project accepts is listed in ACCEPTED with the reason; any other finding fails the test.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

with warnings.catch_warnings():
    # parliament still imports pkg_resources; the warning says nothing about the policies.
    warnings.simplefilter("ignore")
    import parliament

# (issue, action) -> why the finding does not apply.
ACCEPTED: dict[tuple[str, str], str] = {
    **{
        ("RESOURCE_MISMATCH", action): (
            "AWS lists every taggable Athena resource type (capacity reservation, data catalog, workgroup) as "
            "required for its tag actions; a call tags one of them, here the stack's workgroup"
        )
        for action in ("athena:ListTagsForResource", "athena:TagResource", "athena:UntagResource")
    },
    **{
        ("RESOURCE_POLICY_PRIVILEGE_ESCALATION", action): (
            "the deploy role writes the policy and lifecycle of the buckets the stack creates, which is what "
            "deploying them means; it holds no object actions, and the policy pack checks what the policy grants"
        )
        for action in ("s3:PutBucketPolicy", "s3:PutLifecycleConfiguration")
    },
}


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


def unaccepted(document: dict[str, Any] | str) -> list[tuple[str, str, str]]:
    return [finding for finding in findings(document) if finding[:2] not in ACCEPTED]


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
