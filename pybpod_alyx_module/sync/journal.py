"""Whole-sync atomicity: a journal of the commit's moves, rolled forward after a kill.

A save first makes the staging folder ``.alyx-staging`` (it marks a save in progress),
then *stages* every file: a rewritten one beside the file it replaces
(``.<name>.<random>.alyx-tmp``, hidden from PyBpod), new subject and user folders whole
under the staging folder. Then it writes the journal (``.alyx-journal.json``, one compact
file, flushed, by rename) listing the commit's moves, and only then makes the moves. So,
whenever the process dies:

- no journal yet: the project is as before the sync; what was staged is leftovers,
  deleted by :func:`recover_interrupted_sync`;
- a journal: the sync was decided and its files are whole on disk; the moves are
  made again (each one that already happened is skipped), then the journal goes, then
  the staging folder.

The journal lists the moves in order, cut into *steps*: the moves of one step are
independent (no move touches another's paths) and are made together by a few threads; a
step starts once the previous one is done (the subjects leaving the project first, a new
project's file last). A journal without steps is made one move at a time.

The command line calls :func:`recover_interrupted_sync` before anything else, and the
plugin when PyBpod opens a project: a user sees the project as before or as after a
sync, never in between. Without a staging folder there is nothing to recover: the check
costs two ``lstat`` calls, however large the project.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import TypeVar

from .durable import flush_files, flush_folders, in_threads
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

#: One move of the commit: (staged path, final path), both inside the project, on its root.
Move = tuple[str, str]
Item = TypeVar("Item")


def temporary_beside(path: str) -> str:
    """A new, unused name for a temporary file next to ``path`` (hidden from PyBpod)."""
    parent, name = os.path.split(path)
    return os.path.join(parent, f".{name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")


def write_journal(folder: ProjectFolder, steps: list[list[Move]], folders: list[str]) -> None:
    """Record the commit durably: from now on the sync will be completed, whatever happens.

    ``steps``: the moves, in steps made one after the other (see the module's docstring).
    """
    relative = folder.relative
    entry = {
        "folders": [relative(path) for path in folders],
        "moves": [
            [relative(source), relative(target)] for step in steps for source, target in step
        ],
        "steps": [len(step) for step in steps],
    }
    journal = str(folder / JOURNAL)
    temporary = temporary_beside(journal)
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, separators=(",", ":")))
    flush_files([temporary])
    os.replace(temporary, journal)
    flush_folders([folder.root])


def roll_forward(folder: ProjectFolder) -> int:
    """Make every move the journal lists that has not happened yet; return how many it made.

    Each path is checked again, all before the first move (a link planted since is refused).
    """
    journal = folder / JOURNAL
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        folders = [folder.check(relative) for relative in entry["folders"]]
        moves = [
            (folder.check(source), folder.check(target)[0]) for source, target in entry["moves"]
        ]
        steps = _in_steps(moves, entry.get("steps", [1] * len(moves)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InterruptedSync(
            f"{journal} (the record of an interrupted sync) cannot be read: {exc}. "
            "Move it away to open the project as it is."
        ) from None
    for path, status in folders:
        if status is None:
            os.mkdir(path)
    made, targets, sources = 0, {str(folder.root)}, set()
    for step in steps:
        pending = [(source, target) for (source, status), target in step if status is not None]
        for parent in {
            os.path.dirname(t) for s, t in pending if os.path.dirname(s) != os.path.dirname(t)
        }:
            os.makedirs(parent, exist_ok=True)  # e.g. .alyx-removed
        in_threads(_move, pending)
        made += len(pending)
        for (source, _), target in step:
            targets.add(os.path.dirname(target))
            sources.add(os.path.dirname(source))
    # a target's folder is there (made above, or by the move made before a kill); a
    # source's folder (under the staging folder) may not be, in a journal rolled forward again
    flush_folders([*targets, *(path for path in sources - targets if os.path.isdir(path))])
    journal.unlink()
    _remove_staging(folder)
    return made


def _in_steps(moves: list[Item], sizes: list[int]) -> list[list[Item]]:
    """``moves`` cut into steps of ``sizes`` (a journal without sizes: one move a step)."""
    if sum(sizes) != len(moves) or any(size < 1 for size in sizes):
        raise ValueError(f"its steps ({sizes}) do not add up to its {len(moves)} moves")
    ends = list(itertools.accumulate(sizes))
    return [moves[end - size : end] for size, end in zip(sizes, ends)]


def _move(move: Move) -> None:
    os.replace(*move)


def discard_staged(folder: ProjectFolder) -> int:
    """Delete what a save staged before its journal (nothing else); return how many paths.

    A save makes the staging folder before its first temporary file and removes it after
    its last: without it, there is nothing to look for.
    """
    if folder.check(STAGING)[1] is None:
        return 0
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
