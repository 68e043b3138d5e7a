"""The "Weigh before the run" dialog: each Alyx subject's weight, against its reference weight.

Shown by the setup's mixin instead of running at once. For each Alyx subject of the setup:
its reference weight and the day's expected water (as the last sync or Refresh stored them,
then fresh from Alyx when the project is connected), a field for the weight read on the
scale, and the weight as a percentage of the reference, warned about clearly below
``ALYX_PLUGIN_WEIGHT_THRESHOLD`` (80 % by default, the usual water-restriction welfare
limit). A weight far from the last weighing, or from the reference weight when there is
none (:func:`~pybpod_alyx_module.register.plausibility.unusual_weight`: a typo, a wrong
unit), is marked as it is typed, and **Start** asks whether it is right (Yes runs with it,
No goes back to the field): ``pybpod-alyx weigh`` wants ``--confirm-unusual`` for the same
weight. **Start** runs with the weights typed; **Skip** runs without any: weighing never
blocks a run. Closing the dialog runs nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from confapp import conf
from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlText

from pybpod_alyx_module.plugin_settings import read_settings
from pybpod_alyx_module.pybpod_internals import (
    set_label_style,
    text_changed,
    wrap_label_full_width,
)
from pybpod_alyx_module.register.plausibility import unusual_weight
from pybpod_alyx_module.register.typed_amounts import parse_grams
from pybpod_alyx_module.register.welfare import check_weight
from pybpod_alyx_module.sync.fields import local_fields
from pybpod_alyx_module.sync.subjects import alyx_id

from . import project_state
from .background import BackgroundTask
from .escape_closes import EscapeCloses
from .slots import guarded_slot
from .unusual_question import AsksAboutUnusual

logger = logging.getLogger(__name__)

TITLE = "Weigh before the run"
#: How a verdict below the threshold is drawn.
WARNING_STYLE = "color: #b00020; font-weight: bold;"


def show_weigh_dialog(setup: Any) -> WeighDialog:
    """Show the setup's dialog (the one already open, if any)."""
    dialog = setup._alyx_weigh_dialog
    if dialog is None or not dialog.isVisible():
        dialog = WeighDialog(setup)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


class _SubjectRow:
    """The controls of one subject: what Alyx says, the weight field, the verdict."""

    def __init__(self, subject: Any) -> None:
        self.subject = subject
        self.data: dict[str, Any] = dict(subject.data or {})
        self.about = ControlLabel("")
        self.weight = ControlText(f"{subject.name} (g)")
        self.verdict = ControlLabel("")
        #: True while the verdict warns (below the threshold), drawn in bold red.
        self.warned = False


class WeighDialog(AsksAboutUnusual, EscapeCloses, BaseWidget):
    """A floating dialog over PyBpod's main window; Escape closes it (nothing runs)."""

    UNUSUAL_TITLE = "Unusual weight"

    def __init__(self, setup: Any) -> None:
        super().__init__(TITLE, parent_win=setup.project.mainwindow)
        self.setup = setup
        self.threshold = read_settings(conf).weight_threshold
        self._task: BackgroundTask | None = None
        self.rows = [_SubjectRow(s) for s in setup.subjects if alyx_id(s) is not None]
        formset: list[Any] = []
        for n, row in enumerate(self.rows):
            for part in ("about", "weight", "verdict"):
                setattr(self, f"_{part}_{n}", getattr(row, part))
            formset += [f"_about_{n}", f"_weight_{n}", f"_verdict_{n}", " "]
            wrap_label_full_width(row.about)
            wrap_label_full_width(row.verdict)
            text_changed(row.weight).connect(self._weights_changed)
        self._status = ControlLabel("")
        self._start = ControlButton("Start", default=self._start_clicked)
        self._skip = ControlButton("Skip", default=self._skip_clicked)
        self._formset = [*formset, "_status", ("_start", "_skip")]
        self.setMinimumWidth(560)
        self._show_rows()
        self._fetch_from_alyx()

    # -- what the operator sees ----------------------------------------------------------

    def _show_rows(self) -> None:
        for row in self.rows:
            reference = row.data.get("reference_weight")
            water = row.data.get("expected_water")
            row.about.value = (
                f"{row.subject.name}: reference weight {_amount(reference, 'g')}; "
                f"expected water today {_amount(water, 'mL')}"
            )
        self._weights_changed()

    @guarded_slot
    def _weights_changed(self) -> None:
        problems = []
        for row in self.rows:
            try:
                grams = parse_grams(row.weight.value)
            except ValueError as exc:
                problems.append(f"{row.subject.name}: {exc}")
                row.verdict.value = str(exc)
                _warn(row, False)
                continue
            if grams is None:
                row.verdict.value = ""
                _warn(row, False)
                continue
            verdict = check_weight(grams, row.data.get("reference_weight"), self.threshold)
            unusual = unusual_weight(grams, row.data)
            shown = verdict.text(self.threshold)
            row.verdict.value = f"{shown}. UNUSUAL: {unusual}" if unusual else shown
            _warn(row, verdict.below_threshold or unusual is not None)
        self._status.value = "; ".join(problems)
        self._start.enabled = not problems

    def verdicts(self) -> list[str]:
        """The verdict line of each subject, as shown."""
        return [row.verdict.value for row in self.rows]

    def show_error(self, error: BaseException) -> None:
        self._status.value = f"Unexpected error: {error}"

    # -- fresh numbers from Alyx -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and self._task.running

    def _fetch_from_alyx(self) -> None:
        client = project_state.client_for(self.setup.project)
        if client is None or not self.rows:
            return
        ids = [alyx_id(row.subject) for row in self.rows]
        self._task = BackgroundTask(
            lambda report: [client.subject(subject_id) for subject_id in ids],
            self._fetched,
            self._fetch_failed,
        ).start()

    @guarded_slot
    def _fetched(self, records: list[dict[str, Any]]) -> None:
        self._task = None
        for row, record in zip(self.rows, records):
            row.data.update(local_fields(record))
        self._show_rows()

    @guarded_slot
    def _fetch_failed(self, error: BaseException) -> None:
        self._task = None
        logger.info("Weigh before the run: Alyx not reached (%s); showing the saved numbers", error)

    # -- Start / Skip ----------------------------------------------------------------------

    def weights(self) -> dict[str, float]:
        """uuid4 -> grams typed (subjects left empty are left out). ``ValueError`` if one is wrong."""
        typed = {}
        for row in self.rows:
            grams = parse_grams(row.weight.value)
            if grams is not None:
                typed[str(row.subject.uuid4)] = grams
        return typed

    def unusual(self) -> list[str]:
        """Each unusual weight typed, ``"<subject>: <why>"`` (``ValueError`` if one is wrong)."""
        found = []
        for row in self.rows:
            grams = parse_grams(row.weight.value)
            why = None if grams is None else unusual_weight(grams, row.data)
            if why:
                found.append(f"{row.subject.name}: {why}")
        return found

    @guarded_slot
    def _start_clicked(self) -> None:
        try:
            weights, unusual = self.weights(), self.unusual()
        except ValueError as exc:
            self._status.value = str(exc)
            return
        if unusual and not self.confirmed_unusual(
            unusual, f"Run with {'this weight' if len(unusual) == 1 else 'these weights'}"
        ):
            self._status.value = (
                "Not started: correct the weight, or click Start again and answer Yes."
            )
            return
        self._run(weights)

    @guarded_slot
    def _skip_clicked(self) -> None:
        self._run({})

    def remaining_water(self) -> dict[str, float]:
        """uuid4 -> water still to give today (mL), as Alyx said (fresh, or at the last sync)."""
        remaining = {}
        for row in self.rows:
            value = row.data.get("remaining_water")
            if isinstance(value, (int, float)):
                remaining[str(row.subject.uuid4)] = float(value)
        return remaining

    def _run(self, weights: dict[str, float]) -> None:
        self._cancel_fetch()
        self.close()
        self.setup.run_weighed(weights, self.remaining_water())

    def _cancel_fetch(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def closeEvent(self, event: Any) -> None:
        self._cancel_fetch()
        super().closeEvent(event)


def _amount(value: Any, unit: str) -> str:
    return f"{value:g} {unit}" if isinstance(value, (int, float)) else "unknown"


def _warn(row: _SubjectRow, warning: bool) -> None:
    row.warned = warning
    set_label_style(row.verdict, WARNING_STYLE if warning else "")
