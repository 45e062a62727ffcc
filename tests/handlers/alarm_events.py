"""CloudWatch alarm action payloads and a trail log group in moto that filters as CloudWatch Logs does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from detections.pattern import compile_pattern

ACCOUNT = "111122223333"
REGION = "us-east-1"
LOG_GROUP = "aws-cloudtrail-logs-111122223333"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_event(
    name: str,
    state: str = "ALARM",
    *,
    window_start: datetime,
    period: int = 300,
    datapoints: int = 1,
    previous: str = "OK",
    description: str = "",
) -> dict:
    """The payload CloudWatch sends a Lambda alarm action, shaped like AWS's documented example."""
    changed = window_start + timedelta(seconds=period * datapoints + 30)
    points = [
        {"timestamp": _stamp(window_start + timedelta(seconds=period * index)), "sampleCount": 1.0, "value": 1.0}
        for index in reversed(range(datapoints))
    ]
    reason_data = {
        "version": "1.0",
        "queryDate": _stamp(changed),
        "statistic": "Sum",
        "period": period,
        "recentDatapoints": [1.0],
        "threshold": 1.0,
        "evaluatedDatapoints": points,
    }
    return {
        "source": "aws.cloudwatch",
        "alarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "accountId": ACCOUNT,
        "time": _stamp(changed),
        "region": REGION,
        "alarmData": {
            "alarmName": name,
            "state": {
                "value": state,
                "reason": f"Threshold Crossed: 1 out of the last {datapoints} datapoints was >= 1.0",
                "reasonData": json.dumps(reason_data),
                "timestamp": _stamp(changed),
            },
            "previousState": {"value": previous, "reason": "", "timestamp": _stamp(window_start)},
            "configuration": {
                "description": description,
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {"namespace": "LoginMonitoring", "name": "Metric", "dimensions": {}},
                            "period": period,
                            "stat": "Sum",
                        },
                        "returnData": True,
                    }
                ],
            },
        },
    }


class EnginePattern:
    """moto returns every event for a JSON filter pattern; CloudWatch Logs filters. This filters.

    The engine is the one the catalog's example events are proven against (tests/detections).
    """

    def __init__(self, pattern: str) -> None:
        self.compiled = compile_pattern(pattern) if pattern else None

    def matches(self, message: str) -> bool:
        if self.compiled is None:
            return True
        return self.compiled.matches_text(message)


def put_trail_events(logs, events: list[dict]) -> None:
    """Deliver CloudTrail records to the trail's log group, each at its eventTime, as CloudTrail does."""
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=f"{ACCOUNT}_CloudTrail_{REGION}")
    ordered = sorted(events, key=lambda record: record["eventTime"])
    log_events = [
        {
            "timestamp": int(datetime.fromisoformat(record["eventTime"]).timestamp() * 1000),
            "message": json.dumps(record),
        }
        for record in ordered
    ]
    for start in range(0, len(log_events), 1000):
        logs.put_log_events(
            logGroupName=LOG_GROUP,
            logStreamName=f"{ACCOUNT}_CloudTrail_{REGION}",
            logEvents=log_events[start : start + 1000],
        )


def composite_alarm_event(name: str, children: list[str], *, changed: datetime, state: str = "ALARM") -> dict:
    """A composite alarm's payload, shaped like AWS's documented example: no datapoints, the children instead."""
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    triggered = changed - timedelta(seconds=40)
    reason_data = {
        "triggeringAlarms": [
            {"arn": arn + child, "state": {"value": "ALARM", "timestamp": _stamp(triggered)}} for child in children
        ]
    }
    return {
        "source": "aws.cloudwatch",
        "alarmArn": arn + name,
        "accountId": ACCOUNT,
        "time": _stamp(changed),
        "region": REGION,
        "alarmData": {
            "alarmName": name,
            "state": {
                "value": state,
                "reason": f"{arn}{children[-1]} transitioned to ALARM at {triggered:%A %d %B, %Y %H:%M:%S} UTC",
                "reasonData": json.dumps(reason_data),
                "timestamp": _stamp(changed),
            },
            "previousState": {"value": "OK", "reason": "", "timestamp": _stamp(changed - timedelta(hours=1))},
            "configuration": {
                "alarmRule": " AND ".join(f'ALARM("{child}")' for child in children),
                "description": "",
            },
        },
    }
