"""The regular expressions CloudWatch Logs accepts in filter patterns (`%...%`), checked and translated.

AWS documents a small dialect ("Supported regular expressions (regex) syntax", CloudWatch Logs User
Guide) and refuses the rest when a metric or subscription filter is created:

- characters: letters, digits, space and the symbols `: _ # = @ / ; , -`; no `(` `)`, no multi-byte;
- operators: `^` `$` (anchors), `.`, `[...]` / `[^...]` (classes and ranges), `?` `*` `+` `{m,n}`
  (either bound may be left out), `|` (alternation of the whole expression: there are no groups) and
  `\\` (escapes an operator or symbol; `\\d \\D \\s \\S \\w \\W` classes; `\\xhh` an ASCII character).

A regex matches when it is found anywhere in the text (`%Trail%` matches "UpdateTrail"). Readings
chosen where the documentation is loose, the same in every engine: `.` is any character, newline
included; `\\s` is tab, newline or space (the three the documentation names); `\\w` is `[a-zA-Z_0-9]`;
`^` and `$` anchor to the start and end of the whole text. Anything outside the dialect (a quantifier
with nothing to repeat, `a**`, `{5,2}`, an empty alternative, `(`, `\\D` inside a class, an unknown escape)
is refused with the character it stops at.

The expression is rendered once per engine in a form every engine reads alike: each literal character
other than a letter or digit as `\\xhh`, `.` as `[\\s\\S]`, the shorthand classes spelled out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The widest repetition RE2 (DuckDB) accepts.
MAX_REPEAT = 1000
_SYMBOLS = frozenset(":_#=@/;, -")
_OPERATORS = frozenset("^$?[]{}|\\*+.")
_WHITESPACE = "\t\n "
_SHORTHANDS = {
    "d": ("0-9", False),
    "D": ("0-9", True),
    "w": ("a-zA-Z_0-9", False),
    "W": ("a-zA-Z_0-9", True),
    "s": (_WHITESPACE, False),
    "S": (_WHITESPACE, True),
}


class RegexError(ValueError):
    """The regex is outside CloudWatch Logs' dialect; `offset` is the character within the regex."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _hex(char: str) -> str:
    return f"\\x{ord(char):02x}"


def _literal(char: str) -> str:
    return char if char.isascii() and char.isalnum() else _hex(char)


def _class_members(spec: str) -> str:
    """A shorthand's members ("0-9", "a-zA-Z_0-9", "\\t\\n ") as class text of escaped characters."""
    out, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append(f"{_hex(spec[i])}-{_hex(spec[i + 2])}")
            i += 3
        else:
            out.append(_hex(spec[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class _Piece:
    text: str  # the atom, rendered
    anchor: str = ""  # "^" or "$" for anchors (rendered per engine)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.i = 0

    def fail(self, message: str, offset: int | None = None) -> RegexError:
        return RegexError(message, self.i if offset is None else offset)

    def check_char(self, char: str, offset: int) -> None:
        if not char.isascii():
            raise self.fail(f"{char!r} is a multi-byte character, which CloudWatch Logs regex does not support", offset)
        if not (char.isalnum() or char in _SYMBOLS or char in _OPERATORS):
            hint = " (parentheses cannot group)" if char in "()" else ""
            raise self.fail(
                f"{char!r} is not allowed in a CloudWatch Logs regex{hint}; \\x{ord(char):02X} matches it", offset
            )

    def escape(self, in_class: bool) -> tuple[str, bool]:
        """After a backslash: (class text or atom, negated shorthand?)."""
        start = self.i - 1
        if self.i >= len(self.source):
            raise self.fail("a regex cannot end with '\\'", start)
        char = self.source[self.i]
        self.i += 1
        if char in _SHORTHANDS:
            members, negated = _SHORTHANDS[char]
            if in_class:
                if negated:
                    raise self.fail(f"'\\{char}' cannot stand inside [...]", start)
                return _class_members(members), False
            return f"[{'^' if negated else ''}{_class_members(members)}]", negated
        if char == "x":
            digits = self.source[self.i : self.i + 2]
            if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.fail("'\\x' takes two hexadecimal digits, such as \\x3A", start)
            self.i += 2
            code = int(digits, 16)
            if code > 0x7F:
                raise self.fail("'\\x' names an ASCII character (00 to 7F)", start)
            return _hex(chr(code)), False
        if char in _OPERATORS or char in _SYMBOLS:
            return _hex(char), False
        raise self.fail(
            f"'\\{char}' is not a CloudWatch Logs regex escape (\\d \\D \\s \\S \\w \\W \\xhh, or an operator)", start
        )

    def char_class(self) -> str:
        start = self.i - 1
        negated = self.source.startswith("^", self.i)
        self.i += negated
        members: list[str] = []
        previous: str | None = None  # the last single character, for a range
        while True:
            if self.i >= len(self.source):
                raise self.fail("'[' has no closing ']'", start)
            char = self.source[self.i]
            if char == "]" and members:
                self.i += 1
                break
            self.i += 1
            if char == "\\":
                text, _ = self.escape(in_class=True)
                single = chr(int(text[2:], 16)) if len(text) == 4 and text.startswith("\\x") else None
                members.append(text)
                previous = single
                continue
            self.check_char(char, self.i - 1)
            if char == "-" and previous is not None and self.i < len(self.source) and self.source[self.i] != "]":
                end_offset = self.i
                end = self.source[self.i]
                self.i += 1
                if end == "\\":
                    text, _ = self.escape(in_class=True)
                    if not (len(text) == 4 and text.startswith("\\x")):
                        raise self.fail("a range ends at a single character", end_offset)
                    end = chr(int(text[2:], 16))
                else:
                    self.check_char(end, end_offset)
                if end < previous:
                    raise self.fail(f"the range {previous}-{end} runs backwards", end_offset)
                members[-1] = f"{_hex(previous)}-{_hex(end)}"
                previous = None
                continue
            members.append(_hex(char))
            previous = char
        return f"[{'^' if negated else ''}{''.join(members)}]"

    def quantifier(self) -> str | None:
        char = self.source[self.i] if self.i < len(self.source) else ""
        if char in ("?", "*", "+"):
            self.i += 1
            return char
        if char != "{":
            return None
        start = self.i
        close = self.source.find("}", self.i)
        if close == -1:
            raise self.fail("'{' has no closing '}'", start)
        body = self.source[self.i + 1 : close]
        match = re.fullmatch(r"(\d*)(,?)(\d*)", body)
        if not match or not (match[1] or match[3]) or (not match[2] and match[3]):
            raise self.fail("a repetition is {m}, {m,}, {,n} or {m,n} with whole numbers", start)
        low = int(match[1] or 0)
        high = int(match[3]) if match[3] else (None if match[2] else low)
        if max(low, high or 0) > MAX_REPEAT:
            raise self.fail(f"a repetition goes up to {MAX_REPEAT}", start)
        if high is not None and high < low:
            raise self.fail(f"{{{body}}} repeats at least {low} but at most {high} times", start)
        self.i = close + 1
        if high is None:
            return f"{{{low},}}"
        return f"{{{low}}}" if match[2] == "" else f"{{{low},{high}}}"

    def alternatives(self) -> list[list[_Piece]]:
        branches: list[list[_Piece]] = [[]]
        while self.i < len(self.source):
            start = self.i
            char = self.source[self.i]
            self.i += 1
            if char == "|":
                if not branches[-1]:
                    raise self.fail("'|' needs an expression on both sides", start)
                branches.append([])
                continue
            if char in "^$":
                branches[-1].append(_Piece("", char))
                if self.quantifier() is not None:
                    raise self.fail(f"'{char}' is an anchor and cannot be repeated", start + 1)
                continue
            if char in "?*+{":
                raise self.fail(f"'{char}' has nothing to repeat", start)
            if char == "\\":
                atom, _ = self.escape(in_class=False)
            elif char == "[":
                atom = self.char_class()
            elif char == ".":
                atom = "[\\s\\S]"
            else:
                self.check_char(char, start)
                atom = _literal(char)
            repeat = self.quantifier()
            if repeat is not None:
                following = self.source[self.i] if self.i < len(self.source) else ""
                if following in ("?", "*", "+", "{"):
                    raise self.fail(f"'{following}' repeats a repetition", self.i)
                atom += repeat
            branches[-1].append(_Piece(atom))
        if not branches[-1]:
            raise self.fail("'|' needs an expression on both sides" if len(branches) > 1 else "empty regex", self.i)
        return branches


@dataclass(frozen=True)
class FilterRegex:
    """One `%...%` regex: its text as written and its rendering for Python and for SQL engines."""

    source: str
    python: str
    sql: str

    def search(self, text: str) -> bool:
        return _compiled(self.python).search(text) is not None


_CACHE: dict[str, re.Pattern] = {}


def _compiled(python: str) -> re.Pattern:
    found = _CACHE.get(python)
    if found is None:
        found = _CACHE[python] = re.compile(python)
    return found


def parse_regex(source: str) -> FilterRegex:
    """`source` is the text between the two `%`; RegexError says what is outside the dialect, and where."""
    branches = _Reader(source).alternatives()

    def render(end_anchor: str) -> str:
        anchors = {"^": "\\A", "$": end_anchor}
        return "|".join("".join(anchors.get(piece.anchor, piece.text) for piece in branch) for branch in branches)

    # Python's \Z is the very end of the text (its '$' also matches before a final newline); RE2 and Java spell it \z.
    python = render("\\Z")
    _compiled(python)
    return FilterRegex(source, python, render("\\z"))
