"""Flood control's account-wide ceiling against moto: a distributed burst sends a handful of mails and digests.

A botnet's failed sign-ins come from many addresses and, when AWS hides the names, have one key per
address; a spray has one key per name. Either way only the first few keys of an account and outcome get a
mail of their own; the rest go into the account's digest, which says how many, from where and why.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from handlers.flood import DEFAULT_BURST_LIMIT
from handlers.notifier import ConfigurationError, NotifierConfig, process_batch
from tests.handlers.events import event, subscription_payload
from tests.handlers.faulty import Faulty, all_at_once, client_error
from tests.handlers.flood_runs import T0, deliver, digests, last_time

PREFIXES = (1, 8, 193, 45)


def address(index: int) -> str:
    """A different address for each index, spread over a few networks (and so countries)."""
    return f"{PREFIXES[index % len(PREFIXES)]}.{index // 256 % 256}.{index % 256}.7"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def hidden(count: int, start: datetime = T0, spacing: float = 2, prefix: str = "h", per_address: int = 1) -> list:
    """Failed sign-ins with names AWS hides, `per_address` from each address."""
    return [
        event(
            "unknown_user_failure",
            eventID=f"{prefix}-{index:05d}",
            eventTime=stamp(start + timedelta(seconds=spacing * index)),
            sourceIPAddress=address(index // per_address),
        )
        for index in range(count)
    ]


def sprayed(count: int, start: datetime = T0, spacing: float = 2) -> list:
    """Failed sign-ins of `count` different IAM user names, each from its own address."""
    return [
        event(
            "iam_user_mfa_failure",
            eventID=f"s-{index:05d}",
            eventTime=stamp(start + timedelta(seconds=spacing * index)),
            sourceIPAddress=address(index),
            userIdentity={"type": "IAMUser", "accountId": "111122223333", "userName": f"user{index:04d}"},
        )
        for index in range(count)
    ]


def in_batches(aws, messages, size: int = 20, known=None) -> None:
    """Delivered as CloudWatch Logs would: batches about a minute after their last event."""
    for start in range(0, len(messages), size):
        batch = messages[start : start + size]
        deliver(aws, batch, last_time(batch) + timedelta(minutes=1), known=known)


def held_in(aws, event_ids) -> dict[str, str]:
    """event id -> the digest key it was stored with ("" when it was mailed on its own)."""
    keys = {}
    for event_id in event_ids:
        item = aws.item(event_id)
        assert item is not None, event_id
        keys[event_id] = item.get("digestKey", {}).get("S", "")
    return keys


def count_in(body: str) -> int:
    line = next(line for line in body.splitlines() if line.startswith("Count:"))
    return int(line.split()[1])


def test_a_botnet_of_hidden_names_sends_the_ceiling_then_one_account_digest(aws):
    burst = hidden(200)  # 200 addresses, one failure each, within 7 minutes
    in_batches(aws, burst)

    assert aws.item_count() == 200
    first = aws.mails()
    assert len(first) == DEFAULT_BURST_LIMIT <= 5
    assert all(mail["Subject"].startswith("[!] Console sign-in FAILED") for mail in first)
    keys = held_in(aws, [m["eventID"] for m in burst])
    assert sorted(k for k in keys.values() if k) == ["Failure|account:111122223333"] * (200 - DEFAULT_BURST_LIMIT)

    end = last_time(burst)
    assert digests(aws, end + timedelta(minutes=11)) == 1
    (digest,) = aws.mails()
    assert digest["Subject"] == "[digest] 195 more failed sign-ins: burst from 195 IPs, 17 countries in 111122223333"
    body = digest["Message"]
    assert "Count:       195 from 195 source IPs in 17 countries" in body
    assert "every further failed sign-in in the account, whatever its" in body
    assert "Principals:  Unknown user name: (name hidden by AWS: no such user) (195)" in body
    assert "Reasons:     user name does not exist (195)" in body
    assert "First:       2024-06-01 08:00:10 Asia/Tokyo (2024-05-31 23:00:10 UTC)" in body
    assert ", and 185 more" in body.split("Source IPs:", 1)[1].splitlines()[0]
    assert digests(aws, end + timedelta(minutes=30)) == 0
    assert aws.mails() == []


def test_a_spray_over_many_names_from_many_addresses_sends_the_ceiling(aws):
    burst = sprayed(60)
    in_batches(aws, burst)
    assert len(aws.mails()) == DEFAULT_BURST_LIMIT
    assert aws.item_count() == 60
    digests(aws, last_time(burst) + timedelta(minutes=11))
    (digest,) = aws.mails()
    assert count_in(digest["Message"]) == 60 - DEFAULT_BURST_LIMIT
    assert "Principals:  IAM user: user0005 (1), IAM user: user0006 (1)," in digest["Message"]


def test_one_name_from_three_addresses_is_as_before_one_mail_and_one_digest(aws):
    burst = [
        event(
            "iam_user_mfa_failure",
            eventID=f"f-{index:04d}",
            eventTime=stamp(T0 + timedelta(seconds=10 * index)),
            sourceIPAddress=("193.99.144.80", "1.0.16.1", "8.8.8.8")[index % 3],
        )
        for index in range(60)
    ]
    in_batches(aws, burst)
    assert len(aws.mails()) == 1
    assert digests(aws, last_time(burst) + timedelta(minutes=11)) == 1
    (digest,) = aws.mails()
    assert digest["Subject"] == "[digest] 59 more failed sign-ins: IAM user: hibino in 111122223333"


def test_spray_reasons_seen_in_the_burst_are_counted_in_the_digest(aws):
    # 5 hidden names from each of 8 addresses: each address's fifth is a password spray (5 names).
    burst = hidden(40, per_address=5)
    in_batches(aws, burst)
    digests(aws, last_time(burst) + timedelta(minutes=11))
    bodies = [mail["Message"] for mail in aws.mails()]
    account = next(body for body in bodies if "whatever its" in body)
    assert "password spray (" in account
    sprays = sum(
        int(line.split("password spray (", 1)[1].split(")", 1)[0])
        for body in bodies
        for line in body.splitlines()
        if line.startswith("Reasons:") and "password spray" in line
    )
    stored = [aws.item(m["eventID"]) for m in burst]
    assert sprays == sum(any("password spray" in r["S"] for r in i.get("riskReasons", {}).get("L", [])) for i in stored)
    assert sprays == 8


def test_a_success_in_the_middle_of_the_burst_is_mailed_at_once_with_its_reasons(aws):
    burst = hidden(80)
    in_batches(aws, burst[:40])
    aws.mails()
    middle = last_time(burst[:40]) + timedelta(seconds=1)
    success = event("iam_user_no_mfa_success", eventID="in-the-middle", eventTime=stamp(middle))
    result = deliver(aws, [*burst[40:60], success], last_time(burst[40:60]) + timedelta(minutes=1))
    assert result.mailed == 1
    (mail,) = aws.mails()
    assert mail["Subject"] == "[!] Console sign-in succeeded during burst: IAM user hibino-dev in 111122223333"
    body = mail["Message"]
    assert body.startswith("Console sign-in succeeded in AWS account 111122223333, during a burst\n")
    assert "Needs a look:     no MFA" in body
    assert (
        "Burst:            failed sign-ins in this account since 2024-06-01 08:00:00 Asia/Tokyo "
        "(2024-05-31 23:00:00 UTC); past the first 5 mails they go into a digest" in body
    )
    in_batches(aws, burst[60:])
    assert aws.mails() == []


def test_a_risky_success_outside_any_burst_says_nothing_of_one(aws):
    deliver(aws, [event("iam_user_no_mfa_success", eventID="alone")], T0)
    (mail,) = aws.mails()
    assert "burst" not in mail["Subject"] + mail["Message"]


def test_root_sign_ins_during_the_burst_are_mailed_and_take_no_slot(aws):
    burst = hidden(30)
    roots = [event("root_mfa_failure", eventID=f"root-{i}", eventTime=stamp(T0 + timedelta(seconds=i))) for i in (1, 3)]
    deliver(aws, [*burst, *roots], last_time(burst) + timedelta(minutes=1))
    subjects = [mail["Subject"] for mail in aws.mails()]
    assert sum("Root user" in subject for subject in subjects) == 2
    assert len(subjects) == 2 + DEFAULT_BURST_LIMIT


def test_the_ceiling_is_per_account_and_per_outcome(aws):
    other = [
        {**m, "userIdentity": {**m["userIdentity"], "accountId": "444455556666"}, "eventID": "o" + m["eventID"]}
        for m in hidden(20)
    ]
    successes = [
        event(
            "iam_user_mfa_success",
            eventID=f"ok-{i}",
            eventTime=stamp(T0 + timedelta(seconds=i)),
            userIdentity={"type": "IAMUser", "accountId": "111122223333", "userName": f"u{i}"},
        )
        for i in range(8)
    ]
    deliver(aws, [*hidden(20), *other, *successes], T0 + timedelta(minutes=2))
    assert len(aws.mails()) == 3 * DEFAULT_BURST_LIMIT


def test_the_ceiling_is_a_setting(aws):
    in_batches(aws, hidden(40), known=None)
    assert len(aws.mails()) == DEFAULT_BURST_LIMIT
    burst = hidden(40, start=T0 + timedelta(hours=2), prefix="g")
    for start in range(0, 40, 20):
        batch = burst[start : start + 20]
        deliver(aws, batch, last_time(batch) + timedelta(minutes=1), burst_limit=2)
    assert len(aws.mails()) == 2


def test_after_the_quiet_time_the_ceiling_starts_again(aws):
    in_batches(aws, hidden(30))
    later = hidden(30, start=T0 + timedelta(minutes=30), prefix="g")
    in_batches(aws, later)
    assert len(aws.mails()) == 2 * DEFAULT_BURST_LIMIT


def test_a_retried_batch_decides_the_same(aws):
    burst = hidden(40)
    clock = last_time(burst) + timedelta(minutes=1)
    deliver(aws, burst[:20], clock)
    before = held_in(aws, [m["eventID"] for m in burst[:20]])
    again = deliver(aws, burst[:20], clock, known={})
    assert again.mailed == 0 and again.stored == 0
    assert len(aws.mails()) == DEFAULT_BURST_LIMIT
    deliver(aws, burst[20:], clock)
    assert held_in(aws, [m["eventID"] for m in burst[:20]]) == before


def test_a_batch_that_failed_after_taking_its_slots_mails_them_on_retry(aws):
    burst = hidden(20)
    clock = last_time(burst) + timedelta(minutes=1)

    def throttled(**_):
        raise client_error("ProvisionedThroughputExceededException", "PutItem")

    with pytest.raises(ClientError):
        process_batch(
            subscription_payload(burst),
            aws.config(flood_table="flood", quiet_minutes=10),
            Faulty(aws.dynamodb, put_item=throttled),
            aws.sns,
            flood_known={},
            clock=lambda: clock,
        )
    assert aws.mails() == [] and aws.item_count() == 0
    # Another invocation meanwhile: the ceiling is full, its sign-ins are held back.
    others = hidden(20, start=T0 + timedelta(seconds=50), prefix="o")
    deliver(aws, others, clock)
    assert aws.mails() == []
    # The retry finds the slots it took, and decides every sign-in as the failed attempt had.
    deliver(aws, burst, clock, known={})
    assert len(aws.mails()) == DEFAULT_BURST_LIMIT
    keys = held_in(aws, [m["eventID"] for m in burst])
    assert [event_id for event_id, key in keys.items() if not key] == [f"h-{i:05d}" for i in range(5)]
    assert set(held_in(aws, [m["eventID"] for m in others]).values()) == {"Failure|account:111122223333"}


def test_concurrent_invocations_take_each_slot_once_and_lose_no_sign_in(aws):
    burst = hidden(160, spacing=1)
    batches = [burst[i : i + 10] for i in range(0, 160, 10)]
    clock = last_time(burst) + timedelta(minutes=1)
    # Each invocation in its own container.
    _, errors = all_at_once(lambda batch: deliver(aws, batch, clock, known={}), batches)
    assert errors == []
    assert aws.item_count() == 160
    mails = aws.mails()
    assert len(mails) == DEFAULT_BURST_LIMIT
    window = aws.dynamodb.get_item(TableName="flood", Key={"windowKey": {"S": "Failure|account:111122223333"}})
    slots = window["Item"]["slots"]["M"]
    mailed_ids = {mail["Message"].split("Event ID:", 1)[1].split()[0] for mail in mails}
    assert set(slots) == mailed_ids

    sent, errors = all_at_once(lambda _: digests(aws, clock + timedelta(minutes=11)), range(4))
    assert errors == []
    listed = sum(count_in(mail["Message"]) for mail in aws.mails())
    # Every sign-in is in exactly one mail: its own, or one digest.
    assert listed + DEFAULT_BURST_LIMIT == 160
    assert sum(sent) >= 1


def test_digests_follow_the_clock_a_burst_that_ends_gets_one(aws):
    burst = hidden(40, spacing=3)  # two minutes
    in_batches(aws, burst)
    aws.mails()
    end = last_time(burst)
    runs = [end + timedelta(minutes=minutes) for minutes in (2, 5, 9.5, 10, 15, 20)]
    # Quiet for 10 minutes: sent at the first run after that, then never again.
    assert [digests(aws, run) for run in runs] == [0, 0, 0, 1, 0, 0]
    (digest,) = aws.mails()
    assert count_in(digest["Message"]) == 40 - DEFAULT_BURST_LIMIT
    assert "Count:       35 from 35 source IPs in " in digest["Message"]


def test_an_hour_long_burst_sends_a_digest_about_every_fifteen_minutes(aws):
    burst = hidden(120, spacing=30)  # one hour, never quiet
    schedule = T0 + timedelta(minutes=5)
    sent: list[tuple[datetime, int]] = []
    for start in range(0, 120, 2):  # one invocation a minute
        batch = burst[start : start + 2]
        clock = last_time(batch) + timedelta(seconds=30)
        while schedule <= clock:
            if digests(aws, schedule):
                sent += [(schedule, count_in(mail["Message"])) for mail in aws.mails() if "[digest]" in mail["Subject"]]
            schedule += timedelta(minutes=5)
        deliver(aws, batch, clock, known={})
    end = last_time(burst)
    while schedule <= end + timedelta(minutes=30):
        if digests(aws, schedule):
            sent += [(schedule, count_in(mail["Message"])) for mail in aws.mails() if "[digest]" in mail["Subject"]]
        schedule += timedelta(minutes=5)
    times = [when for when, _ in sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert 4 <= len(sent) <= 6
    assert all(timedelta(minutes=10) <= gap <= timedelta(minutes=15) for gap in gaps), gaps
    assert times[0] - T0 <= timedelta(minutes=15)
    assert sum(count for _, count in sent) == 120 - DEFAULT_BURST_LIMIT


def test_the_ceiling_is_checked_at_start_up():
    values = {"table_name": "t", "topic_arn": "arn:aws:sns:us-east-1:1:t"}
    with pytest.raises(ConfigurationError, match="MAIL_BURST_LIMIT must be between 1 and 100, got 0"):
        NotifierConfig(**values, burst_limit=0)
    env = {"TABLE_NAME": "t", "TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}
    assert NotifierConfig.from_env({**env, "MAIL_BURST_LIMIT": "3"}).burst_limit == 3
    assert NotifierConfig.from_env(env).burst_limit == DEFAULT_BURST_LIMIT
    with pytest.raises(ConfigurationError, match="MAIL_BURST_LIMIT must be a whole number"):
        NotifierConfig.from_env({**env, "MAIL_BURST_LIMIT": "five"})
