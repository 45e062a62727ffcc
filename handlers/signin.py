"""Turn one CloudTrail sign-in record into a typed, classified SignInRecord."""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers.location import Location, locate
from handlers.signin_events import SIGNIN_EVENT_SOURCE

# What AWS writes instead of the user name when the name does not exist in the account.
HIDDEN_USER_NAME = "HIDDEN_DUE_TO_SECURITY_REASONS"
SSO_ROLE_PREFIX = "AWSReservedSSO_"
# DynamoDB refuses a partition key over 2,048 bytes; a CloudTrail event id is a 36-character UUID.
MAX_EVENT_ID_BYTES = 2048
# Any one field is cut to this many characters, so an item stays far below DynamoDB's 400 KB and a
# mail far below SNS's 256 KB whatever a record carries.
MAX_FIELD_CHARS = 1024
# JSON may carry a lone surrogate escape ("\\ud800"); neither DynamoDB nor SNS accepts it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
IDENTITY_CENTER_EVENTS = frozenset({"CredentialVerification", "UserAuthentication", "CredentialChallenge"})


class PrincipalKind(enum.StrEnum):
    ROOT = "root"
    IAM_USER = "iam-user"
    UNKNOWN_USER = "unknown-user"
    SWITCHED_ROLE = "switched-role"
    ASSUMED_ROLE = "assumed-role"
    SAML_FEDERATED = "saml-federated"
    IDENTITY_CENTER = "identity-center"
    FEDERATED_USER = "federated-user"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    PrincipalKind.ROOT: "Root user",
    PrincipalKind.IAM_USER: "IAM user",
    PrincipalKind.UNKNOWN_USER: "Unknown user name",
    PrincipalKind.SWITCHED_ROLE: "Switched role",
    PrincipalKind.ASSUMED_ROLE: "Assumed role",
    PrincipalKind.SAML_FEDERATED: "SAML-federated user",
    PrincipalKind.IDENTITY_CENTER: "IAM Identity Center user",
    PrincipalKind.FEDERATED_USER: "Federated user",
    PrincipalKind.OTHER: "Principal",
}

# Kinds whose MFA happens in AWS itself; for federated kinds MFA is the identity
# provider's business and CloudTrail reports MFAUsed "No" even when it happened.
MFA_ACCOUNTABLE_KINDS = frozenset({PrincipalKind.ROOT, PrincipalKind.IAM_USER})


class MalformedRecord(ValueError):
    """A log record that is not a usable CloudTrail sign-in event."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True)
class SignInRecord:
    event_id: str
    event_time: datetime
    event_name: str
    principal_kind: PrincipalKind
    display_name: str
    principal_arn: str
    account_id: str
    outcome: str
    error_message: str
    mfa_used: bool | None
    mfa_type: str
    source_ip: str
    user_agent: str
    region: str
    login_url: str
    switched_from: str
    # Reasons only the history can give (new country, password spray ...); see handlers/risk.py.
    history_reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome == "Failure"

    @property
    def is_attempt(self) -> bool:
        """True for events that are a sign-in in their own right (mail-worthy)."""
        if self.event_name == "ExitRole":
            return False
        if self.event_name == "CredentialVerification":
            # A successful credential step is followed by UserAuthentication; only its failure stands alone.
            return self.failed
        return True

    @property
    def without_mfa(self) -> bool:
        """Signed in (or tried) with a password alone, as the no-MFA detection counts it.

        A successful console sign-in of root or an IAM user that does not report MFAUsed at all
        counts as without MFA, exactly as the catalog's recommended pattern treats it.
        """
        if self.principal_kind not in MFA_ACCOUNTABLE_KINDS:
            return False
        if self.mfa_used is None:
            return self.event_name == "ConsoleLogin" and self.outcome == "Success"
        return not self.mfa_used

    @functools.cached_property
    def location(self) -> Location:
        return locate(self.source_ip)

    @functools.cached_property
    def risk_reasons(self) -> tuple[str, ...]:
        reasons = []
        if self.failed:
            reasons.append("failed sign-in")
        if self.principal_kind is PrincipalKind.ROOT:
            reasons.append("root user")
        if self.principal_kind is PrincipalKind.UNKNOWN_USER:
            reasons.append("user name does not exist")
        if self.without_mfa:
            reasons.append("no MFA")
        return (*reasons, *self.history_reasons)


def parse_signin_event(raw: Any) -> SignInRecord:
    """Classify one decoded CloudTrail record; raise MalformedRecord if it cannot be used."""
    if not isinstance(raw, dict):
        raise MalformedRecord(f"expected a JSON object, got {type(raw).__name__}")
    event_id = _event_id(raw.get("eventID"))
    if raw.get("eventSource") != SIGNIN_EVENT_SOURCE:
        source = _text(raw.get("eventSource"))[:80] or repr(raw.get("eventSource"))[:80]
        raise MalformedRecord(f"eventSource is {source!r}, not {SIGNIN_EVENT_SOURCE}", event_id)
    event_name = _text(raw.get("eventName"))[:128]
    if not event_name:
        raise MalformedRecord("missing eventName", event_id)
    identity = raw.get("userIdentity")
    if not isinstance(identity, dict):
        raise MalformedRecord("missing userIdentity", event_id)
    extra = _object(raw.get("additionalEventData"))

    kind, name = _classify(event_name, identity, extra)
    return SignInRecord(
        event_id=event_id,
        event_time=_parse_time(raw.get("eventTime"), event_id),
        event_name=event_name,
        principal_kind=kind,
        display_name=name,
        principal_arn=_text(identity.get("arn")),
        account_id=_text(identity.get("accountId")) or _text(raw.get("recipientAccountId")),
        outcome=_outcome(raw, event_name),
        error_message=_text(raw.get("errorMessage")),
        mfa_used=_yes_no(extra.get("MFAUsed")),
        mfa_type=_text(extra.get("MfaType")) or _text(extra.get("CredentialType")),
        source_ip=_text(raw.get("sourceIPAddress")),
        user_agent=_text(raw.get("userAgent")),
        region=_text(raw.get("awsRegion")),
        login_url=_text(extra.get("LoginTo")) or _text(extra.get("RedirectTo")),
        switched_from=_text(extra.get("SwitchFrom")),
    )


def _event_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedRecord("missing eventID")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedRecord("eventID is not valid Unicode text") from None
    if size > MAX_EVENT_ID_BYTES:
        raise MalformedRecord(f"eventID is {size} bytes long; at most {MAX_EVENT_ID_BYTES} can be stored")
    return value


def _classify(event_name: str, identity: dict, extra: dict) -> tuple[PrincipalKind, str]:
    identity_type = identity.get("type")
    user_name = _text(identity.get("userName"))
    arn = _text(identity.get("arn"))

    if identity_type == "Root":
        return PrincipalKind.ROOT, "root"
    if identity_type == "IAMUser":
        if user_name == HIDDEN_USER_NAME:
            return PrincipalKind.UNKNOWN_USER, "(name hidden by AWS: no such user)"
        return PrincipalKind.IAM_USER, user_name or _arn_tail(arn) or "(unnamed IAM user)"
    if identity_type == "AssumedRole":
        role, session = _assumed_role_parts(arn, identity)
        who = f"{session} via role {role}" if session else f"role {role}"
        if role.startswith(SSO_ROLE_PREFIX):
            return PrincipalKind.IDENTITY_CENTER, f"{session} via permission set {_permission_set(role)}"
        if "SamlProviderArn" in extra:
            return PrincipalKind.SAML_FEDERATED, who
        if event_name == "SwitchRole" or extra.get("SwitchFrom"):
            return PrincipalKind.SWITCHED_ROLE, who
        return PrincipalKind.ASSUMED_ROLE, who
    if identity_type == "SAMLUser":
        return PrincipalKind.SAML_FEDERATED, user_name or _arn_tail(arn) or "(SAML user)"
    if identity_type == "FederatedUser":
        return PrincipalKind.FEDERATED_USER, _arn_tail(arn) or user_name or "(federated user)"
    if identity_type == "IdentityCenterUser" or event_name in IDENTITY_CENTER_EVENTS:
        name = user_name or _text(extra.get("UserName")) or _text(_object(identity.get("onBehalfOf")).get("userId"))
        if name == HIDDEN_USER_NAME:
            return PrincipalKind.UNKNOWN_USER, "(name hidden by AWS: no such user)"
        return PrincipalKind.IDENTITY_CENTER, name or "(unnamed Identity Center user)"
    return PrincipalKind.OTHER, user_name or arn or _text(identity_type) or "(unknown principal)"


def _assumed_role_parts(arn: str, identity: dict) -> tuple[str, str]:
    # arn:aws:sts::123456789012:assumed-role/RoleName/SessionName
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    parts = resource.split("/")
    if len(parts) >= 3 and parts[0] == "assumed-role":
        return parts[1], "/".join(parts[2:])
    issuer = _object(_object(identity.get("sessionContext")).get("sessionIssuer"))
    principal_id = _text(identity.get("principalId"))
    session = principal_id.split(":", 1)[1] if ":" in principal_id else ""
    return _text(issuer.get("userName")) or "(unknown role)", session


def _permission_set(role_name: str) -> str:
    # AWSReservedSSO_<PermissionSetName>_<16 hex digits>
    rest = role_name[len(SSO_ROLE_PREFIX) :]
    head, sep, tail = rest.rpartition("_")
    return head if sep and len(tail) == 16 else rest


def _outcome(raw: dict, event_name: str) -> str:
    for section in ("responseElements", "serviceEventDetails"):
        value = _object(raw.get(section)).get(event_name)
        if value in ("Success", "Failure"):
            return value
    if raw.get("errorMessage") or raw.get("errorCode"):
        return "Failure"
    if event_name == "UserAuthentication":
        # AWS logs UserAuthentication only once every challenge was passed.
        return "Success"
    return "Unknown"


def parse_event_time(value: Any) -> datetime:
    """A CloudTrail eventTime as an aware UTC datetime (a time without offset is UTC); ValueError if unusable."""
    if not isinstance(value, str):
        raise ValueError("missing eventTime")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"eventTime {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"eventTime {value!r} is outside the range of representable times") from None


def _parse_time(value: Any, event_id: str) -> datetime:
    try:
        return parse_event_time(value)
    except ValueError as error:
        raise MalformedRecord(str(error), event_id) from None


def _yes_no(value: Any) -> bool | None:
    # AWS writes both "Yes" and "YES" (and "No"/"NO").
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "yes":
            return True
        if lowered == "no":
            return False
    return None


def _arn_tail(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else ""


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    """A field as storable text: valid UTF-8 (a lone surrogate becomes U+FFFD), at most MAX_FIELD_CHARS."""
    if not isinstance(value, str):
        return ""
    if len(value) > MAX_FIELD_CHARS:
        value = value[: MAX_FIELD_CHARS - 1] + "\u2026"
    if not value.isascii():
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def principal_of(raw: dict) -> tuple[PrincipalKind, str]:
    """Who did any CloudTrail event, classified and named exactly as in sign-in mails."""
    return _classify(
        _text(raw.get("eventName")), _object(raw.get("userIdentity")), _object(raw.get("additionalEventData"))
    )
