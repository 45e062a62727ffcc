"""Decode the CloudWatch Logs subscription payload (base64 of gzip of JSON)."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Far above any batch CloudWatch Logs sends, far below the function's memory: a gzip bomb stops here.
MAX_DECODED_BYTES = 32 * 1024 * 1024
_GZIP_WINDOW = 16 + zlib.MAX_WBITS


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


def decode_subscription_event(event: Any, max_bytes: int = MAX_DECODED_BYTES) -> LogBatch:
    awslogs = event.get("awslogs") if isinstance(event, dict) else None
    data = awslogs.get("data") if isinstance(awslogs, dict) else None
    if data is None:
        raise PayloadError("event has no awslogs.data: not a CloudWatch Logs subscription payload")
    if not isinstance(data, str):
        raise PayloadError(f"awslogs.data is a {type(data).__name__}, not base64 text")
    try:
        text = _gunzip(base64.b64decode(data, validate=True), max_bytes)
        document = json.loads(text)
    except (binascii.Error, zlib.error, ValueError, RecursionError) as error:
        raise PayloadError(f"awslogs.data cannot be decoded: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("logEvents", []), list):
        raise PayloadError("decoded payload is not a log batch object")
    return LogBatch(
        message_type=str(document.get("messageType", "")),
        log_group=str(document.get("logGroup", "")),
        log_events=document.get("logEvents", []),
    )


def _gunzip(compressed: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(_GZIP_WINDOW)
    decoded = inflater.decompress(compressed, max_bytes + 1)
    if len(decoded) > max_bytes or inflater.unconsumed_tail:
        raise PayloadError(f"awslogs.data inflates to more than {max_bytes} bytes; refusing to read it")
    if not inflater.eof:
        raise zlib.error("compressed data is truncated")
    return decoded


def iter_messages(batch: LogBatch) -> Iterator[tuple[str, Any]]:
    """Yield (log event id, decoded CloudTrail record or the undecodable text) per log event."""
    for log_event in batch.log_events:
        log_id = str(log_event.get("id", "")) if isinstance(log_event, dict) else ""
        message = log_event.get("message") if isinstance(log_event, dict) else None
        try:
            yield log_id, json.loads(message)
        except (TypeError, ValueError, RecursionError):
            # Broken JSON, too deep nesting, an integer beyond Python's digit limit: the record is
            # skipped, not the batch.
            yield log_id, message
