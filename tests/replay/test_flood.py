"""Flood control as replay models it: who gets a mail of their own, and what the digests hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.signin import parse_signin_event
from replay.flood import FloodControl, next_flush
from tests.handlers.signins import JAPAN, sign_in

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
