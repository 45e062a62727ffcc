"""Strict config: a misspelled key, a made-up Region or a contradiction fails, naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from components import hub
from components.config_keys import FAILED_SIGN_INS, aws_config_keys, ignored_settings
from components.outlier_alarm import DETECTION_ID as OUTLIER_DETECTION
from components.settings import CONFIG_NAMESPACE, LoginMonitoringArgs, SettingsError, load_settings
from detections.profiles import resolve_detections
from offline.plan import main as plan_main
from offline.stack_config import PROJECT_DIR, StackConfigError, load_stack_config
from tests.components.program import run_stack

NS = CONFIG_NAMESPACE


def problems_for(stack: str = "dev", **values) -> list[tuple[str, str]]:
    """values by full key (`login-monitoring:notifyOn`, `aws:region`); the stack's own keys stay."""
    config = load_stack_config(stack, overrides=values, example=True)
    with pytest.raises(SettingsError) as caught:
        load_settings(lambda key: config.get(f"{NS}:{key}"), config.values)
    return caught.value.problems


def message_for(key: str, **values) -> str:
    problems = problems_for(**values)
    messages = [message for problem_key, message in problems if problem_key == key]
    assert messages, problems
    return messages[0]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        (f"{NS}:failedSigninThreshold", 3, f"did you mean {NS}:failedSignInThreshold?"),
        (f"{NS}:alertemails", ["a@example.com"], f"did you mean {NS}:alertEmails?"),
        (f"{NS}:notifyOnn", "risky", f"did you mean {NS}:notifyOn?"),
        (f"{NS}:colour", "blue", "known keys: accountAlias, accountDashboard, alarmResolvedMails,"),
        ("aws:regoin", "us-east-1", "did you mean aws:region?"),
        ("aws:allowedAccountId", ["111122223333"], "did you mean aws:allowedAccountIds?"),
        ("login-monitorng:alertEmails", ["a@example.com"], f"unknown namespace 'login-monitorng'; did you mean {NS}:"),
    ],
)
def test_an_unknown_key_fails_with_the_key_it_probably_meant(key, value, words):
    message = message_for(key, **{key: value})
    assert message.startswith("unknown") and words in message


def test_the_aws_keys_are_the_providers_own():
    assert {"region", "allowedAccountIds", "assumeRoles", "defaultTags", "profile"} <= aws_config_keys()


def test_keys_of_other_namespaces_are_left_alone():
    config = load_stack_config("dev", example=True, overrides={"pulumi:template": "x", "random:seed": "1"})
    assert load_settings(lambda key: config.get(f"{NS}:{key}"), config.values)


@pytest.mark.parametrize(
    ("region", "words"), [("us-east-9", "'us-east-9' is not an AWS Region; did you mean us-east-"), ("mars-1", "")]
)
def test_the_region_must_be_a_real_aws_region(region, words):
    message = message_for("aws:region", **{"aws:region": region})
    assert "is not an AWS Region" in message and words in message


def test_account_id_lists_must_hold_account_ids():
    message = message_for("aws:allowedAccountIds", **{"aws:allowedAccountIds": ["1111"]})
    assert "must be a list of 12-digit account ids" in message


def test_contradicting_overrides_fail_naming_both_entries():
    message = message_for(
        "detectionOverrides",
        **{f"{NS}:detectionOverrides": ["vpc-changes.enabled=false", "vpc-changes.enabled=true"]},
    )
    assert message == "'vpc-changes.enabled=true' contradicts 'vpc-changes.enabled=false'"


@pytest.mark.parametrize(
    "entries",
    [
        ["unauthorized-api-calls.threshold=10", "unauthorized-api-calls.threshold=10"],
        ["unauthorized-api-calls.excludeEventNames=HeadBucket"] * 2,
    ],
)
def test_a_repeated_override_fails(entries):
    message = message_for("detectionOverrides", **{f"{NS}:detectionOverrides": entries})
    assert message == f"{entries[1]!r} repeats {entries[0]!r}"


def test_different_exclusions_of_one_detection_may_repeat():
    config = load_stack_config(
        "dev",
        example=True,
        overrides={
            f"{NS}:detectionOverrides": [
                "unauthorized-api-calls.excludeEventNames=HeadBucket",
                "unauthorized-api-calls.excludeEventNames=GetBucketLocation",
            ]
        },
    )
    assert load_settings(lambda key: config.get(f"{NS}:{key}"), config.values)


def test_every_problem_is_reported_in_one_pass():
    problems = problems_for(
        **{
            f"{NS}:failedSigninThreshold": 3,
            "aws:region": "us-east-9",
            f"{NS}:notifyOn": "sometimes",
            f"{NS}:failedSignInWindowSeconds": "ten",
            f"{NS}:detectionOverrides": ["vpc-changes.enabled=false", "vpc-changes.enabled=true"],
        }
    )
    assert {key for key, _ in problems} == {
        f"{NS}:failedSigninThreshold",
        "aws:region",
        "notifyOn",
        "failedSignInWindowSeconds",
        "detectionOverrides",
    }


def test_duplicate_keys_in_a_stack_file_fail_naming_the_key_and_lines(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.twice.yaml").write_text(
        f"config:\n  {NS}:notifyOn: all\n  aws:region: us-east-1\n  {NS}:notifyOn: risky\n"
    )
    with pytest.raises(StackConfigError, match=f"duplicate keys: {NS}:notifyOn \\(line 4, first on line 2\\)"):
        load_stack_config("twice", tmp_path)


@pytest.mark.parametrize(
    ("stack", "values", "warning"),
    [
        ("hub", {"displayTimezone": "Asia/Tokyo"}, f"{NS}:displayTimezone is set but ignored: a hub deploys no"),
        ("hub", {"detectionOverrides": ["vpc-changes.enabled=false"]}, f"{NS}:detectionOverrides is set but ignored"),
        ("hub", {"outlierFloor": 8}, f"{NS}:outlierFloor is set but ignored: a hub deploys no"),
        ("hub", {"riskNewCountry": False}, f"{NS}:riskNewCountry is set but ignored: a hub deploys no"),
        ("hub", {"mailBurstLimit": 20}, f"{NS}:mailBurstLimit is set but ignored: a hub deploys no"),
        (
            "dev",
            {"trailMode": "existing", "existingLogGroupName": "org-trail", "trailEvents": "all"},
            f"{NS}:trailEvents is set but ignored: trailMode 'existing' creates no trail",
        ),
        ("dev", {"organizationId": "o-a1b2c3d4e5"}, f"{NS}:organizationId is set but ignored"),
        (
            "dev",
            {"contributorInsights": False, "topSourceIpThreshold": 20},
            f"{NS}:topSourceIpThreshold is set but ignored: only the Contributor Insights alarm",
        ),
        ("dev", {"outlierAlarm": False, "outlierFloor": 8}, f"{NS}:outlierFloor is set but ignored: only the outlier"),
        (
            "dev",
            {"detectionOverrides": ["failed-console-sign-ins.enabled=false"], "failedSignInThreshold": 3},
            f"{NS}:failedSignInThreshold is set but ignored: the stack's detections leave failed-console-sign-ins out",
        ),
        (
            "dev",
            {"detectionOverrides": ["failed-console-sign-ins.enabled=false"], "outlierFloor": 8},
            f"{NS}:outlierFloor is set but ignored: only the outlier alarm uses it",
        ),
        (
            "dev",
            {"outlierAlarm": False, "accountDashboard": False, "outlierBandWidth": 3},
            f"{NS}:outlierBandWidth is set but ignored: only the outlier alarm and the account dashboard",
        ),
        (
            "dev",
            {"memberSignInLogGroupArns": ["arn:aws:logs:us-east-1:111122223333:log-group:x"]},
            f"{NS}:memberSignInLogGroupArns is set but ignored: only a hub's dashboard",
        ),
    ],
)
def test_a_key_the_stack_ignores_is_a_warning(stack, values, warning):
    run = run_stack(stack, **values)
    assert any(line.startswith(warning) for line in run.warnings), run.warnings


def test_the_offline_plan_fails_on_a_misspelled_key_like_preview(tmp_path, capsys):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((PROJECT_DIR / "__main__.py").read_text())
    (tmp_path / "Pulumi.typo.yaml").write_text(
        f"config:\n  aws:regoin: us-east-1\n  {NS}:alertEmails: [a@example.com]\n  {NS}:failedSigninThreshold: 3\n"
    )
    assert plan_main(["typo", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "  aws:regoin: unknown key; nothing reads aws:regoin; did you mean aws:region?" in err
    assert f"did you mean {NS}:failedSignInThreshold?" in err


@pytest.mark.parametrize(
    ("account", "words"),
    [
        ("123456789012", "aws:allowedAccountIds: --account-id 123456789012 is not among 111122223333"),
        ("1234", "is not a 12-digit account id"),
    ],
)
def test_the_plan_account_must_be_one_the_stack_allows(capsys, account, words):
    assert plan_main(["member-a", "--account-id", account]) == 2
    assert words in capsys.readouterr().err


# A valid value other than the default, where flipping a bool or adding one to a number does not give one.
_OTHER_VALUES = {
    "health_emails": ("ops@example.com",),
    "trail_mode": "existing",
    "existing_log_group_name": "org-trail",
    "trail_events": "all",
    "trail_encryption": "kms",
    "trail_log_retention_days": 400,
    "failed_sign_in_window_seconds": 600,
    "notify_on": "risky",
    "display_timezone": "Asia/Tokyo",
    "notifier_log_retention_days": 60,
    "account_alias": "acme-prod",
    "detection_profile": "cis",
    "detection_overrides": ("vpc-changes.enabled=false",),
    "privileged_groups": ("Ops",),
    "tags": (("team", "security"),),
    "hub_stack": "acme/login-monitoring/hub",
    "organization_id": "o-z9y8x7w6v5",
    "management_account_id": "444455556666",
    "member_regions": ("eu-west-1",),
    "member_sign_in_log_group_arns": ("arn:aws:logs:us-east-1:111122223333:log-group:x",),
    "slack_workspace_id": "T0123ABCD",
    "slack_channel_id": "C0123ABCD",
    "teams_tenant_id": "a1b2c3d4-0000-1111-2222-333344445555",
    "teams_team_id": "b1b2c3d4-0000-1111-2222-333344445555",
    "teams_channel_id": "19%3aabc%40thread.tacv2",
    "alert_webhook_url": "https://hooks.example.com/alerts",
}
# Settings that are only valid together.
_TOGETHER = [
    ("slack_workspace_id", "slack_channel_id"),
    ("teams_tenant_id", "teams_team_id", "teams_channel_id"),
]
# What a hub refuses outright: a trail, a hub of its own, Athena on a trail bucket it lacks (key, words).
_HUB_REFUSES = {
    "trail_mode": ("trailMode", "the hub creates no trail"),
    "existing_log_group_name": ("trailMode", "the hub creates no trail"),
    "hub_stack": ("hubStack", "a hub does not reference another hub"),
    "backtest_athena": ("backtestAthena", "a hub or trailMode 'existing' has no trail bucket"),
}


def _other_values(field: dataclasses.Field) -> dict[str, object]:
    names = next((group for group in _TOGETHER if field.name in group), (field.name,))
    return (
        {name: _OTHER_VALUES[name] for name in names} if field.name in _OTHER_VALUES else {field.name: _flipped(field)}
    )


def _flipped(field: dataclasses.Field) -> object:
    if isinstance(field.default, bool):
        return not field.default
    if isinstance(field.default, int):
        return field.default + 1
    raise AssertionError(f"give {field.name} a valid value other than its default in _OTHER_VALUES")


def test_every_setting_a_hub_does_not_read_is_refused_or_named_as_ignored():
    hub_settings = LoginMonitoringArgs(
        alert_emails=("sec@example.com",), stack_role="hub", organization_id="o-a1b2c3d4e5"
    )
    builds = hub.hub_args(hub_settings)
    for field in dataclasses.fields(LoginMonitoringArgs):
        if field.name in ("alert_emails", "stack_role"):
            continue  # the hub's mail and its role itself
        values = _other_values(field)
        try:
            changed = dataclasses.replace(hub_settings, **values)
        except SettingsError as refused:
            key, words = _HUB_REFUSES.get(field.name, (None, None))
            assert any(problem == key and words in message for problem, message in refused.problems), (
                values,
                refused.problems,
            )
            continue
        assert field.name not in _HUB_REFUSES, values
        built = hub.hub_args(changed)
        # The field's own value reaches what the hub builds (not only a partner's of a group); tags are checked
        # on every resource by the tagging tests.
        value = values[field.name]
        reaches = not isinstance(value, str | tuple) or str(value).strip("()',") in repr(built)
        read = (built != builds and reaches) or field.name == "tags"
        ignored = [line for line in ignored_settings(changed, str) if line.startswith(f"{field.name} is set")]
        assert read != bool(ignored), f"{values}: read by the hub {read}, named as ignored {ignored}"


def test_the_failed_sign_in_detection_named_in_warnings_is_the_one_the_outlier_alarm_watches():
    assert FAILED_SIGN_INS == OUTLIER_DETECTION
    assert any(item.id == FAILED_SIGN_INS for item in resolve_detections("recommended"))
    assert any(item.id == FAILED_SIGN_INS for item in resolve_detections("cis"))
