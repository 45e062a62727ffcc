"""Every planned input checked against AWS's API models in botocore, as the provider would send it."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
import yaml

from offline import api_check
from offline.api_inputs import API
from offline.plan import main
from offline.stack_config import PROJECT_DIR, load_stack_config

DECODED_TEAMS_CHANNEL = "19:b6ef35dc342d56ba5654e6fc6d25a071@thread.tacv2"


def _with_input(run, type_token: str, key: str, value):
    """The plan with one input of the first resource of that type changed (None: removed)."""
    target = run.of_type(type_token)[0]
    inputs = {k: v for k, v in target.inputs.items() if k != key}
    if value is not None:
        inputs[key] = value
    changed = replace(target, inputs=inputs)
    return replace(run, resources=[changed if r is target else r for r in run.resources]), target.name


def test_every_planned_input_goes_to_an_api_member(planned, plans):
    for plan in planned:
        if plan.run is not None:
            assert api_check.unmapped_inputs(plan.run) == [], f"{plan.label}: map the inputs in offline/api_inputs.py"


def test_an_input_no_member_receives_is_reported(plans):
    run, _ = _with_input(plans["dev"], "aws:sns/topic:Topic", "deliveryPolicyTypo", "{}")
    assert api_check.unmapped_inputs(run) == ["aws:sns/topic:Topic deliveryPolicyTypo"]


def test_every_example_plan_is_what_the_api_models_accept(plans):
    for stack, run in plans.items():
        assert api_check.check(run) == [], stack


def test_the_decoded_teams_channel_id_is_refused_by_the_api_model_naming_its_key(plans):
    run, name = _with_input(
        plans["member-a"],
        "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration",
        "channelId",
        DECODED_TEAMS_CHANNEL,
    )
    config = dict(load_stack_config("member-a", example=True).values)
    config["login-monitoring:teamsChannelId"] = DECODED_TEAMS_CHANNEL
    (problem,) = api_check.check(run, config)
    assert problem.key == "login-monitoring:teamsChannelId"
    assert "CreateMicrosoftTeamsChannelConfiguration requires for ChannelId" in problem.message
    assert "%3[aA]" in problem.message and f"({name}.channelId)" in problem.message


def test_the_offline_plan_fails_on_the_decoded_teams_channel_id_naming_its_key(tmp_path, capsys):
    for file in ("Pulumi.yaml", "__main__.py", "examples/Pulumi.member-a.yaml", "examples/Pulumi.hub.yaml"):
        shutil.copy(PROJECT_DIR / file, tmp_path / file.removeprefix("examples/"))
    stack = yaml.safe_load((tmp_path / "Pulumi.member-a.yaml").read_text())
    stack["config"]["login-monitoring:teamsChannelId"] = DECODED_TEAMS_CHANNEL
    (tmp_path / "Pulumi.member-a.yaml").write_text(yaml.safe_dump(stack))

    assert main(["member-a", "--project-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "login-monitoring:teamsChannelId:" in captured.err and DECODED_TEAMS_CHANNEL in captured.err


@pytest.mark.parametrize(
    ("type_token", "key", "value", "words"),
    [
        (
            "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration",
            "loggingLevel",
            "LOUD",
            "does not match the pattern (ERROR|INFO|NONE)",
        ),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "alarmDescription", "x" * 1025, "takes at most 1024"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "evaluationPeriods", 0, "takes at least 1"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "comparisonOperator", "Bigger", "is not one of"),
        ("aws:lambda/function:Function", "runtime", "python2.1", "is not one of"),
        ("aws:lambda/function:Function", "memorySize", 64, "takes at least 128"),
        ("aws:lambda/permission:Permission", "principal", None, "AddPermission requires Principal"),
        ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "name", "bad:name", "does not match the pattern"),
        ("aws:dynamodb/table:Table", "billingMode", "FREE", "is not one of PROVISIONED, PAY_PER_REQUEST"),
        ("aws:sns/topicSubscription:TopicSubscription", "protocol", None, "Subscribe requires Protocol"),
    ],
)
def test_values_the_api_refuses_are_found(plans, type_token, key, value, words):
    run, name = _with_input(plans["member-a"], type_token, key, value)
    problems = api_check.check(run)
    assert len(problems) == 1 and problems[0].resource == name
    assert words in problems[0].message


def test_api_operations_exist_in_botocore():
    for type_token, call in API.items():
        model = api_check._model(call.service)
        operations = {call.operation} | {t.split(":", 1)[0] for t in call.renames.values() if ":" in t}
        assert operations <= set(model.operation_names), type_token
