"""Sending from the outbox: claiming items for this process, and recording each try's outcome.

A sender claims items in one write transaction, stamping them with its owner id
(:mod:`.owners`); every outcome is written only if the item is still this process's
(:class:`ClaimLost` otherwise), so that two processes never send one item at once.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pybpod_alyx_module.alyx.server_words import bounded
from pybpod_alyx_module.errors import PluginError

from .outbox_db import OutboxFile
from .outbox_errors import damaged
from .outbox_items import ATTENTION, PENDING, SENT, Item, read_item
from .owners import OwnerLock, owner_alive

#: A claim older than this is free even if its owner looks alive (a safety valve).
LEASE_SECONDS = 30 * 60
#: What an owner id looks like (:class:`.owners.OwnerLock`); anything else names no process.
_OWNER_ID = re.compile(r"[0-9a-f]{32}")


class ClaimLost(PluginError):
    """This process no longer owns an item (it was thought dead): it must stop sending it."""


class Claims:
    """The sending half of :class:`~.outbox.Outbox` (its file, its path, this process's lock)."""

    _file: OutboxFile
    path: Path
    _owner: OwnerLock | None

    @property
    def owner(self) -> str:
        """This process's owner id (its lock is taken on first use)."""
        with self._file.lock:
            if self._owner is None:
                try:
                    self._owner = OwnerLock(self.path)
                except (OSError, sqlite3.Error) as exc:
                    raise self._file.explain(exc) from None
            return self._owner.id

    def claim(
        self, limit: int = 1, due_only: bool = True, exclude: Collection[int] = ()
    ) -> list[Item]:
        """Take up to ``limit`` pending items for this process (oldest first).

        With ``due_only``, items waiting for a later retry are left alone; items whose id
        is in ``exclude`` (e.g. those this flush tried already) too. One subject's items
        are sent one at a time, by one sender: a session's number is the next free one
        for its subject and day, which two sessions sent at once would both take.
        """
        me = self.owner
        now = time.time()
        with self._file.writing() as db:
            others = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT owner FROM items WHERE state = ? AND owner IS NOT NULL "
                    "AND owner != ? AND lease_until > ?",
                    (PENDING, me, now),
                ).fetchall()
            ]
            for owner in others:
                if not _names_a_process(owner) or not owner_alive(self.path, owner):
                    db.execute("UPDATE items SET owner = NULL WHERE owner = ?", (owner,))
            due = "AND next_try <= :now" if due_only else ""
            candidates = db.execute(
                "SELECT * FROM items WHERE state = :pending "
                f"AND (owner IS NULL OR lease_until <= :now) {due} "
                "AND (subject IS NULL OR subject NOT IN (SELECT subject FROM items "
                "WHERE state = :pending AND owner IS NOT NULL AND lease_until > :now "
                "AND subject IS NOT NULL)) ORDER BY id",
                {"pending": PENDING, "now": now},
            ).fetchall()
            rows, subjects = [], set()
            for row in candidates:
                if len(rows) == limit:
                    break
                if row["id"] in exclude:
                    continue
                if row["subject"] is None or row["subject"] not in subjects:
                    rows.append(row)
                    subjects.add(row["subject"])
            claimed = [read_item(row, self.path) for row in rows]
            stamped = db.executemany(
                "UPDATE items SET owner = ?, lease_until = ? WHERE id = ?",
                [(me, now + LEASE_SECONDS, item.id) for item in claimed],
            ).rowcount
            if claimed and stamped != len(claimed):  # rows read, then not found by their id
                raise damaged(self.path, "its items cannot be found by their id")
        return claimed

    def save_progress(self, item_id: int, progress: dict[str, Any]) -> None:
        """Commit a step's progress; raises :class:`ClaimLost` if this process lost the item."""
        self._owned_update(item_id, "progress = ?", (json.dumps(progress),))

    def finish(
        self,
        item_id: int,
        progress: dict[str, Any],
        note: str | None = None,
        fix: str | None = None,
    ) -> None:
        """Every record of the item is on Alyx (this try counts as one).

        ``note`` and ``fix``: what was left out, and what to do (a location Alyx lacks),
        kept as the sent item's "Why" and "What to do"; none by default.
        """
        self._owned_update(
            item_id,
            "state = ?, progress = ?, attempts = attempts + 1, owner = NULL, "
            "last_error = ?, fix = ?",
            (SENT, json.dumps(progress), _bounded_or_none(note), _bounded_or_none(fix)),
        )

    def postpone(self, item_id: int, error: str, delay: float, server_failure: bool) -> None:
        """A transient failure: try again after ``delay`` seconds."""
        self._owned_update(
            item_id,
            "attempts = attempts + 1, failed_tries = failed_tries + 1, "
            "server_failures = server_failures + ?, next_try = ?, last_error = ?, owner = NULL",
            (int(server_failure), time.time() + delay, bounded(error)),
        )

    def needs_attention(self, item_id: int, error: str, fix: str) -> None:
        """A permanent failure: kept, with the server's words and the fix, until a person acts."""
        self._owned_update(
            item_id,
            "state = ?, attempts = attempts + 1, failed_tries = failed_tries + 1, "
            "last_error = ?, fix = ?, owner = NULL",
            (ATTENTION, bounded(error), bounded(fix)),
        )

    def release(self, item_id: int) -> None:
        """Give an item back untouched (the flush stopped before trying it)."""
        self._owned_update(item_id, "owner = NULL", ())

    def _owned_update(self, item_id: int, assignments: str, args: tuple) -> None:
        me = self.owner
        with self._file.writing() as db:
            cursor = db.execute(
                f"UPDATE items SET {assignments}, updated = ? WHERE id = ? AND owner = ?",
                (*args, time.time(), item_id, me),
            )
            if cursor.rowcount != 1:
                raise ClaimLost(f"outbox item {item_id} is no longer this process's to send")


def _bounded_or_none(words: str | None) -> str | None:
    return None if words is None else bounded(words)


def _names_a_process(owner: object) -> bool:
    """True for an owner id :class:`.owners.OwnerLock` makes (never a path, whatever the file says)."""
    return isinstance(owner, str) and _OWNER_ID.fullmatch(owner) is not None
