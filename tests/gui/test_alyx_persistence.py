"""Save and reopen a synced project in the real GUI: Alyx subjects, setup links and the login survive."""

import json

import pytest
from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE  # alice's alive subjects

pytestmark = pytest.mark.gui


def test_save_and_reopen_keeps_alyx_subjects_setups_and_login(alyx_gui, tmp_path):
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)
    alyx_gui.get_subjects(window)
    project = window.project
    experiment = project.create_experiment()
    setup = experiment.create_setup()
    subject = project.find_subject("SW_001")
    setup += subject
    subject.setup = setup
    saved = {s.name: dict(s.data) for s in project.subjects}
    uuid4 = subject.uuid4
    folder = tmp_path / "proj"
    project.save(str(folder))
    on_disk = json.loads((folder / "subjects" / "SW_001" / "SW_001.json").read_text())
    assert on_disk["alyx_id"] == saved["SW_001"]["alyx_id"]
    window.close()
    project.close(silent=True)

    reopened = alyx_gui.editor.model.open_project(str(folder))

    assert reopened.node.text(0) == "proj (alice@ALYX)"
    assert reopened.loggeduser.connection == "ALYX"
    assert len(reopened.subjects) == ALIVE
    again = reopened.find_subject("SW_001")
    assert again.uuid4 == uuid4
    assert again.data["alyx_id"] == saved["SW_001"]["alyx_id"]
    assert again.data["description"] == saved["SW_001"]["description"]
    assert alyx_gui.menu_labels(again.node) == ["Remove", "Alyx details"]
    assert again._name.readonly
    assert again.setup is not None and again.setup.name == setup.name
    assert again in again.setup.subjects
    assert reopened.is_saved()


def test_a_local_user_stays_local_after_reopen(alyx_gui, tmp_path):
    project = alyx_gui.new_project("local")
    user = project.create_user()
    user.name = "dave"
    project.save(str(tmp_path / "local"))
    project.close(silent=True)

    reopened = alyx_gui.editor.model.open_project(str(tmp_path / "local"))

    assert reopened.find_user("dave").connection == "local"
    assert reopened.loggeduser is None
    assert reopened.node.text(0) == "local"


@pytest.mark.parametrize(("settings_user", "logged_in"), [("bob", "bob"), ("carol", None)])
def test_with_several_alyx_users_the_settings_user_is_logged_in_again(
    alyx_gui, tmp_path, pybpod_user_settings, monkeypatch, settings_user, logged_in
):
    from pybpod_alyx_module.sync.users import mark_alyx_user

    project = alyx_gui.new_project("two")
    for name in ("alice", "bob"):
        user = project.create_user()
        user.name = name
        mark_alyx_user(user)
    project.save(str(tmp_path / "two"))
    project.close(silent=True)
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_USERNAME", settings_user, raising=False)

    reopened = alyx_gui.editor.model.open_project(str(tmp_path / "two"))

    assert getattr(reopened.loggeduser, "name", None) == logged_in
