"""The projects container mixin: ``Sync to Alyx`` in every project's menu, and the login on reopen."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

#: The project menu entry, after PyBpod's Save / Save as / Close (kept from 1.x).
SYNC_MENU_LABEL = "Sync to Alyx"


class Projects:
    """Hooks project creation and opening (see the package docstring for why here).

    ``create_project`` runs for a new project and, through PyBpod's
    ``open_project``, for every project opened from disk.
    """

    def create_project(self) -> Any:
        project = super().create_project()
        project.alyx_sync_action = self.tree.add_popup_menu_option(
            SYNC_MENU_LABEL,
            lambda checked=False, project=project: self.open_alyx_connection(project),
            item=project.node,
        )
        return project

    def open_project(self, project_path: str | None = None) -> Any:
        project = super().open_project(project_path)
        if project:
            _restore_alyx_login(project)
        return project

    def open_alyx_connection(self, project: Any) -> Any:
        """Show the project's "Alyx connection" window (one per project, kept while it is open)."""
        from ..dependencies import missing_dependencies_message

        problem = missing_dependencies_message()
        if problem:
            logger.error(problem)
            project.critical(problem, "Alyx plugin")
            return None
        from pybpod_alyx_module.gui.connection_window import show_connection_window

        return show_connection_window(project)


def _restore_alyx_login(project: Any) -> None:
    """Log the project's Alyx user back in after a reopen (1.x bug 10).

    PyBpod does not save who was logged in. The user mixin restores each user's
    connection from its JSON; if exactly one user came from Alyx, it was the one
    logged in by the sync, so it is logged in again and the node reads
    ``proj (alice@ALYX)``. With several, choosing would be a guess: nobody is.
    """
    try:
        from pybpod_alyx_module.sync.users import ALYX_CONNECTION
    except ImportError:  # already reported by models.dependencies
        return
    alyx_users = [user for user in project.users if user.connection == ALYX_CONNECTION]
    if len(alyx_users) == 1 and project.loggeduser is None:
        project.loggeduser = alyx_users[0]
