"""Fault injection for the notifier's tests: wrapped boto3 clients, a clock that moves on sleep."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from tests.handlers.events import subscription_payload
from tests.handlers.moto_aws import HANDLED_AT


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)


class Faulty:
    """A boto3 client whose named calls run `fault(**kwargs)` first; the fault may raise."""

    def __init__(self, client, **faults) -> None:
        self._client = client
        self._faults = faults

    def __getattr__(self, name):
        real = getattr(self._client, name)
        fault = self._faults.get(name)
        if fault is None:
            return real

        def call(**kwargs):
            fault(**kwargs)
            return real(**kwargs)

        return call


class Clock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self, start: datetime = HANDLED_AT) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def run(aws, messages, dynamodb=None, sns=None, **options):
    clock = options.pop("clock", None) or Clock()
    options.setdefault("sleep", clock.sleep)
    return process(aws, subscription_payload(messages), dynamodb, sns, clock=clock, **options)


def process(aws, payload, dynamodb=None, sns=None, **options):
    from handlers.notifier import process_batch

    options.setdefault("clock", Clock())
    return process_batch(payload, aws.config(), dynamodb or aws.dynamodb, sns or aws.sns, **options)


def mail_event_id(mail: dict) -> str:
    return next(line.split()[-1] for line in mail["Message"].splitlines() if line.startswith("Event ID:"))


def mailed_ids(aws) -> list[str]:
    return sorted(mail_event_id(mail) for mail in aws.mails())


class Atomic:
    """DynamoDB applies each request to an item atomically; moto does not, so requests are serialised
    here, while concurrent invocations still interleave between requests."""

    lock = threading.Lock()

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        real = getattr(self._client, name)
        if name == "exceptions":
            return real

        def call(**kwargs):
            with Atomic.lock:
                return real(**kwargs)

        return call


def all_at_once(work: Callable, arguments: Sequence) -> tuple[list, list[BaseException]]:
    """Run work on every argument in a thread of its own, all released together, as concurrent invocations
    are: what they returned, and what they raised (which the caller asserts is nothing)."""
    barrier = threading.Barrier(len(arguments))
    results: list = []
    errors: list[BaseException] = []

    def run(argument):
        barrier.wait()
        try:
            results.append(work(argument))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
