"""The outbox: a durable local queue of what must reach Alyx (SQLite, standard library).

Every registration is written here first, then sent. An item is never deleted: it is
``pending`` until Alyx has every record of it (then ``sent``), or ``attention`` when
Alyx refused it for a reason a person must fix, or ``discarded`` by a person — for good:
queueing the same registration again leaves it discarded unless asked for explicitly
(``again``). A sent item a person took back is ``withdrawn``: its records were removed from
Alyx (:mod:`.withdraw`), and it is never queued or sent again. Nothing leaves the outbox
silently.

Exactly once toward Alyx, across processes and crashes:

- a sender *claims* items in one write transaction (``BEGIN IMMEDIATE``), stamping them
  with its owner id; another process claims only unowned items, or those of an owner
  that died (:mod:`.owners`) — so two processes never send one item at the same time;
- each step's progress (the Alyx session's id, "weighing done", …) is committed as soon
  as Alyx answers, and *before* each create the step is marked "posting": a step found
  marked on a later attempt may have reached Alyx without its answer reaching us, so it
  is searched for before anything is created again (:mod:`.sender`).

The database uses WAL journaling with ``synchronous=FULL``: a committed step survives a
killed process and a power cut. The file itself is opened and checked by
:mod:`.outbox_db`: any failure of it is an :class:`OutboxError` with the fix.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pybpod_alyx_module.alyx.server_words import bounded

from .outbox_claims import LEASE_SECONDS, ClaimLost, Claims
from .outbox_db import OutboxFile
from .outbox_errors import OutboxError, damaged
from .outbox_items import (
    ATTENTION,
    DISCARDED,
    PENDING,
    SENT,
    STATES,
    WITHDRAWN,
    Item,
    is_count,
    read_item,
    read_time,
)
from .owners import OwnerLock

__all__ = ["ATTENTION", "DISCARDED", "LEASE_SECONDS", "PENDING", "SENT", "STATES", "WITHDRAWN",
           "ClaimLost", "Item", "Outbox", "OutboxError"]  # fmt: skip

#: The longest notice kept (it is the plugin's own text, with names in it).
NOTICE_LIMIT = 2000


class Outbox(Claims):
    """The outbox in ``path`` (created if missing). Safe to share between threads.

    Parameters
    ----------
    path
        The outbox file (never reached through a link, see :mod:`.outbox_db`).
    busy_timeout
        Seconds to wait for another process's write before an :class:`OutboxError`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with Outbox(Path(folder) / "alyx_outbox.sqlite") as outbox:
    ...         outbox.add("weighing:1", "SW_001 21.4 g", {"weight": 21.4})
    ...         outbox.counts()
    True
    {'pending': 1, 'sent': 0, 'attention': 0, 'discarded': 0, 'withdrawn': 0}
    """

    def __init__(self, path: str | Path, busy_timeout: float = 30.0) -> None:
        self._file = OutboxFile(path, busy_timeout)
        self.path = self._file.path
        self._owner: OwnerLock | None = None

    def close(self) -> None:
        with self._file.lock:
            if self._owner is not None:
                self._owner.release()
                self._owner = None
            self._file.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- queueing ------------------------------------------------------------------

    def add(self, key: str, label: str, payload: dict[str, Any], again: bool = False) -> bool:
        """Queue an item; False if its key was queued before.

        A discarded item stays discarded (a person gave it up) unless ``again``: then it is
        queued anew, from ``payload``, as if never tried.
        """
        now = time.time()
        with self._file.writing() as db:
            row = db.execute("SELECT state FROM items WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO items (key, subject, label, payload, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, _subject_of(payload), label, json.dumps(payload), now, now),
                )
                return True
            if row[0] != DISCARDED or not again:
                return False
            db.execute(
                "UPDATE items SET payload = ?, label = ?, state = ?, progress = '{}', "
                "attempts = 0, failed_tries = 0, server_failures = 0, next_try = 0, "
                "last_error = NULL, fix = NULL, owner = NULL, updated = ? WHERE key = ?",
                (json.dumps(payload), label, PENDING, now, key),
            )
            return True

    def state_of(self, key: str) -> str | None:
        """The state of the item with this key, or ``None`` if it was never queued."""
        with self._file.reading() as db:
            row = db.execute("SELECT state FROM items WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reading -------------------------------------------------------------------

    def items(self, *states: str) -> list[Item]:
        """Items in these states (all when none given), oldest first."""
        query = "SELECT * FROM items"
        if states:
            query += f" WHERE state IN ({', '.join('?' * len(states))})"
        with self._file.reading() as db:
            rows = db.execute(query + " ORDER BY id", states).fetchall()
        return [read_item(row, self.path) for row in rows]

    def get(self, item_id: int) -> Item | None:
        with self._file.reading() as db:
            row = db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return read_item(row, self.path) if row else None

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        with self._file.reading() as db:
            rows = db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall()
        found = {row[0]: row[1] for row in rows}
        return {state: found.get(state, 0) for state in STATES}

    def next_try(self) -> float | None:
        """When the earliest pending item may be tried (epoch seconds), if any is pending.

        Never before the server's own next try, while it is away (:meth:`server_away`).
        """
        with self._file.reading() as db:
            row = db.execute(
                "SELECT MIN(next_try) FROM items WHERE state = ?", (PENDING,)
            ).fetchone()
        if row[0] is None:
            return None
        return max(read_time(row[0], self.path, "a next try"), self.server_state()[1])

    # -- the server's availability (shared by every item) ------------------------------

    def server_state(self) -> tuple[int, float, str | None]:
        """``(failures in a row, next try, last error)`` of reaching the server at all."""
        with self._file.reading() as db:
            row = db.execute(
                "SELECT failures, next_try, last_error FROM server WHERE id = 1"
            ).fetchone()
        if row is None:
            return (0, 0.0, None)
        if not (is_count(row[0]) and isinstance(row[2], (str, type(None)))):
            raise damaged(self.path, "its record of the server's failures cannot be read")
        return (row[0], read_time(row[1], self.path, "the server's next try"), row[2])

    def server_away(self, error: str, delay: float) -> None:
        """The server could not be reached: no item is tried before ``delay`` seconds.

        It counts as a try of every item that was due, which keeps the server's words as
        the reason it waits.
        """
        now, words = time.time(), bounded(error)
        with self._file.writing() as db:
            db.execute(
                "INSERT INTO server (id, failures, next_try, last_error) VALUES (1, 1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET failures = failures + 1, "
                "next_try = excluded.next_try, last_error = excluded.last_error",
                (now + delay, words),
            )
            db.execute(
                "UPDATE items SET attempts = attempts + 1, last_error = ?, updated = ? "
                "WHERE state = ? AND next_try <= ? AND (owner IS NULL OR lease_until <= ?)",
                (words, now, PENDING, now, now),
            )

    def server_back(self) -> None:
        """The server answered: its failures are forgotten."""
        with self._file.writing() as db:
            db.execute("DELETE FROM server")

    # -- a person's decisions ------------------------------------------------------

    def retry(self, item_id: int | None = None) -> int:
        """Send again now: one item, or every pending and needs-attention item. Returns how many.

        The item's tries stay counted; its retry delay starts again from the shortest.
        """
        where, args = ("id = ?", (item_id,)) if item_id is not None else ("1", ())
        with self._file.writing() as db:
            cursor = db.execute(
                "UPDATE items SET state = ?, next_try = 0, failed_tries = 0, "
                f"server_failures = 0, fix = NULL, updated = ? WHERE {where} AND state IN (?, ?)",
                (PENDING, time.time(), *args, PENDING, ATTENTION),
            )
            return cursor.rowcount

    def discard(self, item_id: int) -> bool:
        """Give up an item for good; it stays listed as discarded. False if there is none to."""
        with self._file.writing() as db:
            cursor = db.execute(
                "UPDATE items SET state = ?, owner = NULL, updated = ? "
                "WHERE id = ? AND state IN (?, ?)",
                (DISCARDED, time.time(), item_id, PENDING, ATTENTION),
            )
            return cursor.rowcount == 1

    def withdrawn(self, item_id: int, progress: dict[str, Any]) -> bool:
        """Mark a sent item withdrawn, its records' fate in ``progress``; False if it is not sent.

        One transaction: of two people withdrawing one item at once, one marks it (the other's
        DELETEs found the records gone, and it is told the item is withdrawn already).
        """
        with self._file.writing() as db:
            cursor = db.execute(
                "UPDATE items SET state = ?, progress = ?, owner = NULL, updated = ? "
                "WHERE id = ? AND state = ?",
                (WITHDRAWN, json.dumps(progress), time.time(), item_id, SENT),
            )
            return cursor.rowcount == 1

    # -- notices (things to tell the user once) -------------------------------------

    def notice(self, key: str, message: str) -> None:
        """Remember something to tell the user, once per key."""
        with self._file.writing() as db:
            db.execute(
                "INSERT OR IGNORE INTO notices (key, message, created) VALUES (?, ?, ?)",
                (key, bounded(message, NOTICE_LIMIT), time.time()),
            )

    def take_notices(self) -> list[str]:
        """The notices not shown yet, marked shown."""
        with self._file.writing() as db:
            rows = db.execute("SELECT key, message FROM notices WHERE shown = 0").fetchall()
            db.execute("UPDATE notices SET shown = 1 WHERE shown = 0")
        return [str(message) for _, message in rows]


def _subject_of(payload: dict[str, Any]) -> str | None:
    """The Alyx id of an item's subject (its items are sent one at a time)."""
    subject = payload.get("subject")
    return str(subject.get("id")) if isinstance(subject, dict) and subject.get("id") else None
