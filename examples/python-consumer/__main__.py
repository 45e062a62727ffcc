"""Adds login monitoring to another Python program, through the package's generated SDK.

Before the first run: pulumi package add https://github.com/your-org/login-monitoring/plugin@v0.1.0
"""

import login_monitoring_loginmonitoring as loginmonitoring
import pulumi

monitoring = loginmonitoring.LoginMonitoring(
    "login-monitoring",
    loginmonitoring.LoginMonitoringArgs(
        alert_emails=["security@example.com"],
        health_emails=["cloud-ops@example.com"],
        trail_mode="existing",
        existing_log_group_name="aws-cloudtrail-logs-111122223333",
        mail_quiet_minutes=15,
        account_alias="acme-production",
        encrypt_alert_topic=True,
    ),
)

pulumi.export("alertTopicArn", monitoring.alert_topic_arn)
pulumi.export("detectionAlarmArns", monitoring.detection_alarm_arns)
