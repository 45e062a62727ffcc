"""Risk reasons that need history: new country, impossible travel, success after failures, password spray.

Pure functions over "sightings" (the few fields of earlier sign-ins that the reasons read); the notifier
gets sightings from the history table's indexes, replay from the events it has already gone through.
Only earlier sign-ins count: a sign-in is judged by what was known when it happened, so the handler,
a retry of the same batch and replay all give it the same reasons.

`assess` judges one sign-in against whole histories, which is plain but costs the history's length per
sign-in: a batch of n sign-ins from one IP (a spray) costs n². `RiskJudge` gives the same reasons to
sign-ins fed in time order, keeping per principal and per IP only what the reasons ask (the latest
success per country, failures in a window, user names failing in a window), so each costs about the
same however many came before.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers.location import country_text
from handlers.signin import PrincipalKind, SignInRecord

NEW_COUNTRY = "new country"
IMPOSSIBLE_TRAVEL = "impossible travel"
AFTER_FAILURES = "succeeded after failures"
PASSWORD_SPRAY = "password spray"
# Risk windows (and counts) up to one week's minutes; the stack refuses more.
MAX_RISK_WINDOW_MINUTES = 7 * 24 * 60
# DynamoDB refuses index keys over 1,024 bytes (sort keys) / 2,048 (partition keys); ARNs are far shorter.
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class RiskSettings:
    """Each reason's knobs; a count of 0 (or new_country False) turns that reason off."""

    history_days: int = 90
    new_country: bool = True
    travel_minutes: int = 60
    failures_before_success: int = 3
    failures_window_minutes: int = 60
    spray_user_names: int = 5
    spray_window_minutes: int = 60

    @property
    def principal_lookback(self) -> timedelta | None:
        """How far back a principal's history is read; None when no reason needs it."""
        recent = self.principal_recent_lookback
        spans = [] if recent is None else [recent]
        if self.new_country:
            spans.append(timedelta(days=self.history_days))
        return max(spans, default=None)

    @property
    def principal_recent_lookback(self) -> timedelta | None:
        """How far back the reasons that want every earlier sign-in (travel, failures) look; None: none does.

        "New country" looks further but only asks which countries a principal succeeded from.
        """
        spans = []
        if self.travel_minutes:
            spans.append(timedelta(minutes=self.travel_minutes))
        if self.failures_before_success:
            spans.append(timedelta(minutes=self.failures_window_minutes))
        return max(spans, default=None)

    @property
    def ip_lookback(self) -> timedelta | None:
        spans = []
        if self.failures_before_success:
            spans.append(timedelta(minutes=self.failures_window_minutes))
        if self.spray_user_names:
            spans.append(timedelta(minutes=self.spray_window_minutes))
        return max(spans, default=None)


@dataclass(frozen=True)
class Sighting:
    """What the reasons need to know about one stored sign-in."""

    event_id: str
    time: datetime
    succeeded: bool
    failed: bool
    country: str
    principal_key: str
    ip_key: str

    @property
    def user_key(self) -> str:
        # A name AWS hides (no such user) cannot be told apart from another: each counts as its own name.
        return self.principal_key or f"hidden:{self.event_id}"

    def before(self, other: Sighting) -> bool:
        """A total order, so two sign-ins of the same second never both count the other as earlier."""
        # (time, event_id) < (other.time, other.event_id), without building two tuples per comparison.
        return self.time < other.time or (self.time == other.time and self.event_id < other.event_id)


def is_successful_sign_in(event_name: str, outcome: str) -> bool:
    return outcome == "Success" and event_name not in ("ExitRole", "CredentialVerification")


def principal_key(record: SignInRecord) -> str:
    """Who, as a stable key; empty for names AWS hides, which are counted per IP only."""
    if record.principal_kind is PrincipalKind.UNKNOWN_USER:
        return ""
    # Not the ARN: CloudTrail leaves it out of an IAM user's failed sign-in, and the failures must count.
    return history_key(record.principal_kind, record.account_id, record.display_name)


def history_key(kind: PrincipalKind, account_id: str, display_name: str) -> str:
    """The key a principal's sign-ins are stored under; the alarm mailer finds an actor's sign-ins by it."""
    return _bounded(f"{kind.value}:{account_id}:{display_name}")


@functools.lru_cache(maxsize=4096)
def ip_key(source_ip: str) -> str:
    """The address in one spelling (IPv4-mapped IPv6 as IPv4); empty for service names and the like."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def sighting_of(record: SignInRecord) -> Sighting:
    return Sighting(
        event_id=record.event_id,
        time=record.event_time,
        succeeded=is_successful_sign_in(record.event_name, record.outcome),
        failed=record.is_attempt and record.failed,
        country=record.location.country_code,
        principal_key=principal_key(record),
        ip_key=ip_key(record.source_ip),
    )


def assess(
    record: SignInRecord,
    principal_history: Iterable[Sighting],
    ip_history: Iterable[Sighting],
    settings: RiskSettings,
) -> tuple[str, ...]:
    """The history reasons for one sign-in; histories may hold it and later sign-ins, which are ignored."""
    if not record.is_attempt:
        return ()
    me = sighting_of(record)
    mine = [s for s in principal_history if me.principal_key and s.principal_key == me.principal_key and s.before(me)]
    from_ip = [s for s in ip_history if me.ip_key and s.ip_key == me.ip_key and s.before(me)]
    reasons = []
    if me.succeeded:
        reasons += _new_country(me, mine, settings)
        reasons += _impossible_travel(me, mine, settings)
        reasons += _after_failures(me, mine, from_ip, settings)
    elif me.failed:
        reasons += _password_spray(me, from_ip, settings)
    return tuple(reasons)


def _new_country(me: Sighting, mine: list[Sighting], settings: RiskSettings) -> list[str]:
    if not settings.new_country or not me.country:
        return []
    since = earlier(me.time, timedelta(days=settings.history_days))
    return _new_country_reason(me, {s.country for s in mine if s.succeeded and s.country and s.time >= since}, settings)


def _new_country_reason(me: Sighting, seen: set[str], settings: RiskSettings) -> list[str]:
    """`seen`: the countries of the principal's successful sign-ins within history_days."""
    # A principal with no located history has nothing to compare with: that is not "new".
    if not seen or me.country in seen:
        return []
    before = ", ".join(sorted(seen))
    days = settings.history_days
    return [f"{NEW_COUNTRY}: first sign-in from {country_text(me.country)} in {days} days (before: {before})"]


def _impossible_travel(me: Sighting, mine: list[Sighting], settings: RiskSettings) -> list[str]:
    if not settings.travel_minutes or not me.country:
        return []
    since = earlier(me.time, timedelta(minutes=settings.travel_minutes))
    elsewhere = [s for s in mine if s.succeeded and s.country and s.country != me.country and s.time >= since]
    return _travel_reason(me, max(elsewhere, key=lambda s: (s.time, s.event_id), default=None))


def _travel_reason(me: Sighting, latest: Sighting | None) -> list[str]:
    """`latest`: the principal's latest success from another country within travel_minutes."""
    if latest is None:
        return []
    minutes = int((me.time - latest.time).total_seconds() // 60)
    return [
        f"{IMPOSSIBLE_TRAVEL}: signed in from {country_text(latest.country)} {minutes} minutes earlier, "
        f"now from {country_text(me.country)}"
    ]


def _after_failures(me: Sighting, mine: list[Sighting], from_ip: list[Sighting], settings: RiskSettings) -> list[str]:
    if not settings.failures_before_success:
        return []
    since = earlier(me.time, timedelta(minutes=settings.failures_window_minutes))
    by_principal = sum(1 for s in mine if s.failed and s.time >= since)
    by_ip = sum(1 for s in from_ip if s.failed and s.time >= since)
    return _after_failures_reason(by_principal, by_ip, settings)


def _after_failures_reason(by_principal: int, by_ip: int, settings: RiskSettings) -> list[str]:
    threshold = settings.failures_before_success
    window = settings.failures_window_minutes
    if by_principal >= threshold:
        return [f"{AFTER_FAILURES}: {by_principal} failed sign-ins of this principal in {window} minutes"]
    if by_ip >= threshold:
        return [f"{AFTER_FAILURES}: {by_ip} failed sign-ins from this IP in {window} minutes"]
    return []


def _password_spray(me: Sighting, from_ip: list[Sighting], settings: RiskSettings) -> list[str]:
    if not settings.spray_user_names:
        return []
    since = earlier(me.time, timedelta(minutes=settings.spray_window_minutes))
    names = {s.user_key for s in from_ip if s.failed and s.time >= since} | {me.user_key}
    return _spray_reason(len(names), settings)


def _spray_reason(names: int, settings: RiskSettings) -> list[str]:
    if names < settings.spray_user_names:
        return []
    return [f"{PASSWORD_SPRAY}: {names} user names failed from this IP in {settings.spray_window_minutes} minutes"]


class _Window:
    """Sightings of one key in a sliding window ending at the sign-in being judged; times only grow."""

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self.items: deque[Sighting] = deque()
        self.names: Counter[str] = Counter()

    def add(self, sighting: Sighting) -> None:
        self.items.append(sighting)
        self.names[sighting.user_key] += 1

    def slide(self, moment: datetime) -> None:
        since = earlier(moment, self.span)
        items, names = self.items, self.names
        while items and items[0].time < since:
            gone = items.popleft().user_key
            names[gone] -= 1
            if not names[gone]:
                del names[gone]


class _Principal:
    def __init__(self, settings: RiskSettings) -> None:
        self.latest_success: dict[str, Sighting] = {}  # country -> the latest successful sign-in from it
        self.failures = _Window(timedelta(minutes=settings.failures_window_minutes))


class _Address:
    def __init__(self, settings: RiskSettings) -> None:
        self.failures = _Window(timedelta(minutes=settings.failures_window_minutes))
        self.spray = _Window(timedelta(minutes=settings.spray_window_minutes))


class RiskJudge:
    """`assess` for sign-ins fed in (time, event_id) order: `judge` one, then `add` it (and any stored sighting).

    Judging a sign-in reads only the windows of its principal and IP, slid forward to its time: the
    cost per sign-in does not grow with the sign-ins before it (a spray of 10,000 from one IP included).
    """

    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings
        self.principals: dict[str, _Principal] = {}
        self.addresses: dict[str, _Address] = {}

    def add(self, sighting: Sighting) -> None:
        """A sign-in that later ones look back on; fed after every sign-in that comes before it."""
        if sighting.principal_key:
            principal = self.principals.get(sighting.principal_key)
            if principal is None:
                principal = self.principals[sighting.principal_key] = _Principal(self.settings)
            if sighting.succeeded and sighting.country:
                principal.latest_success[sighting.country] = sighting
            if sighting.failed:
                principal.failures.add(sighting)
        if sighting.ip_key and sighting.failed:  # an IP's reasons count only its failures
            address = self.addresses.get(sighting.ip_key)
            if address is None:
                address = self.addresses[sighting.ip_key] = _Address(self.settings)
            address.failures.add(sighting)
            address.spray.add(sighting)

    def judge(self, record: SignInRecord, me: Sighting | None = None) -> tuple[str, ...]:
        """The history reasons for `record` from what was added before it (as assess over those would say)."""
        if not record.is_attempt:
            return ()
        me = me or sighting_of(record)
        settings = self.settings
        principal = self.principals.get(me.principal_key) if me.principal_key else None
        address = self.addresses.get(me.ip_key) if me.ip_key else None
        reasons: list[str] = []
        if me.succeeded:
            if principal is not None and me.country:
                if settings.new_country:
                    since = earlier(me.time, timedelta(days=settings.history_days))
                    seen = {c for c, s in principal.latest_success.items() if s.time >= since}
                    reasons += _new_country_reason(me, seen, settings)
                if settings.travel_minutes:
                    since = earlier(me.time, timedelta(minutes=settings.travel_minutes))
                    elsewhere = [s for c, s in principal.latest_success.items() if c != me.country and s.time >= since]
                    reasons += _travel_reason(me, max(elsewhere, key=lambda s: (s.time, s.event_id), default=None))
            if settings.failures_before_success:
                by_principal = by_ip = 0
                if principal is not None:
                    principal.failures.slide(me.time)
                    by_principal = len(principal.failures.items)
                if address is not None:
                    address.failures.slide(me.time)
                    by_ip = len(address.failures.items)
                reasons += _after_failures_reason(by_principal, by_ip, settings)
        elif me.failed and settings.spray_user_names:
            names = 0
            if address is not None:
                address.spray.slide(me.time)
                names = len(address.spray.names)
                names += me.user_key not in address.spray.names
            else:
                names = 1
            reasons += _spray_reason(names, settings)
        return tuple(reasons)


def earlier(moment: datetime, span: timedelta) -> datetime:
    """moment - span, or the earliest time there is (an eventTime in year 1 is odd, not an error)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def short_name(reason: str) -> str:
    return reason.split(":", 1)[0]


def _bounded(key: str) -> str:
    encoded = key.encode("utf-8", "replace")
    if len(encoded) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(encoded).hexdigest()
