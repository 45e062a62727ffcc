"""Push a 1,000-event batch through the notifier against moto; print events/s and AWS calls per event.

    python -m bench.handler_throughput [--events 1000]

The batch is a working day of one account: 50 people signing in from their usual addresses in five
countries, some failing, a few travelling, and an attacker spraying unknown user names from one IP.
Three passes over it: first delivery with every sign-in mailed, the same batch retried (nothing new may
be stored or mailed), and first delivery with the 'risky' policy; each prints events/s, AWS calls per
event and Queries per sign-in (the history reasons' cost: one Query per principal and per IP of a
batch, never one per sign-in). moto runs in-process, so the times measure the handler's own work plus
moto's, not network latency.

Then the history reasons' judgement alone (no AWS: the Queries answer nothing stored) of batches of 100,
1,000 and 10,000 sign-ins from one IP (a spray of unknown names with people failing and succeeding in
between): wall and CPU time, and per sign-in, which must stay flat; the goal is under 2 s for 10,000.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import boto3
from moto import mock_aws

from handlers.formatting import render_body, render_subject
from handlers.notifier import BatchRun, NotifierConfig, process_batch
from handlers.payload import decode_subscription_event, iter_messages
from handlers.signin import parse_signin_event
from tests.handlers.events import subscription_payload
from tests.handlers.moto_aws import history_table_definition
from tests.handlers.signins import sign_in, unknown_user_failure

REGION = "us-east-1"


# Registered in Japan, Germany, the USA, the UK and Australia (RIR data as bundled).
HOME_ADDRESSES = ("1.0.16.1", "193.99.144.80", "8.8.8.8", "81.2.69.142", "1.1.1.1")
PEOPLE = 50
ATTACKER = "185.220.101.1"


def synthetic_batch(size: int) -> list[dict]:
    records = []
    for index in range(size):
        event_id = str(uuid.UUID(int=index + 1))
        person = index % PEOPLE
        minute = index * 480 // size
        when = f"2024-05-01T{8 + minute // 60:02}:{minute % 60:02}:{index % 60:02}Z"
        if index % 20 == 19:
            # 5%: an attacker trying user names that do not exist.
            record = unknown_user_failure(event_id, "00:00", ATTACKER)
            record["eventTime"] = when
        else:
            home = HOME_ADDRESSES[person % len(HOME_ADDRESSES)]
            # 2% sign in while travelling; 8% mistype their password first.
            address = HOME_ADDRESSES[(person + 1) % len(HOME_ADDRESSES)] if index % 50 == 7 else home
            record = sign_in(event_id, when, address, user=f"user{person}", failed=index % 12 == 3)
        records.append(record)
    return records


def measure(label: str, payload: dict, config: NotifierConfig, clients: dict, calls: Counter, size: int) -> None:
    calls.clear()
    started = time.perf_counter()
    result = process_batch(payload, config, clients["dynamodb"], clients["sns"])
    elapsed = time.perf_counter() - started
    total = sum(calls.values())
    detail = ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))
    print(
        f"{label:<28} {size / elapsed:>8.0f} events/s  {total / size:>5.2f} AWS calls/event  "
        f"{calls['Query'] / size:>5.3f} Queries/sign-in  "
        f"stored {result.stored}, duplicates {result.duplicates}, mailed {result.mailed}  ({detail})"
    )


def measure_pure(payload: dict, size: int) -> None:
    zone = ZoneInfo("Asia/Tokyo")
    started = time.perf_counter()
    for _, raw in iter_messages(decode_subscription_event(payload)):
        record = parse_signin_event(raw)
        render_subject(record)
        render_body(record, zone, "Asia/Tokyo")
    elapsed = time.perf_counter() - started
    print(f"{'decode+parse+format only':<28} {size / elapsed:>8.0f} events/s  (no AWS calls: the handler's own cost)")


JUDGEMENT_GOAL_SECONDS = 2.0


def same_ip_batch(size: int) -> list[dict]:
    """`size` sign-ins from ATTACKER within an hour: unknown names failing, and PEOPLE failing and succeeding."""
    records = []
    for index in range(size):
        event_id = str(uuid.UUID(int=index + 1))
        second = index * 3600 // size
        when = f"2024-05-01T10:{second // 60:02}:{second % 60:02}Z"
        if index % 4:
            record = unknown_user_failure(event_id, "00:00", ATTACKER)
        else:
            record = sign_in(event_id, when, ATTACKER, user=f"user{index % PEOPLE}", failed=index % 8 == 0)
        record["eventTime"] = when
        records.append(record)
    return records


class _NothingStored:
    """The history table's Queries, answering that nothing is stored yet."""

    def by_principal(self, key, since, until):
        return []

    def by_ip(self, key, since, until):
        return []


def measure_judgement(size: int) -> float:
    records = [parse_signin_event(raw) for raw in same_ip_batch(size)]
    config = NotifierConfig(table_name="unused", topic_arn="arn:aws:sns:us-east-1:111122223333:alerts")
    run = BatchRun(config=config, store=None, history=_NothingStored(), sns=None, owner="bench")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    started, cpu = time.perf_counter(), time.process_time()
    judged = run._with_history_reasons(records)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    risky = sum(1 for record in judged if record.history_reasons)
    print(
        f"{'judgement, ' + format(size, ',') + ' same-IP':<28} {elapsed:>7.3f} s wall, {cpu:.3f} s CPU, "
        f"{elapsed / size * 1e6:>6.1f} µs per sign-in; {risky:,} with history reasons; load average {load}"
    )
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    size = parser.parse_args(argv).events
    records = synthetic_batch(size)

    with mock_aws():
        clients = {
            "dynamodb": boto3.client("dynamodb", region_name=REGION),
            "sns": boto3.client("sns", region_name=REGION),
        }
        calls: Counter = Counter()
        for client in clients.values():
            client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
        topic_arn = clients["sns"].create_topic(Name="alerts")["TopicArn"]
        for table in ("history-all", "history-risky"):
            clients["dynamodb"].create_table(**history_table_definition(table))
        payload = subscription_payload(records)
        every = NotifierConfig(table_name="history-all", topic_arn=topic_arn, timezone="Asia/Tokyo")
        risky = NotifierConfig(
            table_name="history-risky", topic_arn=topic_arn, timezone="Asia/Tokyo", notify_on="risky"
        )

        print(f"batch of {size} console sign-ins ({PEOPLE} people, 5 countries, failures, a spray), moto in-process")
        measure_pure(payload, size)
        measure("first delivery, notify all", payload, every, clients, calls, size)
        measure("same batch retried", payload, every, clients, calls, size)
        measure("first delivery, notify risky", payload, risky, clients, calls, size)

    print("sign-in judgement (the history reasons of a whole batch), no AWS")
    for judged in (100, 1_000):
        measure_judgement(judged)
    largest = measure_judgement(10_000)
    verdict = "met" if largest < JUDGEMENT_GOAL_SECONDS else "NOT met"
    print(f"goal: 10,000 same-IP sign-ins judged in under {JUDGEMENT_GOAL_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
