"""What the local simulators of remote systems share: an HTTP server on 127.0.0.1 (a free port), its
request handler, the ``Reply`` a simulator answers with (including the faults that need the socket: an
answer held back, a connection dropped), and the start/stop life cycle.

A simulator subclasses ``LocalServer`` and implements ``handle(method, path, headers, body) -> Reply``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    stall: bool = False  # answer only after ``stall_s``
    drop: bool = False  # close the connection without answering


class LocalServer:
    """The life cycle of a simulator's server: ``start()``/``stop()`` or a ``with`` block."""

    stall_s: float = 6.0

    def __init__(self, name: str) -> None:
        self._name = name
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self._name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), type("Handler", (_Handler,), {"simulator": self}))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stalled(self) -> bool:
        """Wait ``stall_s`` before a late answer; True when the simulator stopped meanwhile."""
        return self._stopping.wait(self.stall_s)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled answer must not hold up stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up mid-request (its timeout, a test ending) is ordinary here; a bug is not
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    simulator: LocalServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the connectors' pooled clients expect
    timeout = 30  # an idle kept-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body leave as two writes: Nagle would hold the body ~40 ms

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the rest of the stream cannot be framed
            self.send_error(400 if length < 0 else 413)
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.simulator.handle(method, self.path, headers, body)
        if reply.drop:
            self.close_connection = True
            return
        if reply.stall and self.simulator.stalled():
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up first (the timeout fault): nothing to tell it
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass
