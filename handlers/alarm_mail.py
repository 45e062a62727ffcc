"""Readable mail for a detection alarm: what fired, why it matters, and the events behind it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import quote

from handlers.actors import OTHER, SAME_NAME, SELF, Change
from handlers.alarm_event import AlarmChange
from handlers.location import country_text, locate
from handlers.risk import short_name
from handlers.sign_in_context import ActorSignIns, EventContext, PriorSignIn
from handlers.signin import parse_event_time, principal_of
from handlers.text import SUBJECT_LIMIT, ascii_only, one_line, subject_account, within_body_limit

# Written into the alarm mailer's package by components/alarm_mailer.py: alarm name -> detection.
DETECTIONS_FILE = "alarm_detections.json"

MAX_ROWS = 25
TOP = 5
_COLUMN_LIMITS = {"who": 44, "action": 40, "source_ip": 39, "outcome": 60}


@dataclass(frozen=True)
class DetectionInfo:
    """What the catalog says about one deployed detection, and the pattern its metric filter counts."""

    id: str
    title: str
    why: str
    severity: str
    pattern: str
    references: tuple[str, ...] = ()
    # An alarm without evaluated datapoints of its own (a composite) lists the events this far back.
    lookback_seconds: int = 0
    # The mail says whom each change was about and the actor's risky sign-ins in the hour before it.
    sign_in_context: bool = False

    @classmethod
    def from_json(cls, data: dict) -> DetectionInfo:
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            why=str(data["why"]),
            severity=str(data["severity"]),
            pattern=str(data["pattern"]),
            references=tuple(str(item) for item in data.get("references", ())),
            lookback_seconds=int(data.get("lookbackSeconds", 0)),
            sign_in_context=bool(data.get("signInContext", False)),
        )


@dataclass
class Matches:
    """The trail's events the detection's pattern matched in the alarm's window, as far as they could be read."""

    events: list[dict] = field(default_factory=list)
    complete: bool = True  # False when the listing stopped at its cap or for lack of time
    problem: str = ""  # why the events could not be listed, if they could not
    unreadable: int = 0


@dataclass(frozen=True)
class Row:
    time: datetime | None
    who: str
    action: str
    source_ip: str
    country: str
    outcome: str


def to_row(raw: dict) -> Row:
    try:
        when = parse_event_time(raw.get("eventTime"))
    except ValueError:
        when = None
    kind, name = principal_of(raw)
    source = str(raw.get("eventSource") or "")
    action = f"{source.split('.', 1)[0]}:{raw.get('eventName') or '?'}" if source else str(raw.get("eventName") or "?")
    ip = str(raw.get("sourceIPAddress") or "")
    return Row(
        when, one_line(f"{kind.label}: {name}"), one_line(action), one_line(ip), locate(ip).country_code, _outcome(raw)
    )


def _outcome(raw: dict) -> str:
    code, message = raw.get("errorCode"), raw.get("errorMessage")
    if code or message:
        return one_line(f"Failed: {code or ''}{' - ' if code and message else ''}{message or ''}")
    result = (
        (raw.get("responseElements") or {}).get(str(raw.get("eventName")))
        if isinstance(raw.get("responseElements"), dict)
        else None
    )
    return result if result in ("Success", "Failure") else "Success"


def render_subject(change: AlarmChange, title: str) -> str:
    state = {"ALARM": "[ALARM]", "OK": "[OK] resolved:"}.get(change.state, f"[{change.state}]")
    account = subject_account(change.account_id, change.account_alias)
    head = ascii_only(f"{state} ")
    room = SUBJECT_LIMIT - len(head) - len(account)
    name = ascii_only(title)
    if len(name) > room:
        name = name[: max(room - 3, 0)] + "..."
    return (head + name + ascii_only(account))[:SUBJECT_LIMIT]


def render_detection_mail(
    change: AlarmChange,
    detection: DetectionInfo,
    matches: Matches,
    zone: tzinfo,
    zone_name: str,
    log_group: str = "",
    max_rows: int = MAX_ROWS,
    contexts: Sequence[EventContext] | None = None,
) -> str:
    rows = sorted((to_row(raw) for raw in matches.events), key=lambda row: row.time or change.window_start)
    lines = [
        one_line(f"{detection.title}: ALARM in AWS account {change.account}, {change.region}"),
        "",
        f"What:     {one_line(detection.title)} ({detection.severity}, detection {detection.id})",
        f"Why:      {one_line(detection.why)}",
        f"Window:   {_window(change, zone, zone_name)}",
        f"Alarm:    {one_line(change.alarm_name)}",
        f"Reason:   {one_line(change.reason)}",
    ]
    if detection.references:
        lines.append(f"Controls: {one_line('; '.join(detection.references))}")
    if contexts and any(context.sign_ins is not None for context in contexts):
        lines.append(f"Sign-ins: {_headline(contexts)}")
    lines += ["", *_events_section(rows, matches, zone, zone_name, max_rows)]
    if contexts:
        lines += ["", *_context_section(contexts, zone, zone_name)]
    lines += ["", "Look closer:", *_links(change, rows, log_group)]
    lines += ["", f"Filter pattern: {one_line(detection.pattern)}", ""]
    return within_body_limit("\n".join(lines))


def _events_section(rows: list[Row], matches: Matches, zone: tzinfo, zone_name: str, max_rows: int) -> list[str]:
    if matches.problem:
        return [
            f"The matching events could not be listed: {one_line(matches.problem)}",
            "The alarm itself is real; use the links below to see the events.",
        ]
    if not rows:
        return [
            "No matching event was found in the log group for this window yet. CloudTrail can deliver events",
            "minutes late; the links below show the window once they have arrived.",
        ]
    more = "" if matches.complete else " (listing stopped there; there are more)"
    lines = [f"Matching events: {len(rows)}{more}", ""]
    shown = rows[:max_rows]
    header = Row(None, "Who", "Action", "Source IP", "Where", "Outcome")
    widths = {
        name: min(limit, max(len(getattr(row, name)) for row in [header, *shown]))
        for name, limit in _COLUMN_LIMITS.items()
    }
    time_header = f"Time ({zone_name})"
    time_width = max(19, len(time_header))
    lines.append(_table_line(time_header, header, widths, time_width))
    for row in shown:
        when = _clock(row.time.astimezone(zone)) if row.time else "?"
        lines.append(_table_line(when, row, widths, time_width))
    if len(rows) > max_rows:
        lines.append(f"... and {len(rows) - max_rows} more")
    lines += ["", f"Top actors:     {_top(Counter(row.who for row in rows))}"]
    lines.append(f"Top source IPs: {_top(Counter(_ip_label(row) for row in rows))}")
    if matches.unreadable:
        lines.append(f"({matches.unreadable} matching log events were not CloudTrail JSON and are not listed)")
    return lines


def _headline(contexts: Sequence[EventContext]) -> str:
    looked = [c for c in contexts if c.sign_ins is not None and c.sign_ins.looked_up and not c.sign_ins.problem]
    if not looked:
        return "the acting principals' sign-ins could not be read (see below)"
    risky = [c for c in looked if c.sign_ins.latest_risky]
    if not risky:
        return f"none of the {_count(len(looked), 'change')} came within an hour of a risky sign-in of its actor"
    first = risky[0]
    sign_in = first.sign_ins.latest_risky
    why = ", ".join(dict.fromkeys(short_name(reason) for reason in sign_in.reasons))
    lead = f"{first.change.actor.split(': ', 1)[-1]}, {_after(first.time, sign_in)} ({why})"
    rest = len(risky) - 1
    return lead + (f" (and {_count(rest, 'more change')} after a risky sign-in)" if rest else "")


def _context_section(contexts: Sequence[EventContext], zone: tzinfo, zone_name: str) -> list[str]:
    lines = ["Who changed what, and their console sign-ins in the hour before:"]
    for context in contexts:
        when = _clock(context.time.astimezone(zone)) if context.time else "?"
        lines.append(one_line(f"  {when}  {context.change.actor}: {_action(context)}"))
        if context.sign_ins is not None:
            lines.append(one_line(f"      {_sign_in_text(context)}"))
    return lines


def _action(context: EventContext) -> str:
    raw, change = context.raw, context.change
    source = str(raw.get("eventSource") or "").split(".", 1)[0]
    action = f"{source}:{raw.get('eventName') or '?'}" if source else str(raw.get("eventName") or "?")
    return action + _about(change)


def _about(change: Change) -> str:
    if change.user:
        whose = {
            SELF: "its own",
            OTHER: "another user",
            SAME_NAME: "another user, named like the acting session",
        }.get(change.relation, "")
        return f" for {change.user}" + (f" ({whose})" if whose else "")
    if change.device:
        return f" for MFA device {change.device}"
    if change.directory_user:
        return f" for Identity Center user {change.directory_user}"
    if change.role and change.trust is not None:
        trust = change.trust
        if not trust.readable:
            return f" on role {change.role}: the trust policy could not be read"
        trusted = []
        if trust.anyone:
            trusted.append("any principal (*)")
        if trust.outside_accounts:
            accounts = ", ".join(trust.outside_accounts)
            noun = "account" if len(trust.outside_accounts) == 1 else "accounts"
            trusted.append(f"{noun} {accounts} from outside this one")
        if not trusted:
            return f" on role {change.role}: trusts no outside account"
        return f" on role {change.role}: now trusts " + " and ".join(trusted)
    return ""


def _sign_in_text(context: EventContext) -> str:
    sign_ins: ActorSignIns = context.sign_ins
    if sign_ins.problem:
        return f"sign-ins could not be read: {sign_ins.problem}"
    if not sign_ins.looked_up:
        return "sign-ins not looked up (no stored name for this principal, or too many actors)"
    risky = sign_ins.latest_risky
    if risky is not None:
        return f"{_after(context.time, risky)}: {'; '.join(risky.reasons)}"
    if sign_ins.sign_ins:
        latest = sign_ins.sign_ins[0]
        return f"no risky sign-in in the hour before; {_after(context.time, latest)}, without a risk reason"
    return "no console sign-in of this principal in the hour before (an older session, or access keys)"


def _after(when: datetime | None, sign_in: PriorSignIn) -> str:
    country = country_text(sign_in.country) if sign_in.country else ""
    where = ", ".join(part for part in (country, sign_in.source_ip) if part)
    place = f" from {where}" if where else ""
    if when is None:
        return f"after a sign-in{place}"
    minutes = int((when - sign_in.time).total_seconds() // 60)
    gap = "less than a minute" if minutes < 1 else _count(minutes, "minute")
    return f"{gap} after a sign-in{place}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _table_line(when: str, row: Row, widths: dict[str, int], time_width: int) -> str:
    cells = [when.ljust(time_width)]
    for name in ("who", "action", "source_ip"):
        cells.append(_fit(getattr(row, name), widths[name]))
    cells.append((row.country or "-").ljust(5))
    cells.append(_fit(row.outcome, widths["outcome"]).rstrip())
    return "  ".join(cells).rstrip()


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 3] + "...").ljust(width)


def _ip_label(row: Row) -> str:
    return f"{row.source_ip or '?'} ({row.country})" if row.country else (row.source_ip or "?")


def _top(counts: Counter) -> str:
    return ", ".join(f"{name} ({count})" for name, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:TOP])


def render_resolved_mail(change: AlarmChange, title: str, zone: tzinfo, zone_name: str) -> str:
    when = _clock(change.changed_at.astimezone(zone))
    return within_body_limit(
        "\n".join(
            [
                one_line(f"{title}: back to OK in AWS account {change.account}, {change.region}"),
                "",
                f"Resolved: {when} {zone_name}",
                f"Alarm:    {one_line(change.alarm_name)}",
                f"Reason:   {one_line(change.reason)}",
                "",
            ]
        )
    )


def render_plain_mail(change: AlarmChange, zone: tzinfo, zone_name: str, note: str = "") -> str:
    """For an alarm the function knows no detection for, or when listing the events failed outright."""
    lines = [
        one_line(f"{change.alarm_name}: {change.state} in AWS account {change.account}, {change.region}"),
        "",
        f"State:       {change.state} (was {change.previous_state or 'unknown'})",
        f"Changed at:  {_clock(change.changed_at.astimezone(zone))} {zone_name}",
        f"Window:      {_window(change, zone, zone_name)}",
        f"Reason:      {one_line(change.reason)}",
    ]
    if change.description:
        lines.append(f"Description: {one_line(change.description)}")
    if note:
        lines.append(f"Note:        {one_line(note)}")
    lines += ["", f"The alarm: {alarm_link(change)}", ""]
    return within_body_limit("\n".join(lines))


def _links(change: AlarmChange, rows: Sequence[Row], log_group: str) -> list[str]:
    return [f"  {label}: {url}" for label, url in links(change, rows, log_group)]


def links(change: AlarmChange, rows: Sequence[Row], log_group: str = "") -> list[tuple[str, str]]:
    """Where to look closer, as (label, URL): the mail lists them, a chat card offers them as next steps."""
    return [
        (f"CloudTrail event history ({change.region})", cloudtrail_link(change)),
        ("Logs Insights, this window", insights_link(change, rows, log_group)),
        ("The alarm", alarm_link(change)),
    ]


def detection_links(change: AlarmChange, matches: Matches, log_group: str = "") -> list[tuple[str, str]]:
    return links(change, [to_row(raw) for raw in matches.events], log_group)


def _console(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com"


def cloudtrail_link(change: AlarmChange) -> str:
    region = change.region
    start, end = _iso(change.window_start), _iso(change.window_end)
    return f"{_console(region)}/cloudtrailv2/home?region={region}#/events?StartTime={start}&EndTime={end}"


def alarm_link(change: AlarmChange) -> str:
    region = change.region
    return f"{_console(region)}/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(change.alarm_name, safe='')}"


def insights_query(rows: Sequence[Row]) -> str:
    names = sorted({row.action.split(":", 1)[-1] for row in rows})
    query = "fields @timestamp, eventSource, eventName, userIdentity.arn, sourceIPAddress, errorCode"
    if names:
        query += f"\n| filter eventName in {json.dumps(names)}"
    return query + "\n| sort @timestamp asc\n| limit 1000"


def insights_link(change: AlarmChange, rows: Sequence[Row], log_group: str = "") -> str:
    region = change.region
    detail = (
        f"~(end~'{_star(_iso(change.window_end))}~start~'{_star(_iso(change.window_start))}~timeType~'ABSOLUTE"
        f"~tz~'UTC~editorString~'{_star(insights_query(rows))}"
    )
    detail += f"~source~(~'{_star(log_group)}))" if log_group else ")"
    return f"{_console(region)}/cloudwatch/home?region={region}#logsV2:logs-insights$3FqueryDetail$3D{detail}"


def _star(text: str) -> str:
    # The console's own escaping inside queryDetail: percent-encoding with '*' for '%'.
    return quote(text, safe="").replace("%", "*")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _window(change: AlarmChange, zone: tzinfo, zone_name: str) -> str:
    local = (
        f"{_clock(change.window_start.astimezone(zone))} to {_clock(change.window_end.astimezone(zone))} {zone_name}"
    )
    if zone_name == "UTC":
        return local
    return f"{local} ({_clock(change.window_start)} to {_clock(change.window_end)} UTC)"


def _clock(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")[:19]
