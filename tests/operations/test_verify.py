"""Verify after deploy, against moto: subscriptions, a synthetic sign-in through the notifier, one alarm."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from handlers.notifier import process_batch
from operations import verify
from tests.handlers.moto_aws import REGION, Aws

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:111122223333:function:login-monitoring-dev-notifier"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:111122223333:alarm:login-monitoring-dev-failed-console-sign-ins"


class NotifierAsLambda:
    """A Lambda client whose synchronous invoke runs the notifier on the payload, as AWS would."""

    def __init__(self, aws: Aws, fail: bool = False) -> None:
        self.aws, self.fail, self.payloads = aws, fail, []

    def invoke(self, *, FunctionName, InvocationType, Payload):
        assert (FunctionName, InvocationType) == (FUNCTION_ARN, "RequestResponse")
        self.payloads.append(json.loads(Payload))
        if self.fail:
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorMessage": "boom"}')}
        result = process_batch(
            json.loads(Payload), self.aws.config(), self.aws.dynamodb, self.aws.sns, clock=lambda: NOW
        )
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result.as_dict()).encode())}


@pytest.fixture
def aws():
    with mock_aws():
        aws = Aws()
        aws.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        aws.cloudwatch.put_metric_alarm(
            AlarmName="login-monitoring-dev-failed-console-sign-ins",
            MetricName="ConsoleSignInFailures",
            Namespace="LoginMonitoring/dev",
            Statistic="Sum",
            Period=900,
            EvaluationPeriods=1,
            Threshold=5,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[aws.topic_arn],
        )
        yield aws


def outputs_file(tmp_path, aws, **changes) -> str:
    outputs = {
        "alertTopicArn": aws.topic_arn,
        "notifierFunctionArn": FUNCTION_ARN,
        "signInTableName": "sign-ins",
        "failedSignInAlarmArn": ALARM_ARN,
        **changes,
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return str(path)


def subscribe_mail(aws, address: str, confirmed: bool) -> None:
    arn = aws.sns.subscribe(TopicArn=aws.topic_arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True)
    if not confirmed:
        # moto confirms mail subscriptions at once; AWS leaves them pending until the link is clicked.
        aws.sns.unsubscribe(SubscriptionArn=arn["SubscriptionArn"])


def run(aws, tmp_path, capsys, *args, lambda_client=None, **outputs) -> tuple[int, list[str]]:
    lambda_client = lambda_client or NotifierAsLambda(aws)
    clients = {"sns": aws.sns, "dynamodb": aws.dynamodb, "cloudwatch": aws.cloudwatch, "lambda": lambda_client}
    code = verify.main(
        ["--outputs", outputs_file(tmp_path, aws, **outputs), *args],
        client=lambda service, region: clients[service],
        now=lambda: NOW,
    )
    return code, capsys.readouterr().out.splitlines()


def test_a_healthy_stack_passes_every_step(aws, tmp_path, capsys):
    subscribe_mail(aws, "security@example.com", confirmed=True)
    code, lines = run(aws, tmp_path, capsys)
    assert code == 0, lines
    assert [line.split()[:2] for line in lines[:3]] == [["ok", "subscriptions"], ["ok", "notifier"], ["ok", "alarm"]]
    assert lines[-1] == "3 of 3 checks passed"


def test_the_synthetic_sign_in_is_mailed_as_a_test_and_not_kept(aws, tmp_path, capsys):
    subscribe_mail(aws, "security@example.com", confirmed=True)
    run(aws, tmp_path, capsys, "--no-alarm")
    (mail,) = [m for m in aws.mails() if "Subject" in m]
    assert f"IAM user {verify.TEST_USER}" in mail["Subject"]
    assert verify.TEST_USER_AGENT[:40] in mail["Message"]
    assert aws.item_count() == 0  # the test sign-in is not history


def test_the_alarm_step_puts_the_alarm_in_alarm(aws, tmp_path, capsys):
    subscribe_mail(aws, "security@example.com", confirmed=True)
    code, _ = run(aws, tmp_path, capsys, "--no-sign-in")
    (alarm,) = aws.cloudwatch.describe_alarms()["MetricAlarms"]
    assert code == 0 and alarm["StateValue"] == "ALARM" and alarm["StateReason"] == verify.ALARM_REASON


def test_unconfirmed_or_missing_subscriptions_fail_their_step(aws, tmp_path, capsys):
    code, lines = run(aws, tmp_path, capsys, "--no-alarm", "--no-sign-in")
    assert code == 1 and lines[0].startswith("FAIL  subscriptions the alert topic has no mail subscription")


def test_pending_confirmation_is_named(capsys):
    class Sns:
        def list_subscriptions_by_topic(self, **_):
            return {
                "Subscriptions": [
                    {"Protocol": "email", "Endpoint": "a@example.com", "SubscriptionArn": "arn:aws:sns:x:1:t:1"},
                    {"Protocol": "email", "Endpoint": "b@example.com", "SubscriptionArn": "PendingConfirmation"},
                    {"Protocol": "lambda", "Endpoint": "arn:aws:lambda:x", "SubscriptionArn": "arn:aws:sns:x:1:t:2"},
                ]
            }

    step = verify.check_subscriptions(Sns(), "arn:aws:sns:us-east-1:1:t")
    assert not step.ok and step.detail.startswith("1 of 2 not confirmed, nothing reaches them: b@example.com")


def test_a_failing_notifier_fails_its_step_and_leaves_nothing_behind(aws, tmp_path, capsys):
    subscribe_mail(aws, "security@example.com", confirmed=True)
    code, lines = run(aws, tmp_path, capsys, "--no-alarm", lambda_client=NotifierAsLambda(aws, fail=True))
    assert code == 1
    assert lines[1].startswith('FAIL  notifier      the function failed: {"errorMessage": "boom"}')
    assert aws.item_count() == 0


def test_an_unknown_alarm_fails_its_step(aws, tmp_path, capsys):
    subscribe_mail(aws, "security@example.com", confirmed=True)
    code, lines = run(
        aws, tmp_path, capsys, "--no-sign-in", failedSignInAlarmArn=f"arn:aws:cloudwatch:{REGION}:1:alarm:nope"
    )
    assert code == 1 and lines[1].startswith("FAIL  alarm")


def test_outputs_of_a_hub_are_refused(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"hubTopicArn": "arn:aws:sns:us-east-1:1:hub"}))
    assert verify.main(["--outputs", str(path)]) == 2
    assert "the stack outputs lack alertTopicArn" in capsys.readouterr().err
