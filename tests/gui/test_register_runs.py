"""Runs in the real PyBpod GUI reach the real Alyx: weighed before, registered after, never stalled.

Each run goes through PyBpod's own run path: the setup window's Run button, the board
starting the task file as a subprocess, polling its output, and ``end_run_task_handler``.
The task file writes its session through pybpodapi's own session writer (no Bpod here).
"""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import (
    SETUP,
    StoppableProxy,
    build_project,
    create_subject,
    delete_subject,
    python_first_on_path,
)

from pybpod_alyx_module.alyx import AlyxClient

pytestmark = pytest.mark.gui

RUN_WAIT_MS = 60_000


@pytest.fixture
def proxy(alyx_server):
    proxy = StoppableProxy(alyx_server.base_url)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request):
    """A project with a fresh Alyx subject on a setup whose task reports ``water_ml``."""
    water_ml = getattr(request, "param", 0.8)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALYX_PASSWORD", "admin")
    python_first_on_path(monkeypatch)
    nickname = create_subject(proxy.base_url)
    request.addfinalizer(lambda: delete_subject(nickname))
    folder = build_project(tmp_path / "proj", proxy.base_url, nickname, water_ml)
    for name, value in {
        "ALYX_PLUGIN_TOKEN_FILE": str(home / ".pybpod_alyx" / "tokens.json"),
        "ALYX_PLUGIN_ADDRESS": proxy.base_url,
    }.items():
        monkeypatch.setattr(pybpod_user_settings, name, value, raising=False)
    project = alyx_gui.editor.model.open_project(str(folder))
    setup = next(s for e in project.experiments for s in e.setups if s.name == SETUP)
    return Rig(alyx_gui, project, setup, project.find_subject(nickname), nickname, proxy)


class Rig:
    def __init__(self, gui, project, setup, subject, nickname, proxy) -> None:
        self.gui, self.project, self.setup = gui, project, setup
        self.subject, self.nickname, self.proxy = subject, nickname, proxy

    @property
    def registrar(self):
        from pybpod_alyx_module.gui.registration import registrar_of

        return registrar_of(self.project)

    def press_run(self) -> None:
        self.setup._run_task_btn.click()

    def wait_run_end(self) -> None:
        qtbot = self.gui.qtbot
        qtbot.waitUntil(lambda: len(self.setup.sessions) == 1, timeout=RUN_WAIT_MS)
        qtbot.waitUntil(lambda: self.setup.status == self.setup.STATUS_READY, timeout=RUN_WAIT_MS)

    def wait_outbox(self, state: str) -> None:
        def settled() -> bool:
            items = self.registrar.view.items
            return bool(items) and not self.registrar.busy and items[-1].state == state

        self.gui.qtbot.waitUntil(settled, timeout=RUN_WAIT_MS)

    def alyx(self) -> AlyxClient:
        return AlyxClient(self.proxy.base_url, username="admin", password="admin", retries=0)


def on_alyx(rig: Rig) -> tuple[list, list, list]:
    """The subject's sessions, weighings and water administrations on the real Alyx."""
    with rig.alyx() as alyx:
        sessions = list(alyx.list("sessions", subject=rig.nickname))
        weighings = list(alyx.list("weighings", nickname=rig.nickname))
        water = list(alyx.list("water-administrations", nickname=rig.nickname))
    return sessions, weighings, water


def weigh_dialog(rig: Rig):
    dialog = rig.setup._alyx_weigh_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Weigh before the run"
    return dialog


def test_a_run_reaches_alyx_with_the_weight_typed_and_the_water_the_task_gave(rig):
    rig.project.save(rig.project.path)
    rig.press_run()
    dialog = weigh_dialog(rig)
    assert rig.setup.sessions == []  # nothing runs before Start or Skip
    dialog.rows[0].weight.value = "23.4"
    dialog._start.click()
    rig.wait_run_end()
    rig.wait_outbox("sent")

    sessions, weighings, water = on_alyx(rig)
    assert len(sessions) == 1
    session = sessions[0]
    assert session["start_time"][:10] == datetime.date.today().isoformat()
    assert [w["weight"] for w in weighings] == [23.4]
    assert [w["water_administered"] for w in water] == [0.8]
    assert water[0]["session"] == session["id"]
    assert rig.setup.sessions[0].alyx_state == "sent"
    assert rig.setup.sessions[0].node.toolTip(0) == "Alyx: sent"


def test_skip_runs_without_a_weight(rig):
    rig.project.save(rig.project.path)
    rig.press_run()
    weigh_dialog(rig)._skip.click()
    rig.wait_run_end()
    rig.wait_outbox("sent")

    sessions, weighings, water = on_alyx(rig)
    assert len(sessions) == 1
    assert weighings == []
    assert [w["water_administered"] for w in water] == [0.8]


def test_alyx_away_during_the_run_the_session_waits_then_goes_out_by_itself(
    rig, pybpod_user_settings, monkeypatch
):
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_WEIGH_BEFORE_RUN", False, raising=False)
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_OUTBOX_RETRY_SECONDS", 1, raising=False)
    rig.registrar._timer.setInterval(1000)  # the setting is read when the project opens
    rig.project.save(rig.project.path)
    rig.proxy.stop()

    rig.press_run()
    rig.wait_run_end()
    rig.wait_outbox("pending")
    assert rig.setup.status == rig.setup.STATUS_READY  # the run ended normally
    assert rig.registrar.view.stopped  # and says why nothing was sent
    assert rig.setup.sessions[0].alyx_state == "pending"

    rig.proxy.start()  # nobody clicks anything: the periodic retry sends it
    rig.gui.qtbot.waitUntil(
        lambda: rig.registrar.view.items[-1].state == "sent", timeout=RUN_WAIT_MS
    )
    sessions, _, water = on_alyx(rig)
    assert len(sessions) == 1
    assert len(water) == 1
    assert rig.setup.sessions[0].alyx_state == "sent"
