"""Bursts of sign-ins through the notifier with flood control, against moto.

    python -m bench.flood_burst [--scenario NAME] [--batch 20]

Each scenario is delivered as CloudWatch Logs would deliver it (invocations of 20 events, each about a
minute after its last event) with the digest schedule running every 5 minutes, and printed with the mails
that went out before the first digest, the digests, how many sign-ins were stored, and AWS calls per
stored sign-in — once with one warm container handling every invocation (what Lambda does for a steady
stream) and once with a cold container per invocation (the worst case: every batch asks the window table).
The calls include the history reasons' Queries. Scenarios:

- one-user: 1,000 failed sign-ins of one IAM user from 3 addresses within 10 minutes;
- botnet: 1,000 failed sign-ins with names AWS hides from 1,000 addresses within 10 minutes, and a
  successful sign-in without MFA in the middle of it;
- spray: 300 failed sign-ins of 300 user names from 300 addresses within 10 minutes.
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
SUCCESS_ID = "success-in-the-middle"


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


def address(index: int) -> str:
    return f"{(1, 8, 193, 45)[index % 4]}.{index // 256 % 256}.{index % 256}.7"


def at(index: int, count: int) -> str:
    return (T0 + timedelta(seconds=600 * index / count)).strftime("%Y-%m-%dT%H:%M:%SZ")


def one_user(count: int = 1000) -> list[dict]:
    return [
        event("iam_user_mfa_failure", eventID=f"burst-{i:05d}", eventTime=at(i, count), sourceIPAddress=IPS[i % 3])
        for i in range(count)
    ]


def botnet(count: int = 1000) -> list[dict]:
    burst = [
        event("unknown_user_failure", eventID=f"burst-{i:05d}", eventTime=at(i, count), sourceIPAddress=address(i))
        for i in range(count)
    ]
    middle = event("iam_user_no_mfa_success", eventID=SUCCESS_ID, eventTime=at(count // 2, count))
    return sorted([*burst, middle], key=lambda m: (m["eventTime"], m["eventID"]))


def spray(count: int = 300) -> list[dict]:
    return [
        event(
            "iam_user_mfa_failure",
            eventID=f"burst-{i:05d}",
            eventTime=at(i, count),
            sourceIPAddress=address(i),
            userIdentity={"type": "IAMUser", "accountId": "111122223333", "userName": f"user{i:04d}"},
        )
        for i in range(count)
    ]


SCENARIOS = {
    "one-user": ("1,000 failed sign-ins, one IAM user, 3 addresses, 10 minutes", one_user),
    "botnet": ("1,000 failed sign-ins, hidden names, 1,000 addresses, 10 minutes, a success mid-burst", botnet),
    "spray": ("300 failed sign-ins, 300 user names, 300 addresses, 10 minutes", spray),
}


def run(records: list[dict], batch_size: int, warm: bool) -> dict:
    with mock_aws():
        aws = Aws()
        counts: Counter = Counter()
        dynamodb, sns = Counted(aws.dynamodb, counts), Counted(aws.sns, counts)
        config = aws.config(flood_table="flood", quiet_minutes=QUIET_MINUTES)
        known: dict = {}
        next_flush = T0 + timedelta(minutes=5)
        stored = 0
        mails: list[dict] = []

        def flush_until(moment: datetime) -> None:
            nonlocal next_flush
            while next_flush <= moment:
                send_digests(config, dynamodb, sns, clock=lambda at=next_flush: at, sleep=lambda s: None)
                next_flush += timedelta(minutes=5)
            mails.extend(aws.mails())

        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]
            clock = datetime.fromisoformat(batch[-1]["eventTime"]) + timedelta(minutes=1)
            flush_until(clock)
            result = process_batch(
                subscription_payload(batch),
                config,
                dynamodb,
                sns,
                flood_known=known if warm else {},
                clock=lambda at=clock: at,
            )
            stored += result.stored
            mails.extend(aws.mails())
        flush_until(datetime.fromisoformat(records[-1]["eventTime"]) + timedelta(minutes=QUIET_MINUTES + 5))
        digests = [i for i, mail in enumerate(mails) if mail["Subject"].startswith("[digest]")]
        before = digests[0] if digests else len(mails)
        success = [mail for mail in mails if SUCCESS_ID in mail["Message"]]
        calls = sum(counts.values())
        return {
            "before": before,
            "digests": len(digests),
            "after": len(mails) - before - len(digests),
            "listed": sum(_count(mails[i]["Message"]) for i in digests),
            "stored": stored,
            "calls": calls,
            "per_sign_in": calls / stored,
            "by_call": dict(sorted(counts.items())),
            "success": success[0] if success else None,
        }


def _count(body: str) -> int:
    return int(next(line for line in body.splitlines() if line.startswith("Count:")).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    print(f"quiet time {QUIET_MINUTES} min, digests every 5 min, invocations of {args.batch} events")
    for name in args.scenario or list(SCENARIOS):
        title, build = SCENARIOS[name]
        records = build()
        print(f"\n{name}: {title}")
        for label, warm in (("warm container", True), ("cold container per invocation", False)):
            figures = run(records, args.batch, warm)
            print(
                f"  {label}: {figures['before']} mails before the first digest, {figures['digests']} digests "
                f"listing {figures['listed']} sign-ins, {figures['after']} mails after; {figures['stored']} stored; "
                f"{figures['calls']} AWS calls = {figures['per_sign_in']:.3f} per stored sign-in"
            )
            print(f"    calls: {', '.join(f'{call} {count}' for call, count in figures['by_call'].items())}")
            success = figures["success"]
            if success is not None and warm:
                lines = success["Message"].splitlines()
                reasons = next(line for line in lines if line.startswith("Needs a look")).split(":", 1)[1].strip()
                print(f"    success mid-burst mailed at once: {success['Subject']!r}; reasons: {reasons}")


if __name__ == "__main__":
    boto3.setup_default_session(region_name="us-east-1")
    main()
