"""The forwarder carries a member's mails to the hub topic, in another Region if need be."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handlers import forwarder
from tests.handlers.lambda_logs import counted_by_health_filter


def sns_event(*messages: tuple[str | None, str]) -> dict:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventSubscriptionArn": "arn:aws:sns:eu-west-1:444455556666:t:1",
                "Sns": {"Subject": subject, "Message": message},
            }
            for subject, message in messages
        ]
    }


@pytest.fixture
def hub():
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="hub")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

        def inbox():
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            return [json.loads(m["Body"]) for m in messages]

        yield topic, inbox


def test_subject_and_message_reach_the_hub_in_its_own_region(hub, monkeypatch):
    topic, inbox = hub
    monkeypatch.setenv("HUB_TOPIC_ARN", topic)
    monkeypatch.setattr(forwarder, "_clients", {})
    result = forwarder.handler(
        sns_event(
            ('ALARM: "login-monitoring-b-root-account-usage" in EU (Ireland)', "body"),
            (None, "a message without subject"),
        ),
        None,
    )
    assert result == {"forwarded": 2}
    assert forwarder._clients["sns"].meta.region_name == "us-east-1"
    received = sorted(((m.get("Subject"), m["Message"]) for m in inbox()), key=lambda pair: pair[1])
    assert received == [
        (None, "a message without subject"),
        ('ALARM: "login-monitoring-b-root-account-usage" in EU (Ireland)', "body"),
    ]


def test_a_publish_error_fails_the_invocation_so_lambda_retries(hub):
    topic, _ = hub
    sns = boto3.client("sns", region_name="us-east-1")
    with pytest.raises(ClientError):
        forwarder.forward(sns_event(("s", "m")), topic + "-missing", sns)


def test_records_without_a_message_are_skipped_with_the_line_the_health_alarm_counts(caplog):
    with caplog.at_level(logging.WARNING, logger="login-monitoring.forwarder"):
        assert forwarder.forward({"Records": [{"Sns": {}}]}, "arn:aws:sns:us-east-1:1:t", sns=None) == 0
    assert [counted_by_health_filter(record) for record in caplog.records] == [True]


@pytest.mark.parametrize("arn", ["", "arn:aws:sqs:us-east-1:1:q", "not an arn"])
def test_bad_hub_topic_arns_are_refused(arn):
    with pytest.raises(ValueError):
        forwarder.region_of(arn)
