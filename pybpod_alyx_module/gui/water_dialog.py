"""The "After the run" dialog: the water each Alyx subject got, and what remains to give today.

Shown when a run's registrations were queued. For each subject: the water the task
reported (``alyx_water_ml``), or a field to type it when the task reported none; and the
water still to give today: Alyx's remaining water before the run (as the "Weigh before
the run" dialog read it, else as the last sync stored it) minus this session's, so the
operator knows the supplement. **Record water** queues the typed water (sent with the
session, exactly once), after asking whether an unusual amount is right (far more than a
day needs: :func:`~pybpod_alyx_module.register.plausibility.unusual_water`, the same rule
as everywhere); **Close** leaves it out. The session itself was queued already:
the dialog never holds up a registration.
"""

from __future__ import annotations

import logging
from typing import Any

from pyforms.basewidget import BaseWidget
from pyforms.controls import ControlButton, ControlLabel, ControlText

from pybpod_alyx_module.pybpod_internals import text_changed
from pybpod_alyx_module.register import Registration
from pybpod_alyx_module.register.plausibility import unusual_water
from pybpod_alyx_module.register.typed_amounts import parse_ml
from pybpod_alyx_module.sync.subjects import alyx_id

from .escape_closes import EscapeCloses
from .registration import registrar_of
from .slots import guarded_slot
from .unusual_question import AsksAboutUnusual

logger = logging.getLogger(__name__)

TITLE = "After the run"


def still_to_give(remaining_before: float | None, given: float | None) -> str:
    """What remains to give today, in words.

    >>> still_to_give(1.0, 0.6)
    'give 0.4 mL more today'
    >>> still_to_give(0.5, 0.8)
    'nothing more to give today'
    >>> still_to_give(None, 0.8)
    "unknown (Alyx's remaining water was not read)"
    """
    if remaining_before is None:
        return "unknown (Alyx's remaining water was not read)"
    left = round(remaining_before - (given or 0.0), 3)
    return f"give {left:g} mL more today" if left > 0 else "nothing more to give today"


class _WaterRow:
    def __init__(self, registration: Registration, subject: Any, remaining: float | None) -> None:
        self.registration = registration
        self.subject = subject
        self.remaining = remaining
        water = registration.payload.get("water") or {}
        self.reported = water.get("water_administered")
        name = registration.payload["subject"]["nickname"]
        given = f"{self.reported:g} mL" if self.reported is not None else "no water"
        self.given = ControlLabel("")
        self.given.value = f"{name}: {given} given (reported by the task)"
        self.typed = ControlText(f"{name}: water given (mL)")
        self.left = ControlLabel("")


class WaterDialog(AsksAboutUnusual, EscapeCloses, BaseWidget):
    """A floating dialog over PyBpod's main window; Escape closes it."""

    UNUSUAL_TITLE = "Unusual amount of water"

    def __init__(
        self,
        setup: Any,
        session_file: str,
        queued: list[Registration],
        remaining_ml: dict[str, float],
    ) -> None:
        super().__init__(TITLE, parent_win=setup.project.mainwindow)
        self.setup = setup
        self.session_file = session_file
        by_alyx_id = {alyx_id(s): s for s in setup.subjects}
        self.rows = []
        formset: list[Any] = []
        for n, registration in enumerate(queued):
            subject = by_alyx_id.get(registration.payload["subject"]["id"])
            if subject is None:
                continue
            remaining = remaining_ml.get(str(subject.uuid4), _saved_remaining(subject))
            row = _WaterRow(registration, subject, remaining)
            self.rows.append(row)
            shown = "given" if row.reported is not None else "typed"
            setattr(self, f"_{shown}_{n}", getattr(row, shown))
            setattr(self, f"_left_{n}", row.left)
            formset += [f"_{shown}_{n}", f"_left_{n}", " "]
            text_changed(row.typed).connect(self._water_changed)
        self._status = ControlLabel("")
        self._record = ControlButton("Record water", default=self._record_clicked)
        self._close = ControlButton("Close", default=self.close)
        self._formset = [*formset, "_status", ("_record", "_close")]
        self._record.enabled = any(row.reported is None for row in self.rows)
        self.setMinimumWidth(420)
        self._water_changed()

    @property
    def asks(self) -> bool:
        """True if some subject's water must be typed (the task reported none)."""
        return any(row.reported is None for row in self.rows)

    def lines(self) -> list[str]:
        """What remains to give, one line per subject, as shown."""
        return [row.left.value for row in self.rows]

    @guarded_slot
    def _water_changed(self) -> None:
        problems = []
        for row in self.rows:
            given, unusual = row.reported, None
            if given is None:
                try:
                    given = parse_ml(row.typed.value)
                except ValueError as exc:
                    problems.append(str(exc))
                unusual = None if given is None else unusual_water(given, row.subject.data or {})
            left = f"Still to give: {still_to_give(row.remaining, given)}"
            row.left.value = f"{left}. UNUSUAL: {unusual}" if unusual else left
        self._status.value = "; ".join(problems)
        self._record.enabled = self.asks and not problems

    def typed_water(self) -> dict[str, float]:
        """uuid4 -> mL typed (empty fields left out). ``ValueError`` if one is wrong."""
        typed = {}
        for row in self.rows:
            if row.reported is None:
                ml = parse_ml(row.typed.value)
                if ml is not None:
                    typed[str(row.subject.uuid4)] = ml
        return typed

    def unusual(self, water: dict[str, float]) -> list[str]:
        """Each unusual amount among ``water`` (uuid4 -> mL), ``"<subject>: <why>"``."""
        found = []
        for row in self.rows:
            ml = water.get(str(row.subject.uuid4))
            why = None if ml is None else unusual_water(ml, row.subject.data or {})
            if why:
                found.append(f"{row.subject.name}: {why}")
        return found

    def show_error(self, error: BaseException) -> None:
        self._status.value = f"Unexpected error: {error}"

    @guarded_slot
    def _record_clicked(self) -> None:
        try:
            water = self.typed_water()
        except ValueError as exc:
            self._status.value = str(exc)
            return
        unusual = self.unusual(water)
        if unusual and not self.confirmed_unusual(
            unusual, f"Record {'this amount' if len(unusual) == 1 else 'these amounts'}"
        ):
            self._status.value = "Not recorded: correct the amount, or Record again and answer Yes."
            return
        if water:
            registrar_of(self.setup.project).register_water(self.session_file, self.setup, water)
        self.close()


def show_water_dialog(
    setup: Any, session_file: str, queued: list[Registration], remaining_ml: dict[str, float]
) -> WaterDialog | None:
    """Show the dialog for a run's registrations (none: nothing to show)."""
    if not queued:
        return None
    dialog = WaterDialog(setup, session_file, queued, remaining_ml)
    if not dialog.rows:
        return None
    dialog.show()
    dialog.raise_()
    return dialog


def _saved_remaining(subject: Any) -> float | None:
    value = (subject.data or {}).get("remaining_water")
    return float(value) if isinstance(value, (int, float)) else None
