"""What IAM allows the Pulumi AWS provider to manage each resource type the program plans.

One entry per Pulumi type token: the ARNs the actions act on, what a deploy needs (create, read,
update, delete, tag) and what a preview with `--refresh` needs (read only). The deploy and preview
policies are generated from a stack's plan with these (offline/role_policies.py); a test fails when
the plan holds a type that has no entry here, so the policies cannot fall behind the program.

ARN templates name `{partition}`, `{region}`, `{account}` and `{name}` (the resource's own name, or the
name of the resource `owner` refers to), or another input by its key (`{databaseName}`). Actions AWS
authorizes only on `"Resource": "*"` are listed apart, so every other action stays on named ARNs.
"""

from __future__ import annotations

from dataclasses import dataclass

_CLOUDTRAIL = "cloudtrail.amazonaws.com"
_CLOUDTRAIL_LINKED_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail"
)


@dataclass(frozen=True)
class Access:
    # ARNs the actions act on.
    arns: tuple[str, ...]
    deploy: tuple[str, ...]
    read: tuple[str, ...]
    # Input holding the resource's name; without it, Pulumi names it "<logical name>-<7 random characters>".
    name: str | None = "name"
    # For a resource that configures another (a bucket's policy, a log group's filter): the input naming it.
    owner: str | None = None
    # Actions authorized on "*" only.
    any_deploy: tuple[str, ...] = ()
    any_read: tuple[str, ...] = ()
    # (input holding a role ARN, the service the role is passed to; None where AWS has no such condition).
    passes_role: tuple[tuple[str, str | None], ...] = ()
    # What a resource needs beyond its own ARNs when one of its inputs has a value (an organization trail).
    extras: tuple[Extra, ...] = ()


@dataclass(frozen=True)
class Extra:
    input: str
    value: object
    actions: tuple[str, ...]
    arns: tuple[str, ...] = ("*",)
    condition: tuple[tuple[str, str, str], ...] = ()  # (operator, key, value)


# Some Logs actions are authorized on the group's ARN with ":*" appended, as DescribeLogGroups reports it.
_LOG_GROUP = (
    "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
)
_ALARM = ("arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}",)
_BUCKET = ("arn:{partition}:s3:::{name}",)
_TOPIC = ("arn:{partition}:sns:{region}:{account}:{name}",)
_FUNCTION = ("arn:{partition}:lambda:{region}:{account}:function:{name}",)
_ROLE = ("arn:{partition}:iam::{account}:role/{name}",)
_RULE = ("arn:{partition}:events:{region}:{account}:rule/{name}",)
_SINK = ("arn:{partition}:oam:{region}:{account}:sink/*",)

# Reading a bucket back, the provider asks for every bucket-level setting it models.
_BUCKET_READ = (
    "s3:GetBucket*",
    "s3:GetAccelerateConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
_LOG_GROUP_READ = ("logs:ListTagsForResource", "logs:ListTagsLogGroup")
_FUNCTION_READ = (
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetFunctionConfiguration",
    "lambda:GetPolicy",
    "lambda:GetRuntimeManagementConfig",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
)

ACCESS: dict[str, Access] = {
    "aws:athena/workgroup:Workgroup": Access(
        arns=("arn:{partition}:athena:{region}:{account}:workgroup/{name}",),
        deploy=(
            "athena:CreateWorkGroup",
            "athena:DeleteWorkGroup",
            "athena:UpdateWorkGroup",
            "athena:TagResource",
            "athena:UntagResource",
        ),
        read=("athena:GetWorkGroup", "athena:ListTagsForResource"),
    ),
    "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration": Access(
        # Chatbot is global: its ARNs name no Region.
        arns=("arn:{partition}:chatbot::{account}:chat-configuration/slack-channel/{name}",),
        deploy=("chatbot:DeleteSlackChannelConfiguration", "chatbot:UpdateSlackChannelConfiguration"),
        read=(),
        name="configurationName",
        any_deploy=("chatbot:CreateSlackChannelConfiguration", "chatbot:TagResource", "chatbot:UntagResource"),
        any_read=("chatbot:DescribeSlackChannelConfigurations", "chatbot:ListTagsForResource"),
        # The chat role is allowed nothing; Chatbot has no iam:PassedToService value to narrow passing it.
        passes_role=(("iamRoleArn", None),),
    ),
    "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration": Access(
        arns=("arn:{partition}:chatbot::{account}:chat-configuration/microsoft-teams-channel/{name}",),
        deploy=(
            "chatbot:DeleteMicrosoftTeamsChannelConfiguration",
            "chatbot:UpdateMicrosoftTeamsChannelConfiguration",
        ),
        read=(),
        name="configurationName",
        any_deploy=(
            "chatbot:CreateMicrosoftTeamsChannelConfiguration",
            "chatbot:TagResource",
            "chatbot:UntagResource",
        ),
        any_read=(
            "chatbot:GetMicrosoftTeamsChannelConfiguration",
            "chatbot:ListMicrosoftTeamsChannelConfigurations",
            "chatbot:ListTagsForResource",
        ),
        passes_role=(("iamRoleArn", None),),
    ),
    "aws:cloudtrail/trail:Trail": Access(
        arns=("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}",),
        deploy=(
            "cloudtrail:CreateTrail",
            "cloudtrail:DeleteTrail",
            "cloudtrail:UpdateTrail",
            "cloudtrail:StartLogging",
            "cloudtrail:StopLogging",
            "cloudtrail:PutEventSelectors",
            "cloudtrail:PutInsightSelectors",
            "cloudtrail:AddTags",
            "cloudtrail:RemoveTags",
        ),
        read=(
            "cloudtrail:GetTrail",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "cloudtrail:GetInsightSelectors",
            "cloudtrail:ListTags",
        ),
        any_read=("cloudtrail:DescribeTrails",),
        passes_role=(("cloudWatchLogsRoleArn", _CLOUDTRAIL),),
        # What CloudTrail asks of whoever creates an organization trail: its service-linked role and
        # trusted access in AWS Organizations.
        extras=(
            Extra(
                "isOrganizationTrail",
                True,
                (
                    "organizations:DescribeOrganization",
                    "organizations:ListAWSServiceAccessForOrganization",
                    "organizations:ListAccounts",
                ),
            ),
            Extra(
                "isOrganizationTrail",
                True,
                ("organizations:EnableAWSServiceAccess",),
                condition=(("StringEquals", "organizations:ServicePrincipal", _CLOUDTRAIL),),
            ),
            Extra(
                "isOrganizationTrail",
                True,
                ("iam:CreateServiceLinkedRole",),
                (_CLOUDTRAIL_LINKED_ROLE,),
                condition=(("StringEquals", "iam:AWSServiceName", _CLOUDTRAIL),),
            ),
            Extra("isOrganizationTrail", True, ("iam:GetRole",), (_CLOUDTRAIL_LINKED_ROLE,)),
        ),
    ),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": Access(
        arns=_ALARM,
        deploy=(
            "cloudwatch:PutCompositeAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        read=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        name="alarmName",
    ),
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule": Access(
        arns=("arn:{partition}:cloudwatch:{region}:{account}:insight-rule/{name}",),
        deploy=(
            "cloudwatch:PutInsightRule",
            "cloudwatch:DeleteInsightRules",
            "cloudwatch:EnableInsightRules",
            "cloudwatch:DisableInsightRules",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        read=("cloudwatch:ListTagsForResource",),
        name="ruleName",
        any_read=("cloudwatch:DescribeInsightRules",),
    ),
    "aws:cloudwatch/dashboard:Dashboard": Access(
        arns=("arn:{partition}:cloudwatch::{account}:dashboard/{name}",),
        deploy=("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"),
        read=("cloudwatch:GetDashboard",),
        name="dashboardName",
    ),
    "aws:cloudwatch/eventRule:EventRule": Access(
        arns=_RULE,
        deploy=(
            "events:PutRule",
            "events:DeleteRule",
            "events:EnableRule",
            "events:DisableRule",
            "events:TagResource",
            "events:UntagResource",
        ),
        read=("events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": Access(
        arns=_RULE,
        deploy=("events:PutTargets", "events:RemoveTargets"),
        read=("events:ListTargetsByRule",),
        owner="rule",
        passes_role=(("roleArn", "events.amazonaws.com"),),
    ),
    "aws:cloudwatch/logGroup:LogGroup": Access(
        arns=_LOG_GROUP,
        deploy=(
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:TagLogGroup",
            "logs:UntagLogGroup",
        ),
        read=_LOG_GROUP_READ,
        any_read=("logs:DescribeLogGroups",),
    ),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": Access(
        arns=_LOG_GROUP,
        deploy=("logs:PutMetricFilter", "logs:DeleteMetricFilter"),
        read=("logs:DescribeMetricFilters",),
        owner="logGroupName",
    ),
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": Access(
        arns=_LOG_GROUP,
        deploy=("logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter"),
        read=("logs:DescribeSubscriptionFilters",),
        owner="logGroup",
        passes_role=(("roleArn", "logs.amazonaws.com"),),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Access(
        arns=_ALARM,
        deploy=(
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        read=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    ),
    "aws:dynamodb/table:Table": Access(
        arns=("arn:{partition}:dynamodb:{region}:{account}:table/{name}",),
        deploy=(
            "dynamodb:CreateTable",
            "dynamodb:DeleteTable",
            "dynamodb:UpdateTable",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
        ),
        read=(
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
        ),
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": Access(
        arns=(
            "arn:{partition}:glue:{region}:{account}:catalog",
            "arn:{partition}:glue:{region}:{account}:database/{name}",
            # Deleting a database deletes its tables and functions.
            "arn:{partition}:glue:{region}:{account}:table/{name}/*",
            "arn:{partition}:glue:{region}:{account}:userDefinedFunction/{name}/*",
        ),
        deploy=(
            "glue:CreateDatabase",
            "glue:DeleteDatabase",
            "glue:UpdateDatabase",
            "glue:TagResource",
            "glue:UntagResource",
        ),
        read=("glue:GetDatabase", "glue:GetTags"),
    ),
    "aws:glue/catalogTable:CatalogTable": Access(
        arns=(
            "arn:{partition}:glue:{region}:{account}:catalog",
            "arn:{partition}:glue:{region}:{account}:database/{databaseName}",
            "arn:{partition}:glue:{region}:{account}:table/{databaseName}/{name}",
        ),
        deploy=("glue:CreateTable", "glue:DeleteTable", "glue:UpdateTable"),
        read=("glue:GetTable", "glue:GetPartitionIndexes"),
    ),
    "aws:iam/role:Role": Access(
        arns=_ROLE,
        deploy=(
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
        ),
        read=(
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:ListRoleTags",
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": Access(
        arns=_ROLE,
        deploy=("iam:PutRolePolicy", "iam:DeleteRolePolicy"),
        read=("iam:GetRolePolicy", "iam:ListRolePolicies"),
        owner="role",
    ),
    "aws:kms/key:Key": Access(
        # A key gets an id, not a name: its actions cover the keys of the account and Region.
        arns=("arn:{partition}:kms:{region}:{account}:key/*",),
        deploy=(
            "kms:PutKeyPolicy",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:UpdateKeyDescription",
            "kms:ScheduleKeyDeletion",
            "kms:CancelKeyDeletion",
            "kms:TagResource",
            "kms:UntagResource",
        ),
        read=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
        name=None,
        any_deploy=("kms:CreateKey",),
    ),
    "aws:lambda/function:Function": Access(
        arns=_FUNCTION,
        deploy=(
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:TagResource",
            "lambda:UntagResource",
        ),
        read=_FUNCTION_READ,
        passes_role=(("role", "lambda.amazonaws.com"),),
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": Access(
        arns=_FUNCTION,
        deploy=(
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
        ),
        read=("lambda:GetFunctionEventInvokeConfig",),
        owner="functionName",
    ),
    "aws:lambda/permission:Permission": Access(
        arns=_FUNCTION,
        deploy=("lambda:AddPermission", "lambda:RemovePermission"),
        read=("lambda:GetPolicy",),
        owner="function",
    ),
    "aws:oam/link:Link": Access(
        # The sink is the hub's, in another account; the link itself gets an id, not a name.
        arns=("arn:{partition}:oam:{region}:*:sink/*", "arn:{partition}:oam:{region}:{account}:link/*"),
        deploy=("oam:CreateLink", "oam:DeleteLink", "oam:UpdateLink", "oam:TagResource", "oam:UntagResource"),
        read=("oam:GetLink", "oam:ListTagsForResource"),
        name=None,
        # Sharing a telemetry type needs that service's own Link permission.
        any_deploy=("cloudwatch:Link", "logs:Link"),
    ),
    "aws:oam/sink:Sink": Access(
        arns=_SINK,
        deploy=("oam:DeleteSink", "oam:TagResource", "oam:UntagResource"),
        read=("oam:GetSink", "oam:ListTagsForResource"),
        any_deploy=("oam:CreateSink",),
    ),
    "aws:oam/sinkPolicy:SinkPolicy": Access(
        arns=_SINK,
        deploy=("oam:PutSinkPolicy",),
        read=("oam:GetSinkPolicy",),
        name=None,
    ),
    "aws:s3/bucket:Bucket": Access(
        arns=_BUCKET,
        deploy=("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging"),
        read=_BUCKET_READ,
        name="bucket",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Access(
        arns=_BUCKET, deploy=("s3:PutLifecycleConfiguration",), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Access(
        arns=_BUCKET, deploy=("s3:PutBucketOwnershipControls",), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Access(
        arns=_BUCKET, deploy=("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Access(
        arns=_BUCKET, deploy=("s3:PutBucketPublicAccessBlock",), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Access(
        arns=_BUCKET, deploy=("s3:PutEncryptionConfiguration",), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Access(
        arns=_BUCKET, deploy=("s3:PutBucketVersioning",), read=_BUCKET_READ, owner="bucket"
    ),
    "aws:sns/topic:Topic": Access(
        arns=_TOPIC,
        deploy=("sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"),
        read=("sns:GetTopicAttributes", "sns:ListTagsForResource"),
    ),
    "aws:sns/topicPolicy:TopicPolicy": Access(
        arns=_TOPIC, deploy=("sns:SetTopicAttributes",), read=("sns:GetTopicAttributes",), owner="arn"
    ),
    "aws:sns/topicSubscription:TopicSubscription": Access(
        arns=_TOPIC,
        deploy=("sns:Subscribe",),
        read=("sns:ListSubscriptionsByTopic",),
        owner="topic",
        # Subscriptions are authorized on "*" only.
        any_deploy=("sns:Unsubscribe", "sns:SetSubscriptionAttributes"),
        any_read=("sns:GetSubscriptionAttributes",),
    ),
    "aws:sqs/queue:Queue": Access(
        arns=("arn:{partition}:sqs:{region}:{account}:{name}",),
        deploy=("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
        read=("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
    ),
}

# Types that are no AWS API call: Pulumi's own references and providers.
NO_ACCESS = frozenset({"pulumi:pulumi:StackReference", "pulumi:providers:aws"})

# Provider functions the program calls (offline/engine.py records them): what each needs, on "*".
INVOKES: dict[str, tuple[str, ...]] = {
    # The provider asks who it is on every run; STS lets anyone ask, the statement only says so.
    "aws:index/getCallerIdentity:getCallerIdentity": ("sts:GetCallerIdentity",),
    "aws:index/getRegion:getRegion": (),
    "aws:index/getPartition:getPartition": (),
    "aws:organizations/getOrganization:getOrganization": ("organizations:DescribeOrganization",),
}
