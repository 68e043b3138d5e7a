"""Writing a sync's changes to the project on disk: all of them or none (headless).

PyBpod's own ``project.save()`` rewrites every file in place with ``open(path, 'w')``:
killed half-way, it leaves truncated JSON that PyBpod then refuses to load. The
command line writes only the files a sync touched, in four steps:

1. *check*: every path the save will touch is inside the project folder, and none
   may be a link (:mod:`~pybpod_alyx_module.sync.paths`) — before any change;
2. *stage*: every document is rendered and written where it waits for the commit,
   outside what PyBpod loads: a rewritten one beside the file it replaces, as a hidden
   ``.<name>.<random>.alyx-tmp``; a new one in its new folder under
   ``<project>/.alyx-staging/``. Each is flushed to the disk, by a few threads, each taking
   its share (:func:`~pybpod_alyx_module.sync.durable.in_threads`: they wait on the disk,
   not the CPU); then the folders that gained a file are flushed, all files first (so that
   the journal never names a file a power cut could lose). Beside, not in one staging
   folder: a rename between two folders takes the file system's one rename lock, so
   10,000 of them are made one at a time (measured on ext4, 10,000 subjects: 6 s, against
   2 s for renames within each folder, and 0.5 s for flushing each subject's folder once
   more). A failure (a full disk…) removes it all again;
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
from .durable import flush_folders, in_threads
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
#: ``os.open`` flags of a new file: never an existing one; bytes as given (Windows: no CRT
#: newline translation, done by :func:`_write` as Python's text files do it).
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@dataclass
class _Document:
    """A document to write, its place checked."""

    #: The final file, on the project's resolved root.
    path: str
    data: Any
    #: The permission bits of the file it replaces; ``None`` for a new file.
    mode: int | None = None
    #: Its folder does not exist yet: it is built under the staging folder, moved in whole.
    new_folder: bool = False


@dataclass
class _Writes:
    """Everything a save will do, every path checked, nothing done yet."""

    documents: list[_Document] = field(default_factory=list)
    #: A new project's file: the last move, so that the folder is a project only once complete.
    project_file: _Document | None = None
    #: (folder, its place in ``.alyx-removed``): subjects that left the project.
    removals: list[Move] = field(default_factory=list)
    #: Folders a new project needs, made in the commit.
    folders: list[str] = field(default_factory=list)


#: A file for a staging thread: (path, document, mode to give or ``None``, folder to make first).
_File = tuple[str, Any, "int | None", "str | None"]


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
        if folder.check(JOURNAL)[1] is not None:
            raise InterruptedSync(
                f"An interrupted sync of {folder.root} must be completed first: "
                "run the sync again (it completes it), or open the project in PyBpod."
            )
        discard_staged(folder)
        writes = _planned_writes(project, result, folder)
        if not (writes.documents or writes.removals):
            return []
        moves = _stage(folder, writes)
        steps = [writes.removals, moves[: len(writes.documents)], moves[len(writes.documents) :]]
        try:
            write_journal(folder, [step for step in steps if step], writes.folders)
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
        return [Path(target) for step in steps for _, target in step]


def _planned_writes(project: Any, result: SyncResult, folder: ProjectFolder) -> _Writes:
    """What the save will write and move, every path checked (:class:`ProjectFolder`)."""
    writes = _Writes()
    users = [u for u in [*result.users_added, result.user] if u is not None]
    for user in dict.fromkeys(users):
        if user in result.users_added or user.data.updated:
            writes.documents.append(_in_own_folder(folder, "users", user.name, user.data))
    for subject in [*result.added, *result.updated]:
        subject.data["setup"] = str(subject.setup.uuid4 if subject.setup else None)
        writes.documents.append(_in_own_folder(folder, "subjects", subject.name, subject.data))
    for setup in dict.fromkeys(result.changed_setups):  # once, however many subjects left it
        setup.data["subjects"] = [subject.name for subject in setup.subjects]
        path, status = folder.check(os.path.join(setup.path, f"{setup.name}.json"))
        writes.documents.append(_replacing(path, status, setup.data))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for subject in result.removed:
        source, status = folder.check(f"subjects/{subject.name}")
        if status is not None and stat.S_ISDIR(status.st_mode):
            writes.removals.append((source, _unused(folder, f"{REMOVED}/{subject.name}--{stamp}")))
    project_file, status = folder.check(f"{project.name}.json")
    new_project = status is None or not stat.S_ISREG(status.st_mode)
    if new_project and (writes.documents or writes.removals):
        writes.folders = [
            path for path, found in map(folder.check, PROJECT_FOLDERS) if not _is_folder(found)
        ]
        project.data = project.data or new_document(project.uuid4, "project")
        project.data["name"] = project.name
        writes.project_file = _replacing(project_file, status, project.data)
    return writes


def _in_own_folder(folder: ProjectFolder, kind: str, name: str, data: Any) -> _Document:
    """``<kind>/<name>/<name>.json``, checked; its folder either a real folder or absent."""
    place, status = folder.check(f"{kind}/{name}")
    if status is None:
        return _Document(os.path.join(place, f"{name}.json"), data, new_folder=True)
    if not stat.S_ISDIR(status.st_mode):
        raise ProjectError(f"{place} is a file where PyBpod keeps a folder")
    path, status = folder.check(os.path.join(place, f"{name}.json"))
    return _replacing(path, status, data)


def _replacing(path: str, status: os.stat_result | None, data: Any) -> _Document:
    """The document to write at ``path`` (``status``: what is there now, ``None`` for nothing)."""
    return _Document(path, data, _mode_to_keep(path, status))


def _mode_to_keep(path: str, status: os.stat_result | None) -> int | None:
    """The permission bits of the file at ``path``, to give its new version (``None``: none)."""
    if status is None:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise ProjectError(f"{path} is not a file: PyBpod keeps a document there")
    return stat.S_IMODE(status.st_mode)


def _is_folder(status: os.stat_result | None) -> bool:
    return status is not None and stat.S_ISDIR(status.st_mode)


def _unused(folder: ProjectFolder, relative: str) -> str:
    """``relative``, or ``relative-2``, ``-3``… if taken (two removals within one second)."""
    candidate, status = folder.check(relative)
    number = 1
    while status is not None:
        number += 1
        candidate, status = folder.check(f"{relative}-{number}")
    return candidate


def _stage(folder: ProjectFolder, writes: _Writes) -> list[Move]:
    """Write every document where it waits for the commit, flushed; return its moves.

    The staging folder is made first: it tells a recovery that a save was under way. On
    failure (a full disk, a read-only folder…) what was staged is removed and
    :class:`SaveFailed` says so: the project is as it was.
    """
    staging = os.path.join(folder.root, STAGING)
    documents = [*writes.documents, *filter(None, [writes.project_file])]
    files: list[_File] = []
    moves: list[Move] = []
    try:
        os.mkdir(staging)
        made = {staging}
        for document in documents:
            if not document.new_folder:
                temporary = temporary_beside(document.path)
                files.append((temporary, document.data, document.mode, None))
                moves.append((temporary, document.path))
                continue
            final = os.path.dirname(document.path)
            staged = os.path.join(staging, folder.relative(final))
            kind = os.path.dirname(staged)
            if kind not in made:
                os.makedirs(kind, exist_ok=True)
                made.add(kind)
            files.append(
                (os.path.join(staged, os.path.basename(document.path)), document.data, None, staged)
            )
            moves.append((staged, final))
        in_threads(_write, files)
        # then the folders, once all files are: flushing each folder right after its file
        # (measured, 10,000 new subjects) doubled the staging time
        flush_folders([*(os.path.dirname(path) for path, *_ in files), *sorted(made, reverse=True)])
    except OSError as exc:
        _undo_staging(folder, exc, "staging the sync's files")
    return moves


def _write(file: _File) -> None:
    """Render a document, write it to a new file and flush it; with a mode, give the file
    those permission bits (POSIX).

    Rendering here, in the staging threads, hides its CPU time behind the other threads'
    waits on the disk (each thread lets the others run at its every system call). A new
    file is created as PyBpod's ``open(path, 'w')`` creates one (0666 less the
    umask), never 0600 as ``mkstemp`` would, with its line ends.
    """
    path, data, mode, new_folder = file
    text = render_document(data).replace("\n", os.linesep).encode("utf-8")
    if new_folder is not None:
        os.mkdir(new_folder)
    fd = os.open(path, _NEW_FILE, 0o666)
    try:
        if mode is not None and os.name == "posix":
            os.fchmod(fd, mode)
        view = memoryview(text)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


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
