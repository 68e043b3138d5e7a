"""Finding a project's sessions on disk and turning them into registrations, or problems.

Subjects are found through the project's subjects **by uuid4** (what a session file
names), never by name alone: a subject renamed, or a local subject that happens to share
an Alyx nickname, must not receive another animal's records. What cannot be registered
(a session that never ended, one without an Alyx subject, a value that makes no sense)
is reported with its reason, never guessed. Every session and value goes through
:mod:`.plausibility`, as typed values do.

What the operator typed in the GUI for a run (:class:`TypedValues`: the weight read on the
scale before it, the water given when the task reports none) joins the task's values in the
same read of the session file, so the weighing and the water are sent with the session,
exactly once, through the outbox.

The project is a loaded PyBpod project (the GUI's) or a folder read by
:func:`~.project_reader.read_project` (the command line's): both have ``path`` and
``subjects`` (each with ``name``, ``uuid4`` and its document ``data``).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybpod_alyx_module.sync.paths import ProjectFolder
from pybpod_alyx_module.sync.subjects import alyx_data, alyx_id, synced_from

from .options import RegisterOptions
from .plausibility import rig_now, session_times_problem
from .project_reader import session_files
from .records import AlyxSubject, registration_key, session_registration
from .session_file import RecordedSession, SessionFileError, read_session
from .values import ReportedValueError, TaskValues, row_names, subject_values

__all__ = [
    "PreparedSessions",
    "Registration",
    "SessionProblem",
    "TypedValues",
    "alyx_subjects",
    "prepare_sessions",
    "session_files",
]


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


@dataclass(frozen=True)
class TypedValues:
    """What the operator typed for a run, per PyBpod subject uuid4: grams weighed before it,
    millilitres of water given after it (the GUI's dialogs; each value checked there).

    Precedence, per subject: the typed weight wins over a weight the task reported (the
    operator read it on the scale just now); the task's water wins over typed water (the
    task counted every drop it gave, the dialog only asks when it did not).

    Examples
    --------
    >>> typed = TypedValues(weights_g={"u1": 23.4}, water_ml={"u1": 0.3})
    >>> typed.applied("u1", TaskValues(weight_g=22.0, water_ml=0.8))
    TaskValues(water_ml=0.8, weight_g=23.4, n_correct_trials=None, narrative='')
    >>> typed.applied("u2", TaskValues(weight_g=22.0))
    TaskValues(water_ml=None, weight_g=22.0, n_correct_trials=None, narrative='')
    """

    weights_g: Mapping[str, float] = field(default_factory=dict)
    water_ml: Mapping[str, float] = field(default_factory=dict)

    def applied(self, uuid4: str, task: TaskValues) -> TaskValues:
        """The task's values of one subject with what was typed for it."""
        water = task.water_ml if task.water_ml is not None else self.water_ml.get(uuid4)
        weight = self.weights_g.get(uuid4, task.weight_g)
        return dataclasses.replace(task, weight_g=weight, water_ml=water)


@dataclass
class PreparedSessions:
    """The registrations of some sessions, and the sessions left out."""

    registrations: list[Registration] = field(default_factory=list)
    problems: list[SessionProblem] = field(default_factory=list)


def alyx_subjects(project: Any) -> dict[str, AlyxSubject]:
    """The Alyx subjects by PyBpod uuid4 of ``project`` (or of anything with ``subjects``)."""
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
            server=synced_from(subject),
        )
    return found


def prepare_sessions(
    files: Iterable[Path],
    subjects: Mapping[str, AlyxSubject],
    options: RegisterOptions,
    project_folder: str | Path | None,
    since: datetime.date | None = None,
    now: datetime.datetime | None = None,
    typed: TypedValues | None = None,
) -> PreparedSessions:
    """Read each session file and build its registrations (one per Alyx subject).

    Parameters
    ----------
    project_folder
        The project the files are in: a file reached through a link or outside it is
        refused. ``None`` reads the files wherever they are (and names no task file).
    now
        The rig's clock, for the plausibility of the sessions' times (now by default).
    typed
        What the operator typed for these sessions (a run's, in the GUI).
    """
    prepared = PreparedSessions()
    inside = None if project_folder is None else ProjectFolder(project_folder)
    now = rig_now() if now is None else now
    try:
        kept = list(row_names(options.value_names).values())
    except ReportedValueError as exc:  # a setting's mistake: every session would fail alike
        prepared.problems = [SessionProblem(Path(path).stem, str(exc)) for path in files]
        return prepared
    for path in files:
        try:
            session = read_session(path, kept, inside)
        except SessionFileError as exc:
            prepared.problems.append(SessionProblem(Path(path).stem, str(exc)))
            continue
        if since is not None and session.started.date() < since:
            continue
        problem = _why_not(session, subjects, now)
        if problem:
            prepared.problems.append(SessionProblem(session.name, problem))
            continue
        try:
            values = subject_values(session.values, options.value_names, session.subjects)
        except ReportedValueError as exc:
            prepared.problems.append(SessionProblem(session.name, str(exc)))
            continue
        for named in session.subjects:
            subject = subjects.get(named.uuid4)
            if subject is None:
                continue
            own = values[named.uuid4]
            if typed is not None:
                own = typed.applied(named.uuid4, own)
            payload = session_registration(session, subject, own, options, project_folder)
            prepared.registrations.append(
                Registration(
                    key=registration_key(session.uuid4, subject),
                    label=f"{subject.nickname} {session.name}",
                    payload=payload,
                )
            )
    return prepared


def _why_not(
    session: RecordedSession, subjects: Mapping[str, AlyxSubject], now: datetime.datetime
) -> str | None:
    """Why a session cannot be registered at all, or ``None``."""
    if session.ended is None:
        return (
            "it never ended (no SESSION-ENDED row: the task was stopped or is still running); "
            "nothing is registered for it"
        )
    implausible = session_times_problem(session.started, session.ended, now)
    if implausible:
        return implausible
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
