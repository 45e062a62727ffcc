"""DuckDB queries that evaluate many patterns over CloudTrail records in one pass."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path as FilePath
from tempfile import TemporaryDirectory
from typing import Any

import duckdb
from sqlglot import exp

from backtest.duckdb_fields import (
    VALUES,
    expand_some_values,
    extract_values,
    field_columns,
    list_columns,
    list_names,
    raw_columns,
)
from backtest.prefilter import condition, prefilter_paths, prefilter_tests
from backtest.sql import Fields, Path, predicate
from detections.pattern import CompiledPattern

CANDIDATE = "candidate"
SHORT = "short_values"


def _first_read(patterns: Sequence[CompiledPattern], raw: Mapping[str, Path], tests) -> Fields:
    """The selectors every record is read for: the raw ones, then the prefilter's (or, without one, all)."""
    fields = Fields()
    for compiled in patterns:
        predicate(compiled, fields)
    raw_paths = list(dict.fromkeys(raw.values()))
    extra = prefilter_paths(tests) if tests is not None else fields.paths
    return Fields(paths=raw_paths + [path for path in extra if path not in raw_paths])


def _text_of(path: Path, values: str, paths: Sequence[Path]) -> exp.Expression:
    position = exp.Literal.number(list(paths).index(path))
    return exp.cast(exp.Bracket(this=exp.column(values), expressions=[position]), "VARCHAR")


def screen_select(
    source: exp.Expression,
    doc: str,
    carried: Sequence[str],
    patterns: Sequence[CompiledPattern],
    raw: Mapping[str, Path] | None = None,
) -> exp.Select | None:
    """SELECT <carried>, <raw>, candidate, doc FROM source, reading each record for `raw` and the prefilter only.

    `candidate` is false for a record no pattern can match, and then `doc` is NULL: only candidates are
    kept whole, to be evaluated by `flags_select(..., screened=True)`. None when some pattern has no
    prefilter tests (every record must then be evaluated).
    """
    tests = prefilter_tests(patterns)
    if tests is None:
        return None
    raw = raw or {}
    first = _first_read(patterns, raw, tests)
    read = exp.select(exp.Star(), exp.alias_(extract_values(exp.column(doc), first), SHORT)).from_(source, copy=False)
    raw_texts = [exp.alias_(_text_of(path, SHORT, first.paths), name) for name, path in raw.items()]
    candidate = condition(tests, lambda path: _text_of(path, SHORT, first.paths))
    screened = exp.select(*carried, *raw_texts, exp.alias_(candidate, CANDIDATE, copy=False), doc)
    kept_doc = exp.Case().when(exp.column(CANDIDATE), exp.column(doc))
    return exp.select(*carried, *raw, CANDIDATE, exp.alias_(kept_doc, doc)).from_(
        screened.from_(read.subquery("read", copy=False), copy=False).subquery("screened", copy=False)
    )


def flags_select(
    source: exp.Expression,
    doc: str,
    carried: Sequence[str],
    patterns: Sequence[CompiledPattern],
    raw: Mapping[str, Path] | None = None,
    document: str | None = None,
    screened: bool = False,
    candidates_only: bool = False,
) -> exp.Query:
    """SELECT <carried>, <raw>, <document>, m0, m1, ... FROM source: m<i> is true when patterns[i] matches `doc`.

    `raw` names selectors whose JSON text to return as well (read in the same parse as the rest);
    `document`, when given, names a column with the text of `doc`. With `screened`, `source` is the
    output of `screen_select` (same patterns, carried and raw): only its candidates are read, typed and
    evaluated, the others come out with every flag false and no document (or, with `candidates_only`,
    not at all).
    """
    raw = raw or {}
    fields = Fields()
    predicates = [predicate(compiled, fields) for compiled in patterns]
    flags = [
        exp.alias_(exp.func("coalesce", expand_some_values(test), exp.false()), f"m{i}", copy=False)
        for i, test in enumerate(predicates)
    ]
    lists = list_names(fields)
    documents = [document] if document else []
    document_column = [exp.alias_(exp.column(doc), document)] if document else []
    kept = [*carried, *raw, *documents]
    if not screened:
        # Every record read once for every selector, raw ones included.
        first = _first_read(patterns, raw, None)
        read = exp.select(
            *carried,
            *document_column,
            exp.alias_(extract_values(exp.column(doc), first), SHORT),
            *list_columns(exp.column(doc), fields),
        )
        raw_texts = [exp.alias_(_text_of(path, SHORT, first.paths), name) for name, path in raw.items()]
        texts = [exp.alias_(_text_of(path, SHORT, first.paths), f"r{index}") for index, path in enumerate(fields.paths)]
        values = exp.select(*carried, *raw_texts, *documents, *texts, *lists).from_(
            read.from_(source, copy=False).subquery("extracted", copy=False)
        )
        return _evaluate(values, kept, fields, flags)
    every = exp.alias_(extract_values(exp.column(doc), fields), VALUES)
    values = exp.select(*carried, *raw, *document_column, every, *list_columns(exp.column(doc), fields))
    values = values.from_(source, copy=False).where(exp.column(CANDIDATE), copy=False)
    passed = exp.select(*kept, *raw_columns(fields), *lists).from_(values.subquery("extracted", copy=False), copy=False)
    if candidates_only:
        return _evaluate(passed, kept, fields, flags)
    ruled_out = exp.select(*carried, *raw, *(exp.alias_(exp.null(), name) for name in documents))
    ruled_out = (
        ruled_out.select(*(exp.false() for _ in flags)).from_(source.copy()).where(exp.not_(exp.column(CANDIDATE)))
    )
    return exp.union(_evaluate(passed, kept, fields, flags), ruled_out, distinct=False, copy=False)


def _evaluate(texts: exp.Select, kept: Sequence[str], fields: Fields, flags: Sequence[exp.Expression]) -> exp.Select:
    typed = exp.select(*kept, *field_columns(fields), *list_names(fields)).from_(
        texts.subquery("texts", copy=False), copy=False
    )
    return exp.select(*kept, *flags).from_(typed.subquery("typed", copy=False), copy=False)


def match_events(patterns: Sequence[CompiledPattern], events: Iterable[Any]) -> list[list[bool]]:
    """For each event (decoded JSON), which patterns match it, evaluated by DuckDB. For tests and checks."""
    return match_texts(patterns, (json.dumps(event) for event in events))


def match_texts(patterns: Sequence[CompiledPattern], texts: Iterable[str]) -> list[list[bool]]:
    """match_events for events given as JSON text, read by DuckDB as written (1e400 stays 1e400)."""
    with TemporaryDirectory() as folder:
        path = FilePath(folder) / "events.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for position, text in enumerate(texts):
                handle.write(f'{{"position": {position}, "doc": {text}}}\n')
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
                # Known columns: without it DuckDB reads a sample of the file only to learn that.
                exp.EQ(this=exp.column("records"), expression=exp.true()),
            ],
        )
        screen = screen_select(exp.Table(this=source), "doc", ["position"], patterns)
        with duckdb.connect() as connection:
            if screen is None:
                query = flags_select(exp.Table(this=source), "doc", ["position"], patterns)
            else:
                connection.execute(f"CREATE TEMP TABLE screened AS {screen.sql('duckdb')}")
                query = flags_select(exp.to_table("screened"), "doc", ["position"], patterns, screened=True)
            ordered = exp.select(exp.Star()).from_(query.subquery("flags")).order_by("position")
            rows = connection.execute(ordered.sql("duckdb")).fetchall()
    return [list(row[1:]) for row in rows]
