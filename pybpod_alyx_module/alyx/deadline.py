"""A total deadline on each request, whatever pace the server keeps.

urllib3's read timeout bounds each read from the socket, not the whole answer: a
server (or a broken proxy) that sends one byte a second, in its headers or in its
body, never triggers it, and the command line or the GUI's worker would wait
forever. A :class:`Deadline` is armed around each try of a request (its network
retries included); when it passes, a watchdog timer shuts the request's socket down,
which wakes the blocked read at once, and any further attempt of that try is refused.

The connections learn their request's deadline from the thread that sends it
(each page worker sends its own requests), through the connection classes that
:func:`watch_connections` mounts on the session's pools.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

_current = threading.local()


def total_deadline(timeout: tuple[float, float]) -> float:
    """Seconds allowed to one request: the connect timeout plus twice the read timeout.

    Twice the read timeout leaves room for a slow server that takes its whole read
    timeout to start answering and then sends a large page at a normal pace.

    Examples
    --------
    >>> total_deadline((5.0, 60.0))
    125.0
    """
    connect, read = timeout
    return connect + 2 * read


class DeadlineExceeded(OSError):
    """A new attempt of a request whose deadline has already passed."""


class Deadline:
    """The time allowed to the requests this thread sends while the ``with`` block runs.

    Parameters
    ----------
    seconds
        From the first byte sent to the last byte read, network retries included.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        #: True once the deadline passed while the request was still going on.
        self.expired = False
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._started = time.monotonic()
        self._timer.start()
        return self

    def remaining(self) -> float:
        """Seconds left before the deadline passes (0 once it has)."""
        return 0.0 if self.expired else max(0.0, self.seconds - (time.monotonic() - self._started))

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _current.deadline = self._outer
        with self._lock:
            self._connections.clear()

    def watch(self, connection: Any) -> None:
        """Shut ``connection`` down if the deadline passes; refuse it if it already has."""
        with self._lock:
            if self.expired:
                raise DeadlineExceeded(f"the request's {self.seconds:g} s have passed")
            if connection not in self._connections:
                self._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            for sock in (getattr(connection, "sock", None), getattr(connection, "_raw_sock", None)):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:  # already closed: nothing left to wake
                        pass


def current_deadline() -> Deadline | None:
    """The deadline of the request this thread is sending, if any."""
    return getattr(_current, "deadline", None)


def _watched(connection: Any) -> None:
    deadline = current_deadline()
    if deadline is not None:
        deadline.watch(connection)


class _WatchedMixin:
    """Registers the connection with the sending thread's deadline before it talks."""

    def _new_conn(self) -> Any:
        # The plain socket, kept so that a TLS handshake can be cut short too.
        _watched(self)
        self._raw_sock = super()._new_conn()
        return self._raw_sock

    def connect(self) -> None:
        _watched(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _watched(self)
        return super().request(*args, **kwargs)


class WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    """An HTTP connection bounded by its request's :class:`Deadline`."""


class WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    """An HTTPS connection bounded by its request's :class:`Deadline`."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


def watch_connections(manager: PoolManager) -> PoolManager:
    """Make ``manager`` (a pool or proxy manager of ``requests``) open watched connections.

    A manager with pools of its own (a SOCKS proxy's) is left alone: its requests
    still have the per-read timeouts, not the total deadline.
    """
    default = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    if dict(manager.pool_classes_by_scheme) == default:
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager
