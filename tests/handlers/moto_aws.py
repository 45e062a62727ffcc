"""A history table, an alert topic and a mailbox in moto, shared by the notifier's tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3

from handlers.flood import DIGEST_INDEX, DIGEST_KEY, DIGEST_PROJECTION, DIGEST_SORT
from handlers.notifier import NotifierConfig, process_batch
from handlers.store import INDEXES, TIME_ATTRIBUTE
from tests.handlers.events import subscription_payload

REGION = "us-east-1"
# The moment the tests' batches are handled: after every fixture's sign-in happened.
HANDLED_AT = datetime(2024, 6, 1, tzinfo=UTC)


def history_table_definition(name: str) -> dict:
    """The table as the stack builds it: event id key and the two time-sorted indexes."""
    keys = ["eventId", TIME_ATTRIBUTE, *(hash_key for hash_key, _ in INDEXES.values()), DIGEST_KEY, DIGEST_SORT]
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "eventId", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"} for key in keys],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": TIME_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(projected)},
            }
            for index, (hash_key, projected) in INDEXES.items()
        ]
        + [
            {
                "IndexName": DIGEST_INDEX,
                "KeySchema": [
                    {"AttributeName": DIGEST_KEY, "KeyType": "HASH"},
                    {"AttributeName": DIGEST_SORT, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(DIGEST_PROJECTION)},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


class Aws:
    """A table, an alert topic and a mailbox (an SQS queue subscribed to the topic)."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb.create_table(**history_table_definition("sign-ins"))
        self.dynamodb.create_table(
            TableName="flood",
            KeySchema=[{"AttributeName": "windowKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "windowKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.topic_arn = self.sns.create_topic(Name="alerts")["TopicArn"]
        self.mailbox_url = self.sqs.create_queue(QueueName="mailbox")["QueueUrl"]
        mailbox_arn = self.sqs.get_queue_attributes(QueueUrl=self.mailbox_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.mailbox_arn = mailbox_arn
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=mailbox_arn)

    def config(self, **changes) -> NotifierConfig:
        values = {
            "table_name": "sign-ins",
            "topic_arn": self.topic_arn,
            "timezone": "Asia/Tokyo",
            "notify_on": "all",
            "history_days": 90,
        }
        values.update(changes)
        return NotifierConfig(**values)

    def run(self, messages, run_options=None, **config_changes):
        options = {"clock": lambda: HANDLED_AT, **(run_options or {})}
        return process_batch(
            subscription_payload(messages), self.config(**config_changes), self.dynamodb, self.sns, **options
        )

    def mails(self) -> list[dict]:
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.mailbox_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.mailbox_url, ReceiptHandle=message["ReceiptHandle"])

    def item(self, event_id: str) -> dict | None:
        return self.dynamodb.get_item(TableName="sign-ins", Key={"eventId": {"S": event_id}}).get("Item")

    def item_count(self) -> int:
        return self.dynamodb.scan(TableName="sign-ins", Select="COUNT")["Count"]
