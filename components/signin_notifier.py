"""Sign-in notifier: subscription filter -> Lambda -> history table + readable mail."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, with_stream_suffix
from components.lambda_package import HANDLER, wired_function
from components.policies import allow, document
from handlers.flood import (
    DEFAULT_BURST_LIMIT,
    DIGEST_INDEX,
    DIGEST_KEY,
    DIGEST_PROJECTION,
    DIGEST_SORT,
    FLUSH_MINUTES,
)
from handlers.signin_events import subscription_filter_pattern
from handlers.store import INDEXES, TIME_ATTRIBUTE

# Room for a large batch at the handler's pace; it stops itself, retry-safe, when less than its
# slowest mail (handlers.notifier.MIN_REMAINING_MS) is left.
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class SignInNotifierArgs:
    context: AwsContext
    log_group_name: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str] | None
    display_timezone: str = "UTC"
    notify_on: str = "all"
    history_days: int = 90
    log_retention_days: int = 30
    # The notifier's risk reasons (see handlers/risk.py); a count of 0 turns its reason off.
    risk_new_country: bool = True
    risk_impossible_travel_minutes: int = 60
    risk_failures_before_success: int = 3
    risk_failures_window_minutes: int = 60
    risk_spray_user_names: int = 5
    risk_spray_window_minutes: int = 60
    # Flood control (handlers/flood.py): one mail per principal or IP and outcome per this many minutes.
    mail_quiet_minutes: int = 10
    # ... and per account and outcome only this many first mails per quiet time; the rest: one account digest.
    mail_burst_limit: int = DEFAULT_BURST_LIMIT
    # Named in the mails next to this account's id (components/alarm_mailer.py says why it is given).
    account_alias: str = ""

    def risk_variables(self) -> dict[str, str]:
        return {
            "RISK_NEW_COUNTRY": str(self.risk_new_country).lower(),
            "RISK_TRAVEL_MINUTES": str(self.risk_impossible_travel_minutes),
            "RISK_FAILURES_BEFORE_SUCCESS": str(self.risk_failures_before_success),
            "RISK_FAILURES_WINDOW_MINUTES": str(self.risk_failures_window_minutes),
            "RISK_SPRAY_USER_NAMES": str(self.risk_spray_user_names),
            "RISK_SPRAY_WINDOW_MINUTES": str(self.risk_spray_window_minutes),
        }


class SignInNotifier(pulumi.ComponentResource):
    function_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    failed_events_queue_url: pulumi.Output[str]
    failed_events_queue_name: pulumi.Output[str]

    def __init__(self, name: str, args: SignInNotifierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:SignInNotifier", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        table = aws.dynamodb.Table(
            f"{name}-history",
            billing_mode="PAY_PER_REQUEST",
            hash_key="eventId",
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=key, type="S")
                for key in (
                    "eventId",
                    TIME_ATTRIBUTE,
                    *(hash_key for hash_key, _ in INDEXES.values()),
                    DIGEST_KEY,
                    DIGEST_SORT,
                )
            ],
            # "This principal's / this IP's sign-ins since T" as a Query; each index carries only what
            # the risk reasons read, so a sign-in's index writes stay small.
            # Indexes are declared with key_schemas, not hash_key/range_key: the pinned provider (pulumi-aws
            # >=7.51) marks the index hash_key and range_key deprecated and logs a warning for them on every
            # run. The upstream bug that made key_schema with a RANGE key diff on every plan and rebuild the
            # indexes (hashicorp/terraform-provider-aws#46335, reported on 6.31.0) was fixed by #46442 in
            # February 2026, and pulumi-aws took upstream 6.46.0 in May 2026 (pulumi/pulumi-aws#6392); raise
            # the floor rather than switch form if a release within the pin still shows an index diff.
            # Switching a deployed table to the deprecated form is itself a migration upstream still diffs
            # (#46512), so the form stays. tests/components/test_login_monitoring.py checks the schema.
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=hash_key, key_type="HASH"),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=TIME_ATTRIBUTE, key_type="RANGE"
                        ),
                    ],
                    projection_type="INCLUDE",
                    non_key_attributes=list(projected),
                )
                for index, (hash_key, projected) in INDEXES.items()
            ]
            + [
                # Sign-ins held back by flood control, per window in the order they were stored:
                # what a digest lists. Sparse: only held-back sign-ins carry the key.
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=DIGEST_INDEX,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=DIGEST_KEY, key_type="HASH"),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=DIGEST_SORT, key_type="RANGE"
                        ),
                    ],
                    projection_type="INCLUDE",
                    non_key_attributes=list(DIGEST_PROJECTION),
                )
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiresAt", enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            opts=child,
        )
        flood = None
        if args.mail_quiet_minutes:
            flood = aws.dynamodb.Table(
                f"{name}-flood",
                billing_mode="PAY_PER_REQUEST",
                hash_key="windowKey",
                attributes=[aws.dynamodb.TableAttributeArgs(name="windowKey", type="S")],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiresAt", enabled=True),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                opts=child,
            )
        wired = wired_function(
            name,
            parent=self,
            role_description="Runs the login-monitoring sign-in notifier.",
            policy=lambda log_group_arn, failed_events_arn: notifier_policy(
                table_arn=table.arn,
                topic_arn=args.topic_arn,
                topic_key_arn=args.topic_key_arn,
                log_group_arn=log_group_arn,
                failed_events_arn=failed_events_arn,
                flood_table_arn=flood.arn if flood else None,
            ),
            log_retention_days=args.log_retention_days,
            description="Stores and mails AWS console sign-in events (login-monitoring).",
            handler=HANDLER,
            variables={
                "TABLE_NAME": table.name,
                "TOPIC_ARN": args.topic_arn,
                "DISPLAY_TIMEZONE": args.display_timezone,
                "NOTIFY_ON": args.notify_on,
                "HISTORY_DAYS": str(args.history_days),
                **args.risk_variables(),
                "FLOOD_TABLE_NAME": flood.name if flood else "",
                "MAIL_QUIET_MINUTES": str(args.mail_quiet_minutes),
                "MAIL_BURST_LIMIT": str(args.mail_burst_limit),
                **({"ACCOUNT_ALIAS": args.account_alias} if args.account_alias else {}),
            },
            memory_size=256,
            timeout=TIMEOUT_SECONDS,
        )
        function = wired.function
        permission = aws.lambda_.Permission(
            f"{name}-invoke-from-logs",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="logs.amazonaws.com",
            source_arn=with_stream_suffix(args.log_group_arn),
            source_account=args.context.account_id,
            opts=child,
        )
        subscription = aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-subscription",
            log_group=args.log_group_name,
            filter_pattern=subscription_filter_pattern(),
            destination_arn=function.arn,
            # CloudWatch Logs tests the destination when the filter is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        if flood is not None:
            self._schedule_digests(name, function, args.context)
        self.function_arn = function.arn
        self.function_name = function.name
        self.role_arn = wired.role.arn
        self.table_name = table.name
        self.table_arn = table.arn
        self.log_group_name = wired.log_group.name
        self.log_group_arn = wired.log_group.arn
        self.failed_events_queue_url = wired.failed_events.url
        self.failed_events_queue_name = wired.failed_events.name
        self.subscription_filter_name = subscription.name
        self.register_outputs(
            {
                "functionArn": self.function_arn,
                "roleArn": self.role_arn,
                "tableName": self.table_name,
                "failedEventsQueueUrl": self.failed_events_queue_url,
            }
        )

    def _schedule_digests(self, name: str, function: aws.lambda_.Function, context: AwsContext) -> None:
        """Digests of held-back sign-ins go out when a burst is over: someone has to look regularly."""
        child = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{name}-digests",
            description="Sends login-monitoring digests of sign-ins held back by flood control.",
            schedule_expression=f"rate({FLUSH_MINUTES} minutes)",
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-invoke-from-schedule",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            source_account=context.account_id,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-digests-target",
            rule=rule.name,
            arn=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )


def notifier_policy(
    *,
    table_arn: pulumi.Input[str],
    topic_arn: pulumi.Input[str],
    topic_key_arn: pulumi.Input[str] | None,
    log_group_arn: pulumi.Input[str],
    failed_events_arn: pulumi.Input[str],
    flood_table_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    statements = [
        allow("WriteOwnHistory", ["dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),
        allow(
            "QueryOwnHistoryIndexes",
            ["dynamodb:Query"],
            [pulumi.Output.concat(table_arn, "/index/", index) for index in (*INDEXES, DIGEST_INDEX)],
        ),
        allow("MailThroughAlertTopic", ["sns:Publish"], [topic_arn]),
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [with_stream_suffix(log_group_arn)]),
        allow("KeepFailedEvents", ["sqs:SendMessage"], [failed_events_arn]),
    ]
    if flood_table_arn is not None:
        statements.append(
            allow("FloodWindows", ["dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:BatchGetItem"], [flood_table_arn])
        )
    if topic_key_arn is not None:
        statements.append(allow("EncryptForAlertTopic", ["kms:GenerateDataKey*", "kms:Decrypt"], [topic_key_arn]))
    return document(*statements)
