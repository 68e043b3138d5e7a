"""The Alyx client against a real alyx-local server (started by the ``alyx_server`` fixture)."""

import pytest
import requests

from pybpod_alyx_module.alyx import (
    AlyxClient,
    BadCredentialsError,
    InvalidTokenError,
    NotFoundError,
    NotLoggedInError,
    RequestRejectedError,
    TokenStore,
)


@pytest.fixture
def alice(alyx_server):
    """A client logged in as alice, the responsible user of most seeded subjects."""
    client = AlyxClient(alyx_server.url, username="alice", password=alyx_server.users["alice"])
    client.login()
    yield client
    client.close()


def test_login_returns_a_token_and_finds_the_api_root(alyx_server):
    client = AlyxClient(alyx_server.url, username="bob", password=alyx_server.users["bob"])
    assert client.login()
    assert client.api_root == alyx_server.url


@pytest.mark.parametrize("suffix", ["", "/"])
def test_the_host_address_finds_alyx_local_api_root(alyx_server, suffix):
    """Users type the host as in the 1.x README (often with a trailing slash)."""
    client = AlyxClient(alyx_server.base_url + suffix, "alice", alyx_server.users["alice"])
    client.login()
    assert client.api_root == alyx_server.url


def test_wrong_password_is_a_bad_credentials_error_without_the_password(alyx_server):
    client = AlyxClient(alyx_server.url, username="alice", password="not-her-password-42")
    with pytest.raises(BadCredentialsError) as raised:
        client.login()
    message = str(raised.value)
    assert "alice" in message and alyx_server.url in message
    assert "not-her-password-42" not in message
    assert raised.value.status == 400


def test_list_follows_every_page(alice, seed):
    nicknames = [s["nickname"] for s in alice.subjects(responsible_user="alice", alive=True)]
    assert len(nicknames) == seed.ALICE_ALIVE_COUNT > 250
    assert len(set(nicknames)) == len(nicknames)


def test_small_pages_give_the_same_subjects(alice):
    default = [s["id"] for s in alice.subjects(responsible_user="bob")]
    paged = [s["id"] for s in alice.subjects(responsible_user="bob", limit=2)]
    assert sorted(paged) == sorted(default) and len(default) > 2


def test_filters_by_lab_and_alive(alice):
    hofer = list(alice.subjects(lab="hoferlab"))
    assert hofer and {s["lab"] for s in hofer} == {"hoferlab"}
    dead = list(alice.subjects(responsible_user="alice", alive=False))
    assert {s["nickname"] for s in dead} == {"dead_mouse_1", "dead_mouse_2"}
    assert all(s["death_date"] for s in dead)


def test_twin_nicknames_are_two_subjects_told_apart_by_id(alice):
    twins = list(alice.subjects(nickname="twin_mouse"))
    assert sorted(t["lab"] for t in twins) == ["cortexlab", "hoferlab"]
    assert twins[0]["id"] != twins[1]["id"]
    for twin in twins:
        detail = alice.subject(twin["id"])
        assert detail["id"] == twin["id"]
        assert detail["lab"] == twin["lab"]


def test_subject_detail_by_id_has_weighings_and_water(alice):
    listed = next(alice.subjects(nickname="SW_001"))
    detail = alice.subject(listed["id"])
    assert detail["nickname"] == "SW_001"
    assert detail["weighings"] and detail["water_administrations"]


def test_non_ascii_nickname_and_apostrophes_round_trip(alice):
    (souris,) = alice.subjects(nickname="souris_é")
    assert souris["nickname"] == "souris_é"
    assert "L'animal préféré" in souris["description"]


def test_unknown_subject_id_is_not_found(alice):
    with pytest.raises(NotFoundError):
        alice.subject("00000000-0000-4000-8000-000000000000")


def test_users_and_projects(alice):
    usernames = {u["username"] for u in alice.users()}
    assert {"alice", "bob", "carol"} <= usernames
    projects = {p["name"]: p for p in alice.projects()}
    assert {"ibl_behaviour", "hofer_vision"} <= set(projects)


def test_a_token_is_reused_without_a_password(alyx_server, alice):
    reused = AlyxClient(alyx_server.base_url, username="alice", token=alice.token)
    assert next(reused.subjects(nickname="SW_002"))["nickname"] == "SW_002"


def test_a_saved_token_logs_in_without_a_password(alyx_server, tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    AlyxClient(alyx_server.url, "carol", alyx_server.users["carol"], token_store=store).login()
    later = AlyxClient(alyx_server.url, username="carol", token_store=store)
    assert list(later.subjects(responsible_user="carol"))
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_an_invalid_token_without_password_asks_to_log_in_again(alyx_server):
    client = AlyxClient(alyx_server.url, username="alice", token="0" * 40)
    with pytest.raises(InvalidTokenError) as raised:
        client.get("subjects", limit=1)
    assert raised.value.status == 403


def test_an_invalid_token_with_password_logs_in_again(alyx_server):
    client = AlyxClient(alyx_server.url, "alice", alyx_server.users["alice"], token="0" * 40)
    assert client.get("subjects", limit=1)["count"] > 0
    assert client.token != "0" * 40


def test_without_token_or_password_no_credential_and_no_request_for_data_is_sent(
    alyx_server, monkeypatch
):
    """Only the credential-free probe that finds the API root goes out: no login, no
    Authorization header, no request for the subjects."""
    sent: list[requests.PreparedRequest] = []
    real = requests.Session.send

    def spy(self, request, **kwargs):
        sent.append(request)
        return real(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    with pytest.raises(NotLoggedInError):
        AlyxClient(alyx_server.url, username="alice").get("subjects")
    assert [(r.method, r.url) for r in sent] == [("GET", f"{alyx_server.url}/auth-token")]
    assert "Authorization" not in sent[0].headers and not sent[0].body


def test_a_rejected_write_names_the_field(alice):
    with pytest.raises(RequestRejectedError) as raised:
        alice.post("subjects", {"nickname": "bad nickname with spaces", "lab": "cortexlab"})
    assert raised.value.status == 400 and "nickname" in str(raised.value)


def test_pages_fetched_in_parallel_keep_the_server_order(alyx_server, alice):
    """Pages after the first are fetched several at a time, yet come out in order."""
    one_by_one = AlyxClient(alyx_server.url, token=alice.token, page_workers=1)
    expected = [s["id"] for s in one_by_one.subjects(responsible_user="alice", limit=50)]
    progress = []
    parallel = [
        s["id"]
        for s in alice.subjects(
            responsible_user="alice", limit=50, progress=lambda done, total: progress.append(done)
        )
    ]
    assert parallel == expected
    assert progress == sorted(progress) and progress[-1] == len(expected)
