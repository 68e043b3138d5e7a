"""The plugin's entries in PyBpod's menus, and the "Alyx connection" window as it opens."""

import pytest
from AnyQt.QtCore import Qt
from AnyQt.QtWidgets import QLineEdit

pytestmark = pytest.mark.gui


def test_project_menu_has_sync_to_alyx_after_save_save_as_close(alyx_gui):
    project = alyx_gui.new_project()

    assert alyx_gui.menu_labels(project.node) == [
        "Save", "Save as", "Close", "Sync to Alyx", "Alyx outbox",
    ]  # fmt: skip


def test_opened_project_has_sync_to_alyx(alyx_gui, tmp_path):
    project = alyx_gui.new_project("saved")
    project.save(str(tmp_path / "saved"))
    project.close(silent=True)

    reopened = alyx_gui.editor.model.open_project(str(tmp_path / "saved"))

    assert "Sync to Alyx" in alyx_gui.menu_labels(reopened.node)


def test_connection_window_opens_not_connected(alyx_gui):
    project = alyx_gui.new_project()

    window = alyx_gui.open_connection(project)

    assert window.windowTitle() == "Alyx connection"
    assert [window._address.label, window._user.label, window._password.label] == [
        "Address",
        "User:",
        "Password:",
    ]
    assert window._password.form.lineEdit.echoMode() == QLineEdit.Password
    assert window.status == "Status: Not Connected"
    assert window._connect.enabled
    assert not window._get_subjects.enabled


def test_connection_window_is_prefilled_from_settings(alyx_gui, pybpod_user_settings, monkeypatch):
    monkeypatch.setattr(
        pybpod_user_settings, "ALYX_PLUGIN_ADDRESS", "https://alyx.example.org/", raising=False
    )
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_USERNAME", "carol", raising=False)

    window = alyx_gui.open_connection(alyx_gui.new_project())

    assert window._address.value == "https://alyx.example.org/"
    assert window._user.value == "carol"


def test_user_field_defaults_to_the_logged_in_user(alyx_gui):
    project = alyx_gui.new_project()
    user = project.create_user()
    user.name = "bob"
    project.loggeduser = user

    window = alyx_gui.open_connection(project)

    assert window._user.value == "bob"


def test_escape_closes_the_connection_window(alyx_gui, qtbot):
    window = alyx_gui.open_connection(alyx_gui.new_project())

    qtbot.keyClick(window, Qt.Key_Escape)

    assert not window.isVisible()


def test_sync_to_alyx_twice_shows_the_same_window(alyx_gui):
    project = alyx_gui.new_project()
    first = alyx_gui.open_connection(project)
    first.close()

    assert alyx_gui.open_connection(project) is first


def test_local_subject_has_no_alyx_details_and_an_editable_name(alyx_gui):
    project = alyx_gui.new_project()
    subject = project.create_subject()

    assert alyx_gui.menu_labels(subject.node) == ["Remove"]
    assert not subject._name.readonly
