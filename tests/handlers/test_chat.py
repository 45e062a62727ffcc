"""One publish per alert: mail text for mail, a chat card for Slack, Teams and webhooks, the whole for the hub."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers import forwarder
from handlers.alarm_message import alarm_document
from handlers.chat import (
    CUT_NOTE,
    DESCRIPTION_LIMIT,
    MESSAGE_LIMIT_BYTES,
    chat_notification,
    publish_request,
    structured_entries,
)
from handlers.formatting import render_body, render_subject
from handlers.notifier import process_batch, send_digests
from handlers.signin import parse_signin_event
from tests.handlers.events import event, subscription_payload
from tests.handlers.published import Recorder, entries

TOPIC = "arn:aws:sns:us-east-1:111122223333:alerts"
HUB = "arn:aws:sns:us-east-1:999988887777:hub"


def sign_in_mail(name: str = "iam_user_no_mfa_failure") -> tuple[str, str]:
    record = parse_signin_event(event(name))
    return render_subject(record), render_body(record, ZoneInfo("UTC"), "UTC")


def test_the_card_is_a_chatbot_custom_notification_with_the_mail_fields():
    subject, body = sign_in_mail()
    card = chat_notification(subject, body)

    assert card["version"] == "1.0" and card["source"] == "custom"
    assert card["content"]["textType"] == "client-markdown"
    assert card["content"]["title"] == subject == card["metadata"]["summary"]
    description = card["content"]["description"]
    assert description.startswith("```\nEvent:") and description.endswith("\n```")
    assert "Who:              IAM user: hibino-dev" in description
    assert "Source IP:        203.0.113.22" in description
    # The first line only says the subject again.
    assert body.splitlines()[0] not in description
    assert "nextSteps" not in card["content"]


def test_links_become_next_steps_and_leave_the_code_block():
    url = "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/x"
    body = f"title\n\nState:  ALARM\n\nThe alarm: {url}\n"
    card = chat_notification("[ALARM] x", body, links=[("The alarm", url)])
    assert card["content"]["nextSteps"] == [f"The alarm: {url}"]
    assert url not in card["content"]["description"]
    assert card["content"]["description"] == "```\nState:  ALARM\n```"


def test_a_long_mail_makes_a_short_card_that_says_it_was_cut():
    body = "title\n\n" + "\n".join(f"row {index:05d} " + "x" * 60 for index in range(2000))
    description = chat_notification("s", body)["content"]["description"]
    assert len(description) <= DESCRIPTION_LIMIT
    assert description.endswith(f"{CUT_NOTE}\n```")
    assert "row 00000" in description


def test_backticks_in_a_field_cannot_end_the_code_block():
    description = chat_notification("s", "title\n\nWho:  user```evil\n")["content"]["description"]
    assert description.count("```") == 2


def test_one_publish_carries_the_mail_text_the_card_and_both_for_the_hub():
    subject, body = sign_in_mail()
    card = chat_notification(subject, body)
    request = publish_request(TOPIC, subject, body, card)

    assert request["TopicArn"] == TOPIC and request["Subject"] == subject
    message = entries(request)
    assert set(message) == {"default", "https", "lambda"}
    assert message["default"] == body
    assert json.loads(message["https"]) == card
    assert structured_entries(message["lambda"]) == {"default": body, "https": message["https"]}


@pytest.mark.parametrize("unit", ["x", "\u00e9\n", '"\\'])
def test_the_whole_message_fits_sns_even_for_the_largest_mail(unit):
    # The largest body the renderers allow, made of what JSON escapes most.
    body = "title\n\n" + unit * (256 * 1024 // len(unit.encode("utf-8")))
    card = chat_notification("s", body)
    request = publish_request(TOPIC, "s", body, card)

    assert len(request["Message"].encode("utf-8")) <= MESSAGE_LIMIT_BYTES
    message = entries(request)
    assert json.loads(message["https"]) == card
    assert body.startswith(message["default"].removesuffix("\n[cut]\n"))
    assert len(message["default"]) > 40_000  # cut to fit, not thrown away


@pytest.mark.parametrize(
    "message",
    [
        "plain text mail",
        json.dumps({"AlarmName": "a", "NewStateValue": "ALARM"}),
        json.dumps({"default": "x"}),
        json.dumps({"default": "x", "https": 5}),
        "{not json",
    ],
)
def test_only_the_functions_own_structure_is_forwarded_as_one(message):
    assert structured_entries(message) is None


def test_the_forwarder_republishes_a_structured_mail_to_the_hub_as_it_is():
    subject, body = sign_in_mail()
    message = entries(publish_request(TOPIC, subject, body, chat_notification(subject, body)))

    request = forwarder.hub_request(HUB, {"Subject": subject, "Message": message["lambda"]})

    assert request["TopicArn"] == HUB and request["Subject"] == subject
    forwarded = entries(request)
    assert forwarded == {"default": body, "https": message["https"]}
    assert alarm_document(message["lambda"]) is None


def test_the_notifier_publishes_each_sign_in_once_with_its_card_and_mail_readers_get_the_text(aws):
    sns = Recorder(aws.sns)
    process_batch(subscription_payload([event("iam_user_no_mfa_failure")]), aws.config(), aws.dynamodb, sns)

    (request,) = sns.published
    message = entries(request)
    (mail,) = aws.mails()
    assert mail["Message"] == message["default"] and mail["Subject"] == request["Subject"]
    card = json.loads(message["https"])
    assert card["content"]["title"] == request["Subject"]
    assert "Who:              IAM user: hibino-dev" in card["content"]["description"]


def test_a_digest_is_published_with_its_card(aws):
    burst = [
        event("iam_user_mfa_failure", eventID=f"d-{index}", eventTime=f"2024-05-31T23:00:{index:02d}Z")
        for index in range(5)
    ]
    config = aws.config(flood_table="flood", quiet_minutes=10)
    moment = datetime(2024, 5, 31, 23, 2, tzinfo=UTC)
    process_batch(subscription_payload(burst), config, aws.dynamodb, aws.sns, clock=lambda: moment)
    aws.mails()
    sns = Recorder(aws.sns)
    later = moment + timedelta(minutes=15)
    assert send_digests(config, aws.dynamodb, sns, clock=lambda: later, sleep=lambda s: None) == 1

    (request,) = sns.published
    assert request["Subject"].startswith("[digest] 4 more failed sign-ins")
    card = json.loads(entries(request)["https"])
    assert "Count:       4" in card["content"]["description"]
    assert aws.mails()[0]["Message"].startswith("4 more failed sign-ins in AWS account 111122223333\n")
