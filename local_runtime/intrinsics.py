"""Resolve CloudFormation intrinsic functions to the values they take on this machine.

The local runtime reads the synthesized template, so the environment variables, the integration
URIs and the event source mappings it sees are full of `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`
and friends. CloudFormation would resolve them at deploy time; here `Resolver` does it with the
physical values of the local stand-ins (the DynamoDB Local table, the moto bucket) and fixed,
deterministic values for everything else (account, stack id, resources that have no local twin),
so that the same template always yields the same environment.

Only the intrinsics the stack's templates emit are resolved (Ref, GetAtt, Join, Sub, Select,
Split; checked by synthesizing the dev, prod and lean/jwt contexts); any other is refused, so a
template that starts using one fails at start-up instead of being served wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_PARTITION = "aws"
LOCAL_URL_SUFFIX = "amazonaws.com"
# A fixed stack id, so values derived from it (CDK often takes `Fn::Select` of its parts to make
# unique names) are the same on every start.
LOCAL_STACK_UUID = "00000000-0000-4000-8000-000000000000"

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_SUB_LITERAL = re.compile(r"\$\{!([^}]*)\}")


class UnresolvableError(ValueError):
    """An intrinsic the resolver cannot evaluate (an unknown function or a malformed argument)."""


def ref_target(value: Any) -> str | None:
    """The logical id that `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` points at, else None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value and isinstance(value["Ref"], str):
        return value["Ref"]
    if "Fn::GetAtt" in value:
        return _getatt_parts(value["Fn::GetAtt"])[0]
    return None


def referenced_ids(value: Any) -> list[str]:
    """Every logical id that a (possibly nested) value references with Ref, GetAtt or Sub."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            target = ref_target(node)
            if target is not None:
                found.append(target)
                return
            if "Fn::Sub" in node and len(node) == 1:
                template = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
                found.extend(name.split(".")[0] for name in _SUB_VARIABLE.findall(template))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return found


def _getatt_parts(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    if isinstance(argument, list) and len(argument) == 2 and all(isinstance(a, str) for a in argument):
        return argument[0], argument[1]
    raise UnresolvableError(f"malformed Fn::GetAtt argument: {argument!r}")


class Resolver:
    """Evaluates intrinsics against known physical values.

    `refs` maps a logical id to what `Ref` returns; `attributes` maps (logical id, attribute) to
    what `Fn::GetAtt` returns. A reference to anything else resolves to a deterministic
    placeholder: the runtime has no local twin for such a resource, and a stable value is more
    useful than a failure (it is what the function would read from its environment; it just
    cannot call the resource).
    """

    def __init__(
        self,
        *,
        stack_name: str,
        region: str,
        template: Mapping[str, Any],
        refs: Mapping[str, Any] | None = None,
        attributes: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        self.stack_name = stack_name
        self.region = region
        self.template = template
        self.refs = dict(refs or {})
        self.attributes = dict(attributes or {})
        self._pseudo = {
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Region": region,
            "AWS::Partition": LOCAL_PARTITION,
            "AWS::URLSuffix": LOCAL_URL_SUFFIX,
            "AWS::StackName": stack_name,
            "AWS::StackId": (
                f"arn:{LOCAL_PARTITION}:cloudformation:{region}:{LOCAL_ACCOUNT_ID}:"
                f"stack/{stack_name}/{LOCAL_STACK_UUID}"
            ),
            "AWS::NoValue": None,
            "AWS::NotificationARNs": [],
        }

    # --- entry point -----------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            handler = self._functions().get(name)
            if handler is not None:
                return handler(argument)
            if name.startswith("Fn::"):
                raise UnresolvableError(f"unsupported intrinsic function {name}")
        resolved = {key: self.resolve(v) for key, v in value.items()}
        return {key: v for key, v in resolved.items() if v is not None}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._getatt,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
        }

    # --- references ------------------------------------------------------------------------------
    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise UnresolvableError(f"malformed Ref: {name!r}")
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self.refs:
            return self.refs[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            return parameter.get("Default")
        return _placeholder(name, None)

    def _getatt(self, argument: Any) -> Any:
        logical_id, attribute = _getatt_parts(argument)
        if (logical_id, attribute) in self.attributes:
            return self.attributes[(logical_id, attribute)]
        return _placeholder(logical_id, attribute)

    # --- string functions ------------------------------------------------------------------------
    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(_as_string(v) for v in self.resolve(items))

    def _split(self, argument: Any) -> list[str]:
        delimiter, source = argument
        return _as_string(self.resolve(source)).split(delimiter)

    def _select(self, argument: Any) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            template, variables = argument, {}
        else:
            template, variables = argument[0], self.resolve(argument[1])

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return _as_string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _as_string(self._getatt([logical_id, attribute]))
            return _as_string(self._ref(name))

        substituted = _SUB_VARIABLE.sub(substitute, template)
        return _SUB_LITERAL.sub(lambda m: "${" + m.group(1) + "}", substituted)


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _placeholder(logical_id: str, attribute: str | None) -> str:
    return f"local-{logical_id}" if attribute is None else f"local-{logical_id}-{attribute}"
