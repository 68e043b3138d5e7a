"""A tree row's right-click options built while an open holds: pending until read, then PyBpod's.

While ``row_options_direct`` holds, ``tree.add_popup_menu_option(..., item=row)`` keeps a
pending action in ``tree._items[id(row)]`` (a ``RowActions`` list) and returns a stand-in.
Whatever reads that entry, or uses the stand-in, must meet the very ``QAction`` pyforms
would have built: same text, icon and shortcut, connected, one object per option.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.pybpod_internals.deferred_controls import Deferred
from pybpod_alyx_module.pybpod_internals.tree_menus import RowActions, row_options_direct

pytestmark = pytest.mark.gui

#: Every way to read a row's entry that pyforms, PyBpod or a test could use.
READS = {
    "for": lambda entry: [action for action in entry],
    "reversed": lambda entry: list(reversed(entry)),
    "index": lambda entry: [entry[i] for i in range(len(entry))],
    "slice": lambda entry: entry[:],
    "in": lambda entry: "-" in entry,
    "==": lambda entry: entry == list(entry),
    "+": lambda entry: entry + [],  # noqa: RUF005 (the operator is the read)
    "*": lambda entry: entry * 1,
    "copy": lambda entry: entry.copy(),
    "count": lambda entry: entry.count("-"),
    "pop": lambda entry: entry.pop(),
    "repr": repr,
}

_OPTION = st.tuples(
    st.sampled_from(["Remove", "Alyx details", "Rename"]),
    st.sampled_from([None, "Ctrl+D"]),  # a shortcut key
    st.booleans(),  # with an icon
)


def _new_tree_and_row():
    """A pyforms tree whose first row has an option added by pyforms itself (as PyBpod's
    project row has before any subject's), and a second row, both kept alive (``_items`` is
    keyed by ``id(row)``, as PyBpod's rows are kept by their subjects)."""
    from AnyQt.QtWidgets import QTreeWidgetItem
    from pyforms.controls import ControlTree

    control = ControlTree("tree")
    first, row = QTreeWidgetItem(), QTreeWidgetItem()
    control.addTopLevelItems([first, row])
    control.add_popup_menu_option("first", lambda: None, item=first)  # pyforms' own
    assert control._items  # from now on, rows' options are direct
    return control, row


def _add_options(tree, row, options, calls):
    from AnyQt.QtGui import QIcon
    from AnyQt.QtWidgets import QStyle

    icon = tree.form.style().standardIcon(QStyle.SP_TrashIcon)
    returned = []
    with row_options_direct(tree):
        for number, (label, key, with_icon) in enumerate(options):

            def triggered(checked=False, number=number):
                calls.append(number)

            returned.append(
                tree.add_popup_menu_option(
                    label, triggered, key=key, item=row, icon=QIcon(icon) if with_icon else None
                )
            )
    return returned


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(options=st.lists(_OPTION, min_size=1, max_size=5), read=st.sampled_from(sorted(READS)))
def test_any_read_of_a_rows_entry_meets_the_actions_pyforms_builds(qapp, options, read):
    from AnyQt.QtGui import QKeySequence
    from AnyQt.QtWidgets import QAction

    (tree, row), calls = _new_tree_and_row(), []
    returned = _add_options(tree, row, options, calls)
    entry = tree._items[id(row)]
    assert isinstance(entry, RowActions)
    assert all(isinstance(action, Deferred) for action in list.copy(entry))  # nothing built yet

    READS[read](entry)

    built = list.copy(entry)
    assert len(built) == len(options) - (read == "pop")
    for number, action in enumerate(built):
        label, key, with_icon = options[number]
        assert isinstance(action, QAction)
        assert action is returned[number].real()  # one object: the stand-in's and the menu's
        assert action.text() == label
        assert action.shortcut() == (QKeySequence(key) if key else QKeySequence())
        assert action.icon().isNull() is not with_icon
        assert action.parent() is tree.form
        action.trigger()
        assert calls[-1] == number


def test_a_stand_in_used_before_the_menu_opens_is_the_action_the_menu_shows(qapp):
    tree, row = _new_tree_and_row()
    remove, details = _add_options(
        tree, row, [("Remove", None, True), ("Alyx details", None, False)], []
    )

    details.setVisible(False)  # what refresh_alyx_state does when a subject leaves Alyx
    shown = [action for action in tree._items[id(row)] if action.isVisible()]

    assert [action.text() for action in shown] == ["Remove"]
    assert shown[0] is remove.real()


def test_an_option_without_an_action_is_returned_but_not_kept(qapp):
    tree, row = _new_tree_and_row()
    (kept,) = _add_options(tree, row, [("Remove", None, False)], [])
    with row_options_direct(tree):
        loose = tree.add_popup_menu_option("Nothing", None, item=row)

    assert loose.real().text() == "Nothing"  # pyforms returns it, unconnected
    assert list(tree._items[id(row)]) == [kept.real()]
