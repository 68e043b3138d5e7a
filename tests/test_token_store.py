"""The token file: private to its owner, replaced atomically, tolerant of damage, no passwords."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from pybpod_alyx_module.alyx import AlyxClient, TokenStore, token_store
from pybpod_alyx_module.alyx.token_store import TokenFileError

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


def test_a_file_open_to_others_is_refused_and_left_as_it_is(path, caplog):
    """A file someone made readable by all (0644) is refused, as OpenSSH refuses such a key:
    its token may be known. The reason and the fix are said; the file is not changed."""
    store = TokenStore(path)
    store.save(ROOT, "alice", TOKEN)
    os.chmod(path, 0o644)
    with pytest.raises(TokenFileError, match=r"other users may read or write it \(mode 0644\)"):
        store.get(ROOT, "alice")
    with pytest.raises(TokenFileError, match="chmod 600"):
        store.save(ROOT, "alice", "another-token")
    assert mode(path) == 0o644
    assert TOKEN in path.read_text() and "another-token" not in path.read_text()


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
    """A failure while saving (disk full, …) is one clear error; the previous tokens stay
    intact and no debris is left."""
    store = TokenStore(path)
    store.save(ROOT, "alice", "old-token")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(TokenFileError, match=r"Could not save the token in .*No space left"):
        store.save(ROOT, "alice", "new-token")
    monkeypatch.undo()
    assert os.listdir(path.parent) == ["tokens.json"]
    assert store.get(ROOT, "alice") == "old-token"


def test_a_real_login_saves_the_token_and_never_the_password(path, alyx_server):
    """After a real login against the real Alyx, the file's bytes hold the token, not the
    password, under the API root the client found."""
    password = alyx_server.users["alice"]
    store = TokenStore(path)
    with AlyxClient(alyx_server.base_url, "alice", password, token_store=store) as client:
        token = client.login()
    data = path.read_bytes()
    assert token and token.encode() in data
    assert password.encode() not in data
    assert store.get(alyx_server.url, "alice") == token
    assert os.listdir(path.parent) == ["tokens.json"]


@pytest.mark.parametrize("loosened", [0o755, 0o777, 0o750])
def test_a_folder_that_pre_exists_open_to_others_becomes_private_on_save(path, loosened):
    """~/.pybpod_alyx made by hand (or by 1.x) with 0755 is brought to 0700 by the next save."""
    path.parent.mkdir()
    os.chmod(path.parent, loosened)
    TokenStore(path).save(ROOT, "alice", TOKEN)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_a_folder_loosened_later_becomes_private_again_on_read(path, caplog):
    """Someone loosens the folder after the token was saved: the next read restricts it."""
    TokenStore(path).save(ROOT, "alice", TOKEN)
    os.chmod(path.parent, 0o755)
    with caplog.at_level(logging.WARNING):
        assert TokenStore(path).get(ROOT, "alice") == TOKEN
    assert mode(path.parent) == 0o700
    assert "0700" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("case", ["sticky", "home", "not-mine"])
def test_a_shared_or_foreign_folder_is_reported_not_changed(path, caplog, monkeypatch, case):
    """A token file configured in /tmp-like, home or someone else's folder: the folder is
    not chmod-ed (that would break others' use of it); the user is told instead."""
    path.parent.mkdir()
    loose = 0o1777 if case == "sticky" else 0o755
    os.chmod(path.parent, loose)
    if case == "home":
        monkeypatch.setenv("HOME", str(path.parent))
    if case == "not-mine":
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    with caplog.at_level(logging.WARNING):
        TokenStore(path).save(ROOT, "alice", TOKEN)
    assert mode(path.parent) == loose
    assert mode(path) == 0o600
    assert "ALYX_PLUGIN_TOKEN_FILE" in caplog.text


def test_on_windows_no_posix_mode_is_set(path, monkeypatch):
    """Windows: the profile's ACLs keep the file private; chmod would only toggle read-only,
    so the store saves and reads without calling it (and without warning every read)."""
    path.parent.mkdir()
    os.chmod(path.parent, 0o755)
    TokenStore(path).save(ROOT, "alice", "old-token")
    os.chmod(path, 0o644)
    chmods = []
    monkeypatch.setattr(token_store, "POSIX_MODES", False)
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: chmods.append(args))
    monkeypatch.setattr(os, "fchmod", lambda *args, **kwargs: chmods.append(args))
    store = TokenStore(path)
    assert store.get(ROOT, "alice") == "old-token"
    store.save(ROOT, "alice", TOKEN)
    assert store.get(ROOT, "alice") == TOKEN
    assert chmods == []
