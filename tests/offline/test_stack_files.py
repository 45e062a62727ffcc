"""Every stack file in the repository, the team's own and the examples, is planned and checked the same way;
a team's own stack beside Pulumi.yaml is what the CLI and CI use and never changes what an example means."""

from __future__ import annotations

import shutil

import pytest
import yaml

from offline.ci import allowed_accounts, deployable_stacks, preview_role
from offline.plan import main, plan_all
from offline.stack_config import (
    PROJECT_DIR,
    StackConfigError,
    example_stack_files,
    load_stack_config,
    own_stack_files,
    stack_files,
    stack_names,
)
from tests.policy.test_rules import violations

STACK_FILES = stack_files()


@pytest.fixture(scope="module")
def plans():
    return {(plan.example, plan.stack): plan for plan in plan_all()}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[stack_file.label for stack_file in STACK_FILES])
def test_every_stack_file_plans_cleanly_and_passes_the_policy_pack(plans, stack_file):
    plan = plans[(stack_file.example, stack_file.name)]
    assert plan.error is None, f"{stack_file.path}: {plan.error}"
    assert not [line for line in plan.run.warnings if "is set but ignored" in line], stack_file.label
    assert violations(plan.run.resources) == [], stack_file.label
    config = yaml.safe_load(stack_file.path.read_text(encoding="utf-8"))["config"]
    if not stack_file.example and allowed_accounts(config):
        # CI previews this stack: it must name a read-only preview role of its own account.
        preview_role(stack_file.name)


def test_the_examples_are_in_examples_and_none_is_taken_for_a_stack_of_yours():
    assert [f.name for f in example_stack_files()] == ["dev", "hub", "management", "member-a", "member-b"]
    assert all(f.path.parent == PROJECT_DIR / "examples" for f in example_stack_files())
    assert all(f.path.parent == PROJECT_DIR for f in own_stack_files())
    assert not {f.name for f in example_stack_files()} & set(deployable_stacks()) - {f.name for f in own_stack_files()}


def _clone(tmp_path):
    """What a fresh clone holds that the offline commands read: the project, its program and the examples."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "examples", tmp_path / "examples")
    return tmp_path


def _your_prod_stack(project, **config):
    """README's first step: cp examples/Pulumi.dev.yaml Pulumi.prod.yaml, then make it yours."""
    shutil.copy(project / "examples" / "Pulumi.dev.yaml", project / "Pulumi.prod.yaml")
    document = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())
    document["config"].update(config)
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def test_your_own_stack_is_planned_beside_the_examples_and_is_what_ci_deploys(tmp_path, capsys):
    project = _clone(tmp_path)
    _your_prod_stack(
        project,
        **{
            "login-monitoring:alertEmails": ["secops@example.org"],
            "aws:region": "eu-central-1",
            "aws:allowedAccountIds": ["123412341234"],
            "ci:previewRoleArn": "arn:aws:iam::123412341234:role/LoginMonitoringPreview",
        },
    )
    assert stack_names(project) == ["dev", "hub", "management", "member-a", "member-b", "prod"]
    assert deployable_stacks(project) == ["prod"]
    assert deployable_stacks(project, "member") == ["prod"] and deployable_stacks(project, "hub") == []
    plans = plan_all(project)
    assert [(p.label, p.error) for p in plans if p.error] == []
    assert [p.label for p in plans] == [
        "prod",
        "examples/hub",
        "examples/dev",
        "examples/management",
        "examples/member-a",
        "examples/member-b",
    ]
    assert main(["prod", "--project-dir", str(project)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack login-monitoring/prod (offline plan: account 123412341234, region eu-central-1)")


def test_your_own_stack_of_an_examples_name_is_the_one_the_commands_read_and_the_example_stays(tmp_path):
    project = _clone(tmp_path)
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: ap-northeast-1\n  login-monitoring:alertEmails: [me@example.org]\n"
    )
    yours = load_stack_config("dev", project)
    example = load_stack_config("dev", project, example=True)
    assert (yours.example, yours.get("aws:region")) == (False, "ap-northeast-1")
    assert (example.example, example.get("aws:region")) == (True, "us-east-1")
    labels = [p.label for p in plan_all(project)]
    assert "dev" in labels and "examples/dev" in labels


def test_a_member_of_yours_reports_to_your_hub_not_to_the_example_hub(tmp_path):
    project = _clone(tmp_path)
    shutil.copy(project / "examples" / "Pulumi.member-a.yaml", project / "Pulumi.team-a.yaml")
    (member,) = [p for p in plan_all(project) if p.stack == "team-a"]
    assert "stack 'acme/login-monitoring/hub' has no output hubTopicArn" in member.error
    shutil.copy(project / "examples" / "Pulumi.hub.yaml", project / "Pulumi.hub.yaml")
    (member,) = [p for p in plan_all(project) if p.stack == "team-a"]
    assert member.error is None


def test_a_stack_that_is_nowhere_names_yours_and_the_examples(tmp_path):
    project = _clone(tmp_path)
    _your_prod_stack(project)
    with pytest.raises(StackConfigError) as caught:
        load_stack_config("staging", project)
    assert str(caught.value) == (
        "no stack file Pulumi.staging.yaml; stacks here: prod, examples/dev, examples/hub, "
        "examples/management, examples/member-a, examples/member-b"
    )
    with pytest.raises(StackConfigError, match=r"no stack file examples/Pulumi\.prod\.yaml"):
        load_stack_config("prod", project, example=True)
