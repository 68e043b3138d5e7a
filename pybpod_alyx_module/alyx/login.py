"""Logging in to Alyx, and keeping the token: the credentials half of the client.

The password is held in memory only, to log in again when Alyx says the token expired;
the password and every token the client held are scrubbed from every error message while
the client lives (:func:`~.server_words.hide`). A token is saved in the token store, if
there is one, under the API root it was issued for.
"""

from __future__ import annotations

import logging
from typing import Callable

import requests

from . import errors
from .responses import json_body, raise_for_status, server_detail
from .retry_policy import RetryPolicy
from .server_words import hide
from .token_store import TokenStore

logger = logging.getLogger(__name__)


def is_sendable(token: object) -> bool:
    """True for a token an ``Authorization`` header can carry: printable ASCII, no spaces.

    Examples
    --------
    >>> is_sendable("0123abcd"), is_sendable("tök"), is_sendable("a b"), is_sendable(None)
    (True, False, False, False)
    """
    return (
        isinstance(token, str)
        and token.isascii()
        and token.isprintable()
        and " " not in token
        and token != ""
    )


class Login:
    """Login and token helpers of :class:`~.client.AlyxClient`, which provides the rest."""

    address: str
    username: str | None
    token_store: TokenStore | None
    _password: str | None
    _token: str | None
    _password_provider: Callable[[], str | None] | None
    api_root: str
    retry_policy: RetryPolicy
    url: Callable[[str], str]
    _send: Callable[..., requests.Response]

    @property
    def token(self) -> str | None:
        """The token the client sends, if it has one (never shown in a message)."""
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value or None
        hide(self._token, self)

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
        response = self._send(
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
        raise_for_status(response, self.retry_policy)
        body = json_body(response)
        if not isinstance(body, dict) or not is_sendable(body.get("token")):
            raise errors.BadResponseError(
                f"{response.url} answered a login without a token (or one that is not "
                "printable ASCII, which no HTTP header can carry)",
                url=response.url,
            )
        self.token = body["token"]
        if self.token_store is not None:
            self.token_store.save(self.api_root, self.username, self.token)
        logger.info("Logged in to %s as %s", self.api_root, self.username)
        return self.token

    def _ensure_token(self) -> None:
        """Hold a token an HTTP header can carry: the one given, a saved one, or a new login.

        A token that is not printable ASCII (a damaged token file) is dropped, not sent:
        ``http.client`` would fail on it with a traceback.
        """
        if self.token and not is_sendable(self.token):
            logger.warning("The token for %s is not printable ASCII: not used", self.address)
            self._drop_saved_token()
        if self.token:
            return
        if self.token_store is not None and self.username:
            saved = self.token_store.get(self.api_root, self.username)
            if is_sendable(saved):
                self.token = saved
                return
            if saved:  # damaged: it could never be sent
                self.token_store.forget(self.api_root, self.username)
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
            self._keep_password(provider())
        return self._password

    def _keep_password(self, password: str | None) -> None:
        """Hold ``password`` in memory, and scrub it from every error while this client lives."""
        self._password = password or None
        hide(self._password, self)

    def _hide_secrets(self) -> None:
        """Scrub the password and the token from every error while this client is open."""
        hide(self._password, self)
        hide(self._token, self)

    def _drop_saved_token(self) -> None:
        if self.token_store is not None and self.username:
            self.token_store.forget(self.api_root, self.username)
        self.token = None
