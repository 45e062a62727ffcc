"""The filter-pattern engine against AWS's documented semantics, one rule at a time."""

from __future__ import annotations

import pytest

from detections.pattern import MAX_PATTERN_LENGTH, PatternSyntaxError, compile_pattern, quote, required_keys
from tests.backtest import generated

EVENT = {
    "eventName": "ConsoleLogin",
    "eventSource": "signin.amazonaws.com",
    "errorCode": "Client.UnauthorizedOperation",
    "userIdentity": {"type": "IAMUser", "userName": "alice", "invokedBy": None},
    "additionalEventData": {"MFAUsed": "No"},
    "resources": [{"ARN": "arn:aws:s3:::logs"}, {"ARN": "arn:aws:s3:::data", "tags": ["a", "b"]}],
    "latency": 250,
    "ratio": 0.5,
    "readOnly": False,
    "managementEvent": True,
    "requestParameters": None,
    "eventVersion": "1.08",
}


def matches(pattern: str, event=EVENT) -> bool:
    return compile_pattern(pattern).matches(event)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.eventName = "ConsoleLogin" }', True),
        ('{ $.eventName = "consolelogin" }', False),  # case-sensitive
        ("{ $.eventName = ConsoleLogin }", True),  # unquoted
        ("{$.eventSource=signin.amazonaws.com}", True),  # dotted unquoted, no spaces
        ("{ $.eventSource = kms.amazonaws.com }", False),
        ('{ $.userIdentity.userName = "alice" }', True),  # nested
        ('{ $.resources[1].ARN = "arn:aws:s3:::data" }', True),  # index
        ('{ $.resources[1].tags[0] = "a" }', True),  # index of index
        ('{ $.resources[5].ARN = "x" }', False),  # index out of range
        ('{ $.eventName != "SwitchRole" }', True),
        ('{ $.eventName != "ConsoleLogin" }', False),
    ],
)
def test_selectors_and_string_equality(pattern, expected):
    assert matches(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.noSuchField != "x" }', False),  # != on a missing field does not match
        ('{ $.userIdentity.noSuch != "x" }', False),
        ('{ $.eventName.deeper != "x" }', False),  # stepping into a string is missing too
        ('{ $.noSuchField = "x" }', False),
        ('{ $.userIdentity != "x" }', False),  # selector lands on an object
        ('{ $.userIdentity = "x" }', False),
        ('{ $.resources != "x" }', False),  # selector lands on an array
        ('{ $.requestParameters != "x" }', False),  # null matches neither
    ],
)
def test_missing_fields_objects_and_arrays_match_neither_equal_nor_not_equal(pattern, expected):
    assert matches(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.errorCode = "*UnauthorizedOperation" }', True),
        ('{ $.errorCode = "AccessDenied*" }', False),
        ('{ $.errorCode = "Client.*" }', True),
        ('{ $.errorCode = "*Unauthorized*" }', True),
        ('{ $.errorCode = "*" }', True),
        ('{ $.noSuchField = "*" }', False),
        ('{ $.errorCode != "Client.*" }', False),
        ('{ $.errorCode != "Server.*" }', True),
        ("{ $.errorCode = *Operation }", True),  # unquoted wildcard
    ],
)
def test_wildcards_at_start_and_end(pattern, expected):
    assert matches(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.latency = 250 }", True),
        ("{ $.latency != 250 }", False),
        ("{ $.latency > 249.5 }", True),
        ("{ $.latency >= 250 }", True),
        ("{ $.latency < 2.5e2 }", False),
        ("{ $.latency <= 2.5E+2 }", True),
        ("{ $.ratio > -1 }", True),
        ("{ $.ratio < +0.75 }", True),
        ("{ $.ratio = .5 }", True),
        ("{ $.eventName > 1 }", False),  # a string is not a number
        ("{ $.noSuchField < 1 }", False),
        ("{ $.readOnly = 0 }", False),  # booleans are not numbers
        ("{ $.eventVersion = 1.08 }", True),  # a number written in the pattern compares with a string as text
    ],
)
def test_numeric_comparisons(pattern, expected):
    assert matches(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.requestParameters IS NULL }", True),
        ("{ $.userIdentity.invokedBy IS NULL }", True),
        ("{ $.eventName IS NULL }", False),
        ("{ $.noSuchField IS NULL }", False),
        ("{ $.noSuchField NOT EXISTS }", True),
        ("{ $.requestParameters NOT EXISTS }", False),  # present, even though null
        ("{ $.managementEvent IS TRUE }", True),
        ("{ $.readOnly IS FALSE }", True),
        ("{ $.readOnly IS TRUE }", False),
        ("{ $.eventName IS TRUE }", False),
        ("{ $.readOnly = false }", True),
    ],
)
def test_keyword_tests(pattern, expected):
    assert matches(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # && binds tighter than ||: true || (false && false) is true.
        ('{ $.eventName = "ConsoleLogin" || $.eventName = "X" && $.latency = 1 }', True),
        # ... while (true || false) && false is false.
        ('{ ($.eventName = "ConsoleLogin" || $.eventName = "X") && $.latency = 1 }', False),
        ('{ $.latency = 1 && $.eventName = "X" || $.eventName = "ConsoleLogin" }', True),
        ("{ (($.latency = 250)) && ((($.ratio = 0.5))) }", True),
        ("{ $.a = 1 || $.b = 2 || $.eventName = ConsoleLogin }", True),
        ("{ $.eventName = ConsoleLogin && $.latency = 250 && $.ratio = 0.5 && $.readOnly IS FALSE }", True),
    ],
)
def test_precedence_and_parentheses(pattern, expected):
    assert matches(pattern) is expected


def test_json_patterns_do_not_match_non_json_lines():
    compiled = compile_pattern('{ $.eventName = "ConsoleLogin" }')
    assert compiled.matches(None, "plain text ConsoleLogin") is False
    assert compiled.matches_text("not json") is False
    assert compiled.matches_text('{"eventName": "ConsoleLogin"}') is True
    assert compiled.matches(["a list"]) is False


@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        ("ERROR", "2024 ERROR disk full", True),
        ("ERROR", "2024 error disk full", False),
        ("ERROR disk", "disk ERROR", True),  # every term, any order
        ("ERROR memory", "ERROR disk", False),
        ('"Failed authentication"', "ConsoleLogin: Failed authentication", True),
        ('"Failed authentication"', "Failed to authenticate", False),
        ("?ERROR ?WARN", "WARN low disk", True),
        ("?ERROR ?WARN", "INFO ok", False),
        ("ERROR -retry", "ERROR giving up", True),
        ("ERROR -retry", "ERROR will retry", False),
        ('-"health check"', "GET /healthcheck", True),  # terms match as substrings
        ('-"health check"', "GET health check", False),
        ("", "anything at all", True),
    ],
)
def test_term_patterns_on_plain_lines(pattern, line, expected):
    assert compile_pattern(pattern).matches(None, line) is expected


@pytest.mark.parametrize(
    ("pattern", "reason", "position"),
    [
        ('{ $.eventName = "ConsoleLogin" ', "missing its closing '}'", 30),
        ('{ $.eventName "x" }', "expected an operator", 14),
        ("{ $.eventName = }", "expected a value after the operator", 16),
        ("{ ($.eventName = x }", "expected ')' to close", 2),
        ("{ $.a = 1 & $.b = 2 }", "'&' must be doubled", 10),
        ("{ $.a = 1 | $.b = 2 }", "'|' must be doubled", 10),
        ('{ $.a = "unterminated }', "unterminated quoted value", 8),
        ("{ $.a > abc }", "'>' compares numbers", 8),
        ('{ $.a = "x*y" }', "wildcard only at the start or end", 10),
        ("{ $. = 1 }", "expected a field name", 4),
        ("{ $.a[x] = 1 }", "expected an array index", 5),
        ("{ $ = 1 }", "a selector needs a field", 2),
        ("{ $.a IS MAYBE }", "expected IS NULL, NOT EXISTS", 6),
        ("{ }", "empty JSON pattern", 2),
        ("{ $.a = 1 $.b = 2 }", "unexpected '$.b'", 10),
        ("{ eventName = 1 }", "expected a selector", 2),
        ("[ip, user]", "space-delimited patterns", 0),
        ("? alone", "'?' must be followed by a term", 0),
        ("{ $.a ! 1 }", "'!' must be followed by '='", 6),
        # The documented quotas and refusals.
        ("{ $.a = %r1% && $.b = %r2% && $.c = %r3% }", "2 regex values", 36),
        ("{ $.a[*].b.* = 1 }", "1 wildcard", 2),
        ("{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 || $.d.* = 1 }", "3 wildcard selectors", 43),
        ("{ $.a > %x% }", "a regex is compared with '=' or '!='", 8),
        ("{ $.a = %abc }", "no closing '%'", 8),
        ("{ $.['a\"b'] = 1 }", "a quoted key", 4),
    ],
)
def test_syntax_errors_say_what_and_where(pattern, reason, position):
    with pytest.raises(PatternSyntaxError) as caught:
        compile_pattern(pattern)
    assert reason in caught.value.reason
    assert caught.value.position == position
    assert f"character {position + 1}" in str(caught.value)
    assert str(caught.value).splitlines()[-1] == "  " + " " * position + "^"


def test_pattern_length_limit():
    long = "{ " + " || ".join(f'($.eventName = "Event{i:04d}")' for i in range(40)) + " }"
    assert len(long) > MAX_PATTERN_LENGTH
    with pytest.raises(PatternSyntaxError, match="allows 1024"):
        compile_pattern(long)


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ('{ $.eventName = "A" }', {"A"}),
        ("{ ($.eventName = A) || ($.eventName = B) }", {"A", "B"}),
        ("{ ($.eventSource = s3.amazonaws.com) && (($.eventName = A) || ($.eventName = B)) }", {"A", "B"}),
        ('{ ($.eventName = A) || ($.errorCode = "x") }', None),
        ('{ $.eventName = "A*" }', None),
        ('{ $.eventName != "A" }', None),
        ('{ $.userIdentity.type = "Root" }', None),
        ("{ ($.eventName = A || $.eventName = B) && $.eventName = B }", {"B"}),
    ],
)
def test_event_name_index_is_exact(pattern, names):
    compiled = compile_pattern(pattern)
    assert compiled.event_names == (frozenset(names) if names is not None else None)


def test_quote_refuses_what_would_break_a_pattern():
    assert quote("arn:aws:iam::111122223333:role/Scanner") == '"arn:aws:iam::111122223333:role/Scanner"'
    for bad in ('a"b', "a\\b", "a\nb"):
        with pytest.raises(ValueError):
            quote(bad)


# The JSON log events of "Using filter patterns to match terms in JSON log events" (CloudWatch Logs User Guide).
DOCUMENTED_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "cluster.name": "c",
}
DOCUMENTED_COMPOUND_EVENT = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}
# (pattern, event, matches) as the documentation says.
DOCUMENTED_JSON = [
    ('{ $.eventType = "UpdateTrail" }', DOCUMENTED_EVENT, True),
    ("{ $.sourceIPAddress != 123.123.* }", DOCUMENTED_EVENT, True),
    ('{ $.arrayKey[0] = "value" }', DOCUMENTED_EVENT, True),
    ("{ $.eventType = %Trail% }", DOCUMENTED_EVENT, True),
    ("{ $.arrayKey[*] = %val.{2}% }", DOCUMENTED_EVENT, True),
    ("{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }", DOCUMENTED_EVENT, True),
    ("{ $.['cluster.name'] = \"c\" }", DOCUMENTED_EVENT, True),
    ("{ $.SomeObject IS NULL }", DOCUMENTED_EVENT, True),
    ("{ $.SomeOtherObject NOT EXISTS }", DOCUMENTED_EVENT, True),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', DOCUMENTED_COMPOUND_EVENT, True),
    (
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }',
        DOCUMENTED_COMPOUND_EVENT,
        True,
    ),
    (
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") '
        '&& $.actions[2] = "nonmatch" }',
        DOCUMENTED_COMPOUND_EVENT,
        False,
    ),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', DOCUMENTED_COMPOUND_EVENT, False),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), DOCUMENTED_JSON)
def test_the_documented_json_examples(pattern, event, expected):
    assert compile_pattern(pattern).matches(event) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.objectList[*].name = b }", True),  # some element
        ("{ $.objectList[*].id > 2 }", False),
        ("{ $.arrayKey[*] != value }", True),  # some element differs
        ("{ $.arrayKey[*] NOT EXISTS }", False),  # NOT EXISTS: the wildcard selects nothing
        ("{ $.noSuchList[*] NOT EXISTS }", True),
        ("{ $.eventType[*] = UpdateTrail }", False),  # [*] selects an array's elements only
        ("{ $.arrayKey.* = value }", False),  # .* selects an object's fields only
        ("{ $.* = UpdateTrail }", True),
        ("{ $.* IS NULL }", True),
        ("{ $.['cluster.name'] = %^c$% }", True),
        ("{ $['cluster.name'] = c }", True),
        ("{ $.cluster.name = c }", False),  # without brackets the dot steps into a field
        ("{ $.eventType != %^Update% }", False),
        ("{ $.eventType = %trail% }", False),  # case-sensitive
    ],
)
def test_wildcards_bracket_notation_and_regex(pattern, expected):
    assert compile_pattern(pattern).matches(DOCUMENTED_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ("{ $.n = 1e400 }", {"n": float("inf")}, True),  # json reads 1e400 as infinity
        ("{ $.n > 1e308 }", {"n": 10**400}, True),  # an integer past the largest double is infinity too
        ("{ $.n < -1e308 }", {"n": -(10**400)}, True),
        ("{ $.n = 1e400 }", {"n": 1e308}, False),
        ("{ $.n = Infinity* }", {"n": float("inf")}, True),  # its text
        ("{ $.n = %^-Inf% }", {"n": float("-inf")}, True),
        ("{ $.n = %Inf% }", {"n": 10**400}, False),  # an integer's text keeps its digits
    ],
)
def test_numbers_past_the_largest_double_read_as_infinity(pattern, event, expected):
    assert compile_pattern(pattern).matches(event) is expected


def test_regex_on_the_event_name_is_not_an_exact_name():
    assert compile_pattern("{ $.eventName = %Login% }").event_names is None


def test_a_pattern_never_matches_an_event_without_a_key_it_requires():
    """Replay meets a pattern such as { $.errorCode = ... } only on events holding the key: never a match lost."""
    assert required_keys(compile_pattern('{ ($.errorCode = "x*" || $.errorCode = "y") && $.a.b != 1 }').tree) == {
        "errorCode",
        "a",
    }
    assert required_keys(compile_pattern('{ $.a = "x" || $.b = "y" }').tree) == set()
    assert required_keys(compile_pattern("{ $.a NOT EXISTS && $.*.c = 1 }").tree) == set()
    events = generated.events(300, seed=23)
    checked = 0
    for pattern in generated.patterns(150, seed=29):
        compiled = compile_pattern(pattern)
        keys = required_keys(compiled.tree)
        for event in events:
            if keys and compiled.matches(event):
                assert keys <= event.keys(), (pattern, event)
                checked += 1
    assert checked > 200  # many matches of patterns with required keys were checked
