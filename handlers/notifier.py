"""Lambda entry point: store every sign-in of a batch, then mail the ones that matter.

What it guarantees (the README's "Reliability" section says the same for users):
- every valid sign-in is stored before any mail is attempted, so a mail problem never costs history;
  a storage error fails the invocation, and Lambda's retries or the failed-events queue bring the
  batch back (at-least-once storage, and the conditional write makes it exactly one item);
- one mail per sign-in: only the invocation holding the item's mail lease publishes (see store.py);
  the one window left is an invocation killed after SNS accepted a mail and before the item says so;
- a record that can never be processed (malformed, oversized, unencodable) is skipped with a log line
  that names it and feeds a metric; only AWS errors fail the invocation;
- the invocation stops before its time runs out rather than be killed in the middle of a call.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from handlers.formatting import render_body, render_subject
from handlers.log_lines import SKIPPED_LOG_PREFIX
from handlers.payload import decode_subscription_event, iter_messages
from handlers.signin import MalformedRecord, SignInRecord, parse_signin_event
from handlers.store import MAX_HISTORY_DAYS, RECORD_ERROR_CODES, LeaseOutcome, SignInStore

logger = logging.getLogger("login-monitoring.notifier")
logger.setLevel(logging.INFO)

NOTIFY_ALL = "all"
NOTIFY_RISKY = "risky"
NOTIFY_POLICIES = (NOTIFY_ALL, NOTIFY_RISKY)
# Errors that say a record itself can never be handled, whoever retries it.
RECORD_ERRORS = (ValueError, OverflowError, RecursionError)
# Enough for the slowest publish plus its mark-sent with the client settings below; below this,
# the invocation fails on purpose (every step is retry-safe) instead of being killed mid-call.
MIN_REMAINING_MS = 50_000
LEASE_POLL_SECONDS = 1.0
# CloudTrail delivers events minutes after they happen; a record dated far ahead is not real.
MAX_CLOCK_SKEW = timedelta(days=1)


class ConfigurationError(RuntimeError):
    """The function's environment is wrong; no batch can be handled until it is fixed."""


class OutOfTime(RuntimeError):
    """Too little time is left to finish the next step safely; Lambda retries the batch."""


@dataclass(frozen=True)
class NotifierConfig:
    table_name: str
    topic_arn: str
    timezone: str = "UTC"
    notify_on: str = NOTIFY_ALL
    history_days: int = 90
    zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.notify_on not in NOTIFY_POLICIES:
            raise ConfigurationError(f"NOTIFY_ON must be one of {', '.join(NOTIFY_POLICIES)}, got {self.notify_on!r}")
        if not 1 <= self.history_days <= MAX_HISTORY_DAYS:
            raise ConfigurationError(f"HISTORY_DAYS must be between 1 and {MAX_HISTORY_DAYS}, got {self.history_days}")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"DISPLAY_TIMEZONE {self.timezone!r} is not a zone this function knows") from None
        object.__setattr__(self, "zone", zone)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> NotifierConfig:
        missing = [name for name in ("TABLE_NAME", "TOPIC_ARN") if not env.get(name)]
        if missing:
            raise ConfigurationError(f"environment variables missing: {', '.join(missing)}")
        try:
            history_days = int(env.get("HISTORY_DAYS", "90"))
        except ValueError:
            raise ConfigurationError(f"HISTORY_DAYS must be a whole number, got {env['HISTORY_DAYS']!r}") from None
        return cls(
            table_name=env["TABLE_NAME"],
            topic_arn=env["TOPIC_ARN"],
            timezone=env.get("DISPLAY_TIMEZONE", "UTC"),
            notify_on=env.get("NOTIFY_ON", NOTIFY_ALL),
            history_days=history_days,
        )


@dataclass
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    mailed: int = 0
    skipped: list[str] = field(default_factory=list)
    # Mailed, but the item could not be marked sent: the documented duplicate window is open for these.
    unmarked: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "mailed": self.mailed,
            "skipped": self.skipped,
            "unmarked": self.unmarked,
        }


def wants_mail(record: SignInRecord, notify_on: str) -> bool:
    if not record.is_attempt:
        return False
    if notify_on == NOTIFY_RISKY:
        return bool(record.risk_reasons)
    return True


def _unbounded() -> int:
    return 15 * 60 * 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Mail:
    record: SignInRecord
    subject: str
    body: str


@dataclass
class BatchRun:
    """One invocation's work on one batch; every AWS step can be repeated safely by a retry."""

    config: NotifierConfig
    store: SignInStore
    sns: Any
    owner: str
    remaining_ms: Callable[[], int] = _unbounded
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], None] = time.sleep
    result: BatchResult = field(default_factory=BatchResult)

    def run(self, event: Any) -> BatchResult:
        batch = decode_subscription_event(event)
        if batch.is_control_message:
            logger.info("control message from CloudWatch Logs; nothing to do")
            return self.result
        records = self._parse(iter_messages(batch))
        owed = [record for record in records if self._store(record)]
        self._mail(owed)
        return self.result

    def _parse(self, messages) -> list[SignInRecord]:
        records: dict[str, SignInRecord] = {}
        latest = self.clock() + MAX_CLOCK_SKEW
        for log_id, raw in messages:
            try:
                record = parse_signin_event(raw)
                if record.event_time > latest:
                    future = record.event_time.isoformat()
                    raise MalformedRecord(f"eventTime {future} is in the future", record.event_id)
            except MalformedRecord as error:
                self._skip(error.event_id or f"log event {log_id or '?'}", error.reason)
                continue
            except RECORD_ERRORS as error:
                self._skip(f"log event {log_id or '?'}", f"{type(error).__name__}: {error}")
                continue
            # The same event twice in one batch is one sign-in.
            records.setdefault(record.event_id, record)
        return list(records.values())

    def _store(self, record: SignInRecord) -> bool:
        """Store one record; True when a mail may still be owed for it."""
        self._need_time("storing", record.event_id)
        try:
            claim = self.store.claim(record, wants_mail(record, self.config.notify_on), self.clock())
        except ClientError as error:
            if _error_code(error) in RECORD_ERROR_CODES:
                self._skip(record.event_id, f"the history table refuses it: {error}")
                return False
            self._log_failure(record.event_id, "storing", error)
            raise
        except RECORD_ERRORS as error:
            self._skip(record.event_id, f"cannot be stored: {type(error).__name__}: {error}")
            return False
        except Exception as error:
            self._log_failure(record.event_id, "storing", error)
            raise
        if claim.new:
            self.result.stored += 1
        else:
            self.result.duplicates += 1
        return claim.mail_due

    def _mail(self, records: list[SignInRecord]) -> None:
        contested: list[_Mail] = []
        for record in records:
            try:
                body = render_body(record, self.config.zone, self.config.timezone)
                mail = _Mail(record, render_subject(record), body)
            except RECORD_ERRORS as error:
                self._skip(record.event_id, f"mail cannot be rendered: {type(error).__name__}: {error}")
                continue
            if self._lease_and_send(mail) is LeaseOutcome.HELD:
                contested.append(mail)
        # Another invocation of the same batch holds these; it either mails them or its lease runs out.
        while contested:
            self._need_time("waiting for another invocation's mail lease", contested[0].record.event_id)
            self.sleep(LEASE_POLL_SECONDS)
            contested = [mail for mail in contested if self._lease_and_send(mail) is LeaseOutcome.HELD]

    def _lease_and_send(self, mail: _Mail) -> LeaseOutcome:
        event_id = mail.record.event_id
        self._need_time("mailing", event_id)
        try:
            outcome = self.store.take_lease(event_id, self.owner, self.clock())
        except Exception as error:
            self._log_failure(event_id, "taking the mail lease", error)
            raise
        if outcome is not LeaseOutcome.TAKEN:
            return outcome
        try:
            response = self.sns.publish(TopicArn=self.config.topic_arn, Subject=mail.subject, Message=mail.body)
        except (ParamValidationError, UnicodeError) as error:
            self._skip(event_id, f"SNS cannot carry its mail: {error}")
            return LeaseOutcome.DONE
        except Exception as error:
            self._log_failure(event_id, "publishing its mail", error)
            if isinstance(error, ClientError):
                # SNS answered with a refusal: no mail went out, so a retry need not wait for the lease.
                self.store.release_lease(event_id, self.owner)
            raise
        self.result.mailed += 1
        self._mark_sent(event_id, response["MessageId"])
        return LeaseOutcome.DONE

    def _mark_sent(self, event_id: str, message_id: str) -> None:
        # SNS has the mail now: failing the invocation would only make a retry mail it again.
        for attempt in range(3):
            try:
                self.store.mark_sent(event_id, message_id, self.clock())
                return
            except (ClientError, BotoCoreError) as error:
                last_error = error
                self.sleep(0.2 * (attempt + 1))
        logger.error(
            "mail for event %s was sent (SNS message %s) but could not be marked sent: %s",
            event_id,
            message_id,
            last_error,
        )
        self.result.unmarked.append(event_id)

    def _need_time(self, step: str, event_id: str) -> None:
        left = self.remaining_ms()
        if left < MIN_REMAINING_MS:
            raise OutOfTime(
                f"stopping before {step} event {event_id}: {left} ms left, {MIN_REMAINING_MS} ms needed; "
                "Lambda retries the batch and nothing done so far is repeated"
            )

    def _skip(self, label: str, reason: str) -> None:
        logger.warning("%s %s: %s", SKIPPED_LOG_PREFIX, label, reason)
        self.result.skipped.append(label)

    def _log_failure(self, event_id: str, step: str, error: Exception) -> None:
        logger.error("batch failed at event %s while %s: %s: %s", event_id, step, type(error).__name__, error)


def process_batch(event: Any, config: NotifierConfig, dynamodb: Any, sns: Any, **run_options: Any) -> BatchResult:
    store = SignInStore(dynamodb, config.table_name, config.history_days)
    run_options.setdefault("owner", str(uuid.uuid4()))
    return BatchRun(config=config, store=store, sns=sns, **run_options).run(event)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


_clients: dict[str, Any] = {}
_config: list[NotifierConfig] = []


def _client(name: str) -> Any:
    if name not in _clients:
        import boto3
        from botocore.config import Config

        # Short timeouts keep one call well inside the mail lease (store.LEASE_SECONDS).
        settings = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
        _clients[name] = boto3.client(name, config=settings)
    return _clients[name]


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not _config:
        # Checked before any record is touched: a wrong setting fails every invocation loudly.
        _config.append(NotifierConfig.from_env(dict(os.environ)))
    options: dict[str, Any] = {}
    if context is not None:
        options["owner"] = getattr(context, "aws_request_id", "") or str(uuid.uuid4())
        options["remaining_ms"] = context.get_remaining_time_in_millis
    result = process_batch(event, _config[0], _client("dynamodb"), _client("sns"), **options)
    logger.info("batch done: %s", result.as_dict())
    return result.as_dict()
