"""What a Pulumi program in any language passes to LoginMonitoringHub: the settings a hub reads.

A program chooses the hub by creating this component, as a stack does with stackRole 'hub'; every other setting
is a member's. Names, descriptions and defaults are the config keys' (a test keeps them equal to Pulumi.yaml's and
to what the program hands the hub). Annotations stay evaluated: the schema analyzer reads them as types.
"""

from typing import TypedDict

import pulumi


class LoginMonitoringHubInputs(TypedDict, total=False):
    """The organization hub's settings; each is optional and takes its default when left out."""

    alert_emails: list[str]
    (
        "Mail addresses that receive alarms and sign-in notifications. At least one is required; each must confirm "
        "the subscription mail AWS sends. Default: []."
    )
    organization_id: str
    "The organization id (o-...). Required for the hub and for trailMode 'organization'. Default: \"\"."
    encrypt_alert_topic: bool
    (
        "Encrypt the alert topic with a customer-managed KMS key that CloudWatch alarms may use (about 1 USD a "
        "month). Default: true."
    )
    member_regions: list[str]
    (
        "Hub only: the Regions, besides the hub's own, where members run. CloudWatch cross-account observability "
        "links within one Region, so the hub creates a sink in each. Default: []."
    )
    member_sign_in_log_group_arns: list[str]
    (
        "Hub only: members' signInLogGroupArn stack outputs. The organization dashboard shows sign-ins by country "
        "and the top failing source IPs of each account listed, in its Region's band; empty: the dashboard points to "
        "each member's own sign-in dashboard instead. Default: []."
    )
    tags: dict[str, str]
    (
        "Tags for every taggable resource, as a map of key to value; added to the login-monitoring:project, :stack "
        "and :component tags the component sets itself. Default: {}."
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
