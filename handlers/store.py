"""Sign-in history in DynamoDB, written so that no sign-in is lost and no mail goes out twice.

Each item carries a mail state:

    pending ──lease──▶ sending ──SNS accepted──▶ sent
    not-required (the notify policy skips it)
    digest (flood control holds it back for its window's digest mail)

The first write is conditional on the event id, so a retry or a concurrent invocation sees the
stored item instead of adding a second one. Before publishing, an invocation takes a lease: a
conditional pending → sending transition with an owner and an expiry. Only the lease holder
publishes; another invocation that finds a live lease waits for it to end; an expired lease (its
holder died before SNS accepted the mail) may be taken over.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.flood import DIGEST_KEY, DIGEST_SORT, digest_sort_key
from handlers.risk import Sighting, ip_key, is_successful_sign_in, principal_key
from handlers.signin import SignInRecord

MAIL_PENDING = "pending"
MAIL_SENDING = "sending"
MAIL_SENT = "sent"
MAIL_NOT_REQUIRED = "not-required"
# Held back by flood control: summarised in its window's digest mail (handlers/flood.py).
MAIL_DIGEST = "digest"

# Longer than taking the lease plus one publish can take with the notifier's client settings; the
# notifier publishes only while a whole publish still fits in the lease (see notifier.py).
LEASE_SECONDS = 90
# A failed batch waits up to 14 days in the failed-events queue (plus up to 6 hours of Lambda
# retries) before it can be re-driven; its items must outlive that, or the re-drive mails again.
REDELIVERY_DAYS = 16
# A repeat sighting pushes the expiry on only when less than this is left, so an ordinary retry
# minutes later costs no write; what is left is then still longer than any re-drive can come.
MIN_REDELIVERY_DAYS = REDELIVERY_DAYS - 1
# DynamoDB TTL and date arithmetic stay sane far beyond this; the stack refuses more.
MAX_HISTORY_DAYS = 3653
# DynamoDB's error for a request about this item that can never succeed (key or item too large). The
# same code also reports faults of the table or the code, which must fail the batch, not skip records.
RECORD_ERROR_CODES = frozenset({"ValidationException"})
_RECORD_ERROR_WORDS = ("size", "bytes")


def is_record_error(code: str, message: str) -> bool:
    """Whether DynamoDB refused this one item for what it is (too large), not for what the table is."""
    return code in RECORD_ERROR_CODES and any(word in message.lower() for word in _RECORD_ERROR_WORDS)


# Secondary indexes that answer "this principal's sign-ins since T", "sign-ins from this IP since T" and
# "failed sign-ins of this hour since T" with a Query. Sparse: a name AWS hides has no principal key, a
# service name no IP key, a success no failure hour. Each carries only what the risk reasons read. The
# stack and the tests build the table from this one definition.
PRINCIPAL_INDEX = "byPrincipal"
IP_INDEX = "bySourceIp"
# A batch from many addresses (a botnet) reads their recent failures hour by hour, a Query or two per
# batch, instead of one Query per address: the reasons by IP only count failures.
FAILURE_INDEX = "byFailureHour"
FAILURE_HOUR = "failureHour"
TIME_ATTRIBUTE = "eventTime"
INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    PRINCIPAL_INDEX: ("principalKey", ("outcome", "eventName", "country", "ipKey")),
    IP_INDEX: ("ipKey", ("outcome", "eventName", "country", "principalKey")),
    FAILURE_INDEX: (FAILURE_HOUR, ("outcome", "eventName", "country", "principalKey", "ipKey")),
}


# DynamoDB's BatchGetItem takes at most 100 keys.
BATCH_GET_LIMIT = 100
BATCH_GET_ROUNDS = 4


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

    def claim(self, record: SignInRecord, mail_wanted: bool, now: datetime, digest_key: str = "") -> Claim:
        """Store the record once and say whether it was new and whether a mail may still be owed.

        With a digest key the sign-in is held back by flood control: no mail of its own, listed in the
        window's digest (found through the digest index, sorted by when it was stored).
        """
        state = MAIL_DIGEST if mail_wanted and digest_key else MAIL_PENDING if mail_wanted else MAIL_NOT_REQUIRED
        item = to_item(record, self.history_days, state, now)
        if state == MAIL_DIGEST:
            item[DIGEST_KEY] = {"S": digest_key}
            item[DIGEST_SORT] = {"S": digest_sort_key(now, record.event_id)}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(eventId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            old = error.response.get("Item") or {}
            self._keep_until_redelivery_ends(record.event_id, old, now)
            state = old.get("mail", {}).get("S")
            return Claim(new=False, mail_due=state in (MAIL_PENDING, MAIL_SENDING))
        return Claim(new=True, mail_due=state == MAIL_PENDING)

    def _keep_until_redelivery_ends(self, event_id: str, old: dict, now: datetime) -> None:
        # A re-driven batch may fail again and wait another 14 days: each sighting pushes the floor on.
        floor = _epoch(now + timedelta(days=REDELIVERY_DAYS))
        stored = int(old.get("expiresAt", {}).get("N", floor))
        if stored >= _epoch(now + timedelta(days=MIN_REDELIVERY_DAYS)):
            return
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"eventId": {"S": event_id}},
                UpdateExpression="SET expiresAt = :floor",
                ConditionExpression="attribute_exists(eventId) AND expiresAt < :floor",
                ExpressionAttributeValues={":floor": {"N": str(floor)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # another invocation pushed it already

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
            if old.get("mail", {}).get("S") != MAIL_SENDING:
                return LeaseOutcome.DONE
            # Our own request, answered but retried by the SDK, found the lease we had just taken.
            return LeaseOutcome.TAKEN if old.get("leaseOwner", {}).get("S") == owner else LeaseOutcome.HELD
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
        # Conditional on the item: an item deleted meanwhile must not come back without an expiry.
        self.client.update_item(
            TableName=self.table_name,
            Key={"eventId": {"S": event_id}},
            UpdateExpression="SET mail = :sent, mailMessageId = :id, mailedAt = :at REMOVE leaseOwner, leaseUntil",
            ConditionExpression="attribute_exists(eventId)",
            ExpressionAttributeValues={
                ":sent": {"S": MAIL_SENT},
                ":id": {"S": message_id},
                ":at": {"S": now.isoformat(timespec="seconds")},
            },
        )


@dataclass
class SignInHistory:
    """Earlier sign-ins by principal or by IP, read from the history table's indexes."""

    client: Any
    table_name: str
    queries: int = 0

    def by_principal(self, key: str, since: datetime, until: datetime) -> list[Sighting]:
        return self._query(PRINCIPAL_INDEX, key, since, until)

    def by_ip(self, key: str, since: datetime, until: datetime) -> list[Sighting]:
        return self._query(IP_INDEX, key, since, until)

    def failures(self, since: datetime, until: datetime) -> list[Sighting]:
        """Every failed sign-in between the two times, from any address: one Query per hour."""
        return [s for hour in failure_hours(since, until) for s in self._query(FAILURE_INDEX, hour, since, until)]

    def _query(self, index: str, key: str, since: datetime, until: datetime) -> list[Sighting]:
        """Every item of the key between the two times; any error propagates (the caller retries the batch)."""
        hash_key, _ = INDEXES[index]
        request = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#key = :key AND #time BETWEEN :since AND :until",
            "ExpressionAttributeNames": {"#key": hash_key, "#time": TIME_ATTRIBUTE},
            "ExpressionAttributeValues": {
                ":key": {"S": key},
                # Whole seconds, and one past the end: the callers drop what is not earlier than the sign-in.
                ":since": {"S": iso_time(since.replace(microsecond=0))},
                ":until": {"S": iso_time(until.replace(microsecond=0) + timedelta(seconds=1))},
            },
        }
        sightings = []
        while True:
            self.queries += 1
            page = self.client.query(**request)
            sightings += [_sighting_from_item(item) for item in page.get("Items", [])]
            if not page.get("LastEvaluatedKey"):
                return sightings
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def risk_details(self, event_ids: list[str]) -> dict[str, SignInDetail]:
        """Risk reasons and source IP of stored sign-ins, which the indexes do not carry; errors propagate."""
        found: dict[str, SignInDetail] = {}
        for start in range(0, len(event_ids), BATCH_GET_LIMIT):
            keys = [{"eventId": {"S": event_id}} for event_id in event_ids[start : start + BATCH_GET_LIMIT]]
            request = {
                self.table_name: {
                    "Keys": keys,
                    "ProjectionExpression": "eventId, riskReasons, sourceIp",
                }
            }
            # Unprocessed keys (throttling) are asked again a few times; what is still missing stays unknown.
            for _ in range(BATCH_GET_ROUNDS):
                if not request:
                    break
                self.queries += 1
                page = self.client.batch_get_item(RequestItems=request)
                for item in page.get("Responses", {}).get(self.table_name, []):
                    detail = SignInDetail(
                        reasons=tuple(entry.get("S", "") for entry in item.get("riskReasons", {}).get("L", [])),
                        source_ip=item.get("sourceIp", {}).get("S", ""),
                    )
                    found[item["eventId"]["S"]] = detail
                request = page.get("UnprocessedKeys") or {}
        return found


@dataclass(frozen=True)
class SignInDetail:
    reasons: tuple[str, ...]
    source_ip: str


def _sighting_from_item(item: dict) -> Sighting:
    def text(name: str) -> str:
        return item.get(name, {}).get("S", "")

    event_name, outcome = text("eventName"), text("outcome")
    return Sighting(
        event_id=text("eventId"),
        time=datetime.fromisoformat(text(TIME_ATTRIBUTE)),
        succeeded=is_successful_sign_in(event_name, outcome),
        failed=outcome == "Failure" and event_name != "ExitRole",
        country=text("country"),
        principal_key=text("principalKey"),
        ip_key=text("ipKey"),
    )


def failure_hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def failure_hours(since: datetime, until: datetime) -> list[str]:
    """The failure hours from the one of `since` to the one of `until` (one past it, as _query reads)."""
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = until + timedelta(seconds=1)
    hours = []
    while hour <= end:
        hours.append(failure_hour(hour))
        hour += timedelta(hours=1)
    return hours


def iso_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def expires_at(event_time: datetime, history_days: int, now: datetime) -> datetime:
    """When DynamoDB may drop the item: the history window, but never before a re-drive could come."""
    return max(event_time + timedelta(days=history_days), now + timedelta(days=REDELIVERY_DAYS))


def to_item(record: SignInRecord, history_days: int, mail_state: str, now: datetime) -> dict[str, dict]:
    text = {
        "eventId": record.event_id,
        "eventTime": iso_time(record.event_time),
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
        "principalKey": principal_key(record),
        "ipKey": ip_key(record.source_ip),
        "userAgent": record.user_agent,
        "region": record.region,
        "loginUrl": record.login_url,
        "switchedFrom": record.switched_from,
        "mail": mail_state,
        FAILURE_HOUR: failure_hour(record.event_time) if record.outcome == "Failure" else "",
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
