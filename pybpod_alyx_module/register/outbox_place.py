"""Where the outbox is: a regular SQLite file, never reached through a link.

The outbox file and its companions (``-journal``, ``-wal``, ``-shm``, and the ``.owners``
folder of :mod:`.owners`) are checked with ``lstat`` before SQLite opens them: a symbolic
link or a Windows junction planted there would make SQLite write outside the project, so
it is refused with the reason. The folder holding the outbox is taken as the user chose
it (it may be reached through a link, as a project folder may). A file that is not a
whole SQLite database is refused before SQLite sees it, since SQLite would take a short
one for an empty database and write over it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pybpod_alyx_module.sync.paths import is_link

from .outbox_errors import OutboxError, damaged

#: SQLite's companions of a database file; with ``.owners`` (:mod:`.owners`), what is beside it.
COMPANIONS = ("-journal", "-wal", "-shm", ".owners")
#: How every SQLite database file begins.
SQLITE_HEADER = b"SQLite format 3\x00"


def check_place(path: Path) -> None:
    """Refuse an outbox, or a companion of it, that is a link or not what it should be.

    Raises
    ------
    OutboxError
        With the path, what it is, and what to do.
    """
    for place in [path, *(path.with_name(path.name + end) for end in COMPANIONS)]:
        if is_link(place):
            raise OutboxError(
                f"Refusing to use the Alyx outbox {path}: {place} is a link (a symbolic link or "
                "a junction), and the outbox is never reached through one, so that nothing is "
                "written outside its folder. Put the real file there instead of the link (or "
                "set ALYX_PLUGIN_OUTBOX to it), then run again."
            )
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return  # a new outbox
    except OSError as exc:
        raise OutboxError(
            f"Cannot use the Alyx outbox {path}: {exc.strerror}. Check that {path.parent} is a "
            "folder you can read, or set ALYX_PLUGIN_OUTBOX to another file; then run again."
        ) from None
    if stat.S_ISDIR(status.st_mode):
        raise OutboxError(
            f"The Alyx outbox {path} is a folder, not a file. Move the folder aside (nothing "
            "in it is touched), or set ALYX_PLUGIN_OUTBOX to a file; then run again."
        )
    if not stat.S_ISREG(status.st_mode):
        raise OutboxError(
            f"The Alyx outbox {path} is not a regular file (a device, a pipe or a socket). "
            "Move it aside, or set ALYX_PLUGIN_OUTBOX to a file; then run again."
        )
    if status.st_size:
        _check_header(path, status.st_size)


def _check_header(path: Path, size: int) -> None:
    """Refuse a file that is not a whole SQLite database, before SQLite sees it.

    SQLite takes a file shorter than one page for an empty database, and writes a new one
    over it: a text file, or an outbox cut short, would be overwritten.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as file:
            head = file.read(100)
    except OSError as exc:
        raise OutboxError(
            f"Cannot read the Alyx outbox {path}: {exc.strerror}. Check that it can be read, "
            "then run again."
        ) from None
    if not head.startswith(SQLITE_HEADER):
        raise damaged(path, "it is not an SQLite database")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if len(head) < 100 or page < 512 or page & (page - 1) or size % page:
        raise damaged(path, f"it is cut short, or its header is damaged ({size} bytes)")
