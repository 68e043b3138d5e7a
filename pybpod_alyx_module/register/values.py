"""The values a task reports for Alyx, with ``bpod.register_value(name, value)``.

A task (or a lab's existing code) writes ``VAL`` rows into its session file; the plugin
reads four names. A lab that already reports them under its own names maps them with the
setting ``ALYX_PLUGIN_VALUE_NAMES`` (``{'alyx_water_ml': 'reward_total_ml'}``).

A session of several subjects reports a subject's own value as ``<name>:<subject>``
(``bpod.register_value('alyx_weight_g:M1', 21.3)``; a subject's PyBpod name holds no
``:``). One weight or water for the whole session of several subjects is refused: it is
one animal's, and would be recorded for each (:func:`~.plausibility.single_value_problem`).
Every number goes through the same :mod:`.plausibility` rules as a typed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.value_names import (
    N_CORRECT_TRIALS,
    NARRATIVE,
    REPORTED_VALUES,
    WATER_ML,
    WEIGHT_G,
)

from .plausibility import (
    CORRECT_TRIALS,
    WATER,
    WEIGHT,
    ImplausibleValue,
    Quantity,
    plausible,
    single_value_problem,
)

if TYPE_CHECKING:
    from .session_file import SessionSubject

#: The values that are one animal's: reported once, they cannot stand for several.
_PER_ANIMAL = (WEIGHT_G, WATER_ML)


class ReportedValueError(PluginError, ValueError):
    """A reported value that cannot be what its name says (e.g. a weight of 'heavy')."""


@dataclass(frozen=True)
class TaskValues:
    """The values a session reported, checked; ``None`` where the task reported nothing."""

    water_ml: float | None = None
    weight_g: float | None = None
    n_correct_trials: int | None = None
    narrative: str = ""


def row_names(names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Plugin name -> the ``VAL`` row name a session file holds it under.

    Raises
    ------
    ReportedValueError
        ``names`` (``ALYX_PLUGIN_VALUE_NAMES``) maps a name the plugin does not read.
    """
    names = dict(names or {})
    unknown = set(names) - set(REPORTED_VALUES)
    if unknown:
        raise ReportedValueError(
            f"ALYX_PLUGIN_VALUE_NAMES has {', '.join(sorted(unknown))}: "
            f"the plugin reads only {', '.join(REPORTED_VALUES)}"
        )
    return {name: str(names.get(name, name)) for name in REPORTED_VALUES}


def task_values(
    raw: Mapping[str, str], names: Mapping[str, str] | None = None, subject: str | None = None
) -> TaskValues:
    """Read the plugin's values from a session's ``VAL`` rows, for the session or a subject.

    Parameters
    ----------
    raw
        Value name -> the text the session file holds (the last value of each name).
    names
        ``ALYX_PLUGIN_VALUE_NAMES``: plugin name -> the lab's name for it.
    subject
        A subject's PyBpod name: its own ``<name>:<subject>`` rows win over the session's.

    Raises
    ------
    ReportedValueError
        A value that is not a number where a number is needed, or is not plausible.
    """
    rows = row_names(names)

    def text(name: str) -> tuple[str, str | None]:
        own = f"{rows[name]}:{subject}"
        row = own if subject is not None and _given(raw, own) else rows[name]
        return row, _given(raw, row)

    return TaskValues(
        water_ml=_amount(WATER, *text(WATER_ML)),
        weight_g=_amount(WEIGHT, *text(WEIGHT_G)),
        n_correct_trials=_count(*text(N_CORRECT_TRIALS)),
        narrative=text(NARRATIVE)[1] or "",
    )


def subject_values(
    raw: Mapping[str, str], names: Mapping[str, str] | None, subjects: Sequence[SessionSubject]
) -> dict[str, TaskValues]:
    """Each subject's values (PyBpod uuid4 -> :class:`TaskValues`), every one checked.

    Raises
    ------
    ReportedValueError
        As :func:`task_values`; or a weight or water reported once for a session of
        several subjects, some of which have no value of their own.
    """
    rows = row_names(names)
    if len(subjects) > 1:
        for name in _PER_ANIMAL:
            row = rows[name]
            unowned = [s.name for s in subjects if _given(raw, f"{row}:{s.name}") is None]
            if _given(raw, row) is not None and unowned:
                raise ReportedValueError(single_value_problem(row, [s.name for s in subjects]))
    return {s.uuid4: task_values(raw, names, s.name) for s in subjects}


def _given(raw: Mapping[str, str], row: str) -> str | None:
    """The row's text, or ``None`` when the task reported nothing (or ``None``, ``nan``)."""
    value = raw.get(row)
    return None if value is None or value.strip() in ("", "None", "nan") else value.strip()


def _number(row: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise ReportedValueError(
            f"{row} must be a number, the task reported {text[:40]!r}"
        ) from None


def _amount(quantity: Quantity, row: str, text: str | None) -> float | None:
    value = _number(row, text)
    try:
        return None if value is None else plausible(quantity, value, text)
    except ImplausibleValue as exc:
        raise ReportedValueError(f"{row}: {exc}") from None


def _count(row: str, text: str | None) -> int | None:
    value = _amount(CORRECT_TRIALS, row, text)
    if value is None:
        return None
    if value != int(value):
        raise ReportedValueError(f"{row} must be a whole number, the task reported {text[:40]!r}")
    return int(value)
