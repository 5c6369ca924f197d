"""SessionStoreStack: the constructs wired together, and the stack outputs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk.config import StackConfig
from cdk.session_store_stack.api import RestApi
from cdk.session_store_stack.bucket import PayloadBucket
from cdk.session_store_stack.cascade import StreamCascade
from cdk.session_store_stack.erasure import ErasureWorker
from cdk.session_store_stack.functions import Functions
from cdk.session_store_stack.monitoring import Monitoring
from cdk.session_store_stack.table import SessionTable
from cdk.session_store_stack.waf import RegionalWebAcl


class SessionStoreStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StackConfig, **kwargs) -> None:
        super().__init__(scope, id, description="Session Store: a serverless session store for AI agents", **kwargs)
        self.config = config
        key = kms.Key.from_key_arn(self, "EncryptionKey", config.kms_key_arn) if config.kms_key_arn else None

        self.table = SessionTable(
            self, "SessionTable", table_name=config.session_table, prod=config.is_prod, encryption_key=key
        ).table
        self.bucket = PayloadBucket(self, "PayloadBucket", prod=config.is_prod, encryption_key=key).bucket
        self.functions = Functions(
            self, "Functions", config=config, table=self.table, bucket=self.bucket, encryption_key=key
        )
        self.cascade = StreamCascade(self, "StreamCascade", table=self.table, function=self.functions.cascade)
        self.api = RestApi(self, "RestApi", config=config, functions=self.functions.api_functions)
        if config.waf:
            RegionalWebAcl(self, "WebAcl", stage=self.api.stage, rate_limit=config.waf_rate_limit)
        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            api=self.api.api,
            table=self.table,
            api_functions=self.functions.api_functions,
            cascade=self.functions.cascade,
            cascade_failures=self.cascade.failures,
        )
        ErasureWorker(
            self, "ErasureWorker", table=self.table, function=self.functions.erasure_worker, topic=monitoring.topic
        )

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API (with the stage)")
        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "PayloadBucketName", value=self.bucket.bucket_name)
        CfnOutput(
            self, "AlarmTopicArn", value=monitoring.topic.topic_arn, description="Subscribe to receive the alarms"
        )
        if self.api.user_pool is not None:
            CfnOutput(
                self,
                "UserPoolId",
                value=self.api.user_pool.user_pool_id,
                description="auth=jwt: the Cognito user pool whose ID tokens the API accepts",
            )
        if self.api.user_pool_client is not None:
            CfnOutput(
                self,
                "UserPoolClientId",
                value=self.api.user_pool_client.user_pool_client_id,
                description="auth=jwt: the app client to sign users in with (no secret)",
            )
