"""The functions' deployment package (handlers, bundled zone data and wheels) and their failure handling.

Lambda runs the functions on arm64 and this program usually runs on x86_64, so the packages the
handlers import beyond boto3 are not taken from the local environment: their aarch64 (or pure-Python)
wheels sit in lambda_wheels/, pinned in requirements-lambda.txt, and are unpacked into the package.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.policies import assume_role_by

ROOT = Path(__file__).resolve().parent.parent
HANDLERS_DIR = ROOT / "handlers"
WHEELS_DIR = ROOT / "lambda_wheels"
# Unpacked wheels, one folder per wheel content hash; never committed.
UNPACK_DIR = ROOT / ".build" / "lambda-wheels"
HANDLER = "handlers.notifier.handler"
LAMBDA_RUNTIME = "python3.13"
_SKIPPED_DIRS = {"__pycache__"}
# Asynchronous invocations (CloudWatch Logs, SNS) are retried twice, then handed to the failed-events queue.
RETRY_ATTEMPTS = 2
# SQS keeps a message at most 14 days; the history keeps every item at least this long (handlers/store.py),
# so a re-drive within the queue's retention finds the item and never mails it twice.
FAILED_EVENT_RETENTION_SECONDS = 14 * 24 * 3600


def package_files(handlers_dir: Path = HANDLERS_DIR, wheels_dir: Path = WHEELS_DIR) -> dict[str, Path]:
    """Archive path -> file on disk; no caches, only what the function runs."""
    files = {f"handlers/{path.relative_to(handlers_dir).as_posix()}": path for path in _walk(handlers_dir, "*.py")}
    # The Lambda image may lack system zone data; bundling tzdata makes every IANA name resolvable.
    tzdata_dir = _tzdata_dir()
    files.update({f"tzdata/{path.relative_to(tzdata_dir).as_posix()}": path for path in _walk(tzdata_dir, "*")})
    for wheel in sorted(wheels_dir.glob("*.whl")):
        unpacked = unpack_wheel(wheel)
        files.update({path.relative_to(unpacked).as_posix(): path for path in _walk(unpacked, "*")})
    return dict(sorted(files.items()))


def unpack_wheel(wheel: Path, unpack_dir: Path = UNPACK_DIR) -> Path:
    """The wheel's files in a folder named by its content hash (unpacked once; safe to run concurrently)."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    target = unpack_dir / f"{wheel.stem}-{digest}"
    if target.is_dir():
        return target
    unpack_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=unpack_dir, prefix=".unpacking-"))
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(staging)
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.cache
def _package_assets(handlers_dir: Path = HANDLERS_DIR) -> dict[str, pulumi.Asset]:
    # One package serves every function of the stack; build its file list once.
    return {name: pulumi.FileAsset(str(path)) for name, path in package_files(handlers_dir).items()}


def handler_archive(
    handlers_dir: Path = HANDLERS_DIR, extra_files: tuple[tuple[str, str], ...] = ()
) -> pulumi.AssetArchive:
    """The package, plus generated text files (archive path, content) one function needs."""
    assets = dict(_package_assets(handlers_dir))
    assets.update({path: pulumi.StringAsset(text) for path, text in extra_files})
    return pulumi.AssetArchive(dict(sorted(assets.items())))


def packaged_function(
    name: str,
    *,
    description: str,
    handler: str,
    role_arn: pulumi.Input[str],
    variables: dict[str, pulumi.Input[str]],
    log_group_name: pulumi.Input[str],
    memory_size: int,
    timeout: int,
    opts: pulumi.ResourceOptions,
    code: pulumi.AssetArchive | None = None,
) -> aws.lambda_.Function:
    """A function running code from this package, with the project's runtime, architecture and logging."""
    return aws.lambda_.Function(
        name,
        description=description,
        runtime=LAMBDA_RUNTIME,
        architectures=["arm64"],
        handler=handler,
        code=code or handler_archive(),
        role=role_arn,
        memory_size=memory_size,
        timeout=timeout,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON", log_group=log_group_name, application_log_level="INFO", system_log_level="WARN"
        ),
        opts=opts,
    )


def failed_events_queue(name: str, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
    """Where an event waits after every retry failed, for `python -m operations.redrive`."""
    return aws.sqs.Queue(
        name,
        message_retention_seconds=FAILED_EVENT_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
        opts=opts,
    )


def keep_failed_events(
    name: str, function_name: pulumi.Input[str], queue_arn: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.lambda_.FunctionEventInvokeConfig:
    return aws.lambda_.FunctionEventInvokeConfig(
        name,
        function_name=function_name,
        maximum_retry_attempts=RETRY_ATTEMPTS,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=queue_arn),
        ),
        opts=opts,
    )


@dataclass(frozen=True)
class WiredFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    failed_events: aws.sqs.Queue


def wired_function(
    name: str,
    *,
    parent: pulumi.Resource,
    role_description: str,
    policy: Callable[[pulumi.Output[str], pulumi.Output[str]], pulumi.Input[str]],
    log_retention_days: int,
    role_name_prefix: str | None = None,
    **function_args: Any,
) -> WiredFunction:
    """A packaged function with its own log group, role and inline policy, and a queue for failed events.

    `policy(log_group_arn, failed_events_arn)` is the role's policy document: every function writes its
    own logs and sends what failed every retry to its own queue. The function waits for the policy, so
    its first invocation already has its permissions.
    """
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=log_retention_days, opts=child)
    failed_events = failed_events_queue(f"{name}-failed-events", child)
    role = aws.iam.Role(
        f"{name}-role",
        name_prefix=role_name_prefix,
        description=role_description,
        assume_role_policy=assume_role_by("lambda.amazonaws.com"),
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy", role=role.id, policy=policy(log_group.arn, failed_events.arn), opts=child
    )
    function = packaged_function(
        f"{name}-function",
        role_arn=role.arn,
        log_group_name=log_group.name,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
        **function_args,
    )
    keep_failed_events(f"{name}-retries", function.name, failed_events.arn, child)
    return WiredFunction(function, role, log_group, failed_events)


@functools.cache
def bundled_zones() -> frozenset[str]:
    """The IANA zone names the function can resolve: those of the tzdata it ships with.

    The deploying machine may know more (`posix/Asia/Tokyo`, `right/UTC`, `localtime`), which the
    function would then fail on at run time.
    """
    return frozenset((_tzdata_dir() / "zones").read_text(encoding="utf-8").split())


def _walk(root: Path, pattern: str):
    for path in root.rglob(pattern):
        if path.is_file() and not _SKIPPED_DIRS.intersection(path.relative_to(root).parts) and path.suffix != ".pyc":
            yield path


def _tzdata_dir() -> Path:
    import tzdata

    return Path(tzdata.__file__).resolve().parent
