"""The policy pack against what the real program registers: every example stack passes, every weakening fails."""

from __future__ import annotations

import copy
import importlib
import json
import keyword

import pytest

from offline.engine import run_program
from offline.plan import plan_all
from offline.stack_config import load_stack_config
from policy.rules import RESOURCE_RULES, STACK_RULES, TAGGABLE_TYPES, StackResource, policies

EXAMPLE_STACKS = ["dev", "hub", "member-a", "member-b", "management"]


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


CIS_PROFILE = {"login-monitoring:detectionProfile": "cis", "login-monitoring:detectionOverrides": "[]"}


@pytest.fixture(scope="module")
def cis_stacks(stacks):
    """Every example stack under the cis detection profile; members read the hub plan's outputs as before."""
    examples = {name: stacks[name] for name in EXAMPLE_STACKS}
    hub_outputs = {name: run.outputs for name, run in examples.items() if not monitoring(run)}
    return {
        name: run_program(load_stack_config(name, overrides=CIS_PROFILE, example=True), stack_outputs=hub_outputs)
        if monitoring(run)
        # A hub has no detections: the profile changes nothing there.
        else run
        for name, run in examples.items()
    }


def monitoring(run) -> bool:
    return bool(run.of_type("loginmonitoring:index:LoginMonitoring"))


def detection_alarm_names(run) -> list[str]:
    tagged = [
        r
        for r in run.resources
        if r.type in (METRIC_ALARM, COMPOSITE_ALARM) and "login-monitoring:detection" in (r.inputs.get("tags") or {})
    ]
    return [r.name for r in tagged]


def test_at_least_twelve_rules():
    assert len(RESOURCE_RULES) + len(STACK_RULES) >= 12
    names = [rule.name for rule in (*RESOURCE_RULES, *STACK_RULES)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
@pytest.mark.parametrize("profile", ["recommended", "cis"])
def test_every_example_stack_passes_every_rule(stacks, cis_stacks, stack, profile):
    run = (cis_stacks if profile == "cis" else stacks)[stack]
    assert violations(run.resources) == []


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
    (
        "detection-alarms-reach-a-subscribed-topic",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        # The wiring before the alarm topic: the alarm invoked the mailer function itself.
        set_key(alarmActions=["arn:aws:lambda:us-east-1:123456789012:function:login-monitoring-alarm-mailer"]),
    ),
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
            (rule != "alarm-watches-a-filter-metric" or r.inputs.get("namespace", "").startswith("LoginMonitoring"))
            # An alarm of the monitoring's health, not a detection: those must also reach a subscribed topic.
            and (rule != "alarms-have-actions" or "login-monitoring:detection" not in r.inputs["tags"])
            and (
                rule != "detection-alarms-reach-a-subscribed-topic" or "login-monitoring:detection" in r.inputs["tags"]
            )
            # A permission both of whose conditions the rule asks for: CloudWatch Logs acts for any account.
            and (rule != "invoke-permission-scoped" or r.inputs.get("principal") == "logs.amazonaws.com")
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
    assert [message.split(" notifies ")[0] for name, _, message in silent if name == REACH] == [
        "detection alarm login-monitoring-outlier-alarm"
    ]
    silent = [v for v in silent if v[0] != REACH]
    assert sorted(message.split(" must ")[0] for _, _, message in silent) == [
        "alarm login-monitoring-outlier-band",
        "alarm login-monitoring-outlier-floor",
        "composite alarm login-monitoring-outlier-alarm",
    ]


METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
REACH = "detection-alarms-reach-a-subscribed-topic"


@pytest.mark.parametrize("stack", [s for s in EXAMPLE_STACKS if s != "hub"])
@pytest.mark.parametrize("profile", ["recommended", "cis"])
def test_every_detection_alarm_of_every_example_reaches_a_topic_with_an_active_subscription(
    stacks, cis_stacks, stack, profile
):
    run = (cis_stacks if profile == "cis" else stacks)[stack]
    checked = detection_alarm_names(run)
    # Every catalog detection of the profile, and the outlier composite where the stack has it.
    assert len(checked) > 15 and len(checked) == len(run.outputs["detectionAlarmArns"]) + bool(
        run.outputs.get("outlierAlarmArn")
    )
    assert [v for v in violations(run.resources) if v[0] == REACH] == []
    # One topic for them all, and its one subscriber is the alarm mailer: nobody gets CloudWatch's bare mail.
    (topic,) = {r.inputs["alarmActions"][0] for r in run.resources if r.name in checked}
    mailer = next(r for r in run.resources if r.name == "login-monitoring-alarm-mailer-function")
    delivering = [
        (s.inputs["protocol"], s.inputs["endpoint"]) for s in run.of_type(SUBSCRIPTION) if s.inputs["topic"] == topic
    ]
    assert delivering == [("lambda", mailer.state["arn"])]


def reach_violations(resources) -> list[str]:
    return sorted(message.split(" notifies ")[0] for name, _, message in violations(resources) if name == REACH)


def test_without_the_alarm_topics_subscription_no_detection_alarm_reaches_an_active_subscriber(stacks):
    resources = stacks["dev"].resources
    alarm_topic = next(r for r in resources if r.name == "login-monitoring-alarm-mailer-alarms").state["arn"]
    unsubscribed = [r for r in resources if not (r.type == SUBSCRIPTION and r.inputs["topic"] == alarm_topic)]
    found = violations(unsubscribed)
    # The detections that also notify the health topic do not pass on it: its mail subscriptions wait for a
    # confirmation, which no plan can promise.
    assert reach_violations(unsubscribed) == sorted(
        f"detection alarm {name}" for name in detection_alarm_names(stacks["dev"])
    )
    assert {name for name, _, _ in found} == {REACH}


@pytest.mark.parametrize(
    ("resource_type", "pick", "change"),
    [
        # A mail subscription waits for its recipient to confirm it, and would get CloudWatch's bare mail.
        (
            SUBSCRIPTION,
            lambda r: r.name == "login-monitoring-alarm-mailer-alarms-subscription",
            set_key(protocol="email"),
        ),
        # The topic may not invoke the function: SNS's deliveries fail.
        (
            "aws:lambda/permission:Permission",
            lambda r: r.name == "login-monitoring-alarm-mailer-invoke-from-alarm-topic",
            set_key(sourceArn="arn:aws:sns:us-east-1:123456789012:another-topic"),
        ),
        (
            SUBSCRIPTION,
            lambda r: r.name == "login-monitoring-alarm-mailer-alarms-subscription",
            set_key(endpoint="arn:aws:lambda:us-east-1:123456789012:function:other"),
        ),
    ],
    ids=["mail-subscription", "permission-for-another-topic", "subscribed-function-not-invokable"],
)
def test_a_subscription_that_cannot_deliver_fails_the_stack_rule(stacks, resource_type, pick, change):
    weakened = weaken(stacks["dev"].resources, resource_type, change, pick)
    assert len(reach_violations(weakened)) == len(detection_alarm_names(stacks["dev"]))


def test_the_outlier_composite_pointed_at_the_function_fails_the_stack_rule(stacks):
    mailer = next(r for r in stacks["dev"].resources if r.name == "login-monitoring-alarm-mailer-function")
    weakened = weaken(stacks["dev"].resources, COMPOSITE_ALARM, set_key(alarmActions=[mailer.state["arn"]]))
    assert reach_violations(weakened) == ["detection alarm login-monitoring-outlier-alarm"]


def test_a_detection_alarm_without_actions_fails_both_alarm_rules(stacks):
    pick = lambda r: r.name == "login-monitoring-detections-root-account-usage-alarm"  # noqa: E731
    found = violations(weaken(stacks["dev"].resources, METRIC_ALARM, set_key(alarmActions=[]), pick))
    assert sorted(name for name, _, _ in found) == ["alarms-have-actions", REACH]


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
