"""CloudWatch alarm action payloads and a trail log group in moto that filters as CloudWatch Logs does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3
from moto import mock_aws

from detections.pattern import compile_pattern
from tests.handlers.moto_aws import Aws

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
                "reason": threshold_reason(
                    [window_start + timedelta(seconds=period * i) for i in reversed(range(datapoints))]
                ),
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


def threshold_reason(stamps: list[datetime]) -> str:
    """CloudWatch's reason text: each breaching datapoint with its time, day first, in UTC."""
    listed = ", ".join(f"1.0 ({stamp:%d/%m/%y %H:%M:%S})" for stamp in stamps)
    return (
        f"Threshold Crossed: {len(stamps)} out of the last {len(stamps)} datapoints [{listed}] was greater than or "
        f"equal to the threshold (1.0) (minimum {len(stamps)} datapoint for OK -> ALARM transition)."
    )


def sns_delivery(notification: dict, *, topic: str = "alarms") -> dict:
    """What SNS hands a subscribed function: one record, the notification as its Message text."""
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic_arn,
                    "Subject": f'ALARM: "{notification["AlarmName"]}" in US East (N. Virginia)'[:100],
                    "Message": json.dumps(notification),
                    "Timestamp": "2024-05-01T10:05:31.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def sns_alarm_event(
    name: str,
    state: str = "ALARM",
    *,
    window_start: datetime,
    period: int = 300,
    datapoints: int = 1,
    previous: str = "OK",
    description: str = "",
) -> dict:
    """The same state change as alarm_event, as the alarm topic's subscriber receives it (AWS's documented schema)."""
    changed = window_start + timedelta(seconds=period * datapoints + 30)
    stamps = [window_start + timedelta(seconds=period * index) for index in reversed(range(datapoints))]
    notification = {
        "AlarmName": name,
        "AlarmDescription": description or None,
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": _stamp(window_start - timedelta(days=3)),
        "NewStateValue": state,
        "NewStateReason": threshold_reason(stamps),
        "StateChangeTime": _stamp(changed),
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "OldStateValue": previous,
        "OKActions": [],
        "AlarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Metric",
            "Namespace": "LoginMonitoring",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [],
            "Period": period,
            "EvaluationPeriods": datapoints,
            "DatapointsToAlarm": datapoints,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    return sns_delivery(notification)


def sns_composite_alarm_event(name: str, children: list[str], *, changed: datetime, state: str = "ALARM") -> dict:
    """A composite alarm's notification: the rule and the children that triggered it, no datapoints."""
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    triggered = changed - timedelta(seconds=40)
    notification = {
        "AlarmName": name,
        "AlarmDescription": "Unusually many failed console sign-ins",
        "AWSAccountId": ACCOUNT,
        "NewStateValue": state,
        "NewStateReason": f"{arn}{children[-1]} transitioned to ALARM at {triggered:%A %d %B, %Y %H:%M:%S} UTC",
        "StateChangeTime": _stamp(changed),
        "Region": "US East (N. Virginia)",
        "AlarmArn": arn + name,
        "OKActions": [],
        "AlarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"],
        "InsufficientDataActions": [],
        "OldStateValue": "OK",
        "AlarmRule": " AND ".join(f'ALARM("{child}")' for child in children),
        "TriggeringChildren": [
            {"Arn": arn + child, "State": {"Value": "ALARM", "Timestamp": _stamp(triggered)}} for child in children
        ],
    }
    return sns_delivery(notification)


def mailer_world(monkeypatch):
    """moto, with the trail log group's filters read as CloudWatch Logs reads them; a fixture's body."""
    monkeypatch.setattr("moto.logs.models.EventMessageFilter", EnginePattern)
    with mock_aws():
        world = Aws()
        world.logs = boto3.client("logs", region_name=REGION)
        yield world
