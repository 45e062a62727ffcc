"""Regex in filter patterns: AWS's documented examples match as documented, in Python and in SQL alike."""

from __future__ import annotations

import duckdb
import pytest

from detections.filter_regex import RegexError, parse_regex
from detections.pattern import PatternSyntaxError, compile_pattern

# (regex, text, matches): the examples of "Supported regular expressions (regex) syntax", CloudWatch Logs
# User Guide, with the texts it names, and the readings this engine chose where it is loose.
DOCUMENTED = [
    ("AUTHORIZED", "[ERROR 401] UNAUTHORIZED REQUEST", True),
    ("AUTHORIZED", "[SUCCESS 200] AUTHORIZED REQUEST", True),
    ("^[hc]at", "hat trick", True),
    ("^[hc]at", "that", False),
    ("[hc]at$", "a cat", True),
    ("[hc]at$", "cats", False),
    ("colou?r", "color", True),
    ("colou?r", "colour", True),
    ("colou?r", "colouur", False),
    ("[abc]", "b", True),
    ("[a-z]", "Q", False),
    ("[abcx-z]", "y", True),
    ("[abcx-z]", "d", False),
    ("a{3,5}", "aaa", True),
    ("a{3,5}", "aa", False),
    ("^a{3,5}$", "aaaaaa", False),
    ("gra|ey", "gray", True),
    ("gra|ey", "grey", True),
    ("^starting|^initializing|^shutting down", "starting ...", True),
    ("^starting|^initializing|^shutting down", "initializing ...", True),
    ("^starting|^initializing|^shutting down", "shutting down", True),
    ("^starting|^initializing|^shutting down", "skipping initializing ...", False),
    ("abcc|ab[^c]$", "abcc ...", True),
    ("abcc|ab[^c]$", "aba", True),
    ("abcc|ab[^c]$", "aac ...", False),
    ("\\[.\\]", "[a]", True),
    ("\\[.\\]", "[@]", True),
    ("\\[.\\]", "[]]", True),
    ("\\[.\\]", "[ ]", True),
    ("\\[.\\]", "[ab]", False),
    ("10\\.10\\.0\\.1", "10.10.0.1", True),
    ("10\\.10\\.0\\.1", "10010,051", False),
    ("10.10.0.1", "10010,051", True),  # the documentation's warning: '.' is any character
    ("ab*c", "ac", True),
    ("ab*c", "abbbc", True),
    ("ab[0-9]*", "ab129", True),
    ("ab+c", "abbc", True),
    ("ab+c", "ac", False),
    (".at", "#at", True),
    (".at", " at", True),
    (".at", "at", False),
    ("\\d", "7", True),
    ("\\d", "x", False),
    ("\\D", "7", False),
    ("\\D", "x", True),
    ("\\s", "a b", True),
    ("\\s", "a\tb", True),
    ("\\s", "ab", False),
    ("\\S", " \t\n", False),
    ("\\w", "_", True),
    ("\\w", "!", False),
    ("\\W", "!", True),
    ("\\W", "a9_", False),
    ("\\x3A", "key:value", True),
    ("\\x28", "f(x)", True),
    ("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}", "from 192.168.0.1", True),
    ("[Ee]rror|[Ff]ail", "Fail", True),
    ("[Ee]rror|[Ff]ail", "ok", False),
    ("val.{2}", "value", True),
    ("111\\.111\\.111\\.1[0-9]{1,2}", "111.111.111.111", True),
    # Readings chosen where the documentation is loose, the same in every engine.
    ("x.y", "x\ny", True),  # '.' is any character, newline too
    ("cat$", "cat\n", False),  # '$' is the end of the text
    ("a{,2}b", "b", True),
    ("\\s", "a\rb", False),  # whitespace: tab, newline, space
    ("\\w", "é", False),  # letters are A to Z
    ("a]", "a]", True),
]


@pytest.mark.parametrize(("regex", "text", "expected"), DOCUMENTED)
def test_documented_examples_match_as_documented_in_python_and_duckdb(regex, text, expected):
    parsed = parse_regex(regex)
    assert parsed.search(text) is expected
    with duckdb.connect() as connection:
        (found,) = connection.execute("SELECT regexp_matches(?, ?)", [text, parsed.sql]).fetchone()
    assert found is expected


@pytest.mark.parametrize(
    ("regex", "reason", "offset"),
    [
        ("something!", "'!' is not allowed", 9),  # the documentation's own refusal
        ("(alpha|beta)", "parentheses cannot group", 0),
        ("マルチバイト", "multi-byte", 0),
        ("", "empty regex", 0),
        ("a|", "needs an expression on both sides", 2),
        ("*a", "nothing to repeat", 0),
        ("a**", "repeats a repetition", 2),
        ("a{5,2}", "at least 5 but at most 2", 1),
        ("a{1001}", "goes up to 1000", 1),
        ("a{x}", "whole numbers", 1),
        ("[\\D]", "cannot stand inside [...]", 1),
        ("\\p", "not a CloudWatch Logs regex escape", 0),
        ("[abc", "no closing ']'", 0),
        ("[z-a]", "runs backwards", 3),
        ("\\x80", "ASCII", 0),
        ("\\x4", "two hexadecimal digits", 0),
        ("^*", "anchor", 1),
        ("a\\", "cannot end with", 1),
        ('a"b', "not allowed", 1),
    ],
)
def test_regex_outside_the_documented_dialect_is_refused_where_it_goes_wrong(regex, reason, offset):
    with pytest.raises(RegexError) as caught:
        parse_regex(regex)
    assert reason in str(caught.value)
    assert caught.value.offset == offset


def test_a_refusal_inside_a_pattern_points_at_the_character():
    with pytest.raises(PatternSyntaxError) as caught:
        compile_pattern("{ $.eventName = %Console!% }")
    assert caught.value.position == 24
    assert "'!' is not allowed" in caught.value.reason


def test_a_whole_pattern_that_is_one_regex_matches_the_line():
    compiled = compile_pattern("%AUTHORIZED%")
    assert compiled.matches(None, "[ERROR 401] UNAUTHORIZED REQUEST")
    assert not compiled.matches(None, "[ERROR 401] FORBIDDEN")
    assert compile_pattern("50% off").matches(None, "now 50% off")  # a '%' in a term is text
