"""One metric filter and one alarm per enabled detection, each notifying the alarm mailer's topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tagging import DETECTION_TAG
from detections.catalog import WALL_CLOCK_WINDOW
from detections.profiles import EnabledDetection

METRIC_NAMESPACE = "LoginMonitoring"
# Filters of these detections publish 0 for every log batch without a match, so their metrics always
# exist: the hub dashboard's SEARCH finds only metrics with data in the last two weeks. Limited to a
# few because every metric that exists in a month costs 0.30 USD.
ALWAYS_PUBLISHED = (
    "failed-console-sign-ins",
    "root-account-usage",
    "console-sign-in-without-mfa",
    "sign-ins-for-unknown-users",
    "identity-center-credential-failures",
    "unauthorized-api-calls",
)


# Detections about the monitoring's own trail and keys: disabling the alert topic's key silences
# every alarm of that topic, so these also mail the health topic, which has a key of its own.
GUARDS_THE_MONITORING = ("kms-key-disable-or-deletion", "cloudtrail-changes")


def stack_namespace(stack: str) -> str:
    """Metrics of one stack: two stacks in one account and Region must not count each other's events."""
    return f"{METRIC_NAMESPACE}/{stack}"


@dataclass(frozen=True)
class DetectionAlarmsArgs:
    detections: Sequence[EnabledDetection]
    log_group_name: pulumi.Input[str]
    # The alarm mailer's topic: the mailer mails each state change with the events behind it.
    action_arn: pulumi.Input[str]
    # Physical names start with this, so alarm mails say which stack and detection fired.
    name_prefix: str
    namespace: str = METRIC_NAMESPACE
    # ALARM -> OK changes notify the mailer only when resolved mails are wanted.
    resolved_mails: bool = False
    # The detections in GUARDS_THE_MONITORING also notify this topic (see there).
    health_topic_arn: pulumi.Input[str] | None = None


class DetectionAlarms(pulumi.ComponentResource):
    alarm_arns: dict[str, pulumi.Output[str]]
    # Detection id -> (metric name, namespace) as its filter publishes them.
    metrics: dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]]

    def __init__(self, name: str, args: DetectionAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:DetectionAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.alarm_arns = {}
        self.metrics = {}
        for item in args.detections:
            detection, alarm = item.detection, item.alarm
            metric_filter = aws.cloudwatch.LogMetricFilter(
                f"{name}-{detection.id}-filter",
                name=f"{args.name_prefix}-{detection.id}",
                log_group_name=args.log_group_name,
                pattern=item.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=detection.metric_name,
                    namespace=args.namespace,
                    value="1",
                    default_value="0" if detection.id in ALWAYS_PUBLISHED else None,
                ),
                opts=child,
            )
            created = aws.cloudwatch.MetricAlarm(
                f"{name}-{detection.id}-alarm",
                name=f"{args.name_prefix}-{detection.id}",
                alarm_description=_description(item),
                # The alarm must watch the very metric the filter publishes.
                metric_name=metric_filter.metric_transformation.name,
                namespace=metric_filter.metric_transformation.namespace,
                statistic=alarm.statistic,
                period=alarm.period,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                threshold=alarm.threshold,
                comparison_operator=alarm.comparison,
                treat_missing_data=alarm.treat_missing_data,
                # Left unset, CloudWatch uses its default sliding window.
                evaluation_window=_wall_clock() if alarm.evaluation_window == WALL_CLOCK_WINDOW else None,
                # Which detection fired, for cost reports and for finding the alarm by tag.
                tags={DETECTION_TAG: detection.id},
                alarm_actions=[args.action_arn, *_guards(args, detection.id)],
                ok_actions=[args.action_arn, *_guards(args, detection.id)] if args.resolved_mails else [],
                opts=child,
            )
            self.alarm_arns[detection.id] = created.arn
            transformation = metric_filter.metric_transformation
            self.metrics[detection.id] = (transformation.name, transformation.namespace)
        self.register_outputs({"alarmArns": self.alarm_arns})


def _wall_clock() -> aws.cloudwatch.MetricAlarmEvaluationWindowArgs:
    return aws.cloudwatch.MetricAlarmEvaluationWindowArgs(
        wall_clock_window=aws.cloudwatch.MetricAlarmEvaluationWindowWallClockWindowArgs(timezone="UTC")
    )


def _guards(args: DetectionAlarmsArgs, detection_id: str) -> list[pulumi.Input[str]]:
    if args.health_topic_arn is not None and detection_id in GUARDS_THE_MONITORING:
        return [args.health_topic_arn]
    return []


def _description(item: EnabledDetection) -> str:
    detection = item.detection
    references = [detection.security_hub] if detection.security_hub else []
    references += [f"CIS {version} {control}" for version, control in detection.cis.items()]
    alarm = item.alarm
    text = (
        f"{detection.title} ({detection.severity}): {detection.why} Fires when {alarm.datapoints_to_alarm} of "
        f"{alarm.evaluation_periods} periods of {alarm.period // 60} min hold {alarm.threshold:g} or more events."
    )
    if references:
        text += f" [{'; '.join(references)}]"
    return text[:1024]
