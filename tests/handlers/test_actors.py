"""Whom a change was about and who made it, as the takeover detections' mails say it."""

from __future__ import annotations

import json
from urllib.parse import quote

from detections.catalog import ACCOUNT, ADMIN, IAM_USER, ROOT, SAML_USER, ct, trust_policy
from handlers.actors import OTHER, SAME_NAME, SELF, change_of, trust_of
from handlers.risk import principal_key
from handlers.signin import parse_signin_event


def deactivate(identity: dict, **request) -> dict:
    request = {"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob", **request}
    return ct("DeactivateMFADevice", "iam.amazonaws.com", identity, requestParameters=request)


def test_a_user_naming_another_user_changes_someone_else():
    change = change_of(deactivate(IAM_USER, userName="carol"))
    assert (change.user, change.relation, change.actor) == ("carol", OTHER, "IAM user: bob")


def test_a_user_naming_no_user_or_itself_changes_its_own():
    assert (change_of(deactivate(IAM_USER)).user, change_of(deactivate(IAM_USER)).relation) == ("bob", SELF)
    assert change_of(deactivate(IAM_USER, userName="bob")).relation == SELF
    assert change_of(deactivate(ROOT)).relation == SELF


def test_a_role_session_named_like_the_user_is_told_apart_from_another_user():
    assert change_of(deactivate(ADMIN, userName="alice")).relation == SAME_NAME
    assert change_of(deactivate(ADMIN, userName="bob")).relation == OTHER


def test_the_actor_is_found_under_the_key_its_console_sign_in_was_stored_with():
    sign_in = parse_signin_event(
        ct(
            "ConsoleLogin",
            "signin.amazonaws.com",
            SAML_USER,
            eventType="AwsConsoleSignIn",
            responseElements={"ConsoleLogin": "Success"},
            additionalEventData={"SamlProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"},
        )
    )
    # Afterwards the same person calls APIs as a plain assumed-role session.
    assert principal_key(sign_in) in change_of(deactivate(SAML_USER, userName="bob")).history_keys
    iam_sign_in = parse_signin_event(
        ct("ConsoleLogin", "signin.amazonaws.com", IAM_USER, responseElements={"ConsoleLogin": "Success"})
    )
    assert change_of(deactivate(IAM_USER)).history_keys == (principal_key(iam_sign_in),)


def test_a_trust_policy_names_outside_accounts_and_the_wildcard():
    assert trust_of(trust_policy("arn:aws:iam::999988887777:root"), ACCOUNT).outside_accounts == ("999988887777",)
    assert trust_of(trust_policy(f"arn:aws:iam::{ACCOUNT}:role/Ops"), ACCOUNT).outside_accounts == ()
    assert trust_of(trust_policy("*", key=None), ACCOUNT).anyone
    assert trust_of(trust_policy("*"), ACCOUNT).anyone
    assert not trust_of(trust_policy("lambda.amazonaws.com", key="Service"), ACCOUNT).anyone
    several = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["444455556666", f"arn:aws:iam::{ACCOUNT}:root"]}},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::777788889999:root"}},
        ]
    }
    assert trust_of(json.dumps(several), ACCOUNT).outside_accounts == ("444455556666",)
    # Some CloudTrail records carry policies URL-encoded.
    assert trust_of(quote(trust_policy("*")), ACCOUNT).anyone
    assert not trust_of("{not json", ACCOUNT).readable


def test_the_role_change_compares_with_the_account_the_event_belongs_to():
    event = ct(
        "UpdateAssumeRolePolicy",
        "iam.amazonaws.com",
        requestParameters={"roleName": "Deploy", "policyDocument": trust_policy("arn:aws:iam::999988887777:root")},
    )
    change = change_of(event)
    assert (change.role, change.trust.outside_accounts, change.trust.anyone) == ("Deploy", ("999988887777",), False)
