"""The policy pack against what the real program registers: every example stack passes, every weakening fails."""

from __future__ import annotations

import copy
import importlib
import json
import keyword

import pytest

from offline.plan import plan_all
from policy.rules import RESOURCE_RULES, STACK_RULES, TAGGABLE_TYPES, StackResource, policies


def violations(resources, config=None) -> list[tuple[str, str, str]]:
    found = []
    for record in resources:
        for rule in RESOURCE_RULES:
            if record.type == rule.resource_type:
                found += [(rule.name, record.name, message) for message in rule.check(record.inputs, config or {})]
    stack = [StackResource(r.type, r.name, r.urn, r.inputs, r.dependencies) for r in resources]
    for rule in STACK_RULES:
        found += [(rule.name, "(stack)", message) for message in rule.check(stack)]
    return found


@pytest.fixture(scope="module")
def stacks():
    plans = plan_all()
    assert not [p.error for p in plans if p.error]
    return {plan.stack: plan.run for plan in plans}


def test_at_least_twelve_rules():
    assert len(RESOURCE_RULES) + len(STACK_RULES) >= 12
    names = [rule.name for rule in (*RESOURCE_RULES, *STACK_RULES)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("stack", ["dev", "hub", "member-a", "member-b", "management"])
def test_every_example_stack_passes_every_rule(stacks, stack):
    assert violations(stacks[stack].resources) == []


def weaken(resources, resource_type, change, pick=lambda r: True):
    """A copy of the stack with the first matching resource's inputs changed."""
    weakened = copy.deepcopy(resources)
    target = next(r for r in weakened if r.type == resource_type and pick(r))
    change(target.inputs)
    return weakened


def set_key(**values):
    return lambda props: props.update(values)


def drop(key):
    return lambda props: props.pop(key, None)


def edit_policy(edit):
    def change(props):
        document = json.loads(props["policy"])
        edit(document["Statement"])
        props["policy"] = json.dumps(document)

    return change


def drop_statement(sid):
    return edit_policy(lambda statements: statements.remove(next(s for s in statements if s.get("Sid") == sid)))


def drop_conditions(statements):
    for statement in statements:
        if statement["Effect"] == "Allow" and "Service" in (statement.get("Principal") or {}):
            statement.pop("Condition", None)


WEAKENINGS = [
    ("trail-multi-region-validated", "aws:cloudtrail/trail:Trail", set_key(isMultiRegionTrail=False)),
    ("trail-multi-region-validated", "aws:cloudtrail/trail:Trail", set_key(enableLogFileValidation=False)),
    ("trail-delivers-to-cloudwatch-logs", "aws:cloudtrail/trail:Trail", drop("cloudWatchLogsGroupArn")),
    (
        "bucket-public-access-blocked",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        set_key(restrictPublicBuckets=False),
    ),
    (
        "bucket-encrypted",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        set_key(rules=[]),
    ),
    ("bucket-tls-only", "aws:s3/bucketPolicy:BucketPolicy", drop_statement("DenyInsecureTransport")),
    ("bucket-service-principals-scoped", "aws:s3/bucketPolicy:BucketPolicy", edit_policy(drop_conditions)),
    ("topic-service-principals-scoped", "aws:sns/topicPolicy:TopicPolicy", edit_policy(drop_conditions)),
    ("log-retention-set", "aws:cloudwatch/logGroup:LogGroup", drop("retentionInDays")),
    ("alarms-have-actions", "aws:cloudwatch/metricAlarm:MetricAlarm", set_key(alarmActions=[])),
    ("alarms-have-actions", "aws:cloudwatch/metricAlarm:MetricAlarm", set_key(actionsEnabled=False)),
    ("topic-encrypted", "aws:sns/topic:Topic", drop("kmsMasterKeyId")),
    ("lambda-runtime-supported", "aws:lambda/function:Function", set_key(runtime="python3.8")),
    (
        "iam-no-wildcard-resource",
        "aws:iam/rolePolicy:RolePolicy",
        edit_policy(lambda statements: statements[0].update(Resource="*")),
    ),
    ("invoke-permission-scoped", "aws:lambda/permission:Permission", drop("sourceArn")),
    ("invoke-permission-scoped", "aws:lambda/permission:Permission", drop("sourceAccount")),
    ("dynamodb-ttl-and-pitr", "aws:dynamodb/table:Table", set_key(pointInTimeRecovery={"enabled": False})),
    ("dynamodb-ttl-and-pitr", "aws:dynamodb/table:Table", drop("ttl")),
    ("kms-key-rotation", "aws:kms/key:Key", set_key(enableKeyRotation=False)),
    ("sqs-encrypted", "aws:sqs/queue:Queue", set_key(sqsManagedSseEnabled=False)),
    (
        "alarm-watches-a-filter-metric",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        set_key(metricName="Typo"),
    ),
]


@pytest.mark.parametrize(
    ("rule", "resource_type", "change"), WEAKENINGS, ids=[f"{w[0]}-{i}" for i, w in enumerate(WEAKENINGS)]
)
def test_each_weakened_variant_fails_on_its_rule(stacks, rule, resource_type, change):
    weakened = weaken(
        stacks["dev"].resources,
        resource_type,
        change,
        pick=lambda r: (
            rule != "alarm-watches-a-filter-metric" or r.inputs.get("namespace", "").startswith("LoginMonitoring")
        ),
    )
    found = violations(weakened)
    assert found and {name for name, _, _ in found} == {rule}, found


def test_an_alarm_without_actions_passes_only_as_part_of_a_composite_that_notifies(stacks):
    assert not violations(stacks["dev"].resources)
    composite = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
    only_band = weaken(
        stacks["dev"].resources,
        composite,
        lambda props: props.update(alarmRule=props["alarmRule"].split(" AND ")[0]),
    )
    found = violations(only_band)
    assert [(name, message.split(" must ")[0]) for name, _, message in found] == [
        ("alarms-have-actions", "alarm login-monitoring-outlier-floor")
    ]
    silent = violations(weaken(stacks["dev"].resources, composite, set_key(alarmActions=[])))
    assert sorted(message.split(" must ")[0] for _, _, message in silent) == [
        "alarm login-monitoring-outlier-band",
        "alarm login-monitoring-outlier-floor",
        "composite alarm login-monitoring-outlier-alarm",
    ]


def test_a_band_alarm_on_a_metric_no_filter_publishes_fails_the_stack_rule(stacks):
    def typo(props):
        props["metricQueries"][0]["metric"]["metricName"] = "ConsoleSignInFailure"

    pick = lambda r: r.name == "login-monitoring-outlier-band"  # noqa: E731
    found = violations(weaken(stacks["dev"].resources, "aws:cloudwatch/metricAlarm:MetricAlarm", typo, pick))
    assert [name for name, _, _ in found] == ["alarm-watches-a-filter-metric"]


def test_a_bucket_without_its_guards_fails_the_stack_rule(stacks):
    weakened = [
        r for r in stacks["dev"].resources if r.type != "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    ]
    found = violations(weakened)
    assert [(name, message.split(" has ")[1]) for name, _, message in found] == [
        ("every-bucket-secured", "no a public access block")
    ]


@pytest.mark.parametrize("stack", ["dev", "member-b"])
def test_a_function_without_an_on_failure_destination_fails_the_stack_rule(stacks, stack):
    kept = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
    invoke_configs = [r for r in stacks[stack].resources if r.type == kept]
    assert invoke_configs
    for dropped in invoke_configs:
        weakened = [r for r in stacks[stack].resources if r is not dropped]
        found = violations(weakened)
        assert [name for name, _, _ in found] == ["function-failures-kept"], found


@pytest.mark.parametrize(
    ("resource_type", "pick", "change", "missing"),
    [
        ("aws:sns/topic:Topic", lambda r: True, drop("tags"), "login-monitoring:project"),
        ("aws:s3/bucket:Bucket", lambda r: True, lambda p: p["tags"].pop("login-monitoring:component"), "component"),
        (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            lambda r: "root-account-usage" in r.name,
            lambda p: p["tags"].pop("login-monitoring:detection"),
            "login-monitoring:detection",
        ),
    ],
)
def test_an_untagged_resource_fails_the_stack_rule(stacks, resource_type, pick, change, missing):
    found = violations(weaken(stacks["dev"].resources, resource_type, change, pick))
    assert [name for name, _, _ in found] == ["every-resource-tagged"]
    assert missing in found[0][2]


def test_the_taggable_types_are_every_type_the_program_creates_that_takes_tags(stacks):
    created = {r.type for run in stacks.values() for r in run.resources if r.type.startswith("aws:")}
    assert {t for t in created if accepts_tags(t)} == set(TAGGABLE_TYPES)


def accepts_tags(type_token: str) -> bool:
    """From the provider SDK itself: does the resource's argument class have a `tags` input?"""
    _, module_path, name = type_token.split(":")
    module = module_path.split("/")[0]
    module = f"{module}_" if keyword.iskeyword(module) else module
    return hasattr(getattr(importlib.import_module(f"pulumi_aws.{module}"), f"{name}Args"), "tags")


def test_topic_encryption_can_be_waived_by_policy_config(stacks):
    run = stacks["dev"]
    weakened = weaken(run.resources, "aws:sns/topic:Topic", drop("kmsMasterKeyId"))
    assert violations(weakened, {"requireTopicEncryption": False}) == []


def test_the_pack_wraps_every_rule():
    from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy

    built = policies()
    assert [p.name for p in built] == [r.name for r in (*RESOURCE_RULES, *STACK_RULES)]
    assert all(isinstance(p, (ResourceValidationPolicy, StackValidationPolicy)) for p in built)
    trail_rule = next(p for p in built if p.name == "trail-multi-region-validated")
    reported = []
    args = ResourceValidationArgs(
        "aws:cloudtrail/trail:Trail", {"isMultiRegionTrail": False}, "urn", "trail", None, None, {}
    )
    trail_rule._ResourceValidationPolicy__validate(args, reported.append)
    assert "the trail must have multi-region on (isMultiRegionTrail: true)" in reported


@pytest.mark.parametrize(
    ("sid", "encrypted"),
    [
        ("CloudTrailEncryptsLogFiles", "login-monitoring-cloudtrail-trail"),
        ("CloudWatchLogsEncryptsTheTrailLogGroup", "login-monitoring-cloudtrail-log-group"),
    ],
)
def test_a_trail_or_log_group_key_that_does_not_admit_its_service_fails_the_stack_rule(stacks, sid, encrypted):
    resources = stacks["management"].resources
    trail_key = "login-monitoring-cloudtrail-key"
    assert violations(resources) == []
    for weakening in (drop_statement(sid), edit_policy(lambda statements: _drop_condition_from(statements, sid))):
        weakened = weaken(resources, "aws:kms/key:Key", weakening, pick=lambda r: r.name == trail_key)
        found = violations(weakened)
        assert [(name, message.split(" is encrypted")[0]) for name, _, message in found] == [
            ("encryption-keys-admit-their-service", encrypted)
        ], found


def _drop_condition_from(statements, sid):
    statement = next(s for s in statements if s.get("Sid") == sid)
    # Keep the statement, lose what limits it to this trail or group.
    statement["Condition"] = {
        operator: {key: value for key, value in block.items() if "EncryptionContext" not in key}
        for operator, block in statement["Condition"].items()
    }
