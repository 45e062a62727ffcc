"""Replays a metric-filter alarm the way CloudWatch evaluates it.

The metric filter publishes 1 per matching event. CloudWatch aggregates datapoints into
periods aligned to the clock (a 15-minute period covers :00-:15, :15-:30, ...), computes the
statistic per period, and after each period ends looks at the last N periods: the alarm is
ALARM when at least M of them breach the threshold. A period without datapoints is missing
data, treated as not breaching. The alarm starts OK.

A burst that straddles a period boundary is split between two periods — exactly as in
CloudWatch — which is why five failures in five minutes may still not fire a
"5 within 15 minutes" alarm.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from detections.catalog import AlarmSpec

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
        self.alarm = alarm
        self.counts: Counter[int] = Counter()

    def add(self, epoch_seconds: float) -> None:
        """One matching event at this time (each publishes the value 1)."""
        self.counts[int(epoch_seconds // self.alarm.period)] += 1

    def value(self, period_index: int) -> float | None:
        count = self.counts.get(period_index, 0)
        if not count:
            return None
        # Every datapoint is 1, so Average, Minimum and Maximum are 1 and Sum equals the count.
        return float(count) if self.alarm.statistic in ("Sum", "SampleCount") else 1.0

    def breaching(self, period_index: int) -> bool:
        value = self.value(period_index)
        return value is not None and _COMPARE[self.alarm.comparison](value, self.alarm.threshold)

    def transitions(self) -> list[StateChange]:
        alarm = self.alarm
        # The state can change only when a period with data enters the window (its own index)
        # or leaves it (N periods later); evaluating those indexes is enough.
        candidates = sorted({index + offset for index in self.counts for offset in range(alarm.evaluation_periods + 1)})
        state, changes = "OK", []
        for index in candidates:
            window = range(index - alarm.evaluation_periods + 1, index + 1)
            breaching = sum(1 for k in window if self.breaching(k))
            new = "ALARM" if breaching >= alarm.datapoints_to_alarm else "OK"
            if new != state:
                changes.append(StateChange(self._end_of(index), state, new, self._reason(index, breaching)))
                state = new
        return changes

    def _end_of(self, index: int) -> datetime:
        return datetime.fromtimestamp((index + 1) * self.alarm.period, tz=UTC)

    def _reason(self, index: int, breaching: int) -> str:
        alarm = self.alarm
        start = datetime.fromtimestamp(index * alarm.period, tz=UTC)
        value = self.value(index)
        shown = "no data" if value is None else f"{alarm.statistic} {value:g}"
        return (
            f"{breaching} of {alarm.evaluation_periods} period(s) breaching "
            f"({_SYMBOL[alarm.comparison]} {alarm.threshold:g}); "
            f"period from {start:%Y-%m-%d %H:%M} UTC: {shown}"
        )
