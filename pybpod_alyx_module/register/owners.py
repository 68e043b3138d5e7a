"""Which processes are sending from an outbox, and which of them died.

Each process that sends holds an exclusive SQLite lock on a small file of its own,
``<outbox>.owners/<owner id>``, for as long as it lives. The operating system drops
the lock when the process ends, however it ends (SIGKILL, a crash, a power cut), so
another process learns that an owner is gone by trying to take its lock. SQLite's
locks are the same on Windows and POSIX, and work between two connections of one
process too: no ``fcntl``, no pid that might be recycled.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path


def owners_folder(outbox_path: Path) -> Path:
    return outbox_path.with_name(outbox_path.name + ".owners")


class OwnerLock:
    """This process's claim to be alive, held until :meth:`release`."""

    def __init__(self, outbox_path: Path) -> None:
        self.id = uuid.uuid4().hex
        folder = owners_folder(outbox_path)
        folder.mkdir(exist_ok=True)
        self._path = folder / self.id
        self._connection = sqlite3.connect(
            self._path, isolation_level=None, timeout=0, check_same_thread=False
        )
        self._connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        """Give up the claim (the items this owner still holds become free)."""
        self._connection.rollback()
        self._connection.close()
        self._path.unlink(missing_ok=True)


def owner_alive(outbox_path: Path, owner: str) -> bool:
    """True while the process that took ``owner``'s lock still holds it.

    A dead owner's file is removed on the way.
    """
    path = owners_folder(outbox_path) / owner
    if not path.is_file():
        return False
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError:
        return True  # locked: its process lives
    finally:
        probe.close()
    path.unlink(missing_ok=True)
    return False
