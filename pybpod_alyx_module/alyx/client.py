"""The Alyx REST client: Alyx knowledge on top of a ``requests`` session.

What this layer knows and the HTTP layer does not: where the API lives under
the address a user typed, how to get and reuse a token, how to walk paginated
lists, and how to say in plain words what went wrong. It imports neither Qt
nor PyBpod, so the command line, the GUI and the tests all share it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import requests

from pybpod_alyx_module import settings  # the defaults, written once

from .address import has_scheme, normalize_address, same_origin
from .exchange import Exchange, WaitReport
from .login import Login
from .pagination import iterate_items
from .rate_limit import RateLimiter, limiter_for
from .records import AlyxRecords
from .responses import is_invalid_token, json_body, raise_for_status
from .retry_policy import DEFAULT_POLICY, RetryPolicy
from .root import find_api_root
from .server_words import forget
from .token_store import TokenStore
from .transport import Timeout, split_timeout

logger = logging.getLogger(__name__)

#: Seconds to wait for a connection, and for an answer once connected.
DEFAULT_TIMEOUT = (settings.ALYX_PLUGIN_CONNECT_TIMEOUT, settings.ALYX_PLUGIN_READ_TIMEOUT)
#: Pages of a long list fetched at the same time (Alyx serves requests in parallel).
DEFAULT_PAGE_WORKERS = 3
#: Requests one client sends a minute at most, from all its threads.
DEFAULT_MAX_REQUESTS_PER_MINUTE = 240.0


class AlyxClient(Login, AlyxRecords):
    """A logged-in conversation with one Alyx server.

    Parameters
    ----------
    address
        The server as a user types it: with or without a scheme (``https`` is
        assumed), a trailing slash or the ``/api`` root. The client finds the
        API root itself, for the cortex-lab layout (API at the host root) and
        alyx-local's (under ``/api``).
    username, password
        Credentials for :meth:`login`. The password is kept in memory only, to
        log in again when the server says the token expired; it is never
        logged, saved or shown in a message.
    token
        A token from an earlier login; with it no password is needed.
    timeout
        Seconds, ``(connect, read)`` or one number for both, applied to every request.
        Each try of a request also has a total deadline, network retries included, of
        the connect timeout plus twice the read timeout (125 s by default): a server
        that answers a byte at a time cannot hold a try longer.
    retries
        Extra attempts after a connection failure, or after a 502/503/504
        answer to an idempotent request.
    token_store
        Where to find a saved token when none is given, and where :meth:`login`
        saves the new one.
    page_workers
        How many pages of a long list to fetch at the same time.
    password_provider
        Called once, only if a password is needed and none was given (no saved
        token, or it expired): e.g. a keyring look-up or a prompt.
    retry_policy
        How long to wait before trying again, and when to stop: floor, ceiling and jitter
        of every wait, the reading of ``Retry-After``, the seconds one request may wait in
        all (:class:`~.retry_policy.RetryPolicy`; its defaults when ``None``). A server busy
        for longer raises :class:`~.errors.ServerBusyError`, whose ``retry_after`` says when
        to come back.
    busy_deadline
        Seconds one request may wait in all, replacing the policy's ``busy_budget``.
    on_wait
        ``on_wait(seconds, message)`` is called before each wait for a server that asked
        to be asked again (429, 502/503/504; the CLI prints it, the GUI shows it);
        without it the message is logged as a warning.
    max_requests_per_minute
        Requests this client sends a minute at most, from all its threads and whatever the
        server answers (``None``: no limit): many rigs flushing after an outage must not
        flood the server.
    sleep
        What waits (``time.sleep``): a test's fake clock, say.

    Examples
    --------
    With a server at hand (so not run as a doctest)::

        alyx = AlyxClient("https://alyx.example.org/", username="alice", password="…")
        alyx.login()
        [s["nickname"] for s in alyx.subjects(responsible_user="alice", alive=True)]
        # ['SW_001', 'SW_002', …]
        alyx.subject("c7bd79c9-5ce2-4c6b-b9fb-9fb38b4f6cde")["weighings"]
        # [{'date_time': '2026-11-02T09:30:00Z', 'weight': 21.4, …}]
    """

    def __init__(
        self,
        address: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retries: int = settings.ALYX_PLUGIN_RETRIES,
        token_store: TokenStore | None = None,
        password_provider: Callable[[], str | None] | None = None,
        page_workers: int = DEFAULT_PAGE_WORKERS,
        busy_deadline: float | None = None,
        on_wait: WaitReport | None = None,
        retry_policy: RetryPolicy | None = None,
        max_requests_per_minute: float | None = DEFAULT_MAX_REQUESTS_PER_MINUTE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.address = normalize_address(address)
        #: False when the user typed no ``http://``/``https://`` (https was assumed).
        self.scheme_typed = has_scheme(address)
        self.username = username or None
        self._password: str | None = None
        self._keep_password(password)
        self._token: str | None = None
        self.token = token
        self.token_store = token_store
        self._password_provider = password_provider
        self.page_workers = max(1, page_workers)
        policy = retry_policy or DEFAULT_POLICY
        if busy_deadline is not None:
            policy = dataclasses.replace(policy, busy_budget=busy_deadline)
        self._exchange = Exchange(
            self.address,
            split_timeout(timeout),
            retries,
            policy,
            limiter_for(max_requests_per_minute, sleep),
            sleep,
            on_wait,
        )
        self._api_root: str | None = None
        self._api_root_lock = threading.Lock()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy every wait of this client follows."""
        return self._exchange.policy

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The bound on this client's requests a minute, shared by its threads."""
        return self._exchange.limiter

    @property
    def busy_deadline(self) -> float:
        """Seconds one request may wait in all (the policy's ``busy_budget``)."""
        return self._exchange.policy.busy_budget

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds of every request."""
        return self._exchange.timeout

    @property
    def deadline(self) -> float:
        """Seconds one try of a request may take from start to end, retries included."""
        return self._exchange.deadline

    @property
    def session(self) -> requests.Session:
        """The ``requests`` session under the client (its pool, headers and retries)."""
        return self._exchange.session

    @property
    def on_wait(self) -> WaitReport | None:
        """Told of each wait for a server that asked for one; else a warning is logged."""
        return self._exchange.on_wait

    @on_wait.setter
    def on_wait(self, report: WaitReport | None) -> None:
        self._exchange.on_wait = report

    def __repr__(self) -> str:
        state = "with token" if self.token else "not logged in"
        return f"<AlyxClient {self.username or '(no user)'}@{self.address} {state}>"

    def close(self) -> None:
        """Close the connection pool; the client's secrets are no longer scrubbed from errors."""
        self.session.close()
        forget(self)

    def __enter__(self) -> AlyxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- where the API is --------------------------------------------------------

    @property
    def api_root(self) -> str:
        """The URL under which the REST endpoints live, found on first use (:mod:`.root`).

        Found once, by one thread: the others (page or flush workers) wait for it.
        """
        with self._api_root_lock:
            if self._api_root is None:
                self._api_root = find_api_root(self._exchange, self.address, self.scheme_typed)
        return self._api_root

    def url(self, path: str) -> str:
        """The absolute URL of an endpoint path such as ``'subjects'`` or ``'/users'``.

        An absolute URL (a subject's ``url`` field, say) is kept on the client's own
        scheme and host, so that the token is only ever sent where the user logged in.
        """
        if path.startswith(("http://", "https://")):
            return same_origin(path, self.api_root)
        return f"{self.api_root}/{path.lstrip('/')}"

    # -- requests ----------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        """GET an endpoint and return its JSON.

        Examples
        --------
        With a server at hand (so not run as a doctest)::

            alyx.get("subjects", nickname="SW_001", lab="cortexlab")["count"]  # 1
        """
        return self._call("GET", path, params=_query(params))

    def list(
        self,
        path: str,
        progress: Callable[[int, int | None], None] | None = None,
        **filters: Any,
    ) -> Iterator[dict]:
        """Iterate over every item of a list endpoint, following all its pages.

        ``filters`` become query parameters (``True``/``False`` as Alyx spells
        them, ``None`` dropped); ``limit`` sets the page size. Beware: Alyx
        silently ignores a filter it does not know. ``progress(done, total)`` is
        called after each page.

        Examples
        --------
        With a server at hand (so not run as a doctest)::

            sum(1 for _ in alyx.list("subjects", alive=True))  # 1242
        """
        return iterate_items(
            lambda url, params: self._call("GET", url, params=params),
            self.url(path),
            _query(filters),
            progress,
            self.page_workers,
        )

    def post(self, path: str, data: dict[str, Any]) -> Any:
        """POST a JSON body (create a record) and return the server's JSON. Never retried."""
        return self._call("POST", path, json=data)

    def patch(self, path: str, data: dict[str, Any]) -> Any:
        """PATCH a JSON body (change some fields of a record) and return the server's JSON."""
        return self._call("PATCH", path, json=data)

    def delete(self, path: str) -> None:
        """DELETE a record (Alyx answers 204). Idempotent: a repeat finds it gone (404)."""
        self._call("DELETE", path)

    # -- plumbing ----------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """An authenticated request: log in first if needed, and once again if the token expired."""
        url = self.url(path)
        self._ensure_token()
        response = self._send(method, url, **kwargs)
        if is_invalid_token(response):
            self._drop_saved_token()
            if not self._password_at_hand():
                raise_for_status(response, self.retry_policy)
            logger.info("The token for %s expired; logging in again", self.username)
            self.login()
            response = self._send(method, url, **kwargs)
        raise_for_status(response, self.retry_policy)
        return json_body(response)

    def _send(self, method: str, url: str, auth: bool = True, **kwargs: Any) -> requests.Response:
        """Send through the one exchange of this client, with the token if ``auth``."""
        self._hide_secrets()  # again, in case the client is used after it was closed
        headers = {"Authorization": f"Token {self.token}"} if auth and self.token else None
        return self._exchange.send(method, url, headers=headers, **kwargs)


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters as Alyx reads them: booleans as ``True``/``False``, ``None`` dropped."""
    return {
        key: (str(value) if isinstance(value, bool) else value)
        for key, value in params.items()
        if value is not None
    }
