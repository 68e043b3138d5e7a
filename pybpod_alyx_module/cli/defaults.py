"""The command line's defaults: the same ``ALYX_PLUGIN_*`` settings as the plugin.

PyBpod is started from a folder holding ``user_settings.py``; run there, the
command line reads the address, user name and timeouts from it, falling back to
the plugin's own defaults (:mod:`pybpod_alyx_module.settings`), through the same
door as the GUI (:mod:`pybpod_alyx_module.plugin_settings`): a bad value is refused
with its name, its value and what is expected, before any command runs.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pybpod_alyx_module.plugin_settings import PluginSettings, setting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defaults(PluginSettings):
    """The checked settings, from ``user_settings.py`` where it defines them (``source``)."""

    source: Path | None = None


def load_defaults(folder: Path | None = None) -> Defaults:
    """Read ``<folder>/user_settings.py`` (the current folder by default), if there is one.

    Raises
    ------
    SettingsError
        A setting in it does not fit its type or range (one line naming each bad one).
    """
    path = (folder or Path.cwd()) / "user_settings.py"
    user = load_user_settings(path) if path.is_file() else None
    return Defaults.from_lookup(lambda name: setting(user, name), source=path if user else None)


def load_user_settings(path: Path) -> ModuleType | None:
    """Import a settings file by path; a broken one is reported and ignored."""
    spec = importlib.util.spec_from_file_location("_pybpod_alyx_user_settings", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file: any error at all
        logger.warning("Ignoring %s: it failed to load (%s)", path, exc)
        return None
    return module
