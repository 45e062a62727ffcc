"""Sends everything a member's alert topic receives on to the hub's topic, from any Region."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import with_stream_suffix
from components.detection_alarms import METRIC_NAMESPACE
from components.lambda_package import wired_function
from components.policies import allow, document

FORWARDER_HANDLER = "handlers.forwarder.handler"
METRIC_RESOURCE = "AWS::CloudWatch::Metric"
LOG_GROUP_RESOURCE = "AWS::Logs::LogGroup"


@dataclass(frozen=True)
class HubForwarderArgs:
    topic_arn: pulumi.Input[str]
    hub_topic_arn: pulumi.Input[str]
    hub_key_arn: pulumi.Input[str]  # "" when the hub topic is not encrypted
    # The hub's sink in this stack's Region; None: this stack does not share its metrics.
    sink_arn: pulumi.Input[str] | None
    # Also forwarded, so a member without recipients of its own hears of its own faults through the hub.
    health_topic_arn: pulumi.Input[str] | None = None
    # Log groups whose names start with this are shared with the hub too (the notifiers' sign-in lines).
    shared_log_group_prefix: str | None = None
    log_retention_days: int = 30


class HubForwarder(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    link_arn: pulumi.Output[str] | None
    function_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    failed_events_queue_url: pulumi.Output[str]
    failed_events_queue_name: pulumi.Output[str]

    def __init__(self, name: str, args: HubForwarderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:HubForwarder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A failed-events queue: without it, a hub-side problem longer than Lambda's retries would drop the
        # member's mails. The hub's topic policy admits organization roles whose name starts like this one.
        wired = wired_function(
            name,
            parent=self,
            role_name_prefix="login-monitoring-hub-forwarder-",
            role_description="Forwards this account's login-monitoring mails to the organization's hub.",
            policy=lambda log_group_arn, failed_events_arn: forwarder_policy(
                args.hub_topic_arn, args.hub_key_arn, log_group_arn, failed_events_arn
            ),
            log_retention_days=args.log_retention_days,
            description="Forwards login-monitoring alarm and sign-in mails to the hub topic.",
            handler=FORWARDER_HANDLER,
            variables={"HUB_TOPIC_ARN": args.hub_topic_arn},
            memory_size=128,
            timeout=30,
        )
        function = wired.function
        self._subscribe(name, "", args.topic_arn, function)
        if args.health_topic_arn is not None:
            self._subscribe(name, "-health", args.health_topic_arn, function)
        # Shares this account's metrics, and the notifiers' logs, with the hub's dashboard (CloudWatch
        # cross-account observability): only the project's namespaces and log groups, nothing else.
        link = None
        if args.sink_arn is not None:
            link = aws.oam.Link(
                f"{name}-link",
                label_template="$AccountName",
                resource_types=link_resource_types(args.shared_log_group_prefix),
                link_configuration=link_configuration(args.shared_log_group_prefix),
                sink_identifier=args.sink_arn,
                opts=child,
            )
        self.role_arn = wired.role.arn
        self.link_arn = link.arn if link else None
        self.function_name = function.name
        self.log_group_name = wired.log_group.name
        self.failed_events_queue_url = wired.failed_events.url
        self.failed_events_queue_name = wired.failed_events.name
        self.register_outputs(
            {"roleArn": self.role_arn, "linkArn": self.link_arn, "failedEventsQueueUrl": self.failed_events_queue_url}
        )

    def _subscribe(self, name: str, suffix: str, topic_arn: pulumi.Input[str], function: aws.lambda_.Function):
        permission = aws.lambda_.Permission(
            f"{name}-invoke-from-topic{suffix}",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="sns.amazonaws.com",
            source_arn=topic_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicSubscription(
            f"{name}{suffix}-subscription",
            topic=topic_arn,
            protocol="lambda",
            endpoint=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )


def link_resource_types(log_group_prefix: str | None) -> list[str]:
    return [METRIC_RESOURCE, *([LOG_GROUP_RESOURCE] if log_group_prefix else [])]


def link_configuration(log_group_prefix: str | None) -> aws.oam.LinkLinkConfigurationArgs:
    # LIKE matches a prefix only, ending in %; every stack of the account shares its notifier's log.
    return aws.oam.LinkLinkConfigurationArgs(
        metric_configuration=aws.oam.LinkLinkConfigurationMetricConfigurationArgs(
            filter=f"Namespace = '{METRIC_NAMESPACE}' OR Namespace LIKE '{METRIC_NAMESPACE}/%'"
        ),
        log_group_configuration=(
            aws.oam.LinkLinkConfigurationLogGroupConfigurationArgs(filter=f"LogGroupName LIKE '{log_group_prefix}%'")
            if log_group_prefix
            else None
        ),
    )


def forwarder_policy(
    hub_topic_arn: pulumi.Input[str],
    hub_key_arn: pulumi.Input[str],
    log_group_arn: pulumi.Input[str],
    failed_events_arn: pulumi.Input[str],
) -> pulumi.Output[str]:
    statements = [
        allow("PublishToHubTopic", ["sns:Publish"], [hub_topic_arn]),
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [with_stream_suffix(log_group_arn)]),
        allow("KeepFailedEvents", ["sqs:SendMessage"], [failed_events_arn]),
    ]
    # Whether the hub encrypts its topic is known only once its outputs are read.
    key_statements = pulumi.Output.from_input(hub_key_arn).apply(
        lambda key: [allow("EncryptForHubTopic", ["kms:GenerateDataKey*", "kms:Decrypt"], [key])] if key else []
    )
    return pulumi.Output.all(*[pulumi.Output.from_input(s) for s in statements], key_statements).apply(
        lambda parts: document(*parts[:-1], *parts[-1])
    )
