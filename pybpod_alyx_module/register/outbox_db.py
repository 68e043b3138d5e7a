"""The outbox's SQLite file: opened only where it is, its schema checked, every error explained.

The outbox holds welfare records not yet on Alyx, so it is a file a rig must be able to
trust and a user must be able to mend. Three promises, kept here for every caller:

- **Never through a link**, never a file that is not a whole SQLite database
  (:mod:`.outbox_place`, checked before SQLite opens it).
- **Never another program's file.** A database that is not an outbox (another program's,
  or one written by a newer plugin) is refused untouched, never given our tables; one
  SQLite's own check finds damaged is refused before anything is read from it.
- **Every failure is an** :class:`OutboxError` (:mod:`.outbox_errors`): one line naming the
  file, what is wrong and the fix, whatever SQLite or the operating system said.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pybpod_alyx_module.alyx.server_words import bounded

from .outbox_errors import FAILURES, OutboxError, damaged, explain
from .outbox_place import check_place

#: Marks the file as an Alyx outbox (``PRAGMA application_id``; "Alyx" in ASCII).
APPLICATION_ID = 0x416C7978
#: The schema's version (``PRAGMA user_version``); 0 is an outbox made before it was set.
SCHEMA_VERSION = 2
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    subject TEXT,
    label TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    progress TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    failed_tries INTEGER NOT NULL DEFAULT 0,
    server_failures INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    fix TEXT,
    owner TEXT,
    lease_until REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS items_state ON items (state, next_try)",
    """CREATE TABLE IF NOT EXISTS notices (
    key TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    created REAL NOT NULL,
    shown INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS server (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL,
    next_try REAL NOT NULL,
    last_error TEXT
)""",
)
#: The columns every outbox's tables have (a file without them is not an outbox, or damaged).
COLUMNS = {
    "items": {"id", "key", "subject", "label", "payload", "state", "progress", "attempts",
              "failed_tries", "server_failures", "next_try", "last_error", "fix", "owner",
              "lease_until", "created", "updated"},
    "notices": {"key", "message", "created", "shown"},
    "server": {"id", "failures", "next_try", "last_error"},
}  # fmt: skip


class OutboxFile:
    """The SQLite connection of one outbox file, shared by threads, every error explained.

    Parameters
    ----------
    path
        The outbox file. Its folder is made if missing; the file is made if missing.
    busy_timeout
        Seconds to wait for another process's write before saying the outbox is locked.

    Raises
    ------
    OutboxError
        The file is reached through a link, is not an outbox, is damaged or cannot be
        opened (with the reason and the fix).
    """

    def __init__(self, path: str | os.PathLike, busy_timeout: float = 30.0) -> None:
        given = Path(os.path.abspath(os.path.expanduser(path)))
        self.path = Path(os.path.realpath(given.parent)) / given.name
        self.busy_timeout = busy_timeout
        self.lock = threading.RLock()
        check_place(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self.explain(exc) from None
        try:
            self.db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self.explain(exc) from None
        self.db.row_factory = sqlite3.Row
        try:
            self._prepare()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def explain(self, error: BaseException) -> OutboxError:
        """``error`` about this file as an :class:`OutboxError` (:func:`.outbox_errors.explain`)."""
        return explain(error, self.path, self.busy_timeout)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads; fetch every row inside (a damaged page fails there)."""
        with self.lock:
            try:
                yield self.db
            except FAILURES as exc:
                raise self.explain(exc) from None

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``), committed or rolled back."""
        with self.lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.explain(exc) from None
            try:
                yield self.db
                self.db.commit()
            except BaseException as exc:
                _roll_back(self.db)
                if isinstance(exc, FAILURES):
                    raise self.explain(exc) from None
                raise

    def _prepare(self) -> None:
        """Check that the file is an outbox of a version we read; make or update its tables."""
        with self.reading() as db:
            version, kind = _pragma(db, "user_version"), _pragma(db, "application_id")
            tables = _tables(db)
            if kind not in (0, APPLICATION_ID) or (tables and "items" not in tables):
                raise self._not_an_outbox()
            if version > SCHEMA_VERSION:
                raise OutboxError(
                    f"The Alyx outbox {self.path} was written by a newer version of the plugin "
                    f"(outbox version {version}; this one reads up to {SCHEMA_VERSION}): "
                    "update pybpod-gui-plugin-alyx. The file was left untouched."
                )
            found = str(_pragma(db, "quick_check(1)"))  # ~16 ms for 10,000 items
            if found != "ok":
                raise damaged(
                    self.path, f"SQLite's check found: {bounded(' '.join(found.split()), 200)}"
                )
            if _pragma(db, "journal_mode") != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        if version < SCHEMA_VERSION or kind != APPLICATION_ID:
            with self.writing() as db:  # read again: another process may have done it
                if _pragma(db, "user_version") < SCHEMA_VERSION:
                    _upgrade(db)
        with self.reading() as db:
            tables = _tables(db)
            for table, columns in COLUMNS.items():
                missing = columns - _columns(db, table) if table in tables else columns
                if missing:
                    raise damaged(
                        self.path, f"its table {table} lacks {', '.join(sorted(missing))}"
                    )

    def _not_an_outbox(self) -> OutboxError:
        return OutboxError(
            f"{self.path} is an SQLite database but not an Alyx outbox (another program's, or "
            "a damaged outbox): it was left untouched. Move it aside, or set ALYX_PLUGIN_OUTBOX "
            "to another file; then run again."
        )


def _upgrade(db: sqlite3.Connection) -> None:
    """Make a new outbox's tables, or bring an older one's to :data:`SCHEMA_VERSION`."""
    tables = _tables(db)
    if "items" in tables and "failed_tries" not in _columns(db, "items"):
        # Version 0 counted only failed tries, reset by a person's retry: that is failed_tries.
        db.execute("ALTER TABLE items ADD COLUMN failed_tries INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE items SET failed_tries = attempts")
    for statement in SCHEMA:
        db.execute(statement)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _pragma(db: sqlite3.Connection, name: str) -> object:
    row = db.execute(f"PRAGMA {name}").fetchone()
    return row[0] if row else None


def _tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def _roll_back(db: sqlite3.Connection) -> None:
    """Undo the transaction if one is open (a failed commit may have ended it already)."""
    try:
        if db.in_transaction:
            db.rollback()
    except sqlite3.Error:
        pass  # the error that brought us here is the one to tell
