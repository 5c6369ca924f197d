"""Assemble the local stack: template -> DynamoDB Local table, moto bucket, functions, API server,
stream pollers and the TTL sweeper; and take it all down again in reverse order."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from local_runtime.dynamodb_local import LOCAL_REGION, REPO_ROOT, DynamoDBLocal
from local_runtime.functions import (
    LocalFunction,
    apply_environment,
    environment_union,
    function_arn,
    function_name,
    load_functions,
    local_overrides,
    place_code,
)
from local_runtime.intrinsics import Resolver
from local_runtime.s3 import LocalS3
from local_runtime.stack import StackModel, load_stack
from local_runtime.streams import Checkpoints, MappingSettings, StreamPoller
from local_runtime.synth import find_template, synthesize
from local_runtime.tables import LocalTable, ensure_table, table_name
from local_runtime.ttl import DEFAULT_SWEEP_INTERVAL_SECONDS, TtlSweeper
from local_runtime.ttl_deletions import TtlDeletions

log = logging.getLogger(__name__)


class PortInUseError(RuntimeError):
    pass


DEFAULT_DATA_DIR = REPO_ROOT / ".local"
DEFAULT_ASSEMBLY_DIR = REPO_ROOT / "cdk.out"


@dataclass(frozen=True)
class Options:
    port: int = 3000
    host: str = "127.0.0.1"
    data_dir: Path | None = DEFAULT_DATA_DIR  # None: everything in memory
    assembly_dir: Path = DEFAULT_ASSEMBLY_DIR
    synth: bool = True
    template: Path | None = None  # serve this template instead of the synthesized one
    stack: str | None = None
    ttl_sweep_interval: float = DEFAULT_SWEEP_INTERVAL_SECONDS
    stream_poll_interval: float = 0.25
    auth: str = "none"  # "jwt": synthesize with auth=jwt and check locally signed tokens (jwt_auth.py)


class LocalRuntime:
    def __init__(self, options: Options) -> None:
        self.options = options
        self._exit = ExitStack()
        self.url = ""
        self.model: StackModel | None = None
        self.dynamodb: DynamoDBLocal | None = None
        self.s3: LocalS3 | None = None
        self.tables: dict[str, LocalTable] = {}
        self.buckets: dict[str, str] = {}
        self.routes: list[tuple[str, str]] = []
        self._resolver: Resolver | None = None

    def start(self) -> LocalRuntime:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._exit.close()

    def _start(self) -> None:
        _check_port_free(self.options.host, self.options.port)  # before the slow part, not after it
        self.model = self._load_model()
        # Values that need only the template (names, settings); physical ones come with the stand-ins.
        static = Resolver(stack_name=self.model.name, region=LOCAL_REGION, template=self.model.template)
        client = self._start_storage(static)
        functions = self._load_functions(static)
        deletions = TtlDeletions()
        self._start_stream_consumers(functions, deletions)
        sweeper = TtlSweeper(client, self.tables.values(), deletions, self.options.ttl_sweep_interval).start()
        self._exit.callback(sweeper.stop)
        self._start_server(functions)

    def _start_storage(self, static: Resolver):
        """DynamoDB Local with the template's tables, moto with its buckets; the DynamoDB client."""
        model, data_dir = self.model, self.options.data_dir
        log.info("starting DynamoDB Local (%s)", data_dir / "dynamodb" if data_dir else "in memory")
        self.dynamodb = DynamoDBLocal(data_dir=data_dir / "dynamodb" if data_dir else None, die_with_parent=True)
        self.dynamodb.start()
        self._exit.callback(self.dynamodb.stop)
        client = self.dynamodb.client()
        for logical_id, spec in model.tables.items():
            properties = static.resolve(spec.properties)
            self.tables[logical_id] = ensure_table(client, spec, properties, table_name(spec, properties, model.name))
        self.buckets = {
            logical_id: bucket_name(static.resolve(spec.properties).get("BucketName"), model.name, logical_id)
            for logical_id, spec in model.buckets.items()
        }
        self.s3 = LocalS3(list(self.buckets.values()), persist_dir=data_dir / "s3" if data_dir else None).start()
        self._exit.callback(self.s3.stop)
        return client

    def _load_functions(self, static: Resolver) -> dict[str, LocalFunction]:
        model = self.model
        names = {lid: function_name(spec, static, model.name) for lid, spec in model.functions.items()}
        self._resolver = self._physical_resolver(names)
        placed = place_code(model.functions)
        environment = environment_union(model.functions, self._resolver)
        environment.update(local_overrides(self.dynamodb.endpoint_url, self.s3.endpoint_url))
        apply_environment(environment)
        return load_functions(model.functions, names, placed)

    def _start_stream_consumers(self, functions: dict[str, LocalFunction], deletions: TtlDeletions) -> None:
        data_dir = self.options.data_dir
        for mapping in self.model.stream_mappings:
            table = self.tables[mapping.table_id]
            if table.stream_arn is None:
                raise RuntimeError(f"{mapping.logical_id} reads the stream of {table.name}, which has none")
            poller = StreamPoller(
                mapping_id=mapping.logical_id,
                streams=self.dynamodb.streams_client(),
                stream_arn=table.stream_arn,
                table_name=table.name,
                key_attributes=table.key_attributes,
                function=functions[mapping.function_id],
                settings=MappingSettings.from_properties(self._resolver.resolve(mapping.properties)),
                ttl_deletions=deletions,
                region=LOCAL_REGION,
                checkpoints=Checkpoints(
                    data_dir / "stream-checkpoints.json" if data_dir else None, mapping.logical_id, table.stream_arn
                ),
                # A table created just now has nothing old to skip; read it from the start.
                initial_position="TRIM_HORIZON" if table.created else None,
                poll_interval=self.options.stream_poll_interval,
            ).start()
            self._exit.callback(poller.stop)

    def _start_server(self, functions: dict[str, LocalFunction]) -> None:
        # Imported only now: the server uses the domain layer's names, on sys.path since place_code.
        from local_runtime.http_server import ApiApplication, HttpServer
        from local_runtime.router import Router

        router = Router(self.model.api.methods)
        self.routes = router.routes()
        app = ApiApplication(router, functions, self.model.api, api_id=_api_id(self.model.name))
        server = HttpServer(app, self.options.host, self.options.port).start()
        self._exit.callback(server.stop)
        self.url = server.url

    def _load_model(self) -> StackModel:
        options = self.options
        if options.template is not None:
            return load_stack(options.template, options.stack)
        if options.synth:
            log.info("synthesizing the CDK app into %s", options.assembly_dir)
            synthesize(options.assembly_dir, context={"auth": options.auth} if options.auth == "jwt" else None)
        name, template_path = find_template(options.assembly_dir, options.stack)
        return load_stack(template_path, name)

    def _physical_resolver(self, function_names: dict[str, str]) -> Resolver:
        model = self.model
        assert model is not None and self.dynamodb is not None
        refs: dict[str, object] = {**function_names, **self.buckets}
        attributes: dict[tuple[str, str], object] = {}
        for logical_id, table in self.tables.items():
            refs[logical_id] = table.name
            attributes[(logical_id, "Arn")] = table.arn
            if table.stream_arn:
                attributes[(logical_id, "StreamArn")] = table.stream_arn
        for logical_id, bucket in self.buckets.items():
            attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{bucket}"
            attributes[(logical_id, "DomainName")] = f"{bucket}.s3.amazonaws.com"
            attributes[(logical_id, "RegionalDomainName")] = f"{bucket}.s3.{LOCAL_REGION}.amazonaws.com"
        for logical_id, name in function_names.items():
            attributes[(logical_id, "Arn")] = function_arn(name)
        return Resolver(
            stack_name=model.name, region=LOCAL_REGION, template=model.template, refs=refs, attributes=attributes
        )


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP server binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(f"{host}:{port} is not free ({error.strerror}); pick another with PORT=...") from error


def bucket_name(declared: object, stack_name: str, logical_id: str) -> str:
    """The template's BucketName, or a valid, stable one (CloudFormation would add a random suffix)."""
    if isinstance(declared, str):
        return declared
    name = re.sub(r"[^a-z0-9-]+", "-", f"{stack_name}-{logical_id}".lower()).strip("-")
    return name[:63].rstrip("-")


def _api_id(stack_name: str) -> str:
    return hashlib.blake2b(stack_name.encode(), digest_size=5).hexdigest()
