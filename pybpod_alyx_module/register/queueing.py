"""Queueing a project's sessions, or a weighing, into the outbox: what the CLI and the GUI call.

A session queued before is not queued twice, and one a person discarded stays discarded:
only naming it (``again``) queues it anew. A dry run goes through the same steps without
writing, so it shows exactly what a real run would queue.

With a project and its outbox at hand (so not run as a doctest)::

    report = queue_sessions(outbox, project, options)
    report.queued, report.already, [p.reason for p in report.problems]
    # (3, 12, ['it never ended (no SESSION-ENDED row: …'])
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .options import RegisterOptions
from .outbox import DISCARDED, Outbox
from .project_sessions import (
    Registration,
    SessionProblem,
    alyx_subjects,
    prepare_sessions,
    session_files,
)
from .records import AlyxSubject, alyx_time, weighing_key, weighing_registration
from .times import ServerTimes


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
    """

    queued: int = 0
    already: int = 0
    problems: list[SessionProblem] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    discarded: list[Registration] = field(default_factory=list)


def queue_sessions(
    outbox: Outbox | None,
    project: Any,
    options: RegisterOptions,
    files: Iterable[Path] | None = None,
    since: datetime.date | None = None,
    dry_run: bool = False,
    again: Collection[str] = (),
) -> QueueReport:
    """Queue the registrations of a project's sessions (all, or ``files``).

    Parameters
    ----------
    outbox
        Where to queue; ``None`` (a dry run only) when there is no outbox yet.
    again
        Keys of discarded items to queue anew (a person asked for them by name).
    dry_run
        Write nothing: the report says what would be queued.
    """
    report = plan_sessions(outbox, project, options, files, since, again)
    if not dry_run and outbox is not None:
        queue_planned(outbox, report, again)
    return report


def plan_sessions(
    outbox: Outbox | None,
    project: Any,
    options: RegisterOptions,
    files: Iterable[Path] | None = None,
    since: datetime.date | None = None,
    again: Collection[str] = (),
) -> QueueReport:
    """What :func:`queue_sessions` would queue, read from the sessions and the outbox."""
    prepared = prepare_sessions(
        session_files(project.path) if files is None else files,
        alyx_subjects(project),
        options,
        project.path,
        since=since,
    )
    report = QueueReport(problems=prepared.problems)
    for registration in prepared.registrations:
        state = outbox.state_of(registration.key) if outbox is not None else None
        if state is None or (state == DISCARDED and registration.key in again):
            report.registrations.append(registration)
        elif state == DISCARDED:
            report.discarded.append(registration)
        else:
            report.already += 1
    return report


def queue_planned(outbox: Outbox, report: QueueReport, again: Collection[str] = ()) -> None:
    """Queue the registrations :func:`plan_sessions` found new; ``report`` says what was done.

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
