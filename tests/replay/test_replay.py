"""Replay end to end: the shipped sample, the command line, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detections.catalog import BY_ID, ct
from detections.profiles import resolve_detections
from replay.__main__ import main
from replay.core import Replay
from replay.readers import input_files, read_events
from replay.sample import generate

SAMPLE = Path(generate.__file__).parent / "history"

EXPECTED_TRANSITIONS = [
    # Six failures 09:58-10:01 straddle 10:00; CloudWatch's sliding window sees them together.
    ("2024-05-01T10:02:00Z", "failed-console-sign-ins", "OK", "ALARM"),
    ("2024-05-01T10:15:00Z", "failed-console-sign-ins", "ALARM", "OK"),
    ("2024-05-01T11:06:00Z", "failed-console-sign-ins", "OK", "ALARM"),
    ("2024-05-01T11:07:00Z", "sign-ins-for-unknown-users", "OK", "ALARM"),
    ("2024-05-01T11:18:00Z", "failed-console-sign-ins", "ALARM", "OK"),
    ("2024-05-01T11:20:00Z", "sign-ins-for-unknown-users", "ALARM", "OK"),
    ("2024-05-01T12:32:00Z", "root-account-usage", "OK", "ALARM"),
    ("2024-05-01T12:32:00Z", "root-console-sign-in", "OK", "ALARM"),
    ("2024-05-01T12:37:00Z", "root-account-usage", "ALARM", "OK"),
    ("2024-05-01T12:37:00Z", "root-console-sign-in", "ALARM", "OK"),
    ("2024-05-01T14:03:00Z", "security-group-changes", "OK", "ALARM"),
    ("2024-05-01T14:08:00Z", "security-group-changes", "ALARM", "OK"),
    ("2024-05-01T14:21:00Z", "cloudtrail-changes", "OK", "ALARM"),
    ("2024-05-01T14:26:00Z", "cloudtrail-changes", "ALARM", "OK"),
    ("2024-05-01T14:34:00Z", "access-key-changes", "OK", "ALARM"),
    ("2024-05-01T14:39:00Z", "access-key-changes", "ALARM", "OK"),
    ("2024-05-01T14:42:00Z", "privileged-group-changes", "OK", "ALARM"),
    ("2024-05-01T14:47:00Z", "privileged-group-changes", "ALARM", "OK"),
    # In alice's session: another user's MFA device, a console password for a new user, a role opened to
    # an outside account, GuardDuty deleted; then the root password changed (root activity too).
    ("2024-05-01T15:03:00Z", "mfa-device-removed", "OK", "ALARM"),
    ("2024-05-01T15:08:00Z", "console-password-for-another-user", "OK", "ALARM"),
    ("2024-05-01T15:08:00Z", "mfa-device-removed", "ALARM", "OK"),
    ("2024-05-01T15:13:00Z", "console-password-for-another-user", "ALARM", "OK"),
    ("2024-05-01T15:21:00Z", "identity-provider-or-role-trust", "OK", "ALARM"),
    ("2024-05-01T15:26:00Z", "identity-provider-or-role-trust", "ALARM", "OK"),
    ("2024-05-01T15:31:00Z", "security-services-disabled", "OK", "ALARM"),
    ("2024-05-01T15:36:00Z", "security-services-disabled", "ALARM", "OK"),
    ("2024-05-01T15:46:00Z", "root-account-usage", "OK", "ALARM"),
    ("2024-05-01T15:46:00Z", "root-credentials-changed", "OK", "ALARM"),
    ("2024-05-01T15:51:00Z", "root-account-usage", "ALARM", "OK"),
    ("2024-05-01T15:51:00Z", "root-credentials-changed", "ALARM", "OK"),
    ("2024-05-01T16:41:00Z", "console-sign-in-without-mfa", "OK", "ALARM"),
    ("2024-05-01T16:46:00Z", "console-sign-in-without-mfa", "ALARM", "OK"),
]


def run_json(capsys, *args) -> tuple[int, dict]:
    code = main([*args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def test_the_shipped_sample_is_what_the_generator_writes(tmp_path):
    for written in generate.write(tmp_path):
        shipped = SAMPLE / written.relative_to(tmp_path)
        assert shipped.read_bytes() == written.read_bytes(), f"{shipped} is stale: run python -m replay.sample.generate"


def test_replay_of_the_sample_gives_the_expected_alarm_transitions(capsys):
    code, report = run_json(capsys, "--stack", "dev", str(SAMPLE))
    assert code == 0
    assert [(t["time"], t["detection"], t["from"], t["to"]) for t in report["transitions"]] == EXPECTED_TRANSITIONS
    assert report["problems"] == [] and report["files"] == report["filesRead"] == 4
    matches = {d["id"]: d["matches"] for d in report["detections"]}
    # 6 + 6 in bursts, and 8 four minutes apart (10:20-10:48) that never make 5 within 15 minutes.
    assert matches["failed-console-sign-ins"] == 20
    assert matches["unauthorized-api-calls"] == 3  # below the recommended threshold of 5
    takeover = [d for d in report["detections"] if BY_ID[d["id"]].sign_in_context]
    assert len(takeover) == 5
    assert all((d["matches"], d["alarmsFired"], d["alarmMails"]) == (1, 1, 1) for d in takeover), takeover


def test_sample_mails_are_the_notifiers_own_rendering(capsys):
    _, report = run_json(capsys, "--stack", "dev", str(SAMPLE))
    subjects = [mail["subject"] for mail in report["mails"]]
    assert len(subjects) == 14  # 9 sign-in mails and 5 digests: flood control holds back 16 failures
    assert subjects[0] == "Console sign-in succeeded: IAM user alice in 111122223333"
    assert "[!] Console sign-in succeeded: Root user root in 111122223333" in subjects
    root_mail = next(mail for mail in report["mails"] if "Root user" in mail["subject"])
    assert "When:             2024-05-01 21:31:00 Asia/Tokyo (2024-05-01 12:31:00 UTC)" in root_mail["body"]
    assert "Needs a look:     root user" in root_mail["body"]
    # The sample's documentation addresses (RFC 5737) are not public, so they have no country.
    assert "Location:         no location (private, loopback or reserved address)" in root_mail["body"]


def test_cis_profile_replays_the_cis_alarms(tmp_path, capsys):
    project = tmp_path
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((Path(generate.__file__).parents[2] / name).read_text())
    (project / "Pulumi.cis.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:detectionProfile: cis\n"
    )
    code, report = run_json(capsys, "--stack", "cis", "--project-dir", str(project), str(SAMPLE))
    assert code == 0
    fired = {t["detection"] for t in report["transitions"] if t["to"] == "ALARM"}
    assert "unauthorized-api-calls" in fired  # three denied calls: CIS alarms on the first
    assert "console-authentication-failures" in fired
    assert "root-console-sign-in" not in fired  # not in the cis profile


def test_text_report_lists_matches_transitions_and_mails(capsys):
    assert main(["--stack", "dev", "--max-mails", "1", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Replay for stack dev (profile recommended): 218 events from 4 of 4 files")
    assert "2024-05-01 10:02 UTC  failed-console-sign-ins" in out and "OK -> ALARM" in out
    assert "Subject: Console sign-in succeeded: IAM user alice in 111122223333" in out
    assert "Sign-in mails the notifier would send (14; 5 digests holding 16 more sign-ins; notifyOn all" in out
    assert "... 13 more (use --max-mails or --format json)" in out


def test_overlapping_inputs_count_each_event_once(capsys):
    once = run_json(capsys, str(SAMPLE))[1]
    twice = run_json(capsys, str(SAMPLE), str(SAMPLE / "cis-changes.jsonl"))[1]
    assert twice["duplicatesSkipped"] == 7 and twice["events"] == once["events"]
    assert twice["transitions"] == once["transitions"]


def test_bad_files_are_reported_and_the_rest_still_replayed(tmp_path, capsys):
    (tmp_path / "broken.json.gz").write_bytes(b"\x1f\x8bnot really")
    (tmp_path / "mixed.jsonl").write_text(json.dumps(ct("StopLogging", "cloudtrail.amazonaws.com")) + "\n{bad\n")
    code, report = run_json(capsys, str(tmp_path))
    assert code == 0 and report["events"] == 1
    problems = {(Path(p["source"]).name, p["line"]) for p in report["problems"]}
    assert problems == {("broken.json.gz", None), ("mixed.jsonl", 2)}
    assert report["files"] == 2 and report["filesRead"] == 1


def test_nothing_readable_exits_non_zero(tmp_path, capsys):
    (tmp_path / "junk.txt").write_text("nothing to see\n")
    assert main([str(tmp_path)]) == 1
    assert "no CloudTrail event could be read" in capsys.readouterr().err


def test_a_path_that_does_not_exist_is_an_error_not_an_empty_report(tmp_path, capsys):
    assert main([str(SAMPLE), str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {tmp_path / 'nope'}: no such file or folder\n"


def test_bad_stack_config_exits_2_naming_the_key(capsys):
    assert main(["--stack", "nonexistent", str(SAMPLE)]) == 2
    assert "no stack file Pulumi.nonexistent.yaml" in capsys.readouterr().err


def test_a_hub_stack_cannot_be_replayed(capsys):
    assert main(["--stack", "hub", str(SAMPLE)]) == 2
    assert "stack hub is a hub: it deploys no detections" in capsys.readouterr().err


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    main([str(SAMPLE)])
    assert capsys.readouterr().err == ""


def test_events_without_a_time_are_counted_but_not_simulated():
    problems = []
    replay = Replay(resolve_detections("recommended"), report=problems.append)
    replay.feed(ct("StopLogging", "cloudtrail.amazonaws.com", eventTime="sometime"))
    result = replay.result()
    assert result.matches["cloudtrail-changes"] == 1 and result.transitions == []
    assert "no usable eventTime" in problems[0].message


@pytest.mark.parametrize("profile", ["cis", "recommended"])
def test_replay_agrees_with_direct_evaluation(profile):
    """The index must never hide a match: compare with evaluating every pattern on every event."""
    from detections.catalog import CATALOG

    detections = resolve_detections(profile)
    events = [example.event for detection in CATALOG for example in detection.examples]
    events = [{**event, "eventID": f"e{i}"} for i, event in enumerate(events)]
    replay = Replay(detections)
    for event in events:
        replay.feed(event)
    expected = {item.id: sum(item.compiled.matches(event) for event in events) for item in detections}
    assert replay.result().matches == expected


def test_replay_gives_sign_ins_the_notifiers_history_reasons_whatever_the_input_order():
    from handlers.risk import RiskSettings
    from tests.handlers.signins import GERMANY, JAPAN, sign_in

    events = [sign_in("tokyo", "10:00", JAPAN), sign_in("tokyo-2", "10:10", JAPAN), sign_in("berlin", "10:40", GERMANY)]
    results = []
    for order in (events, events[::-1]):
        replay = Replay(resolve_detections("recommended", ()), notify_on="risky", timezone="UTC")
        for event in order:
            replay.feed(event)
        results.append(replay.result().mails)
    assert results[0] == results[1]
    (mail,) = results[0]
    assert mail.event_id == "berlin"
    assert mail.subject == "[!] Console sign-in succeeded (new country): IAM user alice in 111122223333"
    assert "impossible travel: signed in from Japan (JP) 30 minutes earlier, now from Germany (DE)" in mail.body

    quiet = Replay(resolve_detections("recommended", ()), notify_on="risky", risk=RiskSettings(new_country=False))
    for event in events:
        quiet.feed(event)
    (mail,) = quiet.result().mails
    assert "(impossible travel)" in mail.subject and "new country" not in mail.body


def event_times() -> dict[str, str]:
    """eventID -> eventTime of every event in the sample."""
    return {
        event["eventID"]: event["eventTime"]
        for path in input_files([SAMPLE], print)
        for event in read_events(path, print)
    }


def test_each_detection_says_what_it_fired_and_mailed_and_which_events_it_matched(capsys):
    _, report = run_json(capsys, "--stack", "dev", str(SAMPLE))
    by_id = {item["id"]: item for item in report["detections"]}
    failed = by_id["failed-console-sign-ins"]
    # Two bursts fire the alarm twice; without alarmResolvedMails only ALARM is mailed; flood control mails
    # the first failure of each burst of one user and puts the others in digests.
    assert (failed["alarmsFired"], failed["alarmMails"], failed["signInMails"]) == (2, 2, 4)
    assert len(failed["eventIds"]) == len(set(failed["eventIds"])) == 20
    assert failed["eventIds"] == sorted(failed["eventIds"], key=event_times().__getitem__)
    trail = by_id["cloudtrail-changes"]
    assert (trail["matches"], trail["alarmsFired"], trail["alarmMails"], trail["signInMails"]) == (1, 1, 1, 0)
    assert by_id["iam-policy-changes"]["eventIds"] == []
    assert (report["signInMails"], report["digestMails"], report["heldBackInDigests"]) == (9, 5, 16)
    main(["--stack", "dev", "--max-mails", "0", str(SAMPLE)])
    row = "  failed-console-sign-ins                    20       2            2              4  Repeated"
    assert row in capsys.readouterr().out


def test_resolved_mails_count_as_alarm_mails(tmp_path, capsys):
    project = tmp_path
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((Path(generate.__file__).parents[2] / name).read_text())
    (project / "Pulumi.resolved.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:alarmResolvedMails: true\n"
    )
    _, report = run_json(capsys, "--stack", "resolved", "--project-dir", str(project), str(SAMPLE))
    failed = next(item for item in report["detections"] if item["id"] == "failed-console-sign-ins")
    assert (failed["alarmsFired"], failed["alarmMails"]) == (2, 4)


def test_since_and_until_keep_the_events_inside_and_say_how_many_were_left_out(capsys):
    code, report = run_json(capsys, str(SAMPLE), "--since", "2024-05-01T10:30:00Z", "--until", "2024-05-01 14:30+00:00")
    assert code == 0 and (report["since"], report["until"]) == ("2024-05-01T10:30:00Z", "2024-05-01T14:30:00Z")
    assert [t for t in report["transitions"] if t["time"] < "2024-05-01T10:30" or t["time"] >= "2024-05-01T14:31"] == []
    assert ("2024-05-01T11:06:00Z", "failed-console-sign-ins") in {
        (t["time"], t["detection"]) for t in report["transitions"]
    }
    assert all("2024-05-01T10:30:00Z" <= mail["time"] < "2024-05-01T14:30:00Z" for mail in report["mails"])
    matches = {item["id"]: item["matches"] for item in report["detections"]}
    assert matches["failed-console-sign-ins"] == 11 and report["events"] == 218 and report["outsideWindow"] > 0
    # A time zone offset is honoured: 19:30 in Tokyo is 10:30 UTC.
    assert (
        run_json(capsys, str(SAMPLE), "--since", "2024-05-01T19:30:00+09:00", "--until", "2024-05-01T14:30Z")[1]
        == report
    )


@pytest.mark.parametrize(
    ("option", "value"), [("--since", "yesterday"), ("--until", "2024-05-32"), ("--since", "10:30")]
)
def test_a_time_that_is_not_iso_8601_is_a_usage_error_naming_the_option(capsys, option, value):
    with pytest.raises(SystemExit) as stopped:
        main([option, value, str(SAMPLE)])
    assert stopped.value.code == 2
    assert f"argument {option}: {value!r} is not an ISO 8601 date or time" in capsys.readouterr().err


def test_since_must_be_before_until(capsys):
    assert main(["--since", "2024-05-02", "--until", "2024-05-01T23:59Z", str(SAMPLE)]) == 2
    assert "error: --since 2024-05-02T00:00:00Z is not before --until 2024-05-01T23:59:00Z" in capsys.readouterr().err


def test_sign_ins_before_since_are_history_not_mails():
    from handlers.signin import parse_event_time
    from replay.core import Window
    from tests.handlers.signins import GERMANY, JAPAN, sign_in

    replay = Replay(
        resolve_detections("recommended", ()), window=Window(since=parse_event_time("2024-05-01T10:30:00Z"))
    )
    for event in (sign_in("tokyo", "10:00", JAPAN), sign_in("berlin", "10:40", GERMANY)):
        replay.feed(event)
    result = replay.result()
    (mail,) = result.mails
    assert mail.event_id == "berlin" and "impossible travel" in mail.body
    assert result.outside_window == 1


def test_detection_limits_the_replay_to_the_named_detections(capsys):
    code, report = run_json(
        capsys, str(SAMPLE), "--detection", "root-console-sign-in", "--detection", "cloudtrail-changes"
    )
    assert code == 0
    assert [item["id"] for item in report["detections"]] == ["cloudtrail-changes", "root-console-sign-in"]
    assert {t["detection"] for t in report["transitions"]} == {"cloudtrail-changes", "root-console-sign-in"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "root-console-signin",
            "--detection root-console-signin: unknown detection; did you mean root-console-sign-in?",
        ),
        ("console-authentication-failures", "--detection console-authentication-failures: not enabled in stack dev"),
    ],
)
def test_a_detection_the_stack_does_not_have_is_an_error(capsys, name, message):
    assert main(["--detection", name, str(SAMPLE)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def quiet_project(tmp_path: Path, minutes: int) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((Path(generate.__file__).parents[2] / name).read_text())
    (tmp_path / "Pulumi.quiet.yaml").write_text(
        f"config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:mailQuietMinutes: {minutes}\n"
    )
    return tmp_path


def test_flood_control_mails_the_first_of_a_burst_and_a_digest_of_the_rest(capsys):
    _, report = run_json(capsys, str(SAMPLE), "--since", "2024-05-01T09:50Z", "--until", "2024-05-01T10:15Z")
    (first, digest) = report["mails"]
    assert (first["time"], first["kind"]) == ("2024-05-01T09:58:00Z", "sign-in")
    # Five more failures by 10:01:30; the schedule sends them 10 minutes after the first held one (10:09),
    # at its next five-minute run.
    assert (digest["time"], digest["kind"], digest["eventId"]) == ("2024-05-01T10:10:00Z", "digest", "")
    assert digest["subject"] == "[digest] 5 more failed sign-ins: IAM user: alice in 111122223333"
    assert "Count:       5" in digest["body"] and "Window key:  Failure|iam-user:111122223333:alice" in digest["body"]


def test_without_flood_control_every_sign_in_is_mailed(tmp_path, capsys):
    project = quiet_project(tmp_path, 0)
    _, report = run_json(capsys, "--stack", "quiet", "--project-dir", str(project), str(SAMPLE))
    assert {mail["kind"] for mail in report["mails"]} == {"sign-in"} and len(report["mails"]) == 25
    failed = next(item for item in report["detections"] if item["id"] == "failed-console-sign-ins")
    assert failed["signInMails"] == 20 and report["heldBackInDigests"] == 0


def test_a_longer_quiet_time_holds_back_more(tmp_path, capsys):
    project = quiet_project(tmp_path, 60)
    _, report = run_json(capsys, "--stack", "quiet", "--project-dir", str(project), str(SAMPLE))
    # alice's failures 09:58-10:48 are one burst: one mail of its own, the rest in digests.
    alice = [
        mail for mail in report["mails"] if mail["subject"].startswith("[!] Console sign-in FAILED: IAM user alice")
    ]
    assert len(alice) == 1 and report["signInMails"] + report["heldBackInDigests"] == 25


def test_the_outlier_alarm_is_not_simulated_but_its_floor_is_and_the_report_says_so(tmp_path, capsys):
    _, report = run_json(capsys, "--stack", "dev", str(SAMPLE))
    outlier = report["outlierAlarm"]
    assert (outlier["bandSimulated"], outlier["floor"]) == (False, 5)
    # Five-minute sums: the 09:58-10:01 burst puts 6 in 09:57-10:02, the 11:0x burst 5 in 11:01-11:06.
    assert [(t["time"], t["from"], t["to"]) for t in outlier["floorTransitions"]] == [
        ("2024-05-01T10:02:00Z", "OK", "ALARM"),
        ("2024-05-01T10:05:00Z", "ALARM", "OK"),
        ("2024-05-01T11:06:00Z", "OK", "ALARM"),
        ("2024-05-01T11:08:00Z", "ALARM", "OK"),
    ]
    main(["--stack", "dev", "--max-mails", "0", str(SAMPLE)])
    assert "not simulated, the band needs CloudWatch's model of the live metric" in capsys.readouterr().out

    project = tmp_path
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((Path(generate.__file__).parents[2] / name).read_text())
    (project / "Pulumi.no-outlier.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:outlierAlarm: false\n"
    )
    _, report = run_json(capsys, "--stack", "no-outlier", "--project-dir", str(project), str(SAMPLE))
    assert "outlierAlarm" not in report


def test_replay_judges_each_sign_in_as_assess_does_with_every_earlier_sign_in():
    """Whatever replay leaves out of the histories it hands to assess must not change a single reason."""
    import random
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from handlers.formatting import render_body
    from handlers.risk import RiskSettings, assess, sighting_of
    from handlers.signin import parse_signin_event
    from tests.handlers.signins import GERMANY, JAPAN, USA, sign_in

    risk = RiskSettings(failures_before_success=2, spray_user_names=3)
    chooser = random.Random(11)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    events = []
    for index in range(300):
        moment = start + timedelta(minutes=index * chooser.choice([1, 2, 7, 90]))
        events.append(
            sign_in(
                f"e{index:03d}",
                moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                chooser.choice([JAPAN, GERMANY, USA]),
                user=chooser.choice(["alice", "bob", "carol", "dave"]),
                failed=chooser.random() < 0.5,
            )
        )
    replay = Replay(resolve_detections("recommended", ()), notify_on="all", risk=risk)
    for event in chooser.sample(events, len(events)):
        replay.feed(event)
    bodies = {mail.event_id: mail.body for mail in replay.result().mails}
    earlier, reasons_seen = [], set()
    for record in sorted(map(parse_signin_event, events), key=lambda r: (r.event_time, r.event_id)):
        reasons = assess(record, earlier, earlier, risk)
        reasons_seen.update(reason.split(":")[0] for reason in reasons)
        expected = render_body(replace(record, history_reasons=reasons) if reasons else record, UTC, "UTC")
        assert bodies[record.event_id] == expected, record.event_id
        earlier.append(sighting_of(record))
    assert {"succeeded after failures", "password spray", "new country", "impossible travel"} <= reasons_seen
