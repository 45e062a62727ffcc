"""Lambda entry point: store every sign-in of a batch, then mail the ones that matter.

What it guarantees (docs/operations.md, "Reliability", says the same for users):
- every valid sign-in is stored before any mail is attempted, so a mail problem never costs history;
  a storage error fails the invocation, and Lambda's retries or the failed-events queue bring the
  batch back (at-least-once storage, and the conditional write makes it exactly one item);
- one mail per sign-in: only the invocation holding the item's mail lease publishes (see store.py);
  the one window left is an invocation killed after SNS accepted a mail and before the item says so;
- a record that can never be processed (malformed, oversized, unencodable) is skipped with a log line
  that names it and feeds a metric; only AWS errors fail the invocation;
- the invocation stops before its time runs out rather than be killed in the middle of a call;
- reasons that need history (new country, impossible travel, ...) come from Queries made before
  anything is stored: a failed Query fails the invocation like a storage error, so a throttled index
  never quietly costs a reason. One Query per principal and per IP of the batch, not per sign-in.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from handlers.chat import chat_notification, publish_request
from handlers.digest import DigestSender
from handlers.flood import DEFAULT_BURST_LIMIT, MAX_BURST_LIMIT, MAX_QUIET_MINUTES, AccountWindow, FloodWindows
from handlers.formatting import burst_note, render_body, render_subject
from handlers.log_lines import NO_COUNTRY, SIGN_IN_LOG_MESSAGE, SKIPPED_LOG_PREFIX, UNMARKED_LOG_PREFIX
from handlers.notify_policy import NOTIFY_ALL, NOTIFY_POLICIES, wants_mail
from handlers.payload import decode_subscription_event, iter_messages
from handlers.risk import MAX_RISK_WINDOW_MINUTES, RiskJudge, RiskSettings, Sighting, earlier, short_name, sighting_of
from handlers.signin import MalformedRecord, SignInRecord, parse_signin_event
from handlers.store import (
    LEASE_SECONDS,
    MAX_HISTORY_DAYS,
    LeaseOutcome,
    SignInHistory,
    SignInStore,
    failure_hours,
    is_record_error,
)

logger = logging.getLogger("login-monitoring.notifier")
logger.setLevel(logging.INFO)

# Errors that say a record itself can never be handled, whoever retries it.
RECORD_ERRORS = (ValueError, OverflowError, RecursionError)
# Client settings, and the longest one call can take with them (standard retry mode waits at most
# 1 s, then 2 s, between attempts). SNS gets one attempt: publish is not idempotent, and the SDK
# would retry a publish whose answer was lost, sending the mail twice; a failed publish fails the
# invocation instead, and Lambda's retry is safe.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
CLIENT_ATTEMPTS = {"dynamodb": 3, "sns": 1}
_CALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
DYNAMODB_CALL_SECONDS = CLIENT_ATTEMPTS["dynamodb"] * _CALL_SECONDS + 3
PUBLISH_SECONDS = CLIENT_ATTEMPTS["sns"] * _CALL_SECONDS
# A lease is used only while a whole publish still fits in it, with this to spare.
LEASE_MARGIN_SECONDS = 5
# One mail's worst case: take the lease, publish, mark sent. Below this, the invocation fails on
# purpose (every step is retry-safe) instead of being killed between publish and mark.
MIN_REMAINING_MS = (2 * DYNAMODB_CALL_SECONDS + PUBLISH_SECONDS + LEASE_MARGIN_SECONDS) * 1000
MARK_SENT_ATTEMPTS = 3
# SNS's refusal of one message for what it holds, not for the topic.
_MESSAGE_REFUSALS = frozenset({"InvalidParameter", "InvalidParameterValue"})
LEASE_POLL_SECONDS = 1.0
# Judging sign-ins looks at the clock this often: a spray's batch is thousands of sign-ins.
JUDGE_TIME_CHECK_EVERY = 256
# CloudTrail delivers events minutes after they happen; a record dated far ahead is not real.
MAX_CLOCK_SKEW = timedelta(days=1)
# Environment variable -> NotifierConfig field for the risk reasons' settings.
RISK_VARIABLES = {
    "RISK_TRAVEL_MINUTES": "travel_minutes",
    "RISK_FAILURES_BEFORE_SUCCESS": "failures_before_success",
    "RISK_FAILURES_WINDOW_MINUTES": "failures_window_minutes",
    "RISK_SPRAY_USER_NAMES": "spray_user_names",
    "RISK_SPRAY_WINDOW_MINUTES": "spray_window_minutes",
}


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
    new_country: bool = True
    travel_minutes: int = 60
    failures_before_success: int = 3
    failures_window_minutes: int = 60
    spray_user_names: int = 5
    spray_window_minutes: int = 60
    # Flood control: 0 minutes (or no table) mails every sign-in on its own.
    flood_table: str = ""
    quiet_minutes: int = 0
    # First mails per account, outcome and quiet time before the rest go into the account's digest.
    burst_limit: int = DEFAULT_BURST_LIMIT
    # The stack's account's alias (accountAlias), named next to that account's id only: an organization
    # trail brings other accounts' sign-ins too.
    account_alias: str = ""
    zone: tzinfo = field(init=False, repr=False, compare=False)

    @property
    def own_account(self) -> str:
        # The alert topic belongs to the stack's account: arn:<partition>:sns:<region>:<account>:<name>.
        parts = self.topic_arn.split(":")
        return parts[4] if len(parts) > 5 else ""

    def alias_for(self, account_id: str) -> str:
        return self.account_alias if account_id and account_id == self.own_account else ""

    @property
    def quiet(self) -> timedelta | None:
        return timedelta(minutes=self.quiet_minutes) if self.flood_table and self.quiet_minutes else None

    @property
    def risk(self) -> RiskSettings:
        return RiskSettings(
            history_days=self.history_days,
            new_country=self.new_country,
            travel_minutes=self.travel_minutes,
            failures_before_success=self.failures_before_success,
            failures_window_minutes=self.failures_window_minutes,
            spray_user_names=self.spray_user_names,
            spray_window_minutes=self.spray_window_minutes,
        )

    def __post_init__(self) -> None:
        if self.notify_on not in NOTIFY_POLICIES:
            raise ConfigurationError(f"NOTIFY_ON must be one of {', '.join(NOTIFY_POLICIES)}, got {self.notify_on!r}")
        if not 1 <= self.history_days <= MAX_HISTORY_DAYS:
            raise ConfigurationError(f"HISTORY_DAYS must be between 1 and {MAX_HISTORY_DAYS}, got {self.history_days}")
        if not 0 <= self.quiet_minutes <= MAX_QUIET_MINUTES:
            raise ConfigurationError(
                f"MAIL_QUIET_MINUTES must be between 0 and {MAX_QUIET_MINUTES}, got {self.quiet_minutes}"
            )
        if not 1 <= self.burst_limit <= MAX_BURST_LIMIT:
            raise ConfigurationError(
                f"MAIL_BURST_LIMIT must be between 1 and {MAX_BURST_LIMIT}, got {self.burst_limit}"
            )
        for variable, name in RISK_VARIABLES.items():
            # A count (or the travel time) of 0 turns its reason off; a window of 0 minutes means nothing.
            value, window = getattr(self, name), name.endswith("_window_minutes")
            if not (1 if window else 0) <= value <= MAX_RISK_WINDOW_MINUTES:
                low = "1" if window else "0 (off)"
                raise ConfigurationError(f"{variable} must be between {low} and {MAX_RISK_WINDOW_MINUTES}, got {value}")
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
        numbers: dict[str, int] = {}
        numbered = {
            "HISTORY_DAYS": "history_days",
            "MAIL_QUIET_MINUTES": "quiet_minutes",
            "MAIL_BURST_LIMIT": "burst_limit",
            **RISK_VARIABLES,
        }
        for variable, name in numbered.items():
            if variable in env:
                try:
                    numbers[name] = int(env[variable])
                except ValueError:
                    raise ConfigurationError(f"{variable} must be a whole number, got {env[variable]!r}") from None
        new_country = env.get("RISK_NEW_COUNTRY", "true").strip().lower()
        if new_country not in ("true", "false"):
            raise ConfigurationError(f"RISK_NEW_COUNTRY must be true or false, got {env['RISK_NEW_COUNTRY']!r}")
        return cls(
            table_name=env["TABLE_NAME"],
            topic_arn=env["TOPIC_ARN"],
            timezone=env.get("DISPLAY_TIMEZONE", "UTC"),
            notify_on=env.get("NOTIFY_ON", NOTIFY_ALL),
            new_country=new_country == "true",
            flood_table=env.get("FLOOD_TABLE_NAME", ""),
            account_alias=env.get("ACCOUNT_ALIAS", "").strip(),
            **numbers,
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


def _unbounded() -> int:
    return 15 * 60 * 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Mail:
    record: SignInRecord
    subject: str
    body: str

    def request(self, topic_arn: str) -> dict[str, str]:
        return publish_request(topic_arn, self.subject, self.body, chat_notification(self.subject, self.body))


@dataclass
class BatchRun:
    """One invocation's work on one batch; every AWS step can be repeated safely by a retry."""

    config: NotifierConfig
    store: SignInStore
    history: SignInHistory
    sns: Any
    owner: str
    flood: FloodWindows | None = None
    remaining_ms: Callable[[], int] = _unbounded
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], None] = time.sleep
    result: BatchResult = field(default_factory=BatchResult)

    def run(self, event: Any) -> BatchResult:
        batch = decode_subscription_event(event)
        if batch.is_control_message:
            logger.info("control message from CloudWatch Logs; nothing to do")
            return self.result
        records = self._with_history_reasons(self._parse(iter_messages(batch)))
        held = self._held_back(records)
        owed = [record for record in records if self._store(record, held.get(record.event_id, ""))]
        self._mail(owed, self._bursts(owed))
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

    def _with_history_reasons(self, records: list[SignInRecord]) -> list[SignInRecord]:
        """Each record with the reasons its earlier history gives; Queries once per principal and per IP."""
        settings = self.config.risk
        sightings = {record.event_id: sighting_of(record) for record in records}
        principals: dict[str, list[Sighting]] = {}
        ips: dict[str, list[Sighting]] = {}
        for record in records:
            if not record.is_attempt:
                continue
            me = sightings[record.event_id]
            if me.succeeded and me.principal_key and settings.principal_lookback:
                principals.setdefault(me.principal_key, []).append(me)
            by_ip_wanted = (me.succeeded and settings.failures_before_success) or (
                me.failed and settings.spray_user_names
            )
            if me.ip_key and settings.ip_lookback and by_ip_wanted:
                ips.setdefault(me.ip_key, []).append(me)
        by_principal = {
            key: self._history(self.history.by_principal, key, wanted, settings.principal_lookback, sightings)
            for key, wanted in principals.items()
        }
        by_ip = self._ip_histories(ips, settings.ip_lookback, sightings)
        # Every sign-in the Queries found and the batch holds, in time order: each batch sign-in is judged by
        # the ones before it, in one pass (assess over each whole history would cost n² for a spray).
        known: dict[str, Sighting] = {}
        for found in (*by_principal.values(), *by_ip.values()):
            known.update((s.event_id, s) for s in found)
        known.update(sightings)
        judge = RiskJudge(settings)
        reasons: dict[str, tuple[str, ...]] = {}
        by_id = {record.event_id: record for record in records}
        for count, sighting in enumerate(sorted(known.values(), key=lambda s: (s.time, s.event_id))):
            if count % JUDGE_TIME_CHECK_EVERY == 0:
                self._need_time("judging", sighting.event_id)
            record = by_id.get(sighting.event_id)
            if record is not None:
                reasons[sighting.event_id] = judge.judge(record, sighting)
            judge.add(sighting)
        enriched = []
        for record in records:
            found = reasons.get(record.event_id)
            enriched.append(replace(record, history_reasons=found) if found else record)
        return enriched

    def _ip_histories(self, ips: dict[str, list[Sighting]], lookback: timedelta, batch: dict) -> dict:
        """Each address's stored sign-ins and this batch's: a Query per address, or per hour when that is fewer.

        The reasons by IP count only failures, so the failures of the span's hours, from any address, hold
        everything they read; a botnet's batch of 20 addresses then costs two Queries instead of 20.
        """
        if not ips:
            return {}
        wanted = [s for group in ips.values() for s in group]
        first = min(wanted, key=lambda s: s.time)
        since, until = earlier(first.time, lookback), max(s.time for s in wanted)
        if len(failure_hours(since, until)) >= len(ips):
            return {key: self._history(self.history.by_ip, key, group, lookback, batch) for key, group in ips.items()}
        self._need_time("reading the recent failures for", first.event_id)
        try:
            stored = self.history.failures(since, until)
        except Exception as error:
            self._log_failure(first.event_id, "reading recent failures", error)
            raise
        merged: dict[str, dict[str, Sighting]] = {key: {} for key in ips}
        for sighting in [*stored, *batch.values()]:
            if sighting.ip_key in merged:
                merged[sighting.ip_key][sighting.event_id] = sighting
        return {key: list(found.values()) for key, found in merged.items()}

    def _history(self, query, key: str, wanted: list[Sighting], lookback: timedelta, batch: dict) -> list[Sighting]:
        """Stored sign-ins of one key over the batch's span, merged with this batch's own (a retry finds both)."""
        first = min(wanted, key=lambda s: s.time)
        self._need_time("reading the history for", first.event_id)
        try:
            stored = query(key, earlier(first.time, lookback), max(s.time for s in wanted))
        except Exception as error:
            self._log_failure(first.event_id, "reading its history", error)
            raise
        merged = {s.event_id: s for s in stored}
        merged.update((s.event_id, s) for s in batch.values() if key in (s.principal_key, s.ip_key))
        return list(merged.values())

    def _held_back(self, records: list[SignInRecord]) -> dict[str, str]:
        """Flood control's answer (event id -> window key) before anything is stored, so retries agree."""
        if self.flood is None or not records:
            return {}
        self._need_time("deciding flood control for", records[0].event_id)
        try:
            return self.flood.held_back(records, lambda record: wants_mail(record, self.config.notify_on))
        except Exception as error:
            self._log_failure(records[0].event_id, "deciding flood control", error)
            raise

    def _bursts(self, records: list[SignInRecord]) -> dict[str, AccountWindow]:
        """The bursts that never-held mails came during, so each mail can say so."""
        if self.flood is None or not records:
            return {}
        self._need_time("looking for bursts around", records[0].event_id)
        try:
            return self.flood.bursts(records, lambda record: wants_mail(record, self.config.notify_on))
        except Exception as error:
            self._log_failure(records[0].event_id, "looking for bursts", error)
            raise

    def _store(self, record: SignInRecord, digest_key: str = "") -> bool:
        """Store one record; True when a mail may still be owed for it."""
        self._need_time("storing", record.event_id)
        try:
            claim = self.store.claim(record, wants_mail(record, self.config.notify_on), self.clock(), digest_key)
        except ClientError as error:
            if is_record_error(_error_code(error), str(error)):
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
            logger.info(SIGN_IN_LOG_MESSAGE, extra={"signIn": sign_in_log_fields(record)})
        else:
            self.result.duplicates += 1
        return claim.mail_due

    def _mail(self, records: list[SignInRecord], bursts: dict[str, AccountWindow] | None = None) -> None:
        contested: list[_Mail] = []
        zone, zone_name = self.config.zone, self.config.timezone
        for record in records:
            try:
                alias = self.config.alias_for(record.account_id)
                window = (bursts or {}).get(record.event_id)
                burst = burst_note(window.key, window.opened_at, window.limit, zone, zone_name) if window else ""
                body = render_body(record, zone, zone_name, alias, burst)
                mail = _Mail(record, render_subject(record, alias, bool(burst)), body)
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
        leased_at = self.clock()
        try:
            outcome = self.store.take_lease(event_id, self.owner, leased_at)
        except Exception as error:
            self._log_failure(event_id, "taking the mail lease", error)
            raise
        if outcome is not LeaseOutcome.TAKEN:
            return outcome
        spent = (self.clock() - leased_at).total_seconds()
        if spent > LEASE_SECONDS - PUBLISH_SECONDS - LEASE_MARGIN_SECONDS:
            # Taking the lease took so long that a publish might outlast it and meet another's.
            self.store.release_lease(event_id, self.owner)
            return LeaseOutcome.HELD
        try:
            response = self.sns.publish(**mail.request(self.config.topic_arn))
        except (ParamValidationError, UnicodeError) as error:
            self.store.release_lease(event_id, self.owner)
            self._skip(event_id, f"SNS cannot carry its mail: {error}")
            return LeaseOutcome.DONE
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500:
                # SNS refused: no mail went out, so nobody need wait for the lease.
                self.store.release_lease(event_id, self.owner)
                if _error_code(error) in _MESSAGE_REFUSALS and "TopicArn" not in str(error):
                    self._skip(event_id, f"SNS refuses its mail: {error}")
                    return LeaseOutcome.DONE
            # A 5xx may hide an accepted mail: the lease stays until it expires, so no retry resends at once.
            self._log_failure(event_id, "publishing its mail", error)
            raise
        except Exception as error:
            # A timeout or lost connection may hide an accepted mail too; the lease stays.
            self._log_failure(event_id, "publishing its mail", error)
            raise
        self.result.mailed += 1
        self._mark_sent(event_id, response["MessageId"])
        return LeaseOutcome.DONE

    def _mark_sent(self, event_id: str, message_id: str) -> None:
        # SNS has the mail now: failing the invocation would only make a retry mail it again. Tried
        # again only while a whole call still fits in the time left; a health alarm counts the line below.
        for attempt in range(MARK_SENT_ATTEMPTS):
            if attempt and self.remaining_ms() < MIN_REMAINING_MS:
                break
            try:
                self.store.mark_sent(event_id, message_id, self.clock())
                return
            except (ClientError, BotoCoreError) as error:
                last_error = error
                self.sleep(0.2 * (attempt + 1))
        logger.error("%s: event %s (SNS message %s): %s", UNMARKED_LOG_PREFIX, event_id, message_id, last_error)
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


def sign_in_log_fields(record: SignInRecord) -> dict[str, Any]:
    """What the sign-in log line carries: enough to count and chart, nothing a chart does not need."""
    return {
        "eventId": record.event_id,
        "eventName": record.event_name,
        "outcome": record.outcome,
        "principalKind": record.principal_kind.value,
        "country": record.location.country_code or NO_COUNTRY,
        "sourceIp": record.source_ip,
        "principal": record.display_name,
        "attempt": record.is_attempt,
        "reasons": [short_name(reason) for reason in record.risk_reasons],
    }


def process_batch(
    event: Any,
    config: NotifierConfig,
    dynamodb: Any,
    sns: Any,
    flood_known: dict | None = None,
    **run_options: Any,
) -> BatchResult:
    store = SignInStore(dynamodb, config.table_name, config.history_days)
    history = SignInHistory(dynamodb, config.table_name)
    run_options.setdefault("owner", str(uuid.uuid4()))
    if config.quiet is not None:
        known = flood_known if flood_known is not None else {}
        run_options["flood"] = FloodWindows(dynamodb, config.flood_table, config.quiet, known, config.burst_limit)
    return BatchRun(config=config, store=store, history=history, sns=sns, **run_options).run(event)


def is_digest_schedule(event: Any) -> bool:
    """The scheduled event that sends due digests (an EventBridge rule), not a log batch."""
    return isinstance(event, dict) and event.get("source") == "aws.events" and "awslogs" not in event


def send_digests(config: NotifierConfig, dynamodb: Any, sns: Any, **options: Any) -> int:
    if config.quiet is None:
        return 0
    sender = DigestSender(
        client=dynamodb,
        flood_table=config.flood_table,
        history_table=config.table_name,
        sns=sns,
        topic_arn=config.topic_arn,
        quiet=config.quiet,
        burst_limit=config.burst_limit,
        zone=config.zone,
        zone_name=config.timezone,
        account_alias=config.account_alias,
        own_account=config.own_account,
        owner=options.get("owner") or str(uuid.uuid4()),
        clock=options.get("clock", _utcnow),
        sleep=options.get("sleep", time.sleep),
    )
    return sender.run()


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


_clients: dict[str, Any] = {}
_config: list[NotifierConfig] = []
# What this container knows of open flood windows, kept across invocations (see FloodWindows.known).
_FLOOD_KNOWN: dict = {}


def _client(name: str) -> Any:
    if name not in _clients:
        import boto3
        from botocore.config import Config

        settings = Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": CLIENT_ATTEMPTS[name], "mode": "standard"},
        )
        _clients[name] = boto3.client(name, config=settings)
    return _clients[name]


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not _config:
        # Checked before any record is touched: a wrong setting fails every invocation loudly.
        _config.append(NotifierConfig.from_env(dict(os.environ)))
    options: dict[str, Any] = {}
    if context is not None:
        # Lambda's retries keep the request id: the random part tells an invocation from its retry.
        options["owner"] = f"{getattr(context, 'aws_request_id', '') or 'invocation'}/{uuid.uuid4()}"
        options["remaining_ms"] = context.get_remaining_time_in_millis
    if is_digest_schedule(event):
        sent = send_digests(_config[0], _client("dynamodb"), _client("sns"), owner=options.get("owner"))
        logger.info("digests sent: %d", sent)
        return {"digests": sent}
    result = process_batch(event, _config[0], _client("dynamodb"), _client("sns"), _FLOOD_KNOWN, **options)
    logger.info("batch done: %s", result.as_dict())
    return result.as_dict()
