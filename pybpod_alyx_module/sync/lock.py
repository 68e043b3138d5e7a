"""One sync at a time per project, across processes: the command line and the GUI alike.

Two syncs of one project at once would rewrite each other's files and delete each
other's temporary ones. Each holds ``<project>/.alyx-sync.lock`` (an OS lock by
`filelock <https://py-filelock.readthedocs.io>`_: ``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows, released by the OS if the process dies), and a second
one waits a little, then stops with a message saying why.

The lock file exists only while a sync runs (a killed sync leaves it, unlocked, for
the next one to reuse): a dry run or a failed sync leaves the project as it found
it. Deleting a lock file is safe only if every holder checks, once it holds the
lock, that the file it locked is still the one named ``.alyx-sync.lock`` (else a
waiter holding a deleted file and a newcomer holding the new one would both "hold"
it): :func:`project_lock` checks, and deletes the file only where it could check.
"""

from __future__ import annotations

import os
import time
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
    :func:`~pybpod_alyx_module.sync.save.save_sync` takes it again); another
    thread or process waits up to ``timeout`` seconds (default
    :data:`LOCK_TIMEOUT`). A project folder that does not exist yet is made to
    hold the lock (with ``create``; without, nothing is locked and ``None`` is
    yielded: there is no project to protect), and removed again on the way out
    if the sync put nothing into it.

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
        verified = _acquire(lock, lock_path, folder, timeout)
        try:
            yield lock_path
        finally:
            if lock.lock_counter == 1 and verified and os.name == "posix":
                try:
                    lock_path.unlink()  # while still holding it: see the module's docstring
                except OSError:
                    pass  # a read-only folder by now: the file stays, which is harmless
            lock.release()
    finally:
        if made is not None:
            _remove_if_empty(folder, made)


def _acquire(lock: filelock.FileLock, lock_path: Path, folder: Path, timeout: float) -> bool:
    """Acquire ``lock``, retrying if the file locked was deleted meanwhile.

    Returns True if the file held is known to be the one named ``lock_path``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        except filelock.Timeout:
            raise ProjectBusy(
                f"Another sync of {folder} is running (it holds {lock_path}); "
                f"waited {timeout:g} s. Try again when it has finished."
            ) from None
        except OSError as exc:
            raise ProjectNotWritable(
                f"Cannot lock {folder} for the sync: {exc.strerror or exc} ({lock_path})"
            ) from None
        if lock.lock_counter > 1:
            return False  # re-entered: the outermost hold decides
        same = _holds_named_file(lock, lock_path)
        if same is not False:
            return bool(same)
        lock.release()  # the previous holder deleted the file we locked: lock the new one


def _holds_named_file(lock: filelock.FileLock, lock_path: Path) -> bool | None:
    """Is the file ``lock`` holds still named ``lock_path``? ``None``: cannot tell.

    filelock internal: ``lock._context.lock_file_fd`` (the descriptor it locked;
    filelock 3.x and 4.x). Without it, the lock file is simply never deleted.
    """
    descriptor = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
    if descriptor is None:
        return None
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(lock_path))
    except OSError:
        return False


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


def _remove_if_empty(folder: Path, top: Path) -> None:
    """Undo :func:`_make_folder` when the sync left nothing (but maybe its lock) in the folder."""
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
