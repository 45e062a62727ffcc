"""Python replay against DuckDB replay on the same 1,000,000 events in CloudTrail's S3 layout.

    python -m bench.backtest_throughput [--events 1000000] [--per-file 1000] [--stack dev]

Writes the synthetic events of bench.replay_throughput as gzipped `{"Records": [...]}` files (one
folder per hour, as CloudTrail delivers them), then runs `python -m replay --format json` once per
engine, each in its own process, and prints for each: wall time, events/s and peak memory (the
process's maximum resident set), plus the CPU seconds spent (DuckDB's on every core) so a busy
machine does not hide the difference in work. The two reports must be identical; the run fails if
they differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.replay_throughput import MIX, synthetic_lines

ENGINES = ("python", "duckdb")


def write_history(folder: Path, events: int, per_file: int, sign_ins: int = MIX["sign-ins"]) -> int:
    mix = {**MIX, "routine": 100 - MIX["changes"] - sign_ins, "sign-ins": sign_ins}
    lines = synthetic_lines(events, mix)
    files = 0
    for start in range(0, len(lines), per_file):
        chunk = lines[start : start + per_file]
        hour = chunk[0][chunk[0].index('"eventTime": "') + 14 :][:13]  # 2024-05-01T10
        day, clock = hour.split("T")
        target = folder / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / day.replace("-", "/")
        target.mkdir(parents=True, exist_ok=True)
        body = '{"Records":[' + ",".join(chunk) + "]}"
        name = f"111122223333_CloudTrail_us-east-1_{day.replace('-', '')}T{clock}00Z_{start:08d}.json.gz"
        (target / name).write_bytes(gzip.compress(body.encode(), compresslevel=1))
        files += 1
    return files


def child(engine: str, stack: str, folder: str, output: str) -> None:
    """Run one engine in this process; print its seconds and peak memory as JSON."""
    from replay.__main__ import main

    started = time.perf_counter()
    with open(output, "w", encoding="utf-8") as handle:
        saved, sys.stdout = sys.stdout, handle
        try:
            code = main(["--stack", stack, "--engine", engine, "--format", "json", folder])
        finally:
            sys.stdout = saved
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"code": code, "seconds": seconds, "cpuSeconds": cpu, "peakMB": usage.ru_maxrss / 1024}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-file", type=int, default=1000, help="events per log file (default 1000)")
    parser.add_argument("--stack", default="dev")
    parser.add_argument(
        "--sign-ins",
        type=int,
        default=MIX["sign-ins"],
        help="sign-ins per 100 events (default 1); both engines share the notifier's work on each",
    )
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "FOLDER", "OUTPUT"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(options.child[0], options.stack, options.child[1], options.child[2])
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "history"
        started = time.perf_counter()
        files = write_history(folder, options.events, options.per_file, options.sign_ins)
        size = sum(path.stat().st_size for path in folder.rglob("*.gz"))
        print(
            f"wrote {options.events:,} events in {files:,} gzipped CloudTrail files ({size / 1e6:,.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cores"
        )
        figures = {}
        for engine in ENGINES:
            output = Path(scratch) / f"{engine}.json"
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.backtest_throughput",
                    "--stack",
                    options.stack,
                    "--child",
                    engine,
                    str(folder),
                    str(output),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            figures[engine] = json.loads(run.stdout.strip().splitlines()[-1])
            run_figures = figures[engine]
            print(
                f"{engine:<7} {options.events / run_figures['seconds']:>10,.0f} events/s  "
                f"({run_figures['seconds']:.2f} s wall, {run_figures['cpuSeconds']:.2f} s CPU on all cores)  "
                f"peak memory {run_figures['peakMB']:,.0f} MB"
            )
        reports = [json.loads((Path(scratch) / f"{engine}.json").read_text()) for engine in ENGINES]
        speedup = figures["python"]["seconds"] / figures["duckdb"]["seconds"]
        cpu_ratio = figures["python"]["cpuSeconds"] / figures["duckdb"]["cpuSeconds"]
        print(f"duckdb speed-up: {speedup:.1f}x wall, {cpu_ratio:.1f}x less CPU")
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1):
            print(f"note: load average {load:.1f} on {os.cpu_count()} cores: other work shared the machine")
        if reports[0] != reports[1]:
            print("error: the two engines' reports differ", file=sys.stderr)
            return 1
        report = reports[0]
        print(
            f"identical reports: {report['events']:,} events, "
            f"{sum(item['matches'] for item in report['detections']):,} matches, "
            f"{len(report['transitions']):,} alarm state changes, {len(report['mails']):,} mails"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
