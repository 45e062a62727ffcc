"""An AWS provider for another Region that keeps the stack's own account guard and credentials.

An explicit provider reads none of the stack's `aws:` settings: without copying them, a resource in
another Region would be created with whatever credentials happen to be active, in whatever account,
unchecked by `aws:allowedAccountIds`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

# Stack settings carried over; everything else about the provider stays default.
_CARRIED = {
    "allowedAccountIds": "allowed_account_ids",
    "forbiddenAccountIds": "forbidden_account_ids",
    "profile": "profile",
    "defaultTags": "default_tags",
}
_ASSUME_ROLE_FIELDS = {
    "roleArn": "role_arn",
    "sessionName": "session_name",
    "externalId": "external_id",
    "duration": "duration",
    "policy": "policy",
    "policyArns": "policy_arns",
    "sourceIdentity": "source_identity",
    "tags": "tags",
    "transitiveTagKeys": "transitive_tag_keys",
}


def provider_settings(region: str, config: pulumi.Config | None = None) -> dict[str, Any]:
    config = config or pulumi.Config("aws")
    settings: dict[str, Any] = {"region": region}
    for key, argument in _CARRIED.items():
        value = config.get_object(key) if key != "profile" else config.get(key)
        if value:
            settings[argument] = value
    roles = config.get_object("assumeRoles") or []
    if isinstance(roles, dict):
        roles = [roles]
    if roles:
        settings["assume_roles"] = [
            aws.ProviderAssumeRoleArgs(
                **{_ASSUME_ROLE_FIELDS[k]: v for k, v in role.items() if k in _ASSUME_ROLE_FIELDS}
            )
            for role in roles
        ]
    return settings


def regional_provider(name: str, region: str, opts: pulumi.ResourceOptions) -> aws.Provider:
    return aws.Provider(name, **provider_settings(region), opts=opts)


def _assume_role_arguments(role: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(role) - set(_ASSUME_ROLE_FIELDS))
    if unknown:
        raise ValueError(f"aws:assumeRoles: unknown field {', '.join(unknown)}")
    return {_ASSUME_ROLE_FIELDS[key]: value for key, value in role.items()}
