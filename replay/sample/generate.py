"""Write the synthetic sample history that `python -m replay` runs on after a fresh clone.

    python -m replay.sample.generate

One day (2024-05-01, UTC) of one account, spread over the four input formats replay reads:

- 08:00-17:00  ordinary API calls and sign-ins (IAM user with MFA, Identity Center, switch role)
- 09:58-10:01  6 failed sign-ins straddling 10:00: CloudWatch's sliding window sees them
               together, so the "5 within 15 minutes" alarm fires at 10:02 and clears at 10:15
- 10:20-10:48  8 failed sign-ins four minutes apart: never 5 within 15 minutes, no alarm
- 11:01-11:06  6 failed sign-ins, 3 of them for user names that do not exist:
               failed-console-sign-ins fires at 11:06, sign-ins-for-unknown-users at 11:07
- 12:31        root signs in with MFA: root-account-usage and root-console-sign-in fire at 12:32
- 14:02-14:41  CIS changes: a security group opened, CloudTrail stopped, an access key created,
               a user added to Administrators, three denied calls (below the recommended threshold)
- 15:02-15:45  account takeover, each firing its detection a minute later: in alice's session bob's MFA
               device is deactivated, a new user gets a console password, a role is opened to an outside
               account, GuardDuty is deleted; then the root password is changed
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detections.catalog import ct, trust_policy

HISTORY = Path(__file__).resolve().parent / "history"
ACCOUNT = "111122223333"
DAY = datetime(2024, 5, 1, tzinfo=UTC)
ALICE = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEALICE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "accountId": ACCOUNT,
    "userName": "alice",
}
BOB = {**ALICE, "principalId": "AIDAEXAMPLEBOB", "arn": f"arn:aws:iam::{ACCOUNT}:user/bob", "userName": "bob"}
UNKNOWN = {"type": "IAMUser", "accountId": ACCOUNT, "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}
ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
SSO = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLESSO:hanako@example.com",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_PowerUser_0123456789abcdef/hanako@example.com",
    "accountId": ACCOUNT,
}
OPERATOR = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEOPS:deploy",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Operator/deploy",
    "accountId": ACCOUNT,
}


def at(clock: str) -> str:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return (DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "login-monitoring-sample/" + "/".join(parts)))


def sign_in(clock: str, identity: dict, outcome: str = "Success", mfa: str = "Yes", ip: str = "198.51.100.20") -> dict:
    record = ct(
        "ConsoleLogin",
        "signin.amazonaws.com",
        identity,
        eventTime=at(clock),
        eventType="AwsConsoleSignIn",
        sourceIPAddress=ip,
        userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        requestParameters=None,
        responseElements={"ConsoleLogin": outcome},
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa,
        },
        eventID=event_id("signin", clock, identity.get("userName", identity["type"])),
    )
    if outcome == "Failure":
        unknown = identity.get("userName") == UNKNOWN["userName"]
        record["errorMessage"] = "No username found in supplied account" if unknown else "Failed authentication"
    return record


def call(clock: str, name: str, source: str, identity: dict = OPERATOR, **fields) -> dict:
    return ct(name, source, identity, eventTime=at(clock), eventID=event_id("call", clock, name), **fields)


def ordinary_activity() -> list[dict]:
    calls = [
        ("DescribeInstances", "ec2.amazonaws.com"),
        ("RunInstances", "ec2.amazonaws.com"),
        ("PutObject", "s3.amazonaws.com"),
        ("UpdateFunctionCode", "lambda.amazonaws.com"),
        ("CreateLogStream", "logs.amazonaws.com"),
        ("PutParameter", "ssm.amazonaws.com"),
    ]
    events = []
    for minute in range(8 * 60, 17 * 60, 3):
        name, source = calls[minute % len(calls)]
        events.append(call(f"{minute // 60}:{minute % 60:02d}:{minute % 50:02d}", name, source))
    events += [
        sign_in("08:55:12", ALICE),
        sign_in("09:20:40", SSO, mfa="No"),
        ct(
            "SwitchRole",
            "signin.amazonaws.com",
            {**OPERATOR, "principalId": "AROAEXAMPLEOPS:alice"},
            eventTime=at("09:31:02"),
            eventType="AwsConsoleSignIn",
            responseElements={"SwitchRole": "Success"},
            additionalEventData={"SwitchFrom": f"arn:aws:iam::{ACCOUNT}:user/alice"},
            eventID=event_id("switch"),
        ),
        sign_in("16:40:00", BOB, mfa="No"),
    ]
    return events


def attacks() -> list[dict]:
    straddling = ["09:58:00", "09:59:00", "10:00:00", "10:00:30", "10:01:00", "10:01:30"]
    spread = [f"10:{minute:02d}:30" for minute in range(20, 52, 4)]
    burst = [
        (clock, BOB if index < 3 else UNKNOWN)
        for index, clock in enumerate(["11:01:00", "11:02:00", "11:03:00", "11:04:00", "11:05:00", "11:06:00"])
    ]
    return [
        *(sign_in(clock, ALICE, outcome="Failure", ip="192.0.2.66") for clock in straddling),
        *(sign_in(clock, ALICE, outcome="Failure", ip="192.0.2.67") for clock in spread),
        *(sign_in(clock, identity, outcome="Failure", mfa="No", ip="192.0.2.77") for clock, identity in burst),
        sign_in("12:31:00", ROOT, mfa="Yes", ip="198.51.100.5"),
    ]


def cis_changes() -> list[dict]:
    return [
        call(
            "14:02:00",
            "AuthorizeSecurityGroupIngress",
            "ec2.amazonaws.com",
            requestParameters={"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"fromPort": 22}]}},
        ),
        call("14:20:00", "StopLogging", "cloudtrail.amazonaws.com", requestParameters={"name": "org-trail"}),
        call("14:33:00", "CreateAccessKey", "iam.amazonaws.com", requestParameters={"userName": "bob"}),
        call(
            "14:41:00",
            "AddUserToGroup",
            "iam.amazonaws.com",
            requestParameters={"groupName": "Administrators", "userName": "bob"},
        ),
        *(call(f"14:5{n}:00", "GetObject", "s3.amazonaws.com", errorCode="AccessDenied") for n in range(3)),
    ]


def takeover() -> list[dict]:
    def as_alice(clock: str, name: str, source: str, **request) -> dict:
        return call(clock, name, source, ALICE, requestParameters=request, sourceIPAddress="192.0.2.88")

    return [
        as_alice(
            "15:02:00",
            "DeactivateMFADevice",
            "iam.amazonaws.com",
            userName="bob",
            serialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/bob",
        ),
        as_alice("15:06:00", "CreateUser", "iam.amazonaws.com", userName="support-backup"),
        as_alice(
            "15:07:00",
            "CreateLoginProfile",
            "iam.amazonaws.com",
            userName="support-backup",
            passwordResetRequired=False,
        ),
        as_alice(
            "15:20:00",
            "UpdateAssumeRolePolicy",
            "iam.amazonaws.com",
            roleName="Deploy",
            policyDocument=trust_policy("arn:aws:iam::999988887777:root"),
        ),
        as_alice(
            "15:30:00", "DeleteDetector", "guardduty.amazonaws.com", detectorId="12abc34d567e8fa901bc2d34e56789f0"
        ),
        ct(
            "PasswordUpdated",
            "signin.amazonaws.com",
            ROOT,
            eventTime=at("15:45:00"),
            eventType="AwsConsoleSignIn",
            sourceIPAddress="192.0.2.88",
            userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            requestParameters=None,
            responseElements={"PasswordUpdated": "Success"},
            eventID=event_id("root-password"),
        ),
    ]


def write(folder: Path = HISTORY) -> list[Path]:
    everything = sorted(ordinary_activity() + attacks() + cis_changes() + takeover(), key=lambda e: e["eventTime"])
    morning = [e for e in everything if e["eventTime"] < at("12:00:00")]
    around_noon = [e for e in everything if at("12:00:00") <= e["eventTime"] < at("14:00:00")]
    afternoon = [e for e in everything if e["eventTime"] >= at("14:00:00")]
    changes = [
        e
        for e in afternoon
        if e["userIdentity"] is OPERATOR
        and e["eventName"]
        not in (
            "DescribeInstances",
            "RunInstances",
            "PutObject",
            "UpdateFunctionCode",
            "CreateLogStream",
            "PutParameter",
        )
    ]
    routine = [e for e in afternoon if e not in changes]

    s3_file = (
        folder
        / "AWSLogs"
        / ACCOUNT
        / "CloudTrail"
        / "us-east-1"
        / "2024"
        / "05"
        / "01"
        / (f"{ACCOUNT}_CloudTrail_us-east-1_20240501T1200Z_sample.json.gz")
    )
    written = {
        s3_file: gzip.compress(json.dumps({"Records": morning}).encode(), mtime=0),
        folder / "lookup-events.json": json.dumps(
            {
                "Events": [
                    {"EventId": e["eventID"], "EventName": e["eventName"], "CloudTrailEvent": json.dumps(e)}
                    for e in around_noon
                ]
            },
            indent=2,
        ).encode(),
        folder / "cis-changes.jsonl": "".join(json.dumps(e) + "\n" for e in changes).encode(),
        folder / "cloudwatch-export.txt": "".join(
            f"{e['eventTime'][:-1]}.000Z {json.dumps(e)}\n" for e in routine
        ).encode(),
    }
    for path, content in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return list(written)


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(HISTORY.parent.parent.parent))
