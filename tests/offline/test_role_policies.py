"""Deploy and preview policies generated from each stack's plan: complete, narrow, valid IAM, and small enough."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from offline import role_policies
from offline.engine import ResourceRecord
from offline.plan import main
from offline.resource_access import ACCESS, INVOKES
from tests.offline import iam_lint


def _policies(run, build):
    return role_policies.split(build(run, run.account_id))


def _statements(parts):
    return [statement for part in parts for statement in part["Statement"]]


def _actions(statement) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_every_planned_resource_type_and_invoke_has_iam_actions(planned, plans):
    for plan in planned:
        if plan.run is None:
            continue  # a stack that does not plan fails its own test
        assert role_policies.missing_types(plan.run) == [], f"{plan.label}: add the types to offline/resource_access.py"
        assert role_policies.missing_invokes(plan.run) == [], f"{plan.label}: add them to offline/resource_access.py"


def test_a_type_without_iam_actions_is_reported_and_no_policy_is_printed(plans, capsys):
    run = plans["dev"]
    vpc = ResourceRecord(
        urn="urn:pulumi:dev::login-monitoring::aws:ec2/vpc:Vpc::network",
        type="aws:ec2/vpc:Vpc",
        name="network",
        parent="",
        custom=True,
        inputs={},
        state={},
        dependencies=(),
    )
    grown = replace(run, resources=[*run.resources, vpc], invokes=[*run.invokes, "aws:ec2/getVpc:getVpc"])
    assert role_policies.missing_types(grown) == ["aws:ec2/vpc:Vpc"]
    assert role_policies.missing_invokes(grown) == ["aws:ec2/getVpc:getVpc"]
    with pytest.raises(role_policies.PolicyGapError, match="aws:ec2/vpc:Vpc, aws:ec2/getVpc:getVpc"):
        role_policies.deploy_policy(grown)


@pytest.mark.parametrize("build", [role_policies.deploy_policy, role_policies.preview_policy])
def test_policies_pass_the_iam_linter(plans, build):
    for stack, run in plans.items():
        for part in _policies(run, build):
            assert iam_lint.unaccepted(part) == [], stack


def test_every_accepted_lint_finding_still_occurs(plans):
    """An allow-list entry that matches nothing any more is removed, not kept as a blanket pass."""
    used = {
        iam_lint.accepted_by("identity", finding)
        for run in plans.values()
        for part in _policies(run, role_policies.deploy_policy)
        for finding in iam_lint.findings(part)
    }
    assert {a for a in iam_lint.ACCEPTED if a.kind == "identity"} <= used


def test_every_part_fits_a_managed_policy_and_the_parts_hold_every_statement(plans):
    for stack, run in plans.items():
        for build in (role_policies.deploy_policy, role_policies.preview_policy):
            whole = build(run, run.account_id)
            parts = role_policies.split(whole)
            assert all(role_policies.policy_size(part) <= role_policies.MANAGED_POLICY_LIMIT for part in parts), stack
            assert _statements(parts) == whole["Statement"]


def test_split_keeps_statements_whole_and_in_order():
    statements = [
        {"Sid": f"S{i}", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "x" * 40} for i in range(6)
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    parts = role_policies.split(document, limit=250)
    assert len(parts) > 1 and all(role_policies.policy_size(part) <= 250 for part in parts)
    assert _statements(parts) == statements


def test_only_actions_aws_authorizes_on_any_resource_get_star(plans):
    for stack, run in plans.items():
        for statement in _statements(_policies(run, role_policies.deploy_policy)):
            if statement["Resource"] == "*" and "Condition" not in statement:
                assert [a for a in _actions(statement) if not iam_lint.star_only(a)] == [], stack


def test_the_preview_policy_reads_and_lists_only(plans):
    for stack, run in plans.items():
        for statement in _statements(_policies(run, role_policies.preview_policy)):
            for action in _actions(statement):
                levels = (
                    {iam_lint.access_level(a) for a in _expand(action)}
                    if "*" in action
                    else {iam_lint.access_level(action)}
                )
                assert levels <= {"Read", "List"}, f"{stack}: {action} is {levels}"


def _expand(pattern: str) -> list[str]:
    import fnmatch

    service = pattern.split(":", 1)[0]
    return [
        f"{service}:{p['privilege']}"
        for p in iam_lint._privileges(service)
        if fnmatch.fnmatch(f"{service}:{p['privilege']}", pattern)
    ]


def test_the_deploy_policy_allows_everything_the_preview_policy_does(plans):
    for stack, run in plans.items():
        deploy = {a for s in _statements(_policies(run, role_policies.deploy_policy)) for a in _actions(s)}
        preview = {a for s in _statements(_policies(run, role_policies.preview_policy)) for a in _actions(s)}
        assert preview <= deploy, stack


def test_arns_name_the_stack_resources(plans):
    statements = {s["Sid"]: s for s in _statements(_policies(plans["dev"], role_policies.deploy_policy))}
    assert (
        statements["Cloudtrail"]["Resource"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/login-monitoring-dev"
    )
    assert statements["Events"]["Resource"] == (
        "arn:aws:events:us-east-1:123456789012:rule/login-monitoring-sign-in-notifier-digests-*"
    )
    assert "events:PutTargets" in statements["Events"]["Action"]
    assert statements["Iam"]["Resource"] == "arn:aws:iam::123456789012:role/login-monitoring-*"
    # Roles are passed only to the service that runs them.
    assert statements["IamIfPassedToServiceLambda"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    assert statements["IamIfPassedToServiceCloudtrail"]["Resource"] == (
        "arn:aws:iam::123456789012:role/login-monitoring-cloudtrail-delivery-role-*"
    )
    for statement in statements.values():
        if statement["Resource"] != "*":
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all(":123456789012:" in arn or ":::login-monitoring-" in arn for arn in resources), statement


def test_each_stack_gets_what_its_own_resources_need(plans):
    def actions(stack):
        return {a for s in _statements(_policies(plans[stack], role_policies.deploy_policy)) for a in _actions(s)}

    hub, member_a, management = actions("hub"), actions("member-a"), actions("management")
    assert "chatbot:CreateSlackChannelConfiguration" in hub and "oam:CreateSink" in hub
    assert "chatbot:CreateMicrosoftTeamsChannelConfiguration" in member_a and "oam:CreateLink" in member_a
    assert {"glue:CreateTable", "athena:CreateWorkGroup", "organizations:EnableAWSServiceAccess"} <= management
    assert "cloudtrail:CreateTrail" not in hub and "glue:CreateTable" not in member_a
    # Linking shares metrics and log groups: each needs its service's own permission.
    assert {"cloudwatch:Link", "logs:Link"} <= member_a


def test_a_log_group_the_stack_is_given_gets_only_its_filters(plans):
    statements = _statements(_policies(plans["member-b"], role_policies.deploy_policy))
    given = next(s for s in statements if s["Sid"] == "LogsGiven")
    assert given["Resource"] == [
        "arn:aws:logs:eu-west-1:444455556666:log-group:aws-cloudtrail-logs-444455556666",
        "arn:aws:logs:eu-west-1:444455556666:log-group:aws-cloudtrail-logs-444455556666:*",
    ]
    assert "logs:DeleteLogGroup" not in given["Action"] and "logs:PutSubscriptionFilter" in given["Action"]


def test_hub_sinks_in_member_regions_are_named_in_their_region(plans):
    statements = {s["Sid"]: s for s in _statements(_policies(plans["hub"], role_policies.deploy_policy))}
    assert statements["Oam"]["Resource"] == [
        "arn:aws:oam:eu-west-1:210987654321:sink/*",
        "arn:aws:oam:us-east-1:210987654321:sink/*",
    ]


@pytest.mark.parametrize("flag", ["--deploy-policy", "--preview-policy"])
def test_the_command_prints_the_same_policy_every_time(capsys, flag):
    assert main(["member-a", flag]) == 0
    first = capsys.readouterr().out
    assert main(["member-a", flag]) == 0
    assert capsys.readouterr().out == first
    parts = json.loads(first)
    assert isinstance(parts, list) and all(part["Version"] == "2012-10-17" for part in parts)
    text = json.dumps(parts)
    assert (
        "arn:aws:chatbot::111122223333:chat-configuration/microsoft-teams-channel/login-monitoring-member-a-teams"
        in (text)
        or flag == "--preview-policy"
    )


def test_a_stack_without_a_pinned_account_names_any_account(capsys):
    assert main(["dev", "--deploy-policy"]) == 0
    captured = capsys.readouterr()
    assert "arn:aws:cloudtrail:us-east-1:*:trail/login-monitoring-dev" in captured.out
    assert "pins no aws:allowedAccountIds" in captured.err


def test_a_split_policy_says_so(capsys):
    assert main(["management", "--deploy-policy"]) == 0
    captured = capsys.readouterr()
    parts = json.loads(captured.out)
    assert len(parts) > 1 and f"{len(parts)} managed policies" in captured.err


def test_policies_are_for_one_stack(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--all", "--deploy-policy"])
    assert exit_.value.code == 2


def test_mapping_entries_name_real_types_and_actions():
    """Every action the mapping names exists in AWS's IAM definitions, planned by an example or not."""
    for type_token, access in ACCESS.items():
        names = access.deploy + access.read + access.any_deploy + access.any_read
        names += tuple(action for extra in access.extras for action in extra.actions)
        for action in names:
            known = _expand(action) if "*" in action else [action] if iam_lint.access_level(action) else []
            assert known, f"{type_token}: {action} is no IAM action"
    for token, actions in INVOKES.items():
        assert all(iam_lint.access_level(action) for action in actions), token
