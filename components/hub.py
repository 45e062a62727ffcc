"""The hub: one inbox and one dashboard for every account of the organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alert_topic import AlertTopic, AlertTopicArgs
from components.aws_context import AwsContext
from components.detection_alarms import METRIC_NAMESPACE
from components.policies import account_administers_key, document
from detections.catalog import BY_ID

# Member forwarder roles are created with this name prefix; only they may publish.
FORWARDER_ROLE_PATTERN = "role/login-monitoring-hub-forwarder-*"
DASHBOARD_METRICS = (
    "failed-console-sign-ins",
    "root-account-usage",
    "console-sign-in-without-mfa",
    "sign-ins-for-unknown-users",
    "identity-center-credential-failures",
    "unauthorized-api-calls",
)


@dataclass(frozen=True)
class HubArgs:
    emails: Sequence[str]
    organization_id: str
    name_prefix: str
    encrypt: bool = True


class LoginMonitoringHub(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str] | None
    sink_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: HubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:LoginMonitoringHub", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, org = AwsContext.lookup(self), args.organization_id

        topic = AlertTopic(
            f"{name}-alerts",
            AlertTopicArgs(
                context=ctx,
                emails=args.emails,
                encrypt=args.encrypt,
                key_policy=hub_key_policy(ctx, org) if args.encrypt else None,
            ),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.topic_arn,
            policy=hub_topic_policy(topic.topic_arn, ctx, org),
            opts=pulumi.ResourceOptions(parent=topic),
        )
        sink = aws.oam.Sink(f"{name}-sink", name=f"{args.name_prefix}-sink", opts=child)
        aws.oam.SinkPolicy(
            f"{name}-sink-policy",
            sink_identifier=sink.arn,
            policy=document(
                {
                    "Sid": "OrganizationAccountsShareMetrics",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["oam:CreateLink", "oam:UpdateLink"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": org},
                        "ForAllValues:StringEquals": {"oam:ResourceTypes": ["AWS::CloudWatch::Metric"]},
                    },
                }
            ),
            opts=child,
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{args.name_prefix}-organization",
            dashboard_body=pulumi.Output.json_dumps(organization_dashboard(ctx.region)),
            opts=child,
        )

        self.topic_arn = topic.topic_arn
        self.key_arn = topic.key_arn
        self.sink_arn = sink.arn
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"topicArn": self.topic_arn, "sinkArn": self.sink_arn})


def hub_topic_policy(topic_arn: pulumi.Input[str], ctx: AwsContext, org: str) -> pulumi.Output[str]:
    return document(
        {
            # Members forward through a function in their own account and Region (alarm actions cannot
            # reach a topic in another Region); only those forwarder roles of this organization may publish.
            "Sid": "OrganizationForwarders",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": org},
                "ArnLike": {
                    "aws:PrincipalArn": pulumi.Output.concat("arn:", ctx.partition, ":iam::*:", FORWARDER_ROLE_PATTERN)
                },
            },
        }
    )


def hub_key_policy(ctx: AwsContext, org: str) -> pulumi.Output[str]:
    return document(
        account_administers_key(ctx.arn("iam", "root", regional=False)),
        {
            "Sid": "OrganizationForwardersEncryptThroughSns",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": org},
                "StringLike": {"kms:ViaService": pulumi.Output.concat("sns.", ctx.region, ".amazonaws.com")},
            },
        },
    )


def organization_dashboard(region: pulumi.Input[str]) -> dict:
    """Member metrics reach the hub through the observability sink; SEARCH spans every linked account."""
    widgets = []
    for index, detection_id in enumerate(DASHBOARD_METRICS):
        detection = BY_ID[detection_id]
        expression = f"SEARCH('{{{METRIC_NAMESPACE}}} MetricName=\"{detection.metric_name}\"', 'Sum', 300)"
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": f"{detection.title}, by account",
                    "region": region,
                    "view": "timeSeries",
                    "stat": "Sum",
                    "period": 300,
                    "metrics": [[{"expression": expression, "id": "e1", "label": ""}]],
                },
            }
        )
    widgets.append(
        {
            "type": "metric",
            "x": 0,
            "y": (len(DASHBOARD_METRICS) // 2 + 1) * 6,
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Every detection in every account (hourly)",
                "region": region,
                "view": "bar",
                "stat": "Sum",
                "period": 3600,
                "metrics": [[{"expression": f"SEARCH('{{{METRIC_NAMESPACE}}}', 'Sum', 3600)", "id": "e1"}]],
            },
        }
    )
    return {"widgets": widgets}
