"""How a session's node shows its Alyx state: an icon and a tooltip (Qt's own standard icons)."""

from __future__ import annotations

from typing import Any

from AnyQt.QtGui import QIcon
from AnyQt.QtWidgets import QApplication, QStyle

from pybpod_alyx_module.register import ATTENTION, PENDING, SENT

#: State -> (standard icon, tooltip).
MARKS = {
    SENT: (QStyle.SP_DialogApplyButton, "Alyx: sent"),
    PENDING: (QStyle.SP_BrowserReload, "Alyx: pending (sent when Alyx answers)"),
    ATTENTION: (
        QStyle.SP_MessageBoxWarning,
        "Alyx: needs attention (right-click the project, Alyx outbox)",
    ),
}


def mark_node(node: Any, state: str | None) -> None:
    """Show ``state`` on a session's tree node (no state: no mark)."""
    mark = MARKS.get(state)
    if mark is None:
        node.setIcon(0, QIcon())
        node.setToolTip(0, "")
        return
    icon, tooltip = mark
    node.setIcon(0, QApplication.style().standardIcon(icon))
    node.setToolTip(0, tooltip)
