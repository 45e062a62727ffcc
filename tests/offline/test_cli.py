"""Every command a user can run ends with one line naming what to fix, never a traceback: without AWS
credentials, with a wrong --outputs file, with a folder that holds no program."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import tomllib

import boto3
import pytest

from offline.stack_config import PROJECT_DIR

SCRIPTS = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["scripts"]
SAMPLE = str(PROJECT_DIR / "replay" / "sample" / "history")
OUTPUTS = {
    "alertTopicArn": "arn:aws:sns:eu-west-1:111122223333:login-monitoring-alerts",
    "notifierFunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:login-monitoring-notifier",
    "signInTableName": "login-monitoring-history",
    "failedSignInAlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:login-monitoring-failed",
    "failedEventsQueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/login-monitoring-failed",
}


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials anywhere botocore looks, and no metadata service to wait for."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # boto3's default session keeps the credentials an earlier test in this process found.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def _files(tmp_path):
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    (tmp_path / "hub-outputs.json").write_text(json.dumps({"hubTopicArn": "arn:aws:sns:eu-west-1:1:x"}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "bad-arn.json").write_text(json.dumps({**OUTPUTS, "notifierFunctionArn": "login-monitoring"}))
    stacks_only = tmp_path / "stacks-only"
    stacks_only.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", stacks_only / "Pulumi.yaml")
    shutil.copy(PROJECT_DIR / "examples" / "Pulumi.dev.yaml", stacks_only / "Pulumi.dev.yaml")
    (tmp_path / "empty").mkdir()


# (command, arguments with {tmp} for the test's folder, exit status, words the one line must hold)
CASES = [
    ("login-monitoring-verify", "--outputs {tmp}/outputs.json", 1, "no AWS credentials found: sign in first"),
    ("login-monitoring-verify", "--outputs {tmp}/missing.json", 2, "cannot read stack outputs from"),
    ("login-monitoring-verify", "--outputs {tmp}/broken.json", 2, "cannot read stack outputs from"),
    ("login-monitoring-verify", "--outputs {tmp}/hub-outputs.json", 2, "the stack outputs lack alertTopicArn"),
    ("login-monitoring-verify", "--outputs {tmp}/bad-arn.json", 2, "notifierFunctionArn 'login-monitoring' is not"),
    (
        "login-monitoring-history",
        "--outputs {tmp}/outputs.json --principal arn:aws:iam::111122223333:user/alice --since 7d",
        1,
        "no AWS credentials found",
    ),
    ("login-monitoring-history", "--outputs {tmp}/broken.json --ip 192.0.2.1 --since 7d", 2, "cannot read stack"),
    ("login-monitoring-history", "--outputs {tmp}/hub-outputs.json --ip 192.0.2.1 --since 7d", 2, "signInTableName"),
    ("login-monitoring-redrive", "--outputs {tmp}/outputs.json", 1, "no AWS credentials found"),
    ("login-monitoring-redrive", "--outputs {tmp}/missing.json", 2, "missing.json"),
    ("login-monitoring-redrive", "--outputs {tmp}/hub-outputs.json", 2, "name no failed-events queue"),
    ("login-monitoring-plan", "dev --project-dir {tmp}/stacks-only", 2, "no __main__.py in"),
    ("login-monitoring-plan", "--all --project-dir {tmp}/stacks-only", 2, "no __main__.py in"),
    ("login-monitoring-plan", "dev --project-dir {tmp}/empty", 2, "no Pulumi.yaml in"),
    ("login-monitoring-replay", f"--stack dev --project-dir {{tmp}}/empty {SAMPLE}", 2, "no Pulumi.yaml in"),
    ("login-monitoring-replay", "--stack dev {tmp}/no-such-history", 2, "no-such-history"),
    (
        "login-monitoring-backtest",
        "--stack dev --from 2024-05-01 --to 2024-05-02 --project-dir {tmp}/empty",
        2,
        "no Pulumi.yaml",
    ),
    (
        "login-monitoring-backtest",
        "--stack management --from 2024-05-01 --to 2024-05-02 --account 999988887777 --trail-bucket b --estimate",
        1,
        "no AWS credentials found",
    ),
]


@pytest.mark.parametrize(
    ("command", "arguments", "status", "words"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_command_ends_with_one_line_naming_what_to_fix(
    no_aws, tmp_path, capsys, monkeypatch, command, arguments, status, words
):
    _files(tmp_path)
    module_name, _, function = SCRIPTS[command].partition(":")
    entry = getattr(importlib.import_module(module_name), function)
    monkeypatch.setattr(sys, "argv", [command, *arguments.format(tmp=tmp_path).split()])
    with pytest.raises(SystemExit) as ended:
        # The installed command's entry point, called as its console script calls it.
        sys.exit(entry())
    assert ended.value.code == status
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0]


def test_every_installed_command_is_covered():
    assert {case[0] for case in CASES} == set(SCRIPTS)


def test_a_command_run_as_a_user_runs_it_prints_no_traceback_without_credentials(tmp_path):
    _files(tmp_path)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = subprocess.run(
        [sys.executable, "-m", "operations.verify", "--outputs", str(tmp_path / "outputs.json")],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no AWS credentials found") and result.stderr.count("\n") == 1
