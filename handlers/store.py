"""Sign-in history in DynamoDB, written so that no sign-in is lost and no mail goes out twice.

Each item carries a mail state:

    pending ──lease──▶ sending ──SNS accepted──▶ sent
    not-required (the notify policy skips it)

The first write is conditional on the event id, so a retry or a concurrent invocation sees the
stored item instead of adding a second one. Before publishing, an invocation takes a lease: a
conditional pending → sending transition with an owner and an expiry. Only the lease holder
publishes; another invocation that finds a live lease waits for it to end; an expired lease (its
holder died before SNS accepted the mail) may be taken over.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handlers.signin import SignInRecord

MAIL_PENDING = "pending"
MAIL_SENDING = "sending"
MAIL_SENT = "sent"
MAIL_NOT_REQUIRED = "not-required"

# Longer than one publish can take with the notifier's client timeouts and retries (see notifier.py).
LEASE_SECONDS = 60
# A failed batch waits up to 14 days in the failed-events queue (plus up to 6 hours of Lambda
# retries) before it can be re-driven; its items must outlive that, or the re-drive mails again.
REDELIVERY_DAYS = 15
# DynamoDB TTL and date arithmetic stay sane far beyond this; the stack refuses more.
MAX_HISTORY_DAYS = 3653
# DynamoDB's error for a request about this item that can never succeed (key or item too large ...).
RECORD_ERROR_CODES = frozenset({"ValidationException"})


class LeaseOutcome(enum.Enum):
    TAKEN = "taken"  # this invocation holds the lease and must publish
    HELD = "held"  # another invocation holds a live lease
    DONE = "done"  # mailed already, or no mail owed


@dataclass(frozen=True)
class Claim:
    new: bool
    mail_due: bool


@dataclass
class SignInStore:
    client: Any
    table_name: str
    history_days: int

    def claim(self, record: SignInRecord, mail_wanted: bool, now: datetime) -> Claim:
        """Store the record once and say whether it was new and whether a mail may still be owed."""
        item = to_item(record, self.history_days, MAIL_PENDING if mail_wanted else MAIL_NOT_REQUIRED, now)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(eventId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            state = (error.response.get("Item") or {}).get("mail", {}).get("S")
            return Claim(new=False, mail_due=state in (MAIL_PENDING, MAIL_SENDING))
        return Claim(new=True, mail_due=mail_wanted)

    def take_lease(self, event_id: str, owner: str, now: datetime) -> LeaseOutcome:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"eventId": {"S": event_id}},
                UpdateExpression="SET mail = :sending, leaseOwner = :owner, leaseUntil = :until",
                ConditionExpression="mail = :pending OR (mail = :sending AND leaseUntil < :now)",
                ExpressionAttributeValues={
                    ":pending": {"S": MAIL_PENDING},
                    ":sending": {"S": MAIL_SENDING},
                    ":owner": {"S": owner},
                    ":now": {"N": str(_epoch(now))},
                    ":until": {"N": str(_epoch(now + timedelta(seconds=LEASE_SECONDS)))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            old = error.response.get("Item") or {}
            return LeaseOutcome.HELD if old.get("mail", {}).get("S") == MAIL_SENDING else LeaseOutcome.DONE
        return LeaseOutcome.TAKEN

    def release_lease(self, event_id: str, owner: str) -> None:
        """Give a lease back after SNS refused the mail; best effort, the expiry frees it anyway."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"eventId": {"S": event_id}},
                UpdateExpression="SET mail = :pending REMOVE leaseOwner, leaseUntil",
                ConditionExpression="mail = :sending AND leaseOwner = :owner",
                ExpressionAttributeValues={
                    ":pending": {"S": MAIL_PENDING},
                    ":sending": {"S": MAIL_SENDING},
                    ":owner": {"S": owner},
                },
            )
        except Exception:  # the invocation is failing already; the lease expires by itself
            return

    def mark_sent(self, event_id: str, message_id: str, now: datetime) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"eventId": {"S": event_id}},
            UpdateExpression="SET mail = :sent, mailMessageId = :id, mailedAt = :at REMOVE leaseOwner, leaseUntil",
            ExpressionAttributeValues={
                ":sent": {"S": MAIL_SENT},
                ":id": {"S": message_id},
                ":at": {"S": now.isoformat(timespec="seconds")},
            },
        )


def expires_at(event_time: datetime, history_days: int, now: datetime) -> datetime:
    """When DynamoDB may drop the item: the history window, but never before a re-drive could come."""
    return max(event_time + timedelta(days=history_days), now + timedelta(days=REDELIVERY_DAYS))


def to_item(record: SignInRecord, history_days: int, mail_state: str, now: datetime) -> dict[str, dict]:
    text = {
        "eventId": record.event_id,
        "eventTime": record.event_time.isoformat().replace("+00:00", "Z"),
        "eventName": record.event_name,
        "outcome": record.outcome,
        "principalKind": record.principal_kind.value,
        "displayName": record.display_name,
        "principalArn": record.principal_arn,
        "accountId": record.account_id,
        "errorMessage": record.error_message,
        "mfaType": record.mfa_type,
        "sourceIp": record.source_ip,
        "country": record.location.country_code,
        "userAgent": record.user_agent,
        "region": record.region,
        "loginUrl": record.login_url,
        "switchedFrom": record.switched_from,
        "mail": mail_state,
    }
    item: dict[str, dict] = {key: {"S": value} for key, value in text.items() if value}
    item["expiresAt"] = {"N": str(_epoch(expires_at(record.event_time, history_days, now)))}
    if record.mfa_used is not None:
        item["mfaUsed"] = {"BOOL": record.mfa_used}
    if record.risk_reasons:
        item["riskReasons"] = {"L": [{"S": reason} for reason in record.risk_reasons]}
    return item


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
