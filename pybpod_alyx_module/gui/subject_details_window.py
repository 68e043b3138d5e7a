"""The "Alyx subject details" window: a read-only two-column list, and Refresh.

Rows are rebuilt from the subject's data each time the window is shown or a
sync touches the subject. Refresh fetches the subject's full record (with its
weighings and water) on a worker thread, when the project is connected.
"""

from __future__ import annotations

import logging
from typing import Any

from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlList

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.sync.fields import local_fields
from pybpod_alyx_module.sync.subjects import alyx_id

from . import messages, project_state
from .background import BackgroundTask
from .escape_closes import EscapeCloses
from .slots import guarded_slot
from .subject_rows import detail_rows
from .weight_chart import WeightChart

logger = logging.getLogger(__name__)

TITLE = "Alyx subject details"


class AlyxSubjectDetailsWindow(EscapeCloses, BaseWidget):
    """A floating dialog over PyBpod's main window; Escape closes it."""

    def __init__(self, subject: Any) -> None:
        super().__init__(TITLE, parent_win=subject.project.mainwindow)
        self.subject = subject
        self._task: BackgroundTask | None = None
        self._list = ControlList("", horizontal_headers=["Field", "Value"], readonly=True)
        self._list.select_entire_row = True
        self._list.autoscroll = False  # start at Nickname, not at the last row
        self._refresh = ControlButton("Refresh", default=self._refresh_clicked)
        self._status = ControlLabel("")
        self.chart = WeightChart()  # weight and water drawn (gui.weight_chart)
        self._chart = self.chart.control
        self._formset = ["_chart", "=", "_list", ("_refresh", "_status")]
        self.setMinimumSize(560, 720)

    def show(self) -> None:
        self.refresh_rows()
        super().show()

    def refresh_rows(self) -> None:
        """Rebuild the rows from the subject's current data."""
        self.title = f"{TITLE}: {self.subject.name}"
        self._list.value = [list(row) for row in detail_rows(self.subject.data)]
        internals.fit_two_columns(self._list)
        self.chart.show(self.subject.data)
        connected = project_state.client_for(self.subject.project) is not None
        self._refresh.enabled = connected and not self.busy
        if not connected and not self.busy:
            self._status.value = "Connect with Sync to Alyx to refresh"

    def rows(self) -> list[tuple[str, str]]:
        """The rows as shown: ``[(label, text), …]``."""
        return [tuple(row) for row in self._list.value]

    @property
    def busy(self) -> bool:
        return self._task is not None and self._task.running

    def show_error(self, error: BaseException) -> None:
        """An unexpected error in one of this window's slots (already logged)."""
        self._task = None
        self._status.value = messages.unexpected_error(error).replace("Status: ", "")

    @guarded_slot
    def _refresh_clicked(self) -> None:
        client = project_state.client_for(self.subject.project)
        subject_id = alyx_id(self.subject)
        if client is None or subject_id is None:
            self.refresh_rows()
            return
        self._refresh.enabled = False
        self._status.value = "Refreshing from Alyx…"
        self._task = BackgroundTask(
            lambda report: client.subject(subject_id), self._refreshed, self._refresh_failed
        ).start()

    @guarded_slot
    def _refreshed(self, record: dict[str, Any]) -> None:
        self._task = None
        if self.subject.data is not None:
            for key, value in local_fields(record).items():
                # item by item: sca's scadict.update() skips the flag that stamps __UPDATED-ON__
                self.subject.data[key] = value
        self._status.value = "Refreshed from Alyx (save the project to keep it)"
        self.refresh_rows()

    @guarded_slot
    def _refresh_failed(self, error: BaseException) -> None:
        self._task = None
        self._status.value = messages.connection_failed(error).replace(
            "Status: ", "Refresh failed: "
        )
        self.refresh_rows()

    def closeEvent(self, event: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        super().closeEvent(event)
