"""Opening a PyBpod project folder without the GUI, and naming what is wrong with a broken one.

The project is PyBpod's own model with its sessions left unread
(:func:`~pybpod_alyx_module.pybpod_internals.new_headless_project`): a headless project
knows each session folder by its name only (so that PyBpod's own ``save`` keeps it),
never opens its file; registration reads sessions with
:mod:`pybpod_alyx_module.register.session_file`. Importing this module needs no PyBpod
(the folder checks and :func:`read_document` serve the outbox's reader too).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pybpod_alyx_module.pybpod_internals import new_headless_project

from .errors import ProjectError
from .journal import JOURNAL, STAGING, recover_interrupted_sync
from .lock import LOCK_FILE

__all__ = ["ProjectError", "open_project", "project_folder", "read_document"]

#: The documents PyBpod reads when it loads a project, as ``glob`` patterns; ``*`` is a
#: folder whose document has the same name (``subjects/M1/M1.json``).
_DOCUMENTS = ("users", "boards", "subjects", "experiments/*/setups")
#: The largest project document read (bytes): a subject with years of weighings is < 1 MB.
DOCUMENT_LIMIT = 16 * 2**20


def open_project(path: str | Path, create: bool = False) -> Any:
    """Load the project in ``path``; with ``create``, a new empty one if there is none yet.

    A project folder ``proj`` holds ``proj/proj.json``. A new project is not
    written here: :func:`~pybpod_alyx_module.sync.save.save_sync` writes it with
    the sync's changes, so that a sync that fails leaves no empty project behind.
    A sync interrupted in the folder is completed or undone first (:func:`project_folder`).
    """
    folder = project_folder(path)
    project = new_headless_project()
    if (folder / f"{folder.name}.json").is_file():
        try:
            project.load(str(folder))
        except Exception as exc:  # PyBpod raises bare Exceptions for broken files
            culprit = broken_document(folder) or f"PyBpod said: {exc}"
            raise ProjectError(f"PyBpod cannot load the project in {folder}: {culprit}") from exc
        return project
    error = not_a_project(folder)
    if error is not None:
        raise error
    if not create:
        raise ProjectError(f"There is no PyBpod project in {folder}")
    project.name = folder.name
    project.path = str(folder)
    return project


def project_folder(path: str | Path) -> Path:
    """The project folder ``path`` resolved, an interrupted sync in it completed or undone.

    So the project is read as before that sync or as after it, never in between
    (:func:`~pybpod_alyx_module.sync.journal.recover_interrupted_sync`).
    """
    folder = Path(path).expanduser().resolve()
    if any(os.path.lexists(folder / name) for name in (JOURNAL, STAGING)):
        recover_interrupted_sync(folder)
    return folder


def not_a_project(folder: Path) -> ProjectError | None:
    """Why ``folder``, without its ``<name>.json``, is not a project and cannot become one.

    ``None`` for an absent or empty folder: a new project may be made there.
    """
    if folder.exists() and not folder.is_dir():
        return ProjectError(f"{folder} is a file, not a PyBpod project folder")
    if folder.exists() and any(p.name != LOCK_FILE for p in folder.iterdir()):
        return ProjectError(f"{folder} is not a PyBpod project: it has no {folder.name}.json")
    return None


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
        problem = read_document(document)[1]
        if problem:
            return f"{document.relative_to(folder)} {problem}"
    return None


def read_document(path: str | Path, limit: int = DOCUMENT_LIMIT) -> tuple[dict | None, str | None]:
    """A project document (a JSON object) and ``None``, or ``None`` and what is wrong with it.

    At most ``limit`` bytes are read: a document larger than that is refused, not held.
    """
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        return None, "is missing (its folder is there)"
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if len(data) > limit:
        return None, f"is larger than {limit // 2**20} MB: not a PyBpod document"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"is not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return None, "is empty"
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"is not valid JSON ({str(exc)[:200]}); it may have been cut short"
    if not isinstance(document, dict):
        return None, f"holds a JSON {type(document).__name__}, not an object"
    return document, None
