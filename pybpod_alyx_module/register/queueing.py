"""Queueing a project's sessions, or a weighing, into the outbox: what the CLI and the GUI call.

With a project and its outbox at hand (so not run as a doctest)::

    report = queue_sessions(outbox, project, options)
    report.queued, report.already, [p.reason for p in report.problems]
    # (3, 12, ['it never ended (no SESSION-ENDED row: …'])
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .options import RegisterOptions
from .outbox import Outbox
from .project_sessions import (
    Registration,
    SessionProblem,
    alyx_subjects,
    prepare_sessions,
    session_files,
)
from .records import AlyxSubject, alyx_time, weighing_key, weighing_registration


@dataclass
class QueueReport:
    """What queueing did: new items, items queued before, sessions left out and why."""

    queued: int = 0
    already: int = 0
    problems: list[SessionProblem] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)


def queue_sessions(
    outbox: Outbox | None,
    project: Any,
    options: RegisterOptions,
    files: Iterable[Path] | None = None,
    since: datetime.date | None = None,
    dry_run: bool = False,
) -> QueueReport:
    """Queue the registrations of a loaded project's sessions (all, or ``files``).

    A session queued before is not queued twice (its items are keyed by session and
    subject). With ``dry_run`` nothing is written (``outbox`` may be ``None``):
    ``registrations`` says what would be queued.
    """
    prepared = prepare_sessions(
        session_files(project.path) if files is None else files,
        alyx_subjects(project),
        options,
        project.path,
        since=since,
    )
    report = QueueReport(problems=prepared.problems, registrations=prepared.registrations)
    if dry_run or outbox is None:
        return report
    for registration in prepared.registrations:
        if outbox.add(registration.key, registration.label, registration.payload):
            report.queued += 1
        else:
            report.already += 1
    return report


def queue_weighing(
    outbox: Outbox,
    subject: AlyxSubject,
    grams: float,
    user: str | None,
    when: datetime.datetime | None = None,
) -> bool:
    """Queue a weighing of ``subject`` (now, by default, in local time); False if queued before."""
    when = when or datetime.datetime.now()
    return outbox.add(
        weighing_key(subject, when, grams),
        f"{subject.nickname} {grams:g} g at {alyx_time(when)}",
        weighing_registration(subject, grams, when, user),
    )
