"""Session numbers: every rig computes the same numbers from one read, and changes settle them.

The numbering is checked on its own (pure functions, generated days) and as a protocol:
several flushers create sessions of one subject's day and settle its numbers against one
in-memory server, their requests interleaved in an order hypothesis chooses (each request
atomic, as a database makes it), with and without a server that refuses a duplicate.
"""

from __future__ import annotations

import datetime
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.register.numbering import (
    ChangeRefused,
    NumbersUnsettled,
    in_order,
    next_number,
    patch_plan,
    settle,
    targets,
)
from pybpod_alyx_module.register.session_days import DaySession

DAY = datetime.datetime(2021, 3, 28)


@st.composite
def days(draw: Any) -> tuple[list[DaySession], set[str]]:
    """A day's sessions (numbers missing, repeated, out of order) and which are ours."""
    n = draw(st.integers(1, 8))
    sessions = [
        DaySession(
            str(uuid.UUID(int=draw(st.integers(0, 2**32)) * 1000 + i)),
            draw(st.one_of(st.none(), st.integers(1, 6))),
            DAY + datetime.timedelta(minutes=draw(st.integers(0, 20))),
        )
        for i in range(n)
    ]
    ours = {s.id for s in sessions if draw(st.booleans())}
    return sessions, ours


@settings(max_examples=200, deadline=None)
@given(days())
def test_our_sessions_take_the_smallest_free_numbers_in_start_order(day):
    sessions, ours = day
    wanted = targets(sessions, ours)
    foreign = {s.number for s in sessions if s.id not in ours and s.number is not None}
    assert set(wanted) == ours
    assert len(set(wanted.values())) == len(wanted) and not foreign & set(wanted.values())
    ordered = sorted((s for s in sessions if s.id in ours), key=lambda s: s.order)
    assert [wanted[s.id] for s in ordered] == sorted(wanted.values())
    free = [n for n in range(1, len(sessions) + 10) if n not in foreign][: len(ours)]
    assert sorted(wanted.values()) == free


@settings(max_examples=200, deadline=None)
@given(days())
def test_the_changes_never_give_one_number_to_two_sessions_even_for_a_moment(day):
    sessions, ours = day
    wanted = targets(sessions, ours)
    numbers = {s.id: s.number for s in sessions}
    duplicates_before = _duplicates(numbers.values())
    for session_id, number in patch_plan(sessions, wanted):
        assert number not in [n for i, n in numbers.items() if i != session_id]
        numbers[session_id] = number
        assert _duplicates(numbers.values()) <= duplicates_before
    assert all(numbers[i] == wanted[i] for i in wanted)


@settings(max_examples=100, deadline=None)
@given(days())
def test_a_day_numbered_in_order_needs_no_change_whoever_owns_it(day):
    sessions, ours = day
    ordered = sorted(sessions, key=lambda s: s.order)
    numbered = [DaySession(s.id, n, s.start) for n, s in enumerate(ordered, 1)]
    assert in_order(numbered)
    assert patch_plan(numbered, targets(numbered, ours)) == []


def test_a_new_session_takes_the_number_after_the_largest():
    at = DAY
    assert next_number([]) == 1
    assert next_number([DaySession("a", 3, at), DaySession("b", None, at)]) == 4


# -- the protocol, several flushers at once ------------------------------------------------


class Server:
    """One subject's day on a server: atomic reads, creates and changes."""

    def __init__(self, unique: bool) -> None:
        self.unique = unique
        self.sessions: dict[str, DaySession] = {}
        self.requests = 0

    def read(self) -> list[DaySession]:
        self.requests += 1
        return list(self.sessions.values())

    def create(self, start: datetime.datetime, number: int) -> str | None:
        self.requests += 1
        if self.unique and any(s.number == number for s in self.sessions.values()):
            return None  # refused: the number is taken
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = DaySession(session_id, number, start)
        return session_id

    def change(self, session_id: str, number: int) -> bool:
        self.requests += 1
        if self.unique and any(
            s.number == number and i != session_id for i, s in self.sessions.items()
        ):
            return False
        self.sessions[session_id] = DaySession(session_id, number, self.sessions[session_id].start)
        return True


class Turns:
    """Lets one flusher's request through at a time, in an order drawn by ``rng``."""

    def __init__(self, flushers: int, rng: random.Random) -> None:
        self._condition = threading.Condition()
        self._waiting: set[int] = set()
        self._running: int | None = None
        self._alive = flushers
        self._rng = rng

    def request(self, who: int, call: Callable[[], Any]) -> Any:
        with self._condition:
            self._waiting.add(who)
            self._condition.notify_all()
            while self._running != who:
                if self._running is None and len(self._waiting) == self._alive:
                    self._running = self._rng.choice(sorted(self._waiting))
                    self._condition.notify_all()
                else:
                    self._condition.wait(timeout=5)
            self._waiting.discard(who)
        try:
            return call()
        finally:
            with self._condition:
                self._running = None
                self._condition.notify_all()

    def leave(self) -> None:
        with self._condition:
            self._alive -= 1
            self._condition.notify_all()


def register(server: Server, turns: Turns, who: int, start: datetime.datetime) -> str | None:
    """What a flusher does for one session: create it with the next number, then settle."""
    try:
        session_id = None
        while session_id is None:  # a refused duplicate: read again, take the next number
            number = next_number(turns.request(who, server.read))
            session_id = turns.request(who, lambda n=number: server.create(start, n))

        def change(target: str, number: int) -> None:
            if not turns.request(who, lambda: server.change(target, number)):
                raise ChangeRefused(target, taken=True)

        def read_ours() -> set[str]:
            return {s.id for s in turns.request(who, server.read)}

        try:
            settle(session_id, lambda: turns.request(who, server.read), read_ours, change)
        except NumbersUnsettled:
            return session_id  # left for the next flush
        return None
    finally:
        turns.leave()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 10),
    st.booleans(),
    st.integers(0, 2**32),
    st.lists(st.integers(0, 30), min_size=10, max_size=10),
)
def test_flushers_at_once_leave_the_day_numbered_in_start_order(flushers, unique, seed, minutes):
    server = Server(unique)
    turns = Turns(flushers, random.Random(seed))  # drawn here: hypothesis draws on one thread
    starts = [DAY + datetime.timedelta(minutes=m) for m in minutes[:flushers]]
    unsettled: list[str | None] = [None] * flushers

    def run(who: int) -> None:
        unsettled[who] = register(server, turns, who, starts[who])

    threads = [threading.Thread(target=run, args=(who,)) for who in range(flushers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    for session_id in filter(None, unsettled):  # the next flush settles what was left
        settle(session_id, server.read, lambda: set(server.sessions), _changer(server))
    assert len(server.sessions) == flushers
    assert in_order(list(server.sessions.values()))


def test_one_flusher_alone_reads_its_day_once_after_creating_and_changes_nothing():
    server = Server(unique=False)
    for minute in (0, 10, 20):
        start = DAY + datetime.timedelta(minutes=minute)
        session_id = server.create(start, next_number(server.read()))
        before = server.requests
        settle(session_id, server.read, lambda: set(server.sessions), _changer(server))
        assert server.requests - before == 1
    assert in_order(list(server.sessions.values()))


def _changer(server: Server) -> Callable[[str, int], None]:
    def change(session_id: str, number: int) -> None:
        if not server.change(session_id, number):
            raise ChangeRefused(session_id, taken=True)

    return change


def _duplicates(numbers: Any) -> set[int]:
    seen: set[int] = set()
    repeated = set()
    for number in numbers:
        if number is not None and number in seen:
            repeated.add(number)
        if number is not None:
            seen.add(number)
    return repeated
