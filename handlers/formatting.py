"""Readable mail for one sign-in: a short subject and a body of labelled lines."""

from __future__ import annotations

from datetime import tzinfo

from handlers.risk import short_name
from handlers.signin import SignInRecord
from handlers.text import SUBJECT_LIMIT, account_label, ascii_only, one_line, subject_account, within_body_limit

__all__ = ["SUBJECT_LIMIT", "event_title", "one_line", "outcome_word", "render_body", "render_subject"]
_EVENT_TITLES = {
    "ConsoleLogin": "Console sign-in",
    "SwitchRole": "Switch role",
    "ExitRole": "Exit role",
    "CredentialVerification": "Identity Center credential check",
    "UserAuthentication": "Identity Center sign-in",
}


def event_title(record: SignInRecord) -> str:
    return _EVENT_TITLES.get(record.event_name, record.event_name)


def outcome_word(record: SignInRecord) -> str:
    return {"Success": "succeeded", "Failure": "FAILED"}.get(record.outcome, "outcome unknown")


def render_subject(record: SignInRecord, alias: str = "") -> str:
    flag = "[!] " if record.risk_reasons else ""
    # Reasons from the history are what a reader most needs to see first: name the first one.
    tag = f" ({short_name(record.history_reasons[0])})" if record.history_reasons else ""
    head = ascii_only(f"{flag}{event_title(record)} {outcome_word(record)}{tag}: ")[:72]
    tail = subject_account(record.account_id, alias)
    who = ascii_only(f"{record.principal_kind.label} {record.display_name}")
    room = SUBJECT_LIMIT - len(head) - len(tail)
    if len(who) > room:
        who = who[: max(room - 3, 0)] + "..."
    return (head + who + tail)[:SUBJECT_LIMIT]


_LABELS = (
    "Event",
    "Outcome",
    "Who",
    "Principal ARN",
    "Switched from",
    "Account",
    "When",
    "MFA used",
    "MFA / credential",
    "Source IP",
    "Location",
    "User agent",
    "Region",
    "Signing in to",
    "Needs a look",
    "Event ID",
)
# Labels padded to one column; computed once, not per mail.
_PADDED = tuple(f"{label + ':':<{max(map(len, _LABELS)) + 2}}" for label in _LABELS)


def _clock(moment) -> str:
    # isoformat is several times cheaper than strftime, and replay renders many mails.
    return moment.isoformat(sep=" ", timespec="seconds")[:19]


def render_body(record: SignInRecord, zone: tzinfo, zone_name: str, alias: str = "") -> str:
    when = f"{_clock(record.event_time.astimezone(zone))} {zone_name}"
    if zone_name != "UTC":
        when += f" ({_clock(record.event_time)} UTC)"
    outcome = record.outcome if not record.error_message else f"{record.outcome} ({record.error_message})"
    values = (
        f"{event_title(record)} ({record.event_name})",
        outcome,
        f"{record.principal_kind.label}: {record.display_name}",
        record.principal_arn,
        record.switched_from,
        account_label(record.account_id, alias) if record.account_id else "",
        when,
        {True: "yes", False: "no", None: "not reported"}[record.mfa_used],
        record.mfa_type,
        record.source_ip,
        record.location.text,
        record.user_agent,
        record.region,
        record.login_url,
        "; ".join(record.risk_reasons),
        record.event_id,
    )
    rendered = [label + one_line(value) for label, value in zip(_PADDED, values, strict=True) if value]
    account = account_label(record.account_id, alias) if record.account_id else ""
    title = one_line(f"{event_title(record)} {outcome_word(record)} in AWS account {account}")
    return within_body_limit("\n".join([title, "", *rendered, ""]))
