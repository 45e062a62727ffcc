"""Each input format replay reads, and each way an input can be bad."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from detections.catalog import ct
from replay.readers import Problem, input_files, read_events

A = ct("ConsoleLogin", "signin.amazonaws.com", eventID="a")
B = ct("StopLogging", "cloudtrail.amazonaws.com", eventID="b")


def read(path: Path) -> tuple[list[str], list[Problem]]:
    problems: list[Problem] = []
    ids = [event["eventID"] for event in read_events(path, problems.append)]
    return ids, problems


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("trail.json", json.dumps({"Records": [A, B]})),
        ("trail-pretty.json", json.dumps({"Records": [A, B]}, indent=2)),
        ("events.jsonl", json.dumps(A) + "\n\n" + json.dumps(B) + "\n"),
        (
            "lookup.json",
            json.dumps(
                {
                    "Events": [
                        {"EventId": "a", "CloudTrailEvent": json.dumps(A)},
                        {"EventId": "b", "CloudTrailEvent": json.dumps(B)},
                    ]
                },
                indent=2,
            ),
        ),
        (
            "filter-log-events.json",
            json.dumps(
                {"events": [{"timestamp": 1, "message": json.dumps(A)}, {"timestamp": 2, "message": json.dumps(B)}]}
            ),
        ),
        ("export.txt", f"2024-05-01T10:00:00.000Z {json.dumps(A)}\n2024-05-01T10:00:01.000Z {json.dumps(B)}\n"),
        ("array.json", json.dumps([A, B], indent=1)),
    ],
)
def test_every_format_yields_its_events_in_order(tmp_path, name, content):
    plain = tmp_path / name
    plain.write_text(content)
    packed = tmp_path / (name + ".gz")
    packed.write_bytes(gzip.compress(content.encode()))
    for path in (plain, packed):
        assert read(path) == (["a", "b"], [])


def test_a_single_event_document(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(A, indent=2))
    assert read(path) == (["a"], [])


def test_folders_are_read_recursively_in_name_order(tmp_path):
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "b" / "deeper" / "2.jsonl").write_text(json.dumps(B) + "\n")
    (tmp_path / "a.jsonl").write_text(json.dumps(A) + "\n")
    (tmp_path / ".hidden").write_text("ignored")
    problems: list[Problem] = []
    files = input_files([tmp_path, tmp_path / "missing.json"], problems.append)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.jsonl", "b/deeper/2.jsonl"]
    assert [str(p) for p in problems] == [f"{tmp_path / 'missing.json'}: no such file or folder"]


def test_bad_lines_are_reported_by_line_and_their_neighbours_kept(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([json.dumps(A), "{truncated", "[1, 2]", json.dumps(B)]) + "\n")
    ids, problems = read(path)
    assert ids == ["a", "b"]
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (2, "not valid JSON"),
        (3, "a JSON value that is not an event object"),
    ]


def test_bad_entries_inside_a_container_are_reported_and_skipped(tmp_path):
    path = tmp_path / "lookup.json"
    path.write_text(
        json.dumps({"Events": [{"CloudTrailEvent": "{oops"}, {"CloudTrailEvent": json.dumps(B)}, {"NoEvent": 1}]})
    )
    ids, problems = read(path)
    assert ids == ["b"]
    assert [str(p).split(str(tmp_path))[1] for p in problems] == [
        "/lookup.json: Events[0]: event is not valid JSON: Expecting property name enclosed in double quotes",
        "/lookup.json: Events[2]: no event text",
    ]


def test_an_export_line_with_a_broken_message_is_reported(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(f"2024-05-01T10:00:00.000Z {json.dumps(A)}\n2024-05-01T10:00:01.000Z not json\n")
    ids, problems = read(path)
    assert ids == ["a"] and problems[0].line == 2 and "event is not valid JSON" in problems[0].message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"\x1f\x8b\x08\x00broken", "is not a valid gzip file"),
        (b"\xff\xfe\x00bad", "is not UTF-8 text"),
        (b"hello, this is a text file\n", "is not CloudTrail JSON, JSON Lines or a CloudWatch Logs export"),
        (b'{\n  "Records": [\n  oops\n]}', "is not valid JSON"),
        (b'{"Records": {"not": "a list"}}', "'Records' is not a list"),
        (b'{"something": "else", \n "x": 1}', "holds no CloudTrail events"),
    ],
)
def test_unreadable_files_are_reported_by_name(tmp_path, content, message):
    path = tmp_path / "input.json"
    path.write_bytes(content)
    ids, problems = read(path)
    assert ids == []
    assert len(problems) == 1 and message in problems[0].message and problems[0].source == str(path)


def test_an_os_error_is_reported_by_name(tmp_path, monkeypatch):
    path = tmp_path / "locked.json"
    path.write_text(json.dumps(A))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    ids, problems = read(path)
    assert ids == [] and str(problems[0]) == f"{path}: cannot be read: Permission denied"


def test_invalid_json_reports_the_line(tmp_path):
    path = tmp_path / "trail.json"
    path.write_text('{\n  "Records": [\n    {"eventID": "a"},\n    {"eventID": \n  ]\n}\n')
    _, problems = read(path)
    assert problems[0].line == 5


def test_records_that_are_not_cloudtrail_events_get_one_line_per_file_and_the_events_are_kept(tmp_path):
    digest = {"awsAccountId": "111122223333", "digestStartTime": "2024-05-01T10:00:00Z", "eventID": "digest"}
    no_time = {**B, "eventID": "no-time", "eventTime": None}
    trail = tmp_path / "trail.json"
    trail.write_text(json.dumps({"Records": [A, digest, B, no_time]}))
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join([json.dumps(A), "", json.dumps({"message": "hello"}), json.dumps(B)]) + "\n")

    assert read(trail) == (
        ["a", "b"],
        [
            Problem(
                str(trail),
                None,
                "2 records are not CloudTrail events, left out: the first (Records[1]) has no eventTime and no "
                "eventName",
            )
        ],
    )
    assert read(lines) == (
        ["a", "b"],
        [
            Problem(
                str(lines),
                3,
                "1 record is not a CloudTrail event, left out: the first has no eventTime and no eventName",
            )
        ],
    )
