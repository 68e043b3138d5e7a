"""The order of a save's flushes and renames: what makes it all or nothing after a power cut,
and what keeps it near the disk's own time.

Recorded in-process (no server: the records are made here): every ``os.fsync`` (the file
or folder it flushes named by ``/proc/self/fd``), every ``os.replace``, and the moments
the journal is written and removed.

- each staged file, and the folder that holds it, is flushed before the journal names it
  (a power cut after the journal must not lose a file the journal moves);
- each folder a move changed is flushed before the journal goes;
- a rewritten document is renamed within its own folder: a rename between two folders
  takes the file system's one rename lock (Linux: ``s_vfs_rename_mutex``), so thousands of
  them are made one at a time (measured: 3x the disk's floor at 10,000 subjects).
"""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path

import pytest

import pybpod_alyx_module.sync.journal as journal
import pybpod_alyx_module.sync.save as save
from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync
from pybpod_alyx_module.sync.project_files import open_project

SUBJECTS = 40


def records(weeks: int) -> list[dict]:
    """``SUBJECTS`` Alyx subjects of user ``bench``, ``weeks`` old (seeded ids and names)."""
    rng = random.Random(18)
    return [
        {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "nickname": f"S{rng.randrange(10**6):06d}_{i}",
            "url": "http://x/subjects/a",
            "responsible_user": "bench",
            "lab": "benchlab",
            "alive": True,
            "age_weeks": weeks,
            "sex": "M",
            "birth_date": "2026-01-01",
            "projects": ["bench_project"],
        }
        for i in range(SUBJECTS)
    ]


def sync(folder: Path, weeks: int) -> list[Path]:
    project = open_project(folder, create=True)
    plan = plan_subjects(project, records(weeks), username="bench")
    return save_sync(project, apply_plan(project, plan, OverridePolicy("yes")))


@pytest.fixture
def events(monkeypatch) -> list[tuple]:
    """What the save does, in order: ("flush", path), ("move", source, target), ("journal",)
    when the journal is written, ("done",) when it is removed."""
    seen: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace
    real_write, real_remove = save.write_journal, journal._remove_staging

    def fsync(fd):
        seen.append(("flush", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source, target):
        if journal.JOURNAL not in os.fspath(target):
            seen.append(("move", os.fspath(source), os.fspath(target)))
        real_replace(source, target)

    def write_journal(*args):
        real_write(*args)
        seen.append(("journal",))

    def remove_staging(folder):
        seen.append(("done",))  # after the journal was unlinked
        return real_remove(folder)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(save, "write_journal", write_journal)
    monkeypatch.setattr(journal, "_remove_staging", remove_staging)
    return seen


def before(seen: list[tuple], marker: tuple) -> list[tuple]:
    return seen[: seen.index(marker)]


@pytest.mark.skipif(
    os.name != "posix", reason="folders are flushed on POSIX only (NTFS: not needed)"
)
@pytest.mark.parametrize("first", [True, False], ids=["new-subjects", "every-subject-changed"])
def test_every_staged_file_and_moved_folder_is_flushed_in_order(tmp_path, events, first):
    folder = tmp_path / "bench_project"
    if not first:
        sync(folder, weeks=3)
        events.clear()
    written = sync(folder, weeks=4)
    assert len(written) >= SUBJECTS
    journal_at, done_at = events.index(("journal",)), events.index(("done",))
    moves = [event[1:] for event in events if event[0] == "move"]
    assert len(moves) == len(written)
    assert all(event[0] != "move" for event in events[:journal_at])

    flushed_first = {event[1] for event in events[:journal_at] if event[0] == "flush"}
    flushed_then = {event[1] for event in events[journal_at:done_at] if event[0] == "flush"}
    for source, target in moves:
        staged = [source, os.path.dirname(source)]  # the file (or new folder) and its folder
        if os.path.isdir(target):  # a new folder: its files too
            staged += [os.path.join(source, name) for name in os.listdir(target)]
        for path in staged:
            assert path in flushed_first, f"{path} not flushed before the journal"
        assert os.path.dirname(target) in flushed_then, f"{target}'s folder not flushed"


def test_a_rewritten_document_is_renamed_within_its_own_folder(tmp_path, events):
    folder = tmp_path / "bench_project"
    sync(folder, weeks=3)
    events.clear()
    sync(folder, weeks=4)
    moves = [event[1:] for event in events if event[0] == "move"]
    assert len(moves) == SUBJECTS
    for source, target in moves:
        assert os.path.dirname(source) == os.path.dirname(target)
        assert os.path.basename(source).startswith(f".{os.path.basename(target)}.")
