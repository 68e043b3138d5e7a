"""Escape closes the plugin's windows, as it closes any dialog a user knows."""

from __future__ import annotations

from typing import Any

from AnyQt.QtCore import Qt

from .slots import guarded_slot


class EscapeCloses:
    """Mixin for a pyforms ``BaseWidget``: Escape closes it; other keys go on as before.

    Listed before ``BaseWidget`` in a window's bases, so that its ``keyPressEvent`` runs
    first and hands every other key to Qt's.
    """

    @guarded_slot
    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)
