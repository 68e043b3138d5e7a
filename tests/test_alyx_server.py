"""The local Alyx (``scripts/alyxserver``) holds the seed the rest of the suite relies on.

Plain ``requests`` on purpose: these check the server and its seed, not our client. The
last tests check the server script's own choices (its port, its homes: the tests' server
is never the demo's, whose data survives a stop) and the demo's ``--stop``.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from alyxserver import server
from alyxserver.layout import DEMO_HOME, TESTS_HOME, Layout, seed_hash

TIMEOUT = 30
SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def alice_session(alyx_server):
    """A requests session logged in as alice with a token."""
    answer = requests.post(
        alyx_server.url + "/auth-token",
        data={"username": "alice", "password": alyx_server.users["alice"]},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Token {answer.json()['token']}", "Accept": "application/json"}
    )
    yield session
    session.close()


def get(session, alyx_server, path, **params):
    answer = session.get(alyx_server.url + path, params=params, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_seeded_user_can_log_in(alyx_server):
    for username, password in alyx_server.users.items():
        answer = requests.post(
            alyx_server.url + "/auth-token",
            json={"username": username, "password": password},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 200, (username, answer.text)
        assert answer.json()["token"]


def test_server_without_a_token_answers_403(alyx_server):
    answer = requests.get(alyx_server.url + "/subjects", timeout=TIMEOUT)
    assert answer.status_code == 403


def test_alice_alive_subjects_span_more_than_one_page(alice_session, alyx_server, seed):
    page = get(alice_session, alyx_server, "/subjects", responsible_user="alice", alive=True)
    assert page["count"] == seed.ALICE_ALIVE_COUNT > 250
    assert page["next"] is not None


def test_total_subject_count_matches_the_seed(alice_session, alyx_server, seed):
    assert get(alice_session, alyx_server, "/subjects", limit=1)["count"] == seed.TOTAL_SUBJECTS


def test_twins_exist_in_both_labs(alice_session, alyx_server, seed):
    twins = get(alice_session, alyx_server, "/subjects", nickname=seed.TWIN_NICKNAME)["results"]
    assert sorted(s["lab"] for s in twins) == sorted(seed.TWIN_LABS)
    assert len({s["id"] for s in twins}) == 2
    for twin in twins:
        assert twin["responsible_user"] == seed.TWIN_RESPONSIBLE_USERS[twin["lab"]]
        assert twin["lab"] in twin["description"]


def test_dead_subjects_have_a_death_date_and_keep_their_projects(alice_session, alyx_server, seed):
    dead = get(alice_session, alyx_server, "/subjects", alive=False)["results"]
    assert {(s["lab"], s["nickname"]) for s in dead} == {
        (s.lab, s.nickname) for s in seed.DEAD_SUBJECTS
    }
    for subject in dead:
        assert subject["death_date"] == seed.DEATH_DATE
        assert subject["projects"]


def test_non_ascii_nickname_and_description_round_trip(alice_session, alyx_server, seed):
    found = get(alice_session, alyx_server, "/subjects", nickname=seed.NON_ASCII_NICKNAME)
    assert found["count"] == 1
    subject = found["results"][0]
    assert subject["nickname"] == seed.NON_ASCII_NICKNAME
    assert subject["description"] == seed.NON_ASCII_DESCRIPTION
    detail = get(alice_session, alyx_server, f"/subjects/{seed.NON_ASCII_SUBJECT.name}")
    assert detail["id"] == subject["id"]


@pytest.mark.parametrize("nickname", ["..", "dot.mouse"])
def test_odd_nicknames_are_accepted_by_alyx(alice_session, alyx_server, nickname):
    found = get(alice_session, alyx_server, "/subjects", nickname=nickname, lab="cortexlab")
    assert [s["nickname"] for s in found["results"]] == [nickname]


def test_projects_list_their_users(alice_session, alyx_server, seed):
    projects = get(alice_session, alyx_server, "/projects")["results"]
    assert {p["name"]: sorted(p["users"]) for p in projects} == {
        name: sorted(users) for name, users in seed.PROJECTS.items()
    }


def test_first_subject_has_weighings_and_water(alice_session, alyx_server, seed):
    detail = get(alice_session, alyx_server, f"/subjects/{seed.WEIGHED_SUBJECT.name}")
    assert [w["weight"] for w in detail["weighings"]] == [w["weight"] for w in seed.WEIGHINGS]
    assert sorted(w["water_administered"] for w in detail["water_administrations"]) == sorted(
        w["water_administered"] for w in seed.WATER_ADMINISTRATIONS
    )


def test_the_seed_dump_cache_is_keyed_by_the_postgresql_major_version():
    """pg_restore refuses a dump of a newer major version: one cache per major version."""
    assert seed_hash("15") != seed_hash("16")


def test_a_new_start_serves_on_the_port_of_the_last_one_when_it_is_free(tmp_path):
    layout = Layout(tmp_path)
    port = server.free_port()
    server.write_state(layout, {"port": port})
    layout.server_json.unlink()  # as `stop` does; the port is remembered apart
    assert server.port_to_serve(layout) == port


def test_a_new_start_takes_another_port_when_the_last_one_is_taken(tmp_path):
    layout = Layout(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server.write_state(layout, {"port": port})
        assert server.port_to_serve(layout) != port


def test_demo_stop_only_stops_the_server(tmp_path):
    """`scripts/demo --stop` neither starts a server nor touches the demo's folder."""
    home = tmp_path / "alyx-local"
    demo = SCRIPTS_DIR.parent / "demo"
    before = sorted((p, p.stat().st_mtime_ns) for p in demo.rglob("*")) if demo.exists() else None
    result = subprocess.run(
        [sys.executable, str(SCRIPTS_DIR / "demo.py"), "--stop"],
        env=dict(os.environ, ALYX_LOCAL_HOME=str(home)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "[alyxserver] stopped" in result.stderr
    assert not (home / "venv").exists() and not (home / "server.json").exists()
    after = sorted((p, p.stat().st_mtime_ns) for p in demo.rglob("*")) if demo.exists() else None
    assert after == before


# -- the tests' home, the demo's home -------------------------------------------------------
REPO = SCRIPTS_DIR.parent
TESTS_HOME_DEFAULT = 'export ALYX_LOCAL_HOME="${ALYX_LOCAL_HOME:-$PWD/.alyx-test}"'


def test_the_tests_server_lives_in_the_tests_home_not_the_demos(alyx_server):
    layout = Layout()
    assert layout.home == Path(os.environ["ALYX_LOCAL_HOME"]).resolve()
    assert layout.home != DEMO_HOME.resolve()
    assert server.read_state(layout)["base_url"] == alyx_server.base_url


@pytest.mark.parametrize("script", ["scripts/test", ".ci/run"])
def test_ci_and_the_test_command_default_to_the_fixtures_home(script):
    assert TESTS_HOME == REPO / ".alyx-test"
    assert TESTS_HOME_DEFAULT in (REPO / script).read_text()


def test_a_chosen_port_that_is_taken_is_refused_with_what_to_do(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(server.ServerError, match=f"port {port} is in use: choose another"):
            server.port_to_serve(Layout(tmp_path), chosen=port)


@pytest.fixture
def reachable_home():
    """A home PostgreSQL's own user can reach (pytest's tmp_path is private to us)."""
    home = Path(tempfile.mkdtemp(prefix="alyx-home-"))
    home.chmod(0o755)
    yield home
    alyxserver(home, "stop")
    shutil.rmtree(home, ignore_errors=True)


def alyxserver(home: Path, *args: str) -> dict | None:
    """``alyxserver`` on ``home``, with one gunicorn worker (it boots in half the time)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPTS_DIR / "alyxserver"), *args],
        env=dict(os.environ, ALYX_LOCAL_HOME=str(home), ALYX_LOCAL_WORKERS="1"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_a_home_that_keeps_data_keeps_it_across_a_stop_on_the_port_chosen(
    alyx_server, reachable_home, seed
):
    """The demo's case: what a user changed survives ``stop``; ``reset`` forgets it."""
    tests_layout = Layout()
    dump = tests_layout.dump_file(server.read_state(tests_layout)["seed_hash"])
    shutil.copy(dump, reachable_home / dump.name)  # the seed is built once, by the tests' home
    port = server.free_port()
    started = alyxserver(reachable_home, "start", "--keep-data", "--port", str(port))
    assert (started["port"], started["keeps_data"]) == (port, True)
    username, password = seed.ADMIN_USER
    token = requests.post(
        started["url"] + "/auth-token",
        json={"username": username, "password": password},
        timeout=TIMEOUT,
    ).json()["token"]
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    subject = {"nickname": "kept_mouse", "lab": "cortexlab", "responsible_user": username}
    made = requests.post(started["url"] + "/subjects", json=subject, headers=headers, timeout=30)
    assert made.status_code == 201, made.text

    alyxserver(reachable_home, "stop")
    again = alyxserver(reachable_home, "start")  # the home remembers --keep-data
    kept = requests.get(
        again["url"] + "/subjects", params={"nickname": "kept_mouse"}, headers=headers, timeout=30
    )
    assert (again["port"], kept.json()["count"]) == (port, 1)

    alyxserver(reachable_home, "reset")  # what `scripts/demo --fresh` does first
    assert not (reachable_home / "pgdata").exists()
    assert not Layout(reachable_home).database_record.exists()  # the next start restores the seed
