"""Every PyBpod and pyforms internal the Alyx plugin touches, each with its reason.

Checked against PyBpod 1.8.2 (``pybpod-gui-api`` 1.8.2, ``pybpod-gui-plugin`` 1.8.2,
``pyforms-gui`` 4.901.2 and 5, ``safe-and-collaborative-architecture`` 0.2, PyQt5 5.15).
When PyBpod changes, this package is what to read again; everything else in the plugin
uses PyBpod's public models (``project.subjects``, ``project -= subject``,
``subject.data`` …) and plugin hooks.

Importing it imports no PyBpod, pyforms or Qt module: the headless core (client,
planning, outbox, command line) works without PyBpod, and a function that does need
PyBpod when it is missing raises :class:`PyBpodMissing` (one line: what to install).

By job:

- :mod:`.headless` — PyBpod's project models and JSON without Qt:
  :func:`subjects_set_aside`, :func:`built_aside` (the one way a subject is built: linear
  time, a text uuid), :func:`create_subject`, :func:`give_text_uuid` (1.x bug 9),
  :func:`remove_subjects`, :func:`render_document`, :func:`pybpod_document`,
  :func:`new_headless_project` (:mod:`.headless_project`: sessions left unread).
- :mod:`.gc_policy` — :func:`full_collections_held`, :func:`release_frozen`: CPython's
  collector while thousands of subjects are built.
- :mod:`.gui_project` — the GUI project: :func:`project_opening` / :func:`project_created`
  (a project opened in linear time), :func:`subjects_in_name_order`,
  :func:`gui_subject_factory`, :func:`tree_updates_paused`, :func:`drop_subject_node`,
  :func:`ask_project_folder`, :func:`running_session`, :func:`setup_plugin_logging`.
- :mod:`.deferred_controls` — :func:`build_deferred_controls`: a GUI subject's pyforms
  controls built when its details are first shown.
- :mod:`.tree_menus` — a tree row's right-click options built without pyforms' dead copy
  in the tree's own menu, when its row's menu is first read (used by :func:`project_opening`
  and :func:`row_options_when_read`).
- :mod:`.gui_controls` — the Qt widgets behind pyforms controls: :func:`text_changed`,
  :func:`label_text`, :func:`set_progress`, :func:`wrap_label_full_width`,
  :func:`fit_table`, :func:`set_label_style`,
  :func:`select_row`, :func:`set_name_read_only`.
- :mod:`.missing` — :class:`PyBpodMissing`.

Hooks the mixins in :mod:`pybpod_alyx_module.models` rely on, beyond the documented ones
(``create_treenode``, ``load``, ``toJSON``, ``collect_data``, ``remove``):

- ``Projects.create_project`` / ``open_project``: PyBpod composes its projects container
  from ``models.project.Projects`` (1.8.2 looks in ``models.project``, not
  ``models.projects``); ``open_project`` is ``create_project()`` then ``project.load``.
- ``Projects.__sub__``: ``ProjectWindow.close`` does ``projects -= project`` (1.8.2); it
  is the only moment a plugin hears that a project closed.
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

from .deferred_controls import build_deferred_controls
from .gc_policy import full_collections_held, release_frozen
from .gui_controls import (
    fit_table,
    label_text,
    select_row,
    set_label_style,
    set_name_read_only,
    set_progress,
    text_changed,
    wrap_label_full_width,
)
from .gui_project import (
    ask_project_folder,
    drop_subject_node,
    gui_subject_factory,
    project_created,
    project_opening,
    row_options_when_read,
    running_session,
    setup_plugin_logging,
    subjects_in_name_order,
    tree_updates_paused,
)
from .headless import (
    built_aside,
    create_subject,
    give_text_uuid,
    new_headless_project,
    pybpod_document,
    remove_subjects,
    render_document,
    subjects_set_aside,
)
from .missing import PyBpodMissing

__all__ = [
    "PyBpodMissing",
    "ask_project_folder",
    "build_deferred_controls",
    "built_aside",
    "create_subject",
    "drop_subject_node",
    "fit_table",
    "full_collections_held",
    "give_text_uuid",
    "gui_subject_factory",
    "label_text",
    "new_headless_project",
    "project_created",
    "project_opening",
    "pybpod_document",
    "release_frozen",
    "remove_subjects",
    "render_document",
    "row_options_when_read",
    "running_session",
    "select_row",
    "set_label_style",
    "set_name_read_only",
    "set_progress",
    "setup_plugin_logging",
    "subjects_in_name_order",
    "subjects_set_aside",
    "text_changed",
    "tree_updates_paused",
    "wrap_label_full_width",
]
