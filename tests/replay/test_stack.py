"""Replay and backtest take the notifier's settings from the stack, not from defaults."""

from __future__ import annotations

from components.settings import load_settings
from offline.stack_config import load_stack_config
from replay.stack import report_context, stack_replay


def settings_with(**values):
    config = load_stack_config(
        "dev", example=True, overrides={f"login-monitoring:{key}": value for key, value in values.items()}
    )
    return load_settings(lambda key: config.get(f"{config.project}:{key}"))


def test_the_replay_uses_the_stacks_risk_flood_and_alarm_mail_settings():
    settings = settings_with(
        riskNewCountry=False, riskSprayUserNames=7, mailQuietMinutes=30, alarmResolvedMails=True, notifyOn="risky"
    )
    replay = stack_replay(settings)
    assert (replay.risk.new_country, replay.risk.spray_user_names) == (False, 7)
    assert (replay.mail_quiet_minutes, replay.alarm_resolved_mails, replay.notify_on) == (30, True, "risky")
    assert [item.id for item in replay.detections] == [item.id for item in settings.detections]
    assert report_context("dev", settings)["mailQuietMinutes"] == 30
    assert replay.outlier_floor == (settings.outlier_floor if settings.outlier_alarm else None)


def test_chosen_detections_replace_the_stacks():
    settings = settings_with()
    assert stack_replay(settings, settings.detections[:1]).detections == list(settings.detections[:1])
