"""The package schema, as the SDK's analyzer infers it: every config key's setting, typed, described, defaulted."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from types import SimpleNamespace

import pytest
import yaml

from components import login_monitoring
from components.settings import CONFIG_KEYS, OUTPUT_FIELDS, LoginMonitoringArgs
from plugin import snapshot
from plugin.provider import PACKAGE_NAME, ROOT, SCHEMA_SNAPSHOT, LoginMonitoringProvider
from tests.components.program import run_stack

TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoring"
# The hub is a stack of its own (stackRole 'hub'); what only a hub reads has no place on a member's component.
HUB_ONLY_KEYS = {"stackRole", "memberRegions", "memberSignInLogGroupArns"}
# Inputs a program may pass as Outputs (secrets, values known only at deployment); every other one is plain.
OUTPUT_INPUTS = {"alertWebhookUrl"}
CONFIG_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "array": "array"}
DECLARED = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]


@pytest.fixture(scope="module")
def provider() -> LoginMonitoringProvider:
    return LoginMonitoringProvider()


@pytest.fixture(scope="module")
def schema(provider) -> dict:
    return json.loads(provider.schema)


@pytest.fixture(scope="module")
def resource(schema) -> dict:
    return schema["resources"][TOKEN]


def test_the_committed_snapshot_is_what_the_analyzer_infers(schema):
    assert json.loads(SCHEMA_SNAPSHOT.read_text(encoding="utf-8")) == schema, (
        "plugin/schema.json is stale: run `python -m plugin.snapshot` and commit it"
    )
    assert SCHEMA_SNAPSHOT.read_text(encoding="utf-8") == snapshot.schema_text()


def test_package_name_version_and_the_one_component(schema, resource):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert (schema["name"], schema["version"]) == (PACKAGE_NAME, version)
    assert list(schema["resources"]) == [TOKEN]
    assert resource["isComponent"] is True and resource["description"]
    # The type the program's component registers, so a stack may move between the two without replacing it.
    assert run_stack("dev").one(TOKEN).name == "login-monitoring"


def test_the_package_has_the_projects_namespace_and_a_description(schema):
    # Without a namespace the SDKs would take Pulumi's own names (@pulumi/loginmonitoring, pulumi_loginmonitoring).
    assert schema["namespace"] == "login-monitoring"
    assert "sign-ins" in schema["description"]


def test_the_webhook_url_is_a_secret_input(resource):
    # The URL carries the hook's token: the SDKs wrap it as a secret even when the program passes a plain string.
    assert [name for name, prop in resource["inputProperties"].items() if prop.get("secret")] == ["alertWebhookUrl"]
    assert {_camel(field) for field in OUTPUT_FIELDS} == {"alertWebhookUrl"}


def _camel(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(word.title() for word in rest)


def test_config_keys_and_inputs_map_both_ways(resource):
    inputs = set(resource["inputProperties"])
    assert inputs == set(CONFIG_KEYS) - HUB_ONLY_KEYS, (
        f"config keys without an input: {sorted(set(CONFIG_KEYS) - HUB_ONLY_KEYS - inputs)}; "
        f"inputs without a config key: {sorted(inputs - set(CONFIG_KEYS))}"
    )
    assert set(CONFIG_KEYS) > HUB_ONLY_KEYS
    # Every input is optional: each takes the default the stack config has.
    assert resource["requiredInputs"] == []


def _default(key: str) -> object:
    field = next(field for field in dataclasses.fields(LoginMonitoringArgs) if field.name == _attribute(key))
    value = field.default if field.default is not dataclasses.MISSING else ()
    if key == "tags":
        return dict(value)
    return list(value) if isinstance(value, tuple) else value


def _attribute(key: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in key)


def test_every_input_has_the_config_keys_type_description_and_default(resource):
    for key, prop in resource["inputProperties"].items():
        declared = DECLARED[key]
        expected_type = "object" if key == "tags" else CONFIG_TYPES[declared["type"]]
        assert prop["type"] == expected_type, key
        if expected_type == "array":
            assert prop["items"]["type"] == "string", key
        if key == "tags":
            assert prop["additionalProperties"]["type"] == "string"
        description = prop["description"]
        assert description.endswith(f" Default: {json.dumps(_default(key))}."), (key, description)
        # One set of defaults: Pulumi.yaml's equal the args' (tests/components/test_settings.py), and these.
        if key != "tags":
            assert description.startswith(declared["description"]), key
            assert declared["default"] == _default(key) or key == "alertEmails", key
        assert prop.get("plain") is (None if key in OUTPUT_INPUTS else True), key


def test_no_input_or_output_is_left_untyped(schema):
    text = json.dumps(schema)
    assert "pulumi.json#/Any" not in text
    assert schema["types"] == {}


def test_outputs_are_what_the_stack_exports_each_described(resource, provider):
    outputs = resource["properties"]
    mapping = provider._component_defs["LoginMonitoring"].outputs_mapping
    # Every attribute set, as with backtestAthena on and a hub: the most a stack exports.
    every = SimpleNamespace(**{attribute: f"<{attribute}>" for attribute in mapping.values()})
    assert set(outputs) == set(login_monitoring.LoginMonitoring.outputs(every))
    for name, prop in outputs.items():
        assert prop.get("description"), name
        assert prop.get("type") in ("string", "object"), name
    assert outputs["detectionAlarmArns"]["additionalProperties"]["type"] == "string"
    # What every stack has is required; what depends on settings may be absent.
    assert {"alertTopicArn", "notifierFunctionArn", "signInLogGroupArn", "healthTopicArn"} <= set(resource["required"])
    assert not {"trailArn", "hubLinkArn", "backtestWorkgroup", "dashboardName"} & set(resource["required"])
