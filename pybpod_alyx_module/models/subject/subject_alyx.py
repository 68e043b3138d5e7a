"""The subject mixin: ``Alyx details``, a read-only name, and the Alyx fields in ``toJSON()``.

An Alyx subject is a PyBpod subject whose JSON document (``subject.data``)
holds an ``alyx_id`` (see :mod:`pybpod_alyx_module.sync.subjects`). PyBpod calls
``create_treenode`` while constructing the subject, before a sync or a load
sets ``data``; so the menu entry is added later, by :meth:`refresh_alyx_state`,
which runs after a load and after every sync that touches the subject.
"""

from __future__ import annotations

import json
from typing import Any

from pybpod_alyx_module.gui.slots import guarded_slot
from pybpod_alyx_module.pybpod_internals import (
    build_deferred_controls,
    give_text_uuid,
    set_name_read_only,
)

#: The subject menu entry (the 1.x README spelling).
DETAILS_MENU_LABEL = "Alyx details"


class Subject:
    """Plain mixin in front of PyBpod's subject classes; cooperates through ``super()``."""

    #: The ``Alyx details`` menu action, once the subject is known to be an Alyx subject.
    _alyx_details_action: Any = None
    #: Whether that action is shown (kept here: asking the action would build it, see
    #: ``pybpod_internals.tree_menus``).
    _alyx_details_shown = False
    #: The details window, created on first use and rebuilt from ``data`` each time it is shown.
    _alyx_details_window: Any = None

    def __init__(self, project: Any) -> None:
        super().__init__(project)
        give_text_uuid(self)  # 1.x bug 9: every subject has a text uuid from the start

    # -- PyBpod hooks -------------------------------------------------------------

    def load(self, path: str) -> None:
        super().load(path)
        self.refresh_alyx_state()

    def init_form(self) -> None:
        """Build the controls the plugin deferred (``pybpod_internals.deferred_controls``)
        just before pyforms lays the subject's details out."""
        build_deferred_controls(self)
        super().init_form()

    def toJSON(self) -> str:
        """PyBpod's JSON plus the Alyx fields, as IBL's rig code reads ``PYBPOD_SUBJECT_EXTRA``.

        ``water_administration`` stays singular, as the 1.x plugin wrote it. Changes nothing:
        the uuid was made text when the subject was built.
        """
        document = json.loads(super().toJSON())
        fields = _alyx_fields(self)
        if fields:
            if "water_administrations" in fields:
                fields["water_administration"] = fields.pop("water_administrations")
            document.update(fields)
        return json.dumps(document)

    def collect_data(self, data: dict) -> dict:
        """Include the Alyx fields, so that a sync that only updates them marks the project unsaved."""
        data = super().collect_data(data)
        fields = _alyx_fields(self)
        if fields:
            data["alyx"] = fields
        return data

    def remove(self, silent: bool = False) -> None:
        super().remove(silent)
        if all(subject is not self for subject in self.project.subjects):  # not after a "no"
            self.close_alyx_details()

    # -- Alyx ---------------------------------------------------------------------

    @property
    def is_alyx_subject(self) -> bool:
        """True if the subject came from Alyx (its data holds an ``alyx_id``)."""
        try:
            from pybpod_alyx_module.sync.subjects import alyx_id
        except ImportError:
            return False
        return alyx_id(self) is not None

    def refresh_alyx_state(self) -> None:
        """Show what an Alyx subject gets, or hide it: the menu entry, the read-only name.

        Alyx subjects keep their Alyx nickname as their name: a rename would make
        the next sync's folder and the rig's records disagree.
        """
        is_alyx = self.is_alyx_subject
        if is_alyx and self._alyx_details_action is None:  # a new QAction is visible
            self._alyx_details_action = self.tree.add_popup_menu_option(
                DETAILS_MENU_LABEL, self.open_alyx_details, item=self.node
            )
        elif self._alyx_details_action is not None and self._alyx_details_shown != is_alyx:
            self._alyx_details_action.setVisible(is_alyx)
        self._alyx_details_shown = is_alyx
        set_name_read_only(self, is_alyx)
        if self._alyx_details_window is not None and self._alyx_details_window.isVisible():
            self._alyx_details_window.refresh_rows()

    @guarded_slot
    def open_alyx_details(self, checked: bool = False) -> Any:
        """Show the "Alyx subject details" window, rebuilt from the subject's current data.

        A menu callback: an error is logged and shown, never let into Qt (it would abort PyBpod).
        """
        if self._alyx_details_window is None:
            from pybpod_alyx_module.gui.subject_details_window import AlyxSubjectDetailsWindow

            self._alyx_details_window = AlyxSubjectDetailsWindow(self)
        self._alyx_details_window.show()
        self._alyx_details_window.raise_()
        return self._alyx_details_window

    def close_alyx_details(self) -> None:
        """Close and forget the details window (the subject left the project)."""
        window, self._alyx_details_window = self._alyx_details_window, None
        if window is not None:
            window.close()


def _alyx_fields(subject: Any) -> dict[str, Any]:
    try:
        from pybpod_alyx_module.sync.subjects import alyx_data
    except ImportError:  # already reported by models.dependencies
        return {}
    return alyx_data(subject)
