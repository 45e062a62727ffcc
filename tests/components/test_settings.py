"""Stack settings: defaults from Pulumi.yaml, and a clear, keyed error for every bad value."""

from __future__ import annotations

import pytest
import yaml

from components.settings import CONFIG_KEYS, CONFIG_NAMESPACE, LoginMonitoringArgs, SettingsError, load_settings
from offline.stack_config import PROJECT_DIR, as_config_string, load_stack_config

PROJECT = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())


def settings_for(**values):
    config = load_stack_config("dev", example=True, overrides={f"{CONFIG_NAMESPACE}:{k}": v for k, v in values.items()})
    return load_settings(lambda key: config.get(f"{CONFIG_NAMESPACE}:{key}"))


def problems_for(**values) -> list[tuple[str, str]]:
    with pytest.raises(SettingsError) as caught:
        settings_for(**values)
    return caught.value.problems


def test_project_name_is_the_config_namespace():
    assert PROJECT["name"] == CONFIG_NAMESPACE


def test_every_key_is_declared_with_a_type_description_and_default():
    declared = PROJECT["config"]
    assert set(declared) == set(CONFIG_KEYS)
    for key, declaration in declared.items():
        assert declaration["type"] in ("string", "integer", "boolean", "array"), key
        assert len(declaration["description"]) > 20, key
        assert "default" in declaration, key


def test_pulumi_yaml_defaults_equal_the_component_defaults():
    def declared_default(key):
        if key == "alertEmails":
            return '["a@example.com"]'
        return as_config_string(PROJECT["config"][key]["default"])

    assert load_settings(declared_default) == LoginMonitoringArgs(alert_emails=("a@example.com",))


def test_example_stack_loads():
    settings = settings_for()
    assert settings.alert_emails == ("security@example.com", "cloud-team@example.com")
    assert settings.display_timezone == "Asia/Tokyo"
    assert settings.failed_sign_in_threshold == 5 and settings.failed_sign_in_window_seconds == 900


def test_duplicate_recipients_collapse_case_insensitively():
    settings = settings_for(alertEmails=["Sec@Example.com", "sec@example.com", " ops@example.com "])
    assert settings.alert_emails == ("Sec@Example.com", "ops@example.com")


# Every bad value a user can type, the key it must name, and words the message must contain.
BAD_VALUES = [
    ({"alertEmails": []}, "alertEmails", "at least one mail recipient"),
    ({"alertEmails": ["security@example.com", "not-an-address"]}, "alertEmails", "'not-an-address' is not a mail"),
    ({"alertEmails": ["a@b"]}, "alertEmails", "is not a mail address"),
    ({"alertEmails": "security@example.com"}, "alertEmails", "must be a list of mail addresses"),
    ({"failedSignInThreshold": 0}, "failedSignInThreshold", "at least 1"),
    ({"failedSignInThreshold": "five"}, "failedSignInThreshold", "must be a whole number"),
    ({"failedSignInWindowSeconds": 90}, "failedSignInWindowSeconds", "whole number of minutes"),
    ({"failedSignInWindowSeconds": 30}, "failedSignInWindowSeconds", "whole number of minutes"),
    ({"failedSignInWindowSeconds": 86_460}, "failedSignInWindowSeconds", "whole number of minutes"),
    ({"trailMode": "organization-ish"}, "trailMode", "must be one of create, existing"),
    ({"trailMode": "existing"}, "existingLogGroupName", "is required when trailMode is 'existing'"),
    ({"trailMode": "existing", "existingLogGroupName": "bad name!"}, "existingLogGroupName", "not a valid log group"),
    ({"existingLogGroupName": "aws-cloudtrail-logs"}, "existingLogGroupName", "only used with trailMode 'existing'"),
    ({"trailEvents": "read"}, "trailEvents", "must be one of write, all"),
    ({"managementAccountId": "9999-8888-7777"}, "managementAccountId", "is not a 12-digit account id"),
    ({"trailEncryption": "aes"}, "trailEncryption", "must be one of s3, kms"),
    ({"encryptTrailLogGroup": "yes"}, "encryptTrailLogGroup", "must be true or false"),
    ({"displayTimezone": "Tokyo"}, "displayTimezone", "not an IANA time zone"),
    ({"displayTimezone": "../etc/passwd"}, "displayTimezone", "not an IANA time zone"),
    ({"trailLogRetentionDays": 100}, "trailLogRetentionDays", "not a retention CloudWatch Logs accepts"),
    ({"notifierLogRetentionDays": 2}, "notifierLogRetentionDays", "not a retention CloudWatch Logs accepts"),
    ({"trailBucketExpirationDays": 0}, "trailBucketExpirationDays", "at least 1 day"),
    ({"signInHistoryDays": -5}, "signInHistoryDays", "between 1 and 3653 days"),
    ({"signInHistoryDays": 3_000_000}, "signInHistoryDays", "between 1 and 3653 days"),
    # Zone names the deploying machine may resolve but the function's bundled tzdata does not.
    ({"displayTimezone": "posix/Asia/Tokyo"}, "displayTimezone", "not an IANA time zone"),
    ({"displayTimezone": "right/UTC"}, "displayTimezone", "not an IANA time zone"),
    ({"displayTimezone": "localtime"}, "displayTimezone", "not an IANA time zone"),
    ({"notifyOn": "failures"}, "notifyOn", "must be one of all, risky"),
    ({"riskNewCountry": "maybe"}, "riskNewCountry", "must be true or false"),
    (
        {"riskImpossibleTravelMinutes": -1},
        "riskImpossibleTravelMinutes",
        "between 0 and 10080 (0 turns the reason off)",
    ),
    ({"riskFailuresBeforeSuccess": "three"}, "riskFailuresBeforeSuccess", "must be a whole number"),
    ({"riskFailuresWindowMinutes": 0}, "riskFailuresWindowMinutes", "between 1 and 10080"),
    ({"riskSprayUserNames": 20_000}, "riskSprayUserNames", "between 0 and 10080"),
    ({"riskSprayWindowMinutes": 10_081}, "riskSprayWindowMinutes", "between 1 and 10080"),
    ({"encryptAlertTopic": "yes"}, "encryptAlertTopic", "must be true or false"),
    ({"detectionProfile": "paranoid"}, "detectionProfile", "must be one of cis, recommended"),
    (
        {"detectionOverrides": ["no-such-id.enabled=false"]},
        "detectionOverrides",
        "no detection has the id 'no-such-id'",
    ),
    ({"detectionOverrides": ["vpc-changes.period=45"]}, "detectionOverrides", "whole number of minutes"),
    ({"detectionOverrides": "vpc-changes.enabled=false"}, "detectionOverrides", "must be a list"),
    (
        {"detectionProfile": "cis", "detectionOverrides": ["unauthorized-api-calls.excludeEventNames=HeadBucket"]},
        "detectionOverrides",
        "Security Hub CloudWatch.2 fails on any added term",
    ),
    ({"privilegedGroups": ["bad group!"]}, "privilegedGroups", "is not an IAM group name"),
]


@pytest.mark.parametrize(
    ("values", "key", "words"), BAD_VALUES, ids=[case[1] + "-" + str(i) for i, case in enumerate(BAD_VALUES)]
)
def test_bad_values_fail_naming_the_key(values, key, words):
    problems = problems_for(**values)
    assert (key, next(message for k, message in problems if k == key)) in problems
    assert any(k == key and words in message for k, message in problems), problems


def test_all_problems_are_reported_at_once_with_full_key_names():
    with pytest.raises(SettingsError) as caught:
        settings_for(alertEmails=[], failedSignInThreshold="x", displayTimezone="Mars/Base")
    message = str(caught.value)
    for key in ("alertEmails", "failedSignInThreshold", "displayTimezone"):
        assert f"login-monitoring:{key}:" in message
    assert message.startswith("invalid stack configuration:")


def test_resolved_detections_travel_with_the_settings():
    settings = settings_for()
    ids = [item.id for item in settings.detections]
    assert "vpc-changes" not in ids and "failed-console-sign-ins" in ids
    assert (
        settings_for(detectionProfile="cis", detectionOverrides=[])
        .detections[0]
        .pattern.startswith('{$.userIdentity.type="Root"')
    )


def test_the_component_args_validate_themselves_for_programmatic_use():
    with pytest.raises(SettingsError, match="failedSignInThreshold"):
        LoginMonitoringArgs(alert_emails=("a@example.com",), failed_sign_in_threshold=0)
