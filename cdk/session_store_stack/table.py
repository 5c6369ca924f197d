"""SessionTable: the single DynamoDB table, built from the domain package's table design."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from session_store import names
from session_store import table as design

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class SessionTable(Construct):
    """On-demand table with PITR, TTL on `expires_at`, a NEW_AND_OLD_IMAGES stream (the cascade
    reads it) and every GSI of `session_store.table.GLOBAL_INDEXES`.

    In prod the table has deletion protection and survives `cdk destroy` (RETAIN); in dev it is
    deleted with the stack. Without an explicit `table_name` CloudFormation names it from the
    stack, so a deploy never fails on a table left by another stack (or by Agno's own DynamoDB
    adapter, whose default is `agno_sessions`); docs/deploy.md shows how to adopt a retained one.
    Encryption uses the customer-managed key when one is given, else the AWS-owned key (no KMS charge).
    """

    def __init__(
        self, scope: Construct, id: str, *, table_name: str | None, prod: bool, encryption_key: kms.IKey | None
    ) -> None:
        super().__init__(scope, id)
        attribute_types = design.key_attributes()

        def attribute(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[attribute_types[name]])

        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=attribute(names.PARTITION_KEY),
            sort_key=attribute(names.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=names.TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            deletion_protection=prod,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED if encryption_key else dynamodb.TableEncryption.DEFAULT
            ),
            encryption_key=encryption_key,
        )
        for index in design.GLOBAL_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=attribute(index.sort_key) if index.sort_key is not None else None,
                # An index projecting nothing beyond its keys is KEYS_ONLY (see session_store/table.py).
                projection_type=(
                    dynamodb.ProjectionType.INCLUDE if index.projected else dynamodb.ProjectionType.KEYS_ONLY
                ),
                non_key_attributes=list(index.projected) or None,
            )
