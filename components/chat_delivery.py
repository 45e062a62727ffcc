"""Optional delivery of the alert topic to a Slack channel, a Microsoft Teams channel and an HTTPS webhook.

Slack and Teams go through Amazon Q Developer in chat applications (formerly AWS Chatbot), which
subscribes its channel configurations to the topic and shows the functions' custom notifications
(handlers/chat.py) and CloudWatch's own alarm documents as cards. The workspace or team must be
authorised once in that service's console: an OAuth step no API can take.

The channel role may do nothing: it has no policy, and the channel's guardrail is AWS's AWSDenyAll,
so nobody in the channel can run AWS commands through it. Notifications need no permission at all.

The service is global and its API answers in us-east-2, us-west-2, eu-west-1 and ap-southeast-1 only; the
provider sends the calls to us-west-2 from any other Region, so no Region is set here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.policies import assume_role_by

CHATBOT = "chatbot.amazonaws.com"
# Slack ids as the chat service's console shows them: workspace (team) T..., channel C... or private G....
# Both also fit the service's API model (SlackTeamId [0-9A-Z]{1,255}, SlackChannelId [A-Za-z0-9]{1,255}).
SLACK_WORKSPACE_ID = re.compile(r"^T[A-Z0-9]{6,20}$")
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,20}$")
# The API model's UUID, for the Teams tenant and team ids.
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The API model's TeamsChannelId (1 to 255 characters): URL-encoded, as the channel's link has it. The
# decoded form (19:...@thread.tacv2) is refused there, so it is refused here too, with the encoded form to
# paste instead, rather than changed behind the user's back: the value in the stack file is what AWS gets.
TEAMS_CHANNEL_ID = re.compile(r"^[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*$")
TEAMS_CHANNEL_ID_MAX = 255
_CONFIGURATION_NAME = re.compile(r"[^A-Za-z0-9_-]+")
# Where the service writes a configuration's log, creating the group without retention if it is missing.
CHAT_LOG_REGION = "us-east-1"


@dataclass(frozen=True)
class SlackChannel:
    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class TeamsChannel:
    tenant_id: str
    team_id: str
    channel_id: str


@dataclass(frozen=True)
class ChatDeliveryArgs:
    context: AwsContext
    topic_arn: pulumi.Input[str]
    # Names the channel configurations: unique per account, as the service wants.
    name_prefix: str
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None
    webhook_url: str = ""
    log_retention_days: int = 30


def chat_problems(
    slack_workspace_id: str,
    slack_channel_id: str,
    teams_tenant_id: str,
    teams_team_id: str,
    teams_channel_id: str,
    webhook_url: str,
) -> Iterator[tuple[str, str]]:
    """(config key, message) for every chat setting that is wrong."""
    if bool(slack_workspace_id) != bool(slack_channel_id):
        missing = "slackChannelId" if slack_workspace_id else "slackWorkspaceId"
        yield missing, "is required with the other Slack setting: set both slackWorkspaceId and slackChannelId"
    if slack_workspace_id and not SLACK_WORKSPACE_ID.match(slack_workspace_id):
        yield (
            "slackWorkspaceId",
            f"{slack_workspace_id!r} is not a Slack workspace id such as T07EA123LEP "
            "(the chat service's console shows it after the workspace is authorised)",
        )
    if slack_channel_id and not SLACK_CHANNEL_ID.match(slack_channel_id):
        yield "slackChannelId", f"{slack_channel_id!r} is not a Slack channel id such as C07EZ1ABC23"
    teams = {"teamsTenantId": teams_tenant_id, "teamsTeamId": teams_team_id, "teamsChannelId": teams_channel_id}
    if any(teams.values()):
        for key, value in teams.items():
            if not value:
                yield key, "is required with the other Teams settings: teamsTenantId, teamsTeamId, teamsChannelId"
    for key in ("teamsTenantId", "teamsTeamId"):
        if teams[key] and not GUID.match(teams[key]):
            yield key, f"{teams[key]!r} is not a GUID such as 11111111-2222-3333-4444-555555555555"
    if teams_channel_id and (":" in teams_channel_id or "@" in teams_channel_id):
        encoded = teams_channel_id.replace(":", "%3a").replace("@", "%40")
        yield (
            "teamsChannelId",
            f"{teams_channel_id!r} is decoded; the chat service takes the channel id URL-encoded, as the "
            f"channel's link has it: {encoded}",
        )
    elif teams_channel_id and (
        not TEAMS_CHANNEL_ID.match(teams_channel_id) or len(teams_channel_id) > TEAMS_CHANNEL_ID_MAX
    ):
        yield (
            "teamsChannelId",
            f"{teams_channel_id!r} is not a Teams channel id such as 19%3aabc123%40thread.tacv2 "
            "(the part of the channel's link after /channel/)",
        )
    if webhook_url and not re.match(r"^https://[^\s/?#]+\.[^\s/?#]+(/\S*)?$", webhook_url):
        yield "alertWebhookUrl", f"{webhook_url!r} must be an https:// URL with a host name"


def configuration_name(name_prefix: str, channel: str) -> str:
    return _CONFIGURATION_NAME.sub("-", f"{name_prefix}-{channel}")[:128]


class ChatDelivery(pulumi.ComponentResource):
    role_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: ChatDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:ChatDelivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_arn = None
        if args.slack or args.teams:
            role = aws.iam.Role(
                f"{name}-role",
                description="Delivers login-monitoring alerts to chat channels; allowed nothing.",
                assume_role_policy=assume_role_by(CHATBOT),
                opts=child,
            )
            # AWS's own deny-everything policy: without a guardrail the service applies AdministratorAccess.
            guardrail = pulumi.Output.concat("arn:", args.context.partition, ":iam::aws:policy/AWSDenyAll")
            common = {
                "iam_role_arn": role.arn,
                "guardrail_policy_arns": [guardrail],
                "sns_topic_arns": [args.topic_arn],
                "logging_level": "ERROR",
                "user_authorization_required": True,
            }
            if args.slack:
                aws.chatbot.SlackChannelConfiguration(
                    f"{name}-slack",
                    configuration_name=configuration_name(args.name_prefix, "slack"),
                    slack_team_id=args.slack.workspace_id,
                    slack_channel_id=args.slack.channel_id,
                    **common,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self._log_group(name, args, "slack")]),
                )
            if args.teams:
                aws.chatbot.TeamsChannelConfiguration(
                    f"{name}-teams",
                    configuration_name=configuration_name(args.name_prefix, "teams"),
                    tenant_id=args.teams.tenant_id,
                    team_id=args.teams.team_id,
                    channel_id=args.teams.channel_id,
                    **common,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self._log_group(name, args, "teams")]),
                )
            self.role_arn = role.arn
        if args.webhook_url:
            # Not raw: the endpoint receives SNS's signed JSON envelope, the chat card in its "Message".
            # It must confirm the subscription (SubscribeURL of the first request) before anything arrives.
            aws.sns.TopicSubscription(
                f"{name}-webhook",
                topic=args.topic_arn,
                protocol="https",
                endpoint=args.webhook_url,
                raw_message_delivery=False,
                opts=child,
            )
        self.register_outputs({"roleArn": self.role_arn})

    def _log_group(self, name: str, args: ChatDeliveryArgs, channel: str) -> aws.cloudwatch.LogGroup:
        """The configuration's log group, made first with a retention period (the service's own has none)."""
        configuration = configuration_name(args.name_prefix, channel)
        return aws.cloudwatch.LogGroup(
            f"{name}-{channel}-logs",
            name=f"/aws/chatbot/{configuration}",
            region=CHAT_LOG_REGION,
            retention_in_days=args.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
