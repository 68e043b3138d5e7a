"""The plugin in the real GUI when things go wrong: a failing callback, a closed project, the log."""

import gc
import logging

import pytest
from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE  # alice's alive subjects

pytestmark = pytest.mark.gui


@pytest.fixture
def window(alyx_gui):
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)
    assert window.status == "Status: CONNECTED"
    return window


def test_a_raising_progress_callback_is_shown_and_pybpod_survives(alyx_gui, window, monkeypatch):
    thresholds = gc.get_threshold()

    def broken_progress(done, total):
        raise RuntimeError("progress display broke")

    with monkeypatch.context() as patched:  # only this patch is undone, not the fixtures'
        patched.setattr(window, "_applying_progress", broken_progress)
        alyx_gui.get_subjects(window)

    assert "progress display broke" in window.status
    assert "Get Subjects again to complete the sync" in window.status
    assert gc.get_threshold() == thresholds
    assert not window.busy and window._get_subjects.enabled
    # PyBpod is still alive and so is the plugin: the next sync completes the first.
    alyx_gui.get_subjects(window)
    assert window.status.startswith("Status: Sync done: "), window.status
    assert gc.get_threshold() == thresholds


def test_an_error_in_a_button_slot_is_logged_and_shown(alyx_gui, window, monkeypatch, caplog):
    def broken_selection():
        raise RuntimeError("selection broke")

    monkeypatch.setattr(window, "selection", broken_selection)
    with caplog.at_level(logging.ERROR, logger="pybpod_alyx_module"):
        window._get_subjects.click()

    assert window.status.startswith("Status: Unexpected error"), window.status
    assert "selection broke" in window.status
    assert any("selection broke" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_the_plugins_records_reach_pybpods_app_log(alyx_gui, pybpod_user_settings):
    from pathlib import Path

    logging.getLogger("pybpod_alyx_module.gui").warning("a record for app.log")
    for handler in logging.getLogger("pybpod_alyx_module").handlers:
        handler.flush()

    log = Path(pybpod_user_settings.APP_LOG_FILENAME).read_text(encoding="utf-8")
    assert "a record for app.log" in log
    assert "pybpod_alyx_module.gui" in log


def test_closing_a_project_closes_its_alyx_windows_and_drops_its_client(
    alyx_gui, window, monkeypatch
):
    from pybpod_alyx_module.gui import project_state

    project = window.project
    alyx_gui.get_subjects(window)
    details = project.find_subject("SW_001").open_alyx_details()
    client = project_state.client_for(project)
    assert window.isVisible() and details.isVisible() and client is not None
    closed = []
    monkeypatch.setattr(client, "close", lambda: closed.append(client))

    project.close(silent=True)

    assert not window.isVisible() and not details.isVisible()
    assert closed == [client] and not window.connected
    assert project_state.client_for(project) is None


def test_a_clear_text_password_setting_warns_once(
    alyx_gui, pybpod_user_settings, monkeypatch, caplog
):
    from pybpod_alyx_module import plugin_settings

    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_PASSWORD", "s3cret-pw", raising=False)
    monkeypatch.setattr(plugin_settings, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="pybpod_alyx_module"):
        first = alyx_gui.open_connection(alyx_gui.new_project("one"))
        alyx_gui.open_connection(alyx_gui.new_project("two"))

    warnings = [r for r in caplog.records if "ALYX_PLUGIN_PASSWORD" in r.getMessage()]
    assert len(warnings) == 1
    assert "s3cret-pw" not in warnings[0].getMessage()
    assert first._password.value == "s3cret-pw"


def _saved_project(alyx_gui, folder):
    project = alyx_gui.new_project(folder.name)
    project.save(str(folder))
    project.close(silent=True)


def test_opening_a_project_removes_what_an_interrupted_sync_staged(alyx_gui, tmp_path):
    folder = tmp_path / "proj"
    _saved_project(alyx_gui, folder)
    staged = folder / ".alyx-staging" / "subjects" / "ghost"
    staged.mkdir(parents=True)
    (staged / "ghost.json").write_text("{}")

    project = alyx_gui.editor.model.open_project(str(folder))

    assert project is not None and project.name == "proj"
    assert not (folder / ".alyx-staging").exists()
    assert project.find_subject("ghost") is None


def test_a_project_another_sync_holds_is_not_opened_half_synced(alyx_gui, tmp_path, pybpod_dialogs):
    import threading

    from pybpod_alyx_module.sync.lock import project_lock

    folder = tmp_path / "proj"
    _saved_project(alyx_gui, folder)
    (folder / ".alyx-staging").mkdir()
    held, release = threading.Event(), threading.Event()

    def other_sync():
        with project_lock(folder):
            held.set()
            release.wait(30)

    projects = list(alyx_gui.editor.model.projects)
    thread = threading.Thread(target=other_sync)
    thread.start()
    try:
        assert held.wait(10)
        assert alyx_gui.editor.model.open_project(str(folder)) is None
    finally:
        release.set()
        thread.join()

    assert "Alyx plugin" in pybpod_dialogs.titles("error")
    assert (folder / ".alyx-staging").exists()  # the other sync's, left alone
    assert list(alyx_gui.editor.model.projects) == projects


def test_the_gui_applies_only_while_no_other_sync_holds_the_project(alyx_gui, window, tmp_path):
    import threading

    from pybpod_alyx_module.sync.lock import project_lock

    project = window.project
    project.save(str(tmp_path / "proj"))
    held, release = threading.Event(), threading.Event()

    def other_sync():
        with project_lock(project.path):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_sync)
    thread.start()
    try:
        assert held.wait(10)
        alyx_gui.get_subjects(window)
    finally:
        release.set()
        thread.join()

    assert window.status.startswith("Status: Applying the subjects failed, the project was not")
    assert "Another sync" in window.status
    assert project.subjects == []
    alyx_gui.get_subjects(window)  # free again
    assert window.status.startswith(f"Status: Sync done: {ALIVE} added"), window.status


def test_a_subject_made_in_the_gui_has_a_text_uuid_and_tojson_changes_nothing(alyx_gui):
    import json

    project = alyx_gui.new_project("proj")
    subject = project.create_subject()  # PyBpod's own "Add subject"
    uuid4 = subject.uuid4

    document = json.loads(subject.toJSON())

    assert isinstance(uuid4, str) and subject.uuid4 is uuid4
    assert document["uuid4"] == uuid4


def test_an_error_opening_the_details_window_is_shown_not_raised(
    alyx_gui, window, monkeypatch, pybpod_dialogs
):
    from pybpod_alyx_module.gui import subject_details_window

    alyx_gui.get_subjects(window)
    subject = window.project.find_subject("SW_001")

    def broken(subject):
        raise RuntimeError("details window broke")

    monkeypatch.setattr(subject_details_window, "AlyxSubjectDetailsWindow", broken)
    alyx_gui.trigger(subject.node, "Alyx details")

    assert [(k, t) for k, t, m in pybpod_dialogs.calls if "details window broke" in m] == [
        ("error", "Alyx plugin")
    ]
