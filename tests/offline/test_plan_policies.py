"""Every IAM policy document the example stacks plan (role, trust, key, bucket, topic, queue and sink
policies) linted against AWS's IAM definitions with parliament; accepted findings are explained in iam_lint."""

from __future__ import annotations

import pytest

from offline.plan import plan_all
from tests.offline import iam_lint


@pytest.fixture(scope="module")
def documents():
    """(stack, resource, input, kind, policy text) for every policy input of every example plan."""
    found = []
    for plan in plan_all():
        assert plan.run is not None or not plan.example, plan.error
        for resource in plan.run.resources if plan.run else ():
            for key, value in resource.inputs.items():
                if isinstance(value, str) and '"Statement"' in value:
                    kind = iam_lint.KINDS.get((resource.type, key))
                    found.append((plan.label, resource.name, key, kind, value))
    assert found
    return found


def test_every_policy_input_is_a_known_kind_of_document(documents):
    assert [(stack, name, key) for stack, name, key, kind, _ in documents if kind is None] == []


def test_every_planned_policy_passes_the_iam_linter(documents):
    refused = [
        (stack, name, key, finding)
        for stack, name, key, kind, text in documents
        for finding in iam_lint.unaccepted(text, kind)
    ]
    assert refused == []


def test_each_kind_of_planned_document_is_linted(documents):
    assert {kind for *_, kind, _ in documents} >= {"trust", "identity", "key", "bucket", "topic", "sink"}


def test_every_accepted_finding_still_occurs(documents):
    """An allow-list entry that matches nothing any more is removed, not kept as a blanket pass."""
    used = {iam_lint.accepted_by(kind, finding) for *_, kind, text in documents for finding in iam_lint.findings(text)}
    assert {a for a in iam_lint.ACCEPTED if a.kind != "identity"} <= used


def test_the_linter_finds_what_aws_would_refuse():
    bad = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publsh", '
        '"Resource": "arn:aws:sns:us-east-1:123456789012:topic"}, {"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:sns:us-east-1:123456789012:topic", "Condition": {"StringEquals": '
        '{"sns:Protocol": "email"}}}]}'
    )
    issues = {finding[0] for finding in iam_lint.unaccepted(bad)}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH"} <= issues
