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


EXAMPLES = ROOT / "examples"


def _clone(tmp_path: Path, *own: str) -> Path:
    """A clone as a team has it: the project, the examples, and copies of some examples as its own stacks."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    for stack in own:
        shutil.copy(EXAMPLES / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    return tmp_path


def _listings(project_dir: Path) -> dict[str, list[str]]:
    commands = {**_stack_lists("preview.yml"), **_stack_lists("deploy.yml")}
    return {output: _run_listing(command, project_dir) for output, command in commands.items()}


def test_only_your_stacks_that_pin_their_accounts_are_previewed_and_deployed(tmp_path):
    previews = _stack_lists("preview.yml")
    deploys = _stack_lists("deploy.yml")
    assert set(previews) == {"stacks"} and set(deploys) == {"hubs", "members"}
    project = _clone(tmp_path, "hub", "management", "member-a", "member-b", "dev")
    assert _listings(project) == {
        "stacks": ["hub", "management", "member-a", "member-b"],
        "hubs": ["hub"],
        "members": ["management", "member-a", "member-b"],
    }
    # The dev example pins no account: as a stack of yours it would fail every pull request, or deploy
    # into the CI account.
    assert "aws:allowedAccountIds" not in yaml.safe_load((EXAMPLES / "Pulumi.dev.yaml").read_text())["config"]


def test_the_examples_never_reach_a_workflow(tmp_path):
    assert _listings(_clone(tmp_path)) == {"stacks": [], "hubs": [], "members": []}


def test_a_stack_file_without_pinned_accounts_never_reaches_a_workflow(tmp_path):
    project = _clone(tmp_path, "hub", "member-a", "dev")
    placeholder = {"config": {"aws:region": "us-east-1", "aws:allowedAccountIds": ["<your account>"]}}
    (tmp_path / "Pulumi.placeholder.yaml").write_text(yaml.safe_dump(placeholder))
    (tmp_path / "Pulumi.empty.yaml").write_text(yaml.safe_dump({"config": {"aws:allowedAccountIds": []}}))
    assert _listings(project) == {"stacks": ["hub", "member-a"], "hubs": ["hub"], "members": ["member-a"]}


_STATUS_FUNCTIONS = ("success()", "failure()", "cancelled()", "always()")


def _condition(expression: str, needs: dict[str, dict]) -> bool:
    """A job's `if`, evaluated as GitHub does for the forms these workflows use: needs.<job>.result and
    .outputs.<name>, == and !=, &&, ||, !, parentheses, '…' strings and the status functions. Without a
    status function GitHub adds success(): every needed job succeeded."""
    if not any(function in expression for function in _STATUS_FUNCTIONS):
        expression = f"success() && ({expression})"
    python = []
    for token in re.findall(r"'[^']*'|&&|\|\||==|!=|!|\(|\)|[A-Za-z_][\w.-]*\(\)|[A-Za-z_][\w.-]*|\S", expression):
        if token.startswith("'"):
            python.append(repr(token[1:-1]))
        elif token in ("&&", "||", "!"):
            python.append({"&&": " and ", "||": " or ", "!": " not "}[token])
        elif token in _STATUS_FUNCTIONS:
            results = [job["result"] for job in needs.values()]
            value = {
                "success()": all(result == "success" for result in results),
                "failure()": any(result == "failure" for result in results),
                "cancelled()": False,
                "always()": True,
            }[token]
            python.append(repr(value))
        elif token.startswith("needs."):
            _, job, kind, *rest = token.split(".")
            python.append(repr(needs[job]["outputs"][rest[0]] if kind == "outputs" else needs[job][kind]))
        elif token in ("(", ")", "==", "!="):
            python.append(f" {token} ")
        else:
            raise AssertionError(f"{token!r} in {expression!r} is not a form this check knows")
    return bool(eval("".join(python), {"__builtins__": {}}))


def _simulate(workflow: str, listed: dict[str, list[str]], failing: frozenset = frozenset()) -> dict[str, str]:
    """Each job's result when the list job prints `listed`: success, failure or skipped. A job that would
    start with an empty matrix is reported as GitHub reports it, as an error."""
    jobs = load(workflow)["jobs"]
    results: dict[str, dict] = {}
    while len(results) < len(jobs):
        for name, job in jobs.items():
            needed = job.get("needs", [])
            needed = [needed] if isinstance(needed, str) else needed
            if name in results or not all(n in results for n in needed):
                continue
            needs = {n: results[n] for n in needed}
            runs = _condition(str(job.get("if", "success()")), needs)
            outputs = {key: json.dumps(value) for key, value in listed.items()} if name == "stacks" else {}
            result = ("failure" if name in failing else "success") if runs else "skipped"
            matrix = (job.get("strategy") or {}).get("matrix", {}).get("stack")
            if runs and matrix:
                output = re.fullmatch(r"\$\{\{ fromJSON\(needs\.stacks\.outputs\.(\w+)\) \}\}", matrix).group(1)
                if listed[output] == []:
                    result = "error: empty matrix"
            results[name] = {"result": result, "outputs": outputs}
    return {name: job["result"] for name, job in results.items()}


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ({"hubs": [], "members": []}, {"hub": "skipped", "members": "skipped"}),
        ({"hubs": [], "members": ["prod"]}, {"hub": "skipped", "members": "success"}),
        ({"hubs": ["hub"], "members": []}, {"hub": "success", "members": "skipped"}),
        ({"hubs": ["hub"], "members": ["member-a"]}, {"hub": "success", "members": "success"}),
    ],
    ids=["no-stacks", "no-hub", "no-members", "hub-and-members"],
)
def test_deploy_skips_what_has_no_stack_and_never_starts_an_empty_matrix(listed, expected):
    results = _simulate("deploy.yml", listed)
    assert results == {"tests": "success", "stacks": "success", **expected}


def test_members_are_not_deployed_after_a_failed_hub_or_failed_tests():
    assert _simulate("deploy.yml", {"hubs": ["hub"], "members": ["m"]}, frozenset({"hub"}))["members"] == "skipped"
    results = _simulate("deploy.yml", {"hubs": ["hub"], "members": ["m"]}, frozenset({"tests"}))
    assert results == {"tests": "failure", "stacks": "skipped", "hub": "skipped", "members": "skipped"}


@pytest.mark.parametrize(("stacks", "expected"), [([], "skipped"), (["prod"], "success")], ids=["no-stacks", "one"])
def test_preview_skips_when_there_is_no_stack(stacks, expected):
    assert _simulate("preview.yml", {"stacks": stacks}) == {"stacks": "success", "preview": expected}


def test_what_a_fresh_clone_and_a_first_stack_list_runs_the_jobs_they_should(tmp_path):
    for folder in ("fresh", "first"):
        (tmp_path / folder).mkdir()
    fresh = _listings(_clone(tmp_path / "fresh"))
    skipped = {"tests": "success", "stacks": "success", "hub": "skipped", "members": "skipped"}
    assert _simulate("deploy.yml", fresh) == skipped
    assert _simulate("preview.yml", fresh)["preview"] == "skipped"
    listed = _listings(_clone(tmp_path / "first", "member-a"))  # one stack of your own, no hub
    assert listed == {"stacks": ["member-a"], "hubs": [], "members": ["member-a"]}
    assert _simulate("deploy.yml", listed)["members"] == "success"
    assert _simulate("preview.yml", listed)["preview"] == "success"


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
        shutil.copy(EXAMPLES / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
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
