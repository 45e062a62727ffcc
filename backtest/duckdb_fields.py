"""DuckDB: the per-selector columns of backtest.sql, read from a whole CloudTrail record as JSON.

Every selector is extracted in one pass over the record (`json_extract` with a list of paths parses
the record once), then typed from DuckDB's `json_type`.
"""

from __future__ import annotations

from sqlglot import exp

from backtest.sql import KINDS, Fields, json_path

VALUES = "vals"
_NUMBER_TYPES = ("BIGINT", "UBIGINT", "HUGEINT", "BIGNUM", "DOUBLE")


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def extract_values(doc: exp.Expression, fields: Fields) -> exp.Expression:
    """One list with the JSON value of every selector (NULL where it finds nothing)."""
    if not fields.paths:
        return exp.null()
    paths = [exp.Literal.string(json_path(path, "duckdb")) for path in fields.paths]
    return _call("json_extract", doc, exp.Array(expressions=paths))


def field_columns(fields: Fields, values: str = VALUES) -> list[exp.Expression]:
    """k<i>, s<i>, n<i>, x<i> (only those the predicates read) from the list `values`."""
    columns: list[exp.Expression] = []
    for index in range(len(fields.paths)):
        value = exp.Bracket(this=exp.column(values), expressions=[exp.Literal.number(index)])
        json_type = _call("json_type", value)
        kind = exp.Case()
        for name, code in (("VARCHAR", "s"), ("NULL", "z"), ("OBJECT", "o"), ("ARRAY", "a")):
            kind = kind.when(exp.EQ(this=json_type, expression=exp.Literal.string(name)), exp.Literal.string(code))
        kind = kind.when(
            exp.EQ(this=json_type, expression=exp.Literal.string("BOOLEAN")),
            exp.If(
                this=exp.EQ(this=exp.cast(value, "VARCHAR"), expression=exp.Literal.string("true")),
                true=exp.Literal.string(KINDS["true"]),
                false=exp.Literal.string(KINDS["false"]),
            ),
        )
        kind = kind.when(
            exp.In(this=json_type, expressions=[exp.Literal.string(name) for name in _NUMBER_TYPES]),
            exp.Literal.string(KINDS["number"]),
        )
        columns.append(exp.alias_(kind, f"k{index}"))
        if fields.needs(index, "s"):
            columns.append(exp.alias_(_call("json_extract_string", value, exp.Literal.string("$")), f"s{index}"))
        if fields.needs(index, "n"):
            columns.append(exp.alias_(exp.TryCast(this=value, to=exp.DataType.build("DOUBLE")), f"n{index}"))
        if fields.needs(index, "x"):
            # Python writes a float the shortest way that reads back (1.5, 1e+20), as DuckDB does for DOUBLE;
            # integers keep every digit.
            as_double = exp.cast(exp.TryCast(this=value, to=exp.DataType.build("DOUBLE")), "VARCHAR")
            text = exp.If(
                this=exp.EQ(this=json_type, expression=exp.Literal.string("DOUBLE")),
                true=as_double,
                false=exp.cast(value, "VARCHAR"),
            )
            columns.append(exp.alias_(text, f"x{index}"))
    return columns
