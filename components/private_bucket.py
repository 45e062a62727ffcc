"""What every bucket of the project has: encryption at rest, no public access, no ACLs, TLS only."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws


def guard_bucket(prefix: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """SSE-S3 encryption, every public access blocked and objects owned by the bucket owner (ACLs off).

    Named `<prefix>-encryption`, `<prefix>-public-access` and `<prefix>-ownership`. Returned so that the
    bucket's policy can depend on them: a policy put before the public access block could race it.
    """
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{prefix}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
            )
        ],
        opts=opts,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{prefix}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{prefix}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    return [public_access, ownership, encryption]


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The bucket policy statement that refuses every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
