"""The README and the docs pages are what users follow: their commands, tables and quoted output must stay true."""

import re
from pathlib import Path

import yaml

from offline.stack_config import as_config_string

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_config_key_is_documented_with_its_type_and_default():
    from components.settings import CONFIG_KEYS

    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    table_row = r"^\| `(\w+)` \| ([a-z ]+) \| `([^`]*)`"
    found = re.findall(table_row, page("configuration.md"), flags=re.MULTILINE)
    rows = {key: (kind, default) for key, kind, default in found}
    assert sorted(key for key, _, _ in found) == sorted(declared) == sorted(CONFIG_KEYS)
    for key, declaration in declared.items():
        default = declaration["default"]
        kind = f"list of {declaration['items']['type']}s" if declaration["type"] == "array" else declaration["type"]
        assert rows[key] == (kind, '""' if default == "" else as_config_string(default)), key


def test_quick_start_commands_are_the_ones_ci_and_users_run():
    for text in (README, page("planning.md")):
        assert "\npython -m offline.plan dev\n" in text
        assert "\npython -m pytest\n" in text
    ci_script = (ROOT / ".ci" / "run").read_text().splitlines()
    ci_commands = [line for line in ci_script if line and not line.startswith("#")]
    assert ci_commands[-1] == "python -m pytest"
    assert "python -m pip install --quiet -r requirements-dev.txt" in ci_commands


def test_every_detection_is_in_the_detections_table():
    from detections.catalog import CATALOG

    detections = page("detections.md")
    for detection in CATALOG:
        assert f"| `{detection.id}` | {detection.title} |" in detections, detection.id


def test_the_detections_page_names_each_detections_peers_for_the_same_rule():
    from detections.catalog import CATALOG

    detections = page("detections.md")
    for detection in CATALOG:
        if detection.peers:
            assert f"| `{detection.id}` | {'; '.join(detection.peers)} |" in detections, detection.id


def test_replay_command_in_the_readme_and_docs_runs_on_the_shipped_sample():
    assert "\npython -m replay --stack dev replay/sample/history\n" in README
    assert "\npython -m replay --stack dev replay/sample/history\n" in page("replay.md")
    assert (ROOT / "replay" / "sample" / "history").is_dir()


def test_policy_rule_count_in_the_docs_is_true():
    from policy.rules import RESOURCE_RULES, STACK_RULES

    assert f"a Pulumi CrossGuard pack of {len(RESOURCE_RULES) + len(STACK_RULES)} rules" in page("security.md")


def test_every_example_stack_is_named_in_the_readme():
    examples = sorted((ROOT / "examples").glob("Pulumi.*.yaml"))
    assert examples
    for path in examples:
        assert f"`examples/{path.name}`" in README, path.name


def test_the_sample_mail_is_what_the_notifier_renders_for_that_event():
    import json
    from zoneinfo import ZoneInfo

    from handlers.formatting import render_body, render_subject
    from handlers.signin import parse_signin_event

    fixtures = json.loads((ROOT / "tests" / "handlers" / "fixtures" / "signin_events.json").read_text())
    record = parse_signin_event({**fixtures["iam_user_no_mfa_failure"], "sourceIPAddress": "193.99.144.80"})
    rendered = f"Subject: {render_subject(record)}\n\n{render_body(record, ZoneInfo('Asia/Tokyo'), 'Asia/Tokyo')}"
    sample = page("mails.md").split("## What a mail looks like\n\n```text\n", 1)[1].split("\n```", 1)[0]
    assert sample == rendered.rstrip("\n")


def test_deploying_copies_the_example_before_stack_init_and_replaces_its_recipients():
    for text in (README.split("## Deploying", 1)[1], page("deploying.md")):
        deploying = text.split("```", 2)[1]
        copy = deploying.index("cp examples/Pulumi.dev.yaml Pulumi.prod.yaml")
        assert copy < deploying.index("pulumi stack init prod")
        assert deploying.index("pulumi config rm login-monitoring:alertEmails") < deploying.index("alertEmails[0]")


def test_the_type_error_the_readme_quotes_is_what_the_offline_plan_prints(tmp_path, capsys):
    from offline.plan import main

    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:failedSignInThreshold: five\n"
    )
    assert main(["--project-dir", str(tmp_path), "prod"]) == 2
    planning = page("planning.md")
    quoted = planning.split("The offline plan has no CLI, so", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    assert capsys.readouterr().err.strip() == quoted
    # The CLI's own message names the key as Pulumi.yaml declares it, with the declared type.
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["failedSignInThreshold"]
    assert f"configuration key 'failedSignInThreshold' must be of type '{declared['type']}'" in planning


_OFFLINE = re.compile(r"^(python -m (offline\.\w+|replay|backtest)|login-monitoring-(plan|replay|backtest))\b")
# Commands the pages show for what the reader makes first: the stack `prod` of the deploying steps (it needs
# the pulumi CLI), the folder `./history` synced from their own bucket, an AWS account (--estimate, --run),
# or a placeholder to fill in (<stack>).
_NEEDS_THE_READERS_OWN = re.compile(r"--stack prod|\bplan prod\b|\./history|--estimate|--run|\.\.\. |<[a-z-]+>")


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for every offline command in a bash block of the README and the docs pages."""
    found = []
    for path in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                command = line.split("  #", 1)[0].strip()
                if _OFFLINE.match(command):
                    found.append((path.name, command))
    return found


def test_every_offline_command_the_readme_and_docs_show_runs_on_a_clone(tmp_path, monkeypatch, capsys):
    import importlib
    import shlex
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    # A working folder that sees the clone's files, so what a command writes stays out of the clone.
    for entry in ROOT.iterdir():
        if not entry.name.startswith("."):
            (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)
    shown = shown_commands()
    run = [(page, command) for page, command in shown if not _NEEDS_THE_READERS_OWN.search(command)]
    assert len(run) >= 8 and {page for page, _ in run} >= {"README.md", "planning.md", "replay.md"}
    for page, command in run:
        words = shlex.split(command)
        target = words.index(">") if ">" in words else None
        argv, output = (words[:target], words[target + 1]) if target is not None else (words, None)
        if argv[0] == "python":
            module = argv[2]
            argv = argv[3:]
        else:
            module = scripts[argv[0]].split(":")[0]
            argv = argv[1:]
        module = {"replay": "replay.__main__", "backtest": "backtest.__main__"}.get(module, module)
        status = importlib.import_module(module).main(argv)
        captured = capsys.readouterr()
        assert status == 0, f"{page}: {command}\n{captured.err}"
        assert "Traceback" not in captured.err, f"{page}: {command}"
        if output:
            (tmp_path / output).write_text(captured.out)


def test_the_security_hub_section_names_the_policy_pack_rule_that_checks_it():
    from policy.rules import STACK_RULES

    section = page("detections.md").split("## Security Hub's checks", 1)[1]
    named = re.findall(r"checks the SNS part before deploy \(`([a-z-]+)`\)", section)
    assert named and set(named) <= {rule.name for rule in STACK_RULES}
