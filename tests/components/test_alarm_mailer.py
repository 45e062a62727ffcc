"""Detection alarms reach the alarm mailer through its alarm topic, and the mailer may read only what it needs."""

from __future__ import annotations

import json

import pytest

from components.alarm_mailer import detections_document
from components.settings import SettingsError
from handlers.alarm_mail import DetectionInfo
from handlers.alarm_mailer import DETECTIONS_FILE
from policy.rules import RESOURCE_RULES, STACK_RULES
from tests.components.program import alarm_mailer, alarm_topic, alert_topic, named, run_stack, statement, statements

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PERMISSION = "aws:lambda/permission:Permission"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
FUNCTION = "aws:lambda/function:Function"
PREFIX = "login-monitoring-alarm-mailer"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def detection_alarms(run) -> dict[str, dict]:
    prefix = "login-monitoring-detections-"
    return {
        a.name.removeprefix(prefix).removesuffix("-alarm"): a
        for a in run.of_type(ALARM)
        if a.name.startswith(prefix) and a.name.endswith("-alarm")
    }


def test_each_detection_alarm_and_the_outlier_alarm_notify_the_alarm_topic_whose_one_subscriber_is_the_mailer(dev):
    topic_arn = alarm_topic(dev).state["arn"]
    alarms = detection_alarms(dev)
    composite = dev.one("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert len(alarms) > 15
    for alarm in [*alarms.values(), composite]:
        assert alarm.inputs["alarmActions"][0] == topic_arn
    (subscription,) = [s for s in dev.of_type(SUBSCRIPTION) if s.inputs["topic"] == topic_arn]
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == (
        "lambda",
        alarm_mailer(dev).state["arn"],
    )
    # Only the topic may invoke the function, and the subscription waits for that permission.
    (permission,) = [p for p in dev.of_type(PERMISSION) if p.inputs["function"] == alarm_mailer(dev).state["name"]]
    assert (permission.inputs["principal"], permission.inputs["sourceArn"]) == ("sns.amazonaws.com", topic_arn)
    assert permission.urn in subscription.dependencies
    assert not [p for p in dev.of_type(PERMISSION) if p.inputs["principal"].startswith("lambda.alarms.")]


def test_only_this_accounts_detection_alarms_may_publish_to_the_alarm_topic(dev):
    topic_arn = alarm_topic(dev).state["arn"]
    policy = named(dev, "aws:sns/topicPolicy:TopicPolicy", f"{PREFIX}-alarms-policy")
    assert policy.inputs["arn"] == topic_arn
    (only,) = statements(policy)
    assert only["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (only["Effect"], only["Action"], only["Resource"]) == ("Allow", "sns:Publish", topic_arn)
    assert only["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    alarm_arns = {a.state["arn"] for a in detection_alarms(dev).values()} | {dev.outputs["outlierAlarmArn"]}
    assert set(only["Condition"]["ArnEquals"]["aws:SourceArn"]) == alarm_arns


def test_the_alarm_topic_is_encrypted_with_the_alert_topics_key_which_cloudwatch_may_use(dev):
    key_arn = alarm_topic(dev).inputs["kmsMasterKeyId"]
    assert key_arn == alert_topic(dev).inputs["kmsMasterKeyId"]
    key = next(k for k in dev.of_type("aws:kms/key:Key") if k.state["arn"] == key_arn)
    admits = statement(key, "CloudWatchAlarmsEncryptForTopic")
    assert admits["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(admits["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_resolved_mails_add_the_ok_action_only_when_configured(dev):
    assert all(a.inputs["okActions"] == [] for a in detection_alarms(dev).values())
    assert alarm_mailer(dev).inputs["environment"]["variables"]["RESOLVED_MAILS"] == "false"
    run = run_stack(alarmResolvedMails=True)
    topic_arn = alarm_topic(run).state["arn"]
    assert all(a.inputs["okActions"][0] == topic_arn for a in detection_alarms(run).values())
    assert alarm_mailer(run).inputs["environment"]["variables"]["RESOLVED_MAILS"] == "true"


def test_mailer_reads_only_the_trail_log_group_and_publishes_only_to_the_alert_topic(dev):
    policy = named(dev, "aws:iam/rolePolicy:RolePolicy", f"{PREFIX}-policy")
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{dev.outputs['logGroupName']}"
    read = statement(policy, "ReadTrailEvents")
    assert read["Action"] == ["logs:FilterLogEvents"]
    assert read["Resource"] == [group_arn, f"{group_arn}:*"]
    assert statement(policy, "MailThroughAlertTopic") == {
        "Sid": "MailThroughAlertTopic",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": [alert_topic(dev).state["arn"]],
    }
    actions = {action for s in statements(policy) for action in s["Action"]}
    assert actions == {
        "logs:FilterLogEvents",
        "sns:Publish",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "kms:GenerateDataKey*",
        "kms:Decrypt",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
    # The alert topic admits the mailer's role as a publisher.
    topic_policy = named(dev, "aws:sns/topicPolicy:TopicPolicy", "login-monitoring-alerts-policy")
    mailer_role = named(dev, "aws:iam/role:Role", f"{PREFIX}-role").state["arn"]
    assert mailer_role in statement(topic_policy, "LoginMonitoringPublishers")["Principal"]["AWS"]


TAKEOVER = (
    "mfa-device-removed",
    "console-password-for-another-user",
    "root-credentials-changed",
    "identity-provider-or-role-trust",
    "security-services-disabled",
)


def test_the_mailer_may_read_the_sign_in_history_through_its_principal_index_and_never_write_it(dev):
    policy = named(dev, "aws:iam/rolePolicy:RolePolicy", f"{PREFIX}-policy")
    table = named(dev, "aws:dynamodb/table:Table", "login-monitoring-sign-in-notifier-history")
    assert statement(policy, "QuerySignInsByPrincipal")["Action"] == ["dynamodb:Query"]
    assert statement(policy, "QuerySignInsByPrincipal")["Resource"] == [f"{table.state['arn']}/index/byPrincipal"]
    assert statement(policy, "ReadSignInRiskReasons")["Action"] == ["dynamodb:BatchGetItem"]
    assert statement(policy, "ReadSignInRiskReasons")["Resource"] == [table.state["arn"]]
    dynamodb = {action for s in statements(policy) for action in s["Action"] if action.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:Query", "dynamodb:BatchGetItem"}
    assert alarm_mailer(dev).inputs["environment"]["variables"]["SIGN_IN_TABLE_NAME"] == table.state["name"]


def test_without_a_detection_that_names_sign_ins_the_mailer_cannot_read_the_history():
    run = run_stack(detectionOverrides=[f"{detection_id}.enabled=false" for detection_id in TAKEOVER])
    policy = named(run, "aws:iam/rolePolicy:RolePolicy", f"{PREFIX}-policy")
    assert not [a for s in statements(policy) for a in s["Action"] if a.startswith("dynamodb:")]
    assert "SIGN_IN_TABLE_NAME" not in alarm_mailer(run).inputs["environment"]["variables"]


def test_each_takeover_detection_counts_its_catalog_pattern_and_alarms_to_the_mailer_with_sign_ins(dev):
    from detections.catalog import BY_ID

    # The alarm topic's one subscriber is the mailer (tested above).
    topic_arn = alarm_topic(dev).state["arn"]
    filters = {f.inputs["name"]: f for f in dev.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    alarms = detection_alarms(dev)
    document = json.loads(alarm_mailer(dev).inputs["code"].assets[f"handlers/{DETECTIONS_FILE}"].text)
    for detection_id in TAKEOVER:
        name = f"login-monitoring-dev-{detection_id}"
        assert filters[name].inputs["pattern"] == BY_ID[detection_id].patterns["recommended"]
        transformation = filters[name].inputs["metricTransformation"]
        alarm = alarms[detection_id].inputs
        assert (alarm["metricName"], alarm["namespace"]) == (transformation["name"], transformation["namespace"])
        assert alarm["alarmActions"] == [topic_arn] and alarm["threshold"] == 1
        assert DetectionInfo.from_json(document[name]).sign_in_context


def test_the_package_carries_each_alarms_detection_with_the_pattern_its_filter_counts(dev):
    code = alarm_mailer(dev).inputs["code"]
    document = json.loads(code.assets[f"handlers/{DETECTIONS_FILE}"].text)
    filters = {
        f.inputs["name"]: f.inputs["pattern"] for f in dev.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    alarm_names = {a.inputs["name"] for a in detection_alarms(dev).values()}
    outlier = "login-monitoring-dev-failed-sign-ins-outlier"
    assert set(document) == alarm_names | {outlier}
    for name, data in document.items():
        info = DetectionInfo.from_json(data)
        assert info.title and info.why
        if name == outlier:
            # The outlier alarm lists the failed sign-ins its metric counts, from before the composite changed.
            assert info.id == "failed-console-sign-ins" and info.lookback_seconds == 900
            assert info.pattern == filters["login-monitoring-dev-failed-console-sign-ins"]
            continue
        assert info.pattern == filters[name] and name.endswith(info.id) and info.lookback_seconds == 0


def test_detections_document_is_stable_text():
    from detections.profiles import resolve_detections

    detections = resolve_detections("cis")
    assert detections_document(detections, "p") == detections_document(list(detections), "p")


def test_mailer_is_kept_and_watched_like_the_other_functions(dev):
    from policy.rules import StackResource

    resources = [StackResource(r.type, r.name, r.urn, r.inputs, r.dependencies) for r in dev.resources]
    problems = [message for rule in STACK_RULES for message in rule.check(resources)]
    for resource in dev.resources:
        for rule in RESOURCE_RULES:
            if rule.resource_type == resource.type:
                problems += list(rule.check(resource.inputs, {}))
    assert problems == []
    alarms = {a.inputs["name"] for a in dev.of_type(ALARM)}
    for signal in ("errors", "failed-events", "lost-events", "skipped-records"):
        assert f"login-monitoring-dev-health-alarm-mailer-{signal}" in alarms


def test_the_account_alias_is_handed_to_both_mailing_functions_only_when_given(dev):
    notifier = "login-monitoring-sign-in-notifier-function"
    assert "ACCOUNT_ALIAS" not in alarm_mailer(dev).inputs["environment"]["variables"]
    assert "ACCOUNT_ALIAS" not in named(dev, FUNCTION, notifier).inputs["environment"]["variables"]
    run = run_stack(accountAlias="acme-prod")
    assert alarm_mailer(run).inputs["environment"]["variables"]["ACCOUNT_ALIAS"] == "acme-prod"
    assert named(run, FUNCTION, notifier).inputs["environment"]["variables"]["ACCOUNT_ALIAS"] == "acme-prod"


@pytest.mark.parametrize("alias", ["Acme-Prod", "-acme", "ab", "acme_prod", "a" * 64])
def test_an_alias_iam_would_refuse_is_refused_naming_the_key(alias):
    with pytest.raises(SettingsError) as raised:
        run_stack(accountAlias=alias)
    assert "accountAlias" in dict(raised.value.problems)
