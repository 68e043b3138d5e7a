"""The plausibility rules of every value sent to Alyx, whatever its source.

A weight typed in the GUI's dialog, given to ``pybpod-alyx weigh``, or reported by a task
in its session file is the same welfare record once in Alyx: the same slip (``19400`` g
for a mouse, ``5000`` mL of water, a rig clock set to 2099) must be refused the same way,
with the reason, wherever it came from. This module is that one place; the typed amounts
(:mod:`.typed_amounts`), the task's values (:mod:`.values`) and the sessions
(:mod:`.project_sessions`) all call it.

Times are the rig's naive local times (see :mod:`.session_file`), compared with the rig's
own clock (:func:`rig_now`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

#: How far ahead of the rig's clock a session may seem to start or end: clocks of two
#: computers (the one that wrote the file, the one registering it) drift apart a little.
CLOCK_SKEW = datetime.timedelta(minutes=10)
#: Longer than this, a session is a clock jump or a task left running for days, not a run.
LONGEST_SESSION = datetime.timedelta(hours=48)
#: Before this, the rig's clock was reset (a flat clock battery dates a run 1970 or 2000);
#: Bpod came years later.
EARLIEST_START = datetime.datetime(2010, 1, 1)


class ImplausibleValue(ValueError):
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
