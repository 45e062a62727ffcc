"""What CloudWatch sends about an alarm's state change, as a typed state change with its window.

Two shapes arrive. The detection alarms notify an SNS topic the function is subscribed to: SNS
invokes it asynchronously with one record whose `Message` is CloudWatch's alarm notification
(`AlarmName`, `NewStateValue`, `NewStateReason` naming the breaching datapoints with their
times, `StateChangeTime`, `Trigger` with the period). A Lambda alarm action invokes it with
`alarmData` instead (`reasonData` holding the evaluated datapoints, the alarm's configuration);
that shape is still read, so a re-driven event of an older deployment mails too. The window is
read from the datapoints; without them it is one period ending at the state change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


def read_alarm_changes(event: Any) -> list[AlarmChange | NotAnAlarmEvent]:
    """Every state change an invocation carries, in order; one that cannot be read is its error instead.

    SNS hands a subscribed function one record per invocation; a list is read whole all the same.
    """
    if isinstance(event, dict) and "Records" in event:
        records = event["Records"]
        if not isinstance(records, list) or not records:
            return [NotAnAlarmEvent("an SNS invocation without records")]
        return [_record_change(record) for record in records]
    try:
        return [parse_alarm_event(event)]
    except NotAnAlarmEvent as error:
        return [error]


def _record_change(record: Any) -> AlarmChange | NotAnAlarmEvent:
    message = _object(_object(record).get("Sns")).get("Message")
    try:
        if not isinstance(message, str):
            raise NotAnAlarmEvent("an SNS record without a Message")
        return parse_alarm_notification(message)
    except NotAnAlarmEvent as error:
        return error


def parse_alarm_notification(message: str) -> AlarmChange:
    """CloudWatch's alarm notification as an SNS subscriber receives it (the Message of the record)."""
    try:
        document = json.loads(message)
    except (ValueError, RecursionError):
        document = None
    if (
        not isinstance(document, dict)
        or not _text(document.get("AlarmName"))
        or not _text(document.get("NewStateValue"))
    ):
        raise NotAnAlarmEvent("the SNS message is not a CloudWatch alarm notification (AlarmName, NewStateValue)")
    changed_at = _time(document.get("StateChangeTime"))
    if changed_at is None:
        raise NotAnAlarmEvent("the alarm notification carries no readable StateChangeTime")
    reason = _text(document.get("NewStateReason"))
    trigger = _object(document.get("Trigger"))
    period = _period(trigger.get("Period")) or _trigger_metrics_period(trigger) or DEFAULT_PERIOD_SECONDS
    start, end = reason_window(reason, period, changed_at)
    arn = _text(document.get("AlarmArn"))
    return AlarmChange(
        alarm_name=_text(document.get("AlarmName")),
        alarm_arn=arn,
        account_id=_text(document.get("AWSAccountId")),
        # The notification names the Region in words ("US East (N. Virginia)"); links need its code.
        region=_arn_region(arn),
        state=_text(document.get("NewStateValue")),
        previous_state=_text(document.get("OldStateValue")),
        reason=reason,
        changed_at=changed_at,
        description=_text(document.get("AlarmDescription")),
        window_start=start,
        window_end=end,
    )


# "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (04/08/23 12:35:00), 3.0 (04/08/23 12:30:00)] was
# greater than ...": each breaching datapoint with the start of its period, day first, in UTC.
_REASON_STAMP = re.compile(r"\((\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\)")


def reason_window(reason: str, period: int, changed_at: datetime) -> tuple[datetime, datetime]:
    """From the first datapoint the reason names to the end of the last one's period."""
    stamps = []
    for text in _REASON_STAMP.findall(reason):
        try:
            stamps.append(datetime.strptime(text, "%d/%m/%y %H:%M:%S").replace(tzinfo=UTC))
        except ValueError:
            continue
    if not stamps:
        return changed_at - timedelta(seconds=period), changed_at
    return min(stamps), max(stamps) + timedelta(seconds=period)


def _trigger_metrics_period(trigger: dict) -> int | None:
    # An alarm on metric queries lists them under Trigger.Metrics, each with its own period.
    for metric in _list(trigger.get("Metrics")):
        period = _period(_object(_object(metric).get("MetricStat")).get("Period"))
        if period:
            return period
    return None


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" else ""


def parse_alarm_event(event: Any) -> AlarmChange:
    """The payload of a Lambda alarm action."""
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
