"""Reading and writing the Alyx part of a PyBpod subject.

An Alyx subject is an ordinary PyBpod subject whose JSON document
(``subject.data``, written by PyBpod's own ``save``) also holds the Alyx fields,
``alyx_id`` among them. Keeping them there, rather than in attributes of a
plugin class, means they survive a save and a reload by PyBpod alone, with or
without the GUI, and every plugin's subject class sees the same subject.
"""

from __future__ import annotations

from typing import Any

from .documents import new_document
from .fields import ALYX_ID, ALYX_TO_LOCAL

_ALYX_KEYS = frozenset(ALYX_TO_LOCAL.values()) | {"water_administrations"}


def alyx_id(subject: Any) -> str | None:
    """The Alyx id of a subject, or ``None`` for a subject that is not from Alyx."""
    data = getattr(subject, "data", None)
    return (data or {}).get(ALYX_ID) or None


def alyx_data(subject: Any) -> dict[str, Any]:
    """The Alyx fields saved in a subject (empty for a local subject)."""
    data = getattr(subject, "data", None) or {}
    return {key: value for key, value in data.items() if key in _ALYX_KEYS}


def new_subject_document(subject: Any, fields: dict[str, Any]) -> Any:
    """The JSON document of a new Alyx subject: PyBpod's header, then the Alyx fields."""
    document = new_document(subject.uuid4, "subject")
    document.update(fields)
    return document
