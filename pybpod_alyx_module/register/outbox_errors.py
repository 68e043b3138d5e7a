"""What can be wrong with the outbox file, said as one line naming it and giving the fix.

Whatever SQLite or the operating system raises about the file — damaged, read-only,
locked, on a full disk — becomes an :class:`OutboxError` here, so that no caller ever
shows a traceback. A damaged outbox is never deleted or rewritten: the user moves it
aside, and what it held is kept.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from pybpod_alyx_module.alyx.server_words import bounded
from pybpod_alyx_module.errors import PluginError

#: What SQLite and the system raise about the file (the text of a damaged one may not decode).
FAILURES = (sqlite3.Error, OSError, UnicodeDecodeError)
#: SQLite's (and Python's sqlite3's) words for a damaged file, where no code says it.
_DAMAGE_SIGNS = ("malformed", "not a database", "Could not decode")
# SQLite's primary result codes (``sqlite3`` names them only from Python 3.11).
_BUSY, _LOCKED, _IOERR, _CORRUPT, _FULL, _NOTADB = 5, 6, 10, 11, 13, 26


class OutboxError(PluginError):
    """The outbox file cannot be used: the message names it, says what is wrong and the fix."""


def damaged(path: Path, what: str) -> OutboxError:
    """The error for a damaged outbox: moved aside by the user, never deleted by the plugin."""
    return OutboxError(
        f"The Alyx outbox {path} is damaged ({what}). Move it aside (rename it, e.g. to "
        f"{path.name}.damaged), then run again: a new outbox is made, and the project's "
        "sessions are queued anew (those already on Alyx are found, not sent twice). What "
        "the damaged file held is not lost: it is kept where you moved it."
    )


def explain(error: BaseException, path: Path, busy_timeout: float) -> OutboxError:
    """``error`` (from SQLite or the system) as what is wrong with the outbox ``path``, and the fix.

    ``busy_timeout``: how long a lock held by another program was waited for.
    """
    if isinstance(error, OutboxError):
        return error
    name = path.name
    if isinstance(error, UnicodeDecodeError):  # SQLite hands back text Python cannot read
        return damaged(path, "it holds text that is not UTF-8")
    if isinstance(error, OSError) and not isinstance(error, sqlite3.Error):
        where = error.filename or path.parent
        return OutboxError(
            f"Cannot use the Alyx outbox {path}: {where}: {error.strerror or error}. "
            "Check that its folder can be written (or set ALYX_PLUGIN_OUTBOX to a file "
            "that can), then run again."
        )
    code = getattr(error, "sqlite_errorcode", -1) & 0xFF
    words = bounded(" ".join(str(error).split()), 300)  # may quote a damaged schema
    if code in (_CORRUPT, _NOTADB) or any(sign in words for sign in _DAMAGE_SIGNS):
        return damaged(path, f"SQLite says: {words}")
    if code in (_BUSY, _LOCKED) or "is locked" in words:
        return OutboxError(
            f"The Alyx outbox {path} is locked by another program (another PyBpod "
            f"or pybpod-alyx, or a database browser) and stayed locked for "
            f"{busy_timeout:g} s. Close it or let it finish, then run again; "
            "nothing was lost."
        )
    if code == _FULL or "disk is full" in words:
        return OutboxError(
            f"The Alyx outbox {path} cannot be written: the disk is full. Free some "
            "space on it, then run again; what the outbox holds is kept."
        )
    if not_writable := _not_writable(path):
        return OutboxError(
            f"The Alyx outbox {path} cannot be written: {not_writable}. Make it "
            "writable (or set ALYX_PLUGIN_OUTBOX to a file that is), then run again; "
            "nothing in it was changed."
        )
    if code == _IOERR:
        return OutboxError(
            f"The Alyx outbox {path} could not be read or written ({words}): check "
            "the disk or network share it is on, then run again."
        )
    return OutboxError(
        f"Cannot use the Alyx outbox {path} ({words}): check that {name} and its "
        "folder can be read and written, then run again."
    )


def _not_writable(path: Path) -> str | None:
    """Why the file or its folder cannot be written, if it is so."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"its folder {folder} is read-only (SQLite writes {path.name}-wal and "
            f"{path.name}-shm beside it)"
        )
    return None
