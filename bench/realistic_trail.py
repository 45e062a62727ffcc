"""A CloudTrail history shaped like a real organization's trail, for the benchmarks.

    python -m bench.realistic_trail FOLDER [--events 1000000]

What real trails hold, unlike the detection catalog's examples: mostly data events (S3 object reads and
writes, KMS Decrypt / GenerateDataKey, STS AssumeRole and GetCallerIdentity) from roles and services,
two accounts in three Regions, one file per account and Region every 5 minutes with up to ~2,200
events, about 4 % of calls failing (AccessDenied, NoSuchKey, throttling), AWS service events, a few
CIS-relevant changes, 0.15 % console sign-ins in two bursts (a failed-password burst and a spray of
unknown names), and about 0.5 % of events delivered twice (in the next file). Records carry the fields
CloudTrail writes (sessionContext, tlsDetails, resources, request and response elements), about 1.3 KB
each. Seeded: the same arguments write the same files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
START = datetime(2024, 5, 1, tzinfo=UTC)
FILE_MINUTES = 5
MAX_PER_FILE = 2200
ERROR_SHARE = 0.04
DUPLICATE_SHARE = 0.005
SIGN_IN_SHARE = 0.0015
CHANGE_SHARE = 0.0005
SERVICE_EVENT_SHARE = 0.02

# (weight, source, names, read only, resources kind): what a busy organization's trail is made of.
CALLS = (
    (22, "s3.amazonaws.com", ("GetObject", "HeadObject", "ListObjects"), True, "object"),
    (12, "s3.amazonaws.com", ("PutObject", "DeleteObject", "CreateMultipartUpload"), False, "object"),
    (17, "kms.amazonaws.com", ("Decrypt", "GenerateDataKey"), True, "key"),
    (5, "kms.amazonaws.com", ("Encrypt", "DescribeKey"), True, "key"),
    (10, "sts.amazonaws.com", ("AssumeRole", "AssumeRoleWithWebIdentity"), False, "role"),
    (4, "sts.amazonaws.com", ("GetCallerIdentity",), True, ""),
    (6, "ec2.amazonaws.com", ("DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes"), True, ""),
    (5, "dynamodb.amazonaws.com", ("GetItem", "PutItem", "Query"), False, "table"),
    (5, "lambda.amazonaws.com", ("Invoke",), False, "function"),
    (4, "logs.amazonaws.com", ("CreateLogStream", "PutLogEvents", "DescribeLogGroups"), False, ""),
    (3, "ssm.amazonaws.com", ("GetParameter", "GetParameters"), True, ""),
    (3, "ecr.amazonaws.com", ("GetAuthorizationToken", "BatchGetImage"), True, ""),
    (2, "secretsmanager.amazonaws.com", ("GetSecretValue",), True, ""),
    (2, "monitoring.amazonaws.com", ("PutMetricData", "GetMetricData"), False, ""),
)
ERRORS = {
    "s3.amazonaws.com": ("AccessDenied", "NoSuchKey"),
    "kms.amazonaws.com": ("AccessDenied", "ThrottlingException"),
    "sts.amazonaws.com": ("AccessDenied",),
    "ec2.amazonaws.com": ("Client.UnauthorizedOperation", "Client.RequestLimitExceeded"),
}
# Rare changes the CIS detections look for, from the operators' role.
CHANGES = (
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("iam.amazonaws.com", "PutRolePolicy"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("ec2.amazonaws.com", "CreateRoute"),
)
SERVICE_EVENTS = (
    ("kms.amazonaws.com", "RotateKey"),
    ("ssm.amazonaws.com", "SendCommand"),
    ("health.amazonaws.com", "AWSHealthEvent"),
)
ROLES = ("app-server", "batch-worker", "etl-pipeline", "ci-deployer", "analytics", "OrganizationAccountAccessRole")
SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com", "firehose.amazonaws.com")
AGENTS = (
    "aws-sdk-java/2.25.21 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.12.2",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1",
)


def _identity(rng: random.Random, account: str) -> dict:
    if rng.random() < 0.2:
        service = rng.choice(SERVICES)
        return {"type": "AWSService", "invokedBy": service}
    role = rng.choice(ROLES)
    session = f"{role}-{rng.randrange(10**6):06d}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{rng.randrange(16**12):012X}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": f"ASIA{rng.randrange(16**16):016X}",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROA{rng.randrange(16**12):012X}",
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2024-05-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def _resources(kind: str, rng: random.Random, account: str, region: str) -> tuple[dict, list]:
    bucket = f"data-{account[-4:]}-{rng.randrange(8)}"
    if kind == "object":
        key = f"landing/{rng.randrange(10**4):04d}/part-{rng.randrange(10**6):06d}.parquet"
        return {"bucketName": bucket, "key": key, "Host": f"{bucket}.s3.{region}.amazonaws.com"}, [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
    if kind == "key":
        key_arn = f"arn:aws:kms:{region}:{account}:key/{uuid.UUID(int=rng.randrange(2**32))}"
        context = {"aws:s3:arn": f"arn:aws:s3:::{bucket}/landing/"}
        return {"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, [
            {"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}
        ]
    if kind == "role":
        role_arn = f"arn:aws:iam::{account}:role/{rng.choice(ROLES)}"
        return {"roleArn": role_arn, "roleSessionName": f"s{rng.randrange(10**6)}", "durationSeconds": 3600}, [
            {"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}
        ]
    if kind == "table":
        table = f"arn:aws:dynamodb:{region}:{account}:table/orders-{rng.randrange(4)}"
        return {"tableName": table.rsplit("/", 1)[1], "key": {"id": "<redacted>"}}, [
            {"accountId": account, "type": "AWS::DynamoDB::Table", "ARN": table}
        ]
    if kind == "function":
        function = f"arn:aws:lambda:{region}:{account}:function:handler-{rng.randrange(6)}"
        return {"functionName": function, "invocationType": "RequestResponse"}, [
            {"accountId": account, "type": "AWS::Lambda::Function", "ARN": function}
        ]
    return {"maxResults": 100}, []


def _call(rng: random.Random, account: str, region: str) -> dict:
    weights = [call[0] for call in CALLS]
    _, source, names, read_only, kind = rng.choices(CALLS, weights)[0]
    request, resources = _resources(kind, rng, account, region)
    event = {
        "eventVersion": "1.09",
        "userIdentity": _identity(rng, account),
        "eventSource": source,
        "eventName": rng.choice(names),
        "awsRegion": region,
        "sourceIPAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": rng.choice(AGENTS),
        "requestParameters": request,
        "responseElements": None,
        "additionalEventData": {"bytesTransferredIn": 0, "bytesTransferredOut": rng.randrange(10**7)}
        if source == "s3.amazonaws.com"
        else None,
        "requestID": uuid.UUID(int=rng.randrange(2**128)).hex.upper()[:20],
        "readOnly": read_only,
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": source not in ("s3.amazonaws.com", "dynamodb.amazonaws.com", "lambda.amazonaws.com"),
        "recipientAccountId": account,
        "eventCategory": "Data" if source in ("s3.amazonaws.com", "dynamodb.amazonaws.com") else "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if event["additionalEventData"] is None:
        del event["additionalEventData"]
    if rng.random() < ERROR_SHARE:
        event["errorCode"] = rng.choice(ERRORS.get(source, ("AccessDenied",)))
        event["errorMessage"] = f"User: {event['userIdentity'].get('arn', 'service')} is not authorized"
    return event


def _change(rng: random.Random, account: str, region: str) -> dict:
    source, name = rng.choice(CHANGES)
    event = _call(rng, account, region)
    event.update(eventSource=source, eventName=name, readOnly=False, managementEvent=True, eventCategory="Management")
    event.pop("errorCode", None)
    event.pop("errorMessage", None)
    return event


def _service_event(rng: random.Random, account: str, region: str) -> dict:
    source, name = rng.choice(SERVICE_EVENTS)
    return {
        "eventVersion": "1.09",
        "userIdentity": {"accountId": account, "invokedBy": source},
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source,
        "userAgent": source,
        "requestParameters": None,
        "responseElements": None,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account,
        "serviceEventDetails": {"keyId": str(uuid.UUID(int=rng.randrange(2**32)))},
        "eventCategory": "Management",
    }


def _sign_in(rng: random.Random, account: str, spray: bool) -> dict:
    user = "HIDDEN_DUE_TO_SECURITY_REASONS" if spray else rng.choice(("alice", "bob", "carol"))
    failed = spray or rng.random() < 0.7
    identity = {"type": "IAMUser", "accountId": account, "userName": user}
    if not spray:
        identity.update(principalId=f"AIDA{user.upper()}", arn=f"arn:aws:iam::{account}:user/{user}")
    event = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "185.220.101.7" if spray else rng.choice(("198.51.100.20", "203.0.113.50")),
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Failure" if failed else "Success"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": "No" if failed else "Yes",
        },
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if failed:
        event["errorMessage"] = "No username found in supplied account" if spray else "Failed authentication"
    return event


def files(events: int, seed: int = 1) -> Iterator[tuple[str, str, datetime, list[str]]]:
    """(account, Region, file start, records as JSON text) for each 5-minute file, in time order."""
    rng = random.Random(seed)
    streams = [(account, region) for account in ACCOUNTS for region in REGIONS]
    # Busier in us-east-1 and in the first account, as real organizations are.
    shares = [3 if region == "us-east-1" else 1 for _, region in streams]
    shares = [share * (2 if account == ACCOUNTS[0] else 1) for share, (account, _) in zip(shares, streams, strict=True)]
    slot, written, carried = 0, 0, {stream: [] for stream in streams}
    bursts = {int(events * 0.3), int(events * 0.7)}  # where the two sign-in bursts begin
    sign_ins_left, spray = 0, False
    while written < events:
        start = START + timedelta(minutes=FILE_MINUTES * slot)
        for stream, share in zip(streams, shares, strict=True):
            account, region = stream
            count = min(MAX_PER_FILE, int(MAX_PER_FILE * share / 6 * (0.6 + 0.4 * rng.random())))
            count = min(count, events - written)
            records = carried[stream]
            carried[stream] = []
            for _ in range(count):
                if any(written <= burst < written + 1 for burst in bursts):
                    sign_ins_left, spray = int(events * SIGN_IN_SHARE / 2), written > events // 2
                roll = rng.random()
                if sign_ins_left and region == "us-east-1" and roll < 0.5:
                    event = _sign_in(rng, account, spray)
                    sign_ins_left -= 1
                elif roll < CHANGE_SHARE:
                    event = _change(rng, account, region)
                elif roll < CHANGE_SHARE + SERVICE_EVENT_SHARE:
                    event = _service_event(rng, account, region)
                else:
                    event = _call(rng, account, region)
                moment = start + timedelta(seconds=rng.random() * FILE_MINUTES * 60)
                event["eventTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
                event["eventID"] = str(uuid.UUID(int=rng.randrange(2**128)))
                text = json.dumps(event, separators=(",", ":"))
                records.append(text)
                written += 1
                if rng.random() < DUPLICATE_SHARE:
                    carried[stream].append(text)  # delivered again in the next file
            if records:
                yield account, region, start, records
            if written >= events:
                break
        slot += 1


def write_history(folder: Path, events: int, seed: int = 1) -> int:
    """Gzipped files in CloudTrail's S3 layout; returns how many."""
    count = 0
    for account, region, start, records in files(events, seed):
        day = start.strftime("%Y/%m/%d")
        target = folder / "AWSLogs" / account / "CloudTrail" / region / day
        target.mkdir(parents=True, exist_ok=True)
        stamp = start.strftime("%Y%m%dT%H%MZ")
        name = f"{account}_CloudTrail_{region}_{stamp}_{count:06d}.json.gz"
        body = '{"Records":[' + ",".join(records) + "]}"
        (target / name).write_bytes(gzip.compress(body.encode(), compresslevel=1, mtime=0))
        count += 1
    return count


def lines(events: int, seed: int = 1) -> list[str]:
    """The same history as JSON lines, in file order (duplicates included)."""
    return [record for *_, records in files(events, seed) for record in records]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    print(f"wrote {write_history(options.folder, options.events, options.seed):,} files")


if __name__ == "__main__":
    main()
