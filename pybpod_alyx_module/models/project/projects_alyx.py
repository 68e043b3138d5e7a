"""The projects container mixin: ``Sync to Alyx`` in every project's menu, the login on reopen,
and the plugin's windows and connection closed with their project."""

from __future__ import annotations

import logging
from typing import Any

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.gui.slots import guarded_slot

logger = logging.getLogger(__name__)

#: The project menu entry, after PyBpod's Save / Save as / Close (kept from 1.x).
SYNC_MENU_LABEL = "Sync to Alyx"


class Projects:
    """Hooks project creation, opening and closing (see the package docstring for why here).

    ``create_project`` runs for a new project and, through PyBpod's
    ``open_project``, for every project opened from disk; ``__sub__`` runs when a
    project closes (PyBpod's ``ProjectWindow.close`` does ``projects -= project``).
    """

    def create_project(self) -> Any:
        project = super().create_project()
        internals.project_created(self, project)  # opened from disk: loaded in linear time
        self.tree.add_popup_menu_option(
            SYNC_MENU_LABEL,
            lambda checked=False, project=project: self.open_alyx_connection(project),
            item=project.node,
        )
        _add_registration(self, project)
        return project

    def open_project(self, project_path: str | None = None) -> Any:
        """Complete an interrupted sync of the folder first, so PyBpod loads a whole project;
        load it in linear time, its subjects in name order (``pybpod_internals.project_opening``)."""
        if not project_path:
            project_path = internals.ask_project_folder(self)
            if not project_path:
                return None
        if not _recover_interrupted_sync(self, project_path):
            return None
        with internals.project_opening(self):
            project = super().open_project(project_path)
        if project:
            internals.subjects_in_name_order(project)
            _restore_alyx_login(project)
        return project

    def __sub__(self, project: Any) -> Any:
        result = super().__sub__(project)
        try:
            from pybpod_alyx_module.gui.project_state import forget_project

            forget_project(project)
            from pybpod_alyx_module.gui.registration_menu import close_registration

            close_registration(project)
        except Exception:  # never stop PyBpod from closing a project
            logger.exception("Could not close the Alyx windows of a closed project")
        return result

    @guarded_slot  # a menu callback: an escaping error would abort PyBpod
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


def _add_registration(projects: Any, project: Any) -> None:
    """Add "Alyx outbox" to the project's menu and start its registrar (gui.registration_menu)."""
    try:
        from pybpod_alyx_module.gui.registration_menu import add_outbox_menu

        add_outbox_menu(projects.tree, project)
    except Exception:  # never stop PyBpod from creating a project
        logger.exception("Could not add the Alyx outbox to the project")


def _recover_interrupted_sync(projects: Any, path: str) -> bool:
    """Roll an interrupted sync of ``path`` forward (or its leftovers away); False: do not open.

    A project whose sync cannot be completed now (another sync holds it, a journal that
    cannot be read) is not opened: PyBpod would show it half-synced.
    """
    try:
        from pybpod_alyx_module.sync.errors import ProjectError
        from pybpod_alyx_module.sync.journal import recover_interrupted_sync
    except ImportError:  # already reported by models.dependencies
        return True
    try:
        done = recover_interrupted_sync(path)
    except ProjectError as exc:
        logger.error("Not opening %s: %s", path, exc)
        projects.critical(f"The project was not opened: {exc}", "Alyx plugin")
        return False
    except Exception as exc:  # never let an error escape into PyBpod's menu slot
        logger.exception("Checking %s for an interrupted Alyx sync failed", path)
        projects.critical(f"The project was not opened: {exc!r}", "Alyx plugin")
        return False
    if done:
        logger.warning("%s", done)
    return True


def _restore_alyx_login(project: Any) -> None:
    """Log the project's Alyx user back in after a reopen (1.x bug 10).

    PyBpod does not save who was logged in. The user mixin restores each user's
    connection from its JSON; if exactly one user came from Alyx, it was the one
    logged in by the sync, so it is logged in again and the node reads
    ``proj (alice@ALYX)``. With several, the one ``ALYX_PLUGIN_USERNAME`` names is the
    one who syncs from this PyBpod; when it names none of them, choosing would be a
    guess: nobody is.
    """
    try:
        from pybpod_alyx_module.sync.users import ALYX_CONNECTION
    except ImportError:  # already reported by models.dependencies
        return
    if project.loggeduser is not None:
        return
    alyx_users = [user for user in project.users if user.connection == ALYX_CONNECTION]
    if len(alyx_users) > 1:
        named = _settings_username()
        alyx_users = [user for user in alyx_users if user.name == named]
    if len(alyx_users) == 1:
        project.loggeduser = alyx_users[0]


def _settings_username() -> str | None:
    """``ALYX_PLUGIN_USERNAME`` through the settings door; ``None`` while the settings are bad."""
    from confapp import conf

    from pybpod_alyx_module.plugin_settings import SettingsError, read_settings

    try:
        return read_settings(conf).username or None
    except SettingsError as exc:
        logger.warning("No Alyx user logged in again: %s", exc)
        return None
