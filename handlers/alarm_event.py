"""The payload CloudWatch sends a Lambda alarm action, as a typed state change with its window.

CloudWatch invokes the function asynchronously with `alarmData` (name, new and previous state,
`reasonData` holding the evaluated datapoints, and the alarm's configuration). The window the
alarm looked at is read from the evaluated datapoints; without them it is one period ending at
the state change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handlers.signin import parse_event_time
from handlers.text import account_label

DEFAULT_PERIOD_SECONDS = 300


class NotAnAlarmEvent(ValueError):
    """The invocation is not a CloudWatch alarm state change."""


@dataclass(frozen=True)
class AlarmChange:
    alarm_name: str
    alarm_arn: str
    account_id: str
    region: str
    state: str  # ALARM, OK or INSUFFICIENT_DATA
    previous_state: str
    reason: str
    changed_at: datetime
    description: str
    window_start: datetime
    window_end: datetime
    # The account's alias when the stack was told it (accountAlias); the event carries only the id.
    account_alias: str = ""

    @property
    def account(self) -> str:
        """The account as mails name it: the id, and the alias when known."""
        return account_label(self.account_id, self.account_alias)


def parse_alarm_event(event: Any) -> AlarmChange:
    if not isinstance(event, dict) or event.get("source") != "aws.cloudwatch":
        raise NotAnAlarmEvent("not a CloudWatch alarm action payload (source is not aws.cloudwatch)")
    data = _object(event.get("alarmData"))
    state, previous = _object(data.get("state")), _object(data.get("previousState"))
    name = _text(data.get("alarmName"))
    if not name or not _text(state.get("value")):
        raise NotAnAlarmEvent("alarmData has no alarm name or state")
    changed_at = _time(state.get("timestamp")) or _time(event.get("time"))
    if changed_at is None:
        raise NotAnAlarmEvent("the state change carries no readable time")
    configuration = _object(data.get("configuration"))
    start, end = alarm_window(state.get("reasonData"), configuration, changed_at)
    return AlarmChange(
        alarm_name=name,
        alarm_arn=_text(event.get("alarmArn")),
        account_id=_text(event.get("accountId")),
        region=_text(event.get("region")),
        state=_text(state.get("value")),
        previous_state=_text(previous.get("value")),
        reason=_text(state.get("reason")),
        changed_at=changed_at,
        description=_text(configuration.get("description")),
        window_start=start,
        window_end=end,
    )


def alarm_window(reason_data: Any, configuration: dict, changed_at: datetime) -> tuple[datetime, datetime]:
    """From the first evaluated datapoint to the end of the last one's period."""
    try:
        reason = json.loads(reason_data) if isinstance(reason_data, str) else {}
    except (json.JSONDecodeError, RecursionError):
        reason = {}
    reason = _object(reason)
    period = _period(reason.get("period")) or _configured_period(configuration) or DEFAULT_PERIOD_SECONDS
    stamps = [_time(_object(point).get("timestamp")) for point in _list(reason.get("evaluatedDatapoints"))]
    stamps = [stamp for stamp in stamps if stamp is not None]
    if not stamps:
        return changed_at - timedelta(seconds=period), changed_at
    return min(stamps), max(stamps) + timedelta(seconds=period)


def _configured_period(configuration: dict) -> int | None:
    for metric in _list(configuration.get("metrics")):
        period = _period(_object(_object(metric).get("metricStat")).get("period"))
        if period:
            return period
    return None


def _period(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _time(value: Any) -> datetime | None:
    # CloudWatch writes "2023-08-04T12:36:15.490+0000".
    try:
        return parse_event_time(value)
    except ValueError:
        return None


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
