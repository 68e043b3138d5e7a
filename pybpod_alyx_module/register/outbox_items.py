"""An outbox item as it is read back: checked, since the file may be damaged.

SQLite keeps any value in any column, and a damaged file may hold anything: every row is
checked here before it becomes an :class:`Item`, and a row that is not one is an
:class:`~.outbox_db.OutboxError` naming the file, never a wrong value sent to Alyx.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .outbox_errors import damaged

PENDING = "pending"
SENT = "sent"
ATTENTION = "attention"
DISCARDED = "discarded"
#: Sent, then its records removed from Alyx by a person (:mod:`.withdraw`).
WITHDRAWN = "withdrawn"
STATES = (PENDING, SENT, ATTENTION, DISCARDED, WITHDRAWN)


@dataclass(frozen=True)
class Item:
    """One outbox item as stored.

    ``attempts`` counts every try to send it (the "Tries" people see): each one that sent it,
    failed, or found Alyx away. ``failed_tries`` counts the failed ones since a person last
    asked for a retry: the retry delays grow with it.
    """

    id: int
    key: str
    label: str
    payload: dict[str, Any]
    state: str
    progress: dict[str, Any]
    attempts: int
    failed_tries: int
    server_failures: int
    next_try: float
    last_error: str | None
    fix: str | None
    created: float
    updated: float


def read_item(row: sqlite3.Row, path: Path) -> Item:
    """The item of a row, or an :class:`OutboxError` if the row is damaged."""
    try:
        item = Item(
            id=row["id"],
            key=row["key"],
            label=row["label"],
            payload=json.loads(row["payload"]),
            state=row["state"],
            progress=json.loads(row["progress"]),
            attempts=row["attempts"],
            failed_tries=row["failed_tries"],
            server_failures=row["server_failures"],
            next_try=row["next_try"],
            last_error=row["last_error"],
            fix=row["fix"],
            created=row["created"],
            updated=row["updated"],
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise damaged(path, f"item {row['id']!r} cannot be read: {exc}") from None
    problem = _problem(item)
    if problem:
        raise damaged(path, f"item {item.id!r} {problem}")
    return item


def _problem(item: Item) -> str | None:
    """What is wrong with an item read back, or ``None``: a damaged file shows here."""
    if not all(is_count(n) for n in (item.id, item.attempts, item.failed_tries,
                                     item.server_failures)):  # fmt: skip
        return "has a count that is not a number"
    if not (isinstance(item.key, str) and isinstance(item.label, str)):
        return "has no readable key or label"
    if not (isinstance(item.payload, dict) and isinstance(item.progress, dict)):
        return "holds a record that is not an object"
    if item.state not in STATES:
        return f"is in no known state ({item.state!r})"
    if not all(_is_time(t) for t in (item.next_try, item.created, item.updated)):
        return "has a time that is not a number"
    if not all(isinstance(t, (str, type(None))) for t in (item.last_error, item.fix)):
        return "has a reason that is not text"
    return None


def is_count(value: object) -> bool:
    """True for an integer (SQLite may give back anything from a damaged file)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_time(value: object, path: Path, what: str) -> float:
    """A time read back (epoch seconds), or the error of a damaged file."""
    if not _is_time(value):
        raise damaged(path, f"{what} is not a time")
    return float(value)
