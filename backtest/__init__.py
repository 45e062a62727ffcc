"""Backtest detections with SQL: DuckDB on local files, Athena over the trail bucket."""
