"""Replay results as text for people and JSON for machines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detections.profiles import EnabledDetection
from replay.core import DetectionSummary, ReplayResult


def _summary(result: ReplayResult, detection_id: str) -> DetectionSummary:
    # A result built by hand (or by an older caller) may carry no summaries: matches only.
    return result.summaries.get(detection_id) or DetectionSummary(result.matches[detection_id], 0, 0, 0, [])


def render_json(result: ReplayResult, detections: Sequence[EnabledDetection], context: dict) -> dict[str, Any]:
    return {
        **context,
        "events": result.events,
        "duplicatesSkipped": result.duplicates,
        "outsideWindow": result.outside_window,
        "signInMails": sum(mail.kind == "sign-in" for mail in result.mails),
        "digestMails": sum(mail.kind == "digest" for mail in result.mails),
        "heldBackInDigests": result.held_back,
        "detections": [
            {
                "id": item.id,
                "title": item.detection.title,
                "severity": item.detection.severity,
                "securityHub": item.detection.security_hub,
                "matches": result.matches[item.id],
                "alarmsFired": _summary(result, item.id).alarms_fired,
                "alarmMails": _summary(result, item.id).alarm_mails,
                "signInMails": _summary(result, item.id).sign_in_mails,
                "eventIds": _summary(result, item.id).event_ids,
                "alarm": {
                    "statistic": item.alarm.statistic,
                    "period": item.alarm.period,
                    "evaluationPeriods": item.alarm.evaluation_periods,
                    "datapointsToAlarm": item.alarm.datapoints_to_alarm,
                    "threshold": item.alarm.threshold,
                    "comparison": item.alarm.comparison,
                    "evaluationWindow": item.alarm.evaluation_window,
                },
            }
            for item in detections
        ],
        "transitions": [
            {
                "time": transition.change.time.isoformat().replace("+00:00", "Z"),
                "detection": transition.detection_id,
                "from": transition.change.old,
                "to": transition.change.new,
                "reason": transition.change.reason,
            }
            for transition in result.transitions
        ],
        "mails": [
            {
                "time": mail.time.isoformat().replace("+00:00", "Z"),
                "kind": mail.kind,
                "eventId": mail.event_id,
                "subject": mail.subject,
                "body": mail.body,
            }
            for mail in result.mails
        ],
        "problems": [{"source": p.source, "line": p.line, "message": p.message} for p in result.problems],
        **(
            {
                "outlierAlarm": {
                    "bandSimulated": False,
                    "floor": result.outlier_floor,
                    "floorTransitions": [
                        {
                            "time": change.time.isoformat().replace("+00:00", "Z"),
                            "from": change.old,
                            "to": change.new,
                            "reason": change.reason,
                        }
                        for change in result.outlier_floor_transitions
                    ],
                }
            }
            if result.outlier_floor is not None
            else {}
        ),
    }


def render_text(result: ReplayResult, detections: Sequence[EnabledDetection], context: dict, max_mails: int) -> str:
    lines = [
        f"Replay for stack {context['stack']} (profile {context['profile']}): {result.events:,} events from "
        f"{context['filesRead']} of {context['files']} files; {result.duplicates:,} duplicates skipped; "
        f"{len(result.problems)} problems",
    ]
    since, until = context.get("since"), context.get("until")
    if since or until:
        lines.append(
            f"Window: {since or 'the start'} to {until or 'the end'} (end excluded); "
            f"{result.outside_window:,} matching events and sign-ins outside it left out"
        )
    width = max((len(item.id) for item in detections), default=10)
    lines += [
        "",
        "Detections (alarm mails: one per ALARM"
        + (", one per OK" if context.get("alarmResolvedMails") else "")
        + "; sign-in mails: for events the detection matched):",
        f"  {'':<{width}}  {'matches':>8}  {'alarms':>6}  {'alarm mails':>11}  {'sign-in mails':>13}",
    ]
    for item in detections:
        summary = _summary(result, item.id)
        lines.append(
            f"  {item.id:<{width}}  {summary.matches:>8,}  {summary.alarms_fired:>6,}  {summary.alarm_mails:>11,}  "
            f"{summary.sign_in_mails:>13,}  {item.detection.title}"
        )
    lines += ["", "Alarm state changes, as CloudWatch would evaluate them:"]
    if not result.transitions:
        lines.append("  none")
    for transition in result.transitions:
        change = transition.change
        lines.append(
            f"  {change.time:%Y-%m-%d %H:%M} UTC  {transition.detection_id:<{width}}  "
            f"{change.old:>5} -> {change.new:<5}  {change.reason}"
        )
    if result.outlier_floor is not None:
        lines += [
            "",
            f"Outlier alarm (anomaly band AND at least {result.outlier_floor} failed sign-ins in 5 minutes): not "
            "simulated, the band needs CloudWatch's model of the live metric.",
            "It can be in ALARM only while its floor alarm is; the floor alone:",
        ]
        if not result.outlier_floor_transitions:
            lines.append("  none")
        for change in result.outlier_floor_transitions:
            lines.append(f"  {change.time:%Y-%m-%d %H:%M} UTC  {change.old:>5} -> {change.new:<5}  {change.reason}")
    digests = sum(mail.kind == "digest" for mail in result.mails)
    quiet = context.get("mailQuietMinutes")
    limit = context.get("mailBurstLimit")
    flood = f", mailQuietMinutes {quiet}" if quiet is not None else ""
    flood += f", mailBurstLimit {limit}" if quiet and limit is not None else ""
    held = f"; {digests:,} digests holding {result.held_back:,} more sign-ins" if digests else ""
    lines += [
        "",
        f"Sign-in mails the notifier would send ({len(result.mails):,}{held}; notifyOn {context['notifyOn']}{flood}):",
    ]
    if not result.mails:
        lines.append("  none")
    for mail in result.mails[:max_mails]:
        lines += ["", f"  Subject: {mail.subject}", *(f"  {line}" if line else "" for line in mail.body.splitlines())]
    if len(result.mails) > max_mails:
        lines += ["", f"  ... {len(result.mails) - max_mails:,} more (use --max-mails or --format json)"]
    if result.problems:
        lines += ["", "Problems (everything else was still replayed):"]
        lines += [f"  {problem}" for problem in result.problems]
    return "\n".join(lines)
