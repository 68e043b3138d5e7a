"""The outbox file as hostile ground: damaged, replaced, linked, read-only, locked, on a full disk.

Whatever is wrong with it, using the outbox gives an ``OutboxError`` naming the file, what
is wrong and the fix — never a traceback, never another exception — and the plugin never
deletes or rewrites a file it cannot read. Real temporary folders throughout.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpod_projects import new_project

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import Outbox, OutboxError
from pybpod_alyx_module.register.options import OUTBOX_FILE_NAME

ROOT_ON_LINUX = sys.platform.startswith("linux") and os.geteuid() == 0


def build_outbox(path: Path, items: int = 40) -> None:
    """An outbox used for a while: items in every state, a notice, the server away."""
    rng = random.Random(20310101)
    with Outbox(path) as box:
        for n in range(items):
            payload = {"kind": "weighing", "subject": {"id": f"s{n % 5}", "nickname": f"M{n}"},
                       "weighing": {"weight": round(rng.uniform(18, 30), 1)}, "note": "x" * 400}  # fmt: skip
            box.add(f"k{n}", f"M{n} weighing", payload)
        for n, item in enumerate(box.claim(20, due_only=False)):
            if n % 3 == 0:
                box.finish(item.id, {"weighing": {"url": f"http://alyx/w/{n}"}})
            elif n % 3 == 1:
                box.postpone(item.id, "502 Bad Gateway", delay=60, server_failure=True)
            else:
                box.needs_attention(item.id, "users: no such user", "create the user")
        box.discard(box.items()[-1].id)
        box.notice("location:rig1", "Create the location rig1")
        box.server_away("connection refused", delay=30)


@functools.lru_cache(maxsize=1)
def template() -> bytes:
    """The bytes of a used outbox (made once; not a fixture, so that a failing example's
    report does not print 30 kB of it)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outbox.sqlite"
        build_outbox(path)
        assert not path.with_name("outbox.sqlite-wal").exists()  # all in the one file
        return path.read_bytes()


def use(path: Path) -> None:
    """Everything the commands and the GUI do with an outbox, in turn."""
    with Outbox(path, busy_timeout=1) as box:
        box.counts()
        box.items()
        box.next_try()
        box.server_state()
        box.state_of("k1")
        box.add("new", "M9 weighing", {"kind": "weighing", "subject": {"id": "s9"}})
        for item in box.claim(50, due_only=False):
            box.finish(item.id, {})
        box.retry()
        box.discard(1)
        box.take_notices()
        box.server_back()


def error_of(path: Path) -> OutboxError | None:
    try:
        use(path)
    except OutboxError as exc:
        return exc
    return None


def check_told(error: OutboxError | None, path: Path) -> None:
    """A clear one-line error naming the file (or no error at all), the file still there."""
    if error is not None:
        message = str(error)
        assert str(path) in message, message
        assert "\n" not in message and "Traceback" not in message
    assert os.path.lexists(path), "the outbox was deleted"


def real_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory()


# -- damaged ---------------------------------------------------------------------------------

flips = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=flips)
def test_bytes_flipped_anywhere_give_an_outbox_error_or_nothing(flips):
    damaged = bytearray(template())
    for offset, xor in flips:
        damaged[offset % len(damaged)] ^= xor
    with real_folder() as folder:
        path = Path(os.path.realpath(folder)) / "outbox.sqlite"
        path.write_bytes(bytes(damaged))
        check_told(error_of(path), path)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(1, 10**6))
def test_an_outbox_cut_short_anywhere_gives_an_outbox_error_or_nothing(cut):
    with real_folder() as folder:
        path = Path(os.path.realpath(folder)) / "outbox.sqlite"
        kept = template()[: cut % len(template())]
        path.write_bytes(kept)
        check_told(error_of(path), path)
        if kept:
            assert path.read_bytes() == kept  # never rewritten


@settings(max_examples=60, deadline=None)
@given(content=st.one_of(st.binary(min_size=1, max_size=9000),
                         st.text(min_size=1, max_size=3000).map(str.encode)))  # fmt: skip
def test_random_files_in_its_place_give_an_outbox_error(content):
    with real_folder() as folder:
        path = Path(os.path.realpath(folder)) / "outbox.sqlite"
        path.write_bytes(content)
        error = error_of(path)
        check_told(error, path)
        assert error is not None and "Move it aside" in str(error)
        assert path.read_bytes() == content  # never rewritten


def test_a_damaged_outbox_is_named_with_the_fix_and_kept(tmp_path):
    path = tmp_path / "outbox.sqlite"
    path.write_text("these are my notes, not a database\n" * 10)
    with pytest.raises(OutboxError) as caught:
        Outbox(path)
    message = str(caught.value)
    assert f"The Alyx outbox {path} is damaged" in message
    assert "Move it aside" in message and "is not lost" in message
    assert path.read_text().startswith("these are my notes")


def test_a_folder_in_its_place_is_refused_untouched(tmp_path):
    path = tmp_path / "outbox.sqlite"
    (path / "inside").mkdir(parents=True)
    with pytest.raises(OutboxError, match="is a folder, not a file"):
        Outbox(path)
    assert [p.name for p in path.iterdir()] == ["inside"]


def test_another_programs_database_is_refused_untouched(tmp_path):
    path = tmp_path / "outbox.sqlite"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.commit()
    other.close()
    before = path.read_bytes()
    with pytest.raises(OutboxError, match="not an Alyx outbox"):
        Outbox(path)
    assert path.read_bytes() == before


def test_an_outbox_of_a_newer_plugin_is_refused_untouched(tmp_path):
    path = tmp_path / "outbox.sqlite"
    Outbox(path).close()
    newer = sqlite3.connect(path)
    newer.execute("PRAGMA user_version = 99")
    newer.close()
    before = path.read_bytes()
    with pytest.raises(OutboxError, match="newer version of the plugin"):
        Outbox(path)
    assert path.read_bytes() == before


def test_the_command_line_says_the_outbox_is_damaged_in_one_line(tmp_path, capsys):
    project = tmp_path / "proj"
    new_project(project)
    (project / OUTBOX_FILE_NAME).write_bytes(os.urandom(5000))
    code = main(["outbox", str(project), "--address", "http://127.0.0.1:9", "--username", "u"])
    _, err = capsys.readouterr()
    assert code == exit_codes.ERROR
    assert err.count("\n") == 1 and "is damaged" in err and "Traceback" not in err


# -- links -------------------------------------------------------------------------------------

PLACES = ["outbox.sqlite", "outbox.sqlite-journal", "outbox.sqlite-wal", "outbox.sqlite-shm",
          "outbox.sqlite.owners"]  # fmt: skip


def link(place: Path, target: Path) -> None:
    try:
        place.symlink_to(target, target_is_directory=place.suffix == ".owners")
    except OSError as exc:  # Windows without the right to make links
        pytest.skip(f"cannot make a symbolic link here: {exc}")


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("target_exists", [True, False])
def test_a_link_in_place_of_the_outbox_or_a_companion_is_refused(tmp_path, place, target_exists):
    folder, outside = tmp_path / "proj", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    target = outside / "target"
    if target_exists:
        if place.endswith(".owners"):
            target.mkdir()
        else:
            build_outbox(target, items=2)
    before = sorted(p.name for p in outside.rglob("*"))
    link(folder / place, target)
    with pytest.raises(OutboxError) as caught:
        use(folder / "outbox.sqlite")
    message = str(caught.value)
    assert f"{folder / place} is a link" in message and "never reached through one" in message
    assert sorted(p.name for p in outside.rglob("*")) == before  # nothing made or changed there


def test_a_file_in_place_of_the_owners_folder_is_a_clear_error_when_sending(tmp_path):
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as box:
        box.add("k1", "item", {})
        (tmp_path / "outbox.sqlite.owners").write_text("not a folder")
        with pytest.raises(OutboxError, match=f"Cannot use the Alyx outbox {path}"):
            box.claim(1)
        assert box.state_of("k1") == "pending"


def test_a_folder_reached_through_a_link_the_user_chose_is_used(tmp_path):
    real = tmp_path / "data" / "proj"
    real.mkdir(parents=True)
    link(tmp_path / "proj", real)
    with Outbox(tmp_path / "proj" / "outbox.sqlite") as box:
        box.add("k1", "item", {})
        assert box.path == real.resolve() / "outbox.sqlite"
    assert (real / "outbox.sqlite").is_file()


# -- permissions, locks, a full disk ---------------------------------------------------------------


def run_without_root_powers(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in Python as the user would: on Linux as root, without root's override
    of file modes (``setpriv``), so that a read-only file is read-only to it."""
    command = [sys.executable, "-c", textwrap.dedent(code), *args]
    if ROOT_ON_LINUX:
        if shutil.which("setpriv") is None:
            pytest.fail("setpriv (util-linux) is needed to test file modes as root")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


LIST_THEN_ADD = """
    import sys
    from pybpod_alyx_module.register import Outbox, OutboxError
    try:
        with Outbox(sys.argv[1], busy_timeout=1) as box:
            print("listed", len(box.items()))
            box.add("another", "M2 weighing", {})
            print("added")
    except OutboxError as exc:
        print(exc)
"""


@pytest.mark.skipif(os.name == "nt", reason="file modes: POSIX")
def test_a_read_only_outbox_is_listed_and_a_write_says_what_to_do(tmp_path):
    path = tmp_path / "outbox.sqlite"
    build_outbox(path, items=3)
    path.chmod(0o444)
    result = run_without_root_powers(LIST_THEN_ADD, str(path))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    listed, error = result.stdout.splitlines()
    assert listed == "listed 3"
    assert f"The Alyx outbox {path} cannot be written: the file is read-only" in error
    assert "Make it writable" in error


@pytest.mark.skipif(os.name == "nt", reason="folder modes: POSIX")
def test_an_outbox_in_a_read_only_folder_says_so(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    build_outbox(folder / "outbox.sqlite", items=3)
    folder.chmod(0o555)
    try:
        result = run_without_root_powers(LIST_THEN_ADD, str(folder / "outbox.sqlite"))
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"its folder {folder} is read-only" in result.stdout


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutboxError, match=f"Cannot use the Alyx outbox {blocker}"):
        Outbox(blocker / "outbox.sqlite")


def test_a_locked_outbox_is_listed_and_a_write_says_who_may_hold_it(tmp_path):
    path = tmp_path / "outbox.sqlite"
    build_outbox(path, items=3)
    with Outbox(path, busy_timeout=0.2) as box:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # e.g. a database browser in the middle of a change
        try:
            with Outbox(path, busy_timeout=0.2) as another:
                assert len(another.items()) == 3  # reading goes on
            with pytest.raises(OutboxError) as caught:
                box.add("another", "item", {})
        finally:
            holder.rollback()
            holder.close()
        assert len(box.items()) == 3
    message = str(caught.value)
    assert f"The Alyx outbox {path} is locked by another program" in message
    assert "stayed locked for 0.2 s" in message and "nothing was lost" in message


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root may mount one)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here (run as root on Linux): {mounted.stderr}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_says_so_and_keeps_what_was_queued(small_disk):
    path = small_disk / "outbox.sqlite"
    with Outbox(path) as box:
        box.add("kept", "kept", {})
        with pytest.raises(OutboxError) as caught:
            for n in range(1000):  # ~2 MB of records: the disk fills on the way
                box.add(f"k{n}", "item", {"note": "x" * 2000})
        message = str(caught.value)
        assert f"The Alyx outbox {path} cannot be written: the disk is full" in message
        assert box.state_of("kept") == "pending"
        assert box.counts()["pending"] == n + 1  # every add before the full disk, none half
