"""A fault proxy in front of the real Alyx: it forwards requests and can drop the answer.

"Lost response": the server received the request and committed it, but its answer never
reaches the client (a cut cable, a proxy timing out). The proxy forwards each request to
the real server; for the requests chosen by :attr:`DroppingProxy.drops`, it then closes
the connection without a word. The ``Host`` header is forwarded unchanged, so Alyx's
links name the proxy, as they would name any proxy in front of a real server.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class DroppingProxy:
    """Forward to ``target`` (``http://host:port``); drop the answers of chosen requests.

    ``drops`` holds ``(method, path prefix)`` pairs; each one drops the answer of the first
    matching request, once. ``dropped`` lists what was dropped.
    """

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.drops: list[tuple[str, str]] = []
        self.dropped: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _should_drop(self, method: str, path: str) -> bool:
        with self._lock:
            for rule in self.drops:
                if method == rule[0] and path.startswith(rule[1]):
                    self.drops.remove(rule)
                    self.dropped.append(f"{method} {path}")
                    return True
        return False

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(
                    proxy.target.hostname, proxy.target.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                if proxy._should_drop(self.command, self.path):
                    self.close_connection = True
                    return  # the server did it; the client never hears
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        return Handler
