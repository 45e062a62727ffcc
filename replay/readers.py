"""Read CloudTrail events from the files people actually have.

- CloudTrail log files from S3: `{"Records": [...]}`, plain or gzipped
- JSON Lines: one event per line
- `aws cloudtrail lookup-events` output: `{"Events": [{"CloudTrailEvent": "<json>"}]}`
- CloudWatch Logs: `aws logs filter-log-events` / `get-log-events` output (`{"events": [{"message": ...}]}`)
  and S3 exports (`<timestamp> <message>` per line)

Files or folders (recursively). A file or line that cannot be read becomes a Problem naming
the file (and line); everything else is still read. Records that are not CloudTrail events (no
eventTime or no eventName: a config snapshot, a digest, some other log) are left out with one
Problem per file saying how many and where the first one is.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_EXPORT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z? ")
_CONTAINERS = ("Records", "Events", "events")
# Every CloudTrail event has these; a record without them is something else that landed in the folder.
REQUIRED_FIELDS = ("eventTime", "eventName")


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


def input_files(paths: Iterable[Path], report: Callable[[Problem], None]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            found.append(path)
        else:
            report(Problem(str(path), None, "no such file or folder"))
    return found


def missing_fields(record: dict[str, Any]) -> list[str]:
    """The fields every CloudTrail event has that `record` lacks (absent or null)."""
    return [name for name in REQUIRED_FIELDS if record.get(name) is None]


def read_events(path: Path, report: Callable[[Problem], None]) -> Iterator[dict[str, Any]]:
    """Every CloudTrail event in one file, in file order."""
    source = str(path)
    rejected = 0
    first: tuple[int | str, list[str]] | None = None
    try:
        with _open_text(path) as handle:
            for where, event in _events_in(handle, source, report):
                missing = missing_fields(event)
                if not missing:
                    yield event
                    continue
                rejected += 1
                first = first or (where, missing)
    except OSError as error:
        report(Problem(source, None, f"cannot be read: {error.strerror or error}"))
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        report(Problem(source, None, f"is not a valid gzip file: {error}"))
    except UnicodeDecodeError:
        report(Problem(source, None, "is not UTF-8 text"))
    if first is not None:
        report(_not_events(source, rejected, *first))


def _not_events(source: str, count: int, where: int | str, missing: list[str]) -> Problem:
    line, label = (where, "") if isinstance(where, int) else (None, f" ({where})")
    records = "1 record is not a CloudTrail event" if count == 1 else f"{count:,} records are not CloudTrail events"
    return Problem(source, line, f"{records}, left out: the first{label} has no {' and no '.join(missing)}")


def _open_text(path: Path) -> TextIO:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _events_in(handle: TextIO, source: str, report: Callable[[Problem], None]) -> Iterator[tuple[int | str, dict]]:
    """(line number or position in the document, event) for every object the file holds."""
    first = handle.readline()
    line_number = 1
    while first and not first.strip():
        first = handle.readline()
        line_number += 1
    if not first:
        report(Problem(source, None, "is empty"))
        return
    stripped = first.strip()
    try:
        document = json.loads(stripped)
    except ValueError:
        document = None
    if isinstance(document, dict) and not any(key in document for key in _CONTAINERS):
        yield from _json_lines(first, line_number, handle, source, report)
        return
    if document is not None:
        rest = handle.read()
        if rest.strip():
            report(Problem(source, line_number + 1, "unexpected content after a complete JSON document"))
        yield from _container(document, source, report)
        return
    if _EXPORT_LINE.match(stripped):
        yield from _export_lines(first, line_number, handle, source, report)
        return
    if stripped.startswith(("{", "[")):
        text = first + handle.read()
        try:
            document = json.loads(text)
        except ValueError as error:
            report(
                Problem(source, getattr(error, "lineno", None), f"is not valid JSON: {getattr(error, 'msg', error)}")
            )
            return
        yield from _container(document, source, report)
        return
    report(Problem(source, line_number, "is not CloudTrail JSON, JSON Lines or a CloudWatch Logs export"))


def _numbered_lines(first: str, first_number: int, handle: TextIO) -> Iterator[tuple[int, str]]:
    """The first line (already read) and the rest of the file, numbered, without blank lines."""
    for number, line in enumerate(itertools.chain([first], handle), start=first_number):
        if line.strip():
            yield number, line


def _json_lines(first: str, first_number: int, handle: TextIO, source: str, report) -> Iterator[tuple[int, dict]]:
    for number, line in _numbered_lines(first, first_number, handle):
        try:
            event = json.loads(line)
        except ValueError as error:
            report(Problem(source, number, f"not valid JSON: {getattr(error, 'msg', error)}"))
            continue
        if isinstance(event, dict):
            yield number, event
        else:
            report(Problem(source, number, "a JSON value that is not an event object"))


def _export_lines(first: str, first_number: int, handle: TextIO, source: str, report) -> Iterator[tuple[int, dict]]:
    for number, line in _numbered_lines(first, first_number, handle):
        _, _, message = line.partition(" ")
        event = _decode_message(message, source, number, report)
        if event is not None:
            yield number, event


def _container(document: Any, source: str, report) -> Iterator[tuple[str, dict]]:
    if isinstance(document, list):
        items, key = document, None
    elif isinstance(document, dict) and any(key in document for key in _CONTAINERS):
        key = next(key for key in _CONTAINERS if key in document)
        items = document[key]
        if not isinstance(items, list):
            report(Problem(source, None, f"'{key}' is not a list"))
            return
    elif isinstance(document, dict) and "eventName" in document:
        yield "the document", document
        return
    else:
        report(Problem(source, None, "holds no CloudTrail events (expected Records, Events or events)"))
        return
    for position, item in enumerate(items, start=1):
        label = f"{key or 'item'}[{position - 1}]"
        if key == "Events":
            text = item.get("CloudTrailEvent") if isinstance(item, dict) else None
            event = _decode_message(text, source, None, report, label)
        elif key == "events":
            text = item.get("message") if isinstance(item, dict) else None
            event = _decode_message(text, source, None, report, label)
        else:
            event = item if isinstance(item, dict) else None
            if event is None:
                report(Problem(source, None, f"{label} is not an event object"))
        if event is not None:
            yield label, event


def _decode_message(text: Any, source: str, line: int | None, report, label: str = "") -> dict | None:
    prefix = f"{label}: " if label else ""
    if not isinstance(text, str):
        report(Problem(source, line, f"{prefix}no event text"))
        return None
    try:
        event = json.loads(text)
    except ValueError as error:
        report(Problem(source, line, f"{prefix}event is not valid JSON: {getattr(error, 'msg', error)}"))
        return None
    if not isinstance(event, dict):
        report(Problem(source, line, f"{prefix}event is not a JSON object"))
        return None
    return event
