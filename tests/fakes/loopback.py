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
