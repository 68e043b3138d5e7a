"""The project folder as hostile ground: links, modes, concurrent syncs, full and read-only
disks, broken files. Real temporary folders (and a real tmpfs where mounting is allowed);
hand-made Alyx records, no server.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_sync_plan import record

from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync
from pybpod_alyx_module.sync import lock as lock_module
from pybpod_alyx_module.sync import save as save_module
from pybpod_alyx_module.sync.disk import check_writable
from pybpod_alyx_module.sync.errors import (
    ProjectBusy,
    ProjectError,
    ProjectNotWritable,
    SaveFailed,
    UnsafeProjectPath,
)
from pybpod_alyx_module.sync.journal import JOURNAL, STAGING, recover_interrupted_sync
from pybpod_alyx_module.sync.lock import LOCK_FILE, project_lock
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.save import REMOVED

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import add_setup, check_loadable, load_project, new_project

Tree = dict[str, bytes]


def tree(folder: Path) -> Tree:
    """Every file's bytes and every folder under ``folder`` (links are not followed)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[relative] = b"<link>" + os.readlink(path).encode()
        elif path.is_dir():
            found[relative] = b"<dir>"
        else:
            found[relative] = path.read_bytes()
    return found


def sync(path: Path, records: list[dict], policy: str = "yes", create: bool = False):
    project = open_project(path, create=create)
    result = apply_plan(project, plan_subjects(project, records, "alice"), OverridePolicy(policy))
    return result, save_sync(project, result)


STARTING = [record("kept"), record("changed"), record("dying_1"), record("dying_2")]
#: The second sync: "changed" rewritten, two subjects leave (both listed by rig1), one added.
SECOND = [
    record("kept"),
    dict(record("changed"), description="changed on Alyx"),
    record("dying_1", dead=True),
    record("dying_2", dead=True),
    record("newcomer"),
]


@pytest.fixture
def project(tmp_path) -> Path:
    """A synced project whose setup rig1 lists two subjects about to die on Alyx."""
    path = tmp_path / "proj"
    sync(path, STARTING, create=True)
    loaded = load_project(path)
    add_setup(loaded, "exp", "rig1", ["dying_1", "dying_2", "kept"])
    loaded.save(str(path))
    return path


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder next to the project that a sync must never touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("not the project's", encoding="utf-8")
    return folder


# -- links: nothing written, moved or deleted outside the project ------------------------------


def _link_folder(project: Path, outside: Path, relative: str) -> None:
    """Replace ``relative`` (a folder, or nothing) by a link to a copy of it outside."""
    place = project / relative
    target = outside / place.name
    if place.exists():
        shutil.move(str(place), str(target))
    else:
        target.mkdir()
    place.symlink_to(target, target_is_directory=True)


def _link_file(project: Path, outside: Path, relative: str) -> None:
    place = project / relative
    target = outside / place.name
    shutil.move(str(place), str(target))
    place.symlink_to(target)


PLANTED = {
    "new subject folder": lambda p, o: _link_folder(p, o, "subjects/newcomer"),
    "updated subject folder": lambda p, o: _link_folder(p, o, "subjects/changed"),
    "updated subject file": lambda p, o: _link_file(p, o, "subjects/changed/changed.json"),
    "removed subjects' folder": lambda p, o: _link_folder(p, o, REMOVED),
    "staging folder": lambda p, o: _link_folder(p, o, STAGING),
    "setup file": lambda p, o: _link_file(p, o, "experiments/exp/setups/rig1/rig1.json"),
    "subjects folder": lambda p, o: _link_folder(p, o, "subjects"),
    "lock file": lambda p, o: (p / LOCK_FILE).symlink_to(o / "x"),
    "journal": lambda p, o: (p / JOURNAL).symlink_to(o / "precious.txt"),
}


@pytest.mark.parametrize("where", PLANTED)
def test_a_link_planted_in_the_project_is_refused_before_any_change(project, outside, where):
    """Planted after the project was read (as while the sync downloads), before the save."""
    loaded = open_project(project)
    result = apply_plan(loaded, plan_subjects(loaded, SECOND, "alice"), OverridePolicy("yes"))
    PLANTED[where](project, outside)
    before, outside_before = tree(project), tree(outside)
    with pytest.raises(UnsafeProjectPath, match=r"link|outside") as refused:
        save_sync(loaded, result)
    assert "Traceback" not in str(refused.value)
    assert tree(project) == before
    assert tree(outside) == outside_before


def test_a_refused_link_is_named_in_the_message(project, outside):
    _link_folder(project, outside, REMOVED)
    with pytest.raises(UnsafeProjectPath) as refused:
        sync(project, SECOND)
    message = str(refused.value)
    assert str(project.resolve() / REMOVED) in message and str(outside) in message
    assert "Nothing was changed" in message


def test_leftovers_are_never_deleted_through_a_linked_subject_folder(project, outside):
    """A link the sync does not touch is left alone, and nothing is deleted through it."""
    (outside / ".bait.json.1234.alyx-tmp").write_text("theirs", encoding="utf-8")
    (outside / "outside.json").write_text('{"setup": "None"}', encoding="utf-8")
    (project / "subjects" / "outside").symlink_to(outside, target_is_directory=True)
    sync(project, [record("kept"), record("another")])
    assert (outside / ".bait.json.1234.alyx-tmp").read_text(encoding="utf-8") == "theirs"
    assert tree(outside)["precious.txt"] == b"not the project's"


def test_a_journal_naming_a_path_outside_the_project_is_refused(project, outside):
    (project / JOURNAL).write_text(
        json.dumps({"folders": [], "moves": [["subjects/kept", "../outside/stolen"]]}),
        encoding="utf-8",
    )
    with pytest.raises(UnsafeProjectPath, match="outside the project"):
        recover_interrupted_sync(project)
    assert (project / "subjects" / "kept").is_dir() and not (outside / "stolen").exists()


# -- file modes ---------------------------------------------------------------------------------


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_new_files_get_the_mode_pybpods_own_save_gives(tmp_path, mask):
    with umask(mask):
        pybpods = new_project(tmp_path / "pybpods")
        subject = pybpods.create_subject()
        subject.name = "by_pybpod"
        pybpods.save(pybpods.path)
        sync(tmp_path / "ours", [record("by_sync")], create=True)
    theirs = tmp_path / "pybpods" / "subjects" / "by_pybpod"
    ours = tmp_path / "ours" / "subjects" / "by_sync"
    assert mode(ours / "by_sync.json") == mode(theirs / "by_pybpod.json") == 0o666 & ~mask
    assert mode(ours) == mode(theirs) == 0o777 & ~mask
    assert mode(tmp_path / "ours" / "ours.json") == 0o666 & ~mask
    assert mode(tmp_path / "ours" / "users" / "alice" / "alice.json") == 0o666 & ~mask


@pytest.mark.parametrize("kept", [0o664, 0o600, 0o644, 0o640])
def test_a_rewritten_file_keeps_its_mode(project, kept):
    subject_file = project / "subjects" / "changed" / "changed.json"
    setup_file = project / "experiments" / "exp" / "setups" / "rig1" / "rig1.json"
    subject_file.chmod(kept)
    setup_file.chmod(kept)
    with umask(0o077):
        sync(project, SECOND)
    assert json.loads(subject_file.read_text(encoding="utf-8"))["description"] == "changed on Alyx"
    assert mode(subject_file) == kept and mode(setup_file) == kept


# -- one sync at a time -------------------------------------------------------------------------

HOLDER = """
import sys, time
from pybpod_alyx_module.sync.lock import project_lock
with project_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held_by_another_process(project):
    """The project's lock, held by another process until the test ends (or kills it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait(timeout=10)


def test_a_second_sync_waits_then_stops_with_a_clear_message(
    project, held_by_another_process, monkeypatch
):
    monkeypatch.setattr(lock_module, "LOCK_TIMEOUT", 0.5)
    before = tree(project)
    with pytest.raises(ProjectBusy, match=r"Another sync of .* is running") as busy:
        sync(project, SECOND)
    assert "waited 0.5 s" in str(busy.value)
    assert tree(project) == before


def test_recovery_never_deletes_what_a_running_sync_staged(project, held_by_another_process):
    (project / STAGING).mkdir()
    (project / STAGING / "theirs").write_text("in progress", encoding="utf-8")
    with pytest.raises(ProjectBusy):
        recover_interrupted_sync(project, timeout=0.3)
    assert (project / STAGING / "theirs").exists()


def test_the_lock_is_released_when_its_holder_is_killed(project, held_by_another_process):
    held_by_another_process.send_signal(signal.SIGKILL)
    held_by_another_process.wait(timeout=10)
    with project_lock(project, timeout=2):
        pass
    result, _ = sync(project, SECOND)
    assert [s.name for s in result.added] == ["newcomer"]


def test_the_lock_is_reentrant_in_one_thread_and_exclusive_between_threads(project):
    outcome = []

    def other_thread():
        try:
            with project_lock(project, timeout=0.3):
                outcome.append("got it")
        except ProjectBusy:
            outcome.append("busy")

    with project_lock(project), project_lock(project):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        sync(project, SECOND)  # save_sync takes it again
    assert outcome == ["busy"]


def test_the_lock_file_exists_only_while_a_sync_runs(project, outside):
    with project_lock(project) as lock_file:
        assert lock_file.exists()
        sync(project, SECOND)
        assert lock_file.exists()  # the inner hold (save_sync's) leaves it to the outer one
    assert not lock_file.exists()
    _link_folder(project, outside, REMOVED)
    with pytest.raises(UnsafeProjectPath):
        sync(project, [record("kept", dead=True)])
    assert not lock_file.exists()  # nor after a failed sync


def busy_elsewhere(project: Path) -> bool:
    """Whether another thread would find the project's lock taken."""
    found = []

    def try_lock():
        try:
            with project_lock(project, timeout=0.2):
                found.append(False)
        except ProjectBusy:
            found.append(True)

    thread = threading.Thread(target=try_lock)
    thread.start()
    thread.join()
    return found == [True]


def test_a_waiter_whose_lock_file_was_deleted_locks_the_new_one(project):
    """The holder deletes the file as it leaves; the waiter must hold the file named so."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.replace("time.sleep(60)", "time.sleep(1)"), str(project)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with project_lock(project, timeout=10) as lock_file:
        assert holder.wait(timeout=10) == 0
        assert lock_file.exists() and busy_elsewhere(project)
    assert not lock_file.exists() and not busy_elsewhere(project)


def test_the_lock_of_a_new_project_leaves_no_folder_when_nothing_was_saved(tmp_path):
    folder = tmp_path / "new" / "proj"
    with project_lock(folder):
        assert (folder / LOCK_FILE).exists()
    assert not (tmp_path / "new").exists()
    with project_lock(folder, create=False) as held:
        assert held is None and not folder.exists()


# -- full and read-only disks ------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root may mount one); else a folder whose 4th staged write fails ENOSPC."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    yield mount, mounted.returncode == 0
    if mounted.returncode == 0:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(folder: Path) -> None:
    try:
        with open(folder / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def test_a_full_disk_while_staging_removes_what_was_staged_and_says_so(small_disk, monkeypatch):
    mount, real = small_disk
    project = mount / "proj"
    sync(project, [record("first")], create=True)
    if real:
        _fill(mount)
        os.truncate(mount / "filler", (mount / "filler").stat().st_size - 40_000)
    else:
        written, real_write, one_at_a_time = [], save_module._write, threading.Lock()

        def write(file):
            with one_at_a_time:  # the staging threads: the 4th write fails, whichever it is
                if len(written) == 3:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), file[0])
                written.append(file[0])
            real_write(file)

        monkeypatch.setattr(save_module, "_write", write)
    before = tree(project)
    many = [record(f"m{n:03}", description="x" * 3000) for n in range(60)]
    with pytest.raises(SaveFailed) as failed:
        sync(project, [record("first"), *many])
    message = str(failed.value)
    assert "No space left on device" in message and "The project was not changed" in message
    assert "what this sync had written so far was removed" in message
    assert tree(project) == before
    check_loadable(project)


def test_check_writable_says_the_disk_is_full(small_disk):
    mount, real = small_disk
    assert real, "this machine does not allow mounting a tmpfs: run the suite as root"
    _fill(mount)
    with pytest.raises(ProjectNotWritable, match="the disk is full"):
        check_writable(mount)
    assert sorted(p.name for p in mount.iterdir()) == ["filler"]


def test_check_writable_says_the_folder_is_read_only(small_disk):
    mount, real = small_disk
    assert real, "this machine does not allow mounting a tmpfs: run the suite as root"
    project = mount / "proj"
    sync(project, [record("first")], create=True)
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    with pytest.raises(ProjectNotWritable, match="read-only"):
        check_writable(project)
    with pytest.raises(ProjectError, match="Read-only file system"):
        sync(project, [record("first"), record("second")])


def test_check_writable_leaves_nothing_behind(tmp_path):
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- what is written, and flushed ----------------------------------------------------------------


def test_a_setup_listing_several_removed_subjects_is_staged_once(project, monkeypatch):
    staged = []
    real_write = save_module._write

    def write(file):
        staged.append(file[1])
        real_write(file)

    monkeypatch.setattr(save_module, "_write", write)
    result, written = sync(project, SECOND)
    setup_file = project.resolve() / "experiments" / "exp" / "setups" / "rig1" / "rig1.json"
    assert sorted(s.name for s in result.removed) == ["dying_1", "dying_2"]
    setup_documents = [data for data in staged if "subjects" in data]  # only a setup lists some
    assert len(setup_documents) == 1
    assert written.count(setup_file) == 1
    assert json.loads(setup_file.read_text(encoding="utf-8"))["subjects"] == ["kept"]


def test_nothing_changed_writes_and_flushes_nothing(project, monkeypatch):
    sync(project, SECOND)
    calls = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    monkeypatch.setattr(os, "sync", lambda: calls.append("sync"), raising=False)
    before = tree(project)
    result, written = sync(project, SECOND)
    assert not result.changes_anything and written == [] and calls == []
    assert tree(project) == before


def test_a_save_flushes_only_its_own_files_and_folders_never_the_whole_system(project, monkeypatch):
    flushed, real_fsync = [], os.fsync

    def fsync(fd):
        flushed.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def system_wide():
        raise AssertionError("os.sync() flushes every disk of the rig")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", system_wide, raising=False)
    sync(project, SECOND)
    root = project.resolve()
    assert flushed and all(root in path.parents or path == root for path in flushed)
    assert root / "subjects" / "changed" in flushed  # the renamed file's folder


# -- a broken project file is named ---------------------------------------------------------------


BROKEN = {
    "cut short": ("subjects/kept/kept.json", lambda p: p.write_text('{"name": "ke', "utf-8"),
                  "subjects/kept/kept.json is not valid JSON"),
    "empty": ("proj.json", lambda p: p.write_bytes(b""), "proj.json is empty"),
    "missing": ("subjects/kept/kept.json", lambda p: p.unlink(),
                "subjects/kept/kept.json is missing"),
    "a list": ("users/alice/alice.json", lambda p: p.write_text('["x"]', "utf-8"),
               "users/alice/alice.json holds a JSON list"),
    "binary": ("experiments/exp/setups/rig1/rig1.json", lambda p: p.write_bytes(b"\xff\xfe{"),
               "experiments/exp/setups/rig1/rig1.json is not UTF-8"),
}  # fmt: skip


@pytest.mark.parametrize("how", BROKEN)
def test_a_broken_project_file_is_named_with_what_is_wrong(project, how):
    relative, damage, expected = BROKEN[how]
    damage(project / relative)
    with pytest.raises(ProjectError) as broken:
        open_project(project)
    assert expected in str(broken.value)
    assert "File not found" not in str(broken.value)


def test_a_recovery_that_cannot_complete_says_why_without_a_traceback(project):
    """A folder appeared where the interrupted sync moves a new subject's folder."""
    staged = project / STAGING / "subjects" / "late"
    staged.mkdir(parents=True)
    (staged / "late.json").write_text("{}", encoding="utf-8")
    (project / "subjects" / "late").mkdir()
    (project / "subjects" / "late" / "other.txt").write_text("someone's", encoding="utf-8")
    (project / JOURNAL).write_text(
        json.dumps({"folders": [], "moves": [[f"{STAGING}/subjects/late", "subjects/late"]]}),
        encoding="utf-8",
    )
    with pytest.raises(ProjectError, match=r"Completing a sync interrupted in .* failed"):
        recover_interrupted_sync(project)
    assert (project / JOURNAL).exists() and (project / "subjects" / "late" / "other.txt").exists()
