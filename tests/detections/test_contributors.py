"""Contributor Insights rules: their examples, and agreement with the failed sign-in detection."""

from __future__ import annotations

import json

import pytest

from detections.catalog import BY_ID as DETECTIONS
from detections.contributors import CONTRIBUTOR_RULES, TRAIL_LOG, contribution
from detections.pattern import compile_pattern

CASES = [(rule, name, event, expected) for rule in CONTRIBUTOR_RULES for name, event, expected in rule.examples]


@pytest.mark.parametrize(("rule", "name", "event", "expected"), CASES, ids=[f"{c[0].id}: {c[1]}" for c in CASES])
def test_examples_count_for_the_expected_contributor(rule, name, event, expected):
    assert contribution(rule, event) == expected


def test_every_rule_has_examples_that_count_and_that_do_not():
    for rule in CONTRIBUTOR_RULES:
        outcomes = {expected is None for _, _, expected in rule.examples}
        assert outcomes == {True, False}, rule.id


def test_trail_rules_count_exactly_what_the_failed_sign_in_detection_counts():
    """The top-IP alarm and the account-wide alarm must agree on what a failed sign-in is."""
    detection = DETECTIONS["failed-console-sign-ins"]
    compiled = compile_pattern(detection.patterns["recommended"])
    events = [example.event for example in detection.examples]
    events += [event for rule in CONTRIBUTOR_RULES for _, event, _ in rule.examples if rule.source == TRAIL_LOG]
    by_ip = next(rule for rule in CONTRIBUTOR_RULES if rule.id == "failed-sign-ins-by-source-ip")
    for event in events:
        assert (contribution(by_ip, event) is not None) == compiled.evaluate(event), event


def test_rule_definitions_are_cloudwatch_syntax_for_the_given_log_group():
    for rule in CONTRIBUTOR_RULES:
        definition = json.loads(rule.definition("my-group"))
        assert definition["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}
        assert definition["LogGroupNames"] == ["my-group"] and definition["LogFormat"] == "JSON"
        assert definition["AggregateOn"] == "Count"
        assert definition["Contribution"]["Keys"] == list(rule.keys)
        assert 1 <= len(rule.keys) <= 4  # CloudWatch allows up to four keys
        for item in definition["Contribution"]["Filters"]:
            assert set(item) == {"Match", "In"} and item["Match"].startswith("$.")
