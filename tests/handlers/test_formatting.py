from zoneinfo import ZoneInfo

import pytest

from handlers.formatting import SUBJECT_LIMIT, render_body, render_subject
from handlers.signin import parse_signin_event
from tests.handlers.events import EVENT_NAMES, event


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_subjects_are_what_sns_accepts_and_say_outcome_who_and_account(name):
    record = parse_signin_event(event(name))
    subject = render_subject(record)
    assert len(subject) < 100
    assert subject.isascii() and "\n" not in subject
    assert subject[0].isalnum() or not subject[0].isspace()
    assert record.account_id in subject
    assert ("FAILED" in subject) == record.failed


def test_subject_for_a_failed_iam_user_sign_in():
    subject = render_subject(parse_signin_event(event("iam_user_no_mfa_failure")))
    assert subject == "[!] Console sign-in FAILED: IAM user hibino-dev in 111122223333"


def test_subject_for_a_quiet_success_has_no_flag():
    subject = render_subject(parse_signin_event(event("iam_user_mfa_success")))
    assert subject == "Console sign-in succeeded: IAM user hibino in 111122223333"


def test_non_ascii_names_are_replaced_in_the_subject_but_kept_in_the_body():
    record = parse_signin_event(event("identity_center_credential_failure"))
    assert "?? ??" in render_subject(record)
    assert "鈴木 花子" in render_body(record, ZoneInfo("UTC"), "UTC")


def test_long_names_are_cut_keeping_the_account():
    long_session = "x" * 200
    raw = event("switch_role_success")
    raw["userIdentity"]["arn"] = f"arn:aws:sts::111122223333:assumed-role/dev/{long_session}"
    subject = render_subject(parse_signin_event(raw))
    assert len(subject) == SUBJECT_LIMIT
    assert subject.endswith("... in 111122223333")


def test_body_is_labelled_lines_in_the_configured_zone_with_utc_alongside():
    body = render_body(parse_signin_event(event("root_mfa_success")), ZoneInfo("Asia/Tokyo"), "Asia/Tokyo")
    lines = body.splitlines()
    assert lines[0] == "Console sign-in succeeded in AWS account 111122223333"
    fields = dict(line.split(":", 1) for line in lines[2:] if line)
    fields = {key: value.strip() for key, value in fields.items()}
    assert fields["When"] == "2021-01-31 17:33:01 Asia/Tokyo (2021-01-31 08:33:01 UTC)"
    assert fields["Who"] == "Root user: root"
    assert fields["MFA used"] == "yes"
    assert fields["Source IP"] == "203.0.113.22"
    assert fields["Needs a look"] == "root user"
    assert fields["Event ID"] == "0f6a04f5-812a-44ed-bb2c-c7c013299db8"
    assert not body.lstrip().startswith("{")


def test_body_in_utc_does_not_repeat_the_time():
    body = render_body(parse_signin_event(event("root_mfa_success")), ZoneInfo("UTC"), "UTC")
    assert "When:" in body and "2021-01-31 08:33:01 UTC" in body and "(2021" not in body


def test_body_names_the_error_and_leaves_out_empty_fields():
    body = render_body(parse_signin_event(event("unknown_user_failure")), ZoneInfo("UTC"), "UTC")
    assert "Failure (No username found in supplied account)" in body
    assert "Switched from" not in body
    assert "failed sign-in; user name does not exist" in body


def test_switch_role_body_shows_the_source_principal():
    body = render_body(parse_signin_event(event("switch_role_success")), ZoneInfo("UTC"), "UTC")
    assert "Switched from:    arn:aws:iam::444455556666:user/h_hibino" in body
