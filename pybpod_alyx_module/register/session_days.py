"""A subject's sessions on the days being registered, read from Alyx and checked.

Before creating a session the sender needs the subject's sessions of that day: to find
the session if it is on Alyx already (:mod:`.identity`), and to take the next free
number (:mod:`.numbering`). After an outage a subject has several sessions waiting, on
consecutive days; one request for all of those days (``date_range=first,last``)
replaces one per session, and each session the flush creates, or reads again while
settling numbers, updates what was read.

What Alyx lists is checked on the way in: only sessions of *exactly* the subject count
(the canonical server's ``subject=`` filter matches ``M001`` for ``m001``), each with a
UUID id, a start time and a whole number (or none); anything else is an
:class:`~.answers.UncheckedAnswer`. Days are the server's days: times are read on the
server's clock (:mod:`.times`).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

from .answers import SESSION_UUID, UncheckedAnswer, record_id
from .times import ServerTimes

Window = tuple[datetime.date, datetime.date]


@dataclass(frozen=True)
class DaySession:
    """One of a subject's sessions on a day, as Alyx listed it."""

    id: str
    number: int | None
    start: datetime.datetime  # the server's wall-clock time

    @property
    def order(self) -> tuple[datetime.datetime, str]:
        """How sessions of a day are numbered: by start, then by id (every rig alike)."""
        return (self.start, self.id)


def read_sessions(
    alyx: AlyxClient,
    body: dict[str, Any],
    first: datetime.date,
    last: datetime.date,
    times: ServerTimes,
    ours_only: bool = False,
) -> list[DaySession]:
    """The sessions of ``body``'s subject (exactly) and lab starting from ``first`` to ``last``.

    ``ours_only``: only sessions registered by this plugin (their ``json`` names a PyBpod
    session), as the server filters them.
    """
    filters: dict[str, Any] = {
        "subject": body["subject"],
        "lab": body.get("lab") or None,
        "date_range": f"{first},{last}",
    }
    if ours_only:
        filters["django"] = f"json__has_key,{SESSION_UUID}"
    return [
        day_session(entry, body["subject"], times)
        for entry in alyx.list("sessions", **filters)
        if isinstance(entry, dict) and entry.get("subject") == body["subject"]
    ]


def day_session(entry: dict[str, Any], subject: str, times: ServerTimes) -> DaySession:
    """A listed session of ``subject``, checked (raises :class:`~.answers.UncheckedAnswer`)."""
    what = f"a session of {subject} in its list"
    number = entry.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise UncheckedAnswer(f"Alyx listed {what} whose number is not a whole number")
    try:
        start = times.server_wall(entry.get("start_time"))  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        raise UncheckedAnswer(f"Alyx listed {what} without a readable start time") from None
    return DaySession(record_id(entry, what), number, start)


class SessionDays:
    """The sessions of each subject over the days its pending items start on."""

    def __init__(self, windows: dict[str, Window] | None = None) -> None:
        self._windows = dict(windows or {})
        self._read: dict[str, list[DaySession]] = {}
        self._settled: dict[tuple[str, datetime.date], list[DaySession]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_payloads(cls, payloads: Iterable[dict[str, Any]]) -> SessionDays:
        """The windows of the pending session payloads: first and last start day per subject."""
        windows: dict[str, Window] = {}
        for payload in payloads:
            try:
                key, day = _key(payload), session_day(payload)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # not a session, or a damaged one: its own try will say so
            if payload.get("kind") != "session":
                continue
            first, last = windows.get(key, (day, day))
            windows[key] = (min(first, day), max(last, day))
        return cls(windows)

    def on_day(
        self, alyx: AlyxClient, payload: dict[str, Any], times: ServerTimes
    ) -> list[DaySession]:
        """The subject's sessions starting on the payload's day (read once per window)."""
        key, day = _key(payload), session_day(payload)
        with self._lock:
            read = self._read.get(key)
            first, last = self._windows.get(key, (day, day))
        if read is None or not first <= day <= last:
            first, last = (first, last) if first <= day <= last else (day, day)
            read = read_sessions(alyx, payload["session"], first, last, times)
            with self._lock:
                if self._windows.get(key, (day, day)) == (first, last):
                    self._read[key] = read
        return [s for s in read if s.start.date() == day]

    def window(self, payload: dict[str, Any]) -> Window:
        """The days the subject's pending sessions start on, the payload's own among them."""
        day = session_day(payload)
        with self._lock:
            first, last = self._windows.get(_key(payload), (day, day))
        return (first, last) if first <= day <= last else (day, day)

    def replace_day(
        self,
        payload: dict[str, Any],
        sessions: list[DaySession],
        settled: bool = False,
        day: datetime.date | None = None,
    ) -> None:
        """What a fresh read of a day found; ``settled``: its numbers were in order.

        ``day``: the payload's own day unless given (a read of the subject's window reads
        its other days too).
        """
        day = session_day(payload) if day is None else day
        with self._lock:
            read = self._read.get(_key(payload))
            if read is not None:
                read[:] = [s for s in read if s.start.date() != day] + sessions
            if settled:
                self._settled[(_key(payload), day)] = list(sessions)

    def settled(
        self, payload: dict[str, Any], session_id: str, start: datetime.datetime
    ) -> list[DaySession] | None:
        """The day's last read in order during this flush, if it lists ``session_id`` at ``start``.

        A session created before that read was numbered by it: reading the day again for
        it would only say the same (one read per subject's window, not per session, for
        one rig). Listed at another start, it is read again: that read says the server
        moved the time sent.
        """
        with self._lock:
            sessions = self._settled.get((_key(payload), session_day(payload)))
        listed = any(s.id == session_id and s.start == start for s in sessions or ())
        return sessions if listed else None

    def created(self, payload: dict[str, Any], session: DaySession) -> None:
        """Remember a session the flush created (its day must be settled anew)."""
        with self._lock:
            read = self._read.get(_key(payload))
            if read is not None:
                read.append(session)
            self._settled.pop((_key(payload), session.start.date()), None)

    def forget(self, payload: dict[str, Any]) -> None:
        """Read the subject's sessions again next time (a create failed)."""
        with self._lock:
            self._read.pop(_key(payload), None)


def session_day(payload: dict[str, Any]) -> datetime.date:
    """The server's day a session payload starts on (its start is the server's time)."""
    return datetime.date.fromisoformat(payload["session"]["start_time"][:10])


def _key(payload: dict[str, Any]) -> str:
    return str(payload["subject"].get("id") or payload["session"]["subject"])
