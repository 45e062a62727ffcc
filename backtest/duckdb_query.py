"""DuckDB queries that evaluate many patterns over CloudTrail records in one pass."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path as FilePath
from tempfile import TemporaryDirectory
from typing import Any

import duckdb
from sqlglot import exp

from backtest.duckdb_fields import VALUES, extract_values, field_columns, raw_columns
from backtest.sql import Fields, Path, predicate
from detections.pattern import CompiledPattern


def flags_select(
    source: exp.Expression,
    doc: str,
    carried: Sequence[str],
    patterns: Sequence[CompiledPattern],
    raw: Mapping[str, Path] | None = None,
) -> exp.Select:
    """SELECT <carried>, <raw>, m0, m1, ... FROM source: m<i> is true when patterns[i] matches `doc`.

    `raw` names selectors whose JSON text to return as well (read in the same single parse).
    """
    fields = Fields()
    predicates = [predicate(compiled, fields) for compiled in patterns]
    raw_names = {name: fields.column("r", path) for name, path in (raw or {}).items()}
    values = exp.select(*carried, exp.alias_(extract_values(exp.column(doc), fields), VALUES)).from_(source)
    texts = exp.select(*carried, *raw_columns(fields)).from_(values.subquery("extracted"))
    typed = exp.select(*carried, *raw_names.values(), *field_columns(fields)).from_(texts.subquery("texts"))
    return exp.select(
        *carried,
        *(exp.alias_(column, name) for name, column in raw_names.items()),
        *(exp.alias_(exp.func("coalesce", test, exp.false()), f"m{i}") for i, test in enumerate(predicates)),
    ).from_(typed.subquery("typed"))


def match_events(patterns: Sequence[CompiledPattern], events: Iterable[Any]) -> list[list[bool]]:
    """For each event (decoded JSON), which patterns match it, evaluated by DuckDB. For tests and checks."""
    with TemporaryDirectory() as folder:
        path = FilePath(folder) / "events.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for position, event in enumerate(events):
                handle.write(json.dumps({"position": position, "doc": event}) + "\n")
        source = exp.Anonymous(
            this="read_json",
            expressions=[
                exp.Literal.string(str(path)),
                exp.EQ(
                    this=exp.column("columns"),
                    expression=exp.Struct(
                        expressions=[
                            exp.PropertyEQ(
                                this=exp.to_identifier("position"), expression=exp.Literal.string("INTEGER")
                            ),
                            exp.PropertyEQ(this=exp.to_identifier("doc"), expression=exp.Literal.string("JSON")),
                        ]
                    ),
                ),
                exp.EQ(this=exp.column("format"), expression=exp.Literal.string("newline_delimited")),
            ],
        )
        query = flags_select(exp.Table(this=source), "doc", ["position"], patterns).order_by("position")
        with duckdb.connect() as connection:
            rows = connection.execute(query.sql("duckdb")).fetchall()
    return [list(row[1:]) for row in rows]
