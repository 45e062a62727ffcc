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


@dataclass(frozen=True)
class HubConnection:
    stack_name: str
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]  # "" when the hub topic is not encrypted
    sink_arn: pulumi.Output[str]

    @classmethod
    def lookup(cls, name: str, stack_name: str, parent: pulumi.Resource) -> HubConnection:
        reference = pulumi.StackReference(name, stack_name=stack_name, opts=pulumi.ResourceOptions(parent=parent))
        outputs = reference.outputs.apply(lambda values: check_hub_outputs(stack_name, values))
        return cls(
            stack_name=stack_name,
            topic_arn=outputs.apply(lambda values: values["hubTopicArn"]),
            key_arn=outputs.apply(lambda values: values["hubTopicKeyArn"] or ""),
            sink_arn=outputs.apply(lambda values: values["sinkArn"]),
        )
