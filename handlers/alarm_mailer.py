"""Alarm mailer: turn a detection alarm's state change into a mail naming the events behind it.

The detection alarms notify the alarm topic, whose one subscriber is this function: SNS invokes it
asynchronously for every state change, with CloudWatch's alarm notification as the message. It
lists the trail's events that the detection's own filter pattern matched in the alarm's window
(FilterLogEvents takes the metric filter's pattern as it is) and publishes one mail to the alert
topic. Whatever goes wrong while listing the events, the alarm is still mailed and the mail says
why the list is missing; only a failed publish fails the invocation, so Lambda retries it and
then keeps it in the failed-events queue. The payload of a Lambda alarm action is read too.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import BotoCoreError, ClientError

from handlers.alarm_event import AlarmChange, NotAnAlarmEvent, read_alarm_changes
from handlers.alarm_mail import (
    DETECTIONS_FILE,
    MAX_ROWS,
    DetectionInfo,
    Matches,
    alarm_link,
    detection_links,
    render_detection_mail,
    render_plain_mail,
    render_resolved_mail,
    render_subject,
)
from handlers.chat import chat_notification, publish_request
from handlers.log_lines import SKIPPED_LOG_PREFIX
from handlers.sign_in_context import contexts_for
from handlers.store import SignInHistory

logger = logging.getLogger("login-monitoring.alarm-mailer")
logger.setLevel(logging.INFO)

# Enough to describe a burst; the count says when there were more.
MAX_LISTED_EVENTS = 1000
# Time kept back for rendering and publishing after the listing.
RESERVE_MS = 15_000
# An empty listing right after the alarm is usually events still being indexed: look once more.
EMPTY_RETRY_SECONDS = 10.0


class ConfigurationError(RuntimeError):
    """The function's environment is wrong."""


@dataclass(frozen=True)
class MailerConfig:
    topic_arn: str
    log_group_name: str
    timezone: str = "UTC"
    resolved_mails: bool = False
    # Named in subjects and bodies next to the id; empty: the id alone.
    account_alias: str = ""
    # The sign-in history table: the takeover detections' mails name the actor's risky sign-ins from it.
    sign_in_table_name: str = ""
    zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"DISPLAY_TIMEZONE {self.timezone!r} is not a zone this function knows") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailerConfig:
        missing = [name for name in ("TOPIC_ARN", "LOG_GROUP_NAME") if not env.get(name)]
        if missing:
            raise ConfigurationError(f"environment variables missing: {', '.join(missing)}")
        resolved = env.get("RESOLVED_MAILS", "false").strip().lower()
        if resolved not in ("true", "false"):
            raise ConfigurationError(f"RESOLVED_MAILS must be true or false, got {resolved!r}")
        return cls(
            topic_arn=env["TOPIC_ARN"],
            log_group_name=env["LOG_GROUP_NAME"],
            timezone=env.get("DISPLAY_TIMEZONE", "UTC"),
            resolved_mails=resolved == "true",
            account_alias=env.get("ACCOUNT_ALIAS", "").strip(),
            sign_in_table_name=env.get("SIGN_IN_TABLE_NAME", "").strip(),
        )


def load_detections(path: Path) -> dict[str, DetectionInfo]:
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {name: DetectionInfo.from_json(data) for name, data in document.items()}


def _unbounded() -> int:
    return 15 * 60 * 1000


def list_matches(
    logs: Any,
    log_group: str,
    pattern: str,
    start: datetime,
    end: datetime,
    *,
    remaining_ms: Callable[[], int] = _unbounded,
    sleep: Callable[[float], None] = time.sleep,
    cap: int = MAX_LISTED_EVENTS,
) -> Matches:
    matches = _list_once(logs, log_group, pattern, start, end, remaining_ms, cap)
    if not matches.events and not matches.problem and remaining_ms() > RESERVE_MS + EMPTY_RETRY_SECONDS * 2000:
        sleep(EMPTY_RETRY_SECONDS)
        matches = _list_once(logs, log_group, pattern, start, end, remaining_ms, cap)
    return matches


def _list_once(logs, log_group, pattern, start, end, remaining_ms, cap) -> Matches:
    matches = Matches()
    request: dict[str, Any] = {
        "logGroupName": log_group,
        "filterPattern": pattern,
        "startTime": int(start.timestamp() * 1000),
        # FilterLogEvents includes endTime; the window does not.
        "endTime": int(end.timestamp() * 1000) - 1,
    }
    try:
        while True:
            response = logs.filter_log_events(**request, limit=min(10_000, cap - len(matches.events) + 1))
            for log_event in response.get("events", []):
                try:
                    record = json.loads(log_event.get("message", ""))
                except (TypeError, json.JSONDecodeError, RecursionError):
                    record = None
                if isinstance(record, dict):
                    matches.events.append(record)
                else:
                    matches.unreadable += 1
            token = response.get("nextToken")
            if len(matches.events) > cap:
                del matches.events[cap:]
                matches.complete = False
                return matches
            if not token:
                return matches
            if remaining_ms() < RESERVE_MS:
                matches.complete = False
                return matches
            request["nextToken"] = token
    except (ClientError, BotoCoreError) as error:
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        matches.problem = f"{code or type(error).__name__}: {error}"
        return matches


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    # (label, URL): in the body already; a chat card shows them as next steps.
    links: tuple[tuple[str, str], ...] = ()

    def request(self, topic_arn: str) -> dict[str, str]:
        return publish_request(
            topic_arn, self.subject, self.body, chat_notification(self.subject, self.body, links=self.links)
        )


def compose(
    change: AlarmChange,
    config: MailerConfig,
    detections: Mapping[str, DetectionInfo],
    logs: Any,
    *,
    remaining_ms: Callable[[], int] = _unbounded,
    sleep: Callable[[float], None] = time.sleep,
    dynamodb: Any = None,
) -> Mail | None:
    """The mail for one state change, or None when none is wanted."""
    if config.account_alias:
        change = replace(change, account_alias=config.account_alias)
    detection = detections.get(change.alarm_name)
    title = detection.title if detection else change.alarm_name
    subject = render_subject(change, title)
    alarm = (("The alarm", alarm_link(change)),)
    if change.state == "OK":
        if not config.resolved_mails:
            return None
        return Mail(subject, render_resolved_mail(change, title, config.zone, config.timezone), alarm)
    if change.state != "ALARM":
        return None
    if detection is None:
        return Mail(subject, render_plain_mail(change, config.zone, config.timezone), alarm)
    if detection.lookback_seconds:
        earliest = change.window_end - timedelta(seconds=detection.lookback_seconds)
        change = replace(change, window_start=min(change.window_start, earliest))
    try:
        matches = list_matches(
            logs,
            config.log_group_name,
            detection.pattern,
            change.window_start,
            change.window_end,
            remaining_ms=remaining_ms,
            sleep=sleep,
        )
        contexts = None
        if detection.sign_in_context and matches.events:
            history = (
                SignInHistory(dynamodb, config.sign_in_table_name)
                if dynamodb is not None and config.sign_in_table_name
                else None
            )
            contexts = contexts_for(matches.events, history, MAX_ROWS)
        body = render_detection_mail(
            change,
            detection,
            matches,
            config.zone,
            config.timezone,
            log_group=config.log_group_name,
            contexts=contexts,
        )
        links = tuple(detection_links(change, matches, config.log_group_name))
    except Exception as error:  # the details are a courtesy; the alarm itself must go out
        logger.exception("alarm %s: the events behind it could not be listed", change.alarm_name)
        note = f"the events behind it could not be listed ({type(error).__name__}: {error})"
        body, links = render_plain_mail(change, config.zone, config.timezone, note=note), alarm
    return Mail(subject, body, links)


def handle(
    event: Any,
    config: MailerConfig,
    detections: Mapping[str, DetectionInfo],
    logs: Any,
    sns: Any,
    dynamodb: Any = None,
    **options: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {"mailed": 0}
    skipped = []
    for change in read_alarm_changes(event):
        if isinstance(change, NotAnAlarmEvent):
            logger.warning("%s alarm payload: %s", SKIPPED_LOG_PREFIX, change)
            skipped.append(str(change))
            continue
        mail = compose(change, config, detections, logs, dynamodb=dynamodb, **options)
        if mail is None:
            logger.info("alarm %s went to %s: no mail wanted", change.alarm_name, change.state)
            continue
        # A refused publish raises: the invocation fails and Lambda retries it. SNS hands the function one
        # record per invocation, so a retry never mails a state change twice.
        response = sns.publish(**mail.request(config.topic_arn))
        logger.info("alarm %s %s mailed as SNS message %s", change.alarm_name, change.state, response["MessageId"])
        result["mailed"] += 1
    if skipped:
        result["skipped"] = "; ".join(skipped)
    return result


_clients: dict[str, Any] = {}
_loaded: dict[str, Any] = {}


def _client(name: str) -> Any:
    if name not in _clients:
        import boto3
        from botocore.config import Config

        settings = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 5, "mode": "standard"})
        _clients[name] = boto3.client(name, config=settings)
    return _clients[name]


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not _loaded:
        _loaded["config"] = MailerConfig.from_env(os.environ)
        _loaded["detections"] = load_detections(Path(__file__).with_name(DETECTIONS_FILE))
    options: dict[str, Any] = {}
    if context is not None:
        options["remaining_ms"] = context.get_remaining_time_in_millis
    config = _loaded["config"]
    dynamodb = _client("dynamodb") if config.sign_in_table_name else None
    return handle(event, config, _loaded["detections"], _client("logs"), _client("sns"), dynamodb, **options)
