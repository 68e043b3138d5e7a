"""The Alyx menu entries of registering: the project's "Alyx outbox" (its registrar started
with the project) and a session's "Register in Alyx", with what each has to say."""

from __future__ import annotations

import logging
from typing import Any

from AnyQt.QtCore import QTimer

from . import messages
from .outbox_view import OutboxView
from .registration import forget_registrar, registrar_of
from .registration_marks import session_file_of

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


def register_by_hand(session: Any) -> None:
    """ "Register in Alyx": queue a session run earlier (or with registering off), and send.

    Says why when it cannot be registered, why it was not sent yet, or — for a session
    queued before — where it is (sent when, its Alyx id; waiting; needing attention): it is
    never queued or sent twice, and a sent one offers nothing to do.
    """
    project = session.setup.project
    registrar_of(project).register_run(
        session_file_of(session), project, then=lambda view: _tell(session, view), again=True
    )


def _tell(session: Any, view: OutboxView) -> None:
    if view.problems:
        session.warning("\n".join(view.problems), messages.NOT_REGISTERED_TITLE)
    elif view.before and not view.queued:
        session.info(messages.registered_before(view.before), messages.REGISTERED_BEFORE_TITLE)
    elif view.stopped:
        session.warning(messages.not_sent_yet(view.stopped), messages.NOT_SENT_TITLE)


def close_registration(project: Any) -> None:
    """The project closed: its outbox window and registrar go."""
    from .outbox_window import close_outbox_window

    close_outbox_window(project)
    forget_registrar(project)
