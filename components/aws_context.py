"""Account, region and partition of the stack, read once and used to build ARNs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    @classmethod
    def lookup(cls, parent: pulumi.Resource) -> AwsContext:
        opts = pulumi.InvokeOutputOptions(parent=parent)
        return cls(
            account_id=aws.get_caller_identity_output(opts=opts).account_id,
            region=aws.get_region_output(opts=opts).region,
            partition=aws.get_partition_output(opts=opts).partition,
        )

    def arn(self, service: str, resource: pulumi.Input[str], *, regional: bool = True) -> pulumi.Output[str]:
        region = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":", resource
        )

    def log_group_arn(self, name: pulumi.Input[str]) -> pulumi.Output[str]:
        return self.arn("logs", pulumi.Output.concat("log-group:", name))


def with_stream_suffix(log_group_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """CloudTrail and subscription permissions want the `:*` form that the provider's `arn` lacks."""
    return pulumi.Output.concat(log_group_arn, ":*")
