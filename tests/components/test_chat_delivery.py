"""Chat delivery in the stack: Slack, Teams and a webhook on the alert topic, a channel role allowed nothing."""

from __future__ import annotations

import json

import pytest

from components.settings import SettingsError
from tests.components.program import alert_topic, named, run_stack

SLACK = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
TEAMS = "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ROLE = "aws:iam/role:Role"
PREFIX = "login-monitoring-chat"
CHAT = {
    "slackWorkspaceId": "T07EA123LEP",
    "slackChannelId": "C07EZ1ABC23",
    "teamsTenantId": "11111111-2222-3333-4444-555555555555",
    "teamsTeamId": "66666666-7777-8888-9999-000000000000",
    "teamsChannelId": "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
    "alertWebhookUrl": "https://alerts.example.com/sns",
}


@pytest.fixture(scope="module")
def chat():
    return run_stack(**CHAT)


def chat_resources(run):
    return [r for r in run.resources if r.type.startswith("aws:chatbot/") or r.name.startswith(PREFIX)]


def test_nothing_for_chat_is_planned_unless_configured():
    assert chat_resources(run_stack()) == []


def test_slack_and_teams_receive_the_alert_topic_and_nothing_else(chat):
    topic_arn = alert_topic(chat).state["arn"]
    slack, teams = named(chat, SLACK, f"{PREFIX}-slack"), named(chat, TEAMS, f"{PREFIX}-teams")
    assert slack.inputs["slackTeamId"] == "T07EA123LEP" and slack.inputs["slackChannelId"] == "C07EZ1ABC23"
    assert teams.inputs["tenantId"] == CHAT["teamsTenantId"] and teams.inputs["teamId"] == CHAT["teamsTeamId"]
    assert teams.inputs["channelId"] == CHAT["teamsChannelId"]
    for configuration in (slack, teams):
        assert configuration.inputs["snsTopicArns"] == [topic_arn]
        assert configuration.inputs["configurationName"].startswith("login-monitoring-dev-")


def test_the_channel_role_may_do_nothing_and_neither_may_the_channel(chat):
    role = named(chat, ROLE, f"{PREFIX}-role")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "chatbot.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    attached = [
        r for r in chat.resources if r.type.startswith("aws:iam/") and r.type != ROLE and role.urn in r.dependencies
    ]
    assert attached == []
    for configuration in (named(chat, SLACK, f"{PREFIX}-slack"), named(chat, TEAMS, f"{PREFIX}-teams")):
        assert configuration.inputs["iamRoleArn"] == role.state["arn"]
        # Without a guardrail the service applies AdministratorAccess to the channel.
        assert configuration.inputs["guardrailPolicyArns"] == ["arn:aws:iam::aws:policy/AWSDenyAll"]


def test_the_webhook_gets_the_signed_envelope_not_the_raw_message(chat):
    webhook = named(chat, SUBSCRIPTION, f"{PREFIX}-webhook")
    assert webhook.inputs["protocol"] == "https"
    assert webhook.inputs["endpoint"] == CHAT["alertWebhookUrl"]
    assert webhook.inputs["topic"] == alert_topic(chat).state["arn"]
    assert webhook.inputs["rawMessageDelivery"] is False


def test_the_hub_example_delivers_the_organizations_alerts_to_slack():
    hub = run_stack("hub")
    (slack,) = hub.of_type(SLACK)
    topic = named(hub, "aws:sns/topic:Topic", "login-monitoring-hub-alerts")
    assert slack.inputs["snsTopicArns"] == [topic.state["arn"]]
    assert slack.inputs["guardrailPolicyArns"] == ["arn:aws:iam::aws:policy/AWSDenyAll"]


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"slackWorkspaceId": "T07EA123LEP"}, "slackChannelId", "is required"),
        ({"slackChannelId": "C07EZ1ABC23"}, "slackWorkspaceId", "is required"),
        ({"slackWorkspaceId": "my-team", "slackChannelId": "C07EZ1ABC23"}, "slackWorkspaceId", "T07EA123LEP"),
        ({"slackWorkspaceId": "T07EA123LEP", "slackChannelId": "#alerts"}, "slackChannelId", "C07EZ1ABC23"),
        ({"teamsTenantId": CHAT["teamsTenantId"]}, "teamsTeamId", "is required"),
        ({**{k: v for k, v in CHAT.items() if k.startswith("teams")}, "teamsTeamId": "team"}, "teamsTeamId", "GUID"),
        (
            {**{k: v for k, v in CHAT.items() if k.startswith("teams")}, "teamsChannelId": "General"},
            "teamsChannelId",
            "thread.tacv2",
        ),
        (
            {**{k: v for k, v in CHAT.items() if k.startswith("teams")}, "teamsChannelId": "19:b6ef35dc@thread.tacv2"},
            "teamsChannelId",
            "URL-encoded, as the channel's link has it: 19%3ab6ef35dc%40thread.tacv2",
        ),
        (
            {
                **{k: v for k, v in CHAT.items() if k.startswith("teams")},
                "teamsChannelId": "19%3a" + "a" * 250 + "%40x",
            },
            "teamsChannelId",
            "is not a Teams channel id",
        ),
        ({"alertWebhookUrl": "http://alerts.example.com/sns"}, "alertWebhookUrl", "https://"),
    ],
)
def test_a_wrong_chat_setting_is_refused_naming_its_key(changes, key, words):
    with pytest.raises(SettingsError) as raised:
        run_stack(**changes)
    messages = dict(raised.value.problems)
    assert key in messages and words in messages[key]


def test_each_configuration_logs_into_a_group_with_retention_made_before_it(chat):
    # The service writes to /aws/chatbot/<configuration name> in us-east-1 and would create the group
    # without retention.
    for channel, kind in (("slack", SLACK), ("teams", TEAMS)):
        configuration = named(chat, kind, f"{PREFIX}-{channel}")
        logs = named(chat, "aws:cloudwatch/logGroup:LogGroup", f"{PREFIX}-{channel}-logs")
        assert logs.inputs["name"] == f"/aws/chatbot/{configuration.inputs['configurationName']}"
        assert logs.inputs["region"] == "us-east-1"
        assert logs.inputs["retentionInDays"] == 30
        assert logs.urn in configuration.dependencies
