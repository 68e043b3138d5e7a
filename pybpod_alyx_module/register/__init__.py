"""Registering PyBpod sessions in Alyx — session, weight, water — through a durable outbox.

No Qt: the command line and the GUI share it. Data flows one way:

1. :func:`read_session` — a session file as pybpodapi wrote it, to a plain value;
2. :func:`prepare_sessions` — the Alyx records of each session's Alyx subjects
   (matched by uuid4 through :func:`alyx_subjects`), or the reason it cannot be registered;
3. :class:`Outbox` — every registration is queued on disk first (``Outbox.add``);
4. :func:`flush` — pending items are sent, each record exactly once.

With a project and a server at hand (so not run as a doctest)::

    project = read_project("~/rigs/proj")  # subjects and session paths; PyBpod not involved
    options = RegisterOptions.from_settings(lambda name: getattr(conf, name))
    prepared = prepare_sessions(session_files(project.path), alyx_subjects(project),
                                options, project.path)
    with Outbox(options.outbox_path(project.path)) as outbox:
        for r in prepared.registrations:
            outbox.add(r.key, r.label, r.payload)
        report = flush(outbox, alyx, workers=options.send_workers)
"""

from .flush import FlushReport, flush
from .options import RegisterOptions
from .outbox import ATTENTION, DISCARDED, PENDING, SENT, Item, Outbox, OutboxError
from .project_reader import ProjectOnDisk, SubjectOnDisk, read_project
from .project_sessions import (
    PreparedSessions,
    Registration,
    SessionProblem,
    alyx_subjects,
    prepare_sessions,
    session_files,
)
from .queueing import QueueReport, plan_sessions, queue_planned, queue_sessions, queue_weighing
from .records import AlyxSubject, weighing_key, weighing_registration
from .session_file import RecordedSession, SessionFileError, read_session
from .values import REPORTED_VALUES, ReportedValueError, TaskValues, task_values

__all__ = [
    "ATTENTION",
    "DISCARDED",
    "PENDING",
    "REPORTED_VALUES",
    "SENT",
    "AlyxSubject",
    "FlushReport",
    "Item",
    "Outbox",
    "OutboxError",
    "PreparedSessions",
    "ProjectOnDisk",
    "QueueReport",
    "RecordedSession",
    "RegisterOptions",
    "Registration",
    "ReportedValueError",
    "SessionFileError",
    "SessionProblem",
    "SubjectOnDisk",
    "TaskValues",
    "alyx_subjects",
    "flush",
    "plan_sessions",
    "prepare_sessions",
    "queue_planned",
    "queue_sessions",
    "queue_weighing",
    "read_project",
    "read_session",
    "session_files",
    "task_values",
    "weighing_key",
    "weighing_registration",
]
