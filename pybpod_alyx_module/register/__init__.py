"""Registering PyBpod sessions in Alyx — session, weight, water — through a durable outbox.

No Qt: the command line and the GUI share it, through one use case,
:class:`Registrar` (queueing) and :func:`send_outbox` (sending). Data flows one way:

1. :func:`read_session` — a session file as pybpodapi wrote it, to a plain value;
2. :func:`prepare_sessions` — the Alyx records of each session's Alyx subjects
   (matched by uuid4 through :func:`alyx_subjects`), or the reason it cannot be registered;
3. :class:`Outbox` — every registration is queued on disk first (``Outbox.add``);
4. :func:`flush` — pending items are sent, each record exactly once.

With a project and a server at hand (so not run as a doctest)::

    project = read_project("~/rigs/proj")  # subjects and session paths; PyBpod not involved
    options = RegisterOptions.of(read_settings(conf))  # the one settings door
    registrar = Registrar.of(project, options)
    with registrar.open_outbox() as outbox:
        registrar.queue(outbox, registrar.plan(outbox))
        report = send_outbox(outbox, alyx, options)
"""

from .flush import FlushReport, flush
from .options import RegisterOptions
from .outbox import ATTENTION, DISCARDED, PENDING, SENT, WITHDRAWN, Item, Outbox, OutboxError
from .project_reader import ProjectOnDisk, SubjectOnDisk, read_project
from .project_sessions import (
    PreparedSessions,
    Registration,
    SessionProblem,
    alyx_subjects,
    prepare_sessions,
    session_files,
)
from .queueing import QueueReport, queue_weighing
from .records import AlyxSubject, weighing_key, weighing_registration
from .registrar import Registrar, send_outbox
from .session_file import RecordedSession, SessionFileError, read_session
from .values import REPORTED_VALUES, ReportedValueError, TaskValues, task_values

__all__ = [
    "ATTENTION",
    "DISCARDED",
    "PENDING",
    "REPORTED_VALUES",
    "SENT",
    "WITHDRAWN",
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
    "Registrar",
    "Registration",
    "ReportedValueError",
    "SessionFileError",
    "SessionProblem",
    "SubjectOnDisk",
    "TaskValues",
    "alyx_subjects",
    "flush",
    "prepare_sessions",
    "queue_weighing",
    "read_project",
    "read_session",
    "send_outbox",
    "session_files",
    "task_values",
    "weighing_key",
    "weighing_registration",
]
