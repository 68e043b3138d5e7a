"""What registering needs of a project folder, read without PyBpod's loader.

Registering needs a project's subjects (their uuid4 and the Alyx fields the sync saved)
and the paths of its session files; nothing more. PyBpod's loader reads every document
and every session file whole, fails on one that is not UTF-8 and ``eval``-s session rows
(a session file could run code). So the command line's ``register``, ``outbox`` and
``weigh`` read the folder here: each subject document on its own, bounded in size; a
broken one is named in :attr:`ProjectOnDisk.problems` while the others register; session
files are only listed (:func:`session_files`), read later by
:func:`~.session_file.read_session`. Nothing is read through a link, nothing outside
the project (:class:`~pybpod_alyx_module.sync.paths.ProjectFolder`'s checks).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybpod_alyx_module.sync.errors import ProjectError, UnsafeProjectPath
from pybpod_alyx_module.sync.paths import ProjectFolder, is_link
from pybpod_alyx_module.sync.project_files import not_a_project, project_folder, read_document

from .session_file import session_file_in

#: The JSON key of a PyBpod document's uuid4 (``sca`` header).
UUID4_KEY = "__UUID4__"


@dataclass(frozen=True)
class SubjectOnDisk:
    """A PyBpod subject as its document holds it: name (its folder's), uuid4, the document."""

    name: str
    uuid4: str
    data: dict[str, Any]


@dataclass
class ProjectOnDisk:
    """A project folder as registering sees it (what :func:`~.project_sessions.alyx_subjects`
    and :meth:`~.registrar.Registrar.of` take, like a loaded PyBpod project)."""

    path: str
    name: str
    subjects: list[SubjectOnDisk] = field(default_factory=list)
    #: Subject documents left out, each ``"subjects/M1/M1.json is not UTF-8 text …"``.
    problems: list[str] = field(default_factory=list)


def read_project(path: str | Path) -> ProjectOnDisk:
    """The project in ``path``: its subjects, and the documents that could not be read.

    An interrupted sync is completed or undone first, as when PyBpod opens the project.

    Raises
    ------
    ProjectError
        ``path`` holds no PyBpod project (no ``<name>/<name>.json``).
    """
    folder = project_folder(path)
    if not (folder / f"{folder.name}.json").is_file():
        raise not_a_project(folder) or ProjectError(f"There is no PyBpod project in {folder}")
    project = ProjectOnDisk(path=str(folder), name=folder.name)
    inside = ProjectFolder(folder)
    links: list[str] = []
    for name in _folders(inside, "subjects", links):
        relative = f"subjects/{name}/{name}.json"
        try:
            document_path, status = inside.check(relative)
        except UnsafeProjectPath:
            project.problems.append(f"{relative} is a link: not followed, subject left out")
            continue
        document, problem = (None, "is missing") if status is None else read_document(document_path)
        uuid4 = (document or {}).get(UUID4_KEY)
        if document is not None and not (isinstance(uuid4, str) and uuid4.strip()):
            problem = f"has no {UUID4_KEY}: its sessions cannot be matched to it"
        if problem:
            project.problems.append(f"{relative} {problem}; subject left out")
            continue
        project.subjects.append(SubjectOnDisk(name, uuid4.strip(), document))
    project.problems += [f"{link} is a link: not followed, subject left out" for link in links]
    return project


def session_files(project_folder: str | Path) -> list[Path]:
    """Every ``experiments/<e>/setups/<s>/sessions/<name>/<name>.csv`` of a project, by name.

    A link met on the way (an experiment, setup, session folder or file) is listed
    itself, not followed: reading it is refused with the reason
    (:func:`~.session_file.read_session` with ``inside``), so it is reported, not skipped.
    """
    inside = ProjectFolder(project_folder)
    found: list[Path] = []
    links: list[str] = []
    for experiment in _folders(inside, "experiments", links):
        setups = f"experiments/{experiment}/setups"
        for setup in _folders(inside, setups, links):
            sessions = f"{setups}/{setup}/sessions"
            for session in _folders(inside, sessions, links):
                csv_file = session_file_in(inside.root / sessions / session)
                if os.path.lexists(csv_file):
                    found.append(csv_file)
    found += [inside.root / link for link in links]
    return sorted(found, key=lambda p: (p.parent.name, str(p)))


def _folders(inside: ProjectFolder, relative: str, refused: list[str]) -> list[str]:
    """The names of the real folders in ``relative`` (a folder of the project), sorted.

    Links found there are added to ``refused`` (as ``"<relative>/<name>"``), not listed.
    """
    try:
        place, status = inside.check(relative)
    except UnsafeProjectPath:
        return []
    if status is None or not stat.S_ISDIR(status.st_mode):
        return []
    names = []
    try:
        with os.scandir(place) as entries:
            for entry in entries:
                if is_link(entry.path):
                    refused.append(f"{relative}/{entry.name}")
                elif entry.is_dir(follow_symlinks=False):
                    names.append(entry.name)
    except OSError:
        return []
    return sorted(names)
