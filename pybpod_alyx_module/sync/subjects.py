"""Reading and writing the Alyx part of a PyBpod subject.

An Alyx subject is an ordinary PyBpod subject whose JSON document
(``subject.data``, written by PyBpod's own ``save``) also holds the Alyx fields,
``alyx_id`` among them. Keeping them there, rather than in attributes of a
plugin class, means they survive a save and a reload by PyBpod alone, with or
without the GUI, and every plugin's subject class sees the same subject.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .documents import new_document
from .fields import ALYX_ID, ALYX_TO_LOCAL, SYNCED_FROM

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


def server_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased: what "the same server" compares.

    Examples
    --------
    >>> server_origin("HTTP://Alyx.Lab:8000/api/subjects/M1")
    'http://alyx.lab:8000'
    """
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.netloc else ""


def stamp_server(records: Iterable[Any], api_root: str) -> None:
    """Record on each downloaded record the server it came from (saved as ``alyx_server``).

    Whatever a record says of itself (its ``url``, or a field of that name) is replaced:
    where a subject came from is what the client asked, not what the server claims.
    """
    server = server_origin(api_root)
    for record in records:
        if isinstance(record, dict):
            record[SYNCED_FROM] = server


def synced_from(subject: Any) -> str:
    """The server a subject was synced from, or ``''`` if no sync recorded it."""
    value = alyx_data(subject).get(SYNCED_FROM)
    return value if isinstance(value, str) else ""
