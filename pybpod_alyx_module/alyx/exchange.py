"""The one place every request of the client goes through, to any server, for any caller.

An :class:`Exchange` sends one request and returns its answer, after:

- a slot from the client's :class:`~.rate_limit.RateLimiter` (shared by all its threads),
  for each try, so that a rig's load stays bounded whatever the server answers;
- a total deadline on each try (:mod:`.deadline`), network retries included;
- a body read with a cap: at most :data:`ERROR_BODY_LIMIT` of an answer that is not a
  success (only its first words are ever shown), at most :data:`BODY_LIMIT` of a success
  (beyond, a :class:`~.errors.BadResponseError`): a 50 MB error page is never read whole;
- redirects refused (:func:`~.responses.refuse_redirect`);
- answers that ask to try again waited out under the client's
  :class:`~.retry_policy.RetryPolicy`: a 429 for any method (the throttle refused it before
  acting), a 502/503/504 for idempotent methods, at most ``retries`` times. Each wait lies
  within the policy's floor and ceiling and is reported through ``on_wait``; a wait beyond
  the request's busy budget is not made: :class:`~.errors.ServerBusyError` says when to
  come back.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import requests

from . import errors
from .deadline import Deadline, total_deadline
from .network_errors import network_error
from .rate_limit import RateLimiter
from .responses import BUSY_STATUSES, busy_error, refuse_redirect, seconds
from .retry_policy import RetryPolicy
from .server_words import shown
from .transport import IDEMPOTENT_METHODS, new_session

logger = logging.getLogger(__name__)

#: The most of an error answer read (bytes): enough for any detail Alyx or a proxy sends.
ERROR_BODY_LIMIT = 64 * 1024
#: The most of a successful answer read (bytes): a page of 1,000 subjects is about 1 MiB.
BODY_LIMIT = 64 * 1024 * 1024
#: Bytes read at a time.
CHUNK = 64 * 1024

#: ``on_wait(seconds, message)``: told before each wait for a server that asked for one.
WaitReport = Callable[[float, str], None]


class Exchange:
    """Requests to one server as the client sends them: paced, bounded, retried by policy.

    Parameters
    ----------
    address
        The server as the user typed it (normalized), quoted in messages.
    timeout
        ``(connect, read)`` seconds of each try; the try's deadline derives from them.
    retries
        Extra tries after a network failure (urllib3, see :mod:`.transport`) or a
        502/503/504 answer to an idempotent request.
    policy, limiter, sleep, on_wait
        The client's retry policy, its rate limiter (``None``: no limit), what waits, and
        who is told of each wait (else a warning is logged).
    """

    def __init__(
        self,
        address: str,
        timeout: tuple[float, float],
        retries: int,
        policy: RetryPolicy,
        limiter: RateLimiter | None,
        sleep: Callable[[float], None],
        on_wait: WaitReport | None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        #: Seconds one try may take from start to end, network retries included.
        self.deadline = total_deadline(timeout)
        self.retries = retries
        self.policy = policy
        self.limiter = limiter
        self.sleep = sleep
        self.on_wait = on_wait
        self.session = new_session(retries, policy, sleep)

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send until the server takes the request or the policy gives up; return the answer.

        ``deadline`` replaces the seconds each try may take. ``kwargs`` go to ``requests``.

        Raises
        ------
        ServerBusyError
            The server asked to wait longer than the busy budget leaves.
        ServerUnreachableError, RedirectRefusedError, BadResponseError
            No usable answer.
        """
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            response = self._try(method, url, headers, deadline, kwargs)
            if not self._asks_again(method, response.status_code, attempt):
                return response
            wait = self.policy.wait(attempt, response.headers.get("Retry-After"))
            if waited + wait > self.policy.busy_budget:
                raise busy_error(response, wait, waited, self.policy.busy_budget)
            self._report(response, wait)
            self.sleep(wait)
            waited += wait

    def _asks_again(self, method: str, status: int, attempt: int) -> bool:
        if status == 429:
            return True
        return status in BUSY_STATUSES and method in IDEMPOTENT_METHODS and attempt <= self.retries

    def _report(self, response: requests.Response, wait: float) -> None:
        status = response.status_code
        state = "busy" if status == 429 else "failing"
        where = f"{response.request.method} {shown(response.url.split('?', 1)[0])}"
        message = f"The Alyx server is {state} (HTTP {status}): waiting {seconds(wait)} s before "
        message += f"{where} again"
        if self.on_wait is not None:
            self.on_wait(wait, message)
        else:
            logger.warning(message)

    def _try(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None,
        deadline: float | None,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        """One try (with urllib3's network retries); network failures become AlyxErrors."""
        if self.limiter is not None:
            self.limiter.acquire()  # before the deadline: waiting for a slot is not slowness
        where = f"{method} {shown(url.split('?', 1)[0])}"
        allowed = self.deadline if deadline is None else deadline
        with Deadline(allowed) as watch:
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    **kwargs,
                )
                _read_body(response)
            except requests.exceptions.RequestException as exc:
                if watch.expired:
                    raise self._too_slow(where, url, allowed) from None
                raise network_error(exc, self.address, where, url, self.timeout) from None
        if watch.expired:  # a body without a length ends early when its socket is shut
            raise self._too_slow(where, url, allowed)
        refuse_redirect(response, self.address)
        return response

    def _too_slow(self, where: str, url: str, seconds: float) -> errors.ServerTimeoutError:
        return errors.ServerTimeoutError(
            f"The Alyx server at {self.address} did not finish answering within the "
            f"{seconds:g} s deadline of one request ({where}): it sends too slowly",
            url=url,
        )


def _read_body(response: requests.Response) -> None:
    """Read the body of ``response`` into it, up to its cap (see the module's docstring)."""
    limit = BODY_LIMIT if 200 <= response.status_code < 300 else ERROR_BODY_LIMIT
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    if size > limit:
        response.close()  # the rest is never read: the connection is dropped, not reused
        if limit == BODY_LIMIT:
            raise errors.BadResponseError(
                f"{shown(response.url)} answered more than {BODY_LIMIT // 2**20} MiB (HTTP "
                f"{response.status_code}): no Alyx answer is that large; narrow the request, "
                "or check the address",
                url=response.url,
                status=response.status_code,
            )
    # What ``requests`` itself does when it reads a body (``Response.content``).
    response._content = b"".join(chunks)[:limit]
    response._content_consumed = True
