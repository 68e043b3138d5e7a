"""The "Connect" flow of the "Alyx connection" window: log in off the GUI thread, keep the client.

A mixin of :class:`~.connection_window.AlyxConnectionWindow`, which provides the controls,
the status line and ``_start`` (a :class:`~.background.BackgroundTask`). The client is the
project's connection (:mod:`.project_state`) once its login worked; a different address or
user is a different connection, so the old one goes as soon as either changes (1.x bug 3:
the first connection was cached forever).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.sync import check_user_name
from pybpod_alyx_module.sync.users import login_alyx_user

from . import messages, project_state
from .slots import guarded_slot

logger = logging.getLogger(__name__)


class ConnectFlow:
    """Connect, its end (connected or failed), and dropping the connection."""

    project: Any
    _client: AlyxClient | None
    _task: Any
    _settings: Any
    _address: Any
    _user: Any
    _password: Any
    _progress: Any
    #: The window's: the status line, the buttons' state, a worker task.
    _set_status: Callable[[str], None]
    _set_busy: Callable[[bool], None]
    _start: Callable[..., None]

    @guarded_slot
    def _connect_clicked(self) -> None:
        self._drop_connection()
        password = self._password.value or None
        try:
            client = client_from_settings(
                self._settings,
                address=self._address.value,
                username=self._user.value.strip(),
                password=password,
            )
            if not client.username:
                raise ValueError("Type your Alyx user name")
            check_user_name(client.username)
        except Exception as exc:
            self._set_status(messages.connection_failed(exc))
            return
        self._client = client
        self._set_status(messages.CONNECTING)
        self._start(
            lambda report: _log_in(client, with_password=password is not None),
            on_done=lambda _: self._connected(client),
            on_error=lambda exc: self._connect_failed(client, exc),
        )

    @guarded_slot
    def _connected(self, client: AlyxClient) -> None:
        self._task = None
        if client is not self._client:  # the address or user changed meanwhile
            client.close()
            return
        project_state.connect(self.project, client)
        self._password.value = ""  # the client holds it now, and nothing else does
        try:
            login_alyx_user(self.project, client.username)
        except Exception as exc:
            logger.exception("Could not log %s in as the project user", client.username)
            self._set_status(f"Status: CONNECTED, but the PyBpod user could not be set: {exc}")
        else:
            self._set_status(messages.CONNECTED)
        logger.info("Connected to Alyx at %s as %s", client.address, client.username)
        self._set_busy(False)

    @guarded_slot
    def _connect_failed(self, client: AlyxClient, error: BaseException) -> None:
        self._task = None
        if client is self._client:
            self._client = None
        client.close()
        logger.warning("Alyx connection failed: %s", error)
        self._set_status(messages.connection_failed(error))
        self._set_busy(False)

    @guarded_slot
    def _credentials_changed(self, *args: Any) -> None:
        """A different address or user is a different connection: the old one goes."""
        if self._client is None:
            return
        self._drop_connection()
        self._set_status(messages.NOT_CONNECTED)

    def _drop_connection(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        client, self._client = self._client, None
        if client is not None:
            if project_state.client_for(self.project) is client:
                project_state.disconnect(self.project)
            else:
                client.close()
        self._progress.hide()
        self._set_busy(False)


def _log_in(client: AlyxClient, with_password: bool) -> None:
    """Worker thread: a fresh token with a password, else prove the saved token still works."""
    if with_password:
        client.login()
    else:
        client.get("users", username=client.username)
