"""The token file: private to its owner, replaced atomically, tolerant of damage, no passwords."""

from __future__ import annotations

import logging
import os
import stat

import pytest
import requests

from pybpod_alyx_module.alyx import AlyxClient, TokenStore

ROOT = "https://alyx.example.org"
OTHER_ROOT = "http://localhost:8000/api"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
PASSWORD = "correct-horse-battery-staple"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def path(tmp_path):
    """The token file in a folder that does not exist yet, as on a fresh rig."""
    return tmp_path / "pybpod_alyx" / "tokens.json"


def test_save_creates_the_file_0600_in_a_0700_folder(path):
    """A token is as good as a password: nobody else on the rig PC may read it."""
    TokenStore(path).save(ROOT, "alice", TOKEN)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_saved_tokens_are_kept_per_root_and_user(path):
    """Two servers, two users: each token comes back where it was saved, and only there."""
    store = TokenStore(path)
    store.save(ROOT, "alice", "token-a")
    store.save(ROOT, "bob", "token-b")
    store.save(OTHER_ROOT, "alice", "token-c")
    store.save(ROOT, "alice", "token-a2")
    again = TokenStore(path)
    assert again.get(ROOT, "alice") == "token-a2"
    assert again.get(ROOT, "bob") == "token-b"
    assert again.get(OTHER_ROOT, "alice") == "token-c"
    assert again.get(OTHER_ROOT, "bob") is None


def test_get_without_a_file_returns_none_and_creates_nothing(path):
    """Reading is not writing: a first run must not leave an empty file behind."""
    assert TokenStore(path).get(ROOT, "alice") is None
    assert not path.parent.exists()


def test_loosened_file_is_tightened_on_read_with_a_warning(path, caplog):
    """A file someone made readable by all (0644) is put back to 0600 the next time it is read."""
    store = TokenStore(path)
    store.save(ROOT, "alice", TOKEN)
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING):
        assert store.get(ROOT, "alice") == TOKEN
    assert mode(path) == 0o600
    assert "readable by others" in caplog.text
    assert TOKEN not in caplog.text


def test_forget_removes_only_that_token(path):
    """Logging out one user on one server leaves the others logged in."""
    store = TokenStore(path)
    store.save(ROOT, "alice", "token-a")
    store.save(ROOT, "bob", "token-b")
    store.save(OTHER_ROOT, "alice", "token-c")
    assert store.forget(ROOT, "alice") is True
    assert store.forget(ROOT, "alice") is False
    assert store.get(ROOT, "alice") is None
    assert store.get(ROOT, "bob") == "token-b"
    assert store.get(OTHER_ROOT, "alice") == "token-c"
    assert "token-a" not in path.read_text()


def test_forget_the_last_token_of_a_root_removes_the_root(path):
    """No empty server entries pile up in the file."""
    store = TokenStore(path)
    store.save(ROOT, "alice", TOKEN)
    store.forget(ROOT, "alice")
    assert ROOT not in path.read_text()


def test_forget_without_a_file_is_false_and_creates_nothing(path):
    assert TokenStore(path).forget(ROOT, "alice") is False
    assert not path.exists()


@pytest.mark.parametrize("damage", [b"{not json", b"", b'{"https://a": {"alice": "to', b"\xff\xfe"])
def test_corrupt_file_is_ignored_with_a_warning_and_replaced_on_save(path, caplog, damage):
    """A half-written or hand-edited file costs a login, never a crash."""
    path.parent.mkdir(mode=0o700)
    path.write_bytes(damage)
    os.chmod(path, 0o600)
    store = TokenStore(path)
    with caplog.at_level(logging.WARNING):
        assert store.get(ROOT, "alice") is None
    assert "not valid JSON" in caplog.text
    store.save(ROOT, "alice", TOKEN)
    assert TokenStore(path).get(ROOT, "alice") == TOKEN


def test_save_never_leaves_a_temp_file_behind(path):
    """The file is replaced atomically: only ``tokens.json`` is ever left in the folder."""
    store = TokenStore(path)
    for n in range(5):
        store.save(ROOT, f"user{n}", TOKEN)
    store.forget(ROOT, "user0")
    assert os.listdir(path.parent) == ["tokens.json"]


def test_failed_save_keeps_the_old_file_and_removes_the_temp_file(path, monkeypatch):
    """A crash while saving (disk full, …) leaves the previous tokens intact and no debris."""
    store = TokenStore(path)
    store.save(ROOT, "alice", "old-token")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.save(ROOT, "alice", "new-token")
    monkeypatch.undo()
    assert os.listdir(path.parent) == ["tokens.json"]
    assert store.get(ROOT, "alice") == "old-token"


def test_login_saves_the_token_and_never_the_password(path):
    """After a real login through the client, the file's bytes hold the token, not the password."""
    store = TokenStore(path)
    client = AlyxClient(ROOT, username="alice", password=PASSWORD, token_store=store)
    client.session.request = _fake_alyx
    assert client.login() == TOKEN
    data = path.read_bytes()
    assert TOKEN.encode() in data
    assert PASSWORD.encode() not in data
    assert store.get(ROOT, "alice") == TOKEN
    assert os.listdir(path.parent) == ["tokens.json"]


def _fake_alyx(method, url, **kwargs) -> requests.Response:
    """An Alyx at the host root, without a network: 405 on GET auth-token, a token on POST."""
    response = requests.Response()
    response.url = url
    response.request = requests.Request(method, url).prepare()
    response.headers["Content-Type"] = "application/json"
    if url == f"{ROOT}/auth-token" and method == "POST":
        assert kwargs["data"] == {"username": "alice", "password": PASSWORD}
        response.status_code, response._content = 200, b'{"token": "%s"}' % TOKEN.encode()
    elif url == f"{ROOT}/auth-token":
        response.status_code, response._content = 405, b'{"detail": "Method not allowed."}'
    else:
        response.status_code, response._content = 404, b'{"detail": "Not found."}'
    return response
