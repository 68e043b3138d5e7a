"""What a folder that is not a PyBpod project could be meant to be: new, or a typo.

When a sync's folder is not a project, the command line adds one hint to the error:
for a folder that is missing but named like an existing project beside it
(``alyx-dem0`` for ``alyx-demo``) that project, since ``--create`` would make a
second, empty project by mistake; for a folder that is missing (no close name) or
empty, that ``--create`` makes a new project there. The sync's own lock file
(:data:`~.lock.LOCK_FILE`, left behind on Windows) does not make a folder look used.
"""

from __future__ import annotations

import difflib
import itertools
import os
from pathlib import Path

from .lock import LOCK_FILE

#: Entries of the parent folder looked at for a close name: a folder of many thousands
#: of entries is not read whole for a hint.
SIBLINGS_READ = 2000
#: How close a name must be (difflib's ratio): one letter off in four, two in eight.
CUTOFF = 0.75


def is_empty_folder(folder: str | os.PathLike) -> bool:
    """True for a folder that holds nothing, or only the sync's lock file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     empty = is_empty_folder(folder)
    ...     _ = (Path(folder) / LOCK_FILE).write_bytes(b"")
    ...     with_lock = is_empty_folder(folder)
    >>> empty, with_lock
    (True, True)
    """
    path = Path(folder).expanduser()
    try:
        return path.is_dir() and all(entry.name == LOCK_FILE for entry in path.iterdir())
    except OSError:
        return False


def is_project_folder(folder: Path) -> bool:
    """True if ``folder`` holds its project document (``proj/proj.json``), as PyBpod's."""
    try:
        return folder.is_dir() and (folder / f"{folder.name}.json").is_file()
    except OSError:
        return False


def similar_projects(folder: str | os.PathLike) -> list[Path]:
    """The existing projects beside a missing ``folder`` whose names are close to its own.

    Closest first; compared case-insensitively (``Alyx-Demo`` is close to ``alyx-demo``);
    empty for a folder that exists, or whose parent does not.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as parent:
    ...     demo = Path(parent) / "alyx-demo"
    ...     demo.mkdir()
    ...     _ = (demo / "alyx-demo.json").write_text("{}")
    ...     (Path(parent) / "other").mkdir()
    ...     found = [p.name for p in similar_projects(Path(parent) / "alyx-dem0")]
    >>> found
    ['alyx-demo']
    """
    path = Path(os.path.abspath(Path(folder).expanduser()))
    parent = path.parent
    try:
        if os.path.lexists(path) or not parent.is_dir():
            return []
        with os.scandir(parent) as entries:
            siblings = [Path(e.path) for e in itertools.islice(entries, SIBLINGS_READ)]
    except OSError:
        return []
    projects = {p.name.casefold(): p for p in siblings if is_project_folder(p)}
    close = difflib.get_close_matches(path.name.casefold(), list(projects), n=3, cutoff=CUTOFF)
    return [projects[name] for name in close]
