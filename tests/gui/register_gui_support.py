"""What the GUI registration tests share: a stoppable proxy, a fresh Alyx subject, a project, a task.

The tests register on ``carol_mouse_3`` (carol's, hoferlab), whose sessions, weighings and
water no other test counts; a real run is dated today, so a subject nobody else looks at is
what keeps the shared server's other tests undisturbed. Its records from 2026-01-01 to
tomorrow are deleted before and after each test (:func:`clear_records`); the subject itself,
and the server's subject counts, never change. Two test processes (two people, or a full
run beside a single file) take turns on it: each test holds :func:`subject_taken` meanwhile.

"Alyx away" is the :class:`StoppableProxy` in front of the real server stopped: the
project is synced through it, so its subjects' links name it, as they would name any
proxy in front of a lab's Alyx; started again on the same port, Alyx is "back".
"""

from __future__ import annotations

import datetime
import http.client
import socket
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from alyxserver import seed_data
from filelock import FileLock
from pybpod_projects import add_setup
from pytestqt.exceptions import TimeoutError as WaitTimeout

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.sync.project_files import open_project

OWNER, SUBJECT = "carol", "carol_mouse_3"
OWNER_PASSWORD = seed_data.USERS[OWNER]
#: The first day the tests register on (sessions written by hand); runs are dated today.
FIRST_DAY = "2026-01-01"
TASK = "reg_task"
SETUP = "reg_rig"

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class StoppableProxy:
    """Forwards every request to ``target``; :meth:`stop` closes the port, :meth:`start` reopens it."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.target))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(target):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        def log_message(self, *args) -> None:
            pass

    return Handler


def subject_taken(timeout: float = 900) -> FileLock:
    """The lock on the test subject, beside the running server's state (shared by processes)."""
    from alyxserver.layout import Layout

    lock = FileLock(str(Layout().home / "gui-register-subject.lock"), timeout=timeout)
    lock.acquire()
    return lock


def clear_records() -> None:
    """Delete the test subject's sessions, weighings and water from 2026-01-01 to tomorrow.

    Over REST as the administrator (a Django shell takes seconds to start, twice a test),
    water first (or its session link is only emptied); listed again: a record left fails,
    and so does one of another subject (the nickname filters ignore case).
    """
    from alyxserver import server
    from alyxserver.layout import Layout

    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    by_name = {"nickname": SUBJECT}
    in_days = {"subject": SUBJECT, "date_range": f"{FIRST_DAY},{tomorrow}"}
    lists = [("water-administrations", "date_time", by_name), ("weighings", "date_time", by_name)]
    lists.append(("sessions", "start_time", in_days))
    state = server.read_state(Layout())
    assert state, f"no Alyx server is running under {Layout().home}"
    with AlyxClient(state["base_url"], *seed_data.ADMIN_USER, retries=0) as alyx:
        for check in (False, True):
            for path, when, filters in lists:
                found = [
                    r for r in alyx.list(path, **filters) if FIRST_DAY <= r[when][:10] <= tomorrow
                ]
                assert all(r["subject"].rsplit("__", 1)[-1] == SUBJECT for r in found), found
                assert not (check and found), f"left on Alyx after deleting: {found}"
                for record in found:
                    alyx.delete(record["url"])


def task_code(water_ml: float | None) -> str:
    """A task file that writes its session through pybpodapi's own ``Session`` (no Bpod here).

    It does what ``BpodIO.__init__``, the trials and ``BpodBase.close`` do, with the values
    PyBpod wrote into the session folder's ``user_settings.py`` (read through confapp).
    """
    water = "" if water_ml is None else f'session += ValueMessage("alyx_water_ml", {water_ml!r})'
    return textwrap.dedent(
        """\
        import datetime
        import os

        from confapp import conf
        import pybpodapi
        from pybpodapi.com.messaging.end_trial import EndTrial
        from pybpodapi.com.messaging.session_info import SessionInfo
        from pybpodapi.com.messaging.trial import Trial
        from pybpodapi.com.messaging.value import ValueMessage
        from pybpodapi.session import Session

        session = Session(os.path.join(conf.PYBPOD_SESSION_PATH, conf.PYBPOD_SESSION + ".csv"))
        session += SessionInfo(Session.INFO_SERIAL_PORT, conf.PYBPOD_SERIAL_PORT)
        session += SessionInfo(Session.INFO_PROTOCOL_NAME, conf.PYBPOD_PROTOCOL)
        session += SessionInfo(Session.INFO_CREATOR_NAME, conf.PYBPOD_CREATOR)
        session += SessionInfo(Session.INFO_PROJECT_NAME, conf.PYBPOD_PROJECT)
        session += SessionInfo(Session.INFO_EXPERIMENT_NAME, conf.PYBPOD_EXPERIMENT)
        session += SessionInfo(Session.INFO_BOARD_NAME, conf.PYBPOD_BOARD)
        session += SessionInfo(Session.INFO_SETUP_NAME, conf.PYBPOD_SETUP)
        for subject in conf.PYBPOD_SUBJECTS:
            session += SessionInfo(Session.INFO_SUBJECT_NAME, subject)
        session += SessionInfo(Session.INFO_BPODAPI_VERSION, pybpodapi.__version__)
        session += SessionInfo(Session.INFO_SESSION_NAME, conf.PYBPOD_SESSION)
        session += SessionInfo(Session.INFO_SESSION_STARTED, datetime.datetime.now())
        for _ in range(3):
            session += Trial()
            session += EndTrial("The trial ended")
        WATER
        session += SessionInfo(Session.INFO_SESSION_ENDED, datetime.datetime.now())
        del session
        """
    ).replace("WATER", water)


def build_project(folder: Path, address: str, water_ml: float | None) -> Path:
    """carol's project synced from ``address`` by the command line, with a setup, board and task."""
    code = main(["sync", str(folder), "--address", address, "--username", OWNER, "--create"])
    assert code == 0, code
    project = open_project(folder)
    task = project.create_task()
    task.name = TASK
    setup = add_setup(project, "exp", SETUP, [SUBJECT])
    setup.task = task
    project.save(str(folder))
    (folder / "tasks" / TASK / f"{TASK}.py").write_text(task_code(water_ml))
    return folder


def python_first_on_path(monkeypatch) -> None:
    """PyBpod runs the task with plain ``python``: this venv's must come first."""
    import os

    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


# -- the rig: a project open in the real GUI, with a fresh Alyx subject on a setup ---------------

RUN_WAIT_MS = 60_000


def started_proxy(target: str, request) -> StoppableProxy:
    """A :class:`StoppableProxy` in front of ``target``, serving now, stopped after the test."""
    proxy = StoppableProxy(target)
    proxy.start()
    request.addfinalizer(proxy.stop)
    return proxy


def take_subject_in_fresh_home(tmp_path, monkeypatch, request) -> Path:
    """An empty ``HOME``, the owner's password, this venv's ``python``, and the test subject
    taken with its records cleared (before, and after the test); returns the home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALYX_PASSWORD", OWNER_PASSWORD)
    python_first_on_path(monkeypatch)
    lock = subject_taken()
    request.addfinalizer(lock.release)  # finalizers run last-added first: cleared, then free
    clear_records()
    request.addfinalizer(clear_records)
    return home


def open_in_gui(gui, user_settings, monkeypatch, home: Path, proxy: StoppableProxy, folder: Path):
    """Open ``folder`` in the GUI, with the plugin's token file in ``home`` and its address the proxy."""
    for name, value in {
        "ALYX_PLUGIN_TOKEN_FILE": str(home / ".pybpod_alyx" / "tokens.json"),
        "ALYX_PLUGIN_ADDRESS": proxy.base_url,
    }.items():
        monkeypatch.setattr(user_settings, name, value, raising=False)
    return gui.editor.model.open_project(str(folder))


def open_rig(
    gui, user_settings, proxy, tmp_path, monkeypatch, request, water_ml=0.8, before_open=None
):
    """Build the project (synced through ``proxy``), let ``before_open(folder, project)`` add
    to it, and open it in the GUI; the subject's records are cleared before and after."""
    home = take_subject_in_fresh_home(tmp_path, monkeypatch, request)
    folder = build_project(tmp_path / "proj", proxy.base_url, water_ml)
    if before_open is not None:
        before_open(folder, open_project(folder))
    project = open_in_gui(gui, user_settings, monkeypatch, home, proxy, folder)
    setup = next(s for e in project.experiments for s in e.setups if s.name == SETUP)
    return Rig(gui, project, setup, project.find_subject(SUBJECT), SUBJECT, proxy)


class Rig:
    """The open project, its setup and subject, and ways to wait for runs and the outbox."""

    def __init__(self, gui, project, setup, subject, nickname, proxy) -> None:
        self.gui, self.project, self.setup = gui, project, setup
        self.subject, self.nickname, self.proxy = subject, nickname, proxy

    @property
    def registrar(self):
        from pybpod_alyx_module.gui.registration import registrar_of

        return registrar_of(self.project)

    def press_run(self) -> None:
        self.setup._run_task_btn.click()

    def wait_run_end(self, sessions: int = 1) -> None:
        qtbot = self.gui.qtbot
        qtbot.waitUntil(lambda: len(self.setup.sessions) == sessions, timeout=RUN_WAIT_MS)
        qtbot.waitUntil(lambda: self.setup.status == self.setup.STATUS_READY, timeout=RUN_WAIT_MS)

    def wait_outbox(self, *states: str) -> None:
        """Until the registrar is idle and its items are in ``states`` (in order)."""

        def settled() -> bool:
            items = self.registrar.view.items
            return not self.registrar.busy and [i.state for i in items] == list(states)

        try:
            self.gui.qtbot.waitUntil(settled, timeout=RUN_WAIT_MS)
        except WaitTimeout as timeout:  # say what the outbox held, so the failure can be read
            view = self.registrar.view
            held = [(i.label, i.state, i.attempts, i.last_error) for i in view.items]
            raise AssertionError(
                f"outbox not {list(states)} after {RUN_WAIT_MS} ms: busy={self.registrar.busy}, "
                f"items={held}, stopped={view.stopped!r}, problems={view.problems}"
            ) from timeout

    def alyx(self) -> AlyxClient:
        return AlyxClient(self.proxy.base_url, username=OWNER, password=OWNER_PASSWORD, retries=0)


def on_alyx(rig: Rig) -> tuple[list, list, list]:
    """The subject's sessions, weighings and water administrations on the real Alyx."""
    with rig.alyx() as alyx:
        sessions = list(alyx.list("sessions", subject=rig.nickname))
        weighings = list(alyx.list("weighings", nickname=rig.nickname))
        water = list(alyx.list("water-administrations", nickname=rig.nickname))
    return sessions, weighings, water


def weigh_dialog(rig: Rig):
    """The setup's open "Weigh before the run" dialog."""
    dialog = rig.setup._alyx_weigh_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Weigh before the run"
    return dialog
