"""An HTTP server that answers from a script and records every request, for client tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.http_server import raw_path


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def problem(
        cls, status: int, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra: Any
    ) -> Reply:
        body = {
            "type": f"/problems/{title.lower().replace(' ', '-')}",
            "title": title,
            "status": status,
            "detail": detail,
            **extra,
        }
        return cls(status=status, body=body, headers=headers or {}, content_type="application/problem+json")


@dataclass
class RecordedRequest:
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    """Answers the replies in order (the last one repeats); every answer has an X-Request-Id."""

    def __init__(self, *replies: Reply):
        self.replies: list[Reply] = list(replies) or [Reply()]
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    raw_path=raw_path(environ),
                    query=environ.get("QUERY_STRING", ""),
                    headers=dict(request.headers),
                    body=request.get_data(),
                )
            )
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
            request_id = f"req-{len(self.requests)}"
        body: bytes | None
        if isinstance(reply.body, bytes):
            body = reply.body
        else:
            body = b"" if reply.body is None else json.dumps(reply.body).encode()
        response = Response(body, status=reply.status, content_type=reply.content_type)
        response.headers["X-Request-Id"] = request_id
        for name, value in reply.headers.items():
            response.headers[name] = value
        return response(environ, start_response)
