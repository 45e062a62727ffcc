"""Sign-ins of chosen people, places and times, built from the fixtures, for the risk reason tests."""

from __future__ import annotations

from tests.handlers.events import event

JAPAN = "1.0.16.1"
GERMANY = "193.99.144.80"
GERMANY_V6 = "2a01:4f8::1"
USA = "8.8.8.8"


def sign_in(event_id: str, when: str, ip: str = JAPAN, user: str = "alice", failed: bool = False) -> dict:
    """A console sign-in of IAM user `user`; `when` is HH:MM on 2024-05-01 or a full ISO time."""
    raw = event(
        "iam_user_mfa_failure" if failed else "iam_user_mfa_success",
        eventID=event_id,
        eventTime=when if "T" in when else f"2024-05-01T{when}:00Z",
        sourceIPAddress=ip,
    )
    raw["userIdentity"]["userName"] = user
    if not failed:
        raw["userIdentity"]["arn"] = f"arn:aws:iam::111122223333:user/{user}"
    return raw


def unknown_user_failure(event_id: str, when: str, ip: str = USA) -> dict:
    return event(
        "unknown_user_failure",
        eventID=event_id,
        eventTime=f"2024-05-01T{when}:00Z",
        sourceIPAddress=ip,
    )
