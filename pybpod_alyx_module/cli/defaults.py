"""The command line's defaults: the same ``ALYX_PLUGIN_*`` settings as the plugin.

PyBpod is started from a folder holding ``user_settings.py``; run there, the
command line reads the address, user name and timeouts from it, falling back to
the plugin's own defaults (:mod:`pybpod_alyx_module.settings`).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pybpod_alyx_module import settings as plugin_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defaults:
    """Settings values, from ``user_settings.py`` where it defines them."""

    address: str
    username: str
    password: str
    connect_timeout: float
    read_timeout: float
    retries: int
    token_file: str
    source: Path | None


def load_defaults(folder: Path | None = None) -> Defaults:
    """Read ``<folder>/user_settings.py`` (the current folder by default), if there is one."""
    path = (folder or Path.cwd()) / "user_settings.py"
    user = _load_module(path) if path.is_file() else None

    def value(name: str):
        return getattr(user, name, getattr(plugin_settings, name))

    return Defaults(
        address=value("ALYX_PLUGIN_ADDRESS"),
        username=value("ALYX_PLUGIN_USERNAME"),
        password=value("ALYX_PLUGIN_PASSWORD"),
        connect_timeout=float(value("ALYX_PLUGIN_CONNECT_TIMEOUT")),
        read_timeout=float(value("ALYX_PLUGIN_READ_TIMEOUT")),
        retries=int(value("ALYX_PLUGIN_RETRIES")),
        token_file=value("ALYX_PLUGIN_TOKEN_FILE"),
        source=path if user else None,
    )


def _load_module(path: Path) -> ModuleType | None:
    """Import a settings file by path; a broken one is reported and ignored."""
    spec = importlib.util.spec_from_file_location("_pybpod_alyx_user_settings", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file: any error at all
        logger.warning("Ignoring %s: it failed to load (%s)", path, exc)
        return None
    return module
