"""The local rows' children: the first sync, the no-op re-sync, the weekly re-sync and the disk's floor.

The weekly re-sync (issue 8): every subject changed on Alyx (``age_weeks`` + 1 week).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Callable

from .server import PASSWORD, USER


class Laps:
    """A run's phases, each timed from the end of the one before: ``lap("plan")``."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = now - self._clock
        self._clock = now


def child_first_sync(args: argparse.Namespace) -> Callable[[], dict]:
    from pybpod_alyx_module.sync.project_files import open_project

    records = json.loads(Path(args.records).read_text())

    def run() -> dict:
        lap = Laps()
        project = open_project(args.project, create=True)
        lap("create")
        return plan_apply_save(project, records, lap)

    return run


def plan_apply_save(project, records: list, lap: Laps) -> dict:
    """The sync's three local phases, each timed by ``lap``: the child's row."""
    from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync

    plan = plan_subjects(project, records, username=USER)
    lap("plan")
    result = apply_plan(project, plan, OverridePolicy("yes"))
    lap("apply")
    written = save_sync(project, result)
    lap("save")
    return {
        "phases": lap.phases,
        "subjects": len(records),
        "written": len(written),
        "written_paths": [str(path) for path in written[:5]],
        "plan": plan.counts(),
    }


def child_noop(args: argparse.Namespace) -> Callable[[], dict]:
    from pybpod_alyx_module.alyx import AlyxClient
    from pybpod_alyx_module.sync import (
        SubjectSelection,
        download_subjects,
    )
    from pybpod_alyx_module.sync.project_files import open_project

    saved = None if args.download else json.loads(Path(args.records).read_text())

    def run() -> dict:
        lap = Laps()
        project = open_project(args.project)
        lap("reload")
        records = saved
        if args.download:
            with AlyxClient(args.url, username=USER, password=PASSWORD) as client:
                records = download_subjects(client, SubjectSelection(responsible_user=USER))
            lap("download")
        return plan_apply_save(project, records, lap)

    return run


def child_all_changed(args: argparse.Namespace) -> Callable[[], dict]:
    """Re-sync the saved records one more week on: every subject is updated, in the CLI's path.

    Each run is one week later than the run before (a counter beside the project), so that
    repeated runs all update every subject instead of finding them already up to date.
    """
    from pybpod_alyx_module.sync.project_files import open_project

    saved = json.loads(Path(args.records).read_text())
    counter = Path(args.project).parent / "weeks_passed"
    weeks = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(weeks))
    records = [dict(r, age_weeks=(r.get("age_weeks") or 0) + weeks) for r in saved]

    def run() -> dict:
        lap = Laps()
        project = open_project(args.project)
        lap("reload")
        return plan_apply_save(project, records, lap)

    return run


def child_disk_floor(args: argparse.Namespace) -> Callable[[], dict]:
    """The disk's own time for the weekly re-sync's save: the same files, nothing else.

    Every subject's document (its bytes read first, outside the clock) written to a new file
    beside it, flushed, renamed over it, then every folder flushed, by as many threads as
    the save uses: no rendering, no path checks, no journal.
    """
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from pybpod_alyx_module.sync.durable import WORKERS

    subjects = Path(args.project) / "subjects"
    files = [(str(p), p.read_bytes()) for p in sorted(subjects.glob("*/*.json"))]
    folders = sorted({os.path.dirname(path) for path, _ in files})

    def write(share: list) -> None:
        for path, data in share:
            temporary = f"{path}.{secrets.token_hex(4)}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)

    def flush(share: list) -> None:
        for folder in share:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def run() -> dict:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(write, [files[i::WORKERS] for i in range(WORKERS)]))
            list(pool.map(flush, [folders[i::WORKERS] for i in range(WORKERS)]))
        return {"subjects": len(files), "written": len(files)}

    return run


LOCAL = {
    "first_sync": child_first_sync,
    "noop": child_noop,
    "all_changed": child_all_changed,
    "disk_floor": child_disk_floor,
}
