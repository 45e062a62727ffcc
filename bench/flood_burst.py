"""A password-guessing burst through the notifier with flood control, against moto.

    python -m bench.flood_burst [--sign-ins 1000] [--batch 20]

1,000 failed console sign-ins for one IAM user from 3 IP addresses within 10 minutes, delivered as
CloudWatch Logs would deliver them (50 invocations of 20 events, each about a minute after its last
event), with the digest schedule running every 5 minutes. Prints how many mails went out, how many
sign-ins were stored, and AWS calls per stored sign-in — once with one warm container handling every
invocation (what Lambda does for a steady stream) and once with a cold container per invocation (the
worst case: every batch asks the window table). The calls include the history reasons' Queries.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

from handlers.notifier import process_batch, send_digests
from tests.handlers.events import event, subscription_payload
from tests.handlers.moto_aws import Aws

T0 = datetime(2024, 5, 31, 23, 0, tzinfo=UTC)
IPS = ("193.99.144.80", "1.0.16.1", "8.8.8.8")
QUIET_MINUTES = 10


class Counted:
    """A boto3 client that counts the calls made through it."""

    def __init__(self, client, counts: Counter) -> None:
        self._client, self._counts = client, counts

    def __getattr__(self, name):
        real = getattr(self._client, name)
        if name in ("exceptions", "meta"):
            return real

        def call(**kwargs):
            self._counts[name] += 1
            return real(**kwargs)

        return call


def burst(count: int) -> list[dict]:
    spacing = 600 / count  # all within 10 minutes
    return [
        event(
            "iam_user_mfa_failure",
            eventID=f"burst-{index:05d}",
            eventTime=(T0 + timedelta(seconds=spacing * index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            sourceIPAddress=IPS[index % len(IPS)],
        )
        for index in range(count)
    ]


def run(count: int, batch_size: int, warm: bool) -> dict:
    with mock_aws():
        aws = Aws()
        counts: Counter = Counter()
        dynamodb, sns = Counted(aws.dynamodb, counts), Counted(aws.sns, counts)
        config = aws.config(flood_table="flood", quiet_minutes=QUIET_MINUTES)
        records = burst(count)
        known: dict = {}
        next_flush = T0 + timedelta(minutes=5)
        stored = 0
        for start in range(0, count, batch_size):
            batch = records[start : start + batch_size]
            clock = datetime.fromisoformat(batch[-1]["eventTime"]) + timedelta(minutes=1)
            while next_flush <= clock:
                send_digests(config, dynamodb, sns, clock=lambda at=next_flush: at, sleep=lambda s: None)
                next_flush += timedelta(minutes=5)
            result = process_batch(
                subscription_payload(batch),
                config,
                dynamodb,
                sns,
                flood_known=known if warm else {},
                clock=lambda at=clock: at,
            )
            stored += result.stored
        end = T0 + timedelta(minutes=10)
        while next_flush <= end + timedelta(minutes=QUIET_MINUTES + 5):
            send_digests(config, dynamodb, sns, clock=lambda at=next_flush: at, sleep=lambda s: None)
            next_flush += timedelta(minutes=5)
        mails = aws.mails()
        calls = sum(counts.values())
        return {
            "mails": len(mails),
            "digests": sum(1 for mail in mails if mail["Subject"].startswith("[digest]")),
            "stored": stored,
            "calls": calls,
            "per_sign_in": calls / stored,
            "by_call": dict(sorted(counts.items())),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign-ins", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    invocations = -(-args.sign_ins // args.batch)
    print(
        f"burst: {args.sign_ins} failed sign-ins, one user, {len(IPS)} IPs, 10 minutes, "
        f"{invocations} invocations of {args.batch}; quiet time {QUIET_MINUTES} min, digests every 5 min"
    )
    for label, warm in (("warm container", True), ("cold container per invocation", False)):
        figures = run(args.sign_ins, args.batch, warm)
        print(
            f"{label}: {figures['mails']} mails ({figures['digests']} digest), {figures['stored']} stored, "
            f"{figures['calls']} AWS calls = {figures['per_sign_in']:.3f} per stored sign-in"
        )
        print(f"  calls: {', '.join(f'{name} {count}' for name, count in figures['by_call'].items())}")


if __name__ == "__main__":
    boto3.setup_default_session(region_name="us-east-1")
    main()
