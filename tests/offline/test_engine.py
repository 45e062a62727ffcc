"""The fake engine's shared runs: the same run answered again, never one caller's changes."""

from __future__ import annotations

from offline.plan import dump_json, to_json
from tests.components.program import named, run_stack

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_a_shared_run_is_a_fresh_copy_for_each_caller():
    first = run_stack("dev", accountAlias="shared-copy")
    bucket = next(r for r in first.resources if r.type == "aws:s3/bucket:Bucket")
    bucket.inputs["forceDestroy"] = "changed by one caller"
    first.resources.clear()
    first.outputs.clear()
    first.warnings.append("changed by one caller")

    second = run_stack("dev", accountAlias="shared-copy")
    assert second.resources and second.outputs and second is not first
    assert all(r.inputs.get("forceDestroy") != "changed by one caller" for r in second.resources)
    assert "changed by one caller" not in second.warnings
    assert dump_json(to_json(second)) == dump_json(to_json(run_stack("dev", accountAlias="shared-copy")))


def test_a_run_with_other_config_is_not_answered_from_another():
    thresholds = set()
    for threshold in (3, 4):
        run = run_stack("dev", failedSignInThreshold=threshold)
        thresholds.add(
            named(run, ALARM, "login-monitoring-detections-failed-console-sign-ins-alarm").inputs["threshold"]
        )
    assert thresholds == {3, 4}
