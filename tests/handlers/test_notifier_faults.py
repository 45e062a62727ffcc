"""The notifier under faults: nothing lost, nothing mailed twice, one bad record costs only itself.

AWS is moto; faults are injected by wrapping the boto3 clients; concurrency uses real threads.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from detections.catalog import CATALOG
from detections.pattern import compile_pattern
from handlers import notifier
from handlers.log_lines import unmarked_mails_pattern
from handlers.notifier import MIN_REMAINING_MS, ConfigurationError, NotifierConfig, OutOfTime
from handlers.payload import MAX_DECODED_BYTES, PayloadError, decode_subscription_event
from handlers.signin import parse_signin_event
from handlers.store import LEASE_SECONDS, REDELIVERY_DAYS
from tests.handlers.events import event, subscription_payload
from tests.handlers.faulty import (
    Atomic,
    Clock,
    Faulty,
    all_at_once,
    client_error,
    mail_event_id,
    mailed_ids,
    process,
    run,
)
from tests.handlers.lambda_logs import counted_by_health_filter
from tests.handlers.moto_aws import HANDLED_AT

NINE_GOOD = [
    event("iam_user_mfa_success", eventID=f"good-{index}", eventTime=f"2024-05-01T10:0{index}:00Z")
    for index in range(9)
]


# 2. A broken alert topic (its key disabled) must not cost history.
def test_every_sign_in_is_stored_even_when_no_mail_can_be_sent(aws):
    def disabled_key(**_):
        raise client_error("KMSDisabled", "Publish")

    with pytest.raises(ClientError):
        run(aws, [*NINE_GOOD, event("root_mfa_failure")], sns=Faulty(aws.sns, publish=disabled_key))

    assert aws.item_count() == 10
    assert {aws.item(f"good-{index}")["mail"]["S"] for index in range(9)} == {"pending"}


# 3. SNS accepted the mail, then marking it sent failed: the invocation succeeds, no second mail.
def test_a_transient_mark_sent_failure_is_retried_and_the_mail_goes_out_once(aws):
    failures = {"left": 2}

    def flaky_mark(**kwargs):
        if ":sent" in kwargs.get("ExpressionAttributeValues", {}) and failures["left"]:
            failures["left"] -= 1
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")

    result = run(aws, [event("root_mfa_success")], dynamodb=Faulty(aws.dynamodb, update_item=flaky_mark))

    assert result.mailed == 1 and result.unmarked == []
    assert aws.item(event("root_mfa_success")["eventID"])["mail"]["S"] == "sent"
    assert len(aws.mails()) == 1


def test_a_lasting_mark_sent_failure_is_logged_not_retried(aws, caplog):
    def broken_mark(**kwargs):
        if ":sent" in kwargs.get("ExpressionAttributeValues", {}):
            raise client_error("InternalServerError", "UpdateItem")

    sign_in = event("root_mfa_success")
    with caplog.at_level(logging.ERROR, logger="login-monitoring.notifier"):
        result = run(aws, [sign_in], dynamodb=Faulty(aws.dynamodb, update_item=broken_mark))

    assert result.mailed == 1 and result.unmarked == [sign_in["eventID"]]
    assert len(aws.mails()) == 1
    (line,) = [record for record in caplog.records if sign_in["eventID"] in record.getMessage()]
    assert line.getMessage().startswith(f"mail sent but not marked: event {sign_in['eventID']}")
    # The health alarm on the open duplicate window counts it.
    assert counted_by_health_filter(line, unmarked_mails_pattern())


# 4. Lambda's asynchronous delivery is at-least-once: two invocations of one batch run together.
def test_concurrent_invocations_of_one_batch_mail_each_sign_in_once(aws):
    batch = [event("iam_user_mfa_failure", eventID=f"c-{index}") for index in range(40)]

    def invoke(owner):
        return process(aws, subscription_payload(batch), Atomic(aws.dynamodb), Atomic(aws.sns), owner=owner)

    results, errors = all_at_once(invoke, [f"invocation-{n}" for n in range(2)])

    assert errors == []
    assert sum(result.mailed for result in results) == 40
    assert mailed_ids(aws) == sorted(f"c-{index}" for index in range(40))
    assert aws.item_count() == 40


def test_a_lease_left_by_a_killed_invocation_is_taken_over_after_it_expires(aws):
    sign_in = event("root_mfa_success")
    clock = Clock()

    def killed(**_):
        raise TimeoutError("the function was killed before SNS answered")

    with pytest.raises(TimeoutError):
        run(aws, [sign_in], sns=Faulty(aws.sns, publish=killed), clock=clock, owner="first")
    assert aws.item(sign_in["eventID"])["mail"]["S"] == "sending"

    # The retry finds the lease still live, waits it out, then mails once.
    retry = run(aws, [sign_in], clock=clock, owner="retry")
    assert retry.mailed == 1
    assert clock.now >= HANDLED_AT + timedelta(seconds=LEASE_SECONDS)
    assert len(aws.mails()) == 1


# 5. A record that can never be handled is skipped, named, and costs its nine neighbours nothing.
BAD_RECORDS = {
    "event time at the end of time": event("root_mfa_failure", eventID="bad", eventTime="9999-12-31T23:59:59Z"),
    "event id over DynamoDB's key limit": event("root_mfa_failure", eventID="x" * 3000),
    "lone surrogate in the user agent": event("root_mfa_failure", eventID="bad", userAgent="Mozilla \ud800"),
    "user agent larger than an SNS message": event("root_mfa_failure", eventID="bad", userAgent="A" * 300_000),
    "account id that overflows the subject": event(
        "root_mfa_failure", eventID="bad", recipientAccountId="9" * 200, userIdentity={"type": "Root"}
    ),
    "event name that is long and not ASCII": event(
        "root_mfa_failure", eventID="bad", eventName="ConsoleLogin" + "é" * 500
    ),
}


@pytest.mark.parametrize("case", BAD_RECORDS)
def test_one_bad_record_costs_only_itself(aws, case):
    bad = BAD_RECORDS[case]
    result = run(aws, [*NINE_GOOD[:4], bad, *NINE_GOOD[4:]])

    mails = aws.mails()
    good_ids = sorted(record["eventID"] for record in NINE_GOOD)
    assert all(aws.item(event_id) for event_id in good_ids)
    assert set(good_ids) <= {mail_event_id(mail) for mail in mails}
    for mail in mails:
        assert len(mail["Subject"]) < 100 and mail["Subject"].isascii() and mail["Subject"].isprintable()
        assert len(mail["Message"].encode()) <= 262_144
    # Either skipped by name, or kept and mailed within SNS's limits once its fields were made safe.
    assert len(result.skipped) == 1 or (result.stored == 10 and len(mails) == 10)


def test_absurdly_deep_json_is_skipped_not_fatal(aws):
    result = run(aws, [*NINE_GOOD, "[" * 100_000 + "]" * 100_000])
    assert result.stored == 9 and result.mailed == 9 and len(result.skipped) == 1


def test_each_skipped_record_is_counted_once_by_the_health_metric_filter(aws, caplog):
    bad = [BAD_RECORDS["event id over DynamoDB's key limit"], "not json", "[" * 100_000 + "]" * 100_000]
    with caplog.at_level(logging.INFO, logger="login-monitoring.notifier"):
        result = run(aws, [*NINE_GOOD, *bad])
    assert len(result.skipped) == 3
    assert sum(counted_by_health_filter(record) for record in caplog.records) == 3


# 8. A line break in a field cannot add lines to the mail.
def test_a_line_break_in_a_field_cannot_forge_mail_lines(aws):
    forged = event("root_mfa_failure", userAgent="curl\nOutcome:          Success\r\nNeeds a look:\u2028none")
    run(aws, [forged])
    (mail,) = aws.mails()
    lines = mail["Message"].splitlines()
    assert [line for line in lines if line.startswith("Outcome:")] == [
        "Outcome:          Failure (Failed authentication)"
    ]
    assert not any(line.startswith("Needs a look:") and "none" in line for line in lines)


# 9. The notifier and the no-MFA detection agree on a console sign-in without MFAUsed.
@pytest.mark.parametrize("identity", ["iam_user_mfa_success", "root_mfa_success"])
def test_a_sign_in_without_mfa_used_is_no_mfa_for_the_detection_and_the_notifier(identity):
    raw = event(identity)
    raw["additionalEventData"].pop("MFAUsed")
    (no_mfa,) = [entry for entry in CATALOG if entry.id == "console-sign-in-without-mfa"]
    record = parse_signin_event(raw)
    assert compile_pattern(no_mfa.patterns["recommended"]).matches(raw) is True
    assert "no MFA" in record.risk_reasons


# 10. Start-up refuses a wrong setting; the failure log names the event; payloads are bounded.
@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"notify_on": "everything"}, "NOTIFY_ON"),
        ({"history_days": 3_000_000}, "HISTORY_DAYS"),
        ({"timezone": "Mars/Olympus"}, "DISPLAY_TIMEZONE"),
    ],
)
def test_a_wrong_setting_is_refused_at_start_up(changes, variable):
    values = {"table_name": "t", "topic_arn": "arn:aws:sns:us-east-1:1:t", **changes}
    with pytest.raises(ConfigurationError, match=variable):
        NotifierConfig(**values)


def test_the_failure_log_names_the_event_the_batch_failed_on(aws, caplog):
    def throttled(**_):
        raise client_error("ThrottlingException", "PutItem")

    sign_in = event("root_mfa_success")
    with caplog.at_level(logging.ERROR, logger="login-monitoring.notifier"), pytest.raises(ClientError):
        run(aws, [sign_in], dynamodb=Faulty(aws.dynamodb, put_item=throttled))
    assert f"batch failed at event {sign_in['eventID']} while storing" in caplog.text


def test_a_gzip_bomb_is_refused_without_inflating_it():
    bomb = gzip.compress(b"{" + b" " * (MAX_DECODED_BYTES + 1024) + b"}")
    payload = {"awslogs": {"data": base64.b64encode(bomb).decode()}}
    with pytest.raises(PayloadError, match="inflates to more than"):
        decode_subscription_event(payload)


@pytest.mark.parametrize("data", [123, ["a"], {"b": 1}, None])
def test_awslogs_data_that_is_not_text_is_a_payload_error(data):
    with pytest.raises(PayloadError):
        decode_subscription_event({"awslogs": {"data": data}})


# 11. Little time left: stop before a call rather than be killed in it; the retry finishes the job.
def test_the_invocation_stops_early_when_time_runs_out_and_the_retry_finishes(aws):
    budget = {"ms": MIN_REMAINING_MS + 5}

    def remaining_ms():
        budget["ms"] -= 1  # every step costs a little
        return budget["ms"]

    with pytest.raises(OutOfTime, match="Lambda retries the batch"):
        run(aws, NINE_GOOD, remaining_ms=remaining_ms)
    mailed_first = len(aws.mails())
    assert mailed_first < 9

    retry = run(aws, NINE_GOOD)
    assert aws.item_count() == 9
    assert mailed_first + retry.mailed == 9
    assert len(aws.mails()) == 9 - mailed_first


# 7. Items outlive any re-drive of the failed-events queue, whatever the history window.
def test_items_outlive_the_redelivery_window_even_with_a_one_day_history(aws):
    sign_in = event("root_mfa_success")
    process(aws, subscription_payload([sign_in]))
    # history_days of the fixture config is 90; a one-day history must keep the item as long.
    short = NotifierConfig(table_name="sign-ins", topic_arn=aws.topic_arn, history_days=1)
    from handlers.notifier import process_batch

    process_batch(
        subscription_payload([event("root_no_mfa_success")]), short, aws.dynamodb, aws.sns, clock=lambda: HANDLED_AT
    )
    item = aws.item(event("root_no_mfa_success")["eventID"])
    assert int(item["expiresAt"]["N"]) >= int((HANDLED_AT + timedelta(days=REDELIVERY_DAYS)).timestamp())


def test_a_record_dated_far_in_the_future_is_skipped(aws):
    future = event("root_mfa_failure", eventID="future", eventTime=(HANDLED_AT + timedelta(days=3)).isoformat())
    result = run(aws, [*NINE_GOOD, future])
    assert result.skipped == ["future"] and result.stored == 9


def test_the_control_message_payload_still_decodes():
    payload = subscription_payload(["CWL CONTROL MESSAGE"], "CONTROL_MESSAGE")
    assert decode_subscription_event(payload).is_control_message
    assert json.loads(gzip.decompress(base64.b64decode(payload["awslogs"]["data"])))["messageType"]


# 12. A spray's batch is judged in one pass, and the clock is read while judging, before anything is stored.
def test_time_running_out_while_judging_a_spray_stops_before_anything_is_stored(aws, monkeypatch):
    # More sign-ins than judging takes between two looks at the clock (looked at more often here, so the
    # spray stays small enough for moto).
    monkeypatch.setattr(notifier, "JUDGE_TIME_CHECK_EVERY", 32)
    size = notifier.JUDGE_TIME_CHECK_EVERY + 44
    spray = []
    for index in range(size):
        raw = event("unknown_user_failure", eventID=f"spray-{index:04d}", sourceIPAddress="203.0.113.9")
        raw["eventTime"] = f"2024-05-01T10:{index // 60:02d}:{index % 60:02d}Z"
        spray.append(raw)
    calls = {"count": 0}

    def remaining_ms():
        calls["count"] += 1  # the IP's history Query, then judging's first look at the clock
        return 15 * 60 * 1000 if calls["count"] <= 2 else MIN_REMAINING_MS - 1

    with pytest.raises(OutOfTime, match="stopping before judging"):
        run(aws, spray, remaining_ms=remaining_ms)
    assert aws.item_count() == 0

    retry = run(aws, spray)
    assert retry.stored == size
    reasons = [reason["S"] for reason in aws.item(f"spray-{size - 1:04d}")["riskReasons"]["L"]]
    assert f"password spray: {size} user names failed from this IP in 60 minutes" in reasons
