"""The demo project's rig: a board, a task and a setup, so that a run needs no Bpod.

A synced project has subjects but nothing to run, so registration cannot be tried: this
adds the experiment ``demo_experiment`` with the setup ``demo_rig`` (also the name of a
location of the subjects' lab on the demo's Alyx, so the session names it), its board
``demo_board`` (no serial port: the task never opens one) and the task ``demo_task``
(``scripts/demo_task.py``, which writes its session through pybpodapi without a board),
on the water-restricted subject ``SW_004``. In PyBpod, the setup's Run then goes through
PyBpod's own run path: Weigh before the run, the task, After the run, and the session
registered in Alyx.

What the user changed is kept: the rig is added only when the project has no setup of that
name, and the task's code is written only with it, or when missing or empty (PyBpod's save
of a new task writes an empty file).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pybpod_alyx_module.sync.project_files import open_project

EXPERIMENT, SETUP, BOARD, TASK = "demo_experiment", "demo_rig", "demo_board", "demo_task"
#: Water-restricted near the welfare threshold on the demo's Alyx (``seed_welfare``).
SUBJECTS = ("SW_004",)
TASK_SOURCE = Path(__file__).resolve().parent / "demo_task.py"


def task_file(project_path: Path) -> Path:
    """Where PyBpod looks for the task's code."""
    return project_path / "tasks" / TASK / f"{TASK}.py"


def find_setup(project: Any) -> Any:
    """The demo rig's setup in ``project``, or ``None``."""
    setups = (s for e in project.experiments if e.name == EXPERIMENT for s in e.setups)
    return next((s for s in setups if s.name == SETUP), None)


def add_rig(project_path: Path, subjects: tuple[str, ...] = SUBJECTS) -> bool:
    """Add the rig, with ``subjects``, to the synced project at ``project_path``; ``False``
    if it has one already.

    Raises
    ------
    LookupError
        A subject of the rig is not in the project (the sync did not bring it).
    """
    project = open_project(project_path)
    added = find_setup(project) is None
    if added:
        missing = [name for name in subjects if project.find_subject(name) is None]
        if missing:
            raise LookupError(f"{', '.join(missing)} not in {project_path}: sync it first")
        _build(project, subjects)
        project.save(str(project_path))
    code = task_file(project_path)
    if added or not code.is_file() or code.stat().st_size == 0:  # PyBpod's save makes it empty
        code.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TASK_SOURCE, code)
    return added


def _build(project: Any, subjects: tuple[str, ...]) -> None:
    experiment = next((e for e in project.experiments if e.name == EXPERIMENT), None)
    if experiment is None:
        experiment = project.create_experiment()
        experiment.name = EXPERIMENT
    board = project.find_board(BOARD) or project.create_board()
    board.name = BOARD
    task = project.find_task(TASK) or project.create_task()
    task.name = TASK
    setup = experiment.create_setup()
    setup.name = SETUP
    setup.board = board
    setup.task = task
    for name in subjects:
        subject = project.find_subject(name)
        setup += subject
        subject.setup = setup
