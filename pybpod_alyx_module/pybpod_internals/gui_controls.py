"""The Qt widgets behind pyforms controls (``control.form…``, ``ControlList.tableWidget``).

Qt is reached through the controls given; ``AnyQt`` is imported inside the one function
that needs a Qt enum, so importing this module never needs Qt.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


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


def fit_table(table: Any, stretched: Collection[int] = ()) -> None:
    """A pyforms ``ControlList`` that fills its place and reads at once.

    No empty band above the table; every column sized to its text except those in
    ``stretched``, which share the width left and wrap their text (rows grow to fit), so
    one long value never widens its column past the window and takes its header out of
    view; the view at the first row.

    Why: a ``ControlList`` keeps a 28-pixel bar for its label and +/- buttons even when
    both are hidden, and its ``resizecolumns`` sizes every column to its longest text.
    Internal: ``ControlList.bottomBar``, ``ControlList.tableWidget`` and its header.
    """
    from AnyQt.QtWidgets import QHeaderView

    table.resizecolumns = False  # pyforms would size every column again at each row added
    table.bottomBar.hide()
    widget = table.tableWidget
    header = widget.horizontalHeader()
    for column in range(widget.columnCount()):
        mode = QHeaderView.Stretch if column in stretched else QHeaderView.ResizeToContents
        header.setSectionResizeMode(column, mode)
    widget.setWordWrap(True)
    widget.resizeRowsToContents()
    widget.scrollToTop()


def set_label_style(label: Any, style: str) -> None:
    """Style a pyforms ``ControlLabel`` (e.g. a welfare warning in bold red; ``""``: plain).

    Why: pyforms 4.901/5 has no style property for a label. Internal: ``form.label``.
    """
    label.form.label.setStyleSheet(style)


def select_row(table: Any, row: int) -> None:
    """Select a whole row of a pyforms ``ControlList``, as a click on it does.

    Why: pyforms' ``selected_row_index`` setter selects the first cell only, not the row.
    Internal: ``ControlList.tableWidget``.
    """
    table.tableWidget.selectRow(row)


def set_name_read_only(subject: Any, read_only: bool) -> None:
    """Let the user edit a GUI subject's name in its details dock, or not.

    Why: an Alyx subject keeps its Alyx nickname (a rename would make the next sync's
    folder and the rig's records disagree); PyBpod has no read-only subject. Internal:
    ``SubjectWindow._name``, the pyforms ``ControlText`` behind ``subject.name`` (1.8.2).
    """
    subject._name.readonly = read_only
