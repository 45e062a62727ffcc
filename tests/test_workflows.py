"""The GitHub workflows, checked offline: security audit, schema, and the promises they make."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed (requirements-dev.txt)"
    return found


def load(name: str) -> dict:
    # PyYAML reads the key "on" as True; normalise it.
    document = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing(persona):
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--persona", persona, "--no-progress", str(ROOT / ".github")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_workflows_and_dependabot_match_their_schemas():
    for schema, files in (
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.dependabot", [ROOT / ".github/dependabot.yml"]),
    ):
        result = subprocess.run(
            [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_workflow_denies_by_default_and_every_job_asks_for_what_it_needs():
    for path in WORKFLOWS:
        workflow = load(path.name)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            permissions = job["permissions"]
            assert permissions.get("contents") == "read", f"{path.name}:{name}"
            assert set(permissions) <= {"contents", "id-token", "pull-requests"}, f"{path.name}:{name}"
            uses_aws = any("configure-aws-credentials" in step.get("uses", "") for step in job.get("steps", []))
            assert ("id-token" in permissions) == uses_aws, f"{path.name}:{name} asks for id-token only to reach AWS"


def test_tests_run_on_every_push_with_the_ci_script():
    workflow = load("tests.yml")
    assert "push" in workflow["on"] and "pull_request" in workflow["on"]
    assert workflow["jobs"]["tests"]["steps"][-1]["run"] == "bash .ci/run"


def test_pull_requests_get_a_commented_preview_of_every_stack_with_the_policy_pack():
    job = load("preview.yml")["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    pulumi = next(step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert job["permissions"]["pull-requests"] == "write"


def test_deploy_puts_the_hub_first_then_members_a_few_at_a_time():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["stacks"]["needs"] == "tests"
    assert "hub" in jobs["members"]["needs"]
    assert jobs["members"]["strategy"]["max-parallel"] <= 4
    for name in ("hub", "members"):
        pulumi = next(step for step in jobs[name]["steps"] if step.get("uses", "").startswith("pulumi/actions@"))
        assert pulumi["with"]["command"] == "up" and pulumi["with"]["policyPacks"] == "policy"
        assert jobs[name]["environment"] == "production"


def test_only_pulumi_actions_may_skip_hash_pinning():
    for path in WORKFLOWS:
        for job in load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if uses and not uses.startswith("pulumi/actions@"):
                    reference = uses.split("@", 1)[1]
                    assert len(reference) == 40 and all(c in "0123456789abcdef" for c in reference), uses


def _step(job: dict, fragment: str) -> dict:
    return next(step for step in job["steps"] if fragment in step.get("run", ""))


def _stack_lists(workflow: str) -> dict[str, str]:
    """output name -> the `python -m offline.ci ...` command the list step runs for it."""
    run = _step(load(workflow)["jobs"]["stacks"], "offline.ci stacks")["run"]
    return dict(re.findall(r"^(\w+)=\$\(python -m (offline\.ci stacks[^)]*)\)$", run, flags=re.MULTILINE))


def _run_listing(command: str, project_dir: Path) -> list[str]:
    argv = [*command.split()[1:], "--project-dir", str(project_dir)]
    result = subprocess.run(
        [sys.executable, "-m", "offline.ci", *argv], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(result.stdout)


def test_only_stacks_that_pin_their_accounts_are_previewed_and_deployed():
    previews = _stack_lists("preview.yml")
    deploys = _stack_lists("deploy.yml")
    assert set(previews) == {"stacks"} and set(deploys) == {"hubs", "members"}
    assert _run_listing(previews["stacks"], ROOT) == ["hub", "management", "member-a", "member-b"]
    assert _run_listing(deploys["hubs"], ROOT) == ["hub"]
    assert _run_listing(deploys["members"], ROOT) == ["management", "member-a", "member-b"]
    # The example stack pins no account: it would fail every pull request, or deploy into the CI account.
    assert "aws:allowedAccountIds" not in yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]


def test_a_stack_file_without_pinned_accounts_never_reaches_a_workflow(tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.hub.yaml", "Pulumi.member-a.yaml", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    placeholder = {"config": {"aws:region": "us-east-1", "aws:allowedAccountIds": ["<your account>"]}}
    (tmp_path / "Pulumi.placeholder.yaml").write_text(yaml.safe_dump(placeholder))
    (tmp_path / "Pulumi.empty.yaml").write_text(yaml.safe_dump({"config": {"aws:allowedAccountIds": []}}))
    commands = {**_stack_lists("preview.yml"), **_stack_lists("deploy.yml")}
    listed = {output: _run_listing(command, tmp_path) for output, command in commands.items()}
    assert listed == {"stacks": ["hub", "member-a"], "hubs": ["hub"], "members": ["member-a"]}


def test_every_matrix_is_the_filtered_list():
    preview = load("preview.yml")["jobs"]
    assert preview["preview"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    deploy = load("deploy.yml")["jobs"]
    assert deploy["hub"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.hubs) }}"
    assert deploy["members"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.members) }}"


def test_previews_assume_the_accounts_read_only_role_before_pulumi_runs(tmp_path):
    job = load("preview.yml")["jobs"]["preview"]
    names = [step.get("uses", "").split("@")[0] or step.get("run", "") for step in job["steps"]]
    switch = _step(job, "offline.ci preview-role")
    assert switch["env"]["STACK"] == "${{ matrix.stack }}"
    assert names.index(switch["run"]) < names.index("pulumi/actions")
    for stack in ("hub", "management", "member-a", "member-b"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
        before = yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text())["config"]
        argv = switch["run"].split()[1:]  # venv/bin/python -m offline.ci preview-role "${STACK}"
        argv = [*(stack if arg == '"${STACK}"' else arg for arg in argv), "--project-dir", str(tmp_path)]
        subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True, cwd=ROOT)
        after = yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text())["config"]
        deploy_role = before["aws:assumeRoles"][0]["roleArn"]
        assert [role["roleArn"] for role in after["aws:assumeRoles"]] == [before["ci:previewRoleArn"]], stack
        assert deploy_role not in json.dumps(after["aws:assumeRoles"]), stack
        assert {k: v for k, v in after.items() if k != "aws:assumeRoles"} == {
            k: v for k, v in before.items() if k != "aws:assumeRoles"
        }
