"""Hub, member with hub, member standalone and organization trail, as the program registers them."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from components.hub_connection import HubStackError
from components.settings import SettingsError
from offline.engine import Organization, run_program
from offline.stack_config import load_stack_config
from tests.components.program import alarm_topic, alert_topic, health_topic, named, run_stack, statement, statements

ORG = "o-a1b2c3d4e5"
LOGS = "arn:aws:logs:"
SHARED = "login-monitoring-sign-in-notifier-logs-"


@pytest.fixture(scope="module")
def hub():
    return run_stack("hub")


@pytest.fixture(scope="module")
def member(hub):
    return run_program(load_stack_config("member-a", example=True), stack_outputs={"hub": hub.outputs})


def test_hub_exports_what_members_need(hub):
    assert set(hub.outputs) == {
        "hubTopicArn",
        "hubTopicKeyArn",
        "sinkArn",
        "sinkArns",
        "organizationId",
        "dashboardName",
    }
    assert hub.outputs["organizationId"] == ORG
    assert hub.outputs["hubTopicArn"].startswith("arn:aws:sns:us-east-1:210987654321:")
    assert hub.outputs["sinkArn"].startswith("arn:aws:oam:us-east-1:210987654321:sink/")
    assert hub.outputs["sinkArns"]["us-east-1"] == hub.outputs["sinkArn"]


def test_hub_watches_no_account_itself(hub):
    for absent in (
        "aws:cloudtrail/trail:Trail",
        "aws:lambda/function:Function",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    ):
        assert hub.of_type(absent) == []


def test_hub_topic_admits_only_forwarders_of_the_organization(hub):
    policy = hub.one("aws:sns/topicPolicy:TopicPolicy")
    (only,) = statements(policy)
    assert only["Principal"] == {"AWS": "*"} and only["Action"] == "sns:Publish"
    assert only["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORG}
    assert only["Condition"]["ArnLike"] == {"aws:PrincipalArn": "arn:aws:iam::*:role/login-monitoring-hub-forwarder-*"}
    assert only["Resource"] == hub.outputs["hubTopicArn"]


def test_hub_key_is_usable_by_the_organization_only_through_sns(hub):
    key = hub.one("aws:kms/key:Key")
    grant = statement(key, "OrganizationForwardersEncryptThroughSns")
    assert grant["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORG},
        "StringLike": {"kms:ViaService": "sns.us-east-1.amazonaws.com"},
    }
    assert hub.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == key.state["arn"] == hub.outputs["hubTopicKeyArn"]


def test_hub_has_a_sink_admitting_the_organizations_metric_links_in_every_member_region(hub):
    sinks = {sink.state["arn"]: sink for sink in hub.of_type("aws:oam/sink:Sink")}
    assert set(hub.outputs["sinkArns"]) == {"us-east-1", "eu-west-1"}
    assert set(sinks) == set(hub.outputs["sinkArns"].values())
    for region, arn in hub.outputs["sinkArns"].items():
        assert arn.startswith(f"arn:aws:oam:{region}:210987654321:sink/")
    policies = hub.of_type("aws:oam/sinkPolicy:SinkPolicy")
    assert {policy.inputs["sinkIdentifier"] for policy in policies} == set(sinks)
    for policy in policies:
        (only,) = statements(policy)
        assert sorted(only["Action"]) == ["oam:CreateLink", "oam:UpdateLink"]
        assert only["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": ORG},
            # Metrics and log groups; which ones, each member's link filters (see below).
            "ForAllValues:StringEquals": {"oam:ResourceTypes": ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"]},
        }


def test_a_sink_in_another_region_is_made_with_the_stacks_own_account_guard_and_role(hub):
    (provider,) = hub.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-west-1"
    # An explicit provider reads none of the stack's aws: settings; without these it would deploy unchecked.
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["210987654321"]
    assert json.loads(provider.inputs["assumeRoles"]) == [
        {"roleArn": "arn:aws:iam::210987654321:role/LoginMonitoringDeploy", "sessionName": "login-monitoring-hub"}
    ]
    sink = named(hub, "aws:oam/sink:Sink", "login-monitoring-hub-sink-eu-west-1")
    assert sink.state["arn"] == hub.outputs["sinkArns"]["eu-west-1"]


def test_hub_dashboard_has_a_band_per_region_without_gaps_and_labels_series_by_account(hub):
    dashboard = hub.one("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    graphs = [w for w in body["widgets"] if w["type"] == "metric"]
    expressions = {(w["properties"]["region"], w["properties"]["metrics"][0][0]["expression"]) for w in graphs}
    for region in ("us-east-1", "eu-west-1"):
        assert (region, "SEARCH('Namespace=LoginMonitoring MetricName=\"ConsoleSignInFailures\"', 'Sum', 300)") in (
            expressions
        )
        assert (region, "SEARCH('Namespace=LoginMonitoring', 'Sum', 3600)") in expressions
    assert all("AccountLabel" in w["properties"]["metrics"][0][0]["label"] for w in graphs)
    # Every row from the top to the last widget's bottom is covered: no empty band.
    covered = set()
    for widget in body["widgets"]:
        covered |= set(range(widget["y"], widget["y"] + widget["height"]))
    assert covered == set(range(max(covered) + 1))
    assert hub.outputs["dashboardName"] == "login-monitoring-hub-organization"


def test_member_links_to_the_sink_of_its_own_region(hub):
    member_b = run_program(load_stack_config("member-b", example=True), stack_outputs={"hub": hub.outputs})
    link = member_b.one("aws:oam/link:Link")
    assert link.inputs["sinkIdentifier"] == hub.outputs["sinkArns"]["eu-west-1"]


def test_member_in_a_region_the_hub_does_not_serve_fails_naming_the_region():
    hub = run_stack("hub", memberRegions=[], memberSignInLogGroupArns=[])
    with pytest.raises(
        Exception, match="this stack runs in eu-west-1; add eu-west-1 to login-monitoring:memberRegions"
    ):
        run_program(load_stack_config("member-b", example=True), stack_outputs={"hub": hub.outputs})


def test_a_second_stack_in_the_same_account_and_region_can_leave_the_link_to_the_first(hub):
    run = run_program(
        load_stack_config("member-a", example=True, overrides={"login-monitoring:linkMetricsToHub": False}),
        stack_outputs={"hub": hub.outputs},
    )
    assert run.of_type("aws:oam/link:Link") == [] and "hubLinkArn" not in run.outputs


def test_member_reads_the_hub_stack_by_name(member):
    (reference,) = member.of_type("pulumi:pulumi:StackReference")
    assert reference.inputs["name"] == "acme/login-monitoring/hub"


def test_member_mails_reach_the_hub_through_its_forwarder(member, hub):
    topic = alert_topic(member)
    function = next(f for f in member.of_type("aws:lambda/function:Function") if "forwarder" in f.name)
    subscription = named(
        member, "aws:sns/topicSubscription:TopicSubscription", "login-monitoring-hub-forwarder-subscription"
    )
    permission = named(member, "aws:lambda/permission:Permission", "login-monitoring-hub-forwarder-invoke-from-topic")

    assert function.inputs["environment"]["variables"] == {"HUB_TOPIC_ARN": hub.outputs["hubTopicArn"]}
    assert function.inputs["handler"] == "handlers.forwarder.handler"
    assert (
        subscription.inputs["topic"] == topic.state["arn"] and subscription.inputs["endpoint"] == function.state["arn"]
    )
    assert (
        permission.inputs["principal"] == "sns.amazonaws.com" and permission.inputs["sourceArn"] == topic.state["arn"]
    )
    assert permission.urn in subscription.dependencies
    # Every detection alarm of the member invokes its alarm mailer, which publishes to its own topic,
    # which the forwarder drains.
    mailer = named(member, "aws:lambda/function:Function", "login-monitoring-alarm-mailer-function")
    assert mailer.inputs["environment"]["variables"]["TOPIC_ARN"] == topic.state["arn"]
    alarms = [a for a in member.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "-detections-" in a.name]
    mailer_topic = alarm_topic(member).state["arn"]
    assert alarms and all(a.inputs["alarmActions"][0] == mailer_topic for a in alarms)
    # The top-source-IP alarm (Contributor Insights) mails the alert topic itself, which the forwarder drains.
    top_ip = named(member, "aws:cloudwatch/metricAlarm:MetricAlarm", "login-monitoring-insights-top-source-ip-alarm")
    assert top_ip.inputs["alarmActions"] == [topic.state["arn"]]


def test_member_health_alarms_reach_the_hub_through_the_forwarder_too(member):
    health = health_topic(member)
    function = next(f for f in member.of_type("aws:lambda/function:Function") if "forwarder" in f.name)
    subscription = named(
        member, "aws:sns/topicSubscription:TopicSubscription", "login-monitoring-hub-forwarder-health-subscription"
    )
    permission = named(
        member, "aws:lambda/permission:Permission", "login-monitoring-hub-forwarder-invoke-from-topic-health"
    )
    assert subscription.inputs["topic"] == health.state["arn"]
    assert subscription.inputs["endpoint"] == function.state["arn"]
    assert permission.inputs["sourceArn"] == health.state["arn"] and permission.urn in subscription.dependencies


def test_forwarder_keeps_what_it_cannot_deliver_and_alarms_on_the_health_topic(member):
    function = next(f for f in member.of_type("aws:lambda/function:Function") if "forwarder" in f.name)
    queue = named(member, "aws:sqs/queue:Queue", "login-monitoring-hub-forwarder-failed-events")
    invoke_config = named(
        member,
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "login-monitoring-hub-forwarder-retries",
    )
    assert invoke_config.inputs["functionName"] == function.state["name"]
    assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert queue.inputs["sqsManagedSseEnabled"] is True
    policy = next(p for p in member.of_type("aws:iam/rolePolicy:RolePolicy") if "forwarder" in p.name)
    assert statement(policy, "KeepFailedEvents")["Resource"] == [queue.state["arn"]]
    assert member.outputs["forwarderFailedEventsQueueUrl"] == queue.state["url"]
    alarms = {a.name: a for a in member.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    by_dimension = {
        key: alarms[f"login-monitoring-health-alarms-forwarder-{key}"].inputs["dimensions"]
        for key in ("errors", "lost-events", "failed-events")
    }
    assert by_dimension == {
        "errors": {"FunctionName": function.state["name"]},
        "lost-events": {"FunctionName": function.state["name"]},
        "failed-events": {"QueueName": queue.state["name"]},
    }
    for key in by_dimension:
        actions = alarms[f"login-monitoring-health-alarms-forwarder-{key}"].inputs["alarmActions"]
        assert actions == [health_topic(member).state["arn"]]


def test_member_forwarder_role_fits_the_hub_policy_and_may_only_publish_there(member, hub):
    role = next(r for r in member.of_type("aws:iam/role:Role") if "forwarder" in r.name)
    hub_condition = statements(hub.one("aws:sns/topicPolicy:TopicPolicy"))[0]["Condition"]["ArnLike"]
    assert fnmatch.fnmatch(role.state["arn"], hub_condition["aws:PrincipalArn"])
    policy = next(p for p in member.of_type("aws:iam/rolePolicy:RolePolicy") if "forwarder" in p.name)
    granted = {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in statements(policy)}
    assert granted["PublishToHubTopic"] == (["sns:Publish"], [hub.outputs["hubTopicArn"]])
    assert granted["EncryptForHubTopic"] == (["kms:Decrypt", "kms:GenerateDataKey*"], [hub.outputs["hubTopicKeyArn"]])


def test_member_links_its_metrics_to_the_hub_sink(member, hub):
    link = member.one("aws:oam/link:Link")
    assert link.inputs["sinkIdentifier"] == hub.outputs["sinkArn"]
    assert link.inputs["resourceTypes"] == ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"]
    assert member.outputs["hubLinkArn"] == link.state["arn"]


def shared_log_prefix(link) -> str:
    log_filter = link.inputs["linkConfiguration"]["logGroupConfiguration"]["filter"]
    (prefix,) = re.fullmatch(r"LogGroupName LIKE '([^'%]+)%'", log_filter).groups()
    return prefix


def test_member_shares_only_the_projects_metrics_and_its_notifiers_sign_in_log(member):
    link = member.one("aws:oam/link:Link")
    metric_filter = link.inputs["linkConfiguration"]["metricConfiguration"]["filter"]
    assert metric_filter == "Namespace = 'LoginMonitoring' OR Namespace LIKE 'LoginMonitoring/%'"
    for published in member.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        assert published.inputs["metricTransformation"]["namespace"].startswith("LoginMonitoring/")
    prefix = shared_log_prefix(link)
    groups = {group.name: group.state["name"] for group in member.of_type("aws:cloudwatch/logGroup:LogGroup")}
    shared = {name for name, physical in groups.items() if physical.startswith(prefix)}
    # Not the trail's log, not the other functions' logs: only the one line per sign-in the panels read.
    assert shared == {"login-monitoring-sign-in-notifier-logs"}, groups


def log_tables(run) -> list[dict]:
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    return [w for w in body["widgets"] if w["type"] == "log"]


def test_hub_dashboard_shows_each_listed_members_sign_ins_by_country_and_top_ip_in_its_regions_band(hub, member):
    member_b = run_program(load_stack_config("member-b", example=True), stack_outputs={"hub": hub.outputs})
    tables = log_tables(hub)
    # The example hub lists member-a's and member-b's signInLogGroupArn outputs: one pair of tables each,
    # reading that account (accountId) in the member's own Region, where its link shares the group.
    assert {(w["properties"]["region"], w["properties"]["accountId"], w["properties"]["title"]) for w in tables} == {
        (region, account, f"{title}, account {account}")
        for region, account in (("us-east-1", "111122223333"), ("eu-west-1", "444455556666"))
        for title in ("Sign-ins by country and outcome", "Top failing source IPs")
    }
    for run in (member, member_b):
        _, _, _, region, account, group = run.outputs["signInLogGroupArn"].split(":", 5)
        name = group.removeprefix("log-group:")
        assert name.startswith(shared_log_prefix(run.one("aws:oam/link:Link")))
        mine = [w["properties"] for w in tables if w["properties"]["accountId"] == account]
        assert {p["region"] for p in mine} == {region}
        for properties in mine:
            assert properties["query"].startswith(f"SOURCE '{name}' | filter message = \"sign-in\"")
    by_ip = next(w for w in tables if w["properties"]["title"].startswith("Top failing"))["properties"]["query"]
    assert 'signIn.outcome = "Failure"' in by_ip and "by signIn.sourceIp as sourceIp" in by_ip


def test_several_groups_of_one_account_share_its_tables_and_the_hubs_own_account_needs_no_account_id():
    arn = "arn:aws:logs:us-east-1:{}:log-group:login-monitoring-sign-in-notifier-logs-{}"
    run = run_stack(
        "hub",
        memberSignInLogGroupArns=[
            arn.format("111122223333", "bbbbbbb"),
            arn.format("111122223333", "aaaaaaa") + ":*",  # as the console shows it
            arn.format("210987654321", "ccccccc"),  # a member stack in the hub's own account
        ],
    )
    queries = {
        (w["properties"].get("accountId"), w["properties"]["query"].split(" | filter")[0]) for w in log_tables(run)
    }
    assert queries == {
        (
            "111122223333",
            "SOURCE 'login-monitoring-sign-in-notifier-logs-aaaaaaa' | "
            "SOURCE 'login-monitoring-sign-in-notifier-logs-bbbbbbb'",
        ),
        (None, "SOURCE 'login-monitoring-sign-in-notifier-logs-ccccccc'"),
    }


def test_hub_without_listed_sign_in_logs_points_to_the_members_dashboards_in_every_band():
    run = run_stack("hub", memberSignInLogGroupArns=[])
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert [w for w in body["widgets"] if w["type"] == "log"] == []
    notes = [w["properties"]["markdown"] for w in body["widgets"] if "signInLogGroupArn" in str(w["properties"])]
    assert len(notes) == 2  # one per Region band
    assert all("login-monitoring-<stack>-sign-ins" in note and "memberSignInLogGroupArns" in note for note in notes)
    covered = set()
    for widget in body["widgets"]:
        covered |= set(range(widget["y"], widget["y"] + widget["height"]))
    assert covered == set(range(max(covered) + 1))


def test_unencrypted_hub_means_no_key_grant_for_forwarders(hub):
    outputs = {**hub.outputs, "hubTopicKeyArn": ""}
    run = run_program(load_stack_config("member-a", example=True), stack_outputs={"hub": outputs})
    policy = next(p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if "forwarder" in p.name)
    assert "EncryptForHubTopic" not in {s["Sid"] for s in statements(policy)}


def test_member_without_a_deployed_hub_gets_a_clear_error():
    with pytest.raises(HubStackError) as caught:
        run_program(
            load_stack_config("member-a", example=True), stack_outputs={"hub": {"hubTopicArn": "arn:aws:sns:x"}}
        )
    message = str(caught.value)
    assert "login-monitoring:hubStack: stack 'acme/login-monitoring/hub' has no output" in message
    assert "hubTopicKeyArn, sinkArn, organizationId" in message and "deploy the hub first" in message


def test_member_standalone_has_no_hub_wiring():
    run = run_stack("dev")
    for absent in ("pulumi:pulumi:StackReference", "aws:oam/link:Link", "loginmonitoring:index:HubForwarder"):
        assert run.of_type(absent) == []


def test_member_may_leave_its_own_recipients_to_the_hub(hub):
    run = run_program(load_stack_config("member-b", example=True), stack_outputs={"hub": hub.outputs})
    subscriptions = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    by_topic = {}
    for s in subscriptions:
        by_topic.setdefault(s.inputs["topic"], set()).add((s.inputs["protocol"], s.inputs["endpoint"]))
    forwarder = next(f for f in run.of_type("aws:lambda/function:Function") if "forwarder" in f.name).state["arn"]
    # Alerts go only to the hub; the monitoring's own faults also reach people directly, not only through
    # the forwarder whose failures they may be reporting.
    assert by_topic[alert_topic(run).state["arn"]] == {("lambda", forwarder)}
    assert by_topic[health_topic(run).state["arn"]] == {("lambda", forwarder), ("email", "cloud-ops@example.com")}


def test_a_member_without_recipients_must_name_who_hears_of_its_faults(hub):
    with pytest.raises(SettingsError, match="healthEmails: is required when alertEmails is empty"):
        run_program(
            load_stack_config("member-b", example=True, overrides={"login-monitoring:healthEmails": []}),
            stack_outputs={"hub": hub.outputs},
        )


def test_organization_trail_covers_every_account(hub):
    run = run_program(load_stack_config("management", example=True), stack_outputs={"hub": hub.outputs})
    trail = run.one("aws:cloudtrail/trail:Trail")
    assert trail.inputs["isOrganizationTrail"] is True and trail.inputs["isMultiRegionTrail"] is True
    trail_policy = named(run, "aws:s3/bucketPolicy:BucketPolicy", "login-monitoring-cloudtrail-bucket-policy")
    write = statement(trail_policy, "CloudTrailOrganizationWrite")
    bucket = named(run, "aws:s3/bucket:Bucket", "login-monitoring-cloudtrail-bucket").state["bucket"]
    assert write["Resource"] == f"arn:aws:s3:::{bucket}/AWSLogs/{ORG}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail.state["arn"]
    assert trail.inputs["eventSelectors"][0]["readWriteType"] == "All"  # trailEvents: all


def test_an_account_trail_is_not_an_organization_trail():
    run = run_stack("dev")
    assert run.one("aws:cloudtrail/trail:Trail").inputs["isOrganizationTrail"] is False
    assert "CloudTrailOrganizationWrite" not in {
        s["Sid"] for s in statements(run.one("aws:s3/bucketPolicy:BucketPolicy"))
    }


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "words"),
    [
        ("hub", {"organizationId": ""}, "organizationId", "is required for the hub"),
        ("hub", {"organizationId": "org-123"}, "organizationId", "is not an organization id"),
        ("hub", {"hubStack": "acme/login-monitoring/other"}, "hubStack", "a hub does not reference another hub"),
        ("hub", {"trailMode": "organization"}, "trailMode", "the hub creates no trail"),
        ("hub", {"stackRole": "spoke"}, "stackRole", "must be one of member, hub"),
        ("dev", {"trailMode": "organization"}, "organizationId", "is required with trailMode 'organization'"),
        ("dev", {"hubStack": "acme/login monitoring"}, "hubStack", "is not a stack name"),
        ("member-b", {"hubStack": ""}, "alertEmails", "at least one mail recipient is required"),
        (
            "hub",
            {"memberSignInLogGroupArns": ["login-monitoring-sign-in-notifier-logs-8f91928"]},
            "memberSignInLogGroupArns",
            "is not a log group ARN such as arn:aws:logs:",
        ),
        (
            "hub",
            {"memberSignInLogGroupArns": ["arn:aws:logs:xx-nowhere-1:111122223333:log-group:a"]},
            "memberSignInLogGroupArns",
            "'xx-nowhere-1', which is not an AWS Region",
        ),
        (
            "hub",
            {"memberSignInLogGroupArns": [f"{LOGS}ap-south-1:111122223333:log-group:{SHARED}8f91928"]},
            "memberSignInLogGroupArns",
            "where the hub has no sink; add ap-south-1 to memberRegions",
        ),
        (
            "hub",
            {"memberSignInLogGroupArns": [f"{LOGS}us-east-1:111122223333:log-group:aws-cloudtrail-logs-1"]},
            "memberSignInLogGroupArns",
            "is not a notifier log group a member shares (named login-monitoring-sign-in-notifier-logs-...)",
        ),
    ],
)
def test_role_settings_fail_naming_the_key(stack, overrides, key, words):
    with pytest.raises(SettingsError) as caught:
        run_stack(stack, **overrides)
    assert any(k == key and words in m for k, m in caught.value.problems), caught.value.problems


def test_a_hub_deployed_before_regional_sinks_still_serves_members_of_its_own_region(hub):
    older = {key: value for key, value in hub.outputs.items() if key != "sinkArns"}
    run = run_program(load_stack_config("member-a", example=True), stack_outputs={"hub": older})
    assert run.one("aws:oam/link:Link").inputs["sinkIdentifier"] == hub.outputs["sinkArn"]


MANAGEMENT = "999988887777"
DELEGATED_ADMIN = "555566667777"


def _organization_trail(hub, account_id, management_account=MANAGEMENT, **overrides):
    config = load_stack_config(
        "management", example=True, overrides={f"login-monitoring:{key}": value for key, value in overrides.items()}
    )
    return run_program(
        config,
        account_id=account_id,
        organization=Organization(ORG, management_account),
        stack_outputs={"hub": hub.outputs},
    )


def test_a_delegated_administrators_organization_trail_is_admitted_as_the_management_accounts(hub):
    run = _organization_trail(hub, DELEGATED_ADMIN, managementAccountId=MANAGEMENT)
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/login-monitoring-management"
    # AWS: in an organization trail aws:SourceArn must be a trail ARN owned by the management account.
    assert run.one("aws:cloudtrail/trail:Trail").state["arn"] == trail_arn
    policy = named(run, "aws:s3/bucketPolicy:BucketPolicy", "login-monitoring-cloudtrail-bucket-policy")
    for sid in ("CloudTrailAclCheck", "CloudTrailWrite", "CloudTrailOrganizationWrite"):
        assert statement(policy, sid)["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn, sid
    bucket = named(run, "aws:s3/bucket:Bucket", "login-monitoring-cloudtrail-bucket").state["bucket"]
    assert statement(policy, "CloudTrailWrite")["Resource"] == f"arn:aws:s3:::{bucket}/AWSLogs/{MANAGEMENT}/*"
    assert DELEGATED_ADMIN not in json.dumps(statements(policy))
    # The management example encrypts with its own key; the encryption context names the owner's trails.
    encrypt = statement(named(run, "aws:kms/key:Key", "login-monitoring-cloudtrail-key"), "CloudTrailEncryptsLogFiles")
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": trail_arn}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"
    }
    # What runs in the deploying account stays the deploying account's.
    assert run.outputs["alertTopicArn"].startswith(f"arn:aws:sns:us-east-1:{DELEGATED_ADMIN}:")


def test_the_management_account_needs_no_management_account_id(hub):
    run = _organization_trail(hub, MANAGEMENT)
    write = statement(
        named(run, "aws:s3/bucketPolicy:BucketPolicy", "login-monitoring-cloudtrail-bucket-policy"), "CloudTrailWrite"
    )
    assert write["Condition"]["StringEquals"]["aws:SourceArn"].split(":")[4] == MANAGEMENT


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        ({}, "managementAccountId", f"is required: account {DELEGATED_ADMIN} is not the management account"),
        ({}, "managementAccountId", f'set managementAccountId: "{MANAGEMENT}"'),
        ({"managementAccountId": "111122223333"}, "managementAccountId", f"the management account of {ORG} is"),
        (
            {"managementAccountId": MANAGEMENT, "organizationId": "o-zzzzzzzzzz"},
            "organizationId",
            f"belongs to organization {ORG}",
        ),
    ],
)
def test_an_organization_trail_owner_that_organizations_contradicts_fails_before_anything_is_created(
    hub, overrides, key, words
):
    with pytest.raises(SettingsError) as caught:
        _organization_trail(hub, DELEGATED_ADMIN, **overrides)
    assert f"login-monitoring:{key}: " in str(caught.value) and words in str(caught.value)
