"""The AlyxError for a request that got no usable answer: refused, timed out, cut, bad TLS.

requests and urllib3 wrap the real cause several layers deep, and once the
retries are spent urllib3 even hides it (a read timeout surfaces as requests'
``ConnectionError``), so the innermost cause decides which error the user sees.
A refused connection says what to check (is the server running, is the port right)
in the same words on every system, not the system's own ("[WinError 10061] …").
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import urlsplit

import requests
from urllib3 import exceptions as urllib3_exceptions

from . import errors
from .server_words import shown

#: urllib3's words for the seconds a read waited: a TLS handshake waits the *connect*
#: timeout, and is reported as a read timeout all the same (urllib3 1.26 and 2.x).
_READ_SECONDS = re.compile(r"read timeout=([0-9.]+)\)")


def network_error(
    exc: Exception, address: str, where: str, url: str, timeout: tuple[float, float]
) -> errors.AlyxError:
    """The error to raise for ``exc``, raised by ``where`` (e.g. ``GET https://…/subjects``).

    ``timeout`` is the client's ``(connect, read)`` seconds, quoted in timeout messages.
    """
    cause = root_cause(exc)
    reason = shown(short_reason(cause), 300)  # may quote the server's bytes (a status line)
    if isinstance(exc, requests.exceptions.SSLError):
        if isinstance(cause, ssl.SSLCertVerificationError):
            problem = "Could not verify the TLS certificate of"
        else:  # the other end does not speak TLS as expected (a plain-HTTP server, say)
            problem = "Could not make a TLS (https) connection with"
        return errors.ServerUnreachableError(f"{problem} {address} ({where}): {reason}", url=url)
    timed_out = isinstance(cause, (urllib3_exceptions.TimeoutError, TimeoutError))
    # urllib3's NewConnectionError (refused, unknown host) derives from its ConnectTimeoutError.
    if timed_out and not isinstance(cause, urllib3_exceptions.NewConnectionError):
        connecting = isinstance(cause, urllib3_exceptions.ConnectTimeoutError)
        seconds = timeout[0] if connecting else _read_seconds(cause, timeout[1])
        stage = "accept a connection" if connecting else "answer"
        return errors.ServerTimeoutError(
            f"The Alyx server at {address} did not {stage} within {seconds:g} s ({where})",
            url=url,
        )
    if is_refused(cause):
        place = host_and_port(url)
        return errors.NothingListensError(
            f"Could not reach the Alyx server at {address} ({where}): nothing listens at "
            f"{place} (connection refused). Is the Alyx server running, and is the port right?",
            url=url,
        )
    if isinstance(
        exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return errors.ServerUnreachableError(
            f"Could not reach the Alyx server at {address} ({where}): {reason}", url=url
        )
    return errors.AlyxError(f"{where} failed: {reason}", url=url)


def is_refused(error: BaseException | None) -> bool:
    """True if ``error`` (or what it was raised from) is a refused connection: nothing listens.

    urllib3 raises its ``NewConnectionError`` from the system's ``ConnectionRefusedError``
    (``ECONNREFUSED``, Windows' ``WSAECONNREFUSED`` alike).
    """
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ConnectionRefusedError):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def host_and_port(url: str) -> str:
    """``host:port`` of ``url``, with the scheme's default port when none is written.

    Examples
    --------
    >>> host_and_port("http://127.0.0.1:8000/api/auth-token"), host_and_port("https://alyx.lab/")
    ('127.0.0.1:8000', 'alyx.lab:443')
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


def _read_seconds(cause: BaseException, default: float) -> float:
    """The seconds a read timeout actually waited, as urllib3 reports them, else ``default``."""
    found = _READ_SECONDS.search(str(cause))
    try:
        return float(found.group(1)) if found else default
    except ValueError:
        return default
