"""The "Alyx outbox" window: every item with its state and reason; Retry, Discard, Withdraw, Send.

The list is the registrar's latest reading of the outbox (read on a worker thread) and
is redrawn each time the registrar reads it again: after a run, a send, a Retry or a
Discard, and after each periodic retry. Each row's "Why" and "What to do" are the
command line's words (:func:`~pybpod_alyx_module.register.waiting.item_words`): a pending
item says why it waits. Discarding gives up records of an animal for good, and
withdrawing deletes a sent item's records from Alyx (:mod:`~pybpod_alyx_module.register
.withdraw`), so both are asked first, naming what goes; a withdraw runs on a worker
thread, with the project's connection.
"""

from __future__ import annotations

import weakref
from typing import Any

from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlList

from pybpod_alyx_module.pybpod_internals import fit_table, select_row, wrap_label_full_width
from pybpod_alyx_module.register import ATTENTION, PENDING, SENT, WITHDRAWN, Item
from pybpod_alyx_module.register.registrar import project_outbox
from pybpod_alyx_module.register.waiting import item_words
from pybpod_alyx_module.register.withdraw import (
    WithdrawReport,
    describe,
    why_not_withdraw,
    withdraw,
)

from . import project_state
from .background import BackgroundTask
from .escape_closes import EscapeCloses
from .outbox_view import OutboxView
from .registration import registrar_of
from .registration_settings import register_options
from .slots import guarded_slot

TITLE = "Alyx outbox"
COLUMNS = ["Id", "State", "Item", "Tries", "Why", "What to do"]
#: The columns that share the width left and wrap: the reasons, which can be long.
WRAPPED = (4, 5)
#: How the states read in the list.
STATE_WORDS = {PENDING: "pending", SENT: "sent", ATTENTION: "needs attention",
               "discarded": "discarded", WITHDRAWN: "withdrawn"}  # fmt: skip

#: How many sent, discarded or withdrawn items the list shows (the latest).
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
    """Every pending and needs-attention item, and the latest sent, discarded or withdrawn ones.

    An outbox used for months holds thousands of sent items; listing them all would
    only bury the few that need someone.
    """
    waiting = [item for item in items if item.state in (PENDING, ATTENTION)]
    done = [item for item in items if item.state not in (PENDING, ATTENTION)]
    return sorted(waiting + done[-SHOWN_DONE_ITEMS:], key=lambda item: item.id)


def item_row(item: Item, stopped: str | None = None) -> list[str]:
    """One list row: id, state, label, tries, why, what to do (``stopped``: why sending stopped)."""
    why, to_do = item_words(item, stopped=stopped)
    return [str(item.id), STATE_WORDS.get(item.state, item.state), item.label,
            str(item.attempts), why, to_do]  # fmt: skip


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
        self._withdraw = ControlButton("Withdraw from Alyx", default=self._withdraw_clicked)
        self._send = ControlButton("Send pending now", default=self._send_clicked)
        self._formset = ["_list", "_status", ("_retry", "_discard", "_withdraw", "_send")]
        self._items: list[Item] = []
        self._task: BackgroundTask | None = None
        #: What the last withdraw did, shown above the counts until the next one.
        self._withdrawn_words = ""
        self.setMinimumSize(900, 420)
        self.registrar.listen(self.show_view)
        self.show_view(self.registrar.view)

    # -- showing ---------------------------------------------------------------------------

    @guarded_slot
    def show_view(self, view: OutboxView) -> None:
        """Redraw the list from the registrar's latest reading."""
        self._items = shown_items(view.items)
        self._list.value = [item_row(item, view.stopped) for item in self._items]
        fit_table(self._list, stretched=WRAPPED)
        counts = view.counts()
        lines = [self._withdrawn_words] if self._withdrawn_words else []
        lines.append(
            f"{counts[PENDING]} pending, {counts[ATTENTION]} need attention, "
            f"{counts[SENT]} sent, {counts['discarded']} discarded, "
            f"{counts.get(WITHDRAWN, 0)} withdrawn"
        )
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

    @property
    def busy(self) -> bool:
        """True while a withdraw runs."""
        return self._task is not None and self._task.running

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
        self._task = None
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
            hint = " (Withdraw from Alyx removes its records)" if item.state == SENT else ""
            self._status.value = (
                f"Item {item.id} is {STATE_WORDS[item.state]}: nothing to discard{hint}."
            )
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
    def _withdraw_clicked(self) -> None:
        """Delete the selected sent item's records from Alyx, once a person said yes."""
        item = self._selected()
        if item is None:
            self._status.value = "Select the sent item to withdraw first."
            return
        problem = why_not_withdraw(item, item.id)
        client = project_state.client_for(self.project)
        if problem is None and client is None:
            problem = "withdrawing needs Alyx: connect with Sync to Alyx, then Withdraw again"
        if problem or self.busy:
            self._status.value = f"Not withdrawn: {problem or 'a withdraw is running'}."
            return
        answer = self.question(
            f"Withdraw {describe(item)} from Alyx?\n\nIts records are deleted on Alyx "
            f"(item {item.id}: {item.label}); the item stays listed as withdrawn.",
            "Withdraw from Alyx",
            buttons=["no", "yes"],
        )
        if answer != "yes":
            return
        options, folder, item_id = register_options(), str(self.project.path), item.id

        def work(report: Any) -> WithdrawReport:
            with project_outbox(options, folder) as outbox:
                return withdraw(outbox, client, item_id)

        self._status.value = f"Withdrawing item {item_id} from Alyx…"
        self._task = BackgroundTask(work, self._withdrawn, self._withdraw_failed).start()

    @guarded_slot
    def _withdrawn(self, report: WithdrawReport) -> None:
        self._task = None
        self._withdrawn_words = report.words()
        self.registrar.refresh()  # the list shows it withdrawn

    @guarded_slot
    def _withdraw_failed(self, error: BaseException) -> None:
        self._task = None
        self._withdrawn_words = f"Not withdrawn: {error}"
        self.registrar.refresh()

    @guarded_slot
    def _send_clicked(self) -> None:
        self.registrar.send_pending()

    def closeEvent(self, event: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.registrar.unlisten(self.show_view)
        _windows.pop(self.project, None)
        super().closeEvent(event)
