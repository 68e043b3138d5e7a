"""PyBpod's JSON documents: the header every subject, user and project file starts with."""

from __future__ import annotations

from typing import Any

from pybpod_alyx_module.pybpod_internals import pybpod_document

#: What each kind of document says it is about, in PyBpod's own words.
ABOUT = {
    "project": "a PyBpod project",
    "subject": "a subject used on PyBpod GUI",
    "user": "a user used on PyBpod GUI",
}


def new_document(uuid4: Any, kind: str) -> Any:
    """An empty document with PyBpod's header, as PyBpod itself writes one of this ``kind``."""
    return pybpod_document(uuid4, ABOUT[kind])
