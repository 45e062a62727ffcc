"""Every taggable resource says which project, stack and component it belongs to, plus the user's tags."""

from __future__ import annotations

import pytest

from components.settings import SettingsError
from offline.plan import plan
from tests.components.program import run_stack

OURS = ("login-monitoring:project", "login-monitoring:stack", "login-monitoring:component")


def tagged(run):
    return [r for r in run.resources if "tags" in r.inputs]


@pytest.mark.parametrize("stack", ["dev", "hub", "member-b"])
def test_every_taggable_resource_carries_project_stack_and_its_component(stack):
    run = plan(stack)
    resources = tagged(run)
    assert len(resources) >= 4
    by_urn = {r.urn: r for r in run.resources}
    for resource in resources:
        tags = resource.inputs["tags"]
        assert tags["login-monitoring:project"] == "login-monitoring"
        assert tags["login-monitoring:stack"] == stack
        parent = by_urn[resource.parent]
        assert tags["login-monitoring:component"] == parent.type.rsplit(":", 1)[-1], resource.name


def test_detection_alarms_carry_their_detection_id():
    run = run_stack()
    alarms = [r for r in tagged(run) if r.name.startswith("login-monitoring-detections-")]
    assert alarms
    for alarm in alarms:
        detection = alarm.name.removeprefix("login-monitoring-detections-").removesuffix("-alarm")
        assert alarm.inputs["tags"]["login-monitoring:detection"] == detection


def test_user_tags_from_config_reach_every_taggable_resource_beside_ours():
    run = run_stack(tags=["CostCenter=security", "Owner = secops@example.com"])
    for resource in tagged(run):
        tags = resource.inputs["tags"]
        assert tags["CostCenter"] == "security" and tags["Owner"] == "secops@example.com"
        assert all(tags[key] for key in OURS)


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        (["login-monitoring:stack=prod"], "are set by the stack itself"),
        (["aws:createdBy=me"], "reserved for AWS"),
        (["Owner=a", "Owner=b"], "tag key 'Owner' is given twice"),
        (["Owner"], "must be a list of 'Key=Value' strings"),
        (["Owner=semi;colon"], "is not a tag value"),
    ],
)
def test_bad_user_tags_fail_naming_the_key(tags, words):
    with pytest.raises(SettingsError) as caught:
        run_stack(tags=tags)
    assert any(key == "tags" and words in message for key, message in caught.value.problems), caught.value.problems
