"""LoginMonitoring: everything one account/region stack needs, as one component.

The class annotations are the outputs of the package's schema (plugin/provider.py describes them); they
stay evaluated (no `from __future__ import annotations`) for the schema analyzer to read.
"""

import pulumi

from components.account_dashboard import AccountDashboard, AccountDashboardArgs
from components.alarm_mailer import AlarmMailer, AlarmMailerArgs
from components.alert_topic import AlertTopic, AlertTopicArgs
from components.aws_context import AwsContext
from components.backtest_athena import BacktestAthena, BacktestAthenaArgs
from components.chat_delivery import ChatDelivery, ChatDeliveryArgs
from components.detection_alarms import DetectionAlarms, DetectionAlarmsArgs, stack_namespace
from components.health import HealthAlarms, HealthAlarmsArgs, WatchedFunction
from components.hub_connection import HubConnection
from components.hub_forwarder import HubForwarder, HubForwarderArgs
from components.outlier_alarm import DETECTION_ID as OUTLIER_DETECTION
from components.outlier_alarm import OutlierAlarm, OutlierAlarmArgs, mailed_alarm
from components.settings import LoginMonitoringArgs
from components.sign_in_insights import SignInInsights, SignInInsightsArgs
from components.signin_notifier import SignInNotifier, SignInNotifierArgs
from components.trail import CloudTrailLogging, TrailArgs
from components.trail_owner import organization_trail_owner

# What __main__ names the component; members share their notifier logs with the hub by the names it implies.
DEFAULT_NAME = "login-monitoring"


def notifier_log_group_prefix(name: str = DEFAULT_NAME) -> str:
    """Pulumi names the notifier's log group "<component>-sign-in-notifier-logs-<7 random characters>"."""
    return f"{name}-sign-in-notifier-logs-"


class LoginMonitoring(pulumi.ComponentResource):
    log_group_name: pulumi.Output[str]
    trail_arn: pulumi.Output[str] | None
    alert_topic_arn: pulumi.Output[str]
    failed_sign_in_alarm_arn: pulumi.Output[str] | None
    detection_alarm_arns: dict[str, pulumi.Output[str]]
    notifier_function_arn: pulumi.Output[str]
    sign_in_log_group_arn: pulumi.Output[str]
    sign_in_table_name: pulumi.Output[str]
    failed_events_queue_url: pulumi.Output[str]
    alarm_mailer_failed_events_queue_url: pulumi.Output[str]
    forwarder_failed_events_queue_url: pulumi.Output[str] | None
    health_topic_arn: pulumi.Output[str]
    hub_link_arn: pulumi.Output[str] | None
    top_source_ip_alarm_arn: pulumi.Output[str] | None
    outlier_alarm_arn: pulumi.Output[str] | None
    dashboard_name: pulumi.Output[str] | None
    backtest_workgroup: pulumi.Output[str] | None
    backtest_database: pulumi.Output[str] | None
    backtest_table: pulumi.Output[str] | None
    backtest_results_bucket: pulumi.Output[str] | None
    backtest_trail_bucket: pulumi.Output[str] | None

    def __init__(self, name: str, args: LoginMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:LoginMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = AwsContext.lookup(self)

        name_prefix = f"{name}-{pulumi.get_stack()}"
        namespace = stack_namespace(pulumi.get_stack())
        hub = HubConnection.lookup(f"{name}-hub", args.hub_stack, self) if args.hub_stack else None
        if args.trail_mode in ("create", "organization"):
            owner = (
                organization_trail_owner(args.management_account_id, args.organization_id, self)
                if args.trail_mode == "organization"
                else None
            )
            trail = CloudTrailLogging(
                f"{name}-cloudtrail",
                TrailArgs(
                    context=ctx,
                    trail_name=name_prefix,
                    log_retention_days=args.trail_log_retention_days,
                    bucket_expiration_days=args.trail_bucket_expiration_days,
                    events=args.trail_event_scope,
                    organization_id=args.organization_id if args.trail_mode == "organization" else "",
                    owner_account_id=owner,
                    kms_encryption=args.trail_uses_kms,
                    encrypt_log_group=args.encrypt_trail_log_group,
                ),
                opts=child,
            )
            log_group_name, log_group_arn, self.trail_arn = trail.log_group_name, trail.log_group_arn, trail.trail_arn
            backtest = (
                BacktestAthena(
                    f"{name}-backtest",
                    BacktestAthenaArgs(
                        context=ctx,
                        name_prefix=name_prefix,
                        trail_bucket_name=trail.bucket_name,
                        organization_id=args.organization_id if args.trail_mode == "organization" else "",
                    ),
                    opts=child,
                )
                if args.backtest_athena
                else None
            )
        else:
            # An existing trail already delivers here; this stack only watches the group.
            log_group_name = pulumi.Output.from_input(args.existing_log_group_name)
            log_group_arn = ctx.log_group_arn(args.existing_log_group_name)
            self.trail_arn = None
            backtest = None

        # The outlier alarm watches the failed sign-in detection's metric: without that detection, none.
        outlier = args.outlier_alarm and any(item.id == OUTLIER_DETECTION for item in args.detections)
        alert_topic = AlertTopic(
            f"{name}-alerts",
            AlertTopicArgs(context=ctx, emails=args.alert_emails, encrypt=args.encrypt_alert_topic),
            opts=child,
        )
        # Its own key: disabling the alert topic's key must not silence the alarms that report it.
        health_topic = AlertTopic(
            f"{name}-health",
            AlertTopicArgs(
                context=ctx,
                emails=args.health_emails or args.alert_emails,
                encrypt=args.encrypt_alert_topic,
                purpose="health",
                display_name="AWS sign-in monitoring health",
            ),
            opts=child,
        )
        sign_in_context = any(item.detection.sign_in_context for item in args.detections)
        # Before the alarm mailer: its takeover mails read the notifier's sign-in history.
        notifier = SignInNotifier(
            f"{name}-sign-in-notifier",
            SignInNotifierArgs(
                context=ctx,
                log_group_name=log_group_name,
                log_group_arn=log_group_arn,
                topic_arn=alert_topic.topic_arn,
                topic_key_arn=alert_topic.key_arn,
                display_timezone=args.display_timezone,
                notify_on=args.notify_on,
                history_days=args.sign_in_history_days,
                log_retention_days=args.notifier_log_retention_days,
                risk_new_country=args.risk_new_country,
                risk_impossible_travel_minutes=args.risk_impossible_travel_minutes,
                risk_failures_before_success=args.risk_failures_before_success,
                risk_failures_window_minutes=args.risk_failures_window_minutes,
                risk_spray_user_names=args.risk_spray_user_names,
                risk_spray_window_minutes=args.risk_spray_window_minutes,
                mail_quiet_minutes=args.mail_quiet_minutes,
                mail_burst_limit=args.mail_burst_limit,
                account_alias=args.account_alias,
            ),
            opts=child,
        )
        alarm_mailer = AlarmMailer(
            f"{name}-alarm-mailer",
            AlarmMailerArgs(
                context=ctx,
                detections=args.detections,
                name_prefix=name_prefix,
                log_group_name=log_group_name,
                log_group_arn=log_group_arn,
                topic_arn=alert_topic.topic_arn,
                topic_key_arn=alert_topic.key_arn,
                display_timezone=args.display_timezone,
                resolved_mails=args.alarm_resolved_mails,
                log_retention_days=args.notifier_log_retention_days,
                extra_alarms=(mailed_alarm(name_prefix),) if outlier else (),
                account_alias=args.account_alias,
                # Only when a deployed detection's mail names sign-ins: otherwise no read of the table at all.
                sign_in_table_name=notifier.table_name if sign_in_context else None,
                sign_in_table_arn=notifier.table_arn if sign_in_context else None,
            ),
            opts=child,
        )
        alarms = DetectionAlarms(
            f"{name}-detections",
            DetectionAlarmsArgs(
                detections=args.detections,
                log_group_name=log_group_name,
                action_arn=alarm_mailer.alarm_topic_arn,
                health_topic_arn=health_topic.topic_arn,
                name_prefix=name_prefix,
                namespace=namespace,
                resolved_mails=args.alarm_resolved_mails,
            ),
            opts=child,
        )
        self.outlier_alarm_arn = None
        if outlier:
            metric_name, metric_namespace = alarms.metrics[OUTLIER_DETECTION]
            self.outlier_alarm_arn = OutlierAlarm(
                f"{name}-outlier",
                OutlierAlarmArgs(
                    metric_name=metric_name,
                    namespace=metric_namespace,
                    action_arn=alarm_mailer.alarm_topic_arn,
                    name_prefix=name_prefix,
                    band_width=args.outlier_band_width,
                    floor=args.outlier_floor,
                    resolved_mails=args.alarm_resolved_mails,
                ),
                opts=child,
            ).alarm_arn
        alert_topic.attach_policy([notifier.role_arn, alarm_mailer.role_arn])
        if args.slack_channel or args.teams_channel or args.alert_webhook_url:
            ChatDelivery(
                f"{name}-chat",
                ChatDeliveryArgs(
                    context=ctx,
                    topic_arn=alert_topic.topic_arn,
                    name_prefix=name_prefix,
                    slack=args.slack_channel,
                    teams=args.teams_channel,
                    webhook_url=args.alert_webhook_url,
                    log_retention_days=args.notifier_log_retention_days,
                ),
                opts=child,
            )
        self.top_source_ip_alarm_arn = None
        rule_names: dict[str, pulumi.Output[str]] = {}
        if args.contributor_insights:
            insights = SignInInsights(
                f"{name}-insights",
                SignInInsightsArgs(
                    trail_log_group_name=log_group_name,
                    notifier_log_group_name=notifier.log_group_name,
                    topic_arn=alert_topic.topic_arn,
                    name_prefix=name_prefix,
                    top_source_ip_threshold=args.top_source_ip_threshold,
                ),
                opts=child,
            )
            rule_names = insights.rule_names
            self.top_source_ip_alarm_arn = insights.top_source_ip_alarm_arn
        self.dashboard_name = None
        if args.account_dashboard:
            dashboard = AccountDashboard(
                f"{name}-dashboard",
                AccountDashboardArgs(
                    detections=args.detections,
                    notifier_log_group_name=notifier.log_group_name,
                    region=ctx.region,
                    name_prefix=name_prefix,
                    namespace=namespace,
                    rule_names=rule_names,
                    band_width=args.outlier_band_width,
                ),
                opts=child,
            )
            self.dashboard_name = dashboard.dashboard_name
        watched = [
            WatchedFunction(
                key="notifier",
                title="sign-in notifier",
                function_name=notifier.function_name,
                failed_events_queue_name=notifier.failed_events_queue_name,
                log_group_name=notifier.log_group_name,
                counts_unmarked_mails=True,
                subscription=(log_group_name, notifier.subscription_filter_name),
            ),
            WatchedFunction(
                key="alarm-mailer",
                title="alarm mailer",
                function_name=alarm_mailer.function_name,
                failed_events_queue_name=alarm_mailer.failed_events_queue_name,
                log_group_name=alarm_mailer.log_group_name,
                topic_name=alarm_mailer.alarm_topic_name,
            ),
        ]
        self.hub_link_arn = None
        self.forwarder_failed_events_queue_url = None
        if hub:
            forwarder = HubForwarder(
                f"{name}-hub-forwarder",
                HubForwarderArgs(
                    topic_arn=alert_topic.topic_arn,
                    hub_topic_arn=hub.topic_arn,
                    hub_key_arn=hub.key_arn,
                    sink_arn=hub.sink_arn(ctx.region) if args.link_metrics_to_hub else None,
                    shared_log_group_prefix=notifier_log_group_prefix(name),
                    health_topic_arn=health_topic.topic_arn,
                    log_retention_days=args.notifier_log_retention_days,
                ),
                opts=child,
            )
            self.hub_link_arn = forwarder.link_arn
            self.forwarder_failed_events_queue_url = forwarder.failed_events_queue_url
            watched.append(
                WatchedFunction(
                    key="forwarder",
                    title="hub forwarder",
                    function_name=forwarder.function_name,
                    failed_events_queue_name=forwarder.failed_events_queue_name,
                    log_group_name=forwarder.log_group_name,
                )
            )
        HealthAlarms(
            f"{name}-health-alarms",
            HealthAlarmsArgs(
                topic_arn=health_topic.topic_arn,
                functions=watched,
                alert_topic_name=alert_topic.topic_name,
                name_prefix=name_prefix,
                namespace=namespace,
            ),
            opts=child,
        )

        self.log_group_name = log_group_name
        self.alert_topic_arn = alert_topic.topic_arn
        self.detection_alarm_arns = alarms.alarm_arns
        self.failed_sign_in_alarm_arn = alarms.alarm_arns.get("failed-console-sign-ins")
        self.notifier_function_arn = notifier.function_arn
        self.sign_in_log_group_arn = notifier.log_group_arn
        self.sign_in_table_name = notifier.table_name
        self.failed_events_queue_url = notifier.failed_events_queue_url
        self.alarm_mailer_failed_events_queue_url = alarm_mailer.failed_events_queue_url
        self.health_topic_arn = health_topic.topic_arn
        self.backtest_workgroup = backtest.workgroup_name if backtest else None
        self.backtest_database = backtest.database_name if backtest else None
        self.backtest_table = backtest.table_name if backtest else None
        self.backtest_results_bucket = backtest.results_bucket_name if backtest else None
        self.backtest_trail_bucket = backtest.trail_bucket_name if backtest else None
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input]:
        return {
            "logGroupName": self.log_group_name,
            "trailArn": self.trail_arn,
            "alertTopicArn": self.alert_topic_arn,
            "failedSignInAlarmArn": self.failed_sign_in_alarm_arn,
            "detectionAlarmArns": self.detection_alarm_arns,
            "notifierFunctionArn": self.notifier_function_arn,
            # What the hub's memberSignInLogGroupArns lists to show this stack's sign-in tables.
            "signInLogGroupArn": self.sign_in_log_group_arn,
            "signInTableName": self.sign_in_table_name,
            "failedEventsQueueUrl": self.failed_events_queue_url,
            "alarmMailerFailedEventsQueueUrl": self.alarm_mailer_failed_events_queue_url,
            "forwarderFailedEventsQueueUrl": self.forwarder_failed_events_queue_url,
            "healthTopicArn": self.health_topic_arn,
            "hubLinkArn": self.hub_link_arn,
            "topSourceIpAlarmArn": self.top_source_ip_alarm_arn,
            "outlierAlarmArn": self.outlier_alarm_arn,
            "dashboardName": self.dashboard_name,
            **(
                {
                    "backtestWorkgroup": self.backtest_workgroup,
                    "backtestDatabase": self.backtest_database,
                    "backtestTable": self.backtest_table,
                    "backtestResultsBucket": self.backtest_results_bucket,
                    "backtestTrailBucket": self.backtest_trail_bucket,
                }
                if self.backtest_workgroup is not None
                else {}
            ),
        }
