"""PayloadBucket: the S3 bucket for run payloads too large for a DynamoDB item."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.session_store_stack.nag import acknowledge
from session_store import names

# Multipart uploads abandoned by a function that timed out are invisible but billed.
INCOMPLETE_UPLOAD_DAYS = 1


class PayloadBucket(Construct):
    """Private, encrypted, TLS-only bucket. In dev it is emptied and deleted with the stack.

    Objects have no age-based expiry on purpose: a session's retention window slides with every
    write (and a session may be pinned to never expire), so an object's age says nothing about
    whether its session is still alive. Objects are deleted with their run or session, by the
    handlers and by the stream cascade (whose failures land in a queue and raise an alarm).
    """

    def __init__(self, scope: Construct, id: str, *, prod: bool, encryption_key: kms.IKey | None) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            # One data key per bucket instead of a KMS request per object.
            bucket_key_enabled=encryption_key is not None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteUploads",
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                ),
                # Staged exports are fetched through a 15-minute presigned URL: a day is plenty.
                s3.LifecycleRule(id="ExpireExports", prefix=names.EXPORT_OBJECT_PREFIX, expiration=Duration.days(1)),
            ],
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
            auto_delete_objects=not prod,
        )
        acknowledge(
            self.bucket,
            (
                "AwsSolutions-S1",
                "Only this stack's functions read or write the bucket, through their own IAM roles; each "
                "access is in that function's logs and X-Ray trace, so server access logs (and the second "
                "bucket they need) would add no audit information.",
            ),
        )
