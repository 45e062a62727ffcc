"""The takeover detections' alarm mails name the actor's risky sign-in in the hour before, from the history."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from components.alarm_mailer import alarm_name, detections_document
from detections.catalog import ACCOUNT, BY_ID, IAM_USER, console_login
from detections.profiles import resolve_detections
from handlers.alarm_mail import DetectionInfo
from handlers.alarm_mailer import MailerConfig, handle
from handlers.signin import parse_signin_event
from handlers.store import SignInStore
from tests.handlers.alarm_events import (
    LOG_GROUP,
    alarm_event,
    mailer_world,
    put_trail_events,
    sns_alarm_event,
)

PREFIX = "login-monitoring-prod"
DETECTIONS = {
    name: DetectionInfo.from_json(data)
    for name, data in json.loads(detections_document(resolve_detections("recommended"), PREFIX)).items()
}
MFA_ALARM = alarm_name(PREFIX, "mfa-device-removed")
WINDOW_START = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
ALICE = {
    **IAM_USER,
    "principalId": "AIDAEXAMPLEALICE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "userName": "alice",
}
NEW_COUNTRY = "new country: first sign-in from Germany (DE) in 90 days (before: JP)"


@pytest.fixture
def aws(monkeypatch):
    yield from mailer_world(monkeypatch)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def store_sign_in(aws, identity: dict, at: datetime, ip: str, *reasons: str, event_id: str) -> None:
    """A successful console sign-in, stored by the notifier's own write path with the reasons it was given."""
    raw = console_login(identity, eventTime=stamp(at), eventID=event_id, sourceIPAddress=ip)
    record = replace(parse_signin_event(raw), history_reasons=reasons)
    SignInStore(aws.dynamodb, "sign-ins", 90).claim(record, mail_wanted=False, now=at)


def mfa_removal(at: datetime, identity: dict = ALICE, user: str = "bob") -> dict:
    event = copy.deepcopy(BY_ID["mfa-device-removed"].examples[0].event)
    event.update(
        userIdentity=identity,
        eventTime=stamp(at),
        eventID=f"mfa-{user}-{at:%H%M%S}",
        requestParameters={"userName": user, "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/{user}"},
    )
    return event


def mail_for(aws, event_time: datetime, *, dynamodb=None, payload=alarm_event, **config) -> str:
    settings = MailerConfig(topic_arn=aws.topic_arn, log_group_name=LOG_GROUP, sign_in_table_name="sign-ins", **config)
    event = payload(MFA_ALARM, window_start=event_time.replace(second=0))
    client = aws.dynamodb if dynamodb is None else dynamodb
    assert handle(event, settings, DETECTIONS, aws.logs, aws.sns, client, sleep=lambda s: None) == {"mailed": 1}
    (mail,) = aws.mails()
    return mail["Message"]


@pytest.mark.parametrize("payload", [sns_alarm_event, alarm_event], ids=["alarm topic", "alarm action"])
def test_mfa_deactivated_mail_names_the_actors_risky_sign_in_three_minutes_before(aws, payload):
    removed_at = WINDOW_START + timedelta(minutes=1, seconds=20)
    store_sign_in(aws, ALICE, removed_at - timedelta(minutes=3), "193.99.144.80", NEW_COUNTRY, event_id="alice-de")
    # Not hers, or too long ago: neither is named.
    store_sign_in(aws, IAM_USER, removed_at - timedelta(minutes=1), "1.0.16.1", "no MFA", event_id="bob-jp")
    store_sign_in(aws, ALICE, removed_at - timedelta(minutes=90), "1.0.16.1", "no MFA", event_id="alice-old")
    put_trail_events(aws.logs, [mfa_removal(removed_at)])

    body = mail_for(aws, removed_at, payload=payload)

    assert "Sign-ins: alice, 3 minutes after a sign-in from Germany (DE), 193.99.144.80 (new country)\n" in body, body
    lines = body.splitlines()
    at = next(index for index, line in enumerate(lines) if "IAM user: alice: iam:DeactivateMFADevice" in line)
    assert lines[at].endswith("IAM user: alice: iam:DeactivateMFADevice for bob (another user)")
    assert lines[at + 1].strip() == f"3 minutes after a sign-in from Germany (DE), 193.99.144.80: {NEW_COUNTRY}"
    assert "no MFA" not in body


def test_mfa_deactivated_without_a_risky_sign_in_says_there_was_none(aws):
    removed_at = WINDOW_START + timedelta(minutes=2)
    store_sign_in(aws, ALICE, removed_at - timedelta(minutes=20), "1.0.16.1", event_id="alice-plain")
    store_sign_in(aws, IAM_USER, removed_at - timedelta(minutes=5), "193.99.144.80", NEW_COUNTRY, event_id="bob-de")
    put_trail_events(aws.logs, [mfa_removal(removed_at)])

    body = mail_for(aws, removed_at)

    assert "Sign-ins: none of the 1 change came within an hour of a risky sign-in of its actor\n" in body
    assert (
        "no risky sign-in in the hour before; 20 minutes after a sign-in from Japan (JP), 1.0.16.1, "
        "without a risk reason"
    ) in body
    assert NEW_COUNTRY not in body


def test_an_actor_without_console_sign_ins_and_a_user_acting_on_itself(aws):
    removed_at = WINDOW_START + timedelta(minutes=2)
    own = mfa_removal(removed_at, identity=ALICE, user="alice")
    put_trail_events(aws.logs, [own])

    body = mail_for(aws, removed_at)

    assert "iam:DeactivateMFADevice for alice (its own)" in body
    assert "no console sign-in of this principal in the hour before (an older session, or access keys)" in body


def test_an_unreadable_history_still_mails_the_alarm_and_says_why(aws):
    class Denied:
        def query(self, **request):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Query")

    removed_at = WINDOW_START + timedelta(minutes=2)
    put_trail_events(aws.logs, [mfa_removal(removed_at)])

    body = mail_for(aws, removed_at, dynamodb=Denied())

    assert "Sign-ins: the acting principals' sign-ins could not be read (see below)" in body
    assert "sign-ins could not be read: AccessDeniedException" in body
    assert "iam:DeactivateMFADevice for bob (another user)" in body


def test_a_role_trust_mail_names_the_outside_account(aws):
    event = copy.deepcopy(
        next(e.event for e in BY_ID["identity-provider-or-role-trust"].examples if "outside" in e.description)
    )
    at = WINDOW_START + timedelta(minutes=1)
    event.update(eventTime=stamp(at), eventID="trust-1")
    put_trail_events(aws.logs, [event])
    settings = MailerConfig(topic_arn=aws.topic_arn, log_group_name=LOG_GROUP)
    alarm = alarm_event(alarm_name(PREFIX, "identity-provider-or-role-trust"), window_start=WINDOW_START)

    handle(alarm, settings, DETECTIONS, aws.logs, aws.sns, sleep=lambda s: None)

    body = aws.mails()[0]["Message"]
    assert "iam:UpdateAssumeRolePolicy on role Deploy: now trusts account 999988887777 from outside this one" in body
    # Without a sign-in table the mail says whom, and nothing about sign-ins.
    assert "Sign-ins:" not in body
