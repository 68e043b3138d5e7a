"""Whole-sync atomicity: a journal of the commit's moves, rolled forward after a kill.

A save first *stages* every new file beside the file it replaces (``.<name>.<random>
.alyx-tmp``) or, for new subject and user folders, whole under ``.alyx-staging/``.
None of that is visible to PyBpod. Then it writes the journal
(``.alyx-journal.json``, durably, by rename) listing every move of the commit, and
only then makes the moves. So, whenever the process dies:

- no journal yet: the project is as before the sync; what was staged is leftovers,
  deleted by :func:`recover_interrupted_sync`;
- a journal: the sync was decided and its files are whole on disk; the moves are
  made again (each one that already happened is skipped), then the journal goes.

The command line calls :func:`recover_interrupted_sync` before anything else, and the
plugin when PyBpod opens a project: a user sees the project as before or as after a
sync, never in between.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from .durable import flush_files, flush_folders
from .errors import InterruptedSync
from .lock import project_lock
from .paths import ProjectFolder, is_link

JOURNAL = ".alyx-journal.json"
STAGING = ".alyx-staging"
#: The end of every temporary file a save writes (and a recovery may delete).
TEMPORARY_SUFFIX = ".alyx-tmp"
#: The folders whose files a save rewrites in place, relative to the project; ``*`` is one
#: folder name. The project folder itself holds the project file and the journal.
_REWRITTEN_IN = ("", "users/*", "subjects/*", "experiments/*/setups/*")

#: One move of the commit: (staged path, final path), both inside the project.
Move = tuple[Path, Path]


def temporary_beside(path: Path) -> Path:
    """A new, unused name for a temporary file next to ``path`` (hidden from PyBpod)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")


def write_journal(folder: ProjectFolder, moves: list[Move], folders: list[Path]) -> None:
    """Record the commit durably: from now on the sync will be completed, whatever happens."""
    journal = folder / JOURNAL
    entry = {
        "folders": [folder.relative(path) for path in folders],
        "moves": [[folder.relative(source), folder.relative(target)] for source, target in moves],
    }
    temporary = temporary_beside(journal)
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(entry, handle, indent=1)
    flush_files([temporary])
    os.replace(temporary, journal)
    flush_folders([folder.root])


def roll_forward(folder: ProjectFolder) -> int:
    """Make every move the journal lists that has not happened yet; return how many it made.

    Each path is checked again (a link planted since is refused before any move).
    """
    journal = folder / JOURNAL
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        folders = [folder / relative for relative in entry["folders"]]
        moves = [(folder / source, folder / target) for source, target in entry["moves"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InterruptedSync(
            f"{journal} (the record of an interrupted sync) cannot be read: {exc}. "
            "Move it away to open the project as it is."
        ) from None
    for path in folders:
        path.mkdir(exist_ok=True)
    made, changed = 0, {folder.root}
    for source, target in moves:
        if os.path.lexists(source):
            if target.parent not in changed:
                target.parent.mkdir(parents=True, exist_ok=True)  # e.g. .alyx-removed
            os.replace(source, target)
            made += 1
        changed.update((source.parent, target.parent))
    flush_folders(path for path in changed if path.is_dir())
    journal.unlink()
    _remove_staging(folder)
    return made


def discard_staged(folder: ProjectFolder) -> int:
    """Delete what a save staged before its journal (nothing else); return how many paths."""
    leftovers = [
        path
        for pattern in _REWRITTEN_IN
        for parent in _folders(folder.root, pattern)
        for path in parent.glob(f".*{TEMPORARY_SUFFIX}")
    ]
    for path in leftovers:
        folder.inside(path).unlink()
    return len(leftovers) + _remove_staging(folder)


def recover_interrupted_sync(path: str | os.PathLike, timeout: float | None = None) -> str | None:
    """Complete (or undo) a sync that was interrupted in ``path``; say what was done.

    Returns ``None`` when there was nothing to do (the usual case, costing a few
    ``stat`` calls). Takes the project's sync lock meanwhile (re-entrant).

    Raises
    ------
    ProjectBusy
        Another sync is running: its staged files are not leftovers.
    UnsafeProjectPath
        A path to recover is a link.
    InterruptedSync
        The journal cannot be read.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        return None
    with project_lock(path, timeout):
        folder = ProjectFolder(path)
        try:
            if os.path.lexists(folder / JOURNAL):
                made = roll_forward(folder)
                return (
                    f"Completed an interrupted sync in {folder.root} ({made} moves left to make)."
                )
            if discard_staged(folder):
                return (
                    f"Removed what an interrupted sync had staged in {folder.root}: "
                    "the project is as it was before that sync."
                )
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise InterruptedSync(
                f"Completing a sync interrupted in {folder.root} failed: "
                f"{exc.strerror or exc}{where}. Nothing else was changed; fix that, then "
                "sync again (it completes the interrupted sync first)."
            ) from None
    return None


def _folders(root: Path, pattern: str) -> list[Path]:
    """The real folders (never links) matching ``pattern`` below ``root``."""
    found = [root]
    for part in filter(None, pattern.split("/")):
        found = [
            child
            for parent in found
            for child in (parent.iterdir() if part == "*" else [parent / part])
            if child.is_dir() and not is_link(child)
        ]
    return found


def _remove_staging(folder: ProjectFolder) -> int:
    staging = folder / STAGING
    if not staging.exists():
        return 0
    shutil.rmtree(staging)
    return 1
