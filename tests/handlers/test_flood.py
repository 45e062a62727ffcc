"""Flood control against moto: a burst sends one mail and one digest, whatever the retries and concurrency."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from handlers.notifier import send_digests
from tests.handlers.events import event
from tests.handlers.faulty import all_at_once
from tests.handlers.flood_runs import T0, at, deliver, digests, last_time

IPS = ("193.99.144.80", "1.0.16.1", "8.8.8.8")


def failures(count: int, start: datetime = T0, spacing: int = 10, prefix: str = "f", **changes) -> list[dict]:
    return [
        event(
            "iam_user_mfa_failure",
            eventID=f"{prefix}-{index:04d}",
            eventTime=(start + timedelta(seconds=spacing * index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            sourceIPAddress=IPS[index % len(IPS)],
            **changes,
        )
        for index in range(count)
    ]


def test_a_burst_sends_one_mail_then_one_digest_when_it_is_over(aws):
    burst = failures(60)
    for start in range(0, 60, 20):
        batch = burst[start : start + 20]
        deliver(aws, batch, last_time(batch) + timedelta(minutes=2))

    assert aws.item_count() == 60
    (first,) = aws.mails()
    assert first["Subject"] == "[!] Console sign-in FAILED: IAM user hibino in 111122223333"
    assert aws.item("f-0000")["mail"]["S"] == "sent"
    assert {aws.item(f"f-{i:04d}")["mail"]["S"] for i in range(1, 60)} == {"digest"}

    end = last_time(burst)
    assert digests(aws, end + timedelta(minutes=4)) == 0  # neither quiet yet nor waiting too long
    assert digests(aws, end + timedelta(minutes=11)) == 1
    (digest,) = aws.mails()
    assert digest["Subject"] == "[digest] 59 more failed sign-ins: IAM user: hibino in 111122223333"
    body = digest["Message"]
    assert body.startswith("59 more failed sign-ins in AWS account 111122223333\n")
    assert "Count:       59" in body
    assert "Source IPs:  1.0.16.1 (JP) (20), 8.8.8.8 (US) (20), 193.99.144.80 (DE) (19)" in body
    assert "Countries:   JP (20), US (20), DE (19)" in body
    assert "First:       2024-06-01 08:00:10 Asia/Tokyo (2024-05-31 23:00:10 UTC)" in body
    # Sent once: a later run finds the cursor moved.
    assert digests(aws, end + timedelta(minutes=30)) == 0
    assert aws.mails() == []


def test_a_retried_batch_mails_nothing_again_and_counts_nothing_twice(aws):
    burst = failures(30)
    clock = last_time(burst) + timedelta(minutes=2)
    deliver(aws, burst, clock)
    again = deliver(aws, burst, clock, known={})
    assert again.stored == 0 and again.mailed == 0
    assert len(aws.mails()) == 1
    digests(aws, last_time(burst) + timedelta(minutes=11))
    (digest,) = aws.mails()
    assert "Count:       29" in digest["Message"]


def test_the_opener_is_mailed_on_retry_when_storing_failed_after_the_window_opened(aws):
    burst = failures(5)
    clock = last_time(burst) + timedelta(minutes=2)
    with pytest.raises(ClientError):
        deliver(aws, burst, clock, table_name="no-such-table")
    assert aws.mails() == []
    deliver(aws, burst, clock, known={})
    assert len(aws.mails()) == 1
    assert aws.item("f-0000")["mail"]["S"] == "sent"


def test_root_sign_ins_and_risky_successes_are_never_held_back(aws):
    roots = [event("root_mfa_failure", eventID=f"root-{i}", eventTime=f"2024-05-31T23:00:0{i}Z") for i in range(5)]
    no_mfa = [
        event("iam_user_no_mfa_success", eventID=f"nomfa-{i}", eventTime=f"2024-05-31T23:01:0{i}Z") for i in range(4)
    ]
    result = deliver(aws, roots + no_mfa, T0 + timedelta(minutes=5))
    assert result.mailed == 9
    assert len(aws.mails()) == 9


def test_a_sign_in_after_the_quiet_time_opens_a_new_window_and_is_mailed(aws):
    deliver(aws, failures(3), T0 + timedelta(minutes=2))
    later = failures(3, start=T0 + timedelta(minutes=30), prefix="g")
    deliver(aws, later, T0 + timedelta(minutes=32))
    subjects = [mail["Subject"] for mail in aws.mails()]
    assert len(subjects) == 2
    assert aws.item("g-0000")["mail"]["S"] == "sent"


def test_an_endless_burst_still_gets_a_digest_within_fifteen_minutes_of_its_first_held_sign_in(aws):
    burst = failures(120, spacing=15)  # 30 minutes, never quiet
    for start in range(0, 60, 20):
        batch = burst[start : start + 20]
        deliver(aws, batch, last_time(batch) + timedelta(minutes=1))
    first_stored = datetime.fromisoformat(burst[19]["eventTime"]) + timedelta(minutes=1)
    aws.mails()
    assert digests(aws, first_stored + timedelta(minutes=10)) == 1
    # The third batch was stored within the last minute: it waits for the next digest.
    assert "[digest] 39 more failed sign-ins" in aws.mails()[0]["Subject"]


def test_without_a_quiet_time_every_sign_in_is_mailed(aws):
    deliver(aws, failures(10), T0 + timedelta(minutes=2), quiet_minutes=0)
    assert len(aws.mails()) == 10


def test_concurrent_invocations_open_one_window_and_send_one_digest(aws):
    burst = failures(80, spacing=3)
    batches = [burst[i : i + 10] for i in range(0, 80, 10)]
    clock = last_time(burst) + timedelta(minutes=1)
    # Each invocation in its own container: nothing known in advance.
    _, errors = all_at_once(lambda batch: deliver(aws, batch, clock, known={}), batches)
    assert errors == []
    assert aws.item_count() == 80
    assert len(aws.mails()) == 1

    sent, errors = all_at_once(lambda _: digests(aws, last_time(burst) + timedelta(minutes=11)), range(4))
    assert errors == []
    assert sum(sent) == 1
    (digest,) = aws.mails()
    assert "Count:       79" in digest["Message"]


def test_a_digest_names_the_alias_of_the_stacks_own_account_only(aws):
    burst = failures(5)
    deliver(aws, burst, last_time(burst) + timedelta(minutes=2))
    aws.mails()
    values = {"flood_table": "flood", "quiet_minutes": 10, "account_alias": "acme-prod"}
    later = at(last_time(burst) + timedelta(minutes=11))

    # The moto topic belongs to another account than the sign-ins: no alias.
    assert send_digests(aws.config(**values), aws.dynamodb, aws.sns, clock=later, sleep=lambda s: None) == 1
    assert aws.mails()[0]["Subject"] == "[digest] 4 more failed sign-ins: IAM user: hibino in 111122223333"

    burst = failures(5, start=T0 + timedelta(hours=2), prefix="g")
    deliver(aws, burst, last_time(burst) + timedelta(minutes=2))
    aws.mails()
    own = aws.config(**values, topic_arn="arn:aws:sns:us-east-1:111122223333:alerts")
    published = []

    class Inbox:
        def publish(self, **request):
            published.append(request)
            return {"MessageId": "m"}

    later = at(last_time(burst) + timedelta(minutes=11))
    assert send_digests(own, aws.dynamodb, Inbox(), clock=later, sleep=lambda s: None) == 1
    (request,) = published
    assert request["Subject"] == "[digest] 4 more failed sign-ins: IAM user: hibino in 111122223333 (acme-prod)"
    assert json.loads(request["Message"])["default"].startswith(
        "4 more failed sign-ins in AWS account 111122223333 (acme-prod)\n"
    )
