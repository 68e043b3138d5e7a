"""``pybpod-alyx sync`` killed (SIGKILL) while it saves: the project must stay loadable.

The command prints ``Saving…`` right before it writes. Each run here kills it right after
that line or after a random delay within the save (~0.2 s for 262 subjects), then checks
that every JSON parses, that no subject folder lacks its JSON, that PyBpod loads the
project, and that a second sync completes the result.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
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

import pybpod_alyx_module.sync.save as save_module
from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    OverridePolicy,
    SubjectSelection,
    apply_plan,
    download_subjects,
    plan_subjects,
    save_sync,
)
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
    """Kill ``delay`` s after ``Saving…``; True if it was still running when killed."""
    for raw in process.stdout:
        if raw.decode("utf-8").strip() == SAVING:
            break
    else:
        pytest.fail(f"no {SAVING!r} line: {finish(process)}")
    if delay:
        time.sleep(delay)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    process.stderr.close()
    return still_running


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


RUNS = [
    ("fresh", 0.0),
    ("stale", 0.0),
    ("fresh", "random"),
    ("stale", "random"),
    ("fresh", "random"),
]


@pytest.mark.parametrize(
    ("start", "delay"), RUNS, ids=[f"{s}-{d}-{i}" for i, (s, d) in enumerate(RUNS)]
)
def test_a_sync_killed_while_saving_leaves_a_loadable_project_and_a_resync_completes(
    run_cli, templates, tmp_path, seed, start, delay
):
    project = tmp_path / "proj"
    shutil.copytree(templates[start], project)
    extra = ("--override", "yes") if start == "stale" else ()
    seconds = random.uniform(0.0, 0.25) if delay == "random" else delay
    killed = kill_while_saving(run_cli(project, *extra), seconds)
    assert killed or delay, "the sync ended before the kill"

    loaded = check_loadable(project)
    print(
        f"killed={killed} at +{seconds:.3f}s: {len(loaded.subjects)} subjects, "
        f"{len(list(project.glob('subjects/*/.*.tmp')))} temporary files left"
    )
    assert loaded.find_subject("lab_pet") is not None
    assert setup_subject_names(project, "exp", "rig1") == ["lab_pet"]

    code, _out, err = finish(run_cli(project, *extra))
    assert code == 0, f"after a kill at +{seconds:.3f}s: {err}"
    loaded = check_loadable(project)
    alive = {s.nickname for s in seed.subjects_of("alice") if s.alive}
    synced = {s.name for s in loaded.subjects if s.data and s.data.get("alyx_id")}
    assert synced == alive
    assert {s.name for s in loaded.subjects} == alive | {"lab_pet"}
    assert subject_json(project, "SW_123")["description"].startswith("Sample wild-type mouse")
    assert not (project / ".alyx-staging").exists()
    assert [u.name for u in loaded.users] == ["alice"]
    assert setup_subject_names(project, "exp", "rig1") == ["lab_pet"]


# -- the commit phase, interrupted in-process ---------------------------------------------------
# Its ~262 renames take a few milliseconds: a kill rarely lands there. A failing os.replace
# after N moves leaves the same files as a kill at that moment (save_sync cleans nothing up
# on the way out).


class Interrupted(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


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
def test_a_save_interrupted_between_its_moves_leaves_a_loadable_project(
    templates, alice_records, tmp_path, monkeypatch, seed, start, moves
):
    project = tmp_path / "proj"
    shutil.copytree(templates[start], project)
    real_replace, done = os.replace, []

    def replace(source, target):
        if len(done) == moves:
            raise Interrupted
        done.append(target)
        real_replace(source, target)

    monkeypatch.setattr(save_module.os, "replace", replace)
    with pytest.raises(Interrupted):
        in_process_sync(project, alice_records, "yes")
    monkeypatch.undo()

    check_loadable(project)
    result = in_process_sync(project, alice_records, "yes")
    assert not result.conflicts
    loaded = check_loadable(project)
    alive = {s.nickname for s in seed.subjects_of("alice") if s.alive}
    assert {s.name for s in loaded.subjects} == alive | {"lab_pet"}
    assert subject_json(project, "SW_200")["description"].startswith("Sample wild-type mouse")
    assert not list(project.rglob("*.tmp")) and not (project / ".alyx-staging").exists()
    assert in_process_sync(project, alice_records, "yes").changes_anything is False
