"""login-monitoring: a hub stack, or one LoginMonitoring component per account/region stack."""

import pulumi

from components.config_keys import stack_config
from components.hub import HUB_NAME, LoginMonitoringHub, hub_args
from components.login_monitoring import DEFAULT_NAME, LoginMonitoring
from components.settings import load_settings
from components.tagging import tag_every_resource

settings = load_settings(pulumi.Config().get, stack_config())
tag_every_resource(dict(settings.tags))

if settings.is_hub:
    hub = LoginMonitoringHub(HUB_NAME, hub_args(settings))
    for output_name, value in hub.outputs().items():
        pulumi.export(output_name, value)
else:
    monitoring = LoginMonitoring(DEFAULT_NAME, settings)
    for output_name, value in monitoring.outputs().items():
        if value is not None:
            pulumi.export(output_name, value)
