"""The offline plan: the command a reviewer without AWS credentials runs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from offline.plan import main
from offline.stack_config import PROJECT_DIR
from tests.components.test_settings import BAD_VALUES


def test_tree_of_the_example_stack_shows_every_resource_under_its_parent(capsys):
    assert main(["dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack login-monitoring/dev (offline plan: account 123456789012, region us-east-1)")
    for type_token in (
        "loginmonitoring:index:LoginMonitoring",
        "loginmonitoring:index:CloudTrailLogging",
        "loginmonitoring:index:AlertTopic",
        "loginmonitoring:index:DetectionAlarms",
        "loginmonitoring:index:SignInNotifier",
        "aws:cloudtrail/trail:Trail",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:sns/topic:Topic",
        "aws:lambda/function:Function",
        "aws:dynamodb/table:Table",
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
    ):
        assert type_token in out
    assert "└─ loginmonitoring:index:LoginMonitoring  login-monitoring" in out
    assert "│  ├─ aws:sns/topic:Topic  login-monitoring-alerts" in out
    assert "threshold: 5" in out and "period: 900" in out
    assert "[CloudTrailWrite] Allow s3:PutObject on arn:aws:s3:::" in out
    assert "Outputs:" in out and "alertTopicArn: arn:aws:sns:us-east-1:123456789012:" in out


def test_json_plan_lists_resources_with_parents_and_inputs(capsys):
    assert main(["dev", "--json", "--account-id", "210987654321", "--region", "eu-west-1"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["accountId"] == "210987654321" and plan["region"] == "eu-west-1"
    by_name = {r["name"]: r for r in plan["resources"]}
    trail = by_name["login-monitoring-cloudtrail-trail"]
    assert trail["parent"] == by_name["login-monitoring-cloudtrail"]["urn"]
    assert trail["inputs"]["cloudWatchLogsGroupArn"].startswith("arn:aws:logs:eu-west-1:210987654321:")
    assert by_name["login-monitoring-sign-in-notifier-function"]["inputs"]["code"]["archive"]


def _project_with_stack(tmp_path, config: dict):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.review.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


@pytest.mark.parametrize(
    ("values", "key", "words"), BAD_VALUES, ids=[case[1] + "-" + str(i) for i, case in enumerate(BAD_VALUES)]
)
def test_each_bad_value_exits_non_zero_naming_the_key(tmp_path, capsys, values, key, words):
    config = {"aws:region": "us-east-1", "login-monitoring:alertEmails": ["security@example.com"]}
    config.update({f"login-monitoring:{k}": v for k, v in values.items()})
    project = _project_with_stack(tmp_path, config)

    assert main(["review", "--project-dir", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"login-monitoring:{key}:" in captured.err and words in captured.err


def test_missing_stack_file_names_the_known_stacks(capsys):
    assert main(["nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "no stack file Pulumi.nonexistent.yaml" in err and "dev" in err


def test_secrets_cannot_be_planned_offline(tmp_path, capsys):
    project = _project_with_stack(tmp_path, {"login-monitoring:alertEmails": {"secure": "AAABAx=="}})
    assert main(["review", "--project-dir", str(project)]) == 2
    assert "login-monitoring:alertEmails is a secret" in capsys.readouterr().err


def test_all_stacks_are_planned_hub_first_with_members_reading_its_outputs(capsys):
    assert main(["--all"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert lines[0].split()[:3] == ["ok", "hub", "hub"]
    assert {line.split()[1] for line in lines} == {"hub", "dev", "member-a", "member-b", "management"}
    for member in ("member-a", "member-b", "management"):
        line = next(line for line in lines if line.split()[1] == member)
        assert line.endswith("reports to acme/login-monitoring/hub")


def test_all_stacks_as_json(capsys):
    assert main(["--all", "--json"]) == 0
    plans = {p["stack"]: p for p in json.loads(capsys.readouterr().out)}
    hub_topic = plans["hub"]["plan"]["outputs"]["hubTopicArn"]
    forwarder = next(
        r
        for r in plans["member-b"]["plan"]["resources"]
        if r["type"] == "aws:lambda/function:Function" and "forwarder" in r["name"]
    )
    assert forwarder["inputs"]["environment"]["variables"]["HUB_TOPIC_ARN"] == hub_topic


def test_a_single_member_is_planned_with_its_hub(capsys):
    assert main(["member-a", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    link = next(r for r in plan["resources"] if r["type"] == "aws:oam/link:Link")
    assert link["inputs"]["sinkIdentifier"].startswith("arn:aws:oam:us-east-1:210987654321:sink/")


def test_a_broken_stack_is_reported_and_the_others_still_planned(tmp_path, capsys):
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.hub.yaml", "Pulumi.member-a.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.orphan.yaml").write_text(
        yaml.safe_dump({"config": {"login-monitoring:hubStack": "acme/login-monitoring/nowhere"}})
    )
    assert main(["--all", "--project-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "  ok    member-a" in out and "  ok    hub" in out
    assert "  FAIL  orphan" in out and "stack 'acme/login-monitoring/nowhere' has no output hubTopicArn" in out
