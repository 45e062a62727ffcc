"""DuckDB: the per-selector columns of backtest.sql, read from a whole CloudTrail record as JSON.

Every selector is extracted in one pass over the record (`json_extract` with a list of paths parses
the record once), then typed from DuckDB's `json_type`.
"""

from __future__ import annotations

from sqlglot import exp

from backtest.sql import KINDS, Fields, json_path

VALUES = "vals"


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def extract_values(doc: exp.Expression, fields: Fields) -> exp.Expression:
    """One list with the JSON value of every selector (NULL where it finds nothing)."""
    if not fields.paths:
        return exp.null()
    paths = [exp.Literal.string(json_path(path, "duckdb")) for path in fields.paths]
    return _call("json_extract", doc, exp.Array(expressions=paths))


def raw_columns(fields: Fields, values: str = VALUES) -> list[exp.Expression]:
    """r<i>: the JSON text of each selector's value, as DuckDB writes it (minified, escapes resolved)."""
    return [
        exp.alias_(
            exp.cast(exp.Bracket(this=exp.column(values), expressions=[exp.Literal.number(index)]), "VARCHAR"),
            f"r{index}",
        )
        for index in range(len(fields.paths))
    ]


def field_columns(fields: Fields) -> list[exp.Expression]:
    """k<i>, s<i>, n<i>, x<i> (only those the predicates read) from the raw texts r<i>.

    The JSON text alone tells the kind by its first character, and a string without a backslash is
    its text between the quotes, so most values need no second parse.
    """
    columns: list[exp.Expression] = []
    for index in range(len(fields.paths)):
        raw = exp.column(f"r{index}")
        first = exp.func("left", raw, exp.Literal.number(1))
        kind = exp.Case()
        for char, code in (('"', "s"), ("{", "o"), ("[", "a"), ("t", "t"), ("f", "f"), ("n", "z")):
            kind = kind.when(exp.EQ(this=first, expression=exp.Literal.string(char)), exp.Literal.string(code))
        kind = kind.when(exp.Not(this=exp.Is(this=raw, expression=exp.Null())), exp.Literal.string(KINDS["number"]))
        columns.append(exp.alias_(kind, f"k{index}"))
        if fields.needs(index, "s"):
            text = exp.If(
                this=exp.func("contains", raw, exp.Literal.string("\\")),
                true=_call("json_extract_string", raw, exp.Literal.string("$")),
                false=_call("array_slice", raw, exp.Literal.number(2), exp.Literal.number(-2)),
            )
            columns.append(exp.alias_(text, f"s{index}"))
        is_number = exp.EQ(this=exp.column(f"k{index}"), expression=exp.Literal.string(KINDS["number"]))
        if fields.needs(index, "n"):
            number = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
            columns.append(exp.alias_(exp.Case().when(is_number, number), f"n{index}"))
        if fields.needs(index, "x"):
            # Python reads a number with '.', 'e' or 'E' as a float and writes it the shortest way that
            # reads back (1.5, 1e+20), as DuckDB writes a DOUBLE; an integer keeps every digit.
            is_float = exp.func("regexp_matches", raw, exp.Literal.string("[.eE]"))
            as_double = exp.cast(exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE")), "VARCHAR")
            text = exp.If(this=is_float, true=as_double, false=raw)
            columns.append(exp.alias_(exp.Case().when(is_number, text), f"x{index}"))
    return columns
