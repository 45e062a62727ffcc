"""Readable mail for one sign-in: a short subject and a body of labelled lines."""

from __future__ import annotations

from datetime import tzinfo

from handlers.signin import SignInRecord

# SNS rejects subjects of 100 characters or more, non-ASCII text and line breaks.
SUBJECT_LIMIT = 99
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


def render_subject(record: SignInRecord) -> str:
    flag = "[!] " if record.risk_reasons else ""
    head = f"{flag}{event_title(record)} {outcome_word(record)}: "
    tail = f" in {record.account_id or 'unknown account'}"
    who = _ascii(f"{record.principal_kind.label} {record.display_name}")
    room = SUBJECT_LIMIT - len(head) - len(tail)
    if len(who) > room:
        who = who[: max(room - 3, 0)] + "..."
    return _ascii(head) + who + tail


def render_body(record: SignInRecord, zone: tzinfo, zone_name: str) -> str:
    local = record.event_time.astimezone(zone)
    utc = record.event_time.strftime("%Y-%m-%d %H:%M:%S UTC")
    when = f"{local:%Y-%m-%d %H:%M:%S} {zone_name}"
    if zone_name != "UTC":
        when += f" ({utc})"
    outcome = record.outcome if not record.error_message else f"{record.outcome} ({record.error_message})"
    lines = [
        ("Event", f"{event_title(record)} ({record.event_name})"),
        ("Outcome", outcome),
        ("Who", f"{record.principal_kind.label}: {record.display_name}"),
        ("Principal ARN", record.principal_arn),
        ("Switched from", record.switched_from),
        ("Account", record.account_id),
        ("When", when),
        ("MFA used", {True: "yes", False: "no", None: "not reported"}[record.mfa_used]),
        ("MFA / credential", record.mfa_type),
        ("Source IP", record.source_ip),
        ("User agent", record.user_agent),
        ("Region", record.region),
        ("Signing in to", record.login_url),
        ("Needs a look", "; ".join(record.risk_reasons)),
        ("Event ID", record.event_id),
    ]
    width = max(len(label) for label, _ in lines) + 2
    rendered = [f"{label + ':':<{width}}{value}" for label, value in lines if value]
    title = f"{event_title(record)} {outcome_word(record)} in AWS account {record.account_id}"
    return "\n".join([title, "", *rendered, ""])


def _ascii(text: str) -> str:
    cleaned = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return cleaned
