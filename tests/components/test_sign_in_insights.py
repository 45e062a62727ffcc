"""Contributor Insights rules, the top-source-IP alarm and the account dashboard, wired as planned."""

from __future__ import annotations

import json
import re

import pytest

from detections.contributors import BY_ID as RULES
from detections.contributors import NOTIFIER_LOG, TRAIL_LOG
from tests.components.program import run_stack

RULE = "aws:cloudwatch/contributorInsightRule:ContributorInsightRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def rules_by_id(run) -> dict[str, object]:
    return {rule.name.removeprefix("login-monitoring-insights-"): rule for rule in run.of_type(RULE)}


def notifier_log_group(run):
    return next(group for group in run.of_type(LOG_GROUP) if group.name == "login-monitoring-sign-in-notifier-logs")


def test_trail_rules_read_the_trail_log_group_and_the_country_rule_the_notifiers_log(dev):
    rules = rules_by_id(dev)
    assert set(rules) == set(RULES)
    expected_group = {TRAIL_LOG: dev.outputs["logGroupName"], NOTIFIER_LOG: notifier_log_group(dev).state["name"]}
    for rule_id, rule in rules.items():
        definition = json.loads(rule.inputs["ruleDefinition"])
        assert definition["LogGroupNames"] == [expected_group[RULES[rule_id].source]], rule_id
        assert definition["Contribution"]["Keys"] == list(RULES[rule_id].keys)
        assert rule.inputs["ruleState"] == "ENABLED"
        assert rule.inputs["ruleName"] == f"login-monitoring-dev-{rule_id}"


def test_the_top_source_ip_alarm_watches_the_rules_top_contributor_and_mails_the_alert_topic(dev):
    alarm = next(a for a in dev.of_type(ALARM) if a.name == "login-monitoring-insights-top-source-ip-alarm")
    (query,) = alarm.inputs["metricQueries"]
    rule_name = rules_by_id(dev)["failed-sign-ins-by-source-ip"].state["ruleName"]
    assert query["expression"] == f"INSIGHT_RULE_METRIC('{rule_name}', 'MaxContributorValue')"
    assert query["returnData"] is True and query["period"] == 300
    assert alarm.inputs["threshold"] == 10
    assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.inputs["treatMissingData"] == "notBreaching"
    alert_topic = dev.outputs["alertTopicArn"]
    assert alarm.inputs["alarmActions"] == [alert_topic] == alarm.inputs["okActions"]
    assert dev.outputs["topSourceIpAlarmArn"] == alarm.state["arn"]


def test_threshold_follows_config_and_insights_can_be_turned_off():
    run = run_stack(topSourceIpThreshold=25)
    alarm = next(a for a in run.of_type(ALARM) if a.name == "login-monitoring-insights-top-source-ip-alarm")
    assert alarm.inputs["threshold"] == 25
    off = run_stack(contributorInsights=False)
    assert off.of_type(RULE) == [] and "topSourceIpAlarmArn" not in off.outputs
    assert "INSIGHT_RULE_METRIC" not in off.one(DASHBOARD).inputs["dashboardBody"]
    assert run_stack(accountDashboard=False).of_type(DASHBOARD) == []


def dashboard_widgets(run) -> list[dict]:
    return json.loads(run.one(DASHBOARD).inputs["dashboardBody"])["widgets"]


def test_every_dashboard_widget_reads_something_this_stack_publishes(dev):
    published = {
        (f.inputs["metricTransformation"]["namespace"], f.inputs["metricTransformation"]["name"])
        for f in dev.of_type(FILTER)
    }
    rule_names = {rule.state["ruleName"] for rule in dev.of_type(RULE)}
    notifier_group = notifier_log_group(dev).state["name"]
    for widget in dashboard_widgets(dev):
        properties = widget["properties"]
        assert properties["region"] == "us-east-1"
        if widget["type"] == "log":
            assert properties["query"].startswith(f"SOURCE '{notifier_group}' | filter message = \"sign-in\"")
            continue
        ids = {metric[2].get("id") for metric in properties["metrics"] if not isinstance(metric[0], dict)}
        for metric in properties["metrics"]:
            if isinstance(metric[0], dict):
                expression = metric[0]["expression"]
                # A band over a metric of the same graph, or a Contributor Insights rule of this stack.
                band = re.fullmatch(r"ANOMALY_DETECTION_BAND\((\w+), \d+\)", expression)
                if band:
                    assert band.group(1) in ids, expression
                    continue
                (name,) = re.findall(r"INSIGHT_RULE_METRIC\('([^']+)', '\w+'\)", expression)
                assert name in rule_names
            else:
                assert tuple(metric[:2]) in published, metric


def test_dashboard_has_the_panels_security_teams_expect(dev):
    titles = [widget["properties"]["title"] for widget in dashboard_widgets(dev)]
    assert titles[:5] == [
        "Repeated failed console sign-ins",
        "Sign-ins by country and outcome",
        "Top failing source IPs and principals",
        "Failed console sign-ins: top source IP and distinct IPs",
        "Failed console sign-ins: top user name and distinct names",
    ]
    filters = [f for f in dev.of_type(FILTER) if f.name.startswith("login-monitoring-detections-")]
    # One graph per enabled detection: no-MFA, root, unauthorized API calls and every change detection.
    assert len(titles) == 5 + len(filters) - 1
    for fragment in ("without MFA", "Root", "Unauthorized API calls", "Security group changes"):
        assert any(fragment.lower() in title.lower() for title in titles), fragment
    widgets = dashboard_widgets(dev)
    positions = {(w["x"], w["y"]) for w in widgets}
    assert len(positions) == len(widgets)  # no two panels on top of each other
