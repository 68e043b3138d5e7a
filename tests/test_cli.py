"""``pybpod-alyx``: credentials, sync, dry run, exit codes and ``subjects``, against the real server.

Most tests run ``main([...])`` in-process (HOME and the current folder point at a temporary
folder, so the token file and ``user_settings.py`` are the test's own; an in-memory keyring
replaces the system one). A few run the installed console script.
"""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.defaults import load_defaults
from pybpod_alyx_module.cli.exit_codes import BAD_CREDENTIALS as EXIT_BAD_CREDENTIALS
from pybpod_alyx_module.cli.exit_codes import ERROR as EXIT_ERROR
from pybpod_alyx_module.cli.exit_codes import LEFT_OUT as EXIT_LEFT_OUT
from pybpod_alyx_module.cli.exit_codes import OK as EXIT_OK
from pybpod_alyx_module.cli.exit_codes import SKIPPED as EXIT_SKIPPED
from pybpod_alyx_module.cli.exit_codes import UNREACHABLE as EXIT_UNREACHABLE
from pybpod_alyx_module.cli.exit_codes import USAGE as EXIT_USAGE
from pybpod_alyx_module.cli.main import build_parser, main

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alyxserver import seed_data
from fault_server import refused_port
from pybpod_projects import (
    add_local_subject,
    load_project,
    new_project,
    snapshot,
    subject_json,
)

CLI = Path(sys.executable).with_name("pybpod-alyx")

#: The seeded nicknames a sync refuses: ".." is the parent folder. ("dot.mouse", the other odd
#: nickname of the seed, is a valid folder name and is synced.)
REFUSED = {".."}


def synced_nicknames(nicknames) -> set[str]:
    """The nicknames of the seed that a sync adds: all but the refused ones."""
    return set(nicknames) - REFUSED


BOB_SYNCED = synced_nicknames(seed_data.BOB_NICKNAMES)


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
    """A private HOME and current folder, no password anywhere, an empty keyring, no terminal."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
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


def edit_local_description(project: Path, name: str, text: str) -> None:
    """Change a synced subject's saved description, so that Alyx's now differs from it."""
    path = project / "subjects" / name / f"{name}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["description"] = text
    path.write_text(json.dumps(document), encoding="utf-8")


def synced_bob_project(tmp_path, capsys, as_user) -> Path:
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("bob"), "--create")
    assert code == EXIT_LEFT_OUT, err  # ".." is refused
    return project


# -- where the password comes from ------------------------------------------------------------


def test_sync_with_the_password_from_the_environment(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--create")
    assert code == EXIT_LEFT_OUT, err
    names = {s.name for s in load_project(project).subjects}
    assert names == BOB_SYNCED
    # the summary table comes last, with what was left out and why
    assert "Saving…" in out
    table = out[out.index("Saving…") :]
    assert f"added      {len(BOB_SYNCED)}\n" in table
    assert f"refused    {len(REFUSED)}\n" in table
    assert "left out .. (cortexlab)" in table
    assert "Users added: bob" in table
    assert out.rstrip().endswith("Logged-in user: bob@ALYX")
    assert "1 subject(s) left out" in err and "rename" in err


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
    assert code == EXIT_BAD_CREDENTIALS
    assert "No password for carol" in err and f"none usable for carol in {tokens}" in err


def test_sync_with_the_password_from_the_keyring(tmp_path, capsys, alyx_server, private_env):
    service = f"pybpod-alyx:{alyx_server.base_url}"
    private_env.set_password(service, "carol", alyx_server.users["carol"])
    connection = ["--address", alyx_server.base_url, "--username", "carol"]
    code, _out, err = run(capsys, "sync", tmp_path / "proj", *connection, "--create")
    assert code == EXIT_OK, err
    assert subject_json(tmp_path / "proj", "carol_mouse_1")["responsible_user"] == "carol"


def test_there_is_no_password_option(capsys, alyx_server):
    with pytest.raises(SystemExit) as exited:
        main(["sync", "proj", "--address", alyx_server.base_url, "--username", "bob",
              "--password", alyx_server.users["bob"]])  # fmt: skip
    assert exited.value.code == EXIT_USAGE
    assert "--password" in capsys.readouterr().err


def test_no_password_source_and_nobody_at_the_terminal_says_what_was_tried(
    tmp_path, capsys, as_user, alyx_server
):
    project = tmp_path / "proj"
    new_project(project)
    before = snapshot(project)
    code, _out, err = run(capsys, "sync", project, *as_user("bob", password=False))
    assert code == EXIT_BAD_CREDENTIALS
    assert f"No password for bob at {alyx_server.base_url}" in err
    tried = err[err.index("Tried:") :]
    assert "a saved token: none usable for bob" in tried
    assert f"service 'pybpod-alyx:{alyx_server.base_url}', user 'bob'): nothing saved" in tried
    assert "$ALYX_PASSWORD: not set" in tried
    assert f"keyring set 'pybpod-alyx:{alyx_server.base_url}' bob" in tried
    assert "Traceback" not in err
    assert snapshot(project) == before


def test_login_without_a_password_source_does_not_send_you_to_login(capsys, as_user):
    code, _out, err = run(capsys, "login", *as_user("bob", password=False))
    assert code == EXIT_BAD_CREDENTIALS
    assert "keyring" in err and "$ALYX_PASSWORD: not set" in err
    assert "saved token" not in err  # login needs a password whatever token is saved
    assert "pybpod-alyx login" not in err


# -- sync options -------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_with_the_users_and_changes_nothing(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    new_project(project)
    before = snapshot(project)
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--dry-run", "--import-users")
    assert code == EXIT_LEFT_OUT, err  # the sync would refuse ".." too
    rows = {tuple(line.split()[:2]) for line in out.splitlines()}
    assert {(name, "add") for name in BOB_SYNCED} <= rows
    assert ("..", "refused") in rows
    colleagues = set(seed_data.PROJECTS["ibl_behaviour"])  # bob's subjects' only project
    assert {line.split()[0] for line in out.splitlines() if "  add user" in line} == colleagues
    assert f"{len(BOB_SYNCED)} add" in out and f"{len(colleagues)} user(s) to add" in out
    assert "dry run" in out
    assert snapshot(project) == before


def test_dry_run_with_nothing_to_do_prints_one_line_and_no_table(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("carol"), "--create")
    assert code == EXIT_OK, err
    code, out, err = run(capsys, "sync", project, *as_user("carol"), "--dry-run")
    assert code == EXIT_OK, err
    plan_lines = out.splitlines()[1:]  # after "Syncing …"
    alive = seed_data.alive_count("carol")
    assert plan_lines == [
        f"Nothing to change. Plan: 0 add, 0 update, 0 remove, {alive} unchanged, "
        "0 conflicts, 0 refused (dry run: nothing changed)"
    ]


def test_dry_run_of_a_missing_project_creates_nothing(tmp_path, capsys, as_user):
    code, _out, err = run(
        capsys, "sync", tmp_path / "proj", *as_user("carol"), "--dry-run", "--create"
    )
    assert code == EXIT_OK, err
    assert not (tmp_path / "proj").exists()


def test_without_create_a_missing_project_is_an_error_that_mentions_create(
    tmp_path, capsys, as_user
):
    code, _out, err = run(capsys, "sync", tmp_path / "nothing_here", *as_user("bob"))
    assert code == EXIT_ERROR
    assert "There is no PyBpod project" in err and "add --create" in err
    assert not (tmp_path / "nothing_here").exists()


def test_a_folder_that_is_not_a_project_is_an_error_without_the_create_hint(
    tmp_path, capsys, as_user
):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cage.jpg").write_bytes(b"not a project")
    code, _out, err = run(capsys, "sync", folder, *as_user("bob"))
    assert code == EXIT_ERROR
    assert "is not a PyBpod project" in err and "--create" not in err


def test_a_file_given_as_the_project_is_a_clear_error_and_stays_as_it_was(
    tmp_path, capsys, as_user
):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("rig notes")
    code, _out, err = run(capsys, "sync", not_a_folder, "--create", *as_user("bob"))
    assert code == EXIT_ERROR
    assert "is a file, not a PyBpod project folder" in err and "Traceback" not in err
    assert not_a_folder.read_text() == "rig notes"


def test_create_makes_a_fresh_project_pybpod_loads(tmp_path, capsys, as_user):
    project = tmp_path / "brand_new"
    code, _out, err = run(capsys, "sync", project, *as_user("bob"), "--create")
    assert code == EXIT_LEFT_OUT, err
    loaded = load_project(project)
    assert loaded.name == "brand_new" and len(loaded.subjects) == len(BOB_SYNCED)
    assert json.loads((project / "users" / "bob" / "bob.json").read_text())["connection"] == "ALYX"


def test_import_users_adds_the_colleagues_of_the_alyx_projects(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--create", "--import-users")
    assert code == EXIT_LEFT_OUT, err
    users = {u.name: u for u in load_project(project).users}
    bobs_projects = {p for s in seed_data.subjects_of("bob") for p in s.projects}
    assert set(users) == {u for p in bobs_projects for u in seed_data.PROJECTS[p]}
    assert all(u.data["connection"] == "ALYX" for u in users.values())
    assert f"Users added: bob, {', '.join(sorted(set(users) - {'bob'}))}\n" in out


def test_a_second_sync_with_nothing_changed_leaves_the_files_alone(tmp_path, capsys, as_user):
    project = synced_bob_project(tmp_path, capsys, as_user)
    before = snapshot(project)
    code, out, _err = run(capsys, "sync", project, *as_user("bob"))
    assert code == EXIT_LEFT_OUT
    assert f"unchanged  {len(BOB_SYNCED)}\n" in out
    assert snapshot(project) == before


def test_details_downloads_weighings_and_water_a_plain_sync_does_not(tmp_path, capsys, as_user):
    weighed = seed_data.WEIGHED_SUBJECT
    selection = ("--lab", weighed.lab, "--responsible", weighed.responsible_user)
    plain, detailed = tmp_path / "plain", tmp_path / "detailed"
    for project, extra in ((plain, ()), (detailed, ("--details",))):
        code, _out, err = run(
            capsys, "sync", project, *as_user("carol"), *selection, "--create", *extra
        )
        assert code == EXIT_OK, err
    document = subject_json(detailed, weighed.nickname)
    assert [w["weight"] for w in document["weighings"]] == [
        w["weight"] for w in seed_data.WEIGHINGS
    ]
    assert [w["water_administered"] for w in document["water_administration"]] == [
        w["water_administered"] for w in seed_data.WATER_ADMINISTRATIONS
    ]
    assert "weighings" not in subject_json(plain, weighed.nickname)
    assert "water_administration" not in subject_json(plain, weighed.nickname)


def test_all_alive_takes_every_alive_subject_of_every_user(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("carol"), "--all-alive", "--create")
    assert code == EXIT_LEFT_OUT, err  # ".." is refused
    subjects = load_project(project).subjects
    alive = [s for s in seed_data.SUBJECTS if s.alive and s.nickname not in REFUSED]
    assert len(subjects) == len(alive)
    saved = sorted((s.data["nickname"], s.data["lab"]) for s in subjects)
    assert saved == sorted((s.nickname, s.lab) for s in alive)


# -- subjects changed on Alyx, without a terminal ------------------------------------------------


def test_changed_subjects_are_skipped_without_a_terminal_with_exit_6_and_a_hint(
    tmp_path, capsys, as_user
):
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("carol"), "--create")
    assert code == EXIT_OK, err
    edit_local_description(project, "carol_mouse_1", "edited locally")
    before = snapshot(project)
    code, out, err = run(capsys, "sync", project, *as_user("carol"), "--dry-run")
    assert code == EXIT_SKIPPED
    assert "carol_mouse_1  update  description" in out
    assert "1 subject(s) changed on Alyx would keep their local details" in err
    code, out, err = run(capsys, "sync", project, *as_user("carol"))
    assert code == EXIT_SKIPPED
    assert "skipped    1\n" in out
    assert "1 subject(s) changed on Alyx kept their local details" in err
    assert "--override yes" in err and len(err.strip().splitlines()) == 1
    assert snapshot(project) == before
    code, out, err = run(capsys, "sync", project, *as_user("carol"), "--override", "no")
    assert code == EXIT_OK, err  # skipped on purpose: nothing to learn
    code, out, err = run(capsys, "sync", project, *as_user("carol"), "--override", "yes")
    assert code == EXIT_OK, err
    assert "updated    1\n" in out
    assert subject_json(project, "carol_mouse_1")["description"] == "Carol's vision mouse 1"


def test_override_only_replaces_the_named_subjects_and_keeps_the_others(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    code, _out, err = run(capsys, "sync", project, *as_user("carol"), "--create")
    assert code == EXIT_OK, err
    for name in ("carol_mouse_1", "carol_mouse_2"):
        edit_local_description(project, name, f"{name} edited locally")
    code, out, err = run(
        capsys, "sync", project, *as_user("carol"), "--override-only", "carol_mouse_2"
    )
    assert code == EXIT_OK, err
    assert "updated    1\n" in out and "skipped    1\n" in out
    assert subject_json(project, "carol_mouse_2")["description"] == "Carol's vision mouse 2"
    assert subject_json(project, "carol_mouse_1")["description"] == "carol_mouse_1 edited locally"


def test_override_ask_without_a_terminal_is_a_usage_error(tmp_path, capsys, as_user):
    project = tmp_path / "proj"
    new_project(project)
    code, _out, err = run(capsys, "sync", project, *as_user("carol"), "--override", "ask")
    assert code == EXIT_USAGE and "needs a terminal" in err


# -- exit codes ---------------------------------------------------------------------------------


def test_help_lists_every_exit_code_and_explains_project_dir(capsys):
    parser = build_parser(load_defaults())
    for command in ([], ["sync"]):
        with pytest.raises(SystemExit):
            parser.parse_args([*command, "--help"])
        out = capsys.readouterr().out
        listed = {int(line.split()[0]) for line in out.splitlines() if line[:5].strip().isdigit()}
        assert listed == set(exit_codes.MEANINGS)
    with pytest.raises(SystemExit):
        parser.parse_args(["sync", "--help"])
    assert "PROJECT_DIR           the PyBpod project folder" in capsys.readouterr().out


def test_the_readme_lists_every_exit_code():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for code, meaning in exit_codes.MEANINGS.items():
        assert f"| {code} | {meaning} |" in readme


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
    code, out, err = run(capsys, "sync", project, *as_user("bob"), "--override", "yes")
    assert code == EXIT_LEFT_OUT
    assert "conflicts  1\n" in out and "left out bob_mouse_2" in out
    assert f"{1 + len(REFUSED)} subject(s) left out" in err
    assert (project / "subjects" / "bob_mouse_2" / "bob_mouse_2.json").read_bytes() == pet
    # the local one, and every synced one but its namesake
    assert len(load_project(project).subjects) == len(BOB_SYNCED)


# -- subjects -----------------------------------------------------------------------------------


def test_subjects_as_a_table(capsys, as_user):
    code, out, err = run(capsys, "subjects", *as_user("alice"), "--responsible", "bob")
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].split() == ["nickname", "lab", "responsible_user", "sex", "birth_date",
                                "alive", "id"]  # fmt: skip
    assert {line.split()[0] for line in lines[2:-2]} == set(seed_data.BOB_NICKNAMES)
    assert lines[-1] == f"{seed_data.BOB_COUNT} subjects"


def test_subjects_with_no_match_prints_no_empty_table(capsys, as_user):
    code, out, err = run(capsys, "subjects", *as_user("alice"), "--lab", seed_data.DEFAULT_LAB)
    assert code == EXIT_OK, err
    assert out == "0 subjects\n"


def test_subjects_as_json_with_address_and_user_from_user_settings(
    tmp_path, capsys, alyx_server, monkeypatch
):
    (tmp_path / "user_settings.py").write_text(
        f"ALYX_PLUGIN_ADDRESS = {alyx_server.base_url + '/'!r}\nALYX_PLUGIN_USERNAME = 'carol'\n"
    )
    monkeypatch.setenv("ALYX_PASSWORD", alyx_server.users["carol"])
    code, out, err = run(capsys, "subjects", "--json")
    assert code == EXIT_OK, err
    subjects = json.loads(out)
    assert sorted(s["nickname"] for s in subjects) == sorted(
        s.nickname for s in seed_data.subjects_of("carol")
    )
    code, out, err = run(capsys, "subjects", "--json", "--alive")
    assert len(json.loads(out)) == seed_data.alive_count("carol")


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
        "ALYX_PASSWORD": alyx_server.users["carol"],
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [str(CLI), "sync", "proj", "--address", alyx_server.base_url, "--username", "carol",
         "--create"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert len(load_project(tmp_path / "proj").subjects) == seed_data.alive_count("carol")
