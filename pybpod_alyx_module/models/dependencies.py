"""Which packages the Alyx plugin needs at run time, and telling the user when one is missing.

PyBpod imports a plugin's model modules with ``PYFORMS_SILENT_PLUGINS_FINDER``
on by default: an ``ImportError`` there makes the plugin vanish without a word
(the 1.x plugin died that way when ibllib dropped ``oneibl``). The mixins
therefore import nothing that can be missing, and this module names what is.
"""

from __future__ import annotations

import importlib.util
import logging

logger = logging.getLogger(__name__)

#: Import name -> distribution name to install, for what the sync needs beyond PyBpod.
REQUIRED = {
    "requests": "requests",
    "urllib3": "urllib3",
    "pybpodgui_api": "pybpod-gui-api",
    "sca": "safe-and-collaborative-architecture",
}


def missing_dependencies() -> list[str]:
    """The distributions that are required but cannot be imported, e.g. ``['requests']``."""
    return [dist for name, dist in REQUIRED.items() if importlib.util.find_spec(name) is None]


def missing_dependencies_message() -> str | None:
    """What to tell the user, or ``None`` when everything is installed."""
    missing = missing_dependencies()
    if not missing:
        return None
    names = ", ".join(missing)
    return (
        f"The Alyx plugin cannot sync: the package(s) {names} are not installed. "
        f"Install them in PyBpod's Python environment (pip install {' '.join(missing)}) "
        "and restart PyBpod."
    )


def report_missing_dependencies() -> None:
    """Log an error naming the missing packages (they reach PyBpod's console and app.log)."""
    message = missing_dependencies_message()
    if message:
        logger.error(message)
