"""Flood control for per-sign-in mails: one mail per (principal or IP, outcome) per quiet time, then a digest.

A burst of sign-ins with the same key — the principal, or the source IP when AWS hides the name — and
the same outcome sends one mail for its first sign-in. The others are stored as usual, marked
`digest` with the window's key, and summarised in one digest mail when the burst is over (no sign-in
of the key for the quiet time) or at the latest MAX_DIGEST_DELAY after the first of them was stored.
Root sign-ins and successful sign-ins with a risk reason are never held back.

State, in the flood table, one item per window key:
- `lastAt`: the latest sign-in time known to the window; a sign-in opens a new window (and is mailed)
  when `lastAt` is older than its time minus the quiet time. Opening is a conditional write, so two
  concurrent invocations cannot both open it; `openerId` makes a retry of the opener's batch find
  that its sign-in is the opener.
- `cursor`: the history table's `digestAt` (store time and event id) up to which digests have gone out.
  A digest reads the window's held-back sign-ins after the cursor from the history table's `byDigest`
  index, so a retried batch can never count a sign-in twice, and one stored late is never skipped.
- `leaseOwner`/`leaseUntil`: who is sending the window's digest; at most one sender, like sign-in mails.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.risk import ip_key, principal_key
from handlers.signin import PrincipalKind, SignInRecord

DIGEST_INDEX = "byDigest"
DIGEST_KEY = "digestKey"
DIGEST_SORT = "digestAt"
DIGEST_PROJECTION = ("eventTime", "outcome", "principalKind", "displayName", "sourceIp", "country", "accountId")
# Digests are sent by a schedule every FLUSH_MINUTES; with this delay a held-back sign-in is in a
# digest at most 15 minutes after it was stored.
FLUSH_MINUTES = 5
MAX_DIGEST_DELAY = timedelta(minutes=15 - FLUSH_MINUTES)
# A stored item shows in the index within moments; items younger than this wait for the next digest.
INDEX_LAG = timedelta(seconds=60)
DIGEST_LEASE = timedelta(seconds=60)
# Window items outlive a re-drive of the failed-events queue (14 days), like the history.
WINDOW_DAYS = 15
MAX_QUIET_MINUTES = 24 * 60
# Sorts before every digestAt ("2024-..."); DynamoDB refuses an empty key value in a Query.
CURSOR_START = "0"


def exempt(record: SignInRecord) -> bool:
    """Never held back: the root user, and a successful sign-in that needs a look."""
    return record.principal_kind is PrincipalKind.ROOT or (record.outcome == "Success" and bool(record.risk_reasons))


def window_key(record: SignInRecord) -> str:
    who = principal_key(record) or (f"ip:{ip_key(record.source_ip)}" if ip_key(record.source_ip) else "")
    who = who or f"source:{record.source_ip or 'unknown'}"
    key = f"{record.outcome}|{who}"
    # DynamoDB keys stay far below their limits; a hash keeps an absurd name from breaking the item.
    return key if len(key.encode()) <= 512 else f"{record.outcome}|sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass
class FloodWindows:
    """Decides which sign-ins are held back; one conditional write per key and batch at most."""

    client: Any
    table_name: str
    quiet: timedelta
    # window key -> (latest time this process knows the window open to, opener event id); a cache that
    # can only make the answer "held back" when the table says so too, since lastAt only grows.
    known: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    writes: int = 0

    def held_back(self, records: Iterable[SignInRecord], wanted: Callable[[SignInRecord], bool]) -> dict[str, str]:
        """event id -> window key, for the sign-ins that go into a digest instead of a mail of their own."""
        groups: dict[str, list[SignInRecord]] = {}
        for record in records:
            if wanted(record) and not exempt(record):
                groups.setdefault(window_key(record), []).append(record)
        held: dict[str, str] = {}
        for key, group in sorted(groups.items()):
            group.sort(key=lambda r: (r.event_time, r.event_id))
            for run in _runs(group, self.quiet):
                opener = self._opener(key, run)
                held.update((r.event_id, key) for r in run if r.event_id != opener)
        return held

    def _opener(self, key: str, run: list[SignInRecord]) -> str:
        """The event id mailed on its own for this run ("" when the window was already open)."""
        first, last = run[0], run[-1].event_time
        ids = {r.event_id for r in run}
        open_since = first.event_time - self.quiet
        cached = self.known.get(key)
        if cached and cached[0] >= open_since and last - cached[0] < self.quiet / 2:
            return cached[1] if cached[1] in ids else ""
        old = self._extend(key, open_since, last)
        if old is None:
            old = self._open(key, first, open_since, last)
        last_at = max(_time(old.get("lastAt")), last)
        opener = old.get("openerId", {}).get("S", "")
        self.known[key] = (last_at, opener)
        return opener if opener in ids else ""

    def _extend(self, key: str, open_since: datetime, last: datetime) -> dict | None:
        """The window's item after extending it to `last`, or None if it is closed."""
        try:
            self.writes += 1
            return self.client.update_item(
                TableName=self.table_name,
                Key={"windowKey": {"S": key}},
                UpdateExpression="SET lastAt = :last, expiresAt = :expires",
                ConditionExpression="lastAt >= :since AND lastAt <= :last",
                ExpressionAttributeValues={
                    ":since": _number(open_since),
                    ":last": _number(last),
                    ":expires": _number(last + timedelta(days=WINDOW_DAYS)),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException as error:
            old = error.response.get("Item") or {}
            # Open, and already known to a later time (batches arrive out of order).
            return old if old and _time(old.get("lastAt")) >= open_since else None

    def _open(self, key: str, first: SignInRecord, open_since: datetime, last: datetime) -> dict:
        try:
            self.writes += 1
            return self.client.update_item(
                TableName=self.table_name,
                Key={"windowKey": {"S": key}},
                UpdateExpression=(
                    "SET lastAt = :last, openedAt = :opened, openerId = :opener, expiresAt = :expires, "
                    "#cursor = if_not_exists(#cursor, :empty)"
                ),
                ConditionExpression="attribute_not_exists(lastAt) OR lastAt < :since OR openerId = :opener",
                ExpressionAttributeNames={"#cursor": "cursor"},
                ExpressionAttributeValues={
                    ":since": _number(open_since),
                    ":last": _number(last),
                    ":opened": _number(first.event_time),
                    ":opener": {"S": first.event_id},
                    ":expires": _number(last + timedelta(days=WINDOW_DAYS)),
                    ":empty": {"S": CURSOR_START},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException as error:
            # Another invocation opened it in the meantime: this run is held back.
            return error.response.get("Item") or {}


def _runs(group: list[SignInRecord], quiet: timedelta) -> list[list[SignInRecord]]:
    """Split a key's sign-ins where they are more than the quiet time apart."""
    runs = [[group[0]]]
    for record in group[1:]:
        if record.event_time - runs[-1][-1].event_time > quiet:
            runs.append([])
        runs[-1].append(record)
    return runs


def _number(moment: datetime) -> dict:
    return {"N": str(int(moment.timestamp()))}


def _time(value: dict | None) -> datetime:
    if not value or "N" not in value:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(value["N"]), UTC)


# ------------------------------------------------------------------ digests


@dataclass(frozen=True)
class Held:
    """One held-back sign-in as the digest index carries it."""

    sort_key: str
    event_time: datetime
    outcome: str
    who: str
    source_ip: str
    country: str
    account_id: str


@dataclass(frozen=True)
class Digest:
    window_key: str
    cursor: str
    sign_ins: tuple[Held, ...]

    @property
    def new_cursor(self) -> str:
        return max(held.sort_key for held in self.sign_ins)


def held_from_item(item: dict) -> Held:
    def text(name: str) -> str:
        return item.get(name, {}).get("S", "")

    kind = text("principalKind")
    try:
        label = PrincipalKind(kind).label
    except ValueError:
        label = "Principal"
    return Held(
        sort_key=text(DIGEST_SORT),
        event_time=datetime.fromisoformat(text("eventTime")),
        outcome=text("outcome"),
        who=f"{label}: {text('displayName')}",
        source_ip=text("sourceIp"),
        country=text("country"),
        account_id=text("accountId"),
    )


def digest_due(
    window: dict, pending: list[Held], stored_times: list[datetime], now: datetime, quiet: timedelta
) -> bool:
    """Burst over (nothing for the quiet time), or the oldest held-back sign-in has waited long enough."""
    if not pending:
        return False
    latest = max([_time(window.get("lastAt")), *(held.event_time for held in pending)])
    return now >= latest + quiet or now >= min(stored_times) + MAX_DIGEST_DELAY


def summary_counts(sign_ins: Iterable[Held]) -> tuple[Counter, Counter, Counter]:
    who, ips, countries = Counter(), Counter(), Counter()
    for held in sign_ins:
        who[held.who] += 1
        ips[f"{held.source_ip} ({held.country})" if held.country else held.source_ip or "?"] += 1
        countries[held.country or "no location"] += 1
    return who, ips, countries


def stored_time(sort_key: str) -> datetime:
    return datetime.fromisoformat(sort_key.split("#", 1)[0])


def digest_sort_key(now: datetime, event_id: str) -> str:
    return f"{now.astimezone(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')}#{event_id}"
