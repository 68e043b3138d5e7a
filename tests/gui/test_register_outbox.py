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
    assert session.node.toolTip(0).startswith("Alyx: sent\nRegistered without a location")

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
    assert rows[1][4] and rows[1][5]  # a pending item says why it waits, and what to do
    assert "Not sent now" in window.status
    assert_fills_its_place(window)

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


def assert_fills_its_place(window):
    """No empty band above the list; every column, header and all, inside the window."""
    table = window._list.tableWidget
    assert not window._list.bottomBar.isVisible()
    assert table.geometry().top() <= 2  # the list starts at the window's top
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        assert header.sectionSize(column) >= header.sectionSizeHint(column) or column >= 4
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert right <= table.viewport().width(), column
    why = table.item(0, 4)
    assert why is not None and table.rowHeight(0) >= header.height()  # long reasons wrap


def test_withdraw_removes_a_sent_sessions_records_from_alyx_once(
    request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, pybpod_dialogs
):
    from pybpod_alyx_module.gui import project_state

    rig = rig_with(request, alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch,
                   (DAY_1, CAROL, DAY_1 + datetime.timedelta(minutes=40)))  # fmt: skip
    alyx_gui.trigger(session_node(rig, DAY_1).node, "Register in Alyx")
    rig.wait_outbox("sent")
    assert [len(records) for records in on_alyx(rig)] == [1, 1, 1]
    window = outbox_window(rig)
    (item,) = rig.registrar.view.items

    window.select(item.id)
    window._withdraw.click()  # not connected: refused, nothing asked
    assert "connect with Sync to Alyx" in window.status
    assert pybpod_dialogs.titles("question") == []

    project_state.connect(rig.project, rig.alyx())
    pybpod_dialogs.answers.append("no")
    window._withdraw.click()
    assert [len(records) for records in on_alyx(rig)] == [1, 1, 1]  # "no": nothing deleted

    pybpod_dialogs.answers.append("yes")
    window._withdraw.click()
    alyx_gui.qtbot.waitUntil(lambda: not window.busy, timeout=30_000)
    rig.wait_outbox("withdrawn")

    asked = [msg for _, title, msg in pybpod_dialogs.calls if title == "Withdraw from Alyx"]
    assert len(asked) == 2
    assert asked[1].startswith(f"Withdraw the session of {SUBJECT}")  # subject, kind, date
    assert "started 2026-01-05 09:00" in asked[1]
    assert "the weighing of carol_mouse_3 of 22.5 g on 2026-01-05 09:00" in asked[1]
    assert "of 0.6 mL" in asked[1]
    assert on_alyx(rig) == ([], [], [])
    assert [row[1] for row in window.rows()] == ["withdrawn"]
    assert window.rows()[0][4].startswith("withdrawn on ")
    assert window.status.startswith(f"Withdrew item {item.id}")
    assert session_node(rig, DAY_1).alyx_state is None  # no longer on Alyx

    window.select(item.id)
    window._withdraw.click()  # twice: said, not done again
    assert "withdrawn already" in window.status
    assert len([t for t in pybpod_dialogs.titles("question") if t == "Withdraw from Alyx"]) == 2
