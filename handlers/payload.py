"""Decode the CloudWatch Logs subscription payload (base64 of gzip of JSON)."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class PayloadError(ValueError):
    """The invocation's payload itself cannot be read; the whole batch is unusable."""


@dataclass(frozen=True)
class LogBatch:
    message_type: str
    log_group: str
    log_events: list[dict]

    @property
    def is_control_message(self) -> bool:
        # CloudWatch Logs sends one when the subscription is created, to check the destination.
        return self.message_type == "CONTROL_MESSAGE"


def decode_subscription_event(event: Any) -> LogBatch:
    try:
        data = event["awslogs"]["data"]
    except (KeyError, TypeError):
        raise PayloadError("event has no awslogs.data: not a CloudWatch Logs subscription payload") from None
    try:
        document = json.loads(gzip.decompress(base64.b64decode(data, validate=True)))
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"awslogs.data cannot be decoded: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("logEvents", []), list):
        raise PayloadError("decoded payload is not a log batch object")
    return LogBatch(
        message_type=str(document.get("messageType", "")),
        log_group=str(document.get("logGroup", "")),
        log_events=document.get("logEvents", []),
    )


def iter_messages(batch: LogBatch) -> Iterator[tuple[str, Any]]:
    """Yield (log event id, decoded CloudTrail record or the undecodable text) per log event."""
    for log_event in batch.log_events:
        log_id = str(log_event.get("id", "")) if isinstance(log_event, dict) else ""
        message = log_event.get("message") if isinstance(log_event, dict) else None
        try:
            yield log_id, json.loads(message)
        except (TypeError, json.JSONDecodeError):
            yield log_id, message
