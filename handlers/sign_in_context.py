"""The acting principal's console sign-ins in the hour before each change, from the sign-in history.

Read-only: a Query of the history table's principal index per actor key (one per actor over the span
of all its changes), then the risk reasons of the successful sign-ins found, which the index does not
carry. "MFA removed by alice, 3 minutes after a sign-in from a new country" becomes one mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.actors import Change, change_of
from handlers.signin import parse_event_time
from handlers.store import SignInHistory

LOOKBACK = timedelta(hours=1)
# The mail shows this many events; their actors are looked up, no more.
MAX_ACTORS = 10


@dataclass(frozen=True)
class PriorSignIn:
    event_id: str
    time: datetime
    country: str
    source_ip: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ActorSignIns:
    """The actor's successful console sign-ins in the hour before one change (latest first)."""

    sign_ins: tuple[PriorSignIn, ...] = ()
    problem: str = ""  # why they could not be read
    looked_up: bool = True  # False: the actor has no key in the history (a name AWS hides), or over the cap

    @property
    def latest_risky(self) -> PriorSignIn | None:
        return next((sign_in for sign_in in self.sign_ins if sign_in.reasons), None)


@dataclass(frozen=True)
class EventContext:
    raw: dict
    time: datetime | None
    change: Change
    sign_ins: ActorSignIns | None  # None: no sign-in history to read


def contexts_for(events: list[dict], history: SignInHistory | None, limit: int) -> list[EventContext]:
    """What each of the first `limit` events (by time) changed, and the actor's sign-ins before it."""
    timed = sorted(((_time(raw), raw) for raw in events), key=lambda pair: (pair[0] is None, pair[0] or 0))
    chosen = [(when, raw, change_of(raw)) for when, raw in timed[:limit]]
    found = _look_up(chosen, history) if history is not None else {}
    contexts = []
    for when, raw, change in chosen:
        sign_ins = None
        if history is not None:
            sign_ins = _before(found.get(change.history_keys), when)
        contexts.append(EventContext(raw, when, change, sign_ins))
    return contexts


def _look_up(chosen, history: SignInHistory) -> dict[tuple[str, ...], ActorSignIns | list[PriorSignIn]]:
    spans: dict[tuple[str, ...], tuple[datetime, datetime]] = {}
    for when, _, change in chosen:
        if when is None or not change.history_keys:
            continue
        first, last = spans.get(change.history_keys, (when, when))
        spans[change.history_keys] = (min(first, when), max(last, when))
    found: dict = {}
    for index, (keys, (first, last)) in enumerate(spans.items()):
        if index >= MAX_ACTORS:
            found[keys] = ActorSignIns(looked_up=False)
            continue
        try:
            found[keys] = _sign_ins(history, keys, first - LOOKBACK, last)
        except Exception as error:  # the mail goes out without them and says why
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            found[keys] = ActorSignIns(problem=f"{code or type(error).__name__}: {error}")
    return found


def _sign_ins(history: SignInHistory, keys: tuple[str, ...], since: datetime, until: datetime) -> list[PriorSignIn]:
    sightings = [s for key in keys for s in history.by_principal(key, since, until) if s.succeeded]
    details = history.risk_details(sorted({s.event_id for s in sightings})) if sightings else {}
    sign_ins = []
    for sighting in sightings:
        detail = details.get(sighting.event_id)
        sign_ins.append(
            PriorSignIn(
                event_id=sighting.event_id,
                time=sighting.time,
                country=sighting.country,
                source_ip=detail.source_ip if detail else "",
                reasons=detail.reasons if detail else (),
            )
        )
    return sorted(sign_ins, key=lambda sign_in: (sign_in.time, sign_in.event_id), reverse=True)


def _before(found, when: datetime | None) -> ActorSignIns:
    if found is None or when is None:
        return ActorSignIns(looked_up=False)
    if isinstance(found, ActorSignIns):
        return found
    earliest = when - LOOKBACK
    return ActorSignIns(tuple(sign_in for sign_in in found if earliest <= sign_in.time <= when))


def _time(raw: dict) -> datetime | None:
    try:
        return parse_event_time(raw.get("eventTime"))
    except ValueError:
        return None
