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
    """Log an error naming the missing packages (PyBpod shows errors in its console and log)."""
    message = missing_dependencies_message()
    if message:
        _ensure_handler()
        logger.error(message)


def _ensure_handler() -> None:
    """Make sure the plugin's log records reach PyBpod's log file and console.

    PyBpod gives handlers only to the loggers it knows; the package ``__init__``
    should create ``pybpod_alyx_module``'s as the session-history plugin does. If
    it has none yet, the record would only reach Python's last-resort stderr.
    """
    root = logging.getLogger("pybpod_alyx_module")
    if root.handlers:
        return
    try:
        import loggingbootstrap
        from confapp import conf

        loggingbootstrap.create_double_logger(
            "pybpod_alyx_module",
            conf.APP_LOG_HANDLER_CONSOLE_LEVEL,
            conf.APP_LOG_FILENAME,
            conf.APP_LOG_HANDLER_FILE_LEVEL,
        )
    except Exception:
        logger.debug("Could not attach PyBpod's log handlers", exc_info=True)
