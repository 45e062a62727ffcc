"""The notifier's flood control, replayed: which sign-ins get a mail of their own, and the digests.

The notifier (handlers/flood.py) mails the first sign-in of a key (principal, or IP when AWS hides
the name) and outcome, and holds back the key's further sign-ins of that outcome while they come
within the quiet time of the previous one. Above the keys, each account and outcome has a ceiling:
within its own quiet window only the first `limit` keys get that first mail, and every later sign-in of
the outcome in the account, whatever its key, goes into the account's digest. Held-back sign-ins go
out in one digest mail per window when the burst is over (nothing for the quiet time) or at the latest
MAX_DIGEST_DELAY after the first of them, sent by a schedule every FLUSH_MINUTES. Replay has no store
times, so a sign-in counts as stored at its eventTime and the schedule runs on the clock's FLUSH_MINUTES
marks: a digest's time is approximate, which sign-ins it holds is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from handlers.flood import (
    DEFAULT_BURST_LIMIT,
    FLUSH_MINUTES,
    MAX_DIGEST_DELAY,
    OUTCOMES,
    Digest,
    Held,
    account_key,
    digest_sort_key,
    exempt,
    window_key,
)
from handlers.risk import short_name
from handlers.signin import SignInRecord


def next_flush(moment: datetime) -> datetime:
    """The first run of the digest schedule at or after `moment`."""
    step = FLUSH_MINUTES * 60
    seconds = -(-int(moment.timestamp()) // step) * step
    return datetime.fromtimestamp(seconds, UTC)


def held(record: SignInRecord) -> Held:
    """A held-back sign-in as the digest index would carry it."""
    return Held(
        sort_key=digest_sort_key(record.event_time, record.event_id),
        event_time=record.event_time,
        outcome=record.outcome,
        who=f"{record.principal_kind.label}: {record.display_name}",
        source_ip=record.source_ip,
        country=record.location.country_code,
        account_id=record.account_id,
        reasons=tuple(short_name(reason) for reason in record.risk_reasons),
    )


@dataclass
class _Ceiling:
    """One account window: open since `opened`, last sign-in `last`, first mails given."""

    opened: datetime
    last: datetime
    first_mails: int = 0


@dataclass
class FloodControl:
    """Feed the sign-ins the notifier would mail, in time order; `digests()` when all are in."""

    quiet: timedelta
    limit: int = DEFAULT_BURST_LIMIT
    _last: dict[str, datetime] = field(default_factory=dict)  # key window -> lastAt
    _accounts: dict[str, _Ceiling] = field(default_factory=dict)  # account window -> its ceiling
    _held: dict[str, list[SignInRecord]] = field(default_factory=dict)

    def mailed_alone(self, record: SignInRecord) -> bool:
        """True when the sign-in gets its own mail; False when it waits for a digest."""
        if exempt(record):
            return True
        account = account_key(record)
        ceiling = self._accounts.get(account)
        if ceiling is None or record.event_time - ceiling.last > self.quiet:
            ceiling = self._accounts[account] = _Ceiling(record.event_time, record.event_time)
        ceiling.last = max(ceiling.last, record.event_time)
        if ceiling.first_mails >= self.limit:
            self._held.setdefault(account, []).append(record)  # past the ceiling, whatever its key
            return False
        key = window_key(record)
        last = self._last.get(key)
        self._last[key] = record.event_time if last is None else max(last, record.event_time)
        if last is None or record.event_time - last > self.quiet:
            ceiling.first_mails += 1
            return True  # opens a new key window
        self._held.setdefault(key, []).append(record)
        return False

    def burst_opened(self, record: SignInRecord) -> tuple[str, datetime] | None:
        """(account window key, when it opened) when the sign-in came while a ceiling held sign-ins back."""
        for outcome in OUTCOMES:
            account = account_key(record, outcome)
            ceiling = self._accounts.get(account)
            if (
                ceiling is not None
                and ceiling.first_mails >= self.limit
                and ceiling.opened <= record.event_time <= ceiling.last + self.quiet
            ):
                return account, ceiling.opened
        return None

    def digests(self) -> list[tuple[datetime, Digest]]:
        """(time sent, digest) for every digest the schedule would send, in key and time order."""
        sent: list[tuple[datetime, Digest]] = []
        for key, records in sorted(self._held.items()):
            batch: list[SignInRecord] = []
            due = None
            for record in records:
                if batch and record.event_time >= due:
                    sent.append((due, _digest(key, batch)))
                    batch = []
                batch.append(record)
                due = next_flush(min(record.event_time + self.quiet, batch[0].event_time + MAX_DIGEST_DELAY))
            if batch:
                sent.append((due, _digest(key, batch)))
        return sent


def _digest(key: str, batch: list[SignInRecord]) -> Digest:
    return Digest(window_key=key, cursor="", sign_ins=tuple(held(record) for record in batch))
