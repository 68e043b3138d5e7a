"""Finding our records on Alyx by their identity, before anything is created again.

- A **session** is ours if its ``json`` carries our PyBpod session's uuid4 and its subject
  is exactly ours (one PyBpod session of two animals gives two Alyx sessions with one
  uuid4); its lab and start are then checked too (:func:`~.answers.checked`). Candidates
  come from the day's sessions already read (same subject, same start: free of requests
  when there are none), and — when an earlier attempt may have created the session
  without hearing the answer — from a search by the uuid4
  (``django=json__pybpod_session_uuid4,<uuid>``, which both the canonical server and
  alyx-local evaluate; the uuid4 is checked to be a UUID first). Each candidate is read
  in full (lists carry no ``json``) before it is taken. A session of ours whose start
  differs from the one sent is not created again: its item needs attention, naming the
  time zone settings.
- A **weighing** or **water administration** has no ``json`` on Alyx (the server drops
  it), so it is identified by what it holds: the subject exactly, the time to the
  second, the amount, and for water the session it belongs to.
"""

from __future__ import annotations

import datetime
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

from .answers import SESSION_UUID, CheckedRecord, UncheckedAnswer, checked, record_id
from .session_days import DaySession
from .times import ServerTimes

ENDPOINTS = {"weighing": "weighings", "water": "water-administrations"}
#: Days either side of a session's day searched by its uuid4: a server whose clock
#: differs from ours by hours may have moved it across midnight.
SEARCH_DAYS = 1


def find_session(
    alyx: AlyxClient,
    body: dict[str, Any],
    identity: str,
    times: ServerTimes,
    day: list[DaySession],
    search: bool,
) -> CheckedRecord | None:
    """Our session on Alyx (checked), or ``None``.

    Parameters
    ----------
    body
        The session's body as it is sent.
    identity
        Its PyBpod uuid4 (checked by :func:`~.answers.session_identity`).
    day
        The subject's sessions of that day, as read.
    search
        Also search by the uuid4 (an earlier attempt may have created it unheard).

    Raises
    ------
    UncheckedAnswer
        Alyx holds a session of ours that differs from what is sent (another start).
    """
    start = datetime.datetime.fromisoformat(body["start_time"])
    candidates = [s.id for s in day if s.start == start]
    if search:
        candidates += _by_identity(alyx, body, identity)
    expected = {"subject": body["subject"], "start_time": body["start_time"]}
    if body.get("lab"):
        expected["lab"] = body["lab"]
    for session_id in dict.fromkeys(candidates):
        detail = alyx.get(f"sessions/{session_id}")
        if not _names(detail, identity, body["subject"]):
            continue  # another animal's, or another PyBpod session's
        found = checked("session", detail, expected, times, identity, found=True)
        if found.id != session_id:
            raise UncheckedAnswer(f"Alyx answered session {session_id} with another record")
        return found
    return None


def _by_identity(alyx: AlyxClient, body: dict[str, Any], identity: str) -> list[str]:
    """Ids of the sessions of exactly this subject that the server finds by our uuid4."""
    day = datetime.date.fromisoformat(body["start_time"][:10])
    spread = datetime.timedelta(days=SEARCH_DAYS)
    ids = []
    for entry in alyx.list(
        "sessions",
        subject=body["subject"],
        date_range=f"{day - spread},{day + spread}",
        django=f"json__{SESSION_UUID},{identity}",
    ):
        if isinstance(entry, dict) and entry.get("subject") == body["subject"]:
            try:
                ids.append(record_id(entry, "a session found by its PyBpod uuid4"))
            except UncheckedAnswer:
                continue  # cannot be read safely, so cannot be ours
    return ids


def _names(detail: Any, identity: str, subject: str) -> bool:
    """True if a session record is our PyBpod session's, for exactly our subject."""
    if not isinstance(detail, dict) or detail.get("subject") != subject:
        return False
    document = detail.get("json")
    named = document.get(SESSION_UUID) if isinstance(document, dict) else None
    return isinstance(named, str) and named.lower() == identity


def find_record(
    alyx: AlyxClient, step: str, body: dict[str, Any], nickname: str, times: ServerTimes
) -> CheckedRecord | None:
    """Our weighing or water administration on Alyx (``step``), checked, or ``None``.

    The list is narrowed by the server (the subject's nickname, the day); what it
    answers is checked exactly (:func:`~.answers.checked`): subject, time, amount, session.
    """
    day = datetime.date.fromisoformat(body["date_time"][:10])  # a date: safe in a filter
    for record in alyx.list(ENDPOINTS[step], nickname=nickname, django=f"date_time__date,{day}"):
        try:
            return checked(step, record, body, times)
        except UncheckedAnswer:
            continue
    return None
