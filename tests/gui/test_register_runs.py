"""Runs in the real PyBpod GUI reach the real Alyx: weighed before, registered after, never stalled.

Each run goes through PyBpod's own run path: the setup window's Run button, the board
starting the task file as a subprocess, polling its output, and ``end_run_task_handler``.
The task file writes its session through pybpodapi's own session writer (no Bpod here).
"""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import (
    RUN_WAIT_MS,
    SETUP,
    Rig,
    StoppableProxy,
    on_alyx,
    open_rig,
    weigh_dialog,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def proxy(alyx_server):
    proxy = StoppableProxy(alyx_server.base_url)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request) -> Rig:
    """A project with a fresh Alyx subject on a setup whose task reports 0.8 mL of water
    (or the ``water_ml`` given as the fixture's parameter; ``None``: none)."""
    water_ml = getattr(request, "param", 0.8)
    return open_rig(
        alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request, water_ml=water_ml
    )


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
    assert rig.setup.sessions[0].node.toolTip(0).startswith("Alyx: sent")


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


def water_dialog(rig):
    """The setup's "After the run" dialog, once the run's registrations were queued."""
    rig.gui.qtbot.waitUntil(lambda: rig.setup._alyx_water_dialog is not None, timeout=RUN_WAIT_MS)
    dialog = rig.setup._alyx_water_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "After the run"
    return dialog


def saved_water_budget(rig, reference_g: float, remaining_ml: float) -> None:
    """What a sync with details stores for a water-restricted subject."""
    rig.subject.data["reference_weight"] = reference_g
    rig.subject.data["expected_water"] = remaining_ml
    rig.subject.data["remaining_water"] = remaining_ml
    rig.project.save(rig.project.path)


def test_the_weight_dialog_warns_below_the_threshold_and_closing_it_runs_nothing(rig):
    saved_water_budget(rig, reference_g=25.0, remaining_ml=1.0)
    rig.press_run()
    dialog = weigh_dialog(rig)
    row = dialog.rows[0]
    assert "reference weight 25 g" in row.about.value
    assert "expected water today 1 mL" in row.about.value

    row.weight.value = "19"
    assert dialog.verdicts() == ["WARNING: 76 % of the reference weight, below the 80 % threshold"]
    assert row.warned  # drawn in bold red
    row.weight.value = "21"
    assert dialog.verdicts() == ["84 % of the reference weight"]
    assert not row.warned
    row.weight.value = "heavy"
    assert not dialog._start.enabled
    assert "not a weight in grams" in dialog._status.value
    assert dialog._skip.enabled  # skipping is always possible

    dialog.close()
    rig.gui.qtbot.wait(300)
    assert rig.setup.sessions == []
    assert rig.setup.status == rig.setup.STATUS_READY
    assert not rig.setup._run_task_btn.checked


def test_after_the_run_the_water_the_task_gave_and_what_remains_are_shown(rig):
    saved_water_budget(rig, reference_g=25.0, remaining_ml=1.0)
    rig.press_run()
    weigh_dialog(rig)._skip.click()
    rig.wait_run_end()

    dialog = water_dialog(rig)
    assert not dialog.asks
    assert "0.8 mL given (reported by the task)" in dialog.rows[0].given.value
    assert dialog.lines() == ["Still to give: give 0.2 mL more today"]
    assert not dialog._record.enabled
    rig.wait_outbox("sent")


@pytest.mark.parametrize("rig", [None], indirect=True, ids=["task-reports-no-water"])
def test_water_typed_after_the_run_reaches_alyx_with_the_session(rig):
    saved_water_budget(rig, reference_g=25.0, remaining_ml=1.0)
    rig.press_run()
    weigh_dialog(rig).rows[0].weight.value = "24"
    rig.setup._alyx_weigh_dialog._start.click()
    rig.wait_run_end()

    dialog = water_dialog(rig)
    assert dialog.asks
    dialog.rows[0].typed.value = "0.3"
    assert dialog.lines() == ["Still to give: give 0.7 mL more today"]
    dialog._record.click()
    rig.wait_outbox("sent", "sent")

    sessions, weighings, water = on_alyx(rig)
    assert len(sessions) == 1
    assert [w["weight"] for w in weighings] == [24.0]
    assert [(w["water_administered"], w["session"]) for w in water] == [(0.3, sessions[0]["id"])]


def test_a_location_alyx_lacks_is_on_the_sessions_node_and_in_the_outbox_with_what_to_do(
    rig, pybpod_user_settings, monkeypatch
):
    location = "rig_nobody_made_gui"
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_WEIGH_BEFORE_RUN", False, raising=False)
    monkeypatch.setattr(
        pybpod_user_settings, "ALYX_PLUGIN_LOCATIONS", {SETUP: location}, raising=False
    )
    rig.project.save(rig.project.path)
    rig.press_run()
    rig.wait_run_end()
    rig.wait_outbox("sent")

    state, why = rig.setup.sessions[0].node.toolTip(0).split("\n", 1)
    assert state == "Alyx: sent"
    assert why.startswith("Registered without a location: the Alyx at ")
    assert f"has no location '{location}'" in why
    assert f"Create the location '{location}' in lab hoferlab" in why
    assert "ALYX_PLUGIN_LOCATIONS" in why
    from pybpod_alyx_module.gui import outbox_window

    rig.gui.trigger(rig.project.node, "Alyx outbox")
    (row,) = outbox_window._windows[rig.project].rows()
    assert row[1] == "sent" and f"no location '{location}'" in row[4]
    assert f"Create the location '{location}'" in row[5]
    with rig.alyx() as alyx:
        detail = alyx.get(f"sessions/{on_alyx(rig)[0][0]['id']}")
    assert detail["location"] is None and detail["json"]["pybpod_location"] == location


def test_with_registering_off_a_run_is_not_sent_until_registered_by_hand(
    rig, pybpod_user_settings, monkeypatch, pybpod_dialogs
):
    for name in ("ALYX_PLUGIN_REGISTER_SESSIONS", "ALYX_PLUGIN_WEIGH_BEFORE_RUN"):
        monkeypatch.setattr(pybpod_user_settings, name, False, raising=False)
    rig.project.save(rig.project.path)
    rig.press_run()  # no dialog: weighing is off too
    rig.wait_run_end()
    rig.gui.qtbot.wait(1000)
    assert not rig.registrar.busy and rig.registrar.view.items == []
    assert on_alyx(rig)[0] == []

    rig.gui.trigger(rig.setup.sessions[0].node, "Register in Alyx")
    rig.wait_outbox("sent")
    sessions, _, water = on_alyx(rig)
    assert len(sessions) == 1 and [w["water_administered"] for w in water] == [0.8]

    assert "Already in Alyx" not in pybpod_dialogs.titles()
    rig.gui.trigger(rig.setup.sessions[0].node, "Register in Alyx")  # once more, by mistake
    rig.gui.qtbot.waitUntil(lambda: "Already in Alyx" in pybpod_dialogs.titles())
    rig.wait_outbox("sent")
    told = next(msg for _, title, msg in pybpod_dialogs.calls if title == "Already in Alyx")
    assert f"sent to Alyx on {datetime.date.today().isoformat()} " in told
    assert f"(Alyx session {sessions[0]['id']})" in told
    assert "Nothing was queued or sent again" in told
    assert len(on_alyx(rig)[0]) == 1
