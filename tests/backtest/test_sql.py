"""The SQL form of every pattern matches exactly the events the pattern engine matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backtest.duckdb_query import match_events, match_texts
from backtest.sql import Fields, UnsupportedPattern, json_path, predicate
from detections.catalog import CATALOG, PROFILES
from detections.pattern import compile_pattern
from detections.profiles import resolve_detections
from replay.readers import input_files, read_events
from replay.sample import generate
from tests.backtest import generated
from tests.detections.test_pattern import DOCUMENTED_COMPOUND_EVENT, DOCUMENTED_EVENT, DOCUMENTED_JSON

SAMPLE = Path(generate.__file__).parent / "history"


def history() -> list[dict]:
    problems: list = []
    events = [event for path in input_files([SAMPLE], problems.append) for event in read_events(path, problems.append)]
    assert not problems
    examples = [example.event for detection in CATALOG for example in detection.examples]
    return examples + events + generated.events(1500)


HISTORY = history()


def assert_same_matches(patterns, events):
    compiled = [compile_pattern(pattern) for pattern in patterns]
    by_sql = match_events(compiled, events)
    for event, sql_row in zip(events, by_sql, strict=True):
        for pattern, sql_says in zip(compiled, sql_row, strict=True):
            assert sql_says is pattern.matches(event), f"{pattern.source} on {event}"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_catalog_pattern_of_each_profile_matches_what_the_engine_matches(profile):
    detections = resolve_detections(profile)
    assert len(detections) >= 15
    assert_same_matches([item.pattern for item in detections], HISTORY)


def test_rendered_exclusions_and_privileged_groups_match_what_the_engine_matches():
    detections = resolve_detections(
        "recommended",
        (
            "unauthorized-api-calls.excludePrincipals=arn:aws:sts::111122223333:assumed-role/Scanner/*",
            "console-sign-in-without-mfa.excludePrincipals=arn:aws:iam::111122223333:user/bob",
            "unauthorized-api-calls.excludeEventNames=GetBucketLocation",
        ),
        privileged_groups=("Administrators", "Ops_team+1"),
    )
    assert_same_matches([item.pattern for item in detections], HISTORY)


def test_generated_patterns_over_generated_events_match_what_the_engine_matches():
    patterns = generated.patterns(150)
    events = generated.events(400, seed=3)
    # The generator reaches both outcomes for most patterns, or the comparison proves little.
    compiled = [compile_pattern(pattern) for pattern in patterns]
    decisive = sum(1 for c in compiled if len({c.matches(event) for event in events}) == 2)
    assert decisive > len(patterns) // 2
    assert_same_matches(patterns, events)


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ("{ $.n = 5 }", {"n": "5"}, True),  # a number in the pattern compares a string as text
        ("{ $.n = 5 }", {"n": "5.0"}, False),
        ("{ $.n = 5 }", {"n": 5.0}, True),
        ('{ $.n = "5" }', {"n": 5}, False),  # an exact quoted match is for strings only
        ("{ $.n = *5 }", {"n": 15}, True),  # a wildcard reads a number's text
        ("{ $.n = 1e+2* }", {"n": 1e20}, True),
        ("{ $.n = 1e+20 }", {"n": 1e20}, True),
        ("{ $.b = tr* }", {"b": True}, True),  # and a boolean's
        ("{ $.b != true }", {"b": False}, True),
        ("{ $.b != true }", {"b": None}, False),
        ('{ $.s = "50%*" }', {"s": "50%_off"}, True),  # SQL's own wildcards are plain text here
        ('{ $.s = "50%*" }', {"s": "500"}, False),
        ('{ $.s = "a_c" }', {"s": "abc"}, False),
        ("{ $.x NOT EXISTS }", {"x": None}, False),
        ("{ $.x.y NOT EXISTS }", {"x": "text"}, True),
        ("{ $.x[0] = a }", {"x": {"0": "a"}}, False),
        ("{ $.x.0 = a }", {"x": ["a"]}, False),
    ],
)
def test_edge_cases_agree(pattern, event, expected):
    assert compile_pattern(pattern).matches(event) is expected
    assert match_events([compile_pattern(pattern)], [event]) == [[expected]]


@pytest.mark.parametrize(("pattern", "event", "expected"), DOCUMENTED_JSON)
def test_the_documented_json_examples_match_in_sql_too(pattern, event, expected):
    assert match_events([compile_pattern(pattern)], [event]) == [[expected]]


WILDCARD_AND_REGEX = [
    "{ $.objectList[*].name = b }",
    "{ $.objectList[*].id > 1 }",
    "{ $.arrayKey[*] != value }",
    "{ $.arrayKey[*] NOT EXISTS }",
    "{ $.eventType[*] NOT EXISTS }",
    "{ $.* IS NULL }",
    "{ $.* = %^[0-9.]+$% }",
    "{ $.arrayKey.* = value }",
    "{ $.eventType != %^Update% }",
    "{ $.flag = %ru% }",
    "{ $.flag != %ru% }",
    "{ $.n = %^[0-9]+$% }",
    "{ $.n = %e% }",
]


@pytest.mark.parametrize("pattern", WILDCARD_AND_REGEX)
def test_wildcards_and_regex_agree(pattern):
    events = [
        DOCUMENTED_EVENT,
        DOCUMENTED_COMPOUND_EVENT,
        {"flag": True, "n": 12},
        {"flag": False, "n": 1.5e30},
        {"eventType": "Update\nTrail", "arrayKey": []},
        {"arrayKey": {"a": "value"}, "objectList": "text"},
    ]
    compiled = compile_pattern(pattern)
    assert match_events([compiled], events) == [[compiled.matches(event)] for event in events]


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ('{"n": 1e400}', "{ $.n = 1e400 }", True),
        ('{"n": 1E+400}', "{ $.n >= 1e308 }", True),
        ('{"n": -1e400}', "{ $.n < -1e308 }", True),
        ('{"n": 1e400}', "{ $.n = Infinity }", False),  # the string Infinity, not the number
        ('{"n": 1e400}', "{ $.n = Infinity* }", True),  # the number's text
        ('{"n": -1e400}', "{ $.n = %^-Infinity$% }", True),
        ('{"n": 1' + "0" * 400 + "}", "{ $.n > 1e308 }", True),
        ('{"n": 1' + "0" * 400 + "}", "{ $.n = 1000* }", True),  # an integer's text keeps its digits
        ('{"n": 1e308}', "{ $.n = 1e400 }", False),
    ],
)
def test_numbers_past_the_largest_double_read_alike(text, pattern, expected):
    compiled = compile_pattern(pattern)
    assert compiled.matches(json.loads(text)) is expected
    assert match_texts([compiled], [text]) == [[expected]]


def test_term_patterns_are_refused_by_name():
    with pytest.raises(UnsupportedPattern, match="ERROR"):
        predicate(compile_pattern("ERROR -retry"), Fields())


def test_selectors_become_quoted_json_paths_for_each_dialect():
    path = ("resources", 0, "odd-key@x")
    assert json_path(path, "duckdb") == '$."resources"[0]."odd-key@x"'
    assert json_path(path, "athena") == '$["resources"][0]["odd-key@x"]'


def test_one_column_per_selector_however_often_the_patterns_read_it():
    fields = Fields()
    for item in resolve_detections("cis"):
        predicate(item.compiled, fields)
    assert fields.paths.count(("eventName",)) == 1
    assert len(fields.paths) == len(set(fields.paths)) < 20
