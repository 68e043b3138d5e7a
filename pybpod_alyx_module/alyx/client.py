"""The Alyx REST client: Alyx knowledge on top of a ``requests`` session.

What this layer knows and the HTTP layer does not: where the API lives under
the address a user typed, how to get and reuse a token, how to walk paginated
lists, and how to say in plain words what went wrong. It imports neither Qt
nor PyBpod, so the command line, the GUI and the tests all share it.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Iterator
from typing import Any, Callable

import requests

from pybpod_alyx_module import settings  # the defaults, written once

from . import errors
from .address import candidate_roots, has_scheme, normalize_address, same_origin
from .deadline import Deadline, total_deadline
from .details import read_details
from .network_errors import network_error
from .pagination import iterate_items
from .responses import (
    is_invalid_token,
    is_json,
    json_body,
    raise_for_status,
    refuse_redirect,
    server_detail,
)
from .token_store import TokenStore
from .transport import Timeout, new_session, retry_after, split_timeout

logger = logging.getLogger(__name__)

#: Seconds to wait for a connection, and for an answer once connected.
DEFAULT_TIMEOUT = (settings.ALYX_PLUGIN_CONNECT_TIMEOUT, settings.ALYX_PLUGIN_READ_TIMEOUT)
#: Pages of a long list fetched at the same time (Alyx serves requests in parallel).
DEFAULT_PAGE_WORKERS = 3
#: Seconds one request may spend waiting for a busy server (HTTP 429) to accept it.
DEFAULT_BUSY_DEADLINE = 180.0
#: The wait between tries when a busy server does not say how long (doubles each time).
BUSY_FIRST_WAIT = 1.0

#: ``on_wait(seconds, message)``: told before each wait for a busy server.
WaitReport = Callable[[float, str], None]


class AlyxClient:
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
        Each request also has a total deadline, retries included, of the connect
        timeout plus twice the read timeout (125 s by default): a server that
        answers a byte at a time cannot hold a request longer.
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
    busy_deadline
        Seconds one request may wait in all for a busy server (HTTP 429, e.g. Alyx's
        throttle) to accept it, each wait as long as its ``Retry-After`` asks.
    on_wait
        ``on_wait(seconds, message)`` is called before each such wait (the CLI prints
        it, the GUI shows it); without it the message is logged as a warning.

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
        busy_deadline: float = DEFAULT_BUSY_DEADLINE,
        on_wait: WaitReport | None = None,
    ) -> None:
        self.address = normalize_address(address)
        #: False when the user typed no ``http://``/``https://`` (https was assumed).
        self.scheme_typed = has_scheme(address)
        self.username = username or None
        self._password = password or None
        self.token = token or None
        self.timeout = split_timeout(timeout)
        #: Seconds one request may take from start to end, retries included.
        self.deadline = total_deadline(self.timeout)
        self.token_store = token_store
        self._password_provider = password_provider
        self.page_workers = max(1, page_workers)
        self.busy_deadline = busy_deadline
        self.on_wait = on_wait
        self.session = new_session(retries)
        self._api_root: str | None = None

    def __repr__(self) -> str:
        state = "with token" if self.token else "not logged in"
        return f"<AlyxClient {self.username or '(no user)'}@{self.address} {state}>"

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def __enter__(self) -> AlyxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- where the API is --------------------------------------------------------

    @property
    def api_root(self) -> str:
        """The URL under which the REST endpoints live, found on first use.

        Each candidate root is asked for ``auth-token`` with a GET: an Alyx
        answers "method not allowed" (405) there, any other site 404.
        """
        if self._api_root is None:
            tried = []
            for root in candidate_roots(self.address):
                response = self._probe(root + "/auth-token")
                if response.status_code == 405 or is_json(response):
                    self._api_root = root
                    break
                if response.status_code >= 500:
                    raise_for_status(response)
                tried.append(f"{root}/auth-token (HTTP {response.status_code})")
            else:
                raise errors.NotFoundError(
                    f"No Alyx server found at {self.address}: tried {', '.join(tried)}",
                    url=self.address,
                )
        return self._api_root

    def _probe(self, url: str) -> requests.Response:
        """GET ``url`` (no credentials) to find the root.

        Without a typed scheme https is assumed; a plain-http server then never
        completes the TLS handshake. The probe is given the connect timeout only, and
        its failure says what was tried and suggests ``http://``. The client never
        switches to http by itself: the password would then travel unencrypted.
        """
        if self.scheme_typed:
            return self._send("GET", url)
        seconds = self.timeout[0]
        try:
            return self._send("GET", url, deadline=seconds)
        except errors.ServerUnreachableError as exc:
            plain = "http://" + self.address.split("://", 1)[1]
            timed_out = isinstance(exc, errors.ServerTimeoutError)
            reason = f"no answer within {seconds:g} s" if timed_out else str(exc)
            raise type(exc)(
                f"No Alyx answered over https at {self.address}: no scheme was typed, so "
                f"https was assumed, and GET {url} got {reason}. If the server speaks plain "
                f"HTTP, type {plain} (the password then travels unencrypted: on a trusted "
                "network only).",
                url=url,
            ) from None

    def url(self, path: str) -> str:
        """The absolute URL of an endpoint path such as ``'subjects'`` or ``'/users'``.

        An absolute URL (a subject's ``url`` field, say) is kept on the client's own
        scheme and host, so that the token is only ever sent where the user logged in.
        """
        if path.startswith(("http://", "https://")):
            return same_origin(path, self.api_root)
        return f"{self.api_root}/{path.lstrip('/')}"

    # -- logging in --------------------------------------------------------------

    def login(self) -> str:
        """Exchange the user name and password for a token, and return it.

        The token is saved in the token store, if there is one.

        Raises
        ------
        BadCredentialsError
            The server refused the user name or the password.
        ServerUnreachableError
            The server could not be reached within the timeout.
        """
        if not self.username or not self._password_at_hand():
            raise errors.NotLoggedInError(
                f"To log in to {self.address}, give a user name and a password"
            )
        response = self._send_when_accepted(
            "POST",
            self.url("auth-token"),
            auth=False,
            data={"username": self.username, "password": self._password},
        )
        if response.status_code == 400:
            detail = server_detail(response)
            raise errors.BadCredentialsError(
                f"Alyx at {self.address} refused the user name '{self.username}' or its password"
                + (f" ({detail})" if detail else ""),
                url=response.url,
                status=400,
                detail=detail,
            )
        raise_for_status(response)
        body = json_body(response)
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            raise errors.BadResponseError(
                f"{response.url} answered a login without a token", url=response.url
            )
        self.token = body["token"]
        if self.token_store is not None:
            self.token_store.save(self.api_root, self.username, self.token)
        logger.info("Logged in to %s as %s", self.api_root, self.username)
        return self.token

    @property
    def is_logged_in(self) -> bool:
        """True once the client holds a token (it may still have expired on the server)."""
        return self.token is not None

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

    # -- Alyx records ------------------------------------------------------------

    def subjects(self, **filters: Any) -> Iterator[dict]:
        """Every subject matching ``filters`` (``responsible_user``, ``alive``, ``lab``, ``project``, …)."""
        return self.list("subjects", **filters)

    def subject(self, subject_id: str) -> dict:
        """The full record of one subject, weighings and water administrations included.

        Subjects are looked up by their Alyx ``id``: a nickname is unique only
        within a lab, and cortex-lab's detail URL (``/subjects/<nickname>``) answers
        500 for twins in two labs. The list entry is completed with the weighings and
        water administrations filtered by the subject's id (:mod:`.details`).

        Raises
        ------
        NotFoundError
            No subject has this id.
        BadResponseError
            The server answered the weighings or water of another subject.
        """
        matches = [s for s in self.list("subjects", id=subject_id) if s.get("id") == subject_id]
        if not matches:
            raise errors.NotFoundError(
                f"No subject with id {subject_id} on {self.address}", url=self.url("subjects")
            )
        (detailed,), failures = read_details(self, matches[:1])
        if failures:
            raise errors.BadResponseError(
                f"Could not read the details of {detailed.get('nickname')} on {self.address}: "
                f"{failures[0].reason}",
                url=self.url("subjects"),
            )
        return detailed

    def users(self, **filters: Any) -> builtins.list[dict]:
        """Every Alyx user (``username``, ``email``, ``lab``, …)."""
        return list(self.list("users", **filters))

    def projects(self, **filters: Any) -> builtins.list[dict]:
        """Every Alyx project (``name``, ``users``, …)."""
        return list(self.list("projects", **filters))

    # -- plumbing ----------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """An authenticated request: log in first if needed, and once again if the token expired."""
        url = self.url(path)
        self._ensure_token()
        response = self._send_when_accepted(method, url, **kwargs)
        if is_invalid_token(response):
            self._drop_saved_token()
            if not self._password_at_hand():
                raise_for_status(response)
            logger.info("The token for %s expired; logging in again", self.username)
            self.login()
            response = self._send_when_accepted(method, url, **kwargs)
        raise_for_status(response)
        return json_body(response)

    def _send_when_accepted(
        self, method: str, url: str, auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        """Send (with the token if ``auth``); while the server answers 429 (busy), wait and
        send again.

        A throttled request was refused before anything was done, so any method may be
        sent again. Each wait is what ``Retry-After`` asks (else 1, 2, 4 … s), reported
        through :attr:`on_wait`; past :attr:`busy_deadline` seconds of waiting in all,
        the 429 is an error that names the waits.
        """
        where = f"{method} {url.split('?', 1)[0]}"
        waited, fallback = 0.0, BUSY_FIRST_WAIT
        while True:
            response = self._send(method, url, auth=auth, **kwargs)
            if response.status_code != 429:
                return response
            asked = retry_after(response)
            wait = fallback if asked is None else asked
            fallback *= 2
            if waited + wait > self.busy_deadline:
                raise errors.ServerError(
                    f"The Alyx server is busy (HTTP 429) at {where}: it asks to wait {wait:g} s"
                    f" more after {waited:g} s, beyond the {self.busy_deadline:g} s this "
                    "client waits; try again later",
                    url=response.url,
                    status=429,
                    detail=server_detail(response),
                )
            message = f"The Alyx server is busy (HTTP 429): waiting {wait:g} s before {where} again"
            if self.on_wait is not None:
                self.on_wait(wait, message)
            else:
                logger.warning(message)
            time.sleep(wait)
            waited += wait

    def _ensure_token(self) -> None:
        if self.token:
            return
        if self.token_store is not None and self.username:
            self.token = self.token_store.get(self.api_root, self.username)
            if self.token:
                return
        if self._password_at_hand():
            self.login()
            return
        raise errors.NotLoggedInError(
            f"Not logged in to {self.address}: give a password, or log in once to save a token"
        )

    def _password_at_hand(self) -> str | None:
        """The password given, else the provider's (asked once)."""
        if self._password is None and self._password_provider is not None:
            provider, self._password_provider = self._password_provider, None
            self._password = provider() or None
        return self._password

    def _drop_saved_token(self) -> None:
        if self.token_store is not None and self.username:
            self.token_store.forget(self.api_root, self.username)
        self.token = None

    def _send(
        self,
        method: str,
        url: str,
        auth: bool = False,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One HTTP exchange (with the session's retries); network failures become AlyxErrors.

        Redirects are never followed, for any request: a login re-POSTed on a 307,
        or a token-bearing GET sent on, could reach another host or plain http
        (``requests`` drops the ``Authorization`` header on some redirects, never
        the login's body). The whole exchange must end within ``deadline`` seconds
        (:attr:`deadline` by default).
        """
        headers = {"Authorization": f"Token {self.token}"} if auth and self.token else None
        where = f"{method} {url.split('?', 1)[0]}"
        seconds = self.deadline if deadline is None else deadline
        with Deadline(seconds) as watch:
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    **kwargs,
                )
            except requests.exceptions.RequestException as exc:
                if watch.expired:
                    raise self._too_slow(where, url, seconds) from None
                raise network_error(exc, self.address, where, url, self.timeout) from None
        if watch.expired:  # a body without a length ends early when its socket is shut
            raise self._too_slow(where, url, seconds)
        refuse_redirect(response, self.address)
        return response

    def _too_slow(self, where: str, url: str, seconds: float) -> errors.ServerTimeoutError:
        return errors.ServerTimeoutError(
            f"The Alyx server at {self.address} did not finish answering within the "
            f"{seconds:g} s deadline of one request ({where}): it sends too slowly",
            url=url,
        )


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters as Alyx reads them: booleans as ``True``/``False``, ``None`` dropped."""
    return {
        key: (str(value) if isinstance(value, bool) else value)
        for key, value in params.items()
        if value is not None
    }
