"""Flood control in the stack: a window table, and a schedule that sends the digests when bursts end."""

from __future__ import annotations

import pytest

from handlers.flood import FLUSH_MINUTES
from tests.components.program import named, run_stack

TABLE = "aws:dynamodb/table:Table"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION = "aws:lambda/function:Function"
PREFIX = "login-monitoring-sign-in-notifier"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def test_the_schedule_invokes_the_notifier_and_only_it_may(dev):
    rule = named(dev, RULE, f"{PREFIX}-digests")
    assert rule.inputs["scheduleExpression"] == f"rate({FLUSH_MINUTES} minutes)"
    function = named(dev, FUNCTION, f"{PREFIX}-function")
    target = named(dev, TARGET, f"{PREFIX}-digests-target")
    assert target.inputs["rule"] == rule.state["name"] and target.inputs["arn"] == function.state["arn"]
    permission = named(dev, PERMISSION, f"{PREFIX}-invoke-from-schedule")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.state["arn"]
    assert permission.inputs["sourceAccount"] == "123456789012"
    assert permission.urn in target.dependencies


def test_the_window_table_expires_its_items_and_can_be_recovered(dev):
    table = named(dev, TABLE, f"{PREFIX}-flood")
    assert table.inputs["hashKey"] == "windowKey"
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert table.inputs["pointInTimeRecovery"]["enabled"] is True
    assert table.inputs["serverSideEncryption"]["enabled"] is True


def test_a_quiet_time_of_zero_turns_flood_control_off_and_adds_nothing():
    run = run_stack(mailQuietMinutes=0)
    assert run.of_type(RULE) == [] and run.of_type(TARGET) == []
    assert [t.name for t in run.of_type(TABLE)] == [f"{PREFIX}-history"]
    variables = named(run, FUNCTION, f"{PREFIX}-function").inputs["environment"]["variables"]
    assert variables["FLOOD_TABLE_NAME"] == "" and variables["MAIL_QUIET_MINUTES"] == "0"


def test_a_quiet_time_beyond_a_day_is_refused_naming_the_key():
    from components.settings import SettingsError

    with pytest.raises(SettingsError, match="login-monitoring:mailQuietMinutes"):
        run_stack(mailQuietMinutes=1441)


def test_the_burst_limit_reaches_the_notifier_and_is_checked():
    from components.settings import SettingsError

    run = run_stack(mailBurstLimit=3)
    variables = named(run, FUNCTION, f"{PREFIX}-function").inputs["environment"]["variables"]
    assert variables["MAIL_BURST_LIMIT"] == "3"
    with pytest.raises(SettingsError, match="login-monitoring:mailBurstLimit: must be between 1 and 100 first mails"):
        run_stack(mailBurstLimit=0)
