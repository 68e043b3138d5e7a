"""Which Alyx location a session names: one of its subject's lab, or none.

A setup's location (``ALYX_PLUGIN_LOCATIONS``, else the setup's name) is sent only if the
server has exactly one location of that name, in the subject's lab: a mainenlab
subject's session must not take cortexlab's rig, and a name held in two labs cannot be
sent at all (the server looks locations up by name, and answers 500 for two). Otherwise
the session is registered without a location, its setup's location kept in its ``json``
(``pybpod_location``), and the user is told once why, with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


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
        """Why a session of a ``lab`` subject cannot name the location ``name``, or ``None``.

        Examples
        --------
        >>> rigs = Locations({"rig1": ["cortexlab"], "rig2": ["cortexlab", "mainenlab"]})
        >>> rigs.problem("rig1", "cortexlab") is None
        True
        >>> rigs.problem("rig1", "mainenlab")
        "it has a location 'rig1' only in lab cortexlab, not in mainenlab (the subject's lab)"
        """
        labs = self._labs.get(name)
        if not labs:
            return f"it has no location '{name}'"
        if len(labs) > 1:
            held = ", ".join(sorted(str(lab) for lab in labs))
            return (
                f"it has {len(labs)} locations named '{name}' (labs {held}), and a session "
                "naming it cannot say which one"
            )
        if labs[0] != lab:
            return (
                f"it has a location '{name}' only in lab {labs[0]}, not in {lab or '(none)'} "
                "(the subject's lab)"
            )
        return None
