"""PyBpod's JSON documents: the header every subject, user and setup file starts with."""

from __future__ import annotations

from typing import Any

import pybpodgui_api
from sca.formats import json as sca_json


def new_document(uuid4: Any, what: str) -> Any:
    """An empty document with PyBpod's header, as PyBpod itself writes one for ``what``.

    ``what`` is ``"subject"`` or ``"user"``: it goes into the header's description.
    """
    return sca_json.scadict(
        uuid4_id=uuid4,
        software=f"PyBpod GUI API v{pybpodgui_api.__version__}",
        def_url="http://pybpod.readthedocs.org",
        def_text=f"This file contains information about a {what} used on PyBpod GUI.",
    )
