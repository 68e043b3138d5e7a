"""Whole-sync atomicity: a sync killed anywhere in its save leaves, once recovered, the
project byte for byte as before the sync or as after it — never in between.

Each kill is a real SIGKILL of a process running the headless sync
(``save_kill_driver.py``), which kills itself right before its N-th file-system
operation inside ``save_sync``. N is drawn from a seeded generator, spread over the
whole save (stratified: one kill in each of ``KILLS`` equal slices of its operations),
so every run is reproducible and every kill lands inside the save. The driver fixes
uuids and the clock, so that an uninterrupted run gives the "after" tree to compare.
After a kill, :func:`recover_interrupted_sync` runs (as the command line does first,
and the plugin when PyBpod opens the project).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import add_local_subject, add_setup, check_loadable, load_project, new_project
from save_kill_driver import SAVED, SAVING

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import SubjectSelection, download_subjects
from pybpod_alyx_module.sync.journal import JOURNAL, STAGING, recover_interrupted_sync
from pybpod_alyx_module.sync.lock import LOCK_FILE
from pybpod_alyx_module.sync.project_files import open_project

DRIVER = Path(__file__).with_name("save_kill_driver.py")
#: Kills per scenario; four scenarios.
KILLS = 13

Tree = dict[str, bytes]


def tree(folder: Path) -> Tree:
    """Every file (bytes) and folder (``b"<dir>"``) under ``folder``, but the sync's lock file:
    the only file a sync leaves whatever happens (empty, never read by PyBpod)."""
    if not folder.exists():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative != LOCK_FILE:
            found[relative] = b"<dir>" if path.is_dir() else path.read_bytes()
    return found


def run_driver(
    project: Path, records: Path, policy: str, kill_at: int | str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DRIVER), str(project), str(records), policy, str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Scenario:
    template: Path  # the project before the sync (may not exist: a new project)
    records: Path  # what the sync downloaded, as JSON
    policy: str
    before: Tree
    after: Tree
    operations: int  # file-system operations of an uninterrupted save


@pytest.fixture(scope="module")
def alice_alive(alyx_server):
    with AlyxClient(alyx_server.url, "alice", alyx_server.users["alice"]) as alice:
        records = download_subjects(alice, SubjectSelection())
    return sorted((r for r in records if r["alive"]), key=lambda r: r["nickname"])


def _dead(record: dict) -> dict:
    return dict(record, alive=False, death_date="2026-01-01")


@pytest.fixture(scope="module")
def scenarios(alice_alive, tmp_path_factory) -> dict[str, Scenario]:
    """Four saves: a new project; additions to a project with a setup; the same subjects
    rewritten in place; subjects leaving the project and two setups listing several each."""
    root = tmp_path_factory.mktemp("scenarios")
    some, others = alice_alive[:60], alice_alive[60:90]

    def records_file(name: str, records: list[dict]) -> Path:
        path = root / f"{name}.json"
        path.write_text(json.dumps(records), encoding="utf-8")
        return path

    def synced(name: str, records: list[dict]) -> Path:
        project = new_project(root / name / "proj")
        add_local_subject(project, "lab_pet")
        add_setup(project, "exp", "rig1", ["lab_pet"])
        project.save(project.path)
        if records:
            done = run_driver(Path(project.path), records_file(f"{name}-start", records), "no", -1)
            assert done.returncode == 0, done.stderr
        return Path(project.path)

    starts = {
        "new-project": (root / "new" / "proj", some, "no"),
        "additions": (synced("additions", []), some, "no"),
        "rewrites": (synced("rewrites", some), [dict(r, description="new") for r in some], "yes"),
        "removals": (
            synced("removals", some),
            [_dead(r) for r in some[:12]] + some[12:] + others,
            "no",
        ),
    }
    removals = load_project(starts["removals"][0])
    add_setup(removals, "exp", "rig2", [r["nickname"] for r in some[:8]] + ["lab_pet"])
    add_setup(removals, "exp", "rig3", [r["nickname"] for r in some[4:16]])
    removals.save(removals.path)

    built = {}
    for name, (template, records, policy) in starts.items():
        path = records_file(name, records)
        reference = root / "reference" / name / "proj"
        if template.exists():
            shutil.copytree(template, reference)
        done = run_driver(reference, path, policy, -1)
        assert done.returncode == 0 and SAVED in done.stdout, done.stderr
        operations = int(done.stdout.split(SAVED)[1])
        built[name] = Scenario(template, path, policy, tree(template), tree(reference), operations)
        assert built[name].before != built[name].after
    return built


@pytest.mark.parametrize("name", ["new-project", "additions", "rewrites", "removals"])
def test_a_sync_killed_anywhere_in_its_save_is_recovered_as_before_or_after(
    scenarios, tmp_path, name
):
    scenario = scenarios[name]
    outcomes, failures = [], []
    for kill in range(KILLS):
        draw = random.Random(f"{name}-{kill}")  # reproducible: the seed is the kill's name
        kill_at = int((kill + draw.random()) * scenario.operations / KILLS)
        project = tmp_path / f"kill-{kill}" / "proj"
        if scenario.template.exists():
            shutil.copytree(scenario.template, project)
        killed = run_driver(project, scenario.records, scenario.policy, kill_at)
        assert SAVING in killed.stdout, killed.stderr
        assert killed.returncode == -signal.SIGKILL and SAVED not in killed.stdout, (
            f"kill {kill} at operation {kill_at} did not land inside the save: {killed}"
        )

        recover_interrupted_sync(project)
        found = tree(project)
        outcome = (
            "before" if found == scenario.before else "after" if found == scenario.after else None
        )
        outcomes.append(outcome)
        if outcome is None:
            failures.append(f"kill {kill} at operation {kill_at}/{scenario.operations}: "
                            f"{_difference(found, scenario.before, scenario.after)}")  # fmt: skip
        elif found:
            check_loadable(project)
    print(f"{name}: {scenario.operations} operations; outcomes {outcomes}")
    assert not failures, "\n".join(failures)
    assert {"before", "after"} <= set(outcomes), "the kills did not span the commit"


def _difference(found: Tree, before: Tree, after: Tree) -> str:
    def diff(expected: Tree) -> str:
        changed = sorted(k for k in found.keys() & expected.keys() if found[k] != expected[k])
        return (
            f"extra {sorted(found.keys() - expected.keys())[:3]}, "
            f"missing {sorted(expected.keys() - found.keys())[:3]}, changed {changed[:3]}"
        )

    return f"vs before: {diff(before)}; vs after: {diff(after)}"


def test_recovery_with_nothing_to_recover_changes_nothing(scenarios, tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(scenarios["additions"].template, project)
    before = tree(project)
    assert recover_interrupted_sync(project) is None
    assert tree(project) == before and not (project / JOURNAL).exists()


def test_recovery_removes_what_a_sync_killed_before_its_commit_staged(scenarios, tmp_path):
    scenario = scenarios["additions"]
    project = tmp_path / "proj"
    shutil.copytree(scenario.template, project)
    run_driver(project, scenario.records, scenario.policy, scenario.operations // 3)
    assert (project / STAGING).exists() and not (project / JOURNAL).exists()
    assert "as it was before" in recover_interrupted_sync(project)
    assert tree(project) == scenario.before


def test_opening_a_project_completes_an_interrupted_sync_first(scenarios, tmp_path):
    """The new project's file is its last move: killed just before it, the folder is not yet
    a project; opening it (headless, as the command line does) completes the sync."""
    scenario = scenarios["new-project"]
    project = tmp_path / "proj"
    killed = run_driver(project, scenario.records, scenario.policy, "replace:proj.json")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (project / JOURNAL).exists() and not (project / "proj.json").exists()
    opened = open_project(project)
    assert tree(project) == scenario.after
    assert len(opened.subjects) == len(json.loads(scenario.records.read_text(encoding="utf-8")))
