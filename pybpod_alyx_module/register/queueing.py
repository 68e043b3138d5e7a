"""Putting registrations into the outbox: what is new, what was queued before, what was given up.

A session queued before is not queued twice, and one a person discarded stays discarded:
only naming it (``again``) queues it anew. A dry run goes through the same planning
without writing, so it shows exactly what a real run would queue.
:class:`~.registrar.Registrar` is what the command line and the GUI call; this module is
the outbox's side of it.
"""

from __future__ import annotations

import datetime
from collections.abc import Container
from dataclasses import dataclass, field

from .outbox import DISCARDED, Item, Outbox
from .project_sessions import PreparedSessions, Registration, SessionProblem
from .records import AlyxSubject, alyx_time, weighing_key, weighing_registration
from .times import ServerTimes


class _AnyKey:
    """``again`` when a person asked for a session by name: any of its items may be queued anew."""

    def __contains__(self, key: object) -> bool:
        return True


#: ``again`` for every registration planned (the GUI's "Register in Alyx").
ANY_KEY: Container[str] = _AnyKey()


@dataclass
class QueueReport:
    """What queueing did (or, in a dry run, would do).

    Attributes
    ----------
    queued
        Items queued now (0 in a dry run).
    already
        Registrations queued before (pending, sent or needing attention): not queued again.
    problems
        Sessions left out, and why.
    registrations
        The registrations queued now; in a dry run, those a real run would queue.
    discarded
        Registrations left out because a person discarded their item (``again`` queues one).
    before
        The items of the registrations queued before, as the outbox holds them (when they
        were sent, their Alyx ids): what a person asking for a session again is told.
    """

    queued: int = 0
    already: int = 0
    problems: list[SessionProblem] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    discarded: list[Registration] = field(default_factory=list)
    before: list[Item] = field(default_factory=list)


def plan_queue(
    outbox: Outbox | None, prepared: PreparedSessions, again: Container[str] = ()
) -> QueueReport:
    """Which of ``prepared``'s registrations are new to ``outbox`` (``None``: no outbox yet).

    ``again``: keys of discarded items to queue anew (a person asked for them by name).
    """
    report = QueueReport(problems=list(prepared.problems))
    queued = {item.key: item for item in outbox.items()} if outbox is not None else {}
    for registration in prepared.registrations:
        item = queued.get(registration.key)
        if item is None or (item.state == DISCARDED and registration.key in again):
            report.registrations.append(registration)
        elif item.state == DISCARDED:
            report.discarded.append(registration)
        else:
            report.already += 1
            report.before.append(item)
    return report


def queue_planned(outbox: Outbox, report: QueueReport, again: Container[str] = ()) -> None:
    """Queue the registrations :func:`plan_queue` found new; ``report`` says what was done.

    One queued meanwhile by another process counts as queued before.
    """
    queued = []
    for registration in report.registrations:
        key = registration.key
        if outbox.add(key, registration.label, registration.payload, again=key in again):
            queued.append(registration)
        else:
            report.already += 1
    report.registrations, report.queued = queued, len(queued)


def water_registration(registration: Registration) -> Registration:
    """Water typed after a run, for a session queued without it: an item of its own.

    Its key is ``<session item>:water`` and it holds the same session (without the
    weighing): the sender finds the session already on Alyx (same subject, same start)
    and adds the water to it, once; the outbox sends one subject's items in order.
    """
    payload = dict(registration.payload, weighing=None)
    return Registration(f"{registration.key}:water", f"{registration.label} water", payload)


def queue_weighing(
    outbox: Outbox,
    subject: AlyxSubject,
    grams: float,
    user: str | None,
    when: datetime.datetime | None = None,
    times: ServerTimes | None = None,
) -> bool:
    """Queue a weighing of ``subject`` (now, by default, in local time); False if queued before.

    ``times``: the zones its time is sent in (the settings', :meth:`.times.ServerTimes.of`).
    """
    when = when or datetime.datetime.now()
    return outbox.add(
        weighing_key(subject, when, grams),
        f"{subject.nickname} {grams:g} g at {alyx_time(when)}",
        weighing_registration(subject, grams, when, user, times),
    )
