"""One dashboard per account stack: the panels security teams know from CIS dashboards.

Failed console sign-ins with the anomaly detection band, sign-ins by country and outcome, top
failing IPs and user names, then one graph per enabled detection (sign-ins without MFA, root,
unauthorized API calls, each change detection). Country, IP and user panels read the notifier's
one-line-per-sign-in log with Logs Insights (no custom metric per country); the top-contributor
graphs read the Contributor Insights rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.detection_alarms import METRIC_NAMESPACE
from components.outlier_alarm import OUTLIER_PERIOD, OUTLIER_STATISTIC, band_expression
from components.sign_in_insights import TOP_SOURCE_IP_PERIOD, insight_rule_metric
from detections.profiles import EnabledDetection
from handlers.log_lines import SIGN_IN_LOG_MESSAGE

FAILED_SIGN_INS = "failed-console-sign-ins"
WIDTH, HEIGHT = 12, 6
# Contributor rule id -> what its top contributor is called on the graph.
_RULE_PANELS = {
    "failed-sign-ins-by-source-ip": "Failed console sign-ins: top source IP and distinct IPs",
    "failed-sign-ins-by-user-name": "Failed console sign-ins: top user name and distinct names",
}
BY_COUNTRY_QUERY = (
    f'filter message = "{SIGN_IN_LOG_MESSAGE}"'
    " | stats count(*) as signIns by signIn.country as country, signIn.outcome as outcome"
    " | sort signIns desc | limit 25"
)
_TOP_FAILING_QUERY = (
    f'filter message = "{SIGN_IN_LOG_MESSAGE}" and signIn.outcome = "Failure"'
    " | stats count(*) as failures by signIn.sourceIp as sourceIp, signIn.country as country,"
    " signIn.principal as principal | sort failures desc | limit 20"
)


@dataclass(frozen=True)
class AccountDashboardArgs:
    detections: Sequence[EnabledDetection]
    notifier_log_group_name: pulumi.Input[str]
    region: pulumi.Input[str]
    name_prefix: str
    # Where this stack's detection metrics are (see detection_alarms.stack_namespace).
    namespace: str = METRIC_NAMESPACE
    # Contributor rule id -> rule name; empty when Contributor Insights is off.
    rule_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The failed sign-in graph shows CloudWatch's anomaly detection band this many standard deviations wide.
    band_width: int = 2


class AccountDashboard(pulumi.ComponentResource):
    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: AccountDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:AccountDashboard", name, None, opts)
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{args.name_prefix}-sign-ins",
            dashboard_body=pulumi.Output.json_dumps(dashboard_body(args)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard_name})


def dashboard_body(args: AccountDashboardArgs) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    by_id = {item.id: item for item in args.detections}
    if FAILED_SIGN_INS in by_id:
        panels.append(_failed_sign_ins_panel(by_id[FAILED_SIGN_INS], args))
    panels.append(_log_panel("Sign-ins by country and outcome", BY_COUNTRY_QUERY, args))
    panels.append(_log_panel("Top failing source IPs and principals", _TOP_FAILING_QUERY, args))
    for rule_id, title in _RULE_PANELS.items():
        if rule_id in args.rule_names:
            panels.append(_rule_panel(title, args.rule_names[rule_id], args.region))
    panels += [_detection_panel(item, args) for item in args.detections if item.id != FAILED_SIGN_INS]
    for index, panel in enumerate(panels):
        panel.update(x=(index % 2) * WIDTH, y=(index // 2) * HEIGHT, width=WIDTH, height=HEIGHT)
    return {"start": "-PT24H", "widgets": panels}


def _detection_panel(item: EnabledDetection, args: AccountDashboardArgs) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": item.detection.title,
            "region": args.region,
            "view": "timeSeries",
            "stat": "Sum",
            "period": 300,
            # No threshold line: tuning an alarm should not have to redeploy the dashboard.
            "metrics": [[args.namespace, item.detection.metric_name, {"label": item.id}]],
        },
    }


def _failed_sign_ins_panel(item: EnabledDetection, args: AccountDashboardArgs) -> dict[str, Any]:
    # Statistic and period of the outlier alarm, so the grey band is the model that alarm evaluates.
    panel = _detection_panel(item, args)
    properties = panel["properties"]
    properties.update(stat=OUTLIER_STATISTIC, period=OUTLIER_PERIOD)
    properties["metrics"] = [
        [args.namespace, item.detection.metric_name, {"id": "m1", "label": item.id}],
        [
            {
                "expression": band_expression(args.band_width, "m1"),
                "id": "band",
                "label": f"expected ({args.band_width} standard deviations)",
            }
        ],
    ]
    return panel


def _rule_panel(title: str, rule_name: pulumi.Input[str], region: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "period": TOP_SOURCE_IP_PERIOD,
            "metrics": [
                [{"expression": insight_rule_metric(rule_name, "MaxContributorValue"), "id": "top", "label": "top"}],
                [
                    {
                        "expression": insight_rule_metric(rule_name, "UniqueContributors"),
                        "id": "distinct",
                        "label": "distinct",
                    }
                ],
            ],
        },
    }


def _log_panel(title: str, query: str, args: AccountDashboardArgs) -> dict[str, Any]:
    return {
        "type": "log",
        "properties": {
            "title": title,
            "region": args.region,
            "view": "table",
            "query": pulumi.Output.format("SOURCE '{0}' | {1}", args.notifier_log_group_name, query),
        },
    }
