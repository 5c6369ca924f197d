"""Match requests to the template's API methods the way API Gateway REST does.

- Paths are matched segment by segment on the raw, percent-ENCODED request path, so an id holding
  an encoded slash (`a%2Fb`) stays one segment instead of becoming two.
- Literal segments win over `{param}`, which wins over a greedy `{param+}`; a dead end behind a
  literal backtracks to the parameter branch.
- The resource is chosen first, then the method on it (or its ANY method): a known path with an
  unknown method is not routed elsewhere.
- `{param}` values are delivered URL-decoded, a greedy `{param+}` value as sent (still encoded),
  as API Gateway does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from local_runtime.stack import ApiMethod


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    resource_path: str = "/"
    methods: dict[str, ApiMethod] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteMatch:
    method: ApiMethod
    resource_path: str
    path_parameters: dict[str, str] | None  # None when the resource has no parameters, as on AWS


class PathDecodeError(ValueError):
    """A path segment is not valid percent-encoded UTF-8."""


def decode_segment(segment: str) -> str:
    """Percent-decode one raw path segment (the server hands it over as latin-1 text of the bytes)."""
    try:
        return unquote_to_bytes(segment.encode("latin-1")).decode("utf-8")
    except UnicodeError as error:
        raise PathDecodeError(f"path segment {segment!r} is not valid UTF-8") from error


class Router:
    def __init__(self, methods: Iterable[ApiMethod]) -> None:
        self._root = _Node()
        self._routes: list[tuple[str, str]] = []
        for method in methods:
            node = self._insert(method.resource_path)
            if method.http_method in node.methods:
                raise ValueError(f"two methods for {method.http_method} {method.resource_path}")
            node.methods[method.http_method] = method
            self._routes.append((method.http_method, node.resource_path))

    def _insert(self, resource_path: str) -> _Node:
        node = self._root
        for part in _segments(resource_path):
            if part.startswith("{") and part.endswith("+}"):
                node.greedy = node.greedy or (part[1:-2], _Node(resource_path=_join(node, part)))
                node = node.greedy[1]
            elif part.startswith("{") and part.endswith("}"):
                node.parameter = node.parameter or (part[1:-1], _Node(resource_path=_join(node, part)))
                if node.parameter[0] != part[1:-1]:
                    raise ValueError(f"{resource_path}: sibling parameters {node.parameter[0]} and {part}")
                node = node.parameter[1]
            else:
                node = node.literals.setdefault(part, _Node(resource_path=_join(node, part)))
        return node

    def match(self, http_method: str, raw_path: str) -> RouteMatch | None:
        """The method serving `raw_path` (percent-encoded, without the query string), or None."""
        for node, parameters in self._walk(self._root, _segments(raw_path), {}):
            if not node.methods:
                continue
            method = node.methods.get(http_method.upper()) or node.methods.get("ANY")
            if method is None:
                return None
            return RouteMatch(method, node.resource_path, parameters or None)
        return None

    def _walk(
        self, node: _Node, segments: list[str], parameters: dict[str, str]
    ) -> Iterator[tuple[_Node, dict[str, str]]]:
        if not segments:
            yield node, parameters
            return
        head, rest = segments[0], segments[1:]
        if head == "":
            return  # an empty segment (`//`, a trailing `/`) matches no resource
        literal = node.literals.get(decode_segment(head))
        if literal is not None:
            yield from self._walk(literal, rest, parameters)
        if node.parameter is not None:
            name, child = node.parameter
            yield from self._walk(child, rest, {**parameters, name: decode_segment(head)})
        if node.greedy is not None:
            name, child = node.greedy
            yield child, {**parameters, name: "/".join(segments)}

    def routes(self) -> list[tuple[str, str]]:
        """(method, resource path) of every route, for the start-up banner and tests."""
        return sorted(self._routes, key=lambda route: (route[1], route[0]))


def _segments(path: str) -> list[str]:
    return [] if path in ("", "/") else path.removeprefix("/").split("/")


def _join(parent: _Node, part: str) -> str:
    return f"{parent.resource_path.rstrip('/')}/{part}"
