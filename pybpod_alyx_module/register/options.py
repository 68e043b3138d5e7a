"""The settings of registering, as one plain value (from confapp, ``user_settings.py`` or a test)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybpod_alyx_module import settings as defaults

#: The outbox's file name in the project folder, unless ``ALYX_PLUGIN_OUTBOX`` says otherwise.
OUTBOX_FILE_NAME = "alyx_outbox.sqlite"


@dataclass(frozen=True)
class RegisterOptions:
    """How sessions become Alyx records (see ``pybpod_alyx_module.settings`` for each one).

    Parameters
    ----------
    value_names
        ``ALYX_PLUGIN_VALUE_NAMES``: plugin value name -> the lab's name for it.
    locations
        ``ALYX_PLUGIN_LOCATIONS``: setup name -> Alyx location name.
    procedures
        ``ALYX_PLUGIN_PROCEDURES``: the sessions' procedures.
    water_type
        ``ALYX_PLUGIN_WATER_TYPE``: the water type of water administrations.
    outbox
        ``ALYX_PLUGIN_OUTBOX``: the outbox file; empty for the project folder's.
    send_workers
        ``ALYX_PLUGIN_SEND_WORKERS``: records sent at the same time.
    """

    value_names: Mapping[str, str] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)
    procedures: tuple[str, ...] = tuple(defaults.ALYX_PLUGIN_PROCEDURES)
    water_type: str = defaults.ALYX_PLUGIN_WATER_TYPE
    outbox: str = defaults.ALYX_PLUGIN_OUTBOX
    send_workers: int = defaults.ALYX_PLUGIN_SEND_WORKERS

    @classmethod
    def from_settings(cls, value: Callable[[str], Any]) -> RegisterOptions:
        """Options from a look-up of ``ALYX_PLUGIN_*`` names (e.g. ``lambda n: getattr(conf, n)``)."""
        return cls(
            value_names=dict(value("ALYX_PLUGIN_VALUE_NAMES") or {}),
            locations=dict(value("ALYX_PLUGIN_LOCATIONS") or {}),
            procedures=tuple(value("ALYX_PLUGIN_PROCEDURES") or ()),
            water_type=str(value("ALYX_PLUGIN_WATER_TYPE") or defaults.ALYX_PLUGIN_WATER_TYPE),
            outbox=str(value("ALYX_PLUGIN_OUTBOX") or ""),
            send_workers=max(1, int(value("ALYX_PLUGIN_SEND_WORKERS") or 1)),
        )

    def location_for(self, setup: str) -> str:
        """The Alyx location wanted for a setup: the mapped name, else the setup's own."""
        return self.locations.get(setup, setup)

    def outbox_path(self, project_folder: str | Path) -> Path:
        """The outbox file for a project: the setting's, else ``alyx_outbox.sqlite`` inside it."""
        if self.outbox:
            return Path(self.outbox).expanduser()
        return Path(project_folder) / OUTBOX_FILE_NAME
