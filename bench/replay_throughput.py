"""Replay throughput on 1,000,000 synthetic CloudTrail events, one core.

    python -m bench.replay_throughput [--events 1000000] [--profile recommended] [--generator project|realistic]

Prints events/s for (a) JSON parsing alone and (b) the full replay with every detection of the
profile (parse, indexed detection, alarm simulation, sign-in mail rendering), and the ratio b/a
of their times. The goal is a ratio of at most 1.5. Both run over the same in-memory JSON lines, from the
project's mix or (--generator realistic) bench.realistic_trail's. The figures are CPU seconds of this
process (the machine may be shared), with wall seconds beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import UTC, datetime, timedelta

from detections.catalog import CATALOG
from detections.profiles import resolve_detections
from replay.core import Replay
from replay.sample import generate

# The mix, per 100 events: routine API calls, CIS-relevant changes and denied calls, and sign-ins.
# Real trails hold far fewer sign-ins than this; 1 in 100 still exercises the mail path hard.
MIX = {"routine": 96, "changes": 3, "sign-ins": 1}


def templates() -> dict[str, list[str]]:
    def template(event: dict) -> str:
        return json.dumps({**event, "eventID": "__ID__", "eventTime": "__TIME__"})

    examples = [example.event for detection in CATALOG for example in detection.examples]
    signin = "signin.amazonaws.com"
    return {
        "routine": [template(e) for e in generate.ordinary_activity() if e["eventSource"] != signin],
        "changes": [template(e) for e in examples if e["eventSource"] != signin],
        "sign-ins": [template(e) for e in examples + generate.attacks() if e["eventSource"] == signin],
    }


def synthetic_lines(count: int, mix: dict[str, int] = MIX) -> list[str]:
    pools = templates()
    schedule = [kind for kind, share in mix.items() for _ in range(share)]
    start = datetime(2024, 5, 1, tzinfo=UTC)
    lines = []
    stamp_cache: dict[int, str] = {}
    for index in range(count):
        pool = pools[schedule[(index * 37) % len(schedule)]]
        template = pool[(index // len(schedule)) % len(pool)]
        second = index // 10  # ten events a second: about 28 hours of history
        stamp = stamp_cache.get(second)
        if stamp is None:
            stamp_cache.clear()
            stamp = stamp_cache[second] = (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(template.replace("__ID__", f"bench-{index:08d}", 1).replace("__TIME__", stamp, 1))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profile", default="recommended", choices=("cis", "recommended"))
    parser.add_argument("--generator", choices=("project", "realistic"), default="project")
    parser.add_argument("--sign-ins", type=int, default=MIX["sign-ins"], help="sign-ins per 100 events (default 1)")
    options = parser.parse_args(argv)
    mix = {**MIX, "routine": 100 - MIX["changes"] - options.sign_ins, "sign-ins": options.sign_ins}

    started = time.perf_counter()
    if options.generator == "realistic":
        from bench import realistic_trail

        lines = realistic_trail.lines(options.events)
        shares = "a realistic trail"
    else:
        lines = synthetic_lines(options.events, mix)
        shares = ", ".join(f"{share}% {kind}" for kind, share in mix.items())
    size = sum(len(line) for line in lines)
    print(
        f"generated {len(lines):,} events ({size / 1e6:,.0f} MB of JSON; {shares}) in "
        f"{time.perf_counter() - started:.1f} s"
    )

    loads = json.loads
    started, cpu = time.perf_counter(), time.process_time()
    for line in lines:
        loads(line)
    parse_wall, parse_seconds = time.perf_counter() - started, time.process_time() - cpu

    detections = resolve_detections(options.profile)
    replay = Replay(detections, notify_on="all", timezone="Asia/Tokyo")
    feed = replay.feed
    started, cpu = time.perf_counter(), time.process_time()
    for line in lines:
        feed(loads(line))
    result = replay.result()
    replay_wall, replay_seconds = time.perf_counter() - started, time.process_time() - cpu

    count = len(lines)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"(a) JSON parsing alone          {count / parse_seconds:>10,.0f} events/s  "
        f"({parse_seconds:.2f} s CPU, {parse_wall:.2f} s wall)"
    )
    print(
        f"(b) full replay, {len(detections)} detections {count / replay_seconds:>10,.0f} events/s  "
        f"({replay_seconds:.2f} s CPU, {replay_wall:.2f} s wall)"
    )
    ratio = replay_seconds / parse_seconds
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"ratio b/a (CPU time)            {ratio:>10.2f}   (goal: at most 1.5: {verdict}); load average {load}")
    print(
        f"matches {sum(result.matches.values()):,}, alarm state changes {len(result.transitions):,}, "
        f"mails {len(result.mails):,}, peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )


if __name__ == "__main__":
    main()
