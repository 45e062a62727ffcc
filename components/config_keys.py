"""The stack's config keys themselves: a misspelled key must fail, not quietly fall back to its default.

Pulumi hands the program every key of the stack. Keys of the project's namespace and of `aws:`
must be keys someone reads; a near miss names the key that was probably meant. `aws:region`
must be a Region AWS has, and account id lists must hold account ids.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any

from components.login_monitoring_hub_inputs import LoginMonitoringHubInputs

AWS_NAMESPACE = "aws"
# The detection failedSignInThreshold and failedSignInWindowSeconds tune, and the outlier alarm watches.
FAILED_SIGN_INS = "failed-console-sign-ins"
# Namespaces the Pulumi CLI and other tools own; nothing here reads them, nothing here judges them.
_FOREIGN_NAMESPACES = ("pulumi",)
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@functools.cache
def aws_config_keys() -> frozenset[str]:
    """Every key the AWS provider reads, taken from the installed provider SDK so it never goes stale."""
    from pulumi_aws.config import vars as provider_config

    source = inspect.getsource(provider_config)
    return frozenset(re.findall(r"__config__\.get\w*\('(\w+)'", source))


@functools.cache
def aws_regions() -> frozenset[str]:
    import pulumi_aws as aws

    return frozenset(region.value for region in aws.Region)


def check_keys(config: Mapping[str, Any], namespace: str, keys: Iterable[str]) -> list[tuple[str, str]]:
    """Problems as (full key, message), in key order."""
    known = {namespace: frozenset(keys), AWS_NAMESPACE: aws_config_keys()}
    problems: list[tuple[str, str]] = []
    for full_key in sorted(config):
        space, _, key = full_key.rpartition(":")
        if space in known:
            if key not in known[space]:
                problems.append((full_key, _unknown(key, known[space], space)))
            continue
        if space and space not in _FOREIGN_NAMESPACES:
            close = difflib.get_close_matches(space, list(known), n=1, cutoff=0.75)
            if close:
                problems.append((full_key, f"unknown namespace {space!r}; did you mean {close[0]}:{key}?"))
    problems += _check_aws_values(config)
    return problems


def _unknown(key: str, known: frozenset[str], space: str) -> str:
    by_case = {name.lower(): name for name in known}
    guess = by_case.get(key.lower()) or next(iter(difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)), None)
    message = f"unknown key; nothing reads {space}:{key}"
    return message + (f"; did you mean {space}:{guess}?" if guess else f"; known keys: {', '.join(sorted(known))}")


def _check_aws_values(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    region = config.get(f"{AWS_NAMESPACE}:region")
    if region is not None and region not in aws_regions():
        close = difflib.get_close_matches(str(region), sorted(aws_regions()), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append((f"{AWS_NAMESPACE}:region", f"{region!r} is not an AWS Region{hint}"))
    for key in ("allowedAccountIds", "forbiddenAccountIds"):
        raw = config.get(f"{AWS_NAMESPACE}:{key}")
        if raw is None:
            continue
        accounts = account_ids(raw)
        if accounts is None:
            problems.append((f"{AWS_NAMESPACE}:{key}", f"must be a list of 12-digit account ids, got {raw!r}"))
    return problems


def account_ids(raw: Any) -> list[str] | None:
    """A config list of account ids, or None when it is not one."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    accounts = [str(item) for item in value]
    return accounts if all(_ACCOUNT_ID.match(account) for account in accounts) else None


def ignored_settings(args: Any, key_of: Callable[[str], str]) -> list[str]:
    """Keys set away from their default that the stack's role or trail mode never reads."""
    defaults = {field.name: field.default for field in fields(args)}
    unused: list[tuple[str, str]] = []
    if args.is_hub:
        why = "a hub deploys no detections, trail, notifier or account dashboard"
        unused += [(attribute, why) for attribute in defaults if attribute not in _NOT_MEMBER_ONLY]
    elif args.trail_mode == "existing":
        why = "trailMode 'existing' creates no trail"
        unused += [(attribute, why) for attribute in _TRAIL_ONLY]
    if not args.is_hub and args.trail_mode != "organization":
        unused.append(("organization_id", "only a hub and trailMode 'organization' use it"))
    if args.trail_mode != "organization":
        unused.append(("management_account_id", "only trailMode 'organization' uses it"))
    if not args.is_hub:
        unused.append(("member_regions", "only a hub serves member Regions"))
        unused.append(("member_sign_in_log_group_arns", "only a hub's dashboard shows members' sign-in tables"))
    if not args.is_hub and not args.hub_stack:
        unused.append(("link_metrics_to_hub", "only a member with hubStack links its metrics to a hub"))
    if not args.is_hub and not args.contributor_insights:
        unused.append(("top_source_ip_threshold", "only the Contributor Insights alarm uses it (contributorInsights)"))
    failed_sign_ins = any(item.id == FAILED_SIGN_INS for item in args.detections)
    if not args.is_hub and not failed_sign_ins:
        why = f"the stack's detections leave {FAILED_SIGN_INS} out (detectionOverrides)"
        unused += [("failed_sign_in_threshold", why), ("failed_sign_in_window_seconds", why)]
    if not args.is_hub and not (args.outlier_alarm and failed_sign_ins):
        unused.append(("outlier_floor", f"only the outlier alarm uses it (outlierAlarm, on {FAILED_SIGN_INS})"))
        if not args.account_dashboard:
            unused.append(("outlier_band_width", "only the outlier alarm and the account dashboard use it"))
    return [
        f"{key_of(attribute)} is set but ignored: {why}"
        for attribute, why in unused
        if getattr(args, attribute) != defaults[attribute]
    ]


_TRAIL_ONLY = (
    "trail_events",
    "trail_encryption",
    "encrypt_trail_log_group",
    "trail_log_retention_days",
    "trail_bucket_expiration_days",
)
# A hub reads its component's inputs (a test holds them to what hub_args reads) and refuses a trail or a hub of
# its own outright (the checks name those keys); management_account_id has its rule above. A member reads the rest.
_NOT_MEMBER_ONLY = frozenset(
    {
        *LoginMonitoringHubInputs.__required_keys__,
        *LoginMonitoringHubInputs.__optional_keys__,
        "stack_role",
        "hub_stack",
        "trail_mode",
        "existing_log_group_name",
        "backtest_athena",
        "management_account_id",
    }
)


def stack_config() -> dict[str, Any]:
    """Every key the Pulumi CLI handed the program (the CLI passes them all, not just the ones read)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
