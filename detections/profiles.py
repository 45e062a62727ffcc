"""Turn a profile plus per-detection overrides into the detections a stack deploys.

Overrides are config strings of the form `<detection id>.<setting>=<value>`:

    failed-console-sign-ins.enabled=false
    unauthorized-api-calls.threshold=10
    root-account-usage.evaluationPeriods=2
    root-account-usage.evaluationWindow=wallClock
    unauthorized-api-calls.excludePrincipals=arn:aws:iam::111122223333:role/Scanner
    unauthorized-api-calls.excludeEventNames=GetBucketLocation

Exclusions may repeat; each is rendered into the pattern with quoting that cannot break it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from detections.catalog import (
    BY_ID,
    CATALOG,
    PRIVILEGED_GROUPS_MARKER,
    PROFILES,
    SLIDING_WINDOW,
    WALL_CLOCK_PERIODS,
    WALL_CLOCK_WINDOW,
    AlarmSpec,
    Detection,
)
from detections.pattern import CompiledPattern, PatternSyntaxError, compile_pattern, quote

MAX_METRIC_FILTERS_PER_LOG_GROUP = 100
MAX_ALARM_WINDOW_SECONDS = 86_400
OVERRIDE_KEY = "detectionOverrides"
_OVERRIDE = re.compile(r"^(?P<id>[a-z0-9-]+)\.(?P<setting>[A-Za-z]+)=(?P<value>.*)$")
_IAM_GROUP_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9]+$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/*-]+$")
_INTEGER_SETTINGS = {
    "threshold": "threshold",
    "period": "period",
    "evaluationPeriods": "evaluation_periods",
    "datapointsToAlarm": "datapoints_to_alarm",
}
_REPEATABLE_SETTINGS = ("excludePrincipals", "excludeEventNames")
SETTINGS = ("enabled", *_INTEGER_SETTINGS, "evaluationWindow", "excludePrincipals", "excludeEventNames")


class DetectionSettingsError(ValueError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))


@dataclass(frozen=True)
class EnabledDetection:
    detection: Detection
    pattern: str
    compiled: CompiledPattern
    alarm: AlarmSpec

    @property
    def id(self) -> str:
        return self.detection.id


@dataclass
class _Override:
    enabled: bool | None = None
    alarm: dict[str, int | str] | None = None
    exclude_principals: list[str] | None = None
    exclude_event_names: list[str] | None = None


def resolve_detections(
    profile: str,
    overrides: tuple[str, ...] = (),
    *,
    privileged_groups: tuple[str, ...] = ("Administrators",),
    failed_sign_in_threshold: int = 5,
    failed_sign_in_window_seconds: int = 900,
) -> list[EnabledDetection]:
    """The detections a stack deploys, in catalog order; raise DetectionSettingsError naming each bad key."""
    problems: list[tuple[str, str]] = []
    if profile not in PROFILES:
        raise DetectionSettingsError([("detectionProfile", f"must be one of {', '.join(PROFILES)}, got {profile!r}")])
    parsed = _parse_overrides(overrides, profile, problems)
    for group in privileged_groups:
        if not _IAM_GROUP_NAME.match(group):
            problems.append(("privilegedGroups", f"{group!r} is not an IAM group name"))

    enabled: list[EnabledDetection] = []
    for detection in CATALOG:
        if profile not in detection.patterns:
            continue
        override = parsed.get(detection.id, _Override())
        if override.enabled is False:
            continue
        alarm = detection.alarms[profile]
        if detection.id == "failed-console-sign-ins":
            alarm = replace(alarm, threshold=failed_sign_in_threshold, period=failed_sign_in_window_seconds)
        if override.alarm:
            alarm = replace(alarm, **override.alarm)
        _check_alarm(detection.id, alarm, problems)
        pattern = _render(detection, profile, override, privileged_groups)
        if pattern is None:
            continue
        try:
            compiled = compile_pattern(pattern)
        except PatternSyntaxError as error:
            problems.append((OVERRIDE_KEY, f"{detection.id}: the rendered pattern is not valid: {error.reason}"))
            continue
        enabled.append(EnabledDetection(detection, pattern, compiled, alarm))

    if len(enabled) > MAX_METRIC_FILTERS_PER_LOG_GROUP:
        problems.append(
            (
                OVERRIDE_KEY,
                f"{len(enabled)} metric filters exceed the {MAX_METRIC_FILTERS_PER_LOG_GROUP} "
                "CloudWatch Logs allows per log group",
            )
        )
    if problems:
        raise DetectionSettingsError(problems)
    return enabled


def _parse_overrides(entries: tuple[str, ...], profile: str, problems: list) -> dict[str, _Override]:
    parsed: dict[str, _Override] = {}
    earlier: dict[tuple[str, str], str] = {}  # (detection id, setting or setting=value) -> first entry
    for entry in entries:
        match = _OVERRIDE.match(entry.strip())
        if not match:
            problems.append((OVERRIDE_KEY, f"{entry!r} is not of the form <detection id>.<setting>=<value>"))
            continue
        detection_id, setting, value = match["id"], match["setting"], match["value"].strip()
        # A setting given twice is a mistake either way: the same value is noise, another value a contradiction.
        repeatable = setting in _REPEATABLE_SETTINGS
        slot = (detection_id, f"{setting}={value}" if repeatable else setting)
        if slot in earlier:
            first = earlier[slot]
            same = repeatable or _OVERRIDE.match(first.strip())["value"].strip() == value
            problems.append(
                (OVERRIDE_KEY, f"{entry!r} repeats {first!r}" if same else f"{entry!r} contradicts {first!r}")
            )
            continue
        earlier[slot] = entry
        detection = BY_ID.get(detection_id)
        if detection is None:
            problems.append(
                (OVERRIDE_KEY, f"{entry!r}: no detection has the id {detection_id!r}; known ids: {', '.join(BY_ID)}")
            )
            continue
        if profile not in detection.patterns:
            problems.append((OVERRIDE_KEY, f"{entry!r}: {detection_id} is not part of the {profile!r} profile"))
            continue
        override = parsed.setdefault(detection_id, _Override())
        message = _apply(override, detection, profile, setting, value)
        if message:
            problems.append((OVERRIDE_KEY, f"{entry!r}: {message}"))
    return parsed


def _apply(override: _Override, detection: Detection, profile: str, setting: str, value: str) -> str | None:
    if setting == "enabled":
        if value not in ("true", "false"):
            return "enabled takes true or false"
        override.enabled = value == "true"
        return None
    if setting in _INTEGER_SETTINGS:
        if detection.id == "failed-console-sign-ins" and setting in ("threshold", "period"):
            return "set failedSignInThreshold / failedSignInWindowSeconds instead"
        if not value.isdigit() or int(value) < 1:
            return f"{setting} takes a whole number of at least 1"
        override.alarm = {**(override.alarm or {}), _INTEGER_SETTINGS[setting]: int(value)}
        return None
    if setting == "evaluationWindow":
        if value not in (SLIDING_WINDOW, WALL_CLOCK_WINDOW):
            return f"evaluationWindow takes {SLIDING_WINDOW} or {WALL_CLOCK_WINDOW}"
        override.alarm = {**(override.alarm or {}), "evaluation_window": value}
        return None
    if setting in ("excludePrincipals", "excludeEventNames"):
        if profile == "cis" and detection.security_hub:
            return (
                f"exclusions change the pattern, and Security Hub {detection.security_hub} fails on any added "
                "term; use detectionProfile 'recommended' to tune it"
            )
        checker, what = (
            (_PRINCIPAL_ARN, "an IAM or STS principal ARN")
            if setting == "excludePrincipals"
            else (_EVENT_NAME, "a CloudTrail event name")
        )
        if not checker.match(value):
            return f"{value!r} is not {what}"
        target = "exclude_principals" if setting == "excludePrincipals" else "exclude_event_names"
        current = getattr(override, target) or []
        setattr(override, target, [*current, value])
        return None
    return f"unknown setting {setting!r}; settings are {', '.join(SETTINGS)}"


def _check_alarm(detection_id: str, alarm: AlarmSpec, problems: list) -> None:
    where = f"{detection_id}: "
    if alarm.period < 60 or alarm.period % 60:
        problems.append(
            (OVERRIDE_KEY, where + f"period must be a whole number of minutes (60 or more), got {alarm.period}")
        )
    elif alarm.period * alarm.evaluation_periods > MAX_ALARM_WINDOW_SECONDS:
        problems.append((OVERRIDE_KEY, where + "period times evaluationPeriods may not exceed one day (86400 s)"))
    elif alarm.evaluation_window == WALL_CLOCK_WINDOW and alarm.period not in WALL_CLOCK_PERIODS:
        allowed = ", ".join(str(period) for period in WALL_CLOCK_PERIODS if period <= MAX_ALARM_WINDOW_SECONDS)
        problems.append(
            (OVERRIDE_KEY, where + f"a wall clock window needs a period of {allowed} seconds, got {alarm.period}")
        )
    if alarm.datapoints_to_alarm > alarm.evaluation_periods:
        problems.append(
            (
                OVERRIDE_KEY,
                where + f"datapointsToAlarm ({alarm.datapoints_to_alarm}) cannot exceed "
                f"evaluationPeriods ({alarm.evaluation_periods})",
            )
        )


def _render(detection: Detection, profile: str, override: _Override, groups: tuple[str, ...]) -> str | None:
    pattern = detection.patterns[profile]
    if PRIVILEGED_GROUPS_MARKER in pattern:
        if not groups:
            return None
        clause = " || ".join(f"($.requestParameters.groupName = {quote(group)})" for group in groups)
        pattern = pattern.replace(PRIVILEGED_GROUPS_MARKER, clause)
    exclusions: list[str] = []
    for arn in override.exclude_principals or ():
        # != alone would drop events that carry no ARN at all; keep them.
        exclusions.append(f"(($.userIdentity.arn NOT EXISTS) || ($.userIdentity.arn != {quote(arn)}))")
    for name in override.exclude_event_names or ():
        exclusions.append(f"($.eventName != {quote(name)})")
    if not exclusions:
        return pattern
    body = pattern.strip()[1:-1].strip()
    return "{ (" + body + ") && " + " && ".join(exclusions) + " }"


def describe(enabled: list[EnabledDetection]) -> list[dict[str, Any]]:
    """A plain summary for tools and reports."""
    return [
        {
            "id": item.id,
            "title": item.detection.title,
            "severity": item.detection.severity,
            "securityHub": item.detection.security_hub,
            "metricName": item.detection.metric_name,
            "pattern": item.pattern,
            "threshold": item.alarm.threshold,
            "period": item.alarm.period,
            "evaluationPeriods": item.alarm.evaluation_periods,
            "datapointsToAlarm": item.alarm.datapoints_to_alarm,
            "evaluationWindow": item.alarm.evaluation_window,
        }
        for item in enabled
    ]
