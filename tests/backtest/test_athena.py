"""The Athena backtest: the query parses as Trino with DuckDB's predicates, and its results make the report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
import sqlglot
from botocore.stub import ANY, Stubber
from sqlglot import exp

from backtest.__main__ import main
from backtest.athena import backtest_query, column_for, event_from_row, signin_columns
from backtest.duckdb_query import flags_select
from backtest.sql import UnsupportedPattern
from components.backtest_athena import COLUMNS
from detections.catalog import PROFILES
from detections.pattern import compile_pattern
from detections.profiles import resolve_detections
from handlers.formatting import render_body
from handlers.signin import parse_signin_event
from handlers.signin_events import subscription_filter_pattern
from replay.readers import input_files, read_events
from replay.sample import generate

SIGNIN = compile_pattern(subscription_filter_pattern())
SAMPLE = Path(generate.__file__).parent / "history"
ACCOUNT = "111122223333"
UTC = ZoneInfo("UTC")


def query_for(profile: str, **overrides):
    return query_of([item.compiled for item in resolve_detections(profile)], **overrides)


def query_of(patterns, **overrides):
    arguments = {
        "database": "login_monitoring_management",
        "table": "cloudtrail",
        "accounts": [ACCOUNT],
        "regions": [],
        "start": date(2024, 5, 1),
        "end": date(2024, 5, 31),
        **overrides,
    }
    return backtest_query(patterns, SIGNIN, **arguments)


def flag_expressions(tree: exp.Expression) -> dict[str, str]:
    """m<i> -> its expression rendered in one dialect, wherever the query defines it."""
    return {
        alias.alias: alias.this.sql("trino")
        for alias in tree.find_all(exp.Alias)
        if alias.alias.startswith("m") and alias.alias[1:].isdigit()
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_athena_query_parses_as_trino_with_the_duckdb_predicates(profile):
    query = query_for(profile)
    athena = sqlglot.parse_one(query.sql, read="trino")
    patterns = [item.compiled for item in resolve_detections(profile)] + [SIGNIN]
    duckdb = sqlglot.parse_one(flags_select(exp.to_table("t"), "doc", [], patterns).sql("duckdb"), read="duckdb")
    athena_flags, duckdb_flags = flag_expressions(athena), flag_expressions(duckdb)
    assert len(athena_flags) == len(patterns) == query.detections + 1
    assert athena_flags == duckdb_flags


def test_the_query_reads_only_the_named_partitions():
    query = query_for("cis", regions=["us-east-1", "eu-west-1"], start=date(2024, 4, 30), end=date(2024, 5, 2))
    wheres = [where.sql("trino") for where in sqlglot.parse_one(query.sql, read="trino").find_all(exp.Where)]
    where = next(text for text in wheres if "account" in text)
    assert f"account IN ('{ACCOUNT}')" in where
    assert "timestamp BETWEEN '2024/04/30' AND '2024/05/02'" in where
    assert "region IN ('us-east-1', 'eu-west-1')" in where
    with pytest.raises(ValueError, match="at least one account"):
        query_for("cis", accounts=[])


@pytest.mark.parametrize(
    ("path", "reads"),
    [
        (("eventName",), "eventname"),
        (("userIdentity", "type"), "useridentity.type"),
        (
            ("userIdentity", "sessionContext", "sessionIssuer", "userName"),
            "useridentity.sessioncontext.sessionissuer.username",
        ),
        (("additionalEventData", "MFAUsed"), """JSON_EXTRACT(TRY(JSON_PARSE(additionaleventdata)), '$["MFAUsed"]')"""),
    ],
)
def test_selectors_map_to_the_documented_columns(path, reads):
    assert reads in column_for(path).kind.sql("trino")


@pytest.mark.parametrize("path", [("resources", 0, "ARN"), ("userIdentity", "nickname"), ("noSuchField",)])
def test_selectors_the_table_lacks_are_refused_by_name(path):
    with pytest.raises(UnsupportedPattern, match=r"no (column|field) for \$\." + path[0]):
        column_for(path)


def test_regex_values_become_trino_regexp_like():
    query = query_of([compile_pattern("{ $.eventName = %^Delete[A-Z]% }")])
    assert "k0 = 's' AND REGEXP_LIKE(s0, '\\ADelete[\\x41-\\x5a]')" in query.sql


def test_wildcard_selectors_are_refused_by_name():
    with pytest.raises(UnsupportedPattern, match=r"wildcard selector \$\.resources\[\*\]\.ARN"):
        query_of([compile_pattern("{ $.resources[*].ARN = %bucket% }")])


def athena_row(event: dict) -> dict[str, str | None]:
    """A sign-in as the Glue table returns it: strings, struct leaves, JSON text in the JSON columns."""
    row: dict[str, str | None] = {}
    for name, _ in signin_columns():
        field, *rest = name.split(".")
        value = event.get(field)
        for step in rest:
            value = value.get(step) if isinstance(value, dict) else None
        if value is not None and COLUMNS[field][1] == "json":
            value = json.dumps(value)
        row[name] = value
    return row


def sample_signins() -> list[dict]:
    events = [event for path in input_files([SAMPLE], print) for event in read_events(path, print)]
    return [event for event in events if SIGNIN.matches(event)]


def test_sign_ins_rebuilt_from_table_rows_render_the_same_mail():
    signins = sample_signins()
    assert len(signins) > 20
    for event in signins:
        original = parse_signin_event(event)
        rebuilt = parse_signin_event(event_from_row(athena_row(event)))
        assert render_body(rebuilt, UTC, "UTC") == render_body(original, UTC, "UTC")


# ------------------------------------------------------------------ command


class FakeSession:
    def __init__(self, **clients):
        self.clients = clients

    def client(self, name):
        return self.clients[name]


def s3_with_logs() -> tuple:
    s3 = boto3.client("s3", region_name="us-east-1")
    stub = Stubber(s3)
    root = f"AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail/"
    stub.add_response(
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": root + "us-east-1/"}], "IsTruncated": False},
        {"Bucket": "trail", "Prefix": root, "Delimiter": "/"},
    )
    contents = [{"Key": f"{root}us-east-1/2024/05/0{day}/x{day}.json.gz", "Size": 1000 * day} for day in (1, 2, 3)]
    stub.add_response(
        "list_objects_v2",
        {"Contents": contents, "IsTruncated": False},
        {"Bucket": "trail", "Prefix": root + "us-east-1/2024/05/"},
    )
    stub.activate()
    return s3, stub


def result_set(rows: list[list[str | None]]) -> dict:
    width = len(rows[0])
    header = [f"c{i}" for i in range(width)]
    return {
        "ResultSet": {
            "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in [header, *rows]]
        }
    }


def test_estimate_lists_only_the_days_asked_for(capsys):
    s3, stub = s3_with_logs()
    code = main(
        [
            "--stack",
            "management",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-02",
            "--account",
            ACCOUNT,
            "--trail-bucket",
            "trail",
            "--estimate",
        ],
        session_factory=lambda: FakeSession(s3=s3),
    )
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("-- estimate: 3,000 bytes in 2 log files to scan; about 0.00 USD")
    assert "5 USD per TB scanned" in out and "SELECT" in out
    stub.assert_no_pending_responses()


def test_run_renders_the_replay_report_from_the_rows(capsys):
    s3, _ = s3_with_logs()
    athena = boto3.client("athena", region_name="us-east-1")
    stub = Stubber(athena)
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": ANY,
            "QueryExecutionContext": {"Database": "login_monitoring_management"},
            "WorkGroup": "login-monitoring-management-backtest",
        },
    )
    stub.add_response(
        "get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}}, {"QueryExecutionId": "q1"}
    )
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 2500}}},
        {"QueryExecutionId": "q1"},
    )
    detections = [item.id for item in resolve_detections("recommended")]
    root_sign_in = next(e for e in sample_signins() if e["userIdentity"].get("type") == "Root")
    signin_values = list(athena_row(root_sign_in).values())
    blank = [None] * len(signin_values)
    matched = ",".join(str(detections.index(name)) for name in ("root-account-usage", "root-console-sign-in"))
    rows = [
        [None, None, None, None, None, *blank, "1000", "3", "7"],
        [
            "s3://trail/a.json.gz",
            "stop-1",
            "2024-05-01T14:20:00Z",
            str(detections.index("cloudtrail-changes")),
            "false",
            *blank,
            "1",
            "0",
            "1",
        ],
        [
            "s3://trail/b.json.gz",
            root_sign_in["eventID"],
            root_sign_in["eventTime"],
            matched,
            "true",
            *signin_values,
            "1",
            "0",
            "1",
        ],
    ]
    stub.add_response("get_query_results", result_set(rows), {"QueryExecutionId": "q1"})
    stub.activate()
    code = main(
        [
            "--stack",
            "management",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-02",
            "--account",
            ACCOUNT,
            "--trail-bucket",
            "trail",
            "--run",
            "--format",
            "json",
        ],
        session_factory=lambda: FakeSession(s3=s3, athena=athena),
    )
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0 and "estimate: 3,000 bytes" in captured.err and "scanned: 2,500 bytes" in captured.err
    assert report["events"] == 1002 and report["duplicatesSkipped"] == 3 and report["files"] == 7
    matches = {item["id"]: item["matches"] for item in report["detections"]}
    assert matches["cloudtrail-changes"] == matches["root-console-sign-in"] == 1
    fired = {(t["detection"], t["to"]) for t in report["transitions"]}
    assert ("root-console-sign-in", "ALARM") in fired and ("cloudtrail-changes", "ALARM") in fired
    assert [mail["subject"] for mail in report["mails"]] == [
        "[!] Console sign-in succeeded: Root user root in 111122223333"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stack", "dev"], "does not set backtestAthena"),
        (["--stack", "dev", "--athena-stack", "management"], "name the accounts to read with --account"),
        (["--stack", "management", "--account", "12"], "12-digit account ids"),
        (["--stack", "management", "--account", ACCOUNT, "--run"], "need --trail-bucket"),
        (["--stack", "hub"], "is a hub"),
    ],
)
def test_configuration_errors_exit_2_with_a_reason(capsys, arguments, message):
    assert main([*arguments, "--from", "2024-05-01", "--to", "2024-05-02"]) == 2
    assert message in capsys.readouterr().err


def test_printed_query_is_deterministic(capsys):
    arguments = [
        "--stack",
        "dev",
        "--athena-stack",
        "management",
        "--account",
        ACCOUNT,
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",
    ]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert main(arguments) == 0
    assert capsys.readouterr().out == first
    assert first.startswith(
        "-- Backtest of stack dev (profile recommended) in workgroup login-monitoring-management-backtest"
    )
