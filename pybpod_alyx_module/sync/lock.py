"""One sync at a time per project, across processes: the command line and the GUI alike.

Two syncs of one project at once would rewrite each other's files and delete each
other's temporary ones. Each holds ``<project>/.alyx-sync.lock`` (an OS lock by
`filelock <https://py-filelock.readthedocs.io>`_: ``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows, released by the OS if the process dies), and a second
one waits a little, then stops with a message saying why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from .errors import ProjectBusy, ProjectNotWritable
from .paths import ProjectFolder

#: The lock file, in the project folder (PyBpod ignores files at the project's top).
LOCK_FILE = ".alyx-sync.lock"
#: How long a second sync waits for the first, in seconds, by default.
LOCK_TIMEOUT = 5.0


@contextmanager
def project_lock(
    path: str | os.PathLike, timeout: float | None = None, create: bool = True
) -> Iterator[Path | None]:
    """Hold the project's sync lock meanwhile; yields the lock file's path.

    Re-entrant in one thread (the command line holds it for the whole sync, and
    :func:`~pybpod_alyx_module.sync.save.save_sync` takes it again); another thread
    or process waits up to ``timeout`` seconds (default :data:`LOCK_TIMEOUT`). A project folder that does not
    exist yet is made to hold the lock (with ``create``; without, nothing is
    locked and ``None`` is yielded: there is no project to protect), and removed
    again on the way out if nothing but the lock went into it.

    Raises
    ------
    ProjectBusy
        Another sync held the project for ``timeout`` seconds.
    ProjectNotWritable
        The lock file cannot be created (read-only folder, no permission, full disk).
    UnsafeProjectPath
        The lock file's place is a link.
    """
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    folder = Path(os.path.abspath(Path(path).expanduser()))
    if not folder.is_dir() and (not create or folder.exists()):
        yield None  # no project folder (or a file): nothing to protect, opening it will say why
        return
    made = _make_folder(folder)
    try:
        lock_path = ProjectFolder(folder) / LOCK_FILE
        lock = filelock.FileLock(lock_path, is_singleton=True)
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise ProjectBusy(
                f"Another sync of {folder} is running (it holds {lock_path}); "
                f"waited {timeout:g} s. Try again when it has finished."
            ) from None
        except OSError as exc:
            raise ProjectNotWritable(
                f"Cannot lock {folder} for the sync: {exc.strerror or exc} ({lock_path})"
            ) from None
        try:
            yield lock_path
        finally:
            lock.release()
    finally:
        if made is not None:
            _remove_if_only_the_lock(folder, made)


def _make_folder(folder: Path) -> Path | None:
    """Create ``folder`` if missing; return the topmost folder created (``None``: none)."""
    if folder.exists():
        return None
    top = folder
    while not top.parent.exists():
        top = top.parent
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise ProjectNotWritable(f"Cannot create {folder}: {exc.strerror or exc}") from None
    return top


def _remove_if_only_the_lock(folder: Path, top: Path) -> None:
    """Undo :func:`_make_folder` when the sync left nothing in the new folder but its lock."""
    if not folder.is_dir() or {p.name for p in folder.iterdir()} - {LOCK_FILE}:
        return
    try:
        (folder / LOCK_FILE).unlink(missing_ok=True)
        current = folder
        while True:
            current.rmdir()
            if current == top:
                break
            current = current.parent
    except OSError:
        pass  # someone else is using it now: leaving an empty folder is harmless
