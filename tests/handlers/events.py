"""Sign-in events for tests, and helpers that wrap them the way CloudWatch Logs delivers them."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from pathlib import Path

_FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "signin_events.json").read_text(encoding="utf-8"))
EVENT_NAMES = tuple(_FIXTURES)


def event(name: str, **changes) -> dict:
    record = copy.deepcopy(_FIXTURES[name])
    record.update(changes)
    return record


def subscription_payload(messages: list, message_type: str = "DATA_MESSAGE") -> dict:
    """messages: CloudTrail records (dicts) or raw message strings, as they would sit in the log group."""
    document = {
        "messageType": message_type,
        "owner": "111122223333",
        "logGroup": "aws-cloudtrail-logs-111122223333",
        "logStream": "111122223333_CloudTrail_us-east-1",
        "subscriptionFilters": ["sign-in"],
        "logEvents": [
            {
                "id": str(36000000000000000000000000000000000000000000000000000000 + index),
                "timestamp": 1612081981000,
                "message": message if isinstance(message, str) else json.dumps(message),
            }
            for index, message in enumerate(messages)
        ],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}}
