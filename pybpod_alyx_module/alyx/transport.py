"""The HTTP layer under the Alyx client: one ``requests.Session``, network retries as data.

Following the ``requests`` design, retries after a failed exchange live in an
``HTTPAdapter`` mounted on the session, configured by a urllib3 ``Retry`` rather
than a hand-made loop:

- connection failures (nothing was sent) are retried for every method, but a refused
  connection only :attr:`~.retry_policy.RetryPolicy.refused_retries` times (none by
  default): nothing listens there, and waiting would only delay saying so;
- a read that fails half-way is retried once, and only for idempotent methods;
- each wait before a retry is the client's :class:`~.retry_policy.RetryPolicy`'s (floor,
  ceiling, jitter), and no retry starts that its request's deadline would cut short.

Answers that ask to try again (429, 502/503/504) are not retried here: the client's
exchange (:mod:`.exchange`) waits them out under the same policy, outside the request's
deadline, reporting each wait.

Redirects are never followed (see ``AlyxClient``): a redirect could carry the
password or the token to another host, or from https to plain http.
Every connection is bounded by its request's total deadline (:mod:`.deadline`).
TLS certificates are always verified (``requests``' default is left alone).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Union

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from pybpod_alyx_module import __version__

from .deadline import current_deadline, watch_connections
from .network_errors import is_refused
from .retry_policy import DEFAULT_POLICY, RetryPolicy

#: Methods that can be repeated without changing anything twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

Timeout = Union[float, tuple[float, float]]


class PolicyRetry(Retry):
    """A urllib3 ``Retry`` for failed exchanges whose waits are the client's policy.

    ``policy`` and ``pause`` (the client's sleep) are carried from one retry state to the
    next (urllib3 makes a new one at each increment).
    """

    policy: RetryPolicy = DEFAULT_POLICY
    pause: Callable[[float], None] = staticmethod(time.sleep)
    #: The wait before the next try, drawn once at each increment.
    next_wait: float = 0.0

    def new(self, **kw: Any) -> PolicyRetry:
        fresh = super().new(**kw)
        fresh.policy, fresh.pause = self.policy, self.pause
        return fresh

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Never for an answer: the client's exchange retries those (outside the deadline)."""
        return False

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        """The next retry state, or ``MaxRetryError`` if its wait would outlast the deadline,
        or if a refused connection has had its (few) retries."""
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        refused = sum(1 for past in fresh.history if is_refused(past.error))
        if is_refused(error) and refused > self.policy.refused_retries:
            raise MaxRetryError(_pool, url, error)
        fresh.next_wait = self.policy.wait(len(fresh.history))
        deadline = current_deadline()
        if deadline is not None and fresh.next_wait >= deadline.remaining():
            raise MaxRetryError(_pool, url, error or ResponseError("no time left to retry"))
        return fresh

    def sleep(self, response=None) -> None:
        self.pause(self.next_wait)


def network_retries(
    retries: int, policy: RetryPolicy, pause: Callable[[float], None]
) -> PolicyRetry:
    """The retries after a failed exchange: ``retries`` attempts after the first one."""
    retry = PolicyRetry(
        total=retries,
        connect=retries,
        read=min(retries, 1),
        status=0,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=(),
        respect_retry_after_header=False,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    retry.policy, retry.pause = policy, pause
    return retry


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections (direct or through a proxy) obey request deadlines."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch_connections(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return watch_connections(super().proxy_manager_for(proxy, **proxy_kwargs))


def new_session(
    retries: int,
    policy: RetryPolicy = DEFAULT_POLICY,
    pause: Callable[[float], None] = time.sleep,
) -> requests.Session:
    """A session with JSON headers and the network retries mounted for http and https."""
    session = requests.Session()
    session.headers.update(
        {"Accept": "application/json", "User-Agent": f"pybpod-gui-plugin-alyx/{__version__}"}
    )
    adapter = WatchedAdapter(max_retries=network_retries(retries, policy, pause))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def split_timeout(timeout: Timeout) -> tuple[float, float]:
    """``(connect, read)`` seconds from one number or a pair; both must be positive."""
    connect, read = (timeout, timeout) if isinstance(timeout, (int, float)) else timeout
    if connect <= 0 or read <= 0:
        raise ValueError(f"timeouts must be positive seconds, got {timeout!r}")
    return float(connect), float(read)
