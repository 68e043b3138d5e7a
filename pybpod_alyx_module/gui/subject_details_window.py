"""The "Alyx subject details" window: the weight and water chart, a read-only list, and Refresh.

Rows and chart are rebuilt from the subject's data each time the window is shown or a
sync touches the subject. Refresh fetches the subject's full record (with its weighings
and water) on a worker thread, when the project is connected.

A weighing or water the outbox has just sent for this subject is not in the saved data
yet, and a window that went on saying "no weighings on Alyx yet" right after one was sent
would be believed. So while the window is shown it listens to the project's registrar
(:meth:`~.registration.ProjectRegistrar.listen`): when the outbox reports an item of this
subject sent, the window says so ("sent to Alyx at HH:MM") and refreshes from Alyx. A
window shown again after a send it did not see does the same.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlList

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.register import SENT, Item
from pybpod_alyx_module.sync.fields import local_fields, water_administrations
from pybpod_alyx_module.sync.subjects import alyx_id

from . import messages, project_state
from .background import BackgroundTask
from .chart_drawing import moment_of
from .escape_closes import EscapeCloses
from .outbox_view import OutboxView
from .registration import registrar_of
from .slots import guarded_slot
from .subject_rows import detail_rows
from .weight_chart import WeightChart

logger = logging.getLogger(__name__)

TITLE = "Alyx subject details"
HEADERS = ["Field", "Value"]


def unseen_sends(
    items: list[Item], data: Mapping[str, Any] | None, subject_id: str | None, since: float
) -> list[Item]:
    """This subject's items sent after ``since`` (epoch s) whose weighing or water ``data`` lacks.

    A session item without a weighing or water has nothing the window shows; an item whose
    records a Refresh brought already is not news.

    >>> unseen_sends([], {}, "a-subject", 0.0)
    []
    """
    if subject_id is None:
        return []
    data = data or {}
    shown = {
        "weighing": _records_of(data.get("weighings"), "weight"),
        "water": _records_of(water_administrations(data), "water_administered"),
    }
    found = []
    for item in items:
        subject = item.payload.get("subject")
        if item.state != SENT or item.updated <= since or not isinstance(subject, dict):
            continue
        if subject.get("id") != subject_id:
            continue
        sent = {
            step: _records_of([item.payload.get(step)], amount)
            for step, amount in (("weighing", "weight"), ("water", "water_administered"))
        }
        if any(record not in shown[step] for step, records in sent.items() for record in records):
            found.append(item)
    return found


def with_sent(data: Mapping[str, Any] | None, items: list[Item]) -> dict[str, Any]:
    """A copy of the subject's ``data`` with the weighings and water of ``items`` added.

    What the window shows until a Refresh brings them from Alyx (the saved data is not
    changed: only a sync or a Refresh writes it).
    """
    shown = dict(data or {})
    weighings = list(shown.get("weighings") or [])
    water = list(water_administrations(shown))
    for item in items:
        if isinstance(item.payload.get("weighing"), Mapping):
            weighings.append(dict(item.payload["weighing"]))
        if isinstance(item.payload.get("water"), Mapping):
            water.append(dict(item.payload["water"]))
    shown["weighings"], shown["water_administration"] = weighings, water
    shown.pop("water_administrations", None)  # the other spelling, read into ``water``
    return shown


def sent_words(items: list[Item]) -> str:
    """``Sent to Alyx at 10:42: SW_001 23.4 g``: what was sent, and when."""
    return "; ".join(
        f"Sent to Alyx at {datetime.datetime.fromtimestamp(item.updated):%H:%M}: {item.label}"
        for item in items
    )


def _records_of(records: Any, amount: str) -> set[tuple[datetime.datetime, float]]:
    """``{(moment to the second, amount), …}``: how a sent record is recognised in the data."""
    found = set()
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, Mapping):
            continue
        moment, value = moment_of(record.get("date_time")), record.get(amount)
        if moment is not None and isinstance(value, (int, float)):
            found.add((moment.replace(microsecond=0), round(float(value), 6)))
    return found


class AlyxSubjectDetailsWindow(EscapeCloses, BaseWidget):
    """A floating dialog over PyBpod's main window; Escape closes it."""

    def __init__(self, subject: Any) -> None:
        super().__init__(TITLE, parent_win=subject.project.mainwindow)
        self.subject = subject
        self._task: BackgroundTask | None = None
        self._list = ControlList("", horizontal_headers=HEADERS, readonly=True)
        self._list.select_entire_row = True
        self._list.autoscroll = False  # start at Nickname, not at the last row
        self._refresh = ControlButton("Refresh", default=self._refresh_clicked)
        self._status = ControlLabel("")
        self.chart = WeightChart()  # weight and water drawn (gui.weight_chart)
        self._chart = self.chart.control
        self._formset = ["_chart", "=", "_list", ("_refresh", "_status")]
        self.setMinimumSize(560, 720)
        #: Sends up to this moment were refreshed for (or said); later ones are news.
        self._seen_until = 0.0
        #: What was sent, said again after the refresh it started.
        self._said = ""
        #: Sent by the outbox, not yet brought by a Refresh: shown with the saved data.
        self._sent: list[Item] = []
        #: The project's registrar, listened to while the window is shown.
        self._registrar: Any = None

    def show(self) -> None:
        self.refresh_rows()
        super().show()
        if self._registrar is None:
            self._registrar = registrar_of(self.subject.project)
            self._registrar.listen(self._outbox_read)
        self._outbox_read(self._registrar.view)  # a send while the window was closed

    def refresh_rows(self) -> None:
        """Rebuild the rows and the chart from the subject's current data."""
        self.title = f"{TITLE}: {self.subject.name}"
        shown = with_sent(self.subject.data, self._sent) if self._sent else self.subject.data
        self._list.value = [list(row) for row in detail_rows(shown)]
        # The Value column wraps: weeks of weighings never widen it out of view, header and all.
        internals.fit_table(self._list, stretched=(1,))
        self.chart.show(shown)
        connected = project_state.client_for(self.subject.project) is not None
        self._refresh.enabled = connected and not self.busy
        if not connected and not self.busy and not self._status.value:
            self._status.value = "Connect with Sync to Alyx to refresh"

    def rows(self) -> list[tuple[str, str]]:
        """The rows as shown: ``[(label, text), …]``."""
        return [tuple(row) for row in self._list.value]

    @property
    def status(self) -> str:
        return self._status.value

    @property
    def busy(self) -> bool:
        return self._task is not None and self._task.running

    def show_error(self, error: BaseException) -> None:
        """An unexpected error in one of this window's slots (already logged)."""
        self._task = None
        self._status.value = messages.unexpected_error(error).replace("Status: ", "")

    @guarded_slot
    def _outbox_read(self, view: OutboxView) -> None:
        """The registrar read the outbox: anything of this subject sent since we last looked?"""
        still_sent = {item.id for item in view.items if item.state == SENT}
        if any(item.id not in still_sent for item in self._sent):  # withdrawn meanwhile
            self._sent = [item for item in self._sent if item.id in still_sent]
            self.refresh_rows()
        subject_id = alyx_id(self.subject)
        sent = unseen_sends(view.items, self.subject.data, subject_id, self._seen_until)
        if not sent or not self.isVisible():
            return
        self._seen_until = max(item.updated for item in sent)
        self._sent += sent
        words = sent_words(sent)
        if not self._start_refresh(said=words):
            self.refresh_rows()
            self._status.value = (
                f"{words} (shown here; a Refresh once connected keeps it in the project)"
            )

    @guarded_slot
    def _refresh_clicked(self) -> None:
        if not self._start_refresh():
            self.refresh_rows()

    def _start_refresh(self, said: str = "") -> bool:
        """Fetch the subject's record on a worker thread; False if not connected (or no id).

        ``said``: what the outbox sent, kept in the status line until the refresh is done.
        """
        client = project_state.client_for(self.subject.project)
        subject_id = alyx_id(self.subject)
        if client is None or subject_id is None:
            return False
        if self._task is not None:
            self._task.cancel()
        self._refresh.enabled = False
        self._said = said
        self._status.value = f"{said}; refreshing from Alyx…" if said else "Refreshing from Alyx…"
        self._task = BackgroundTask(
            lambda report: client.subject(subject_id), self._refreshed, self._refresh_failed
        ).start()
        return True

    @guarded_slot
    def _refreshed(self, record: dict[str, Any]) -> None:
        self._task = None
        self._sent = []  # on Alyx, and now in the data
        if self.subject.data is not None:
            for key, value in local_fields(record).items():
                # item by item: sca's scadict.update() skips the flag that stamps __UPDATED-ON__
                self.subject.data[key] = value
        done = "Refreshed from Alyx (save the project to keep it)"
        self._status.value = f"{self._said}; {done[0].lower()}{done[1:]}" if self._said else done
        self.refresh_rows()

    @guarded_slot
    def _refresh_failed(self, error: BaseException) -> None:
        self._task = None
        failed = messages.connection_failed(error).replace("Status: ", "Refresh failed: ")
        self._status.value = f"{self._said}; {failed}" if self._said else failed
        self.refresh_rows()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._list.resize_rows_contents()  # wrapped rows take the height the new width needs

    def closeEvent(self, event: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._registrar is not None:
            self._registrar.unlisten(self._outbox_read)
            self._registrar = None
        super().closeEvent(event)
