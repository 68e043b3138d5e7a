"""The "Alyx outbox" window: every item with its state and reason; Retry, Discard, Send now.

The list is the registrar's latest reading of the outbox (read on a worker thread) and
is redrawn each time the registrar reads it again: after a run, a send, a Retry or a
Discard, and after each periodic retry. Discarding gives up records of an animal for
good, so it is asked first.
"""

from __future__ import annotations

import weakref
from typing import Any

from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlList

from pybpod_alyx_module.pybpod_internals import fit_columns, select_row, wrap_label_full_width
from pybpod_alyx_module.register import ATTENTION, PENDING, Item
from pybpod_alyx_module.register.waiting import next_try_words

from .escape_closes import EscapeCloses
from .registration import OutboxView, registrar_of
from .slots import guarded_slot

TITLE = "Alyx outbox"
COLUMNS = ["Id", "State", "Item", "Tries", "Why", "What to do"]
#: How the states read in the list.
STATE_WORDS = {PENDING: "pending", "sent": "sent", ATTENTION: "needs attention",
               "discarded": "discarded"}  # fmt: skip

#: How many sent or discarded items the list shows (the latest).
SHOWN_DONE_ITEMS = 200

_windows: weakref.WeakKeyDictionary[Any, OutboxWindow] = weakref.WeakKeyDictionary()


def show_outbox_window(project: Any) -> OutboxWindow:
    """Show the project's outbox window (one per project), read anew."""
    window = _windows.get(project)
    if window is None:
        window = _windows[project] = OutboxWindow(project)
    window.show()
    window.raise_()
    window.activateWindow()
    registrar_of(project).refresh()
    return window


def close_outbox_window(project: Any) -> None:
    window = _windows.pop(project, None)
    if window is not None:
        window.close()


def shown_items(items: list[Item]) -> list[Item]:
    """Every pending and needs-attention item, and the latest sent or discarded ones.

    An outbox used for months holds thousands of sent items; listing them all would
    only bury the few that need someone.
    """
    waiting = [item for item in items if item.state in (PENDING, ATTENTION)]
    done = [item for item in items if item.state not in (PENDING, ATTENTION)]
    return sorted(waiting + done[-SHOWN_DONE_ITEMS:], key=lambda item: item.id)


def item_row(item: Item) -> list[str]:
    """One list row: id, state, label, tries, why, what to do."""
    why = item.last_error or ""
    if item.state == PENDING and item.next_try:
        when = f"next try {next_try_words(item.next_try)}"  # a past one is "due now"
        why = f"{why} ({when})" if why else when
    return [str(item.id), STATE_WORDS.get(item.state, item.state), item.label,
            str(item.attempts), why, item.fix or ""]  # fmt: skip


class OutboxWindow(EscapeCloses, BaseWidget):
    """A floating window over PyBpod's main window; Escape closes it."""

    def __init__(self, project: Any) -> None:
        super().__init__(TITLE, parent_win=project.mainwindow)
        self.project = project
        self.registrar = registrar_of(project)
        self._list = ControlList("", horizontal_headers=COLUMNS, readonly=True)
        self._list.select_entire_row = True
        self._status = ControlLabel("")
        self._status.selectable = True
        wrap_label_full_width(self._status)  # reasons can be long
        self._retry = ControlButton("Retry", default=self._retry_clicked)
        self._discard = ControlButton("Discard", default=self._discard_clicked)
        self._send = ControlButton("Send pending now", default=self._send_clicked)
        self._formset = ["_list", "_status", ("_retry", "_discard", "_send")]
        self._items: list[Item] = []
        self.setMinimumSize(820, 420)
        self.registrar.listen(self.show_view)
        self.show_view(self.registrar.view)

    # -- showing ---------------------------------------------------------------------------

    @guarded_slot
    def show_view(self, view: OutboxView) -> None:
        """Redraw the list from the registrar's latest reading."""
        self._items = shown_items(view.items)
        self._list.value = [item_row(item) for item in self._items]
        fit_columns(self._list)
        counts = view.counts()
        lines = [
            f"{counts[PENDING]} pending, {counts[ATTENTION]} need attention, "
            f"{counts['sent']} sent, {counts['discarded']} discarded"
        ]
        if view.stopped:
            lines.append(f"Not sent now: {view.stopped}")
        lines += [f"Not registered: {problem}" for problem in view.problems]
        lines += [f"Note: {notice}" for notice in view.notices]
        self._status.value = "\n".join(lines)

    def rows(self) -> list[list[str]]:
        """The rows as shown."""
        return [list(row) for row in self._list.value]

    @property
    def status(self) -> str:
        return self._status.value

    def select(self, item_id: int) -> None:
        """Select the row of an item (as a click does)."""
        for row, item in enumerate(self._items):
            if item.id == item_id:
                select_row(self._list, row)
                return
        raise LookupError(f"no item {item_id} in the Alyx outbox window")

    def _selected(self) -> Item | None:
        row = self._list.selected_row_index
        if row is None or not 0 <= row < len(self._items):
            return None
        return self._items[row]

    def show_error(self, error: BaseException) -> None:
        self._status.value = f"Unexpected error: {error}"

    # -- acting ------------------------------------------------------------------------------

    @guarded_slot
    def _retry_clicked(self) -> None:
        """Send the selected item again now; with none selected, every pending and attention item."""
        item = self._selected()
        self.registrar.retry(item.id if item is not None else None)

    @guarded_slot
    def _discard_clicked(self) -> None:
        item = self._selected()
        if item is None:
            self._status.value = "Select the item to discard first."
            return
        if item.state not in (PENDING, ATTENTION):
            self._status.value = f"Item {item.id} is {STATE_WORDS[item.state]}: nothing to discard."
            return
        answer = self.question(
            f"Discard '{item.label}'? Its records will not be sent to Alyx "
            "(it stays listed as discarded).",
            "Discard",
            buttons=["no", "yes"],
        )
        if answer == "yes":
            self.registrar.discard(item.id)

    @guarded_slot
    def _send_clicked(self) -> None:
        self.registrar.send_pending()

    def closeEvent(self, event: Any) -> None:
        self.registrar.unlisten(self.show_view)
        _windows.pop(self.project, None)
        super().closeEvent(event)
