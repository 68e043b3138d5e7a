"""The plausibility rules of every value sent to Alyx, whatever its source.

A weight typed in the GUI's dialog, given to ``pybpod-alyx weigh``, or reported by a task
in its session file is the same welfare record once in Alyx: the same slip (``19400`` g
for a mouse, ``5000`` mL of water, a rig clock set to 2099) must be refused the same way,
with the reason, wherever it came from. This module is that one place; the typed amounts
(:mod:`.typed_amounts`), the task's values (:mod:`.values`) and the sessions
(:mod:`.project_sessions`) all call it.

Times are the rig's naive local times (see :mod:`.session_file`), compared with the rig's
own clock (:func:`rig_now`).

Beyond what cannot be true lies what is unusual: ``2340`` g for a mouse that weighed 23.5 g
yesterday is a possible weight, but a typo (a digit more) or a wrong unit far more often.
:func:`unusual_weight` and :func:`unusual_water` say why such a typed amount needs a second
look; the GUI asks for a confirmation, ``pybpod-alyx weigh`` for ``--confirm-unusual``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pybpod_alyx_module.errors import PluginError

#: How far ahead of the rig's clock a session may seem to start or end: clocks of two
#: computers (the one that wrote the file, the one registering it) drift apart a little.
CLOCK_SKEW = datetime.timedelta(minutes=10)
#: Longer than this, a session is a clock jump or a task left running for days, not a run.
LONGEST_SESSION = datetime.timedelta(hours=48)
#: Before this, the rig's clock was reset (a flat clock battery dates a run 1970 or 2000);
#: Bpod came years later.
EARLIEST_START = datetime.datetime(2010, 1, 1)


class ImplausibleValue(PluginError, ValueError):
    """A value that cannot be true (a weight of 19,400 g); the message says the range."""


@dataclass(frozen=True)
class Quantity:
    """A kind of amount Alyx records, and the range a real one falls in.

    Parameters
    ----------
    what
        How messages name it: ``"weight in grams"``.
    unit
        Its unit, for the range shown in messages.
    low, high
        The plausible range, both ends included.
    """

    what: str
    unit: str
    low: float
    high: float

    def refusal(self, shown: str) -> str:
        """The message refusing ``shown`` (the value as the person or the task wrote it)."""
        expected = f"{self.low:g} to {self.high:g} {self.unit}"
        return f"not a plausible {self.what}: {shown[:40]!r} (expected {expected})"


#: A mouse weighs ~20 g, a rat ~500 g; kilograms were typed as grams above this.
WEIGHT = Quantity("weight in grams", "g", 0.5, 10_000.0)
#: A day's water is a few mL; litres were typed as mL above this.
WATER = Quantity("amount of water in mL", "mL", 0.0, 100.0)
#: A day's trials are hundreds, a few thousand at most.
CORRECT_TRIALS = Quantity("number of correct trials", "trials", 0, 100_000)

#: A weight below or above these fractions of the subject's last weighing (or, without one,
#: of its reference weight) is no real change: a mouse under water restriction is kept above
#: ~80 % of its reference and loses a few % a day; one back on free water regains ~20 %; a
#: young one grows ~30 % in a month. A digit too many or too few is x10 or x0.1, grams typed
#: as kilograms x0.001.
USUAL_WEIGHT_RATIO = (0.6, 1.5)
#: A mouse drinks 1 to 3 mL a day (40 mL/kg on restriction): above this, or above
#: :data:`USUAL_WATER_FACTOR` times what Alyx expects the subject to get today (a rat's
#: is more), an amount of water is unusual (``50`` typed for ``0.5`` mL).
USUAL_WATER_ML = 5.0
USUAL_WATER_FACTOR = 3.0


def plausible(quantity: Quantity, amount: float, shown: str | None = None) -> float:
    """``amount`` if it is within ``quantity``'s range (not NaN, not infinite), else refused.

    Raises
    ------
    ImplausibleValue
        Outside the range; the message quotes ``shown`` (``amount`` when not given).

    >>> plausible(WEIGHT, 19.4)
    19.4
    >>> WATER.refusal("5000")
    "not a plausible amount of water in mL: '5000' (expected 0 to 100 mL)"
    """
    if not quantity.low <= amount <= quantity.high:  # also False for NaN
        raise ImplausibleValue(quantity.refusal(f"{amount:g}" if shown is None else shown))
    return amount


def last_weighing(fields: Mapping[str, Any]) -> tuple[float, str] | None:
    """The latest of a subject's ``weighings`` (its Alyx fields): ``(grams, date_time)``.

    Weighings whose weight is not a positive number are passed over; ``None`` when no
    weighing is left (none downloaded, or none on Alyx).

    >>> last_weighing({"weighings": [{"date_time": "2026-11-30T09:12:00", "weight": 23.5},
    ...                              {"date_time": "2026-11-29T09:05:00", "weight": 23.9}]})
    (23.5, '2026-11-30T09:12:00')
    """
    weighings = fields.get("weighings")
    found = [
        (str(w.get("date_time") or ""), float(w["weight"]))
        for w in (weighings if isinstance(weighings, list) else [])
        if isinstance(w, Mapping) and _positive(w.get("weight"))
    ]
    if not found:
        return None
    when, grams = max(found)
    return grams, when


def unusual_weight(grams: float, fields: Mapping[str, Any]) -> str | None:
    """Why a plausible weight looks like a slip, against the subject's Alyx ``fields``, or ``None``.

    It is compared with the last weighing (:func:`last_weighing`), else with the
    ``reference_weight``; outside :data:`USUAL_WEIGHT_RATIO` of it, it is unusual. With
    neither, nothing says what is usual: ``None``.

    >>> unusual_weight(2340, {"reference_weight": 23.5})
    '2340 g is about 100 times the reference weight (23.5 g): a typo or a wrong unit?'
    >>> unusual_weight(21.0, {"reference_weight": 23.5}) is None
    True
    """
    last = last_weighing(fields)
    reference = fields.get("reference_weight")
    if last is not None:
        basis, against = last[0], f"the last weighing ({last[0]:g} g on {_moment(last[1])})"
    elif _positive(reference):
        basis, against = float(reference), f"the reference weight ({float(reference):g} g)"
    else:
        return None
    ratio = grams / basis
    low, high = USUAL_WEIGHT_RATIO
    if low <= ratio <= high:
        return None
    times = f"about {ratio:.0f} times" if ratio >= 2 else f"{ratio * 100:.0f} % of"
    return f"{grams:g} g is {times} {against}: a typo or a wrong unit?"


def unusual_water(ml: float, fields: Mapping[str, Any]) -> str | None:
    """Why a plausible amount of water looks like a slip, or ``None``.

    More than :data:`USUAL_WATER_ML`, and more than :data:`USUAL_WATER_FACTOR` times the
    ``expected_water`` Alyx computed for the subject (its Alyx ``fields``), is unusual.

    >>> unusual_water(50, {"expected_water": 1.2})
    '50 mL of water is far more than a day needs (Alyx expects 1.2 mL today): a typo or a wrong unit?'
    >>> unusual_water(0.8, {}) is None
    True
    """
    expected = fields.get("expected_water")
    expected = float(expected) if _positive(expected) else None
    limit = max(USUAL_WATER_ML, USUAL_WATER_FACTOR * (expected or 0.0))
    if ml <= limit:
        return None
    said = f"Alyx expects {expected:g} mL today" if expected else f"{USUAL_WATER_ML:g} mL is a lot"
    return f"{ml:g} mL of water is far more than a day needs ({said}): a typo or a wrong unit?"


def _positive(value: Any) -> bool:
    """True for a real number above 0 (not a bool, not NaN, not infinite)."""
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")
    )


def _moment(date_time: str) -> str:
    """An Alyx ``date_time`` as a person reads it: ``2026-11-30 09:12``."""
    return date_time[:16].replace("T", " ") or "an unknown date"


def rig_now() -> datetime.datetime:
    """The rig's clock now, naive local time as PyBpod writes it (tests may replace it)."""
    return datetime.datetime.now()


def session_times_problem(
    started: datetime.datetime,
    ended: datetime.datetime,
    now: datetime.datetime | None = None,
) -> str | None:
    """Why a session's start and end cannot be true, or ``None`` when they can.

    ``now`` is the rig's clock (:func:`rig_now` when not given). The start must not be
    before :data:`EARLIEST_START`, the start and the end not later than ``now`` plus
    :data:`CLOCK_SKEW`, the end not before the start, and the session not longer than
    :data:`LONGEST_SESSION`.
    """
    now = rig_now() if now is None else now
    latest = now + CLOCK_SKEW
    fix = "check the rig computer's clock and date; the session is left out until then"
    clock = f"the clock here says {now:%Y-%m-%d %H:%M}"
    if started < EARLIEST_START:
        return f"it starts on {started}, before {EARLIEST_START:%Y}: a wrong clock; {fix}"
    if started > latest:
        return f"it starts in the future ({started}; {clock}); {fix}"
    if ended < started:
        return f"it ends ({ended}) before it starts ({started}); {fix}"
    if ended > latest:
        return f"it ends in the future ({ended}; {clock}); {fix}"
    if ended - started > LONGEST_SESSION:
        hours = LONGEST_SESSION / datetime.timedelta(hours=1)
        return f"it lasts {ended - started}, longer than {hours:g} hours a session can; {fix}"
    return None


def single_value_problem(name: str, subjects: list[str]) -> str | None:
    """Why one value ``name`` cannot stand for all of ``subjects``, or ``None`` (one subject).

    A weight or water reported once for a session of two mice belongs to one of them, or
    to neither: sending it for both would give each a record that is not its own.
    """
    if len(subjects) < 2:
        return None
    listed = ", ".join(subjects)
    return (
        f"it reports one {name} for its {len(subjects)} subjects ({listed}): whose is it? "
        f"Report one per subject ({name}:{subjects[0]}, {name}:{subjects[1]}, …) or none"
    )
