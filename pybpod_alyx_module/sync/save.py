"""Writing a sync's changes to the project on disk: all of them or none (headless).

PyBpod's own ``project.save()`` rewrites every file in place with ``open(path, 'w')``:
killed half-way, it leaves truncated JSON that PyBpod then refuses to load. The
command line writes only the files a sync touched, in four steps:

1. *check*: every path the save will touch is resolved inside the project folder,
   and none may be a link (:mod:`~pybpod_alyx_module.sync.paths`) — before any change;
2. *stage*: every new document is written beside the one it replaces, or in a new
   folder under ``<project>/.alyx-staging/`` (outside the folders PyBpod loads),
   then flushed to the disk; a failure (a full disk…) removes it all again;
3. *journal*: the list of moves is written durably (:mod:`~pybpod_alyx_module.sync.journal`);
4. *commit*: each file is moved over its old version and each new folder into
   place with ``os.replace``; folders of subjects that left the project move to
   ``<project>/.alyx-removed/`` (never deleted). Then the journal goes.

A kill before the journal leaves the project as it was; after it, the next sync or
the plugin (when PyBpod opens the project) completes the moves. A rewritten file
keeps its mode; a new one gets the umask's, as PyBpod's own save gives it.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybpod_alyx_module.pybpod_internals import render_document

from .apply import SyncResult
from .documents import new_document
from .durable import flush_files, flush_folders
from .errors import InterruptedSync, ProjectError, SaveFailed
from .journal import (
    JOURNAL,
    STAGING,
    Move,
    discard_staged,
    roll_forward,
    temporary_beside,
    write_journal,
)
from .lock import project_lock
from .paths import ProjectFolder

#: The folders PyBpod makes in every project it saves.
PROJECT_FOLDERS = ("users", "tasks", "boards", "subjects", "experiments")
REMOVED = ".alyx-removed"


@dataclass
class _Writes:
    """Everything a save will do, every path checked, nothing done yet."""

    #: (final file, document): each file to write; a file whose folder does not exist
    #: yet is built in a new folder under the staging folder, moved in whole.
    documents: list[tuple[Path, Any]] = field(default_factory=list)
    #: (folder, its place in ``.alyx-removed``): subjects that left the project.
    removals: list[Move] = field(default_factory=list)
    #: Folders a new project needs, made in the commit.
    folders: list[Path] = field(default_factory=list)


def save_sync(project: Any, result: SyncResult) -> list[Path]:
    """Write what ``result`` changed in ``project`` to disk, all or nothing.

    Returns the paths written or moved, in order. Nothing is written, and nothing
    flushed, when the sync changed nothing.

    Raises
    ------
    UnsafeProjectPath
        A path the save would touch is a link or leads outside the project (nothing changed).
    SaveFailed
        Writing failed (a full or read-only disk…); the message says what is on disk.
    InterruptedSync
        An earlier sync's journal is waiting: the project in memory predates it.
    ProjectBusy
        Another sync holds the project.
    """
    with project_lock(project.path):
        folder = ProjectFolder(project.path)
        if os.path.lexists(folder / JOURNAL):
            raise InterruptedSync(
                f"An interrupted sync of {folder.root} must be completed first: "
                "run the sync again (it completes it), or open the project in PyBpod."
            )
        discard_staged(folder)
        writes = _planned_writes(project, result, folder)
        if not (writes.documents or writes.removals):
            return []
        moves = _stage(folder, writes)
        try:
            write_journal(folder, moves, writes.folders)
        except OSError as exc:
            _undo_staging(folder, exc, "recording the sync's moves")
        try:
            roll_forward(folder)
        except OSError as exc:
            raise SaveFailed(
                f"Moving the synced files into place in {folder.root} failed: {_reason(exc)}. "
                f"The record of the moves ({JOURNAL}) stays: the next sync, or opening the "
                "project in PyBpod with the Alyx plugin, completes them."
            ) from None
        return [target for _, target in moves]


def _planned_writes(project: Any, result: SyncResult, folder: ProjectFolder) -> _Writes:
    """What the save will write and move, every path checked (:class:`ProjectFolder`)."""
    writes = _Writes()
    users = [u for u in [*result.users_added, result.user] if u is not None]
    for user in dict.fromkeys(users):
        if user in result.users_added or user.data.updated:
            writes.documents.append((_document_path(folder, "users", user.name), user.data))
    for subject in [*result.added, *result.updated]:
        subject.data["setup"] = str(subject.setup.uuid4 if subject.setup else None)
        path = _document_path(folder, "subjects", subject.name)
        writes.documents.append((path, subject.data))
    for setup in dict.fromkeys(result.changed_setups):  # once, however many subjects left it
        setup.data["subjects"] = [subject.name for subject in setup.subjects]
        path = folder.inside(Path(setup.path) / f"{setup.name}.json")
        writes.documents.append((_file_to_rewrite(path), setup.data))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for subject in result.removed:
        source = folder / f"subjects/{subject.name}"
        if source.is_dir():
            target = _unused(folder / f"{REMOVED}/{subject.name}--{stamp}")
            writes.removals.append((source, target))
    project_file = folder / f"{project.name}.json"
    if not project_file.is_file() and (writes.documents or writes.removals):
        # a new project: its file last, so that the folder is a project only once complete
        writes.folders = [folder / name for name in PROJECT_FOLDERS if not (folder / name).is_dir()]
        project.data = project.data or new_document(project.uuid4, "project")
        project.data["name"] = project.name
        writes.documents.append((_file_to_rewrite(project_file), project.data))
    return writes


def _document_path(folder: ProjectFolder, kind: str, name: str) -> Path:
    """``<kind>/<name>/<name>.json``, checked; its folder either a real folder or absent."""
    document = folder / f"{kind}/{name}/{name}.json"
    if document.parent.exists() and not document.parent.is_dir():
        raise ProjectError(f"{document.parent} is a file where PyBpod keeps a folder")
    return _file_to_rewrite(document) if document.parent.is_dir() else document


def _file_to_rewrite(path: Path) -> Path:
    if path.exists() and not path.is_file():
        raise ProjectError(f"{path} is not a file: PyBpod keeps a document there")
    return path


def _unused(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… if taken (two removals within one second)."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _stage(folder: ProjectFolder, writes: _Writes) -> list[Move]:
    """Write every document where it waits for the commit, flushed; return the moves.

    On failure (a full disk, a read-only folder…) what was staged is removed and
    :class:`SaveFailed` says so: the project is as it was.
    """
    staging = folder / STAGING
    moves: list[Move] = []
    written: list[Path] = []
    try:
        for path, data in writes.documents:
            if path.parent.is_dir():
                temporary = temporary_beside(path)
                _write(temporary, render_document(data), mode_of=path)
                written.append(temporary)
                moves.append((temporary, path))
            else:
                staged = staging / path.parent.relative_to(folder.root)
                staged.mkdir(parents=True)
                written.append(staged / path.name)
                _write(written[-1], render_document(data))
                moves.append((staged, path.parent))
        flush_files(written)
        flush_folders({path.parent for path in written})
    except OSError as exc:
        _undo_staging(folder, exc, "staging the sync's files")
    return [*writes.removals, *moves]  # a new project's file is the last document: last move


def _write(path: Path, text: str, mode_of: Path | None = None) -> None:
    """Write a new file; with ``mode_of``, give it that file's permission bits (POSIX).

    A new file is created as PyBpod's ``open(path, 'w')`` creates one (0666 less the
    umask), never 0600 as ``mkstemp`` would.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with open(fd, "w", encoding="utf-8") as handle:
        if mode_of is not None and os.name == "posix" and mode_of.exists():
            os.fchmod(fd, stat.S_IMODE(mode_of.stat().st_mode))
        handle.write(text)


def _undo_staging(folder: ProjectFolder, error: OSError, doing: str) -> None:
    """Remove what this save staged, then raise :class:`SaveFailed` saying what happened."""
    try:
        discard_staged(folder)
        cleaned = "what this sync had written so far was removed"
    except OSError as cleanup:
        cleaned = f"removing what this sync had written failed too ({_reason(cleanup)})"
    raise SaveFailed(
        f"Saving the sync in {folder.root} failed while {doing}: {_reason(error)}. "
        f"The project was not changed; {cleaned}."
    ) from None


def _reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"
