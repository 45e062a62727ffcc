"""Every detection ships with events that must match and events that must not; all run here."""

from __future__ import annotations

import pytest

from detections.catalog import BY_ID, CATALOG, PROFILES
from detections.pattern import compile_pattern
from detections.profiles import resolve_detections

CASES = [
    pytest.param(detection, profile, example, id=f"{profile}:{detection.id}:{example.description}")
    for detection in CATALOG
    for profile in detection.profiles
    for example in detection.examples
]


@pytest.mark.parametrize(("detection", "profile", "example"), CASES)
def test_every_example_event(detection, profile, example):
    enabled = {item.id: item for item in resolve_detections(profile)}
    compiled = enabled[detection.id].compiled
    assert compiled.matches(example.event) is example.expected(profile)


@pytest.mark.parametrize("detection", CATALOG, ids=lambda d: d.id)
def test_every_detection_has_matching_and_non_matching_examples_in_each_profile(detection):
    assert detection.profiles, f"{detection.id} belongs to no profile"
    for profile in detection.profiles:
        outcomes = {example.expected(profile) for example in detection.examples}
        assert outcomes == {True, False}, f"{detection.id} in {profile}: needs both kinds of example"


@pytest.mark.parametrize("detection", CATALOG, ids=lambda d: d.id)
def test_catalog_entries_are_complete(detection):
    assert detection.title and len(detection.why) > 20
    assert detection.severity in ("low", "medium", "high")
    assert detection.metric_name.isalnum()
    assert set(detection.alarms) == set(detection.patterns)
    for pattern in detection.patterns.values():
        assert len(pattern) <= 1024
    assert detection.security_hub is None or detection.cis


def test_ids_and_metric_names_are_unique():
    assert len(BY_ID) == len(CATALOG)
    assert len({d.metric_name for d in CATALOG}) == len(CATALOG)


# The Security Hub CloudWatch.1-14 filter patterns, copied from the Security Hub user guide.
# Security Hub fails the control if a single character differs.
SECURITY_HUB_TEXT = {
    "CloudWatch.1": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',  # noqa: E501
    "CloudWatch.2": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "CloudWatch.3": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',  # noqa: E501
    "CloudWatch.4": "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",  # noqa: E501
    "CloudWatch.5": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",  # noqa: E501
    "CloudWatch.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "CloudWatch.7": "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",  # noqa: E501
    "CloudWatch.8": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",  # noqa: E501
    "CloudWatch.9": "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",  # noqa: E501
    "CloudWatch.10": "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",  # noqa: E501
    "CloudWatch.11": "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",  # noqa: E501
    "CloudWatch.12": "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",  # noqa: E501
    "CloudWatch.13": "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",  # noqa: E501
    "CloudWatch.14": "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",  # noqa: E501
}
CIS_4_15 = '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'  # noqa: E501


def test_cis_profile_deploys_the_security_hub_text_character_for_character():
    deployed = {item.detection.security_hub: item.pattern for item in resolve_detections("cis")}
    for control, text in SECURITY_HUB_TEXT.items():
        assert deployed[control] == text, control
    assert {item.id: item.pattern for item in resolve_detections("cis")}["organizations-changes"] == CIS_4_15


def test_cis_profile_alarms_fire_on_the_first_event():
    for item in resolve_detections("cis"):
        if item.detection.security_hub:
            assert (item.alarm.threshold, item.alarm.comparison) == (1, "GreaterThanOrEqualToThreshold"), item.id


def test_profiles_hold_what_they_promise():
    cis = {item.id for item in resolve_detections("cis")}
    recommended = {item.id for item in resolve_detections("recommended")}
    security_hub = {d.id for d in CATALOG if d.security_hub}
    assert security_hub <= cis and "organizations-changes" in cis and "failed-console-sign-ins" in cis
    assert {
        "root-console-sign-in",
        "sign-ins-for-unknown-users",
        "identity-center-credential-failures",
        "access-key-changes",
        "privileged-group-changes",
        "failed-console-sign-ins",
    } <= recommended
    assert "console-authentication-failures" not in recommended  # failed-console-sign-ins does its job
    takeover = {
        "mfa-device-removed",
        "console-password-for-another-user",
        "root-credentials-changed",
        "identity-provider-or-role-trust",
        "security-services-disabled",
    }
    # No CIS control covers them; filters of their own leave the pinned Security Hub text alone.
    assert takeover <= cis and takeover <= recommended
    assert set(PROFILES) == {"cis", "recommended"}


def test_every_catalog_pattern_compiles_in_every_profile():
    for detection in CATALOG:
        for pattern in detection.patterns.values():
            if "__" not in pattern:
                compile_pattern(pattern)
