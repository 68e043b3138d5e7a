"""The session mixin: "Register in Alyx", and the session's Alyx state on its node.

"Register in Alyx" queues a session run earlier (or with automatic registration off)
exactly as a run's end does; the node then shows whether Alyx has it (sent), it waits
(pending), or Alyx refused it (needs attention), as an icon and a tooltip. PyBpod sets
the node's icon while a session runs (``update_ui``), so the mark is drawn again after.
"""

from __future__ import annotations

from typing import Any

from pybpod_alyx_module.gui.slots import guarded_slot

#: The session menu entry.
REGISTER_MENU_LABEL = "Register in Alyx"


class Session:
    """Plain mixin in front of PyBpod's session classes; cooperates through ``super()``."""

    #: ``sent``, ``pending``, ``attention`` or ``None`` (not in the outbox).
    alyx_state: str | None = None
    #: What a sent session's node says beside its state (e.g. registered without a location).
    alyx_note: str = ""

    def create_treenode(self, tree: Any) -> Any:
        # PyBpod's SessionSignals.create_treenode returns None: the node is ``self.node``.
        result = super().create_treenode(tree)
        tree.add_popup_menu_option(REGISTER_MENU_LABEL, self.register_in_alyx, item=self.node)
        return result

    def update_ui(self) -> None:
        super().update_ui()
        if not getattr(self, "running", False):
            self._show_alyx_mark()

    def show_alyx_state(self, state: str | None, note: str = "") -> None:
        """Show the session's Alyx state on its node (called by the project's registrar)."""
        self.alyx_state, self.alyx_note = state, note
        if not getattr(self, "running", False):
            self._show_alyx_mark()

    @guarded_slot  # a menu callback: an escaping error would abort PyBpod
    def register_in_alyx(self, checked: bool = False) -> None:
        """Queue this session for Alyx and send it; say why when it cannot be registered."""
        from pybpod_alyx_module.gui.registration_menu import register_by_hand

        register_by_hand(self)

    def _show_alyx_mark(self) -> None:
        node = getattr(self, "node", None)
        if node is None:
            return
        try:
            from pybpod_alyx_module.gui.registration_marks import mark_node
        except ImportError:  # already reported by models.dependencies
            return
        mark_node(node, self.alyx_state, self.alyx_note)
