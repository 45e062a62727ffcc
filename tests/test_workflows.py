"""The GitHub workflows, checked offline: security audit, schema, and the promises they make."""

from __future__ import annotations

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
