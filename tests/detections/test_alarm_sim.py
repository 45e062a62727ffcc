from datetime import UTC, datetime

import pytest

from detections.alarm_sim import AlarmSimulator
from detections.catalog import AlarmSpec


def at(text: str) -> float:
    return datetime.fromisoformat(f"2024-05-01T{text}+00:00").timestamp()


def states(simulator) -> list[tuple[str, str]]:
    return [(f"{change.time:%H:%M}", change.new) for change in simulator.transitions()]


def test_a_burst_straddling_a_period_boundary_is_split_and_does_not_fire():
    simulator = AlarmSimulator(AlarmSpec(period=900, threshold=5))
    for time in ("10:12:10", "10:13:00", "10:14:00", "10:14:50", "10:15:05", "10:16:00", "10:17:40"):
        simulator.add(at(time))
    assert simulator.value(int(at("10:00:00") // 900)) == 4
    assert states(simulator) == []


def test_the_same_count_inside_one_period_fires_at_its_end_and_clears_after_a_quiet_period():
    simulator = AlarmSimulator(AlarmSpec(period=900, threshold=5))
    for minute in range(1, 7):
        simulator.add(at(f"11:0{minute}:00"))
    changes = simulator.transitions()
    assert [(f"{c.time:%H:%M}", c.old, c.new) for c in changes] == [("11:15", "OK", "ALARM"), ("11:30", "ALARM", "OK")]
    assert changes[0].time.tzinfo is UTC
    assert changes[0].reason == "1 of 1 period(s) breaching (>= 5); period from 2024-05-01 11:00 UTC: Sum 6"


def test_m_of_n_needs_enough_breaching_periods():
    simulator = AlarmSimulator(AlarmSpec(period=300, evaluation_periods=3, datapoints_to_alarm=2, threshold=1))
    simulator.add(at("10:01:00"))  # period 10:00 breaches
    simulator.add(at("10:11:00"))  # period 10:10 breaches: 2 of the 3 periods 10:00-10:15
    assert states(simulator) == [("10:15", "ALARM"), ("10:20", "OK")]


def test_m_of_n_is_not_met_by_breaches_too_far_apart():
    simulator = AlarmSimulator(AlarmSpec(period=300, evaluation_periods=3, datapoints_to_alarm=2, threshold=1))
    simulator.add(at("10:01:00"))
    simulator.add(at("10:16:00"))  # 10:00 and 10:15 never share a 3-period window
    assert states(simulator) == []


def test_alarm_stays_while_every_period_breaches_and_clears_once():
    simulator = AlarmSimulator(AlarmSpec(period=300, threshold=1))
    for time in ("10:01:00", "10:06:00", "10:11:00"):
        simulator.add(at(time))
    assert states(simulator) == [("10:05", "ALARM"), ("10:20", "OK")]


def test_threshold_below_count_inside_one_period():
    simulator = AlarmSimulator(AlarmSpec(period=300, threshold=3, comparison="GreaterThanThreshold"))
    for _ in range(3):
        simulator.add(at("10:01:00"))
    assert states(simulator) == []  # 3 > 3 is false
    simulator.add(at("10:02:00"))
    assert states(simulator) == [("10:05", "ALARM"), ("10:10", "OK")]


def test_average_is_one_per_datapoint():
    simulator = AlarmSimulator(AlarmSpec(period=300, threshold=2, statistic="Average"))
    for _ in range(10):
        simulator.add(at("10:01:00"))
    assert states(simulator) == []  # Average of ones is 1, never 2


def test_periods_are_aligned_to_the_clock_not_to_the_first_event():
    simulator = AlarmSimulator(AlarmSpec(period=3600, threshold=2))
    simulator.add(at("10:59:00"))
    simulator.add(at("11:01:00"))
    assert states(simulator) == []


@pytest.mark.parametrize(
    "change", [{"treat_missing_data": "breaching"}, {"comparison": "Sideways"}, {"statistic": "p99"}]
)
def test_unsupported_alarm_settings_are_refused(change):
    with pytest.raises(ValueError):
        AlarmSimulator(AlarmSpec(**change))
