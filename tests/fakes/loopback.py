"""A threaded HTTP server on a loopback port that hands every request to one function: what each fake
(tests/fakes/server.py, tests/fakes/openai_server.py) starts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def start(serve: Callable[[BaseHTTPRequestHandler], None]) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (a free port) whose GET, POST and DELETE go to `serve`, running in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            serve(self)

        def do_POST(self) -> None:
            serve(self)

        def do_DELETE(self) -> None:
            serve(self)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (a timeout the test asked for) is not the fake's error

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def read(handler: BaseHTTPRequestHandler) -> tuple[Any, bytes]:
    """A request's parsed URL and its body's bytes."""
    from urllib.parse import urlparse

    length = int(handler.headers.get("content-length") or 0)
    return urlparse(handler.path), handler.rfile.read(length) if length else b""


class Fake:
    """A fake's lifecycle: start() on a free loopback port, stop(), and its base URL; subclasses define _serve,
    and keep what they were sent in `requests` (each with a `kind`) under `lock`."""

    _server: ThreadingHTTPServer | None = None
    requests: list[Any]
    lock: threading.Lock

    def calls(self, kind: str | None = None) -> list[Any]:
        with self.lock:
            return [r for r in self.requests if kind is None or r.kind == kind]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self) -> Any:
        self._server = start(self._serve)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"
