"""The monitoring watches itself, and tells people through a topic the alert topic's faults cannot reach."""

from __future__ import annotations

import pytest

from components.lambda_package import FAILED_EVENT_RETENTION_SECONDS
from handlers.log_lines import skipped_records_pattern, unmarked_mails_pattern
from tests.components.program import alert_topic, health_topic, named, run_stack, statement

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def health_alarms(run) -> dict[str, dict]:
    prefix = "login-monitoring-health-alarms-"
    return {a.name.removeprefix(prefix): a.inputs for a in run.of_type(ALARM) if a.name.startswith(prefix)}


def test_health_topic_has_its_own_key_so_disabling_the_alert_key_cannot_silence_it(dev):
    alert_key = named(dev, KEY, "login-monitoring-alerts-key")
    health_key = named(dev, KEY, "login-monitoring-health-key")
    assert health_topic(dev).inputs["kmsMasterKeyId"] == health_key.state["arn"] != alert_key.state["arn"]
    assert health_topic(dev).inputs["displayName"] != alert_topic(dev).inputs["displayName"]
    # CloudWatch alarms must be able to encrypt for it, or their mails are dropped without a word.
    assert statement(health_key, "CloudWatchAlarmsEncryptForTopic")["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }


def test_every_health_alarm_mails_the_health_topic_and_never_the_alert_topic(dev):
    alarms = health_alarms(dev)
    assert set(alarms) == {
        "alert-topic-failed-deliveries",
        "notifier-delivery-errors",
        "notifier-errors",
        "notifier-failed-events",
        "notifier-failed-events-expiring",
        "notifier-lost-events",
        "notifier-skipped-records",
        "alarm-mailer-delivery-errors",
        "alarm-mailer-errors",
        "alarm-mailer-failed-events",
        "alarm-mailer-failed-events-expiring",
        "alarm-mailer-lost-events",
        "alarm-mailer-skipped-records",
        "notifier-unmarked-mails",
    }
    for inputs in alarms.values():
        assert inputs["alarmActions"] == inputs["okActions"] == [health_topic(dev).state["arn"]]
        assert inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert inputs["name"].startswith("login-monitoring-dev-health-")


def test_queue_alarms_keep_their_state_when_an_idle_queue_stops_publishing_metrics(dev):
    # SQS stops metrics of a queue idle for six hours; "notBreaching" would then report events as handled.
    alarms = health_alarms(dev)
    for key in ("notifier-failed-events", "notifier-failed-events-expiring"):
        assert alarms[key]["treatMissingData"] == "ignore"
    assert alarms["notifier-failed-events"]["threshold"] == 1
    # Warned four days before SQS deletes what waits in the queue.
    expiring = alarms["notifier-failed-events-expiring"]
    assert expiring["metricName"] == "ApproximateAgeOfOldestMessage"
    assert expiring["threshold"] == 10 * 24 * 3600 < FAILED_EVENT_RETENTION_SECONDS
    others = {key: a for key, a in alarms.items() if "failed-events" not in key}
    assert {a["treatMissingData"] for a in others.values()} == {"notBreaching"}
    assert {a["threshold"] for a in others.values()} == {1}


def test_the_first_hop_from_the_trail_to_the_notifier_is_watched(dev):
    subscription = dev.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    alarm = health_alarms(dev)["notifier-delivery-errors"]
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Logs", "DeliveryErrors")
    assert alarm["dimensions"] == {
        "LogGroupName": dev.outputs["logGroupName"],
        "DestinationType": "Lambda",
        "FilterName": subscription.state["name"],
    }


def test_the_unmarked_mail_alarm_counts_the_notifiers_own_log_line(dev):
    metric_filter = named(
        dev,
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "login-monitoring-health-alarms-notifier-unmarked-mails-filter",
    )
    assert metric_filter.inputs["pattern"] == unmarked_mails_pattern()
    transformation = metric_filter.inputs["metricTransformation"]
    alarm = health_alarms(dev)["notifier-unmarked-mails"]
    assert (alarm["namespace"], alarm["metricName"]) == (transformation["namespace"], transformation["name"])


def test_health_alarms_watch_the_notifier_its_queue_and_the_alert_topic(dev):
    alarms = health_alarms(dev)
    function = named(dev, "aws:lambda/function:Function", "login-monitoring-sign-in-notifier-function")
    queue = named(dev, "aws:sqs/queue:Queue", "login-monitoring-sign-in-notifier-failed-events")
    watched = {key: (a["namespace"], a["metricName"], a.get("dimensions")) for key, a in alarms.items()}
    assert watched["notifier-errors"] == ("AWS/Lambda", "Errors", {"FunctionName": function.state["name"]})
    # AWS counts a failed event it could not hand to the queue only here; the event itself is gone.
    assert watched["notifier-lost-events"] == (
        "AWS/Lambda",
        "DestinationDeliveryFailures",
        {"FunctionName": function.state["name"]},
    )
    assert watched["notifier-failed-events"] == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": queue.state["name"]},
    )
    assert watched["alert-topic-failed-deliveries"] == (
        "AWS/SNS",
        "NumberOfNotificationsFailed",
        {"TopicName": alert_topic(dev).state["name"]},
    )


def test_the_first_hop_from_the_detection_alarms_to_the_alarm_mailer_is_watched(dev):
    alarm_topic = named(dev, "aws:sns/topic:Topic", "login-monitoring-alarm-mailer-alarms")
    alarm = health_alarms(dev)["alarm-mailer-delivery-errors"]
    assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
        "AWS/SNS",
        "NumberOfNotificationsFailed",
        {"TopicName": alarm_topic.state["name"]},
    )


def test_skipped_records_alarm_counts_the_handlers_skip_lines_in_the_notifiers_own_log(dev):
    metric_filter = named(
        dev,
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "login-monitoring-health-alarms-notifier-skipped-records-filter",
    )
    log_group = named(dev, "aws:cloudwatch/logGroup:LogGroup", "login-monitoring-sign-in-notifier-logs")
    function = named(dev, "aws:lambda/function:Function", "login-monitoring-sign-in-notifier-function")
    assert metric_filter.inputs["logGroupName"] == log_group.state["name"]
    assert function.inputs["loggingConfig"]["logGroup"] == log_group.state["name"]
    # The filter reads Lambda's JSON log format, so the function must log in it.
    assert function.inputs["loggingConfig"]["logFormat"] == "JSON"
    assert metric_filter.inputs["pattern"] == skipped_records_pattern()
    transformation = metric_filter.inputs["metricTransformation"]
    alarm = health_alarms(dev)["notifier-skipped-records"]
    assert (alarm["namespace"], alarm["metricName"]) == (transformation["namespace"], transformation["name"])
    assert alarm["statistic"] == "Sum" and "dimensions" not in alarm
    assert transformation["namespace"] == "LoginMonitoring/dev"


def test_health_alarms_mail_the_same_recipients_as_the_alerts(dev):
    subscriptions = dev.of_type("aws:sns/topicSubscription:TopicSubscription")
    by_topic = {}
    for subscription in subscriptions:
        by_topic.setdefault(subscription.inputs["topic"], set()).add(subscription.inputs["endpoint"])
    assert by_topic[health_topic(dev).state["arn"]] == by_topic[alert_topic(dev).state["arn"]] != set()


def test_without_encryption_the_health_topic_has_no_key_either():
    run = run_stack(encryptAlertTopic=False)
    assert run.of_type(KEY) == []
    assert "kmsMasterKeyId" not in health_topic(run).inputs
