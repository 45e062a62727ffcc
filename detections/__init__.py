"""Detections as data: the catalog, the filter-pattern engine and the alarm simulator."""
