"""Stack files read as Pulumi reads them: YAML 1.2, a Region the provider would find, or a clear error."""

from __future__ import annotations

import shutil

import pytest
import yaml

from offline.ci import main as ci_main
from offline.plan import main
from offline.stack_config import PROJECT_DIR, load_stack_config

NS = "login-monitoring"


def _project(tmp_path, text: str):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "Yes"])
def test_a_yaml_1_1_boolean_is_the_word_it_is_and_fails_the_boolean_key_by_name(tmp_path, capsys, word):
    project = _project(
        tmp_path,
        f"config:\n  aws:region: us-east-1\n  {NS}:alertEmails: [a@example.com]\n  {NS}:encryptAlertTopic: {word}\n",
    )
    assert load_stack_config("prod", project).get(f"{NS}:encryptAlertTopic") == word
    assert main(["prod", "--project-dir", str(project)]) == 2
    assert f"{NS}:encryptAlertTopic: must be true or false, got '{word}'" in capsys.readouterr().err


def test_yaml_1_2_scalars_are_read_as_pulumi_reads_them(tmp_path):
    project = _project(
        tmp_path,
        "config:\n"
        f"  {NS}:signInHistoryDays: 010\n"  # ten, not YAML 1.1's octal eight
        f"  {NS}:encryptAlertTopic: TRUE\n"
        f"  {NS}:displayTimezone: 2024-05-01\n"  # text, not a date
        f"  {NS}:notifyOn: 1:20\n"  # text, not YAML 1.1's sexagesimal 80
        f"  {NS}:privilegedGroups: [on, 0x1F, 0o17, ~]\n",
    )
    config = load_stack_config("prod", project)
    assert config.get(f"{NS}:signInHistoryDays") == "10"
    assert config.get(f"{NS}:encryptAlertTopic") == "true"
    assert config.get(f"{NS}:displayTimezone") == "2024-05-01"
    assert config.get(f"{NS}:notifyOn") == "1:20"
    assert config.get(f"{NS}:privilegedGroups") == '["on", 31, 15, null]'


def test_a_preview_role_rewrite_keeps_yaml_1_2_words_as_words(tmp_path):
    account = "111122223333"
    (tmp_path / "Pulumi.yaml").write_text("name: login-monitoring\n")
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n"
        f"  aws:allowedAccountIds: ['{account}']\n"
        f"  aws:assumeRoles: [{{roleArn: 'arn:aws:iam::{account}:role/Deploy'}}]\n"
        f"  ci:previewRoleArn: arn:aws:iam::{account}:role/Preview\n"
        f"  {NS}:encryptAlertTopic: yes\n"
    )
    assert ci_main(["preview-role", "x", "--project-dir", str(tmp_path)]) == 0
    assert load_stack_config("x", tmp_path).get(f"{NS}:encryptAlertTopic") == "yes"
    assert yaml.safe_load((tmp_path / "Pulumi.x.yaml").read_text())["config"][f"{NS}:encryptAlertTopic"] == "yes"


def test_a_stack_without_a_region_says_how_to_set_it(tmp_path, capsys, monkeypatch):
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable)
    project = _project(tmp_path, f"config:\n  {NS}:alertEmails: [a@example.com]\n")
    assert main(["prod", "--project-dir", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "aws:region: is not set: run `pulumi config set aws:region <region>` (or set AWS_REGION)" in captured.err
    assert main(["--all", "--project-dir", str(project)]) == 2
    assert "FAIL  prod" in capsys.readouterr().out


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_the_environment_region_the_provider_reads_is_taken_when_the_stack_sets_none(
    tmp_path, capsys, monkeypatch, variable
):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv(variable, "eu-north-1")
    project = _project(tmp_path, f"config:\n  {NS}:alertEmails: [a@example.com]\n")
    assert main(["prod", "--project-dir", str(project)]) == 0
    assert "region eu-north-1)" in capsys.readouterr().out.splitlines()[0]
