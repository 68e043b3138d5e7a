"""PyBpod's GUI project: building, ordering and dropping its subjects, its dialogs and log.

PyBpod's GUI models (``pybpodgui_plugin``), pyforms and Qt are imported inside each
function, so importing this module never needs Qt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Callable

from .deferred_controls import subject_controls_deferred
from .gc_policy import full_collections_held
from .headless import built_aside
from .tree_menus import row_options_direct

#: Set on PyBpod's projects container while its ``open_project`` runs: the projects it creates.
_OPENING = "_alyx_projects_opening"


def setup_plugin_logging(logger_name: str) -> None:
    """Send ``logger_name``'s records to PyBpod's console and its ``app.log``, once.

    Why: PyBpod configures only the loggers it names; a plugin's records otherwise reach
    Python's last-resort stderr handler only. Done as the session-history plugin 1.4.2
    does, with ``loggingbootstrap.create_double_logger`` and PyBpod's ``APP_LOG_*``
    settings. Idempotent: a logger that already writes to ``APP_LOG_FILENAME`` is left.
    """
    import logging
    import os

    import loggingbootstrap
    from confapp import conf

    log = logging.getLogger(logger_name)
    target = os.path.abspath(conf.APP_LOG_FILENAME)
    for handler in log.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return
    loggingbootstrap.create_double_logger(
        logger_name,
        conf.APP_LOG_HANDLER_CONSOLE_LEVEL,
        conf.APP_LOG_FILENAME,
        conf.APP_LOG_HANDLER_FILE_LEVEL,
    )


def gui_subject_factory(project: Any) -> Callable[[Any], Any]:
    """Build subjects of the GUI ``project`` as its ``create_subject`` does, without selecting each.

    Why: PyBpod 1.8.2's ``ProjectTreeNode.create_subject`` is ``Subject(self)`` then
    ``tree.setCurrentItem(subject.node)``. In a shown tree that scrolls to the item, which
    first lays out every row again: ~0.7 ms per thousand subjects, for every subject, and a
    selection event that shows each subject in the details dock. This builds the same
    composed class (``pybpodgui_plugin.models.subject.Subject``, every plugin's mixins
    included) with its placeholder name chosen in linear time, its controls built only
    when its details are shown (:mod:`.deferred_controls`), and selects nothing.
    """
    from pybpodgui_plugin.models.subject import Subject

    def build(target: Any) -> Any:
        with subject_controls_deferred():
            return Subject(target)

    def create(target: Any) -> Any:
        return built_aside(target, lambda: build(target))

    return create


@contextmanager
def project_opening(projects: Any) -> Iterator[None]:
    """While PyBpod's ``open_project`` runs: the project it opens loads its subjects in linear time.

    Why: PyBpod 1.8.2's ``ProjectIO.load`` builds each subject with the project's
    ``create_subject``: a name chosen by scanning every other subject (each name a Qt
    call, O(N²)), the new node selected (a layout of the whole tree), and eight pyforms
    controls (~6 ms). 3,000 subjects took 30 s, 10,000 minutes. The projects container's
    ``create_project`` hands each project it makes to :func:`project_created`, which
    gives it, for the load only, the factory of :func:`gui_subject_factory` (same class,
    same subjects, controls built when shown, nothing selected: PyBpod's ``open_project``
    silences the tree's selection events meanwhile, then selects the project). For the
    whole open: the stand-in controls are patched in once (not per subject), each row's
    right-click options are built without pyforms' dead copy
    (:func:`~.tree_menus.row_options_direct`), the tree is not repainted, full garbage
    collections wait, then the subjects are frozen (:func:`~.gc_policy.full_collections_held`).
    """
    opened: list[Any] = []
    setattr(projects, _OPENING, opened)
    tree = projects.tree
    try:
        with ExitStack() as held:
            for hold in (
                full_collections_held(),
                subject_controls_deferred(),
                row_options_direct(tree),
                tree_updates_paused(tree),
            ):
                held.enter_context(hold)
            yield
    finally:
        delattr(projects, _OPENING)
        for project in opened:
            vars(project).pop("create_subject", None)  # PyBpod's own again


@contextmanager
def row_options_when_read(project: Any) -> Iterator[None]:
    """Meanwhile, the right-click options of ``project``'s tree rows are built when first read.

    Why: each subject a sync adds gets "Remove" (PyBpod) and "Alyx details" (the plugin),
    and pyforms builds each option twice (:mod:`.tree_menus`): 40,000 connected ``QAction``
    objects for a first sync of 10,000, of which the user opens a handful. Internal:
    ``project.tree`` (the projects' ``ControlTree``), 1.8.2.
    """
    with row_options_direct(project.tree):
        yield


def project_created(projects: Any, project: Any) -> None:
    """Called by the projects container's ``create_project``: see :func:`project_opening`."""
    opened = getattr(projects, _OPENING, None)
    if opened is not None:
        opened.append(project)
        create = gui_subject_factory(project)
        project.create_subject = lambda: create(project)


def subjects_in_name_order(project: Any) -> None:
    """Show the GUI project's subjects in its tree in name order.

    Why: PyBpod shows subjects in the order it built them (a load follows ``os.listdir``:
    no order at all), and a sync appends the new ones: among thousands a user could not
    find one. The rows are sorted by the name case-folded, then as is; nothing moves when
    already in order. ``project.subjects`` keeps PyBpod's order (its "unsaved changes"
    hash follows it). Each row keeps its expanded state; the tree's selection events are
    silenced meanwhile (as PyBpod's ``open_project`` does) and its current row restored.
    Internals: ``project.subjects_node`` (a QTreeWidgetItem), ``subject.node`` and
    ``tree.item_selection_changed_event`` (pyforms' ``ControlTree``), 1.8.2.
    """
    ordered = sorted(project.subjects, key=lambda subject: (subject.name.casefold(), subject.name))
    nodes = [subject.node for subject in ordered]
    parent = project.subjects_node
    rows = [parent.child(i) for i in range(parent.childCount())]
    if list(map(id, rows)) == list(map(id, nodes)):
        return
    tree = project.tree
    current = tree.currentItem()
    silenced = tree.item_selection_changed_event
    tree.item_selection_changed_event = lambda: None
    try:
        expanded = [(row, row.isExpanded()) for row in rows]
        placed = set(map(id, nodes))
        others = [row for row in parent.takeChildren() if id(row) not in placed]
        parent.addChildren(nodes + others)
        for row, was in expanded:
            row.setExpanded(was)
        if current is not None:
            tree.setCurrentItem(current)
    finally:
        tree.item_selection_changed_event = silenced


def ask_project_folder(projects: Any) -> str:
    """The folder dialog PyBpod shows for File > Open when no path is given ("": cancelled).

    Why: the plugin must complete an interrupted sync *before* PyBpod loads the project,
    so it needs the folder first; PyBpod 1.8.2's ``ProjectsWindow.open_project`` asks with
    exactly this call, and is then given the chosen path.
    """
    from AnyQt.QtWidgets import QFileDialog

    return QFileDialog.getExistingDirectory(projects, "Select the project directory")


@contextmanager
def tree_updates_paused(tree: Any) -> Iterator[None]:
    """No repaint of PyBpod's project tree while a step changes many of its rows (Qt API)."""
    tree.setUpdatesEnabled(False)
    try:
        yield
    finally:
        tree.setUpdatesEnabled(True)


def drop_subject_node(project: Any, subject: Any) -> None:
    """The GUI half of removing a subject the core already took out of the project and setups.

    Why: PyBpod 1.8.2's ``SubjectTreeNode.remove`` is ``project -= subject`` (which fails
    for a subject no longer there) then ``subjects_node.removeChild(subject.node)``; its
    dock window's ``remove`` clears the details dock when it shows the subject. Only
    those GUI parts are done here.
    """
    details = project.mainwindow.details
    if details.value is subject:
        details.value = None
    project.subjects_node.removeChild(subject.node)


def running_session(board: Any) -> Any:
    """The PyBpod session whose run the board is ending (in ``end_run_task_handler``).

    Why: ``BoardCom.end_run_task_handler`` takes no argument; the session it ends is the
    attribute its ``run_task`` set. Internal: ``BoardCom._running_session``, 1.8.2.
    """
    return board._running_session
