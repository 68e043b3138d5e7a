"""The board mixin: after every run, the session is queued for Alyx and sent in the background.

PyBpod's board runs the task file as a subprocess and, when the process ends, calls
``end_run_task_handler`` (on the GUI thread, from its polling timer); the session file
is complete by then. This hook only hands the file to the project's registrar, which
does the reading, queueing and sending on a worker thread: nothing here can hold up or
fail the run, and an error is logged, never raised into PyBpod.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


class Board:
    """Plain mixin in front of PyBpod's board classes; cooperates through ``super()``."""

    def end_run_task_handler(self) -> None:
        super().end_run_task_handler()
        try:
            from pybpod_alyx_module.pybpod_internals import running_session

            _register_run(running_session(self))
        except Exception:  # never fail a run because of Alyx
            logger.exception("Could not queue the run for Alyx")


def _register_run(session: Any) -> None:
    from pybpod_alyx_module.gui.registration import registrar_of
    from pybpod_alyx_module.gui.registration_marks import session_file_of
    from pybpod_alyx_module.gui.registration_settings import register_sessions_enabled

    setup = session.setup
    project = setup.project
    notes = setup.take_alyx_run_notes()
    if not register_sessions_enabled(project):
        return
    if not any(_is_alyx(subject) for subject in setup.subjects):
        return
    session_file = session_file_of(session)

    def after_run(view: Any) -> None:
        setup.show_alyx_water_dialog(session_file, view.queued, notes["remaining_ml"])

    registrar_of(project).register_run(
        session_file, setup, weights_g=notes["weights_g"], then=after_run
    )


def _is_alyx(subject: Any) -> bool:
    from pybpod_alyx_module.sync.subjects import alyx_id

    return alyx_id(subject) is not None
