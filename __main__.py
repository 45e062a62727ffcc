"""login-monitoring: one LoginMonitoring component per account/region stack."""

import pulumi

from components.login_monitoring import LoginMonitoring
from components.settings import load_settings

settings = load_settings(pulumi.Config().get)
monitoring = LoginMonitoring("login-monitoring", settings)

for output_name, value in monitoring.outputs().items():
    if value is not None:
        pulumi.export(output_name, value)
