"""The offline plan: the command a reviewer without AWS credentials runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

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
    assert "aws:s3/bucket:Bucket  login-monitoring-cloudtrail-bucket  (kept on destroy)" in out
    assert "│  ├─ aws:sns/topic:Topic  login-monitoring-alerts" in out
    assert "threshold: 5" in out and "period: 900" in out
    assert (
        "[CloudTrailWrite] Allow s3:PutObject on ${login-monitoring-cloudtrail-bucket.arn}/AWSLogs/123456789012/*"
        in out
    )
    assert "Outputs:" in out and 'alertTopicArn: "${login-monitoring-alerts.arn}"' in out


def test_json_plan_lists_resources_with_parents_and_inputs(capsys):
    assert main(["dev", "--json", "--account-id", "210987654321", "--region", "eu-west-1"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["accountId"] == "210987654321" and plan["region"] == "eu-west-1"
    by_name = {r["name"]: r for r in plan["resources"]}
    trail = by_name["login-monitoring-cloudtrail-trail"]
    assert trail["parent"] == by_name["login-monitoring-cloudtrail"]["urn"]
    # What AWS assigns is shown as computed, never as a made-up name; what the plan knows is shown as is.
    assert trail["inputs"]["cloudWatchLogsGroupArn"] == "${login-monitoring-cloudtrail-log-group.arn}:*"
    topic_policy = json.loads(by_name["login-monitoring-alerts-policy"]["inputs"]["policy"])
    condition = topic_policy["Statement"][0]["Condition"]
    assert condition["ArnLike"]["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:210987654321:alarm:*"
    # Kept on destroy shows in the plan, on the resources that have it only.
    assert by_name["login-monitoring-cloudtrail-bucket"]["retainOnDelete"] is True
    assert "retainOnDelete" not in trail
    archive = by_name["login-monitoring-sign-in-notifier-function"]["inputs"]["code"]["archive"]
    assert "handlers/notifier.py" in archive["handlers"] and len(archive["sha256"]) == 64


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
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("  ok ", "  FAIL "))]
    examples = [line for line in lines if line.split()[1].startswith("examples/")]
    assert examples[0].split()[:3] == ["ok", "examples/hub", "hub"]
    names = {f"examples/{name}" for name in ("hub", "dev", "member-a", "member-b", "management")}
    assert {line.split()[1] for line in examples} == names
    for member in ("member-a", "member-b", "management"):
        line = next(line for line in lines if line.split()[1] == f"examples/{member}")
        assert line.endswith("reports to acme/login-monitoring/hub")


def test_all_stacks_as_json(capsys):
    assert main(["--all", "--json"]) == 0
    plans = {p["stack"]: p for p in json.loads(capsys.readouterr().out) if p["example"]}
    assert plans["hub"]["plan"]["outputs"]["hubTopicArn"] == "${login-monitoring-hub-alerts.arn}"
    forwarder = next(
        r
        for r in plans["member-b"]["plan"]["resources"]
        if r["type"] == "aws:lambda/function:Function" and "forwarder" in r["name"]
    )
    hub_topic = "${acme/login-monitoring/hub.outputs.hubTopicArn}"
    assert forwarder["inputs"]["environment"]["variables"]["HUB_TOPIC_ARN"] == hub_topic


def test_a_single_member_is_planned_with_its_hub(capsys):
    assert main(["member-a", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    link = next(r for r in plan["resources"] if r["type"] == "aws:oam/link:Link")
    assert link["inputs"]["sinkIdentifier"] == "${acme/login-monitoring/hub.outputs.sinkArn}"


def test_a_broken_stack_is_reported_and_the_others_still_planned(tmp_path, capsys):
    _project(tmp_path, "hub", "member-a")
    (tmp_path / "Pulumi.orphan.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "login-monitoring:hubStack": "acme/login-monitoring/nowhere",
                    "login-monitoring:healthEmails": ["ops@example.com"],
                }
            }
        )
    )
    assert main(["--all", "--project-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "  ok    member-a" in out and "  ok    hub" in out
    assert "  FAIL  orphan" in out and "stack 'acme/login-monitoring/nowhere' has no output hubTopicArn" in out


def test_plans_are_the_same_bytes_across_runs_and_hash_seeds(capsys):
    # Registration order follows whichever output resolves first; the plan must not. A second process with
    # another hash seed plans what this one does.
    commands = [["member-b"], ["member-b", "--json"], ["--all", "--json"]]
    script = "from offline.plan import main; " + "; ".join(f"main({command!r})" for command in commands)
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    other = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONHASHSEED": seed},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for command in commands:
        assert main(command) == 0
    here = capsys.readouterr().out.encode()
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err.decode()[-2000:]
    assert out == here
    assert b"${" in here


def test_children_and_dependencies_are_listed_in_name_order(capsys):
    assert main(["dev", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    names = [(r["name"], r["type"]) for r in plan["resources"]]
    assert names == sorted(names)
    assert all(r["dependsOn"] == sorted(set(r["dependsOn"])) for r in plan["resources"])


def _saved_plan(tmp_path, capsys, stack="dev", project=PROJECT_DIR):
    assert main([stack, "--json", "--project-dir", str(project)]) == 0
    saved = tmp_path / "before.json"
    saved.write_text(capsys.readouterr().out)
    return saved


def test_diff_against_a_saved_plan_lists_exactly_the_changed_inputs(tmp_path, capsys):
    saved = _saved_plan(tmp_path, capsys)
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, project / name)
    config = yaml.safe_load((PROJECT_DIR / "examples" / "Pulumi.dev.yaml").read_text())
    config["config"]["login-monitoring:detectionOverrides"].append("unauthorized-api-calls.threshold=10")
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(config))

    assert main(["dev", "--project-dir", str(project), "--diff", str(saved), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["summary"] == {"create": 0, "delete": 0, "update": 1, "unchanged": diff["summary"]["unchanged"]}
    (update,) = diff["resources"]
    assert update["name"] == "login-monitoring-detections-unauthorized-api-calls-alarm"
    assert [change["path"] for change in update["changes"]] == ["alarmDescription", "threshold"]
    assert update["changes"][1] == {"path": "threshold", "before": 5, "after": 10}
    assert diff["outputs"] == []

    assert main(["dev", "--project-dir", str(project), "--diff", str(saved)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Plan login-monitoring/dev compared with {saved}: 0 to create, 0 to delete, 1 to update")
    assert "~ threshold: 5 -> 10" in text


def test_diff_of_an_unchanged_stack_says_so(tmp_path, capsys):
    saved = _saved_plan(tmp_path, capsys)
    assert main(["dev", "--diff", str(saved)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("No changes.")


def test_diff_of_two_stacks_compares_policies_statement_by_statement(capsys):
    assert main(["member-a", "--diff", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Plan login-monitoring/member-a compared with login-monitoring/dev:")
    bucket_policy = out.split("~ aws:s3/bucketPolicy:BucketPolicy  login-monitoring-cloudtrail-bucket-policy\n")[1]
    changed = bucket_policy.split("\n\n")[0].splitlines()
    assert changed[0].strip() == "~ policy: (policy, statement by statement)"
    # Only the statement naming the account changed; the others are not repeated.
    assert [line.split("]")[0].strip() for line in changed[1:]] == ["- [CloudTrailWrite", "+ [CloudTrailWrite"]
    assert "AWSLogs/111122223333/*" in changed[2]


@pytest.mark.parametrize(
    ("content", "words"), [(None, "no such file"), ("[1, 2]", "not a plan saved with --json"), ("{", "not a readable")]
)
def test_diff_against_something_that_is_not_a_plan_fails(tmp_path, capsys, content, words):
    path = tmp_path / "before.json"
    if content is not None:
        path.write_text(content)
    assert main(["dev", "--diff", str(path)]) == 2
    assert words in capsys.readouterr().err


def test_diff_shows_a_resource_that_destroy_would_no_longer_keep():
    from offline.plan_diff import diff_plans

    resource = {"type": "aws:s3/bucket:Bucket", "name": "b", "urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::b"}
    before = {"resources": [{**resource, "inputs": {}, "retainOnDelete": True}]}
    after = {"resources": [{**resource, "inputs": {}}]}
    diff = diff_plans(before, after, before_label="before", after_label="after")
    (update,) = diff.resources
    assert [(c.path, c.before, c.after) for c in update.changes] == [("(retainOnDelete)", True, False)]


def _project(tmp_path, *stacks: str):
    """A project whose own stacks are copies of the named examples."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    for stack in stacks:
        shutil.copy(PROJECT_DIR / "examples" / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    return tmp_path


def test_an_unreadable_stack_file_is_one_line_and_the_others_are_planned(tmp_path, capsys):
    project = _project(tmp_path, "hub", "dev")
    (project / "Pulumi.broken.yaml").write_text("config:\n  login-monitoring:notifyOn: [\n")
    assert main(["--all", "--project-dir", str(project)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines if line.startswith("  ")] == [
        ["ok", "hub"],
        ["ok", "dev"],
        ["FAIL", "broken"],
    ]
    assert lines[-1].endswith(
        "Pulumi.broken.yaml is not valid YAML: expected the node content, but found '<stream end>' (line 3, column 1)"
    )


def _plan_in_subprocess(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "offline.plan", *args],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_members_whose_hub_is_missing_fail_on_their_line_without_flooding_stderr(tmp_path):
    project = _project(tmp_path, "dev", "member-a", "member-b")
    process = _plan_in_subprocess("--all", "--project-dir", str(project))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err == b""
    fails = [line for line in out.decode().splitlines() if line.startswith("  FAIL")]
    assert [line.split()[1] for line in fails] == ["member-a", "member-b"]
    assert all("stack 'acme/login-monitoring/hub' has no output hubTopicArn" in line for line in fails)


def test_a_closed_stdout_ends_the_plan_quietly():
    # One stack's plan is some 200 KB, more than a pipe holds, so the plan is still writing when the reader goes.
    process = _plan_in_subprocess("dev", "--json")
    assert process.stdout.read(6) == b'{\n  "a'
    process.stdout.close()  # like `| head -c 6`: the reader is gone
    err = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert err == b""
