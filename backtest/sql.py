"""Filter patterns compiled to SQL predicates with the pattern engine's exact semantics.

The predicate never touches JSON itself. It reads four columns per selector, which an engine-specific
extraction layer (`backtest.duckdb_fields`, `backtest.athena`) fills from a CloudTrail record:

    k<i>  the kind of the value: 's' string, 'n' number, 't' true, 'f' false, 'z' JSON null,
          'o' object, 'a' array; SQL NULL when the selector finds nothing
    s<i>  the text of a string
    n<i>  the value of a number, as a double
    x<i>  a number as the engine's text comparisons see it (Python's json.dumps of the value)

So the same syntax tree is rendered for every dialect, and a pattern means the same on DuckDB and on
Athena. The rules mirror detections/pattern.py: a missing field, null, an object or an array matches
neither `=` nor `!=`; an exact `=` matches strings only; a number in the pattern compares numbers by
value and strings by the text as written; wildcards, regex and `!=` compare the text of any scalar.

A selector with a wildcard (`$.a[*]`, `$.*`) reads a list instead: w<i>, every value it selects as
JSON, and its comparison is `__some_value__(w<i>, condition)`, the condition reading one value through the
element columns ek, es, en, ex. Each engine's extraction layer expands it (DuckDB: a lambda over the
list) or refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlglot import exp

from detections.pattern import And, Comparison, CompiledPattern, Or, Step, Wildcard, has_wildcard

Path = tuple[Step, ...]
KINDS = {"string": "s", "number": "n", "true": "t", "false": "f", "null": "z", "object": "o", "array": "a"}
DIALECTS = ("duckdb", "athena")


class UnsupportedPattern(ValueError):
    """The pattern has no SQL form (term patterns match the raw text of a log line)."""


@dataclass
class Fields:
    """The selectors a set of patterns reads, numbered in order of first use, and which columns each needs."""

    paths: list[Path] = field(default_factory=list)
    used: dict[int, set[str]] = field(default_factory=dict)
    lists: list[Path] = field(default_factory=list)  # selectors with a wildcard: w<i>

    def values(self, path: Path) -> exp.Column:
        """w<i>: every value the wildcard selector finds, as a list of JSON."""
        if path not in self.lists:
            self.lists.append(path)
        return exp.column(f"w{self.lists.index(path)}")

    def column(self, name: str, path: Path) -> exp.Column:
        if path not in self.paths:
            self.paths.append(path)
        index = self.paths.index(path)
        self.used.setdefault(index, set()).add(name)
        return exp.column(f"{name}{index}")

    def kind(self, path: Path) -> exp.Column:
        return self.column("k", path)

    def needs(self, index: int, name: str) -> bool:
        return name in self.used.get(index, ())


class _ElementFields(Fields):
    """The columns of the one value a SomeValue condition looks at: ek, es, en, ex."""

    def column(self, name: str, path: Path) -> exp.Column:
        return exp.column(f"e{name}")


# some_value(list, condition): true when the condition holds for some value of the list. No engine has
# it: the engine's layer expands it, and an unexpanded one fails to run rather than answer wrongly.
SOME_VALUE = "__some_value__"


def some_value(values: exp.Expression, condition: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=SOME_VALUE, expressions=[values, condition])


def _is(kind_column: exp.Expression, kind: str) -> exp.Expression:
    return exp.EQ(this=kind_column, expression=exp.Literal.string(KINDS[kind]))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_test(text: exp.Expression, literal: str) -> exp.Expression:
    """The engine's wildcard match of `literal` (with `*` at either end) on `text`."""
    if literal == "*":
        return exp.true()
    starts, ends = literal.startswith("*"), literal.endswith("*")
    if not (starts or ends):
        return exp.EQ(this=text, expression=exp.Literal.string(literal))
    core = _escape_like(literal.strip("*"))
    like = ("%" if starts else "") + core + ("%" if ends else "")
    return exp.Escape(
        this=exp.Like(this=text, expression=exp.Literal.string(like)), expression=exp.Literal.string("\\")
    )


def _python_text_test(text: str, literal: str) -> bool:
    if literal == "*":
        return True
    starts, ends = literal.startswith("*"), literal.endswith("*")
    core = literal.strip("*") if (starts or ends) else literal
    if starts and ends:
        return core in text
    if starts:
        return text.endswith(core)
    if ends:
        return text.startswith(core)
    return text == core


def _negate_if(condition: exp.Expression, negate: bool) -> exp.Expression:
    if not negate:
        return condition
    if condition == exp.true():
        return exp.false()
    return exp.Not(this=exp.Paren(this=condition))


def _any(parts: Iterable[exp.Expression]) -> exp.Expression:
    kept = [part for part in parts if part != exp.false()]
    if not kept:
        return exp.false()
    return kept[0] if len(kept) == 1 else exp.Paren(this=exp.or_(*kept, copy=False))


def _all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if any(part == exp.false() for part in parts):
        return exp.false()
    kept = [part for part in parts if part != exp.true()]
    if not kept:
        return exp.true()
    return kept[0] if len(kept) == 1 else exp.and_(*kept, copy=False)


def _regex_test(text: exp.Expression, node: Comparison) -> exp.Expression:
    assert node.regex is not None
    return exp.RegexpLike(this=text, expression=exp.Literal.string(node.regex.sql))


def _number(value: float) -> exp.Expression:
    if math.isinf(value):
        # The agreed reading of 1e400: infinity, which no SQL number literal writes.
        return exp.cast(exp.Literal.string("Infinity" if value > 0 else "-Infinity"), exp.DataType.Type.DOUBLE)
    return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)


def _comparison(node: Comparison, fields: Fields) -> exp.Expression:
    path, op = node.path, node.op
    if has_wildcard(path):
        values = fields.values(path)
        if op == "NOT EXISTS":
            return exp.EQ(
                this=exp.func("coalesce", exp.ArraySize(this=values), exp.Literal.number(0)),
                expression=exp.Literal.number(0),
            )
        return some_value(values, _comparison(replace(node, path=("value",)), _ElementFields()))
    kind = fields.kind(path)
    if op == "NOT EXISTS":
        return exp.Is(this=kind, expression=exp.Null())
    if op in ("IS NULL", "IS TRUE", "IS FALSE"):
        return _is(kind, {"IS NULL": "null", "IS TRUE": "true", "IS FALSE": "false"}[op])
    if node.numeric:
        number = fields.column("n", path)
        target = _number(node.value)
        comparator = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, ">": exp.GT, "<=": exp.LTE, ">=": exp.GTE}[op]
        by_value = _all([_is(kind, "number"), comparator(this=number, expression=target)])
        if op not in ("=", "!="):
            return by_value
        # A number in the pattern still compares with a string field, as the text written.
        written = exp.EQ(this=fields.column("s", path), expression=exp.Literal.string(node.text))
        return _any([by_value, _all([_is(kind, "string"), _negate_if(written, op == "!=")])])

    negate = op == "!="
    if node.regex is not None:
        search = node.regex.search
        boolean = [_is(kind, name) for name in ("true", "false") if search(name) != negate]
        return _any(
            [
                _all([_is(kind, "string"), _negate_if(_regex_test(fields.column("s", path), node), negate)]),
                _all([_is(kind, "number"), _negate_if(_regex_test(fields.column("x", path), node), negate)]),
                *boolean,
            ]
        )
    literal: str = node.value
    if op == "=" and "*" not in literal and literal not in ("true", "false"):
        # The engine's exact match: only a string can equal the literal.
        return _all([_is(kind, "string"), _text_test(fields.column("s", path), literal)])
    # Booleans compare as the text "true"/"false": decided here, once, not per event.
    boolean = [_is(kind, name) for name in ("true", "false") if _python_text_test(name, literal) != negate]
    return _any(
        [
            _all([_is(kind, "string"), _negate_if(_text_test(fields.column("s", path), literal), negate)]),
            _all([_is(kind, "number"), _negate_if(_text_test(fields.column("x", path), literal), negate)]),
            *boolean,
        ]
    )


def _node(node, fields: Fields) -> exp.Expression:
    if isinstance(node, Comparison):
        return _comparison(node, fields)
    parts = [_node(part, fields) for part in node.parts]
    if isinstance(node, And):
        return _all([exp.Paren(this=part) if isinstance(part, exp.Or) else part for part in parts])
    assert isinstance(node, Or)
    return _any(parts)


def predicate(compiled: CompiledPattern, fields: Fields) -> exp.Expression:
    """A boolean SQL expression over `fields`' columns, true exactly when the engine matches."""
    if compiled.kind != "json":
        raise UnsupportedPattern(
            f"term pattern {compiled.source!r} matches the raw text of a log line and has no SQL form"
        )
    return _node(compiled.tree, fields)


def json_path(path: Path, dialect: str) -> str:
    """A JSONPath the dialect's json_extract understands, keys always quoted."""
    steps = []
    for step in path:
        if isinstance(step, Wildcard):
            steps.append(repr(step))
        elif isinstance(step, int):
            steps.append(f"[{step}]")
        elif dialect == "duckdb":
            steps.append(f'."{step}"')
        else:
            steps.append(f'["{step}"]')
    return "$" + "".join(steps)
