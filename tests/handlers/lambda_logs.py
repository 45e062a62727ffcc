"""Log records as Lambda writes them in its JSON log format, read by the health metric filter."""

from __future__ import annotations

import json
import logging

from detections.pattern import compile_pattern
from handlers.log_lines import skipped_records_pattern


def as_lambda_json(record: logging.LogRecord) -> str:
    # The fields Lambda's JSON format gives an application log line; the text is in "message".
    return json.dumps(
        {
            "timestamp": "2024-06-01T00:00:00Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": "00000000-0000-0000-0000-000000000000",
        }
    )


def counted_by_health_filter(record: logging.LogRecord, pattern: str | None = None) -> bool:
    return compile_pattern(pattern or skipped_records_pattern()).matches_text(as_lambda_json(record))
