"""Lambda entry point: store every sign-in in the history table and mail the ones that matter.

Failure rules: a malformed record is logged and skipped; a storage or SNS error
fails the invocation (Lambda retries, then hands the batch to the on-failure
destination); the conditional write makes those retries safe.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from handlers.formatting import render_body, render_subject
from handlers.payload import decode_subscription_event, iter_messages
from handlers.signin import MalformedRecord, SignInRecord, parse_signin_event
from handlers.store import SignInStore

logger = logging.getLogger("login-monitoring.notifier")
logger.setLevel(logging.INFO)

NOTIFY_ALL = "all"
NOTIFY_RISKY = "risky"


@dataclass(frozen=True)
class NotifierConfig:
    table_name: str
    topic_arn: str
    timezone: str = "UTC"
    notify_on: str = NOTIFY_ALL
    history_days: int = 90

    @classmethod
    def from_env(cls, env: dict[str, str]) -> NotifierConfig:
        return cls(
            table_name=env["TABLE_NAME"],
            topic_arn=env["TOPIC_ARN"],
            timezone=env.get("DISPLAY_TIMEZONE", "UTC"),
            notify_on=env.get("NOTIFY_ON", NOTIFY_ALL),
            history_days=int(env.get("HISTORY_DAYS", "90")),
        )


@dataclass
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    mailed: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "mailed": self.mailed, "skipped": self.skipped}


def wants_mail(record: SignInRecord, notify_on: str) -> bool:
    if not record.is_attempt:
        return False
    if notify_on == NOTIFY_RISKY:
        return bool(record.risk_reasons)
    return True


def process_batch(event: Any, config: NotifierConfig, dynamodb: Any, sns: Any) -> BatchResult:
    batch = decode_subscription_event(event)
    result = BatchResult()
    if batch.is_control_message:
        logger.info("control message from CloudWatch Logs; nothing to do")
        return result

    store = SignInStore(dynamodb, config.table_name, config.history_days)
    zone = ZoneInfo(config.timezone)
    for log_id, raw in iter_messages(batch):
        try:
            record = parse_signin_event(raw)
        except MalformedRecord as error:
            label = error.event_id or f"log event {log_id or '?'}"
            logger.warning("skipping malformed record %s: %s", label, error.reason)
            result.skipped.append(label)
            continue

        # Errors below propagate on purpose: the invocation fails and Lambda retries it.
        claim = store.claim(record, wants_mail(record, config.notify_on))
        if claim.mail_due:
            response = sns.publish(
                TopicArn=config.topic_arn,
                Subject=render_subject(record),
                Message=render_body(record, zone, config.timezone),
            )
            store.mark_sent(record.event_id, response["MessageId"])
            result.mailed += 1
        if claim.new:
            result.stored += 1
        else:
            result.duplicates += 1
    return result


_clients: dict[str, Any] = {}


def _client(name: str) -> Any:
    if name not in _clients:
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = NotifierConfig.from_env(dict(os.environ))
    result = process_batch(event, config, _client("dynamodb"), _client("sns"))
    logger.info("batch done: %s", result.as_dict())
    return result.as_dict()
