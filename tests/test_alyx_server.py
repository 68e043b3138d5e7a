"""The local Alyx (``scripts/alyxserver``) holds the seed the rest of the suite relies on.

Plain ``requests`` on purpose: these check the server and its seed, not our client.
"""

import pytest
import requests

TIMEOUT = 30


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
