"""The welfare typo checks in the real PyBpod GUI: a weight far from the last weighing and an
amount of water far above a day's need are marked as typed, asked about (Yes/No, with the
numbers), and reach the real Alyx only after Yes — the rule ``pybpod-alyx weigh`` applies.
"""

from __future__ import annotations

import pytest
from register_gui_support import RUN_WAIT_MS, on_alyx, open_rig, started_proxy, weigh_dialog

pytestmark = pytest.mark.gui


@pytest.fixture
def rig(alyx_gui, pybpod_user_settings, alyx_server, tmp_path, monkeypatch, request):
    """A rig whose task reports no water (the "After the run" dialog asks for it)."""
    proxy = started_proxy(alyx_server.base_url, request)
    return open_rig(
        alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request, water_ml=None
    )


def test_an_unusual_weight_and_water_are_sent_only_after_yes(rig, pybpod_dialogs):
    rig.subject.data["weighings"] = [{"date_time": "2026-11-30T09:12:00", "weight": 23.5}]
    rig.subject.data["expected_water"] = 1.0  # what a sync with details stores
    rig.project.save(rig.project.path)
    rig.press_run()
    dialog = weigh_dialog(rig)
    row = dialog.rows[0]
    row.weight.value = "23,9 g"
    assert dialog.verdicts() == ["no reference weight on Alyx"] and not row.warned
    row.weight.value = "2340"
    assert dialog.verdicts() == [
        "no reference weight on Alyx. UNUSUAL: 2340 g is about 100 times the last weighing "
        "(23.5 g on 2026-11-30 09:12): a typo or a wrong unit?"
    ]
    assert row.warned and dialog._start.enabled  # a possible weight: asked about, not blocked

    pybpod_dialogs.answers.append("no")
    dialog._start.click()
    (asked,) = pybpod_dialogs.calls
    assert asked[:2] == ("question", "Unusual weight")
    assert "2340 g is about 100 times the last weighing (23.5 g" in asked[2]
    assert "Run with this weight and send to Alyx as typed?" in asked[2]
    rig.gui.qtbot.wait(300)
    assert dialog.isVisible() and rig.setup.sessions == []
    assert dialog._status.value.startswith("Not started: correct the weight")

    pybpod_dialogs.answers.append("yes")
    dialog._start.click()
    rig.wait_run_end()
    rig.gui.qtbot.waitUntil(lambda: rig.setup._alyx_water_dialog is not None, timeout=RUN_WAIT_MS)
    water = rig.setup._alyx_water_dialog
    water.rows[0].typed.value = "50"
    assert (
        "UNUSUAL: 50 mL of water is far more than a day needs (Alyx expects 1 mL today)"
        in (water.lines()[0])
    )
    pybpod_dialogs.answers.append("no")
    water._record.click()
    assert pybpod_dialogs.titles("question")[-1] == "Unusual amount of water"
    assert water.isVisible() and water._status.value.startswith("Not recorded")
    pybpod_dialogs.answers.append("yes")
    water._record.click()
    rig.wait_outbox("sent", "sent")

    _sessions, weighings, given = on_alyx(rig)
    assert [w["weight"] for w in weighings] == [2340]
    assert [w["water_administered"] for w in given] == [50]
    assert (
        pybpod_dialogs.titles("question")
        == ["Unusual weight"] * 2 + ["Unusual amount of water"] * 2
    )
