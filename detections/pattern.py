"""CloudWatch Logs filter patterns, parsed and evaluated with AWS's documented semantics.

JSON patterns: `{ $.a.b = "x" && ($.c[0] != y* || $.n >= 1.5e3) }`, `IS NULL`, `NOT EXISTS`,
`IS TRUE`, `IS FALSE`; `&&` binds tighter than `||`; comparisons are case-sensitive; `*` is a
wildcard at the start and/or end of a value; `%regex%` values (detections/filter_regex.py, at most
two per pattern); unquoted values may contain dots (`$.eventSource=kms.amazonaws.com`). A selector
that is missing, or that lands on an object or an array, matches neither `=` nor `!=`.

Selectors: `$.a.b`, `$.a[0]`, bracket notation for a key holding a dot (`$.['cluster.name']`), and
the wildcards `.*` (every field of an object) and `[*]` (every element of an array), one per selector
and three per pattern, as AWS allows. A comparison through a wildcard holds when it holds for some
selected value; `NOT EXISTS` holds when the wildcard selects nothing.

Numbers: a number too large for a double (`1e400`, in the pattern or the event) is read as
infinity, and its text (for wildcards and regex) is `Infinity` / `-Infinity`.

Term patterns for plain text: `ERROR`, `"Failed authentication"`, `?ERROR ?WARN`, `ERROR -retry`,
and a whole pattern that is one regex, `%AUTHORIZED%`.

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

from detections.filter_regex import FilterRegex, RegexError, parse_regex

MAX_PATTERN_LENGTH = 1024
# CloudWatch Logs' quotas for JSON patterns.
MAX_REGEX_PER_PATTERN = 2
MAX_WILDCARDS_PER_SELECTOR = 1
MAX_WILDCARDS_PER_PATTERN = 3
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
class Wildcard:
    """A selector step that selects every element of an array (`[*]`) or every field of an object (`.*`)."""

    array: bool

    def __repr__(self) -> str:
        return "[*]" if self.array else ".*"


ANY_ELEMENT = Wildcard(array=True)
ANY_FIELD = Wildcard(array=False)
Step = str | int | Wildcard


def has_wildcard(path: tuple[Step, ...]) -> bool:
    return any(isinstance(step, Wildcard) for step in path)


def selector_text(path: tuple[Step, ...]) -> str:
    """The selector as a pattern writes it."""
    parts = []
    for step in path:
        if isinstance(step, Wildcard):
            parts.append(repr(step))
        elif isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PATH_NAME.fullmatch(step):
            parts.append(f".{step}")
        else:
            parts.append(f".['{step}']")
    return "$" + "".join(parts)


@dataclass(frozen=True)
class Comparison:
    path: tuple[Step, ...]
    op: str  # "=", "!=", "<", ">", "<=", ">=", "IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE"
    value: Any = None  # str for text (a regex's source for regex), float for numbers
    text: str = ""  # the literal as written (for numbers compared with text)
    numeric: bool = False
    regex: FilterRegex | None = None


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
    kind: str  # "(", ")", "&&", "||", "op", "selector", "string", "regex", "bare", "word", "}", "end"
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
        elif ch == "%":
            close = pattern.find("%", i + 1, end)
            if close == -1:
                raise PatternSyntaxError("a regex value has no closing '%'", pattern, i)
            tokens.append(_Token("regex", pattern[i : close + 1], i, _regex(pattern, i + 1, close)))
            i = close + 1
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


def _regex(pattern: str, start: int, end: int) -> FilterRegex:
    try:
        return parse_regex(pattern[start:end])
    except RegexError as error:
        raise PatternSyntaxError(str(error), pattern, start + error.offset) from None


# A key in bracket notation: printable ASCII without quotes or backslash, so every engine's path reads it.
_BRACKET_KEY = re.compile(r"\['([ !#-&(-\[\]-~]+)'\]")


def _read_selector(pattern: str, start: int, end: int) -> tuple[tuple[Step, ...], int]:
    path: list[Step] = []
    i = start + 1
    while i < end and pattern[i] in ".[":
        if pattern.startswith(".*", i):
            path.append(ANY_FIELD)
            i += 2
        elif pattern[i] == "." and not pattern.startswith(".[", i):
            match = _PATH_NAME.match(pattern, i + 1, end)
            if not match:
                raise PatternSyntaxError("expected a field name after '.'", pattern, i + 1)
            path.append(match.group())
            i = match.end()
        else:
            i += pattern[i] == "."
            if pattern.startswith("[*]", i):
                path.append(ANY_ELEMENT)
                i += 3
                continue
            key = _BRACKET_KEY.match(pattern, i, end)
            if key:
                path.append(key.group(1))
                i = key.end()
                continue
            close = pattern.find("]", i, end)
            index_text = pattern[i + 1 : close] if close != -1 else ""
            if close == -1 or not index_text.isdigit():
                raise PatternSyntaxError(
                    "expected an array index such as [0], [*] or a quoted key such as ['cluster.name']", pattern, i
                )
            path.append(int(index_text))
            i = close + 1
    if not path:
        raise PatternSyntaxError("a selector needs a field, such as $.eventName", pattern, start)
    if sum(isinstance(step, Wildcard) for step in path) > MAX_WILDCARDS_PER_SELECTOR:
        raise PatternSyntaxError(
            f"a selector may hold {MAX_WILDCARDS_PER_SELECTOR} wildcard (.* or [*]) in CloudWatch Logs", pattern, start
        )
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
        if value_token.kind == "regex":
            if op not in ("=", "!="):
                raise self.fail(f"'{op}' compares numbers; a regex is compared with '=' or '!='", value_token)
            regex: FilterRegex = value_token.value
            return Comparison(selector.value, op, regex.source, value_token.text, False, regex)
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


def _step(value: Any, step: Step) -> Any:
    if isinstance(step, str):
        return value.get(step, _MISSING) if type(value) is dict else _MISSING
    if type(value) is not list or step >= len(value):  # type: ignore[operator]
        return _MISSING
    return value[step]


def _all_getter(path: tuple[Step, ...]) -> Callable[[dict], list]:
    """Every value a selector with a wildcard finds (`.*` an object's fields, `[*]` an array's elements)."""
    at = next(index for index, step in enumerate(path) if isinstance(step, Wildcard))
    wildcard: Wildcard = path[at]  # type: ignore[assignment]
    before, after = _getter(path[:at]) if at else (lambda event: event), path[at + 1 :]

    def get_all(event: dict) -> list:
        parent = before(event)
        if wildcard.array:
            children = parent if type(parent) is list else ()
        else:
            children = parent.values() if type(parent) is dict else ()
        found = []
        for value in children:
            for step in after:
                value = _step(value, step)
                if value is _MISSING:
                    break
            else:
                found.append(value)
        return found

    return get_all


def _getter(path: tuple[Step, ...]) -> Callable[[dict], Any]:
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
        return json.dumps(value)  # infinity reads "Infinity", as the SQL engines are told to write it
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
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:  # more digits than a double holds: infinity, as 1e400 reads
            return math.inf if value > 0 else -math.inf
    return None


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _value_test(node: Comparison) -> Callable[[Any], bool]:
    """The comparison's test of one selected value (_MISSING when the selector found nothing)."""
    op = node.op
    if op == "NOT EXISTS":
        return lambda value: value is _MISSING
    if op == "IS NULL":
        return lambda value: value is None
    if op == "IS TRUE":
        return lambda value: value is True
    if op == "IS FALSE":
        return lambda value: value is False
    if node.numeric:
        compare = _NUMERIC_OPS[op]
        target, written = node.value, node.text

        def numeric(value: Any) -> bool:
            number = _number_of(value)
            if number is not None:
                return not math.isnan(number) and compare(number, target)
            if type(value) is str and op in ("=", "!="):
                # A number written in the pattern still compares with a string field as text.
                return (value == written) == (op == "=")
            return False

        return numeric

    wanted = op == "="
    if node.regex is not None:
        search = node.regex.search

        def regex(value: Any) -> bool:
            text = value if type(value) is str else _text_of(value)
            return text is not None and search(text) == wanted

        return regex
    literal = node.value
    if op == "=" and "*" not in literal and literal not in ("true", "false"):
        return lambda value: value == literal  # only a str can equal a str
    matcher = _text_matcher(literal)

    def textual(value: Any) -> bool:
        if type(value) is str:
            return matcher(value) == wanted
        text = _text_of(value)
        return text is not None and matcher(text) == wanted

    return textual


def _compile_comparison(node: Comparison) -> Callable[[dict], bool]:
    test = _value_test(node)
    if has_wildcard(node.path):
        get_all = _all_getter(node.path)
        if node.op == "NOT EXISTS":
            return lambda event: not get_all(event)
        return lambda event: any(map(test, get_all(event)))
    literal = node.value
    exact = node.op == "=" and not node.numeric and node.regex is None and "*" not in literal
    plain = all(isinstance(step, str) for step in node.path)
    if exact and literal not in ("true", "false") and plain and len(node.path) <= 2:
        # The hot paths: an exact string on a field or a field of a field ($.userIdentity.type = "Root"), which
        # patterns most of every event meet.
        if len(node.path) == 1:
            key = node.path[0]
            return lambda event: event.get(key) == literal
        outer, inner = node.path

        def exact_two(event: dict) -> bool:
            value = event.get(outer)
            return type(value) is dict and value.get(inner) == literal

        return exact_two
    if node.op in ("=", "!=") and not node.numeric and node.regex is None and plain and len(node.path) == 1:
        # A wildcard on a field ($.errorCode = "AccessDenied*"): most events hold a string or nothing there.
        key, matcher, wanted = node.path[0], _text_matcher(literal), node.op == "="

        def text_one(event: dict) -> bool:
            value = event.get(key, _MISSING)
            if type(value) is str:
                return matcher(value) == wanted
            return value is not _MISSING and test(value)  # a missing field matches neither = nor !=

        return text_one
    get = _getter(node.path)
    return lambda event: test(get(event))


def _compile_node(node) -> Callable[[dict], bool]:
    if isinstance(node, Comparison):
        return _compile_comparison(node)
    parts = [_compile_node(part) for part in node.parts]
    if isinstance(node, And):
        if len(parts) == 2:
            first, second = parts
            return lambda event: first(event) and second(event)
        if len(parts) == 3:
            first, second, third = parts
            return lambda event: first(event) and second(event) and third(event)

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
        exact = node.op == "=" and not node.numeric and node.regex is None and "*" not in node.value
        if node.path == ("eventName",) and exact:
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


def required_keys(node) -> frozenset[str]:
    """Top-level keys an event must hold for the pattern to match (a selector that finds nothing matches no
    comparison but NOT EXISTS)."""
    if isinstance(node, Comparison):
        path = node.path
        if node.op == "NOT EXISTS" or not path or not isinstance(path[0], str) or has_wildcard(path):
            return frozenset()
        return frozenset({path[0]})
    found = [required_keys(part) for part in node.parts]
    if isinstance(node, And):
        return frozenset().union(*found)
    return frozenset.intersection(*found)


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


def _check_quotas(pattern: str, tokens: list[_Token]) -> None:
    regexes = [token for token in tokens if token.kind == "regex"]
    if len(regexes) > MAX_REGEX_PER_PATTERN:
        raise PatternSyntaxError(
            f"a JSON pattern may hold {MAX_REGEX_PER_PATTERN} regex values in CloudWatch Logs",
            pattern,
            regexes[MAX_REGEX_PER_PATTERN].position,
        )
    wildcards = [token for token in tokens if token.kind == "selector" and has_wildcard(token.value)]
    if len(wildcards) > MAX_WILDCARDS_PER_PATTERN:
        raise PatternSyntaxError(
            f"a pattern may hold {MAX_WILDCARDS_PER_PATTERN} wildcard selectors in CloudWatch Logs",
            pattern,
            wildcards[MAX_WILDCARDS_PER_PATTERN].position,
        )


def uses_regex(compiled: CompiledPattern) -> bool:
    """Whether CloudWatch Logs counts the pattern against its five regex patterns per log group."""
    if compiled.kind == "terms":
        return not isinstance(compiled.tree, tuple)

    def walk(node) -> bool:
        if isinstance(node, Comparison):
            return node.regex is not None
        return any(walk(part) for part in node.parts)

    return walk(compiled.tree)


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
        tokens = _tokenize(pattern, start + 1, end)
        _check_quotas(pattern, tokens)
        tree = _Parser(pattern, tokens).parse()
        return CompiledPattern(pattern, "json", tree, required_event_names(tree), _compile_node(tree))
    if stripped.startswith("["):
        raise PatternSyntaxError(
            "space-delimited patterns ([a, b, ...]) are not supported", pattern, pattern.index("[")
        )
    if re.fullmatch(r"%[^%]*%", stripped):
        start = pattern.index("%")
        search = _regex(pattern, start + 1, start + len(stripped) - 1).search
        return CompiledPattern(pattern, "terms", search, None, search)
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
