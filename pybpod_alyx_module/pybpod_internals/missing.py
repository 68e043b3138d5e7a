"""What the plugin says when PyBpod itself is missing: one line, what to install.

The headless core (the client, the planning, the outbox, the command line's parsing)
imports without PyBpod; only opening, building or writing a PyBpod project needs it.
That moment raises :class:`PyBpodMissing`, whose message the command line prints as
it is (no traceback).
"""

from __future__ import annotations

from typing import Any

from pybpod_alyx_module.errors import PluginError

#: What to install for the PyBpod project models the sync and registration use.
#: ``--no-deps``: PyBpod 1.8.2's declared dependencies pin an OpenCV without wheels.
INSTALL = "pip install --no-deps pybpod-gui-api==1.8.2 safe-and-collaborative-architecture==0.2"


class PyBpodMissing(PluginError, ImportError):
    """PyBpod's project models (``pybpodgui_api``, ``sca``) are needed here but not installed."""

    def __init__(self, module: str) -> None:
        super().__init__(
            f"This needs PyBpod's project models, and the package {module} is not installed: "
            f"{INSTALL} (or all of PyBpod, as the README's 'Installing for use with "
            "PyBpod' says)",
            name=module,
        )


def pybpod_module(name: str) -> Any:
    """Import ``name`` (a PyBpod module), or raise :class:`PyBpodMissing` naming what to install."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:  # PyBpod, or a package PyBpod needs
        raise PyBpodMissing((exc.name or name).split(".")[0]) from None
