"""The settings of registering, as one plain value taken from the checked plugin settings.

There is one door to the settings (:func:`pybpod_alyx_module.plugin_settings.read_settings`):
:meth:`RegisterOptions.of` takes the :class:`PluginSettings` it returned, never a look-up of
``ALYX_PLUGIN_*`` names of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pybpod_alyx_module.plugin_settings import PluginSettings

#: The outbox's file name in the project folder, unless ``ALYX_PLUGIN_OUTBOX`` says otherwise.
OUTBOX_FILE_NAME = "alyx_outbox.sqlite"

_DEFAULTS = PluginSettings()


@dataclass(frozen=True)
class RegisterOptions:
    """How sessions become Alyx records (see ``pybpod_alyx_module.settings`` for each one).

    Made from the checked settings with :meth:`of`; made by hand (tests, code), it holds
    what it is given.

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
    rig_time_zone
        ``ALYX_PLUGIN_RIG_TIME_ZONE``: the IANA zone of the session files' times; ``''``
        for this computer's local zone.
    server_time_zone
        ``ALYX_PLUGIN_SERVER_TIME_ZONE``: the IANA zone Alyx stores times in.
    """

    value_names: Mapping[str, str] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)
    procedures: tuple[str, ...] = _DEFAULTS.procedures
    water_type: str = _DEFAULTS.water_type
    outbox: str = _DEFAULTS.outbox
    send_workers: int = _DEFAULTS.send_workers
    rig_time_zone: str = _DEFAULTS.rig_time_zone
    server_time_zone: str = _DEFAULTS.server_time_zone

    @classmethod
    def of(cls, settings: PluginSettings) -> RegisterOptions:
        """The registering part of the checked ``settings`` (checked whole at the door)."""
        return cls(
            value_names=settings.value_names,
            locations=settings.locations,
            procedures=settings.procedures,
            water_type=settings.water_type,
            outbox=settings.outbox,
            send_workers=settings.send_workers,
            rig_time_zone=settings.rig_time_zone,
            server_time_zone=settings.server_time_zone,
        )

    def location_for(self, setup: str) -> str:
        """The Alyx location wanted for a setup: the mapped name, else the setup's own."""
        return self.locations.get(setup, setup)

    def outbox_path(self, project_folder: str | Path) -> Path:
        """The outbox file for a project: the setting's, else ``alyx_outbox.sqlite`` inside it."""
        if self.outbox:
            return Path(self.outbox).expanduser()
        return Path(project_folder) / OUTBOX_FILE_NAME
