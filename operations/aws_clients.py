"""The boto3 clients the operator commands use, made only when a command runs against AWS."""

from __future__ import annotations

from typing import Any


def boto3_client(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region)
