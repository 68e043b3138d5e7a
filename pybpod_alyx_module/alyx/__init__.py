"""A small, strict client for the Alyx REST API (requests only: no Qt, no PyBpod).

With a server at hand (so not run as a doctest)::

    from pybpod_alyx_module.alyx import AlyxClient

    alyx = AlyxClient("https://alyx.example.org", username="alice", password="…")
    alyx.login()
"""

from .client import DEFAULT_TIMEOUT, AlyxClient
from .errors import (
    AlyxError,
    BadCredentialsError,
    BadResponseError,
    InvalidTokenError,
    NotFoundError,
    NothingListensError,
    NotLoggedInError,
    PermissionDeniedError,
    RedirectRefusedError,
    RequestRejectedError,
    ServerBusyError,
    ServerError,
    ServerTimeoutError,
    ServerUnreachableError,
)
from .rate_limit import RateLimiter
from .retry_policy import RetryPolicy
from .token_store import TokenStore

__all__ = [
    "DEFAULT_TIMEOUT",
    "AlyxClient",
    "AlyxError",
    "BadCredentialsError",
    "BadResponseError",
    "InvalidTokenError",
    "NotFoundError",
    "NotLoggedInError",
    "NothingListensError",
    "PermissionDeniedError",
    "RateLimiter",
    "RedirectRefusedError",
    "RequestRejectedError",
    "RetryPolicy",
    "ServerBusyError",
    "ServerError",
    "ServerTimeoutError",
    "ServerUnreachableError",
    "TokenStore",
]
