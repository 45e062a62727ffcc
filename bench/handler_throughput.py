"""Push a 1,000-event batch through the notifier against moto; print events/s and AWS calls per event.

    python -m bench.handler_throughput [--events 1000]

Three passes over the same batch: first delivery with every sign-in mailed, the same
batch retried (nothing new may be stored or mailed), and first delivery with the
'risky' policy. moto runs in-process, so the times measure the handler's own work
plus moto's, not network latency.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import boto3
from moto import mock_aws

from handlers.formatting import render_body, render_subject
from handlers.notifier import NotifierConfig, process_batch
from handlers.payload import decode_subscription_event, iter_messages
from handlers.signin import parse_signin_event
from tests.handlers.events import EVENT_NAMES, event, subscription_payload

REGION = "us-east-1"


def synthetic_batch(size: int) -> list[dict]:
    records = []
    for index in range(size):
        record = event(EVENT_NAMES[index % len(EVENT_NAMES)])
        record["eventID"] = str(uuid.UUID(int=index + 1))
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
            clients["dynamodb"].create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        payload = subscription_payload(records)
        every = NotifierConfig(table_name="history-all", topic_arn=topic_arn, timezone="Asia/Tokyo")
        risky = NotifierConfig(
            table_name="history-risky", topic_arn=topic_arn, timezone="Asia/Tokyo", notify_on="risky"
        )

        print(f"batch of {size} sign-in events ({len(EVENT_NAMES)} kinds, round robin), moto in-process")
        measure_pure(payload, size)
        measure("first delivery, notify all", payload, every, clients, calls, size)
        measure("same batch retried", payload, every, clients, calls, size)
        measure("first delivery, notify risky", payload, risky, clients, calls, size)


if __name__ == "__main__":
    main()
