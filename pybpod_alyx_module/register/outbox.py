"""The outbox: a durable local queue of what must reach Alyx (SQLite, standard library).

Every registration is written here first, then sent. An item is never deleted: it is
``pending`` until Alyx has every record of it (then ``sent``), or ``attention`` when
Alyx refused it for a reason a person must fix, or ``discarded`` by a person. Nothing
leaves the outbox silently.

Exactly once toward Alyx, across processes and crashes:

- a sender *claims* items in one write transaction (``BEGIN IMMEDIATE``), stamping them
  with its owner id; another process claims only unowned items, or those of an owner
  that died (:mod:`.owners`) — so two processes never send one item at the same time;
- each step's progress (the Alyx session's id, "weighing done", …) is committed as soon
  as Alyx answers, and *before* each create the step is marked "posting": a step found
  marked on a later attempt may have reached Alyx without its answer reaching us, so it
  is searched for before anything is created again (:mod:`.sender`).

The database uses WAL journaling with ``synchronous=FULL``: a committed step survives a
killed process and a power cut.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .owners import OwnerLock, owner_alive

PENDING = "pending"
SENT = "sent"
ATTENTION = "attention"
DISCARDED = "discarded"
STATES = (PENDING, SENT, ATTENTION, DISCARDED)

#: A claim older than this is free even if its owner looks alive (a safety valve).
LEASE_SECONDS = 30 * 60

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    subject TEXT,
    label TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    progress TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    server_failures INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    fix TEXT,
    owner TEXT,
    lease_until REAL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_state ON items (state, next_try);
CREATE TABLE IF NOT EXISTS notices (
    key TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    created REAL NOT NULL,
    shown INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS server (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL,
    next_try REAL NOT NULL,
    last_error TEXT
);
"""


class OutboxError(Exception):
    """The outbox file cannot be opened or written (full disk, read-only folder, not SQLite)."""


class ClaimLost(Exception):
    """This process no longer owns an item (it was thought dead): it must stop sending it."""


@dataclass(frozen=True)
class Item:
    """One outbox item as stored."""

    id: int
    key: str
    label: str
    payload: dict[str, Any]
    state: str
    progress: dict[str, Any]
    attempts: int
    server_failures: int
    next_try: float
    last_error: str | None
    fix: str | None
    created: float
    updated: float


class Outbox:
    """The outbox in ``path`` (created if missing). Safe to share between threads.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with Outbox(Path(folder) / "alyx_outbox.sqlite") as outbox:
    ...         outbox.add("weighing:1", "SW_001 21.4 g", {"weight": 21.4})
    ...         outbox.counts()
    True
    {'pending': 1, 'sent': 0, 'attention': 0, 'discarded': 0}
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().resolve()
        self._lock = threading.RLock()
        self._owner: OwnerLock | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"Cannot open the Alyx outbox {self.path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._owner is not None:
                self._owner.release()
                self._owner = None
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- queueing ------------------------------------------------------------------

    def add(self, key: str, label: str, payload: dict[str, Any]) -> bool:
        """Queue an item; False if its key is already queued (a discarded one is queued anew)."""
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT state FROM items WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO items (key, subject, label, payload, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, _subject_of(payload), label, json.dumps(payload), now, now),
                )
                return True
            if row[0] != DISCARDED:
                return False
            db.execute(
                "UPDATE items SET payload = ?, label = ?, state = ?, progress = '{}', "
                "attempts = 0, server_failures = 0, next_try = 0, last_error = NULL, "
                "fix = NULL, owner = NULL, updated = ? WHERE key = ?",
                (json.dumps(payload), label, PENDING, now, key),
            )
            return True

    def has(self, key: str) -> bool:
        """True if an item with this key was ever queued (and not discarded)."""
        with self._lock:
            row = self._db.execute("SELECT state FROM items WHERE key = ?", (key,)).fetchone()
        return row is not None and row[0] != DISCARDED

    # -- reading -------------------------------------------------------------------

    def items(self, *states: str) -> list[Item]:
        """Items in these states (all when none given), oldest first."""
        query = "SELECT * FROM items"
        if states:
            query += f" WHERE state IN ({', '.join('?' * len(states))})"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", states).fetchall()
        return [_item(row) for row in rows]

    def get(self, item_id: int) -> Item | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall()
        found = {row[0]: row[1] for row in rows}
        return {state: found.get(state, 0) for state in STATES}

    def next_try(self) -> float | None:
        """When the earliest pending item may be tried (epoch seconds), if any is pending.

        Never before the server's own next try, while it is away (:meth:`server_away`).
        """
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_try) FROM items WHERE state = ?", (PENDING,)
            ).fetchone()
        if row[0] is None:
            return None
        return max(row[0], self.server_state()[1])

    # -- the server's availability (shared by every item) ------------------------------

    def server_state(self) -> tuple[int, float, str | None]:
        """``(failures in a row, next try, last error)`` of reaching the server at all."""
        with self._lock:
            row = self._db.execute(
                "SELECT failures, next_try, last_error FROM server WHERE id = 1"
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (0, 0.0, None)

    def server_away(self, error: str, delay: float) -> None:
        """The server could not be reached: no item is tried before ``delay`` seconds."""
        with self._write() as db:
            db.execute(
                "INSERT INTO server (id, failures, next_try, last_error) VALUES (1, 1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET failures = failures + 1, "
                "next_try = excluded.next_try, last_error = excluded.last_error",
                (time.time() + delay, error),
            )

    def server_back(self) -> None:
        """The server answered: its failures are forgotten."""
        with self._write() as db:
            db.execute("DELETE FROM server")

    # -- a person's decisions ------------------------------------------------------

    def retry(self, item_id: int | None = None) -> int:
        """Send again now: one item, or every pending and needs-attention item. Returns how many."""
        where, args = ("id = ?", (item_id,)) if item_id is not None else ("1", ())
        with self._write() as db:
            cursor = db.execute(
                "UPDATE items SET state = ?, next_try = 0, attempts = 0, server_failures = 0, "
                f"fix = NULL, updated = ? WHERE {where} AND state IN (?, ?)",
                (PENDING, time.time(), *args, PENDING, ATTENTION),
            )
            return cursor.rowcount

    def discard(self, item_id: int) -> bool:
        """Give up an item on purpose; it stays listed as discarded. False if there is none to."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE items SET state = ?, owner = NULL, updated = ? "
                "WHERE id = ? AND state IN (?, ?)",
                (DISCARDED, time.time(), item_id, PENDING, ATTENTION),
            )
            return cursor.rowcount == 1

    # -- notices (things to tell the user once) -------------------------------------

    def notice(self, key: str, message: str) -> None:
        """Remember something to tell the user, once per key."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO notices (key, message, created) VALUES (?, ?, ?)",
                (key, message, time.time()),
            )

    def take_notices(self) -> list[str]:
        """The notices not shown yet, marked shown."""
        with self._write() as db:
            rows = db.execute("SELECT key, message FROM notices WHERE shown = 0").fetchall()
            db.execute("UPDATE notices SET shown = 1 WHERE shown = 0")
        return [message for _, message in rows]

    # -- sending (used by the flush) -----------------------------------------------

    @property
    def owner(self) -> str:
        """This process's owner id (its lock is taken on first use)."""
        with self._lock:
            if self._owner is None:
                self._owner = OwnerLock(self.path)
            return self._owner.id

    def claim(self, limit: int = 1, due_only: bool = True) -> list[Item]:
        """Take up to ``limit`` pending items for this process (oldest first).

        With ``due_only``, items waiting for a later retry are left alone. One subject's
        items are sent one at a time, by one sender: a session's number is the next free
        one for its subject and day, which two sessions sent at once would both take.
        """
        me = self.owner
        now = time.time()
        with self._write() as db:
            others = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT owner FROM items WHERE state = ? AND owner IS NOT NULL "
                    "AND owner != ? AND lease_until > ?",
                    (PENDING, me, now),
                )
            ]
            dead = [owner for owner in others if not owner_alive(self.path, owner)]
            for owner in dead:
                db.execute("UPDATE items SET owner = NULL WHERE owner = ?", (owner,))
            due = "AND next_try <= :now" if due_only else ""
            candidates = db.execute(
                "SELECT * FROM items WHERE state = :pending "
                f"AND (owner IS NULL OR lease_until <= :now) {due} "
                "AND (subject IS NULL OR subject NOT IN (SELECT subject FROM items "
                "WHERE state = :pending AND owner IS NOT NULL AND lease_until > :now "
                "AND subject IS NOT NULL)) ORDER BY id",
                {"pending": PENDING, "now": now},
            )
            rows, subjects = [], set()
            for row in candidates:
                if row["subject"] is None or row["subject"] not in subjects:
                    rows.append(row)
                    subjects.add(row["subject"])
                if len(rows) == limit:
                    break
            ids = [row["id"] for row in rows]
            db.executemany(
                "UPDATE items SET owner = ?, lease_until = ? WHERE id = ?",
                [(me, now + LEASE_SECONDS, item_id) for item_id in ids],
            )
        return [_item(row) for row in rows]

    def save_progress(self, item_id: int, progress: dict[str, Any]) -> None:
        """Commit a step's progress; raises :class:`ClaimLost` if this process lost the item."""
        self._owned_update(item_id, "progress = ?", (json.dumps(progress),))

    def finish(self, item_id: int, progress: dict[str, Any]) -> None:
        """Every record of the item is on Alyx."""
        self._owned_update(
            item_id,
            "state = ?, progress = ?, owner = NULL, last_error = NULL, fix = NULL",
            (SENT, json.dumps(progress)),
        )

    def postpone(self, item_id: int, error: str, delay: float, server_failure: bool) -> None:
        """A transient failure: try again after ``delay`` seconds."""
        self._owned_update(
            item_id,
            "attempts = attempts + 1, server_failures = server_failures + ?, next_try = ?, "
            "last_error = ?, owner = NULL",
            (int(server_failure), time.time() + delay, error),
        )

    def needs_attention(self, item_id: int, error: str, fix: str) -> None:
        """A permanent failure: kept, with the server's words and the fix, until a person acts."""
        self._owned_update(
            item_id,
            "state = ?, attempts = attempts + 1, last_error = ?, fix = ?, owner = NULL",
            (ATTENTION, error, fix),
        )

    def release(self, item_id: int) -> None:
        """Give an item back untouched (the flush stopped before trying it)."""
        self._owned_update(item_id, "owner = NULL", ())

    # -- plumbing ------------------------------------------------------------------

    def _owned_update(self, item_id: int, assignments: str, args: tuple) -> None:
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE items SET {assignments}, updated = ? WHERE id = ? AND owner = ?",
                (*args, time.time(), item_id, self.owner),
            )
            if cursor.rowcount != 1:
                raise ClaimLost(f"outbox item {item_id} is no longer this process's to send")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``), committed or rolled back."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise OutboxError(f"Cannot write the Alyx outbox {self.path}: {exc}") from None
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            try:
                self._db.commit()
            except sqlite3.Error as exc:
                self._db.rollback()
                raise OutboxError(f"Cannot write the Alyx outbox {self.path}: {exc}") from None


def _subject_of(payload: dict[str, Any]) -> str | None:
    """The Alyx id of an item's subject (its items are sent one at a time)."""
    subject = payload.get("subject")
    return str(subject.get("id")) if isinstance(subject, dict) and subject.get("id") else None


def _item(row: sqlite3.Row) -> Item:
    return Item(
        id=row["id"],
        key=row["key"],
        label=row["label"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        progress=json.loads(row["progress"]),
        attempts=row["attempts"],
        server_failures=row["server_failures"],
        next_try=row["next_try"],
        last_error=row["last_error"],
        fix=row["fix"],
        created=row["created"],
        updated=row["updated"],
    )
