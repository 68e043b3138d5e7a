"""The user mixin: a user's connection (``ALYX``) survives saving and reopening the project.

PyBpod writes only a header for a user and reloads every user as ``local``.
The sync keeps ``connection`` in the user's JSON document
(:func:`pybpod_alyx_module.sync.users.mark_alyx_user`); this mixin reads it
back on load (1.x bug 10).
"""

from __future__ import annotations

from typing import Any


class User:
    """Plain mixin in front of PyBpod's user classes; cooperates through ``super()``."""

    def load(self, path: str) -> None:
        super().load(path)
        connection = (self.data or {}).get("connection")
        if isinstance(connection, str) and connection:
            self.connection = connection

    def collect_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Include the saved connection, so that logging a local user in to Alyx marks the project unsaved."""
        data = super().collect_data(data)
        connection = (self.data or {}).get("connection")
        if connection:
            data["connection"] = connection
        return data
