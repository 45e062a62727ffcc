"""Check, after `pulumi up`, that the deployed stack really delivers: each step reported on its own line.

1. subscriptions: every mail subscription of the alert topic is confirmed (AWS delivers nothing before).
2. notifier: invoking the notifier with a synthetic console sign-in stores it and mails it. The sign-in
   is clearly a test (user TEST-login-monitoring-verify, user agent saying so, an address from the
   documentation range 192.0.2.0/24) and its history item is deleted afterwards, so it never counts
   as a real sign-in.
3. alarm: `set-alarm-state` puts the failed sign-in alarm into ALARM, which mails through the same path
   as a real alarm; CloudWatch sets it back at its next evaluation (and the OK mail follows).

    pulumi stack output --json > outputs.json
    python -m operations.verify --outputs outputs.json
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from offline import cli
from operations.aws_clients import boto3_client

TEST_USER = "TEST-login-monitoring-verify"
TEST_IP = "192.0.2.10"
TEST_USER_AGENT = "login-monitoring verify: synthetic test sign-in, not a real sign-in"
ALARM_REASON = "login-monitoring verify: testing the alarm mail path; not a real detection"
REQUIRED_OUTPUTS = ("alertTopicArn", "notifierFunctionArn", "signInTableName", "failedSignInAlarmArn")
# What main reads from the ARNs: the service, and the Region and account fields.
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]+:\d+:.+$")


class VerifyError(ValueError):
    """The command line or a stack output file is wrong."""


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<13} {self.detail}"


def check_subscriptions(sns: Any, topic_arn: str) -> Step:
    mails, pending = [], []
    request = {"TopicArn": topic_arn}
    while True:
        try:
            page = sns.list_subscriptions_by_topic(**request)
        except Exception as error:
            if cli.cannot_reach_aws(error):
                raise
            return Step("subscriptions", False, f"{type(error).__name__}: {error}")
        for subscription in page.get("Subscriptions", []):
            if subscription.get("Protocol") != "email":
                continue
            mails.append(subscription["Endpoint"])
            if subscription.get("SubscriptionArn") in ("PendingConfirmation", "Deleted"):
                pending.append(subscription["Endpoint"])
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    if not mails:
        return Step("subscriptions", False, "the alert topic has no mail subscription")
    if pending:
        return Step(
            "subscriptions",
            False,
            f"{len(pending)} of {len(mails)} not confirmed, nothing reaches them: {', '.join(sorted(pending))} "
            "(open the Subscription Confirmation mail)",
        )
    return Step("subscriptions", True, f"{len(mails)} confirmed: {', '.join(sorted(mails))}")


def synthetic_sign_in(account_id: str, region: str, now: datetime, event_id: str) -> dict:
    """A console sign-in CloudTrail could have written, unmistakably a test."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDALOGINMONITORINGVERIFY",
            "arn": f"arn:aws:iam::{account_id}:user/{TEST_USER}",
            "accountId": account_id,
            "userName": TEST_USER,
        },
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": region,
        "sourceIPAddress": TEST_IP,
        "userAgent": TEST_USER_AGENT,
        "requestParameters": None,
        # Without MFA, so the sign-in "needs a look" and is mailed under notifyOn risky too.
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"},
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }


def subscription_payload(record: dict, account_id: str) -> dict:
    """The record wrapped as CloudWatch Logs hands it to the notifier."""
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": account_id,
        "logGroup": "login-monitoring-verify",
        "logStream": "login-monitoring-verify",
        "subscriptionFilters": ["login-monitoring-verify"],
        "logEvents": [{"id": "0", "timestamp": 0, "message": json.dumps(record)}],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}}


def check_notifier(
    lambda_client: Any, dynamodb: Any, function_arn: str, table: str, now: datetime, event_id: str
) -> Step:
    account_id, region = function_arn.split(":")[4], function_arn.split(":")[3]
    payload = subscription_payload(synthetic_sign_in(account_id, region, now, event_id), account_id)
    try:
        answer = lambda_client.invoke(
            FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(payload)
        )
        body = answer["Payload"].read() if hasattr(answer.get("Payload"), "read") else answer.get("Payload", b"")
        if answer.get("FunctionError"):
            return Step("notifier", False, f"the function failed: {_short(body)}")
        item = dynamodb.get_item(TableName=table, Key={"eventId": {"S": event_id}}, ConsistentRead=True).get("Item")
        if item is None:
            return Step("notifier", False, f"the function ran but stored no history item ({_short(body)})")
        state = item.get("mail", {}).get("S", "")
        if state != "sent":
            return Step("notifier", False, f"stored, but the mail was not accepted by SNS (mail state {state!r})")
        return Step("notifier", True, f"stored and mailed test sign-in {event_id} (user {TEST_USER}); item removed")
    except Exception as error:  # every AWS failure is a failed step, reported, never a traceback
        if cli.cannot_reach_aws(error):
            raise  # no step can succeed: main says once what to fix
        return Step("notifier", False, f"{type(error).__name__}: {error}")
    finally:
        _forget(dynamodb, table, event_id)


def _forget(dynamodb: Any, table: str, event_id: str) -> None:
    # The test sign-in must never count as history; a failed delete leaves a one-off, clearly named item.
    try:
        dynamodb.delete_item(TableName=table, Key={"eventId": {"S": event_id}})
    except Exception as error:
        if cli.cannot_reach_aws(error):
            return  # nothing was stored either
        print(f"warning: could not delete test item {event_id} from {table}: {error}", file=sys.stderr)


def check_alarm(cloudwatch: Any, alarm_arn: str) -> Step:
    name = alarm_arn.split(":alarm:", 1)[-1]
    try:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=ALARM_REASON)
        alarms = cloudwatch.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
    except Exception as error:
        if cli.cannot_reach_aws(error):
            raise
        return Step("alarm", False, f"{type(error).__name__}: {error}")
    if not alarms:
        return Step("alarm", False, f"no alarm named {name}")
    if not alarms[0].get("AlarmActions"):
        return Step("alarm", False, f"{name} has no alarm action: nobody would hear of it")
    return Step(
        "alarm",
        True,
        f"{name} set to ALARM (expect the alarm mail; CloudWatch sets it back at its next evaluation)",
    )


def read_outputs(path: str) -> dict[str, str]:
    try:
        if path == "-":
            outputs = json.load(sys.stdin)
        else:
            with open(path, encoding="utf-8") as stream:
                outputs = json.load(stream)
    except (OSError, ValueError) as error:
        raise VerifyError(f"cannot read stack outputs from {path} (`pulumi stack output --json`): {error}") from None
    missing = [key for key in REQUIRED_OUTPUTS if not isinstance(outputs, dict) or not outputs.get(key)]
    if missing:
        raise VerifyError(f"the stack outputs lack {', '.join(missing)}: verify runs on a member stack's outputs")
    for key, service in (("notifierFunctionArn", "lambda"), ("failedSignInAlarmArn", "cloudwatch")):
        if not _ARN.match(str(outputs[key])) or str(outputs[key]).split(":")[2] != service:
            raise VerifyError(f"{path}: {key} {outputs[key]!r} is not a {service} ARN (`pulumi stack output --json`)")
    return outputs


def _short(body: Any) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return text[:300]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=cli.program("operations.verify"), description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", required=True, metavar="FILE", help="`pulumi stack output --json`, or -")
    parser.add_argument("--no-alarm", action="store_true", help="skip setting the alarm state (no alarm mail)")
    parser.add_argument("--no-sign-in", action="store_true", help="skip the synthetic sign-in (no sign-in mail)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    client: Callable[[str, str], Any] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    args = _parser().parse_args(argv)
    try:
        outputs = read_outputs(args.outputs)
    except VerifyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        steps = _run_steps(args, outputs, client or boto3_client, now)
    except Exception as error:
        return cli.fail_on_aws_problem(error)
    for step in steps:
        print(step.line())
    failed = sum(1 for step in steps if not step.ok)
    print(f"{len(steps) - failed} of {len(steps)} checks passed")
    return 1 if failed else 0


def _run_steps(
    args: argparse.Namespace, outputs: dict[str, str], make: Callable[[str, str], Any], now: Callable[[], datetime]
) -> list[Step]:
    region = outputs["notifierFunctionArn"].split(":")[3]
    steps = [check_subscriptions(make("sns", region), outputs["alertTopicArn"])]
    if not args.no_sign_in:
        event_id = f"login-monitoring-verify-{uuid.uuid4()}"
        steps.append(
            check_notifier(
                make("lambda", region),
                make("dynamodb", region),
                outputs["notifierFunctionArn"],
                outputs["signInTableName"],
                now(),
                event_id,
            )
        )
    if not args.no_alarm:
        steps.append(check_alarm(make("cloudwatch", region), outputs["failedSignInAlarmArn"]))
    return steps


if __name__ == "__main__":
    sys.exit(main())
