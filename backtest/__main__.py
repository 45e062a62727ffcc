"""Backtest a stack's detections across the whole trail with Athena.

    python -m backtest --stack prod --athena-stack management --from 2024-05-01 --to 2024-07-29 \\
        --account 111122223333 --account 444455556666                  # print the query
    ... --trail-bucket <bucket> --estimate                             # and the bytes it will scan
    ... --trail-bucket <bucket> --run                                  # run it: the replay's report

The query evaluates the detections of --stack (Pulumi.<stack>.yaml, read as the program reads it)
over the CloudTrail table that --athena-stack (default: the same stack) creates with backtestAthena.
Without --run nothing touches AWS; --estimate and --run need credentials that may list the trail
bucket and use the workgroup. Exit status: 0 done, 1 the query failed, 2 configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from backtest.athena import backtest_query, event_from_row, signin_columns
from components.backtest_athena import TABLE_NAME, database_name, logs_prefix
from components.settings import SettingsError, load_settings
from detections.pattern import compile_pattern
from handlers.signin_events import subscription_filter_pattern
from offline import cli
from offline.stack_config import PROJECT_DIR, StackConfigError, load_stack_config
from replay.core import Replay
from replay.report import render_json, render_text
from replay.stack import report_context, stack_replay

USD_PER_TB = 5.0
MINIMUM_BYTES = 10 * 1024**2  # Athena bills at least 10 MB per query
_KEY_COLUMNS = ("file", "event_id", "event_time", "matched", "signin")


class UsageError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    """Where the table lives and what the query reads."""

    database: str
    workgroup: str
    organization_id: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    start: date
    end: date


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2024-05-01") from None


def _settings(stack: str, project_dir: Path):
    config = load_stack_config(stack, project_dir)
    return config, load_settings(lambda key: config.get(f"{config.project}:{key}"))


def _allowed_accounts(config) -> tuple[str, ...]:
    raw = config.get("aws:allowedAccountIds")
    value = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def resolve_target(options) -> Target:
    config, settings = _settings(options.athena_stack or options.stack, options.project_dir)
    if not settings.backtest_athena:
        raise UsageError(
            f"stack {config.stack} does not set backtestAthena: true, so it has no backtest table; "
            "name the stack that does with --athena-stack"
        )
    organization_id = settings.organization_id if settings.trail_mode == "organization" else ""
    accounts = tuple(options.account) or (() if organization_id else _allowed_accounts(config))
    bad = [account for account in accounts if not (account.isdigit() and len(account) == 12)]
    if bad:
        raise UsageError(f"--account takes 12-digit account ids, got {', '.join(bad)}")
    if not accounts:
        raise UsageError("name the accounts to read with --account (the table reads only the accounts a query names)")
    if options.end < options.start:
        raise UsageError("--to is before --from")
    return Target(
        database=database_name(config.stack),
        workgroup=f"login-monitoring-{config.stack}-backtest",
        organization_id=organization_id,
        accounts=accounts,
        regions=tuple(options.region),
        start=options.start,
        end=options.end,
    )


# ------------------------------------------------------------------ estimate


def _months(start: date, end: date) -> Iterator[date]:
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def scanned_bytes(s3, bucket: str, target: Target) -> tuple[int, int]:
    """(bytes, files) of the trail's log files the query's partitions hold: what Athena reads."""
    total = files = 0
    first, last = target.start.strftime("%Y/%m/%d"), target.end.strftime("%Y/%m/%d")
    pages = s3.get_paginator("list_objects_v2")
    for account in target.accounts:
        root = f"{logs_prefix(target.organization_id)}{account}/CloudTrail/"
        regions = target.regions or tuple(
            prefix["Prefix"][len(root) :].rstrip("/")
            for page in pages.paginate(Bucket=bucket, Prefix=root, Delimiter="/")
            for prefix in page.get("CommonPrefixes", ())
        )
        for region in regions:
            for month in _months(target.start, target.end):
                prefix = f"{root}{region}/{month:%Y/%m}/"
                for page in pages.paginate(Bucket=bucket, Prefix=prefix):
                    for item in page.get("Contents", ()):
                        day = item["Key"][len(root) + len(region) + 1 :][:10]
                        if first <= day <= last:
                            total += item["Size"]
                            files += 1
    return total, files


def describe_cost(scanned: int, files: int) -> str:
    billed = max(scanned, MINIMUM_BYTES)
    return (
        f"{scanned:,} bytes in {files:,} log files to scan; about {billed / 1024**4 * USD_PER_TB:.2f} USD "
        f"at {USD_PER_TB:g} USD per TB scanned (10 MB minimum per query)"
    )


# ------------------------------------------------------------------ run


def run_query(athena, sql: str, target: Target, sleep: Callable[[float], None] = time.sleep) -> tuple[list, dict]:
    """Run in the workgroup; return (rows as lists of str|None without the header, statistics)."""
    started = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": target.database}, WorkGroup=target.workgroup
    )
    query_id = started["QueryExecutionId"]
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        sleep(2)
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "no reason given")
        raise RuntimeError(f"query {query_id} {state.lower()}: {reason}")
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        for row in page["ResultSet"]["Rows"]:
            rows.append([cell.get("VarCharValue") for cell in row["Data"]])
    return rows[1:], execution.get("Statistics", {})


def replay_rows(replay: Replay, rows: list[list[str | None]]) -> int:
    """Feed the query's rows into `replay`; return the (approximate) number of log files read."""
    signin_names = [name for name, _ in signin_columns()]
    width = len(_KEY_COLUMNS) + len(signin_names)
    files = 0
    for row in rows:
        keys, values = row[: len(_KEY_COLUMNS)], row[len(_KEY_COLUMNS) : width]
        events, duplicates, file_count = (int(value or 0) for value in row[width : width + 3])
        replay.events += events
        replay.duplicates += duplicates
        files = max(files, file_count)
        file, event_id, event_time, matched, signin = keys
        if file is None:
            continue  # the group of events that matched nothing: totals only
        positions = [int(position) for position in matched.split(",")] if matched else []
        is_signin = signin == "true"
        if is_signin:
            event = event_from_row(dict(zip(signin_names, values, strict=True)))
        else:
            event = {"eventID": event_id} if event_id is not None else {}
            if event_time is not None:
                event["eventTime"] = event_time
        for _ in range(events):
            replay.record(event, positions, is_signin)
    return files


def main(argv: list[str] | None = None, *, session_factory: Callable[[], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=cli.program("backtest"), description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose detections to backtest (default dev)")
    parser.add_argument("--athena-stack", help="stack with backtestAthena: true that holds the table (default --stack)")
    parser.add_argument("--from", dest="start", type=_day, required=True, help="first day, UTC (2024-05-01)")
    parser.add_argument("--to", dest="end", type=_day, required=True, help="last day, UTC, included")
    parser.add_argument("--account", action="append", default=[], help="account to read (repeat); see docs/replay.md")
    parser.add_argument("--region", action="append", default=[], help="Region to read (repeat; default all)")
    parser.add_argument("--trail-bucket", help="the trail bucket (for --estimate and --run)")
    parser.add_argument("--estimate", action="store_true", help="list the trail bucket: bytes the query will scan")
    parser.add_argument("--run", action="store_true", help="run the query in the workgroup and print the report")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--max-mails", type=int, default=20, help="mails shown in text output (default 20)")
    options = parser.parse_args(argv)

    try:
        _, settings = _settings(options.stack, options.project_dir)
        if settings.is_hub:
            raise UsageError(f"stack {options.stack} is a hub: it deploys no detections; backtest a member stack")
        target = resolve_target(options)
        if (options.estimate or options.run) and not options.trail_bucket:
            raise UsageError("--estimate and --run need --trail-bucket (pulumi stack output of the trail's bucket)")
    except (SettingsError, StackConfigError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    signin = compile_pattern(subscription_filter_pattern())
    query = backtest_query(
        [item.compiled for item in settings.detections],
        signin,
        database=target.database,
        table=TABLE_NAME,
        accounts=target.accounts,
        regions=target.regions,
        start=target.start,
        end=target.end,
    )
    if not (options.estimate or options.run):
        print(
            f"-- Backtest of stack {options.stack} (profile {settings.detection_profile}) in workgroup "
            f"{target.workgroup}: {', '.join(target.accounts)}, {target.start} to {target.end}"
        )
        print(query.sql + ";")
        return 0

    try:
        session = (session_factory or _boto3_session)()
        scanned, files = scanned_bytes(session.client("s3"), options.trail_bucket, target)
        if not options.run:
            print(f"-- estimate: {describe_cost(scanned, files)}")
            print(query.sql + ";")
            return 0
        print(f"estimate: {describe_cost(scanned, files)}", file=sys.stderr)
        rows, statistics = run_query(session.client("athena"), query.sql, target)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        return cli.fail_on_aws_problem(error)
    if "DataScannedInBytes" in statistics:
        print(f"scanned: {describe_cost(statistics['DataScannedInBytes'], files)}", file=sys.stderr)
    replay = stack_replay(settings)
    files_read = replay_rows(replay, rows)
    result = replay.result()
    context = {**report_context(options.stack, settings), "files": files_read, "filesRead": files_read}
    if options.format == "json":
        print(json.dumps(render_json(result, replay.detections, context), indent=2, ensure_ascii=False))
    else:
        print(render_text(result, replay.detections, context, options.max_mails))
    return 0


def _boto3_session():
    import boto3

    return boto3.session.Session()


if __name__ == "__main__":
    sys.exit(main())
