"""Send the events a function gave up on back to it, once what made them fail is fixed.

Lambda keeps an asynchronous event that failed every retry in the function's failed-events
queue, as a destination record: the original payload under `requestPayload`, the function
under `requestContext.functionArn`. This command invokes that function again with that payload,
asynchronously (so retries and the queue apply again), and deletes a message only after Lambda
accepted it. Re-driving is safe: the notifier stores a sign-in once and mails it once.

    pulumi stack output --json | python -m operations.redrive --outputs -
    python -m operations.redrive --queue-url https://sqs.../login-monitoring-...-failed-events --dry-run
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from offline import cli
from operations.aws_clients import boto3_client

# Stack outputs that name a failed-events queue.
QUEUE_OUTPUTS = ("failedEventsQueueUrl", "alarmMailerFailedEventsQueueUrl", "forwarderFailedEventsQueueUrl")
# Longer than a redrive takes to invoke and delete one batch, so no other reader sees it meanwhile.
VISIBILITY_SECONDS = 120
# Receives in a row that bring only messages already handled in this run before it stops.
STALE_RECEIVES = 3


class RedriveError(ValueError):
    """The command line or a stack output file is wrong."""


@dataclass(frozen=True)
class Outcome:
    queue_url: str
    message_id: str
    function_arn: str
    done: bool
    detail: str

    def line(self, dry_run: bool) -> str:
        verb = "would re-drive" if dry_run else ("re-driven" if self.done else "kept")
        target = f" to {self.function_arn}" if self.function_arn else ""
        return f"{verb} {self.message_id}{target}: {self.detail}"


def destination_record(body: str) -> tuple[str, Any, str]:
    """(function ARN without qualifier, original payload, why it failed) of one queue message."""
    try:
        record = json.loads(body)
    except ValueError:
        raise RedriveError("not JSON, so not a Lambda destination record") from None
    if not isinstance(record, dict) or "requestPayload" not in record:
        raise RedriveError("no requestPayload, so not a Lambda destination record")
    context = record.get("requestContext") or {}
    arn = context.get("functionArn") if isinstance(context, dict) else None
    if not isinstance(arn, str) or ":function:" not in arn:
        raise RedriveError("no requestContext.functionArn")
    # Destination records name the version that ran ($LATEST); the function itself is what to invoke now.
    parts = arn.split(":")
    function_arn = ":".join(parts[:7])
    condition = context.get("condition", "unknown condition")
    attempts = context.get("approximateInvokeCount")
    reason = f"{condition} after {attempts} attempts" if attempts else str(condition)
    return function_arn, record["requestPayload"], reason


def redrive_queue(
    queue_url: str,
    sqs: Any,
    lambda_client: Any,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    only_function: str | None = None,
) -> Iterator[Outcome]:
    seen: set[str] = set()
    listed: list[str] = []
    try:
        yield from _drain(queue_url, sqs, lambda_client, seen, listed, dry_run, limit, only_function)
    finally:
        # A dry run changes nothing: what it looked at is visible again at once.
        for receipt in listed:
            try:
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
            except Exception:  # a handle gone stale comes back by itself when its visibility ends
                continue


def _drain(queue_url, sqs, lambda_client, seen, listed, dry_run, limit, only_function) -> Iterator[Outcome]:
    stale = 0
    while (limit is None or len(seen) < limit) and stale < STALE_RECEIVES:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=VISIBILITY_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return
        fresh = [message for message in batch if message["MessageId"] not in seen]
        # Messages left in the queue reappear once their visibility ends; others may still wait behind them.
        stale = 0 if fresh else stale + 1
        for message in fresh:
            if limit is not None and len(seen) >= limit:
                return
            seen.add(message["MessageId"])
            if dry_run:
                listed.append(message["ReceiptHandle"])
            yield _redrive_one(queue_url, message, sqs, lambda_client, dry_run, only_function)


def _redrive_one(queue_url, message, sqs, lambda_client, dry_run, only_function) -> Outcome:
    message_id = message["MessageId"]
    try:
        function_arn, payload, reason = destination_record(message.get("Body", ""))
    except RedriveError as error:
        return Outcome(queue_url, message_id, "", False, f"left in the queue: {error}")
    if only_function and only_function not in (function_arn, function_arn.rsplit(":", 1)[-1]):
        return Outcome(queue_url, message_id, function_arn, False, f"left in the queue: not {only_function}")
    if dry_run:
        return Outcome(queue_url, message_id, function_arn, False, reason)
    try:
        lambda_client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload))
    except Exception as error:  # any failure: the message stays for the next try
        return Outcome(queue_url, message_id, function_arn, False, f"invoke failed, left in the queue: {error}")
    try:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except Exception as error:
        # Invoked but not deleted: it comes back later, and a second invocation is harmless.
        return Outcome(queue_url, message_id, function_arn, True, f"invoked; could not delete the message: {error}")
    return Outcome(queue_url, message_id, function_arn, True, reason)


def queue_urls_from_outputs(stream: TextIO) -> list[str]:
    try:
        outputs = json.load(stream)
    except ValueError as error:
        raise RedriveError(f"stack outputs are not JSON (use `pulumi stack output --json`): {error}") from None
    if not isinstance(outputs, dict):
        raise RedriveError("stack outputs must be a JSON object (use `pulumi stack output --json`)")
    urls = [outputs[name] for name in QUEUE_OUTPUTS if isinstance(outputs.get(name), str) and outputs[name]]
    if not urls:
        raise RedriveError(f"the stack outputs name no failed-events queue ({', '.join(QUEUE_OUTPUTS)})")
    return urls


def region_of(queue_url: str) -> str:
    # https://sqs.<region>.amazonaws.com/<account>/<name>
    host = queue_url.split("//", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) < 3 or parts[0] != "sqs":
        raise RedriveError(f"{queue_url!r} is not an SQS queue URL")
    return parts[1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=cli.program("operations.redrive"), description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--queue-url", action="append", help="a failed-events queue URL (repeatable)")
    source.add_argument("--outputs", metavar="FILE", help="`pulumi stack output --json` of the stack, or - for stdin")
    parser.add_argument("--function", help="re-drive only the events of this function (name or ARN)")
    parser.add_argument("--limit", type=int, help="re-drive at most this many events per queue")
    parser.add_argument("--dry-run", action="store_true", help="list what would be re-driven; change nothing")
    return parser


def main(argv: Sequence[str] | None = None, clients: Any = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.outputs:
            if args.outputs == "-":
                urls = queue_urls_from_outputs(sys.stdin)
            else:
                with open(args.outputs, encoding="utf-8") as stream:
                    urls = queue_urls_from_outputs(stream)
        else:
            urls = list(args.queue_url)
        if args.limit is not None and args.limit < 1:
            raise RedriveError("--limit must be at least 1")
        regions = {url: region_of(url) for url in urls}
    except (RedriveError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        kept = _redrive(urls, regions, clients or boto3_client, args)
    except Exception as error:
        return cli.fail_on_aws_problem(error)
    return 1 if kept else 0


def _redrive(urls: list[str], regions: dict[str, str], make_client: Any, args: argparse.Namespace) -> int:
    """Re-drive each queue in turn; the number of events kept for another try."""
    kept = 0
    for url in urls:
        sqs, lambda_client = make_client("sqs", regions[url]), make_client("lambda", regions[url])
        count = 0
        for outcome in redrive_queue(
            url, sqs, lambda_client, dry_run=args.dry_run, limit=args.limit, only_function=args.function
        ):
            print(outcome.line(args.dry_run))
            count += 1
            kept += not outcome.done and not args.dry_run
        print(f"{url}: {count} event(s) {'listed' if args.dry_run else 'handled'}")
    return kept


if __name__ == "__main__":
    sys.exit(main())
