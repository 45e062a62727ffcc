"""Re-driving the failed-events queue: each kept event runs again once, and still mails only once."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handlers.notifier import process_batch
from operations import redrive
from tests.handlers.events import event, subscription_payload
from tests.handlers.moto_aws import HANDLED_AT, REGION, Aws

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:login-monitoring-notifier"


def destination_record(payload, function_arn: str = FUNCTION_ARN + ":$LATEST") -> str:
    # What Lambda sends to an on-failure destination after the last retry.
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2024-06-01T00:00:00.000Z",
            "requestContext": {
                "requestId": "c1b5b1c5-0000-4000-8000-000000000000",
                "functionArn": function_arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "KMS key disabled", "errorType": "ClientError"},
        }
    )


class NotifierAsLambda:
    """A Lambda client whose asynchronous invoke runs the notifier on the payload, as AWS would."""

    def __init__(self, aws: Aws, fail_with: str | None = None) -> None:
        self.aws, self.fail_with, self.invoked = aws, fail_with, []

    def invoke(self, *, FunctionName, InvocationType, Payload):
        if self.fail_with:
            raise ClientError({"Error": {"Code": self.fail_with, "Message": "injected"}}, "Invoke")
        self.invoked.append((FunctionName, InvocationType))
        process_batch(json.loads(Payload), self.aws.config(), self.aws.dynamodb, self.aws.sns, clock=lambda: HANDLED_AT)
        return {"StatusCode": 202}


@pytest.fixture
def aws():
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Aws()


@pytest.fixture
def queue(aws):
    return aws.sqs.create_queue(QueueName="login-monitoring-failed-events")["QueueUrl"]


def keep(aws, queue, *bodies) -> None:
    for body in bodies:
        aws.sqs.send_message(QueueUrl=queue, MessageBody=body)


def waiting(aws, queue) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def sign_in_batch(*event_ids: str):
    return subscription_payload([event("root_mfa_failure", eventID=event_id) for event_id in event_ids])


def test_kept_events_run_again_and_their_sign_ins_are_stored_and_mailed_once(aws, queue):
    keep(aws, queue, destination_record(sign_in_batch("a", "b")), destination_record(sign_in_batch("c")))
    lambda_client = NotifierAsLambda(aws)

    outcomes = list(redrive.redrive_queue(queue, aws.sqs, lambda_client))

    assert [o.done for o in outcomes] == [True, True]
    # The function itself, not the version that ran; asynchronously, so retries and the queue apply again.
    assert lambda_client.invoked == [(FUNCTION_ARN, "Event")] * 2
    assert all(aws.item(event_id) for event_id in "abc") and len(aws.mails()) == 3
    assert waiting(aws, queue) == 0


def test_an_event_kept_twice_mails_once(aws, queue):
    # Lambda's delivery is at-least-once: the same failed event can reach the queue twice.
    record = destination_record(sign_in_batch("a"))
    keep(aws, queue, record, record)
    list(redrive.redrive_queue(queue, aws.sqs, NotifierAsLambda(aws)))
    assert len(aws.mails()) == 1 and waiting(aws, queue) == 0


def test_an_event_whose_invoke_fails_stays_in_the_queue(aws, queue):
    keep(aws, queue, destination_record(sign_in_batch("a")))
    outcomes = list(redrive.redrive_queue(queue, aws.sqs, NotifierAsLambda(aws, fail_with="TooManyRequestsException")))
    assert [o.done for o in outcomes] == [False]
    assert "TooManyRequestsException" in outcomes[0].detail
    assert waiting(aws, queue) == 1


def test_a_message_that_is_not_a_destination_record_is_named_and_kept(aws, queue):
    keep(aws, queue, "hello", json.dumps({"requestPayload": {}}), destination_record(sign_in_batch("a")))
    outcomes = list(redrive.redrive_queue(queue, aws.sqs, NotifierAsLambda(aws)))
    assert sorted(o.done for o in outcomes) == [False, False, True]
    assert {o.detail for o in outcomes if not o.done} == {
        "left in the queue: not JSON, so not a Lambda destination record",
        "left in the queue: no requestContext.functionArn",
    }
    assert waiting(aws, queue) == 2


def test_a_dry_run_lists_and_changes_nothing(aws, queue):
    keep(aws, queue, destination_record(sign_in_batch("a")))
    lambda_client = NotifierAsLambda(aws)
    outcomes = list(redrive.redrive_queue(queue, aws.sqs, lambda_client, dry_run=True))
    assert len(outcomes) == 1 and outcomes[0].line(dry_run=True).startswith("would re-drive ")
    assert "RetriesExhausted after 3 attempts" in outcomes[0].detail
    assert lambda_client.invoked == [] and aws.item("a") is None
    # Visible again at once, for the real run.
    assert len(aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])) == 1


def test_only_the_named_functions_events_are_re_driven(aws, queue):
    other = f"arn:aws:lambda:{REGION}:123456789012:function:login-monitoring-forwarder:$LATEST"
    keep(aws, queue, destination_record(sign_in_batch("a")), destination_record({"Records": []}, other))
    lambda_client = NotifierAsLambda(aws)
    outcomes = list(redrive.redrive_queue(queue, aws.sqs, lambda_client, only_function="login-monitoring-notifier"))
    assert sorted((o.function_arn.rsplit(":", 1)[-1], o.done) for o in outcomes) == [
        ("login-monitoring-forwarder", False),
        ("login-monitoring-notifier", True),
    ]


def test_the_command_reads_the_queues_from_stack_outputs_and_invokes_real_lambda(aws, queue, capsys, tmp_path):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="notifier", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("handler.py", "def handler(event, context):\n    return None\n")
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="login-monitoring-notifier",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    keep(aws, queue, destination_record(sign_in_batch("a"), function["FunctionArn"] + ":$LATEST"))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"failedEventsQueueUrl": queue, "alertTopicArn": aws.topic_arn}))

    assert redrive.main(["--outputs", str(outputs)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("re-driven ") and out[0].endswith("RetriesExhausted after 3 attempts")
    assert out[-1] == f"{queue}: 1 event(s) handled"
    assert waiting(aws, queue) == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--queue-url", "https://example.com/q"], "is not an SQS queue URL"),
        (["--queue-url", "https://sqs.us-east-1.amazonaws.com/1/q", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, words, capsys):
    assert redrive.main(argv, clients=lambda *_: pytest.fail("no client may be made")) == 2
    assert words in capsys.readouterr().err


def test_outputs_without_a_queue_are_refused(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"hubTopicArn": "arn:aws:sns:us-east-1:1:hub"}))
    assert redrive.main(["--outputs", str(outputs)]) == 2
    assert "name no failed-events queue" in capsys.readouterr().err
