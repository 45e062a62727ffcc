"""Replays a metric-filter alarm the way CloudWatch evaluates it.

The metric filter publishes 1 per matching event; CloudWatch keeps it at one-minute resolution.
Each time the alarm is evaluated it reads the last `period x evaluationPeriods` of data (the
evaluation window), splits it into `evaluationPeriods` periods, computes the statistic per
period, and is ALARM when at least `datapointsToAlarm` of them breach the threshold. A period
without datapoints is missing data, treated as not breaching. The alarm starts OK.

Where the window falls is CloudWatch's `EvaluationWindow` setting:

- sliding (the default): the window ends at the evaluation time and advances with every
  evaluation, once a minute for periods of a minute or more. Six failures between 09:58 and
  10:01 fire a "5 within 15 minutes" alarm at 10:02, whichever clock boundary they straddle.
- wall clock (opt-in, periods of 1 minute, 5 minutes, 1 hour, 1 day or 1 week): the window is
  made of whole periods aligned to the clock (UTC here) and evaluated as each one ends, so
  the same six failures split 2 + 4 across 10:00 and do not fire a "5 within 5 minutes" alarm.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

from detections.catalog import SLIDING_WINDOW, WALL_CLOCK_PERIODS, WALL_CLOCK_WINDOW, AlarmSpec

_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
_SYMBOL = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
MINUTE = 60


@dataclass(frozen=True)
class StateChange:
    time: datetime
    old: str
    new: str
    reason: str


class AlarmSimulator:
    def __init__(self, alarm: AlarmSpec) -> None:
        if alarm.treat_missing_data != "notBreaching":
            raise ValueError("only treatMissingData 'notBreaching' is simulated")
        if alarm.comparison not in _COMPARE:
            raise ValueError(f"unknown comparison {alarm.comparison!r}")
        if alarm.statistic not in ("Sum", "SampleCount", "Average", "Minimum", "Maximum"):
            raise ValueError(f"unknown statistic {alarm.statistic!r}")
        if alarm.period < MINUTE or alarm.period % MINUTE:
            raise ValueError(f"only periods of whole minutes are simulated, got {alarm.period}")
        if alarm.evaluation_window not in (SLIDING_WINDOW, WALL_CLOCK_WINDOW):
            raise ValueError(f"unknown evaluation window {alarm.evaluation_window!r}")
        if alarm.evaluation_window == WALL_CLOCK_WINDOW and alarm.period not in WALL_CLOCK_PERIODS:
            raise ValueError(f"a wall clock window needs a period of {WALL_CLOCK_PERIODS}, got {alarm.period}")
        self.alarm = alarm
        self.per_minute: Counter[int] = Counter()

    def add(self, epoch_seconds: float) -> None:
        """One matching event at this time (each publishes the value 1)."""
        self.per_minute[int(epoch_seconds // MINUTE)] += 1

    def _statistic(self, count: int) -> float | None:
        if not count:
            return None
        # Every datapoint is 1, so Average, Minimum and Maximum are 1 and Sum equals the count.
        return float(count) if self.alarm.statistic in ("Sum", "SampleCount") else 1.0

    def transitions(self) -> list[StateChange]:
        alarm = self.alarm
        period, periods = alarm.period // MINUTE, alarm.evaluation_periods
        minutes = sorted(self.per_minute)
        totals = [0, *accumulate(self.per_minute[m] for m in minutes)]

        def count(first: int, end: int) -> int:
            return totals[bisect_left(minutes, end)] - totals[bisect_left(minutes, first)]

        if alarm.evaluation_window == SLIDING_WINDOW:
            # A minute of data changes what a window sees when it enters the newest period
            # (the evaluation after that minute) or crosses into an older one, period by period.
            firsts = {minute + 1 for minute in minutes}
        else:
            firsts = {(minute // period + 1) * period for minute in minutes}
        candidates = sorted({end + k * period for end in firsts for k in range(periods + 1)})

        state, changes = "OK", []
        for end in candidates:
            values = [self._statistic(count(end - k * period, end - (k - 1) * period)) for k in range(periods, 0, -1)]
            breaching = sum(1 for v in values if v is not None and _COMPARE[alarm.comparison](v, alarm.threshold))
            new = "ALARM" if breaching >= alarm.datapoints_to_alarm else "OK"
            if new != state:
                changes.append(StateChange(_at(end), state, new, self._reason(end, breaching, values[-1])))
                state = new
        return changes

    def _reason(self, end: int, breaching: int, newest: float | None) -> str:
        alarm = self.alarm
        start = _at(end - alarm.period // MINUTE)
        shown = "no data" if newest is None else f"{alarm.statistic} {newest:g}"
        return (
            f"{breaching} of {alarm.evaluation_periods} period(s) breaching "
            f"({_SYMBOL[alarm.comparison]} {alarm.threshold:g}); "
            f"period {start:%Y-%m-%d %H:%M}-{_at(end):%H:%M} UTC: {shown}"
        )


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * MINUTE, tz=UTC)
