"""Serve a WSGI app on 127.0.0.1 at a free port, in a background thread, for the test's duration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # keep test output free of access logs
        pass


@contextmanager
def serve(app) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of ``app`` served until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def raw_path(environ) -> str:
    """The request path exactly as the client sent it, still percent-encoded.

    WSGI's PATH_INFO is already decoded, which would turn an id's %2F into a path separator.
    """
    return urlsplit(environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ["PATH_INFO"]).path


def path_segments(environ) -> list[str]:
    """The decoded segments of the raw path: ``/sessions/a%2Fb`` -> ``["sessions", "a/b"]``."""
    return [unquote(segment) for segment in raw_path(environ).split("/")[1:]]
