"""Which account owns an organization trail, asked of AWS Organizations before anything is created.

An organization trail belongs to the organization's management account even when a CloudTrail
delegated administrator creates it, so its ARN — and with it `aws:SourceArn` in the bucket and key
policies — names the management account. A policy naming the deploying account instead makes
CreateTrail fail (bucket policy) or delivery stop (key policy). `managementAccountId` states the
owner; Organizations (DescribeOrganization, callable from any account of the organization) tells
whether the deploying account is the management account, so a missing or wrong value fails preview.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.settings import SettingsError


def organization_trail_owner(configured_management_account: str, organization_id: str, parent: pulumi.Resource) -> str:
    """The management account's id, after checking the stack's config against AWS Organizations."""
    opts = pulumi.InvokeOptions(parent=parent)
    caller = aws.get_caller_identity(opts=opts).account_id
    organization = aws.organizations.get_organization(return_organization_only=True, opts=opts)
    problems = trail_owner_problems(
        configured_management_account=configured_management_account,
        organization_id=organization_id,
        caller_account=caller,
        actual_management_account=organization.master_account_id,
        actual_organization_id=organization.id,
    )
    if problems:
        raise SettingsError(problems)
    return organization.master_account_id


def trail_owner_problems(
    *,
    configured_management_account: str,
    organization_id: str,
    caller_account: str,
    actual_management_account: str,
    actual_organization_id: str,
) -> list[tuple[str, str]]:
    problems = []
    if organization_id != actual_organization_id:
        problems.append(
            (
                "organizationId",
                f"is {organization_id}, but account {caller_account} belongs to organization {actual_organization_id}",
            )
        )
    if configured_management_account:
        if configured_management_account != actual_management_account:
            problems.append(
                (
                    "managementAccountId",
                    f"is {configured_management_account}, but the management account of "
                    f"{actual_organization_id} is {actual_management_account}",
                )
            )
    elif caller_account != actual_management_account:
        problems.append(
            (
                "managementAccountId",
                f"is required: account {caller_account} is not the management account of {actual_organization_id}, "
                f"so it deploys the organization trail as CloudTrail delegated administrator and the trail "
                f'belongs to {actual_management_account}; set managementAccountId: "{actual_management_account}"',
            )
        )
    return problems
