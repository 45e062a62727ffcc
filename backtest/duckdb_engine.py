"""Replay on DuckDB: every detection of a stack as one SQL pass over the input files.

DuckDB reads CloudTrail S3 log files (`{"Records": [...]}`, plain or gzipped) and JSON Lines itself,
on every core, evaluates all patterns and the notifier's subscription filter in SQL, and removes
events seen twice (first by file, then by position, as the Python replay does). Only the events that
matched something come back to Python, where the existing alarm simulator and the notifier's own
code turn them into the same report.

Anything DuckDB cannot read exactly like replay/readers.py (other formats such as lookup-events
output, invalid JSON, a value that is not an event, a record without eventTime or eventName) is read
by replay/readers.py instead and handed to DuckDB as JSON Lines, so the report is the same whichever
engine runs.
"""

from __future__ import annotations

import gzip
import heapq
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
from sqlglot import exp

from backtest.duckdb_query import flags_select, screen_select
from detections.pattern import compile_pattern
from handlers.signin_events import subscription_filter_pattern
from replay.core import Replay
from replay.readers import REQUIRED_FIELDS, Problem, read_events

_RECORDS_START = re.compile(r'^\s*\{\s*"Records"\s*:\s*\[')
_SNIFF_BYTES = 1 << 16
_HEAD_BYTES = 256
_CONTAINERS = ("Records", "Events", "events")
# CloudTrail delivers files of a few MB; the cap only bounds one record document in memory.
_MAX_DOCUMENT_BYTES = 1 << 28
_MIN_DOCUMENT_BYTES = 1 << 20
# Without --memory-limit, DuckDB may use what reading needs and no more, and spills the rest to a temporary
# folder, so its memory does not grow with the history: each reading thread holds about 16 times the
# largest document (64 MB for CloudTrail's files), and everything else fits in 64 MB.
_PER_THREAD_DOCUMENTS = 16
_MEMORY_BESIDES_READING = 64 << 20
# How often a long read tells its progress (percent done, as DuckDB estimates it).
_PROGRESS_SECONDS = 0.25


def _unpacked_size(path: Path) -> int:
    """A gzipped file's unpacked size modulo 2**32, from its trailer (ISIZE)."""
    with path.open("rb") as handle:
        handle.seek(-4, 2)
        return int.from_bytes(handle.read(4), "little")


def _object_bytes(paths: Sequence[Path]) -> int:
    """A maximum_object_size that holds the largest of `paths` whole: DuckDB reserves about twice it per
    reading thread, so the 256 MB cap itself would cost more memory than everything else."""
    largest = 0
    for path in paths:
        size = path.stat().st_size
        if _is_gzip(path):
            size = max(size, _unpacked_size(path))
        largest = max(largest, size)
    bound = _MIN_DOCUMENT_BYTES
    while bound <= largest and bound < _MAX_DOCUMENT_BYTES:
        bound *= 2
    return bound


def default_memory_limit(threads: int, paths: Sequence[Path]) -> int:
    """Bytes DuckDB may use when --memory-limit is not given: reading's buffers and a little more."""
    per_thread = _PER_THREAD_DOCUMENTS * max(_object_bytes(paths), 4 * _MIN_DOCUMENT_BYTES)
    return _MEMORY_BESIDES_READING + threads * per_thread


class EngineRefused(RuntimeError):
    """DuckDB refused the input and no single file explains it."""


class MemoryLimitError(ValueError):
    """--memory-limit is not a size DuckDB understands."""


@dataclass(frozen=True)
class _Layout:
    """How DuckDB reads a file of records: gzipped or not, and whether the document is on one line.

    CloudTrail writes each file's document on one line, which DuckDB reads as newline-delimited JSON with
    about 40 % less CPU than a document it must parse to find where it ends. `one_line` means no line break
    was seen in the start of the file that was sniffed. A file with one further on is either refused by that
    reader, and read as a whole document instead, or read as several documents, which makes it the Python
    reader's, as it would be read whole.
    """

    gzipped: bool
    one_line: bool


@dataclass
class _Inputs:
    records: dict[_Layout, list[int]] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    python: list[int] = field(default_factory=list)

    def moved(self, to_python: set[int], documents: set[int] = frozenset()) -> _Inputs:
        """These inputs with `to_python` given to the Python reader, and `documents` (read as one line of JSON)
        read as whole documents instead."""
        files = to_python | documents
        records: dict[_Layout, list[int]] = {}
        python = {*self.python, *(index for index in self.lines if index in files)}
        for layout, group in self.records.items():
            for index in group:
                if index not in files:
                    records.setdefault(layout, []).append(index)
                elif index in documents and layout.one_line:
                    records.setdefault(replace(layout, one_line=False), []).append(index)
                else:
                    python.add(index)
        return _Inputs(
            records={layout: sorted(group) for layout, group in records.items()},
            lines=[index for index in self.lines if index not in files],
            python=sorted(python),
        )


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _classify(path: Path) -> tuple[str, _Layout | None]:
    """'records' (and how DuckDB reads the file) or 'lines' when DuckDB reads it as replay/readers.py would;
    'python' otherwise."""
    try:
        with path.open("rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
            packed = os.fstat(probe.fileno()).st_size
        with (gzip.open if gzipped else open)(path, "rb") as handle:
            if gzipped and packed > _SNIFF_BYTES:
                # Packed to more than the sniff, it unpacks to more too, so reading the sniff would not reach its
                # trailer either: its start tells a CloudTrail file, which keeps this quick over thousands of files.
                head = handle.read(_HEAD_BYTES)
                start = head.decode("utf-8", errors="replace")
                if _RECORDS_START.match(start):
                    return "records", _Layout(gzipped=True, one_line="\n" not in start)
                head += handle.read(_SNIFF_BYTES - len(head))
            else:
                # Read to its end, so a bad or cut-off trailer (CRC, size) shows here, as it does to the Python
                # reader; DuckDB's own gzip reader does not check it.
                head = handle.read(_SNIFF_BYTES)
        text = head.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
        return "python", None  # replay/readers.py names the problem
    kind = _kind(text)
    return kind, _Layout(gzipped=gzipped, one_line="\n" not in text.rstrip()) if kind == "records" else None


def _kind(text: str) -> str:
    if _RECORDS_START.match(text):
        return "records"
    for line in text.splitlines(keepends=True):
        if not line.strip():
            continue
        if not line.endswith("\n"):
            return "python"  # a first line longer than the sniff: rare, leave it to the reader
        try:
            first = json.loads(line)
        except ValueError:
            return "python"
        if isinstance(first, dict) and not any(key in first for key in _CONTAINERS):
            return "lines"
        return "python"
    return "python"


def _events_and_problems(path: Path) -> Iterator[dict | Problem]:
    """replay/readers.py's events and problems of one file, in the order it meets them."""
    pending: list[Problem] = []
    for event in read_events(path, pending.append):
        yield from pending
        pending.clear()
        yield event
    yield from pending


def _json_value(text: str):
    """The value of JSON text as DuckDB writes it; a string without escapes is the text between its quotes."""
    if text.startswith('"') and "\\" not in text:
        return text[1:-1]
    return json.loads(text)


def _quote(value: str) -> str:
    """A DuckDB string literal (standard SQL: quotes doubled, backslashes as they are)."""
    return "'" + value.replace("'", "''") + "'"


def _compression(path: Path) -> str:
    # DuckDB 1.5 refuses 'none'; auto_detect reads a file that is not gzipped by its extension (and one
    # named .gz that is not gzipped fails, and goes to the Python reader).
    return _quote("gzip" if _is_gzip(path) else "auto_detect")


def _index_list(indexes: Sequence[int]) -> str:
    return "[" + ", ".join(str(index) for index in indexes) + "]"


def _file_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(path)) for path in paths) + "]"


class DuckDBReplay:
    """Fill a Replay from files, with the detection work done by DuckDB."""

    def __init__(
        self,
        replay: Replay,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.replay = replay
        self.threads = threads
        self.memory_limit = memory_limit
        self.progress = progress
        self._shown = 0.0  # the progress told so far: a second pass (rare) does not take it back
        patterns = [item.compiled for item in replay.detections]
        self.signin = len(patterns)
        self.patterns = [*patterns, compile_pattern(subscription_filter_pattern())]
        self.matched = " OR ".join(f"m{i}" for i in range(len(self.patterns)))  # SQL: some pattern matched

    def run(self, files: Sequence[Path], report) -> int:
        """Replay `files` (in order); report problems in replay/readers.py's order; return the files read."""
        inputs = _Inputs()
        for index, path in enumerate(files):
            kind, layout = _classify(path)
            if kind == "records":
                inputs.records.setdefault(layout, []).append(index)
            elif kind == "lines":
                inputs.lines.append(index)
            else:
                inputs.python.append(index)
        read_by_duckdb = [files[i] for group in inputs.records.values() for i in group]
        read_by_duckdb += [files[i] for i in inputs.lines]
        with TemporaryDirectory() as folder, self._connect(Path(folder), read_by_duckdb) as connection:
            if self.progress is None:
                connection.execute("SET enable_progress_bar = false")
            else:
                # DuckDB tracks progress only with its bar on; it prints nothing, and query_progress tells. It
                # cannot tell while an IN list runs as a join, so on a terminal IN lists stay comparisons (about
                # a tenth slower, the same result).
                connection.execute("SET enable_progress_bar = true")
                connection.execute("SET enable_progress_bar_print = false")
                connection.execute("SET progress_bar_time = 0")
                connection.execute("SET disabled_optimizers = 'in_clause'")
            while True:
                read_problems, read_ok = self._read_in_python(files, inputs.python, Path(folder))
                try:
                    odd = self._evaluate(connection, files, inputs, Path(folder))
                except duckdb.OutOfMemoryException as error:
                    raise EngineRefused(
                        f"DuckDB needs more memory than it may use ({str(error).splitlines()[0]}); "
                        "raise --memory-limit or replay fewer files at once"
                    ) from error
                except duckdb.Error as error:
                    refused, documents = self._unreadable(connection, files, inputs, Path(folder))
                    if not refused and not documents:
                        # No file to blame: an event the Python reader took that DuckDB cannot hold (a lone
                        # surrogate in a string, say).
                        raise EngineRefused(
                            f"DuckDB cannot read these events ({str(error).splitlines()[0]}); "
                            "replay them with --engine python"
                        ) from error
                    inputs = inputs.moved(refused, documents)
                    continue
                if not odd:
                    break
                # Rare: a file DuckDB would read differently from the Python reader; the reader takes it.
                inputs = inputs.moved(odd)
            self._finish(connection, read_problems, report)
        duckdb_files = len(files) - len(inputs.python)
        return duckdb_files + sum(read_ok.values())

    def _connect(self, folder: Path, paths: Sequence[Path]):
        config: dict = {"preserve_insertion_order": True, "temp_directory": str(folder / "spill")}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        try:
            connection = duckdb.connect(config=config)
        except duckdb.Error as error:
            if self.memory_limit:
                raise MemoryLimitError(
                    f"--memory-limit {self.memory_limit!r} is not a size such as 400MB or 2GB"
                ) from error
            raise
        if not self.memory_limit:
            threads = connection.execute("SELECT current_setting('threads')").fetchone()[0]
            connection.execute(f"SET memory_limit = '{default_memory_limit(threads, paths) >> 20}MB'")
        return connection

    # ------------------------------------------------------------------ sources

    def _read_in_python(self, files, indexes, folder: Path):
        """Files DuckDB does not take: read as replay does, events written as JSON Lines for DuckDB."""
        problems: list[tuple[int, int, Problem]] = []
        read_ok: dict[int, bool] = {}
        with (folder / "python.jsonl").open("w", encoding="utf-8") as handle:
            for index in indexes:
                problems_before = len(problems)
                position = 0
                for item in _events_and_problems(files[index]):
                    if isinstance(item, Problem):
                        problems.append((index, position, item))
                        continue
                    handle.write(json.dumps({"file": index, "position": position, "doc": item}) + "\n")
                    position += 1
                read_ok[index] = position > 0 or len(problems) == problems_before
        return problems, read_ok

    def _sources(self, files, inputs: _Inputs, folder: Path, *, python: bool = True) -> str:
        parts = []
        for layout, indexes in sorted(inputs.records.items(), key=lambda item: astuple(item[0])):
            if not indexes:
                continue
            listed = [files[i] for i in indexes]
            # Every document has a row at position 0: its first record, or (with no records) a marker row
            # with document_end. A file with two such rows holds two documents, and one whose Records is
            # null is odd; both are the Python reader's to report. (A list is unnested as it is, not copied.)
            # records=true: the columns are given, and without it DuckDB reads and parses a sample of the
            # files to learn that, which cost more CPU than evaluating the patterns.
            parts.append(
                f"""SELECT file, generate_subscripts(items, 1) - 1 AS position, unnest(items) AS doc,
                       document_end, Records IS NULL AS odd_file
                FROM (SELECT ({_index_list(indexes)})[list_position({_file_list(listed)}, filename)] AS file,
                             Records, coalesce(len(Records), 0) = 0 AS document_end,
                             CASE WHEN len(Records) > 0 THEN Records ELSE [NULL::JSON] END AS items
                      FROM read_json({_file_list(listed)}, columns={{'Records': 'JSON[]'}},
                                     format={_quote("newline_delimited" if layout.one_line else "unstructured")},
                                     records=true, filename=true,
                                     compression={_quote("gzip" if layout.gzipped else "auto_detect")},
                                     maximum_object_size={_object_bytes(listed)}))"""
            )
        for index in inputs.lines:
            parts.append(
                f"""SELECT {index} AS file, row_number() OVER () - 1 AS position, json AS doc,
                       false AS document_end, false AS odd_file
                FROM read_ndjson_objects({_quote(str(files[index]))}, compression={_compression(files[index])},
                                         maximum_object_size={_object_bytes([files[index]])})"""
            )
        if python:
            parts.append(
                f"""SELECT file, position, doc, false AS document_end, false AS odd_file
            FROM read_json({_quote(str(folder / "python.jsonl"))}, format='newline_delimited', records=true,
                           columns={{'file': 'INTEGER', 'position': 'BIGINT', 'doc': 'JSON'}},
                           maximum_object_size={_object_bytes([folder / "python.jsonl"])})"""
            )
        return "\nUNION ALL\n".join(f"({part})" for part in parts)

    def _unreadable(self, connection, files, inputs: _Inputs, folder: Path) -> tuple[set[int], set[int]]:
        """After DuckDB refused the batch, each file read on its own as the batch reads it: the files DuckDB
        refuses, and the ones it refused as one line of JSON but reads as whole documents."""
        refused: set[int] = set()
        documents: set[int] = set()
        singles = [_Inputs(records={layout: [index]}) for layout, group in inputs.records.items() for index in group]
        singles += [_Inputs(lines=[index]) for index in inputs.lines]
        for single in singles:
            if self._reads(connection, files, single, folder):
                continue
            indexes = [*single.lines, *(index for group in single.records.values() for index in group)]
            layout = next(iter(single.records), None)
            if layout is not None and layout.one_line:
                whole = _Inputs(records={replace(layout, one_line=False): indexes})
                if self._reads(connection, files, whole, folder):
                    documents.update(indexes)
                    continue
            refused.update(indexes)
        return refused, documents

    def _reads(self, connection, files, single: _Inputs, folder: Path) -> bool:
        try:
            # Every record unnested and kept, so DuckDB transforms all of it, as in the batch.
            connection.execute(
                f"SELECT count(doc), max(length(doc)) FROM ({self._sources(files, single, folder, python=False)})"
            ).fetchall()
        except duckdb.Error:
            return False
        return True

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, connection, files, inputs: _Inputs, folder: Path) -> set[int]:
        """Read every record into `screened` and the ones that may match into `flagged`; return odd files.

        `screened` holds one narrow row per record (and per document end): file, position, document_end,
        odd, event_key. `flagged` holds the records some pattern or the notifier's filter may match (at
        least all that do), with their flags, eventTime and (sign-ins only) the whole event. Odd files are
        the ones the Python reader must read instead.
        """
        carried = ["file", "position", "document_end"]
        source = self._sources(files, inputs, folder)
        # The fields every event has are read in the same single parse as the event's id and time.
        required = {f"required_{name}": (name,) for name in REQUIRED_FIELDS}
        raw = {"event_id": ("eventID",), "event_time": ("eventTime",), **required}
        # A record without eventTime or eventName (missing or null; so also a null or any value that is not
        # an object) is not an event: the Python reader reports its file. An event's key is its eventID as
        # JSON text, written canonically by DuckDB; null means none.
        not_event = " OR ".join(f"coalesce({name}, 'null') = 'null'" for name in required)
        narrow = f"""odd_file OR (NOT document_end AND ({not_event})) AS odd,
                     CASE WHEN event_id <> 'null' THEN event_id END AS event_key"""
        rows = exp.to_table("source_rows")
        flagged_columns = ", ".join(
            ["file", "position", "event_key", "event_time", *(f"m{i}" for i in range(len(self.patterns)))]
        )
        # The body is kept only for sign-ins, which the notifier renders from the whole event.
        body = f"CASE WHEN m{self.signin} THEN body::VARCHAR END AS body"
        for table in ("screened", "flagged"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        screen = screen_select(rows, "doc", [*carried, "odd_file"], self.patterns, raw)
        if screen is None:
            # Every record is evaluated in full, in the one pass.
            flags = flags_select(rows, "doc", [*carried, "odd_file"], self.patterns, raw, document="body")
            self._read(
                connection,
                f"""CREATE TEMP TABLE screened AS WITH source_rows AS ({source})
                    SELECT * EXCLUDE (body), {narrow}, {body} FROM ({flags.sql("duckdb", copy=False)})""",
            )
            connection.execute(
                f"""CREATE TEMP TABLE flagged AS SELECT {flagged_columns}, body
                    FROM screened WHERE NOT document_end AND ({self.matched})"""
            )
        else:
            # Each record is read for its id, time and the prefilter's selectors; only the few that may
            # match are kept whole, and evaluated in a second pass over those alone.
            self._read(
                connection,
                f"""CREATE TEMP TABLE screened AS WITH source_rows AS ({source})
                    SELECT file, position, document_end, {narrow}, candidate,
                           CASE WHEN candidate THEN event_time END AS event_time, doc
                    FROM ({screen.sql("duckdb", copy=False)})""",
            )
            flags = flags_select(
                exp.to_table("screened"),
                "doc",
                ["file", "position", "event_key", "event_time"],
                self.patterns,
                document="body",
                screened=True,
                candidates_only=True,
            )
            # Unfiltered: DuckDB would copy every flag's expression into a pushed-down filter and work each
            # selector's kind out again per pattern, far slower than writing the few ruled-out rows.
            evaluated = flags.sql("duckdb", copy=False)
            # This table's row order does not matter (the report orders by file and position), and without
            # keeping it DuckDB evaluates the candidates on every core.
            connection.execute("SET preserve_insertion_order = false")
            try:
                connection.execute(f"CREATE TEMP TABLE flagged AS SELECT {flagged_columns}, {body} FROM ({evaluated})")
            finally:
                connection.execute("SET preserve_insertion_order = true")
        odd = connection.execute(
            """SELECT file FROM screened GROUP BY file
               HAVING bool_or(odd) OR count(*) FILTER (WHERE position = 0) > 1"""
        ).fetchall()
        return {row[0] for row in odd}

    def _read(self, connection, sql: str) -> None:
        """Run the statement that reads every file, telling `progress` how far it got (from a second thread:
        DuckDB answers query_progress while the statement runs)."""
        if self.progress is None:
            connection.execute(sql)
            return
        finished = threading.Event()

        def watch() -> None:
            while not finished.wait(_PROGRESS_SECONDS):
                done = connection.query_progress()  # -1 before the statement starts and after it ends
                if done > self._shown:
                    self._shown = min(done, 100.0)
                    self.progress(self._shown)

        watcher = threading.Thread(target=watch, name="duckdb-progress", daemon=True)
        watcher.start()
        try:
            connection.execute(sql)
        finally:
            finished.set()
            watcher.join()
        if self._shown < 100:
            self._shown = 100.0
            self.progress(100.0)

    def _finish(self, connection, read_problems, report) -> None:
        replay = self.replay
        listed = ", ".join(f"CASE WHEN m{i} THEN {i} END" for i in range(self.signin))
        # Only the first copy of an event counts. Counting needs no order: a key seen n times is n - 1
        # duplicates. Only matched rows need to know whether they are the first copy of their key.
        repeats = "count(event_key) - count(DISTINCT event_key)"
        events, duplicates = connection.execute(
            f"SELECT count(*) - ({repeats}), {repeats} FROM screened WHERE NOT document_end"
        ).fetchone()
        replay.events += events
        replay.duplicates += duplicates
        rows = connection.execute(
            f"""WITH matched AS (SELECT * FROM flagged WHERE {self.matched}),
                     firsts AS (SELECT event_key, min(file::BIGINT * 4294967296 + position) AS first FROM screened
                                WHERE event_key IN (SELECT event_key FROM matched) GROUP BY event_key)
                SELECT file, position, matched.event_key, event_time,
                       list_filter([{listed or "NULL"}], x -> x IS NOT NULL), m{self.signin}, body
                FROM matched LEFT JOIN firsts ON matched.event_key = firsts.event_key
                WHERE firsts.first IS NULL OR firsts.first = file::BIGINT * 4294967296 + position
                ORDER BY file, position"""
        ).fetchall()
        connection.execute("DROP TABLE screened")
        connection.execute("DROP TABLE flagged")
        # Problems come out in the order the Python replay meets them: by file, then position.
        merged = heapq.merge(
            ((index, position, 0, problem) for index, position, problem in read_problems),
            ((row[0], row[1], 1, row) for row in rows),
            key=lambda item: item[:3],
        )
        for _, _, is_row, payload in merged:
            if not is_row:
                report(payload)
                continue
            _, _, event_id, event_time, positions, signin, body = payload
            if signin:
                event = json.loads(body)
            else:
                event = {} if event_id is None else {"eventID": _json_value(event_id)}
                if event_time is not None:
                    event["eventTime"] = _json_value(event_time)
            replay.record(event, positions, signin)


def replay_files(
    replay: Replay,
    files: Sequence[Path],
    report,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Replay `files` into `replay` on DuckDB; return how many files were read. `progress`, when given, is told
    the percentage of the reading done, rising to 100."""
    return DuckDBReplay(replay, threads=threads, memory_limit=memory_limit, progress=progress).run(files, report)
