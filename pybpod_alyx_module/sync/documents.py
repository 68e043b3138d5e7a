"""PyBpod's JSON documents: the header every subject, user and setup file starts with."""

from __future__ import annotations

from typing import Any

import pybpodgui_api
from sca.formats import json as sca_json

#: What each kind of document says it is about, in PyBpod's own words.
ABOUT = {
    "project": "a PyBpod project",
    "subject": "a subject used on PyBpod GUI",
    "user": "a user used on PyBpod GUI",
}


def new_document(uuid4: Any, kind: str) -> Any:
    """An empty document with PyBpod's header, as PyBpod itself writes one of this ``kind``."""
    return sca_json.scadict(
        uuid4_id=uuid4,
        software=f"PyBpod GUI API v{pybpodgui_api.__version__}",
        def_url="http://pybpod.readthedocs.org",
        def_text=f"This file contains information about {ABOUT[kind]}.",
    )
