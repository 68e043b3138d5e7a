"""Sending one outbox item to Alyx, step by step, never creating a record twice.

A session item has up to four steps — the session, the weighing, the water
administration (linked to the session), then the session's number settled among its
day's sessions — and each one's result is committed to the outbox before the next record
is created. Before each create the step is marked "posting" in the outbox: a mark found
by a later attempt means the record may be on Alyx without its answer having reached us.

- The session is looked for by its identity, the PyBpod session's uuid4
  (:mod:`.identity`), among the day's sessions read anyway for its number, and by a
  search when a mark says it may have been created unheard. It is created with the next
  free number; once the flush has created the rest, its day's numbers are settled with
  every other rig's (:mod:`.numbering`), and the day read for that shows whether the
  server stored the start sent (a server on another clock moves a time in its gap).
- A weighing or water administration is looked for by subject, time and amount (and
  session) when it may be on Alyx: the step was marked and its answer never came, or the
  session was found on Alyx already. Otherwise it is created straight away.

Every answer — created, found or changed — goes through :func:`~.answers.checked` before
it counts: an answer that is not the record sent leaves the item needing attention.

This module never writes the outbox: each step's progress goes to the ``save`` the flush
gives it (:mod:`.flush` is the one owner of an item's state), and what the user must be
told (a location Alyx does not have) is in the progress it returns.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient, AlyxError, NotFoundError
from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.sync.subjects import server_origin

from .answers import UncheckedAnswer, checked, moved, session_identity
from .identity import ENDPOINTS, find_record, find_session
from .locations import UNPLACED, Locations
from .numbering import ChangeRefused, in_order, next_number, settle
from .outbox import Item
from .records import payload_times
from .session_days import DaySession, SessionDays, read_sessions, session_day
from .times import ServerTimes

POSTING = "posting"
#: Creates of one session whose number another rig took meanwhile (alyx-local refuses a
#: duplicate number), each after a fresh read of the day.
CREATE_TRIES = 5
#: Seconds a flusher waits before changing other rigs' sessions' numbers (from, to).
PAUSE_SECONDS = (0.2, 1.0)
#: Alyx's words when a number is taken (alyx-local's check, or its unique session name).
_NUMBER_TAKEN = ("same subject, date and number", "actions_session_name")


class WrongServer(PluginError):
    """The item's subject was not synced from the Alyx we are sending to (or from none known)."""


#: ``save(progress)``: commit an item's progress so far (the flush's, see :mod:`.flush`).
SaveProgress = Callable[[dict[str, Any]], None]


@dataclass
class SendContext:
    """What every item of one flush shares: the server, its locations, the sessions read."""

    alyx: AlyxClient
    locations: Locations = field(default_factory=Locations)
    session_days: SessionDays = field(default_factory=SessionDays)

    @classmethod
    def open(cls, alyx: AlyxClient, pending: Iterable[dict[str, Any]]) -> SendContext:
        """Ask the server for its locations (this also logs in, before any worker starts).

        ``pending``: the payloads of the items to send, whose days are read once each.
        """
        locations = Locations.of(alyx.list("locations"))
        return cls(alyx, locations, SessionDays.for_payloads(pending))

    @property
    def server(self) -> str:
        return server_origin(self.alyx.api_root)


def send_item(
    item: Item, context: SendContext, save: SaveProgress, numbers: bool = True
) -> dict[str, Any]:
    """Send every step of ``item`` not done yet; returns its progress.

    Each step's result is committed (``save``) together with the "posting" mark of the
    next step, and the last one by the caller's :meth:`~.outbox.Outbox.finish`. The
    session's number is settled last, and only with ``numbers`` (a flush settles the
    numbers once it has created what it had to: see :mod:`.flush`); the progress then says
    whether it was (:func:`numbers_settled`). A session registered without its location
    says why in its progress (:data:`~.locations.UNPLACED`).

    Raises whatever the client raises (:class:`~pybpod_alyx_module.alyx.AlyxError`),
    :class:`WrongServer`, :class:`~.answers.UncheckedAnswer`,
    :class:`~.numbering.NumbersUnsettled` or :class:`~.outbox.ClaimLost`; the progress
    of the steps done so far is already committed.
    """
    payload = item.payload
    progress = dict(item.progress)
    subject = payload["subject"]
    check_server(subject, context.server)
    times = payload_times(payload)
    uncertain = progress.pop(POSTING, None)  # an earlier attempt's mark

    if payload["kind"] == "session" and "session" not in progress:
        progress["session"] = _send_session(
            payload, context, times, uncertain, progress, lambda: save(progress)
        )
    steps = [step for step in ("weighing", "water") if payload.get(step) and step not in progress]
    for step in steps:
        body = dict(payload[step])
        if step == "water":
            body["session"] = progress["session"]["id"]
        may_exist = uncertain == step or progress.get("session", {}).get("found", False)
        found = (
            find_record(context.alyx, step, body, subject["nickname"], times) if may_exist else None
        )
        if found is None:
            progress[POSTING] = step
            save(progress)
            answer = context.alyx.post(ENDPOINTS[step], body)
            progress.pop(POSTING)
            record = checked(step, answer, body, times)
            progress[step] = {"id": record.id}
        else:
            progress[step] = {"id": found.id, "found": True}
    if numbers and not numbers_settled(payload, progress):
        progress["session"]["number"] = _settle_numbers(payload, context, times, progress)
        progress["session"]["numbered"] = True
    return progress


def numbers_settled(payload: dict[str, Any], progress: dict[str, Any]) -> bool:
    """True unless the item is a session whose number is still to be settled."""
    return payload["kind"] != "session" or bool(progress.get("session", {}).get("numbered"))


def check_server(subject: dict[str, Any], server: str) -> None:
    """Refuse to send a subject's records anywhere but to the Alyx it was synced from."""
    came_from = subject.get("server")
    if not came_from:
        raise WrongServer(
            f"Subject {subject.get('nickname')} has no record of the Alyx it was synced from "
            "(synced by an older version, or not by the plugin): its records are sent nowhere"
        )
    if came_from != server:
        raise WrongServer(
            f"Subject {subject.get('nickname')} was synced from the Alyx at {came_from}, but "
            f"the outbox is sending to {server}: its records are not registered on another "
            "server"
        )


def _send_session(
    payload: dict[str, Any],
    context: SendContext,
    times: ServerTimes,
    uncertain: str | None,
    progress: dict[str, Any],
    save: Callable[[], None],
) -> dict[str, Any]:
    """Find the session on Alyx, else create it; returns its progress entry."""
    alyx, days = context.alyx, context.session_days
    body = dict(payload["session"])
    identity = session_identity(payload)
    day = days.on_day(alyx, payload, times)
    found = find_session(alyx, body, identity, times, day, search=uncertain == "session")
    if found is not None:
        return {"id": found.id, "number": found.number, "found": True}
    unplaced = _choose_location(payload, body, context)
    progress[POSTING] = "session"
    save()
    for attempt in range(1, CREATE_TRIES + 1):
        body["number"] = next_number(day)
        try:
            answer = alyx.post("sessions", body)
        except AlyxError as exc:
            days.forget(payload)
            if attempt == CREATE_TRIES or not _number_taken(exc):
                raise
            day = days.on_day(alyx, payload, times)
            continue
        record = checked("session", answer, body, times, identity)
        progress.pop(POSTING)
        start = times.server_wall(body["start_time"])
        days.created(payload, DaySession(record.id, record.number, start))
        created = {"id": record.id, "number": record.number}
        return dict(created, **{UNPLACED: unplaced}) if unplaced else created
    raise AssertionError("unreachable: the last try raises")


def _settle_numbers(
    payload: dict[str, Any], context: SendContext, times: ServerTimes, progress: dict[str, Any]
) -> int:
    """Settle the numbers of the session's day with every rig's; returns its own number."""
    alyx, body = context.alyx, payload["session"]
    ours_id = progress["session"]["id"]
    day = session_day(payload)
    sent_start = times.server_wall(body["start_time"])
    sessions_by_id: dict[str, DaySession] = {}
    window = [context.session_days.window(payload)]  # the first read: the subject's days

    def read_day() -> list[DaySession]:
        sessions = read_sessions(alyx, body, *window[0], times)
        if window[0] != (day, day):
            window[0] = (day, day)  # a later round reads the day again, only it
            sessions = _other_days_noted(context.session_days, payload, sessions, day)
        sessions_by_id.clear()
        sessions_by_id.update((s.id, s) for s in sessions)
        ours = sessions_by_id.get(ours_id)
        if ours is not None and ours.start != sent_start:  # a create's answer echoes what
            # was sent; the list says what the server stored (it moves a time in its gap)
            raise moved(
                "stored the session with start",
                ours.start.isoformat(),
                sent_start.isoformat(),
                times,
            )
        return sessions

    def read_ours() -> set[str]:
        return {s.id for s in read_sessions(alyx, body, day, day, times, ours_only=True)}

    def change(session_id: str, number: int) -> None:
        start = sessions_by_id[session_id].start.isoformat()
        try:
            answer = alyx.patch(f"sessions/{session_id}", {"number": number})
        except NotFoundError:
            raise ChangeRefused(session_id, taken=False) from None  # deleted meanwhile
        except AlyxError as exc:
            if _number_taken(exc):
                raise ChangeRefused(session_id, taken=True) from None
            raise
        sent = {"subject": body["subject"], "start_time": start, "number": number}
        if checked("session", answer, sent, times).id != session_id:
            raise UncheckedAnswer(f"Alyx answered the change of session {session_id} with another")

    settled = context.session_days.settled(payload, ours_id, sent_start)
    if settled is None:
        settled = settle(ours_id, read_day, read_ours, change, _pause)
        context.session_days.replace_day(payload, settled, settled=True)
    return next(s.number for s in settled if s.id == ours_id)  # type: ignore[return-value]


def _other_days_noted(
    days: SessionDays, payload: dict[str, Any], sessions: list[DaySession], day: datetime.date
) -> list[DaySession]:
    """The ``day``'s sessions of a read of the subject's window; its other days are kept.

    Why: after an outage a subject has sessions on several days; one read settles every
    day found numbered in start order, so its other items need no read of their own
    (:meth:`~.session_days.SessionDays.settled`: only for sessions that read listed).
    """
    others: dict[datetime.date, list[DaySession]] = {}
    for session in sessions:
        if session.start.date() != day:
            others.setdefault(session.start.date(), []).append(session)
    for other, listed in others.items():
        days.replace_day(payload, listed, settled=in_order(listed), day=other)
    return [session for session in sessions if session.start.date() == day]


def _pause() -> None:
    """A moment before changing other rigs' sessions (jittered: rigs do not move in step)."""
    time.sleep(random.uniform(*PAUSE_SECONDS))


def _number_taken(error: AlyxError) -> bool:
    """True if Alyx refused a session's number as taken (nothing was created or changed)."""
    words = f"{error.detail or ''} {error}"
    return error.status in (400, 409, 500) and any(marker in words for marker in _NUMBER_TAKEN)


def _choose_location(
    payload: dict[str, Any], body: dict[str, Any], context: SendContext
) -> str | None:
    """Name the setup's location if the server has it in the subject's lab; else say why.

    Without it, the setup's location is kept in the session's ``json``; the reason is
    returned, for the item's note (:func:`~.locations.location_note`).
    """
    location = payload.get("location")
    if not location:
        return None
    problem = context.locations.problem(location, str(body.get("lab") or ""))
    if problem is None:
        body["location"] = location
        return None
    body["json"] = dict(body["json"], pybpod_location=location)
    return problem
