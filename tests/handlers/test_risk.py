"""The history reasons as pure functions: what counts, what does not, and each setting."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.risk import (
    AFTER_FAILURES,
    IMPOSSIBLE_TRAVEL,
    NEW_COUNTRY,
    PASSWORD_SPRAY,
    RiskJudge,
    RiskSettings,
    assess,
    ip_key,
    principal_key,
    short_name,
    sighting_of,
)
from handlers.signin import parse_signin_event
from tests.handlers.events import event
from tests.handlers.signins import GERMANY, GERMANY_V6, JAPAN, USA, sign_in, unknown_user_failure

DEFAULTS = RiskSettings()


def reasons_for(latest: dict, *earlier: dict, settings: RiskSettings = DEFAULTS) -> list[str]:
    """Reasons of `latest` given the others as history (each index sees every sign-in)."""
    history = [sighting_of(parse_signin_event(raw)) for raw in (*earlier, latest)]
    return [short_name(reason) for reason in assess(parse_signin_event(latest), history, history, settings)]


def test_first_sign_in_from_a_country_not_in_the_principals_history_is_a_new_country():
    reasons = assess(
        parse_signin_event(sign_in("now", "12:00", GERMANY)),
        [sighting_of(parse_signin_event(sign_in("before", "2024-04-01T09:00:00Z", JAPAN)))],
        [],
        DEFAULTS,
    )
    assert reasons == ("new country: first sign-in from Germany (DE) in 90 days (before: JP)",)


@pytest.mark.parametrize(
    "history",
    [
        pytest.param([], id="no history at all"),
        pytest.param([sign_in("before", "2024-04-01T09:00:00Z", GERMANY_V6)], id="same country over IPv6"),
        pytest.param([sign_in("before", "2024-04-01T09:00:00Z", "AWS Internal")], id="history without a location"),
        pytest.param([sign_in("before", "2024-04-01T09:00:00Z", JAPAN, user="bob")], id="someone else's history"),
        pytest.param([sign_in("before", "2024-01-01T09:00:00Z", JAPAN)], id="history older than the window"),
        pytest.param([sign_in("before", "09:00", JAPAN, failed=True)], id="only a failure from there"),
    ],
)
def test_not_a_new_country(history):
    assert NEW_COUNTRY not in reasons_for(sign_in("now", "12:00", GERMANY), *history)


def test_new_country_follows_the_history_window_and_can_be_turned_off():
    months_ago = sign_in("before", "2024-01-01T09:00:00Z", JAPAN)
    now = sign_in("now", "12:00", GERMANY)
    assert NEW_COUNTRY in reasons_for(now, months_ago, settings=replace(DEFAULTS, history_days=180))
    assert NEW_COUNTRY not in reasons_for(
        now, sign_in("b", "09:00", JAPAN), settings=replace(DEFAULTS, new_country=False)
    )


def test_a_failed_sign_in_from_a_new_country_is_not_a_new_country():
    assert NEW_COUNTRY not in reasons_for(sign_in("now", "12:00", GERMANY, failed=True), sign_in("b", "09:00", JAPAN))


def test_two_countries_within_the_travel_window_is_impossible_travel():
    now = parse_signin_event(sign_in("now", "10:40", GERMANY))
    earlier = [sighting_of(parse_signin_event(sign_in("before", "10:00", JAPAN)))]
    assert assess(now, earlier, [], replace(DEFAULTS, new_country=False)) == (
        "impossible travel: signed in from Japan (JP) 40 minutes earlier, now from Germany (DE)",
    )


def test_travel_slower_than_the_window_or_turned_off_is_not_impossible():
    assert IMPOSSIBLE_TRAVEL not in reasons_for(sign_in("now", "11:01", GERMANY), sign_in("b", "10:00", JAPAN))
    off = replace(DEFAULTS, travel_minutes=0)
    assert IMPOSSIBLE_TRAVEL not in reasons_for(
        sign_in("now", "10:40", GERMANY), sign_in("b", "10:00", JAPAN), settings=off
    )
    longer = replace(DEFAULTS, travel_minutes=120)
    assert IMPOSSIBLE_TRAVEL in reasons_for(
        sign_in("now", "11:01", GERMANY), sign_in("b", "10:00", JAPAN), settings=longer
    )


def test_only_earlier_sign_ins_count_even_when_the_history_holds_later_ones():
    later = sign_in("later", "10:30", JAPAN)
    assert reasons_for(sign_in("now", "10:00", GERMANY), later) == []


def test_a_success_after_failures_of_the_principal_or_from_the_ip():
    failures = [sign_in(f"f{n}", f"10:0{n}", USA, failed=True) for n in range(3)]
    assert AFTER_FAILURES in reasons_for(sign_in("ok", "10:30", JAPAN), *failures)
    # From the IP: three other people failed there.
    others = [sign_in(f"f{n}", f"10:0{n}", USA, user=f"user{n}", failed=True) for n in range(3)]
    assert AFTER_FAILURES in reasons_for(sign_in("ok", "10:30", USA), *others)


def test_not_enough_or_too_old_failures_are_not_a_success_after_failures():
    two = [sign_in(f"f{n}", f"10:0{n}", USA, failed=True) for n in range(2)]
    assert AFTER_FAILURES not in reasons_for(sign_in("ok", "10:30", JAPAN), *two)
    old = [sign_in(f"f{n}", f"08:0{n}", USA, failed=True) for n in range(3)]
    assert AFTER_FAILURES not in reasons_for(sign_in("ok", "10:30", JAPAN), *old)
    settings = replace(DEFAULTS, failures_before_success=2, failures_window_minutes=180)
    assert AFTER_FAILURES in reasons_for(sign_in("ok", "10:30", JAPAN), *old, settings=settings)


def test_unknown_user_names_count_for_their_ip_never_as_one_principal():
    hidden = [unknown_user_failure(f"h{n}", f"10:0{n}", USA) for n in range(3)]
    # Alice from another IP: the hidden failures are nobody's, so not hers.
    assert AFTER_FAILURES not in reasons_for(sign_in("ok", "10:30", JAPAN), *hidden)
    # Alice from the IP that failed three times: suspicious.
    assert AFTER_FAILURES in reasons_for(sign_in("ok", "10:30", USA), *hidden)
    assert principal_key(parse_signin_event(hidden[0])) == ""


def test_many_user_names_failing_from_one_ip_is_a_password_spray():
    names = [sign_in(f"f{n}", f"10:0{n}", USA, user=f"user{n}", failed=True) for n in range(4)]
    latest = sign_in("f4", "10:05", USA, user="user4", failed=True)
    assert reasons_for(latest, *names) == [PASSWORD_SPRAY]
    assert reasons_for(names[-1], *names[:-1]) == []  # four names so far


def test_one_name_failing_many_times_is_not_a_spray_but_hidden_names_each_count():
    same = [sign_in(f"f{n}", f"10:0{n}", USA, failed=True) for n in range(6)]
    assert PASSWORD_SPRAY not in reasons_for(same[-1], *same[:-1])
    hidden = [unknown_user_failure(f"h{n}", f"10:0{n}", USA) for n in range(5)]
    assert PASSWORD_SPRAY in reasons_for(hidden[-1], *hidden[:-1])


def test_spray_window_and_threshold_are_settings():
    names = [sign_in(f"f{n}", f"10:0{n}", USA, user=f"user{n}", failed=True) for n in range(3)]
    latest = sign_in("f3", "10:59", USA, user="user3", failed=True)
    assert PASSWORD_SPRAY in reasons_for(latest, *names, settings=replace(DEFAULTS, spray_user_names=4))
    narrow = replace(DEFAULTS, spray_user_names=4, spray_window_minutes=30)
    assert PASSWORD_SPRAY not in reasons_for(latest, *names, settings=narrow)
    assert reasons_for(latest, *names, settings=replace(DEFAULTS, spray_user_names=0)) == []


def test_service_addresses_have_no_ip_key_and_no_location_based_reasons():
    assert ip_key("AWS Internal") == ip_key("signin.amazonaws.com") == ""
    assert ip_key("::ffff:8.8.8.8") == "8.8.8.8"
    assert ip_key("2A01:04F8::0001") == "2a01:4f8::1"
    internal = [sign_in(f"f{n}", f"10:0{n}", "AWS Internal", user=f"u{n}", failed=True) for n in range(6)]
    assert reasons_for(internal[-1], *internal[:-1]) == []
    assert reasons_for(sign_in("now", "10:30", "AWS Internal"), sign_in("b", "10:00", JAPAN)) == []


def test_steps_of_a_session_get_no_history_reasons():
    exit_role = parse_signin_event(event("exit_role"))
    assert assess(exit_role, [], [], DEFAULTS) == ()


def test_an_event_time_at_the_start_of_time_is_judged_without_error():
    first = sign_in("now", "0001-01-01T00:10:00Z", GERMANY)
    assert reasons_for(first, sign_in("b", "0001-01-01T00:00:00Z", JAPAN)) == [NEW_COUNTRY, IMPOSSIBLE_TRAVEL]


def test_principal_keys_are_bounded_for_the_index():
    raw = event("switch_role_success")
    raw["userIdentity"]["arn"] = "arn:aws:sts::111122223333:assumed-role/dev/" + "é" * 1000
    key = principal_key(parse_signin_event(raw))
    assert key.startswith("sha256:") and len(key) == 71


def _mixed_sign_ins(seed: int, count: int) -> list:
    """Sign-ins of a few people from three countries, minutes to days apart, and sprays from one address."""
    import random
    from datetime import UTC, datetime, timedelta

    chooser = random.Random(seed)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    moment = start
    records = []
    for index in range(count):
        moment += timedelta(seconds=chooser.choice([0, 1, 30, 60, 300, 2400, 3600 * 30]))
        when = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if chooser.random() < 0.3:
            raw = unknown_user_failure(f"e{index:04d}", "00:00", chooser.choice([USA, "203.0.113.9"]))
            raw["eventTime"] = when
        else:
            raw = sign_in(
                f"e{index:04d}",
                when,
                chooser.choice([JAPAN, GERMANY, USA, GERMANY_V6, "example.com"]),
                user=chooser.choice(["alice", "bob", "carol"]),
                failed=chooser.random() < 0.4,
            )
        records.append(parse_signin_event(raw))
    chooser.shuffle(records)  # the judge sorts nothing: the caller feeds it in time order
    return sorted(records, key=lambda record: (record.event_time, record.event_id))


@pytest.mark.parametrize(
    "settings",
    [
        RiskSettings(),
        RiskSettings(failures_before_success=2, spray_user_names=3, failures_window_minutes=5),
        RiskSettings(history_days=2, travel_minutes=0, spray_window_minutes=1),
        RiskSettings(failures_before_success=0, travel_minutes=30, spray_user_names=0),
        RiskSettings(new_country=False, spray_user_names=1),
    ],
)
def test_the_judge_gives_every_sign_in_the_reasons_assess_gives_with_every_earlier_sign_in(settings):
    judge = RiskJudge(settings)
    earlier, reasons_seen = [], set()
    for record in _mixed_sign_ins(5, 600):
        me = sighting_of(record)
        expected = assess(record, earlier, earlier, settings)
        assert judge.judge(record, me) == expected, record.event_id
        reasons_seen.update(short_name(reason) for reason in expected)
        judge.add(me)
        earlier.append(me)
    # The history must have decided something, or the comparison proves nothing.
    assert len(reasons_seen) >= 2


def test_a_spray_of_ten_thousand_from_one_address_is_judged_in_one_pass():
    from datetime import UTC, datetime, timedelta

    start = datetime(2024, 5, 1, tzinfo=UTC)
    judge, settings = RiskJudge(DEFAULTS), DEFAULTS
    sprayed = []
    for index in range(10_000):
        when = (start + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        raw = unknown_user_failure(f"s{index:05d}", "00:00", USA)
        raw["eventTime"] = when
        record = parse_signin_event(raw)
        me = sighting_of(record)
        sprayed.append(judge.judge(record, me))
        judge.add(me)
    # Hidden user names each count as a name of their own: the fifth failure from the address is a spray.
    assert sprayed[3] == ()
    assert short_name(sprayed[4][0]) == PASSWORD_SPRAY
    window = settings.spray_window_minutes
    assert sprayed[-1] == (f"{PASSWORD_SPRAY}: 3601 user names failed from this IP in {window} minutes",)
    # The window holds only the last hour, not every failure since the first.
    assert len(judge.addresses[ip_key(USA)].spray.items) == 3601
