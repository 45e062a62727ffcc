"""The component provider `pulumi package add` starts: it serves the schema and builds LoginMonitoring, one
account's monitoring, and LoginMonitoringHub, the organization's hub.

The SDK's analyzer reads the schema from LoginMonitoringInputs and LoginMonitoringHubInputs (inputs) and the
components' annotations (outputs). A program's values are checked by the stack config's own validator; a problem
reaches the program as an input error naming the input as it wrote it (alertEmails[1]), not as a Python traceback.
"""

import json
import tomllib
from pathlib import Path
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.output import Unknown
from pulumi.provider.experimental.analyzer import ComponentDefinition
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from components import hub, login_monitoring
from components.login_monitoring_hub_inputs import LoginMonitoringHubInputs
from components.login_monitoring_inputs import LoginMonitoringInputs
from components.settings import SettingsError, settings_from_hub_inputs, settings_from_inputs
from components.tagging import tag_transformation

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_NAME = "loginmonitoring"
# The SDKs' names come from it: npm @login-monitoring/loginmonitoring, Python login_monitoring_loginmonitoring
# (without one they would take Pulumi's own, @pulumi/loginmonitoring and pulumi_loginmonitoring).
NAMESPACE = "login-monitoring"
DESCRIPTION = (
    "Login monitoring for AWS accounts: console sign-ins and the CIS dangerous-change events, "
    "mailed with readable detail, with sign-in history and the way to an organization's hub."
)
# Inputs the SDKs wrap as secrets whatever the program passes: the analyzer has no annotation for it.
SECRET_INPUTS = ("alertWebhookUrl",)
SCHEMA_SNAPSHOT = Path(__file__).with_name("schema.json")


def package_version() -> str:
    """The release this checkout is; tag it v<version> for `pulumi package add <repository>/plugin@v<version>`."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


class LoginMonitoring(login_monitoring.LoginMonitoring):
    """Watches one AWS account's console sign-ins and CIS dangerous-change events and mails readable alerts."""

    log_group_name: pulumi.Output[str]
    """The CloudWatch Logs group the trail delivers to, which the detections and the notifier read."""
    trail_arn: pulumi.Output[str] | None
    """The trail this component created (trailMode 'create' or 'organization')."""
    alert_topic_arn: pulumi.Output[str]
    """The SNS topic that mails alarms and sign-ins to alertEmails."""
    failed_sign_in_alarm_arn: pulumi.Output[str] | None
    """The failed console sign-ins alarm, when that detection is deployed."""
    detection_alarm_arns: dict[str, pulumi.Output[str]]
    """Every detection alarm by detection id."""
    notifier_function_arn: pulumi.Output[str]
    """The Lambda function that mails sign-ins."""
    sign_in_log_group_arn: pulumi.Output[str]
    """The notifier's log group; a hub's memberSignInLogGroupArns lists it to show this account's sign-ins."""
    sign_in_table_name: pulumi.Output[str]
    """The DynamoDB table of sign-in history."""
    failed_events_queue_url: pulumi.Output[str]
    """Sign-in events the notifier could not handle after its retries."""
    alarm_mailer_failed_events_queue_url: pulumi.Output[str]
    """Alarm notifications the alarm mailer could not handle after its retries."""
    forwarder_failed_events_queue_url: pulumi.Output[str] | None
    """Alerts the hub forwarder could not hand to the hub (a member with hubStack)."""
    health_topic_arn: pulumi.Output[str]
    """The SNS topic of the health alarms (the monitoring's own faults)."""
    hub_link_arn: pulumi.Output[str] | None
    """The observability link that shares this account's metrics with the hub."""
    top_source_ip_alarm_arn: pulumi.Output[str] | None
    """The alarm on one source IP's failed sign-ins (contributorInsights)."""
    outlier_alarm_arn: pulumi.Output[str] | None
    """The composite outlier alarm on failed sign-ins (outlierAlarm)."""
    dashboard_name: pulumi.Output[str] | None
    """The account's sign-in dashboard (accountDashboard)."""
    backtest_workgroup: pulumi.Output[str] | None
    """The Athena workgroup for backtests (backtestAthena)."""
    backtest_database: pulumi.Output[str] | None
    """The Glue database of the backtest table (backtestAthena)."""
    backtest_table: pulumi.Output[str] | None
    """The Glue table over the trail bucket (backtestAthena)."""
    backtest_results_bucket: pulumi.Output[str] | None
    """The bucket of Athena's query results (backtestAthena)."""
    backtest_trail_bucket: pulumi.Output[str] | None
    """The trail bucket the backtest table reads (backtestAthena)."""

    def __init__(self, name: str, args: LoginMonitoringInputs, opts: pulumi.ResourceOptions | None = None):
        settings = settings_from_inputs(args)
        # The program tags every resource of its stack; here the component tags its own children the same way.
        tagged = pulumi.ResourceOptions(transformations=[tag_transformation(dict(settings.tags))])
        super().__init__(name, settings, pulumi.ResourceOptions.merge(opts, tagged))


class LoginMonitoringHub(hub.LoginMonitoringHub):
    """The organization's hub: one alert topic, observability sinks and dashboard for every member account."""

    hub_topic_arn: pulumi.Output[str]
    """The organization's alert topic, which members' forwarders publish to (export it as hubTopicArn)."""
    hub_topic_key_arn: pulumi.Output[str]
    """The KMS key of the alert topic; empty when encryptAlertTopic is false (export it as hubTopicKeyArn)."""
    sink_arn: pulumi.Output[str]
    """The observability sink in the hub's own Region (export it as sinkArn)."""
    sink_arns: pulumi.Output[dict[str, str]]
    """Every observability sink by Region, the hub's own and memberRegions' (export it as sinkArns)."""
    organization_id: pulumi.Output[str]
    """The organization whose accounts may publish and link (export it as organizationId)."""
    dashboard_name: pulumi.Output[str]
    """The organization dashboard: each detection per account, and members' sign-in tables."""

    def __init__(self, name: str, args: LoginMonitoringHubInputs, opts: pulumi.ResourceOptions | None = None):
        settings = settings_from_hub_inputs(args)
        tagged = pulumi.ResourceOptions(transformations=[tag_transformation(dict(settings.tags))])
        super().__init__(name, hub.hub_args(settings), pulumi.ResourceOptions.merge(opts, tagged))


class LoginMonitoringProvider(ComponentProvider):
    def __init__(self) -> None:
        super().__init__(
            [LoginMonitoring, LoginMonitoringHub], PACKAGE_NAME, namespace=NAMESPACE, version=package_version()
        )
        schema = json.loads(self.schema or "{}")
        schema["description"] = DESCRIPTION
        for resource in schema["resources"].values():
            for name in SECRET_INPUTS:
                resource["inputProperties"][name]["secret"] = True
        self.schema = json.dumps(schema)

    def map_inputs(self, inputs: dict[str, Any], component_def: ComponentDefinition) -> dict[str, Any]:
        # Names only: the values are checked by settings_from_inputs, with the messages the stack config gets.
        # A value not known yet (in a preview) comes bare when nothing it depends on was sent with it.
        mapping = component_def.inputs_mapping
        return {
            mapping[name]: pulumi.Output.from_input(value) if isinstance(value, Unknown) else value
            for name, value in inputs.items()
            if name in mapping and value is not None
        }

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: dict[str, Any],
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if not isinstance(error.inner, SettingsError):
                raise
            problems = error.inner.input_problems()
            lines = "".join(f"\n  {path}: {message}" for path, message in problems)
            raise InputPropertiesError(
                f"invalid inputs for {resource_type} {name!r}:{lines}",
                [{"property_path": path, "reason": message} for path, message in problems],
            ) from None


def package_schema() -> dict[str, Any]:
    """The schema `pulumi package add` reads, as the SDK's analyzer infers it."""
    return json.loads(LoginMonitoringProvider().schema or "{}")
