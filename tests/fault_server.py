"""A tiny local HTTP stub for the faults a real Alyx server cannot be made to produce.

Every other test talks to a real Alyx. This stub exists only for what a real
server will not do on request: answer too late, reset the connection, cut a body
short, put a proxy's HTML page in front, ask to retry later, expire a token on cue.

It mimics alyx-local's layout: the API lives under ``/api``; ``GET /api/auth-token``
answers 405 (that is how the client discovers the root) and ``POST /api/auth-token``
exchanges :data:`USERNAME` / :data:`PASSWORD` for a fresh token. Any other path
answers what a test scripted for it (see :meth:`FaultServer.script`), else 404.

>>> with running_fault_server() as stub:                         # doctest: +SKIP
...     stub.script("GET", "/api/subjects", Answer.json({"detail": "boom"}, status=500))
...     stub.count("GET", "/api/subjects")
0
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

USERNAME = "alice"
PASSWORD = "correct-horse-battery-staple"

#: No scripted delay lasts longer than this, whatever a test asks: nothing may hang the run.
MAX_DELAY = 10.0
#: Seconds an idle keep-alive connection is kept open by a handler thread.
IDLE_TIMEOUT = 5.0


@dataclass
class Answer:
    """One scripted answer.

    ``fault`` is ``None`` for a normal answer, ``"reset"`` to close the socket with
    an RST instead of answering, ``"cut"`` to announce ``length`` bytes, send
    ``body`` (shorter) and close, ``"drip-headers"`` to send the whole answer one byte
    every ``interval`` seconds, ``"drip-body"`` to send the headers at once and the
    body one byte every ``interval`` seconds, or ``"raw"`` to send ``body`` as the whole
    answer (no status line or headers of the stub's) and close. ``delay`` seconds pass
    before anything is sent.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    fault: str | None = None
    length: int | None = None
    interval: float = 0.0

    @classmethod
    def json(cls, data: Any, status: int = 200, **kwargs: Any) -> Answer:
        """A JSON answer, as Django REST framework sends it."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return cls(status, json.dumps(data).encode(), headers, **kwargs)

    @classmethod
    def html(cls, text: str, status: int = 200, **kwargs: Any) -> Answer:
        """An HTML page, as a proxy or a web site sends it."""
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"}, **kwargs)

    @classmethod
    def raw(cls, body: bytes, content_type: str = "application/json", **kwargs: Any) -> Answer:
        """Exact bytes with a correct Content-Length (e.g. JSON truncated by the server)."""
        return cls(200, body, {"Content-Type": content_type}, **kwargs)

    @classmethod
    def reset(cls) -> Answer:
        """No answer at all: the connection is reset (RST) after the request is read."""
        return cls(fault="reset")

    @classmethod
    def drip(cls, data: Any, interval: float, headers_too: bool = False) -> Answer:
        """A JSON answer sent one byte every ``interval`` seconds (each byte within the read
        timeout), from the status line on with ``headers_too``, else from the body on."""
        fault = "drip-headers" if headers_too else "drip-body"
        return cls.json(data, fault=fault, interval=interval)

    @classmethod
    def raw_bytes(cls, data: bytes) -> Answer:
        """``data`` as the whole answer, status line included (e.g. not HTTP at all)."""
        return cls(body=data, fault="raw")

    @classmethod
    def cut(cls, body: bytes, length: int) -> Answer:
        """Announce ``length`` bytes, send only ``body``, then close the connection."""
        return cls(200, body, {"Content-Type": "application/json"}, fault="cut", length=length)


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


class FaultServer:
    """The scripts, the request log and the running HTTP server of one test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], deque[Answer]] = defaultdict(deque)
        self._routes: dict[tuple[str, str], Callable[[Seen], Answer]] = {}
        self.requests: list[Seen] = []
        self.tokens: list[str] = []
        self.errors: list[BaseException] = []
        #: Set at shutdown so that a handler waiting out a scripted delay stops at once.
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The stub's address as a user would type it, without the ``/api`` root."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, method: str, target: str, *answers: Answer) -> None:
        """Queue answers for ``method target``; they are used in turn and the last one repeats.

        ``target`` is a path, optionally with a query (``/api/items?page=2``): a
        request is matched on its full target first, then on its path alone.
        """
        with self._lock:
            self._scripts[(method.upper(), target)].extend(answers)

    def route(self, method: str, path: str, handler: Callable[[Seen], Answer]) -> None:
        """Answer every ``method path`` request (any query) with ``handler(request)``."""
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def serve_list(
        self,
        path: str,
        items: list[Any],
        max_limit: int | None = None,
        count: int | None = None,
    ) -> None:
        """Serve ``items`` at ``path`` as Django REST framework's LimitOffsetPagination does:
        ``limit`` capped at ``max_limit`` (DRF's ``max_limit``), 250 by default, ``count``
        announced (``len(items)`` unless a test makes the server lie)."""

        def page(seen: Seen) -> Answer:
            query = {
                key: values[0] for key, values in parse_qs(urlsplit(seen.target).query).items()
            }
            limit = int(query.get("limit", 250))
            limit = min(limit, max_limit) if max_limit else limit
            offset = int(query.get("offset", 0))
            total = len(items) if count is None else count
            following = None
            if offset + limit < total:
                nxt = urlencode({**query, "limit": limit, "offset": offset + limit})
                following = f"{self.url}{path}?{nxt}"
            results = items[offset : offset + limit]
            return Answer.json(
                {"count": total, "next": following, "previous": None, "results": results}
            )

        self.route("GET", path, page)

    def forget_requests(self) -> None:
        """Start the request log afresh (between the generated examples of one test)."""
        with self._lock:
            self.requests.clear()

    def count(self, method: str, path: str) -> int:
        """How many ``method`` requests reached ``path`` (any query string)."""
        with self._lock:
            return sum(1 for r in self.requests if r.method == method and r.path == path)

    def seen(self, method: str, path: str) -> list[Seen]:
        """The ``method`` requests that reached ``path``, in order."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake any delayed handler and close the listening socket."""
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- used by the handler threads -------------------------------------------------

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def _next_answer(self, seen: Seen) -> Answer | None:
        method, target = seen.method, seen.target
        with self._lock:
            handler = self._routes.get((method, seen.path))
        if handler is not None:
            return handler(seen)
        with self._lock:
            for key in ((method, target), (method, urlsplit(target).path)):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft() if len(queue) > 1 else queue[0]
        return None

    def _login(self, body: bytes) -> Answer:
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8")).items()}
        if form.get("username") == USERNAME and form.get("password") == PASSWORD:
            with self._lock:
                token = f"token-{len(self.tokens) + 1}-{'0123456789abcdef' * 2}"
                self.tokens.append(token)
            return Answer.json({"token": token})
        return Answer.json(
            {"non_field_errors": ["Unable to log in with provided credentials."]}, status=400
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # never join a handler at shutdown: a test run must not hang on one
    stub: FaultServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep handler failures for the fixture to report; a client hanging up is expected."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):  # resets, timeouts, broken pipes
            self.stub.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        """No Nagle delay: headers and body are two writes, and the client's delayed ACK
        would otherwise hold each answer 40 ms (tests that make hundreds of requests)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, dict(self.headers.items()), body)
        stub._record(seen)
        answer = stub._next_answer(seen)
        if answer is None:
            answer = self._builtin(body)
        if answer.delay:
            stub.released.wait(min(answer.delay, MAX_DELAY))
            if stub.released.is_set():
                self.close_connection = True
                return
        if answer.fault == "reset":
            self._reset()
            return
        if answer.fault in ("drip-headers", "drip-body"):
            self._drip(answer)
            return
        if answer.fault == "raw":
            self.close_connection = True
            self.wfile.write(answer.body)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        declared = answer.length if answer.fault == "cut" else len(answer.body)
        self.send_header("Content-Length", str(declared))
        if answer.fault == "cut":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
        if answer.fault == "cut":
            self.close_connection = True

    def _builtin(self, body: bytes) -> Answer:
        if self.path.split("?", 1)[0] == "/api/auth-token":
            if self.command == "POST":
                return self.server.stub._login(body)
            return Answer.json({"detail": f'Method "{self.command}" not allowed.'}, status=405)
        return Answer.json({"detail": "Not found."}, status=404)

    def _drip(self, answer: Answer) -> None:
        """Send the answer a byte at a time until done, the client hangs up or the stub stops."""
        head = [f"HTTP/1.1 {answer.status} Scripted\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in answer.headers.items()]
        head += [f"Content-Length: {len(answer.body)}\r\n", "Connection: close\r\n\r\n"]
        data = "".join(head).encode() + answer.body
        start = 0 if answer.fault == "drip-headers" else len(data) - len(answer.body)
        self.close_connection = True
        self.wfile.write(data[:start])
        self.wfile.flush()
        for offset in range(start, len(data)):
            if self.server.stub.released.wait(answer.interval):
                return
            self.wfile.write(data[offset : offset + 1])
            self.wfile.flush()

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends an RST instead of a FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


@contextmanager
def running_fault_server() -> Iterator[FaultServer]:
    """A started :class:`FaultServer`, stopped on exit even if the test failed."""
    stub = FaultServer()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
    if stub.errors:
        raise AssertionError(f"the fault server itself failed: {stub.errors!r}")


@contextmanager
def refused_port() -> Iterator[int]:
    """A local port where nothing listens: it is bound (so no one else takes it) but not listening.

    A connection to it is refused at once (RST to the SYN), like a server that is down.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()
