"""A program's typed values build the same args as the stack config, with the same checks, named as it wrote them."""

from __future__ import annotations

import pulumi
import pytest

from components.settings import (
    LoginMonitoringArgs,
    SettingsError,
    load_settings,
    settings_from_hub_inputs,
    settings_from_inputs,
)
from offline.stack_config import load_stack_config

NS = "login-monitoring"


def input_problems(**values) -> list[tuple[str, str]]:
    with pytest.raises(SettingsError) as caught:
        settings_from_inputs(values)
    return caught.value.input_problems()


def test_left_out_inputs_take_the_args_defaults():
    assert settings_from_inputs({"alert_emails": ["a@example.com"]}) == LoginMonitoringArgs(
        alert_emails=("a@example.com",)
    )


def test_typed_values_give_the_args_the_dev_stack_config_gives():
    config = load_stack_config("dev", example=True)
    from_config = load_settings(lambda key: config.get(f"{NS}:{key}"))
    from_inputs = settings_from_inputs(
        {
            "alert_emails": ["security@example.com", "cloud-team@example.com"],
            "trail_events": "write",
            # Numbers arrive as floats from every language.
            "failed_sign_in_window_seconds": 900.0,
            "display_timezone": "Asia/Tokyo",
            "detection_overrides": [
                "unauthorized-api-calls.excludeEventNames=GetBucketLocation",
                "vpc-changes.enabled=false",
            ],
            "privileged_groups": ["Administrators", "BreakGlass"],
        }
    )
    assert from_inputs == from_config
    assert [(item.id, item.pattern, item.alarm) for item in from_inputs.detections] == [
        (item.id, item.pattern, item.alarm) for item in from_config.detections
    ]


def test_a_bad_list_item_is_named_by_its_index_in_the_list_as_given():
    problems = input_problems(alert_emails=["security@example.com", "not-an-address"])
    assert problems == [("alertEmails[1]", "'not-an-address' is not a mail address")]
    # Repeats are folded before the check; the index still points into the list as written.
    problems = input_problems(alert_emails=["a@example.com", "A@example.com", " b@c"], health_emails=["x"])
    assert ("alertEmails[2]", "'b@c' is not a mail address") in problems
    assert ("healthEmails[0]", "'x' is not a mail address") in problems


def test_wrong_types_and_bad_values_are_reported_together_by_input_name():
    problems = dict(
        input_problems(
            alert_emails="security@example.com",
            failed_sign_in_threshold=5.5,
            outlier_alarm="yes",
            trail_mode="sometimes",
            tags={"aws:team": "security"},
        )
    )
    assert problems["alertEmails"].startswith("must be a list of mail addresses")
    assert problems["failedSignInThreshold"] == "must be a whole number, got 5.5"
    assert problems["outlierAlarm"] == "must be true or false, got 'yes'"
    assert problems["trailMode"].startswith("must be one of create, existing, organization")
    assert "reserved for AWS" in problems["tags"]


def test_tags_are_a_map_and_an_unknown_name_is_refused():
    assert settings_from_inputs({"alert_emails": ["a@example.com"], "tags": {"team": "security"}}).tags == (
        ("team", "security"),
    )
    with pytest.raises(TypeError, match="no argument trail_modes"):
        settings_from_inputs({"trail_modes": "create"})


def test_the_stack_config_path_keeps_naming_the_full_config_key():
    config = load_stack_config("dev", example=True, overrides={f"{NS}:alertEmails": ["ok@example.com", "nope"]})
    with pytest.raises(SettingsError) as caught:
        load_settings(lambda key: config.get(f"{NS}:{key}"))
    assert "  login-monitoring:alertEmails: 'nope' is not a mail address" in str(caught.value).splitlines()


def test_only_the_webhook_may_be_an_output_and_is_kept_as_one():
    secret = pulumi.Output.secret("https://hooks.example.com/x")
    assert settings_from_inputs({"alert_emails": ["a@example.com"], "alert_webhook_url": secret}).alert_webhook_url is (
        secret
    )
    problems = dict(input_problems(alert_emails=["a@example.com"], account_alias=pulumi.Output.from_input("x")))
    assert problems["accountAlias"].startswith("must be a string")


def test_a_setting_the_trail_mode_ignores_is_a_warning_named_as_the_program_wrote_it(monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", warnings.append)
    existing = {"alert_emails": ["a@example.com"], "trail_mode": "existing", "existing_log_group_name": "org-trail"}
    settings_from_inputs(existing)
    assert warnings == []
    settings_from_inputs({**existing, "trail_events": "all", "organization_id": "o-a1b2c3d4e5"})
    assert warnings == [
        "trailEvents is set but ignored: trailMode 'existing' creates no trail",
        "organizationId is set but ignored: only a hub and trailMode 'organization' use it",
    ]


def test_a_hubs_typed_values_give_the_args_the_hub_stack_config_gives():
    config = load_stack_config("hub", example=True)
    from_config = load_settings(lambda key: config.get(f"{NS}:{key}"))
    from_inputs = settings_from_hub_inputs(
        {
            "alert_emails": ["security@example.com", "soc@example.com"],
            "organization_id": "o-a1b2c3d4e5",
            "member_regions": ["eu-west-1"],
            "member_sign_in_log_group_arns": [
                "arn:aws:logs:us-east-1:111122223333:log-group:login-monitoring-sign-in-notifier-logs-8f91928",
                "arn:aws:logs:eu-west-1:444455556666:log-group:login-monitoring-sign-in-notifier-logs-8f91928",
            ],
            "slack_workspace_id": "T07EA123LEP",
            "slack_channel_id": "C07EZ1ABC23",
        }
    )
    assert from_inputs == from_config and from_inputs.is_hub


def test_a_hub_takes_only_the_settings_a_hub_reads():
    # A member's setting on the hub would be ignored; a program is told at once instead.
    with pytest.raises(TypeError, match="LoginMonitoringHub takes no argument hub_stack, trail_mode"):
        settings_from_hub_inputs({"organization_id": "o-a1b2c3d4e5", "trail_mode": "existing", "hub_stack": "a/b/c"})
    with pytest.raises(SettingsError) as caught:
        settings_from_hub_inputs({"alert_emails": ["a@example.com"]})
    assert caught.value.input_problems() == [
        ("organizationId", "is required for the hub: only accounts of this organization may publish to it")
    ]
