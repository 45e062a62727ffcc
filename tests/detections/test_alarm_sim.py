import random
from datetime import UTC, datetime

import pytest

from detections.alarm_sim import AlarmSimulator
from detections.catalog import AlarmSpec

WALL_CLOCK = {"evaluation_window": "wallClock"}
# Six failures between 09:58 and 10:01, straddling the 10:00 boundary.
STRADDLING_BURST = ("09:58:00", "09:59:00", "10:00:00", "10:00:30", "10:01:00", "10:01:30")


def at(text: str) -> float:
    return datetime.fromisoformat(f"2024-05-01T{text}+00:00").timestamp()


def simulate(alarm: AlarmSpec, *times: str) -> list[tuple[str, str]]:
    simulator = AlarmSimulator(alarm)
    for time in times:
        simulator.add(at(time))
    return [(f"{change.time:%H:%M}", change.new) for change in simulator.transitions()]


def test_a_burst_straddling_a_clock_boundary_fires_the_default_sliding_window():
    # The fifth failure lands in minute 10:01; the evaluation at 10:02 sees 6 in the last 15 minutes.
    # At 10:15 the window starts at 10:00 and holds four: the alarm clears.
    assert simulate(AlarmSpec(period=900, threshold=5), *STRADDLING_BURST) == [("10:02", "ALARM"), ("10:15", "OK")]


def test_the_same_burst_is_split_by_a_wall_clock_window_and_does_not_fire():
    # Wall clock windows take no 15-minute period; "5 within 5 minutes" shows the split: 2 + 4.
    assert simulate(AlarmSpec(period=300, threshold=5), *STRADDLING_BURST) == [("10:02", "ALARM"), ("10:05", "OK")]
    assert simulate(AlarmSpec(period=300, threshold=5, **WALL_CLOCK), *STRADDLING_BURST) == []


def test_failures_never_five_within_fifteen_minutes_do_not_fire():
    spread = [f"10:{minute:02d}:30" for minute in range(20, 52, 4)]  # eight failures, four minutes apart
    assert simulate(AlarmSpec(period=900, threshold=5), *spread) == []


def test_the_sliding_window_fires_on_the_evaluation_after_the_breaching_minute():
    simulator = AlarmSimulator(AlarmSpec(period=900, threshold=5))
    for minute in range(1, 7):
        simulator.add(at(f"11:0{minute}:00"))
    changes = simulator.transitions()
    assert [(f"{c.time:%H:%M}", c.old, c.new) for c in changes] == [("11:06", "OK", "ALARM"), ("11:18", "ALARM", "OK")]
    assert changes[0].time.tzinfo is UTC
    assert changes[0].reason == "1 of 1 period(s) breaching (>= 5); period 2024-05-01 10:51-11:06 UTC: Sum 5"
    assert changes[1].reason == "0 of 1 period(s) breaching (>= 5); period 2024-05-01 11:03-11:18 UTC: Sum 4"


def test_a_wall_clock_window_fires_when_the_period_ends_and_clears_after_a_quiet_period():
    alarm = AlarmSpec(period=300, threshold=5, **WALL_CLOCK)
    times = [f"11:0{minute}:00" for minute in range(5, 10)]
    assert simulate(alarm, *times) == [("11:10", "ALARM"), ("11:15", "OK")]


def test_m_of_n_counts_breaching_periods_inside_the_sliding_window():
    alarm = AlarmSpec(period=300, evaluation_periods=3, datapoints_to_alarm=2, threshold=1)
    # At 10:12 the window 09:57-10:12 holds 10:01 in its first period and 10:11 in its last.
    assert simulate(alarm, "10:01:00", "10:11:00") == [("10:12", "ALARM"), ("10:17", "OK")]


def test_m_of_n_with_a_wall_clock_window_uses_clock_aligned_periods():
    alarm = AlarmSpec(period=300, evaluation_periods=3, datapoints_to_alarm=2, threshold=1, **WALL_CLOCK)
    assert simulate(alarm, "10:01:00", "10:11:00") == [("10:15", "ALARM"), ("10:20", "OK")]


def test_m_of_n_is_not_met_by_breaches_too_far_apart():
    alarm = AlarmSpec(period=300, evaluation_periods=3, datapoints_to_alarm=2, threshold=1)
    assert simulate(alarm, "10:01:00", "10:16:00") == []  # never inside one 15-minute window
    assert simulate(alarm, "10:01:00", "10:15:00") == [("10:16", "ALARM"), ("10:17", "OK")]


def test_alarm_stays_while_the_window_keeps_breaching_and_clears_once():
    assert simulate(AlarmSpec(period=300, threshold=1), "10:01:00", "10:06:00", "10:11:00") == [
        ("10:02", "ALARM"),
        ("10:17", "OK"),
    ]


def test_threshold_compares_the_sum_of_the_window():
    alarm = AlarmSpec(period=300, threshold=3, comparison="GreaterThanThreshold")
    assert simulate(alarm, "10:01:00", "10:01:10", "10:01:20") == []  # 3 > 3 is false
    assert simulate(alarm, "10:01:00", "10:01:10", "10:01:20", "10:02:00") == [("10:03", "ALARM"), ("10:07", "OK")]


def test_average_is_one_per_datapoint():
    assert simulate(AlarmSpec(period=300, threshold=2, statistic="Average"), *["10:01:00"] * 10) == []


def test_an_hour_long_sliding_window_spans_the_top_of_the_hour_a_wall_clock_one_does_not():
    assert simulate(AlarmSpec(period=3600, threshold=2), "10:59:00", "11:01:00") == [
        ("11:02", "ALARM"),
        ("12:00", "OK"),
    ]
    assert simulate(AlarmSpec(period=3600, threshold=2, **WALL_CLOCK), "10:59:00", "11:01:00") == []


@pytest.mark.parametrize("window", ["sliding", "wallClock"])
@pytest.mark.parametrize("seed", range(6))
def test_evaluating_only_where_data_enters_or_leaves_a_period_equals_evaluating_every_minute(window, seed):
    rng = random.Random(seed)
    period = rng.choice([60, 300, 3600]) if window == "wallClock" else rng.choice([60, 120, 300, 900])
    periods = rng.randint(1, 4)
    alarm = AlarmSpec(
        period=period,
        evaluation_periods=periods,
        datapoints_to_alarm=rng.randint(1, periods),
        threshold=rng.randint(1, 4),
        evaluation_window=window,
    )
    start = at("10:00:00")
    times = sorted(start + rng.randrange(0, 4 * 3600) for _ in range(rng.randint(5, 60)))
    simulator = AlarmSimulator(alarm)
    for time in times:
        simulator.add(time)
    assert [(c.time.timestamp(), c.new) for c in simulator.transitions()] == brute_force(alarm, times, start)


def brute_force(alarm: AlarmSpec, times: list[float], start: float) -> list[tuple[float, str]]:
    """Evaluate at every minute (sliding) or every period end (wall clock), straight from the definition."""
    step = 60 if alarm.evaluation_window == "sliding" else alarm.period
    minutes = [int(time // 60) * 60 for time in times]
    state, changes = "OK", []
    end = int(start // step) * step
    while end <= start + 6 * 3600 + alarm.period * (alarm.evaluation_periods + 1):
        end += step
        breaching = 0
        for k in range(alarm.evaluation_periods):
            lo = end - (k + 1) * alarm.period
            if sum(1 for minute in minutes if lo <= minute < lo + alarm.period) >= alarm.threshold:
                breaching += 1
        new = "ALARM" if breaching >= alarm.datapoints_to_alarm else "OK"
        if new != state:
            changes.append((float(end), new))
            state = new
    return changes


@pytest.mark.parametrize(
    "change",
    [
        {"treat_missing_data": "breaching"},
        {"comparison": "Sideways"},
        {"statistic": "p99"},
        {"period": 90},
        {"evaluation_window": "tumbling"},
        {"evaluation_window": "wallClock", "period": 900},
    ],
)
def test_unsupported_alarm_settings_are_refused(change):
    with pytest.raises(ValueError):
        AlarmSimulator(AlarmSpec(**change))
