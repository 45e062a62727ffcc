"""The hub: one inbox and one dashboard for every account of the organization."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account_dashboard import BY_COUNTRY_QUERY
from components.alert_topic import AlertTopic, AlertTopicArgs
from components.aws_context import AwsContext
from components.chat_delivery import ChatDelivery, ChatDeliveryArgs, SlackChannel, TeamsChannel
from components.detection_alarms import ALWAYS_PUBLISHED, METRIC_NAMESPACE
from components.hub_forwarder import LOG_GROUP_RESOURCE, METRIC_RESOURCE
from components.login_monitoring import DEFAULT_NAME, notifier_log_group_prefix
from components.policies import account_administers_key, document
from components.regional_provider import regional_provider
from components.settings import LoginMonitoringArgs, SettingsError, log_group_arn_parts
from detections.catalog import BY_ID
from handlers.log_lines import SIGN_IN_LOG_MESSAGE

# The program's name for its hub; a program using the package names its hub the same to share the resources' names.
HUB_NAME = f"{DEFAULT_NAME}-hub"
# Member forwarder roles are created with this name prefix; only they may publish.
FORWARDER_ROLE_PATTERN = "role/login-monitoring-hub-forwarder-*"
# The dashboard graphs the detections whose metrics always exist (see ALWAYS_PUBLISHED).
DASHBOARD_METRICS = ALWAYS_PUBLISHED
WIDGET_HEIGHT = 6
# Series of a search over linked accounts, told apart by account and by the stack that published them.
SERIES_LABEL = "${PROP('AccountLabel')} ${PROP('Namespace')}"
# Logs Insights tables of the sign-in lines members share (one JSON line per sign-in). A dashboard log
# widget names its log groups as SOURCE '<name>' and reads one account (its accountId), so the hub shows
# one pair of tables per member account whose groups the stack lists.
ARNS_KEY = "memberSignInLogGroupArns"
TOP_FAILING_IPS_QUERY = (
    f'filter message = "{SIGN_IN_LOG_MESSAGE}" and signIn.outcome = "Failure"'
    " | stats count(*) as failures, count_distinct(signIn.principal) as principals,"
    " count_distinct(@log) as logGroups by signIn.sourceIp as sourceIp, signIn.country as country"
    " | sort failures desc | limit 20"
)
LOG_PANELS = (
    ("Sign-ins by country and outcome", BY_COUNTRY_QUERY),
    ("Top failing source IPs", TOP_FAILING_IPS_QUERY),
)
TEXT_HEIGHT = 2


@dataclass(frozen=True, order=True)
class SignInLog:
    """A member's notifier log group, as its signInLogGroupArn output names it."""

    region: str
    account_id: str
    name: str


@dataclass(frozen=True)
class HubArgs:
    emails: Sequence[str]
    organization_id: str
    name_prefix: str
    encrypt: bool = True
    # Regions besides the hub's own where members run; each gets a sink.
    member_regions: Sequence[str] = ()
    # Members' signInLogGroupArn outputs: the dashboard's sign-in tables read these groups.
    member_sign_in_log_group_arns: Sequence[str] = ()
    # The organization's alerts in chat too (components/chat_delivery.py).
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None
    webhook_url: str = ""


def hub_args(settings: LoginMonitoringArgs) -> HubArgs:
    """What the hub builds from a hub's settings, the stack config's or a program's: the same in both."""
    return HubArgs(
        emails=settings.alert_emails,
        organization_id=settings.organization_id,
        name_prefix=f"{DEFAULT_NAME}-{pulumi.get_stack()}",
        encrypt=settings.encrypt_alert_topic,
        member_regions=settings.member_regions,
        member_sign_in_log_group_arns=settings.member_sign_in_log_group_arns,
        slack=settings.slack_channel,
        teams=settings.teams_channel,
        webhook_url=settings.alert_webhook_url,
    )


class LoginMonitoringHub(pulumi.ComponentResource):
    # Named as the hub stack exports them (outputs()), which members read through hubStack.
    hub_topic_arn: pulumi.Output[str]
    # "" when the topic is not encrypted.
    hub_topic_key_arn: pulumi.Output[str] | str
    sink_arn: pulumi.Output[str]
    # Region -> sink ARN, the hub's own Region included.
    sink_arns: pulumi.Output[dict[str, str]]
    organization_id: str
    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: HubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:LoginMonitoringHub", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, org = AwsContext.lookup(self), args.organization_id

        topic = AlertTopic(
            f"{name}-alerts",
            AlertTopicArgs(
                context=ctx,
                emails=args.emails,
                encrypt=args.encrypt,
                key_policy=hub_key_policy(ctx, org) if args.encrypt else None,
            ),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.topic_arn,
            policy=hub_topic_policy(topic.topic_arn, ctx, org),
            opts=pulumi.ResourceOptions(parent=topic),
        )
        if args.slack or args.teams or args.webhook_url:
            ChatDelivery(
                f"{name}-chat",
                ChatDeliveryArgs(
                    context=ctx,
                    topic_arn=topic.topic_arn,
                    name_prefix=args.name_prefix,
                    slack=args.slack,
                    teams=args.teams,
                    webhook_url=args.webhook_url,
                ),
                opts=child,
            )
        # Cross-account observability links within one Region: one sink per Region members run in.
        sink = self._sink(f"{name}-sink", f"{args.name_prefix}-sink", org, child)
        regional_sinks = {}
        home_region = pulumi.Config("aws").get("region")
        sign_in_logs = member_sign_in_logs(
            args.member_sign_in_log_group_arns,
            {home_region, *args.member_regions} if home_region else None,
            notifier_log_group_prefix(),
        )
        for region in sorted(set(args.member_regions) - {home_region}):
            provider = regional_provider(f"{name}-{region}", region, opts=child)
            regional_sinks[region] = self._sink(
                f"{name}-sink-{region}",
                f"{args.name_prefix}-sink",
                org,
                pulumi.ResourceOptions(parent=self, provider=provider),
            ).arn
        sink_arns = pulumi.Output.all(ctx.region, sink.arn, pulumi.Output.from_input(regional_sinks)).apply(
            lambda values: {values[0]: values[1], **values[2]}
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{args.name_prefix}-organization",
            dashboard_body=pulumi.Output.all(ctx.region, ctx.account_id).apply(
                lambda values: json.dumps(
                    organization_dashboard([values[0], *sorted(regional_sinks)], sign_in_logs, own_account=values[1])
                )
            ),
            opts=child,
        )

        self.hub_topic_arn = topic.topic_arn
        self.hub_topic_key_arn = topic.key_arn if topic.key_arn is not None else ""
        self.sink_arn = sink.arn
        self.sink_arns = sink_arns
        self.organization_id = org
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"topicArn": self.hub_topic_arn, "sinkArn": self.sink_arn, "sinkArns": self.sink_arns})

    def outputs(self) -> dict[str, pulumi.Input]:
        """The hub stack's exports, by the names members read them (components/hub_connection.py)."""
        return {
            "hubTopicArn": self.hub_topic_arn,
            "hubTopicKeyArn": self.hub_topic_key_arn,
            "sinkArn": self.sink_arn,
            "sinkArns": self.sink_arns,
            "organizationId": self.organization_id,
            "dashboardName": self.dashboard_name,
        }

    def _sink(self, name: str, sink_name: str, org: str, opts: pulumi.ResourceOptions) -> aws.oam.Sink:
        sink = aws.oam.Sink(name, name=sink_name, opts=opts)
        aws.oam.SinkPolicy(
            f"{name}-policy",
            sink_identifier=sink.arn,
            policy=document(
                {
                    "Sid": "OrganizationAccountsShareMetricsAndLogs",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["oam:CreateLink", "oam:UpdateLink"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": org},
                        "ForAllValues:StringEquals": {"oam:ResourceTypes": [METRIC_RESOURCE, LOG_GROUP_RESOURCE]},
                    },
                }
            ),
            opts=opts,
        )
        return sink


def hub_topic_policy(topic_arn: pulumi.Input[str], ctx: AwsContext, org: str) -> pulumi.Output[str]:
    return document(
        {
            # Members forward through a function in their own account and Region (alarm actions cannot
            # reach a topic in another Region); only those forwarder roles of this organization may publish.
            "Sid": "OrganizationForwarders",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": org},
                "ArnLike": {
                    "aws:PrincipalArn": pulumi.Output.concat("arn:", ctx.partition, ":iam::*:", FORWARDER_ROLE_PATTERN)
                },
            },
        }
    )


def hub_key_policy(ctx: AwsContext, org: str) -> pulumi.Output[str]:
    return document(
        account_administers_key(ctx.arn("iam", "root", regional=False)),
        {
            "Sid": "OrganizationForwardersEncryptThroughSns",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": org},
                "StringLike": {"kms:ViaService": pulumi.Output.concat("sns.", ctx.region, ".amazonaws.com")},
            },
        },
    )


def member_sign_in_logs(arns: Iterable[str], served: set[str] | None, shared_prefix: str) -> list[SignInLog]:
    """The listed groups, refused when no link could share them: a Region without a sink, another name.

    `served` is None when the stack's own Region is not in its config (the provider's environment
    Region); the Region check is then left to the dashboard, which has a band only for served Regions.
    """
    logs, problems = [], []
    for arn in arns:
        region, account_id, name = log_group_arn_parts(arn) or ("", "", "")
        if not name:
            problems.append((ARNS_KEY, f"{arn!r} is not a log group ARN"))
        elif served is not None and region not in served:
            problems.append(
                (ARNS_KEY, f"{arn!r} is in {region}, where the hub has no sink; add {region} to memberRegions")
            )
        elif not name.startswith(shared_prefix):
            problems.append(
                (
                    ARNS_KEY,
                    f"{arn!r} is not a notifier log group a member shares (named {shared_prefix}...); "
                    "use the member stack's signInLogGroupArn output",
                )
            )
        else:
            logs.append(SignInLog(region, account_id, name))
    if problems:
        raise SettingsError(problems)
    return sorted(set(logs))


def organization_dashboard(
    regions: Sequence[str], sign_in_logs: Sequence[SignInLog] = (), *, own_account: str = ""
) -> dict:
    """Member metrics reach the hub through each Region's sink; SEARCH spans every linked account.

    One band of graphs per Region: a dashboard widget reads the metrics of its own Region only. The
    sign-in tables of each listed member account follow its Region's graphs.
    """
    widgets: list[dict] = []
    y = 0
    for region in regions:
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": 24,
                "height": 1,
                "properties": {"markdown": f"## {region}"},
            }
        )
        y += 1
        for index, detection_id in enumerate(DASHBOARD_METRICS):
            detection = BY_ID[detection_id]
            widgets.append(
                _graph(
                    f"{detection.title}, by account",
                    region,
                    x=(index % 2) * 12,
                    y=y + (index // 2) * WIDGET_HEIGHT,
                    width=12,
                    search=f'{_every_stack()} MetricName="{detection.metric_name}"',
                    period=300,
                    view="timeSeries",
                )
            )
        y += -(-len(DASHBOARD_METRICS) // 2) * WIDGET_HEIGHT
        by_account: dict[str, list[str]] = {}
        for log in sign_in_logs:
            if log.region == region:
                by_account.setdefault(log.account_id, []).append(log.name)
        for account_id, names in sorted(by_account.items()):
            account = "" if account_id == own_account else account_id
            for index, (title, query) in enumerate(LOG_PANELS):
                widgets.append(
                    _log_table(f"{title}, account {account_id}", region, account, names, query, x=index * 12, y=y)
                )
            y += WIDGET_HEIGHT
        if not by_account:
            widgets.append(_where_the_sign_in_tables_are(y))
            y += TEXT_HEIGHT
        widgets.append(
            _graph(
                "Every detection in every account (hourly)",
                region,
                x=0,
                y=y,
                width=24,
                search=_every_stack(),
                period=3600,
                view="bar",
            )
        )
        y += WIDGET_HEIGHT
    return {"widgets": widgets}


def _log_table(title: str, region: str, account_id: str, names: Sequence[str], query: str, *, x: int, y: int) -> dict:
    # The form the dashboard body documents: SOURCE '<name>' per group, then the query; accountId for
    # another account's groups (a linked source account), left out for the hub's own.
    sources = " | ".join(f"SOURCE '{name}'" for name in names)
    properties = {"title": title, "region": region, "view": "table", "query": f"{sources} | {query}"}
    if account_id:
        properties["accountId"] = account_id
    return {"type": "log", "x": x, "y": y, "width": 12, "height": WIDGET_HEIGHT, "properties": properties}


def _where_the_sign_in_tables_are(y: int) -> dict:
    markdown = (
        "**Sign-ins by country and the top failing source IPs** of each account are on that account's own "
        "dashboard, `login-monitoring-<stack>-sign-ins`. To show them here as well, add the member stacks' "
        f"`signInLogGroupArn` outputs to this stack's `{ARNS_KEY}`."
    )
    return {"type": "text", "x": 0, "y": y, "width": 24, "height": TEXT_HEIGHT, "properties": {"markdown": markdown}}


def _every_stack() -> str:
    # Each stack publishes under LoginMonitoring/<stack>; an unquoted term matches the namespace's first part.
    return f"Namespace={METRIC_NAMESPACE}"


def _graph(title: str, region: str, *, x: int, y: int, width: int, search: str, period: int, view: str) -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "view": view,
            "stat": "Sum",
            "period": period,
            "metrics": [[{"expression": f"SEARCH('{search}', 'Sum', {period})", "id": "e1", "label": SERIES_LABEL}]],
        },
    }
