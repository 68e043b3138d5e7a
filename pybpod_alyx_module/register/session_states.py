"""What a PyBpod session's node shows of its Alyx registration: a state, and a note.

A session has one item per Alyx subject (and one per water typed after the run); the
worst state of its items wins: ``attention`` over ``pending`` over ``sent``. A sent item
may carry a note, the reason it was sent with something left out (a location Alyx does
not have, :func:`~.locations.location_note`), with what to do: the session's node shows
it, as the outbox's "Why" does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .outbox import ATTENTION, PENDING, SENT, Item

#: What a session's node shows: the worst state of its items wins.
SESSION_STATES = (ATTENTION, PENDING, SENT)


@dataclass(frozen=True)
class SessionState:
    """A session's state (``attention``, ``pending`` or ``sent``), and a sent item's note."""

    state: str
    note: str = ""


def session_key(path: str | Path) -> str:
    """How a session file is compared: an absolute, case-normalised path (no disk access)."""
    return os.path.normcase(os.path.abspath(path))


def session_states(items: list[Item]) -> dict[str, SessionState]:
    """Session file (:func:`session_key`) -> its :class:`SessionState`; discarded items count not.

    Computed off the GUI thread: an outbox used for months holds thousands of items.

    Examples
    --------
    >>> from dataclasses import replace
    >>> sent = Item(1, "k1", "M1 s", {"source": "s.csv"}, SENT, {}, 1, 0, 0, 0.0,
    ...             "Registered without a location", "Create it", 0.0, 0.0)
    >>> waiting = replace(sent, id=2, key="k2", state=PENDING, last_error=None, fix=None)
    >>> [(s.state, s.note) for s in session_states([sent]).values()]
    [('sent', 'Registered without a location. Create it')]
    >>> [s.state for s in session_states([sent, waiting]).values()]
    ['pending']
    """
    states: dict[str, SessionState] = {}
    for item in items:
        source = item.payload.get("source")
        if not source or item.state not in SESSION_STATES:  # discarded, withdrawn
            continue
        key = session_key(source)
        known = states.get(key)
        worse = known is None or _rank(item.state) < _rank(known.state)
        if worse or (item.state == known.state and not known.note):  # a note is kept, not lost
            states[key] = SessionState(item.state, _note(item))
    return states


def _rank(state: str) -> int:
    return SESSION_STATES.index(state)


def _note(item: Item) -> str:
    """A sent item's note and what to do ("" for none; other states show their own words)."""
    if item.state != SENT or not item.last_error:
        return ""
    return f"{item.last_error}. {item.fix}" if item.fix else item.last_error
