"""Replay recorded CloudTrail history through a stack's detections, alarms and notifier.

    python -m replay --stack dev replay/sample/history
    python -m replay --stack prod --format json ~/cloudtrail-logs/ > report.json
    python -m replay --stack prod --engine duckdb ~/cloudtrail-logs/
    python -m replay --stack prod --since 2024-05-01T09:00Z --until 2024-05-02 --detection root-account-usage ...

Exit status: 0 replayed, 1 nothing could be read, 2 configuration or usage error (a path that does not
exist, a time that is not ISO 8601, a detection the stack does not have).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from backtest.duckdb_engine import EngineRefused, MemoryLimitError, replay_files
from components.settings import SettingsError, load_settings
from detections.catalog import CATALOG
from detections.profiles import EnabledDetection
from offline import cli
from offline.stack_config import PROJECT_DIR, StackConfigError, load_stack_config
from replay.core import Replay, Window
from replay.readers import Problem, input_files, read_events
from replay.report import render_json, render_text
from replay.stack import report_context, stack_replay


class Progress:
    """A one-line progress bar on a terminal; silent when stderr is not one."""

    def __init__(self, total_files: int, enabled: bool) -> None:
        self.total = total_files
        self.enabled = enabled and total_files > 0
        self.files = 0

    def update(self, events: int, done_file: bool = False) -> None:
        if done_file:
            self.files += 1
        if self.enabled:
            self._draw(self.files / self.total, f"{self.files}/{self.total} files, {events:,} events")

    def percent(self, done: float) -> None:
        """DuckDB's estimate of how much of the files it has read."""
        if self.enabled:
            self._draw(done / 100, f"{done:3.0f}% of {self.total:,} files read by DuckDB")

    def _draw(self, share: float, words: str) -> None:
        width = 30
        filled = int(width * share)
        sys.stderr.write(f"\rreplay [{'#' * filled}{'.' * (width - filled)}] {words}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _replay_in_python(replay: Replay, files: list[Path], problems: list[Problem]) -> int:
    progress = Progress(len(files), sys.stderr.isatty())
    files_read = 0
    for path in files:
        before = len(problems)
        events_before = replay.events + replay.duplicates
        for count, event in enumerate(read_events(path, problems.append), start=1):
            replay.feed(event)
            if count % 50_000 == 0:
                progress.update(replay.events)
        if replay.events + replay.duplicates > events_before or len(problems) == before:
            files_read += 1
        progress.update(replay.events, done_file=True)
    progress.close()
    return files_read


def _time(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time such as 2024-05-01 or 2024-05-01T09:30:00Z"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def select_detections(
    enabled: list[EnabledDetection], wanted: list[str], stack: str, profile: str
) -> tuple[list[EnabledDetection], list[str]]:
    """The stack's detections named by --detection (all when none is), and a message per unusable name."""
    if not wanted:
        return enabled, []
    by_id = {item.id: item for item in enabled}
    catalog_ids = sorted(detection.id for detection in CATALOG)
    problems = []
    for name in dict.fromkeys(wanted):
        if name in by_id:
            continue
        if name in catalog_ids:
            problems.append(f"--detection {name}: not enabled in stack {stack} (profile {profile})")
            continue
        close = difflib.get_close_matches(name, sorted(by_id), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"the stack's detections: {', '.join(sorted(by_id))}"
        problems.append(f"--detection {name}: unknown detection; {hint}")
    chosen = set(wanted)
    return [item for item in enabled if item.id in chosen], problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=cli.program("replay"), description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders of CloudTrail history")
    parser.add_argument("--stack", default="dev", help="stack whose settings to use: Pulumi.<stack>.yaml (default dev)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--max-mails", type=int, default=20, help="mails shown in text output (default 20; JSON has all)"
    )
    parser.add_argument(
        "--engine",
        choices=("python", "duckdb"),
        default="python",
        help="python: the pattern engine, one core; duckdb: the same detections as SQL on every core",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="duckdb: the memory DuckDB may use, such as 400MB (default: what reading needs, 192MB on 2 cores "
        "for CloudTrail's files); beyond it DuckDB spills to a temporary folder",
    )
    parser.add_argument("--since", type=_time, help="replay events at or after this time (ISO 8601; UTC by default)")
    parser.add_argument("--until", type=_time, help="replay events before this time (ISO 8601; UTC by default)")
    parser.add_argument(
        "--detection", action="append", default=[], metavar="ID", help="replay only this detection (repeatable)"
    )
    options = parser.parse_args(argv)
    if options.since and options.until and options.since >= options.until:
        print(f"error: --since {_iso(options.since)} is not before --until {_iso(options.until)}", file=sys.stderr)
        return 2
    missing = [path for path in options.paths if not path.exists()]
    if missing:
        for path in missing:
            print(f"error: {path}: no such file or folder", file=sys.stderr)
        return 2

    try:
        config = load_stack_config(options.stack, options.project_dir)
        settings = load_settings(lambda key: config.get(f"{config.project}:{key}"))
    except (SettingsError, StackConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if settings.is_hub:
        print(
            f"error: stack {options.stack} is a hub: it deploys no detections; replay a member stack", file=sys.stderr
        )
        return 2
    detections, unusable = select_detections(
        settings.detections, options.detection, options.stack, settings.detection_profile
    )
    if unusable:
        for message in unusable:
            print(f"error: {message}", file=sys.stderr)
        return 2

    problems: list[Problem] = []
    files = input_files(options.paths, problems.append)
    window = Window(options.since, options.until)
    replay = stack_replay(settings, detections, window=window, report=problems.append)
    if options.engine == "duckdb":
        progress = Progress(len(files), sys.stderr.isatty())
        try:
            files_read = replay_files(
                replay,
                files,
                problems.append,
                memory_limit=options.memory_limit,
                progress=progress.percent if progress.enabled else None,
            )
        except (EngineRefused, MemoryLimitError) as error:
            progress.close()
            print(f"error: {error}", file=sys.stderr)
            return 1
        progress.close()
    else:
        files_read = _replay_in_python(replay, files, problems)
    result = replay.result()
    result.problems = problems
    context = {
        **report_context(options.stack, settings),
        "files": len(files),
        "filesRead": files_read,
        "since": _iso(options.since),
        "until": _iso(options.until),
    }
    if options.format == "json":
        print(json.dumps(render_json(result, replay.detections, context), indent=2, ensure_ascii=False))
    else:
        print(render_text(result, replay.detections, context, options.max_mails))
    if result.events == 0 and result.duplicates == 0:
        print("error: no CloudTrail event could be read from the given paths", file=sys.stderr)
        return 1
    return 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def run() -> None:
    """The installed `login-monitoring-replay` command."""
    cli.run(main)


if __name__ == "__main__":
    run()
