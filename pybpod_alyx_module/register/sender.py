"""Sending one outbox item to Alyx, step by step, never creating a record twice.

A session item has up to three steps — the session, then the weighing, then the water
administration (linked to the session) — and each one's result is committed to the
outbox as soon as Alyx answers. A step is created only after making sure it is not
on Alyx already:

- the session is looked up in the subject's sessions of that day (read with the same
  request that gives the next free number, once per subject for all the days a flush
  sends, :mod:`.session_days`): the same subject starting at the same second is the
  same session;
- a weighing or water administration is looked up by subject, time and amount when an
  earlier attempt may have posted it (the step was marked "posting" and its answer
  never came back, or the session was already on Alyx). Otherwise nothing was sent
  yet, and it is created straight away.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

from .outbox import PENDING, Item, Outbox
from .records import origin
from .session_days import SessionDays

POSTING = "posting"
ENDPOINTS = {"weighing": "weighings", "water": "water-administrations"}


class WrongServer(Exception):
    """The item's subject was synced from another Alyx than the one we are sending to."""


@dataclass
class SendContext:
    """What every item of one flush shares: the server, its locations, the sessions read."""

    alyx: AlyxClient
    outbox: Outbox
    locations: set[str] = field(default_factory=set)
    session_days: SessionDays = field(default_factory=SessionDays)

    @classmethod
    def open(cls, alyx: AlyxClient, outbox: Outbox) -> SendContext:
        """Ask the server for its locations (this also logs in, before any worker starts)."""
        names = {str(loc.get("name")) for loc in alyx.list("locations")}
        pending = SessionDays.for_payloads(item.payload for item in outbox.items(PENDING))
        return cls(alyx, outbox, names, pending)

    @property
    def server(self) -> str:
        return origin(self.alyx.api_root)


def send_item(item: Item, context: SendContext) -> dict[str, Any]:
    """Send every step of ``item`` not done yet; returns its final progress.

    Each step's result is committed together with the "posting" mark of the next step,
    and the last one by the caller's :meth:`~.outbox.Outbox.finish`: one write per
    record. Only a mark left by an *earlier* attempt means that a record may be on Alyx
    without our knowing (a session is always searched for first).

    Raises whatever the client raises (:class:`~pybpod_alyx_module.alyx.AlyxError`),
    :class:`WrongServer`, or :class:`~.outbox.ClaimLost`; the progress of the steps
    done so far is already committed.
    """
    payload = item.payload
    progress = dict(item.progress)
    subject = payload["subject"]
    check_server(subject, context.server)
    uncertain = progress.pop(POSTING, None)  # an earlier attempt's mark
    save = _saver(context.outbox, item.id, progress)
    steps = [step for step in ("weighing", "water") if payload.get(step) and step not in progress]
    if payload["kind"] == "session" and "session" not in progress:
        progress["session"] = _send_session(payload, context)
        _mark_next(progress, steps)
        if steps:  # the last step's result is committed by the outbox's finish()
            save()
    for n, step in enumerate(steps):
        body = payload[step]
        if step == "water":
            body = dict(body, session=progress["session"]["id"])
        may_exist = uncertain == step or progress.get("session", {}).get("found", False)
        found = _find_record(step, body, subject, context.alyx) if may_exist else None
        if found is not None:
            progress[step] = {"url": found.get("url"), "found": True}
        else:
            if progress.get(POSTING) != step:
                progress[POSTING] = step
                save()
            progress[step] = {"url": context.alyx.post(ENDPOINTS[step], body).get("url")}
        _mark_next(progress, steps[n + 1 :])
        if steps[n + 1 :]:
            save()
    return progress


def _mark_next(progress: dict[str, Any], remaining: list[str]) -> None:
    """Mark the next step as being posted (saved with the step just done), or clear the mark."""
    if remaining:
        progress[POSTING] = remaining[0]
    else:
        progress.pop(POSTING, None)


def check_server(subject: dict[str, Any], server: str) -> None:
    """Refuse to send a subject's records to another Alyx than the one it was synced from."""
    came_from = subject.get("server")
    if came_from and came_from != server:
        raise WrongServer(
            f"Subject {subject['nickname']} was synced from the Alyx at {came_from}, but the "
            f"outbox is sending to {server}: its records are not registered on another server"
        )


def _saver(outbox: Outbox, item_id: int, progress: dict[str, Any]) -> Callable[[], None]:
    return lambda: outbox.save_progress(item_id, progress)


def _send_session(payload: dict[str, Any], context: SendContext) -> dict[str, Any]:
    body = dict(payload["session"])
    start = _naive(body["start_time"])
    numbers = []
    for session in context.session_days.on_day(context.alyx, payload, start.date()):
        if session.get("start_time") and _naive(session["start_time"]) == start:
            return {"id": session["id"], "number": session.get("number"), "found": True}
        if isinstance(session.get("number"), int):
            numbers.append(session["number"])
    body["number"] = max(numbers, default=0) + 1
    location = payload.get("location")
    if location and location in context.locations:
        body["location"] = location
    elif location:
        body["json"] = dict(body["json"], pybpod_location=location)
        context.outbox.notice(
            f"location:{context.server}:{location}",
            f"Alyx at {context.server} has no location '{location}': sessions of setup "
            f"'{body['json'].get('pybpod_setup')}' are registered without a location (the "
            f"name is kept in their json). Create the location '{location}' in Alyx (admin "
            "site, Lab locations), or map the setup onto an existing one with "
            "ALYX_PLUGIN_LOCATIONS.",
        )
    try:
        created = context.alyx.post("sessions", body)
    except Exception:
        context.session_days.forget(payload)
        raise
    context.session_days.created(payload, created)
    return {"id": created["id"], "number": created.get("number", body["number"])}


def _find_record(
    step: str, body: dict[str, Any], subject: dict[str, Any], alyx: AlyxClient
) -> dict[str, Any] | None:
    """The weighing or water administration of this subject at this time with this amount."""
    amount = "weight" if step == "weighing" else "water_administered"
    when = _naive(body["date_time"])
    for record in alyx.list(ENDPOINTS[step], nickname=subject["nickname"]):
        if record.get("subject") not in (body["subject"], subject["nickname"]):
            continue
        if not record.get("date_time") or _naive(record["date_time"]) != when:
            continue
        if not isinstance(record.get(amount), (int, float)):
            continue
        if not math.isclose(record[amount], body[amount], rel_tol=1e-6):
            continue
        if "session" in body and record.get("session") not in (None, body["session"]):
            continue
        return record
    return None


def _naive(text: str) -> datetime.datetime:
    """An Alyx time (``…Z``, an offset, or naive) as a naive time to the second.

    Alyx answers naive times (cortex-lab) or times in its own zone (alyx-local, ``Z``)
    for the naive local times the plugin sends: the wall-clock reading is the same.
    """
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None, microsecond=0)
