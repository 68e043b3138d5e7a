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

While :func:`row_options_direct` holds, a row option is not built at all until it is first
read: ``tree._items[id(row)]`` becomes a :class:`RowActions`, a ``list`` that builds its
pending actions (exactly as pyforms builds the row's own copy) whenever anything reads it
(pyforms' ``about_to_show_contextmenu_event`` iterates it when that row is right-clicked),
and the caller gets a stand-in that builds the action at its first use (``setVisible`` …).
A user right-clicks a handful of the thousands of rows an open builds. Internal:
``ControlTree._items``, ``ControlBase._popup_menu`` and ``ControlBase.form`` (pyforms_gui
4.901/5).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .deferred_controls import Deferred


@contextmanager
def row_options_direct(tree: Any) -> Iterator[None]:
    """Meanwhile, ``tree.add_popup_menu_option(..., item=row)`` adds only the row's action, built
    when first read. A hold inside another one (a subject built during an open) shares it."""
    if "add_popup_menu_option" in vars(tree):
        yield
        return
    pyforms_own = tree.add_popup_menu_option  # bound: the class's method

    def add_popup_menu_option(label="", function_action=None, key=None, item=None, icon=None, submenu=None):  # fmt: skip
        if item is None or label == "-" or not tree._popup_menu or not tree._items:
            return pyforms_own(label, function_action, key, item, icon, submenu)
        action = Deferred(_row_action, (tree, label, function_action, key, icon), {})
        if function_action:  # pyforms keeps only a connected action (and returns the other)
            entry = tree._items.get(id(item))
            if not isinstance(entry, RowActions):
                entry = tree._items[id(item)] = RowActions(entry or ())
            list.append(entry, action)
        return action

    tree.add_popup_menu_option = add_popup_menu_option
    try:
        yield
    finally:
        vars(tree).pop("add_popup_menu_option", None)


def _row_action(tree: Any, label: str, function_action: Any, key: Any, icon: Any) -> Any:
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
    return action


class RowActions(list):
    """A row's entry of ``tree._items``: any read first builds the actions still pending.

    Every ``list`` method that reads an element builds them first (appending does not), so
    whatever pyforms, PyBpod or a test does with the entry meets the real ``QAction`` objects.
    """


def _built_first(name: str) -> Any:
    def method(self: RowActions, *args: Any, **kwargs: Any) -> Any:
        for index, action in enumerate(list.copy(self)):
            if isinstance(action, Deferred):
                list.__setitem__(self, index, action.real())
        return getattr(list, name)(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _read in ("__iter__", "__reversed__", "__getitem__", "__contains__", "__eq__", "__ne__",
              "__lt__", "__le__", "__gt__", "__ge__", "__repr__", "__add__", "__mul__", "__rmul__",
              "copy", "count", "index", "pop", "remove", "sort"):  # fmt: skip
    setattr(RowActions, _read, _built_first(_read))
del _read
