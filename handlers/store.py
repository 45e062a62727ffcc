"""Sign-in history in DynamoDB, written so that a retried batch never mails twice.

Each item carries a mail state: "pending" when a mail is owed, "sent" once SNS
accepted it, "not-required" when the notify policy skips it. The first write is
conditional on the event id, so a retry sees the stored item instead of adding a
second one, and mails only if the earlier attempt died between store and send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.signin import SignInRecord

MAIL_PENDING = "pending"
MAIL_SENT = "sent"
MAIL_NOT_REQUIRED = "not-required"


@dataclass(frozen=True)
class Claim:
    new: bool
    mail_due: bool


@dataclass
class SignInStore:
    client: Any
    table_name: str
    history_days: int

    def claim(self, record: SignInRecord, mail_wanted: bool) -> Claim:
        """Store the record once and say whether it was new and whether a mail is still owed."""
        item = to_item(record, self.history_days, MAIL_PENDING if mail_wanted else MAIL_NOT_REQUIRED)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(eventId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            existing = error.response.get("Item") or {}
            return Claim(new=False, mail_due=existing.get("mail", {}).get("S") == MAIL_PENDING)
        return Claim(new=True, mail_due=mail_wanted)

    def mark_sent(self, event_id: str, message_id: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"eventId": {"S": event_id}},
            UpdateExpression="SET mail = :sent, mailMessageId = :id, mailedAt = :at",
            ExpressionAttributeValues={
                ":sent": {"S": MAIL_SENT},
                ":id": {"S": message_id},
                ":at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
            },
        )


def to_item(record: SignInRecord, history_days: int, mail_state: str) -> dict[str, dict]:
    expires_at = record.event_time + timedelta(days=history_days)
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
        "userAgent": record.user_agent,
        "region": record.region,
        "loginUrl": record.login_url,
        "switchedFrom": record.switched_from,
        "mail": mail_state,
    }
    item: dict[str, dict] = {key: {"S": value} for key, value in text.items() if value}
    item["expiresAt"] = {"N": str(int(expires_at.timestamp()))}
    if record.mfa_used is not None:
        item["mfaUsed"] = {"BOOL": record.mfa_used}
    if record.risk_reasons:
        item["riskReasons"] = {"L": [{"S": reason} for reason in record.risk_reasons]}
    return item
