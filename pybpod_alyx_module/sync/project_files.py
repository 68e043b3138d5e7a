"""Opening a PyBpod project folder without the GUI (``pybpodgui_api`` models only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pybpodgui_api.models.project import Project
from pybpodgui_api.models.subject import Subject


class ProjectError(Exception):
    """A folder that is not a PyBpod project, or one PyBpod cannot load."""


@contextmanager
def subjects_set_aside(project: Any) -> Iterator[None]:
    """While PyBpod builds a subject, hide the project's others from it.

    A new PyBpod subject gets a placeholder name ("Untitled subject N") chosen by
    scanning every subject already in the project (``generate_name`` in
    ``SubjectBase.__init__``), so loading or syncing N subjects costs O(N²): 8 s
    to open 10,000 (in the GUI each name read is a Qt call, worse still). The
    placeholder is replaced at once (by ``load`` or by the sync), so it may as
    well be chosen against an empty list. Subjects created meanwhile are appended
    to the real list afterwards, where ``project += subject`` would have put them.
    """
    subjects, project._subjects = project._subjects, []
    try:
        yield
    finally:
        created, project._subjects = project._subjects, subjects
        subjects.extend(created)


class HeadlessProject(Project):
    """PyBpod's project model, creating subjects in linear time (:func:`subjects_set_aside`)."""

    def create_subject(self) -> Subject:
        with subjects_set_aside(self):
            return Subject(self)


def open_project(path: str | Path, create: bool = False) -> Any:
    """Load the project in ``path``; with ``create``, a new empty one if there is none yet.

    A project folder ``proj`` holds ``proj/proj.json``. A new project is not
    written here: :func:`~pybpod_alyx_module.sync.save.save_sync` writes it with
    the sync's changes, so that a sync that fails leaves no empty project behind.
    """
    folder = Path(path).expanduser().resolve()
    marker = folder / f"{folder.name}.json"
    project = HeadlessProject()
    if marker.is_file():
        try:
            project.load(str(folder))
        except Exception as exc:  # PyBpod raises bare Exceptions for broken files
            raise ProjectError(f"PyBpod cannot load the project in {folder}: {exc}") from exc
        return project
    if folder.exists() and not folder.is_dir():
        raise ProjectError(f"{folder} is a file, not a PyBpod project folder")
    if folder.exists() and any(folder.iterdir()):
        raise ProjectError(f"{folder} is not a PyBpod project: it has no {marker.name}")
    if not create:
        raise ProjectError(f"There is no PyBpod project in {folder}")
    project.name = folder.name
    project.path = str(folder)
    return project
