"""Flood control as replay models it: who gets a mail of their own, and what the digests hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moto import mock_aws

from handlers.notifier import process_batch
from handlers.signin import parse_signin_event
from replay.flood import FloodControl, next_flush
from tests.handlers.events import event, subscription_payload
from tests.handlers.moto_aws import Aws
from tests.handlers.signins import JAPAN, sign_in, unknown_user_failure

QUIET = timedelta(minutes=10)


def record(event_id: str, when: str, user: str = "alice", failed: bool = True):
    return parse_signin_event(sign_in(event_id, when, JAPAN, user=user, failed=failed))


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2024-05-01T{text}:00+00:00")


def test_the_schedule_runs_on_five_minute_marks():
    assert next_flush(at("10:09")) == at("10:10")
    assert next_flush(at("10:10")) == at("10:10")
    assert next_flush(datetime(2024, 5, 1, 10, 10, 1, tzinfo=UTC)) == at("10:15")


def test_a_long_burst_is_mailed_once_then_digested_every_ten_minutes_or_so():
    flood = FloodControl(QUIET)
    times = [f"10:{minute:02d}" for minute in range(0, 40, 2)]  # every 2 minutes for 40 minutes
    alone = [flood.mailed_alone(record(f"e{i}", when)) for i, when in enumerate(times)]
    assert alone == [True] + [False] * 19
    sent = [(when, len(digest.sign_ins)) for when, digest in flood.digests()]
    # Held from 10:02: due at 10:12 (first held + 10 minutes), sent at the schedule's 10:15 run with all held
    # by then; the next from 10:16, sent at 10:30; the last from 10:30, due and sent at 10:40.
    assert sent == [(at("10:15"), 7), (at("10:30"), 7), (at("10:40"), 5)]


def test_keys_and_outcomes_have_windows_of_their_own_and_a_gap_reopens_one():
    flood = FloodControl(QUIET)
    assert flood.mailed_alone(record("a1", "10:00"))
    assert flood.mailed_alone(record("b1", "10:01", user="bob"))
    assert flood.mailed_alone(record("a-ok", "10:02", failed=False))  # a success is another window
    assert not flood.mailed_alone(record("a2", "10:05"))
    assert flood.mailed_alone(record("a3", "10:16"))  # 11 minutes after the last: a new window
    ((_, digest),) = flood.digests()
    assert [held.who for held in digest.sign_ins] == ["IAM user: alice"]


def hidden(event_id: str, when: datetime, ip: str):
    raw = unknown_user_failure(event_id, "10:00", ip)
    raw["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return raw


def botnet(count: int, start: datetime) -> list[dict]:
    return [
        hidden(f"b{i:04d}", start + timedelta(seconds=3 * i), f"{(1, 8, 193)[i % 3]}.{i // 200}.{i % 200}.9")
        for i in range(count)
    ]


def test_past_the_ceiling_every_sign_in_of_the_outcome_goes_into_the_account_digest_whatever_its_key():
    flood = FloodControl(QUIET, limit=3)
    records = [parse_signin_event(raw) for raw in botnet(50, at("10:00"))]
    alone = [flood.mailed_alone(r) for r in records]
    assert alone == [True] * 3 + [False] * 47
    ((_, digest),) = flood.digests()
    assert digest.window_key == "Failure|account:111122223333" and len(digest.sign_ins) == 47
    # The next burst, after the quiet time, has its own first mails.
    later = [parse_signin_event(raw) for raw in botnet(5, at("11:00"))]
    assert [flood.mailed_alone(r) for r in later] == [True] * 3 + [False] * 2


def test_a_risky_success_during_the_burst_is_mailed_and_knows_the_burst():
    flood = FloodControl(QUIET, limit=3)
    for r in (parse_signin_event(raw) for raw in botnet(20, at("10:00"))):
        flood.mailed_alone(r)
    success = parse_signin_event(event("iam_user_no_mfa_success", eventID="ok", eventTime="2024-05-01T10:00:30Z"))
    assert flood.mailed_alone(success)
    assert flood.burst_opened(success) == ("Failure|account:111122223333", at("10:00"))
    late = parse_signin_event(event("iam_user_no_mfa_success", eventID="late", eventTime="2024-05-01T11:00:00Z"))
    assert flood.burst_opened(late) is None


def test_replay_decides_each_sign_in_as_the_notifier_does():
    """The same burst through the notifier (moto, one batch a minute) and replay: same mails, same digests."""
    start = datetime(2024, 5, 31, 23, 0, tzinfo=UTC)
    messages = botnet(60, start)
    messages += [
        sign_in(
            f"u{i:02d}", (start + timedelta(seconds=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"), user="carol", failed=True
        )
        for i in range(12)
    ]
    messages.append(event("iam_user_no_mfa_success", eventID="ok", eventTime="2024-05-31T23:01:01Z"))
    messages.sort(key=lambda m: (m["eventTime"], m["eventID"]))
    with mock_aws():
        aws = Aws()
        config = aws.config(flood_table="flood", quiet_minutes=10, burst_limit=4)
        for begin in range(0, len(messages), 15):
            batch = messages[begin : begin + 15]
            clock = datetime.fromisoformat(batch[-1]["eventTime"]) + timedelta(minutes=1)
            process_batch(
                subscription_payload(batch), config, aws.dynamodb, aws.sns, flood_known={}, clock=lambda c=clock: c
            )
        stored = {m["eventID"]: aws.item(m["eventID"]).get("digestKey", {}).get("S", "") for m in messages}

    flood = FloodControl(QUIET, limit=4)
    replayed = {}
    for record in sorted((parse_signin_event(m) for m in messages), key=lambda r: (r.event_time, r.event_id)):
        replayed[record.event_id] = "" if flood.mailed_alone(record) else None
    for _, digest in flood.digests():
        replayed.update((held.sort_key.split("#", 1)[1], digest.window_key) for held in digest.sign_ins)
    assert replayed == stored
    assert sum(key == "" for key in stored.values()) == 5  # four first mails and the risky success
