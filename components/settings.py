"""Stack settings: read once from Pulumi config, checked before any resource exists.

Under `pulumi` the defaults come from the `config:` block of Pulumi.yaml; the
dataclass defaults below serve programs that build the component directly, and a
test keeps the two equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.chat_delivery import SlackChannel, TeamsChannel, chat_problems
from components.config_keys import aws_regions, check_keys, ignored_settings
from components.lambda_package import bundled_zones
from components.login_monitoring_hub_inputs import LoginMonitoringHubInputs
from components.tagging import tag_problems
from detections.catalog import PROFILES
from detections.profiles import (
    MAX_ALARM_WINDOW_SECONDS,
    DetectionSettingsError,
    EnabledDetection,
    resolve_detections,
)
from handlers.flood import DEFAULT_BURST_LIMIT, MAX_BURST_LIMIT, MAX_QUIET_MINUTES
from handlers.notify_policy import NOTIFY_POLICIES
from handlers.risk import MAX_RISK_WINDOW_MINUTES
from handlers.store import MAX_HISTORY_DAYS

CONFIG_NAMESPACE = "login-monitoring"

TRAIL_MODES = ("create", "existing", "organization")
STACK_ROLES = ("member", "hub")
TRAIL_EVENT_SCOPES = ("write", "all")
TRAIL_ENCRYPTIONS = ("s3", "kms")
# The retention values CloudWatch Logs accepts. Never-expiring groups are refused: a set retention is policy.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# Wider than this, the band would never be left: the floor alone would decide.
MAX_BAND_WIDTH = 10
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]+$")
_LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9_\-/.#]{1,512}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# IAM's rule for account aliases: 3 to 63 lowercase letters, digits and hyphens, a letter or digit at each end.
_ACCOUNT_ALIAS = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$")
# A log group ARN as a stack output or the console shows it (the console adds ":*").
_LOG_GROUP_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"log-group:(?P<name>[A-Za-z0-9_\-/.#]{1,512})(?::\*)?$"
)
LOG_GROUP_ARN_EXAMPLE = "arn:aws:logs:eu-west-1:111122223333:log-group:login-monitoring-sign-in-notifier-logs-1a2b3c4"


def full_key(key: str) -> str:
    return key if ":" in key else f"{CONFIG_NAMESPACE}:{key}"


class Problem(tuple):
    """(config key, message); for one item of a list setting, `position` is that item's index in the list."""

    position: int | None

    def __new__(cls, key: str, message: str, position: int | None = None) -> Problem:
        problem = super().__new__(cls, (key, message))
        problem.position = position
        return problem


class SettingsError(pulumi.RunError):
    """One or more stack config values are wrong; each problem names its key."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {full_key(key)}: {message}" for key, message in problems)
        super().__init__(f"invalid stack configuration:\n{lines}")

    def input_problems(self) -> list[tuple[str, str]]:
        """(property path, message) as a program passing the args names them: alertEmails[1], tags."""
        paths = []
        for problem in self.problems:
            key, message = problem
            position = getattr(problem, "position", None)
            paths.append((key if position is None else f"{key}[{position}]", message))
        return paths


@dataclass(frozen=True)
class LoginMonitoringArgs:
    """What one LoginMonitoring component needs. Field names mirror the config keys."""

    alert_emails: tuple[str, ...]
    # Recipients of the health alarms when they differ from alertEmails (required without alertEmails).
    health_emails: tuple[str, ...] = ()
    trail_mode: str = "create"
    existing_log_group_name: str = ""
    # "" follows the profile: see trail_event_scope.
    trail_events: str = ""
    # "" follows the profile: see trail_uses_kms.
    trail_encryption: str = ""
    encrypt_trail_log_group: bool = False
    trail_log_retention_days: int = 365
    trail_bucket_expiration_days: int = 365
    failed_sign_in_threshold: int = 5
    failed_sign_in_window_seconds: int = 900
    notify_on: str = "all"
    display_timezone: str = "UTC"
    sign_in_history_days: int = 90
    notifier_log_retention_days: int = 30
    alarm_resolved_mails: bool = False
    # The account's IAM alias, named in alarm mails next to the id; empty: the id alone.
    account_alias: str = ""
    mail_quiet_minutes: int = 10
    mail_burst_limit: int = DEFAULT_BURST_LIMIT
    encrypt_alert_topic: bool = True
    detection_profile: str = "recommended"
    detection_overrides: tuple[str, ...] = ()
    privileged_groups: tuple[str, ...] = ("Administrators",)
    tags: tuple[tuple[str, str], ...] = ()
    stack_role: str = "member"
    hub_stack: str = ""
    organization_id: str = ""
    # trailMode 'organization' from a CloudTrail delegated administrator: the management account, which owns the trail.
    management_account_id: str = ""
    risk_new_country: bool = True
    risk_impossible_travel_minutes: int = 60
    risk_failures_before_success: int = 3
    risk_failures_window_minutes: int = 60
    risk_spray_user_names: int = 5
    risk_spray_window_minutes: int = 60
    # Hub: the Regions, besides its own, whose members it serves (one observability sink each).
    member_regions: tuple[str, ...] = ()
    # Hub: members' signInLogGroupArn outputs; the dashboard shows each account's sign-in tables from them.
    member_sign_in_log_group_arns: tuple[str, ...] = ()
    # Member: share this account's metrics with the hub; only one stack per account and Region may.
    link_metrics_to_hub: bool = True
    contributor_insights: bool = True
    top_source_ip_threshold: int = 10
    account_dashboard: bool = True
    # Anomaly band and floor on failed console sign-ins, combined in one composite alarm.
    outlier_alarm: bool = True
    outlier_band_width: int = 2
    outlier_floor: int = 5
    # Athena workgroup, results bucket and Glue table over this stack's trail bucket, for backtests.
    backtest_athena: bool = False
    # Chat delivery of the alert topic (components/chat_delivery.py); empty: none.
    slack_workspace_id: str = ""
    slack_channel_id: str = ""
    teams_tenant_id: str = ""
    teams_team_id: str = ""
    teams_channel_id: str = ""
    # A program using the package may pass a secret Output.
    alert_webhook_url: str | pulumi.Output[str] = ""

    @property
    def slack_channel(self) -> SlackChannel | None:
        return SlackChannel(self.slack_workspace_id, self.slack_channel_id) if self.slack_workspace_id else None

    @property
    def teams_channel(self) -> TeamsChannel | None:
        if not self.teams_tenant_id:
            return None
        return TeamsChannel(self.teams_tenant_id, self.teams_team_id, self.teams_channel_id)

    @property
    def is_hub(self) -> bool:
        return self.stack_role == "hub"

    @property
    def trail_uses_kms(self) -> bool:
        # Security Hub CloudTrail.2 wants SSE-KMS on the trail; the cis profile pays the key's dollar a month.
        return (self.trail_encryption or ("kms" if self.detection_profile == "cis" else "s3")) == "kms"

    @property
    def trail_event_scope(self) -> str:
        # Security Hub's CloudWatch.1-14 checks want a trail with read and write management events; the
        # cis profile exists to pass them. The recommended profile keeps the cheaper write-only default.
        return self.trail_events or ("all" if self.detection_profile == "cis" else "write")

    def __post_init__(self) -> None:
        problems = list(_check(self))
        detections: list[EnabledDetection] = []
        if not {key for key, _ in problems} & {"failedSignInThreshold", "failedSignInWindowSeconds"}:
            try:
                detections = resolve_detections(
                    self.detection_profile,
                    self.detection_overrides,
                    privileged_groups=self.privileged_groups,
                    failed_sign_in_threshold=self.failed_sign_in_threshold,
                    failed_sign_in_window_seconds=self.failed_sign_in_window_seconds,
                )
            except DetectionSettingsError as error:
                problems += error.problems
        if problems:
            raise SettingsError(problems)
        # Resolved once here so the component, replay and the plan all deploy the same list.
        object.__setattr__(self, "detections", tuple(detections))


def _check(args: LoginMonitoringArgs):
    yield from _check_role(args)
    yield from chat_problems(
        args.slack_workspace_id,
        args.slack_channel_id,
        args.teams_tenant_id,
        args.teams_team_id,
        args.teams_channel_id,
        # A program may pass the URL as a secret Output; SNS checks that one when it subscribes.
        args.alert_webhook_url if isinstance(args.alert_webhook_url, str) else "",
    )
    if args.account_alias and not _ACCOUNT_ALIAS.match(args.account_alias):
        yield (
            "accountAlias",
            f"{args.account_alias!r} is not an account alias: 3 to 63 lowercase letters, digits and hyphens "
            "(aws iam list-account-aliases shows it)",
        )
    yield from (("tags", problem) for problem in tag_problems(args.tags))
    if not args.alert_emails and not args.hub_stack:
        yield (
            "alertEmails",
            (
                'at least one mail recipient is required, e.g. ["security@example.com"] '
                "(a member that reports to a hub may leave it empty)"
            ),
        )
    for key, addresses in (("alertEmails", args.alert_emails), ("healthEmails", args.health_emails)):
        for index, address in enumerate(addresses):
            if not _EMAIL.match(address):
                yield Problem(key, f"{address!r} is not a mail address", index)
    if args.hub_stack and not args.alert_emails and not args.health_emails and not args.is_hub:
        yield (
            "healthEmails",
            "is required when alertEmails is empty: the health alarms must not travel the way to the hub "
            'they report on, e.g. ["cloud-ops@example.com"]',
        )
    if args.trail_mode not in TRAIL_MODES:
        yield "trailMode", f"must be one of {', '.join(TRAIL_MODES)}, got {args.trail_mode!r}"
    if args.trail_mode == "existing":
        if not args.existing_log_group_name:
            yield (
                "existingLogGroupName",
                "is required when trailMode is 'existing': the log group your trail delivers to",
            )
        elif not _LOG_GROUP_NAME.match(args.existing_log_group_name):
            yield "existingLogGroupName", f"{args.existing_log_group_name!r} is not a valid log group name"
    elif args.existing_log_group_name:
        yield "existingLogGroupName", "is only used with trailMode 'existing'; remove it or set trailMode"
    if args.trail_mode == "organization" and not args.organization_id:
        yield "organizationId", "is required with trailMode 'organization' (the o-... id of your organization)"
    if args.trail_encryption and args.trail_encryption not in TRAIL_ENCRYPTIONS:
        yield (
            "trailEncryption",
            f"must be one of {', '.join(TRAIL_ENCRYPTIONS)} (or empty for the profile's), "
            f"got {args.trail_encryption!r}",
        )
    if args.trail_events and args.trail_events not in TRAIL_EVENT_SCOPES:
        yield (
            "trailEvents",
            f"must be one of {', '.join(TRAIL_EVENT_SCOPES)} (or empty for the profile's), got {args.trail_events!r}",
        )
    for key, value in (
        ("trailLogRetentionDays", args.trail_log_retention_days),
        ("notifierLogRetentionDays", args.notifier_log_retention_days),
    ):
        if value not in LOG_RETENTION_DAYS:
            yield key, f"{value} is not a retention CloudWatch Logs accepts; use one of {LOG_RETENTION_DAYS}"
    if args.trail_bucket_expiration_days < 1:
        yield "trailBucketExpirationDays", f"must be at least 1 day, got {args.trail_bucket_expiration_days}"
    if not 1 <= args.sign_in_history_days <= MAX_HISTORY_DAYS:
        yield (
            "signInHistoryDays",
            f"must be between 1 and {MAX_HISTORY_DAYS} days (ten years), got {args.sign_in_history_days}",
        )
    if args.failed_sign_in_threshold < 1:
        yield "failedSignInThreshold", f"must be at least 1, got {args.failed_sign_in_threshold}"
    window = args.failed_sign_in_window_seconds
    if window < 60 or window % 60 or window > MAX_ALARM_WINDOW_SECONDS:
        yield (
            "failedSignInWindowSeconds",
            (f"must be a whole number of minutes between 60 and {MAX_ALARM_WINDOW_SECONDS} seconds, got {window}"),
        )
    yield from _check_risk(args)
    if args.top_source_ip_threshold < 1:
        yield "topSourceIpThreshold", f"must be at least 1, got {args.top_source_ip_threshold}"
    if not 1 <= args.outlier_band_width <= MAX_BAND_WIDTH:
        yield (
            "outlierBandWidth",
            f"must be between 1 and {MAX_BAND_WIDTH} standard deviations, got {args.outlier_band_width}",
        )
    if args.outlier_floor < 1:
        yield "outlierFloor", f"must be at least 1 failed sign-in, got {args.outlier_floor}"
    if args.notify_on not in NOTIFY_POLICIES:
        yield "notifyOn", f"must be one of {', '.join(NOTIFY_POLICIES)}, got {args.notify_on!r}"
    if not 0 <= args.mail_quiet_minutes <= MAX_QUIET_MINUTES:
        yield (
            "mailQuietMinutes",
            f"must be between 0 (every sign-in mailed) and {MAX_QUIET_MINUTES} minutes, got {args.mail_quiet_minutes}",
        )
    if not 1 <= args.mail_burst_limit <= MAX_BURST_LIMIT:
        yield (
            "mailBurstLimit",
            f"must be between 1 and {MAX_BURST_LIMIT} first mails, got {args.mail_burst_limit}",
        )
    if args.display_timezone not in bundled_zones():
        yield (
            "displayTimezone",
            f"{args.display_timezone!r} is not an IANA time zone name the function knows, such as 'Asia/Tokyo'",
        )


def _check_risk(args: LoginMonitoringArgs):
    top = MAX_RISK_WINDOW_MINUTES
    for key, value, low in (
        ("riskImpossibleTravelMinutes", args.risk_impossible_travel_minutes, 0),
        ("riskFailuresBeforeSuccess", args.risk_failures_before_success, 0),
        ("riskFailuresWindowMinutes", args.risk_failures_window_minutes, 1),
        ("riskSprayUserNames", args.risk_spray_user_names, 0),
        ("riskSprayWindowMinutes", args.risk_spray_window_minutes, 1),
    ):
        if not low <= value <= top:
            off = " (0 turns the reason off)" if low == 0 else ""
            yield key, f"must be between {low} and {top}{off}, got {value}"


def _check_role(args: LoginMonitoringArgs):
    if args.stack_role not in STACK_ROLES:
        yield "stackRole", f"must be one of {', '.join(STACK_ROLES)}, got {args.stack_role!r}"
    if args.organization_id and not _ORGANIZATION_ID.match(args.organization_id):
        yield "organizationId", f"{args.organization_id!r} is not an organization id such as o-a1b2c3d4e5"
    if args.management_account_id and not _ACCOUNT_ID.match(args.management_account_id):
        yield "managementAccountId", f"{args.management_account_id!r} is not a 12-digit account id"
    if args.hub_stack and not _STACK_NAME.match(args.hub_stack):
        yield "hubStack", f"{args.hub_stack!r} is not a stack name such as acme/login-monitoring/hub"
    for index, region in enumerate(args.member_regions):
        if region not in aws_regions():
            yield Problem("memberRegions", f"{region!r} is not an AWS Region such as 'eu-west-1'", index)
    for index, arn in enumerate(args.member_sign_in_log_group_arns):
        parts = log_group_arn_parts(arn)
        if parts is None:
            yield Problem(
                "memberSignInLogGroupArns",
                f"{arn!r} is not a log group ARN such as {LOG_GROUP_ARN_EXAMPLE} (a member's signInLogGroupArn output)",
                index,
            )
        elif parts[0] not in aws_regions():
            yield Problem("memberSignInLogGroupArns", f"{arn!r} names {parts[0]!r}, which is not an AWS Region", index)
    if args.backtest_athena and (args.is_hub or args.trail_mode == "existing"):
        yield (
            "backtestAthena",
            "needs the trail bucket this stack creates: enable it on the stack with trailMode 'create' or "
            "'organization' (a hub or trailMode 'existing' has no trail bucket)",
        )
    if args.is_hub:
        if not args.organization_id:
            yield "organizationId", "is required for the hub: only accounts of this organization may publish to it"
        if args.hub_stack:
            yield "hubStack", "a hub does not reference another hub; remove hubStack or set stackRole 'member'"
        if args.trail_mode != "create" or args.existing_log_group_name:
            yield "trailMode", "the hub creates no trail; watch the hub account with a member stack of its own"


def log_group_arn_parts(arn: str) -> tuple[str, str, str] | None:
    """(Region, account id, log group name) of a log group ARN, or None when it is not one."""
    match = _LOG_GROUP_ARN.match(arn)
    return (match["region"], match["account"], match["name"]) if match else None


def _parse_int(raw: str) -> int:
    if isinstance(raw, bool):
        raise ValueError
    return int(str(raw).strip())


def _parse_bool(raw: str) -> bool:
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise ValueError
    return text == "true"


def _parse_string_list(raw: str) -> tuple[str, ...]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError
    return tuple(dict.fromkeys(item.strip() for item in value))


def _parse_entries(raw: str) -> tuple[str, ...]:
    # Kept as written, repeats included: a repeated override is reported, not folded away.
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError
    return tuple(item.strip() for item in value)


def _parse_tags(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for entry in _parse_entries(raw):
        key, equals, value = entry.partition("=")
        if not equals:
            raise ValueError
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _parse_addresses(raw: str) -> tuple[str, ...]:
    # Mail addresses compare without case; one subscription per mailbox.
    unique: dict[str, str] = {}
    for address in _parse_string_list(raw):
        unique.setdefault(address.lower(), address)
    return tuple(unique.values())


# config key -> (field name, parser, what the value must look like)
_KEYS: dict[str, tuple[str, Callable[[str], object], str]] = {
    "alertEmails": ("alert_emails", _parse_addresses, "a list of mail addresses"),
    "healthEmails": ("health_emails", _parse_addresses, "a list of mail addresses"),
    "trailMode": ("trail_mode", str, "a string"),
    "existingLogGroupName": ("existing_log_group_name", str, "a string"),
    "trailEvents": ("trail_events", str, "a string"),
    "trailEncryption": ("trail_encryption", str, "a string"),
    "encryptTrailLogGroup": ("encrypt_trail_log_group", _parse_bool, "true or false"),
    "trailLogRetentionDays": ("trail_log_retention_days", _parse_int, "a whole number"),
    "trailBucketExpirationDays": ("trail_bucket_expiration_days", _parse_int, "a whole number"),
    "failedSignInThreshold": ("failed_sign_in_threshold", _parse_int, "a whole number"),
    "failedSignInWindowSeconds": ("failed_sign_in_window_seconds", _parse_int, "a whole number"),
    "notifyOn": ("notify_on", str, "a string"),
    "displayTimezone": ("display_timezone", str, "a string"),
    "signInHistoryDays": ("sign_in_history_days", _parse_int, "a whole number"),
    "notifierLogRetentionDays": ("notifier_log_retention_days", _parse_int, "a whole number"),
    "alarmResolvedMails": ("alarm_resolved_mails", _parse_bool, "true or false"),
    "accountAlias": ("account_alias", str, "a string"),
    "mailQuietMinutes": ("mail_quiet_minutes", _parse_int, "a whole number"),
    "mailBurstLimit": ("mail_burst_limit", _parse_int, "a whole number"),
    "encryptAlertTopic": ("encrypt_alert_topic", _parse_bool, "true or false"),
    "detectionProfile": ("detection_profile", str, f"one of {', '.join(PROFILES)}"),
    "detectionOverrides": ("detection_overrides", _parse_entries, "a list of '<id>.<setting>=<value>' strings"),
    "privilegedGroups": ("privileged_groups", _parse_string_list, "a list of IAM group names"),
    "tags": ("tags", _parse_tags, "a list of 'Key=Value' strings"),
    "stackRole": ("stack_role", str, f"one of {', '.join(STACK_ROLES)}"),
    "hubStack": ("hub_stack", str, "a stack name"),
    "organizationId": ("organization_id", str, "an organization id"),
    "managementAccountId": ("management_account_id", str, "an account id"),
    "riskNewCountry": ("risk_new_country", _parse_bool, "true or false"),
    "riskImpossibleTravelMinutes": ("risk_impossible_travel_minutes", _parse_int, "a whole number"),
    "riskFailuresBeforeSuccess": ("risk_failures_before_success", _parse_int, "a whole number"),
    "riskFailuresWindowMinutes": ("risk_failures_window_minutes", _parse_int, "a whole number"),
    "riskSprayUserNames": ("risk_spray_user_names", _parse_int, "a whole number"),
    "riskSprayWindowMinutes": ("risk_spray_window_minutes", _parse_int, "a whole number"),
    "memberRegions": ("member_regions", _parse_string_list, "a list of AWS Regions"),
    "memberSignInLogGroupArns": ("member_sign_in_log_group_arns", _parse_string_list, "a list of log group ARNs"),
    "linkMetricsToHub": ("link_metrics_to_hub", _parse_bool, "true or false"),
    "contributorInsights": ("contributor_insights", _parse_bool, "true or false"),
    "topSourceIpThreshold": ("top_source_ip_threshold", _parse_int, "a whole number"),
    "accountDashboard": ("account_dashboard", _parse_bool, "true or false"),
    "outlierAlarm": ("outlier_alarm", _parse_bool, "true or false"),
    "outlierBandWidth": ("outlier_band_width", _parse_int, "a whole number"),
    "outlierFloor": ("outlier_floor", _parse_int, "a whole number"),
    "backtestAthena": ("backtest_athena", _parse_bool, "true or false"),
    "slackWorkspaceId": ("slack_workspace_id", str, "a string"),
    "slackChannelId": ("slack_channel_id", str, "a string"),
    "teamsTenantId": ("teams_tenant_id", str, "a string"),
    "teamsTeamId": ("teams_team_id", str, "a string"),
    "teamsChannelId": ("teams_channel_id", str, "a string"),
    "alertWebhookUrl": ("alert_webhook_url", str, "a string"),
}
CONFIG_KEYS = tuple(_KEYS)
_KEY_OF = {attribute: key for key, (attribute, _, _) in _KEYS.items()}


def load_settings(
    get: Callable[[str], str | None], stack_config: Mapping[str, Any] | None = None
) -> LoginMonitoringArgs:
    """Build validated args from a config getter such as `pulumi.Config().get`.

    With `stack_config` (every key of the stack), unknown keys and a wrong `aws:region` are
    problems too, and keys the stack's role or trail mode ignores are logged as warnings.
    """
    values: dict[str, object] = {}
    problems: list[tuple[str, str]] = check_keys(stack_config, CONFIG_NAMESPACE, CONFIG_KEYS) if stack_config else []
    for key, (attribute, parse, expected) in _KEYS.items():
        raw = get(key)
        if raw is None:
            continue
        try:
            values[attribute] = parse(raw)
        except (ValueError, TypeError, json.JSONDecodeError):
            problems.append((key, f"must be {expected}, got {raw!r}"))
    settings = _validated(values, problems)
    if stack_config:
        for warning in ignored_settings(settings, lambda attribute: full_key(_KEY_OF[attribute])):
            pulumi.log.warn(warning)
    return settings


def _validated(values: dict[str, object], problems: list[tuple[str, str]]) -> LoginMonitoringArgs:
    values.setdefault("alert_emails", ())
    if problems:
        # Report type errors together with whatever else is wrong in the values that did parse.
        failed = {key for key, _ in problems}
        try:
            LoginMonitoringArgs(**values)
        except SettingsError as later:
            problems += [problem for problem in later.problems if problem[0] not in failed]
        raise SettingsError(problems)
    return LoginMonitoringArgs(**values)


def _input_int(value: object) -> int:
    # Pulumi sends numbers as floats; 5.0 is 5, 5.5 is not a whole number.
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError
    return int(value)


def _input_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _input_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _input_list(parse: Callable[[object], tuple[str, ...]]) -> Callable[[object], tuple[str, ...]]:
    def parse_list(value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError
        return parse(list(value))

    return parse_list


def _input_tags(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(item, str) for pair in value.items() for item in pair):
        raise ValueError
    return tuple((key.strip(), tag.strip()) for key, tag in value.items())


# How a program's typed value becomes the field's value; the config path's parsers read strings instead.
_INPUT_PARSERS: dict[Callable[[str], object], Callable[[object], object]] = {
    str: _input_str,
    _parse_int: _input_int,
    _parse_bool: _input_bool,
    _parse_addresses: _input_list(_parse_addresses),
    _parse_string_list: _input_list(_parse_string_list),
    _parse_entries: _input_list(_parse_entries),
    _parse_tags: _input_tags,
}
INPUT_EXPECTED = {"tags": "a map of tag keys to values"}
HUB_INPUT_FIELDS = LoginMonitoringHubInputs.__optional_keys__ | LoginMonitoringHubInputs.__required_keys__
# The one setting a program may pass as an Output (a secret, or a value not known until deployment).
OUTPUT_FIELDS = frozenset({"alert_webhook_url"})


def settings_from_inputs(inputs: Mapping[str, object]) -> LoginMonitoringArgs:
    """Build validated args from a program's values by field name (alert_emails=[...]), as the package's
    provider hands them over: the same defaults and checks as the stack config, keyed by config key, and the
    same warnings for settings the trail mode ignores, named as the program's inputs are (trailEvents)."""
    unknown = sorted(set(inputs) - set(_KEY_OF))
    if unknown:
        raise TypeError(f"LoginMonitoring takes no argument {', '.join(unknown)}")
    values: dict[str, object] = {}
    problems: list[tuple[str, str]] = []
    for key, (attribute, parse, expected) in _KEYS.items():
        value = inputs.get(attribute)
        if value is None:
            continue
        if attribute in OUTPUT_FIELDS and isinstance(value, pulumi.Output):
            values[attribute] = value
            continue
        try:
            values[attribute] = _INPUT_PARSERS[parse](value)
        except (ValueError, TypeError, json.JSONDecodeError):
            problems.append((key, f"must be {INPUT_EXPECTED.get(key, expected)}, got {value!r}"))
    try:
        settings = _validated(values, problems)
    except SettingsError as error:
        raise SettingsError([_as_given(problem, inputs) for problem in error.problems]) from None
    for warning in ignored_settings(settings, _KEY_OF.__getitem__):
        pulumi.log.warn(warning)
    return settings


def settings_from_hub_inputs(inputs: Mapping[str, object]) -> LoginMonitoringArgs:
    """A hub's settings from a program's values by field name: stackRole 'hub' is the program's choice of the
    hub component, and the hub takes only the settings it reads (LoginMonitoringHubInputs), with the same
    defaults, checks and messages as a hub stack's config."""
    unknown = sorted(set(inputs) - HUB_INPUT_FIELDS)
    if unknown:
        raise TypeError(f"LoginMonitoringHub takes no argument {', '.join(unknown)}")
    return settings_from_inputs({**inputs, "stack_role": "hub"})


def _as_given(problem: tuple[str, str], inputs: Mapping[str, object]) -> tuple[str, str]:
    """The problem with its index into the list as the program gave it, before repeats were folded."""
    position = getattr(problem, "position", None)
    key, message = problem
    if position is None:
        return problem
    given = inputs[_KEYS[key][0]]
    folded = _INPUT_PARSERS[_KEYS[key][1]](given)
    return Problem(key, message, next(at for at, item in enumerate(given) if item.strip() == folded[position]))
