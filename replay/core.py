"""Run a stack's detections, alarms and notifier over recorded CloudTrail events."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from components.outlier_alarm import DETECTION_ID as OUTLIER_DETECTION
from components.outlier_alarm import OUTLIER_PERIOD
from detections.alarm_sim import AlarmSimulator, StateChange
from detections.catalog import AlarmSpec
from detections.pattern import compile_pattern, required_keys
from detections.profiles import EnabledDetection
from handlers.digest import digest_body, digest_subject
from handlers.flood import DEFAULT_BURST_LIMIT
from handlers.formatting import burst_note, render_body, render_subject
from handlers.notify_policy import wants_mail
from handlers.risk import RiskJudge, RiskSettings, sighting_of
from handlers.signin import MalformedRecord, SignInRecord, parse_event_time, parse_signin_event
from handlers.signin_events import subscription_filter_pattern
from replay.flood import FloodControl
from replay.readers import Problem

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Keys CloudTrail writes on every event: no use as a gate (below).
_EVERY_EVENT = frozenset(
    {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress"}
    | {"userAgent", "requestParameters", "responseElements", "requestID", "eventID", "eventType"}
    | {"recipientAccountId", "readOnly", "managementEvent", "eventCategory"}
)


@dataclass(frozen=True)
class Transition:
    detection_id: str
    change: StateChange


@dataclass(frozen=True)
class Mail:
    time: datetime
    event_id: str  # "" for a digest
    subject: str
    body: str
    kind: str = "sign-in"  # or "digest": the sign-ins flood control held back


@dataclass(frozen=True)
class Window:
    """The time range a replay looks at: since <= eventTime < until (either end open when None)."""

    since: datetime | None = None
    until: datetime | None = None

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None


@dataclass(frozen=True)
class DetectionSummary:
    """What one detection did over the replay: the events it matched and the mails they led to."""

    matches: int
    alarms_fired: int  # OK -> ALARM transitions
    alarm_mails: int  # the alarm mailer's mails: one per ALARM, one per OK with alarmResolvedMails
    sign_in_mails: int  # notifier mails for events this detection also matched
    event_ids: list[str]  # matched events in time order (events without an eventID are not listed)


@dataclass
class ReplayResult:
    events: int
    duplicates: int
    matches: dict[str, int]
    transitions: list[Transition]
    mails: list[Mail]
    problems: list[Problem] = field(default_factory=list)
    summaries: dict[str, DetectionSummary] = field(default_factory=dict)
    outside_window: int = 0  # matching events and sign-ins left out by the window
    held_back: int = 0  # sign-ins flood control put in a digest instead of a mail of their own
    # The outlier alarm's floor alone (its band needs CloudWatch's model and is not simulated): None when
    # the stack has no outlier alarm, else its floor and the floor alarm's state changes.
    outlier_floor: int | None = None
    outlier_floor_transitions: list[StateChange] = field(default_factory=list)


class Replay:
    """Feed decoded events one by one; `result()` simulates the alarms over everything fed."""

    def __init__(
        self,
        detections: Sequence[EnabledDetection],
        *,
        notify_on: str = "all",
        timezone: str = "UTC",
        report: Callable[[Problem], None] | None = None,
        risk: RiskSettings | None = None,
        window: Window | None = None,
        alarm_resolved_mails: bool = False,
        mail_quiet_minutes: int = 0,
        mail_burst_limit: int = DEFAULT_BURST_LIMIT,
        outlier_floor: int | None = None,
    ) -> None:
        self.detections = list(detections)
        # The outlier alarm exists only beside the failed sign-in detection, whose matches its floor counts.
        has_failures = any(item.id == OUTLIER_DETECTION for item in self.detections)
        self.outlier_floor = outlier_floor if has_failures else None
        self.simulators = [AlarmSimulator(item.alarm) for item in self.detections]
        self.matches = [0] * len(self.detections)
        self.matched_ids: list[list[tuple[datetime | None, str]]] = [[] for _ in self.detections]
        self.window = window or Window()
        self.alarm_resolved_mails = alarm_resolved_mails
        self.mail_quiet_minutes = mail_quiet_minutes
        self.mail_burst_limit = mail_burst_limit
        self.held_back = 0
        self.outside_window = 0
        self.notify_on = notify_on
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.report = report or (lambda problem: None)
        self.events = 0
        self.duplicates = 0
        self.mails: list[Mail] = []
        # The notifier's history reasons need every sign-in in time order: mails are made in result().
        self.risk = risk or RiskSettings()
        self._sign_ins: list[SignInRecord] = []
        self._seen: set[str | tuple[str, str]] = set()
        # Index each pattern by the event names it can match, so an event only meets the
        # few patterns that could possibly match it.
        self._by_name: dict[str, list[tuple[int, Callable]]] = {}
        self._unconstrained: list[tuple[int, Callable]] = []
        # Patterns with no event name but a key most events lack ($.errorCode = ...): met only by events with it.
        self._gated: dict[str, list[tuple[int, Callable]]] = {}
        for position, item in enumerate(self.detections):
            self._index(position, item.compiled)
        signin = compile_pattern(subscription_filter_pattern())
        self._signin_names = signin.event_names or frozenset()
        self._signin_test = signin.evaluate

    def _index(self, position: int, compiled) -> None:
        entry = (position, compiled.evaluate if compiled.kind == "json" else compiled.matches)
        if compiled.event_names is None:
            gates = sorted(required_keys(compiled.tree) - _EVERY_EVENT) if compiled.kind == "json" else []
            if gates:
                self._gated.setdefault(gates[0], []).append(entry)
            else:
                self._unconstrained.append(entry)
        else:
            for name in compiled.event_names:
                self._by_name.setdefault(name, []).append(entry)
        self._gated_lists = tuple(self._gated.items())

    def feed(self, event: dict[str, Any]) -> None:
        event_id = event.get("eventID")
        if event_id is not None:
            # An eventID that is not a string (never seen from CloudTrail, but it is JSON) is told apart by
            # its JSON text, as DuckDB does: 1 and 1.0 are two ids, "1" and 1 too, and an object is no error.
            key = event_id if type(event_id) is str else ("json", json.dumps(event_id, separators=(",", ":")))
            if key in self._seen:
                # Overlapping inputs (an S3 file and a lookup-events export, say) hold the same event.
                self.duplicates += 1
                return
            self._seen.add(key)
        self.events += 1
        name = event.get("eventName")
        if type(name) is not str:
            name = None  # an object or array cannot be looked up (nor equal a pattern's text)
        matched = None
        candidates = self._by_name.get(name)
        if candidates:
            matched = [position for position, test in candidates if test(event)]
        for position, test in self._unconstrained:
            if test(event):
                matched = [*(matched or ()), position]
        for key, gated in self._gated_lists:
            if key in event:
                for position, test in gated:
                    if test(event):
                        matched = [*(matched or ()), position]
        signin = name in self._signin_names and self._signin_test(event)
        if matched or signin:
            self.record(event, matched or (), signin)

    def record(self, event: dict[str, Any], matched: Sequence[int], signin: bool) -> None:
        """Account for one new event whose matches are already known (detection positions, sign-in)."""
        # One event often matches several detections: read its time once.
        when = self._time_of(event) if matched or (signin and self.window) else None
        if self.window and not self._in_window(when):
            if signin and when is not None and self.window.since is not None and when < self.window.since:
                self._mail(event)  # before the window: no mail, but the history the notifier would know
            return
        event_id = event.get("eventID")
        for position in matched:
            self.matches[position] += 1
            if isinstance(event_id, str):
                self.matched_ids[position].append((when, event_id))
            if when is not None:
                self.simulators[position].add(when.timestamp())
        if signin:
            self._mail(event)

    def _in_window(self, when: datetime | None) -> bool:
        window = self.window
        inside = when is not None
        if inside and window.since is not None:
            inside = when >= window.since
        if inside and window.until is not None:
            inside = when < window.until
        if not inside:
            self.outside_window += 1
        return inside

    def _time_of(self, event: dict) -> datetime | None:
        try:
            return parse_event_time(event.get("eventTime"))
        except ValueError:
            if self.window:
                left_out = "left out: --since/--until cannot place it"
            else:
                left_out = "counted but left out of the alarm simulation"
            self.report(Problem(f"event {event.get('eventID', '?')}", None, f"has no usable eventTime; {left_out}"))
            return None

    def _mail(self, event: dict) -> None:
        try:
            record = parse_signin_event(event)
        except MalformedRecord as error:
            self.report(Problem(f"event {error.event_id or '?'}", None, f"the notifier would skip it: {error.reason}"))
            return
        self._sign_ins.append(record)

    def _mail_all(self) -> None:
        """Judge each sign-in by the ones before it, as the notifier does with its history table."""
        judge = RiskJudge(self.risk)
        flood = None
        if self.mail_quiet_minutes:
            flood = FloodControl(timedelta(minutes=self.mail_quiet_minutes), self.mail_burst_limit)
        for record in sorted(self._sign_ins, key=lambda r: (r.event_time, r.event_id)):
            me = sighting_of(record)
            reasons = judge.judge(record, me)
            judge.add(me)
            if self.window.since is not None and record.event_time < self.window.since:
                continue  # history only
            if reasons:
                record = replace(record, history_reasons=reasons)
            if not wants_mail(record, self.notify_on):
                continue
            if flood is not None and not flood.mailed_alone(record):
                self.held_back += 1
                continue
            burst = flood.burst_opened(record) if flood is not None else None
            note = burst_note(*burst, self.mail_burst_limit, self.zone, self.timezone) if burst else ""
            self.mails.append(
                Mail(
                    record.event_time,
                    record.event_id,
                    render_subject(record, during_burst=bool(note)),
                    render_body(record, self.zone, self.timezone, burst=note),
                )
            )
        if flood is not None:
            for sent, digest in flood.digests():
                body = digest_body(digest, self.zone, self.timezone, burst_limit=self.mail_burst_limit)
                self.mails.append(Mail(sent, "", digest_subject(digest), body, kind="digest"))
        self._sign_ins = []

    def result(self) -> ReplayResult:
        self._mail_all()
        transitions = [
            Transition(item.id, change)
            for item, simulator in zip(self.detections, self.simulators, strict=True)
            for change in simulator.transitions()
        ]
        transitions.sort(key=lambda t: (t.change.time, t.detection_id))
        mails = sorted(self.mails, key=lambda mail: (mail.time, mail.event_id, mail.subject))
        return ReplayResult(
            events=self.events,
            duplicates=self.duplicates,
            matches={item.id: count for item, count in zip(self.detections, self.matches, strict=True)},
            transitions=transitions,
            mails=mails,
            summaries=self._summaries(transitions, mails),
            outside_window=self.outside_window,
            held_back=self.held_back,
            outlier_floor=self.outlier_floor,
            outlier_floor_transitions=self._outlier_floor_transitions(),
        )

    def _outlier_floor_transitions(self) -> list[StateChange]:
        if self.outlier_floor is None:
            return []
        position = next(index for index, item in enumerate(self.detections) if item.id == OUTLIER_DETECTION)
        floor = AlarmSimulator(AlarmSpec(period=OUTLIER_PERIOD, threshold=self.outlier_floor))
        floor.per_minute.update(self.simulators[position].per_minute)
        return floor.transitions()

    def _summaries(self, transitions: list[Transition], mails: list[Mail]) -> dict[str, DetectionSummary]:
        mailed = {mail.event_id for mail in mails if mail.kind == "sign-in"}
        fired: dict[str, int] = {}
        alarm_mails: dict[str, int] = {}
        for transition in transitions:
            to_alarm = transition.change.new == "ALARM"
            fired[transition.detection_id] = fired.get(transition.detection_id, 0) + to_alarm
            if to_alarm or (transition.change.new == "OK" and self.alarm_resolved_mails):
                alarm_mails[transition.detection_id] = alarm_mails.get(transition.detection_id, 0) + 1
        summaries = {}
        for item, count, matched in zip(self.detections, self.matches, self.matched_ids, strict=True):
            # Time order as the mails are; an event without a usable time sorts first.
            ordered = sorted(matched, key=lambda pair: (pair[0] is not None, pair[0] or _EPOCH, pair[1]))
            ids = [event_id for _, event_id in ordered]
            summaries[item.id] = DetectionSummary(
                matches=count,
                alarms_fired=fired.get(item.id, 0),
                alarm_mails=alarm_mails.get(item.id, 0),
                sign_in_mails=sum(event_id in mailed for event_id in ids),
                event_ids=ids,
            )
        return summaries
