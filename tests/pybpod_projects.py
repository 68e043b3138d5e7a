"""Helpers to build PyBpod projects on disk (``pybpodgui_api`` models, no Qt) and to snapshot them.

>>> project = new_project(tmp_path / "proj")                          # doctest: +SKIP
>>> add_local_subject(project, "lab_pet")                             # doctest: +SKIP
>>> setup = add_setup(project, "exp", "rig1", ["lab_pet"])            # doctest: +SKIP
>>> project.save(project.path)                                        # doctest: +SKIP
>>> before = snapshot(project.path)                                   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pybpodgui_api.models.project import Project

#: A file PyBpod does not read, standing for a session's data (a session folder without
#: its CSV loads as an empty session, so the project still opens).
SESSION_DATA = b"\x00\x01 raw session data that a sync must never touch \xff"


def new_project(path: Path) -> Any:
    """An empty PyBpod project saved in ``path`` (the folder name is the project name)."""
    project = Project()
    project.name = path.name
    project.save(str(path))
    return project


def load_project(path: Path | str) -> Any:
    """The project in ``path``, loaded by PyBpod itself."""
    project = Project()
    project.load(str(path))
    return project


def add_local_subject(project: Any, name: str) -> Any:
    """A plain (non-Alyx) PyBpod subject, as a user creates it in the GUI."""
    subject = project.create_subject()
    subject.name = name
    return subject


def add_setup(project: Any, experiment_name: str, setup_name: str, subject_names: list[str]) -> Any:
    """An experiment (reused if it exists) with a setup listing the named subjects."""
    experiment = next((e for e in project.experiments if e.name == experiment_name), None)
    if experiment is None:
        experiment = project.create_experiment()
        experiment.name = experiment_name
    board = project.find_board("box") or project.create_board()
    board.name = "box"
    setup = experiment.create_setup()
    setup.name = setup_name
    setup.board = board  # PyBpod cannot hash a project whose sessions have no board
    for name in subject_names:
        subject = project.find_subject(name)
        assert subject is not None, name
        setup += subject
        subject.setup = setup
    return setup


def add_session_data(project: Any, experiment_name: str, setup_name: str) -> Path:
    """A session folder with a data file under a saved setup; returns the file."""
    folder = (
        Path(project.path)
        / "experiments"
        / experiment_name
        / "setups"
        / setup_name
        / "sessions"
        / "20260110-100000"
    )
    folder.mkdir(parents=True)
    data = folder / "raw_data.bin"
    data.write_bytes(SESSION_DATA)
    return data


def setup_subject_names(project_path: Path | str, experiment: str, setup: str) -> list[str]:
    """The subject names a setup's JSON lists on disk."""
    path = Path(project_path) / "experiments" / experiment / "setups" / setup / f"{setup}.json"
    return json.loads(path.read_text(encoding="utf-8"))["subjects"]


def subject_json(project_path: Path | str, name: str) -> dict[str, Any]:
    """The saved JSON document of a subject."""
    path = Path(project_path) / "subjects" / name / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def snapshot(folder: Path | str) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: relative path -> (bytes, mtime in ns). Folders too (mtime)."""
    root = Path(folder)
    state: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = Path(dirpath) / name
            state[str(path.relative_to(root)) + "/"] = (b"", path.stat().st_mtime_ns)
        for name in filenames:
            path = Path(dirpath) / name
            state[str(path.relative_to(root))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return state


def contents(state: dict[str, tuple[bytes, int]]) -> dict[str, bytes]:
    """A snapshot without the times: path -> bytes (folders left out)."""
    return {path: data for path, (data, _) in state.items() if not path.endswith("/")}


def check_loadable(project_path: Path | str) -> Any:
    """Assert what a user needs after any interruption: every JSON parses, every subject
    folder has its JSON, and PyBpod loads the project. Returns the loaded project."""
    root = Path(project_path)
    for path in root.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    subjects = root / "subjects"
    if subjects.is_dir():
        for folder in subjects.iterdir():
            if folder.is_dir():
                assert (folder / f"{folder.name}.json").is_file(), f"{folder} has no JSON"
    return load_project(root)
