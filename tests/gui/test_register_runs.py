"""Runs in the real PyBpod GUI reach the real Alyx: weighed before, registered after, never stalled.

Each run goes through PyBpod's own run path: the setup window's Run button, the board
starting the task file as a subprocess, polling its output, and ``end_run_task_handler``.
The task file writes its session through pybpodapi's own session writer (no Bpod here).
"""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import RUN_WAIT_MS, Rig, StoppableProxy, on_alyx, open_rig, weigh_dialog

pytestmark = pytest.mark.gui


@pytest.fixture
def proxy(alyx_server):
    proxy = StoppableProxy(alyx_server.base_url)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request) -> Rig:
    """A project with a fresh Alyx subject on a setup whose task reports 0.8 mL of water."""
    return open_rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request)


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
