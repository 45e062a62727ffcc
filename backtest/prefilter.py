"""A cheap test that every event a set of patterns matches passes, so most events skip the full evaluation.

Nearly all CloudTrail events match no detection. Reading every selector the patterns use and typing
each value costs more than reading the file, so the engine first reads the few selectors that decide
most patterns (eventName, eventSource, errorCode, ...) and tests their JSON text:
`{ $.eventSource = "iam.amazonaws.com" && ... }` cannot match an event whose eventSource is not the
text `"iam.amazonaws.com"`. An AND needs only one of its parts, and the screen takes the part that
admits the fewest events (below); an OR needs one of each of its parts' tests. A pattern with no such
test on some branch (`!=`, numbers, NOT EXISTS, regex, a wildcard selector, ...) gives none at all, and
then every event is evaluated in full.

The test is only ever a necessary condition: the full predicate still decides. It reads the JSON text
DuckDB writes for a value, in which a string of printable ASCII other than `"`, `\\` and `/` stands
between quotes exactly as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from backtest.sql import Path
from detections.pattern import And, Comparison, CompiledPattern, has_wildcard

# Characters a JSON writer never escapes (printable ASCII without '"', '\\' and '/').
_PLAIN = frozenset(chr(code) for code in range(0x20, 0x7F)) - {'"', "\\", "/"}
# A wildcard's text also meets numbers and booleans as written: only text with a character no number's
# text holds (1e+20, -Infinity, NaN) is sure not to match a number.
_NUMBER_CHARS = frozenset("0123456789.eE+-InfinityNa")


# About what share of a real trail one value of a selector admits. Data events make a few sources (S3,
# KMS, STS) most of a trail, so an event source admits far more than the event names a pattern lists
# beside it; an error code is rarer, and an event name rarer still. Only the order of the figures matters.
_SHARE_OF_ONE_VALUE = {
    ("eventName",): 0.001,
    ("errorCode",): 0.01,
    ("eventSource",): 0.2,
    ("eventType",): 0.5,
    ("userIdentity", "type"): 0.05,
}
_SHARE_OTHERWISE = 0.05
# A text contained in the value ("AccessDenied*") admits more than the value itself.
_CONTAINED_FACTOR = 4


@dataclass(frozen=True)
class TextTest:
    """The JSON text of the value at `path` equals `text` (exact) or contains it (not exact)."""

    path: Path
    text: str
    exact: bool


def _comparison_tests(node: Comparison) -> frozenset[TextTest] | None:
    if node.op != "=" or node.numeric or node.regex is not None or has_wildcard(node.path):
        return None
    literal = node.value
    core = literal.strip("*")
    if not core or not set(core) <= _PLAIN:
        return None
    if "*" not in literal and literal not in ("true", "false"):
        return frozenset({TextTest(node.path, f'"{core}"', True)})  # only a string can equal it
    if set(core) <= _NUMBER_CHARS:
        return None
    # A string holding the text, or true/false read as text: the JSON text holds it either way.
    return frozenset({TextTest(node.path, core, False)})


def required_tests(node) -> frozenset[TextTest] | None:
    """Tests of which an event matching `node` passes at least one; None when there is no such set."""
    if isinstance(node, Comparison):
        return _comparison_tests(node)
    found = [required_tests(part) for part in node.parts]
    if isinstance(node, And):
        known = [tests for tests in found if tests is not None]
        # Any one part's tests will do: the one admitting the fewest events, then reading the fewest selectors.
        return min(
            known,
            key=lambda tests: (admitted_share(tests), len({test.path for test in tests}), sorted(map(repr, tests))),
            default=None,
        )
    if any(tests is None for tests in found):
        return None
    return frozenset().union(*found)


def admitted_share(tests: frozenset[TextTest]) -> float:
    """About what share of a real trail passes some of `tests` (see _SHARE_OF_ONE_VALUE)."""
    return sum(
        _SHARE_OF_ONE_VALUE.get(test.path, _SHARE_OTHERWISE) * (1 if test.exact else _CONTAINED_FACTOR)
        for test in tests
    )


def prefilter_tests(patterns: Sequence[CompiledPattern]) -> frozenset[TextTest] | None:
    """Tests of which every event any of `patterns` matches passes one; None when some pattern has none."""
    tests: set[TextTest] = set()
    for compiled in patterns:
        found = required_tests(compiled.tree) if compiled.kind == "json" else None
        if found is None:
            return None
        tests |= found
    return frozenset(tests)


def prefilter_paths(tests: frozenset[TextTest]) -> list[Path]:
    return sorted({test.path for test in tests}, key=repr)


def condition(tests: frozenset[TextTest], text_of: Callable[[Path], exp.Expression]) -> exp.Expression:
    """True when some test passes; `text_of(path)` is the JSON text of the value (NULL when missing)."""
    parts: list[exp.Expression] = []
    for path in prefilter_paths(tests):
        text = text_of(path)
        exact = sorted(test.text for test in tests if test.path == path and test.exact)
        if exact:
            parts.append(exp.In(this=text.copy(), expressions=[exp.Literal.string(item) for item in exact]))
        for core in sorted(test.text for test in tests if test.path == path and not test.exact):
            parts.append(exp.func("contains", text.copy(), exp.Literal.string(core)))
    return exp.func("coalesce", exp.or_(*parts, copy=False), exp.false()) if parts else exp.false()
