"""A replay set up as a stack's settings say: notifier, risk reasons, flood control and alarm mails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.settings import LoginMonitoringArgs
from detections.profiles import EnabledDetection
from handlers.risk import RiskSettings
from replay.core import Replay


def stack_replay(
    settings: LoginMonitoringArgs, detections: Sequence[EnabledDetection] | None = None, **options: Any
) -> Replay:
    """The stack's detections (or the given ones) with its notifier settings; options go to Replay."""
    return Replay(
        settings.detections if detections is None else detections,
        notify_on=settings.notify_on,
        timezone=settings.display_timezone,
        alarm_resolved_mails=settings.alarm_resolved_mails,
        mail_quiet_minutes=settings.mail_quiet_minutes,
        mail_burst_limit=settings.mail_burst_limit,
        outlier_floor=settings.outlier_floor if settings.outlier_alarm else None,
        risk=RiskSettings(
            history_days=settings.sign_in_history_days,
            new_country=settings.risk_new_country,
            travel_minutes=settings.risk_impossible_travel_minutes,
            failures_before_success=settings.risk_failures_before_success,
            failures_window_minutes=settings.risk_failures_window_minutes,
            spray_user_names=settings.risk_spray_user_names,
            spray_window_minutes=settings.risk_spray_window_minutes,
        ),
        **options,
    )


def report_context(stack: str, settings: LoginMonitoringArgs) -> dict[str, Any]:
    """What the report says about the stack's settings."""
    return {
        "stack": stack,
        "profile": settings.detection_profile,
        "notifyOn": settings.notify_on,
        "alarmResolvedMails": settings.alarm_resolved_mails,
        "mailQuietMinutes": settings.mail_quiet_minutes,
        "mailBurstLimit": settings.mail_burst_limit,
    }
