"""A subject's sessions on the days being registered, asked of Alyx once per subject and flush.

Before creating a session the sender needs the subject's sessions of that day: to find
the session if an earlier attempt created it, and to take the next free number. After an
outage a subject has several sessions waiting, on consecutive days; one request for all
of those days (``date_range=first,last``) replaces one per session, and each session the
flush creates is added to what was read. Only one sender at a time sends a subject's
items (the outbox's claims), so what was read stays true during the flush, except for
records made meanwhile by other software: a session created on top of one of those is
refused or duplicated by number only, never as a second copy of the same session, and
a failed create forgets what was read.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

Window = tuple[datetime.date, datetime.date]


class SessionDays:
    """The sessions of each subject over the days its pending items start on."""

    def __init__(self, windows: dict[str, Window] | None = None) -> None:
        self._windows = dict(windows or {})
        self._read: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_payloads(cls, payloads: Iterable[dict[str, Any]]) -> SessionDays:
        """The windows of the pending session payloads: first and last start day per subject."""
        windows: dict[str, Window] = {}
        for payload in payloads:
            if payload.get("kind") != "session":
                continue
            key = _key(payload)
            day = datetime.date.fromisoformat(payload["session"]["start_time"][:10])
            first, last = windows.get(key, (day, day))
            windows[key] = (min(first, day), max(last, day))
        return cls(windows)

    def on_day(self, alyx: AlyxClient, payload: dict[str, Any], day: datetime.date) -> list:
        """The subject's sessions starting on ``day`` (list entries: id, number, start_time…)."""
        key = _key(payload)
        with self._lock:
            read = self._read.get(key)
            first, last = self._windows.get(key, (day, day))
        if read is None or not first <= day <= last:
            first, last = (first, last) if first <= day <= last else (day, day)
            body = payload["session"]
            read = list(
                alyx.list(
                    "sessions",
                    subject=body["subject"],
                    lab=body.get("lab") or None,
                    date_range=f"{first},{last}",
                )
            )
            with self._lock:
                if self._windows.get(key, (day, day)) == (first, last):
                    self._read[key] = read
        return [s for s in read if str(s.get("start_time", ""))[:10] == day.isoformat()]

    def created(self, payload: dict[str, Any], session: dict[str, Any]) -> None:
        """Remember a session the flush created."""
        with self._lock:
            read = self._read.get(_key(payload))
            if read is not None:
                read.append(session)

    def forget(self, payload: dict[str, Any]) -> None:
        """Read the subject's sessions again next time (a create failed)."""
        with self._lock:
            self._read.pop(_key(payload), None)


def _key(payload: dict[str, Any]) -> str:
    return str(payload["subject"].get("id") or payload["session"]["subject"])
