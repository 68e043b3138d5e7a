"""Registering runs from the PyBpod GUI: queue in the outbox, send in the background, show states.

One :class:`ProjectRegistrar` per open project. Everything that touches the outbox (an
SQLite file written with ``synchronous=FULL``) or the network runs on a worker thread
(:class:`~.background.BackgroundTask`); the GUI thread only starts the work and, when it
ends, shows the outbox as it now is (:class:`OutboxView`). So a run never waits for Alyx,
and Alyx away or refusing never fails a run: the session stays in the outbox, pending or
needing attention, with the reason. A timer tries pending items again every
``ALYX_PLUGIN_OUTBOX_RETRY_SECONDS``, so they go out by themselves when Alyx is back.

Only one flush of a project's outbox runs at a time (a second request runs after it);
queueing, Retry and Discard never wait for a flush: the outbox is safe for concurrent use.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from AnyQt.QtCore import QTimer
from confapp import conf

from pybpod_alyx_module.alyx import AlyxError
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import PluginSettings, SettingsError, read_settings
from pybpod_alyx_module.register import (
    ATTENTION,
    DISCARDED,
    PENDING,
    SENT,
    Item,
    Outbox,
    PreparedSessions,
    RegisterOptions,
    Registration,
    alyx_subjects,
    flush,
)

from . import project_state
from .background import BackgroundTask
from .registration_queue import run_registrations

logger = logging.getLogger(__name__)

#: What a session's node shows: the worst state of its items wins.
SESSION_STATES = (ATTENTION, PENDING, SENT)


@dataclass(frozen=True)
class OutboxView:
    """The outbox as read at the end of some work, and what that work had to say."""

    items: list[Item] = field(default_factory=list)
    #: Why the last send stopped early (Alyx away, not logged in), or ``None``.
    stopped: str | None = None
    #: Things to tell the user once (e.g. a location to create).
    notices: list[str] = field(default_factory=list)
    #: Sessions left out, with the reason (never ended, no Alyx subject…).
    problems: list[str] = field(default_factory=list)
    #: What this work queued (a run's registrations, one per Alyx subject).
    queued: list[Registration] = field(default_factory=list)
    #: Session file -> its state (:func:`session_states`).
    sessions: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found = {state: 0 for state in (PENDING, SENT, ATTENTION, DISCARDED)}
        for item in self.items:
            found[item.state] = found.get(item.state, 0) + 1
        return found


def session_states(items: list[Item]) -> dict[str, str]:
    """Session file (:func:`session_key`) -> its state: ``attention``, ``pending`` or ``sent``.

    Computed on the worker thread: an outbox used for months holds thousands of items.
    """
    states: dict[str, str] = {}
    for item in items:
        source = item.payload.get("source")
        if not source or item.state == DISCARDED:
            continue
        key = session_key(source)
        known = states.get(key)
        if known is None or SESSION_STATES.index(item.state) < SESSION_STATES.index(known):
            states[key] = item.state
    return states


def session_key(path: str | Path) -> str:
    """How a session file is compared: an absolute, case-normalised path (no disk access)."""
    return os.path.normcase(os.path.abspath(path))


#: The last bad-settings line logged (so the periodic try does not repeat it every minute).
_settings_said: str | None = None


def checked_settings() -> PluginSettings:
    """The plugin's settings as confapp holds them, checked at the one door.

    Raises
    ------
    SettingsError
        A setting is bad: nothing is queued or sent until it is fixed. Its one line is
        logged the first time (not again at every periodic try).
    """
    global _settings_said
    try:
        settings = read_settings(conf)
        RegisterOptions.of(settings)  # its own check: the value names the plugin reads
        return settings
    except SettingsError as exc:
        if str(exc) != _settings_said:
            _settings_said = str(exc)
            logger.error("Alyx registration is stopped: %s", exc)
        raise


def register_sessions_enabled(project: Any) -> bool:
    """``ALYX_PLUGIN_REGISTER_SESSIONS``; unset (``None``): on when the project has an Alyx user."""
    value = checked_settings().register_sessions
    if value is not None:
        return value
    from pybpod_alyx_module.sync.users import ALYX_CONNECTION

    return any(user.connection == ALYX_CONNECTION for user in project.users)


def register_options() -> RegisterOptions:
    return RegisterOptions.of(checked_settings())


def _retry_interval_ms() -> int:
    """``ALYX_PLUGIN_OUTBOX_RETRY_SECONDS`` in ms; the default while a setting is bad (said)."""
    try:
        seconds = checked_settings().outbox_retry_seconds
    except SettingsError:
        seconds = PluginSettings().outbox_retry_seconds
    return int(seconds * 1000)


class ProjectRegistrar:
    """The registration work of one open project (see the module docstring)."""

    def __init__(self, project: Any) -> None:
        self._project = weakref.ref(project)
        self._flush_lock = threading.Lock()
        self._tasks: list[BackgroundTask] = []
        self._listeners: list[Callable[[OutboxView], None]] = []
        self.view = OutboxView()
        #: Session file -> the state its node shows now.
        self._shown: dict[str, str] = {}
        # A child of the project's tree: the timer goes with PyBpod's window.
        self._timer = QTimer(project.tree)
        self._timer.setInterval(_retry_interval_ms())
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
        water_ml: Mapping[str, float] | None = None,
        then: Callable[[OutboxView], None] | None = None,
        again: bool = False,
    ) -> None:
        """Queue a session (a run that just ended, or one picked by hand), then send.

        ``subjects_of`` is what holds its subjects (the setup, or the project): only
        those are looked through, so a run's end costs the GUI thread little.
        ``then(view)`` is called on the GUI thread when it was queued and sent (or not).
        ``again``: a person asked for this session by name, so an item they discarded
        earlier is queued anew (a run's own end never brings a discarded item back).
        """
        project = self._project()
        if project is None or not project.path:
            return
        subjects = alyx_subjects(subjects_of)
        options = register_options()
        folder = str(project.path)

        def queue(outbox: Outbox) -> PreparedSessions:
            prepared = run_registrations(
                session_file, subjects, options, folder, weights_g, water_ml
            )
            for registration in prepared.registrations:
                outbox.add(registration.key, registration.label, registration.payload, again)
            return prepared

        self._start(queue, send=True, create=True, then=then)

    def register_water(
        self, session_file: str | Path, subjects_of: Any, water_ml: Mapping[str, float]
    ) -> None:
        """Queue water typed after a run (uuid4 -> mL) for a session queued without it.

        Each is an item of its own (key ``<session item>:water``), holding the same
        session: the sender finds the session already on Alyx (same subject, same start)
        and adds the water to it, once; the outbox sends one subject's items in order.
        """
        project = self._project()
        if project is None or not project.path or not water_ml:
            return
        subjects = alyx_subjects(subjects_of)
        options = register_options()
        folder = str(project.path)

        def queue(outbox: Outbox) -> PreparedSessions:
            prepared = run_registrations(session_file, subjects, options, folder, water_ml=water_ml)
            typed = PreparedSessions(problems=prepared.problems)
            for registration in prepared.registrations:
                if not registration.payload.get("water"):
                    continue
                payload = dict(registration.payload, weighing=None)
                water = Registration(
                    f"{registration.key}:water", f"{registration.label} water", payload
                )
                outbox.add(water.key, water.label, water.payload)
                typed.registrations.append(water)
            return typed

        self._start(queue, send=True, create=True)

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
        change: Callable[[Outbox], PreparedSessions | None] | None,
        send: bool,
        due_only: bool = True,
        create: bool = False,
        then: Callable[[OutboxView], None] | None = None,
    ) -> None:
        project = self._project()
        if project is None or not project.path:
            return
        settings = checked_settings()
        path = RegisterOptions.of(settings).outbox_path(project.path)
        client = project_state.client_for(project)
        user = project.loggeduser.name if project.loggeduser is not None else ""

        def work(report: Any) -> OutboxView | None:
            if not create and not path.exists():
                return None  # nothing was ever queued: no outbox file is made
            with Outbox(path) as outbox:
                prepared = (change(outbox) if change is not None else None) or PreparedSessions()
                stopped, notices = None, []
                if send:
                    stopped, notices = self._send(outbox, client, settings, user, due_only)
                problems = [f"{p.session}: {p.reason}" for p in prepared.problems]
                items = outbox.items()
                return OutboxView(
                    items, stopped, notices, problems, prepared.registrations, session_states(items)
                )

        def done(view: OutboxView | None) -> None:
            if view is None:
                return
            if not send:  # nothing was tried: why the last send stopped still holds
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
        user: str,
        due_only: bool,
    ) -> tuple[str | None, list[str]]:
        """Worker thread: flush the outbox (one flush at a time); (why it stopped, notices)."""
        with self._flush_lock:
            due = outbox.next_try()
            if due is None or (due_only and due > time.time()):
                return None, []
            own = None
            if client is None:
                address = settings.address or _server_of(outbox.items(PENDING))
                if not address:
                    return (
                        "No Alyx address: connect once with Sync to Alyx, or set "
                        "ALYX_PLUGIN_ADDRESS",
                        [],
                    )
                own = client = client_from_settings(
                    settings, address=address, username=settings.username or user
                )
            try:
                report = flush(outbox, client, workers=settings.send_workers, due_only=due_only)
            except AlyxError as exc:  # the login itself (no saved token, token refused)
                return (
                    f"Not logged in to Alyx ({exc}): open Sync to Alyx and Connect once; "
                    "pending items are sent after that",
                    [],
                )
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
        self._show_session_states(view)
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:
                logger.exception("An Alyx outbox listener failed")

    def _failed(self, error: BaseException) -> None:
        logger.error("The Alyx outbox work failed", exc_info=error)
        self.view = OutboxView(
            self.view.items, f"The outbox could not be used: {error}", sessions=self.view.sessions
        )
        for listener in list(self._listeners):
            try:
                listener(self.view)
            except Exception:
                logger.exception("An Alyx outbox listener failed")

    def _show_session_states(self, view: OutboxView) -> None:
        """Mark the nodes of sessions whose state changed (few per update)."""
        project = self._project()
        if project is None:
            return
        states = view.sessions
        changed = {path for path in states.keys() | self._shown.keys()
                   if states.get(path) != self._shown.get(path)}  # fmt: skip
        if not changed:
            return
        for session in _sessions(project):
            path = session_file_of(session)
            if path in changed:
                mark = getattr(session, "show_alyx_state", None)
                if mark is not None:
                    mark(states.get(path))
        self._shown = states

    def state_of(self, session: Any) -> str | None:
        """The state a session's node shows (``None``: not in the outbox)."""
        return self._shown.get(session_file_of(session))


def session_file_of(session: Any) -> str:
    """A PyBpod session's file (``<session>/<session>.csv``), as :func:`session_key` compares it."""
    return session_key(os.path.join(session.path, f"{session.name}.csv"))


def _sessions(project: Any) -> list[Any]:
    return [s for e in project.experiments for setup in e.setups for s in setup.sessions]


def _nothing_queued(result: object) -> None:
    """A change that queues nothing (Retry, Discard)."""
    return None


def _server_of(items: list[Item]) -> str:
    """The one Alyx the pending items' subjects came from ("" if none or several)."""
    servers = {item.payload.get("subject", {}).get("server") for item in items}
    servers.discard(None)
    servers.discard("")
    return servers.pop() if len(servers) == 1 else ""


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
