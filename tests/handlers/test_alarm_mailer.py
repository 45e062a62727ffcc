"""The alarm mailer against moto: the mail lists exactly the events behind the alarm, and never fails to go out.

The alarms reach it through the alarm topic, so most events here are SNS deliveries of CloudWatch's notification.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from components.alarm_mailer import alarm_name, detections_document
from components.outlier_alarm import mailed_alarm, outlier_alarm_name
from detections.catalog import CATALOG
from detections.profiles import resolve_detections
from handlers import alarm_mailer
from handlers.alarm_mail import MAX_ROWS, DetectionInfo
from handlers.alarm_mailer import MailerConfig, handle, load_detections
from tests.handlers.alarm_events import (
    ACCOUNT,
    LOG_GROUP,
    alarm_event,
    composite_alarm_event,
    mailer_world,
    put_trail_events,
    sns_alarm_event,
    sns_composite_alarm_event,
    sns_delivery,
)
from tests.handlers.published import Recorder, entries

PREFIX = "login-monitoring-prod"
DEPLOYED = resolve_detections("recommended")
DETECTIONS = {
    name: DetectionInfo.from_json(data) for name, data in json.loads(detections_document(DEPLOYED, PREFIX)).items()
}
PATTERNS = {item.id: item.compiled for item in DEPLOYED}
# Recent, so moto's log group accepts the events; whole minutes, as alarm periods are.
WINDOW_START = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
TOKYO_OFFSET = timedelta(hours=9)


@pytest.fixture
def aws(monkeypatch):
    yield from mailer_world(monkeypatch)


def config(aws, **changes) -> MailerConfig:
    values = {"topic_arn": aws.topic_arn, "log_group_name": LOG_GROUP, "timezone": "Asia/Tokyo"}
    values.update(changes)
    return MailerConfig(**values)


def recorded_history(copies: int = 3, spacing_seconds: int = 3) -> list[dict]:
    """Every catalog example event, several times over, one every few seconds around the window."""
    examples = [example.event for detection in CATALOG for example in detection.examples]
    start = WINDOW_START - timedelta(minutes=2)
    history = []
    for index in range(copies * len(examples)):
        record = copy.deepcopy(examples[index % len(examples)])
        moment = start + timedelta(seconds=spacing_seconds * index)
        record["eventTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["eventID"] = f"event-{index:04d}"
        history.append(record)
    return history


def table_times(body: str) -> list[str]:
    lines = body.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("Time (Asia/Tokyo)"))
    rows = []
    for line in lines[header + 1 :]:
        if not line or line.startswith("... and"):
            break
        rows.append(line[:19])
    return rows


def tokyo(record: dict) -> str:
    moment = datetime.fromisoformat(record["eventTime"]) + TOKYO_OFFSET
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def in_window(record: dict, start: datetime, end: datetime) -> bool:
    return start <= datetime.fromisoformat(record["eventTime"]) < end


def run(aws, event, sleeps=None, sns=None, **changes):
    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    return handle(event, config(aws, **changes), DETECTIONS, aws.logs, sns or aws.sns, sleep=sleep)


@pytest.mark.parametrize("detection_id", ["unauthorized-api-calls", "console-sign-in-without-mfa"])
def test_mail_lists_exactly_the_events_the_deployed_pattern_matches_in_the_window(aws, detection_id):
    history = recorded_history()
    put_trail_events(aws.logs, history)
    end = WINDOW_START + timedelta(minutes=5)
    expected = [r for r in history if in_window(r, WINDOW_START, end) and PATTERNS[detection_id].matches(r)]
    outside = [r for r in history if not in_window(r, WINDOW_START, end) and PATTERNS[detection_id].matches(r)]
    assert 0 < len(expected) <= MAX_ROWS and outside, "the recording must hold matches on both sides of the edge"

    assert run(aws, sns_alarm_event(alarm_name(PREFIX, detection_id), window_start=WINDOW_START)) == {"mailed": 1}

    (mail,) = aws.mails()
    detection = DETECTIONS[alarm_name(PREFIX, detection_id)]
    assert mail["Subject"] == f"[ALARM] {detection.title} in {ACCOUNT}"
    body = mail["Message"]
    assert table_times(body) == [tokyo(r) for r in expected]
    assert f"Matching events: {len(expected)}\n" in body
    assert f"Why:      {detection.why}" in body
    start_tokyo = (WINDOW_START + TOKYO_OFFSET).strftime("%Y-%m-%d %H:%M:%S")
    assert f"Window:   {start_tokyo} to " in body


def test_a_burst_is_cut_at_the_row_limit_and_counted_whole(aws):
    detection_id = "iam-policy-changes"
    matching = next(e.event for e in BY_EXAMPLE[detection_id])
    burst = []
    for index in range(MAX_ROWS + 7):
        record = copy.deepcopy(matching)
        record["eventTime"] = (WINDOW_START + timedelta(seconds=5 * index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["eventID"] = f"burst-{index}"
        record["sourceIPAddress"] = "1.0.16.1" if index % 3 else "193.99.144.80"
        burst.append(record)
    put_trail_events(aws.logs, burst)

    run(aws, sns_alarm_event(alarm_name(PREFIX, detection_id), window_start=WINDOW_START))

    body = aws.mails()[0]["Message"]
    assert len(table_times(body)) == MAX_ROWS
    assert "... and 7 more" in body
    assert f"Matching events: {MAX_ROWS + 7}\n" in body
    assert "Top source IPs: 1.0.16.1 (JP) (21), 193.99.144.80 (DE) (11)" in body
    assert "Top actors:     Assumed role: alice via role Admin (32)" in body


@pytest.mark.parametrize("shape", [sns_composite_alarm_event, composite_alarm_event], ids=["notification", "direct"])
def test_the_outlier_alarm_lists_the_failed_sign_ins_before_its_composite_changed(aws, shape):
    outlier = outlier_alarm_name(PREFIX)
    detections = {
        name: DetectionInfo.from_json(data)
        for name, data in json.loads(detections_document(DEPLOYED, PREFIX, (mailed_alarm(PREFIX),))).items()
    }
    changed = WINDOW_START + timedelta(minutes=20)
    failure = next(e.event for e in BY_EXAMPLE["failed-console-sign-ins"])
    success = next(e.event for e in CATALOG_BY_ID["failed-console-sign-ins"].examples if not e.expected("recommended"))
    records = []
    for index, (minutes_before, template) in enumerate([(16, failure), (14, failure), (2, failure), (3, success)]):
        record = copy.deepcopy(template)
        record["eventTime"] = (changed - timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["eventID"] = f"outlier-{index}"
        records.append(record)
    put_trail_events(aws.logs, records)
    # A composite alarm's payload has no evaluated datapoints: the mail reaches back 15 minutes.
    event = shape(outlier, [f"{outlier}-band", f"{outlier}-floor"], changed=changed)

    assert handle(event, config(aws), detections, aws.logs, aws.sns, sleep=lambda seconds: None) == {"mailed": 1}

    (mail,) = aws.mails()
    assert mail["Subject"] == f"[ALARM] Unusually many failed console sign-ins in {ACCOUNT}"
    body = mail["Message"]
    assert table_times(body) == [tokyo(records[1]), tokyo(records[2])]
    assert "Matching events: 2\n" in body
    assert f"Alarm:    {outlier}" in body


CATALOG_BY_ID = {d.id: d for d in CATALOG}
BY_EXAMPLE = {d.id: [e for e in d.examples if e.expected("recommended")] for d in CATALOG}


def test_an_alarm_whose_events_cannot_be_read_is_still_mailed_and_says_why(aws):
    class Denied:
        def filter_log_events(self, **kwargs):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "FilterLogEvents")

    event = sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), window_start=WINDOW_START)
    result = handle(event, config(aws), DETECTIONS, Denied(), aws.sns, sleep=lambda s: None)

    assert result == {"mailed": 1}
    (mail,) = aws.mails()
    assert mail["Subject"] == f"[ALARM] Root user activity in {ACCOUNT}"
    assert "The matching events could not be listed: AccessDeniedException" in mail["Message"]
    assert "cloudtrailv2/home?region=us-east-1#/events?StartTime=" in mail["Message"]


def test_an_unexpected_error_while_listing_still_mails_the_alarm(aws, caplog):
    class Broken:
        def filter_log_events(self, **kwargs):
            return {"events": [{"message": json.dumps({"eventTime": 5, "userIdentity": []})}], "nextToken": 7}

    event = sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), window_start=WINDOW_START)
    with caplog.at_level(logging.ERROR):
        handle(event, config(aws), DETECTIONS, Broken(), aws.sns, sleep=lambda s: None, remaining_ms=lambda: 1000)
    (mail,) = aws.mails()
    assert "Root user activity" in mail["Subject"]


def test_an_empty_window_is_asked_once_more_then_mailed_as_not_yet_delivered(aws):
    put_trail_events(aws.logs, [])
    sleeps: list[float] = []
    run(aws, sns_alarm_event(alarm_name(PREFIX, "cloudtrail-changes"), window_start=WINDOW_START), sleeps)
    assert sleeps == [alarm_mailer.EMPTY_RETRY_SECONDS]
    assert "No matching event was found in the log group for this window yet" in aws.mails()[0]["Message"]


def test_resolved_mails_follow_the_switch(aws):
    put_trail_events(aws.logs, [])
    event = sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), "OK", window_start=WINDOW_START, previous="ALARM")
    assert run(aws, event) == {"mailed": 0}
    assert aws.mails() == []

    assert run(aws, event, resolved_mails=True) == {"mailed": 1}
    (mail,) = aws.mails()
    assert mail["Subject"] == f"[OK] resolved: Root user activity in {ACCOUNT}"
    assert "back to OK" in mail["Message"]


def test_insufficient_data_is_not_mailed(aws):
    event = sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), "INSUFFICIENT_DATA", window_start=WINDOW_START)
    assert run(aws, event, resolved_mails=True) == {"mailed": 0}


def test_an_alarm_the_function_has_no_detection_for_gets_a_plain_readable_mail(aws):
    event = sns_alarm_event("someone-elses-alarm", window_start=WINDOW_START, description="CPU high\non the box")
    run(aws, event)
    (mail,) = aws.mails()
    assert mail["Subject"] == f"[ALARM] someone-elses-alarm in {ACCOUNT}"
    assert "Description: CPU high on the box" in mail["Message"]
    assert "#alarmsV2:alarm/someone-elses-alarm" in mail["Message"]


def test_subject_stays_under_100_printable_ascii_characters(aws):
    long_name = "alarm-" + "\u00e9x" * 120
    run(aws, sns_alarm_event(long_name, window_start=WINDOW_START))
    subject = aws.mails()[0]["Subject"]
    assert len(subject) < 100 and subject.isascii() and subject.isprintable()


def test_a_payload_that_is_not_an_alarm_is_skipped_with_the_counted_log_line(aws, caplog):
    with caplog.at_level(logging.WARNING):
        result = run(aws, {"Records": []})
    assert result["mailed"] == 0
    assert "skipped record alarm payload" in caplog.text
    assert aws.mails() == []


def test_a_refused_publish_fails_the_invocation_so_lambda_retries_it(aws):
    put_trail_events(aws.logs, [])
    event = sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), window_start=WINDOW_START)
    with pytest.raises(ClientError):
        run(aws, event, topic_arn=f"{aws.topic_arn}-gone")


def test_handler_reads_its_settings_and_the_packaged_detections(aws, monkeypatch, tmp_path):
    put_trail_events(aws.logs, [])
    package_file = tmp_path / alarm_mailer.DETECTIONS_FILE
    package_file.write_text(detections_document(DEPLOYED, PREFIX), encoding="utf-8")
    assert load_detections(package_file) == DETECTIONS
    assert load_detections(tmp_path / "absent.json") == {}
    for key, value in {"TOPIC_ARN": aws.topic_arn, "LOG_GROUP_NAME": LOG_GROUP, "RESOLVED_MAILS": "true"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(alarm_mailer, "_clients", {"logs": aws.logs, "sns": aws.sns})
    monkeypatch.setattr(alarm_mailer, "_loaded", {})
    monkeypatch.setattr(alarm_mailer, "load_detections", lambda path: load_detections(package_file))
    event = sns_alarm_event(alarm_name(PREFIX, "vpc-changes"), "OK", window_start=WINDOW_START, previous="ALARM")

    assert alarm_mailer.handler(event, None) == {"mailed": 1}
    assert aws.mails()[0]["Subject"] == f"[OK] resolved: VPC changes in {ACCOUNT}"


def test_a_wrong_setting_is_named():
    with pytest.raises(alarm_mailer.ConfigurationError, match="RESOLVED_MAILS"):
        MailerConfig.from_env({"TOPIC_ARN": "t", "LOG_GROUP_NAME": "g", "RESOLVED_MAILS": "yes"})
    with pytest.raises(alarm_mailer.ConfigurationError, match="LOG_GROUP_NAME"):
        MailerConfig.from_env({"TOPIC_ARN": "t"})


def test_the_chat_card_offers_the_mails_links_as_next_steps(aws):
    put_trail_events(aws.logs, recorded_history())
    sns = Recorder(aws.sns)
    event = sns_alarm_event(alarm_name(PREFIX, "unauthorized-api-calls"), window_start=WINDOW_START)
    handle(event, config(aws), DETECTIONS, aws.logs, sns, sleep=lambda seconds: None)

    (request,) = sns.published
    message = entries(request)
    assert aws.mails()[0]["Message"] == message["default"]
    card = json.loads(message["https"])["content"]
    assert card["title"] == request["Subject"]
    assert [step.split(": ", 1)[0] for step in card["nextSteps"]] == [
        "CloudTrail event history (us-east-1)",
        "Logs Insights, this window",
        "The alarm",
    ]
    assert all(step.split(": ", 1)[1] in message["default"] for step in card["nextSteps"])
    assert "Matching events:" in card["description"] and "https://" not in card["description"]


def test_the_account_alias_is_named_next_to_the_id(aws):
    put_trail_events(aws.logs, [])
    run(
        aws,
        sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), window_start=WINDOW_START),
        account_alias="acme-prod",
    )
    (mail,) = aws.mails()
    assert mail["Subject"] == f"[ALARM] Root user activity in {ACCOUNT} (acme-prod)"
    assert mail["Message"].startswith(f"Root user activity: ALARM in AWS account {ACCOUNT} (acme-prod), us-east-1\n")


def test_a_long_alias_leaves_room_for_what_fired_and_keeps_the_id_whole(aws):
    put_trail_events(aws.logs, [])
    alias = "a" * 63
    run(aws, sns_alarm_event(alarm_name(PREFIX, "root-account-usage"), window_start=WINDOW_START), account_alias=alias)
    subject = aws.mails()[0]["Subject"]
    assert len(subject) < 100
    assert subject.startswith(f"[ALARM] Root user activity in {ACCOUNT} (aaa") and subject.endswith("...)")


def test_the_alias_comes_from_the_environment():
    env = {"TOPIC_ARN": "arn:aws:sns:us-east-1:1:t", "LOG_GROUP_NAME": "g", "ACCOUNT_ALIAS": "acme-prod"}
    assert MailerConfig.from_env(env).account_alias == "acme-prod"
    assert MailerConfig.from_env({**env, "ACCOUNT_ALIAS": ""}).account_alias == ""


def test_a_members_enriched_mail_reaches_the_hub_inbox_naming_the_account(aws):
    from handlers.forwarder import forward

    history = recorded_history()
    put_trail_events(aws.logs, history)
    sns = Recorder(aws.sns)
    event = sns_alarm_event(alarm_name(PREFIX, "unauthorized-api-calls"), window_start=WINDOW_START)
    handle(event, config(aws, account_alias="acme-prod"), DETECTIONS, aws.logs, sns, sleep=lambda seconds: None)
    (request,) = sns.published
    member_mail = aws.mails()[0]["Message"]

    # What SNS hands the member's forwarder function: the "lambda" entry of the same publish.
    hub_topic = aws.sns.create_topic(Name="hub")["TopicArn"]
    aws.sns.subscribe(TopicArn=hub_topic, Protocol="sqs", Endpoint=aws.mailbox_arn)
    record = {"Sns": {"Subject": request["Subject"], "Message": entries(request)["lambda"]}}
    assert forward({"Records": [record]}, hub_topic, aws.sns) == 1

    (at_hub,) = aws.mails()
    assert at_hub["Subject"] == f"[ALARM] Unauthorized API calls in {ACCOUNT} (acme-prod)"
    assert at_hub["Message"] == member_mail
    assert f"in AWS account {ACCOUNT} (acme-prod), us-east-1" in at_hub["Message"].splitlines()[0]


def test_a_burst_over_several_periods_lists_the_events_of_every_datapoint_the_notification_names(aws):
    detection_id = "unauthorized-api-calls"
    # One second apart: a whole round of the catalog's examples fits in the three minutes, however many there are.
    history = recorded_history(copies=8, spacing_seconds=1)
    put_trail_events(aws.logs, history)
    # Three one-minute datapoints: the window runs from the first one's start to the end of the last one.
    end = WINDOW_START + timedelta(minutes=3)
    expected = [r for r in history if in_window(r, WINDOW_START, end) and PATTERNS[detection_id].matches(r)]
    later = [r for r in history if in_window(r, end, end + timedelta(minutes=5)) and PATTERNS[detection_id].matches(r)]
    assert len(expected) > 1 and later, "the recording must hold matches in the window and after it"
    event = sns_alarm_event(alarm_name(PREFIX, detection_id), window_start=WINDOW_START, period=60, datapoints=3)

    assert run(aws, event) == {"mailed": 1}
    body = aws.mails()[0]["Message"]
    assert f"Matching events: {len(expected)}\n" in body
    assert table_times(body)[0] == tokyo(expected[0])


@pytest.mark.parametrize(
    ("detection_id", "state", "shown"),
    [("iam-policy-changes", "ALARM", "Matching events: "), ("root-account-usage", "OK", "back to OK")],
)
def test_the_notification_through_the_alarm_topic_mails_what_the_direct_alarm_action_mailed(
    aws, detection_id, state, shown
):
    put_trail_events(aws.logs, recorded_history())
    change = {"window_start": WINDOW_START, "datapoints": 2, "previous": "ALARM" if state == "OK" else "OK"}
    name = alarm_name(PREFIX, detection_id)
    assert run(aws, alarm_event(name, state, **change), resolved_mails=True) == {"mailed": 1}
    (direct,) = aws.mails()
    assert run(aws, sns_alarm_event(name, state, **change), resolved_mails=True) == {"mailed": 1}
    (notified,) = aws.mails()
    assert (notified["Subject"], notified["Message"]) == (direct["Subject"], direct["Message"])
    assert shown in notified["Message"]


def test_a_refused_publish_is_retried_by_lambda_and_the_state_change_is_mailed_once(aws):
    from tests.handlers.faulty import Faulty, client_error

    put_trail_events(aws.logs, recorded_history())
    refusals = [client_error("KMSThrottlingException", "Publish")]

    def refuse_once(**request):
        if refusals:
            raise refusals.pop()

    sns = Faulty(aws.sns, publish=refuse_once)
    event = sns_alarm_event(alarm_name(PREFIX, "unauthorized-api-calls"), window_start=WINDOW_START)
    with pytest.raises(ClientError):
        run(aws, event, sns=sns)
    assert aws.mails() == []
    # Lambda's asynchronous retry hands the function the same event again.
    assert run(aws, event, sns=sns) == {"mailed": 1}
    (mail,) = aws.mails()
    assert mail["Subject"] == f"[ALARM] Unauthorized API calls in {ACCOUNT}"
    assert "Matching events:" in mail["Message"]


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("Hello from the SNS console", "not a CloudWatch alarm notification"),
        (json.dumps({"AlarmName": "x", "NewStateValue": "ALARM", "StateChangeTime": "yesterday"}), "StateChangeTime"),
        (json.dumps(["AlarmName"]), "not a CloudWatch alarm notification"),
    ],
)
def test_a_message_on_the_alarm_topic_that_is_no_alarm_is_skipped_with_the_counted_log_line(aws, caplog, message, why):
    event = sns_delivery({"AlarmName": "placeholder"})
    event["Records"][0]["Sns"]["Message"] = message
    with caplog.at_level(logging.WARNING):
        result = run(aws, event)
    assert result["mailed"] == 0 and why in result["skipped"]
    assert "skipped record alarm payload" in caplog.text
    assert aws.mails() == []
