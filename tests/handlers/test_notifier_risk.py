"""History reasons end to end against moto: Queries on the indexes, batches, retries and faults."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from handlers.notifier import ConfigurationError, NotifierConfig, process_batch
from handlers.store import FAILURE_INDEX, IP_INDEX, PRINCIPAL_INDEX
from tests.handlers.events import subscription_payload
from tests.handlers.faulty import Atomic, Faulty, all_at_once, client_error
from tests.handlers.signins import GERMANY, GERMANY_V6, JAPAN, USA, sign_in, unknown_user_failure


def reasons_of(aws, event_id: str) -> list[str]:
    return [reason["S"] for reason in aws.item(event_id).get("riskReasons", {}).get("L", [])]


def subjects(aws) -> dict[str, str]:
    found = {}
    for mail in aws.mails():
        event_id = next(line.split()[-1] for line in mail["Message"].splitlines() if line.startswith("Event ID:"))
        found[event_id] = mail["Subject"]
    return found


def test_new_country_and_impossible_travel_from_an_earlier_batch(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN)])
    aws.mails()
    aws.run([sign_in("berlin", "10:40", GERMANY)])

    assert reasons_of(aws, "berlin") == [
        "new country: first sign-in from Germany (DE) in 90 days (before: JP)",
        "impossible travel: signed in from Japan (JP) 40 minutes earlier, now from Germany (DE)",
    ]
    assert aws.item("berlin")["country"] == {"S": "DE"}
    (subject,) = subjects(aws).values()
    assert subject == "[!] Console sign-in succeeded (new country): IAM user alice in 111122223333"


def test_the_risky_policy_mails_a_sign_in_only_its_history_makes_risky(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN)], notify_on="risky")
    assert aws.mails() == []
    aws.run([sign_in("tokyo-again", "10:20", JAPAN), sign_in("berlin", "10:40", GERMANY_V6)], notify_on="risky")
    assert list(subjects(aws)) == ["berlin"]
    assert aws.item("tokyo-again")["mail"]["S"] == "not-required"


def test_reasons_within_one_batch_use_the_batch_itself(aws):
    batch = [
        *(sign_in(f"fail-{n}", f"10:0{n}", USA, user=f"user{n}", failed=True) for n in range(5)),
        sign_in("ok", "10:30", USA, user="user9"),
    ]
    aws.run(batch)
    assert reasons_of(aws, "fail-4")[-1] == "password spray: 5 user names failed from this IP in 60 minutes"
    assert not any(reason.startswith("password spray") for reason in reasons_of(aws, "fail-3"))
    assert reasons_of(aws, "ok") == ["succeeded after failures: 5 failed sign-ins from this IP in 60 minutes"]


def test_unknown_user_names_count_per_ip(aws):
    aws.run([unknown_user_failure(f"hidden-{n}", f"10:0{n}", USA) for n in range(5)])
    assert "password spray" in reasons_of(aws, "hidden-4")[-1]
    aws.run([sign_in("elsewhere", "10:30", JAPAN), sign_in("there", "10:31", USA, user="bob")])
    assert reasons_of(aws, "elsewhere") == []
    assert reasons_of(aws, "there") == ["succeeded after failures: 5 failed sign-ins from this IP in 60 minutes"]


def test_aws_internal_and_quiet_sign_ins_get_no_history_reasons(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN), sign_in("internal", "10:05", "AWS Internal")])
    aws.run([sign_in("tokyo-2", "10:10", JAPAN)])
    assert reasons_of(aws, "internal") == reasons_of(aws, "tokyo-2") == []
    assert "country" not in aws.item("internal")


def test_one_query_per_principal_and_per_ip_of_a_batch(aws):
    calls = []
    dynamodb = Faulty(aws.dynamodb, query=lambda **kwargs: calls.append(kwargs["IndexName"]))
    batch = [sign_in(f"e{n}", f"10:{n:02}", JAPAN, user=f"user{n % 3}") for n in range(30)]
    process_batch(subscription_payload(batch), aws.config(), dynamodb, aws.sns, clock=lambda: _handled())
    assert sorted(calls) == sorted([IP_INDEX] + [PRINCIPAL_INDEX] * 3)


def test_a_batch_from_many_addresses_reads_failures_by_the_hour_with_the_same_reasons(aws):
    """Eight addresses: two Queries of the failure hours instead of eight, and each sign-in's reasons as if
    every address had been read on its own (replay judges every sign-in over all earlier ones)."""
    from handlers.risk import RiskSettings
    from replay.core import Replay

    ips = [f"{a}.0.{b}.9" for a, b in zip((1, 8, 193, 45) * 2, range(8), strict=True)]
    earlier = [unknown_user_failure(f"old-{n}", f"09:{30 + n:02d}", ips[n % 8]) for n in range(24)]
    aws.run(earlier[:12])
    aws.run(earlier[12:])
    batch = [unknown_user_failure(f"new-{n}", f"10:{n:02d}", ips[n % 8]) for n in range(16)]
    batch += [sign_in("ok", "10:20", ips[3], user="bob")]
    calls = []
    dynamodb = Faulty(aws.dynamodb, query=lambda **kwargs: calls.append(kwargs["IndexName"]))
    process_batch(subscription_payload(batch), aws.config(), dynamodb, aws.sns, clock=_handled)
    assert sorted(calls) == [FAILURE_INDEX, FAILURE_INDEX, PRINCIPAL_INDEX]

    replay = Replay([], risk=RiskSettings())
    for raw in [*earlier, *batch]:
        replay._mail(raw)
    judged = {mail.event_id: mail.body for mail in replay.result().mails}
    for raw in batch:
        expected = next(line for line in judged[raw["eventID"]].splitlines() if line.startswith("Needs a look"))
        assert "; ".join(reasons_of(aws, raw["eventID"])) == expected.split(":", 1)[1].strip(), raw["eventID"]
    assert any("password spray" in reason for raw in batch for reason in reasons_of(aws, raw["eventID"]))
    assert reasons_of(aws, "ok") == ["succeeded after failures: 5 failed sign-ins from this IP in 60 minutes"]


def test_a_throttled_query_fails_the_invocation_before_anything_is_stored_and_the_retry_keeps_the_reason(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN)])
    aws.mails()

    def throttled(**_):
        raise client_error("ProvisionedThroughputExceededException", "Query")

    batch = [sign_in("berlin", "10:40", GERMANY)]
    with pytest.raises(ClientError):
        process_batch(
            subscription_payload(batch), aws.config(), Faulty(aws.dynamodb, query=throttled), aws.sns, clock=_handled
        )
    assert aws.item("berlin") is None and aws.mails() == []

    aws.run(batch)
    assert [reason.split(":")[0] for reason in reasons_of(aws, "berlin")] == ["new country", "impossible travel"]
    assert len(aws.mails()) == 1


def test_a_retried_batch_keeps_its_reasons_and_mails_once(aws):
    batch = [*(sign_in(f"f{n}", f"10:0{n}", USA, failed=True) for n in range(3)), sign_in("ok", "10:30", USA)]
    first = aws.run(batch)
    mails = aws.mails()
    again = aws.run(batch)
    assert (first.stored, first.mailed, again.stored, again.duplicates, again.mailed) == (4, 4, 0, 4, 0)
    assert aws.mails() == []
    ok_mail = next(mail for mail in mails if "Event ID:         ok" in mail["Message"])
    assert "Needs a look:     succeeded after failures: 3 failed sign-ins of this principal" in ok_mail["Message"]


def test_concurrent_invocations_of_one_batch_store_and_mail_each_sign_in_once_with_the_same_reasons(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN)])
    aws.mails()
    batch = [
        *(sign_in(f"spray-{n}", f"10:1{n}", USA, user=f"user{n}", failed=True) for n in range(5)),
        sign_in("ok", "10:30", USA, user="user9"),
        sign_in("berlin", "10:40", GERMANY_V6),
    ]

    def invoke(owner):
        payload = subscription_payload(batch)
        dynamodb, sns = Atomic(aws.dynamodb), Atomic(aws.sns)
        return process_batch(payload, aws.config(), dynamodb, sns, clock=_handled, owner=owner)

    results, errors = all_at_once(invoke, [f"invocation-{n}" for n in range(2)])

    assert errors == []
    assert sum(result.stored for result in results) == len(batch)
    assert sum(result.mailed for result in results) == len(batch)
    mailed = subjects(aws)
    assert sorted(mailed) == sorted(record["eventID"] for record in batch)
    # Only earlier sign-ins count, so whichever invocation stored a sign-in gave it the same reasons.
    assert reasons_of(aws, "spray-4")[-1] == "password spray: 5 user names failed from this IP in 60 minutes"
    assert reasons_of(aws, "ok") == ["succeeded after failures: 5 failed sign-ins from this IP in 60 minutes"]
    assert [reason.split(":")[0] for reason in reasons_of(aws, "berlin")] == ["new country", "impossible travel"]
    assert "(new country)" in mailed["berlin"]


def test_reasons_can_be_switched_off_by_setting(aws):
    aws.run([sign_in("tokyo", "10:00", JAPAN)])
    aws.run([sign_in("berlin", "10:40", GERMANY)], new_country=False, travel_minutes=0)
    assert reasons_of(aws, "berlin") == []


def test_risk_settings_come_from_the_environment_and_are_checked():
    env = {"TABLE_NAME": "t", "TOPIC_ARN": "arn", "RISK_NEW_COUNTRY": "false", "RISK_SPRAY_USER_NAMES": "0"}
    config = NotifierConfig.from_env({**env, "RISK_TRAVEL_MINUTES": "90", "HISTORY_DAYS": "30"})
    assert (config.new_country, config.travel_minutes, config.spray_user_names, config.history_days) == (
        False,
        90,
        0,
        30,
    )
    assert config.risk.history_days == 30 and config.risk.ip_lookback.total_seconds() == 3600
    with pytest.raises(ConfigurationError, match="RISK_SPRAY_WINDOW_MINUTES must be between 1"):
        NotifierConfig.from_env({**env, "RISK_SPRAY_WINDOW_MINUTES": "0"})
    with pytest.raises(ConfigurationError, match="RISK_TRAVEL_MINUTES must be between 0"):
        NotifierConfig.from_env({**env, "RISK_TRAVEL_MINUTES": "-1"})
    with pytest.raises(ConfigurationError, match="RISK_NEW_COUNTRY must be true or false"):
        NotifierConfig.from_env({**env, "RISK_NEW_COUNTRY": "yes"})
    with pytest.raises(ConfigurationError, match="RISK_FAILURES_BEFORE_SUCCESS must be a whole number"):
        NotifierConfig.from_env({**env, "RISK_FAILURES_BEFORE_SUCCESS": "three"})


def _handled():
    from tests.handlers.moto_aws import HANDLED_AT

    return HANDLED_AT


def test_each_new_sign_in_writes_one_structured_log_line_for_the_country_chart(aws, caplog):
    import logging

    from detections.contributors import BY_ID, contribution
    from handlers.log_lines import SIGN_IN_LOG_MESSAGE

    batch = [sign_in("berlin", "10:40", GERMANY, failed=True), sign_in("internal", "10:41", "AWS Internal")]
    with caplog.at_level(logging.INFO, logger="login-monitoring.notifier"):
        aws.run(batch)
        aws.run(batch)  # a retry stores nothing new and writes no second line
    lines = [record for record in caplog.records if record.getMessage() == SIGN_IN_LOG_MESSAGE]
    assert [line.signIn["eventId"] for line in lines] == ["berlin", "internal"]
    assert lines[0].signIn == {
        "eventId": "berlin",
        "eventName": "ConsoleLogin",
        "outcome": "Failure",
        "principalKind": "iam-user",
        "country": "DE",
        "sourceIp": GERMANY,
        "principal": "alice",
        "attempt": True,
        "reasons": ["failed sign-in"],
    }
    # What Lambda's JSON log format makes of the line, as the country rule reads it.
    rule = BY_ID["sign-ins-by-country"]
    as_logged = [{"message": line.getMessage(), "signIn": line.signIn} for line in lines]
    assert [contribution(rule, line) for line in as_logged] == [("DE", "Failure"), ("none", "Success")]
