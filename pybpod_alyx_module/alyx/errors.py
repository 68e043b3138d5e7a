"""Exceptions raised by the Alyx client.

One base, :class:`AlyxError`, so that a caller (the GUI's status label, the
command line's exit code) can catch everything the server or the network can
do wrong, and subclasses for the cases a lab user acts on differently: a wrong
password, a server that cannot be reached, a token that expired, a subject
that does not exist.

Every message is written for a person at a rig: it names the address, the
HTTP status and Alyx's own ``detail`` where there is one. No message ever
contains a password or a token, nor more than a bounded share of what a server
said: :class:`AlyxError` itself scrubs and bounds its message, ``detail`` and
``url`` (:mod:`.server_words`), wherever and by whom it is built.
"""

from __future__ import annotations

from .server_words import shown

#: The longest message of an error (characters): the client's words and the server's cut ones.
MESSAGE_LIMIT = 2000


class AlyxError(Exception):
    """Base of every error raised by :mod:`pybpod_alyx_module.alyx`.

    Parameters
    ----------
    message
        What happened, in words a lab user understands.
    url
        The address that was requested, if any.
    status
        The HTTP status the server answered, if it answered.
    detail
        Alyx's own explanation (its ``detail`` or field messages), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        message = shown(message, MESSAGE_LIMIT)
        super().__init__(message)
        self.message = message
        self.url = None if url is None else shown(url)
        self.status = status
        self.detail = None if detail is None else shown(detail)

    def __str__(self) -> str:
        return self.message


class BadCredentialsError(AlyxError):
    """The server refused the user name and password."""


class ServerUnreachableError(AlyxError):
    """No answer: wrong address, server down, network cut or connection reset."""


class NothingListensError(ServerUnreachableError):
    """The connection was refused: nothing listens at that host and port (server down, wrong port)."""


class ServerTimeoutError(ServerUnreachableError):
    """The server did not answer within the configured timeout."""


class InvalidTokenError(AlyxError):
    """The token was refused (expired or revoked) and no password is at hand to log in again."""


class NotLoggedInError(AlyxError):
    """A request needs a token, and the client has neither a token nor a password."""


class PermissionDeniedError(AlyxError):
    """The user is logged in but may not do this (HTTP 403 other than an invalid token)."""


class NotFoundError(AlyxError):
    """The requested endpoint or record does not exist (HTTP 404)."""


class RequestRejectedError(AlyxError):
    """The server refused the request's content (HTTP 400 and other 4xx), e.g. an unknown user."""


class ServerError(AlyxError):
    """The server failed (HTTP 5xx), or was still busy (429) after the waits the client allows."""


class ServerBusyError(ServerError):
    """The server asked to be asked later (429, or 502/503/504 with a ``Retry-After``),
    later than this request may wait.

    Parameters
    ----------
    retry_after
        Seconds from now after which the server may take the request: what it asked
        for, or the client's own next wait, within the retry policy's floor and ceiling.
        The outbox postpones the item by this much instead of trying again at once.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        url: str | None = None,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, detail=detail)
        self.retry_after = retry_after


class RedirectRefusedError(AlyxError):
    """The server answered with a redirect, which the client never follows.

    Following it could send the password or the token to another host, or from
    https to plain http. ``url`` is where the redirect pointed.
    """


class BadResponseError(AlyxError):
    """The server answered something that is not Alyx JSON of the expected shape."""
