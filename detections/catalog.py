"""Every detection login-monitoring knows, as data.

Read by the component (metric filters and alarms), the tests (every example event runs
through the engine) and replay. Each detection lists the profiles it belongs to:

- `cis`: CIS AWS Foundations / Security Hub CloudWatch.1-14 text, character for character
  (Security Hub fails a control on any added term), CIS 4.15, and the failed sign-in alarm.
- `recommended` (default): the same intent tuned against known false positives, plus the
  sign-in detections.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("cis", "recommended")
PRIVILEGED_GROUPS_MARKER = "__PRIVILEGED_GROUPS__"
# CloudWatch's EvaluationWindow: sliding is its default; a wall clock window is opt-in and
# accepts only these periods.
SLIDING_WINDOW = "sliding"
WALL_CLOCK_WINDOW = "wallClock"
WALL_CLOCK_PERIODS = (60, 300, 3600, 86400, 604800)


@dataclass(frozen=True)
class AlarmSpec:
    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    threshold: float = 1
    comparison: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str = "notBreaching"
    evaluation_window: str = SLIDING_WINDOW


@dataclass(frozen=True)
class Example:
    description: str
    event: dict[str, Any]
    # True/False for every profile, or per profile where the profiles differ on purpose.
    expect: bool | Mapping[str, bool]

    def expected(self, profile: str) -> bool:
        return self.expect if isinstance(self.expect, bool) else self.expect[profile]


@dataclass(frozen=True)
class Detection:
    id: str
    title: str
    why: str
    severity: str
    metric_name: str
    patterns: Mapping[str, str]  # profile -> filter pattern
    alarms: Mapping[str, AlarmSpec]  # profile -> alarm defaults
    examples: tuple[Example, ...]
    security_hub: str | None = None
    cis: Mapping[str, str] = field(default_factory=dict)  # benchmark version -> control
    references: tuple[str, ...] = ()
    # The alarm mail says, for each matched event, whether the acting principal signed in with a risk
    # reason in the hour before, and whom the change was about (see handlers/actors.py).
    sign_in_context: bool = False
    # What other products call the same rule, for readers coming from them.
    peers: tuple[str, ...] = ()

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(profile for profile in PROFILES if profile in self.patterns)


# ------------------------------------------------------------------ example events

ACCOUNT = "111122223333"
ADMIN = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEADMIN:alice",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
    "accountId": ACCOUNT,
    "sessionContext": {"attributes": {"mfaAuthenticated": "true"}},
}
ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEUSER",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/bob",
    "accountId": ACCOUNT,
    "userName": "bob",
}


def ct(name: str, source: str, identity: dict | None = None, **fields: Any) -> dict[str, Any]:
    """A CloudTrail management event with realistic defaults; `fields` replace top-level keys."""
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity or ADMIN,
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {},
        "responseElements": None,
        "eventID": f"example-{name}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(fields)
    return record


def console_login(identity: dict, outcome: str = "Success", mfa: str | None = "Yes", **fields: Any) -> dict:
    extra = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"}
    if mfa is not None:
        extra["MFAUsed"] = mfa
    record = ct(
        "ConsoleLogin",
        "signin.amazonaws.com",
        identity,
        eventType="AwsConsoleSignIn",
        requestParameters=None,
        responseElements={"ConsoleLogin": outcome},
        additionalEventData=extra,
        userAgent="Mozilla/5.0",
    )
    if outcome == "Failure":
        record["errorMessage"] = "Failed authentication"
    record.update(fields)
    return record


def _either(*names: str, source: str | None = None, quoted: bool = True) -> str:
    values = [f'"{name}"' if quoted else name for name in names]
    names_part = " || ".join(f"($.eventName = {value})" for value in values)
    if source is None:
        return f"{{ {names_part} }}"
    return f"{{ ($.eventSource = {source}) && ({names_part}) }}"


def _cis(**alarm: Any) -> dict[str, AlarmSpec]:
    return {"cis": AlarmSpec(**alarm), "recommended": AlarmSpec(**alarm)}


def trust_policy(principal: str, key: str | None = "AWS") -> str:
    """A role trust policy as CloudTrail logs it in requestParameters: a JSON string, as the console sends it."""
    named = principal if key is None else {key: principal}
    statement = {"Effect": "Allow", "Principal": named, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=4)


SAML_USER = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLESAML:carol@example.com",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/OktaAdmin/carol@example.com",
    "accountId": ACCOUNT,
}

# ------------------------------------------------------------------ the catalog

CATALOG: tuple[Detection, ...] = (
    Detection(
        id="root-account-usage",
        title="Root user activity",
        why="The root user can do anything and cannot be limited by IAM; any use outside break-glass needs a look.",
        severity="high",
        metric_name="RootAccountUsage",
        security_hub="CloudWatch.1",
        cis={"v1.2": "1.1, 3.3", "v1.4": "1.7, 4.3", "v3.0": "4.3"},
        patterns=dict.fromkeys(
            PROFILES,
            '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
        ),
        alarms=_cis(),
        examples=(
            Example("root signs in to the console", console_login(ROOT), True),
            Example("root calls an API", ct("CreateUser", "iam.amazonaws.com", ROOT), True),
            Example(
                "an AWS service acts as root",
                ct("CreateServiceLinkedRole", "iam.amazonaws.com", {**ROOT, "invokedBy": "support.amazonaws.com"}),
                False,
            ),
            Example(
                "an AWS service event about the root user",
                ct("AssumeRole", "sts.amazonaws.com", ROOT, eventType="AwsServiceEvent"),
                False,
            ),
            Example("an IAM user signs in", console_login(IAM_USER), False),
        ),
    ),
    Detection(
        id="unauthorized-api-calls",
        title="Unauthorized API calls",
        why="Denied calls reveal probing with stolen credentials, or permissions that broke an application.",
        severity="medium",
        metric_name="UnauthorizedAPICalls",
        security_hub="CloudWatch.2",
        cis={"v1.2": "3.1", "v1.4": "4.1", "v3.0": "4.1"},
        patterns={
            "cis": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
            # Log delivery and bucket existence probes are denied all day long by design.
            "recommended": '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
            '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        },
        alarms={"cis": AlarmSpec(), "recommended": AlarmSpec(threshold=5)},
        examples=(
            Example(
                "EC2 call without permission",
                ct("RunInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation"),
                True,
            ),
            Example("S3 access denied", ct("GetObject", "s3.amazonaws.com", errorCode="AccessDenied"), True),
            Example(
                "log delivery denied by a bucket policy",
                ct(
                    "PutObject",
                    "s3.amazonaws.com",
                    errorCode="AccessDenied",
                    sourceIPAddress="delivery.logs.amazonaws.com",
                ),
                {"cis": True, "recommended": False},
            ),
            Example(
                "a tool checks whether a bucket exists",
                ct("HeadBucket", "s3.amazonaws.com", errorCode="AccessDenied"),
                {"cis": True, "recommended": False},
            ),
            Example("a successful call", ct("RunInstances", "ec2.amazonaws.com"), False),
            Example(
                "throttled, not denied", ct("DescribeInstances", "ec2.amazonaws.com", errorCode="Throttling"), False
            ),
        ),
    ),
    Detection(
        id="console-sign-in-without-mfa",
        title="Console sign-in without MFA",
        why="A password alone protects the account; a phished or reused password is enough to get in.",
        severity="medium",
        metric_name="ConsoleSignInWithoutMFA",
        security_hub="CloudWatch.3",
        cis={"v1.2": "3.2", "v1.4": "4.2", "v3.0": "4.2"},
        patterns={
            "cis": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
            '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
            # AWS writes "YES" as well as "Yes"; root counts too; a missing MFAUsed is treated as no MFA.
            # SAML and Identity Center sign-ins are AssumedRole: their MFA happens at the identity provider.
            "recommended": '{ ($.eventName = "ConsoleLogin") && ($.responseElements.ConsoleLogin = "Success") && '
            '(($.userIdentity.type = "IAMUser") || ($.userIdentity.type = "Root")) && '
            "(($.additionalEventData.MFAUsed NOT EXISTS) || "
            '(($.additionalEventData.MFAUsed != "Yes") && ($.additionalEventData.MFAUsed != "YES"))) }',
        },
        alarms=_cis(),
        examples=(
            Example("IAM user with a password only", console_login(IAM_USER, mfa="No"), True),
            Example("IAM user with MFA", console_login(IAM_USER, mfa="Yes"), False),
            Example(
                "IAM user with MFA, written YES",
                console_login(IAM_USER, mfa="YES"),
                {"cis": True, "recommended": False},
            ),
            Example("root with a password only", console_login(ROOT, mfa="No"), {"cis": False, "recommended": True}),
            Example("SAML sign-in (MFA at the identity provider)", console_login(SAML_USER, mfa="No"), False),
            Example(
                "IAM user sign-in with no MFAUsed field",
                console_login(IAM_USER, mfa=None),
                {"cis": False, "recommended": True},
            ),
            Example("failed sign-in without MFA", console_login(IAM_USER, outcome="Failure", mfa="No"), False),
        ),
    ),
    Detection(
        id="iam-policy-changes",
        title="IAM policy changes",
        why="Changed policies change who can do what; an attacker's first step after access is often to widen it.",
        severity="medium",
        metric_name="IAMPolicyChanges",
        security_hub="CloudWatch.4",
        cis={"v1.2": "3.4", "v1.4": "4.4", "v3.0": "4.4"},
        patterns={
            "cis": "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
            "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || "
            "($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || "
            "($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
            "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || "
            "($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || "
            "($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
            "($.eventName=DetachGroupPolicy)}",
            # Auto Scaling's DeletePolicy shares the name; only IAM's counts.
            "recommended": _either(
                "DeleteGroupPolicy",
                "DeleteRolePolicy",
                "DeleteUserPolicy",
                "PutGroupPolicy",
                "PutRolePolicy",
                "PutUserPolicy",
                "CreatePolicy",
                "DeletePolicy",
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "SetDefaultPolicyVersion",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "AttachUserPolicy",
                "DetachUserPolicy",
                "AttachGroupPolicy",
                "DetachGroupPolicy",
                source="iam.amazonaws.com",
                quoted=False,
            ),
        },
        alarms=_cis(),
        examples=(
            Example("inline policy put on a role", ct("PutRolePolicy", "iam.amazonaws.com"), True),
            Example("managed policy attached to a user", ct("AttachUserPolicy", "iam.amazonaws.com"), True),
            Example(
                "Auto Scaling deletes a scaling policy",
                ct("DeletePolicy", "autoscaling.amazonaws.com"),
                {"cis": True, "recommended": False},
            ),
            Example("policy listed", ct("ListPolicies", "iam.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="cloudtrail-changes",
        title="CloudTrail configuration changes",
        why="Stopping or changing a trail blinds every other detection here.",
        severity="high",
        metric_name="CloudTrailChanges",
        security_hub="CloudWatch.5",
        cis={"v1.2": "3.5", "v1.4": "4.5", "v3.0": "4.5"},
        patterns={
            "cis": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
            "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
            "recommended": _either(
                "CreateTrail",
                "UpdateTrail",
                "DeleteTrail",
                "StartLogging",
                "StopLogging",
                "PutEventSelectors",
                source="cloudtrail.amazonaws.com",
                quoted=False,
            ),
        },
        alarms=_cis(),
        examples=(
            Example("logging stopped", ct("StopLogging", "cloudtrail.amazonaws.com"), True),
            Example(
                "event selectors narrowed",
                ct("PutEventSelectors", "cloudtrail.amazonaws.com"),
                {"cis": False, "recommended": True},
            ),
            Example("trail described", ct("DescribeTrails", "cloudtrail.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="console-authentication-failures",
        title="Console authentication failures",
        why="Failed sign-ins may be someone guessing a password.",
        severity="low",
        metric_name="ConsoleAuthenticationFailures",
        security_hub="CloudWatch.6",
        cis={"v1.2": "3.6", "v1.4": "4.6", "v3.0": "4.6"},
        # In the recommended profile the failed-console-sign-ins burst alarm takes this role.
        patterns={"cis": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}'},
        alarms={"cis": AlarmSpec()},
        examples=(
            Example("wrong password", console_login(IAM_USER, outcome="Failure"), True),
            Example(
                "unknown user name",
                console_login(
                    {**IAM_USER, "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                    outcome="Failure",
                    errorMessage="No username found in supplied account",
                ),
                False,
            ),
            Example("successful sign-in", console_login(IAM_USER), False),
        ),
    ),
    Detection(
        id="kms-key-disable-or-deletion",
        title="Customer managed KMS key disabled or scheduled for deletion",
        why="Data encrypted under a disabled or deleted key can no longer be read.",
        severity="high",
        metric_name="DisableOrDeleteCMK",
        security_hub="CloudWatch.7",
        cis={"v1.2": "3.7", "v1.4": "4.7", "v3.0": "4.7"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
        ),
        alarms=_cis(),
        examples=(
            Example("key deletion scheduled", ct("ScheduleKeyDeletion", "kms.amazonaws.com"), True),
            Example("key disabled", ct("DisableKey", "kms.amazonaws.com"), True),
            Example("key enabled", ct("EnableKey", "kms.amazonaws.com"), False),
        ),
    ),
    Detection(
        id="s3-bucket-policy-changes",
        title="S3 bucket policy and access changes",
        why="A changed bucket policy or ACL can expose data to the internet or another account.",
        severity="medium",
        metric_name="S3BucketPolicyChanges",
        security_hub="CloudWatch.8",
        cis={"v1.2": "3.8", "v1.4": "4.8", "v3.0": "4.8"},
        patterns={
            "cis": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || "
            "($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || "
            "($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
            "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
            "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
            "recommended": _either(
                "PutBucketAcl",
                "PutBucketPolicy",
                "PutBucketCors",
                "PutBucketLifecycle",
                "PutBucketReplication",
                "DeleteBucketPolicy",
                "DeleteBucketCors",
                "DeleteBucketLifecycle",
                "DeleteBucketReplication",
                "PutBucketPublicAccessBlock",
                "DeleteBucketPublicAccessBlock",
                source="s3.amazonaws.com",
                quoted=False,
            ),
        },
        alarms=_cis(),
        examples=(
            Example("bucket policy replaced", ct("PutBucketPolicy", "s3.amazonaws.com"), True),
            Example(
                "public access block removed",
                ct("DeleteBucketPublicAccessBlock", "s3.amazonaws.com"),
                {"cis": False, "recommended": True},
            ),
            Example("object uploaded", ct("PutObject", "s3.amazonaws.com"), False),
        ),
    ),
    Detection(
        id="config-changes",
        title="AWS Config changes",
        why="Stopping the recorder hides configuration drift from every compliance check.",
        severity="medium",
        metric_name="AWSConfigChanges",
        security_hub="CloudWatch.9",
        cis={"v1.2": "3.9", "v1.4": "4.9", "v3.0": "4.9"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
            "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
            "($.eventName=PutConfigurationRecorder))}",
        ),
        alarms=_cis(),
        examples=(
            Example("recorder stopped", ct("StopConfigurationRecorder", "config.amazonaws.com"), True),
            Example("rule evaluated", ct("PutEvaluations", "config.amazonaws.com"), False),
        ),
    ),
    Detection(
        id="security-group-changes",
        title="Security group changes",
        why="A new rule can open a port to the internet.",
        severity="medium",
        metric_name="SecurityGroupChanges",
        security_hub="CloudWatch.10",
        cis={"v1.2": "3.10", "v1.4": "4.10", "v3.0": "4.10"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
            "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
            "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
        ),
        alarms=_cis(),
        examples=(
            Example("ingress opened", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com"), True),
            Example("groups described", ct("DescribeSecurityGroups", "ec2.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="nacl-changes",
        title="Network ACL changes",
        why="NACLs filter whole subnets; a changed entry can expose or cut off everything in them.",
        severity="low",
        metric_name="NetworkACLChanges",
        security_hub="CloudWatch.11",
        cis={"v1.2": "3.11", "v1.4": "4.11", "v3.0": "4.11"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) "
            "|| ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
            "($.eventName=ReplaceNetworkAclAssociation)}",
        ),
        alarms=_cis(),
        examples=(
            Example("entry replaced", ct("ReplaceNetworkAclEntry", "ec2.amazonaws.com"), True),
            Example("ACLs described", ct("DescribeNetworkAcls", "ec2.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="network-gateway-changes",
        title="Network gateway changes",
        why="A new or moved gateway creates a path in or out of a VPC.",
        severity="medium",
        metric_name="NetworkGatewayChanges",
        security_hub="CloudWatch.12",
        cis={"v1.2": "3.12", "v1.4": "4.12", "v3.0": "4.12"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
            "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
            "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
        ),
        alarms=_cis(),
        examples=(
            Example("internet gateway attached", ct("AttachInternetGateway", "ec2.amazonaws.com"), True),
            Example("NAT gateway created", ct("CreateNatGateway", "ec2.amazonaws.com"), False),
        ),
    ),
    Detection(
        id="route-table-changes",
        title="Route table changes",
        why="Changed routes can send traffic through an unexpected path.",
        severity="low",
        metric_name="RouteTableChanges",
        security_hub="CloudWatch.13",
        cis={"v1.2": "3.13", "v1.4": "4.13", "v3.0": "4.13"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
            "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) "
            "|| ($.eventName=DisassociateRouteTable)}",
        ),
        alarms=_cis(),
        examples=(
            Example("route replaced", ct("ReplaceRoute", "ec2.amazonaws.com"), True),
            Example("routes described", ct("DescribeRouteTables", "ec2.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="vpc-changes",
        title="VPC changes",
        why="New VPCs and peering connections change what can reach what.",
        severity="low",
        metric_name="VPCChanges",
        security_hub="CloudWatch.14",
        cis={"v1.2": "3.14", "v1.4": "4.14", "v3.0": "4.14"},
        patterns=dict.fromkeys(
            PROFILES,
            "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
            "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
            "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
            "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
            "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
        ),
        alarms=_cis(),
        examples=(
            Example("peering accepted", ct("AcceptVpcPeeringConnection", "ec2.amazonaws.com"), True),
            Example("subnet created", ct("CreateSubnet", "ec2.amazonaws.com"), False),
        ),
    ),
    Detection(
        id="organizations-changes",
        title="AWS Organizations changes",
        why="Accounts joining or leaving, and changed SCPs, alter the guardrails of every account.",
        severity="high",
        metric_name="OrganizationsChanges",
        cis={"v1.4": "4.15", "v3.0": "4.15"},
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
            '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
            '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
            '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
            '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
            '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
            '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || '
            '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
            '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
            '($.eventName = "UpdateOrganizationalUnit")) }',
        ),
        alarms=_cis(),
        examples=(
            Example("SCP detached", ct("DetachPolicy", "organizations.amazonaws.com"), True),
            Example("account left", ct("LeaveOrganization", "organizations.amazonaws.com"), True),
            Example("IAM DetachPolicy is not an Organizations change", ct("DetachPolicy", "iam.amazonaws.com"), False),
            Example("accounts listed", ct("ListAccounts", "organizations.amazonaws.com", readOnly=True), False),
        ),
    ),
    # ---------------------------------------------------------- sign-in detections
    Detection(
        id="failed-console-sign-ins",
        title="Repeated failed console sign-ins",
        why="Several failures in a short time look like password guessing against the console.",
        severity="medium",
        metric_name="ConsoleSignInFailures",
        references=(
            "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
        ),
        patterns=dict.fromkeys(
            PROFILES, '{ ($.eventName = "ConsoleLogin") && ($.responseElements.ConsoleLogin = "Failure") }'
        ),
        # Threshold and window come from failedSignInThreshold / failedSignInWindowSeconds.
        alarms=dict.fromkeys(PROFILES, AlarmSpec(period=900, threshold=5)),
        examples=(
            Example("wrong password", console_login(IAM_USER, outcome="Failure"), True),
            Example(
                "unknown user name",
                console_login({**IAM_USER, "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}, outcome="Failure"),
                True,
            ),
            Example("successful sign-in", console_login(IAM_USER), False),
            Example(
                "failed switch role is not a console sign-in",
                ct("SwitchRole", "signin.amazonaws.com", responseElements={"SwitchRole": "Failure"}),
                False,
            ),
        ),
    ),
    Detection(
        id="root-console-sign-in",
        title="Root user console sign-in",
        why="Signing in as root should be rare and planned; each one deserves a mail even when it succeeds.",
        severity="high",
        metric_name="RootConsoleSignIn",
        patterns={"recommended": '{ ($.eventName = "ConsoleLogin") && ($.userIdentity.type = "Root") }'},
        alarms={"recommended": AlarmSpec()},
        examples=(
            Example("root signs in", console_login(ROOT), True),
            Example("root fails to sign in", console_login(ROOT, outcome="Failure"), True),
            Example("IAM user signs in", console_login(IAM_USER), False),
            Example("root calls an API", ct("CreateUser", "iam.amazonaws.com", ROOT), False),
        ),
    ),
    Detection(
        id="sign-ins-for-unknown-users",
        title="Sign-in attempts for user names that do not exist",
        why="Guessing user names across accounts is the signature of password spraying.",
        severity="medium",
        metric_name="SignInsForUnknownUsers",
        patterns={
            "recommended": '{ ($.eventName = "ConsoleLogin") && '
            '($.userIdentity.userName = "HIDDEN_DUE_TO_SECURITY_REASONS") }'
        },
        alarms={"recommended": AlarmSpec(period=900, threshold=3)},
        examples=(
            Example(
                "unknown user name",
                console_login({**IAM_USER, "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}, outcome="Failure"),
                True,
            ),
            Example("known user, wrong password", console_login(IAM_USER, outcome="Failure"), False),
        ),
    ),
    Detection(
        id="identity-center-credential-failures",
        title="IAM Identity Center credential failures",
        why="Repeated failed passwords or MFA codes at the Identity Center portal look like an attack on SSO users.",
        severity="medium",
        metric_name="IdentityCenterCredentialFailures",
        patterns={
            "recommended": '{ ($.eventSource = "signin.amazonaws.com") && ($.eventName = "CredentialVerification") && '
            '(($.serviceEventDetails.CredentialVerification = "Failure") || '
            '($.responseElements.CredentialVerification = "Failure")) }'
        },
        alarms={"recommended": AlarmSpec(period=900, threshold=5)},
        examples=(
            Example(
                "wrong password at the portal",
                ct(
                    "CredentialVerification",
                    "signin.amazonaws.com",
                    {"type": "IdentityCenterUser", "accountId": ACCOUNT},
                    eventType="AwsServiceEvent",
                    serviceEventDetails={"CredentialVerification": "Failure"},
                    additionalEventData={"CredentialType": "PASSWORD"},
                ),
                True,
            ),
            Example(
                "password accepted",
                ct(
                    "CredentialVerification",
                    "signin.amazonaws.com",
                    {"type": "IdentityCenterUser", "accountId": ACCOUNT},
                    serviceEventDetails={"CredentialVerification": "Success"},
                ),
                False,
            ),
        ),
    ),
    Detection(
        id="access-key-changes",
        title="Access key created or reactivated",
        why="Access keys are long-lived credentials; a new one is a classic way to keep access.",
        severity="medium",
        metric_name="AccessKeyChanges",
        patterns={"recommended": _either("CreateAccessKey", "UpdateAccessKey", source='"iam.amazonaws.com"')},
        alarms={"recommended": AlarmSpec()},
        examples=(
            Example("key created", ct("CreateAccessKey", "iam.amazonaws.com"), True),
            Example("key reactivated", ct("UpdateAccessKey", "iam.amazonaws.com"), True),
            Example("keys listed", ct("ListAccessKeys", "iam.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="privileged-group-changes",
        title="Membership changes of privileged IAM groups",
        why="Adding a user to an administrators group grants everything that group can do.",
        severity="high",
        metric_name="PrivilegedGroupChanges",
        patterns={
            "recommended": '{ ($.eventSource = "iam.amazonaws.com") && (($.eventName = "AddUserToGroup") || '
            f'($.eventName = "RemoveUserFromGroup")) && ({PRIVILEGED_GROUPS_MARKER}) }}'
        },
        alarms={"recommended": AlarmSpec()},
        examples=(
            Example(
                "user added to Administrators",
                ct("AddUserToGroup", "iam.amazonaws.com", requestParameters={"groupName": "Administrators"}),
                True,
            ),
            Example(
                "user added to an ordinary group",
                ct("AddUserToGroup", "iam.amazonaws.com", requestParameters={"groupName": "Developers"}),
                False,
            ),
        ),
    ),
    # ---------------------------------------------------------- account takeover and persistence
    # What an intruder does next: lock the owner out, keep a way back in, switch the watchers off.
    # A filter pattern cannot compare two fields of an event ("someone other than the device's user"):
    # these patterns count every candidate, and the alarm mail compares actor and target per event.
    Detection(
        id="mfa-device-removed",
        title="MFA device deactivated, deleted or resynchronised",
        why="Removing or replacing MFA lets whoever holds the password keep the account and lock its owner out.",
        severity="high",
        metric_name="MFADeviceRemoved",
        references=(
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html",
            "https://docs.aws.amazon.com/singlesignon/latest/userguide/logging-using-cloudtrail.html",
        ),
        # Successful calls only: a denied attempt is counted by unauthorized-api-calls.
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.errorCode NOT EXISTS) && ((($.eventSource = "iam.amazonaws.com") && '
            '(($.eventName = "DeactivateMFADevice") || ($.eventName = "DeleteVirtualMFADevice") || '
            '($.eventName = "ResyncMFADevice") || (($.userIdentity.type = "Root") && '
            '(($.eventName = "EnableMFADevice") || ($.eventName = "CreateVirtualMFADevice"))))) || '
            '(($.eventSource = "sso-directory.amazonaws.com") && ($.eventName = "DeleteMfaDeviceForUser"))) }',
        ),
        alarms=_cis(),
        sign_in_context=True,
        peers=("Elastic: AWS IAM Deactivation of MFA Device",),
        examples=(
            Example(
                "an admin deactivates another user's MFA device",
                ct(
                    "DeactivateMFADevice",
                    "iam.amazonaws.com",
                    requestParameters={"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob"},
                ),
                True,
            ),
            Example(
                "a user deactivates their own device (the mail says so)",
                ct(
                    "DeactivateMFADevice",
                    "iam.amazonaws.com",
                    IAM_USER,
                    requestParameters={"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob"},
                ),
                True,
            ),
            Example(
                "a virtual MFA device deleted",
                ct(
                    "DeleteVirtualMFADevice",
                    "iam.amazonaws.com",
                    requestParameters={"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob"},
                ),
                True,
            ),
            Example(
                "root registers a new MFA device for itself",
                ct(
                    "EnableMFADevice",
                    "iam.amazonaws.com",
                    ROOT,
                    requestParameters={"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"},
                ),
                True,
            ),
            Example(
                "an Identity Center user's MFA device deleted",
                ct(
                    "DeleteMfaDeviceForUser",
                    "sso-directory.amazonaws.com",
                    requestParameters={"directoryId": "d-9067230000", "userId": "906723a1b2-c3d4"},
                ),
                True,
            ),
            Example(
                "a user enrols an MFA device",
                ct(
                    "EnableMFADevice",
                    "iam.amazonaws.com",
                    IAM_USER,
                    requestParameters={"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob"},
                ),
                False,
            ),
            Example(
                "a denied attempt",
                ct(
                    "DeactivateMFADevice",
                    "iam.amazonaws.com",
                    requestParameters={"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob"},
                    errorCode="AccessDenied",
                ),
                False,
            ),
            Example("MFA devices listed", ct("ListMFADevices", "iam.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="console-password-for-another-user",
        title="Console password created, reset or removed for another IAM user",
        why="A password set on someone else's (or a dormant) IAM user is a console login the intruder owns.",
        severity="high",
        metric_name="ConsolePasswordForAnotherUser",
        references=("https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html",),
        # Expressible here: an actor that is not an IAM user can only act on someone else, and an IAM
        # user naming no userName acts on itself. An IAM user naming a user is compared in the mail.
        # A user changing their own password calls ChangePassword, which is not counted.
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.eventSource = "iam.amazonaws.com") && (($.eventName = "CreateLoginProfile") || '
            '($.eventName = "UpdateLoginProfile") || ($.eventName = "DeleteLoginProfile")) && '
            '($.errorCode NOT EXISTS) && (($.userIdentity.type != "IAMUser") || '
            '($.requestParameters.userName = "*")) }',
        ),
        alarms=_cis(),
        sign_in_context=True,
        peers=(
            "Panther: AWS User Login Profile Created or Modified",
            "Sigma: AWS User Login Profile Was Modified",
        ),
        examples=(
            Example(
                "an admin gives a new user a console password",
                ct(
                    "CreateLoginProfile",
                    "iam.amazonaws.com",
                    requestParameters={"userName": "mallory-backup", "passwordResetRequired": False},
                    responseElements={
                        "loginProfile": {
                            "userName": "mallory-backup",
                            "createDate": "May 1, 2024 10:00:00 AM",
                            "passwordResetRequired": False,
                        }
                    },
                ),
                True,
            ),
            Example(
                "an IAM user resets another user's password",
                ct(
                    "UpdateLoginProfile",
                    "iam.amazonaws.com",
                    IAM_USER,
                    requestParameters={"userName": "carol", "passwordResetRequired": False},
                ),
                True,
            ),
            Example(
                "root removes a user's console password",
                ct("DeleteLoginProfile", "iam.amazonaws.com", ROOT, requestParameters={"userName": "carol"}),
                True,
            ),
            Example(
                "a user changes their own password",
                ct("ChangePassword", "iam.amazonaws.com", IAM_USER, requestParameters=None),
                False,
            ),
            Example(
                "an IAM user creates its own login profile (no userName: itself)",
                ct("CreateLoginProfile", "iam.amazonaws.com", IAM_USER, requestParameters={}),
                False,
            ),
            Example(
                "a denied reset",
                ct(
                    "UpdateLoginProfile",
                    "iam.amazonaws.com",
                    requestParameters={"userName": "carol"},
                    errorCode="AccessDenied",
                ),
                False,
            ),
        ),
    ),
    Detection(
        id="root-credentials-changed",
        title="Root user password, email, access key or signing certificate changed",
        why="Whoever changes the root user's password, email or keys owns the account beyond any IAM policy.",
        severity="high",
        metric_name="RootCredentialsChanged",
        references=(
            "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html",
        ),
        # Password changes and recovery are sign-in events (eventType AwsConsoleSignIn) of the root user.
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.userIdentity.type = "Root") && ((($.eventSource = "signin.amazonaws.com") && '
            '(($.eventName = "PasswordUpdated") || ($.eventName = "PasswordRecoveryRequested") || '
            '($.eventName = "PasswordRecoveryCompleted") || ($.eventName = "EmailUpdated"))) || '
            '(($.eventSource = "iam.amazonaws.com") && ($.errorCode NOT EXISTS) && '
            '(($.eventName = "CreateAccessKey") || ($.eventName = "UploadSigningCertificate")))) }',
        ),
        alarms=_cis(),
        sign_in_context=True,
        peers=(
            "Panther: Root Password Changed",
            "Elastic: AWS Sign-In Root Password Recovery Requested",
            "Datadog: Password recovery request completed",
            "GuardDuty: Policy:IAMUser/RootCredentialUsage (any root API use)",
        ),
        examples=(
            Example(
                "root changes its password",
                ct(
                    "PasswordUpdated",
                    "signin.amazonaws.com",
                    ROOT,
                    eventType="AwsConsoleSignIn",
                    requestParameters=None,
                    responseElements={"PasswordUpdated": "Success"},
                    userAgent="Mozilla/5.0",
                ),
                True,
            ),
            Example(
                "someone asks to recover the root password",
                ct(
                    "PasswordRecoveryRequested",
                    "signin.amazonaws.com",
                    ROOT,
                    eventType="AwsConsoleSignIn",
                    requestParameters=None,
                    responseElements={"PasswordRecoveryRequested": "Success"},
                    userAgent="Mozilla/5.0",
                ),
                True,
            ),
            Example("root creates an access key", ct("CreateAccessKey", "iam.amazonaws.com", ROOT), True),
            Example(
                "root uploads a signing certificate",
                ct("UploadSigningCertificate", "iam.amazonaws.com", ROOT, requestParameters={}),
                True,
            ),
            Example("root signs in", console_login(ROOT), False),
            Example(
                "an IAM user creates an access key",
                ct("CreateAccessKey", "iam.amazonaws.com", IAM_USER, requestParameters={"userName": "bob"}),
                False,
            ),
            Example(
                "an IAM user changes their password",
                ct("ChangePassword", "iam.amazonaws.com", IAM_USER, requestParameters=None),
                False,
            ),
        ),
    ),
    Detection(
        id="identity-provider-or-role-trust",
        title="Identity provider added or role trust opened to other accounts",
        why="A new SAML or OIDC provider, or a role trusting another account or anyone, is a way back in "
        "that survives every password reset.",
        severity="high",
        metric_name="IdentityProviderOrRoleTrustChanges",
        references=("https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html",),
        # policyDocument is the trust policy as a JSON string; a filter sees only its text. "AWS" (upper
        # case) appears in a trust policy only as the key of an AWS principal (an account, a role, a
        # user or "*"); a document naming no Service and no Federated principal can only trust "*".
        # Whether the accounts are outside this one is decided in the mail. IAM Identity Center updates
        # its own SAML providers from sso.amazonaws.com.
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.eventSource = "iam.amazonaws.com") && ($.errorCode NOT EXISTS) && '
            '((($.sourceIPAddress != "sso.amazonaws.com") && (($.eventName = "CreateSAMLProvider") || '
            '($.eventName = "UpdateSAMLProvider"))) || ($.eventName = "CreateOpenIDConnectProvider") || '
            '($.eventName = "AddClientIDToOpenIDConnectProvider") || '
            '($.eventName = "UpdateOpenIDConnectProviderThumbprint") || (($.eventName = "UpdateAssumeRolePolicy") '
            '&& (($.requestParameters.policyDocument NOT EXISTS) || ($.requestParameters.policyDocument = "*AWS*") '
            '|| (($.requestParameters.policyDocument != "*Service*") && '
            '($.requestParameters.policyDocument != "*Federated*"))))) }',
        ),
        alarms=_cis(),
        sign_in_context=True,
        peers=("Elastic: AWS IAM SAML Provider Updated",),
        examples=(
            Example(
                "a SAML provider added",
                ct(
                    "CreateSAMLProvider",
                    "iam.amazonaws.com",
                    requestParameters={"name": "okta-new", "sAMLMetadataDocument": "<EntityDescriptor/>"},
                    responseElements={"sAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta-new"},
                ),
                True,
            ),
            Example(
                "an OIDC provider added",
                ct(
                    "CreateOpenIDConnectProvider",
                    "iam.amazonaws.com",
                    requestParameters={
                        "url": "https://token.actions.githubusercontent.com",
                        "clientIDList": ["sts.amazonaws.com"],
                    },
                ),
                True,
            ),
            Example(
                "a role now trusts an outside account",
                ct(
                    "UpdateAssumeRolePolicy",
                    "iam.amazonaws.com",
                    requestParameters={
                        "roleName": "Deploy",
                        "policyDocument": trust_policy("arn:aws:iam::999988887777:root"),
                    },
                ),
                True,
            ),
            Example(
                "a role now trusts any principal, written as a bare *",
                ct(
                    "UpdateAssumeRolePolicy",
                    "iam.amazonaws.com",
                    requestParameters={"roleName": "Deploy", "policyDocument": trust_policy("*", key=None)},
                ),
                True,
            ),
            Example(
                "a role now trusts a service only",
                ct(
                    "UpdateAssumeRolePolicy",
                    "iam.amazonaws.com",
                    requestParameters={
                        "roleName": "LambdaRole",
                        "policyDocument": trust_policy("lambda.amazonaws.com", key="Service"),
                    },
                ),
                False,
            ),
            Example(
                "IAM Identity Center refreshes its own SAML provider",
                ct(
                    "UpdateSAMLProvider",
                    "iam.amazonaws.com",
                    sourceIPAddress="sso.amazonaws.com",
                    userAgent="sso.amazonaws.com",
                    requestParameters={
                        "sAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_abc_DO_NOT_DELETE"
                    },
                ),
                False,
            ),
            Example("providers listed", ct("ListSAMLProviders", "iam.amazonaws.com", readOnly=True), False),
        ),
    ),
    Detection(
        id="security-services-disabled",
        title="GuardDuty, Security Hub, Access Analyzer, Config or this monitoring switched off",
        why="Switching off the services that would report an intrusion is what an intruder does before the rest.",
        severity="high",
        metric_name="SecurityServicesDisabled",
        references=("https://docs.aws.amazon.com/guardduty/latest/ug/logging-using-cloudtrail.html",),
        # Trails and the Config recorder's stop are CloudWatch.5 and CloudWatch.9; these are the rest,
        # including this monitoring's own subscription and metric filters and alarm actions.
        patterns=dict.fromkeys(
            PROFILES,
            '{ ($.errorCode NOT EXISTS) && ((($.eventSource = "guardduty.amazonaws.com") && '
            '(($.eventName = "DeleteDetector") || (($.eventName = "UpdateDetector") && '
            '($.requestParameters.enable IS FALSE)) || ($.eventName = "DisassociateFromAdministratorAccount") || '
            '($.eventName = "DisassociateFromMasterAccount"))) || (($.eventSource = "securityhub.amazonaws.com") '
            '&& (($.eventName = "DisableSecurityHub") || ($.eventName = "BatchDisableStandards"))) || '
            '(($.eventSource = "access-analyzer.amazonaws.com") && ($.eventName = "DeleteAnalyzer")) || '
            '(($.eventSource = "config.amazonaws.com") && ($.eventName = "DeleteConfigurationRecorder")) || '
            '(($.eventSource = "logs.amazonaws.com") && (($.eventName = "DeleteSubscriptionFilter") || '
            '($.eventName = "DeleteMetricFilter"))) || (($.eventSource = "monitoring.amazonaws.com") && '
            '($.eventName = "DisableAlarmActions"))) }',
        ),
        alarms=_cis(),
        sign_in_context=True,
        peers=("Elastic: AWS GuardDuty Detector Deletion", "Datadog: AWS GuardDuty detector deleted"),
        examples=(
            Example(
                "GuardDuty detector deleted",
                ct(
                    "DeleteDetector",
                    "guardduty.amazonaws.com",
                    requestParameters={"detectorId": "12abc34d567e8fa901bc2d34e56789f0"},
                ),
                True,
            ),
            Example(
                "GuardDuty detector suspended",
                ct(
                    "UpdateDetector",
                    "guardduty.amazonaws.com",
                    requestParameters={"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "enable": False},
                ),
                True,
            ),
            Example("Security Hub disabled", ct("DisableSecurityHub", "securityhub.amazonaws.com"), True),
            Example(
                "Access Analyzer deleted",
                ct("DeleteAnalyzer", "access-analyzer.amazonaws.com", requestParameters={"analyzerName": "org"}),
                True,
            ),
            Example(
                "Config recorder deleted",
                ct(
                    "DeleteConfigurationRecorder",
                    "config.amazonaws.com",
                    requestParameters={"configurationRecorderName": "default"},
                ),
                True,
            ),
            Example(
                "the sign-in subscription filter deleted",
                ct(
                    "DeleteSubscriptionFilter",
                    "logs.amazonaws.com",
                    requestParameters={"logGroupName": "aws-cloudtrail-logs", "filterName": "sign-ins"},
                ),
                True,
            ),
            Example(
                "GuardDuty finding frequency changed",
                ct(
                    "UpdateDetector",
                    "guardduty.amazonaws.com",
                    requestParameters={
                        "detectorId": "12abc34d567e8fa901bc2d34e56789f0",
                        "findingPublishingFrequency": "SIX_HOURS",
                    },
                ),
                False,
            ),
            Example(
                "Config recorder stopped (CloudWatch.9 counts it)",
                ct("StopConfigurationRecorder", "config.amazonaws.com"),
                False,
            ),
            Example(
                "a denied attempt",
                ct("DisableSecurityHub", "securityhub.amazonaws.com", errorCode="AccessDeniedException"),
                False,
            ),
        ),
    ),
)

BY_ID: dict[str, Detection] = {detection.id: detection for detection in CATALOG}
