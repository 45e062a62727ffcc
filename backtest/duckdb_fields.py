"""DuckDB: the per-selector columns of backtest.sql, read from a whole CloudTrail record as JSON.

Every selector is extracted in one pass over the record (`json_extract` with a list of paths parses
the record once), then typed from DuckDB's `json_type`.
"""

from __future__ import annotations

from sqlglot import exp

from backtest.sql import KINDS, SOME_VALUE, Fields, json_path

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


def _kind(raw: exp.Expression) -> exp.Expression:
    first = exp.func("left", raw, exp.Literal.number(1))
    kind = exp.Case()
    for char, code in (('"', "s"), ("{", "o"), ("[", "a"), ("t", "t"), ("f", "f"), ("n", "z")):
        kind = kind.when(exp.EQ(this=first, expression=exp.Literal.string(char)), exp.Literal.string(code))
    return kind.when(exp.Not(this=exp.Is(this=raw, expression=exp.Null())), exp.Literal.string(KINDS["number"]))


def _readings(raw: exp.Expression, kind: exp.Expression) -> dict[str, exp.Expression]:
    """s, n and x of a value from its JSON text `raw`, given its kind."""
    is_number = exp.EQ(this=kind, expression=exp.Literal.string(KINDS["number"]))
    string = exp.If(
        this=exp.func("contains", raw, exp.Literal.string("\\")),
        true=_call("json_extract_string", raw, exp.Literal.string("$")),
        false=_call("array_slice", raw, exp.Literal.number(2), exp.Literal.number(-2)),
    )
    number = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
    # Python reads a number with '.', 'e' or 'E' as a float and writes it the shortest way that reads back
    # (1.5, 1e+20), as DuckDB writes a DOUBLE; an integer keeps every digit. A float past the largest double
    # (1e400) is infinity, which Python writes "Infinity".
    as_double = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
    double_text = (
        exp.Case()
        .when(
            exp.func("isinf", as_double.copy()),
            exp.If(
                this=exp.GT(this=as_double.copy(), expression=exp.Literal.number(0)),
                true=exp.Literal.string("Infinity"),
                false=exp.Literal.string("-Infinity"),
            ),
        )
        .else_(exp.cast(as_double.copy(), "VARCHAR"))
    )
    is_float = exp.func("regexp_matches", raw, exp.Literal.string("[.eE]"))
    text = exp.If(this=is_float, true=double_text, false=raw)
    return {
        "s": string,
        "n": exp.Case().when(is_number, number),
        "x": exp.Case().when(is_number.copy(), text),
    }


def field_columns(fields: Fields) -> list[exp.Expression]:
    """k<i>, s<i>, n<i>, x<i> (only those the predicates read) from the raw texts r<i>.

    The JSON text alone tells the kind by its first character, and a string without a backslash is
    its text between the quotes, so most values need no second parse.
    """
    columns: list[exp.Expression] = []
    for index in range(len(fields.paths)):
        raw = exp.column(f"r{index}")
        columns.append(exp.alias_(_kind(raw), f"k{index}"))
        readings = _readings(raw, exp.column(f"k{index}"))
        for name in ("s", "n", "x"):
            if fields.needs(index, name):
                columns.append(exp.alias_(readings[name], f"{name}{index}"))
    return columns


def list_columns(doc: exp.Expression, fields: Fields) -> list[exp.Expression]:
    """w<i>: every value each wildcard selector finds, as a list of JSON (DuckDB reads one wildcard per call)."""
    return [
        exp.alias_(_call("json_extract", doc.copy(), exp.Literal.string(json_path(path, "duckdb"))), f"w{index}")
        for index, path in enumerate(fields.lists)
    ]


def list_names(fields: Fields) -> list[str]:
    return [f"w{index}" for index in range(len(fields.lists))]


def expand_some_values(condition: exp.Expression) -> exp.Expression:
    """Each some_value as a lambda over its list, reading the element's kind and text as field_columns does."""

    def expand(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Anonymous) and node.name == SOME_VALUE):
            return node
        values, condition = node.expressions
        raw = exp.cast(exp.column("e"), "VARCHAR")
        kind = _kind(raw)
        element = {"ek": kind, **{f"e{name}": value for name, value in _readings(raw, kind).items()}}

        def substitute(inner: exp.Expression) -> exp.Expression:
            if isinstance(inner, exp.Column) and inner.name in element:
                return element[inner.name].copy()
            return inner

        test = exp.func("coalesce", condition.transform(substitute), exp.false())
        each = exp.Lambda(this=test, expressions=[exp.to_identifier("e")])
        return exp.func("coalesce", exp.func("list_bool_or", exp.func("list_transform", values, each)), exp.false())

    return condition.transform(expand)
