"""The values a task reports for Alyx, with ``bpod.register_value(name, value)``.

A task (or a lab's existing code) writes ``VAL`` rows into its session file; the plugin
reads four names. A lab that already reports them under its own names maps them with the
setting ``ALYX_PLUGIN_VALUE_NAMES`` (``{'alyx_water_ml': 'reward_total_ml'}``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

WATER_ML = "alyx_water_ml"
WEIGHT_G = "alyx_weight_g"
N_CORRECT_TRIALS = "alyx_n_correct_trials"
NARRATIVE = "alyx_narrative"

#: Every name the plugin reads, with what it means (for messages and the user guide).
REPORTED_VALUES = {
    WATER_ML: "water given during the session, in millilitres",
    WEIGHT_G: "the subject's weight, in grams",
    N_CORRECT_TRIALS: "the number of correct trials",
    NARRATIVE: "a free-text note for the session",
}


class ReportedValueError(ValueError):
    """A reported value that cannot be what its name says (e.g. a weight of 'heavy')."""


@dataclass(frozen=True)
class TaskValues:
    """The values a session reported, checked; ``None`` where the task reported nothing."""

    water_ml: float | None = None
    weight_g: float | None = None
    n_correct_trials: int | None = None
    narrative: str = ""


def task_values(raw: Mapping[str, str], names: Mapping[str, str] | None = None) -> TaskValues:
    """Read the plugin's values from a session's ``VAL`` rows.

    Parameters
    ----------
    raw
        Value name -> the text the session file holds (the last value of each name).
    names
        ``ALYX_PLUGIN_VALUE_NAMES``: plugin name -> the lab's name for it.

    Raises
    ------
    ReportedValueError
        A value that is not a number where a number is needed, or is negative.
    """
    names = dict(names or {})
    unknown = set(names) - set(REPORTED_VALUES)
    if unknown:
        raise ReportedValueError(
            f"ALYX_PLUGIN_VALUE_NAMES has {', '.join(sorted(unknown))}: "
            f"the plugin reads only {', '.join(REPORTED_VALUES)}"
        )

    def text(name: str) -> str | None:
        value = raw.get(names.get(name, name))
        return None if value is None or value.strip() in ("", "None", "nan") else value.strip()

    return TaskValues(
        water_ml=_number(WATER_ML, text(WATER_ML)),
        weight_g=_number(WEIGHT_G, text(WEIGHT_G)),
        n_correct_trials=_count(text(N_CORRECT_TRIALS)),
        narrative=text(NARRATIVE) or "",
    )


def _number(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ReportedValueError(f"{name} must be a number, the task reported {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ReportedValueError(f"{name} must be a positive number, the task reported {text!r}")
    return value


def _count(text: str | None) -> int | None:
    value = _number(N_CORRECT_TRIALS, text)
    if value is None:
        return None
    if value != int(value):
        raise ReportedValueError(
            f"{N_CORRECT_TRIALS} must be a whole number, the task reported {text!r}"
        )
    return int(value)
