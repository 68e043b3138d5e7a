"""Opening a PyBpod project folder without the GUI (``pybpodgui_api`` models only)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pybpodgui_api.models.project import Project
from pybpodgui_api.models.subject import Subject

from pybpod_alyx_module.pybpod_internals import subjects_set_aside

from .errors import ProjectError
from .journal import JOURNAL, STAGING, recover_interrupted_sync
from .lock import LOCK_FILE

__all__ = ["HeadlessProject", "ProjectError", "open_project"]

#: The documents PyBpod reads when it loads a project, as ``glob`` patterns; ``*`` is a
#: folder whose document has the same name (``subjects/M1/M1.json``).
_DOCUMENTS = ("users", "boards", "subjects", "experiments/*/setups")


class HeadlessProject(Project):
    """PyBpod's project model, creating subjects in linear time (see ``subjects_set_aside``)."""

    def create_subject(self) -> Subject:
        with subjects_set_aside(self):
            return Subject(self)


def open_project(path: str | Path, create: bool = False) -> Any:
    """Load the project in ``path``; with ``create``, a new empty one if there is none yet.

    A project folder ``proj`` holds ``proj/proj.json``. A new project is not
    written here: :func:`~pybpod_alyx_module.sync.save.save_sync` writes it with
    the sync's changes, so that a sync that fails leaves no empty project behind.
    A sync interrupted in the folder is completed or undone first
    (:func:`~pybpod_alyx_module.sync.journal.recover_interrupted_sync`): the project
    is read as before that sync or as after it, never in between.
    """
    folder = Path(path).expanduser().resolve()
    if any(os.path.lexists(folder / name) for name in (JOURNAL, STAGING)):
        recover_interrupted_sync(folder)
    marker = folder / f"{folder.name}.json"
    project = HeadlessProject()
    if marker.is_file():
        try:
            project.load(str(folder))
        except Exception as exc:  # PyBpod raises bare Exceptions for broken files
            culprit = broken_document(folder) or f"PyBpod said: {exc}"
            raise ProjectError(f"PyBpod cannot load the project in {folder}: {culprit}") from exc
        return project
    if folder.exists() and not folder.is_dir():
        raise ProjectError(f"{folder} is a file, not a PyBpod project folder")
    if folder.exists() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        raise ProjectError(f"{folder} is not a PyBpod project: it has no {marker.name}")
    if not create:
        raise ProjectError(f"There is no PyBpod project in {folder}")
    project.name = folder.name
    project.path = str(folder)
    return project


def broken_document(folder: Path) -> str | None:
    """The first project document PyBpod cannot read, and what is wrong with it.

    PyBpod's own messages name no file (a JSON error), or the wrong problem ("for
    the subject [M1]. File not found." for a file that is there but truncated).
    Only called once loading has failed, so a sound project costs nothing.
    """
    documents = [folder / f"{folder.name}.json"]
    for kind in _DOCUMENTS:
        for parent in sorted(folder.glob(kind)):
            if parent.is_dir():
                documents += [d / f"{d.name}.json" for d in sorted(parent.iterdir()) if d.is_dir()]
    for document in documents:
        problem = _document_problem(document)
        if problem:
            return f"{document.relative_to(folder)} {problem}"
    return None


def _document_problem(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return "is missing (its folder is there)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return "is empty"
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"is not valid JSON ({exc}); it may have been cut short"
    if not isinstance(document, dict):
        return f"holds a JSON {type(document).__name__}, not an object"
    return None
