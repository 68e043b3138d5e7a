"""The "Alyx connection" window: connect to Alyx, then Get Subjects into the project.

Laid out as in the 1.x plugin (Address, User:, Password:, Connect, the status
line, Get Subjects), plus the subject filters, a Cancel button, a progress bar
and a report of what the last sync did. This file holds the layout and the
window's state; its two flows are mixins of their own: Connect
(:mod:`.connect_flow`) and Get Subjects (:mod:`.get_subjects_flow`). Every network
call runs on a worker thread (:class:`~.background.BackgroundTask`); the project is
changed only on the GUI thread, at the end, after every question was answered.
"""

from __future__ import annotations

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
from pybpod_alyx_module.plugin_settings import read_settings

from . import messages, project_state
from .background import BackgroundTask
from .connect_flow import ConnectFlow
from .escape_closes import EscapeCloses
from .get_subjects_flow import GetSubjectsFlow
from .stepped_apply import SteppedApply

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


class AlyxConnectionWindow(ConnectFlow, GetSubjectsFlow, EscapeCloses, BaseWidget):
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

    # -- plumbing -----------------------------------------------------------------------

    def _start(self, work: Any, on_done: Any, on_error: Any, on_progress: Any = None) -> None:
        self._task = BackgroundTask(work, on_done, on_error, on_progress).start()
        self._set_busy(True)


def _logged_in(project: Any) -> str:
    user = project.loggeduser
    return user.name if user is not None else ""
