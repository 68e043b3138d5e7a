"""Session numbers unique per subject and day, with several rigs registering at once.

Alyx names a session ``<subject>/<day>/<number>`` and expects one number per subject and
day, but the canonical server accepts a second session with a number already taken: two
rigs that both read "the next number is 2" create two sessions number 2. Numbers cannot
be allocated without a race, so they are *repaired*, with the server as the referee:

1. a session is created with the next number after the largest of its subject's sessions
   that day (:func:`next_number`);
2. then the day is read again and every flusher, on every rig, computes the same numbers
   from what it read (:func:`targets`): the sessions this plugin registered, in order of
   start time (then id), take the smallest numbers that no other session of the day holds.
   Sessions made by other software keep their numbers: their data may be named by them;
3. the sessions whose number differs are changed (``PATCH``): each rig its own session
   first, the others' after a pause (their own rigs correct most of them meanwhile); on a
   server that refuses a duplicate even for a moment (alyx-local), in an order that never
   gives two sessions one number (:func:`patch_plan`: through a temporary number when
   numbers must swap);
4. the day is read again, until a read needs no change (at most :data:`MAX_ROUNDS` reads).

The last rig to change a number reads the day afterwards and finds it consistent or
changes it again, so the numbers settle once the rigs stop creating. With one rig the
repair costs one read per day it created sessions on (a flush settles numbers after it
created its sessions, :mod:`.flush`) and no change, unless it created a day's sessions
out of start order. Sessions that keep changing are left for the next flush
(:class:`NumbersUnsettled`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import count

from pybpod_alyx_module.errors import PluginError

from .session_days import DaySession

#: Reads of a day before its numbers are left for the next flush.
MAX_ROUNDS = 8
#: Temporary numbers start above this: a day never holds that many sessions.
TEMPORARY_BASE = 1000


class NumbersUnsettled(PluginError):
    """The numbers of a subject's day kept changing (other rigs): the next flush settles them."""


def next_number(sessions: Collection[DaySession]) -> int:
    """The number a new session of that day is created with: one above the largest."""
    return max((s.number for s in sessions if s.number is not None), default=0) + 1


def in_order(sessions: Collection[DaySession]) -> bool:
    """True if the day's sessions are numbered 1..n in start order (nothing to repair)."""
    ordered = sorted(sessions, key=lambda s: s.order)
    return [s.number for s in ordered] == list(range(1, len(ordered) + 1))


def targets(sessions: Collection[DaySession], ours: Collection[str]) -> dict[str, int]:
    """The number each of our sessions (ids in ``ours``) should have, from one read of the day.

    Examples
    --------
    >>> import datetime
    >>> at = lambda hour: datetime.datetime(2031, 1, 2, hour)
    >>> day = [DaySession("b", 1, at(10)), DaySession("a", 1, at(9)), DaySession("x", 2, at(8))]
    >>> targets(day, ours={"a", "b"})  # x is another program's: it keeps its number 2
    {'a': 1, 'b': 3}
    """
    fixed = {s.number for s in sessions if s.id not in ours and s.number is not None}
    free = (number for number in count(1) if number not in fixed)
    mine = sorted((s for s in sessions if s.id in ours), key=lambda s: s.order)
    return {s.id: next(free) for s in mine}


def patch_plan(sessions: Collection[DaySession], wanted: dict[str, int]) -> list[tuple[str, int]]:
    """The ``(id, number)`` changes that give every session its wanted number.

    No change ever gives a number that another session holds at that moment: a session
    whose number is taken waits for it to be freed, and when every change waits on
    another (numbers that swap) one session first moves to a temporary number.

    Examples
    --------
    >>> import datetime
    >>> t = datetime.datetime(2031, 1, 2)
    >>> swap = [DaySession("a", 2, t), DaySession("b", 1, t)]
    >>> patch_plan(swap, {"a": 1, "b": 2})
    [('a', 1001), ('b', 2), ('a', 1)]
    """
    current = {s.id: s.number for s in sessions}
    waiting = sorted((i for i in wanted if current.get(i) != wanted[i]), key=wanted.get)
    plan: list[tuple[str, int]] = []

    def taken(number: int, by_other_than: str) -> bool:
        return any(n == number for i, n in current.items() if i != by_other_than)

    while waiting:
        ready = [i for i in waiting if not taken(wanted[i], i)]
        for session_id in ready:
            plan.append((session_id, wanted[session_id]))
            current[session_id] = wanted[session_id]
            waiting.remove(session_id)
        if waiting and not ready:
            session_id = waiting[0]
            temporary = TEMPORARY_BASE + wanted[session_id]
            if taken(temporary, session_id):
                temporary = max(TEMPORARY_BASE, *(n or 0 for n in current.values())) + 1
            plan.append((session_id, temporary))
            current[session_id] = temporary
    return plan


def settle(
    ours_id: str,
    read_day: Callable[[], list[DaySession]],
    read_ours: Callable[[], set[str]],
    change: Callable[[str, int], None],
    pause: Callable[[], None] = lambda: None,
) -> list[DaySession]:
    """Repair a day's numbers until one read of it needs no change; returns that read.

    Each flusher first corrects its own session only, and the others' only if a read
    after a ``pause`` still shows them wrong (their own flushers, still at work, correct
    most of them meanwhile: a day is not changed ten times over by ten rigs). Numbers are changed straight away, onto a number
    another session holds if need be (the canonical server accepts that), until the server
    refuses one as taken; from then on through :func:`patch_plan`.

    Parameters
    ----------
    ours_id
        The session just created (or found): it must be in the read.
    read_day
        A fresh read of the subject's sessions that day.
    read_ours
        The ids, among them, of the sessions this plugin registered (asked only when the
        day is not numbered 1..n in start order, and again only when new sessions appear).
    change
        Give a session a number (``PATCH``). It raises :class:`ChangeRefused` when the
        server refused: the day is read again.
    pause
        Waits a moment before others' sessions are changed.

    Raises
    ------
    NumbersUnsettled
        The day still needed changes after :data:`MAX_ROUNDS` reads.
    """
    direct = True
    waited = False  # for the other rigs to correct their own sessions
    asked: set[str] = set()  # the ids of the day when ``read_ours`` was last asked
    registered: set[str] = set()
    for _ in range(MAX_ROUNDS):
        sessions = read_day()
        ids = {s.id for s in sessions}
        if ours_id not in ids:
            continue  # not listed yet: read again
        if in_order(sessions):
            return sessions
        if not ids <= asked:
            asked, registered = ids, read_ours()
        current = {s.id: s.number for s in sessions}
        wanted = targets(sessions, (registered & ids) | {ours_id})
        differing = {i: n for i, n in wanted.items() if current[i] != n}
        if not differing:
            return sessions
        others = set(differing) - {ours_id}
        if direct and ours_id in differing:
            plan = [(ours_id, differing[ours_id])]
        elif not waited:
            pause()  # then read again: their rigs may have corrected them meanwhile
            waited = True
            continue
        else:
            plan = list(differing.items()) if direct else patch_plan(sessions, differing)
        try:
            for session_id, number in plan:
                change(session_id, number)
        except ChangeRefused as refused:
            direct = direct and not refused.taken
            continue
        if others and not waited:
            pause()
            waited = True
        elif others:
            waited = False
    raise NumbersUnsettled(
        f"the numbers of the subject's sessions that day were still changing after {MAX_ROUNDS} "
        "reads (other rigs registering at the same time); the next flush settles them"
    )


class ChangeRefused(PluginError):
    """The server refused a number change: ``taken`` by another session, or the session gone."""

    def __init__(self, session_id: str, taken: bool) -> None:
        super().__init__(f"session {session_id}: {'number taken' if taken else 'gone'}")
        self.taken = taken
