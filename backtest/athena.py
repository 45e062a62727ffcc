"""The backtest query for Athena (Trino): a stack's detections over the CloudTrail table of the trail bucket.

The predicates are the very syntax trees DuckDB runs (backtest.sql); only the extraction differs. The
table (components/backtest_athena.py) holds AWS's documented CloudTrail columns, so a selector maps to a
column: a string column, a field of the `useridentity` struct, or a path inside a column that holds
JSON text (requestParameters, responseElements, additionalEventData, serviceEventDetails). A selector
the table has no column for is refused by name. Where the table cannot tell a JSON null from a missing
field (string and struct columns read both as NULL), null reads as missing; CloudTrail writes neither
there. A wildcard on a number inside a JSON column compares Trino's text of the number.

One scan: events are deduplicated by eventID (first file wins), every uninteresting event collapses
into one group that carries the totals, and only events that matched a detection or the notifier's
subscription filter come back, with the fields the notifier reads for sign-ins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlglot import exp

from backtest.sql import KINDS, Fields, Path, UnsupportedPattern, json_path, predicate
from components.backtest_athena import COLUMNS, USER_IDENTITY
from detections.pattern import CompiledPattern, selector_text

SUMMARY_COLUMNS = ("events", "duplicates", "files")
# Fields the notifier reads from a sign-in, returned for sign-in rows only.
SIGNIN_FIELDS = (
    "eventID",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "recipientAccountId",
    "userIdentity",
    "additionalEventData",
    "responseElements",
    "serviceEventDetails",
)


def _null(kind: str) -> exp.Expression:
    return exp.cast(exp.null(), kind)


@dataclass(frozen=True)
class _Column:
    """How one selector reads from the table: its kind, string, number and number-text expressions."""

    kind: exp.Expression
    string: exp.Expression
    number: exp.Expression
    number_text: exp.Expression


def _when_present(value: exp.Expression, kind: str) -> exp.Expression:
    return exp.Case().when(exp.Not(this=exp.Is(this=value, expression=exp.null())), exp.Literal.string(KINDS[kind]))


def _missing() -> _Column:
    return _Column(_null("VARCHAR"), _null("VARCHAR"), _null("DOUBLE"), _null("VARCHAR"))


def _struct_field(path: Path) -> exp.Expression | None:
    """useridentity.<...> for a path inside userIdentity; None if the struct has no such field."""
    node: Any = ("useridentity", USER_IDENTITY)
    expression: exp.Expression = exp.column("useridentity")
    for step in path[1:]:
        if isinstance(node, str) or not isinstance(step, str) or step not in node[1]:
            return None
        child = node[1][step]
        name = child if isinstance(child, str) else child[0]
        expression = exp.Dot(this=expression, expression=exp.to_identifier(name))
        node = child
    return expression


def _is_leaf(path: Path) -> bool:
    node: Any = ("useridentity", USER_IDENTITY)
    for step in path[1:]:
        node = node[1][step]
    return isinstance(node, str)


def column_for(path: Path) -> _Column:
    """The table's reading of a selector; UnsupportedPattern when the table has no column for it."""
    head = path[0]
    shown = selector_text(path)
    if not isinstance(head, str) or head not in COLUMNS:
        raise UnsupportedPattern(f"the CloudTrail table has no column for {shown}")
    column, kind = COLUMNS[head]
    value = exp.column(column)
    if kind in ("string", "boolean"):
        if len(path) > 1:
            return _missing()  # stepping into a string finds nothing
        if kind == "string":
            return _Column(_when_present(value, "string"), value, _null("DOUBLE"), _null("VARCHAR"))
        as_kind = (
            exp.Case()
            .when(exp.EQ(this=value, expression=exp.Literal.string("true")), exp.Literal.string(KINDS["true"]))
            .when(exp.EQ(this=value, expression=exp.Literal.string("false")), exp.Literal.string(KINDS["false"]))
        )
        return _Column(as_kind, _null("VARCHAR"), _null("DOUBLE"), _null("VARCHAR"))
    if kind == "struct":
        field = _struct_field(path)
        if field is None:
            raise UnsupportedPattern(f"the CloudTrail table's useridentity has no field for {shown}")
        if _is_leaf(path):
            return _Column(_when_present(field, "string"), field, _null("DOUBLE"), _null("VARCHAR"))
        return _Column(_when_present(field, "object"), _null("VARCHAR"), _null("DOUBLE"), _null("VARCHAR"))
    # A column holding JSON text: the value's own JSON text tells its kind by the first character.
    parsed = exp.Anonymous(this="try", expressions=[exp.Anonymous(this="json_parse", expressions=[value])])
    if len(path) > 1:
        parsed = exp.Anonymous(
            this="json_extract", expressions=[parsed, exp.Literal.string(json_path(path[1:], "athena"))]
        )
    text = exp.Anonymous(this="json_format", expressions=[parsed])
    first = exp.Anonymous(this="substr", expressions=[text, exp.Literal.number(1), exp.Literal.number(1)])
    as_kind = exp.Case()
    for char, code in (('"', "s"), ("{", "o"), ("[", "a"), ("t", "t"), ("f", "f"), ("n", "z")):
        as_kind = as_kind.when(exp.EQ(this=first, expression=exp.Literal.string(char)), exp.Literal.string(code))
    as_kind = as_kind.when(exp.Not(this=exp.Is(this=text, expression=exp.null())), exp.Literal.string("n"))
    string = exp.Anonymous(this="json_extract_scalar", expressions=[parsed, exp.Literal.string("$")])
    number = exp.TryCast(this=text, to=exp.DataType.build("DOUBLE"))
    return _Column(as_kind, string, number, text)


def field_columns(fields: Fields) -> list[exp.Expression]:
    if fields.lists:
        shown = selector_text(fields.lists[0])
        raise UnsupportedPattern(f"the CloudTrail table cannot read the wildcard selector {shown}; replay on DuckDB")
    columns: list[exp.Expression] = []
    for index, path in enumerate(fields.paths):
        reading = column_for(path)
        columns.append(exp.alias_(reading.kind, f"k{index}"))
        for name, expression in (("s", reading.string), ("n", reading.number), ("x", reading.number_text)):
            if fields.needs(index, name):
                columns.append(exp.alias_(expression, f"{name}{index}"))
    return columns


def signin_columns() -> list[tuple[str, exp.Expression]]:
    """(result column, table expression) for every field the notifier reads, leaves of userIdentity included."""
    columns: list[tuple[str, exp.Expression]] = []
    for field in SIGNIN_FIELDS:
        column, kind = COLUMNS[field]
        if kind != "struct":
            columns.append((field, exp.column(column)))
            continue
        for leaf in _leaves(USER_IDENTITY, ()):
            columns.append((".".join((field, *leaf)), _struct_field((field, *leaf))))
    return columns


def _leaves(node: dict, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = []
    for key, value in node.items():
        if isinstance(value, str):
            found.append((*prefix, key))
        else:
            found += _leaves(value[1], (*prefix, key))
    return found


def event_from_row(row: dict[str, str | None]) -> dict[str, Any]:
    """The CloudTrail event (as the notifier reads it) rebuilt from a sign-in row of the backtest query."""
    event: dict[str, Any] = {}
    for name, _ in signin_columns():
        value = row.get(name)
        if value is None:
            continue
        field, *rest = name.split(".")
        if COLUMNS[field][1] == "json":
            try:
                event[field] = json.loads(value)
            except ValueError:
                event[field] = value
            continue
        target = event
        for step in [field, *rest][:-1]:
            target = target.setdefault(step, {})
        target[[field, *rest][-1]] = value
    return event


@dataclass(frozen=True)
class BacktestQuery:
    sql: str
    detections: int  # m0 .. m<detections-1>; the subscription filter is the last flag


def _partition_filter(accounts: Sequence[str], regions: Sequence[str], start: date, end: date) -> exp.Expression:
    conditions: list[exp.Expression] = [
        exp.In(this=exp.column("account"), expressions=[exp.Literal.string(a) for a in accounts]),
        exp.Between(
            this=exp.column("timestamp"),
            low=exp.Literal.string(start.strftime("%Y/%m/%d")),
            high=exp.Literal.string(end.strftime("%Y/%m/%d")),
        ),
    ]
    if regions:
        conditions.append(exp.In(this=exp.column("region"), expressions=[exp.Literal.string(r) for r in regions]))
    return exp.and_(*conditions)


def backtest_query(
    patterns: Sequence[CompiledPattern],
    signin: CompiledPattern,
    *,
    database: str,
    table: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    start: date,
    end: date,
) -> BacktestQuery:
    """The Trino SQL of one backtest: every pattern, the subscription filter, dedup, totals, one scan."""
    if not accounts:
        raise ValueError("name at least one account: the table's account partitions are injected by the query")
    fields = Fields()
    all_patterns = [*patterns, signin]
    predicates = [predicate(compiled, fields) for compiled in all_patterns]
    flags = [f"m{i}" for i in range(len(all_patterns))]
    signin_flag = flags[-1]
    returned = signin_columns()

    source = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(database))
    typed = (
        exp.select(
            exp.alias_(exp.column(exp.to_identifier("$path", quoted=True)), "file"),
            exp.alias_(exp.column("eventid"), "event_id"),
            exp.alias_(exp.column("eventtime"), "event_time"),
            *(exp.alias_(expression, f"f{i}") for i, (_, expression) in enumerate(returned)),
            *field_columns(fields),
        )
        .from_(source)
        .where(_partition_filter(accounts, regions, start, end))
    )
    carried = ["file", "event_id", "event_time", *(f"f{i}" for i in range(len(returned)))]
    flagged = exp.select(
        *carried,
        *(
            exp.alias_(exp.func("coalesce", test, exp.false()), flag)
            for test, flag in zip(predicates, flags, strict=True)
        ),
    ).from_(typed.subquery("typed"))
    duplicate = exp.and_(
        exp.Not(this=exp.Is(this=exp.column("event_id"), expression=exp.null())),
        exp.GT(
            this=exp.Window(
                this=exp.RowNumber(),
                partition_by=[exp.column("event_id")],
                order=exp.Order(expressions=[exp.Ordered(this=exp.column("file"))]),
            ),
            expression=exp.Literal.number(1),
        ),
    )
    ranked = exp.select(*carried, *flags, exp.alias_(duplicate, "duplicate")).from_(flagged.subquery("flagged"))
    interesting = exp.and_(
        exp.Not(this=exp.column("duplicate")),
        exp.Paren(this=exp.or_(*(exp.column(flag) for flag in flags))),
    )
    matched = exp.Anonymous(
        this="array_join",
        expressions=[
            exp.Anonymous(
                this="filter",
                expressions=[
                    exp.Array(
                        expressions=[
                            exp.If(this=exp.column(flag), true=exp.Literal.string(str(i)))
                            for i, flag in enumerate(flags[:-1])
                        ]
                    ),
                    exp.Lambda(
                        this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.null())),
                        expressions=[exp.to_identifier("x")],
                    ),
                ],
            ),
            exp.Literal.string(","),
        ],
    )

    marked = exp.select(
        *carried, *flags, "duplicate", exp.alias_(interesting, "keep"), exp.alias_(matched, "matched")
    ).from_(ranked.subquery("ranked"))

    def kept(expression: exp.Expression, only_signin: bool = False) -> exp.Expression:
        condition = exp.and_(exp.column("keep"), exp.column(signin_flag)) if only_signin else exp.column("keep")
        return exp.Case().when(condition, expression)

    keys = [
        exp.alias_(kept(exp.column("file")), "file"),
        exp.alias_(kept(exp.column("event_id")), "event_id"),
        exp.alias_(kept(exp.column("event_time")), "event_time"),
        exp.alias_(kept(exp.column("matched")), "matched"),
        exp.alias_(kept(exp.column(signin_flag)), "signin"),
        *(exp.alias_(kept(exp.column(f"f{i}"), True), name) for i, (name, _) in enumerate(returned)),
    ]
    totals = [
        exp.alias_(
            exp.Filter(
                this=exp.Count(this=exp.Star()), expression=exp.Where(this=exp.Not(this=exp.column("duplicate")))
            ),
            "events",
        ),
        exp.alias_(
            exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=exp.column("duplicate"))),
            "duplicates",
        ),
        exp.alias_(exp.Anonymous(this="approx_distinct", expressions=[exp.column("file")]), "files"),
    ]
    query = (
        exp.select(*keys, *totals)
        .from_(marked.subquery("marked"))
        .group_by(*(exp.Literal.number(i + 1) for i in range(len(keys))))
        .order_by(
            exp.Ordered(this=exp.column("event_time"), nulls_first=True), exp.column("event_id"), exp.column("file")
        )
    )
    return BacktestQuery(query.sql("athena", pretty=True), len(patterns))
