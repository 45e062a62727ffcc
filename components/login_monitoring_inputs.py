"""What a Pulumi program in any language passes to LoginMonitoring: the package's inputs.

The schema is read from these annotations (camelCase names, the config keys' own) and the string after each
(its description). The defaults are LoginMonitoringArgs'; a test keeps each description's "Default:" and the
Pulumi.yaml description it repeats equal to them. Annotations stay evaluated (no `from __future__ import
annotations`): the schema analyzer reads them as types.
"""

from typing import TypedDict

import pulumi


class LoginMonitoringInputs(TypedDict, total=False):
    """Every setting of one account's login monitoring; each is optional and takes its default when left out."""

    alert_emails: list[str]
    (
        "Mail addresses that receive alarms and sign-in notifications. At least one is required; each must confirm "
        "the subscription mail AWS sends. Default: []."
    )
    health_emails: list[str]
    (
        "Mail addresses for the health alarms (the monitoring's own faults). Empty: alertEmails. Required for a "
        "member without alertEmails, so these alarms never depend on the way to the hub. Default: []."
    )
    trail_mode: str
    (
        "'create' builds a multi-region trail with its bucket and log group; 'existing' watches the CloudWatch Logs "
        "group an existing trail already delivers to; 'organization' (management or delegated administrator account) "
        'builds an organization trail covering every account. Default: "create".'
    )
    existing_log_group_name: str
    "With trailMode 'existing', the name of the log group the existing trail delivers to. Default: \"\"."
    trail_events: str
    (
        "Management events the created trail records: 'write' (includes every sign-in) or 'all' (adds read events, "
        "which Security Hub CloudWatch.1-14 and CloudTrail.1 look for and CloudWatch Logs bills for). Empty: 'all' "
        "under the cis profile, 'write' otherwise. Default: \"\"."
    )
    trail_encryption: str
    (
        "How the created trail encrypts its log files: 's3' (S3-managed keys) or 'kms' (a customer-managed KMS key, "
        "which Security Hub CloudTrail.2 asks for; about 1 USD a month). Empty: 'kms' under the cis profile, 's3' "
        'otherwise. Default: "".'
    )
    encrypt_trail_log_group: bool
    (
        "Encrypt the created trail's CloudWatch Logs group with the trail's KMS key (created for it if "
        "trailEncryption is 's3'). Default: false."
    )
    trail_log_retention_days: int
    "Days the trail's CloudWatch Logs group keeps events (a value CloudWatch Logs accepts, up to 3653). Default: 365."
    trail_bucket_expiration_days: int
    "Days after which trail log files in the S3 bucket expire. Default: 365."
    failed_sign_in_threshold: int
    "Failed console sign-ins within the window that raise the alarm. Default: 5."
    failed_sign_in_window_seconds: int
    "Length of the failed sign-in window in seconds; a whole number of minutes up to one day. Default: 900."
    notify_on: str
    (
        "Which sign-ins are mailed: 'all' (every sign-in) or 'risky' (failures, root, IAM users without MFA, unknown "
        'user names, and the risk reasons below). Every sign-in is stored either way. Default: "all".'
    )
    display_timezone: str
    'IANA time zone for times in the mails, e.g. Asia/Tokyo. UTC is always shown as well. Default: "UTC".'
    sign_in_history_days: int
    "Days a sign-in stays in the history table before DynamoDB expires it (counted from the sign-in). Default: 90."
    notifier_log_retention_days: int
    "Days the notifier's own log group keeps its logs (a value CloudWatch Logs accepts). Default: 30."
    alarm_resolved_mails: bool
    "Mail a short 'resolved' note when a detection alarm goes back to OK (false: only ALARM is mailed). Default: false."
    account_alias: str
    (
        "The account's IAM alias, named next to this account's id in the subjects and bodies of alarm mails, sign-in "
        'mails and digests (aws iam list-account-aliases shows it). Empty: the id alone. Default: "".'
    )
    mail_quiet_minutes: int
    (
        "Flood control: after a sign-in mail, further sign-ins of the same principal (or IP) and outcome within this "
        "many minutes go into one digest mail. 0 mails every sign-in. Default: 10."
    )
    mail_burst_limit: int
    (
        "Flood control's ceiling per account and outcome: within a quiet time (mailQuietMinutes) at most this many "
        "principals or IPs get a first mail, then every further sign-in of that outcome in the account goes into one "
        "account digest, whatever its principal or IP. Root sign-ins and successful sign-ins with a risk reason are "
        "always mailed at once. 1 to 100. Default: 5."
    )
    encrypt_alert_topic: bool
    (
        "Encrypt the alert topic with a customer-managed KMS key that CloudWatch alarms may use (about 1 USD a "
        "month). Default: true."
    )
    detection_profile: str
    (
        "'recommended' (CIS intent tuned against known false positives, plus sign-in detections) or 'cis' (Security "
        "Hub CloudWatch.1-14 text character for character, CIS 4.15, and the failed sign-in alarm). Default: "
        '"recommended".'
    )
    detection_overrides: list[str]
    (
        "Per-detection changes as '<detection id>.<setting>=<value>'; settings are enabled, threshold, period, "
        "evaluationPeriods, datapointsToAlarm, evaluationWindow (sliding or wallClock), excludePrincipals, "
        "excludeEventNames (the last two may repeat). Default: []."
    )
    privileged_groups: list[str]
    (
        "IAM groups whose membership changes raise the privileged-group-changes alarm (recommended profile). Default:"
        ' ["Administrators"].'
    )
    tags: dict[str, str]
    (
        "Tags for every taggable resource, as a map of key to value; added to the login-monitoring:project, :stack "
        "and :component tags the component sets itself. Default: {}."
    )
    hub_stack: str
    (
        "For a member: the hub stack to report to, e.g. acme/login-monitoring/hub. Empty: the member works on its "
        'own. Default: "".'
    )
    organization_id: str
    "The organization id (o-...). Required for the hub and for trailMode 'organization'. Default: \"\"."
    management_account_id: str
    (
        "With trailMode 'organization': the organization's management account id, which owns the trail. Required when"
        " the stack runs in the CloudTrail delegated administrator account; preview checks it against AWS "
        'Organizations. Default: "".'
    )
    risk_new_country: bool
    (
        "Flag a successful sign-in from a country not seen in the principal's history (signInHistoryDays). A "
        'principal with no located history is never "new". Default: true.'
    )
    risk_impossible_travel_minutes: int
    (
        "Flag two successful sign-ins of one principal from different countries within this many minutes (0 turns it "
        "off). Default: 60."
    )
    risk_failures_before_success: int
    (
        "Flag a successful sign-in when the principal, or its source IP, had at least this many failed sign-ins "
        "within riskFailuresWindowMinutes (0 turns it off). Default: 3."
    )
    risk_failures_window_minutes: int
    "The window, in minutes, in which failures before a success are counted. Default: 60."
    risk_spray_user_names: int
    (
        "Flag a failed sign-in when at least this many distinct user names failed from its source IP within "
        "riskSprayWindowMinutes (0 turns it off). Names AWS hides count one each. Default: 5."
    )
    risk_spray_window_minutes: int
    "The window, in minutes, in which a password spray's user names are counted. Default: 60."
    link_metrics_to_hub: bool
    (
        "Member only: share this account's metrics (the project's namespaces) and the notifier's sign-in log with the"
        " hub's dashboard. One stack per account and Region may link; set false on any other. Default: true."
    )
    contributor_insights: bool
    (
        "Contributor Insights rules on failed console sign-ins by source IP and by user name (trail log group) and on"
        " sign-ins by country (notifier log), plus an alarm on the top source IP. About 0.50 USD per rule a month and"
        " 0.02 USD per million matched events. Default: true."
    )
    top_source_ip_threshold: int
    (
        "Failed console sign-ins from one source IP within 5 minutes that raise the top-source-IP alarm (with "
        "contributorInsights). Default: 10."
    )
    account_dashboard: bool
    (
        "Build the account's sign-in dashboard (failed sign-ins, by country, top IPs and users, one graph per "
        "detection). 3 USD a month beyond the account's first three dashboards. Default: true."
    )
    outlier_alarm: bool
    (
        "Outlier alarm on failed console sign-ins (anomaly detection band AND a static floor, one composite alarm "
        "that mails). About 0.90 USD a month. Default: true."
    )
    outlier_band_width: int
    "Width of the outlier alarm's anomaly detection band in standard deviations, 1 to 10. Default: 2."
    outlier_floor: int
    "Failed console sign-ins within 5 minutes below which the outlier alarm never fires, however unusual. Default: 5."
    backtest_athena: bool
    (
        "Stacks that create a trail (trailMode create or organization): an Athena workgroup, a private encrypted "
        "results bucket and a Glue table with partition projection over the trail bucket, for backtesting detections "
        "with python -m backtest. Default: false."
    )
    slack_workspace_id: str
    (
        "Slack delivery: the workspace id (T...) that Amazon Q Developer in chat applications (AWS Chatbot) shows "
        "after the workspace was authorised in its console. With slackChannelId. Empty: no Slack delivery. Default: "
        '"".'
    )
    slack_channel_id: str
    'Slack delivery: the channel id (C... or G... for a private channel; invite the app to it). Default: "".'
    teams_tenant_id: str
    (
        "Microsoft Teams delivery: the Microsoft Entra tenant id (a GUID), with teamsTeamId and teamsChannelId. The "
        'team must be authorised in the chat service\'s console first. Empty: no Teams delivery. Default: "".'
    )
    teams_team_id: str
    'Microsoft Teams delivery: the team id (the groupId in the channel\'s link, a GUID). Default: "".'
    teams_channel_id: str
    'Microsoft Teams delivery: the channel id from the channel\'s link (19%3a...%40thread.tacv2). Default: "".'
    alert_webhook_url: pulumi.Input[str]
    (
        "An https:// endpoint subscribed to the alert topic; it receives SNS's JSON envelope with the chat card in "
        'Message and must confirm the subscription. Empty: none. Default: "".'
    )
