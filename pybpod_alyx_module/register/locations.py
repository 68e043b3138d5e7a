"""Which Alyx location a session names: one of its subject's lab, or none.

A setup's location (``ALYX_PLUGIN_LOCATIONS``, else the setup's name) is sent only if the
server has exactly one location of that name, in the subject's lab: a mainenlab
subject's session must not take cortexlab's rig, and a name held in two labs cannot be
sent at all (the server looks locations up by name, and answers 500 for two). Otherwise
the session is registered without a location, its setup's location kept in its ``json``
(``pybpod_location``), and the user is told why, with what to do: once as a notice, and
on each such item for good (:func:`location_note`: the outbox's "Why" and the session's node).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The key of a session step's progress holding why it was registered without its location.
UNPLACED = "unplaced"


class Locations:
    """The server's locations by name, with the labs holding each name."""

    def __init__(self, labs_by_name: dict[str, list[str | None]] | None = None) -> None:
        self._labs = dict(labs_by_name or {})

    @classmethod
    def of(cls, listed: Iterable[Any]) -> Locations:
        """From ``GET /locations`` (entries with ``name`` and ``lab``)."""
        labs: dict[str, list[str | None]] = {}
        for entry in listed:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                lab = entry.get("lab")
                labs.setdefault(entry["name"], []).append(lab if isinstance(lab, str) else None)
        return cls(labs)

    def problem(self, name: str, lab: str) -> str | None:
        """What the server has that keeps a ``lab`` subject's session from naming ``name``.

        ``None`` when it can; else words that follow "the Alyx at … has".

        Examples
        --------
        >>> rigs = Locations({"rig1": ["cortexlab"], "rig2": ["cortexlab", "mainenlab"]})
        >>> rigs.problem("rig1", "cortexlab") is None
        True
        >>> rigs.problem("rig1", "mainenlab")
        "a location 'rig1' only in lab cortexlab, not in mainenlab (the subject's lab)"
        """
        labs = self._labs.get(name)
        if not labs:
            return f"no location '{name}'"
        if len(labs) > 1:
            held = ", ".join(sorted(str(lab) for lab in labs))
            return (
                f"{len(labs)} locations named '{name}' (labs {held}), and a session "
                "naming it cannot say which one"
            )
        if labs[0] != lab:
            return (
                f"a location '{name}' only in lab {labs[0]}, not in {lab or '(none)'} "
                "(the subject's lab)"
            )
        return None


@dataclass(frozen=True)
class LocationNote:
    """What a user is told of a session registered without its location.

    ``notice`` once per server, location and lab (keyed by ``key``); ``why`` and ``fix``
    on the item itself, kept with it once sent.
    """

    key: str
    notice: str
    why: str
    fix: str


def location_note(
    payload: dict[str, Any], progress: dict[str, Any], server: str
) -> LocationNote | None:
    """The note of an item whose session was registered without its location, else ``None``.

    Examples
    --------
    >>> session = {"lab": "cortexlab", "json": {"pybpod_setup": "s1"}}
    >>> payload = {"location": "rig1", "session": session}
    >>> note = location_note(payload, {"session": {UNPLACED: "no location 'rig1'"}},
    ...                      "http://alyx.lab")
    >>> note.why
    "Registered without a location: the Alyx at http://alyx.lab has no location 'rig1'"
    >>> location_note(payload, {"session": {"id": "x"}}, "http://alyx.lab") is None
    True
    """
    problem = (progress.get("session") or {}).get(UNPLACED)
    if not problem:
        return None
    location = str(payload.get("location") or "")
    body = payload.get("session") or {}
    lab = str(body.get("lab") or "")
    setup = (body.get("json") or {}).get("pybpod_setup")
    fix = (
        f"Create the location '{location}' in lab {lab or 'unknown-lab'} on Alyx (admin site, "
        f"Lab locations), or map setup '{setup}' onto an existing one with "
        "ALYX_PLUGIN_LOCATIONS; sessions sent after that name it (the setup's location is "
        "kept in this session's json as pybpod_location)"
    )
    notice = (
        f"The Alyx at {server} has {problem}. Sessions of {lab or 'unknown-lab'} subjects "
        f"from setup '{setup}' are registered without a location (the name is kept in their json). "
        "Create the location in the subject's lab in Alyx "
        "(admin site, Lab locations), or map the setup onto one with ALYX_PLUGIN_LOCATIONS."
    )
    return LocationNote(
        f"location:{server}:{location}:{lab}",
        notice,
        f"Registered without a location: the Alyx at {server} has {problem}",
        fix,
    )
