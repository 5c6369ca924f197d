"""RestApi: the API Gateway REST API, built from `routes.ROUTES` with Lambda proxy integrations.

A route added to routes.ROUTES becomes a resource and method here with no other change.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from aws_cdk import Fn, RemovalPolicy, Size, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.config import StackConfig
from cdk.session_store_stack.nag import acknowledge
from session_store import errors, names, routes

# Compressing a response smaller than this costs more than it saves.
MIN_COMPRESSION_SIZE = Size.bytes(1024)

# Errors API Gateway answers itself, with their statuses, rewritten as RFC 9457 problem details
# carrying X-Request-Id like the functions' own errors. The defaults catch any other type.
GATEWAY_ERRORS: dict[str, int | None] = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
    # DEFAULT_4XX has no status of its own: API Gateway's passes through. Above all a request whose proxy
    # event exceeds Lambda's 6 MB invocation limit (a body of about 5.9-10 MB passes the gateway's
    # own 10 MB check): the invoke fails with 413 and API Gateway answers that 413 through
    # DEFAULT_4XX; a status set here would turn it into a 400.
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": 500,
}

RETRY_AFTER_SECONDS = 1


def problem_template(status: int) -> str:
    """A gateway response body: plain $context substitution ($...messageString is quoted)."""
    fields = {
        "type": f"{names.PROBLEM_TYPE_BASE}gateway-$context.error.responseType",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    return json.dumps(fields)[:-1] + ', "detail": $context.error.messageString}'


def default_4xx_template() -> str:
    """DEFAULT_4XX keeps API Gateway's status; the one 4xx that reaches it in practice is the Lambda
    invoke's 413, told apart by its message (one #if, the only VTL the templates use)."""
    too_large = json.dumps(
        {
            "type": f"{names.PROBLEM_TYPE_BASE}{errors.PayloadTooLarge.slug}",
            "title": errors.PayloadTooLarge.title,
            "status": errors.PayloadTooLarge.status,
            "detail": "the request is over Lambda's 6 MB invocation limit (the body, escaped, with the "
            "request's headers and parameters)",
        }
    )
    return (
        f'#if($context.error.message == "{names.GATEWAY_LAMBDA_TOO_LARGE_MESSAGE}"){too_large}'
        f"#{{else}}{problem_template(HTTPStatus.BAD_REQUEST)}#end"
    )


class RestApi(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: StackConfig, functions: dict[str, lambda_.IFunction]
    ) -> None:
        super().__init__(scope, id)
        prod = config.is_prod
        self.user_pool: cognito.IUserPool | None = None
        self.user_pool_client: cognito.UserPoolClient | None = None
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=Stack.of(self).stack_name,  # also the ApiName dimension of its metrics
            description="Session Store: sessions and runs of AI agents",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            min_compression_size=MIN_COMPRESSION_SIZE,
            binary_media_types=[],
            # Access logs need API Gateway's account-wide CloudWatch role. It is kept on stack
            # deletion because other APIs in the account may log through it.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
                tracing_enabled=True,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                # Errors only, and never bodies: sessions hold users' conversations.
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self.stage = self.api.deployment_stage
        # API Gateway would create the execution log group itself, keeping its logs forever;
        # created here first, it gets the same retention as every other log group.
        execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=Fn.join("", ["API-Gateway-Execution-Logs_", self.api.rest_api_id, "/", config.stage]),
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        self.stage.node.add_dependency(execution_logs)
        # The stack has its own ApiUrl output; RestApi's automatic one would repeat it.
        self.api.node.try_remove_child("Endpoint")
        acknowledge(
            self.api.node.find_child("CloudWatchRole"),
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-wide role API Gateway logs through; AWS's managed policy is the documented "
                "one for it and only allows writing to API Gateway's own log groups.",
            ),
        )
        self._method_options = self._authorization(config)
        # Path parameters are declared required, so API Gateway rejects a request missing one.
        self._validator = self.api.add_request_validator(
            "PathParameters", validate_request_parameters=True, validate_request_body=False
        )
        acknowledge(
            self.api.node.default_child,
            (
                "AwsSolutions-APIG2",
                "Path parameters are validated by API Gateway; bodies by the functions' pydantic models, "
                "which name every offending field in a problem response. An API Gateway model would "
                "duplicate that schema and answer in a different error format.",
            ),
        )
        integrations = {
            function: apigateway.LambdaIntegration(fn, proxy=True, allow_test_invoke=False)
            for function, fn in functions.items()
        }
        self.methods = [self._add_route(route, integrations[route.function]) for route in routes.ROUTES]
        for response_type, status in GATEWAY_ERRORS.items():
            self._add_problem_response(response_type, status)
        if not config.waf:
            acknowledge(
                self.stage,
                (
                    "AwsSolutions-APIG3",
                    "AWS WAF is optional (context waf=true): every method already requires an "
                    "authorized caller and the stage is throttled; see docs/deploy.md.",
                ),
            )

    @property
    def url(self) -> str:
        return self.api.url

    def _authorization(self, config: StackConfig) -> apigateway.MethodOptions:
        if config.auth == "iam":
            acknowledge(
                self.api,
                (
                    "AwsSolutions-COG4",
                    "Every method uses IAM (SigV4) authorization, the service's default; a Cognito "
                    "authorizer is the auth=jwt option.",
                ),
            )
            return apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM)
        if config.auth == "jwt":
            if config.jwt_user_pool_arn:
                pool = cognito.UserPool.from_user_pool_arn(self, "UserPool", config.jwt_user_pool_arn)
            else:
                pool = self._user_pool(config.is_prod)
                # A public client (no secret: agents run where a secret could not be kept) that signs
                # users in with SRP or a refresh token; its ID tokens carry the `sub` the functions
                # scope every request to.
                self.user_pool_client = pool.add_client(
                    "AppClient",
                    generate_secret=False,
                    auth_flows=cognito.AuthFlow(user_srp=True),
                    prevent_user_existence_errors=True,
                )
            self.user_pool = pool
            authorizer = apigateway.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[pool])
            return apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType.COGNITO, authorizer=authorizer
            )
        # auth=none: the config only allows it with env=dev.
        reason = "auth=none is a dev-only setting (refused for env=prod) for trying the API without credentials."
        acknowledge(self.api, ("AwsSolutions-APIG4", reason), ("AwsSolutions-COG4", reason))
        return apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.NONE)

    def _user_pool(self, prod: bool) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # Users are the prod deployment's data; a dev stack takes its pool with it.
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
            deletion_protection=prod,
        )
        acknowledge(
            pool,
            (
                "AwsSolutions-COG8",
                "The Plus plan (threat protection) is billed per monthly active user; an organisation "
                "that wants it brings its own pool with jwt_user_pool_arn.",
            ),
        )
        return pool

    def _add_route(self, route: routes.Route, integration: apigateway.Integration) -> apigateway.Method:
        resource = self.api.root.resource_for_path(route.path)
        parameters = {f"method.request.path.{name}": True for name in route.path_parameters}
        options = self._method_options
        return resource.add_method(
            route.method,
            integration,
            authorization_type=options.authorization_type,
            authorizer=options.authorizer,
            request_parameters=parameters or None,
            request_validator=self._validator if parameters else None,
        )

    def _add_problem_response(self, response_type: str, status: int | None) -> None:
        headers = {
            "Content-Type": f"'{names.PROBLEM_CONTENT_TYPE}'",
            names.REQUEST_ID_HEADER: "context.requestId",
        }
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers["Retry-After"] = f"'{RETRY_AFTER_SECONDS}'"
        template = default_4xx_template() if status is None else problem_template(status)
        self.api.add_gateway_response(
            response_type,
            type=apigateway.ResponseType.of(response_type),
            status_code=None if status is None else str(status),
            response_headers=headers,
            templates={"application/json": template},
        )
