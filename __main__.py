"""login-monitoring: a hub stack, or one LoginMonitoring component per account/region stack."""

import pulumi

from components.config_keys import stack_config
from components.hub import HubArgs, LoginMonitoringHub
from components.login_monitoring import DEFAULT_NAME, LoginMonitoring
from components.settings import load_settings
from components.tagging import tag_every_resource

settings = load_settings(pulumi.Config().get, stack_config())
tag_every_resource(dict(settings.tags))

if settings.is_hub:
    hub = LoginMonitoringHub(
        "login-monitoring-hub",
        HubArgs(
            emails=settings.alert_emails,
            organization_id=settings.organization_id,
            name_prefix=f"login-monitoring-{pulumi.get_stack()}",
            encrypt=settings.encrypt_alert_topic,
            member_regions=settings.member_regions,
            member_sign_in_log_group_arns=settings.member_sign_in_log_group_arns,
            slack=settings.slack_channel,
            teams=settings.teams_channel,
            webhook_url=settings.alert_webhook_url,
        ),
    )
    pulumi.export("hubTopicArn", hub.topic_arn)
    pulumi.export("hubTopicKeyArn", hub.key_arn if hub.key_arn is not None else "")
    pulumi.export("sinkArn", hub.sink_arn)
    pulumi.export("sinkArns", hub.sink_arns)
    pulumi.export("organizationId", settings.organization_id)
    pulumi.export("dashboardName", hub.dashboard_name)
else:
    monitoring = LoginMonitoring(DEFAULT_NAME, settings)
    for output_name, value in monitoring.outputs().items():
        if value is not None:
            pulumi.export(output_name, value)
