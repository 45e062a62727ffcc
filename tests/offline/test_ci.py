"""Which stacks CI touches, and the read-only role a pull request previews them with."""

from __future__ import annotations

import pytest
import yaml

from offline.ci import deployable_stacks, main, preview_role
from offline.stack_config import StackConfigError

DEPLOY = "arn:aws:iam::111122223333:role/LoginMonitoringDeploy"


def _project(tmp_path, **stacks):
    (tmp_path / "Pulumi.yaml").write_text("name: login-monitoring\n")
    for name, config in stacks.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def _pinned(**extra):
    return {
        "aws:allowedAccountIds": ["111122223333"],
        "aws:assumeRoles": [{"roleArn": DEPLOY, "sessionName": "s"}],
        **extra,
    }


def test_example_stacks_each_name_a_preview_role_of_their_own_account_that_is_not_the_deploy_role():
    for stack in deployable_stacks():
        role = preview_role(stack)
        assert role.endswith(":role/LoginMonitoringPreview"), stack


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (_pinned(), "must name the read-only role"),
        (_pinned(**{"ci:previewRoleArn": "LoginMonitoringPreview"}), "must name the read-only role"),
        (_pinned(**{"ci:previewRoleArn": "arn:aws:iam::999999999999:role/P"}), "is in account 999999999999"),
        (_pinned(**{"ci:previewRoleArn": DEPLOY}), "must not be the deploy role"),
        ({"ci:previewRoleArn": "arn:aws:iam::111122223333:role/P"}, "pins no aws:allowedAccountIds"),
    ],
)
def test_a_preview_role_that_could_write_or_reach_another_account_is_refused(tmp_path, capsys, config, words):
    project = _project(tmp_path, x=config)
    with pytest.raises(StackConfigError, match=words):
        preview_role("x", project)
    assert main(["preview-role", "x", "--project-dir", str(project)]) == 2
    assert words in capsys.readouterr().err
    assert yaml.safe_load((project / "Pulumi.x.yaml").read_text())["config"] == config  # left untouched
