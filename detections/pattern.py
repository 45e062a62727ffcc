"""CloudWatch Logs filter patterns, parsed and evaluated with AWS's documented semantics.

JSON patterns: `{ $.a.b = "x" && ($.c[0] != y* || $.n >= 1.5e3) }`, `IS NULL`, `NOT EXISTS`,
`IS TRUE`, `IS FALSE`; `&&` binds tighter than `||`; comparisons are case-sensitive; `*` is a
wildcard at the start and/or end of a value; unquoted values may contain dots
(`$.eventSource=kms.amazonaws.com`). A selector that is missing, or that lands on an object or
an array, matches neither `=` nor `!=`.

Term patterns for plain text: `ERROR`, `"Failed authentication"`, `?ERROR ?WARN`, `ERROR -retry`.

Compile once with `compile_pattern`, then call `matches(event)` on a decoded JSON event (and
the raw text for term patterns) as often as needed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_PATTERN_LENGTH = 1024
_MISSING = object()


class PatternSyntaxError(ValueError):
    """The pattern cannot be parsed; the message shows where."""

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.reason = message
        self.pattern = pattern
        self.position = position
        caret = " " * position + "^"
        super().__init__(f"{message} at character {position + 1}:\n  {pattern}\n  {caret}")


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Comparison:
    path: tuple[str | int, ...]
    op: str  # "=", "!=", "<", ">", "<=", ">=", "IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE"
    value: Any = None  # str for text, float for numbers
    text: str = ""  # the literal as written (for numbers compared with text)
    numeric: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Any, ...]


# ---------------------------------------------------------------- tokenizer

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PATH_NAME = re.compile(r"[A-Za-z0-9_\-@]+")
_BARE_STOP = set(' \t\r\n(){}&|=!<>"')


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "&&", "||", "op", "selector", "string", "bare", "word", "}", "end"
    text: str
    position: int
    value: Any = None


def _tokenize(pattern: str, start: int, end: int) -> list[_Token]:
    tokens: list[_Token] = []
    i = start
    while i < end:
        ch = pattern[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in "()":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif pattern.startswith("&&", i) or pattern.startswith("||", i):
            tokens.append(_Token(pattern[i : i + 2], pattern[i : i + 2], i))
            i += 2
        elif ch in "&|":
            raise PatternSyntaxError(f"'{ch}' must be doubled ('{ch * 2}')", pattern, i)
        elif ch in "=!<>":
            op = pattern[i : i + 2] if pattern[i : i + 2] in ("!=", "<=", ">=") else ch
            if op == "!":
                raise PatternSyntaxError("'!' must be followed by '='", pattern, i)
            tokens.append(_Token("op", op, i))
            i += len(op)
        elif ch == '"':
            value, i_end = _read_quoted(pattern, i, end)
            tokens.append(_Token("string", pattern[i:i_end], i, value))
            i = i_end
        elif ch == "$":
            path, i_end = _read_selector(pattern, i, end)
            tokens.append(_Token("selector", pattern[i:i_end], i, path))
            i = i_end
        elif ch in "{}":
            raise PatternSyntaxError(f"unexpected '{ch}'", pattern, i)
        else:
            j = i
            while j < end and pattern[j] not in _BARE_STOP:
                j += 1
            word = pattern[i:j]
            kind = "word" if word in ("IS", "NOT", "NULL", "EXISTS", "TRUE", "FALSE") else "bare"
            tokens.append(_Token(kind, word, i, word))
            i = j
    tokens.append(_Token("end", "", end))
    return tokens


def _read_quoted(pattern: str, start: int, end: int) -> tuple[str, int]:
    chars = []
    i = start + 1
    while i < end:
        ch = pattern[i]
        if ch == "\\" and i + 1 < end:
            chars.append(pattern[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(chars), i + 1
        chars.append(ch)
        i += 1
    raise PatternSyntaxError("unterminated quoted value", pattern, start)


def _read_selector(pattern: str, start: int, end: int) -> tuple[tuple[str | int, ...], int]:
    path: list[str | int] = []
    i = start + 1
    while i < end and pattern[i] in ".[":
        if pattern[i] == ".":
            match = _PATH_NAME.match(pattern, i + 1, end)
            if not match:
                raise PatternSyntaxError("expected a field name after '.'", pattern, i + 1)
            path.append(match.group())
            i = match.end()
        else:
            close = pattern.find("]", i, end)
            index_text = pattern[i + 1 : close] if close != -1 else ""
            if close == -1 or not index_text.isdigit():
                raise PatternSyntaxError("expected an array index such as [0]", pattern, i)
            path.append(int(index_text))
            i = close + 1
    if not path:
        raise PatternSyntaxError("a selector needs a field, such as $.eventName", pattern, start)
    return tuple(path), i


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, pattern: str, tokens: list[_Token]) -> None:
        self.pattern = pattern
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, message: str, token: _Token | None = None) -> PatternSyntaxError:
        token = token or self.peek()
        return PatternSyntaxError(message, self.pattern, token.position)

    def parse(self):
        if self.peek().kind == "end":
            raise self.fail('empty JSON pattern: expected a comparison such as $.eventName = "ConsoleLogin"')
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().text!r}: expected '&&', '||' or '}}'")
        return node

    def or_expr(self):
        parts = [self.and_expr()]
        while self.peek().kind == "||":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self):
        parts = [self.unary()]
        while self.peek().kind == "&&":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self):
        token = self.peek()
        if token.kind == "(":
            self.take()
            node = self.or_expr()
            if self.peek().kind != ")":
                raise self.fail("expected ')' to close the '(' opened", token)
            self.take()
            return node
        if token.kind == "selector":
            return self.comparison()
        raise self.fail(f"expected a selector such as $.eventName or '(', got {token.text or 'the end'!r}")

    def comparison(self) -> Comparison:
        selector = self.take()
        token = self.peek()
        if token.kind == "word" and token.text in ("IS", "NOT"):
            return self.keyword_test(selector)
        if token.kind != "op":
            raise self.fail("expected an operator (=, !=, <, >, <=, >=, IS NULL, NOT EXISTS, IS TRUE, IS FALSE)")
        op = self.take().text
        value_token = self.take()
        if value_token.kind not in ("string", "bare", "word"):
            raise self.fail("expected a value after the operator", value_token)
        text = value_token.value if value_token.kind == "string" else value_token.text
        is_number = value_token.kind != "string" and bool(_NUMBER.match(text))
        if op in ("<", ">", "<=", ">="):
            if not is_number:
                raise self.fail(f"'{op}' compares numbers; {value_token.text!r} is not a number", value_token)
            return Comparison(selector.value, op, float(text), text, True)
        if is_number:
            return Comparison(selector.value, op, float(text), text, True)
        _check_wildcards(self.pattern, value_token, text)
        return Comparison(selector.value, op, text, text, False)

    def keyword_test(self, selector: _Token) -> Comparison:
        first = self.take()
        second = self.take()
        phrase = f"{first.text} {second.text}"
        if phrase not in ("IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE"):
            raise self.fail("expected IS NULL, NOT EXISTS, IS TRUE or IS FALSE", first)
        return Comparison(selector.value, phrase)


def _check_wildcards(pattern: str, token: _Token, text: str) -> None:
    inner = text[1:-1] if len(text) > 1 else ""
    if "*" in inner:
        offset = token.position + (1 if token.kind == "string" else 0) + 1 + inner.index("*")
        raise PatternSyntaxError("'*' is a wildcard only at the start or end of a value", pattern, offset)


# ---------------------------------------------------------------- evaluation


def _getter(path: tuple[str | int, ...]) -> Callable[[dict], Any]:
    if len(path) == 1 and isinstance(path[0], str):
        key = path[0]
        return lambda event: event.get(key, _MISSING)
    if len(path) == 2 and all(isinstance(step, str) for step in path):
        # $.a.b is the commonest nested selector in CloudTrail patterns; skip the general loop.
        outer, inner = path

        def get_two(event: dict) -> Any:
            value = event.get(outer)
            return value.get(inner, _MISSING) if type(value) is dict else _MISSING

        return get_two

    def get(event: Any) -> Any:
        value = event
        for step in path:
            if isinstance(step, str):
                if type(value) is not dict:
                    return _MISSING
                value = value.get(step, _MISSING)
                if value is _MISSING:
                    return _MISSING
            else:
                if type(value) is not list or step >= len(value):
                    return _MISSING
                value = value[step]
        return value

    return get


def _text_of(value: Any) -> str | None:
    """The text a scalar compares as; None for null, objects and arrays (they match nothing)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return json.dumps(value)
    return None


def _text_matcher(literal: str) -> Callable[[str], bool]:
    if literal == "*":
        return lambda text: True
    starts, ends = literal.startswith("*"), literal.endswith("*")
    core = literal.strip("*") if (starts or ends) else literal
    if starts and ends:
        return lambda text: core in text
    if starts:
        return lambda text: text.endswith(core)
    if ends:
        return lambda text: text.startswith(core)
    return lambda text: text == core


def _number_of(value: Any) -> float | None:
    kind = type(value)
    if kind is int or kind is float:
        return float(value)
    return None


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compile_comparison(node: Comparison) -> Callable[[dict], bool]:
    get = _getter(node.path)
    op = node.op
    if op == "NOT EXISTS":
        return lambda event: get(event) is _MISSING
    if op == "IS NULL":
        return lambda event: get(event) is None
    if op == "IS TRUE":
        return lambda event: get(event) is True
    if op == "IS FALSE":
        return lambda event: get(event) is False
    if node.numeric:
        compare = _NUMERIC_OPS[op]
        target, written = node.value, node.text

        def numeric(event: dict) -> bool:
            value = get(event)
            number = _number_of(value)
            if number is not None:
                return not math.isnan(number) and compare(number, target)
            if type(value) is str and op in ("=", "!="):
                # A number written in the pattern still compares with a string field as text.
                return (value == written) == (op == "=")
            return False

        return numeric

    literal = node.value
    if op == "=" and "*" not in literal and literal not in ("true", "false"):
        # The hot path: an exact string; no other type can equal a str.
        if len(node.path) == 1 and isinstance(node.path[0], str):
            key = node.path[0]
            return lambda event: event.get(key) == literal
        return lambda event: get(event) == literal
    matcher = _text_matcher(literal)
    wanted = op == "="

    def textual(event: dict) -> bool:
        value = get(event)
        if type(value) is str:
            return matcher(value) == wanted
        text = _text_of(value)
        return text is not None and matcher(text) == wanted

    return textual


def _compile_node(node) -> Callable[[dict], bool]:
    if isinstance(node, Comparison):
        return _compile_comparison(node)
    parts = [_compile_node(part) for part in node.parts]
    if isinstance(node, And):
        if len(parts) == 2:
            first, second = parts
            return lambda event: first(event) and second(event)

        def all_of(event: dict) -> bool:
            for part in parts:  # noqa: SIM110 - a plain loop beats all() over a generator on this hot path
                if not part(event):
                    return False
            return True

        return all_of
    if len(parts) == 2:
        first, second = parts
        return lambda event: first(event) or second(event)

    def any_of(event: dict) -> bool:
        for part in parts:  # noqa: SIM110 - a plain loop beats any() over a generator on this hot path
            if part(event):
                return True
        return False

    return any_of


def required_event_names(node) -> frozenset[str] | None:
    """The eventName values without which the pattern cannot match; None when unconstrained."""
    if isinstance(node, Comparison):
        if node.path == ("eventName",) and node.op == "=" and not node.numeric and "*" not in node.value:
            return frozenset({node.value})
        return None
    found = [required_event_names(part) for part in node.parts]
    if isinstance(node, And):
        constrained = [names for names in found if names is not None]
        if not constrained:
            return None
        return frozenset.intersection(*constrained)
    if any(names is None for names in found):
        return None
    return frozenset().union(*found)


# ---------------------------------------------------------------- term patterns


def _parse_terms(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    required, optional, excluded = [], [], []
    i, end = 0, len(pattern)
    while i < end:
        if pattern[i].isspace():
            i += 1
            continue
        prefix = pattern[i] if pattern[i] in "?-" else ""
        j = i + len(prefix)
        if j < end and pattern[j] == '"':
            term, i = _read_quoted(pattern, j, end)
        else:
            k = j
            while k < end and not pattern[k].isspace():
                k += 1
            term, i = pattern[j:k], k
        if not term:
            raise PatternSyntaxError(f"'{prefix}' must be followed by a term", pattern, j - 1)
        {"": required, "?": optional, "-": excluded}[prefix].append(term)
    return tuple(required), tuple(optional), tuple(excluded)


# ---------------------------------------------------------------- public API


@dataclass(frozen=True)
class CompiledPattern:
    source: str
    kind: str  # "json" or "terms"
    tree: Any
    event_names: frozenset[str] | None
    # The bare test: a decoded JSON object for "json" patterns, the raw text for "terms".
    evaluate: Callable[..., bool]

    def matches(self, event: Any, message: str | None = None) -> bool:
        """event: the decoded JSON (or None if the line is not JSON); message: the raw line."""
        if self.kind == "json":
            return type(event) is dict and self.evaluate(event)
        if message is None:
            message = json.dumps(event) if event is not None else ""
        return self.evaluate(message)

    def matches_text(self, message: str) -> bool:
        if self.kind == "terms":
            return self.evaluate(message)
        try:
            event = json.loads(message)
        except ValueError:
            return False
        return self.matches(event, message)


def compile_pattern(pattern: str) -> CompiledPattern:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternSyntaxError(
            f"pattern is {len(pattern)} characters; CloudWatch Logs allows {MAX_PATTERN_LENGTH}",
            pattern,
            MAX_PATTERN_LENGTH,
        )
    stripped = pattern.strip()
    if stripped.startswith("{"):
        start = pattern.index("{")
        end = pattern.rstrip().rfind("}")
        if end <= start:
            raise PatternSyntaxError("JSON pattern is missing its closing '}'", pattern, len(pattern.rstrip()))
        tree = _Parser(pattern, _tokenize(pattern, start + 1, end)).parse()
        return CompiledPattern(pattern, "json", tree, required_event_names(tree), _compile_node(tree))
    if stripped.startswith("["):
        raise PatternSyntaxError(
            "space-delimited patterns ([a, b, ...]) are not supported", pattern, pattern.index("[")
        )
    required, optional, excluded = _parse_terms(pattern)

    def terms(message: str) -> bool:
        return (
            all(term in message for term in required)
            and (not optional or any(term in message for term in optional))
            and not any(term in message for term in excluded)
        )

    return CompiledPattern(pattern, "terms", (required, optional, excluded), None, terms)


def quote(value: str) -> str:
    """A value as a quoted filter-pattern literal."""
    if any(ch in value for ch in '"\\') or any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{value!r} contains a quote, backslash or control character")
    return f'"{value}"'
