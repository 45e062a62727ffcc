"""Forward every message of a member's alert topic to the organization's hub topic.

CloudWatch alarm actions reach an SNS topic of another account only in the alarm's own
Region, so a member in any Region sends its alarm and sign-in mails through this function.
An alarm reaches a function as CloudWatch's JSON document; it is passed on as a readable mail. The
stack's own mails reach it as their per-protocol structure (handlers/chat.py) and are published to
the hub the same way, so the hub's mail and chat subscribers each get their own entry.
SNS invokes it asynchronously: an error makes Lambda retry, then keep the event.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from handlers.alarm_message import alarm_document, render_alarm
from handlers.chat import chat_notification, publish_request, structured_entries
from handlers.log_lines import SKIPPED_LOG_PREFIX

logger = logging.getLogger("login-monitoring.forwarder")
logger.setLevel(logging.INFO)

_clients: dict[str, Any] = {}


def region_of(topic_arn: str) -> str:
    parts = topic_arn.split(":")
    if len(parts) < 6 or parts[2] != "sns" or not parts[3]:
        raise ValueError(f"{topic_arn!r} is not an SNS topic ARN")
    return parts[3]


def forward(event: dict[str, Any], hub_topic_arn: str, sns: Any) -> int:
    forwarded = 0
    for record in event.get("Records", []):
        message = record.get("Sns") or {}
        if "Message" not in message:
            logger.warning("%s %s: no SNS message", SKIPPED_LOG_PREFIX, record.get("EventSubscriptionArn", "?"))
            continue
        sns.publish(**hub_request(hub_topic_arn, message))
        forwarded += 1
    return forwarded


def hub_request(hub_topic_arn: str, message: dict[str, Any]) -> dict[str, str]:
    """What to publish to the hub for one message of the member's topic."""
    entries = structured_entries(message["Message"])
    if entries is not None:
        request = {"TopicArn": hub_topic_arn, "Message": json.dumps(entries), "MessageStructure": "json"}
        if message.get("Subject"):
            request["Subject"] = message["Subject"]
        return request
    alarm = alarm_document(message["Message"])
    if alarm is not None:
        mail = render_alarm(alarm)
        card = chat_notification(mail.subject, mail.body, links=mail.links)
        return publish_request(hub_topic_arn, mail.subject, mail.body, card)
    request = {"TopicArn": hub_topic_arn, "Message": message["Message"]}
    if message.get("Subject"):
        request["Subject"] = message["Subject"]
    return request


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    hub_topic_arn = os.environ["HUB_TOPIC_ARN"]
    if "sns" not in _clients:
        import boto3
        from botocore.config import Config

        # One attempt, well inside the function's 30 s: a publish is not idempotent, and a retried one
        # whose first answer was lost would reach the hub twice. Lambda retries a failed invocation.
        settings = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1, "mode": "standard"})
        _clients["sns"] = boto3.client("sns", region_name=region_of(hub_topic_arn), config=settings)
    return {"forwarded": forward(event, hub_topic_arn, _clients["sns"])}
