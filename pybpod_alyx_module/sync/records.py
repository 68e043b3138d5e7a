"""Checking Alyx subject records before planning: what a server answers is not trusted.

A record becomes files and folder names on a rig, so each is checked at the edge:
its ``id`` must be a UUID (it is saved as ``alyx_id`` and matched on every later
sync), its nickname a string, its lab a string or nothing, no id may come twice,
and no field may hold more than :data:`MAX_FIELD_BYTES`. A record that fails is
refused with a reason, like an unsafe nickname; the others sync.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .fields import ALYX_TO_LOCAL

#: The most a field may hold, JSON-encoded: a subject file is read whole by PyBpod and
#: copied into every session (``PYBPOD_SUBJECT_EXTRA``). Years of daily weighings are
#: ~100 KB; a 50 MB description is an error on the server's side.
MAX_FIELD_BYTES = 1_000_000

#: Fields that must be text (or absent/null where allowed), as the plan reads them.
_OPTIONAL_TEXT = ("lab", "death_date")


def record_problem(record: Any) -> str | None:
    """Why ``record`` cannot be synced, or ``None`` if it can.

    Examples
    --------
    >>> record_problem({"id": "../../not-a-uuid", "nickname": "m1"})
    "its id '../../not-a-uuid' is not a UUID"
    >>> record_problem({"id": "6f1f3b9e-0000-4000-8000-000000000000", "nickname": 7})
    'its nickname is not text (int)'
    """
    if not isinstance(record, dict):
        return f"the server sent a {type(record).__name__} where a subject record belongs"
    if "id" not in record:
        return "it has no id"
    if not _is_uuid(record["id"]):
        return f"its id {shorten(record['id'])} is not a UUID"
    if not isinstance(record.get("nickname"), str):
        return f"its nickname is not text ({type(record.get('nickname')).__name__})"
    for key in _OPTIONAL_TEXT:
        if record.get(key) is not None and not isinstance(record[key], str):
            return f"its {key} is not text ({type(record[key]).__name__})"
    for key in ALYX_TO_LOCAL:
        if key in record:
            size = _encoded_size(record[key])
            if size > MAX_FIELD_BYTES:
                return (
                    f"its field '{key}' holds {size / 1e6:.1f} MB, more than the "
                    f"{MAX_FIELD_BYTES / 1e6:g} MB a subject field may hold"
                )
    return None


def screen_records(records: Iterable[Any]) -> tuple[list[dict[str, Any]], list[tuple[Any, str]]]:
    """Split ``records`` into those that can be synced and ``(record, reason)`` refusals.

    An id that comes more than once (e.g. on two pages) refuses every copy: which
    one is right cannot be known, and keeping both would give two local subjects
    one ``alyx_id``.
    """
    good, refused = [], []
    for record in records:
        problem = record_problem(record)
        if problem:
            refused.append((record, problem))
        else:
            good.append(record)
    times = Counter(record["id"].lower() for record in good)
    refused += [
        (record, f"the server listed its id {times[record['id'].lower()]} times")
        for record in good
        if times[record["id"].lower()] > 1
    ]
    return [record for record in good if times[record["id"].lower()] == 1], refused


def shorten(value: Any, length: int = 60) -> str:
    """``repr(value)``, cut to ``length`` characters: a refused value may be huge."""
    text = repr(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _encoded_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
