"""How a session's node shows its Alyx state: an icon and a tooltip (Qt's own standard icons).

:class:`SessionMarks` keeps what each session's node shows, and marks only the nodes whose
state changed (an outbox read anew changes few).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from AnyQt.QtGui import QIcon
from AnyQt.QtWidgets import QApplication, QStyle

from pybpod_alyx_module.register import ATTENTION, PENDING, SENT
from pybpod_alyx_module.register.session_file import session_file_in
from pybpod_alyx_module.register.session_states import SessionState, session_key

#: State -> (standard icon, tooltip).
MARKS = {
    SENT: (QStyle.SP_DialogApplyButton, "Alyx: sent"),
    PENDING: (QStyle.SP_BrowserReload, "Alyx: pending (sent when Alyx answers)"),
    ATTENTION: (
        QStyle.SP_MessageBoxWarning,
        "Alyx: needs attention (right-click the project, Alyx outbox)",
    ),
}


def mark_node(node: Any, state: str | None, note: str = "") -> None:
    """Show ``state`` on a session's tree node (no state: no mark); ``note`` below it."""
    mark = MARKS.get(state)
    if mark is None:
        node.setIcon(0, QIcon())
        node.setToolTip(0, "")
        return
    icon, tooltip = mark
    node.setIcon(0, QApplication.style().standardIcon(icon))
    node.setToolTip(0, f"{tooltip}\n{note}" if note else tooltip)


def session_file_of(session: Any) -> Path:
    """A PyBpod session's file (``Session.path`` is its folder)."""
    return session_file_in(session.path)


class SessionMarks:
    """What the nodes of one project's sessions show (GUI thread only)."""

    def __init__(self, project: Any) -> None:
        self._project = weakref.ref(project)
        #: Session file -> the state its node shows now.
        self._shown: dict[str, SessionState] = {}

    def show(self, states: dict[str, SessionState]) -> None:
        """Mark the nodes of sessions whose state changed (few per update)."""
        project = self._project()
        if project is None:
            return
        changed = {path for path in states.keys() | self._shown.keys()
                   if states.get(path) != self._shown.get(path)}  # fmt: skip
        if not changed:
            return
        for session in _sessions(project):
            path = session_key(session_file_of(session))
            if path in changed:
                mark = getattr(session, "show_alyx_state", None)
                if mark is not None:
                    shown = states.get(path)
                    mark(shown.state if shown else None, shown.note if shown else "")
        self._shown = dict(states)


def _sessions(project: Any) -> list[Any]:
    return [s for e in project.experiments for setup in e.setups for s in setup.sessions]
