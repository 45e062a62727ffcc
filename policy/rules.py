"""What a security team demands of a login-monitoring stack, as policy rules.

Each rule is a plain function over a resource's properties (or over every resource of the
stack), so the tests run exactly what the pack runs. The pack stands alone: it imports
nothing from the program it guards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SUPPORTED_LAMBDA_RUNTIMES = ("python3.12", "python3.13")
METRIC_NAMESPACE = "LoginMonitoring"
SOURCE_CONDITIONS = ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID")


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    resource_type: str
    check: Callable[[Mapping[str, Any], Mapping[str, Any]], Iterable[str]]


@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    dependencies: tuple[str, ...]


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: Callable[[list[StackResource]], Iterable[str]]


def _statements(policy: Any) -> list[dict]:
    document = json.loads(policy) if isinstance(policy, str) else (policy or {})
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ resource rules


def _trail_multi_region(props, config) -> Iterator[str]:
    for key, label in (
        ("isMultiRegionTrail", "multi-region"),
        ("enableLogFileValidation", "log file validation"),
        ("includeGlobalServiceEvents", "global service events"),
    ):
        if props.get(key) is not True:
            yield f"the trail must have {label} on ({key}: true)"


def _trail_to_logs(props, config) -> Iterator[str]:
    group = props.get("cloudWatchLogsGroupArn") or ""
    if not group.endswith(":*"):
        yield "the trail must deliver to a CloudWatch Logs group (cloudWatchLogsGroupArn ending in ':*')"
    if not props.get("cloudWatchLogsRoleArn"):
        yield "the trail needs a role to deliver to CloudWatch Logs"


def _public_access_blocked(props, config) -> Iterator[str]:
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        if props.get(flag) is not True:
            yield f"{flag} must be true"


def _bucket_encryption(props, config) -> Iterator[str]:
    rules = props.get("rules") or []
    algorithms = [((rule or {}).get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") for rule in rules]
    if not algorithms or any(a not in ("AES256", "aws:kms", "aws:kms:dsse") for a in algorithms):
        yield "default encryption must be AES256 or aws:kms"


def _bucket_tls_only(props, config) -> Iterator[str]:
    for statement in _statements(props.get("policy")):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false":
            return
    yield "the bucket policy must deny requests without TLS (aws:SecureTransport false)"


def _service_principals_scoped(props, config) -> Iterator[str]:
    for statement in _statements(props.get("policy")):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
            continue
        keys = {key for block in (statement.get("Condition") or {}).values() for key in block}
        if not keys.intersection(SOURCE_CONDITIONS):
            yield (
                f"statement {statement.get('Sid', '?')} admits {principal['Service']} without "
                f"{' / '.join(SOURCE_CONDITIONS)}"
            )


def _log_retention(props, config) -> Iterator[str]:
    days = props.get("retentionInDays")
    if not isinstance(days, (int, float)) or days <= 0:
        yield "the log group must have a retention period (retentionInDays)"


def _topic_encrypted(props, config) -> Iterator[str]:
    if config.get("requireTopicEncryption", True) and not props.get("kmsMasterKeyId"):
        yield "the topic must be encrypted with a KMS key (kmsMasterKeyId)"


def _lambda_runtime(props, config) -> Iterator[str]:
    if props.get("runtime") not in SUPPORTED_LAMBDA_RUNTIMES:
        yield f"runtime {props.get('runtime')!r} is not one of {', '.join(SUPPORTED_LAMBDA_RUNTIMES)}"


def _no_wildcard_resources(props, config) -> Iterator[str]:
    for statement in _statements(props.get("policy")):
        if statement.get("Effect") == "Allow" and "*" in _as_list(statement.get("Resource")):
            yield f"statement {statement.get('Sid', '?')} allows {statement.get('Action')} on every resource ('*')"


SOURCED_INVOKERS = (
    "logs.amazonaws.com",
    "sns.amazonaws.com",
    "events.amazonaws.com",
    "lambda.alarms.cloudwatch.amazonaws.com",
)
# Services that act for any account: without sourceAccount another account's resource could invoke.
ACCOUNT_SCOPED_INVOKERS = ("logs.amazonaws.com", "lambda.alarms.cloudwatch.amazonaws.com")


def _invoke_permission_scoped(props, config) -> Iterator[str]:
    principal = props.get("principal")
    if principal in SOURCED_INVOKERS and not props.get("sourceArn"):
        yield f"{principal} may invoke the function only from a named source (sourceArn)"
    if principal in ACCOUNT_SCOPED_INVOKERS and not props.get("sourceAccount"):
        yield f"{principal} may invoke the function only from this account (sourceAccount)"


def _table_ttl_pitr(props, config) -> Iterator[str]:
    if ((props.get("ttl") or {}).get("enabled")) is not True:
        yield "the table must expire items (ttl.enabled)"
    if ((props.get("pointInTimeRecovery") or {}).get("enabled")) is not True:
        yield "the table must have point-in-time recovery on"


def _key_rotation(props, config) -> Iterator[str]:
    if props.get("enableKeyRotation") is not True:
        yield "the KMS key must rotate (enableKeyRotation)"


def _queue_encrypted(props, config) -> Iterator[str]:
    if props.get("sqsManagedSseEnabled") is not True and not props.get("kmsMasterKeyId"):
        yield "the queue must be encrypted (sqsManagedSseEnabled or kmsMasterKeyId)"


RESOURCE_RULES = (
    ResourceRule(
        "trail-multi-region-validated",
        "Trails record every Region, global services, and validate log files.",
        "aws:cloudtrail/trail:Trail",
        _trail_multi_region,
    ),
    ResourceRule(
        "trail-delivers-to-cloudwatch-logs",
        "Trails deliver to CloudWatch Logs, which the alarms watch.",
        "aws:cloudtrail/trail:Trail",
        _trail_to_logs,
    ),
    ResourceRule(
        "bucket-public-access-blocked",
        "Buckets block every kind of public access.",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        _public_access_blocked,
    ),
    ResourceRule(
        "bucket-encrypted",
        "Buckets encrypt by default.",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        _bucket_encryption,
    ),
    ResourceRule(
        "bucket-tls-only",
        "Bucket policies refuse requests without TLS.",
        "aws:s3/bucketPolicy:BucketPolicy",
        _bucket_tls_only,
    ),
    ResourceRule(
        "bucket-service-principals-scoped",
        "Services are admitted to buckets only for named sources.",
        "aws:s3/bucketPolicy:BucketPolicy",
        _service_principals_scoped,
    ),
    ResourceRule(
        "topic-service-principals-scoped",
        "Services publish to topics only for named sources.",
        "aws:sns/topicPolicy:TopicPolicy",
        _service_principals_scoped,
    ),
    ResourceRule(
        "log-retention-set",
        "Log groups keep logs for a set number of days.",
        "aws:cloudwatch/logGroup:LogGroup",
        _log_retention,
    ),
    ResourceRule(
        "topic-encrypted",
        "Alert topics are encrypted (policy config requireTopicEncryption).",
        "aws:sns/topic:Topic",
        _topic_encrypted,
    ),
    ResourceRule(
        "lambda-runtime-supported",
        "Functions run a supported Python runtime.",
        "aws:lambda/function:Function",
        _lambda_runtime,
    ),
    ResourceRule(
        "iam-no-wildcard-resource",
        "Role policies name the resources they grant.",
        "aws:iam/rolePolicy:RolePolicy",
        _no_wildcard_resources,
    ),
    ResourceRule(
        "invoke-permission-scoped",
        "Services invoke functions only from named sources.",
        "aws:lambda/permission:Permission",
        _invoke_permission_scoped,
    ),
    ResourceRule(
        "dynamodb-ttl-and-pitr",
        "History tables expire items and can be recovered.",
        "aws:dynamodb/table:Table",
        _table_ttl_pitr,
    ),
    ResourceRule("kms-key-rotation", "KMS keys rotate.", "aws:kms/key:Key", _key_rotation),
    ResourceRule("sqs-encrypted", "Queues are encrypted.", "aws:sqs/queue:Queue", _queue_encrypted),
)


# ------------------------------------------------------------------ stack rules


def _alarm_watches_filter_metric(resources: list[StackResource]) -> Iterator[str]:
    published = {
        (
            (r.props.get("metricTransformation") or {}).get("namespace"),
            (r.props.get("metricTransformation") or {}).get("name"),
        )
        for r in resources
        if r.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter"
    }
    for alarm in resources:
        if alarm.type != _METRIC_ALARM:
            continue
        # The metric itself, or the metrics of its queries (an anomaly detection band alarm).
        watched = [alarm.props] + [query.get("metric") or {} for query in alarm.props.get("metricQueries") or ()]
        for metric in watched:
            if not _own_namespace(metric.get("namespace")):
                continue
            if (metric.get("namespace"), metric.get("metricName")) not in published:
                yield f"alarm {alarm.name} watches {metric.get('metricName')!r}, which no metric filter publishes"


_METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
_COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"


def _notifies(alarm: StackResource) -> bool:
    return bool(alarm.props.get("alarmActions")) and alarm.props.get("actionsEnabled") is not False


def _alarms_notify(resources: list[StackResource]) -> Iterator[str]:
    # A metric alarm without actions of its own is fine as part of a composite alarm that notifies.
    composed = {
        name
        for composite in resources
        if composite.type == _COMPOSITE_ALARM and _notifies(composite)
        for name in re.findall(r'ALARM\("([^"]+)"\)', str(composite.props.get("alarmRule") or ""))
    }
    for alarm in resources:
        if alarm.type == _COMPOSITE_ALARM and not _notifies(alarm):
            yield f"composite alarm {alarm.name} must notify someone (alarmActions, actions enabled)"
        if alarm.type == _METRIC_ALARM and not _notifies(alarm) and alarm.props.get("name") not in composed:
            yield (
                f"alarm {alarm.name} must notify someone (alarmActions, actions enabled) or be part of a "
                "composite alarm that does"
            )


_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
_PERMISSION = "aws:lambda/permission:Permission"
# Subscriptions that are confirmed when they are created; a mail or HTTPS one waits until someone confirms it.
CONFIRMED_ON_CREATION = ("lambda", "sqs", "firehose")


def _detection_alarms_reach_a_subscribed_topic(resources: list[StackResource]) -> Iterator[str]:
    # Security Hub's CIS checks (CloudWatch.1-14) read each alarm's actions for an SNS topic and list that
    # topic's subscriptions: a Lambda action alone, or a topic whose only subscribers never confirmed, fails.
    subscriptions = [r.props for r in resources if r.type == _SUBSCRIPTION]
    invokable = {
        (_function_name(p.props.get("function")), p.props.get("sourceArn"))
        for p in resources
        if p.type == _PERMISSION and p.props.get("principal") == "sns.amazonaws.com"
    }
    for alarm in resources:
        if alarm.type not in (_METRIC_ALARM, _COMPOSITE_ALARM) or not (alarm.props.get("tags") or {}).get(
            DETECTION_TAG
        ):
            continue
        topics = [action for action in alarm.props.get("alarmActions") or () if _is_topic(action)]
        if alarm.props.get("actionsEnabled") is False or not topics:
            yield f"detection alarm {alarm.name} notifies no SNS topic (alarmActions, actions enabled)"
        elif not any(_delivered(topic, subscriptions, invokable) for topic in topics):
            yield (
                f"detection alarm {alarm.name} notifies no topic with an active subscription: one of "
                f"{', '.join(CONFIRMED_ON_CREATION)}, and for a function, one the topic may invoke"
            )


def _delivered(topic: str, subscriptions: list[Mapping[str, Any]], invokable: set[tuple[str, Any]]) -> bool:
    for subscription in subscriptions:
        protocol = subscription.get("protocol")
        if subscription.get("topic") != topic or protocol not in CONFIRMED_ON_CREATION:
            continue
        if protocol != "lambda" or (_function_name(subscription.get("endpoint")), topic) in invokable:
            return True
    return False


def _is_topic(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"]


def _function_name(function: Any) -> str:
    """A function named by name or by ARN (arn:aws:lambda:region:account:function:name[:qualifier])."""
    if not isinstance(function, str):
        return ""
    parts = function.split(":")
    return parts[6] if function.startswith("arn:") and len(parts) > 6 else function


def _own_namespace(namespace: Any) -> bool:
    return isinstance(namespace, str) and (
        namespace == METRIC_NAMESPACE or namespace.startswith(METRIC_NAMESPACE + "/")
    )


def _function_failures_kept(resources: list[StackResource]) -> Iterator[str]:
    # Lambda drops an asynchronous event after its retries unless an on-failure destination keeps it.
    for function in (r for r in resources if r.type == "aws:lambda/function:Function"):
        kept = any(
            r.type == "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
            and function.urn in r.dependencies
            and ((r.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
            for r in resources
        )
        if not kept:
            yield f"function {function.name} has no on-failure destination: events that fail every retry are lost"


def _every_bucket_secured(resources: list[StackResource]) -> Iterator[str]:
    needed = {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "default encryption",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "a public access block",
        "aws:s3/bucketPolicy:BucketPolicy": "a bucket policy",
    }
    for bucket in (r for r in resources if r.type == "aws:s3/bucket:Bucket"):
        attached = {r.type for r in resources if bucket.urn in r.dependencies}
        for resource_type, label in needed.items():
            if resource_type not in attached:
                yield f"bucket {bucket.name} has no {label}"


# The resource types this program creates that take tags, and the tags each must carry.
TAGGABLE_TYPES = (
    "aws:athena/workgroup:Workgroup",
    "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
    "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration",
    "aws:cloudtrail/trail:Trail",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm",
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:dynamodb/table:Table",
    "aws:glue/catalogDatabase:CatalogDatabase",
    "aws:iam/role:Role",
    "aws:kms/key:Key",
    "aws:lambda/function:Function",
    "aws:oam/link:Link",
    "aws:oam/sink:Sink",
    "aws:s3/bucket:Bucket",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
)
REQUIRED_TAGS = ("login-monitoring:project", "login-monitoring:stack", "login-monitoring:component")
DETECTION_TAG = "login-monitoring:detection"


def _every_resource_tagged(resources: list[StackResource]) -> Iterator[str]:
    for resource in (r for r in resources if r.type in TAGGABLE_TYPES):
        tags = resource.props.get("tags") or {}
        missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
        # An alarm of the detection catalog says which detection it is.
        if tags.get("login-monitoring:component") == "DetectionAlarms" and not tags.get(DETECTION_TAG):
            missing.append(DETECTION_TAG)
        if missing:
            yield f"{resource.type.rsplit(':', 1)[-1]} {resource.name} lacks the tag(s) {', '.join(missing)}"


def _admits(policy: Any, service: Any, action: str, condition_keys: tuple[str, ...]) -> bool:
    """Some Allow statement grants `action` to a service principal matching `service` under every condition key."""
    for statement in _statements(policy):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        actions = _as_list(statement.get("Action"))
        keys = {key for block in (statement.get("Condition") or {}).values() for key in block}
        if (
            statement.get("Effect") == "Allow"
            and any(service(name) for name in services)
            and any(
                granted == action or (granted.endswith("*") and action.startswith(granted[:-1])) for granted in actions
            )
            and set(condition_keys) <= keys
        ):
            return True
    return False


def _encrypted_with_usable_keys(resources: list[StackResource]) -> Iterator[str]:
    # CreateTrail and CreateLogGroup refuse a key whose policy does not admit the service; a key that
    # admits it without conditions could be used for any trail or log group. Keys from outside the stack
    # are not judged.
    keys = {r.urn: r for r in resources if r.type == "aws:kms/key:Key"}
    needs = {
        "aws:cloudtrail/trail:Trail": (
            lambda name: name == "cloudtrail.amazonaws.com",
            "kms:GenerateDataKey",
            ("aws:SourceArn", "kms:EncryptionContext:aws:cloudtrail:arn"),
        ),
        "aws:cloudwatch/logGroup:LogGroup": (
            lambda name: isinstance(name, str) and name.startswith("logs.") and name.endswith(".amazonaws.com"),
            "kms:GenerateDataKey",
            ("kms:EncryptionContext:aws:logs:arn",),
        ),
    }
    for resource in resources:
        if resource.type not in needs or not resource.props.get("kmsKeyId"):
            continue
        service, action, conditions = needs[resource.type]
        for key in (keys[urn] for urn in resource.dependencies if urn in keys):
            if not _admits(key.props.get("policy"), service, action, conditions):
                yield (
                    f"{resource.name} is encrypted with key {key.name}, whose policy does not grant {action} to "
                    f"the service under {' and '.join(conditions)}"
                )


STACK_RULES = (
    StackRule(
        "alarms-have-actions",
        "Alarms notify someone, directly or through a composite alarm that does.",
        _alarms_notify,
    ),
    StackRule(
        "detection-alarms-reach-a-subscribed-topic",
        "Every detection alarm notifies an SNS topic with an active subscription, as Security Hub's CIS checks want.",
        _detection_alarms_reach_a_subscribed_topic,
    ),
    StackRule(
        "alarm-watches-a-filter-metric",
        "Every detection alarm watches a metric some filter publishes.",
        _alarm_watches_filter_metric,
    ),
    StackRule(
        "function-failures-kept",
        "Every function keeps the events that failed every retry in an on-failure destination.",
        _function_failures_kept,
    ),
    StackRule(
        "every-resource-tagged",
        "Every taggable resource carries the project, stack and component tags; detection alarms their detection.",
        _every_resource_tagged,
    ),
    StackRule(
        "encryption-keys-admit-their-service",
        "Keys of encrypted trails and log groups admit CloudTrail or CloudWatch Logs, for this trail or group only.",
        _encrypted_with_usable_keys,
    ),
    StackRule(
        "every-bucket-secured",
        "Every bucket has encryption, a public access block and a policy.",
        _every_bucket_secured,
    ),
)


def policies() -> list:
    """The rules as Pulumi policies (imported lazily: the tests run the rules without the SDK's server)."""
    from pulumi_policy import (
        PolicyConfigSchema,
        ResourceValidationPolicy,
        StackValidationPolicy,
    )

    def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
        def validate(args, report_violation) -> None:
            if args.resource_type == rule.resource_type:
                for message in rule.check(args.props, args.get_config()):
                    report_violation(message)

        schema = None
        if rule.name == "topic-encrypted":
            schema = PolicyConfigSchema(properties={"requireTopicEncryption": {"type": "boolean", "default": True}})
        return ResourceValidationPolicy(
            name=rule.name, description=rule.description, validate=validate, config_schema=schema
        )

    def stack_policy(rule: StackRule) -> StackValidationPolicy:
        def validate(args, report_violation) -> None:
            resources = [
                StackResource(r.resource_type, r.name, r.urn, r.props, tuple(d.urn for d in r.dependencies))
                for r in args.resources
            ]
            for message in rule.check(resources):
                report_violation(message)

        return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate)

    return [*(resource_policy(rule) for rule in RESOURCE_RULES), *(stack_policy(rule) for rule in STACK_RULES)]
