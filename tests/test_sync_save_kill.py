"""``pybpod-alyx sync`` killed (SIGKILL) while it saves: the next run sees the project as
before the sync or as after it, and completes it.

The command prints ``Saving…`` right before it writes and its summary table right after.
Each run kills it after a delay drawn from a generator seeded by the run's name, within
the save's duration; a run whose kill came after the save had ended (the summary was
printed, or the process had exited) is not accepted: it is retried with half the delay.
Then ``pybpod-alyx sync --dry-run`` (which recovers an interrupted sync before anything
else) must leave the project all before or all after, and a real sync completes it.
``test_sync_save_atomic.py`` kills at exact points of the save, byte for byte.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import (
    add_local_subject,
    add_setup,
    check_loadable,
    new_project,
    setup_subject_names,
    subject_json,
)

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    OverridePolicy,
    SubjectSelection,
    apply_plan,
    download_subjects,
    plan_subjects,
    save_sync,
)
from pybpod_alyx_module.sync.errors import InterruptedSync, SaveFailed
from pybpod_alyx_module.sync.journal import recover_interrupted_sync
from pybpod_alyx_module.sync.project_files import open_project

CLI = Path(sys.executable).with_name("pybpod-alyx")
SAVING = "Saving…"


@pytest.fixture(scope="module")
def run_cli(alyx_server, tmp_path_factory):
    """``run_cli(*args)``: the command as alice, with a private HOME (token file)."""
    home = tmp_path_factory.mktemp("home")
    env = dict(
        os.environ,
        HOME=str(home),
        ALYX_PASSWORD=alyx_server.users["alice"],
        PYTHONIOENCODING="utf-8",
    )
    base = [str(CLI), "sync", "--address", alyx_server.base_url, "--username", "alice"]

    def start(project: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*base, str(project), *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    return start


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out.decode("utf-8"), err.decode("utf-8")


def kill_while_saving(process: subprocess.Popen, delay: float) -> bool:
    """Kill ``delay`` s after ``Saving…``; True if the kill landed inside the save."""
    for raw in process.stdout:
        if raw.decode("utf-8").strip() == SAVING:
            break
    else:
        pytest.fail(f"no {SAVING!r} line: {finish(process)}")
    time.sleep(delay)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    after_saving = process.stdout.read().decode("utf-8")
    process.stdout.close()
    process.stderr.close()
    return running and process.returncode == -signal.SIGKILL and "result" not in after_saving


@pytest.fixture(scope="module")
def templates(run_cli, tmp_path_factory, seed):
    """Two starting points: a project with a local subject in a setup and no Alyx subject
    (the sync adds 262), and the same after a sync whose Alyx details were all edited
    locally (the sync, with --override yes, rewrites 262 files in place)."""
    root = tmp_path_factory.mktemp("templates")
    fresh = root / "fresh" / "proj"
    project = new_project(fresh)
    add_local_subject(project, "lab_pet")
    add_setup(project, "exp", "rig1", ["lab_pet"])
    project.save(str(fresh))
    stale = root / "stale" / "proj"
    shutil.copytree(fresh, stale)
    code, _out, err = finish(run_cli(stale))
    assert code == 0, err
    for document in (stale / "subjects").glob("*/*.json"):
        data = json.loads(document.read_text(encoding="utf-8"))
        if "alyx_id" in data:
            data["description"] = "edited locally"
            document.write_text(json.dumps(data, indent=4, sort_keys=True), encoding="utf-8")
    return {"fresh": fresh, "stale": stale}


#: (template, seed name): the delay of each run is drawn from ``random.Random(name)``.
RUNS = [("fresh", "cli-1"), ("stale", "cli-2"), ("fresh", "cli-3"), ("stale", "cli-4"),
        ("fresh", "cli-5"), ("stale", "cli-6")]  # fmt: skip
#: An upper bound of the save's duration (262 subjects; ~0.7 s here): delays are drawn below it.
SAVE_SECONDS = 0.8


@pytest.mark.parametrize(("start", "name"), RUNS, ids=[name for _, name in RUNS])
def test_a_sync_killed_while_saving_is_seen_before_or_after_and_a_resync_completes(
    run_cli, templates, tmp_path, seed, start, name
):
    extra = ("--override", "yes") if start == "stale" else ()
    delay = random.Random(name).uniform(0.0, SAVE_SECONDS)
    for attempt in range(6):
        project = tmp_path / f"attempt-{attempt}" / "proj"
        shutil.copytree(templates[start], project)
        if kill_while_saving(run_cli(project, *extra), delay):
            break
        delay /= 2
    else:
        pytest.fail(f"{name}: every kill came after the save had ended")

    code, out, err = finish(run_cli(project, "--dry-run", *extra))  # recovers first
    assert code in (0, 5, 6), err  # done, maybe with subjects left out or skipped
    loaded = check_loadable(project)
    alive = {s.nickname for s in seed.subjects_of("alice") if s.alive}
    names = {s.name for s in loaded.subjects}
    descriptions = {s.data["description"] for s in loaded.subjects if s.data.get("alyx_id")}
    if start == "fresh":
        assert names in ({"lab_pet"}, alive | {"lab_pet"}), f"in between after +{delay:.3f}s"
    else:
        assert names == alive | {"lab_pet"}
        edited = {"edited locally"}
        assert descriptions == edited or "edited locally" not in descriptions, (
            f"in between after +{delay:.3f}s: {len(descriptions)} distinct descriptions"
        )
    print(f"{name}: killed at +{delay:.3f}s; {len(names)} subjects after recovery; {out[:80]!r}")
    assert (
        not (project / ".alyx-staging").exists() and not (project / ".alyx-journal.json").exists()
    )
    assert setup_subject_names(project, "exp", "rig1") == ["lab_pet"]

    code, _out, err = finish(run_cli(project, *extra))
    assert code == 0, f"after a kill at +{delay:.3f}s: {err}"
    loaded = check_loadable(project)
    synced = {s.name for s in loaded.subjects if s.data and s.data.get("alyx_id")}
    assert synced == alive
    assert {s.name for s in loaded.subjects} == alive | {"lab_pet"}
    assert subject_json(project, "SW_123")["description"].startswith("Sample wild-type mouse")
    assert [u.name for u in loaded.users] == ["alice"]
    assert setup_subject_names(project, "exp", "rig1") == ["lab_pet"]


# -- the commit phase, failing in-process ---------------------------------------------------------
# A failing os.replace after N moves (an I/O error, a disk pulled out) leaves the journal: the
# save says so, and the recovery (the next sync, or PyBpod opening the project) completes it.


@pytest.fixture(scope="module")
def alice_records(alyx_server):
    with AlyxClient(alyx_server.url, "alice", alyx_server.users["alice"]) as alice:
        return download_subjects(alice, SubjectSelection())


def in_process_sync(path: Path, records, policy: str):
    project = open_project(path)
    result = apply_plan(project, plan_subjects(project, records, "alice"), OverridePolicy(policy))
    save_sync(project, result)
    return result


@pytest.mark.parametrize("moves", [0, 1, 131, 261])
@pytest.mark.parametrize("start", ["fresh", "stale"])
def test_a_save_failing_between_its_moves_is_completed_by_the_recovery(
    templates, alice_records, tmp_path, monkeypatch, seed, start, moves
):
    project = tmp_path / "proj"
    shutil.copytree(templates[start], project)
    real_replace, done, one_at_a_time = os.replace, [], threading.Lock()

    def replace(source, target):
        if ".alyx-journal" not in str(target):
            with one_at_a_time:  # the commit's threads: exactly ``moves`` moves succeed
                if len(done) >= moves:
                    raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
                done.append(target)
        real_replace(source, target)

    read_before = open_project(project)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SaveFailed, match="the next sync, or opening the project in PyBpod"):
        in_process_sync(project, alice_records, "yes")
    monkeypatch.undo()
    assert (project / ".alyx-journal.json").exists()
    plan = plan_subjects(read_before, alice_records, "alice")
    with pytest.raises(InterruptedSync):  # saving a project read before the journal
        save_sync(read_before, apply_plan(read_before, plan, OverridePolicy("yes")))

    assert "Completed an interrupted sync" in recover_interrupted_sync(project)
    loaded = check_loadable(project)
    alive = {s.nickname for s in seed.subjects_of("alice") if s.alive}
    assert {s.name for s in loaded.subjects} == alive | {"lab_pet"}
    assert subject_json(project, "SW_200")["description"].startswith("Sample wild-type mouse")
    assert not list(project.rglob("*.alyx-tmp")) and not (project / ".alyx-staging").exists()
    assert in_process_sync(project, alice_records, "yes").changes_anything is False
