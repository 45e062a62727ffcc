"""The history command against a moto table filled by the notifier itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from operations import history
from tests.handlers.moto_aws import Aws
from tests.handlers.signins import GERMANY, JAPAN, sign_in, unknown_user_failure

NOW = datetime(2024, 5, 2, tzinfo=UTC)
ALICE = "arn:aws:iam::111122223333:user/alice"


@pytest.fixture
def aws():
    with mock_aws():
        aws = Aws()
        aws.run(
            [
                sign_in("a1", "08:00", ip=JAPAN),
                sign_in("a2", "09:30", ip=GERMANY, failed=True),
                sign_in("a3", "11:00", ip=GERMANY),
                sign_in("b1", "10:00", ip=GERMANY, user="bob"),
                unknown_user_failure("u1", "10:05", ip=GERMANY),
            ]
        )
        yield aws


def run(aws, capsys, *args: str) -> tuple[int, str, str]:
    code = history.main(
        ["--table", "sign-ins", "--region", "us-east-1", *args], client=lambda region: aws.dynamodb, now=lambda: NOW
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_principals_sign_ins_since_a_time_oldest_first(aws, capsys):
    code, out, _ = run(aws, capsys, "--principal", ALICE, "--since", "2024-05-01T09:00", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert (document["index"], document["key"]) == ("byPrincipal", "iam-user:111122223333:alice")
    assert [(r["eventId"], r["outcome"], r["sourceIp"]) for r in document["signIns"]] == [
        ("a2", "Failure", GERMANY),
        ("a3", "Success", GERMANY),
    ]
    assert document["signIns"][1]["who"] == "iam-user: alice" and document["signIns"][1]["country"] == "DE"


def test_an_ips_sign_ins_include_every_principal_and_hidden_names(aws, capsys):
    code, out, _ = run(aws, capsys, "--ip", GERMANY, "--since", "1d", "--format", "json")
    assert code == 0
    assert [r["eventId"] for r in json.loads(out)["signIns"]] == ["a2", "b1", "u1", "a3"]


def test_the_table_view_has_one_line_per_sign_in(aws, capsys):
    code, out, _ = run(aws, capsys, "--principal", "iam-user:111122223333:alice", "--since", "2024-05-01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "3 sign-in(s) of iam-user:111122223333:alice:"
    assert lines[2].split() == ["time", "event", "outcome", "who", "sourceIp", "country", "mfa", "risk"]
    assert lines[3].startswith("2024-05-01T08:00:00Z  ConsoleLogin  Success")
    assert "failed sign-in" in lines[4]


def test_until_and_limit_narrow_the_answer(aws, capsys):
    _, out, _ = run(
        aws, capsys, "--ip", GERMANY, "--since", "2024-05-01", "--until", "2024-05-01T10:00:00Z", "--format", "json"
    )
    assert [r["eventId"] for r in json.loads(out)["signIns"]] == ["a2", "b1"]
    _, out, _ = run(aws, capsys, "--ip", GERMANY, "--since", "2024-05-01", "--limit", "1", "--format", "json")
    assert [r["eventId"] for r in json.loads(out)["signIns"]] == ["a2"]


def test_it_queries_the_indexes_and_never_scans(aws, capsys, monkeypatch):
    monkeypatch.setattr(aws.dynamodb, "scan", lambda **_: pytest.fail("the history command must not scan"))
    assert run(aws, capsys, "--ip", GERMANY, "--since", "7d")[0] == 0


def test_nobody_found_says_so(aws, capsys):
    code, out, _ = run(aws, capsys, "--principal", "iam-user:111122223333:carol", "--since", "30d")
    assert code == 0 and out.strip() == "No sign-ins of iam-user:111122223333:carol in that time."


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--principal", "alice", "--since", "1d"], "give an IAM user or root ARN"),
        (["--ip", "not-an-ip", "--since", "1d"], "is not an IP address"),
        (["--ip", JAPAN, "--since", "yesterday"], "neither an ISO date/time nor a span"),
        (["--ip", JAPAN, "--since", "1d", "--until", "2d"], "is after --until"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(aws, capsys, args, words):
    code, _, err = run(aws, capsys, *args)
    assert code == 2 and words in err


def test_the_table_and_region_come_from_the_stack_outputs(aws, capsys, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "signInTableName": "sign-ins",
                "alertTopicArn": "arn:aws:sns:us-east-1:111122223333:login-monitoring-alerts",
            }
        )
    )
    regions = []

    def client(region):
        regions.append(region)
        return aws.dynamodb

    code = history.main(
        ["--outputs", str(outputs), "--principal", ALICE, "--since", "1d"], client=client, now=lambda: NOW
    )
    assert code == 0 and regions == ["us-east-1"]
    assert capsys.readouterr().out.startswith(f"3 sign-in(s) of {ALICE}:")


def test_root_arns_map_to_the_root_key():
    assert history.principal_key("arn:aws:iam::111122223333:root") == "root:111122223333:root"
    assert history.principal_key("arn:aws:iam::111122223333:user/team/alice") == "iam-user:111122223333:alice"
