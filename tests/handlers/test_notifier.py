"""The notifier end to end against moto: what is stored, what is mailed, and what happens on failure."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from handlers import notifier
from handlers.notifier import process_batch
from tests.handlers.events import EVENT_NAMES, event, subscription_payload

ATTEMPTS = [name for name in EVENT_NAMES if name not in ("exit_role", "identity_center_credential_success")]


def test_every_sign_in_is_stored_and_every_attempt_mailed(aws):
    result = aws.run([event(name) for name in EVENT_NAMES])

    assert result.stored == len(EVENT_NAMES) == aws.item_count()
    assert result.mailed == len(ATTEMPTS)
    mails = aws.mails()
    assert sorted(mail["Subject"] for mail in mails) == sorted(
        notifier.render_subject(notifier.parse_signin_event(event(name))) for name in ATTEMPTS
    )


def handled_soon_after(iso_time: str) -> dict:
    return {"clock": lambda: datetime.fromisoformat(iso_time) + timedelta(minutes=5)}


def test_stored_item_expires_ninety_days_after_the_sign_in(aws):
    aws.run([event("iam_user_no_mfa_failure")], handled_soon_after("2021-01-31T09:20:43+00:00"))
    item = aws.item("6d583a92-5743-4d93-bc2b-3efa0f3d30aa")
    expected = datetime.fromisoformat("2021-01-31T09:20:43+00:00") + timedelta(days=90)
    assert int(item["expiresAt"]["N"]) == int(expected.timestamp())
    assert item["principalKind"]["S"] == "iam-user"
    assert item["displayName"]["S"] == "hibino-dev"
    assert item["outcome"]["S"] == "Failure"
    assert item["mfaUsed"]["BOOL"] is False
    assert [r["S"] for r in item["riskReasons"]["L"]] == ["failed sign-in", "no MFA"]
    assert item["mail"]["S"] == "sent"
    assert item["mailMessageId"]["S"]


def test_history_days_setting_moves_the_expiry(aws):
    aws.run([event("root_mfa_success")], handled_soon_after("2021-01-31T08:33:01+00:00"), history_days=30)
    item = aws.item("0f6a04f5-812a-44ed-bb2c-c7c013299db8")
    assert int(item["expiresAt"]["N"]) == int(datetime.fromisoformat("2021-03-02T08:33:01+00:00").timestamp())


def test_mail_is_readable_text_in_the_configured_zone(aws):
    aws.run([event("root_mfa_failure")])
    (mail,) = aws.mails()
    assert mail["Subject"] == "[!] Console sign-in FAILED: Root user root in 111122223333"
    assert "When:             2021-01-31 17:50:23 Asia/Tokyo (2021-01-31 08:50:23 UTC)" in mail["Message"]
    assert "Outcome:          Failure (Failed authentication)" in mail["Message"]


def test_a_retried_batch_stores_nothing_twice_and_sends_no_second_mail(aws):
    messages = [event(name) for name in EVENT_NAMES]
    aws.run(messages)
    first_mails = aws.mails()

    again = aws.run(messages)

    assert again.stored == 0 and again.duplicates == len(EVENT_NAMES) and again.mailed == 0
    assert aws.mails() == []
    assert len(first_mails) == len(ATTEMPTS)
    assert aws.item_count() == len(EVENT_NAMES)


def test_mail_owed_from_a_failed_attempt_is_sent_exactly_once_on_retry(aws):
    sign_in = event("iam_user_mfa_failure")
    broken = f"{aws.topic_arn}-does-not-exist"
    with pytest.raises(ClientError):
        aws.run([sign_in], topic_arn=broken)
    # SNS refused the mail, so the lease was given back at once.
    assert aws.item(sign_in["eventID"])["mail"]["S"] == "pending"
    assert aws.mails() == []

    retry = aws.run([sign_in])
    assert retry.duplicates == 1 and retry.mailed == 1
    assert len(aws.mails()) == 1
    item = aws.item(sign_in["eventID"])
    assert item["mail"]["S"] == "sent" and "leaseOwner" not in item

    assert aws.run([sign_in]).mailed == 0
    assert aws.mails() == []


def test_a_failing_table_fails_the_invocation_and_sends_nothing(aws):
    with pytest.raises(ClientError) as caught:
        aws.run([event("root_mfa_success")], table_name="no-such-table")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert aws.mails() == []


def test_a_malformed_record_is_logged_and_skipped_but_its_neighbours_are_kept(aws, caplog):
    before, after = event("root_mfa_success"), event("iam_user_no_mfa_failure")
    broken = event("iam_user_mfa_success", eventTime="not-a-time")
    with caplog.at_level(logging.WARNING, logger="login-monitoring.notifier"):
        result = aws.run([before, "{truncated json", broken, after])

    assert result.stored == 2 and result.mailed == 2
    assert result.skipped == [
        f"log event {36000000000000000000000000000000000000000000000000000001}",
        broken["eventID"],
    ]
    assert aws.item(before["eventID"]) and aws.item(after["eventID"])
    assert len(aws.mails()) == 2
    assert broken["eventID"] in caplog.text and "not an ISO 8601 time" in caplog.text


def test_control_messages_do_nothing(aws):
    payload = subscription_payload(["CWL CONTROL MESSAGE: Checking health of destination"], "CONTROL_MESSAGE")
    result = process_batch(payload, aws.config(), aws.dynamodb, aws.sns)
    assert result.as_dict() == {"stored": 0, "duplicates": 0, "mailed": 0, "skipped": [], "unmarked": []}
    assert aws.item_count() == 0


def test_risky_policy_stores_everything_but_mails_only_what_needs_a_look(aws):
    result = aws.run([event(name) for name in EVENT_NAMES], notify_on="risky")
    subjects = {mail["Subject"] for mail in aws.mails()}

    assert result.stored == len(EVENT_NAMES)
    assert all(subject.startswith("[!] ") for subject in subjects)
    assert "[!] Console sign-in succeeded: IAM user hibino-dev in 111122223333" in subjects  # no MFA
    assert "[!] Console sign-in succeeded: Root user root in 111122223333" in subjects
    assert not any("hibino in" in subject and "succeeded" in subject for subject in subjects)  # MFA, success
    assert not any("OktaAdmin" in subject for subject in subjects)  # federated, MFA at the IdP
    skipped = aws.item(event("saml_federated_success")["eventID"])
    assert skipped["mail"]["S"] == "not-required"


def test_handler_reads_its_settings_from_the_environment(aws, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "sign-ins")
    monkeypatch.setenv("TOPIC_ARN", aws.topic_arn)
    monkeypatch.setenv("DISPLAY_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("NOTIFY_ON", "all")
    monkeypatch.setenv("HISTORY_DAYS", "30")
    monkeypatch.setattr(notifier, "_clients", {"dynamodb": aws.dynamodb, "sns": aws.sns})
    monkeypatch.setattr(notifier, "_config", [])

    response = notifier.handler(subscription_payload([event("switch_role_success")]), None)

    assert response == {"stored": 1, "duplicates": 0, "mailed": 1, "skipped": [], "unmarked": []}
    (mail,) = aws.mails()
    assert "2021-01-31 12:14:42 Europe/Berlin" in mail["Message"]


def test_location_is_mailed_and_stored_with_the_sign_in(aws):
    from_japan = event("iam_user_mfa_success", sourceIPAddress="1.0.16.1")
    from_aws = event("root_mfa_success", sourceIPAddress="AWS Internal")
    from_ipv6 = event("switch_role_success", sourceIPAddress="2a01:4f8::1")
    aws.run([from_japan, from_aws, from_ipv6])

    assert aws.item(from_japan["eventID"])["country"] == {"S": "JP"}
    assert aws.item(from_ipv6["eventID"])["country"] == {"S": "DE"}
    assert "country" not in aws.item(from_aws["eventID"])
    bodies = {line for mail in aws.mails() for line in mail["Message"].splitlines()}
    assert "Location:         Japan (JP)" in bodies
    assert "Location:         Germany (DE)" in bodies
    assert "Location:         no location (AWS service or internal source)" in bodies


class _Inbox:
    """An SNS client that takes every publish (the topic's account is what the alias hangs on)."""

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, **request):
        self.published.append(request)
        return {"MessageId": f"m-{len(self.published)}"}


def test_the_account_alias_is_named_for_the_stacks_own_account_only(aws):
    own = event("iam_user_no_mfa_failure")
    other = event("iam_user_no_mfa_failure", eventID="other-account")
    other["userIdentity"] = {**other["userIdentity"], "accountId": "444455556666"}
    inbox = _Inbox()
    config = aws.config(topic_arn="arn:aws:sns:us-east-1:111122223333:alerts", account_alias="acme-prod")

    process_batch(subscription_payload([own, other]), config, aws.dynamodb, inbox)

    subjects = sorted(request["Subject"] for request in inbox.published)
    assert subjects == [
        "[!] Console sign-in FAILED: IAM user hibino-dev in 111122223333 (acme-prod)",
        "[!] Console sign-in FAILED: IAM user hibino-dev in 444455556666",
    ]
    mails = {json.loads(r["Message"])["default"].splitlines()[0] for r in inbox.published}
    assert mails == {
        "Console sign-in FAILED in AWS account 111122223333 (acme-prod)",
        "Console sign-in FAILED in AWS account 444455556666",
    }


def test_the_notifier_reads_the_alias_from_its_environment():
    env = {"TABLE_NAME": "t", "TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:alerts", "ACCOUNT_ALIAS": "acme-prod"}
    config = notifier.NotifierConfig.from_env(env)
    assert config.alias_for("111122223333") == "acme-prod"
    assert config.alias_for("444455556666") == config.alias_for("") == ""
    assert notifier.NotifierConfig.from_env({**env, "ACCOUNT_ALIAS": ""}).alias_for("111122223333") == ""
