"""Flood control for per-sign-in mails: a burst sends a handful of mails, however many keys it has, then digests.

Two kinds of window, both closed by the quiet time (no sign-in of the window for that long):
- a key window per (principal or IP, outcome) — the principal, or the source IP when AWS hides the
  name: its first sign-in is mailed, the key's further sign-ins go into the key window's digest;
- an account window per (account, outcome), the ceiling: only its first `limit` key windows may mail
  their first sign-in ("slots"). Once the slots are taken, every further sign-in of that outcome in the
  account goes into the account window's digest, whatever its key, so a botnet's thousand addresses or a
  spray over hundreds of names send `limit` mails and digests, not one mail per address or name.
Held-back sign-ins are stored as usual, marked `digest` with their window's key, and summarised in one
digest mail when the burst is over or at the latest MAX_DIGEST_DELAY after the first of them was stored.
Root sign-ins and successful sign-ins with a risk reason are never held back; their mail says when it
came during a burst.

The account window's `slots` map holds, per event id that took a slot, its place in time order
("time#event id"). Taking a slot is a conditional write (fewer than `limit` slots, or this event's
own), so two invocations cannot both take the last one, and a retried batch finds the slots it took.
Once the map is full, its latest entry says from where on sign-ins belong to the account digest, so a
retry — or a batch that arrives late — decides every sign-in as the first attempt did.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.risk import ip_key, principal_key, short_name
from handlers.signin import PrincipalKind, SignInRecord

DIGEST_INDEX = "byDigest"
DIGEST_KEY = "digestKey"
DIGEST_SORT = "digestAt"
DIGEST_PROJECTION = (
    "eventTime",
    "outcome",
    "principalKind",
    "displayName",
    "sourceIp",
    "country",
    "accountId",
    "riskReasons",
)
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
# First mails an account sends per outcome and quiet time before the rest go into its digest.
DEFAULT_BURST_LIMIT = 5
MAX_BURST_LIMIT = 100
ACCOUNT_WINDOW = "account:"
# Outcomes whose account windows a never-held mail looks at to say it came during a burst.
OUTCOMES = ("Failure", "Success")


def exempt(record: SignInRecord) -> bool:
    """Never held back: the root user, and a successful sign-in that needs a look."""
    return record.principal_kind is PrincipalKind.ROOT or (record.outcome == "Success" and bool(record.risk_reasons))


def window_key(record: SignInRecord) -> str:
    # A hidden name's key is its address in its account: each account's ceiling counts its own keys.
    address = ip_key(record.source_ip)
    who = principal_key(record) or (f"ip:{record.account_id}:{address}" if address else "")
    who = who or f"source:{record.account_id}:{record.source_ip or 'unknown'}"
    return _bounded(record.outcome, who)


def account_key(record: SignInRecord, outcome: str | None = None) -> str:
    """The account window's key: the ceiling on first mails of one outcome in one account."""
    return _bounded(outcome or record.outcome, f"{ACCOUNT_WINDOW}{record.account_id or 'unknown'}")


def is_account_window(key: str) -> bool:
    return key.split("|", 1)[-1].startswith(ACCOUNT_WINDOW)


def _bounded(outcome: str, who: str) -> str:
    key = f"{outcome}|{who}"
    if len(key.encode()) <= 512:
        return key
    # DynamoDB keys stay far below their limits; a hash keeps an absurd name from breaking the item.
    kind = ACCOUNT_WINDOW if who.startswith(ACCOUNT_WINDOW) else ""
    return f"{outcome}|{kind}sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def place(record: SignInRecord) -> str:
    """The sign-in's place in time order, as a string that sorts like (eventTime, eventId)."""
    return digest_sort_key(record.event_time, record.event_id)


@dataclass(frozen=True)
class AccountWindow:
    """What is known of one account window: when it opened, how far it is open, and its slots."""

    key: str
    window_id: str  # the event id that opened it: a slot is taken in this window, not a later one
    opened_at: datetime
    last_at: datetime
    slots: dict[str, str]  # event id -> place, for the sign-ins that were mailed as first mails
    limit: int

    @property
    def full_from(self) -> str | None:
        """The place of the sign-in that took the last slot: every later one goes into the digest."""
        return max(self.slots.values()) if len(self.slots) >= self.limit else None

    def during(self, moment: datetime, quiet: timedelta) -> bool:
        """Whether a sign-in at this moment came while the ceiling held sign-ins back."""
        return self.full_from is not None and self.opened_at <= moment <= self.last_at + quiet

    @classmethod
    def from_item(cls, key: str, item: dict, limit: int, last: datetime | None = None) -> AccountWindow:
        slots = {event_id: value.get("S", "") for event_id, value in item.get("slots", {}).get("M", {}).items()}
        last_at = _time(item.get("lastAt"))
        return cls(
            key=key,
            window_id=item.get("openerId", {}).get("S", ""),
            opened_at=_time(item.get("openedAt")),
            last_at=max(last_at, last) if last else last_at,
            slots=slots,
            limit=limit,
        )


@dataclass
class FloodWindows:
    """Decides which sign-ins are held back; a conditional write per account window and batch, one per key
    window while the account's ceiling is not reached, and one per first mail."""

    client: Any
    table_name: str
    quiet: timedelta
    # window key -> (latest time this process knows the window open to, opener event id), and account
    # window key -> AccountWindow; a cache that can only make the answer "held back" when the table
    # says so too, since lastAt only grows and slots are only added.
    known: dict[str, Any] = field(default_factory=dict)
    limit: int = DEFAULT_BURST_LIMIT
    writes: int = 0
    reads: int = 0

    def held_back(self, records: Iterable[SignInRecord], wanted: Callable[[SignInRecord], bool]) -> dict[str, str]:
        """event id -> window key, for the sign-ins that go into a digest instead of a mail of their own."""
        groups: dict[str, list[SignInRecord]] = {}
        for record in records:
            if wanted(record) and not exempt(record):
                groups.setdefault(account_key(record), []).append(record)
        held: dict[str, str] = {}
        for key, group in sorted(groups.items()):
            group.sort(key=_order)
            for run in _runs(group, self.quiet):
                held.update(self._decide(key, run))
        return held

    def bursts(
        self, records: Iterable[SignInRecord], wanted: Callable[[SignInRecord], bool]
    ) -> dict[str, AccountWindow]:
        """event id -> the account window whose ceiling was holding sign-ins back when it came, for the
        sign-ins that are never held back themselves (their mail says so)."""
        chosen = [record for record in records if wanted(record) and exempt(record)]
        if not chosen:
            return {}
        keys = sorted({account_key(record, outcome) for record in chosen for outcome in OUTCOMES})
        windows = self._read(keys)
        found = {}
        for record in chosen:
            for outcome in OUTCOMES:
                window = windows.get(account_key(record, outcome))
                if window is not None and window.during(record.event_time, self.quiet):
                    found[record.event_id] = window
                    break
        return found

    def _decide(self, key: str, run: list[SignInRecord]) -> dict[str, str]:
        """The held-back sign-ins of one account window's run, by the digest they go into."""
        window = self._account(key, run)
        groups: dict[str, list[SignInRecord]] = {}
        for record in run:
            groups.setdefault(window_key(record), []).append(record)
        key_runs = [(k, krun) for k, group in groups.items() for krun in _runs(group, self.quiet)]
        held: dict[str, str] = {}
        # In time order, so the slots go to the earliest first mails, as replay gives them.
        for window_id, krun in sorted(key_runs, key=lambda item: _order(item[1][0])):
            if all(self._past_ceiling(window, r) for r in krun):
                continue  # no key window needed: the account digest takes them below
            opener, window = self._key_opener(window_id, krun, window)
            if opener is None:
                held.update((r.event_id, key) for r in krun)  # over the ceiling: no key window of its own
            else:
                held.update((r.event_id, window_id) for r in krun if r.event_id != opener)
        # Every sign-in after the one that took the last slot goes into the account digest, whatever its key.
        held.update((r.event_id, key) for r in run if self._past_ceiling(window, r))
        return held

    @staticmethod
    def _past_ceiling(window: AccountWindow, record: SignInRecord) -> bool:
        full_from = window.full_from
        return full_from is not None and place(record) > full_from and record.event_id not in window.slots

    def _key_opener(self, key: str, run: list[SignInRecord], window: AccountWindow) -> tuple[str | None, AccountWindow]:
        """The event id mailed on its own for this key run ("" when the key window was already open, None
        when it was closed and the account's slots are taken), and the account window as now known.

        A closed key window is opened only after its first sign-in took a slot: a retry finds the slot
        taken by that sign-in and opens (or finds) the same key window.
        """
        first, last = run[0], run[-1].event_time
        ids = {r.event_id for r in run}
        open_since = first.event_time - self.quiet
        cached = self.known.get(key)
        if cached and cached[0] >= open_since and last - cached[0] < self.quiet / 2:
            return (cached[1] if cached[1] in ids else ""), window
        old = self._extend(key, open_since, last)
        if old is None:
            if first.event_id not in window.slots and window.full_from is not None:
                return None, window
            old, window = self._open_with_slot(key, first, open_since, last, window)
            if old is None:
                return None, window
        last_at = max(_time(old.get("lastAt")), last)
        opener = old.get("openerId", {}).get("S", "")
        self.known[key] = (last_at, opener)
        return (opener if opener in ids else ""), window

    def _account(self, key: str, run: list[SignInRecord]) -> AccountWindow:
        first, last = run[0], run[-1].event_time
        open_since = first.event_time - self.quiet
        cached = self.known.get(key)
        if cached and cached.last_at >= open_since and last - cached.last_at < self.quiet / 2:
            return cached
        item = self._extend(key, open_since, last)
        if item is None:
            item = self._open(key, first, open_since, last, account=True)
        window = AccountWindow.from_item(key, item, self.limit, last)
        self.known[key] = window
        return window

    def _open_with_slot(
        self, key: str, first: SignInRecord, open_since: datetime, last: datetime, window: AccountWindow
    ) -> tuple[dict | None, AccountWindow]:
        """Take a slot for the key run's first sign-in and open its key window, both or neither.

        One transaction, so that concurrent invocations of one key never spend more than the one slot
        the key window's opener holds: the others find the window open and join it. The key window's
        item, or None when the account's slots are taken.
        """
        slot = self._slot_update(window, first)
        opening = self._open_update(key, first, open_since, last)
        try:
            self.writes += 1
            self.client.transact_write_items(TransactItems=[{"Update": slot}, {"Update": opening}])
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
                # Another invocation opened the key window first: this run joins it.
                return self._extend(key, open_since, last) or {}, window
            if len(reasons) == 2 and reasons[0] == "ConditionalCheckFailed":
                # The account's slots are taken, or a later account window replaced this one: learn which.
                now = self._read([window.key]).get(window.key)
                if now is not None and now.window_id == window.window_id:
                    window = replace(now, last_at=max(now.last_at, window.last_at))
                    self.known[window.key] = window
                return None, window
            raise
        window = replace(window, slots={**window.slots, first.event_id: place(first)})
        self.known[window.key] = window
        values = opening["ExpressionAttributeValues"]
        return {"lastAt": values[":last"], "openerId": values[":opener"]}, window

    def _slot_update(self, window: AccountWindow, record: SignInRecord) -> dict:
        return {
            "TableName": self.table_name,
            "Key": {"windowKey": {"S": window.key}},
            "UpdateExpression": "SET slots.#id = :place",
            "ConditionExpression": "openerId = :window AND (size(slots) < :limit OR attribute_exists(slots.#id))",
            "ExpressionAttributeNames": {"#id": record.event_id},
            "ExpressionAttributeValues": {
                ":place": {"S": place(record)},
                ":window": {"S": window.window_id},
                ":limit": {"N": str(self.limit)},
            },
        }

    def _read(self, keys: list[str]) -> dict[str, AccountWindow]:
        request = {self.table_name: {"Keys": [{"windowKey": {"S": key}} for key in keys], "ConsistentRead": True}}
        found: dict[str, AccountWindow] = {}
        while request:
            self.reads += 1
            answer = self.client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self.table_name, []):
                key = item["windowKey"]["S"]
                found[key] = AccountWindow.from_item(key, item, self.limit)
            request = answer.get("UnprocessedKeys") or {}
        return found

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

    def _open_update(
        self, key: str, first: SignInRecord, open_since: datetime, last: datetime, account: bool = False
    ) -> dict:
        values = {
            ":since": _number(open_since),
            ":last": _number(last),
            ":opened": _number(first.event_time),
            ":opener": {"S": first.event_id},
            ":expires": _number(last + timedelta(days=WINDOW_DAYS)),
            ":empty": {"S": CURSOR_START},
        }
        update = (
            "SET lastAt = :last, openedAt = :opened, openerId = :opener, expiresAt = :expires, "
            "#cursor = if_not_exists(#cursor, :empty)"
        )
        condition = "attribute_not_exists(lastAt) OR lastAt < :since"
        if account:
            # A new account window starts with no slots taken. A retry never gets here: it finds the
            # window it opened still open, and extends it.
            update += ", slots = :none"
            values[":none"] = {"M": {}}
        else:
            condition += " OR openerId = :opener"
        return {
            "TableName": self.table_name,
            "Key": {"windowKey": {"S": key}},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#cursor": "cursor"},
            "ExpressionAttributeValues": values,
        }

    def _open(self, key: str, first: SignInRecord, open_since: datetime, last: datetime, account: bool = False) -> dict:
        try:
            self.writes += 1
            return self.client.update_item(
                **self._open_update(key, first, open_since, last, account),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException as error:
            # Another invocation opened it in the meantime: this run is held back.
            return error.response.get("Item") or {}


def _order(record: SignInRecord) -> tuple[datetime, str]:
    return record.event_time, record.event_id


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
    reasons: tuple[str, ...] = ()  # short names of the risk reasons it was stored with


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
        reasons=tuple(short_name(reason.get("S", "")) for reason in item.get("riskReasons", {}).get("L", [])),
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


def reason_counts(sign_ins: Iterable[Held]) -> Counter:
    """How many held-back sign-ins carried each risk reason; "failed sign-in" goes without saying."""
    return Counter(reason for held in sign_ins for reason in set(held.reasons) if reason != "failed sign-in")


def stored_time(sort_key: str) -> datetime:
    return datetime.fromisoformat(sort_key.split("#", 1)[0])


def digest_sort_key(now: datetime, event_id: str) -> str:
    return f"{now.astimezone(UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')}#{event_id}"
