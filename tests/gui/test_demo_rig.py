"""The demo's rig runs through PyBpod's own run path without a board, and registers the run.

The project is built as ``scripts/demo`` builds it: a headless sync, then
``demo_rig.add_rig`` (board, task ``scripts/demo_task.py``, setup). It is then opened in
the real GUI: the logged-in user comes back from the saved project, the setup's Run weighs,
runs the task as a subprocess, shows "After the run", and the session with its weight and
water reaches the real Alyx. On the GUI tests' own subject (``register_gui_support``), whose
records are cleared before and after.
"""

from __future__ import annotations

import demo_rig
import pytest
from register_gui_support import (
    OWNER,
    RUN_WAIT_MS,
    SUBJECT,
    Rig,
    on_alyx,
    open_in_gui,
    started_proxy,
    take_subject_in_fresh_home,
    weigh_dialog,
)

from pybpod_alyx_module.cli.main import main

pytestmark = pytest.mark.gui


@pytest.fixture
def demo_project(alyx_gui, pybpod_user_settings, alyx_server, tmp_path, monkeypatch, request):
    """The demo's project shape, synced as the subject's owner, open in the GUI."""
    proxy = started_proxy(alyx_server.base_url, request)
    home = take_subject_in_fresh_home(tmp_path, monkeypatch, request)
    folder = tmp_path / "alyx-demo"
    sync = ["sync", str(folder), "--address", proxy.base_url, "--username", OWNER]
    assert main([*sync, "--create", "--details", "--override", "yes"]) == 0
    assert demo_rig.add_rig(folder, subjects=(SUBJECT,))
    assert not demo_rig.add_rig(folder, subjects=(SUBJECT,))  # kept as it is, once added
    project = open_in_gui(alyx_gui, pybpod_user_settings, monkeypatch, home, proxy, folder)
    setup = demo_rig.find_setup(project)
    return Rig(alyx_gui, project, setup, project.find_subject(SUBJECT), SUBJECT, proxy)


def test_the_demo_rig_runs_without_a_board_and_its_run_reaches_alyx(demo_project):
    rig = demo_project
    assert rig.project.loggeduser is not None and rig.project.loggeduser.name == OWNER
    assert rig.setup.board.name == demo_rig.BOARD and rig.setup.task.name == demo_rig.TASK

    rig.press_run()
    dialog = weigh_dialog(rig)
    dialog.rows[0].weight.value = "21.5"
    dialog._start.click()
    rig.wait_run_end()
    rig.gui.qtbot.waitUntil(lambda: rig.setup._alyx_water_dialog is not None, timeout=RUN_WAIT_MS)
    after = rig.setup._alyx_water_dialog
    assert after.windowTitle() == "After the run"
    assert "mL given (reported by the task)" in after.rows[0].given.value
    rig.wait_outbox("sent")

    sessions, weighings, water = on_alyx(rig)
    assert len(sessions) == 1
    with rig.alyx() as alyx:
        session = alyx.get(f"sessions/{sessions[0]['id']}")
    assert session["task_protocol"].startswith(demo_rig.TASK)
    assert session["n_trials"] == 10
    assert [w["weight"] for w in weighings] == [21.5]
    assert len(water) == 1 and water[0]["session"] == sessions[0]["id"]
    assert 0 < water[0]["water_administered"] <= 0.5  # 0.05 mL a correct trial, 10 trials
