"""Every PyBpod and pyforms internal the Alyx plugin touches, in one file, each with its reason.

Checked against PyBpod 1.8.2 (``pybpod-gui-api`` 1.8.2, ``pybpod-gui-plugin`` 1.8.2,
``pyforms-gui`` 4.901.2 and 5, ``safe-and-collaborative-architecture`` 0.2). When PyBpod
changes, this is the file to read again; everything else in the plugin uses PyBpod's public
models (``project.subjects``, ``project -= subject``, ``subject.data`` …) and plugin hooks.

The headless side (``pybpodgui_api`` and ``sca`` only, imported inside the functions) serves
the sync core and the command line. The GUI side imports Qt and pyforms lazily, inside its
functions, so that importing this module never needs Qt.

Inventory
---------
Headless:

- :func:`subjects_set_aside` — swaps ``project._subjects`` while a subject is built.
- :func:`create_subject` — ``project.create_subject()`` in linear time, with a text uuid.
- :func:`give_text_uuid` — PyBpod's new subjects hold a ``uuid.UUID`` (1.x bug 9).
- :func:`remove_subjects` — one pass over ``project._subjects`` for many removals.
- :func:`render_document` — PyBpod's serialisation (``sca`` JSON), for atomic writes.
- :func:`full_collections_held`, :func:`release_frozen` — the process-wide garbage
  collector's thresholds and permanent generation.

GUI:

- :func:`setup_plugin_logging` — the handlers PyBpod gives only to the loggers it names.
- :func:`ask_project_folder` — PyBpod's File > Open folder dialog, asked a step earlier.
- :func:`gui_subject_factory` — the composed ``Subject`` class, without PyBpod's
  ``tree.setCurrentItem`` per subject.
- :func:`tree_updates_paused` — ``tree.setUpdatesEnabled`` around a step.
- :func:`drop_subject_node` — the GUI half of PyBpod's ``subject.remove``.
- :func:`text_changed`, :func:`label_text`, :func:`set_progress`,
  :func:`wrap_label_full_width`, :func:`fit_two_columns`, :func:`set_label_style`,
  :func:`fit_columns`, :func:`select_row` — the Qt widgets behind pyforms controls
  (``control.form…``, ``ControlList.tableWidget``).
- :func:`running_session` — the session a board's run just ended (``board._running_session``).

Hooks the mixins in :mod:`pybpod_alyx_module.models` rely on, beyond the documented ones
(``create_treenode``, ``load``, ``toJSON``, ``collect_data``, ``remove``):

- ``Projects.create_project`` / ``open_project``: PyBpod composes its projects container
  from ``models.project.Projects`` (1.8.2 looks in ``models.project``, not
  ``models.projects``).
- ``Projects.__sub__``: ``ProjectWindow.close`` does ``projects -= project`` (1.8.2); it
  is the only moment a plugin hears that a project closed.
- ``subject._name.readonly``: the pyforms text control behind a subject's name.
- ``Board.end_run_task_handler``: ``BoardCom`` (1.8.2) calls it from its 500 ms polling
  timer on the GUI thread once the task's process ended; the session file is complete.
- ``Setup.run_task``: every run goes through it (the setup window's Run, a subject's Run,
  an experiment's run-all); ``SetupWindow.can_run_task`` shows PyBpod's own alert and
  returns False for a run it refuses; ``update_ui`` puts the Run button back.
- ``Session.create_treenode``: returns ``None`` in 1.8.2 (``SessionSignals`` drops the
  node its ``super()`` returns): the node is ``session.node``.
- ``Session.update_ui`` and ``session.running``: ``SessionUIBusy`` sets the session node's
  icon (a play icon while running, none after); the plugin's mark is drawn after it.
"""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Callable

#: The PyBpod release every function below was checked against.
PYBPOD_VERSION_CHECKED = "1.8.2"

# =====================================================================================
# Headless side: pybpodgui_api models, no Qt.
# =====================================================================================


@contextmanager
def subjects_set_aside(project: Any) -> Iterator[None]:
    """While PyBpod builds a subject, hide the project's others from it.

    Why: a new PyBpod subject gets a placeholder name ("Untitled subject N") chosen by
    scanning every subject already in the project (``generate_name`` in
    ``SubjectBase.__init__``), so loading or syncing N subjects costs O(N²): 8 s to open
    10,000 (in the GUI each name read is a Qt call, worse still). The placeholder is
    replaced at once (by ``load`` or by the sync), so it may as well be chosen against an
    empty list. Subjects created meanwhile are appended to the real list afterwards, where
    ``project += subject`` would have put them.

    Internal: ``ProjectBase._subjects`` (the list behind ``project.subjects``), 1.8.2.
    """
    subjects, project._subjects = project._subjects, []
    try:
        yield
    finally:
        created, project._subjects = project._subjects, subjects
        subjects.extend(created)


def give_text_uuid(subject: Any) -> None:
    """Make a subject's ``uuid4`` the string a reloaded subject has.

    Why: PyBpod gives a new subject a ``uuid.UUID``, which its own ``toJSON()`` cannot
    serialize (1.x bug 9, still in 1.8.2), while a subject loaded from disk has a string.
    Called once, when a subject is built (by :func:`create_subject` and by the subject
    mixin's ``__init__``), never from a getter.
    """
    subject.uuid4 = str(subject.uuid4 if subject.uuid4 else uuid.uuid4())


def create_subject(project: Any) -> Any:
    """``project.create_subject()``, in linear time (:func:`subjects_set_aside`), with a text uuid."""
    with subjects_set_aside(project):
        subject = project.create_subject()
    give_text_uuid(subject)
    return subject


def remove_subjects(project: Any, subjects: Iterable[Any]) -> None:
    """``project -= subject`` for each of ``subjects``, in one pass over the project's list.

    Why: ``ProjectBase.__sub__`` does ``list.remove``, a scan of every subject per removal.
    Internal: ``ProjectBase._subjects``, 1.8.2 (``__sub__`` does nothing else for subjects).
    """
    gone = {id(subject) for subject in subjects}
    if gone:
        project._subjects[:] = [s for s in project._subjects if id(s) not in gone]


def render_document(data: Any) -> str:
    """A document as PyBpod writes it (``sca`` JSON: its header, indent 4, sorted keys).

    Why: PyBpod's ``save`` writes with ``open(path, 'w')`` in place, so a kill leaves a
    truncated file; the sync writes the same text to a temporary file and renames it.
    Internal: ``sca.formats.json.dump`` (sca 0.2), which PyBpod 1.8.2's ``save`` calls.
    """
    import io

    from sca.formats import json as sca_json

    buffer = io.StringIO()
    sca_json.dump(data, buffer)
    return buffer.getvalue()


#: The oldest generation's threshold while held: never reached in a sync.
_OUT_OF_REACH = 1_000_000_000
_gc_lock = threading.Lock()
_gc_holders = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def full_collections_held() -> Iterator[None]:
    """Hold back Python's full garbage collections meanwhile; the thresholds always come back.

    Why: building thousands of PyBpod subjects (dozens of Python objects each, widgets
    included) makes CPython walk every object of the process again and again (with 3,000
    subjects, six full collections of 80 to 150 ms, each a frozen window). While held, the
    oldest generation's threshold is out of reach: young collections go on, only the
    full walks wait; the previous thresholds come back when the last holder leaves (by
    any way out: the end, an exception, ``close()`` of a generator holding it). Nested and
    concurrent holds share one saved value.

    The walk held back would still come, soon after, as one pause of ~200 ms with 3,000
    subjects (measured: during the next download). So the last holder also frees the young
    generations' garbage and then moves every object alive into CPython's permanent
    generation (``gc.freeze()``): the subjects just built live as long as their project,
    and later full collections no longer walk them. :func:`release_frozen` gives them back
    to the collector when a project closes (the cycles it leaves are freed then).
    """
    global _gc_holders, _gc_saved
    with _gc_lock:
        if _gc_holders == 0:
            _gc_saved = gc.get_threshold()
            young, middle, _ = _gc_saved
            gc.set_threshold(young, middle, _OUT_OF_REACH)
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_saved is not None:
                if gc.get_threshold()[2] == _OUT_OF_REACH:  # nobody else changed them meanwhile
                    gc.set_threshold(*_gc_saved)
                _gc_saved = None
                gc.collect(1)  # the young generations only: a few ms
                gc.freeze()


def release_frozen() -> None:
    """Let full collections walk the objects :func:`full_collections_held` froze (a project closed)."""
    with _gc_lock:
        if _gc_holders == 0:
            gc.unfreeze()


# =====================================================================================
# GUI side: PyBpod's GUI models, pyforms and Qt, imported inside each function.
# =====================================================================================


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
    included) with its placeholder name chosen in linear time, and selects nothing.
    """
    from pybpodgui_plugin.models.subject import Subject

    def create(target: Any) -> Any:
        with subjects_set_aside(target):
            subject = Subject(target)
        give_text_uuid(subject)
        return subject

    return create


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


# -- pyforms controls: the Qt widgets behind them ---------------------------------------


def text_changed(control: Any) -> Any:
    """The Qt ``textChanged`` signal of a pyforms ``ControlText`` (``control.form.lineEdit``).

    Why: pyforms 4.901/5 offers ``changed_event`` only as one overridable method per
    control; the window needs a signal it can connect to. Internal: ``form.lineEdit``.
    """
    return control.form.lineEdit.textChanged


def label_text(label: Any) -> str:
    """What a pyforms ``ControlLabel`` shows now (``label.form.label``, the QLabel)."""
    return label.form.label.text()


def set_progress(progress: Any, done: int, total: int | None) -> None:
    """Set a pyforms ``ControlProgress`` without its ``processEvents()`` call.

    Why: ``ControlProgress.value = n`` runs ``QApplication.processEvents()``, a nested
    event loop inside a progress callback. Internal: ``form.horizontalSlider`` (the
    QProgressBar). ``total`` ``None`` (unknown yet) shows a busy bar.
    """
    bar = progress.form.horizontalSlider
    bar.setMaximum(total or 0)
    bar.setValue(done)


def wrap_label_full_width(label: Any) -> None:
    """Let a pyforms ``ControlLabel`` wrap over its window's whole width.

    Why: pyforms puts the QLabel in the label column of a ``QFormLayout``, which never
    grows, so wrapped text would be a narrow column; it is moved to the spanning role.
    Internal: ``form.label`` and ``form.layout()``.
    """
    from AnyQt.QtWidgets import QFormLayout

    widget = label.form.label
    layout = label.form.layout()
    layout.removeWidget(widget)
    layout.setWidget(0, QFormLayout.SpanningRole, widget)
    widget.setWordWrap(True)


def fit_two_columns(table: Any) -> None:
    """A pyforms ``ControlList`` of two columns: the first fits its text, the second the rest.

    Internal: ``ControlList.tableWidget`` (the QTableWidget), for sizing and scrolling.
    """
    widget = table.tableWidget
    widget.resizeColumnToContents(0)
    widget.horizontalHeader().setStretchLastSection(True)
    widget.scrollToTop()


def set_label_style(label: Any, style: str) -> None:
    """Style a pyforms ``ControlLabel`` (e.g. a welfare warning in bold red; ``""``: plain).

    Why: pyforms 4.901/5 has no style property for a label. Internal: ``form.label``.
    """
    label.form.label.setStyleSheet(style)


def fit_columns(table: Any) -> None:
    """Size every column of a pyforms ``ControlList`` to its text.

    Internal: ``ControlList.tableWidget`` (the QTableWidget).
    """
    table.tableWidget.resizeColumnsToContents()


def select_row(table: Any, row: int) -> None:
    """Select a whole row of a pyforms ``ControlList``, as a click on it does.

    Why: pyforms' ``selected_row_index`` setter selects the first cell only, not the row.
    Internal: ``ControlList.tableWidget``.
    """
    table.tableWidget.selectRow(row)
