"""The duplicate-mail and lost-record windows closed after review, each by a test that failed before."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from components.lambda_package import FAILED_EVENT_RETENTION_SECONDS
from handlers import notifier
from handlers.signin import parse_signin_event
from handlers.store import LEASE_SECONDS, MIN_REDELIVERY_DAYS, REDELIVERY_DAYS, LeaseOutcome, SignInStore
from tests.handlers.events import event
from tests.handlers.faulty import Clock, Faulty, client_error, mailed_ids, run
from tests.handlers.moto_aws import HANDLED_AT

NINE_GOOD = [
    event("iam_user_mfa_success", eventID=f"good-{index}", eventTime=f"2024-05-01T10:0{index}:00Z")
    for index in range(9)
]
# Lambda keeps a failed asynchronous event for at most six hours of retries before the queue.
MAX_EVENT_AGE_SECONDS = 6 * 3600


def server_error(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "InternalError", "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        operation,
    )


def test_an_integer_beyond_pythons_digit_limit_costs_only_its_record(aws):
    huge = '{"eventVersion": "1.08", "n": ' + "9" * 5000 + "}"
    result = run(aws, [*NINE_GOOD[:4], huge, *NINE_GOOD[4:]])
    assert result.stored == 9 and len(result.skipped) == 1


def test_a_table_fault_fails_the_batch_instead_of_skipping_every_record(aws):
    def schema_mismatch(**_):
        raise client_error("ValidationException", "PutItem")  # "injected ValidationException": no size

    with pytest.raises(ClientError):
        run(aws, NINE_GOOD, dynamodb=Faulty(aws.dynamodb, put_item=schema_mismatch))


def test_an_item_too_large_for_the_table_is_skipped_alone(aws):
    def too_large(**kwargs):
        if kwargs["Item"]["eventId"]["S"] == "good-3":
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationException",
                        "Message": "Item size has exceeded the maximum allowed size",
                    }
                },
                "PutItem",
            )

    result = run(aws, NINE_GOOD, dynamodb=Faulty(aws.dynamodb, put_item=too_large))
    assert result.stored == 8 and result.skipped == ["good-3"]


def test_sns_refusing_one_message_skips_that_mail_and_frees_its_item(aws):
    def refuse_one(**kwargs):
        if "good-2" in kwargs["Message"]:
            raise client_error("InvalidParameter", "Publish")

    result = run(aws, NINE_GOOD, sns=Faulty(aws.sns, publish=refuse_one))
    assert result.mailed == 8 and result.skipped == ["good-2"]
    assert aws.item("good-2")["mail"]["S"] == "pending" and "leaseOwner" not in aws.item("good-2")


def test_a_publish_that_may_have_gone_through_keeps_its_lease(aws):
    # A 5xx or a timeout does not prove SNS refused: a retry must not resend before the lease runs out.
    def maybe_sent(**_):
        raise server_error("Publish")

    with pytest.raises(ClientError):
        run(aws, [NINE_GOOD[0]], sns=Faulty(aws.sns, publish=maybe_sent))
    assert aws.item("good-0")["mail"]["S"] == "sending"

    clock = Clock(HANDLED_AT + timedelta(seconds=5))
    retry = run(aws, [NINE_GOOD[0]], clock=clock)
    assert retry.mailed == 1 and clock.now >= HANDLED_AT + timedelta(seconds=LEASE_SECONDS)


def test_sns_gets_one_attempt_so_the_sdk_never_resends_a_mail(monkeypatch):
    monkeypatch.setattr(notifier, "_clients", {})
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert notifier._client("sns").meta.config.retries["total_max_attempts"] == 1
    assert notifier._client("dynamodb").meta.config.retries["total_max_attempts"] == 3


def test_no_publish_when_taking_the_lease_left_too_little_of_it(aws):
    clock = Clock()
    slow = {"left": 1}

    def slow_lease(**kwargs):
        taking = "leaseUntil = :until" in kwargs.get("UpdateExpression", "")
        if taking and slow["left"]:
            slow["left"] -= 1
            clock.now += timedelta(seconds=LEASE_SECONDS - 10)  # the answer came back late

    published = []

    def count(**kwargs):
        # How much of the lease is left at the moment of publishing.
        lease_until = int(aws.item("good-0")["leaseUntil"]["N"])
        published.append(lease_until - clock.now.timestamp())

    result = run(
        aws,
        [NINE_GOOD[0]],
        dynamodb=Faulty(aws.dynamodb, update_item=slow_lease),
        sns=Faulty(aws.sns, publish=count),
        clock=clock,
    )
    # The late lease was given back unused, then taken again: the one publish had a whole publish's time left.
    assert result.mailed == 1 and mailed_ids(aws) == ["good-0"]
    assert len(published) == 1 and published[0] >= notifier.PUBLISH_SECONDS


def test_a_lease_answered_late_and_retried_by_the_sdk_still_belongs_to_its_taker(aws):
    store = SignInStore(aws.dynamodb, "sign-ins", 90)
    assert store.claim(parse_signin_event(NINE_GOOD[0]), mail_wanted=True, now=HANDLED_AT).mail_due
    # The second call is the SDK resending a request whose answer was lost after it took the lease.
    assert store.take_lease("good-0", "me", HANDLED_AT) is LeaseOutcome.TAKEN
    assert store.take_lease("good-0", "me", HANDLED_AT) is LeaseOutcome.TAKEN
    assert store.take_lease("good-0", "someone else", HANDLED_AT) is LeaseOutcome.HELD


def test_marking_a_deleted_item_sent_does_not_bring_it_back_without_an_expiry(aws):
    store = SignInStore(aws.dynamodb, "sign-ins", 90)
    with pytest.raises(ClientError):
        store.mark_sent("gone", "message-1", HANDLED_AT)
    assert aws.item("gone") is None


def test_every_redelivery_pushes_the_items_expiry_past_the_next_possible_redrive(aws):
    first = run(aws, [NINE_GOOD[0]], clock=Clock(HANDLED_AT))
    assert first.mailed == 1
    later = HANDLED_AT + timedelta(days=13)
    again = run(aws, [NINE_GOOD[0]], clock=Clock(later))
    assert again.mailed == 0 and again.duplicates == 1
    expires = int(aws.item("good-0")["expiresAt"]["N"])
    assert expires >= int((later + timedelta(days=REDELIVERY_DAYS)).timestamp())


def test_items_outlive_the_failed_events_queue_and_lambdas_retries():
    assert MIN_REDELIVERY_DAYS * 86400 > FAILED_EVENT_RETENTION_SECONDS + MAX_EVENT_AGE_SECONDS


def test_a_retry_soon_after_costs_no_extra_write(aws):
    run(aws, [NINE_GOOD[0]], clock=Clock(HANDLED_AT))
    writes = []
    counting = Faulty(aws.dynamodb, update_item=lambda **kwargs: writes.append(kwargs))
    again = run(aws, [NINE_GOOD[0]], dynamodb=counting, clock=Clock(HANDLED_AT + timedelta(hours=6)))
    assert again.duplicates == 1 and writes == []


def test_the_time_reserve_and_the_lease_cover_the_slowest_calls():
    slowest_mail = 2 * notifier.DYNAMODB_CALL_SECONDS + notifier.PUBLISH_SECONDS  # lease, publish, mark sent
    assert slowest_mail * 1000 <= notifier.MIN_REMAINING_MS
    assert LEASE_SECONDS > notifier.DYNAMODB_CALL_SECONDS + notifier.PUBLISH_SECONDS


def test_each_invocation_owns_its_leases_even_when_lambda_reuses_the_request_id(monkeypatch):
    owners = []
    monkeypatch.setattr(notifier, "_config", [SimpleNamespace()])
    monkeypatch.setattr(notifier, "_client", lambda name: None)
    monkeypatch.setattr(
        notifier, "process_batch", lambda *args, **options: owners.append(options["owner"]) or notifier.BatchResult()
    )
    context = SimpleNamespace(aws_request_id="6f1c0e8e-0000-4000-8000-000000000000", get_remaining_time_in_millis=int)
    notifier.handler({}, context)
    notifier.handler({}, context)
    assert owners[0] != owners[1] and all(owner.startswith(context.aws_request_id) for owner in owners)
