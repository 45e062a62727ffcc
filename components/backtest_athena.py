"""Athena over the trail bucket, for backtesting detections across the whole trail (opt-in).

An Athena workgroup whose results go to a private, encrypted, TLS-only bucket that forgets them after
RESULTS_EXPIRATION_DAYS, a Glue database, and a Glue table over the trail bucket in AWS's documented
CloudTrail layout with partition projection (account, Region, day), so no crawler or
`ALTER TABLE ADD PARTITION` is ever needed. For an organization trail the layout includes the
organization id: `AWSLogs/<org id>/<account>/CloudTrail/<Region>/<yyyy/MM/dd>/`.

The table's columns are AWS's documented CloudTrail schema; COLUMNS and USER_IDENTITY say which
CloudTrail field each column holds, so the backtest compiler can map a filter-pattern selector to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.config_keys import aws_regions
from components.policies import document
from components.private_bucket import deny_insecure_transport, guard_bucket

RESULTS_EXPIRATION_DAYS = 30
# Stops a mistaken query (a year of an organization, say) at 10 TB, about 50 USD.
BYTES_SCANNED_CUTOFF = 10 * 1024**4
TABLE_NAME = "cloudtrail"
PROJECTION_START = "2020/01/01"
PARTITION_KEYS = ("account", "region", "timestamp")

# CloudTrail field -> (column, Hive type). "json" columns hold the field's JSON text.
COLUMNS: dict[str, tuple[str, str]] = {
    "eventVersion": ("eventversion", "string"),
    "userIdentity": ("useridentity", "struct"),
    "eventTime": ("eventtime", "string"),
    "eventSource": ("eventsource", "string"),
    "eventName": ("eventname", "string"),
    "awsRegion": ("awsregion", "string"),
    "sourceIPAddress": ("sourceipaddress", "string"),
    "userAgent": ("useragent", "string"),
    "errorCode": ("errorcode", "string"),
    "errorMessage": ("errormessage", "string"),
    "requestParameters": ("requestparameters", "json"),
    "responseElements": ("responseelements", "json"),
    "additionalEventData": ("additionaleventdata", "json"),
    "requestID": ("requestid", "string"),
    "eventID": ("eventid", "string"),
    "readOnly": ("readonly", "boolean"),
    "eventType": ("eventtype", "string"),
    "apiVersion": ("apiversion", "string"),
    "managementEvent": ("managementevent", "boolean"),
    "recipientAccountId": ("recipientaccountid", "string"),
    "serviceEventDetails": ("serviceeventdetails", "json"),
    "sharedEventID": ("sharedeventid", "string"),
    "vpcEndpointId": ("vpcendpointid", "string"),
    "eventCategory": ("eventcategory", "string"),
    "sessionCredentialFromConsole": ("sessioncredentialfromconsole", "string"),
}
# userIdentity's fields as the table's struct holds them: field -> struct field, or a nested mapping.
USER_IDENTITY: dict[str, str | tuple[str, dict]] = {
    "type": "type",
    "principalId": "principalid",
    "arn": "arn",
    "accountId": "accountid",
    "invokedBy": "invokedby",
    "accessKeyId": "accesskeyid",
    "userName": "username",
    "onBehalfOf": ("onbehalfof", {"userId": "userid", "identityStoreArn": "identitystorearn"}),
    "sessionContext": (
        "sessioncontext",
        {
            "attributes": ("attributes", {"mfaAuthenticated": "mfaauthenticated", "creationDate": "creationdate"}),
            "sessionIssuer": (
                "sessionissuer",
                {
                    "type": "type",
                    "principalId": "principalid",
                    "arn": "arn",
                    "accountId": "accountid",
                    "userName": "username",
                },
            ),
        },
    ),
}


def _hive_struct(fields: dict[str, str | tuple[str, dict]]) -> str:
    parts = []
    for value in fields.values():
        if isinstance(value, str):
            parts.append(f"{value}:string")
        else:
            column, nested = value
            parts.append(f"{column}:{_hive_struct(nested)}")
    return "struct<" + ",".join(parts) + ">"


def table_columns() -> list[tuple[str, str]]:
    """(column, Hive type) in table order."""
    columns = []
    for column, kind in COLUMNS.values():
        hive = _hive_struct(USER_IDENTITY) if kind == "struct" else "string"
        columns.append((column, hive))
    columns.append(("resources", "array<struct<arn:string,accountid:string,type:string>>"))
    return columns


def database_name(stack: str) -> str:
    """Glue names are lower case letters, digits and underscores."""
    return "login_monitoring_" + re.sub(r"[^a-z0-9_]", "_", stack.lower())


def logs_prefix(organization_id: str) -> str:
    return f"AWSLogs/{organization_id}/" if organization_id else "AWSLogs/"


@dataclass(frozen=True)
class BacktestAthenaArgs:
    context: AwsContext
    name_prefix: str
    trail_bucket_name: pulumi.Input[str]
    # Set for an organization trail: its files sit under AWSLogs/<org id>/<account>/.
    organization_id: str = ""


class BacktestAthena(pulumi.ComponentResource):
    workgroup_name: pulumi.Output[str]
    database_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    results_bucket_name: pulumi.Output[str]
    trail_bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: BacktestAthenaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:BacktestAthena", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        results = aws.s3.Bucket(f"{name}-results", force_destroy=True, opts=child)
        guards = guard_bucket(f"{name}-results", results, child)
        # Query results copy trail content (sign-ins, IP addresses): keep them only as long as a review takes.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-results-lifecycle",
            bucket=results.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-query-results",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=RESULTS_EXPIRATION_DAYS),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-results-policy",
            bucket=results.id,
            policy=document(deny_insecure_transport(results.arn)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=guards),
        )

        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=f"{args.name_prefix}-backtest",
            description="Backtests of login-monitoring detections over the CloudTrail bucket.",
            force_destroy=True,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                # Every query in the workgroup writes encrypted results to the bucket above, whatever the client asks.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", results.bucket, "/results/"),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
            opts=child,
        )
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=database_name(pulumi.get_stack()),
            description="CloudTrail tables for login-monitoring backtests.",
            opts=child,
        )
        location = pulumi.Output.concat("s3://", args.trail_bucket_name, "/", logs_prefix(args.organization_id))
        table = aws.glue.CatalogTable(
            f"{name}-table",
            name=TABLE_NAME,
            database_name=database.name,
            table_type="EXTERNAL_TABLE",
            description="CloudTrail log files of the trail bucket, partitioned by account, Region and day.",
            parameters=projection_parameters(location),
            partition_keys=[aws.glue.CatalogTablePartitionKeyArgs(name=key, type="string") for key in PARTITION_KEYS],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=location,
                # CloudTrail's input format splits each log file's Records into one JSON document per event.
                input_format="com.amazon.emr.cloudtrail.CloudTrailInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library="org.apache.hive.hcatalog.data.JsonSerDe"
                ),
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(name=column, type=hive)
                    for column, hive in table_columns()
                ],
            ),
            opts=child,
        )

        self.workgroup_name = workgroup.name
        self.database_name = database.name
        self.table_name = table.name
        self.results_bucket_name = results.bucket
        self.trail_bucket_name = pulumi.Output.from_input(args.trail_bucket_name)
        self.register_outputs(
            {
                "workgroupName": self.workgroup_name,
                "databaseName": self.database_name,
                "tableName": self.table_name,
                "resultsBucketName": self.results_bucket_name,
                "trailBucketName": self.trail_bucket_name,
            }
        )


def projection_parameters(location: pulumi.Input[str]) -> pulumi.Output[dict[str, str]]:
    """Partition projection: days from PROJECTION_START, every AWS Region, accounts named by the query."""
    return pulumi.Output.from_input(location).apply(
        lambda root: {
            "EXTERNAL": "TRUE",
            "classification": "cloudtrail",
            "projection.enabled": "true",
            "projection.timestamp.type": "date",
            "projection.timestamp.format": "yyyy/MM/dd",
            "projection.timestamp.interval": "1",
            "projection.timestamp.interval.unit": "DAYS",
            "projection.timestamp.range": f"{PROJECTION_START},NOW",
            "projection.region.type": "enum",
            "projection.region.values": ",".join(sorted(aws_regions())),
            # Injected: an organization adds accounts; every query names the accounts it reads.
            "projection.account.type": "injected",
            "storage.location.template": root + "${account}/CloudTrail/${region}/${timestamp}",
        }
    )
