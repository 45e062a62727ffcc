"""Detection alarms notify the alarm topic; its one subscriber, this function, mails them with the events behind them.

Why a topic: Security Hub's CIS checks (CloudWatch.1-14) follow an alarm's actions to an SNS topic
with at least one subscriber, and a Lambda alarm action alone fails them. Why the function as the
subscriber and not the recipients: they would get CloudWatch's bare mail *and* the enriched one
for every alarm. SNS invokes the function asynchronously, so the notifier's guarantees hold: SNS
retries until Lambda accepts the event, Lambda retries a failed run twice and then keeps the event
in the failed-events queue, and the health alarms report both. Only this account's detection
alarms may publish to the topic, and only the topic may invoke the function.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alert_topic import CLOUDWATCH
from components.aws_context import AwsContext, with_stream_suffix
from components.lambda_package import handler_archive, wired_function
from components.policies import allow, document
from detections.profiles import EnabledDetection
from handlers.alarm_mail import DETECTIONS_FILE
from handlers.store import PRINCIPAL_INDEX

ALARM_MAILER_HANDLER = "handlers.alarm_mailer.handler"
SNS = "sns.amazonaws.com"
# Listing a burst's events and publishing takes seconds; the handler keeps time back for the mail.
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class MailedAlarm:
    """An alarm that is not a detection's own but mails like one: it lists that detection's events."""

    name: str
    detection_id: str
    title: str
    why: str
    # The events listed reach back this far from the state change (a composite alarm's payload has
    # no evaluated datapoints to take the window from).
    lookback_seconds: int = 0


@dataclass(frozen=True)
class AlarmMailerArgs:
    context: AwsContext
    detections: Sequence[EnabledDetection]
    # Alarm names are "<name_prefix>-<detection id>" (components/detection_alarms.py).
    name_prefix: str
    log_group_name: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str] | None
    display_timezone: str = "UTC"
    resolved_mails: bool = False
    log_retention_days: int = 30
    # Alarms besides the detection alarms that mail through the function (the outlier alarm).
    extra_alarms: Sequence[MailedAlarm] = ()
    # Named in the mails next to the account id. Given, not looked up: iam:ListAccountAliases
    # takes no resource but "*", and a config value costs no permission and never changes under a mail.
    account_alias: str = ""
    # The sign-in history: the account takeover detections' mails name the actor's risky sign-ins
    # from it. Read-only, the principal index and the items it points to.
    sign_in_table_name: pulumi.Input[str] | None = None
    sign_in_table_arn: pulumi.Input[str] | None = None


def alarm_name(name_prefix: str, detection_id: str) -> str:
    return f"{name_prefix}-{detection_id}"


def detections_document(
    detections: Sequence[EnabledDetection], name_prefix: str, extra_alarms: Sequence[MailedAlarm] = ()
) -> str:
    """Alarm name -> what the catalog says about the detection and the pattern its metric filter counts."""
    document_ = {}
    for item in detections:
        detection = item.detection
        references = [detection.security_hub] if detection.security_hub else []
        references += [f"CIS {version} {control}" for version, control in detection.cis.items()]
        document_[alarm_name(name_prefix, detection.id)] = {
            "id": detection.id,
            "title": detection.title,
            "why": detection.why,
            "severity": detection.severity,
            "pattern": item.pattern,
            "references": references,
            "signInContext": detection.sign_in_context,
        }
    for extra in extra_alarms:
        listed = document_[alarm_name(name_prefix, extra.detection_id)]
        document_[extra.name] = {
            **listed,
            "title": extra.title,
            "why": extra.why,
            "lookbackSeconds": extra.lookback_seconds,
        }
    return json.dumps(document_, sort_keys=True, indent=1)


class AlarmMailer(pulumi.ComponentResource):
    # What the detection alarms notify.
    alarm_topic_arn: pulumi.Output[str]
    alarm_topic_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    failed_events_queue_url: pulumi.Output[str]
    failed_events_queue_name: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmMailerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:AlarmMailer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        wired = wired_function(
            name,
            parent=self,
            role_description="Mails login-monitoring detection alarms with the events behind them.",
            policy=lambda own_log_group_arn, failed_events_arn: alarm_mailer_policy(
                trail_log_group_arn=args.log_group_arn,
                topic_arn=args.topic_arn,
                topic_key_arn=args.topic_key_arn,
                own_log_group_arn=own_log_group_arn,
                failed_events_arn=failed_events_arn,
                sign_in_table_arn=args.sign_in_table_arn,
            ),
            log_retention_days=args.log_retention_days,
            description="Mails login-monitoring detection alarms with the events behind them.",
            handler=ALARM_MAILER_HANDLER,
            variables={
                "TOPIC_ARN": args.topic_arn,
                "LOG_GROUP_NAME": args.log_group_name,
                "DISPLAY_TIMEZONE": args.display_timezone,
                "RESOLVED_MAILS": "true" if args.resolved_mails else "false",
                **({"ACCOUNT_ALIAS": args.account_alias} if args.account_alias else {}),
                **({"SIGN_IN_TABLE_NAME": args.sign_in_table_name} if args.sign_in_table_name is not None else {}),
            },
            memory_size=256,
            timeout=TIMEOUT_SECONDS,
            code=handler_archive(
                extra_files=(
                    (
                        f"handlers/{DETECTIONS_FILE}",
                        detections_document(args.detections, args.name_prefix, args.extra_alarms),
                    ),
                )
            ),
        )
        function = wired.function
        alarm_names = [alarm_name(args.name_prefix, item.id) for item in args.detections]
        alarm_names += [extra.name for extra in args.extra_alarms]
        # The alert topic's key: its policy admits CloudWatch, and the mail goes through that topic anyway.
        topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=args.topic_key_arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=topic.arn,
            policy=alarm_topic_policy(topic.arn, args.context, alarm_names),
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-invoke-from-alarm-topic",
            action="lambda:InvokeFunction",
            function=function.name,
            principal=SNS,
            source_arn=topic.arn,
            opts=child,
        )
        aws.sns.TopicSubscription(
            f"{name}-alarms-subscription",
            topic=topic.arn,
            protocol="lambda",
            endpoint=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.alarm_topic_arn = topic.arn
        self.alarm_topic_name = topic.name
        self.function_arn = function.arn
        self.function_name = function.name
        self.role_arn = wired.role.arn
        self.log_group_name = wired.log_group.name
        self.failed_events_queue_url = wired.failed_events.url
        self.failed_events_queue_name = wired.failed_events.name
        self.register_outputs(
            {
                "alarmTopicArn": self.alarm_topic_arn,
                "functionArn": self.function_arn,
                "failedEventsQueueUrl": self.failed_events_queue_url,
            }
        )


def alarm_topic_policy(topic_arn: pulumi.Input[str], ctx: AwsContext, alarm_names: Sequence[str]) -> pulumi.Output[str]:
    """CloudWatch may publish for this account's named alarms only; no other principal is admitted.

    The account's own roles still manage the topic through their IAM policies (same account).
    """
    return document(
        {
            "Sid": "DetectionAlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnEquals": {"aws:SourceArn": [ctx.arn("cloudwatch", f"alarm:{name}") for name in alarm_names]},
            },
        }
    )


def alarm_mailer_policy(
    *,
    trail_log_group_arn: pulumi.Input[str],
    topic_arn: pulumi.Input[str],
    topic_key_arn: pulumi.Input[str] | None,
    own_log_group_arn: pulumi.Input[str],
    failed_events_arn: pulumi.Input[str],
    sign_in_table_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    statements = [
        # Read-only, and only the trail's group: FilterLogEvents is authorized on the log group.
        allow(
            "ReadTrailEvents", ["logs:FilterLogEvents"], [trail_log_group_arn, with_stream_suffix(trail_log_group_arn)]
        ),
        allow("MailThroughAlertTopic", ["sns:Publish"], [topic_arn]),
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [with_stream_suffix(own_log_group_arn)]),
        allow("KeepFailedEvents", ["sqs:SendMessage"], [failed_events_arn]),
    ]
    if sign_in_table_arn is not None:
        # Read-only: a principal's sign-ins through its index, then their risk reasons by key.
        statements += [
            allow(
                "QuerySignInsByPrincipal",
                ["dynamodb:Query"],
                [pulumi.Output.concat(sign_in_table_arn, "/index/", PRINCIPAL_INDEX)],
            ),
            allow("ReadSignInRiskReasons", ["dynamodb:BatchGetItem"], [sign_in_table_arn]),
        ]
    if topic_key_arn is not None:
        statements.append(allow("EncryptForAlertTopic", ["kms:GenerateDataKey*", "kms:Decrypt"], [topic_key_arn]))
    return document(*statements)
