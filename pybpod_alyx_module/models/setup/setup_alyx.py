"""The setup mixin: "Weigh before the run", and the weights it carries to the run's registration.

Every run goes through ``setup.run_task()`` (the setup window's Run, a subject's or an
experiment's run). When the setup has Alyx subjects and ``ALYX_PLUGIN_WEIGH_BEFORE_RUN``
is on, ``run_task`` shows the dialog instead of running; its Start or Skip runs the task
(``run_weighed``). The weights, and each subject's water still to give today as Alyx
said before the run, wait on the setup until the run ends, when the board's mixin takes
them (:meth:`Setup.take_alyx_run_notes`): the weights go into the session's registration,
the water into the "After the run" dialog.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


class Setup:
    """Plain mixin in front of PyBpod's setup classes; cooperates through ``super()``."""

    #: Of the current run: ``weights_g`` (uuid4 -> grams typed) and ``remaining_ml``
    #: (uuid4 -> water still to give today, as Alyx said before the run).
    _alyx_run_notes: dict[str, dict[str, float]] | None = None
    #: True while ``run_weighed`` runs the task (no dialog this time).
    _alyx_weighed: bool = False
    #: The open "Weigh before the run" dialog, if any.
    _alyx_weigh_dialog: Any = None
    #: The last run's "After the run" dialog, if any.
    _alyx_water_dialog: Any = None

    def run_task(self) -> Any:
        if self._alyx_weighed or not self._alyx_weighing_wanted():
            return super().run_task()
        try:
            if not self.can_run_task():  # PyBpod says why; do not weigh for a run refused
                return None
            from pybpod_alyx_module.gui.weigh_dialog import show_weigh_dialog

            self._alyx_weigh_dialog = show_weigh_dialog(self)
        except Exception:  # never stop a run because of Alyx
            logger.exception("Could not show 'Weigh before the run'; running without it")
            return super().run_task()
        self.update_ui()  # the Run button goes back up until Start or Skip
        return None

    def run_weighed(
        self, weights_g: dict[str, float], remaining_ml: dict[str, float] | None = None
    ) -> Any:
        """Run the task now, the weights (uuid4 -> grams, maybe none) going with its registration."""
        self._alyx_weigh_dialog = None
        self._alyx_run_notes = {"weights_g": dict(weights_g), "remaining_ml": remaining_ml or {}}
        self._alyx_weighed = True
        try:
            return self.run_task()
        finally:
            self._alyx_weighed = False

    def take_alyx_run_notes(self) -> dict[str, dict[str, float]]:
        """``weights_g`` and ``remaining_ml`` of the run that just ended (taken once)."""
        notes, self._alyx_run_notes = self._alyx_run_notes, None
        return notes or {"weights_g": {}, "remaining_ml": {}}

    def show_alyx_water_dialog(
        self, session_file: str, queued: list[Any], remaining_ml: dict[str, float]
    ) -> Any:
        """After a run: the water given and what remains to give today ("After the run")."""
        from pybpod_alyx_module.gui.water_dialog import show_water_dialog

        if self._alyx_water_dialog is not None:
            self._alyx_water_dialog.close()
        self._alyx_water_dialog = show_water_dialog(self, session_file, queued, remaining_ml)
        return self._alyx_water_dialog

    def _alyx_weighing_wanted(self) -> bool:
        try:
            from confapp import conf

            from pybpod_alyx_module.plugin_settings import SettingsError, read_settings
            from pybpod_alyx_module.sync.subjects import alyx_id
        except ImportError:  # already reported by models.dependencies
            return False
        try:
            wanted = read_settings(conf).weigh_before_run
        except SettingsError as exc:  # never stop a run because of Alyx: run unweighed
            logger.error("Running without 'Weigh before the run': %s", exc)
            return False
        if not wanted:
            return False
        if self._alyx_weigh_dialog is not None and self._alyx_weigh_dialog.isVisible():
            return True
        return any(alyx_id(subject) is not None for subject in self.subjects)
