"""A CloudWatch alarm notification as a readable mail.

CloudWatch formats its own text only for mail subscribers of the topic the alarm publishes to; a
function subscribed to that topic receives the alarm as a JSON document. Forwarded as is, the hub's
recipients would read raw JSON, so it is rendered here, with the alarm's account in the subject.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from handlers.text import SUBJECT_LIMIT, ascii_only, one_line, within_body_limit

_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_STATES = {"ALARM": "ALARM", "OK": "OK", "INSUFFICIENT_DATA": "INSUFFICIENT DATA"}


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    # (label, URL) pairs the body holds; a chat card offers them as next steps.
    links: tuple[tuple[str, str], ...] = ()


def alarm_document(message: str) -> dict[str, Any] | None:
    """The alarm a message carries, or None when it is something else (a sign-in mail, a test message)."""
    if not message.startswith("{"):
        return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("AlarmName"), str) and "NewStateValue" in document:
        return document
    return None


def render_alarm(alarm: dict[str, Any]) -> Mail:
    name = _text(alarm.get("AlarmName")) or "unnamed alarm"
    state = _STATES.get(_text(alarm.get("NewStateValue")), _text(alarm.get("NewStateValue")) or "UNKNOWN")
    account = _text(alarm.get("AWSAccountId")) or "unknown account"
    region = _region_code(alarm)
    where = f"account {account}" + (f" ({region})" if region else "")
    link = _console_link(name, _text(alarm.get("AlarmArn")))
    return Mail(
        subject=_subject(state, name, where),
        body=_body(alarm, name, state, account, region),
        links=(("The alarm", link),) if link else (),
    )


def _subject(state: str, name: str, where: str) -> str:
    head, tail = ascii_only(f"{state}: "), ascii_only(f" in {where}")[:40]
    name = ascii_only(name)
    room = SUBJECT_LIMIT - len(head) - len(tail)
    if len(name) > room:
        name = name[: max(room - 3, 0)] + "..."
    return (head + name + tail)[:SUBJECT_LIMIT]


def _body(alarm: dict[str, Any], name: str, state: str, account: str, region: str) -> str:
    old = _STATES.get(_text(alarm.get("OldStateValue")), _text(alarm.get("OldStateValue")))
    rows = [
        ("Alarm", name),
        ("State", f"{old} -> {state}" if old else state),
        ("Changed at", _text(alarm.get("StateChangeTime"))),
        ("Account", account),
        ("Region", f"{region} ({_text(alarm.get('Region'))})" if alarm.get("Region") else region),
        ("What it means", _text(alarm.get("AlarmDescription"))),
        ("Reason", _text(alarm.get("NewStateReason"))),
        ("Metric", _metric(alarm.get("Trigger"))),
        ("Console", _console_link(name, _text(alarm.get("AlarmArn")))),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{label + ':':<{width}}{one_line(value)}" for label, value in rows if value]
    title = one_line(f"{state}: {name} in AWS account {account}")
    return within_body_limit("\n".join([title, "", *lines, ""]))


def _metric(trigger: Any) -> str:
    if not isinstance(trigger, dict):
        return ""
    metric = " ".join(part for part in (_text(trigger.get("Namespace")), _text(trigger.get("MetricName"))) if part)
    dimensions = trigger.get("Dimensions") or []
    if isinstance(dimensions, list):
        named = [
            f"{_text(d.get('name'))}={_text(d.get('value'))}"
            for d in dimensions
            if isinstance(d, dict) and d.get("name")
        ]
        if named:
            metric += f" [{', '.join(named)}]"
    statistic = _text(trigger.get("Statistic") or trigger.get("ExtendedStatistic")).title()
    period = trigger.get("Period")
    comparison = _COMPARISONS.get(_text(trigger.get("ComparisonOperator")), _text(trigger.get("ComparisonOperator")))
    threshold = trigger.get("Threshold")
    rule = []
    if statistic and isinstance(period, int | float):
        periods = trigger.get("EvaluationPeriods")
        span = f"{int(period)} s" if not isinstance(periods, int) or periods == 1 else f"{periods} x {int(period)} s"
        rule.append(f"{statistic} over {span}")
    if comparison and isinstance(threshold, int | float):
        rule.append(f"{comparison} {threshold:g}")
    return metric + (f": {', '.join(rule)}" if rule else "")


def _region_code(alarm: dict[str, Any]) -> str:
    # The document names the Region in words ("EU (Ireland)"); the alarm's ARN has its code.
    parts = _text(alarm.get("AlarmArn")).split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" else ""


def _console_link(name: str, alarm_arn: str) -> str:
    parts = alarm_arn.split(":")
    # Other partitions have consoles of their own; a wrong link is worse than none.
    if len(parts) < 4 or parts[1] != "aws" or not parts[3]:
        return ""
    region = parts[3]
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name, safe='')}"
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
