"""``pybpod-alyx``: credentials, sync, dry run, exit codes and ``subjects``, against the real server.

Most tests run ``main([...])`` in-process (HOME and the current folder point at a temporary
folder, so the token file and ``user_settings.py`` are the test's own; an in-memory keyring
replaces the system one). A few run the installed console script.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from pybpod_alyx_module.cli.exit_codes import BAD_CREDENTIALS as EXIT_BAD_CREDENTIALS
from pybpod_alyx_module.cli.exit_codes import CONFLICTS as EXIT_CONFLICTS
from pybpod_alyx_module.cli.exit_codes import OK as EXIT_OK
from pybpod_alyx_module.cli.exit_codes import UNREACHABLE as EXIT_UNREACHABLE
from pybpod_alyx_module.cli.exit_codes import USAGE as EXIT_USAGE
from pybpod_alyx_module.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_server import refused_port
from pybpod_projects import (
    add_local_subject,
    load_project,
    new_project,
    snapshot,
    subject_json,
)

CLI = Path(sys.executable).with_name("pybpod-alyx")


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        self.passwords.pop((service, username), None)


@pytest.fixture(autouse=True)
def private_env(tmp_path, monkeypatch):
    """A private HOME and current folder, no password anywhere, an empty keyring."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("ALYX_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def as_user(alyx_server, monkeypatch):
    """``as_user("bob")`` -> the connection arguments; the password is in ALYX_PASSWORD."""

    def connect(username: str, password: bool = True) -> list[str]:
        if password:
            monkeypatch.setenv("ALYX_PASSWORD", alyx_server.users[username])
        return ["--address", alyx_server.base_url, "--username", username]

    return connect


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- where the password comes from ------------------------------------------------------------


def test_sync_with_the_password_from_the_environment(tmp_path, capsys, as_user, seed):
    project = tmp_path / "proj"
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--create")
    assert code == EXIT_OK, err
    names = {s.name for s in load_project(project).subjects}
    assert names == {n for n in seed.BOB_NICKNAMES if n != ".."}
    # the summary table comes last, with what was left out and why
    assert "Saving…" in out
    table = out[out.index("Saving…") :]
    assert "added      6" in table and "refused    1" in table
    assert "left out .. (cortexlab)" in table
    assert out.rstrip().endswith("Logged-in user: bob@ALYX")


def test_login_saves_a_private_token_that_sync_uses_and_logout_forgets(
    tmp_path, capsys, as_user, alyx_server, monkeypatch
):
    connection = as_user("carol")
    code, out, err = run(capsys, "login", *connection)
    assert code == EXIT_OK, err
    tokens = tmp_path / "home" / ".pybpod_alyx" / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert alyx_server.users["carol"] not in tokens.read_text()
    monkeypatch.delenv("ALYX_PASSWORD")
    project = tmp_path / "proj"
    code, out, err = run(capsys, "sync", project, *connection, "--create")
    assert code == EXIT_OK, err
    assert load_project(project).find_subject("twin_mouse") is not None
    code, out, err = run(capsys, "logout", *connection)
    assert code == EXIT_OK and "forgotten" in out
    assert "carol" not in tokens.read_text()
    code, out, err = run(capsys, "sync", project, *connection)
    assert code not in (EXIT_OK, EXIT_CONFLICTS)
    assert "No password for carol" in err


def test_sync_with_the_password_from_the_keyring(tmp_path, capsys, alyx_server, private_env):
    private_env.set_password(f"pybpod-alyx:{alyx_server.base_url}", "carol", "carol-pass-1")
    connection = ["--address", alyx_server.base_url, "--username", "carol"]
    code, _out, err = run(capsys, "sync", tmp_path / "proj", *connection, "--create")
    assert code == EXIT_OK, err
    assert subject_json(tmp_path / "proj", "carol_mouse_1")["responsible_user"] == "carol"


def test_there_is_no_password_option(capsys, alyx_server):
    with pytest.raises(SystemExit) as exited:
        main(["sync", "proj", "--address", alyx_server.base_url, "--username", "bob",
              "--password", "bob-pass-1"])  # fmt: skip
    assert exited.value.code == EXIT_USAGE
    assert "--password" in capsys.readouterr().err


def test_no_password_source_and_nobody_at_the_terminal_is_a_clear_error(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    new_project(project)
    before = snapshot(project)
    code, _out, err = run(capsys, "sync", project, *as_user("bob", password=False))
    assert code == EXIT_BAD_CREDENTIALS
    assert "No password for bob" in err and "ALYX_PASSWORD" in err
    assert "Traceback" not in err
    assert snapshot(project) == before


# -- sync options -------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    new_project(project)
    before = snapshot(project)
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--dry-run")
    assert code == EXIT_OK, err
    assert "bob_mouse_1  add" in out and "refused" in out and "dry run" in out
    assert "6 add" in out
    assert snapshot(project) == before


def test_dry_run_of_a_missing_project_creates_nothing(tmp_path, capsys, as_user):
    code, _out, _err = run(
        capsys, "sync", tmp_path / "proj", *as_user("bob"), "--dry-run", "--create"
    )
    assert code == EXIT_OK and not (tmp_path / "proj").exists()


def test_without_create_a_missing_project_is_an_error(tmp_path, capsys, as_user):
    code, _out, err = run(capsys, "sync", tmp_path / "nothing_here", *as_user("bob"))
    assert code not in (EXIT_OK, EXIT_CONFLICTS)
    assert "There is no PyBpod project" in err
    assert not (tmp_path / "nothing_here").exists()


def test_a_file_given_as_the_project_is_a_clear_error_and_stays_as_it_was(
    tmp_path, capsys, as_user
):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("rig notes")
    code, _out, err = run(capsys, "sync", not_a_folder, "--create", *as_user("bob"))
    assert code not in (EXIT_OK, EXIT_CONFLICTS)
    assert "is a file, not a PyBpod project folder" in err and "Traceback" not in err
    assert not_a_folder.read_text() == "rig notes"


def test_create_makes_a_fresh_project_pybpod_loads(tmp_path, capsys, as_user):
    project = tmp_path / "brand_new"
    code, _out, err = run(capsys, "sync", project, *as_user("bob"), "--create")
    assert code == EXIT_OK, err
    loaded = load_project(project)
    assert loaded.name == "brand_new" and len(loaded.subjects) == 6
    assert json.loads((project / "users" / "bob" / "bob.json").read_text())["connection"] == "ALYX"


def test_import_users_adds_the_colleagues_of_the_alyx_projects(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("bob"), "--create", "--import-users")
    assert code == EXIT_OK, err
    users = {u.name: u for u in load_project(project).users}
    assert set(users) == {"alice", "bob"}  # ibl_behaviour: alice and bob
    assert all(u.data["connection"] == "ALYX" for u in users.values())


def test_a_second_sync_with_nothing_changed_leaves_the_files_alone(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    assert run(capsys, "sync", project, *as_user("bob"), "--create")[0] == EXIT_OK
    before = snapshot(project)
    code, out, _err = run(capsys, "sync", project, *as_user("bob"))
    assert code == EXIT_OK and "unchanged  6" in out
    assert snapshot(project) == before


# -- exit codes ---------------------------------------------------------------------------------


def test_bad_credentials_exit_3(tmp_path, capsys, alyx_server, monkeypatch):
    monkeypatch.setenv("ALYX_PASSWORD", "not-bobs-password")
    project = tmp_path / "proj"
    new_project(project)
    code, _out, err = run(
        capsys, "sync", project, "--address", alyx_server.base_url, "--username", "bob"
    )
    assert code == EXIT_BAD_CREDENTIALS
    assert "refused the user name 'bob'" in err and "not-bobs-password" not in err


def test_an_unreachable_server_exits_4_and_changes_nothing(tmp_path, capsys, monkeypatch):
    project = tmp_path / "proj"
    new_project(project)
    before = snapshot(project)
    monkeypatch.setenv("ALYX_PASSWORD", "whatever")
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_RETRIES = 0\n")
    with refused_port() as port:
        code, _out, err = run(
            capsys, "sync", project, "--address", f"http://127.0.0.1:{port}", "--username", "bob"
        )
    assert code == EXIT_UNREACHABLE
    assert "Could not reach" in err
    assert snapshot(project) == before


def test_create_leaves_no_project_behind_when_the_server_is_unreachable(
    tmp_path, capsys, monkeypatch
):
    project = tmp_path / "new-proj"
    monkeypatch.setenv("ALYX_PASSWORD", "whatever")
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_RETRIES = 0\n")
    with refused_port() as port:
        code, _out, _err = run(
            capsys, "sync", project, "--create",
            "--address", f"http://127.0.0.1:{port}", "--username", "bob",
        )  # fmt: skip
    assert code == EXIT_UNREACHABLE
    assert not project.exists()


def test_a_conflict_exits_5_but_the_rest_is_added(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    model = new_project(project)
    add_local_subject(model, "bob_mouse_2")
    model.save(str(project))
    pet = (project / "subjects" / "bob_mouse_2" / "bob_mouse_2.json").read_bytes()
    code, out, _err = run(capsys, "sync", project, *as_user("bob"), "--override", "yes")
    assert code == EXIT_CONFLICTS
    assert "conflicts  1" in out and "left out bob_mouse_2" in out
    assert (project / "subjects" / "bob_mouse_2" / "bob_mouse_2.json").read_bytes() == pet
    assert len(load_project(project).subjects) == 6  # the local one and 5 from Alyx


# -- subjects -----------------------------------------------------------------------------------


def test_subjects_as_a_table(capsys, as_user, seed):
    code, out, err = run(capsys, "subjects", *as_user("alice"), "--responsible", "bob")
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].split() == ["nickname", "lab", "responsible_user", "sex", "birth_date",
                                "alive", "id"]  # fmt: skip
    assert {line.split()[0] for line in lines[2:-2]} == set(seed.BOB_NICKNAMES)
    assert lines[-1] == f"{seed.BOB_COUNT} subjects"


def test_subjects_as_json_with_address_and_user_from_user_settings(
    tmp_path, capsys, alyx_server, monkeypatch, seed
):
    (tmp_path / "user_settings.py").write_text(
        f"ALYX_PLUGIN_ADDRESS = {alyx_server.base_url + '/'!r}\nALYX_PLUGIN_USERNAME = 'carol'\n"
    )
    monkeypatch.setenv("ALYX_PASSWORD", alyx_server.users["carol"])
    code, out, err = run(capsys, "subjects", "--json")
    assert code == EXIT_OK, err
    subjects = json.loads(out)
    assert sorted(s["nickname"] for s in subjects) == sorted(
        s.nickname for s in seed.subjects_of("carol")
    )
    code, out, err = run(capsys, "subjects", "--json", "--alive")
    assert len(json.loads(out)) == seed.alive_count("carol")


# -- the installed command ----------------------------------------------------------------------


def test_the_console_script_rejects_a_password_argument(tmp_path):
    done = subprocess.run(
        [str(CLI), "sync", str(tmp_path), "--address", "http://x", "--username", "u",
         "--password", "secret"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert "unrecognized arguments: --password secret" in done.stderr


def test_the_console_script_syncs(tmp_path, alyx_server):
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "ALYX_PASSWORD": alyx_server.users["bob"],
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [str(CLI), "sync", "proj", "--address", alyx_server.base_url, "--username", "bob",
         "--create"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert len(load_project(tmp_path / "proj").subjects) == 6
