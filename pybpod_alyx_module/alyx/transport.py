"""The HTTP layer under the Alyx client: one ``requests.Session``, retries as data.

Following the ``requests`` design, retries live in an ``HTTPAdapter`` mounted on
the session, configured by a urllib3 ``Retry`` rather than a hand-made loop:

- connection failures (nothing was sent) are retried for every method;
- a read that fails half-way is retried once, and only for idempotent methods;
- 502/503/504 answers are retried only for idempotent methods, with an
  exponential backoff, honouring ``Retry-After`` up to :data:`MAX_RETRY_AFTER`
  seconds. A server asking for a longer wait gets no retry at all: the caller
  sees the answer at once instead of a window that hangs for an hour.
- 429 ("busy": a throttle, which refuses a request before acting on it) is left
  to the client, which waits it out for every method and reports each wait.

Redirects are never followed (see ``AlyxClient``): a redirect could carry the
password or the token to another host, or from https to plain http.
Every connection is bounded by its request's total deadline (:mod:`.deadline`).
TLS certificates are always verified (``requests``' default is left alone).
"""

from __future__ import annotations

from typing import Any, Union

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from pybpod_alyx_module import __version__

from .deadline import watch_connections

#: Statuses that mean "try again later" rather than "this request is wrong" (429: the client).
RETRY_STATUSES = frozenset({502, 503, 504})
#: Methods that can be repeated without changing anything twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The longest ``Retry-After`` the client agrees to wait, in seconds.
MAX_RETRY_AFTER = 30.0

Timeout = Union[float, tuple[float, float]]


class BoundedRetry(Retry):
    """A urllib3 ``Retry`` that gives up at once when asked to wait too long."""

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > MAX_RETRY_AFTER:
                raise MaxRetryError(_pool, url, None)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def is_retry(self, method, status_code, has_retry_after=False):
        """Never for 429, which the client waits out itself (urllib3 would, silently)."""
        if status_code == 429:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def get_retry_after(self, response):
        """Seconds asked by ``Retry-After``; an unreadable value counts as none (plain backoff)."""
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None


def retry_after(response: requests.Response) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), else ``None``."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(Retry.DEFAULT.parse_retry_after(value)))
    except InvalidHeader:
        return None


def retry_policy(retries: int) -> Retry:
    """The retry policy for ``retries`` attempts after the first one."""
    return BoundedRetry(
        total=retries,
        connect=retries,
        read=min(retries, 1),
        status=retries,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections (direct or through a proxy) obey request deadlines."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch_connections(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return watch_connections(super().proxy_manager_for(proxy, **proxy_kwargs))


def new_session(retries: int) -> requests.Session:
    """A session with JSON headers and the retry policy mounted for http and https."""
    session = requests.Session()
    session.headers.update(
        {"Accept": "application/json", "User-Agent": f"pybpod-gui-plugin-alyx/{__version__}"}
    )
    adapter = WatchedAdapter(max_retries=retry_policy(retries))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def split_timeout(timeout: Timeout) -> tuple[float, float]:
    """``(connect, read)`` seconds from one number or a pair; both must be positive."""
    connect, read = (timeout, timeout) if isinstance(timeout, (int, float)) else timeout
    if connect <= 0 or read <= 0:
        raise ValueError(f"timeouts must be positive seconds, got {timeout!r}")
    return float(connect), float(read)
