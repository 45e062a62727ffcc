"""The opt-in Athena backtest resources: on the stacks that own a trail bucket, locked down, and wired to it."""

from __future__ import annotations

import pytest

from components.settings import SettingsError
from offline.engine import run_program
from offline.stack_config import load_stack_config
from tests.components.program import named, run_stack, statements

ORG = "o-a1b2c3d4e5"
HUB_OUTPUTS = {
    "hubTopicArn": "arn:aws:sns:us-east-1:210987654321:hub",
    "hubTopicKeyArn": "",
    "sinkArn": "arn:aws:oam:us-east-1:210987654321:sink/s",
    "sinkArns": {"us-east-1": "arn:aws:oam:us-east-1:210987654321:sink/s"},
    "organizationId": ORG,
    "dashboardName": "d",
}
ATHENA_TYPES = (
    "aws:athena/workgroup:Workgroup",
    "aws:glue/catalogDatabase:CatalogDatabase",
    "aws:glue/catalogTable:CatalogTable",
)


@pytest.fixture(scope="module")
def management():
    return run_program(load_stack_config("management", example=True), stack_outputs={"hub": HUB_OUTPUTS})


@pytest.fixture(scope="module")
def single_account():
    return run_stack("dev", backtestAthena="true")


def trail_bucket(run):
    return named(run, "aws:s3/bucket:Bucket", "login-monitoring-cloudtrail-bucket")


def test_nothing_is_created_when_disabled():
    run = run_stack("dev")
    for absent in ATHENA_TYPES:
        assert run.of_type(absent) == []
    assert not [name for name in run.outputs if name.startswith("backtest")]
    assert [r.name for r in run.of_type("aws:s3/bucket:Bucket")] == ["login-monitoring-cloudtrail-bucket"]


def test_organization_table_reads_the_organization_layout_of_the_trail_bucket(management):
    table = management.one("aws:glue/catalogTable:CatalogTable")
    bucket = trail_bucket(management).state["bucket"]
    root = f"s3://{bucket}/AWSLogs/{ORG}/"
    assert table.inputs["storageDescriptor"]["location"] == root
    parameters = table.inputs["parameters"]
    assert parameters["storage.location.template"] == root + "${account}/CloudTrail/${region}/${timestamp}"
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.timestamp.format"] == "yyyy/MM/dd"
    assert parameters["projection.account.type"] == "injected"
    assert "eu-west-1" in parameters["projection.region.values"].split(",")
    assert [key["name"] for key in table.inputs["partitionKeys"]] == ["account", "region", "timestamp"]
    assert table.inputs["databaseName"] == management.one("aws:glue/catalogDatabase:CatalogDatabase").state["name"]


def test_single_account_table_reads_the_account_layout(single_account):
    table = single_account.one("aws:glue/catalogTable:CatalogTable")
    bucket = trail_bucket(single_account).state["bucket"]
    assert table.inputs["parameters"]["storage.location.template"] == (
        f"s3://{bucket}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{timestamp}}"
    )


def test_table_is_aws_cloudtrail_format_with_the_documented_columns(management):
    descriptor = management.one("aws:glue/catalogTable:CatalogTable").inputs["storageDescriptor"]
    assert descriptor["inputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert descriptor["serDeInfo"]["serializationLibrary"] == "org.apache.hive.hcatalog.data.JsonSerDe"
    columns = {column["name"]: column["type"] for column in descriptor["columns"]}
    assert columns["eventname"] == columns["requestparameters"] == "string"
    assert columns["useridentity"].startswith("struct<type:string,principalid:string,arn:string")
    assert "sessionissuer:struct<type:string" in columns["useridentity"]


def test_workgroup_forces_encrypted_results_into_its_own_bucket_and_caps_a_query(management):
    workgroup = management.one("aws:athena/workgroup:Workgroup")
    configuration = workgroup.inputs["configuration"]
    results = named(management, "aws:s3/bucket:Bucket", "login-monitoring-backtest-results").state["bucket"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["resultConfiguration"]["outputLocation"] == f"s3://{results}/results/"
    assert configuration["resultConfiguration"]["encryptionConfiguration"]["encryptionOption"] == "SSE_S3"
    assert configuration["bytesScannedCutoffPerQuery"] == 10 * 1024**4
    assert management.outputs["backtestWorkgroup"] == workgroup.inputs["name"] == "login-monitoring-management-backtest"
    assert management.outputs["backtestResultsBucket"] == results
    assert management.outputs["backtestTrailBucket"] == trail_bucket(management).state["bucket"]


def test_results_bucket_is_encrypted_private_tls_only_and_forgets_results(management):
    results = named(management, "aws:s3/bucket:Bucket", "login-monitoring-backtest-results")
    attached = [r for r in management.resources if results.urn in r.dependencies]

    def one(type_token):
        (found,) = [r for r in attached if r.type == type_token]
        return found

    encryption = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    block = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"]["objectOwnership"] == (
        "BucketOwnerEnforced"
    )
    (deny,) = statements(one("aws:s3/bucketPolicy:BucketPolicy"))
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [results.state["arn"], results.state["arn"] + "/*"]
    (rule,) = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"]["days"] == 30


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [("hub", {}), ("dev", {"trailMode": "existing", "existingLogGroupName": "aws-cloudtrail-logs"})],
)
def test_stacks_without_a_trail_bucket_refuse_it_naming_the_key(stack, overrides):
    with pytest.raises(SettingsError, match="backtestAthena: needs the trail bucket this stack creates"):
        run_stack(stack, backtestAthena="true", **overrides)
