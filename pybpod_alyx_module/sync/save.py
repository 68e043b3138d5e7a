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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sca.formats import json as sca_json

from .apply import SyncResult

STAGING = ".alyx-staging"
REMOVED = ".alyx-removed"


@dataclass
class _Commit:
    """Files and folders staged, waiting to be moved into place."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)


def save_sync(project: Any, result: SyncResult) -> list[Path]:
    """Write what ``result`` changed in ``project`` (an already saved project) to disk.

    Returns the paths written or moved, in order. Nothing is written when the
    sync changed nothing.
    """
    root = Path(project.path)
    staging = root / STAGING
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted save: only ever our own copies
    commit = _Commit()
    users = [u for u in [*result.users_added, result.user] if u is not None]
    for user in dict.fromkeys(users):
        if user in result.users_added or user.data.updated:
            _stage_document(commit, staging, root / "users", user.name, user.data)
    for subject in [*result.added, *result.updated]:
        subject.data["setup"] = str(subject.setup.uuid4 if subject.setup else None)
        _stage_document(commit, staging, root / "subjects", subject.name, subject.data)
    for setup in result.changed_setups:
        setup.data["subjects"] = [subject.name for subject in setup.subjects]
        _stage_file(commit, Path(setup.path) / f"{setup.name}.json", setup.data)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for subject in result.removed:
        folder = root / "subjects" / subject.name
        if folder.exists():
            commit.moves.append((folder, root / REMOVED / f"{subject.name}--{stamp}"))
    for source, target in commit.moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    if staging.exists():
        shutil.rmtree(staging)
    return [target for _, target in commit.moves]


def _stage_document(commit: _Commit, staging: Path, parent: Path, name: str, data: Any) -> None:
    """Stage ``<parent>/<name>/<name>.json``: in place if the folder exists, else a whole new folder."""
    folder = parent / name
    if folder.is_dir():
        _stage_file(commit, folder / f"{name}.json", data)
        return
    staged = staging / parent.name / name
    staged.mkdir(parents=True)
    _write_synced(staged / f"{name}.json", _render(data))
    commit.moves.append((staged, folder))


def _stage_file(commit: _Commit, path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    _write_synced(Path(tmp), _render(data))
    commit.moves.append((Path(tmp), path))


def _render(data: Any) -> str:
    """The document as PyBpod writes it (``sca`` JSON: header, indent 4, sorted keys)."""
    buffer = io.StringIO()
    sca_json.dump(data, buffer)
    return buffer.getvalue()


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
