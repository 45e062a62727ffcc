"""List one principal's or one IP address's console sign-ins since a time, from the stack's history table.

Answers with a Query on the table's secondary indexes (never a Scan), then reads the full items
by event id, since the indexes carry only what the risk reasons need.

    pulumi stack output --json > outputs.json
    python -m operations.history --outputs outputs.json --principal arn:aws:iam::111122223333:user/alice --since 7d
    python -m operations.history --table login-monitoring-... --region us-east-1 --ip 203.0.113.7 --since 2024-05-01
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.risk import ip_key
from handlers.signin import PrincipalKind
from handlers.store import INDEXES, IP_INDEX, PRINCIPAL_INDEX, TIME_ATTRIBUTE, iso_time
from offline import cli
from operations.aws_clients import boto3_client

_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):user/(?:.*/)?([^/]+)$")
_ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")
# DynamoDB's limit for one BatchGetItem request.
BATCH_GET_LIMIT = 100
COLUMNS = ("time", "event", "outcome", "who", "sourceIp", "country", "mfa", "risk")


class HistoryError(ValueError):
    """The command line or a stack output file is wrong."""


def principal_key(text: str) -> str:
    """The index key of a principal: `<kind>:<account>:<name>` as stored, an IAM user ARN, or a root ARN."""
    if match := _USER_ARN.match(text):
        return f"{PrincipalKind.IAM_USER.value}:{match[1]}:{match[2]}"
    if match := _ROOT_ARN.match(text):
        return f"{PrincipalKind.ROOT.value}:{match[1]}:root"
    kind, _, rest = text.partition(":")
    account, _, name = rest.partition(":")
    kinds = [k.value for k in PrincipalKind if k is not PrincipalKind.UNKNOWN_USER]
    if kind not in kinds or not re.fullmatch(r"\d{12}", account) or not name:
        raise HistoryError(
            f"--principal {text!r}: give an IAM user or root ARN, or <kind>:<account id>:<name> "
            f"with kind one of {', '.join(kinds)} (e.g. iam-user:111122223333:alice)"
        )
    return text


def parse_time(text: str, now: datetime) -> datetime:
    """An ISO date or time (UTC unless it says otherwise), or a span back from now: 30m, 12h, 7d."""
    if match := _RELATIVE.match(text.strip()):
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"{text!r} is neither an ISO date/time nor a span such as 7d, 12h or 30m") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def query(
    dynamodb: Any, table: str, index: str, key: str, since: datetime, until: datetime, limit: int | None = None
) -> list[dict]:
    """Full history items of the key between the two times, oldest first."""
    hash_key, _ = INDEXES[index]
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#key = :key AND #time BETWEEN :since AND :until",
        "ExpressionAttributeNames": {"#key": hash_key, "#time": TIME_ATTRIBUTE},
        "ExpressionAttributeValues": {
            ":key": {"S": key},
            ":since": {"S": iso_time(since.astimezone(UTC).replace(microsecond=0))},
            ":until": {"S": iso_time(until.astimezone(UTC).replace(microsecond=0))},
        },
    }
    event_ids: list[str] = []
    while limit is None or len(event_ids) < limit:
        page = dynamodb.query(**request)
        event_ids += [item["eventId"]["S"] for item in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items = _full_items(dynamodb, table, event_ids[:limit] if limit else event_ids)
    return sorted(items, key=lambda item: (item.get(TIME_ATTRIBUTE, {}).get("S", ""), item["eventId"]["S"]))


def _full_items(dynamodb: Any, table: str, event_ids: list[str]) -> list[dict]:
    items: list[dict] = []
    for start in range(0, len(event_ids), BATCH_GET_LIMIT):
        keys = [{"eventId": {"S": event_id}} for event_id in event_ids[start : start + BATCH_GET_LIMIT]]
        request = {table: {"Keys": keys}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            items += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
    return items


def row(item: dict) -> dict[str, Any]:
    def text(name: str) -> str:
        return item.get(name, {}).get("S", "")

    mfa = item.get("mfaUsed", {}).get("BOOL")
    kind = text("principalKind")
    return {
        "time": text(TIME_ATTRIBUTE),
        "eventId": text("eventId"),
        "event": text("eventName"),
        "outcome": text("outcome"),
        "who": f"{kind}: {text('displayName')}" if kind else text("displayName"),
        "principalArn": text("principalArn"),
        "accountId": text("accountId"),
        "sourceIp": text("sourceIp"),
        "country": text("country"),
        "mfa": None if mfa is None else ("yes" if mfa else "no"),
        "userAgent": text("userAgent"),
        "risk": [entry.get("S", "") for entry in item.get("riskReasons", {}).get("L", [])],
    }


def render_table(rows: list[dict[str, Any]], what: str) -> str:
    if not rows:
        return f"No sign-ins of {what} in that time."
    cells = [[_cell(r[column]) for column in COLUMNS] for r in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(COLUMNS)]
    lines = [f"{len(rows)} sign-in(s) of {what}:", ""]
    lines.append("  ".join(column.ljust(width) for column, width in zip(COLUMNS, widths, strict=True)).rstrip())
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "; ".join(value) or "-"
    return str(value) or "-"


def table_from_outputs(path: str) -> tuple[str, str | None]:
    """(table name, Region or None) from `pulumi stack output --json`."""
    try:
        if path == "-":
            outputs = json.load(sys.stdin)
        else:
            with open(path, encoding="utf-8") as stream:
                outputs = json.load(stream)
    except (OSError, ValueError) as error:
        raise HistoryError(
            f"cannot read stack outputs from {path} (use `pulumi stack output --json`): {error}"
        ) from None
    table = outputs.get("signInTableName") if isinstance(outputs, dict) else None
    if not isinstance(table, str) or not table:
        raise HistoryError("the stack outputs have no signInTableName: is this a member stack?")
    region = None
    for name in ("notifierFunctionArn", "alertTopicArn"):
        arn = outputs.get(name)
        if isinstance(arn, str) and arn.count(":") >= 5:
            region = arn.split(":")[3]
            break
    return table, region


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=cli.program("operations.history"), description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--outputs", metavar="FILE", help="`pulumi stack output --json` of the stack, or - for stdin")
    source.add_argument("--table", help="the history table's name (stack output signInTableName)")
    parser.add_argument("--region", help="the stack's Region (default: from the stack outputs)")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--principal", help="IAM user ARN, root ARN, or <kind>:<account id>:<name>")
    who.add_argument("--ip", help="source IP address")
    parser.add_argument("--since", required=True, help="ISO date/time (UTC unless given) or a span back: 7d, 12h, 30m")
    parser.add_argument("--until", help="ISO date/time or span back (default: now)")
    parser.add_argument("--limit", type=int, help="at most this many sign-ins (the oldest first)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def main(
    argv: Sequence[str] | None = None,
    client: Callable[[str], Any] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    args = _parser().parse_args(argv)
    moment = now()
    try:
        table, region = table_from_outputs(args.outputs) if args.outputs else (args.table, None)
        region = args.region or region
        if not region:
            raise HistoryError("--region is needed: the stack outputs do not name the Region")
        since = parse_time(args.since, moment)
        until = parse_time(args.until, moment) if args.until else moment
        if since > until:
            raise HistoryError(f"--since {args.since} is after --until")
        if args.limit is not None and args.limit < 1:
            raise HistoryError("--limit must be at least 1")
        if args.principal:
            index, key, what = PRINCIPAL_INDEX, principal_key(args.principal), args.principal
        else:
            index, key, what = IP_INDEX, ip_key(args.ip), args.ip
            if not key:
                raise HistoryError(f"--ip {args.ip!r} is not an IP address")
    except HistoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        dynamodb = (client or _boto3_client)(region)
        rows = [row(item) for item in query(dynamodb, table, index, key, since, until, args.limit)]
    except Exception as error:
        return cli.fail_on_aws_problem(error)
    if args.format == "json":
        document = {"table": table, "index": index, "key": key, "since": iso_time(since), "until": iso_time(until)}
        print(json.dumps({**document, "signIns": rows}, indent=2, sort_keys=True))
    else:
        print(render_table(rows, what))
    return 0


def _boto3_client(region: str) -> Any:
    return boto3_client("dynamodb", region)


if __name__ == "__main__":
    sys.exit(main())
