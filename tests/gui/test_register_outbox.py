"""Sessions run earlier, registered from their node; the "Alyx outbox" window's Retry and Discard.

The sessions are written before the project opens, by pybpodapi's own session writer, for
the one subject no other test counts (``register_gui_support.SUBJECT``).
"""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import SETUP, SUBJECT, StoppableProxy, on_alyx, open_rig
from register_sessions import write_session

pytestmark = pytest.mark.gui

CAROL = ("carol", "00000000-0000-4000-8000-00000000ca01", "ALYX")
STRANGER = ("nobody_on_alyx", "00000000-0000-4000-8000-0000000000ff", "ALYX")
VALUES = {"alyx_weight_g": 22.5, "alyx_water_ml": 0.6}
DAY_1 = datetime.datetime(2026, 1, 5, 9, 0)
DAY_2 = datetime.datetime(2026, 1, 6, 9, 0)


@pytest.fixture
def proxy(alyx_server):
    proxy = StoppableProxy(alyx_server.base_url)
    proxy.start()
    yield proxy
    proxy.stop()


def sessions_written(*specs):
    """``before_open`` writing one session per ``(started, creator, ended)``."""

    def write(folder, project):
        subject = project.find_subject(SUBJECT)
        setup_folder = folder / "experiments" / "exp" / "setups" / SETUP
        for started, creator, ended in specs:
            write_session(
                setup_folder, [(subject.name, subject.uuid4)], started, ended,
                creator=creator, values=VALUES, setup=SETUP,
            )  # fmt: skip

    return write


def rig_with(request, alyx_gui, settings, proxy, tmp_path, monkeypatch, *specs):
    return open_rig(
        alyx_gui, settings, proxy, tmp_path, monkeypatch, request,
        before_open=sessions_written(*specs),
    )  # fmt: skip


def session_node(rig, started):
    name = started.strftime("%Y%m%d-%H%M%S")
    return next(s for s in rig.setup.sessions if s.name == name)


def outbox_window(rig):
    """Right-click the project, "Alyx outbox"."""
    from pybpod_alyx_module.gui import outbox_window

    rig.gui.trigger(rig.project.node, "Alyx outbox")
    window = outbox_window._windows[rig.project]
    assert window.isVisible() and window.windowTitle() == "Alyx outbox"
    return window


def test_register_in_alyx_sends_a_session_run_earlier(
    request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch
):
    rig = rig_with(request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch,
                   (DAY_1, CAROL, DAY_1 + datetime.timedelta(minutes=40)))  # fmt: skip
    session = session_node(rig, DAY_1)
    assert "Register in Alyx" in alyx_gui.menu_labels(session.node)
    assert session.alyx_state is None

    alyx_gui.trigger(session.node, "Register in Alyx")
    rig.wait_outbox("sent")

    sessions, weighings, water = on_alyx(rig)
    assert [s["start_time"][:19] for s in sessions] == ["2026-01-05T09:00:00"]
    assert [w["weight"] for w in weighings] == [22.5]
    assert [w["water_administered"] for w in water] == [0.6]
    assert session.alyx_state == "sent"
    assert session.node.toolTip(0) == "Alyx: sent"

    alyx_gui.trigger(session.node, "Register in Alyx")  # once more: nothing new on Alyx
    rig.wait_outbox("sent")
    assert len(on_alyx(rig)[0]) == 1


def test_a_session_that_never_ended_is_not_registered_and_says_why(
    request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, pybpod_dialogs
):
    rig = rig_with(request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch,
                   (DAY_1, CAROL, None))  # fmt: skip
    session = session_node(rig, DAY_1)

    alyx_gui.trigger(session.node, "Register in Alyx")
    alyx_gui.qtbot.waitUntil(lambda: "Not registered in Alyx" in pybpod_dialogs.titles())

    warning = next(
        msg for _, title, msg in pybpod_dialogs.calls if title == "Not registered in Alyx"
    )
    assert "never ended" in warning
    assert on_alyx(rig)[0] == []
    assert session.alyx_state is None


def test_outbox_window_retry_sends_what_waited_and_discard_gives_up_a_refused_item(
    request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, pybpod_dialogs
):
    rig = rig_with(request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch,
                   (DAY_1, STRANGER, DAY_1 + datetime.timedelta(minutes=30)),
                   (DAY_2, CAROL, DAY_2 + datetime.timedelta(minutes=30)))  # fmt: skip
    refused, waiting = session_node(rig, DAY_1), session_node(rig, DAY_2)
    pybpod_dialogs.answers.append("yes")  # "Discard …?"

    alyx_gui.trigger(refused.node, "Register in Alyx")
    rig.wait_outbox("attention")
    proxy.stop()
    alyx_gui.trigger(waiting.node, "Register in Alyx")
    alyx_gui.qtbot.waitUntil(lambda: "Alyx outbox" in pybpod_dialogs.titles())  # not sent yet
    rig.wait_outbox("attention", "pending")
    assert (refused.alyx_state, waiting.alyx_state) == ("attention", "pending")

    window = outbox_window(rig)
    rows = window.rows()
    assert [row[1] for row in rows] == ["needs attention", "pending"]
    assert "nobody_on_alyx" in rows[0][4]  # the server's words
    assert rows[0][5]  # and what to do
    assert "Not sent now" in window.status

    proxy.start()
    window.select(rig.registrar.view.items[1].id)
    window._retry.click()
    rig.wait_outbox("attention", "sent")
    assert [row[1] for row in window.rows()] == ["needs attention", "sent"]
    assert waiting.alyx_state == "sent"

    window.select(rig.registrar.view.items[0].id)
    window._discard.click()
    rig.wait_outbox("discarded", "sent")
    assert pybpod_dialogs.titles("question") == ["Discard"]
    assert [row[1] for row in window.rows()] == ["discarded", "sent"]
    assert refused.alyx_state is None
    sessions = on_alyx(rig)[0]
    assert [s["start_time"][:10] for s in sessions] == ["2026-01-06"]
