"""Alarms on the monitoring itself, mailed through a topic that does not share the alert topic's fate.

When the alert topic breaks (its key disabled, its policy changed, a subscriber failing), every
detection alarm and sign-in mail breaks with it, so these alarms go to a separate health topic
with its own key. What they watch: each function's errors, events it gave up on (the failed-events
queue), records it skipped as malformed, destination records AWS could not deliver, and the alert
topic's failed deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.log_lines import skipped_records_pattern, unmarked_mails_pattern

# Health signals are rare and each one matters: any occurrence in five minutes alarms.
PERIOD_SECONDS = 300
# SQS deletes a failed event after 14 days; this leaves four to re-drive it.
NEAR_EXPIRY_SECONDS = 10 * 24 * 3600


@dataclass(frozen=True)
class WatchedFunction:
    key: str  # short and stable: part of alarm names
    title: str  # how a mail names the function
    function_name: pulumi.Input[str]
    failed_events_queue_name: pulumi.Input[str]
    # Given for functions that skip malformed records with the handler's log line.
    log_group_name: pulumi.Input[str] | None = None
    # Given for a function that mails under a lease and logs the mails it could not mark sent.
    counts_unmarked_mails: bool = False
    # The subscription filter that feeds the function, when CloudWatch Logs invokes it.
    subscription: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None  # (log group, filter name)
    # The topic that feeds the function, when SNS invokes it.
    topic_name: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class HealthAlarmsArgs:
    topic_arn: pulumi.Input[str]
    functions: Sequence[WatchedFunction]
    alert_topic_name: pulumi.Input[str]
    # Physical names start with this, so a health mail says which stack it is about.
    name_prefix: str
    # The stack's own metric namespace (see detection_alarms.stack_namespace).
    namespace: str


@dataclass(frozen=True)
class _Signal:
    key: str
    description: str
    namespace: str
    metric_name: pulumi.Input[str]
    statistic: str
    dimensions: dict[str, pulumi.Input[str]] | None
    threshold: float = 1
    # An idle queue stops publishing metrics: its alarm must keep its state, not turn OK.
    treat_missing_data: str = "notBreaching"


class HealthAlarms(pulumi.ComponentResource):
    alarm_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: HealthAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:HealthAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        signals = [
            _Signal(
                "alert-topic-failed-deliveries",
                "The alert topic could not deliver notifications to a subscriber (mailbox, forwarder). "
                "Check its subscriptions. (A disabled key or a changed policy makes publishing itself fail: "
                "that shows as the notifier's errors and as the detections that also mail this topic.)",
                "AWS/SNS",
                "NumberOfNotificationsFailed",
                "Sum",
                {"TopicName": args.alert_topic_name},
            )
        ]
        for function in args.functions:
            signals += self._function_signals(name, args, function, child)
        self.alarm_arns = {}
        for signal in signals:
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-{signal.key}",
                name=f"{args.name_prefix}-health-{signal.key}",
                alarm_description=signal.description,
                namespace=signal.namespace,
                metric_name=signal.metric_name,
                dimensions=signal.dimensions,
                statistic=signal.statistic,
                period=PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=signal.threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data=signal.treat_missing_data,
                alarm_actions=[args.topic_arn],
                ok_actions=[args.topic_arn],
                opts=child,
            )
            self.alarm_arns[signal.key] = alarm.arn
        self.register_outputs({"alarmArns": self.alarm_arns})

    @staticmethod
    def _function_signals(
        name: str, args: HealthAlarmsArgs, function: WatchedFunction, child: pulumi.ResourceOptions
    ) -> list[_Signal]:
        by_function = {"FunctionName": function.function_name}
        signals = [
            _Signal(
                f"{function.key}-errors",
                f"The {function.title} failed an invocation; Lambda retries it twice, then keeps the event "
                "in the failed-events queue. See the function's log for the event it failed on.",
                "AWS/Lambda",
                "Errors",
                "Sum",
                by_function,
            ),
            _Signal(
                f"{function.key}-failed-events",
                f"Events the {function.title} gave up on wait in its failed-events queue. "
                "Fix the cause, then re-drive them: python -m operations.redrive.",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "Maximum",
                {"QueueName": function.failed_events_queue_name},
                treat_missing_data="ignore",
            ),
            _Signal(
                f"{function.key}-failed-events-expiring",
                f"Events the {function.title} gave up on have waited 10 days; SQS deletes them after 14. "
                "Re-drive them now: python -m operations.redrive.",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "Maximum",
                {"QueueName": function.failed_events_queue_name},
                threshold=NEAR_EXPIRY_SECONDS,
                treat_missing_data="ignore",
            ),
            _Signal(
                f"{function.key}-lost-events",
                f"Lambda could not hand a failed event of the {function.title} to its failed-events queue; "
                "the event is lost. Check the queue's policy and the function role's sqs:SendMessage.",
                "AWS/Lambda",
                "DestinationDeliveryFailures",
                "Sum",
                by_function,
            ),
        ]
        if function.subscription is not None:
            log_group, filter_name = function.subscription
            signals.append(
                _Signal(
                    f"{function.key}-delivery-errors",
                    f"CloudWatch Logs could not hand sign-in events to the {function.title} (its invoke "
                    "permission, the function itself, or throttling); events it gives up on are lost.",
                    "AWS/Logs",
                    "DeliveryErrors",
                    "Sum",
                    {"LogGroupName": log_group, "DestinationType": "Lambda", "FilterName": filter_name},
                )
            )
        if function.topic_name is not None:
            signals.append(
                _Signal(
                    f"{function.key}-delivery-errors",
                    f"SNS could not hand a notification to the {function.title} (its invoke permission, the "
                    "function itself); SNS gives up on such errors at once and the notification is lost. The "
                    "alarm's history in CloudWatch still shows the state change.",
                    "AWS/SNS",
                    "NumberOfNotificationsFailed",
                    "Sum",
                    {"TopicName": function.topic_name},
                )
            )
        counted = []
        if function.log_group_name is not None:
            counted.append(
                (
                    "skipped-records",
                    "SkippedRecords",
                    skipped_records_pattern(),
                    f"The {function.title} skipped records it could not read; the function's log names "
                    "each one ('skipped record ...').",
                )
            )
            if function.counts_unmarked_mails:
                counted.append(
                    (
                        "unmarked-mails",
                        "UnmarkedMails",
                        unmarked_mails_pattern(),
                        f"The {function.title} sent a mail but could not record it as sent; a retry of its "
                        "batch may mail it again. See the function's log ('mail sent but not marked ...').",
                    )
                )
        for key, metric, pattern, description in counted:
            metric_filter = aws.cloudwatch.LogMetricFilter(
                f"{name}-{function.key}-{key}-filter",
                name=f"{args.name_prefix}-health-{function.key}-{key}",
                log_group_name=function.log_group_name,
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=f"{function.key.capitalize()}{metric}", namespace=args.namespace, value="1"
                ),
                opts=child,
            )
            signals.append(
                _Signal(
                    f"{function.key}-{key}",
                    description,
                    metric_filter.metric_transformation.namespace,
                    metric_filter.metric_transformation.name,
                    "Sum",
                    None,
                )
            )
        return signals
