from datetime import UTC, datetime

import pytest

from handlers.signin import MalformedRecord, PrincipalKind, parse_signin_event
from tests.handlers.events import EVENT_NAMES, event

# name -> (kind, display name, outcome, MFA used, risk reasons, is a sign-in attempt)
EXPECTED = {
    "root_mfa_success": (PrincipalKind.ROOT, "root", "Success", True, ("root user",), True),
    "root_mfa_failure": (PrincipalKind.ROOT, "root", "Failure", True, ("failed sign-in", "root user"), True),
    "root_no_mfa_success": (PrincipalKind.ROOT, "root", "Success", False, ("root user", "no MFA"), True),
    "iam_user_mfa_success": (PrincipalKind.IAM_USER, "hibino", "Success", True, (), True),
    "iam_user_mfa_failure": (PrincipalKind.IAM_USER, "hibino", "Failure", True, ("failed sign-in",), True),
    "unknown_user_failure": (
        PrincipalKind.UNKNOWN_USER,
        "(name hidden by AWS: no such user)",
        "Failure",
        False,
        ("failed sign-in", "user name does not exist"),
        True,
    ),
    "iam_user_no_mfa_success": (PrincipalKind.IAM_USER, "hibino-dev", "Success", False, ("no MFA",), True),
    "iam_user_no_mfa_failure": (
        PrincipalKind.IAM_USER,
        "hibino-dev",
        "Failure",
        False,
        ("failed sign-in", "no MFA"),
        True,
    ),
    "switch_role_success": (PrincipalKind.SWITCHED_ROLE, "h_hibino via role dev", "Success", None, (), True),
    "root_mfa_success_upper_yes": (PrincipalKind.ROOT, "root", "Success", True, ("root user",), True),
    "exit_role": (PrincipalKind.ASSUMED_ROLE, "h_hibino via role dev", "Success", None, (), False),
    # Federated sign-ins report MFAUsed "No" although the identity provider did MFA: never flagged.
    "saml_federated_success": (
        PrincipalKind.SAML_FEDERATED,
        "alice@example.com via role OktaAdmin",
        "Success",
        False,
        (),
        True,
    ),
    "identity_center_console_success": (
        PrincipalKind.IDENTITY_CENTER,
        "taro@example.com via permission set AdministratorAccess",
        "Success",
        False,
        (),
        True,
    ),
    "identity_center_credential_failure": (
        PrincipalKind.IDENTITY_CENTER,
        "鈴木 花子",
        "Failure",
        None,
        ("failed sign-in",),
        True,
    ),
    "identity_center_credential_success": (PrincipalKind.IDENTITY_CENTER, "hanako", "Success", None, (), False),
    "identity_center_authentication_success": (PrincipalKind.IDENTITY_CENTER, "hanako", "Success", None, (), True),
}


def test_every_fixture_has_an_expectation():
    assert set(EXPECTED) == set(EVENT_NAMES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_classification(name):
    kind, display, outcome, mfa, risks, attempt = EXPECTED[name]
    record = parse_signin_event(event(name))
    assert record.principal_kind is kind
    assert record.display_name == display
    assert record.outcome == outcome
    assert record.mfa_used is mfa
    assert record.risk_reasons == risks
    assert record.is_attempt is attempt


def test_fields_are_lifted_from_the_record():
    record = parse_signin_event(event("iam_user_no_mfa_failure"))
    assert record.event_id == "6d583a92-5743-4d93-bc2b-3efa0f3d30aa"
    assert record.event_time == datetime(2021, 1, 31, 9, 20, 43, tzinfo=UTC)
    assert record.error_message == "Failed authentication"
    assert record.account_id == "111122223333"
    assert record.source_ip == "203.0.113.22"
    assert record.region == "us-east-1"
    assert record.user_agent.startswith("Mozilla/5.0 (Macintosh")
    assert record.login_url.startswith("https://console.aws.amazon.com/console/home")


def test_switch_role_keeps_where_it_came_from():
    record = parse_signin_event(event("switch_role_success"))
    assert record.switched_from == "arn:aws:iam::444455556666:user/h_hibino"
    assert record.principal_arn == "arn:aws:sts::111122223333:assumed-role/dev/h_hibino"
    assert record.login_url.startswith("https://us-east-2.console.aws.amazon.com/")


def test_mfa_type_and_identity_center_credential_type():
    assert parse_signin_event(event("root_mfa_success_upper_yes")).mfa_type == "U2F MFA"
    assert parse_signin_event(event("identity_center_authentication_success")).mfa_type == "PASSWORD,TOTP"


def test_missing_error_message_still_reads_failure_from_response():
    record = parse_signin_event(event("root_mfa_failure", errorMessage=None))
    assert record.outcome == "Failure"
    assert record.error_message == ""


def test_fractional_seconds_and_offsets_are_normalised_to_utc():
    record = parse_signin_event(event("root_mfa_success", eventTime="2021-01-31T17:33:01.250+09:00"))
    assert record.event_time == datetime(2021, 1, 31, 8, 33, 1, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "reason", "event_id"),
    [
        ("not json", "expected a JSON object, got str", None),
        ([1, 2], "expected a JSON object, got list", None),
        (event("root_mfa_success", eventID=None), "missing eventID", None),
        (
            event("root_mfa_success", eventSource="iam.amazonaws.com"),
            "eventSource is 'iam.amazonaws.com'",
            "0f6a04f5-812a-44ed-bb2c-c7c013299db8",
        ),
        (
            event("root_mfa_success", eventTime="yesterday"),
            "eventTime 'yesterday' is not an ISO 8601 time",
            "0f6a04f5-812a-44ed-bb2c-c7c013299db8",
        ),
        (event("root_mfa_success", eventTime=None), "missing eventTime", "0f6a04f5-812a-44ed-bb2c-c7c013299db8"),
        (
            event("root_mfa_success", userIdentity="root"),
            "missing userIdentity",
            "0f6a04f5-812a-44ed-bb2c-c7c013299db8",
        ),
        (event("root_mfa_success", eventName=""), "missing eventName", "0f6a04f5-812a-44ed-bb2c-c7c013299db8"),
    ],
)
def test_malformed_records_say_why_and_which(raw, reason, event_id):
    with pytest.raises(MalformedRecord) as caught:
        parse_signin_event(raw)
    assert caught.value.reason.startswith(reason)
    assert caught.value.event_id == event_id


def test_null_sections_do_not_break_parsing():
    record = parse_signin_event(event("iam_user_mfa_success", responseElements=None, additionalEventData=None))
    assert record.outcome == "Unknown"
    assert record.mfa_used is None
