"""LoginMonitoring built through the package's provider, from inputs as a consumer's SDK sends them over the
wire (camelCase, numbers as floats, secrets and unknowns), plans what the program plans for the same settings."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.errors import InputPropertiesError
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import rpc
from pulumi.runtime.proto.provider_pb2 import ConstructRequest
from pulumi.runtime.sync_await import _sync_await

from offline.engine import ProgramRun, run_body
from offline.stack_config import EXAMPLES, PROJECT_DIR, load_stack_config
from plugin.provider import ROOT, LoginMonitoringProvider
from tests.components.program import run_stack

NS = "login-monitoring:"
TOKEN = "loginmonitoring:index:LoginMonitoring"
HUB_TOKEN = "loginmonitoring:index:LoginMonitoringHub"
WEBHOOK = "https://hooks.example.com/services/T000/B000/secret-token"
HOOK_URN = "urn:pulumi:dev::consumer::aws:apigateway/restApi:RestApi::hooks"


def webhook_subscription(run: ProgramRun):
    return next(r for r in run.of_type("aws:sns/topicSubscription:TopicSubscription") if r.name.endswith("-webhook"))


def dev_inputs(stack_name: str = "dev") -> dict:
    """What a consumer writes for an example's settings: the keys its stack file sets, as typed values."""
    stack = yaml.safe_load((PROJECT_DIR / EXAMPLES / f"Pulumi.{stack_name}.yaml").read_text(encoding="utf-8"))
    return {key.removeprefix(NS): value for key, value in stack["config"].items() if key.startswith(NS)}


def hub_inputs() -> dict:
    """The hub example's settings as a consumer writes them: its stackRole is the choice of LoginMonitoringHub."""
    inputs = dev_inputs("hub")
    assert inputs.pop("stackRole") == "hub"
    return inputs


def wire(values: dict, dependencies: dict) -> dict:
    """The inputs the provider's construct gets: serialized as the engine sends them, read back by the SDK's server."""
    struct = struct_pb2.Struct()
    struct.update(values)
    return _sync_await(ProviderServicer._construct_inputs(struct, dependencies))


def construct(
    values: dict,
    name: str = "login-monitoring",
    dependencies: dict | None = None,
    token: str = TOKEN,
    stack: str = "dev",
) -> ProgramRun:
    def body():
        inputs = wire(values, dependencies or {})
        result = LoginMonitoringProvider().construct(name, token, inputs, pulumi.ResourceOptions())
        # What a consumer's program can export: the component's state, its outputs by schema name.
        for key, value in result.state.items():
            pulumi.export(key, value)

    return run_body(load_stack_config(stack, example=True), body)


@pytest.fixture(scope="module")
def dev_construct(tmp_path_factory) -> ProgramRun:
    # A consumer's program runs the provider from its own directory, where no handlers/ is.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("consumer"))
        return construct(dev_inputs())


# Settings that keep a run small, for the tests about one input.
SMALL = {
    "alertEmails": ["security@example.com"],
    "trailMode": "existing",
    "existingLogGroupName": "aws-cloudtrail-logs",
    "contributorInsights": False,
    "accountDashboard": False,
    "outlierAlarm": False,
}


def comparable(value):
    """Values as data: assets and archives by kind and content, not by object identity."""
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return type(value).__name__, comparable(vars(value))
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    return value


def plan(run: ProgramRun) -> list[tuple]:
    return [
        (record.urn, record.parent, record.custom, comparable(record.inputs), record.dependencies, record.provider)
        for record in run.resources
    ]


def test_the_dev_example_through_the_provider_plans_what_the_program_plans(dev_construct):
    program = run_stack("dev")
    assert len(dev_construct.resources) == len(program.resources) > 100
    assert plan(dev_construct) == plan(program)


def test_the_components_outputs_are_the_stack_outputs(dev_construct):
    program = run_stack("dev")
    assert dev_construct.one(TOKEN).urn == program.one(TOKEN).urn
    assert dev_construct.outputs == program.outputs
    assert {"alertTopicArn", "signInLogGroupArn", "detectionAlarmArns"} <= set(program.outputs)


def test_lambda_code_comes_from_the_package_not_the_working_directory(dev_construct):
    functions = dev_construct.of_type("aws:lambda/function:Function")
    assert functions
    for function in functions:
        assets = function.inputs["code"].assets
        files = [Path(asset.path) for asset in assets.values() if isinstance(asset, pulumi.FileAsset)]
        assert files and all(path.is_absolute() and path.is_file() for path in files)
        assert Path(assets["handlers/notifier.py"].path) == ROOT / "handlers" / "notifier.py"


def test_a_consumers_bad_inputs_are_named_as_it_wrote_them():
    with pytest.raises(InputPropertiesError) as raised:
        construct({"alertEmails": ["security@example.com", "not-an-address"], "failedSignInThreshold": 0})
    errors = {error["property_path"]: error["reason"] for error in raised.value.errors}
    assert errors == {
        "alertEmails[1]": "'not-an-address' is not a mail address",
        "failedSignInThreshold": "must be at least 1, got 0",
    }
    assert "Traceback" not in raised.value.message
    assert "  alertEmails[1]: 'not-an-address' is not a mail address" in raised.value.message.splitlines()


@pytest.fixture(scope="module")
def secret_webhook_run() -> ProgramRun:
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": WEBHOOK}
    return construct({**SMALL, "alertWebhookUrl": secret, "tags": {"team": "security"}})


def test_a_secret_webhook_stays_secret(secret_webhook_run):
    subscription = webhook_subscription(secret_webhook_run)
    assert subscription.inputs["protocol"] == "https"
    endpoint = subscription.inputs["endpoint"]
    assert rpc.is_rpc_secret(endpoint) and rpc.unwrap_rpc_secret(endpoint) == WEBHOOK


def test_the_consumers_tags_and_the_components_own_are_on_every_taggable_resource(secret_webhook_run):
    tagged = [record for record in secret_webhook_run.resources if "tags" in record.inputs]
    assert len(tagged) > 20
    for record in tagged:
        tags = record.inputs["tags"]
        assert tags["team"] == "security", record.urn
        assert tags["login-monitoring:stack"] == "dev", record.urn
        # Every resource is some component's child; the component tag names which.
        assert tags["login-monitoring:component"] not in ("", "Stack"), record.urn


def test_an_unknown_webhook_still_plans_its_subscription():
    # Unknown in a preview, as the engine sends it: with the resource it comes from, or bare.
    dependency = {"alertWebhookUrl": ConstructRequest.PropertyDependencies(urns=[HOOK_URN])}
    for values, dependencies in (
        ({**SMALL, "alertWebhookUrl": rpc.UNKNOWN}, dependency),
        ({**SMALL, "alertWebhookUrl": rpc.UNKNOWN}, {}),
    ):
        run = construct(values, dependencies=dependencies)
        subscription = webhook_subscription(run)
        assert subscription.inputs["protocol"] == "https"
        # An unknown input is left out of the registration, as the engine would compute it later.
        assert "endpoint" not in subscription.inputs
        assert (HOOK_URN in subscription.dependencies) == bool(dependencies)


@pytest.fixture(scope="module")
def hub_construct(tmp_path_factory) -> ProgramRun:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("consumer-hub"))
        return construct(hub_inputs(), name="login-monitoring-hub", token=HUB_TOKEN, stack="hub")


def test_the_hub_example_through_the_provider_plans_what_the_program_plans(hub_construct):
    program = run_stack("hub")
    # A sink in each Region, chat delivery and the dashboard's sign-in tables: every setting the example gives.
    assert len(program.of_type("aws:oam/sink:Sink")) == 2
    assert program.of_type("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration")
    assert len(hub_construct.resources) == len(program.resources) > 10
    assert plan(hub_construct) == plan(program)
    assert hub_construct.one(HUB_TOKEN).urn == program.one(HUB_TOKEN).urn
    # Exported under its output names, the component's outputs are the hub stack's, which members read.
    assert hub_construct.outputs == program.outputs


def test_a_consumers_bad_hub_inputs_are_named_as_it_wrote_them():
    values = {
        "alertEmails": ["security@example.com"],
        "memberRegions": ["eu-west-1", "eu-west-9"],
        "encryptAlertTopic": "yes",
    }
    with pytest.raises(InputPropertiesError) as raised:
        construct(values, name="login-monitoring-hub", token=HUB_TOKEN, stack="hub")
    errors = {error["property_path"]: error["reason"] for error in raised.value.errors}
    assert errors == {
        "organizationId": "is required for the hub: only accounts of this organization may publish to it",
        "memberRegions[1]": "'eu-west-9' is not an AWS Region such as 'eu-west-1'",
        "encryptAlertTopic": "must be true or false, got 'yes'",
    }
    assert "invalid inputs for loginmonitoring:index:LoginMonitoringHub 'login-monitoring-hub':" in (
        raised.value.message
    )
