"""The SNS topic every alarm and sign-in notification goes to, with its mail subscriptions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policies import account_administers_key, document

CLOUDWATCH = "cloudwatch.amazonaws.com"


@dataclass(frozen=True)
class AlertTopicArgs:
    context: AwsContext
    emails: Sequence[str]
    encrypt: bool = True
    # Replaces the default key policy (this account's alarms) — the hub admits the organization.
    key_policy: pulumi.Input[str] | None = None
    # "alert" or "health"; with the display name (the mails' sender name) it tells the topics apart.
    purpose: str = "alert"
    display_name: str = "AWS sign-in monitoring"


class AlertTopic(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    topic_name: pulumi.Output[str]
    key_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:AlertTopic", name, None, opts)
        self._name = name
        self._context = args.context
        child = pulumi.ResourceOptions(parent=self)

        key = None
        if args.encrypt:
            # The AWS-managed SNS key cannot be shared with CloudWatch, which then drops alarm mails
            # without a word; a customer-managed key whose policy admits CloudWatch avoids that.
            key = aws.kms.Key(
                f"{name}-key",
                description=f"Encrypts the login-monitoring {args.purpose} topic; usable by CloudWatch alarms.",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=args.key_policy or alert_key_policy(args.context),
                opts=child,
            )
        self.topic = aws.sns.Topic(
            f"{name}",
            display_name=args.display_name,
            kms_master_key_id=key.arn if key else None,
            opts=child,
        )
        for address in args.emails:
            aws.sns.TopicSubscription(
                f"{name}-mail-{_slug(address)}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        self.topic_arn = self.topic.arn
        self.topic_name = self.topic.name
        self.key_arn = key.arn if key else None
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})

    def attach_policy(self, publisher_role_arns: Sequence[pulumi.Input[str]]) -> aws.sns.TopicPolicy:
        """Admit this account's CloudWatch alarms and the given roles as publishers.

        Separate from the constructor because the publishers (the notifier's role) need
        the topic's ARN first.
        """
        return aws.sns.TopicPolicy(
            f"{self._name}-policy",
            arn=self.topic.arn,
            policy=alert_topic_policy(self.topic.arn, self._context, publisher_role_arns),
            opts=pulumi.ResourceOptions(parent=self),
        )


def alert_topic_policy(
    topic_arn: pulumi.Input[str], ctx: AwsContext, publisher_role_arns: Sequence[pulumi.Input[str]]
) -> pulumi.Output[str]:
    statements = [
        {
            "Sid": "CloudWatchAlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnLike": {"aws:SourceArn": ctx.arn("cloudwatch", "alarm:*")},
            },
        },
    ]
    if publisher_role_arns:
        statements.append(
            {
                "Sid": "LoginMonitoringPublishers",
                "Effect": "Allow",
                "Principal": {"AWS": list(publisher_role_arns)},
                "Action": "sns:Publish",
                "Resource": topic_arn,
            }
        )
    return document(*statements)


def alert_key_policy(ctx: AwsContext) -> pulumi.Output[str]:
    return document(
        account_administers_key(ctx.arn("iam", "root", regional=False)),
        {
            # No source condition: CloudWatch's KMS calls for an alarm action are not documented
            # to carry one, and a failed condition silently drops the alarm mail.
            "Sid": "CloudWatchAlarmsEncryptForTopic",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    )


def _slug(address: str) -> str:
    # Readable yet unique: "a.b@x.io" and "a-b@x.io" must not collide as resource names.
    readable = re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")[:40]
    return f"{readable}-{hashlib.sha256(address.lower().encode()).hexdigest()[:6]}"
