"""The "Alyx connection" window: connect to Alyx, then Get Subjects into the project.

Laid out as in the 1.x plugin (Address, User:, Password:, Connect, the status
line, Get Subjects), plus the subject filters, a Cancel button, a progress bar
and a report of what the last sync did. Every network call runs on a worker
thread (:class:`~.background.BackgroundTask`); the project is changed only on
the GUI thread, at the end, after every question was answered.
"""

from __future__ import annotations

import logging
from typing import Any

from confapp import conf
from pyforms.basewidget import BaseWidget
from pyforms.controls import (
    ControlButton,
    ControlCheckBox,
    ControlLabel,
    ControlPassword,
    ControlProgress,
    ControlText,
    ControlTextArea,
)

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import read_settings
from pybpod_alyx_module.sync import SubjectSelection, SyncResult, check_user_name
from pybpod_alyx_module.sync.users import login_alyx_user

from . import messages, project_state
from .background import BackgroundTask
from .escape_closes import EscapeCloses
from .project_sync import download_and_plan, plan_for_project
from .slots import guarded_slot
from .snapshot import ProjectSnapshot
from .stepped_apply import SteppedApply

logger = logging.getLogger(__name__)

TITLE = "Alyx connection"


def show_connection_window(project: Any) -> AlyxConnectionWindow:
    """Show the project's connection window, creating it on first use."""
    state = project_state.state_of(project)
    if state.window is None:
        state.window = AlyxConnectionWindow(project)
    window = state.window
    window.show()
    window.raise_()
    window.activateWindow()
    return window


class AlyxConnectionWindow(EscapeCloses, BaseWidget):
    """A floating dialog over PyBpod's main window; Escape closes it.

    Parameters
    ----------
    project
        The PyBpod project (GUI model) that Connect logs in and Get Subjects fills.
    """

    def __init__(self, project: Any) -> None:
        super().__init__(TITLE, parent_win=project.mainwindow)
        self.project = project
        self._task: BackgroundTask | None = None
        self._applying: SteppedApply | None = None  # the plan, a few subjects per turn
        self._client: AlyxClient | None = None  # being connected, or connected
        self._settings = read_settings(conf)  # warns about a clear-text password

        self._address = ControlText("Address", default=self._settings.address)
        self._user = ControlText("User:", default=self._settings.username or _logged_in(project))
        # Deprecated clear-text setting; a saved token lets the field stay empty.
        self._password = ControlPassword("Password:", default=self._settings.password)
        self._connect = ControlButton("Connect", default=self._connect_clicked)
        self._status = ControlLabel(messages.NOT_CONNECTED)
        self._status.selectable = True
        internals.wrap_label_full_width(self._status)  # failure reasons can be long
        self._lab = ControlText("Lab", helptext="Only this lab's subjects (empty: any lab)")
        self._alyx_project = ControlText(
            "Alyx project", helptext="Only this Alyx project's subjects (empty: any project)"
        )
        self._all_alive = ControlCheckBox(
            "All alive subjects", helptext="Every alive subject you can see, whoever is responsible"
        )
        self._get_subjects = ControlButton("Get Subjects", default=self._get_subjects_clicked)
        self._cancel = ControlButton("Cancel", default=self._cancel_clicked)
        self._progress = ControlProgress("%v/%m")
        self._report = ControlTextArea("Report", readonly=True)

        self._formset = [
            "_address",
            "_user",
            "_password",
            "_connect",
            "_status",
            ("_lab", "_alyx_project"),
            "_all_alive",
            ("_get_subjects", "_cancel"),
            "_progress",
            "_report",
        ]
        internals.text_changed(self._address).connect(self._credentials_changed)
        internals.text_changed(self._user).connect(self._credentials_changed)
        self._get_subjects.enabled = False
        self._cancel.enabled = False
        self._progress.hide()
        self.setMinimumWidth(480)

    # -- state ----------------------------------------------------------------------

    @property
    def status(self) -> str:
        """The status line as shown, e.g. ``Status: CONNECTED``."""
        return internals.label_text(self._status)

    @property
    def busy(self) -> bool:
        """True while a Connect or a Get Subjects is running."""
        applying = self._applying is not None and self._applying.running
        return (self._task is not None and self._task.running) or applying

    @property
    def connected(self) -> bool:
        return self._client is not None and project_state.client_for(self.project) is self._client

    def _set_status(self, text: str) -> None:
        self._status.value = text

    def _set_busy(self, busy: bool) -> None:
        self._connect.enabled = not busy
        self._get_subjects.enabled = not busy and self.connected
        self._cancel.enabled = busy
        for control in (self._lab, self._alyx_project, self._all_alive):
            control.enabled = not busy

    def show_error(self, error: BaseException) -> None:
        """An unexpected error in one of this window's slots (already logged): say so, stay usable."""
        self._set_status(messages.unexpected_error(error))
        self._progress.hide()
        self._set_busy(self.busy)

    def shut_down(self) -> None:
        """The project closed: stop any work, drop the connection, close the window."""
        if self._applying is not None:
            self._applying.stop()
            self._applying = None
        self._drop_connection()
        self.close()

    # -- connect --------------------------------------------------------------------

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

    # -- get subjects -----------------------------------------------------------------

    def selection(self) -> SubjectSelection:
        """The subjects the filters ask for (default: the connected user's)."""
        return SubjectSelection(
            lab=self._lab.value.strip() or None,
            project=self._alyx_project.value.strip() or None,
            all_alive=bool(self._all_alive.value),
        )

    @guarded_slot
    def _get_subjects_clicked(self) -> None:
        if not self.connected:
            self._set_status(messages.NOT_CONNECTED)
            self._set_busy(False)
            return
        client = self._client
        selection = self.selection()
        snapshot = ProjectSnapshot.of(self.project)
        self._report.value = ""
        self._progress.show()
        internals.set_progress(self._progress, 0, None)
        self._set_status(messages.downloading(0, None))
        self._start(
            lambda report: download_and_plan(client, selection, snapshot, report),
            on_done=self._downloaded,
            on_error=self._download_failed,
            on_progress=self._downloading,
        )

    @guarded_slot
    def _downloading(self, done: int, total: int | None) -> None:
        internals.set_progress(self._progress, done, total)
        self._set_status(messages.downloading(done, total))

    @guarded_slot
    def _download_failed(self, error: BaseException) -> None:
        self._task = None
        logger.warning("Get Subjects failed: %s", error)
        self._set_status(messages.sync_failed(error))
        self._progress.hide()
        self._set_busy(False)

    @guarded_slot
    def _downloaded(self, downloaded: Any) -> None:
        self._task = None
        self._cancel.enabled = False  # from here on, the questions offer the way out
        try:
            plan = plan_for_project(self.project, downloaded, self._client.username)
        except Exception as exc:
            self._apply_failed(exc, None)
            return
        self._set_status("Status: Merging the subjects into the project…")
        self._applying = SteppedApply(
            self.project,
            plan,
            self._ask_override,
            on_progress=self._applying_progress,
            on_done=self._applied,
            on_cancelled=self._apply_cancelled,
            on_failed=self._apply_failed,
        ).start()

    def _applying_progress(self, done: int, total: int) -> None:
        internals.set_progress(self._progress, done, total)
        self._set_status(f"Status: Merging subjects {done}/{total}")

    def _apply_cancelled(self) -> None:
        self._set_status(messages.CANCELLED)
        self._progress.hide()
        self._set_busy(False)

    def _applied(self, result: SyncResult) -> None:
        logger.info("Alyx sync: %s", result.counts())
        self._set_status(messages.summary(result))
        self._report.value = messages.report(result)
        self._progress.hide()
        self._set_busy(False)

    def _apply_failed(self, error: BaseException, result: SyncResult | None) -> None:
        logger.error("Applying the Alyx subjects failed", exc_info=error)
        self._set_status(messages.apply_failed(error, result))
        if result is not None:
            self._report.value = messages.report(result)
        self._progress.hide()
        self._set_busy(False)

    def _ask_override(self, update: Any) -> str:
        """Ask "Replace local details?"; Cancel, Escape, a closed dialog (any other answer) cancel."""
        answer = self.question(
            messages.override_question(update),
            messages.UPDATE_TITLE,
            buttons=list(messages.UPDATE_BUTTONS),
        )
        return answer if answer in messages.UPDATE_BUTTONS else "cancel"

    @guarded_slot
    def _cancel_clicked(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._progress.hide()
        self._set_status(messages.CANCELLED)
        self._set_busy(False)

    # -- plumbing -----------------------------------------------------------------------

    def _start(self, work: Any, on_done: Any, on_error: Any, on_progress: Any = None) -> None:
        self._task = BackgroundTask(work, on_done, on_error, on_progress).start()
        self._set_busy(True)


def _log_in(client: AlyxClient, with_password: bool) -> None:
    """Worker thread: a fresh token with a password, else prove the saved token still works."""
    if with_password:
        client.login()
    else:
        client.get("users", username=client.username)


def _logged_in(project: Any) -> str:
    user = project.loggeduser
    return user.name if user is not None else ""
