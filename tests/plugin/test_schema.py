"""The package schema, as the SDK's analyzer infers it: every config key's setting, typed, described, defaulted."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from types import SimpleNamespace

import pytest
import yaml

from components import hub, login_monitoring
from components.hub_connection import HUB_OUTPUTS
from components.settings import CONFIG_KEYS, HUB_INPUT_FIELDS, OUTPUT_FIELDS, STACK_ROLES, LoginMonitoringArgs
from plugin import snapshot
from plugin.provider import PACKAGE_NAME, ROOT, SCHEMA_SNAPSHOT, LoginMonitoringProvider
from tests.components.program import run_stack

TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoring"
HUB_TOKEN = f"{PACKAGE_NAME}:index:LoginMonitoringHub"
# stackRole is no input: a program chooses the role by the component it creates, one per role.
COMPONENT_OF_ROLE = {"member": TOKEN, "hub": HUB_TOKEN}
ROLE_KEY = "stackRole"
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


@pytest.fixture(scope="module")
def hub_resource(schema) -> dict:
    return schema["resources"][HUB_TOKEN]


def test_the_committed_snapshot_is_what_the_analyzer_infers(schema):
    assert json.loads(SCHEMA_SNAPSHOT.read_text(encoding="utf-8")) == schema, (
        "plugin/schema.json is stale: run `python -m plugin.snapshot` and commit it"
    )
    assert SCHEMA_SNAPSHOT.read_text(encoding="utf-8") == snapshot.schema_text()


def test_package_name_version_and_the_two_components(schema, resource, hub_resource):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert (schema["name"], schema["version"]) == (PACKAGE_NAME, version)
    assert list(schema["resources"]) == [TOKEN, HUB_TOKEN]
    for component in (resource, hub_resource):
        assert component["isComponent"] is True and component["description"]
    # The types the program's components register, so a stack may move between the two without replacing them.
    assert run_stack("dev").one(TOKEN).name == "login-monitoring"
    assert run_stack("hub").one(HUB_TOKEN).name == hub.HUB_NAME == "login-monitoring-hub"


def test_the_package_has_the_projects_namespace_and_a_description(schema):
    # Without a namespace the SDKs would take Pulumi's own names (@pulumi/loginmonitoring, pulumi_loginmonitoring).
    assert schema["namespace"] == "login-monitoring"
    assert "sign-ins" in schema["description"]


def test_the_webhook_url_is_a_secret_input(resource, hub_resource):
    # The URL carries the hook's token: the SDKs wrap it as a secret even when the program passes a plain string.
    for component in (resource, hub_resource):
        assert [name for name, prop in component["inputProperties"].items() if prop.get("secret")] == [
            "alertWebhookUrl"
        ]
    assert {_camel(field) for field in OUTPUT_FIELDS} == {"alertWebhookUrl"}


def _camel(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(word.title() for word in rest)


def test_config_keys_and_inputs_map_both_ways(schema):
    """Every config key is an input of the member's component or the hub's, or (stackRole) the choice between
    them; every input of either is a config key."""
    assert set(COMPONENT_OF_ROLE) == set(STACK_ROLES)
    inputs = {role: set(schema["resources"][token]["inputProperties"]) for role, token in COMPONENT_OF_ROLE.items()}
    covered = {ROLE_KEY} | inputs["member"] | inputs["hub"]
    assert covered == set(CONFIG_KEYS), (
        f"config keys without an input: {sorted(set(CONFIG_KEYS) - covered)}; "
        f"inputs without a config key: {sorted(covered - set(CONFIG_KEYS))}"
    )
    assert ROLE_KEY not in inputs["member"] | inputs["hub"]
    # What the member's component lacks is what Pulumi.yaml calls a hub's alone, and the hub has no member key.
    hub_only = {key for key, declared in DECLARED.items() if declared["description"].startswith("Hub only:")}
    assert inputs["hub"] - inputs["member"] == hub_only == {"memberRegions", "memberSignInLogGroupArns"}
    assert not {key for key in inputs["hub"] if DECLARED[key]["description"].startswith("Member only:")}
    # Every input is optional: each takes the default the stack config has.
    for token in COMPONENT_OF_ROLE.values():
        assert schema["resources"][token]["requiredInputs"] == []


class _Reader:
    """Settings that note which fields are read; properties (slack_channel) read the fields they are made of."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> object:
        declared = getattr(LoginMonitoringArgs, name, None)
        if isinstance(declared, property):
            return declared.fget(self)
        self.read.add(name)
        return f"<{name}>"


def test_the_hubs_inputs_are_the_settings_the_hub_reads():
    # The program and the package build the hub's args with hub_args, and tag what the hub creates with `tags`.
    reader = _Reader()
    hub.hub_args(reader)
    assert reader.read | {"tags"} == HUB_INPUT_FIELDS
    assert {"alert_emails", "organization_id", "member_regions", "slack_channel_id", "teams_channel_id"} <= reader.read


def _default(key: str) -> object:
    field = next(field for field in dataclasses.fields(LoginMonitoringArgs) if field.name == _attribute(key))
    value = field.default if field.default is not dataclasses.MISSING else ()
    if key == "tags":
        return dict(value)
    return list(value) if isinstance(value, tuple) else value


def _attribute(key: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in key)


@pytest.mark.parametrize("token", [TOKEN, HUB_TOKEN])
def test_every_input_has_the_config_keys_type_description_and_default(schema, token):
    for key, prop in schema["resources"][token]["inputProperties"].items():
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


def test_the_hubs_outputs_are_what_the_hub_stack_exports_each_described(hub_resource, provider):
    outputs = hub_resource["properties"]
    mapping = provider._component_defs["LoginMonitoringHub"].outputs_mapping
    every = SimpleNamespace(**{attribute: f"<{attribute}>" for attribute in mapping.values()})
    assert list(outputs) == list(hub.LoginMonitoringHub.outputs(every)) == list(run_stack("hub").outputs)
    for name, prop in outputs.items():
        assert prop.get("description"), name
    assert outputs["sinkArns"]["type"] == "object"
    assert outputs["sinkArns"]["additionalProperties"]["type"] == "string"
    # A hub always has each of them; members read them through hubStack.
    assert set(hub_resource["required"]) == set(outputs) > set(HUB_OUTPUTS)
