"""Opening a PyBpod project folder without the GUI (``pybpodgui_api`` models only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pybpodgui_api.models.project import Project


class ProjectError(Exception):
    """A folder that is not a PyBpod project, or one PyBpod cannot load."""


def open_project(path: str | Path, create: bool = False) -> Any:
    """Load the project in ``path``; with ``create``, make an empty one if the folder is empty.

    A project folder ``proj`` holds ``proj/proj.json``.
    """
    folder = Path(path).expanduser().resolve()
    marker = folder / f"{folder.name}.json"
    project = Project()
    if marker.is_file():
        try:
            project.load(str(folder))
        except Exception as exc:  # PyBpod raises bare Exceptions for broken files
            raise ProjectError(f"PyBpod cannot load the project in {folder}: {exc}") from exc
        return project
    if folder.exists() and any(folder.iterdir()):
        raise ProjectError(f"{folder} is not a PyBpod project: it has no {marker.name}")
    if not create:
        raise ProjectError(f"There is no PyBpod project in {folder}")
    project.name = folder.name
    project.save(str(folder))
    return project
