"""A member's view of its hub, read from the hub stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

# What a hub stack exports and every member needs.
HUB_OUTPUTS = ("hubTopicArn", "hubTopicKeyArn", "sinkArn", "organizationId")


class HubStackError(pulumi.RunError):
    """The referenced hub stack cannot serve members (not deployed yet, or not a hub)."""


def check_hub_outputs(stack_name: str, outputs: dict[str, Any] | None) -> dict[str, Any]:
    outputs = outputs or {}
    missing = [key for key in HUB_OUTPUTS if key not in outputs]
    if missing:
        raise HubStackError(
            f"login-monitoring:hubStack: stack {stack_name!r} has no output {', '.join(missing)}; "
            "deploy the hub first (pulumi up on the hub stack) and check that it has stackRole 'hub'"
        )
    return outputs


def sink_for_region(stack_name: str, outputs: dict[str, Any], region: str) -> str:
    """The hub's sink in the member's Region: cross-account observability links only within one Region."""
    sinks = outputs.get("sinkArns") or {_region_of(outputs["sinkArn"]): outputs["sinkArn"]}
    if region not in sinks:
        raise HubStackError(
            f"login-monitoring:hubStack: hub {stack_name!r} has an observability sink in "
            f"{', '.join(sorted(sinks))} only, and this stack runs in {region}; add {region} to "
            f"login-monitoring:memberRegions of the hub stack and run pulumi up there first, or set "
            "login-monitoring:linkMetricsToHub to false here"
        )
    return sinks[region]


def _region_of(arn: str) -> str:
    parts = str(arn).split(":")
    return parts[3] if len(parts) > 3 else ""


@dataclass(frozen=True)
class HubConnection:
    stack_name: str
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]  # "" when the hub topic is not encrypted
    outputs: pulumi.Output[dict[str, Any]]

    @classmethod
    def lookup(cls, name: str, stack_name: str, parent: pulumi.Resource) -> HubConnection:
        reference = pulumi.StackReference(name, stack_name=stack_name, opts=pulumi.ResourceOptions(parent=parent))
        outputs = reference.outputs.apply(lambda values: check_hub_outputs(stack_name, values))
        return cls(
            stack_name=stack_name,
            topic_arn=outputs.apply(lambda values: values["hubTopicArn"]),
            key_arn=outputs.apply(lambda values: values["hubTopicKeyArn"] or ""),
            outputs=outputs,
        )

    def sink_arn(self, region: pulumi.Input[str]) -> pulumi.Output[str]:
        return pulumi.Output.all(self.outputs, region).apply(
            lambda values: sink_for_region(self.stack_name, values[0], values[1])
        )
