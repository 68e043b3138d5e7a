"""Finding a project's sessions on disk and turning them into registrations, or problems.

Subjects are found through the project's subjects **by uuid4** (what a session file
names), never by name alone: a subject renamed, or a local subject that happens to share
an Alyx nickname, must not receive another animal's records. What cannot be registered
(a session that never ended, one without an Alyx subject, a value that makes no sense)
is reported with its reason, never guessed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybpod_alyx_module.sync.subjects import alyx_data, alyx_id

from .options import RegisterOptions
from .records import AlyxSubject, registration_key, session_registration
from .session_file import RecordedSession, SessionFileError, read_session
from .values import ReportedValueError, task_values


@dataclass(frozen=True)
class Registration:
    """One item to queue: its outbox key, a label for people, and the JSON to send."""

    key: str
    label: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SessionProblem:
    """A session left out, and why."""

    session: str
    reason: str


@dataclass
class PreparedSessions:
    """The registrations of some sessions, and the sessions left out."""

    registrations: list[Registration] = field(default_factory=list)
    problems: list[SessionProblem] = field(default_factory=list)


def alyx_subjects(project: Any) -> dict[str, AlyxSubject]:
    """The project's Alyx subjects by PyBpod uuid4 (a loaded ``pybpodgui_api`` project)."""
    found = {}
    for subject in project.subjects:
        if not alyx_id(subject):
            continue
        data = alyx_data(subject)
        found[str(subject.uuid4)] = AlyxSubject(
            uuid4=str(subject.uuid4),
            name=str(subject.name),
            alyx_id=str(data.get("alyx_id")),
            nickname=str(data.get("nickname") or subject.name),
            lab=str(data.get("lab") or ""),
            projects=tuple(data.get("projects") or ()),
            url=str(data.get("url") or ""),
        )
    return found


def session_files(project_folder: str | Path) -> list[Path]:
    """Every ``experiments/<e>/setups/<s>/sessions/<name>/<name>.csv`` of a project, by name.

    Links leading out of the project folder are not followed.
    """
    root = Path(project_folder).resolve()
    files = []
    for csv_file in root.glob("experiments/*/setups/*/sessions/*/*.csv"):
        if csv_file.stem != csv_file.parent.name:
            continue
        if not csv_file.resolve().is_relative_to(root):
            continue
        files.append(csv_file)
    return sorted(files, key=lambda p: (p.parent.name, str(p)))


def prepare_sessions(
    files: Iterable[Path],
    subjects: Mapping[str, AlyxSubject],
    options: RegisterOptions,
    project_folder: str | Path | None,
    since: datetime.date | None = None,
) -> PreparedSessions:
    """Read each session file and build its registrations (one per Alyx subject)."""
    prepared = PreparedSessions()
    for path in files:
        try:
            session = read_session(path)
        except SessionFileError as exc:
            prepared.problems.append(SessionProblem(Path(path).stem, str(exc)))
            continue
        if since is not None and session.started.date() < since:
            continue
        problem = _why_not(session, subjects)
        if problem:
            prepared.problems.append(SessionProblem(session.name, problem))
            continue
        try:
            values = task_values(session.values, options.value_names)
        except ReportedValueError as exc:
            prepared.problems.append(SessionProblem(session.name, str(exc)))
            continue
        for named in session.subjects:
            subject = subjects.get(named.uuid4)
            if subject is None:
                continue
            prepared.registrations.append(
                Registration(
                    key=registration_key(session.uuid4, subject),
                    label=f"{subject.nickname} {session.name}",
                    payload=session_registration(session, subject, values, options, project_folder),
                )
            )
    return prepared


def _why_not(session: RecordedSession, subjects: Mapping[str, AlyxSubject]) -> str | None:
    """Why a session cannot be registered at all, or ``None``."""
    if session.ended is None:
        return (
            "it never ended (no SESSION-ENDED row: the task was stopped or is still running); "
            "nothing is registered for it"
        )
    if session.ended < session.started:
        return f"it ends ({session.ended}) before it starts ({session.started})"
    if not session.subjects:
        return "it names no subject"
    if not any(s.uuid4 in subjects for s in session.subjects):
        names = ", ".join(f"{s.name} ({s.uuid4})" for s in session.subjects)
        return (
            f"none of its subjects is an Alyx subject of this project: {names}. "
            "Subjects are matched by their PyBpod uuid4, not by name; sync the subject "
            "from Alyx, or register this session by hand"
        )
    return None
