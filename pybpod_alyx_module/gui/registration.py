"""Registering runs from the PyBpod GUI: the use case's work off the GUI thread, and a timer.

One :class:`ProjectRegistrar` per open project. What to queue and how to send is the
use case's (:mod:`pybpod_alyx_module.register.registrar`); this module only runs it on a
worker thread (:class:`~.background.BackgroundTask`) — everything that touches the outbox
(an SQLite file written with ``synchronous=FULL``) or the network — and, when it ends,
shows the outbox as it now is (:class:`~.outbox_view.OutboxView`) on the GUI thread. So a
run never waits for Alyx, and Alyx away or refusing never fails a run: the session stays in
the outbox, pending or needing attention, with the reason. A timer tries pending items
again every ``ALYX_PLUGIN_OUTBOX_RETRY_SECONDS``, so they go out by themselves when Alyx
is back.

Only one flush of a project's outbox runs at a time (a second request runs after it);
queueing, Retry and Discard never wait for a flush: the outbox is safe for concurrent use.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from AnyQt.QtCore import QTimer

from pybpod_alyx_module.alyx import AlyxError
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import PluginSettings, SettingsError
from pybpod_alyx_module.register import Outbox, QueueReport, RegisterOptions, Registrar
from pybpod_alyx_module.register.registrar import (
    is_due,
    pending_server,
    project_outbox,
    send_outbox,
)
from pybpod_alyx_module.register.session_states import session_states

from . import messages, project_state
from .background import BackgroundTask
from .outbox_view import OutboxView
from .registration_marks import SessionMarks
from .registration_settings import checked_settings, register_options, retry_interval_ms

logger = logging.getLogger(__name__)

#: Some outbox work: changes the outbox (queues, retries, discards), says what it queued.
Change = Callable[[Outbox], QueueReport | None]


class ProjectRegistrar:
    """The registration work of one open project (see the module docstring)."""

    def __init__(self, project: Any) -> None:
        self._project = weakref.ref(project)
        self._flush_lock = threading.Lock()
        self._tasks: list[BackgroundTask] = []
        self._listeners: list[Callable[[OutboxView], None]] = []
        self._marks = SessionMarks(project)
        self.view = OutboxView()
        # A child of the project's tree: the timer goes with PyBpod's window.
        self._timer = QTimer(project.tree)
        self._timer.setInterval(retry_interval_ms())
        self._timer.timeout.connect(self._retry_due)
        self._timer.start()

    # -- for windows ---------------------------------------------------------------------

    def listen(self, callback: Callable[[OutboxView], None]) -> None:
        """Call ``callback(view)`` on the GUI thread each time the outbox was read anew."""
        self._listeners.append(callback)

    def unlisten(self, callback: Callable[[OutboxView], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    @property
    def busy(self) -> bool:
        """True while some outbox work or a send runs."""
        return any(task.running for task in self._tasks)

    # -- what the GUI asks -------------------------------------------------------------------

    def register_run(
        self,
        session_file: str | Path,
        subjects_of: Any,
        weights_g: Mapping[str, float] | None = None,
        then: Callable[[OutboxView], None] | None = None,
        again: bool = False,
    ) -> None:
        """Queue a session (a run that just ended, or one picked by hand), then send.

        ``subjects_of`` is what holds its subjects (the setup, or the project): only
        those are looked through, so a run's end costs the GUI thread little.
        ``weights_g``: PyBpod uuid4 -> grams weighed before the run.
        ``then(view)`` is called on the GUI thread when it was queued and sent (or not).
        ``again``: see :meth:`~pybpod_alyx_module.register.registrar.Registrar.queue_run`.
        """
        registrar = self._registrar(subjects_of)
        if registrar is not None:
            self._start(
                lambda outbox: registrar.queue_run(outbox, session_file, weights_g, again),
                send=True,
                create=True,
                then=then,
            )

    def register_water(
        self, session_file: str | Path, subjects_of: Any, water_ml: Mapping[str, float]
    ) -> None:
        """Queue water typed after a run (uuid4 -> mL) for a session queued without it."""
        registrar = self._registrar(subjects_of)
        if registrar is not None and water_ml:
            self._start(
                lambda outbox: registrar.queue_water(outbox, session_file, water_ml),
                send=True,
                create=True,
            )

    def send_pending(self) -> None:
        """Try every pending item now (not only those due)."""
        self._start(None, send=True, due_only=False)

    def retry(self, item_id: int | None = None) -> None:
        """Send again now: one item, or every pending and needs-attention item."""
        self._start(
            lambda outbox: _nothing_queued(outbox.retry(item_id)), send=True, due_only=False
        )

    def discard(self, item_id: int) -> None:
        """Give up an item on purpose (it stays listed as discarded)."""
        self._start(lambda outbox: _nothing_queued(outbox.discard(item_id)), send=False)

    def refresh(self) -> None:
        """Read the outbox again."""
        self._start(None, send=False)

    def shut_down(self) -> None:
        """The project closed: stop the timer, forget the work still running."""
        self._timer.stop()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._listeners.clear()

    # -- plumbing ----------------------------------------------------------------------------

    def _registrar(self, subjects_of: Any) -> Registrar | None:
        """The use case for the project's sessions (``None``: the project is gone or unsaved)."""
        project = self._project()
        if project is None or not project.path:
            return None
        return Registrar.of(project, register_options(), subjects_of)

    def _retry_due(self) -> None:
        try:
            if not any(task.running for task in self._tasks):
                self._start(None, send=True, due_only=True, create=False)
        except SettingsError:  # logged once by checked_settings; tried again at the next tick
            pass
        except RuntimeError:  # the project's Qt objects are gone (PyBpod closed it)
            self.shut_down()
        except Exception:  # a timer slot: never let an error reach Qt
            logger.exception("Could not start the Alyx outbox's periodic send")

    def _start(
        self,
        change: Change | None,
        send: bool,
        due_only: bool = True,
        create: bool = False,
        then: Callable[[OutboxView], None] | None = None,
    ) -> None:
        project = self._project()
        if project is None or not project.path:
            return
        settings = checked_settings()
        options = RegisterOptions.of(settings)
        folder = str(project.path)
        client = project_state.client_for(project)
        user = project.loggeduser.name if project.loggeduser is not None else ""

        def work(report: Any) -> tuple[OutboxView, bool] | None:
            if not create and not options.outbox_path(folder).exists():
                return None  # nothing was ever queued: no outbox file is made
            with project_outbox(options, folder) as outbox:
                queued = (change(outbox) if change is not None else None) or QueueReport()
                sent = None
                if send:
                    sent = self._send(outbox, client, settings, options, user, due_only)
                stopped, notices = sent or (None, [])
                items = outbox.items()
                view = OutboxView(
                    items,
                    stopped,
                    notices,
                    [f"{p.session}: {p.reason}" for p in queued.problems],
                    queued.registrations,
                    queued.before,
                    session_states(items),
                )
                return view, sent is not None

        def done(result: tuple[OutboxView, bool] | None) -> None:
            if result is None:
                return
            view, tried = result
            if not tried:  # nothing was tried: why the last send stopped still holds
                view = dataclasses.replace(view, stopped=self.view.stopped)
            self._done(view)
            if then is not None:
                then(view)

        task = BackgroundTask(work, done, self._failed)
        self._tasks = [t for t in self._tasks if t.running] + [task]
        task.start()

    def _send(
        self,
        outbox: Outbox,
        client: Any,
        settings: PluginSettings,
        options: RegisterOptions,
        user: str,
        due_only: bool,
    ) -> tuple[str | None, list[str]] | None:
        """Worker thread: send the outbox (one send at a time); (why it stopped, notices).

        ``None``: nothing was due, nothing tried. Nobody connected in this PyBpod session:
        a client of its own, from the settings and the saved token, for the one Alyx the
        pending items came from.
        """
        with self._flush_lock:
            if not is_due(outbox, due_only):
                return None
            own = None
            if client is None:
                address = settings.address or pending_server(outbox)
                if not address:
                    return messages.NO_ALYX_ADDRESS, []
                own = client = client_from_settings(
                    settings, address=address, username=settings.username or user
                )
            try:
                report = send_outbox(outbox, client, options, due_only)
            except AlyxError as exc:  # the login itself (no saved token, token refused)
                return messages.not_logged_in(exc), []
            finally:
                if own is not None:
                    own.close()
            return report.stopped, report.notices

    def _done(self, view: OutboxView) -> None:
        said_before, self.view = self.view.stopped, view
        for notice in view.notices:
            logger.warning("Alyx: %s", notice)
        for problem in view.problems:
            logger.warning("Not registered in Alyx: %s", problem)
        if view.stopped and view.stopped != said_before:  # once, not at every retry
            logger.warning("Alyx outbox: %s", view.stopped)
        self._marks.show(view.sessions)
        self._tell(view)

    def _failed(self, error: BaseException) -> None:
        logger.error("The Alyx outbox work failed", exc_info=error)
        self.view = OutboxView(
            self.view.items, f"The outbox could not be used: {error}", sessions=self.view.sessions
        )
        self._tell(self.view)

    def _tell(self, view: OutboxView) -> None:
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:
                logger.exception("An Alyx outbox listener failed")


def _nothing_queued(result: object) -> None:
    """A change that queues nothing (Retry, Discard)."""
    return None


# -- one registrar per open project --------------------------------------------------------

_registrars: weakref.WeakKeyDictionary[Any, ProjectRegistrar] = weakref.WeakKeyDictionary()


def registrar_of(project: Any) -> ProjectRegistrar:
    """The project's registrar, started on first use."""
    registrar = _registrars.get(project)
    if registrar is None:
        registrar = _registrars[project] = ProjectRegistrar(project)
    return registrar


def forget_registrar(project: Any) -> None:
    """The project closed: stop its registrar."""
    registrar = _registrars.pop(project, None)
    if registrar is not None:
        registrar.shut_down()
