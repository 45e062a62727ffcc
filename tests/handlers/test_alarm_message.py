"""An alarm reaching the forwarder as CloudWatch's JSON document leaves it as a readable mail."""

from __future__ import annotations

import json

import pytest

from handlers.alarm_message import alarm_document, render_alarm
from handlers.forwarder import hub_request

HUB = "arn:aws:sns:us-east-1:210987654321:hub"

# The document CloudWatch publishes for an alarm state change (as a function subscriber receives it).
ALARM = {
    "AlarmName": "login-monitoring-member-b-root-account-usage",
    "AlarmDescription": "Root account used (critical): the root user can do anything.",
    "AWSAccountId": "444455556666",
    "AlarmConfigurationUpdatedTimestamp": "2024-05-01T09:00:00.000+0000",
    "NewStateValue": "ALARM",
    "NewStateReason": (
        "Threshold Crossed: 1 datapoint [1.0 (01/06/24 09:55:00)] was greater than or equal to the threshold (1.0)."
    ),
    "StateChangeTime": "2024-06-01T10:00:12.345+0000",
    "Region": "EU (Ireland)",
    "AlarmArn": "arn:aws:cloudwatch:eu-west-1:444455556666:alarm:login-monitoring-member-b-root-account-usage",
    "OldStateValue": "OK",
    "OKActions": [],
    "AlarmActions": ["arn:aws:sns:eu-west-1:444455556666:login-monitoring-alerts"],
    "InsufficientDataActions": [],
    "Trigger": {
        "MetricName": "RootAccountUsage",
        "Namespace": "LoginMonitoring/member-b",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [],
        "Period": 300,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    },
}


def test_an_alarm_is_forwarded_as_a_readable_mail_naming_its_account():
    request = hub_request(HUB, {"Subject": 'ALARM: "x" in EU (Ireland)', "Message": json.dumps(ALARM)})
    assert request["TopicArn"] == HUB
    assert (
        request["Subject"] == "ALARM: login-monitoring-member-b-root-account-usage in account 444455556666 (eu-west-1)"
    )
    message = json.loads(request["Message"])
    body = message["default"]
    assert not body.lstrip().startswith("{")
    # The hub's chat channels get it as a card as well.
    card = json.loads(message["https"])["content"]
    assert card["title"] == request["Subject"]
    assert card["nextSteps"] == [
        "The alarm: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#alarmsV2:alarm/login-monitoring-member-b-root-account-usage"
    ]
    lines = [" ".join(line.split()) for line in body.splitlines()]
    for line in (
        "State: OK -> ALARM",
        "Account: 444455556666",
        "Region: eu-west-1 (EU (Ireland))",
        "What it means: Root account used (critical): the root user can do anything.",
        "Metric: LoginMonitoring/member-b RootAccountUsage: Sum over 300 s, >= 1",
    ):
        assert line in lines, body
    assert (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#alarmsV2:alarm/login-monitoring-member-b-root-account-usage"
    ) in body


def test_a_health_alarm_names_its_dimensions():
    alarm = {
        **ALARM,
        "NewStateValue": "OK",
        "OldStateValue": "ALARM",
        "Trigger": {
            **ALARM["Trigger"],
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"value": "login-monitoring-notifier", "name": "FunctionName"}],
        },
    }
    mail = render_alarm(alarm)
    assert mail.subject.startswith("OK: ")
    assert "AWS/Lambda Errors [FunctionName=login-monitoring-notifier]" in mail.body


def test_sign_in_mails_and_other_messages_pass_unchanged():
    for message in ("Console sign-in FAILED ...", "{not json", json.dumps({"AlarmName": "x"}), "[]"):
        request = hub_request(HUB, {"Subject": "s", "Message": message})
        assert request == {"TopicArn": HUB, "Subject": "s", "Message": message}
        assert alarm_document(message) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"AlarmName": "a" * 255},
        {"AlarmName": "Ä\nALARM: forged\u2028line", "AWSAccountId": "9" * 200},
        {"Trigger": "not a dict", "AlarmArn": 7, "StateChangeTime": None},
        {"AlarmArn": "arn:aws-cn:cloudwatch:cn-north-1:1:alarm:x"},
    ],
)
def test_any_alarm_document_gives_a_subject_sns_accepts_and_one_line_fields(changes):
    mail = render_alarm({**ALARM, **changes})
    assert len(mail.subject) < 100 and mail.subject.isascii() and mail.subject.isprintable()
    assert "forged" not in "\n".join(line for line in mail.body.splitlines() if line.startswith("ALARM: forged"))
    assert all(line.isprintable() for line in mail.body.splitlines())
    if "aws-cn" in str(changes.get("AlarmArn")):
        assert "console.aws.amazon.com" not in mail.body
