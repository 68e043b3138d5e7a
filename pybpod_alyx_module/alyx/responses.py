"""Turning HTTP answers into Python values or into :class:`AlyxError` subclasses.

Alyx (Django REST framework) explains refusals as JSON: ``{"detail": "..."}``
or field messages ``{"users": ["Object with username=nobody does not exist."]}``.
A proxy in front of it may answer an HTML page instead. Both become a short
sentence for the user, with the server's words cut and scrubbed of any secret
(:func:`~.server_words.shown`): a server may answer 50 MB, or echo the password.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from . import errors
from .retry_policy import DEFAULT_POLICY, RetryPolicy, parse_retry_after
from .server_words import shown

#: Alyx's words when a token is missing, expired or revoked (always HTTP 403, never 401).
INVALID_TOKEN_DETAILS = ("Invalid token.", "Authentication credentials were not provided.")
#: Statuses that mean "not now" rather than "this request is wrong" (429 aside).
BUSY_STATUSES = frozenset({502, 503, 504})

_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)


def server_detail(response: requests.Response) -> str | None:
    """Alyx's explanation of an answer, flattened to one line, or ``None``."""
    words = _detail(response)
    return None if words is None else shown(" ".join(words.split()))


def _detail(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        match = _TITLE.search(response.text or "")
        return " ".join(match.group(1).split()) if match else None
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        return "; ".join(f"{key}: {_join(value)}" for key, value in body.items()) or None
    if isinstance(body, list):
        return _join(body) or None
    return str(body)


def _join(value: Any) -> str:
    return " ".join(str(item) for item in value) if isinstance(value, list) else str(value)


def is_invalid_token(response: requests.Response) -> bool:
    """True for Alyx's 403 that means "log in again" rather than "not allowed"."""
    return response.status_code in (401, 403) and _detail(response) in INVALID_TOKEN_DETAILS


def is_json(response: requests.Response) -> bool:
    """True for a successful answer that says it is JSON."""
    return response.ok and "json" in response.headers.get("Content-Type", "")


def refuse_redirect(response: requests.Response, address: str) -> None:
    """Raise :class:`RedirectRefusedError` for a redirect (any 3xx), naming where it pointed.

    A redirect is never followed: it could take the password (a login re-POSTed on
    307/308) or the token to another host, or from https to plain http. A server
    that moved is told to the user, who types its new address.
    """
    status = response.status_code
    if not 300 <= status < 400:
        return
    location = response.headers.get("Location")
    target = shown(_without_query(urljoin(response.url, location))) if location else None
    where = f"{response.request.method} {response.url.split('?', 1)[0]}"
    pointed = f" to {target}" if target else " (without a Location)"
    raise errors.RedirectRefusedError(
        f"The Alyx server at {address} answered {where} with a redirect (HTTP {status})"
        f"{pointed}; it was not followed, so that your password and token stay with "
        f"{address}. If the server has moved, type its new address.",
        url=target,
        status=status,
    )


def _without_query(url: str) -> str:
    """``scheme://host/path`` only: a query or a user part may echo what was sent."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def raise_for_status(response: requests.Response, policy: RetryPolicy = DEFAULT_POLICY) -> None:
    """Raise the :class:`AlyxError` subclass that matches a non-2xx answer.

    A 429 (or a 502/503/504 with a ``Retry-After``) is a :class:`ServerBusyError` whose
    ``retry_after`` is read by ``policy``.
    """
    status = response.status_code
    if status < 400:
        return
    asked = response.headers.get("Retry-After")
    if status == 429 or (status in BUSY_STATUSES and parse_retry_after(asked) is not None):
        raise busy_error(response, policy.wait(1, asked))
    detail = server_detail(response)
    where = f"{response.request.method} {shown(response.url)}"
    said = f": {detail}" if detail else ""
    kwargs = {"url": response.url, "status": status, "detail": detail}
    if is_invalid_token(response):
        raise errors.InvalidTokenError(
            f"Alyx refused the saved login (HTTP {status}{said}); log in again with your password",
            **kwargs,
        )
    if status in (401, 403):
        raise errors.PermissionDeniedError(
            f"Not allowed: {where} answered HTTP {status}{said}", **kwargs
        )
    if status == 404:
        raise errors.NotFoundError(
            f"Not found on the Alyx server: {where} (HTTP 404){said}", **kwargs
        )
    if status >= 500:
        raise errors.ServerError(
            f"The Alyx server failed (HTTP {status}) on {where}{said}", **kwargs
        )
    raise errors.RequestRejectedError(
        f"The Alyx server refused {where} (HTTP {status}){said}", **kwargs
    )


def busy_error(
    response: requests.Response,
    retry_after: float,
    waited: float = 0.0,
    budget: float | None = None,
) -> errors.ServerBusyError:
    """The error for a server that asks to be asked later than the client waits.

    ``retry_after`` is the next wait the client would have made (what the server asked,
    within the policy's bounds); ``waited`` what this request already waited, within
    ``budget`` seconds (``None``: a request that is not waited for at all).
    """
    status = response.status_code
    detail = server_detail(response)
    where = f"{response.request.method} {shown(response.url.split('?', 1)[0])}"
    asked = parse_retry_after(response.headers.get("Retry-After"))
    state = "busy" if status == 429 else "unavailable"
    said = f": {detail}" if detail else ""
    message = f"The Alyx server is {state} (HTTP {status}{said}) at {where}"
    if asked is not None:
        message += f"; it asks to wait {seconds(asked)} s"
    if budget is not None:
        message += (
            f"; waiting {seconds(retry_after)} s more after {seconds(waited)} s would go "
            f"beyond the {seconds(budget)} s one request may wait"
        )
    message += f". Try again in {seconds(retry_after)} s or later"
    return errors.ServerBusyError(
        message, retry_after=retry_after, url=response.url, status=status, detail=detail
    )


def seconds(value: float) -> str:
    """Seconds as a person reads them: ``1``, ``2.5``, ``1e+300``.

    Examples
    --------
    >>> seconds(1.0), seconds(2.54), seconds(3600), seconds(1e300)
    ('1', '2.5', '3600', '1e+300')
    """
    if abs(value) >= 1e9:
        return f"{value:.3g}"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def json_body(response: requests.Response) -> Any:
    """The JSON of a 2xx answer (``None`` for an empty one); anything else is a BadResponseError."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        kind = shown(response.headers.get("Content-Type", "unknown content"), 100)
        start = shown(" ".join(response.text[:1000].split()), 160)  # scrubbed, then cut
        raise errors.BadResponseError(
            f"{shown(response.url)} did not answer Alyx JSON (HTTP {response.status_code}, {kind}): "
            f"'{start}' — is this the address of an Alyx server?",
            url=response.url,
            status=response.status_code,
        ) from None
