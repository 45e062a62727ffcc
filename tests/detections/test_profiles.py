from __future__ import annotations

import pytest

from detections import profiles
from detections.catalog import console_login, ct
from detections.profiles import DetectionSettingsError, resolve_detections


def by_id(*args, **kwargs):
    return {item.id: item for item in resolve_detections(*args, **kwargs)}


def problems(*args, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(DetectionSettingsError) as caught:
        resolve_detections(*args, **kwargs)
    return caught.value.problems


def test_recommended_is_the_richer_profile():
    assert len(by_id("recommended")) > len(by_id("cis")) - 1


def test_disable_a_detection():
    assert "vpc-changes" not in by_id("recommended", ("vpc-changes.enabled=false",))
    assert "vpc-changes" in by_id("recommended", ("vpc-changes.enabled=true",))


def test_alarm_settings_are_overridden_per_detection():
    item = by_id(
        "recommended",
        (
            "unauthorized-api-calls.threshold=20",
            "unauthorized-api-calls.period=600",
            "unauthorized-api-calls.evaluationPeriods=3",
            "unauthorized-api-calls.datapointsToAlarm=2",
        ),
    )["unauthorized-api-calls"]
    assert (item.alarm.threshold, item.alarm.period, item.alarm.evaluation_periods, item.alarm.datapoints_to_alarm) == (
        20,
        600,
        3,
        2,
    )


def test_alarms_use_the_sliding_window_unless_a_wall_clock_window_is_asked_for():
    detections = by_id("recommended", ("root-account-usage.evaluationWindow=wallClock",))
    assert detections["root-account-usage"].alarm.evaluation_window == "wallClock"
    assert {item.alarm.evaluation_window for key, item in detections.items() if key != "root-account-usage"} == {
        "sliding"
    }


def test_failed_sign_in_alarm_follows_its_own_settings():
    item = by_id("cis", failed_sign_in_threshold=3, failed_sign_in_window_seconds=300)["failed-console-sign-ins"]
    assert (item.alarm.threshold, item.alarm.period) == (3, 300)


def test_excluded_principal_no_longer_matches_but_events_without_an_arn_still_do():
    scanner = "arn:aws:sts::111122223333:assumed-role/Scanner/*"
    item = by_id("recommended", (f"unauthorized-api-calls.excludePrincipals={scanner}",))["unauthorized-api-calls"]
    assert '($.userIdentity.arn != "arn:aws:sts::111122223333:assumed-role/Scanner/*")' in item.pattern
    denied = {"errorCode": "AccessDenied"}
    from_scanner = ct(
        "GetObject",
        "s3.amazonaws.com",
        {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Scanner/run-42"},
        **denied,
    )
    from_someone = ct("GetObject", "s3.amazonaws.com", **denied)
    without_arn = ct("GetObject", "s3.amazonaws.com", {"type": "AWSAccount", "accountId": "444455556666"}, **denied)
    assert item.compiled.matches(from_scanner) is False
    assert item.compiled.matches(from_someone) is True
    assert item.compiled.matches(without_arn) is True


def test_excluded_event_names_repeat():
    item = by_id(
        "recommended",
        (
            "unauthorized-api-calls.excludeEventNames=GetBucketLocation",
            "unauthorized-api-calls.excludeEventNames=ListBuckets",
        ),
    )["unauthorized-api-calls"]
    assert item.compiled.matches(ct("ListBuckets", "s3.amazonaws.com", errorCode="AccessDenied")) is False
    assert item.compiled.matches(ct("GetBucketLocation", "s3.amazonaws.com", errorCode="AccessDenied")) is False
    assert item.compiled.matches(ct("GetObject", "s3.amazonaws.com", errorCode="AccessDenied")) is True


def test_privileged_groups_are_rendered_into_the_pattern():
    item = by_id("recommended", privileged_groups=("Admins", "Break.Glass"))["privileged-group-changes"]
    assert item.compiled.matches(
        ct("AddUserToGroup", "iam.amazonaws.com", requestParameters={"groupName": "Break.Glass"})
    )
    assert not item.compiled.matches(
        ct("AddUserToGroup", "iam.amazonaws.com", requestParameters={"groupName": "Administrators"})
    )
    assert "privileged-group-changes" not in by_id("recommended", privileged_groups=())


@pytest.mark.parametrize(
    ("args", "kwargs", "key", "words"),
    [
        (("paranoid",), {}, "detectionProfile", "must be one of cis, recommended"),
        (
            ("recommended", ("no-such-detection.enabled=false",)),
            {},
            "detectionOverrides",
            "no detection has the id 'no-such-detection'",
        ),
        (("recommended", ("vpc-changes",)), {}, "detectionOverrides", "is not of the form"),
        (("recommended", ("vpc-changes.colour=red",)), {}, "detectionOverrides", "unknown setting 'colour'"),
        (("recommended", ("vpc-changes.enabled=no",)), {}, "detectionOverrides", "enabled takes true or false"),
        (("recommended", ("vpc-changes.threshold=0",)), {}, "detectionOverrides", "at least 1"),
        (("recommended", ("vpc-changes.period=90",)), {}, "detectionOverrides", "whole number of minutes"),
        (("recommended", ("vpc-changes.evaluationWindow=rolling",)), {}, "detectionOverrides", "sliding or wallClock"),
        (
            ("recommended", ("failed-console-sign-ins.evaluationWindow=wallClock",)),
            {},
            "detectionOverrides",
            "failed-console-sign-ins: a wall clock window needs a period of 60, 300, 3600, 86400 seconds, got 900",
        ),
        (
            ("recommended", ("vpc-changes.period=3600", "vpc-changes.evaluationPeriods=48")),
            {},
            "detectionOverrides",
            "may not exceed one day",
        ),
        (
            ("recommended", ("vpc-changes.datapointsToAlarm=3",)),
            {},
            "detectionOverrides",
            "datapointsToAlarm (3) cannot exceed evaluationPeriods (1)",
        ),
        (
            ("recommended", ("failed-console-sign-ins.threshold=3",)),
            {},
            "detectionOverrides",
            "set failedSignInThreshold",
        ),
        (("cis", ("root-console-sign-in.enabled=false",)), {}, "detectionOverrides", "not part of the 'cis' profile"),
        (
            ("cis", ("unauthorized-api-calls.excludeEventNames=HeadBucket",)),
            {},
            "detectionOverrides",
            "Security Hub CloudWatch.2 fails on any added term",
        ),
        (
            ("recommended", ("unauthorized-api-calls.excludePrincipals=Scanner",)),
            {},
            "detectionOverrides",
            "is not an IAM or STS principal ARN",
        ),
        (
            ("recommended", ('unauthorized-api-calls.excludeEventNames=Get" || "x',)),
            {},
            "detectionOverrides",
            "is not a CloudTrail event name",
        ),
        (("recommended",), {"privileged_groups": ("Admins; drop",)}, "privilegedGroups", "is not an IAM group name"),
    ],
)
def test_bad_settings_name_the_key_and_the_entry(args, kwargs, key, words):
    found = problems(*args, **kwargs)
    assert any(k == key and words in message for k, message in found), found


def test_exclusions_that_overflow_the_pattern_limit_are_reported_by_detection():
    entries = tuple(
        f"unauthorized-api-calls.excludePrincipals=arn:aws:iam::111122223333:role/Role{i:03d}" for i in range(20)
    )
    found = problems("recommended", entries)
    assert any("unauthorized-api-calls: the rendered pattern is not valid" in m and "1024" in m for _, m in found)


def test_metric_filter_limit(monkeypatch):
    monkeypatch.setattr(profiles, "MAX_METRIC_FILTERS_PER_LOG_GROUP", 3)
    assert any("exceed the 3 CloudWatch Logs allows" in m for _, m in problems("recommended"))


def test_no_mfa_is_not_raised_for_identity_center_console_access():
    identity_center = {
        "type": "AssumedRole",
        "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/taro",
        "accountId": "111122223333",
    }
    item = by_id("recommended")["console-sign-in-without-mfa"]
    assert item.compiled.matches(console_login(identity_center, mfa="No")) is False
