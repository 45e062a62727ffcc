"""A multi-region CloudTrail trail delivering to a locked-down bucket and a CloudWatch Logs group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, with_stream_suffix
from components.policies import account_administers_key, allow, assume_role_by, document
from components.private_bucket import deny_insecure_transport, guard_bucket

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class TrailArgs:
    context: AwsContext
    trail_name: str
    log_retention_days: int
    bucket_expiration_days: int
    # "write" records management write events only (sign-ins included); "all" adds reads.
    events: str = "write"
    # Set for an organization trail (management or delegated administrator account).
    organization_id: str = ""
    # The account that owns the trail and so appears in its ARN: the management account for an
    # organization trail, even one a delegated administrator creates. None: the deploying account.
    owner_account_id: str | None = None
    # SSE-KMS with a customer-managed key for the log files (Security Hub CloudTrail.2).
    kms_encryption: bool = False
    # The log group encrypted with the same key (created for it when kms_encryption is off).
    encrypt_log_group: bool = False


class CloudTrailLogging(pulumi.ComponentResource):
    key_arn: pulumi.Output[str] | None
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    trail_arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: TrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("loginmonitoring:index:CloudTrailLogging", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        owner = args.owner_account_id or ctx.account_id
        trail_arn = pulumi.Output.concat(
            "arn:", ctx.partition, ":cloudtrail:", ctx.region, ":", owner, ":trail/", args.trail_name
        )

        # Audit logs outlive the stack: `pulumi destroy` leaves the bucket, its logs and every setting that
        # guards them in place (a versioned bucket full of logs cannot be deleted anyway, and deleting the
        # policy or public access block first would leave the logs unguarded). See "Removing an account".
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=False, opts=kept)
        guards = guard_bucket(f"{name}-bucket", bucket, kept)
        # Versioning keeps an overwritten or deleted log file recoverable until the lifecycle expires it.
        versioning = aws.s3.BucketVersioning(
            f"{name}-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=kept,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-trail-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.bucket_expiration_days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.bucket_expiration_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            # Kept too: the logs left behind still expire, so the bucket does not grow for ever.
            opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[versioning])),
        )
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=trail_bucket_policy(bucket.arn, trail_arn, owner, args.organization_id),
            # Put the policy after the public access block so the two never race.
            opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=guards)),
        )

        log_group_name = f"{name}-log-group"
        key = None
        if args.kms_encryption or args.encrypt_log_group:
            key = aws.kms.Key(
                f"{name}-key",
                description="Encrypts the login-monitoring trail's log files and, if chosen, its log group.",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=trail_key_policy(
                    ctx,
                    trail_arn=trail_arn if args.kms_encryption else None,
                    owner_account_id=owner,
                    # The group's ARN cannot be known before the group, which needs the key first; Pulumi
                    # names it "<logical name>-<7 characters>", so the condition admits exactly that name.
                    log_group_arn_pattern=(
                        ctx.log_group_arn(f"{log_group_name}-*") if args.encrypt_log_group else None
                    ),
                ),
                # Kept with the bucket: deleting the key would make every log file left there unreadable.
                opts=kept,
            )
        log_group = aws.cloudwatch.LogGroup(
            log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn if key and args.encrypt_log_group else None,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-delivery-role",
            description="Lets CloudTrail deliver this stack's trail to its CloudWatch Logs group.",
            assume_role_policy=assume_role_by(CLOUDTRAIL),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-delivery-policy",
            role=role.id,
            policy=document(
                allow(
                    "DeliverTrailToItsLogGroup",
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [pulumi.Output.concat(log_group.arn, ":log-stream:*")],
                )
            ),
            opts=child,
        )

        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.trail_name,
            s3_bucket_name=bucket.id,
            is_multi_region_trail=True,
            is_organization_trail=bool(args.organization_id),
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=with_stream_suffix(log_group.arn),
            cloud_watch_logs_role_arn=role.arn,
            event_selectors=[management_event_selector(args.events)],
            kms_key_id=key.arn if key and args.kms_encryption else None,
            # CloudTrail checks bucket access and log delivery when the trail is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy, role_policy]),
        )

        self.key_arn = key.arn if key else None
        self.log_group_name = log_group.name
        self.log_group_arn = log_group.arn
        self.trail_arn = trail.arn
        self.bucket_name = bucket.id
        self.register_outputs(
            {
                "logGroupName": self.log_group_name,
                "logGroupArn": self.log_group_arn,
                "trailArn": self.trail_arn,
                "bucketName": self.bucket_name,
                "keyArn": self.key_arn,
            }
        )


def management_event_selector(events: str) -> aws.cloudtrail.TrailEventSelectorArgs:
    """Management events only, as a basic event selector.

    Security Hub's CloudWatch.1-14 checks look for "an event selector with IncludeManagementEvents
    true and ReadWriteType All"; a basic selector is the form they name, and for management events
    it records exactly what the equivalent advanced selector would. No excluded event sources: AWS
    Config's multi-region-cloudtrail-enabled rule fails a trail that excludes any.
    """
    return aws.cloudtrail.TrailEventSelectorArgs(
        include_management_events=True,
        read_write_type="All" if events == "all" else "WriteOnly",
    )


def trail_key_policy(
    ctx: AwsContext,
    *,
    trail_arn: pulumi.Input[str] | None,
    owner_account_id: pulumi.Input[str],
    log_group_arn_pattern: pulumi.Input[str] | None,
) -> pulumi.Output[str]:
    """The statements AWS documents for a trail's key and for a CloudWatch Logs group's key.

    CloudTrail: GenerateDataKey* for this trail only (aws:SourceArn), with the encryption context
    naming a trail of the owning account — the management account for an organization trail — and
    DescribeKey. Reading the log files goes through IAM, which AccountAdministers enables.
    CloudWatch Logs: the regional service principal, for this group only (its ARN in the
    encryption context CloudWatch Logs sends).
    """
    statements = [account_administers_key(ctx.arn("iam", "root", regional=False))]
    if trail_arn is not None:
        from_this_trail = {"aws:SourceArn": trail_arn}
        trails_of_owner = pulumi.Output.concat("arn:", ctx.partition, ":cloudtrail:*:", owner_account_id, ":trail/*")
        statements += [
            {
                "Sid": "CloudTrailEncryptsLogFiles",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": from_this_trail,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails_of_owner},
                },
            },
            {
                # Key metadata only. AWS's documented statement has no condition, and one CloudTrail's
                # check at CreateTrail did not meet would refuse the trail.
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
        ]
    if log_group_arn_pattern is not None:
        statements.append(
            {
                "Sid": "CloudWatchLogsEncryptsTheTrailLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": pulumi.Output.concat("logs.", ctx.region, ".amazonaws.com")},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arn_pattern}},
            }
        )
    return document(*statements)


def trail_bucket_policy(
    bucket_arn: pulumi.Input[str],
    trail_arn: pulumi.Input[str],
    account_id: pulumi.Input[str],
    organization_id: str = "",
) -> pulumi.Output[str]:
    # account_id is the trail's owner: for an organization trail the management account, whose id AWS
    # requires in aws:SourceArn and in the AWSLogs/<id>/ prefix it keeps in case the trail stops being one.
    from_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    organization = []
    if organization_id:
        # An organization trail writes every member account's logs under AWSLogs/<organization id>/.
        organization.append(
            {
                "Sid": "CloudTrailOrganizationWrite",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "s3:PutObject",
                "Resource": pulumi.Output.concat(bucket_arn, "/AWSLogs/", organization_id, "/*"),
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            }
        )
    return document(
        deny_insecure_transport(bucket_arn),
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": from_this_trail,
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(bucket_arn, "/AWSLogs/", account_id, "/*"),
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        *organization,
    )
