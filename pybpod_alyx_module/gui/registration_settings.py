"""The settings the GUI's registering reads, through the one settings door, each bad one said once.

A bad setting stops registering (nothing is queued or sent until it is fixed) but never a
run; it is logged the first time, not again at every periodic try of the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from confapp import conf

from pybpod_alyx_module.plugin_settings import PluginSettings, SettingsError, read_settings
from pybpod_alyx_module.register import RegisterOptions

logger = logging.getLogger(__name__)

#: The last bad-settings line logged (so the periodic try does not repeat it every minute).
_settings_said: str | None = None


def checked_settings() -> PluginSettings:
    """The plugin's settings as confapp holds them, checked at the one door.

    Raises
    ------
    SettingsError
        A setting is bad: nothing is queued or sent until it is fixed. Its one line is
        logged the first time (not again at every periodic try).
    """
    global _settings_said
    try:
        settings = read_settings(conf)
        RegisterOptions.of(settings)  # its own check: the value names the plugin reads
        return settings
    except SettingsError as exc:
        if str(exc) != _settings_said:
            _settings_said = str(exc)
            logger.error("Alyx registration is stopped: %s", exc)
        raise


def register_options() -> RegisterOptions:
    """The registering part of the checked settings."""
    return RegisterOptions.of(checked_settings())


def register_sessions_enabled(project: Any) -> bool:
    """``ALYX_PLUGIN_REGISTER_SESSIONS``; unset (``None``): on when the project has an Alyx user."""
    value = checked_settings().register_sessions
    if value is not None:
        return value
    from pybpod_alyx_module.sync.users import ALYX_CONNECTION

    return any(user.connection == ALYX_CONNECTION for user in project.users)


def retry_interval_ms() -> int:
    """``ALYX_PLUGIN_OUTBOX_RETRY_SECONDS`` in ms; the default while a setting is bad (said)."""
    try:
        seconds = checked_settings().outbox_retry_seconds
    except SettingsError:
        seconds = PluginSettings().outbox_retry_seconds
    return int(seconds * 1000)
