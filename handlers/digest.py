"""Digest mails for sign-ins held back by flood control, sent by the notifier on a schedule.

For each flood window with held-back sign-ins after its cursor: when the digest is due, take the
window's digest lease (a conditional write), publish one mail, then move the cursor past what it
listed. A retry or a concurrent run finds the lease or the moved cursor and sends nothing twice; the
one window left is the same as for sign-in mails (killed after SNS accepted it, before the cursor moved).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from handlers.chat import chat_notification, publish_request
from handlers.flood import (
    CURSOR_START,
    DIGEST_INDEX,
    DIGEST_KEY,
    DIGEST_LEASE,
    DIGEST_SORT,
    INDEX_LAG,
    Digest,
    digest_due,
    held_from_item,
    is_account_window,
    reason_counts,
    stored_time,
    summary_counts,
)
from handlers.text import SUBJECT_LIMIT, account_label, ascii_only, one_line, subject_account, within_body_limit

logger = logging.getLogger("login-monitoring.notifier")
TOP = 10


@dataclass
class DigestSender:
    client: Any
    flood_table: str
    history_table: str
    sns: Any
    topic_arn: str
    quiet: timedelta
    burst_limit: int
    zone: tzinfo
    zone_name: str
    owner: str
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    calls: int = 0
    # Named next to the stack's own account id (own_account); other accounts' ids stand alone.
    account_alias: str = ""
    own_account: str = ""

    def run(self) -> int:
        """Send every digest that is due; the number sent."""
        sent = 0
        for window in self._windows():
            digest = self._pending(window)
            if digest is None:
                continue
            stored = [stored_time(held.sort_key) for held in digest.sign_ins]
            if not digest_due(window, list(digest.sign_ins), stored, self.clock(), self.quiet):
                continue
            if self._lease(digest):
                self._send(digest)
                sent += 1
        return sent

    def _windows(self) -> list[dict]:
        request: dict[str, Any] = {"TableName": self.flood_table}
        windows = []
        while True:
            self.calls += 1
            page = self.client.scan(**request)
            windows += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return sorted(windows, key=lambda item: item["windowKey"]["S"])
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _pending(self, window: dict) -> Digest | None:
        key = window["windowKey"]["S"]
        cursor = window.get("cursor", {}).get("S", "") or CURSOR_START
        bound = (self.clock() - INDEX_LAG).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        request: dict[str, Any] = {
            "TableName": self.history_table,
            "IndexName": DIGEST_INDEX,
            "KeyConditionExpression": "#key = :key AND #sort > :cursor",
            "ExpressionAttributeNames": {"#key": DIGEST_KEY, "#sort": DIGEST_SORT},
            "ExpressionAttributeValues": {":key": {"S": key}, ":cursor": {"S": cursor}},
        }
        held = []
        while True:
            self.calls += 1
            page = self.client.query(**request)
            held += [held_from_item(item) for item in page.get("Items", [])]
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # Younger items may still be on their way into the index; they wait for the next run.
        held = [item for item in held if item.sort_key.split("#", 1)[0] <= bound]
        return Digest(key, cursor, tuple(held)) if held else None

    def _lease(self, digest: Digest) -> bool:
        now = self.clock()
        try:
            self.calls += 1
            self.client.update_item(
                TableName=self.flood_table,
                Key={"windowKey": {"S": digest.window_key}},
                UpdateExpression="SET leaseOwner = :owner, leaseUntil = :until",
                ConditionExpression="#cursor = :cursor AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeNames={"#cursor": "cursor"},
                ExpressionAttributeValues={
                    ":owner": {"S": self.owner},
                    ":cursor": {"S": digest.cursor},
                    ":now": {"N": str(int(now.timestamp()))},
                    ":until": {"N": str(int((now + DIGEST_LEASE).timestamp()))},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # another run holds it, or has sent it already
        return True

    def _send(self, digest: Digest) -> None:
        try:
            self.calls += 1
            subject, body = digest_subject(digest, self.alias(digest)), self.body(digest)
            self.sns.publish(**publish_request(self.topic_arn, subject, body, chat_notification(subject, body)))
        except Exception:
            self._release(digest)
            raise
        for attempt in range(3):
            try:
                self.calls += 1
                self.client.update_item(
                    TableName=self.flood_table,
                    Key={"windowKey": {"S": digest.window_key}},
                    UpdateExpression="SET #cursor = :cursor REMOVE leaseOwner, leaseUntil",
                    ConditionExpression="leaseOwner = :owner",
                    ExpressionAttributeNames={"#cursor": "cursor"},
                    ExpressionAttributeValues={":cursor": {"S": digest.new_cursor}, ":owner": {"S": self.owner}},
                )
                return
            except Exception as error:  # SNS has the digest: failing now would only send it again
                last_error = error
                self.sleep(0.2 * (attempt + 1))
        logger.error("digest for %s was sent but its cursor could not be moved: %s", digest.window_key, last_error)

    def _release(self, digest: Digest) -> None:
        try:
            self.client.update_item(
                TableName=self.flood_table,
                Key={"windowKey": {"S": digest.window_key}},
                UpdateExpression="REMOVE leaseOwner, leaseUntil",
                ConditionExpression="leaseOwner = :owner",
                ExpressionAttributeValues={":owner": {"S": self.owner}},
            )
        except Exception:  # the lease expires by itself
            return

    def body(self, digest: Digest) -> str:
        return digest_body(digest, self.zone, self.zone_name, self.alias(digest), self.burst_limit)

    def alias(self, digest: Digest) -> str:
        account = digest.sign_ins[0].account_id if digest.sign_ins else ""
        return self.account_alias if account and account == self.own_account else ""


def digest_subject(digest: Digest, alias: str = "") -> str:
    sign_ins = digest.sign_ins
    outcome = _outcome_word(sign_ins)
    who = _burst_phrase(sign_ins) if is_account_window(digest.window_key) else _principal_phrase(sign_ins)
    head = ascii_only(f"[digest] {len(sign_ins)} more {outcome} sign-ins: ")
    tail = subject_account(sign_ins[0].account_id, alias)
    room = SUBJECT_LIMIT - len(head) - len(tail)
    who = ascii_only(who)
    if len(who) > room:
        who = who[: max(room - 3, 0)] + "..."
    return (head + who + tail)[:SUBJECT_LIMIT]


def _principal_phrase(sign_ins) -> str:
    who, _, _ = summary_counts(sign_ins)
    names = [name for name, _ in who.most_common(2)]
    return names[0] if len(names) == 1 else f"{names[0]} and others"


def _burst_phrase(sign_ins) -> str:
    _, ips, countries = summary_counts(sign_ins)
    return f"burst from {_many(len(ips), 'IP')}, {_many(len(countries), 'country', 'countries')}"


def digest_body(digest: Digest, zone: tzinfo, zone_name: str, alias: str = "", burst_limit: int = 0) -> str:
    sign_ins = sorted(digest.sign_ins, key=lambda held: held.event_time)
    who, ips, countries = summary_counts(sign_ins)
    reasons = reason_counts(sign_ins)
    first, last = sign_ins[0].event_time, sign_ins[-1].event_time
    outcome = _outcome_word(sign_ins)
    if is_account_window(digest.window_key):
        first_mails = f"the first {burst_limit}" if burst_limit else "the first few"
        intro = [
            f"This account had a burst of {outcome} sign-ins from many principals or addresses: {first_mails}",
            f"were mailed on their own, and every further {outcome} sign-in in the account, whatever its",
            "principal or address, was stored as usual and held back for this digest so the burst does not",
            "flood the mailbox. Each one is in the sign-in history.",
        ]
    else:
        intro = [
            "One mail went out for the first sign-in of this burst; these were stored as usual and held back",
            "so the burst does not flood the mailbox. Each one is in the sign-in history.",
        ]
    account = sign_ins[0].account_id
    spread = f" from {_many(len(ips), 'source IP')} in {_many(len(countries), 'country', 'countries')}"
    lines = [
        one_line(f"{len(sign_ins)} more {outcome} sign-ins in AWS account {account_label(account, alias)}"),
        "",
        *intro,
        "",
        f"Count:       {len(sign_ins)}{spread}",
        f"First:       {_when(first, zone, zone_name)}",
        f"Last:        {_when(last, zone, zone_name)}",
        f"Principals:  {_top(who)}",
        f"Source IPs:  {_top(ips)}",
        f"Countries:   {_top(countries)}",
        f"Reasons:     {_top(reasons) if reasons else 'none beyond the outcome'}",
        f"Window key:  {one_line(digest.window_key)}",
        "",
    ]
    return within_body_limit("\n".join(lines))


def _many(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _outcome_word(sign_ins) -> str:
    return {"Failure": "failed", "Success": "successful"}.get(sign_ins[0].outcome, "other")


def _top(counts) -> str:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    text = ", ".join(f"{one_line(name)} ({count})" for name, count in ranked[:TOP])
    return text + (f", and {len(ranked) - TOP} more" if len(ranked) > TOP else "")


def _when(moment: datetime, zone: tzinfo, zone_name: str) -> str:
    local = moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")[:19]
    utc = moment.isoformat(sep=" ", timespec="seconds")[:19]
    return f"{local} {zone_name}" + ("" if zone_name == "UTC" else f" ({utc} UTC)")
