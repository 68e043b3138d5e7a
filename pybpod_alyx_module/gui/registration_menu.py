"""The project's "Alyx outbox" menu entry, and its registrar started with the project."""

from __future__ import annotations

import logging
from typing import Any

from AnyQt.QtCore import QTimer

from .registration import forget_registrar, registrar_of

logger = logging.getLogger(__name__)

#: The project menu entry, after "Sync to Alyx".
OUTBOX_MENU_LABEL = "Alyx outbox"


def add_outbox_menu(tree: Any, project: Any) -> Any:
    """Add "Alyx outbox" to the project's menu and start its registrar; returns the action.

    The outbox is read once the project is open (its folder is known only after
    PyBpod's ``open_project`` returns), so its sessions' nodes show their state and
    pending items are tried again.
    """
    action = tree.add_popup_menu_option(
        OUTBOX_MENU_LABEL,
        lambda checked=False, project=project: open_outbox_window(project),
        item=project.node,
    )
    registrar = registrar_of(project)
    QTimer.singleShot(0, lambda: _read_outbox(registrar))
    return action


def _read_outbox(registrar: Any) -> None:
    try:
        registrar.refresh()
    except Exception:  # a timer callback: an escaping error would abort PyBpod
        logger.exception("Could not read the Alyx outbox")


def open_outbox_window(project: Any) -> Any:
    """Show the project's "Alyx outbox" window."""
    try:
        from .outbox_window import show_outbox_window

        return show_outbox_window(project)
    except Exception as exc:  # a menu callback: an escaping error would abort PyBpod
        logger.exception("Could not open the Alyx outbox window")
        project.critical(f"The Alyx plugin failed: {exc}", "Alyx plugin")
        return None


def close_registration(project: Any) -> None:
    """The project closed: its outbox window and registrar go."""
    from .outbox_window import close_outbox_window

    close_outbox_window(project)
    forget_registrar(project)
