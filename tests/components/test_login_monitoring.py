"""The whole program, as `pulumi up` would register it, for the example stack."""

from __future__ import annotations

import fnmatch

import pytest

from components.detection_alarms import GUARDS_THE_MONITORING
from components.settings import SettingsError
from detections.catalog import BY_ID
from handlers.signin_events import subscription_filter_pattern
from offline.engine import run_program
from offline.stack_config import load_stack_config
from tests.components.program import (
    alarm_topic,
    alert_topic,
    as_list,
    health_topic,
    named,
    run_stack,
    statement,
    statements,
)

TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
TOPIC = "aws:sns/topic:Topic"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def alarm_named(run, fragment):
    return next(r for r in run.of_type(ALARM) if fragment in r.name)


def test_every_child_hangs_under_the_login_monitoring_component(dev):
    root = dev.one("loginmonitoring:index:LoginMonitoring")
    by_urn = {r.urn: r for r in dev.resources}
    for resource in dev.resources:
        if resource is root:
            continue
        ancestor = resource
        while ancestor.parent in by_urn and ancestor.parent != root.urn:
            ancestor = by_urn[ancestor.parent]
        assert ancestor.parent == root.urn, f"{resource.name} is not under the component"


FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"


def detection_pairs(run):
    """detection id -> (metric filter, alarm)"""
    filters = {
        r.name.removeprefix("login-monitoring-detections-").removesuffix("-filter"): r
        for r in run.of_type(FILTER)
        if r.name.startswith("login-monitoring-detections-")
    }
    alarms = {
        r.name.removeprefix("login-monitoring-detections-").removesuffix("-alarm"): r
        for r in run.of_type(ALARM)
        if r.name.startswith("login-monitoring-detections-")
    }
    assert set(filters) == set(alarms)
    return {key: (filters[key], alarms[key]) for key in filters}


def test_failed_sign_in_alarm_watches_exactly_the_filters_metric(dev):
    metric_filter, alarm = detection_pairs(dev)["failed-console-sign-ins"]
    transformation = metric_filter.inputs["metricTransformation"]
    assert metric_filter.inputs["pattern"] == BY_ID["failed-console-sign-ins"].patterns["recommended"]
    assert metric_filter.inputs["logGroupName"] == dev.outputs["logGroupName"]
    assert (alarm.inputs["metricName"], alarm.inputs["namespace"]) == (
        transformation["name"],
        transformation["namespace"],
    )
    assert transformation["name"] and transformation["namespace"] == "LoginMonitoring/dev"
    assert alarm.inputs["statistic"] == "Sum"
    assert alarm.inputs["threshold"] == 5
    assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.inputs["period"] * alarm.inputs["evaluationPeriods"] == 900
    assert alarm.inputs["treatMissingData"] == "notBreaching"
    assert alarm.inputs["alarmActions"] == [alarm_topic(dev).state["arn"]] and alarm.inputs["okActions"] == []


def test_alarms_keep_cloudwatchs_sliding_window_unless_a_wall_clock_window_is_configured(dev):
    assert all("evaluationWindow" not in alarm.inputs for _, alarm in detection_pairs(dev).values())
    run = run_stack(detectionOverrides=["root-account-usage.evaluationWindow=wallClock"])
    windows = {key: alarm.inputs.get("evaluationWindow") for key, (_, alarm) in detection_pairs(run).items()}
    assert windows.pop("root-account-usage") == {"wallClockWindow": {"timezone": "UTC"}}
    assert set(windows.values()) == {None}


def test_alarm_threshold_and_window_follow_config():
    run = run_stack(failedSignInThreshold=3, failedSignInWindowSeconds=600)
    _, alarm = detection_pairs(run)["failed-console-sign-ins"]
    assert alarm.inputs["threshold"] == 3 and alarm.inputs["period"] == 600


def test_every_alarm_watches_its_own_filters_metric_and_notifies_the_alarm_mailers_topic(dev):
    mailer_topic_arn = alarm_topic(dev).state["arn"]
    pairs = detection_pairs(dev)
    assert len(pairs) == len(dev.outputs["detectionAlarmArns"]) > 15
    for detection_id, (metric_filter, alarm) in pairs.items():
        transformation = metric_filter.inputs["metricTransformation"]
        assert (alarm.inputs["metricName"], alarm.inputs["namespace"]) == (
            transformation["name"],
            transformation["namespace"],
        ), detection_id
        assert transformation["namespace"] == "LoginMonitoring/dev"
        assert metric_filter.inputs["logGroupName"] == dev.outputs["logGroupName"]
        # The detections about the monitoring's own trail and keys also mail the health topic, whose key
        # is not the one they may be reporting on.
        guard = [health_topic(dev).state["arn"]] if detection_id in GUARDS_THE_MONITORING else []
        assert alarm.inputs["alarmActions"] == [mailer_topic_arn, *guard] and alarm.inputs["okActions"] == []
        assert alarm.inputs["treatMissingData"] == "notBreaching"
        assert alarm.inputs["name"] == f"login-monitoring-dev-{detection_id}"
    names = [t["name"] for t in (f.inputs["metricTransformation"] for f, _ in pairs.values())]
    assert len(names) == len(set(names))


def test_two_stacks_in_one_account_and_region_never_count_each_others_events():
    # Same account and Region, different stacks (say, one per trail): each alarm must watch its own metric.
    namespaces = []
    for stack in ("dev", "member-a"):
        run = run_program(
            load_stack_config(stack, example=True),
            account_id="123456789012",
            region="us-east-1",
            stack_outputs={"hub": run_stack("hub").outputs},
        )
        # Metric-math alarms (Contributor Insights) have no namespace of their own.
        watched = {a.inputs.get("namespace") for a in run.of_type(ALARM)} - {None}
        own = {namespace for namespace in watched if not namespace.startswith("AWS/")}
        namespaces.append(own)
    assert namespaces[0] == {"LoginMonitoring/dev"} and namespaces[1] == {"LoginMonitoring/member-a"}


def test_only_the_dashboards_metrics_publish_a_default_zero(dev):
    from components.detection_alarms import ALWAYS_PUBLISHED

    defaults = {
        key: f.inputs["metricTransformation"].get("defaultValue") for key, (f, _) in detection_pairs(dev).items()
    }
    assert {key for key, value in defaults.items() if value is not None} == set(ALWAYS_PUBLISHED)
    assert {defaults[key] for key in ALWAYS_PUBLISHED} == {"0"}


def test_deployed_filters_are_the_stacks_profile_with_its_overrides(dev):
    pairs = detection_pairs(dev)
    assert "vpc-changes" not in pairs  # disabled in Pulumi.dev.yaml
    assert "console-authentication-failures" not in pairs  # not in the recommended profile
    unauthorized, _ = pairs["unauthorized-api-calls"]
    assert unauthorized.inputs["pattern"].endswith('&& ($.eventName != "GetBucketLocation") }')
    privileged, _ = pairs["privileged-group-changes"]
    assert '($.requestParameters.groupName = "BreakGlass")' in privileged.inputs["pattern"]


def test_cis_profile_deploys_security_hub_patterns_unchanged():
    run = run_stack(detectionProfile="cis", detectionOverrides=[])
    pairs = detection_pairs(run)
    for detection_id, (metric_filter, _) in pairs.items():
        assert metric_filter.inputs["pattern"] == BY_ID[detection_id].patterns["cis"]
    assert "root-console-sign-in" not in pairs and "console-authentication-failures" in pairs
    assert pairs["failed-console-sign-ins"][1].inputs["threshold"] == 5


def test_trail_is_multi_region_validated_and_delivers_to_the_log_group_with_stream_suffix(dev):
    trail = dev.one("aws:cloudtrail/trail:Trail")
    log_group = next(r for r in dev.of_type("aws:cloudwatch/logGroup:LogGroup") if "cloudtrail" in r.name)
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["cloudWatchLogsGroupArn"] == log_group.state["arn"] + ":*"
    assert trail.inputs["cloudWatchLogsRoleArn"] == dev.by_urn(_urn(dev, "cloudtrail-delivery-role")).state["arn"]
    assert trail.inputs["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": "WriteOnly"}]
    assert "advancedEventSelectors" not in trail.inputs
    assert log_group.inputs["retentionInDays"] == 365


@pytest.mark.parametrize(
    ("overrides", "recorded"),
    [
        # The example stack sets write; a stack that leaves trailEvents empty gets its profile's default.
        ({"trailEvents": "", "detectionProfile": "recommended"}, "WriteOnly"),
        # Security Hub CloudWatch.1-14 look for ReadWriteType All: the cis profile records reads too.
        ({"trailEvents": "", "detectionProfile": "cis", "detectionOverrides": []}, "All"),
        ({"trailEvents": "write", "detectionProfile": "cis", "detectionOverrides": []}, "WriteOnly"),
        ({"trailEvents": "all"}, "All"),
    ],
)
def test_trail_records_reads_under_the_cis_profile_unless_configured_otherwise(overrides, recorded):
    trail = run_stack(**overrides).one("aws:cloudtrail/trail:Trail")
    # The basic selector form is the one Security Hub's checks name; nothing excluded (AWS Config fails that).
    assert trail.inputs["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": recorded}]


def test_trail_waits_for_its_bucket_policy_and_delivery_policy(dev):
    trail = dev.one("aws:cloudtrail/trail:Trail")
    assert _urn(dev, "cloudtrail-bucket-policy") in trail.dependencies
    assert _urn(dev, "cloudtrail-delivery-policy") in trail.dependencies


def test_trail_bucket_is_private_encrypted_owner_enforced_and_tls_only(dev):
    bucket = dev.one("aws:s3/bucket:Bucket")
    bucket_name = bucket.state["bucket"]
    encryption = dev.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = dev.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block.inputs[flag] is True
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    ownership = dev.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    for resource in (encryption, block, ownership):
        assert resource.inputs["bucket"] == bucket_name

    policy = dev.one("aws:s3/bucketPolicy:BucketPolicy")
    deny = statement(policy, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket.state["arn"], bucket.state["arn"] + "/*"}
    assert _urn(dev, "cloudtrail-bucket-public-access") in policy.dependencies


def test_only_this_trail_may_write_to_the_bucket(dev):
    policy = dev.one("aws:s3/bucketPolicy:BucketPolicy")
    trail_arn = dev.one("aws:cloudtrail/trail:Trail").state["arn"]
    acl = statement(policy, "CloudTrailAclCheck")
    write = statement(policy, "CloudTrailWrite")
    for allowed in (acl, write):
        assert allowed["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert allowed["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert write["Resource"] == f"arn:aws:s3:::{dev.one('aws:s3/bucket:Bucket').state['bucket']}/AWSLogs/123456789012/*"
    assert trail_arn == "arn:aws:cloudtrail:us-east-1:123456789012:trail/login-monitoring-dev"


def test_destroy_keeps_the_trail_bucket_and_everything_that_guards_its_logs(dev):
    bucket = dev.one("aws:s3/bucket:Bucket")
    guards = [
        r for r in dev.resources if r.type.startswith("aws:s3/") and r.inputs.get("bucket") == bucket.state["bucket"]
    ]
    assert {r.type.split(":")[-1] for r in guards} == {
        "BucketPolicy",
        "BucketPublicAccessBlock",
        "BucketServerSideEncryptionConfiguration",
        "BucketOwnershipControls",
        "BucketVersioning",
        "BucketLifecycleConfiguration",
    }
    kept = {r.urn for r in dev.resources if r.retain_on_delete}
    # Exactly the bucket and its guards: the rest of the stack (trail, alarms, notifier) goes on destroy.
    assert kept == {bucket.urn, *(r.urn for r in guards)}
    assert bucket.inputs.get("forceDestroy") is not True


CIS = {"detectionProfile": "cis", "detectionOverrides": []}


def _trail_key(run):
    return named(run, "aws:kms/key:Key", "login-monitoring-cloudtrail-key")


def test_cis_profile_encrypts_the_trail_with_a_key_only_this_trail_may_use():
    run = run_stack(**CIS)
    trail, key = run.one("aws:cloudtrail/trail:Trail"), _trail_key(run)
    assert trail.inputs["kmsKeyId"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True
    encrypt = statement(key, "CloudTrailEncryptsLogFiles")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": trail.state["arn"]},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"},
    }
    assert statement(key, "CloudTrailDescribesKey")["Action"] == "kms:DescribeKey"
    assert statement(key, "AccountAdministers")["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    # The log group stays unencrypted unless asked for, and then nothing else may use the key.
    assert "CloudWatchLogsEncryptsTheTrailLogGroup" not in {s["Sid"] for s in statements(key)}
    # Logs left in the kept bucket stay readable: destroy keeps the key too.
    assert key.retain_on_delete is True


def test_recommended_profile_keeps_s3_managed_encryption_unless_kms_is_chosen(dev):
    assert "kmsKeyId" not in dev.one("aws:cloudtrail/trail:Trail").inputs
    assert [k.name for k in dev.of_type("aws:kms/key:Key") if "cloudtrail" in k.name] == []
    assert run_stack(trailEncryption="kms").one("aws:cloudtrail/trail:Trail").inputs["kmsKeyId"]
    assert "kmsKeyId" not in run_stack(trailEncryption="s3", **CIS).one("aws:cloudtrail/trail:Trail").inputs


@pytest.mark.parametrize("trail_encryption", ["kms", "s3"])
def test_the_trail_log_group_can_be_encrypted_with_a_key_admitting_cloudwatch_logs_for_that_group(trail_encryption):
    run = run_stack(trailEncryption=trail_encryption, encryptTrailLogGroup=True)
    key = _trail_key(run)
    log_group = named(run, "aws:cloudwatch/logGroup:LogGroup", "login-monitoring-cloudtrail-log-group")
    assert log_group.inputs["kmsKeyId"] == key.state["arn"]
    grant = statement(key, "CloudWatchLogsEncryptsTheTrailLogGroup")
    assert grant["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert set(grant["Action"]) == {
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    }
    (pattern,) = grant["Condition"]["ArnLike"].values()
    assert list(grant["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
    # The condition admits this group (its name is generated, hence the pattern) and no other group.
    assert fnmatch.fnmatchcase(log_group.state["arn"], pattern)
    for other in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
        if other is not log_group:
            assert not fnmatch.fnmatchcase(other.state["arn"], pattern), other.name
    trail_sids = {"CloudTrailEncryptsLogFiles", "CloudTrailDescribesKey"}
    assert (trail_sids <= {s["Sid"] for s in statements(key)}) == (trail_encryption == "kms")


def test_bucket_lifecycle_follows_config():
    run = run_stack(trailBucketExpirationDays=400)
    rule = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["expiration"]["days"] == 400
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 400


def test_cloudtrail_role_may_only_write_streams_of_its_own_log_group(dev):
    role = dev.by_urn(_urn(dev, "cloudtrail-delivery-role"))
    assert statements(role, "assumeRolePolicy")[0]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    (only,) = statements(dev.by_urn(_urn(dev, "cloudtrail-delivery-policy")))
    log_group_arn = dev.outputs["logGroupName"]
    assert sorted(only["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert only["Resource"] == [f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group_arn}:log-stream:*"]


def test_notifier_role_names_only_its_own_resources(dev):
    policy = dev.by_urn(_urn(dev, "sign-in-notifier-policy"))
    table_arn = named(dev, TABLE, "login-monitoring-sign-in-notifier-history").state["arn"]
    topic_arn = alert_topic(dev).state["arn"]
    queue_arn = named(dev, "aws:sqs/queue:Queue", "login-monitoring-sign-in-notifier-failed-events").state["arn"]
    key_arn = named(dev, "aws:kms/key:Key", "login-monitoring-alerts-key").state["arn"]
    notifier_logs = next(r for r in dev.of_type("aws:cloudwatch/logGroup:LogGroup") if "notifier" in r.name)
    flood_arn = named(dev, TABLE, "login-monitoring-sign-in-notifier-flood").state["arn"]

    granted = {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in statements(policy)}
    assert granted == {
        "WriteOwnHistory": (["dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),
        "QueryOwnHistoryIndexes": (
            ["dynamodb:Query"],
            [
                f"{table_arn}/index/byPrincipal",
                f"{table_arn}/index/bySourceIp",
                f"{table_arn}/index/byFailureHour",
                f"{table_arn}/index/byDigest",
            ],
        ),
        "FloodWindows": (["dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:UpdateItem"], [flood_arn]),
        "MailThroughAlertTopic": (["sns:Publish"], [topic_arn]),
        "WriteOwnLogs": (["logs:CreateLogStream", "logs:PutLogEvents"], [notifier_logs.state["arn"] + ":*"]),
        "KeepFailedEvents": (["sqs:SendMessage"], [queue_arn]),
        "EncryptForAlertTopic": (["kms:Decrypt", "kms:GenerateDataKey*"], [key_arn]),
    }
    for resource in (r for s in statements(policy) for r in s["Resource"]):
        assert "*" not in resource.replace(":*", "")


def test_the_notifier_cannot_write_any_table_but_its_own(dev):
    policy = dev.by_urn(_urn(dev, "sign-in-notifier-policy"))
    table_arn = named(dev, TABLE, "login-monitoring-sign-in-notifier-history").state["arn"]
    flood_arn = named(dev, TABLE, "login-monitoring-sign-in-notifier-flood").state["arn"]
    dynamodb_resources = {
        r for s in statements(policy) if any(a.startswith("dynamodb:") for a in s["Action"]) for r in s["Resource"]
    }
    assert {r.split("/index/")[0] for r in dynamodb_resources} == {table_arn, flood_arn}
    assert not table_arn.endswith("*")


def test_history_table_is_on_demand_encrypted_recoverable_and_expires_items(dev):
    table = named(dev, TABLE, "login-monitoring-sign-in-notifier-history")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["hashKey"] == "eventId"
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert table.inputs["pointInTimeRecovery"]["enabled"] is True
    assert table.inputs["serverSideEncryption"]["enabled"] is True


def test_history_table_indexes_answer_the_handlers_queries(dev):
    """The handler Queries these index names and reads these attributes; the table must carry them."""
    from handlers.store import INDEXES, TIME_ATTRIBUTE

    table = named(dev, TABLE, "login-monitoring-sign-in-notifier-history")
    declared = {a["name"]: a["type"] for a in table.inputs["attributes"]}
    indexes = {index["name"]: index for index in table.inputs["globalSecondaryIndexes"]}
    assert set(indexes) == {*INDEXES, "byDigest"} == {"byPrincipal", "bySourceIp", "byFailureHour", "byDigest"}
    for name, (hash_key, projected) in INDEXES.items():
        index = indexes[name]
        assert index["keySchemas"] == [
            {"attributeName": hash_key, "keyType": "HASH"},
            {"attributeName": TIME_ATTRIBUTE, "keyType": "RANGE"},
        ]
        assert declared[hash_key] == declared[TIME_ATTRIBUTE] == "S"
        assert index["projectionType"] == "INCLUDE"
        assert {"outcome", "eventName", "country"} <= set(index["nonKeyAttributes"]) == set(projected)
    # Every declared attribute is a key somewhere: DynamoDB refuses unused attribute definitions.
    assert set(declared) == {
        "eventId",
        TIME_ATTRIBUTE,
        "principalKey",
        "ipKey",
        "failureHour",
        "digestKey",
        "digestAt",
    }
    digest = indexes["byDigest"]
    assert digest["keySchemas"] == [
        {"attributeName": "digestKey", "keyType": "HASH"},
        {"attributeName": "digestAt", "keyType": "RANGE"},
    ]


def test_the_history_indexes_use_the_form_the_pinned_provider_keeps(dev):
    """key_schemas, not the index hash_key/range_key the provider deprecates (see components/signin_notifier.py)."""
    import inspect

    import pulumi_aws as aws

    source = inspect.getsource(aws.dynamodb.TableGlobalSecondaryIndexArgs.__init__)
    assert "key_schemas" in source and "hash_key is deprecated" in source and "range_key is deprecated" in source
    table = named(dev, TABLE, "login-monitoring-sign-in-notifier-history")
    for index in table.inputs["globalSecondaryIndexes"]:
        assert "hashKey" not in index and "rangeKey" not in index, index["name"]
    assert not [warning for warning in dev.warnings if "deprecated" in warning]


def test_risk_settings_reach_the_notifier():
    run = run_stack(riskNewCountry=False, riskImpossibleTravelMinutes=0, riskSprayUserNames=8)
    variables = named(run, FUNCTION, "login-monitoring-sign-in-notifier-function").inputs["environment"]["variables"]
    assert (variables["RISK_NEW_COUNTRY"], variables["RISK_TRAVEL_MINUTES"], variables["RISK_SPRAY_USER_NAMES"]) == (
        "false",
        "0",
        "8",
    )


def test_notifier_function_runs_the_packaged_handler_with_its_settings(dev):
    function = named(dev, FUNCTION, "login-monitoring-sign-in-notifier-function")
    assert function.inputs["runtime"] == "python3.13"
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["handler"] == "handlers.notifier.handler"
    archive = function.inputs["code"].assets
    assert "handlers/notifier.py" in archive
    assert not [name for name in archive if "__pycache__" in name or name.endswith(".pyc")]
    variables = function.inputs["environment"]["variables"]
    assert variables == {
        "TABLE_NAME": named(dev, TABLE, "login-monitoring-sign-in-notifier-history").state["name"],
        "TOPIC_ARN": alert_topic(dev).state["arn"],
        "DISPLAY_TIMEZONE": "Asia/Tokyo",
        "NOTIFY_ON": "all",
        "HISTORY_DAYS": "90",
        "RISK_NEW_COUNTRY": "true",
        "RISK_TRAVEL_MINUTES": "60",
        "RISK_FAILURES_BEFORE_SUCCESS": "3",
        "RISK_FAILURES_WINDOW_MINUTES": "60",
        "RISK_SPRAY_USER_NAMES": "5",
        "RISK_SPRAY_WINDOW_MINUTES": "60",
        "FLOOD_TABLE_NAME": named(dev, TABLE, "login-monitoring-sign-in-notifier-flood").state["name"],
        "MAIL_QUIET_MINUTES": "10",
        "MAIL_BURST_LIMIT": "5",
    }
    assert function.inputs["role"] == dev.by_urn(_urn(dev, "sign-in-notifier-role")).state["arn"]
    assert _urn(dev, "sign-in-notifier-policy") in function.dependencies


def test_notifier_writes_to_its_own_log_group_with_retention(dev):
    function = named(dev, FUNCTION, "login-monitoring-sign-in-notifier-function")
    notifier_logs = next(r for r in dev.of_type("aws:cloudwatch/logGroup:LogGroup") if "notifier" in r.name)
    assert function.inputs["loggingConfig"]["logGroup"] == notifier_logs.state["name"]
    assert notifier_logs.inputs["retentionInDays"] == 30


def test_logs_may_invoke_the_notifier_only_from_the_trail_log_group_of_this_account(dev):
    permission = named(dev, "aws:lambda/permission:Permission", "login-monitoring-sign-in-notifier-invoke-from-logs")
    log_group = next(r for r in dev.of_type("aws:cloudwatch/logGroup:LogGroup") if "cloudtrail" in r.name)
    assert permission.inputs["principal"] == "logs.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert (
        permission.inputs["function"]
        == named(dev, FUNCTION, "login-monitoring-sign-in-notifier-function").state["name"]
    )
    assert permission.inputs["sourceArn"] == log_group.state["arn"] + ":*"
    assert permission.inputs["sourceAccount"] == "123456789012"


def test_subscription_filter_sends_sign_in_events_to_the_notifier_after_the_permission(dev):
    subscription = dev.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    assert subscription.inputs["filterPattern"] == subscription_filter_pattern()
    assert '($.eventName = "ConsoleLogin")' in subscription.inputs["filterPattern"]
    assert subscription.inputs["logGroup"] == dev.outputs["logGroupName"]
    assert (
        subscription.inputs["destinationArn"]
        == named(dev, FUNCTION, "login-monitoring-sign-in-notifier-function").state["arn"]
    )
    assert (
        named(dev, "aws:lambda/permission:Permission", "login-monitoring-sign-in-notifier-invoke-from-logs").urn
        in subscription.dependencies
    )


def test_events_that_fail_every_retry_are_kept_in_an_encrypted_queue_and_alarmed_on_the_health_topic(dev):
    invoke_config = named(
        dev,
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "login-monitoring-sign-in-notifier-retries",
    )
    queue = named(dev, "aws:sqs/queue:Queue", "login-monitoring-sign-in-notifier-failed-events")
    assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert invoke_config.inputs["maximumRetryAttempts"] == 2
    assert queue.inputs["sqsManagedSseEnabled"] is True
    alarm = alarm_named(dev, "notifier-failed-events")
    assert alarm.inputs["dimensions"] == {"QueueName": queue.state["name"]}
    assert alarm.inputs["alarmActions"] == [health_topic(dev).state["arn"]]


def test_topic_admits_this_accounts_alarms_and_the_notifier_role(dev):
    topic = alert_topic(dev)
    policy = named(dev, "aws:sns/topicPolicy:TopicPolicy", "login-monitoring-alerts-policy")
    assert policy.inputs["arn"] == topic.state["arn"]
    alarms = statement(policy, "CloudWatchAlarmsOfThisAccount")
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"},
    }
    publishers = statement(policy, "LoginMonitoringPublishers")
    assert publishers["Principal"] == {
        "AWS": [dev.by_urn(_urn(dev, role)).state["arn"] for role in ("sign-in-notifier-role", "alarm-mailer-role")]
    }
    for s in statements(policy):
        assert as_list(s["Action"]) == ["sns:Publish"] and s["Resource"] == topic.state["arn"]


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev):
    key = named(dev, "aws:kms/key:Key", "login-monitoring-alerts-key")
    assert alert_topic(dev).inputs["kmsMasterKeyId"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True
    cloudwatch = statement(key, "CloudWatchAlarmsEncryptForTopic")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_unencrypted_topic_has_no_key_and_no_key_grant():
    run = run_stack(encryptAlertTopic=False)
    assert run.of_type("aws:kms/key:Key") == []
    assert "kmsMasterKeyId" not in alert_topic(run).inputs
    sids = {s["Sid"] for s in statements(run.by_urn(_urn(run, "sign-in-notifier-policy")))}
    assert "EncryptForAlertTopic" not in sids


def test_one_mail_subscription_per_recipient_on_the_alert_and_the_health_topic(dev):
    subscriptions = dev.of_type("aws:sns/topicSubscription:TopicSubscription")
    # Nobody reads the alarm topic by mail: CloudWatch's bare alarm mail never reaches a person.
    on_alarm_topic = [s for s in subscriptions if s.inputs["topic"] == alarm_topic(dev).state["arn"]]
    assert [s.inputs["protocol"] for s in on_alarm_topic] == ["lambda"]
    subscriptions = [s for s in subscriptions if s not in on_alarm_topic]
    assert {s.inputs["protocol"] for s in subscriptions} == {"email"}
    for topic in (alert_topic(dev), health_topic(dev)):
        endpoints = sorted(s.inputs["endpoint"] for s in subscriptions if s.inputs["topic"] == topic.state["arn"])
        assert endpoints == ["cloud-team@example.com", "security@example.com"]


def test_existing_mode_watches_the_named_group_and_creates_no_trail():
    run = run_stack(trailMode="existing", existingLogGroupName="aws-cloudtrail-logs-111122223333")
    for absent in (
        "aws:cloudtrail/trail:Trail",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketPolicy:BucketPolicy",
        "loginmonitoring:index:CloudTrailLogging",
    ):
        assert run.of_type(absent) == []
    assert sorted(r.name for r in run.of_type("aws:iam/role:Role")) == [
        "login-monitoring-alarm-mailer-role",
        "login-monitoring-sign-in-notifier-role",
    ]
    assert {f.inputs["logGroupName"] for f in run.of_type(FILTER) if "detections" in f.name} == {
        "aws-cloudtrail-logs-111122223333"
    }
    assert (
        run.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs["logGroup"]
        == "aws-cloudtrail-logs-111122223333"
    )
    assert (
        named(run, "aws:lambda/permission:Permission", "login-monitoring-sign-in-notifier-invoke-from-logs").inputs[
            "sourceArn"
        ]
        == "arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs-111122223333:*"
    )
    assert "trailArn" not in run.outputs


def test_arns_follow_the_partition_and_account_of_the_stack():
    run = run_stack(**{"aws:region": "cn-north-1", "aws:allowedAccountIds": ["210987654321"]})
    permission = named(run, "aws:lambda/permission:Permission", "login-monitoring-sign-in-notifier-invoke-from-logs")
    assert permission.inputs["sourceArn"].startswith("arn:aws-cn:logs:cn-north-1:210987654321:log-group:")
    assert permission.inputs["sourceAccount"] == "210987654321"


def test_stack_outputs_name_what_an_operator_needs(dev):
    assert set(dev.outputs) == {
        "logGroupName",
        "trailArn",
        "alertTopicArn",
        "failedSignInAlarmArn",
        "detectionAlarmArns",
        "notifierFunctionArn",
        "signInLogGroupArn",
        "signInTableName",
        "failedEventsQueueUrl",
        "alarmMailerFailedEventsQueueUrl",
        "healthTopicArn",
        "topSourceIpAlarmArn",
        "outlierAlarmArn",
        "dashboardName",
    }
    assert dev.outputs["healthTopicArn"] == health_topic(dev).state["arn"] != dev.outputs["alertTopicArn"]
    assert dev.outputs["failedSignInAlarmArn"] == dev.outputs["detectionAlarmArns"]["failed-console-sign-ins"]
    notifier_logs = named(dev, "aws:cloudwatch/logGroup:LogGroup", "login-monitoring-sign-in-notifier-logs")
    assert dev.outputs["signInLogGroupArn"] == notifier_logs.state["arn"]


def test_bad_config_fails_before_any_resource_is_registered():
    registered = []
    config = load_stack_config("dev", example=True, overrides={"login-monitoring:failedSignInThreshold": 0})
    with pytest.raises(SettingsError) as caught:
        run_program(config, records=registered)
    assert "login-monitoring:failedSignInThreshold" in str(caught.value)
    assert registered == []


def test_the_same_config_is_registered_when_valid():
    registered = []
    run_program(load_stack_config("dev", example=True), records=registered)
    assert len(registered) > 30


def _urn(run, suffix: str) -> str:
    matches = [r.urn for r in run.resources if r.name == f"login-monitoring-{suffix}"]
    assert len(matches) == 1, f"no single resource named login-monitoring-{suffix}"
    return matches[0]
