"""Readable mail for one sign-in: a short subject and a body of labelled lines."""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.risk import short_name
from handlers.signin import SignInRecord
from handlers.text import SUBJECT_LIMIT, account_label, ascii_only, one_line, subject_account, within_body_limit

__all__ = ["SUBJECT_LIMIT", "burst_note", "event_title", "one_line", "outcome_word", "render_body", "render_subject"]
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


def render_subject(record: SignInRecord, alias: str = "", during_burst: bool = False) -> str:
    flag = "[!] " if record.risk_reasons else ""
    # Reasons from the history are what a reader most needs to see first: name the first one.
    tag = f" ({short_name(record.history_reasons[0])})" if record.history_reasons else ""
    burst = " during burst" if during_burst else ""
    head = ascii_only(f"{flag}{event_title(record)} {outcome_word(record)}{tag}{burst}: ")[:72]
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
    "Burst",
    "Event ID",
)
# Labels padded to one column; computed once, not per mail.
_PADDED = tuple(f"{label + ':':<{max(map(len, _LABELS)) + 2}}" for label in _LABELS)


def _clock(moment) -> str:
    # isoformat is several times cheaper than strftime, and replay renders many mails.
    return moment.isoformat(sep=" ", timespec="seconds")[:19]


def _when(moment: datetime, zone: tzinfo, zone_name: str) -> str:
    when = f"{_clock(moment.astimezone(zone))} {zone_name}"
    return when if zone_name == "UTC" else f"{when} ({_clock(moment)} UTC)"


def burst_note(window_key: str, opened_at: datetime, limit: int, zone: tzinfo, zone_name: str) -> str:
    """What a never-held mail says about the burst it came during (an account window past its ceiling)."""
    outcome = {"Failure": "failed", "Success": "successful"}.get(window_key.split("|", 1)[0], "other")
    return (
        f"{outcome} sign-ins in this account since {_when(opened_at, zone, zone_name)}; "
        f"past the first {limit} mails they go into a digest, this one is mailed at once"
    )


def render_body(record: SignInRecord, zone: tzinfo, zone_name: str, alias: str = "", burst: str = "") -> str:
    """The mail's body; `burst` (burst_note) when it came during a burst that flood control holds back."""
    when = _when(record.event_time, zone, zone_name)
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
        burst,
        record.event_id,
    )
    rendered = [label + one_line(value) for label, value in zip(_PADDED, values, strict=True) if value]
    account = account_label(record.account_id, alias) if record.account_id else ""
    during = ", during a burst" if burst else ""
    title = one_line(f"{event_title(record)} {outcome_word(record)} in AWS account {account}{during}")
    return within_body_limit("\n".join([title, "", *rendered, ""]))
