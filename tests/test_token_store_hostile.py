"""The token store trusts only a private plain file of the user's own (OpenSSH's habits).

A token file that is a link, not a plain file, another user's, or open to others is refused
with the reason and the fix, never used, never changed, and never a traceback; the mode of
a link's target is never touched. Real files, links, FIFOs and owners in temporary folders.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.alyx import AlyxError, TokenStore, token_store
from pybpod_alyx_module.alyx.token_store import MAX_FILE_BYTES, TokenFileError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX owners, modes and FIFOs")

ROOT = "https://alyx.example.org"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
ROOT_USER = os.name == "posix" and os.getuid() == 0

EXAMPLES = settings(
    max_examples=100, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def saved_file(folder: Path, name: str = "tokens.json", token: str = TOKEN) -> Path:
    """A token file as the store writes it (0600 in a 0700 folder)."""
    path = folder / name
    TokenStore(path).save(ROOT, "alice", token)
    return path


@EXAMPLES
@given(file_mode=st.integers(0, 0o777))
def test_a_file_any_other_user_may_read_or_write_is_refused_and_left_unchanged(file_mode):
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o700)
        path = saved_file(Path(folder))
        os.chmod(path, file_mode)
        before = path.read_bytes()
        if file_mode & 0o077:
            with pytest.raises(TokenFileError, match=f"mode {file_mode:04o}") as refused:
                TokenStore(path).get(ROOT, "alice")
            assert "To fix: delete it and log in again" in str(refused.value)
            assert "\n" not in str(refused.value) and TOKEN not in str(refused.value)
            assert mode(path) == file_mode
        else:
            readable = ROOT_USER or file_mode & stat.S_IRUSR
            assert TokenStore(path).get(ROOT, "alice") == (TOKEN if readable else None)
        os.chmod(path, 0o600)
        assert path.read_bytes() == before


@EXAMPLES
@given(
    target_kind=st.sampled_from(
        ["private file", "loose file", "missing", "folder", "other's file"]
    ),
    target_mode=st.sampled_from([0o600, 0o644, 0o666, 0o777]),
    action=st.sampled_from(["get", "save", "forget"]),
)
def test_a_link_is_refused_and_its_target_never_changed(target_kind, target_mode, action):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.chmod(folder, 0o700)
        target = folder / "elsewhere"
        if target_kind == "folder":
            target.mkdir()
        elif target_kind != "missing":
            target.write_text(json.dumps({ROOT: {"alice": "planted"}}))
        if target_kind != "missing":
            os.chmod(target, target_mode if target_kind != "private file" else 0o600)
        if target_kind == "other's file" and ROOT_USER:
            os.chown(target, 12345, 12345)
        before = os.lstat(target) if target.exists() else None
        content = target.read_bytes() if target.is_file() else None
        path = folder / "tokens.json"
        path.symlink_to(target)
        store = TokenStore(path)
        with pytest.raises(TokenFileError, match=f"it is a link \\(to {target}\\)"):
            {"get": lambda: store.get(ROOT, "alice"),
             "save": lambda: store.save(ROOT, "alice", TOKEN),
             "forget": lambda: store.forget(ROOT, "alice")}[action]()  # fmt: skip
        assert path.is_symlink()
        if before is not None:
            after = os.lstat(target)
            assert (after.st_mode, after.st_uid) == (before.st_mode, before.st_uid)
        if content is not None:
            assert target.read_bytes() == content


def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """Between the lstat and the open, the file becomes a link: O_NOFOLLOW refuses it."""
    os.chmod(tmp_path, 0o700)
    path = saved_file(tmp_path)
    good = os.lstat(path)
    planted = saved_file(tmp_path, "planted.json", token="planted")
    path.unlink()
    path.symlink_to(planted)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: good if Path(p) == path else
                        real_lstat(p, *a, **k))  # fmt: skip
    with pytest.raises(TokenFileError, match="it is a link"):
        TokenStore(path).get(ROOT, "alice")


def test_a_folder_reached_through_a_link_is_not_changed(tmp_path):
    """``~/.pybpod_alyx`` may be a link to a folder elsewhere: its target's mode is not ours."""
    real = tmp_path / "real"
    real.mkdir()
    os.chmod(real, 0o755)
    link = tmp_path / "linked"
    link.symlink_to(real)
    TokenStore(link / "tokens.json").save(ROOT, "alice", TOKEN)
    assert TokenStore(link / "tokens.json").get(ROOT, "alice") == TOKEN
    assert mode(real) == 0o755


@pytest.mark.parametrize("how", ["chown", "getuid"])
def test_another_users_file_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch, how):
    os.chmod(tmp_path, 0o700)
    path = saved_file(tmp_path)
    if how == "chown":
        if not ROOT_USER:
            pytest.skip("only root can give a file to another user")
        os.chown(path, 12345, 12345)
    else:
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    with pytest.raises(TokenFileError, match="it belongs to another user") as refused:
        TokenStore(path).get(ROOT, "alice")
    assert isinstance(refused.value, AlyxError)  # the command line and GUI say it in one line
    assert "set ALYX_PLUGIN_TOKEN_FILE to a file of your own" in str(refused.value)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_something_that_is_not_a_plain_file_is_refused_without_hanging(tmp_path, kind):
    path = tmp_path / "tokens.json"
    if kind == "folder":
        path.mkdir(mode=0o700)
    else:
        os.mkfifo(path, 0o600)
    with pytest.raises(TokenFileError, match="it is not a plain file"):
        TokenStore(path).get(ROOT, "alice")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=10,
)  # fmt: skip


@EXAMPLES
@given(data=json_values | st.binary(max_size=40).map(lambda raw: {"raw": raw.hex()}))
def test_any_content_of_a_private_file_costs_a_login_never_a_crash(data):
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o700)
        path = Path(folder) / "tokens.json"
        path.write_text(json.dumps(data))
        os.chmod(path, 0o600)
        found = TokenStore(path).get(ROOT, "alice")
        assert found is None or isinstance(found, str)
        TokenStore(path).save(ROOT, "alice", TOKEN)
        assert TokenStore(path).get(ROOT, "alice") == TOKEN


def test_a_huge_file_is_ignored_and_replaced_at_the_next_save(tmp_path, caplog):
    os.chmod(tmp_path, 0o700)
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({ROOT: {"alice": "x" * MAX_FILE_BYTES}}))
    os.chmod(path, 0o600)
    with caplog.at_level(logging.WARNING):
        assert TokenStore(path).get(ROOT, "alice") is None
    assert "not a token file" in caplog.text
    TokenStore(path).save(ROOT, "alice", TOKEN)
    assert path.stat().st_size < 1000


def test_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(token_store.tempfile, "mkstemp", refuse)
    with pytest.raises(TokenFileError, match=r"Could not save the token in .*Permission denied"):
        TokenStore(tmp_path / "t" / "tokens.json").save(ROOT, "alice", TOKEN)


def test_on_windows_links_and_junctions_are_still_refused(tmp_path, monkeypatch):
    """Windows: no owner or mode check (no os.getuid there), but a reparse point is refused."""
    os.chmod(tmp_path, 0o700)
    path = saved_file(tmp_path)
    os.chmod(path, 0o644)
    monkeypatch.setattr(token_store, "POSIX_MODES", False)
    monkeypatch.delattr(os, "getuid")
    assert TokenStore(path).get(ROOT, "alice") == TOKEN
    junction = types.SimpleNamespace(st_mode=stat.S_IFDIR | 0o777, st_file_attributes=0x400)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: junction if Path(p) == path else
                        real_lstat(p, *a, **k))  # fmt: skip
    with pytest.raises(TokenFileError, match="it is a link"):
        TokenStore(path).get(ROOT, "alice")
