"""Replay CloudTrail history through a stack's detections, alarms and notifier, offline."""
