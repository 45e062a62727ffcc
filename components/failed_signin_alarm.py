"""Failed console sign-ins: a metric filter and the alarm that watches exactly its metric."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

METRIC_NAMESPACE = "LoginMonitoring"
FAILED_SIGN_IN_METRIC = "ConsoleSignInFailures"
FAILED_SIGN_IN_PATTERN = '{ ($.eventName = "ConsoleLogin") && ($.responseElements.ConsoleLogin = "Failure") }'


@dataclass(frozen=True)
class FailedSignInAlarmArgs:
    log_group_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    threshold: int = 5
    window_seconds: int = 900


class FailedSignInAlarm(pulumi.ComponentResource):
    alarm_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FailedSignInAlarmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:FailedSignInAlarm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-filter",
            log_group_name=args.log_group_name,
            pattern=FAILED_SIGN_IN_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=FAILED_SIGN_IN_METRIC,
                namespace=METRIC_NAMESPACE,
                value="1",
            ),
            opts=child,
        )
        minutes = args.window_seconds // 60
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            alarm_description=(
                f"{args.threshold} or more failed AWS console sign-ins within {minutes} minutes "
                "(any region, recorded by CloudTrail)."
            ),
            # The alarm must watch the very metric the filter publishes.
            metric_name=metric_filter.metric_transformation.name,
            namespace=metric_filter.metric_transformation.namespace,
            statistic="Sum",
            period=args.window_seconds,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=args.threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.alarm_arn = alarm.arn
        self.register_outputs({"alarmArn": self.alarm_arn})
