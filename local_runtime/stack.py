"""Read the synthesized CloudFormation template into what the local runtime needs.

Everything the runtime serves comes from here: the API's resources and methods (the routes), the
Lambda functions behind them (handler, code and layer assets, environment, timeout), the tables,
the buckets and the stream event source mappings. There is deliberately no second route list:
if a method is not in the template, it is not served, exactly as on API Gateway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_runtime.intrinsics import ref_target, referenced_ids

REST_API = "AWS::ApiGateway::RestApi"
API_RESOURCE = "AWS::ApiGateway::Resource"
API_METHOD = "AWS::ApiGateway::Method"
API_STAGE = "AWS::ApiGateway::Stage"
API_DEPLOYMENT = "AWS::ApiGateway::Deployment"
GATEWAY_RESPONSE = "AWS::ApiGateway::GatewayResponse"
FUNCTION = "AWS::Lambda::Function"
LAYER = "AWS::Lambda::LayerVersion"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
TABLE_TYPES = ("AWS::DynamoDB::Table",)
BUCKET = "AWS::S3::Bucket"

ASSET_PATH_METADATA = "aws:asset:path"
# Lambda's defaults when the template leaves them out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_STAGE = "local"


class TemplateError(ValueError):
    """The template does not describe something the runtime can serve."""


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str  # "handlers.put_session.lambda_handler"
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, Any]  # unresolved: values may be intrinsics
    timeout_seconds: int
    memory_mb: int
    function_name: Any  # the FunctionName property (maybe an intrinsic), None if CDK left it out

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class ApiMethod:
    http_method: str  # upper case, or "ANY"
    resource_path: str  # API Gateway form: /sessions/{session_id}
    function_id: str  # the Lambda function of its AWS_PROXY integration
    authorization_type: str = "NONE"  # NONE, AWS_IAM, COGNITO_USER_POOLS, CUSTOM


@dataclass(frozen=True)
class GatewayResponseSpec:
    """A customized answer API Gateway gives by itself (no route, too large, function failed)."""

    response_type: str  # RESOURCE_NOT_FOUND, REQUEST_TOO_LARGE, DEFAULT_4XX, DEFAULT_5XX, ...
    status_code: int | None
    parameters: dict[str, str]  # gatewayresponse.header.<Name> -> 'literal' or context.<variable>
    templates: dict[str, str]  # content type -> VTL template


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage: str
    methods: tuple[ApiMethod, ...]
    gateway_responses: dict[str, GatewayResponseSpec] = field(default_factory=dict)
    minimum_compression_size: int | None = None  # bytes; None: responses are never compressed


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    resource_type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class StreamMapping:
    logical_id: str
    function_id: str
    table_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class StackModel:
    name: str
    template: dict[str, Any]
    assembly_dir: Path
    api: ApiSpec
    functions: dict[str, FunctionSpec]  # only the functions the runtime invokes
    tables: dict[str, TableSpec]
    buckets: dict[str, BucketSpec]
    stream_mappings: tuple[StreamMapping, ...] = field(default_factory=tuple)


def load_stack(template_path: Path, stack_name: str | None = None) -> StackModel:
    template = json.loads(template_path.read_text())
    name = stack_name or template_path.name.removesuffix(".json").removesuffix(".template")
    return build_stack(template, template_path.parent, name)


def build_stack(template: dict[str, Any], assembly_dir: Path, stack_name: str) -> StackModel:
    resources: dict[str, Any] = template.get("Resources", {})
    api = _api(resources)
    mappings = _stream_mappings(resources)
    served = {m.function_id for m in api.methods if m.function_id} | {m.function_id for m in mappings}
    functions = {logical_id: _function(resources, logical_id, assembly_dir) for logical_id in sorted(served)}
    return StackModel(
        name=stack_name,
        template=template,
        assembly_dir=assembly_dir,
        api=api,
        functions=functions,
        tables={
            lid: TableSpec(lid, r["Type"], r.get("Properties", {}))
            for lid, r in resources.items()
            if r.get("Type") in TABLE_TYPES
        },
        buckets={lid: BucketSpec(lid, r.get("Properties", {})) for lid, r in _of_type(resources, BUCKET).items()},
        stream_mappings=mappings,
    )


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in resources.items() if r.get("Type") == resource_type}


# --- API Gateway -------------------------------------------------------------------------------
def _api(resources: dict[str, Any]) -> ApiSpec:
    apis = _of_type(resources, REST_API)
    if len(apis) != 1:
        raise TemplateError(f"expected exactly one {REST_API} in the template, found {sorted(apis)}")
    api_id = next(iter(apis))
    paths = _resource_paths(resources, api_id)
    methods = []
    for logical_id, method in sorted(_of_type(resources, API_METHOD).items()):
        properties = method.get("Properties", {})
        resource_ref = properties.get("ResourceId")
        path = paths.get(ref_target(resource_ref) or "")
        if path is None:
            raise TemplateError(f"method {logical_id}: unknown ResourceId {resource_ref!r}")
        methods.append(_method(resources, logical_id, properties, path))
    compression = apis[api_id].get("Properties", {}).get("MinimumCompressionSize")
    return ApiSpec(
        logical_id=api_id,
        stage=_stage(resources, api_id),
        methods=tuple(methods),
        gateway_responses=_gateway_responses(resources, api_id),
        minimum_compression_size=None if compression is None else int(compression),
    )


def _gateway_responses(resources: dict[str, Any], api_id: str) -> dict[str, GatewayResponseSpec]:
    found = {}
    for resource in _of_type(resources, GATEWAY_RESPONSE).values():
        properties = resource.get("Properties", {})
        if ref_target(properties.get("RestApiId")) != api_id:
            continue
        status = properties.get("StatusCode")
        found[properties["ResponseType"]] = GatewayResponseSpec(
            response_type=properties["ResponseType"],
            status_code=None if status is None else int(status),
            parameters={k: v for k, v in (properties.get("ResponseParameters") or {}).items() if isinstance(v, str)},
            templates=dict(properties.get("ResponseTemplates") or {}),
        )
    return found


def _resource_paths(resources: dict[str, Any], api_id: str) -> dict[str, str]:
    """Each AWS::ApiGateway::Resource's full path, following the ParentId chain to the root, and
    "/" for the API's own id (a method on the root names it: Fn::GetAtt [api, RootResourceId])."""
    nodes = _of_type(resources, API_RESOURCE)
    paths: dict[str, str] = {api_id: "/"}

    def path_of(logical_id: str, seen: tuple[str, ...] = ()) -> str:
        if logical_id in paths:
            return paths[logical_id]
        if logical_id in seen:
            raise TemplateError(f"API resources form a cycle: {' -> '.join(seen)}")
        properties = nodes[logical_id].get("Properties", {})
        parent = ref_target(properties.get("ParentId"))
        if parent == api_id:
            prefix = ""
        elif parent in nodes:
            prefix = path_of(parent, (*seen, logical_id))
        else:
            raise TemplateError(f"API resource {logical_id} has an unknown ParentId")
        paths[logical_id] = f"{prefix}/{properties['PathPart']}"
        return paths[logical_id]

    for logical_id in nodes:
        path_of(logical_id)
    return paths


def _method(resources: dict[str, Any], logical_id: str, properties: dict[str, Any], path: str) -> ApiMethod:
    http_method = str(properties.get("HttpMethod", "")).upper()
    integration = properties.get("Integration", {})
    kind = integration.get("Type")
    if kind == "AWS_PROXY":
        function_id = _function_behind(resources, integration.get("Uri"))
        if function_id is None:
            raise TemplateError(f"method {logical_id}: the integration URI names no Lambda function")
        return ApiMethod(
            http_method, path, function_id, authorization_type=str(properties.get("AuthorizationType") or "NONE")
        )
    # The stack's methods are all Lambda proxies; anything else would be served wrongly, so refuse it.
    raise TemplateError(f"method {logical_id}: integration type {kind!r} is not supported locally")


def _function_behind(resources: dict[str, Any], value: Any) -> str | None:
    """The Lambda function a value points at (the stack refers to functions directly, never
    through an alias or a version)."""
    return next((t for t in referenced_ids(value) if resources.get(t, {}).get("Type") == FUNCTION), None)


def _stage(resources: dict[str, Any], api_id: str) -> str:
    for kind in (API_STAGE, API_DEPLOYMENT):
        for resource in _of_type(resources, kind).values():
            properties = resource.get("Properties", {})
            if ref_target(properties.get("RestApiId")) == api_id and isinstance(properties.get("StageName"), str):
                return properties["StageName"]
    return DEFAULT_STAGE


# --- Lambda --------------------------------------------------------------------------------------
def _function(resources: dict[str, Any], logical_id: str, assembly_dir: Path) -> FunctionSpec:
    resource = resources[logical_id]
    properties = resource.get("Properties", {})
    handler = properties.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"function {logical_id}: Handler {handler!r} is not module.attribute")
    layer_dirs = []
    for layer in properties.get("Layers", []):
        layer_id = ref_target(layer)
        if layer_id is None or resources.get(layer_id, {}).get("Type") != LAYER:
            raise TemplateError(f"function {logical_id}: layer {layer!r} is not a layer of this stack")
        layer_dirs.append(_asset_dir(resources[layer_id], layer_id, assembly_dir))
    return FunctionSpec(
        logical_id=logical_id,
        handler=handler,
        code_dir=_asset_dir(resource, logical_id, assembly_dir),
        layer_dirs=tuple(layer_dirs),
        environment=dict((properties.get("Environment") or {}).get("Variables") or {}),
        timeout_seconds=int(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
        function_name=properties.get("FunctionName"),
    )


def _asset_dir(resource: dict[str, Any], logical_id: str, assembly_dir: Path) -> Path:
    asset = (resource.get("Metadata") or {}).get(ASSET_PATH_METADATA)
    if not isinstance(asset, str):
        raise TemplateError(
            f"{logical_id} has no '{ASSET_PATH_METADATA}' metadata: only asset code can run locally "
            "(synthesize with asset metadata enabled, the CDK default)"
        )
    path = (assembly_dir / asset).resolve()
    if not path.exists():
        raise TemplateError(f"{logical_id}: asset {path} is missing; synthesize again")
    return path


def _stream_mappings(resources: dict[str, Any]) -> tuple[StreamMapping, ...]:
    mappings = []
    for logical_id, resource in sorted(_of_type(resources, EVENT_SOURCE_MAPPING).items()):
        properties = resource.get("Properties", {})
        source = ref_target(properties.get("EventSourceArn"))
        if resources.get(source or "", {}).get("Type") not in TABLE_TYPES:
            continue  # only DynamoDB streams have a local twin
        function_id = _function_behind(resources, properties.get("FunctionName"))
        if function_id is None:
            raise TemplateError(f"event source mapping {logical_id} names no function of this stack")
        mappings.append(StreamMapping(logical_id, function_id, source, properties))
    return tuple(mappings)
