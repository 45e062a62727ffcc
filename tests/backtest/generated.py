"""Generated history and patterns that reach every corner of the filter-pattern semantics.

Events put strings, numbers, booleans, null, objects, arrays or nothing at the selectors the catalog
reads (and a few it does not); patterns combine every operator over the same selectors. Seeded, so a
failure reproduces.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

from detections.catalog import CATALOG

PATHS = (
    ("eventName",),
    ("eventSource",),
    ("errorCode",),
    ("userIdentity", "type"),
    ("userIdentity", "arn"),
    ("userIdentity", "invokedBy"),
    ("additionalEventData", "MFAUsed"),
    ("responseElements", "ConsoleLogin"),
    ("requestParameters", "groupName"),
    ("resources", 0, "ARN"),
    ("latency",),
    ("odd-key@x",),
)
WORDS = (
    "ConsoleLogin",
    "Success",
    "Failure",
    "Yes",
    "YES",
    "Root",
    "IAMUser",
    "AccessDenied",
    "Client.UnauthorizedOperation",
    "iam.amazonaws.com",
    "5",
    "1.5",
    "true",
    "false",
    "",
    "a_b%c\\d",
    "ünïcode",
    'quote"d',
)
NUMBERS = (0, 5, -3, 1.5, 2.0, 1e20, 10**19, 0.1, float("inf"), 10**400)
# Regex values within CloudWatch Logs' dialect, and selectors with a wildcard.
REGEXES = ("%^Con%", "%Fail|Denied%", "%[0-9]%", "%\\.amazonaws\\.com$%", "%u.e%", "%^tru%", "%Inf%", "%^[A-Z]{3,}$%")
WILDCARD_SELECTORS = ("$.resources[*].ARN", "$.userIdentity.*", "$.*", "$.resources[*]")


def _scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(WORDS)
    if roll < 0.75:
        return rng.choice(NUMBERS)
    if roll < 0.85:
        return rng.choice((True, False))
    return None


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.8:
        return _scalar(rng)
    if roll < 0.9:
        return {"nested": _scalar(rng)}
    return [_scalar(rng)]


def _put(event: dict, path: tuple, value: Any, rng: random.Random) -> None:
    target: Any = event
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            return  # lists are built whole below
        if isinstance(following, int):
            target[step] = [{"ARN": value}] if rng.random() < 0.8 else rng.choice(([], "not-a-list", None))
            return
        existing = target.get(step)
        if not isinstance(existing, dict):
            if rng.random() < 0.1:
                target[step] = rng.choice((None, "text", [1]))  # a selector steps into a non-object
                return
            existing = target[step] = {}
        target = existing
    target[path[-1]] = value


def events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    examples = [example.event for detection in CATALOG for example in detection.examples]
    made = []
    for _ in range(count):
        event = copy.deepcopy(rng.choice(examples)) if rng.random() < 0.3 else {}
        for path in PATHS:
            if rng.random() < 0.6:
                _put(event, path, _value(rng), rng)
        made.append(event)
    return made


def _literal(rng: random.Random) -> str:
    word = rng.choice(WORDS[:13])
    if not word:
        return '""'
    roll = rng.random()
    if roll < 0.15:
        word = "*" + word[1:]
    elif roll < 0.3:
        word = word[:-1] + "*"
    elif roll < 0.4:
        word = "*" + word[1:-1] + "*" if len(word) > 2 else "*"
    return f'"{word}"' if rng.random() < 0.5 or not word.replace(".", "").isalnum() else word


def _selector(path: tuple) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def _comparison(rng: random.Random) -> str:
    selector = _selector(rng.choice(PATHS)) if rng.random() < 0.9 else rng.choice(WILDCARD_SELECTORS)
    if rng.random() < 0.1:
        return f"{selector} {rng.choice(('=', '!='))} {rng.choice(REGEXES)}"
    roll = rng.random()
    if roll < 0.15:
        return f"{selector} {rng.choice(('IS NULL', 'NOT EXISTS', 'IS TRUE', 'IS FALSE'))}"
    if roll < 0.35:
        number = rng.choice(("5", "1.5", "-3", "1e20", "0", "2"))
        return f"{selector} {rng.choice(('=', '!=', '<', '>', '<=', '>='))} {number}"
    return f"{selector} {rng.choice(('=', '!='))} {_literal(rng)}"


def _expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.4:
        return _comparison(rng)
    parts = [_expression(rng, depth - 1) for _ in range(rng.randint(2, 3))]
    joined = f" {rng.choice(('&&', '||'))} ".join(f"({part})" for part in parts)
    return joined


def patterns(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    made = []
    while len(made) < count:
        pattern = "{ " + _expression(rng, 3) + " }"
        # CloudWatch Logs' quotas: two regex values and three wildcard selectors per pattern.
        if pattern.count("%") <= 4 and sum(pattern.count(s) for s in ("[*]", ".*")) <= 3:
            made.append(pattern)
    return made
