"""The registration use case: a project's sessions into its outbox, and the outbox to Alyx.

The one door of the PyBpod → Alyx direction: ``pybpod-alyx register`` and the PyBpod GUI
(a run's end, "Register in Alyx", water typed after a run, the periodic send) both call
:class:`Registrar` and :func:`send_outbox`; the GUI only adds its threads, timer and
dialogs. The steps, each a module of its own: read the sessions (:mod:`.project_sessions`,
one read of each file, typed values included) → plan against the outbox, queue
(:mod:`.queueing`) → send what is due (:mod:`.flush`).

With a project folder and a server at hand (so not run as a doctest)::

    registrar = Registrar.of(read_project("~/rigs/proj"), RegisterOptions.of(settings))
    with registrar.open_outbox() as outbox:
        report = registrar.plan(outbox)
        registrar.queue(outbox, report)
        sent = send_outbox(outbox, alyx, registrar.options)
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

from .flush import EventHandler, FlushReport, flush
from .options import RegisterOptions
from .outbox import PENDING, Outbox
from .project_reader import session_files
from .project_sessions import TypedValues, alyx_subjects, prepare_sessions
from .queueing import ANY_KEY, QueueReport, plan_queue, queue_planned, water_registration
from .records import AlyxSubject


def project_outbox(options: RegisterOptions, project_folder: str | Path) -> Outbox:
    """The outbox of a project (``ALYX_PLUGIN_OUTBOX``, else the project's own), opened."""
    return Outbox(options.outbox_path(project_folder))


@dataclass(frozen=True)
class Registrar:
    """Registering one project's sessions: what to queue, and queueing it.

    Parameters
    ----------
    folder
        The project folder (sessions are read only inside it).
    subjects
        Its Alyx subjects by PyBpod uuid4 (:func:`~.project_sessions.alyx_subjects`): only
        these receive records. The GUI passes a setup's, so a run's end looks at few.
    options
        The registering settings.
    """

    folder: str
    subjects: Mapping[str, AlyxSubject]
    options: RegisterOptions

    @classmethod
    def of(cls, project: Any, options: RegisterOptions, subjects_of: Any = None) -> Registrar:
        """The registrar of a project (a loaded PyBpod one or a folder read headless).

        ``subjects_of``: what holds the subjects to look through (a setup), if not the project.
        """
        subjects = alyx_subjects(project if subjects_of is None else subjects_of)
        return cls(str(project.path), subjects, options)

    @property
    def outbox_path(self) -> Path:
        return self.options.outbox_path(self.folder)

    def open_outbox(self) -> Outbox:
        return project_outbox(self.options, self.folder)

    def session_files(self) -> list[Path]:
        """Every session file of the project (:func:`~.project_reader.session_files`)."""
        return session_files(self.folder)

    # -- what to queue -----------------------------------------------------------------------

    def plan(
        self,
        outbox: Outbox | None,
        files: Iterable[Path] | None = None,
        since: datetime.date | None = None,
        again: Container[str] = (),
        typed: TypedValues | None = None,
    ) -> QueueReport:
        """What :meth:`queue` would queue of ``files`` (all the project's by default).

        ``outbox`` ``None``: there is none yet (a dry run makes none), so everything is new.
        ``again``: keys of discarded items to queue anew (a person asked for them by name).
        """
        prepared = prepare_sessions(
            self.session_files() if files is None else files,
            self.subjects,
            self.options,
            self.folder,
            since=since,
            typed=typed,
        )
        return plan_queue(outbox, prepared, again)

    def queue(self, outbox: Outbox, report: QueueReport, again: Container[str] = ()) -> None:
        """Queue what :meth:`plan` found new; ``report`` then says what was queued."""
        queue_planned(outbox, report, again)

    # -- the GUI's cases -----------------------------------------------------------------------

    def queue_run(
        self,
        outbox: Outbox,
        session_file: str | Path,
        weights_g: Mapping[str, float] | None = None,
        again: bool = False,
    ) -> QueueReport:
        """Queue one session (a run that just ended, or one picked by hand).

        ``weights_g``: PyBpod uuid4 -> grams weighed before the run ("Weigh before the run").
        ``again``: a person asked for this session by name, so an item they discarded earlier
        is queued anew (a run's own end never brings a discarded item back); one sent or
        waiting is left as it is, and :attr:`QueueReport.before` says so.
        """
        keys = ANY_KEY if again else ()
        typed = TypedValues(weights_g=dict(weights_g or {}))
        report = self.plan(outbox, [Path(session_file)], again=keys, typed=typed)
        self.queue(outbox, report, keys)
        return report

    def queue_water(
        self, outbox: Outbox, session_file: str | Path, water_ml: Mapping[str, float]
    ) -> QueueReport:
        """Queue water typed after a run (uuid4 -> mL) for a session queued without it.

        Each is an item of its own (:func:`~.queueing.water_registration`); ``report``'s
        registrations are the water items queued.
        """
        typed = TypedValues(water_ml=dict(water_ml))
        report = self.plan(None, [Path(session_file)], typed=typed)
        report.registrations = [
            water_registration(r) for r in report.registrations if r.payload.get("water")
        ]
        self.queue(outbox, report)
        return report


# -- sending --------------------------------------------------------------------------------------


def is_due(outbox: Outbox, due_only: bool = True) -> bool:
    """True if a send has something to try (``due_only``: only items whose retry time came)."""
    due = outbox.next_try()
    return due is not None and not (due_only and due > time.time())


def send_outbox(
    outbox: Outbox,
    alyx: AlyxClient,
    options: RegisterOptions,
    due_only: bool = True,
    on_event: EventHandler | None = None,
) -> FlushReport:
    """Send the outbox's pending items (:func:`~.flush.flush`), ``ALYX_PLUGIN_SEND_WORKERS`` at once.

    Raises what :func:`~.flush.flush` raises: the login itself failed.
    """
    return flush(outbox, alyx, workers=options.send_workers, due_only=due_only, on_event=on_event)


def pending_server(outbox: Outbox) -> str:
    """The one Alyx the pending items' subjects were synced from ("" if none or several).

    Where to send when nobody connected in this session (the GUI's periodic send after a
    restart): the server each subject came from is the only one its records may reach.
    """
    servers = {item.payload.get("subject", {}).get("server") for item in outbox.items(PENDING)}
    servers.discard(None)
    servers.discard("")
    return servers.pop() if len(servers) == 1 else ""
