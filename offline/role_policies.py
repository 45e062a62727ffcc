"""The IAM policies a stack's CI roles need, generated from its plan.

The deploy role needs what the Pulumi AWS provider calls to create, read, update and delete every
planned resource; the preview role only what it calls to read them (`pulumi preview --refresh`) and
the provider functions the program calls. Actions act on the ARNs of the stack's own resources
(resource_access.py says which), with names collapsed to their common prefix where several share
one, so a policy stays within IAM's size limit.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from offline.engine import ProgramRun, ResourceRecord, partition_of
from offline.plan import Computed
from offline.resource_access import ACCESS, INVOKES, NO_ACCESS, Access

# IAM's limit for a customer managed policy, counted without whitespace.
MANAGED_POLICY_LIMIT = 6144
# Names are collapsed to a common prefix only when it is at least this long: "login-monitoring-".
_MIN_SHARED_PREFIX = 16
_REFERENCE = re.compile(r"^\$\{(.+)\.([A-Za-z]+)\}$")
_ANY = "*"


def missing_types(run: ProgramRun) -> list[str]:
    """Planned resource types no entry in resource_access.py covers."""
    return sorted({r.type for r in run.resources if r.custom and r.type not in ACCESS and r.type not in NO_ACCESS})


def missing_invokes(run: ProgramRun) -> list[str]:
    return sorted(set(run.invokes) - set(INVOKES))


class PolicyGapError(Exception):
    """The plan holds something resource_access.py does not cover."""


def deploy_policy(run: ProgramRun, account: str | None = None) -> dict[str, Any]:
    return _Builder(run, account, deploy=True).document()


def preview_policy(run: ProgramRun, account: str | None = None) -> dict[str, Any]:
    return _Builder(run, account, deploy=False).document()


def policy_size(document: dict[str, Any]) -> int:
    """Characters IAM counts: the document without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def split(document: dict[str, Any], limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """The document as few managed policies as fit the limit, statements kept whole and in order."""
    parts: list[list[dict]] = [[]]
    for statement in document["Statement"]:
        candidate = {"Version": document["Version"], "Statement": [*parts[-1], statement]}
        if parts[-1] and policy_size(candidate) > limit:
            parts.append([statement])
        else:
            parts[-1].append(statement)
    return [{"Version": document["Version"], "Statement": statements} for statements in parts]


@dataclass
class _Grants:
    # (service, condition, given) -> ARN -> actions. `given`: a resource the stack was given, not one it
    # creates (an existing trail's log group); it gets only the actions that act on it, never its own.
    by_arn: dict[tuple[str, str, bool], dict[str, set[str]]] = field(default_factory=lambda: defaultdict(dict))
    # ARN -> where its name starts, so only names are collapsed, never the ARN's fixed part.
    name_start: dict[str, int] = field(default_factory=dict)

    def add(self, actions, arns, condition: str = "", name_start: dict[str, int] | None = None, given=False) -> None:
        for action in actions:
            service = action.split(":", 1)[0]
            for arn in arns:
                key = (service if arn != _ANY else _ANY, condition, given)
                self.by_arn[key].setdefault(arn, set()).add(action)
        self.name_start.update(name_start or {})


class _Builder:
    def __init__(self, run: ProgramRun, account: str | None, *, deploy: bool) -> None:
        gaps = missing_types(run) + missing_invokes(run)
        if gaps:
            raise PolicyGapError(f"offline/resource_access.py has no IAM actions for {', '.join(gaps)}")
        self.run = run
        self.deploy = deploy
        self.account = account or _ANY
        self.partition = partition_of(run.region)
        self.plain = Computed(run).plain
        # Components often share their main resource's logical name; references name the resource.
        self.by_name = {r.name: r for r in run.resources if r.type in ACCESS}
        self.provider_regions = {
            r.urn: r.inputs.get("region") for r in run.resources if r.type == "pulumi:providers:aws"
        }
        self.grants = _Grants()

    def document(self) -> dict[str, Any]:
        for token in self.run.invokes:
            self.grants.add(INVOKES[token], [_ANY])
        for resource in self.run.resources:
            if resource.custom and resource.type in ACCESS:
                self._resource(resource, ACCESS[resource.type])
        return {"Version": "2012-10-17", "Statement": self._statements()}

    def _resource(self, resource: ResourceRecord, access: Access) -> None:
        inputs = self.plain(resource.inputs)
        name = self._name_of(resource, access, inputs)
        region = self._region(resource)
        arns, starts = [], {}
        for template in access.arns:
            arn, start = self._arn(template, name, inputs, region)
            arns.append(arn)
            starts[arn] = start
        actions = access.read + (access.deploy if self.deploy else ())
        given = bool(access.owner) and self._given(inputs.get(access.owner))
        self.grants.add(actions, arns, name_start=starts, given=given)
        self.grants.add(access.any_read + (access.any_deploy if self.deploy else ()), [_ANY])
        if not self.deploy:
            return
        for key, service in access.passes_role:
            role = self._role_arn(inputs.get(key), region)
            if role:
                condition = json.dumps({"StringEquals": {"iam:PassedToService": service}}) if service else ""
                self.grants.add(["iam:PassRole"], [role[0]], condition, {role[0]: role[1]})
        for extra in access.extras:
            if inputs.get(extra.input) == extra.value:
                condition: dict[str, dict[str, str]] = {}
                for operator, key, value in extra.condition:
                    condition.setdefault(operator, {})[key] = value
                self.grants.add(
                    extra.actions,
                    [self._fill(template, {}, region) for template in extra.arns],
                    json.dumps(condition, sort_keys=True) if condition else "",
                )

    def _name_of(self, resource: ResourceRecord, access: Access, inputs: dict) -> str:
        if access.owner:
            return self._referred_name(inputs.get(access.owner))
        return self._own_name(resource, access, inputs)

    def _own_name(self, resource: ResourceRecord, access: Access, inputs: dict) -> str:
        value = inputs.get(access.name) if access.name else None
        if isinstance(value, str) and "${" not in value:
            return value
        prefix = inputs.get("namePrefix")
        if isinstance(prefix, str) and "${" not in prefix:
            return prefix + _ANY
        # Pulumi names it "<logical name>-<7 random characters>"; buckets in lower case.
        logical = resource.name.lower() if resource.type.startswith("aws:s3/") else resource.name
        return f"{logical}-{_ANY}"

    def _given(self, value: Any) -> bool:
        """Whether an input names a resource the plan does not create."""
        reference = _REFERENCE.match(value) if isinstance(value, str) else None
        return reference is None or reference.group(1) not in self.by_name

    def _referred_name(self, value: Any) -> str:
        """The name of the resource an input refers to: one of the plan's, or one the stack was given."""
        if not isinstance(value, str):
            return _ANY
        reference = _REFERENCE.match(value)
        if reference:
            target = self.by_name.get(reference.group(1))
            if target is None:
                return _ANY  # another stack's resource, say
            return self._name_of(target, ACCESS[target.type], self.plain(target.inputs))
        if value.startswith("arn:"):
            # An ARN the stack was given names the resource last: topic, function or log group.
            return re.split(r"[:/]", value, maxsplit=6)[-1] if value.count(":") >= 5 else _ANY
        return value

    def _role_arn(self, value: Any, region: str) -> tuple[str, int] | None:
        if not isinstance(value, str) or not value:
            return None
        if value.startswith("arn:"):
            return value, value.index(":role/") + len(":role/") if ":role/" in value else len(value)
        name = self._referred_name(value)
        return self._arn("arn:{partition}:iam::{account}:role/{name}", name, {}, region)

    def _region(self, resource: ResourceRecord) -> str:
        own = resource.inputs.get("region")
        if isinstance(own, str) and own:
            return own
        provider = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
        return self.provider_regions.get(provider) or self.run.region

    def _arn(self, template: str, name: str, inputs: dict, region: str) -> tuple[str, int]:
        head = self._fill(template.split("{name}", 1)[0], inputs, region)
        return self._fill(template, inputs, region, name), len(head)

    def _fill(self, template: str, inputs: dict, region: str, name: str = _ANY) -> str:
        def field(match: re.Match) -> str:
            key = match.group(1)
            builtin = {"partition": self.partition, "region": region, "account": self.account, "name": name}
            if key in builtin:
                return builtin[key]
            return self._referred_name(inputs.get(key))

        return re.sub(r"\{(\w+)\}", field, template)

    def _statements(self) -> list[dict[str, Any]]:
        """One statement per service (and condition): every action it needs on every ARN of the stack's own
        resources; an action next to ARNs of another kind of resource allows nothing more, as IAM matches
        each action only against ARNs of the types it acts on. Resources the stack is given get a statement
        of their own with only the actions that configure them."""
        statements = []
        for (service, condition, given), by_arn in sorted(self.grants.by_arn.items()):
            groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
            if given:
                for arn, actions in by_arn.items():
                    groups[tuple(sorted(actions))].append(arn)
            else:
                groups[tuple(sorted(set().union(*by_arn.values())))] = list(by_arn)
            for index, (actions, arns) in enumerate(sorted(groups.items(), key=lambda item: sorted(item[1]))):
                sid = _sid(service, condition)
                if given:
                    sid += "Given" + (str(index + 1) if len(groups) > 1 else "")
                statement: dict[str, Any] = {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": _one_or_list(list(actions)),
                    # A resource the stack is given keeps its exact name.
                    "Resource": _one_or_list(sorted(arns) if given else _collapse(arns, self.grants.name_start)),
                }
                if condition:
                    statement["Condition"] = json.loads(condition)
                statements.append(statement)
        return statements


def _sid(service: str, condition: str) -> str:
    """AnyResource, Logs, IamIfPassedToServiceLambda: unique, since statements are per service and condition."""
    base = "AnyResource" if service == _ANY else _words(service)
    if condition:
        for operators in json.loads(condition).values():
            for key, value in sorted(operators.items()):
                base += "If" + _words(key.split(":", 1)[-1]) + _words(str(value).split(".")[0])
    return base


def _words(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", text))


def _one_or_list(items: list[str]) -> str | list[str]:
    return items[0] if len(items) == 1 else items


def _collapse(arns: list[str], name_start: dict[str, int]) -> list[str]:
    """ARNs whose names share a prefix of at least _MIN_SHARED_PREFIX characters (ending at a separator)
    become one ARN with a wildcard; a wildcard already covering others absorbs them."""
    result: list[str] = []
    for arn in sorted(set(arns)):
        if result and result[-1] != _ANY:
            merged = _merge(result[-1], arn, name_start)
            if merged:
                name_start[merged] = min(name_start.get(result[-1], 0), name_start.get(arn, 0))
                result[-1] = merged
                continue
        result.append(arn)
    # A wildcard ARN covers the exact ones it matches (log-group:name and log-group:name:*, say).
    return [arn for arn in result if not any(other != arn and fnmatch.fnmatchcase(arn, other) for other in result)]


def _merge(first: str, second: str, name_start: dict[str, int]) -> str | None:
    start = name_start.get(first)
    if start is None or start != name_start.get(second) or first[:start] != second[:start]:
        return None
    shared = 0
    for a, b in zip(first[start:], second[start:], strict=False):
        if a != b or a == _ANY:
            break
        shared += 1
    if shared in (len(first) - start, len(second) - start):
        return None  # one name starts the other: "<name>" and "<name>:*"
    prefix = first[start : start + shared]
    cut = max(prefix.rfind(separator) for separator in "-_/:") + 1
    if cut < _MIN_SHARED_PREFIX:
        return None
    return first[: start + cut] + _ANY
