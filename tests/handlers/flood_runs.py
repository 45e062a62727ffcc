"""Flood control's runs against moto, as the flood tests deliver batches and send digests at chosen times."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.notifier import process_batch, send_digests
from tests.handlers.events import subscription_payload
from tests.handlers.faulty import Atomic

T0 = datetime(2024, 5, 31, 23, 0, tzinfo=UTC)


def at(moment: datetime):
    return lambda: moment


def deliver(aws, messages, clock: datetime, known=None, **config):
    values = {"flood_table": "flood", "quiet_minutes": 10, **config}
    return process_batch(
        subscription_payload(messages),
        aws.config(**values),
        Atomic(aws.dynamodb),
        Atomic(aws.sns),
        flood_known=known,
        clock=at(clock),
    )


def digests(aws, clock: datetime, **config) -> int:
    values = {"flood_table": "flood", "quiet_minutes": 10, **config}
    return send_digests(
        aws.config(**values), Atomic(aws.dynamodb), Atomic(aws.sns), clock=at(clock), sleep=lambda s: None
    )


def last_time(messages) -> datetime:
    return max(datetime.fromisoformat(m["eventTime"]) for m in messages)
