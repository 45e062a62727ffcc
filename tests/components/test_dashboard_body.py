"""Every dashboard the program builds uses only what CloudWatch's dashboard body structure documents.

A widget CloudWatch cannot render fails only in the console, long after `pulumi up` succeeded, so the
documented properties and query forms are checked here, on every stack file and on the hub's variants.
Source: "Dashboard Body Structure and Syntax" (CloudWatch API Reference), widget, text, log and metric
widget properties.
"""

from __future__ import annotations

import json
import re

import pytest

from offline.plan import plan_all
from tests.components.program import run_stack

WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
TEXT_PROPERTIES = {"markdown", "background"}
LOG_PROPERTIES = {"accountId", "region", "title", "query", "view"}
LOG_VIEWS = {"table", "timeSeries", "bar", "pie"}
METRIC_PROPERTIES = {
    "accountId",
    "annotations",
    "liveData",
    "legend",
    "metrics",
    "period",
    "region",
    "sparkline",
    "stacked",
    "stat",
    "table",
    "timezone",
    "title",
    "view",
    "yAxis",
}
METRIC_VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
# "SOURCE 'group' | SOURCE 'other' | query": each log group named, then the Logs Insights query.
DOCUMENTED_LOG_QUERY = re.compile(r"^SOURCE '[A-Za-z0-9_\-/.#]+'( \| SOURCE '[A-Za-z0-9_\-/.#]+')* \| \S")


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict]:
    """Stack (and variant) -> dashboard name -> parsed body."""
    found: dict[str, dict] = {}
    runs = {plan.label: plan.run for plan in plan_all()}
    assert all(runs.values()), [label for label, run in runs.items() if run is None]
    runs["hub without memberSignInLogGroupArns"] = run_stack("hub", memberSignInLogGroupArns=[])
    for label, run in runs.items():
        for dashboard in run.of_type("aws:cloudwatch/dashboard:Dashboard"):
            found.setdefault(label, {})[dashboard.inputs["dashboardName"]] = json.loads(
                dashboard.inputs["dashboardBody"]
            )
    return found


def widgets(dashboards: dict[str, dict]):
    for label, bodies in dashboards.items():
        for name, body in bodies.items():
            for widget in body["widgets"]:
                yield f"{label}: {name}: {widget.get('properties', {}).get('title', widget['type'])}", widget


def test_every_stack_and_the_hub_have_the_dashboards_checked_here(dashboards):
    names = {name for bodies in dashboards.values() for name in bodies}
    assert "login-monitoring-hub-organization" in names and "login-monitoring-member-a-sign-ins" in names
    kinds = {widget["type"] for _, widget in widgets(dashboards)}
    assert kinds == {"metric", "log", "text"}


def test_every_widget_has_only_documented_keys_inside_the_24_column_grid(dashboards):
    for where, widget in widgets(dashboards):
        assert set(widget) <= WIDGET_KEYS, where
        assert widget["type"] in WIDGET_TYPES, where
        assert 0 <= widget["x"] <= 23 and 1 <= widget["width"] <= 24 and widget["x"] + widget["width"] <= 24, where
        assert widget["y"] >= 0 and 1 <= widget["height"] <= 1000, where


def test_every_log_widget_names_its_groups_with_source_and_at_most_one_account(dashboards):
    logs = [(where, widget["properties"]) for where, widget in widgets(dashboards) if widget["type"] == "log"]
    assert logs
    for where, properties in logs:
        assert set(properties) <= LOG_PROPERTIES, where
        assert properties["region"] and properties.get("view", "table") in LOG_VIEWS, where
        assert DOCUMENTED_LOG_QUERY.match(properties["query"]), (where, properties["query"])
        if "accountId" in properties:
            assert re.fullmatch(r"\d{12}", properties["accountId"]), where


def test_no_dashboard_query_uses_source_log_groups_which_aws_documents_for_the_cli_and_api_only(dashboards):
    for label, bodies in dashboards.items():
        for name, body in bodies.items():
            assert "logGroups(" not in json.dumps(body), f"{label}: {name}"


def test_every_text_and_metric_widget_has_only_documented_properties(dashboards):
    for where, widget in widgets(dashboards):
        properties = widget["properties"]
        if widget["type"] == "text":
            assert set(properties) <= TEXT_PROPERTIES and properties["markdown"], where
        elif widget["type"] == "metric":
            assert set(properties) <= METRIC_PROPERTIES, where
            assert properties["region"] and properties["metrics"], where
            assert properties.get("view", "timeSeries") in METRIC_VIEWS, where
            assert properties.get("period", 300) % 60 == 0, where


def test_the_checks_above_refuse_the_prefix_form_the_hub_used_to_write():
    query = "SOURCE logGroups(namePrefix: ['login-monitoring-sign-in-notifier-logs-']) | filter message = \"sign-in\""
    assert not DOCUMENTED_LOG_QUERY.match(query)
    assert DOCUMENTED_LOG_QUERY.match("SOURCE 'a-1' | SOURCE 'b/2' | stats count(*)")
