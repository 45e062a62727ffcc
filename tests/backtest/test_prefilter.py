"""The prefilter never drops an event a pattern matches, and keeps the catalog's fast path."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from backtest.duckdb_query import match_events, screen_select
from backtest.prefilter import TextTest, prefilter_tests, required_tests
from bench import realistic_trail
from detections.catalog import PROFILES
from detections.pattern import compile_pattern
from detections.profiles import resolve_detections
from tests.backtest import generated


def screen_of(pattern: str) -> frozenset[TextTest] | None:
    return required_tests(compile_pattern(pattern).tree)


def test_each_generated_pattern_alone_matches_what_the_engine_matches():
    # Alone, each pattern is screened by its own tests, the sharpest it gets.
    patterns = [pattern for pattern in generated.patterns(200) if screen_of(pattern) is not None]
    assert len(patterns) > 40
    events = generated.events(400, seed=11)
    for pattern in patterns:
        compiled = compile_pattern(pattern)
        expected = [[compiled.matches(event)] for event in events]
        assert match_events([compiled], events) == expected, pattern


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ('{ $.a = "x y" }', {"a": "x y"}, True),
        ('{ $.a = "x y" }', {"a": ["x y"]}, False),  # the text is there, the value is not a string
        ('{ $.a = "x" }', {"b": "x"}, False),
        ("{ $.a = *ccess* }", {"a": "AccessDenied"}, True),
        ("{ $.a = tr* }", {"a": True}, True),  # a boolean read as text passes
        ("{ $.a = fals* || $.b = 7 }", {"b": 7}, True),  # no test on one branch: no test at all
    ],
)
def test_screened_edge_cases_agree(pattern, event, expected):
    compiled = compile_pattern(pattern)
    assert compiled.matches(event) is expected
    assert match_events([compiled], [event, {"other": 1}]) == [[expected], [False]]


def test_tests_read_the_json_text_of_a_value():
    assert screen_of('{ $.eventName = "ConsoleLogin" }') == {TextTest(("eventName",), '"ConsoleLogin"', True)}
    assert screen_of("{ $.errorCode = *Denied }") == {TextTest(("errorCode",), "Denied", False)}
    # An AND needs one part: the one admitting fewest events; an OR needs every branch.
    both = screen_of('{ $.a = "x" && ($.b = "y" || $.c = "z") }')
    assert both == {TextTest(("a",), '"x"', True)}
    assert screen_of('{ $.a = "x" || $.b = "y" }') == {TextTest(("a",), '"x"', True), TextTest(("b",), '"y"', True)}


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.a != x }",
        "{ $.a = 5 }",  # a number compares with numbers by value, however written
        "{ $.a = *5* }",  # a number's text might hold it, written another way
        "{ $.a NOT EXISTS }",
        "{ $.a IS NULL }",
        '{ $.a = "x/y" }',  # a JSON writer may escape '/'
        '{ $.a = "x" || $.b != "y" }',
        "{ $.a = * }",
    ],
)
def test_no_test_where_the_text_proves_nothing(pattern):
    assert screen_of(pattern) is None


@pytest.mark.parametrize("profile", PROFILES)
def test_every_catalog_profile_is_screened(profile):
    # Without tests for every detection, the local backtest evaluates every event in full.
    tests = prefilter_tests([item.compiled for item in resolve_detections(profile)])
    assert tests is not None
    assert len({test.path for test in tests}) <= 5  # a short first read


def screened(patterns, events) -> list[bool]:
    """DuckDB's screen of each event: whether it is kept as a candidate for the full evaluation."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        path.write_text("".join(json.dumps({"position": i, "doc": e}) + "\n" for i, e in enumerate(events)))
        source = f"read_json('{path}', columns={{'position': 'INTEGER', 'doc': 'JSON'}}, format='newline_delimited')"
        screen = screen_select(exp.to_table("source_rows"), "doc", ["position"], patterns)
        assert screen is not None
        with duckdb.connect() as connection:
            query = (
                f"WITH source_rows AS (SELECT * FROM {source}) SELECT position, candidate FROM ({screen.sql('duckdb')})"
            )
            return [candidate for _, candidate in sorted(connection.execute(query).fetchall())]


def test_the_screen_never_drops_an_event_a_pattern_matches():
    """Property: for generated patterns alone and together, every event a pattern matches is a candidate."""
    rng = random.Random(13)
    patterns = [compile_pattern(p) for p in generated.patterns(200, seed=17) if screen_of(p) is not None]
    events = generated.events(400, seed=19) + [json.loads(line) for line in realistic_trail.lines(600, seed=3)]
    groups = [[pattern] for pattern in patterns[:40]] + [rng.sample(patterns, 8) for _ in range(12)]
    checked = 0
    for group in groups:
        candidates = screened(group, events)
        for event, candidate in zip(events, candidates, strict=True):
            if any(pattern.matches(event) for pattern in group):
                assert candidate, f"{[p.source for p in group]} dropped {event}"
                checked += 1
    assert checked > 300  # the property was tested on many matches, not a few


@pytest.mark.parametrize("profile", PROFILES)
def test_the_catalog_screens_on_event_names_and_error_codes_not_on_event_sources(profile):
    # On a real trail S3, KMS and STS data events make most of the volume: screening the S3 or KMS
    # detections on their event source would keep most of the trail.
    tests = prefilter_tests([item.compiled for item in resolve_detections(profile)])
    assert ("eventSource",) not in {test.path for test in tests}
    events = [json.loads(line) for line in realistic_trail.lines(3000, seed=5)]
    candidates = screened([item.compiled for item in resolve_detections(profile)], events)
    assert sum(candidates) < 0.1 * len(events)
