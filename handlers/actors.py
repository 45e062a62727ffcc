"""Who did a change and whom it was about, read from one CloudTrail event.

A metric filter cannot compare two fields of an event; the alarm mail can. For the account takeover
detections this says whether the acting principal changed someone else's MFA device or password or
its own, which accounts a role's new trust policy lets in, and under which keys the actor's console
sign-ins are stored in the sign-in history (handlers/store.py), so the mail can name them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from handlers.risk import history_key
from handlers.signin import PrincipalKind, principal_of

SELF = "self"
OTHER = "other"
# An assumed-role session named like the user it changed: most likely that user through a role.
SAME_NAME = "same-name"

# Calls about an IAM user that default to the caller when they name no user.
_USER_CALLS = frozenset(
    {
        "DeactivateMFADevice",
        "ResyncMFADevice",
        "EnableMFADevice",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "CreateAccessKey",
        "UploadSigningCertificate",
    }
)
# Session kinds a console sign-in may have been stored as, for an API call made as an assumed role:
# SAML and switch-role sign-ins act as assumed-role sessions of the same name afterwards.
_SESSION_KINDS = (PrincipalKind.ASSUMED_ROLE, PrincipalKind.SAML_FEDERATED, PrincipalKind.SWITCHED_ROLE)
_ACCOUNT = re.compile(r"^(?:arn:aws[a-z-]*:(?:iam|sts)::)?(\d{12})(?::|$)")


@dataclass(frozen=True)
class Trust:
    """What a role's trust policy lets in, beyond services and identity providers."""

    anyone: bool = False
    outside_accounts: tuple[str, ...] = ()
    readable: bool = True


@dataclass(frozen=True)
class Change:
    """One matched event: the actor, and whom or what the change was about."""

    actor: str  # as mails name principals: "Assumed role: alice via role Admin"
    history_keys: tuple[str, ...]  # the actor's principal keys in the sign-in history
    user: str = ""  # the IAM user the change was about
    relation: str = ""  # SELF, OTHER, SAME_NAME, or "" when the event does not say
    device: str = ""  # a virtual MFA device named only by its serial number
    directory_user: str = ""  # an IAM Identity Center user id
    role: str = ""
    trust: Trust | None = None


def change_of(raw: dict) -> Change:
    kind, name = principal_of(raw)
    identity = _object(raw.get("userIdentity"))
    request = _object(raw.get("requestParameters"))
    event_name = _text(raw.get("eventName"))
    account = _text(identity.get("accountId")) or _text(raw.get("recipientAccountId"))
    change = Change(actor=f"{kind.label}: {name}", history_keys=_history_keys(kind, account, name))
    if event_name in _USER_CALLS:
        return _user_change(change, kind, identity, _text(request.get("userName")))
    if event_name == "DeleteVirtualMFADevice":
        return _replace(change, device=_text(request.get("serialNumber")).rsplit(":mfa/", 1)[-1])
    if event_name == "DeleteMfaDeviceForUser":
        return _replace(change, directory_user=_text(request.get("userId")), relation=OTHER)
    if event_name == "UpdateAssumeRolePolicy":
        own = _text(raw.get("recipientAccountId")) or account
        return _replace(change, role=_text(request.get("roleName")), trust=trust_of(request.get("policyDocument"), own))
    return change


def _user_change(change: Change, kind: PrincipalKind, identity: dict, user: str) -> Change:
    if not user:
        # The API acts on the caller when no user is named.
        return _replace(change, user=_text(identity.get("userName")) or "root", relation=SELF)
    if kind is PrincipalKind.IAM_USER:
        relation = SELF if _text(identity.get("userName")) == user else OTHER
    elif kind in (*_SESSION_KINDS, PrincipalKind.IDENTITY_CENTER):
        session = _text(identity.get("arn")).rsplit("/", 1)[-1]
        relation = SAME_NAME if session == user else OTHER
    else:
        relation = OTHER
    return _replace(change, user=user, relation=relation)


def trust_of(document: Any, own_account: str) -> Trust:
    """Who a trust policy (the JSON text CloudTrail logs) lets assume the role, besides services and IdPs."""
    policy = _policy(document)
    if policy is None:
        return Trust(readable=False)
    statements = policy.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    anyone, outside = False, set()
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            anyone = True  # everyone but the few named
        principal = statement.get("Principal")
        if principal == "*":
            anyone = True
            continue
        values = _object(principal).get("AWS", [])
        for value in values if isinstance(values, list) else [values]:
            text = _text(value)
            if text == "*":
                anyone = True
            match = _ACCOUNT.match(text)
            if match and match.group(1) != own_account:
                outside.add(match.group(1))
    return Trust(anyone=anyone, outside_accounts=tuple(sorted(outside)))


def _policy(document: Any) -> dict | None:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        return None
    for text in (document, unquote(document)):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _history_keys(kind: PrincipalKind, account: str, name: str) -> tuple[str, ...]:
    if kind is PrincipalKind.UNKNOWN_USER or not account:
        return ()
    kinds = _SESSION_KINDS if kind in _SESSION_KINDS else (kind,)
    return tuple(history_key(each, account, name) for each in kinds)


def _replace(change: Change, **fields: Any) -> Change:
    return Change(**{**change.__dict__, **fields})


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
