"""The outlier alarm: an anomaly band and a floor on the failed sign-in metric; only their composite mails."""

from __future__ import annotations

import json
import re

import pytest

from components.settings import SettingsError
from tests.components.program import alarm_topic, named, run_stack, statements

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def band(run):
    return named(run, ALARM, "login-monitoring-outlier-band")


def floor(run):
    return named(run, ALARM, "login-monitoring-outlier-floor")


def failed_sign_in_filter(run):
    return named(run, FILTER, "login-monitoring-detections-failed-console-sign-ins-filter")


def test_band_and_floor_watch_the_metric_the_failed_sign_in_filter_publishes_with_quiet_periods_as_zero(dev):
    published = failed_sign_in_filter(dev).inputs["metricTransformation"]
    # Without a default of 0 the model would never see a quiet period and the band would float above them.
    assert published["defaultValue"] == "0"
    metric_query, band_query = band(dev).inputs["metricQueries"]
    assert metric_query["metric"] == {
        "metricName": published["name"],
        "namespace": published["namespace"],
        "period": 300,
        "stat": "Sum",
    }
    assert band_query["expression"] == f"ANOMALY_DETECTION_BAND({metric_query['id']}, 2)"
    assert band(dev).inputs["thresholdMetricId"] == band_query["id"]
    assert band(dev).inputs["comparisonOperator"] == "GreaterThanUpperThreshold"
    floor_inputs = floor(dev).inputs
    assert (floor_inputs["namespace"], floor_inputs["metricName"]) == (published["namespace"], published["name"])
    assert (floor_inputs["statistic"], floor_inputs["period"]) == ("Sum", 300)
    assert floor_inputs["threshold"] == 5
    assert floor_inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_composite_needs_both_children_by_their_exact_names_and_alone_notifies_the_mailers_topic(dev):
    composite = dev.one(COMPOSITE)
    names = re.findall(r'ALARM\("([^"]+)"\)', composite.inputs["alarmRule"])
    assert names == [band(dev).state["name"], floor(dev).state["name"]]
    assert re.fullmatch(r'ALARM\("[^"]+"\) AND ALARM\("[^"]+"\)', composite.inputs["alarmRule"])
    topic = alarm_topic(dev).state["arn"]
    assert composite.inputs["alarmActions"] == [topic] and composite.inputs["okActions"] == []
    for child in (band(dev), floor(dev)):
        assert child.inputs["actionsEnabled"] is False
        assert not child.inputs.get("alarmActions") and not child.inputs.get("okActions")
    # The topic admits the composite's notifications, not the children's.
    policy = named(dev, "aws:sns/topicPolicy:TopicPolicy", "login-monitoring-alarm-mailer-alarms-policy")
    admitted = statements(policy)[0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert composite.state["arn"] in admitted
    assert not {band(dev).state["arn"], floor(dev).state["arn"]} & set(admitted)
    assert dev.outputs["outlierAlarmArn"] == composite.state["arn"]


def test_band_width_and_floor_follow_config_and_resolved_mails_add_the_ok_action():
    run = run_stack(outlierBandWidth=3, outlierFloor=12, alarmResolvedMails=True)
    assert band(run).inputs["metricQueries"][1]["expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"
    assert floor(run).inputs["threshold"] == 12
    assert run.one(COMPOSITE).inputs["okActions"] == [alarm_topic(run).state["arn"]]
    widget = failed_sign_ins_widget(run)
    assert widget["properties"]["metrics"][1][0]["expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"


@pytest.mark.parametrize(
    "overrides",
    [{"outlierAlarm": False}, {"detectionOverrides": json.dumps(["failed-console-sign-ins.enabled=false"])}],
)
def test_off_or_without_the_failed_sign_in_detection_there_is_no_outlier_alarm_and_nothing_it_could_notify(overrides):
    run = run_stack(**overrides)
    assert run.of_type(COMPOSITE) == []
    assert not [a for a in run.of_type(ALARM) if "outlier" in a.name]
    policy = named(run, "aws:sns/topicPolicy:TopicPolicy", "login-monitoring-alarm-mailer-alarms-policy")
    assert not [arn for arn in statements(policy)[0]["Condition"]["ArnEquals"]["aws:SourceArn"] if "outlier" in arn]
    assert "outlierAlarmArn" not in run.outputs


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"outlierBandWidth": 0}, "outlierBandWidth"),
        ({"outlierBandWidth": 11}, "outlierBandWidth"),
        ({"outlierFloor": 0}, "outlierFloor"),
    ],
)
def test_a_wrong_band_width_or_floor_fails_naming_the_key(overrides, key):
    with pytest.raises(SettingsError) as raised:
        run_stack(**overrides)
    assert [problem_key for problem_key, _ in raised.value.problems] == [key]


def failed_sign_ins_widget(run) -> dict:
    widgets = json.loads(run.one(DASHBOARD).inputs["dashboardBody"])["widgets"]
    return next(w for w in widgets if w["properties"]["title"] == "Repeated failed console sign-ins")


def test_the_dashboard_graphs_failed_sign_ins_with_the_band_the_alarm_evaluates(dev):
    properties = failed_sign_ins_widget(dev)["properties"]
    published = failed_sign_in_filter(dev).inputs["metricTransformation"]
    metric, (band_line,) = properties["metrics"]
    assert metric[:2] == [published["namespace"], published["name"]] and metric[2]["id"] == "m1"
    assert band_line["expression"] == band(dev).inputs["metricQueries"][1]["expression"]
    assert (properties["stat"], properties["period"]) == ("Sum", 300)
