"""`replay --engine duckdb` prints the very report the Python replay prints, whatever the input."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from detections.catalog import ct
from replay.__main__ import main
from replay.sample import generate
from tests.backtest import generated

SAMPLE = Path(generate.__file__).parent / "history"
PROJECT = Path(generate.__file__).parents[2]


def report(capsys, engine: str, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--engine", engine])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_same_report(capsys, *args: str) -> dict:
    python = report(capsys, "python", "--format", "json", *args)
    duckdb = report(capsys, "duckdb", "--format", "json", *args)
    assert duckdb == python
    assert report(capsys, "duckdb", *args) == report(capsys, "python", *args)  # the text report too
    return json.loads(python[1])


def cis_project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((PROJECT / name).read_text())
    (tmp_path / "Pulumi.cis.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n  login-monitoring:detectionProfile: cis\n"
    )
    return tmp_path


def test_the_sample_in_all_four_formats(capsys):
    result = assert_same_report(capsys, "--stack", "dev", str(SAMPLE))
    assert result["events"] == 218 and result["transitions"] and result["mails"]


def test_the_sample_under_the_cis_profile(tmp_path, capsys):
    result = assert_same_report(capsys, "--stack", "cis", "--project-dir", str(cis_project(tmp_path)), str(SAMPLE))
    assert result["profile"] == "cis"


def test_since_until_and_detection_are_honoured_alike(capsys):
    result = assert_same_report(
        capsys,
        str(SAMPLE),
        *("--since", "2024-05-01T10:30Z", "--until", "2024-05-01T14:30Z"),
        *("--detection", "failed-console-sign-ins", "--detection", "security-group-changes"),
    )
    assert [item["id"] for item in result["detections"]] == ["security-group-changes", "failed-console-sign-ins"]
    assert result["outsideWindow"] > 0 and result["detections"][1]["eventIds"]


def test_overlapping_inputs_keep_the_first_copy_of_each_event(capsys):
    result = assert_same_report(capsys, str(SAMPLE), str(SAMPLE / "cis-changes.jsonl"))
    assert result["duplicatesSkipped"] == 7


def write_records(path: Path, events: list, gzipped: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"Records": events})
    path.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())


def test_generated_history_in_the_s3_layout(tmp_path, capsys):
    events = generated.events(3000, seed=5)
    for index, event in enumerate(events):
        event.setdefault("eventTime", f"2024-05-01T{10 + index // 600:02d}:{index // 10 % 60:02d}:00Z")
        if index % 7:
            event["eventID"] = f"id-{index % 2500}"  # some appear twice, in different files
    folder = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2024" / "05" / "01"
    for part in range(10):
        write_records(folder / f"111122223333_CloudTrail_us-east-1_{part:04d}.json.gz", events[part::10])
    result = assert_same_report(capsys, str(tmp_path))
    assert result["duplicatesSkipped"] > 0
    assert sum(item["matches"] for item in result["detections"]) > 100


def test_unusual_and_broken_inputs_are_reported_alike(tmp_path, capsys):
    stop = ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-1")
    denied = ct("GetObject", "s3.amazonaws.com", errorCode="AccessDenied", eventID="denied-1")
    root = ct("StopLogging", "cloudtrail.amazonaws.com", identity={"type": "Root"}, eventID="late", eventTime="soon")
    write_records(tmp_path / "a-plain.json", [stop, denied], gzipped=False)
    (tmp_path / "b-gzip-without-suffix").write_bytes(gzip.compress(json.dumps({"Records": [stop, root]}).encode()))
    (tmp_path / "c-two-documents.json").write_text(json.dumps({"Records": [denied]}) + "\n" + '{"Records": []}\n')
    (tmp_path / "d-records-not-a-list.json").write_text('{"Records": {"eventName": "x"}}')
    (tmp_path / "e-item-not-an-event.json").write_text(json.dumps({"Records": [denied, 42]}))
    lines = [json.dumps(stop), "", json.dumps({**denied, "eventID": "denied-2"}), "[1, 2]", json.dumps(root)]
    (tmp_path / "f-lines.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "g-bad-line.jsonl").write_text(json.dumps({**stop, "eventID": "stop-2"}) + "\n{bad\n")
    (tmp_path / "h-empty.json").write_text("")
    (tmp_path / "i-broken.json.gz").write_bytes(b"\x1f\x8bnot really")
    (tmp_path / "j-no-id.jsonl").write_text(json.dumps({**denied, "eventID": None}) + "\n" + json.dumps(denied) + "\n")
    not_an_event = {"configurationItem": {"resourceType": "AWS::S3::Bucket"}, "eventID": "config-1"}
    write_records(
        tmp_path / "k-not-events.json.gz", [not_an_event, {**stop, "eventID": "stop-3"}, {**stop, "eventTime": None}]
    )
    (tmp_path / "l-null-item.json").write_text(json.dumps({"Records": [None, {**stop, "eventID": "stop-4"}]}))
    (tmp_path / "m-records-null.json").write_text('{"Records": null}')
    (tmp_path / "n-empty-then-full.json").write_text('{"Records": []}\n' + json.dumps({"Records": [root]}))
    (tmp_path / "o-no-records.json").write_text('{"Records": []}')
    result = assert_same_report(capsys, str(tmp_path))
    assert len(result["problems"]) >= 9
    problems = {p["source"].rsplit("/", 1)[-1] for p in result["problems"]}
    assert {"l-null-item.json", "m-records-null.json", "n-empty-then-full.json"} <= problems
    assert "o-no-records.json" not in problems
    assert result["filesRead"] < result["files"]
    assert "2 records are not CloudTrail events" in next(
        p["message"] for p in result["problems"] if "k-not" in p["source"]
    )


def test_a_gzip_file_with_a_bad_trailer_is_refused_alike(tmp_path, capsys):
    stop = ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-1")
    data = bytearray(gzip.compress(json.dumps({"Records": [stop]}).encode()))
    data[-8] ^= 0xFF  # the CRC, which DuckDB's own gzip reader does not check
    (tmp_path / "bad-crc.json.gz").write_bytes(bytes(data))
    write_records(tmp_path / "good.json.gz", [{**stop, "eventID": "stop-2"}])
    result = assert_same_report(capsys, str(tmp_path))
    assert result["events"] == 1 and "CRC" in result["problems"][0]["message"]


def test_a_cut_off_or_forged_trailer_is_refused_alike_whatever_size_it_claims(tmp_path, capsys):
    # The last four bytes claim the unpacked size; a damaged file's claim is no reason to read less of it.
    stop = ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-1", userAgent="x" * 300)
    data = gzip.compress(json.dumps({"Records": [stop]}).encode())
    (tmp_path / "cut.json.gz").write_bytes(data[:-4])  # the CRC now reads as a size of gigabytes
    forged = bytearray(data)
    forged[-2] ^= 1  # claims 64 KiB more than it holds
    (tmp_path / "forged.json.gz").write_bytes(bytes(forged))
    write_records(tmp_path / "good.json.gz", [{**stop, "eventID": "stop-2"}])
    result = assert_same_report(capsys, str(tmp_path))
    assert result["events"] == 1 and len(result["problems"]) == 2


def test_documents_duckdb_cannot_transform_go_to_the_python_reader(tmp_path, capsys):
    stop = ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-1")
    first = json.dumps({"Records": [stop]})
    for index, second in enumerate(["42", "[]", '[{"Records": []}]', '"text"']):
        (tmp_path / f"second-{index}.json").write_text(first.replace("stop-1", f"stop-{index}") + "\n" + second)
    (tmp_path / "twice.json").write_text(
        '{"Records": [], "Records": ' + json.dumps([{**stop, "eventID": "late"}]) + "}"
    )
    write_records(tmp_path / "plain.json.gz", [{**stop, "eventID": "plain"}])
    result = assert_same_report(capsys, str(tmp_path))
    assert result["events"] >= 2


def read_by_python(monkeypatch) -> list[str]:
    """The names of the files the DuckDB engine hands to the Python reader."""
    from backtest import duckdb_engine

    names: list[str] = []
    reader = duckdb_engine.read_events

    def spy(path, *args, **kwargs):
        names.append(Path(path).name)
        return reader(path, *args, **kwargs)

    monkeypatch.setattr(duckdb_engine, "read_events", spy)
    return names


def generated_events(count: int, seed: int) -> list[dict]:
    """Generated records that are all CloudTrail events (a time and a name each), in an hour, each id once."""
    events = generated.events(count, seed=seed)
    for index, event in enumerate(events):
        event.setdefault("eventTime", f"2024-05-01T10:{index * 60 // count:02d}:00Z")
        if event.get("eventName") is None:
            event["eventName"] = "GetObject"
        event["eventID"] = f"id-{index}"
    return events


def test_documents_over_several_lines_are_read_by_duckdb_as_whole_documents(tmp_path, capsys, monkeypatch):
    events = generated_events(600, seed=11)
    one_line = json.dumps({"Records": events[:200]})
    (tmp_path / "a-one-line.json.gz").write_bytes(gzip.compress(one_line.encode()))
    (tmp_path / "b-pretty.json").write_text(json.dumps({"Records": events[200:300]}, indent=2))
    (tmp_path / "c-pretty.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": events[300:400]}, indent=1).encode())
    )
    # One line as far as the start shows (the first 256 bytes of a large gzipped file), then a line break: the
    # one-line reader refuses it and it is read again as a whole document.
    text = json.dumps({"Records": events[400:]})
    cut = text.index('}, {"', 2000) + 2
    broken = text[:cut] + "\n" + text[cut:]
    assert len(broken) > 1 << 16
    (tmp_path / "d-late-break.json.gz").write_bytes(gzip.compress(broken.encode()))
    python_read = read_by_python(monkeypatch)
    result = assert_same_report(capsys, str(tmp_path))
    assert result["events"] == 600 and result["filesRead"] == 4
    assert python_read == []
    assert sum(item["matches"] for item in result["detections"]) > 20


def test_event_ids_that_are_not_strings_are_told_apart_by_their_json_text(tmp_path, capsys):
    stop = ct("StopLogging", "cloudtrail.amazonaws.com")
    ids = [1, 1.0, "1", True, {"id": 7}, {"id": 7}, [1], 10, 1e1]
    write_records(tmp_path / "a.json", [{**stop, "eventID": value} for value in ids], gzipped=False)
    result = assert_same_report(capsys, str(tmp_path))
    assert (result["events"], result["duplicatesSkipped"]) == (len(ids) - 1, 1)


def test_an_event_duckdb_cannot_hold_is_a_clear_error(tmp_path, capsys):
    stop = json.dumps(ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-1"))
    # A lone surrogate: Python reads it, DuckDB refuses it, and the file is not DuckDB's to read.
    (tmp_path / "lines.jsonl").write_text(stop.replace('"stop-1"', '"stop-\\ud800"') + "\n{bad\n")
    assert report(capsys, "python", str(tmp_path))[0] == 0
    code, out, err = report(capsys, "duckdb", str(tmp_path))
    assert (code, out) == (1, "") and "DuckDB cannot read these events" in err and "--engine python" in err


def test_a_missing_path_is_an_error_on_both_engines(capsys):
    for engine in ("python", "duckdb"):
        code, out, err = report(capsys, engine, str(SAMPLE), "no-such-history")
        assert (code, out) == (2, "") and "no-such-history: no such file or folder" in err


def test_nothing_readable_exits_non_zero_on_duckdb_too(tmp_path, capsys):
    (tmp_path / "junk.txt").write_text("nothing to see\n")
    code, _, err = report(capsys, "duckdb", str(tmp_path))
    assert code == 1 and "no CloudTrail event could be read" in err


@pytest.mark.parametrize("privileged", ["Administrators", "Ops"])
def test_stack_overrides_reach_the_sql(tmp_path, capsys, privileged):
    project = cis_project(tmp_path)
    (project / "Pulumi.tuned.yaml").write_text(
        "config:\n  login-monitoring:alertEmails: [sec@example.com]\n"
        f"  login-monitoring:privilegedGroups: [{privileged}]\n"
        "  login-monitoring:detectionOverrides:\n"
        "    - unauthorized-api-calls.threshold=2\n"
        "    - cloudtrail-changes.excludePrincipals=arn:aws:sts::111122223333:assumed-role/Operator/deploy\n"
    )
    result = assert_same_report(capsys, "--stack", "tuned", "--project-dir", str(project), str(SAMPLE))
    matches = {item["id"]: item["matches"] for item in result["detections"]}
    assert matches["privileged-group-changes"] == (1 if privileged == "Administrators" else 0)


def test_escaped_text_in_the_input_is_read_as_the_value_it_spells(tmp_path, capsys):
    stop = json.dumps(ct("StopLogging", "cloudtrail.amazonaws.com", eventID="stop-escaped"))
    escaped = stop.replace('"StopLogging"', '"\\u0053topLogging"').replace("cloudtrail.", "cloudtrail\\u002e")
    assert escaped != stop and json.loads(escaped) == json.loads(stop)
    (tmp_path / "escaped.jsonl").write_text(escaped + "\n")
    write_records(tmp_path / "escaped.json", [json.loads(escaped)], gzipped=False)
    (tmp_path / "escaped-records.json").write_text('{"Records": [' + escaped.replace("stop-escaped", "stop-2") + "]}")
    result = assert_same_report(capsys, str(tmp_path))
    assert {item["id"]: item["matches"] for item in result["detections"]}["cloudtrail-changes"] == 2


def test_without_a_prefilter_every_record_is_evaluated_to_the_same_report(capsys, monkeypatch):
    # A stack whose patterns give no prefilter test (numbers, `!=` on every branch) takes this path.
    monkeypatch.setattr("backtest.duckdb_engine.screen_select", lambda *args, **kwargs: None)
    result = assert_same_report(capsys, str(SAMPLE), str(SAMPLE / "cis-changes.jsonl"))
    assert result["duplicatesSkipped"] == 7 and result["mails"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_duckdb_shows_how_far_its_reading_got_and_prints_the_same_report(capsys, monkeypatch):
    monkeypatch.setattr("backtest.duckdb_engine._PROGRESS_SECONDS", 0.001)
    plain = report(capsys, "duckdb", "--format", "json", str(SAMPLE))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = report(capsys, "duckdb", "--format", "json", str(SAMPLE))
    assert (code, out) == plain[:2]
    drawn = terminal.getvalue()
    files = len([path for path in SAMPLE.rglob("*") if path.is_file()])
    assert drawn.endswith(f"100% of {files:,} files read by DuckDB\n")
    shares = [float(part.split("%")[0].rsplit("]", 1)[1]) for part in drawn.strip().split("\r") if part]
    assert shares == sorted(shares) and shares[0] >= 0 and shares[-1] == 100


def test_progress_rises_to_a_hundred_while_duckdb_reads(tmp_path, monkeypatch):
    from backtest.duckdb_engine import replay_files
    from components.settings import load_settings
    from offline.stack_config import load_stack_config
    from replay.readers import input_files
    from replay.stack import stack_replay

    monkeypatch.setattr("backtest.duckdb_engine._PROGRESS_SECONDS", 0.0005)
    events = generated_events(3000, seed=3)
    for part in range(10):
        write_records(tmp_path / f"part-{part:02d}.json.gz", events[part::10])
    config = load_stack_config("dev")
    settings = load_settings(lambda key: config.get(f"{config.project}:{key}"))
    files = input_files([tmp_path], lambda problem: None)
    watched, plain = stack_replay(settings), stack_replay(settings)
    shown: list[float] = []
    replay_files(watched, files, lambda problem: None, progress=shown.append)
    replay_files(plain, files, lambda problem: None)
    assert watched.result() == plain.result()
    assert shown == sorted(shown) and shown[-1] == 100
    assert any(0 < share < 100 for share in shown), shown  # told while reading, not only at the end


def test_a_memory_limit_is_honoured_and_a_report_within_it_is_the_same(capsys):
    python = report(capsys, "python", "--format", "json", str(SAMPLE))
    assert report(capsys, "duckdb", "--format", "json", "--memory-limit", "200MB", str(SAMPLE)) == python
    code, out, err = report(capsys, "duckdb", "--memory-limit", "20MB", str(SAMPLE))
    assert (code, out) == (1, "") and "needs more memory than it may use" in err and "--memory-limit" in err
    code, out, err = report(capsys, "duckdb", "--memory-limit", "lots", str(SAMPLE))
    assert (code, out) == (1, "") and "--memory-limit 'lots' is not a size" in err


def test_without_a_memory_limit_duckdb_still_has_one_sized_for_reading(capsys, monkeypatch):
    from backtest import duckdb_engine

    files = sorted(SAMPLE.rglob("*.json*"))
    # Two reading threads over CloudTrail-sized files: 192 MB, whatever the length of the history.
    assert duckdb_engine.default_memory_limit(2, files) == 192 << 20
    assert duckdb_engine.default_memory_limit(2, files * 1000) == 192 << 20
    monkeypatch.setattr(duckdb_engine, "default_memory_limit", lambda threads, paths: 20 << 20)
    code, out, err = report(capsys, "duckdb", str(SAMPLE))
    assert (code, out) == (1, "") and "needs more memory than it may use" in err
