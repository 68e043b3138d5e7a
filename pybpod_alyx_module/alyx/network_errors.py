"""The AlyxError for a request that got no usable answer: refused, timed out, cut, bad TLS.

requests and urllib3 wrap the real cause several layers deep, and once the
retries are spent urllib3 even hides it (a read timeout surfaces as requests'
``ConnectionError``), so the innermost cause decides which error the user sees.
"""

from __future__ import annotations

import requests
from urllib3 import exceptions as urllib3_exceptions

from . import errors
from .server_words import shown


def network_error(
    exc: Exception, address: str, where: str, url: str, timeout: tuple[float, float]
) -> errors.AlyxError:
    """The error to raise for ``exc``, raised by ``where`` (e.g. ``GET https://…/subjects``).

    ``timeout`` is the client's ``(connect, read)`` seconds, quoted in timeout messages.
    """
    cause = root_cause(exc)
    reason = shown(short_reason(cause), 300)  # may quote the server's bytes (a status line)
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.ServerUnreachableError(
            f"Could not verify the TLS certificate of {address} ({where}): {reason}", url=url
        )
    timed_out = isinstance(cause, (urllib3_exceptions.TimeoutError, TimeoutError))
    # urllib3's NewConnectionError (refused, unknown host) derives from its ConnectTimeoutError.
    if timed_out and not isinstance(cause, urllib3_exceptions.NewConnectionError):
        connecting = isinstance(cause, urllib3_exceptions.ConnectTimeoutError)
        seconds = timeout[0] if connecting else timeout[1]
        stage = "accept a connection" if connecting else "answer"
        return errors.ServerTimeoutError(
            f"The Alyx server at {address} did not {stage} within {seconds:g} s ({where})",
            url=url,
        )
    if isinstance(
        exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return errors.ServerUnreachableError(
            f"Could not reach the Alyx server at {address} ({where}): {reason}", url=url
        )
    return errors.AlyxError(f"{where} failed: {reason}", url=url)


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception inside requests' and urllib3's wrappers."""
    while True:
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in reversed(exc.args) if isinstance(a, BaseException)), None)
        if inner is None:
            return exc
        exc = inner


def short_reason(cause: BaseException) -> str:
    """A cause without the connection-pool noise.

    ``HTTPConnection(host='h', port=1): Failed to establish a new connection:
    [Errno 111] Connection refused`` becomes ``[Errno 111] Connection refused``.
    """
    text = str(cause)
    return text.rsplit(": ", 1)[-1] if "): " in text else text
