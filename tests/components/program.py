"""Run the real program under the fake engine with the example stack plus overrides."""

from __future__ import annotations

import json

from offline.engine import ProgramRun, ResourceRecord, run_program
from offline.stack_config import load_stack_config

NS = "login-monitoring"


def run_stack(stack: str = "dev", **overrides) -> ProgramRun:
    """Overrides use config key names without the namespace: run_stack(trailMode="existing")."""
    values = {key if ":" in key else f"{NS}:{key}": value for key, value in overrides.items()}
    return run_program(load_stack_config(stack, overrides=values, example=True))


def statements(resource: ResourceRecord, key: str = "policy") -> list[dict]:
    return json.loads(resource.inputs[key])["Statement"]


def statement(resource: ResourceRecord, sid: str, key: str = "policy") -> dict:
    return next(s for s in statements(resource, key) if s.get("Sid") == sid)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def named(run: ProgramRun, type_token: str, name: str) -> ResourceRecord:
    found = [r for r in run.of_type(type_token) if r.name == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {type_token} named {name}, found {len(found)}")
    return found[0]


def alert_topic(run: ProgramRun) -> ResourceRecord:
    return named(run, "aws:sns/topic:Topic", "login-monitoring-alerts")


def health_topic(run: ProgramRun) -> ResourceRecord:
    return named(run, "aws:sns/topic:Topic", "login-monitoring-health")


def alarm_mailer(run: ProgramRun) -> ResourceRecord:
    return named(run, "aws:lambda/function:Function", "login-monitoring-alarm-mailer-function")


def alarm_topic(run: ProgramRun) -> ResourceRecord:
    """What the detection alarms notify; the alarm mailer is its subscriber."""
    return named(run, "aws:sns/topic:Topic", "login-monitoring-alarm-mailer-alarms")
