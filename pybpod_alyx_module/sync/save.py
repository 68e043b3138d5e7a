"""Writing a sync's changes to the project on disk, all or nothing per file (headless).

PyBpod's own ``project.save()`` rewrites every file in place with ``open(path, 'w')``:
killed half-way, it leaves truncated JSON that PyBpod then refuses to load. The
command line writes only the files a sync touched, in two phases:

1. *stage*: every new document is written and flushed to a temporary file — new
   subject and user folders are built whole in ``<project>/.alyx-staging/``,
   outside the folders PyBpod loads (it would load any folder in ``subjects/``);
2. *commit*: each file is moved over its old version and each new folder into
   place with ``os.replace``, which is atomic; folders of subjects that left
   the project move to ``<project>/.alyx-removed/`` (never deleted).

A kill at any point leaves each file either old or new, never partial, and a
project PyBpod can open; running the sync again completes it.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sca.formats import json as sca_json

from .apply import SyncResult
from .documents import new_document

#: The folders PyBpod makes in every project it saves.
PROJECT_FOLDERS = ("users", "tasks", "boards", "subjects", "experiments")
STAGING = ".alyx-staging"
REMOVED = ".alyx-removed"


#: Files and folders staged, waiting to be moved into place: ``(staged, final)`` pairs.
_Moves = list[tuple[Path, Path]]


def save_sync(project: Any, result: SyncResult) -> list[Path]:
    """Write what ``result`` changed in ``project`` (an already saved project) to disk.

    Returns the paths written or moved, in order. Nothing is written when the
    sync changed nothing.
    """
    root = Path(project.path)
    if not (root / f"{project.name}.json").is_file():
        _create_project_file(project, root)
    staging = root / STAGING
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted save: only ever our own copies
    _remove_leftover_temporaries(root)
    moves: _Moves = []
    users = [u for u in [*result.users_added, result.user] if u is not None]
    for user in dict.fromkeys(users):
        if user in result.users_added or user.data.updated:
            _stage_document(moves, staging, root / "users", user.name, user.data)
    for subject in [*result.added, *result.updated]:
        subject.data["setup"] = str(subject.setup.uuid4 if subject.setup else None)
        _stage_document(moves, staging, root / "subjects", subject.name, subject.data)
    for setup in result.changed_setups:
        setup.data["subjects"] = [subject.name for subject in setup.subjects]
        _stage_file(moves, Path(setup.path) / f"{setup.name}.json", setup.data)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for subject in result.removed:
        folder = root / "subjects" / subject.name
        if folder.exists():
            moves.append((folder, root / REMOVED / f"{subject.name}--{stamp}"))
    _flush_to_disk(moves)
    for source, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    if staging.exists():
        shutil.rmtree(staging)
    return [target for _, target in moves]


#: Where :func:`_stage_file` puts its temporary files: next to the documents it replaces.
_TEMPORARY_PATTERNS = ("subjects/*/.*.json.*.tmp", "users/*/.*.json.*.tmp",
                       "experiments/*/setups/*/.*.json.*.tmp")  # fmt: skip


def _remove_leftover_temporaries(root: Path) -> None:
    """Delete the temporary files of an earlier save that was killed before its commit."""
    for pattern in _TEMPORARY_PATTERNS:
        for path in root.glob(pattern):
            if path.is_file():
                path.unlink()


def _create_project_file(project: Any, root: Path) -> None:
    """Write a new project's ``<name>.json`` first: from then on, PyBpod can open the folder."""
    for folder in PROJECT_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    project.data = project.data or new_document(project.uuid4, "project")
    project.data["name"] = project.name
    moves: _Moves = []
    _stage_file(moves, root / f"{project.name}.json", project.data)
    _flush_to_disk(moves)
    os.replace(*moves[0])


def _stage_document(moves: _Moves, staging: Path, parent: Path, name: str, data: Any) -> None:
    """Stage ``<parent>/<name>/<name>.json``: in place if the folder exists, else a whole new folder."""
    folder = parent / name
    if folder.is_dir():
        _stage_file(moves, folder / f"{name}.json", data)
        return
    staged = staging / parent.name / name
    staged.mkdir(parents=True)
    _write(staged / f"{name}.json", _render(data))
    moves.append((staged, folder))


def _stage_file(moves: _Moves, path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    _write(Path(tmp), _render(data))
    moves.append((Path(tmp), path))


def _render(data: Any) -> str:
    """The document as PyBpod writes it (``sca`` JSON: header, indent 4, sorted keys)."""
    buffer = io.StringIO()
    sca_json.dump(data, buffer)
    return buffer.getvalue()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _flush_to_disk(moves: _Moves) -> None:
    """Make the staged files durable before they replace the old ones.

    Otherwise a power cut just after the renames could leave empty files. One
    ``sync()`` for all of them costs far less than an ``fsync`` per file (10,000
    subjects: ~0.5 s instead of ~5 s); where there is none, each file is synced.
    """
    if hasattr(os, "sync"):
        os.sync()
        return
    for source, _ in moves:
        for path in [source] if source.is_file() else source.rglob("*"):
            if path.is_file():
                with open(path, "rb+") as handle:
                    os.fsync(handle.fileno())
