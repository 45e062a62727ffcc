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
from backtest.prefilter import condition, prefilter_paths, prefilter_tests
from backtest.sql import Fields, Path, predicate
from detections.pattern import CompiledPattern

CANDIDATE = "candidate"
SHORT = "short_values"


def flags_select(
    source: exp.Expression,
    doc: str,
    carried: Sequence[str],
    patterns: Sequence[CompiledPattern],
    raw: Mapping[str, Path] | None = None,
) -> exp.Select:
    """SELECT <carried>, <raw>, m0, m1, ... FROM source: m<i> is true when patterns[i] matches `doc`.

    `raw` names selectors whose JSON text to return as well. Every record is parsed once for `raw` and
    the prefilter's selectors; only those that pass the prefilter are read again for all selectors.
    """
    fields = Fields()
    predicates = [predicate(compiled, fields) for compiled in patterns]
    raw_names = {name: fields.column("r", path) for name, path in (raw or {}).items()}
    tests = prefilter_tests(patterns)
    everything = extract_values(exp.column(doc), fields)
    if tests is None:
        values = exp.select(*carried, exp.alias_(everything, VALUES)).from_(source)
        texts = raw_columns(fields)
    else:
        # Every record is read for the raw selectors and the tests' few; only those that pass a test are
        # read for all selectors. The others' selectors stay NULL, as for an event holding none of them,
        # which no pattern with tests matches; so typing them costs next to nothing.
        raw_paths = list(dict.fromkeys((raw or {}).values()))
        short = Fields(paths=raw_paths + [path for path in prefilter_paths(tests) if path not in raw_paths])

        def text_of(path: Path, values: str = SHORT, paths: Sequence[Path] = short.paths) -> exp.Expression:
            position = exp.Literal.number(list(paths).index(path))
            return exp.cast(exp.Bracket(this=exp.column(values), expressions=[position]), "VARCHAR")

        screened = exp.select(exp.Star(), exp.alias_(extract_values(exp.column(doc), short), SHORT)).from_(source)
        kept = [*carried, *([] if doc in carried else [doc]), SHORT]
        flagged = exp.select(*kept, exp.alias_(condition(tests, text_of), CANDIDATE))
        read = exp.Case().when(exp.column(CANDIDATE), everything)
        values = exp.select(*carried, SHORT, exp.alias_(read, VALUES))
        values = values.from_(flagged.from_(screened.subquery("screened")).subquery("flagged"))
        texts = [
            exp.alias_(text_of(path) if path in raw_paths else text_of(path, VALUES, fields.paths), f"r{index}")
            for index, path in enumerate(fields.paths)
        ]
    texts = exp.select(*carried, *texts).from_(values.subquery("extracted"))
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
