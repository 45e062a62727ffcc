"""Contributor Insights on sign-ins: top failing source IPs and user names, sign-ins by country, and an
alarm when one source IP fails too often (brute force that the account-wide count would average away)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from detections.contributors import CONTRIBUTOR_RULES, NOTIFIER_LOG, TOP_SOURCE_IP_RULE, TRAIL_LOG

# Contributor Insights evaluates rules per minute; five-minute datapoints smooth a slow attacker a little.
TOP_SOURCE_IP_PERIOD = 300


@dataclass(frozen=True)
class SignInInsightsArgs:
    trail_log_group_name: pulumi.Input[str]
    notifier_log_group_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    name_prefix: str
    # Failed console sign-ins from one source IP within TOP_SOURCE_IP_PERIOD that raise the alarm.
    top_source_ip_threshold: int = 10


class SignInInsights(pulumi.ComponentResource):
    rule_names: dict[str, pulumi.Output[str]]
    top_source_ip_alarm_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SignInInsightsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:SignInInsights", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        groups = {TRAIL_LOG: args.trail_log_group_name, NOTIFIER_LOG: args.notifier_log_group_name}
        self.rule_names = {}
        for rule in CONTRIBUTOR_RULES:
            created = aws.cloudwatch.ContributorInsightRule(
                f"{name}-{rule.id}",
                rule_name=f"{args.name_prefix}-{rule.id}",
                rule_state="ENABLED",
                rule_definition=pulumi.Output.from_input(groups[rule.source]).apply(rule.definition),
                opts=child,
            )
            self.rule_names[rule.id] = created.rule_name
        top_ip = aws.cloudwatch.MetricAlarm(
            f"{name}-top-source-ip-alarm",
            name=f"{args.name_prefix}-failed-sign-ins-from-one-ip",
            alarm_description=(
                f"One source IP failed {args.top_source_ip_threshold} or more console sign-ins within "
                f"{TOP_SOURCE_IP_PERIOD // 60} minutes (Contributor Insights, top contributor). See the rule "
                "'failed-sign-ins-by-source-ip' for which IP."
            ),
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="top",
                    expression=insight_rule_metric(self.rule_names[TOP_SOURCE_IP_RULE], "MaxContributorValue"),
                    label="Failed console sign-ins from the top source IP",
                    period=TOP_SOURCE_IP_PERIOD,
                    return_data=True,
                )
            ],
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=args.top_source_ip_threshold,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data="notBreaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.top_source_ip_alarm_arn = top_ip.arn
        self.register_outputs({"ruleNames": self.rule_names, "topSourceIpAlarmArn": self.top_source_ip_alarm_arn})


def insight_rule_metric(rule_name: pulumi.Input[str], statistic: str) -> pulumi.Output[str]:
    return pulumi.Output.format("INSIGHT_RULE_METRIC('{0}', '{1}')", rule_name, statistic)
