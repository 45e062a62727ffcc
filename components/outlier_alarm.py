"""An outlier alarm on failed console sign-ins: unusual for this account, and more than a handful.

A band alarm compares the failed sign-in metric with CloudWatch's anomaly detection model of it
(learned per hour of day and day of week) and fires above the band; a floor alarm fires at a fixed
count. Only their composite, `ALARM(band) AND ALARM(floor)`, notifies: in a quiet account the band
hugs zero and two failures would leave it, which is no reason to page anyone; in a busy one the
floor is always met and the band decides. The two children have no actions of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarm_mailer import MailedAlarm
from components.tagging import DETECTION_TAG

# Five-minute sums: the account dashboard graphs the metric with the same statistic and period, so its
# band is the very model the alarm evaluates.
OUTLIER_PERIOD = 300
OUTLIER_STATISTIC = "Sum"
DETECTION_ID = "failed-console-sign-ins"
# The mail lists the failed sign-ins of this many seconds before the composite changed: the children
# evaluate a period that ended a minute or two before, and the composite follows them.
MAIL_LOOKBACK_SECONDS = 3 * OUTLIER_PERIOD


def outlier_alarm_name(name_prefix: str) -> str:
    return f"{name_prefix}-failed-sign-ins-outlier"


def mailed_alarm(name_prefix: str) -> MailedAlarm:
    """How the alarm mailer describes the composite: it lists the failed sign-ins behind it."""
    return MailedAlarm(
        name=outlier_alarm_name(name_prefix),
        detection_id=DETECTION_ID,
        title="Unusually many failed console sign-ins",
        why=(
            "More failures than this account's usual level for the hour and weekday, and more than a handful: "
            "password guessing, or a broken integration retrying a wrong password."
        ),
        lookback_seconds=MAIL_LOOKBACK_SECONDS,
    )


def band_expression(band_width: int, metric_id: str = "m1") -> str:
    return f"ANOMALY_DETECTION_BAND({metric_id}, {band_width})"


@dataclass(frozen=True)
class OutlierAlarmArgs:
    # The failed sign-in detection's metric, as its metric filter publishes it (with a default of 0,
    # so the model learns the quiet periods too).
    metric_name: pulumi.Input[str]
    namespace: pulumi.Input[str]
    # The alarm mailer's topic: the composite notifies it like the detection alarms do.
    action_arn: pulumi.Input[str]
    name_prefix: str
    # Standard deviations either side of the expected value.
    band_width: int = 2
    # Failed sign-ins within OUTLIER_PERIOD below which nothing pages, however unusual.
    floor: int = 5
    resolved_mails: bool = False


class OutlierAlarm(pulumi.ComponentResource):
    alarm_arn: pulumi.Output[str]
    band_alarm_name: pulumi.Output[str]
    floor_alarm_name: pulumi.Output[str]

    def __init__(self, name: str, args: OutlierAlarmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:OutlierAlarm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        composite_name = outlier_alarm_name(args.name_prefix)
        band = aws.cloudwatch.MetricAlarm(
            f"{name}-band",
            name=f"{composite_name}-band",
            alarm_description=(
                f"Failed console sign-ins above CloudWatch's anomaly detection band ({args.band_width} standard "
                f"deviations). No action of its own: only {composite_name} notifies."
            ),
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="m1",
                    return_data=True,
                    label="Failed console sign-ins",
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        metric_name=args.metric_name,
                        namespace=args.namespace,
                        period=OUTLIER_PERIOD,
                        stat=OUTLIER_STATISTIC,
                    ),
                ),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="band",
                    return_data=True,
                    label="Expected failed console sign-ins",
                    expression=band_expression(args.band_width),
                ),
            ],
            threshold_metric_id="band",
            comparison_operator="GreaterThanUpperThreshold",
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data="notBreaching",
            actions_enabled=False,
            opts=child,
        )
        floor = aws.cloudwatch.MetricAlarm(
            f"{name}-floor",
            name=f"{composite_name}-floor",
            alarm_description=(
                f"{args.floor} or more failed console sign-ins within {OUTLIER_PERIOD // 60} minutes. No action of "
                f"its own: only {composite_name} notifies."
            ),
            metric_name=args.metric_name,
            namespace=args.namespace,
            statistic=OUTLIER_STATISTIC,
            period=OUTLIER_PERIOD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=args.floor,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            actions_enabled=False,
            opts=child,
        )
        composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-alarm",
            alarm_name=composite_name,
            alarm_description=(
                f"Unusually many failed console sign-ins: more than the anomaly detection band of the last weeks "
                f"expects ({args.band_width} standard deviations) and at least {args.floor} within "
                f"{OUTLIER_PERIOD // 60} minutes."
            ),
            # Referencing the children's outputs also makes CloudWatch see them before the rule.
            alarm_rule=pulumi.Output.format('ALARM("{0}") AND ALARM("{1}")', band.name, floor.name),
            alarm_actions=[args.action_arn],
            ok_actions=[args.action_arn] if args.resolved_mails else [],
            tags={DETECTION_TAG: DETECTION_ID},
            opts=child,
        )
        self.alarm_arn = composite.arn
        self.band_alarm_name = band.name
        self.floor_alarm_name = floor.name
        self.register_outputs({"alarmArn": self.alarm_arn})
