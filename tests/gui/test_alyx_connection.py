"""Connect in the "Alyx connection" window, against the real local Alyx: every outcome is shown."""

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def window(alyx_gui):
    return alyx_gui.open_connection(alyx_gui.new_project("proj"))


def test_connect_logs_alice_in_as_the_alyx_project_user(alyx_gui, window):
    from pybpod_alyx_module.gui import project_state

    alyx_gui.connect(window)

    project = window.project
    assert window.status == "Status: CONNECTED"
    assert window._get_subjects.enabled
    assert project.node.text(0) == "proj (alice@ALYX)"
    assert project.loggeduser.name == "alice"
    assert project.loggeduser.data["connection"] == "ALYX"
    assert project_state.client_for(project).username == "alice"
    assert window._password.value == ""  # the client holds the password, the window does not


def test_wrong_password_says_so(alyx_gui, window):
    alyx_gui.connect(window, password="not-the-password")

    assert window.status == "Status: Wrong user name or password"
    assert not window._get_subjects.enabled
    assert window.project.loggeduser is None


def test_unreachable_server_says_so(alyx_gui, window):
    window._address.value = "http://127.0.0.1:9"  # discard port: nothing listens
    window._user.value = "alice"
    window._password.value = "x"
    window._connect.click()
    alyx_gui.qtbot.waitUntil(lambda: not window.busy, timeout=30_000)

    assert window.status.startswith("Status: Server unreachable: ")
    assert "127.0.0.1:9" in window.status
    assert not window._get_subjects.enabled


def test_bad_address_says_so_without_connecting(alyx_gui, window):
    window._address.value = ""
    window._connect.click()

    assert window.status.startswith("Status: Connection failed: No Alyx address given")
    assert not window.busy


def test_changing_the_user_drops_the_connection(alyx_gui, window):
    from pybpod_alyx_module.gui import project_state

    alyx_gui.connect(window)
    window._user.value = "bob"

    assert window.status == "Status: Not Connected"
    assert not window._get_subjects.enabled
    assert project_state.client_for(window.project) is None


def test_changing_the_address_drops_the_connection(alyx_gui, window):
    from pybpod_alyx_module.gui import project_state

    alyx_gui.connect(window)
    window._address.value = alyx_gui.server.base_url + "/"

    assert window.status == "Status: Not Connected"
    assert project_state.client_for(window.project) is None


def test_saved_token_lets_the_password_stay_empty(alyx_gui, window, tmp_path):
    alyx_gui.connect(window)
    assert (tmp_path / "tokens.json").exists()
    window._user.value = "bob"  # drops the connection
    window._user.value = "alice"

    alyx_gui.connect(window, password="")

    assert window.status == "Status: CONNECTED"


def test_empty_password_without_a_saved_token_asks_for_it(alyx_gui, window):
    alyx_gui.connect(window, password="")

    assert window.status.startswith("Status: Password needed: ")
