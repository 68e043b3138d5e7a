"""The right-click options of PyBpod's project tree rows, added without pyforms' dead copy.

Why: pyforms' ``ControlTree.add_popup_menu_option(label, action, item=row)`` (4.901/5)
first calls ``ControlBase.add_popup_menu_option``, which builds a ``QAction``, connects it
and appends it to the tree's one popup menu, then builds the row's own ``QAction`` and
keeps it in ``tree._items[id(row)]``. The first copy is never shown: before the menu
opens, ``ControlTree.about_to_show_contextmenu_event`` clears it and adds only the
clicked row's actions (whenever ``_items`` holds any, which it does from the first row
option on). Every PyBpod 1.8.2 subject adds one such option ("Remove"), the plugin one
more ("Alyx details"): opening 3,000 subjects built and connected 6,000 dead actions
(a tenth of the open) and left them in the menu until the first right-click.

While :func:`row_options_direct` holds, the tree's row options are built as pyforms
builds the row's own copy, and nothing else. Internal: ``ControlTree._items``,
``ControlBase._popup_menu`` and ``ControlBase.form`` (pyforms_gui 4.901/5).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def row_options_direct(tree: Any) -> Iterator[None]:
    """Meanwhile, ``tree.add_popup_menu_option(..., item=row)`` builds only the row's action."""
    pyforms_own = tree.add_popup_menu_option  # bound: the class's method

    def add_popup_menu_option(label="", function_action=None, key=None, item=None, icon=None, submenu=None):  # fmt: skip
        if item is None or label == "-" or not tree._popup_menu or not tree._items:
            return pyforms_own(label, function_action, key, item, icon, submenu)
        return _row_action(tree, label, function_action, key, item, icon)

    tree.add_popup_menu_option = add_popup_menu_option
    try:
        yield
    finally:
        vars(tree).pop("add_popup_menu_option", None)


def _row_action(tree: Any, label: str, function_action: Any, key: Any, item: Any, icon: Any) -> Any:
    """The row's own ``QAction``, exactly as ``ControlTree.add_popup_menu_option`` builds it."""
    from AnyQt.QtGui import QIcon, QKeySequence
    from AnyQt.QtWidgets import QAction

    action = QAction(label, tree.form)
    if icon is not None:
        action.setIconVisibleInMenu(True)
        action.setIcon(QIcon(icon))
    if key is not None:
        action.setShortcut(QKeySequence(key))
    if function_action:
        action.triggered.connect(function_action)
        tree._items.setdefault(id(item), []).append(action)
    return action
