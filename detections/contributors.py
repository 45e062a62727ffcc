"""Contributor Insights rules as data: who contributes most to failed sign-ins, and where sign-ins come from.

A rule names the log its events come from (the trail's log group, or the notifier's own log with one
JSON line per sign-in), the filters an event must pass and the keys that name a contributor. The
component renders each into CloudWatch's rule syntax; `contribution` applies the same semantics
(every filter's field must hold one of its values; every key must be present) so the examples below
are checked, and replay could use them too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detections.catalog import IAM_USER, ROOT, console_login
from handlers.log_lines import SIGN_IN_LOG_MESSAGE

TRAIL_LOG = "trail"
NOTIFIER_LOG = "notifier"
_MISSING = object()


@dataclass(frozen=True)
class ContributorRule:
    id: str
    title: str
    source: str  # TRAIL_LOG or NOTIFIER_LOG
    keys: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]]  # JSON path -> accepted values
    examples: tuple[tuple[str, dict, tuple[str, ...] | None], ...]  # name, event, expected contributor

    def definition(self, log_group_name: str) -> str:
        """The rule body CloudWatch expects (PutInsightRule's RuleDefinition)."""
        return json.dumps(
            {
                "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
                "LogGroupNames": [log_group_name],
                "LogFormat": "JSON",
                "Contribution": {
                    "Keys": list(self.keys),
                    "Filters": [{"Match": path, "In": list(values)} for path, values in self.filters.items()],
                },
                "AggregateOn": "Count",
            },
            sort_keys=True,
        )


def contribution(rule: ContributorRule, event: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The contributor an event counts for under the rule, or None when it does not count."""
    for path, values in rule.filters.items():
        if _at(event, path) not in values:
            return None
    found = [_at(event, path) for path in rule.keys]
    if any(value is _MISSING or isinstance(value, dict | list) for value in found):
        return None
    return tuple(str(value) for value in found)


def _at(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


_FAILED_CONSOLE_SIGN_IN = {
    "$.eventSource": ("signin.amazonaws.com",),
    "$.eventName": ("ConsoleLogin",),
    "$.responseElements.ConsoleLogin": ("Failure",),
}
_HIDDEN = {**IAM_USER, "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}


def _from(address: str, event: dict) -> dict:
    return {**event, "sourceIPAddress": address}


def _sign_in_line(country: str, outcome: str) -> dict:
    return {"message": SIGN_IN_LOG_MESSAGE, "signIn": {"country": country, "outcome": outcome}}


CONTRIBUTOR_RULES: tuple[ContributorRule, ...] = (
    ContributorRule(
        id="failed-sign-ins-by-source-ip",
        title="Failed console sign-ins by source IP",
        source=TRAIL_LOG,
        keys=("$.sourceIPAddress",),
        filters=_FAILED_CONSOLE_SIGN_IN,
        examples=(
            ("wrong password", _from("198.51.100.7", console_login(IAM_USER, outcome="Failure")), ("198.51.100.7",)),
            ("unknown user name", _from("198.51.100.7", console_login(_HIDDEN, outcome="Failure")), ("198.51.100.7",)),
            ("root, wrong password", _from("2001:db8::7", console_login(ROOT, outcome="Failure")), ("2001:db8::7",)),
            ("successful sign-in", _from("198.51.100.7", console_login(IAM_USER)), None),
        ),
    ),
    ContributorRule(
        id="failed-sign-ins-by-user-name",
        title="Failed console sign-ins by user name",
        source=TRAIL_LOG,
        keys=("$.userIdentity.userName",),
        filters=_FAILED_CONSOLE_SIGN_IN,
        examples=(
            ("wrong password", console_login(IAM_USER, outcome="Failure"), ("bob",)),
            # AWS hides names that do not exist: they add up under one placeholder.
            ("unknown user name", console_login(_HIDDEN, outcome="Failure"), ("HIDDEN_DUE_TO_SECURITY_REASONS",)),
            # Root has no user name in CloudTrail; the root detections watch it.
            ("root, wrong password", console_login(ROOT, outcome="Failure"), None),
            ("successful sign-in", console_login(IAM_USER), None),
        ),
    ),
    ContributorRule(
        id="sign-ins-by-country",
        title="Sign-ins by country and outcome",
        source=NOTIFIER_LOG,
        keys=("$.signIn.country", "$.signIn.outcome"),
        filters={"$.message": (SIGN_IN_LOG_MESSAGE,)},
        examples=(
            ("failure from Germany", _sign_in_line("DE", "Failure"), ("DE", "Failure")),
            ("success without a location", _sign_in_line("none", "Success"), ("none", "Success")),
            ("another log line", {"message": "batch done", "signIn": {"country": "DE"}}, None),
        ),
    ),
)
BY_ID: Mapping[str, ContributorRule] = {rule.id: rule for rule in CONTRIBUTOR_RULES}
TOP_SOURCE_IP_RULE = "failed-sign-ins-by-source-ip"


def rules_for(sources: Sequence[str]) -> tuple[ContributorRule, ...]:
    return tuple(rule for rule in CONTRIBUTOR_RULES if rule.source in sources)
