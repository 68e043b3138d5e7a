"""Fixtures that boot the real PyBpod 1.8.2 editor in-process, offscreen, under pytest-qt.

``pybpod_editor`` is the editor (``StandAloneContainer(BaseEditor)._widget``) with a temporary
``user_settings`` whose ``GENERIC_EDITOR_PLUGINS_LIST`` holds ``pybpodgui_plugin``, the
session-history plugin and ``pybpod_alyx_module``, in the order given by ``plugins_order``
(parametrized: this project's plugin after, and before, ``pybpodgui_plugin``).

Global state, and how it is handled:

* confapp's ``conf`` is one object per process. The temporary ``user_settings`` module is
  added to it (priority 0, so it wins) for a whole run of one plugin order and removed
  afterwards. To change a setting in one test, patch that module:
  ``monkeypatch.setattr(pybpod_user_settings, "NAME", value, raising=False)``
  (``conf.NAME = value`` does not override a value defined in a module).
* PyBpod composes its model classes (``Project``, ``Subject``, ...) from the plugins when
  ``pybpodgui_plugin.models.*`` is first imported, so the plugin order is frozen into
  ``sys.modules``. ``plugins_order`` is session-scoped, so pytest runs all the tests of one
  order before those of the other; when the order changes, ``_recompose`` drops the composed
  modules (``pybpodgui_plugin*``, ``pyforms_generic_editor.models*``, the other plugins,
  and ``pybpod_alyx_module.models*``) so that the next editor composes them anew, in the new
  order. The rest of ``pybpod_alyx_module`` (the REST client, ...) is never dropped, so the
  classes a test imports stay the ones the plugin uses. Consequence for GUI tests: reach the
  composed classes through the editor (``type(project)``, ``editor.model``), and do not
  import ``pybpod_alyx_module.models`` at module level.
* ``PluginsFinder`` keeps its plugin list in a mutable default argument shared by every
  instance; each editor appends to it, so it is emptied before each boot.
* After each boot, ``_check_composition`` rebuilds every composed class's expected bases
  from the plugin list and compares them, by identity, with the real ones: a stale
  composition, or a plugin module that fails to import (which PyBpod would only log), fails
  the test.
* Modal dialogs (``question``, ``input_*``, and the message boxes) would block an offscreen
  test forever: ``pybpod_dialogs`` replaces them; a question or an input with no answer
  queued fails the test, and so does a queued answer to a question that was not among the
  buttons it offered (the real dialog cannot return it).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

# Before anything imports Qt: no display needed, and AnyQt must pick PyQt5 (PyBpod fails
# under PyQt6 with "cannot import name 'qApp'").
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyqt5"

ALYX = "pybpod_alyx_module"
PYBPOD = "pybpodgui_plugin"
SESSION_HISTORY = "pybpodgui_plugin_session_history"

PLUGIN_ORDERS = {
    "alyx-last": (PYBPOD, SESSION_HISTORY, ALYX),
    "alyx-first": (ALYX, PYBPOD, SESSION_HISTORY),
}

# Modules that compose classes at import time, and the spec each passes to find_class().
COMPOSED = {
    ("pybpodgui_plugin.models.project", "Project"): "models.project.Project",
    ("pybpodgui_plugin.models.projects", "Projects"): "models.project.Projects",
    ("pybpodgui_plugin.models.experiment", "Experiment"): "models.experiment.Experiment",
    ("pybpodgui_plugin.models.setup", "Setup"): "models.setup.Setup",
    ("pybpodgui_plugin.models.setup.board_task", "BoardTask"): "models.setup.board_task.BoardTask",
    ("pybpodgui_plugin.models.session", "Session"): "models.session.Session",
    ("pybpodgui_plugin.models.subject", "Subject"): "models.subject.Subject",
    ("pybpodgui_plugin.models.user", "User"): "models.user.User",
    ("pybpodgui_plugin.models.board", "Board"): "models.board.Board",
    ("pybpodgui_plugin.models.task", "Task"): "models.task.Task",
    ("pyforms_generic_editor.models.project", "Project"): "models.project.Project",
    ("pyforms_generic_editor.models.projects", "Projects"): "models.projects.Projects",
}

# Loggers that pybpodgui_plugin and the plugins give handlers to when they are imported.
PLUGIN_LOGGERS = ("pybpodgui_plugin", "pybranch", "pybpodapi", SESSION_HISTORY, ALYX)

_composed_with: tuple[str, ...] | None = None  # the plugin order now frozen in sys.modules


def _purged_prefixes(plugins: tuple[str, ...]) -> list[str]:
    prefixes = ["pyforms_generic_editor.models"]
    for plugin in plugins:
        prefixes.append(f"{ALYX}.models" if plugin == ALYX else plugin)
    return prefixes


def _recompose(plugins: tuple[str, ...]) -> None:
    """Make the next editor compose PyBpod's model classes for ``plugins``."""
    from confapp import conf

    global _composed_with
    if _composed_with == plugins:
        return
    already_composed = any(module in sys.modules for module, _ in COMPOSED)
    if _composed_with is None and not already_composed:
        _composed_with = plugins
        return
    # Composed before, by us with another order, or by someone else with an unknown one.
    previous = _composed_with or tuple(conf.GENERIC_EDITOR_PLUGINS_FINDER._plugins)
    prefixes = _purged_prefixes(tuple(dict.fromkeys(previous + plugins)))
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            del sys.modules[name]
    for name in PLUGIN_LOGGERS:
        log = logging.getLogger(name)
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
    importlib.invalidate_caches()
    _composed_with = plugins


def _expected_bases(plugins: tuple[str, ...], spec: str, composing: str) -> list[type]:
    """The classes PluginsFinder.find_class(spec) returned while ``composing`` was imported,
    but failing on real import errors.

    A plugin without the module (``ModuleNotFoundError`` for that module or a parent package)
    or without the attribute is skipped, as PyBpod does; any other error propagates. The
    composing module itself is skipped: find_class met it half-initialized (that is why
    ``pybpodgui_plugin``'s own position in the list does not change its own classes' bases).
    """
    *parts, class_name = spec.split(".")
    found = []
    for plugin in plugins:
        module_name = ".".join([plugin, *parts])
        if module_name == composing:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name) and exc.name.startswith(plugin):
                continue
            raise
        if hasattr(module, class_name):
            found.append(getattr(module, class_name))
    return found


def _check_composition(plugins: tuple[str, ...]) -> None:
    for (module_name, class_name), spec in COMPOSED.items():
        module = sys.modules.get(module_name)
        if module is None:  # not imported by this boot
            continue
        composed = getattr(module, class_name)
        expected = _expected_bases(plugins, spec, module_name)
        actual = list(composed.__bases__[:-1])
        assert actual == expected, (
            f"{module_name}.{class_name} was composed from {actual}, "
            f"but plugins {plugins} give {expected}"
        )


@pytest.fixture(scope="session", params=list(PLUGIN_ORDERS))
def plugins_order(request) -> tuple[str, ...]:
    """The GENERIC_EDITOR_PLUGINS_LIST, one value per parametrization (session-scoped, so
    the tests are grouped by it and the classes are recomposed once per order)."""
    return PLUGIN_ORDERS[request.param]


@pytest.fixture(scope="session")
def pybpod_user_settings(plugins_order, tmp_path_factory):
    """The temporary ``user_settings`` module, registered with confapp for this order."""
    from confapp import conf

    folder = tmp_path_factory.mktemp("user_settings")
    log_file = folder / "app.log"
    path = folder / "user_settings.py"
    path.write_text(
        textwrap.dedent(
            f"""\
            import logging

            SETTINGS_PRIORITY = 0
            GENERIC_EDITOR_PLUGINS_LIST = {list(plugins_order)!r}
            PYFORMS_SILENT_PLUGINS_FINDER = False
            DEFAULT_PROJECT_PATH = None
            APP_LOG_FILENAME = {str(log_file)!r}
            APP_LOG_HANDLER_CONSOLE_LEVEL = logging.WARNING
            """
        )
    )
    spec = importlib.util.spec_from_file_location("user_settings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    saved = sys.modules.get("user_settings")
    sys.modules["user_settings"] = module  # BaseEditor's "Edit user settings" looks it up
    stale = [m for m in object.__getattribute__(conf, "_modules") if m.__name__ == "user_settings"]
    for old in stale:
        conf -= old
    conf += module
    _recompose(plugins_order)
    yield module
    conf -= module
    if saved is None:
        sys.modules.pop("user_settings", None)
    else:
        sys.modules["user_settings"] = saved


@dataclass
class Dialogs:
    """Stands in for BaseWidget's modal dialogs during a GUI test.

    ``answers`` is a queue of replies for ``question`` / ``input_*`` calls, in call order (a
    callable is called with ``(kind, msg, title)``); every call is recorded in ``calls`` as
    ``(kind, title, msg)``. Message boxes (info, warning, critical, ...) need no answer.
    """

    answers: list[Any] = field(default_factory=list)
    calls: list[tuple[str, Any, Any]] = field(default_factory=list)

    def _answer(self, kind: str, msg: Any, title: Any, buttons: list[str] | None = None) -> Any:
        self.calls.append((kind, title, msg))
        if not self.answers:
            raise AssertionError(f"unexpected modal {kind}: {title!r}: {msg!r}")
        answer = self.answers.pop(0)
        answer = answer(kind, msg, title) if callable(answer) else answer
        if buttons is not None and answer not in buttons:
            raise AssertionError(f"{answer!r} is not among the buttons offered: {buttons}")
        return answer

    def titles(self, kind: str | None = None) -> list[Any]:
        return [title for k, title, _ in self.calls if kind is None or k == kind]


@pytest.fixture
def pybpod_dialogs(monkeypatch) -> Dialogs:
    from pyforms_gui.basewidget import BaseWidget

    dialogs = Dialogs()

    def patch(name: str, replacement: Callable[..., Any]) -> None:
        monkeypatch.setattr(BaseWidget, name, replacement)

    patch(
        "question",
        lambda self, msg, title=None, buttons=("no", "yes"): dialogs._answer(
            "question", msg, title, list(buttons)
        ),
    )
    patch("input_text", lambda self, msg, title="", **kw: dialogs._answer("input_text", msg, title))
    patch("input_int", lambda self, msg, title="", **kw: dialogs._answer("input_int", msg, title))
    patch(
        "input_double",
        lambda self, msg, title="", **kw: dialogs._answer("input_double", msg, title),
    )
    patch(
        "message",
        lambda self, msg, title=None, msg_type=None: dialogs.calls.append(
            (msg_type or "message", title, msg)
        ),
    )
    return dialogs


@pytest.fixture
def pybpod_editor(plugins_order, pybpod_user_settings, pybpod_dialogs, qapp, tmp_path, monkeypatch):
    """A freshly booted PyBpod editor (``BaseEditor``), in its main window, offscreen."""
    from confapp import conf
    from pyforms_generic_editor.editor.base_editor import BaseEditor
    from pyforms_gui.appmanager import StandAloneContainer

    monkeypatch.chdir(tmp_path)  # PyBpod writes relative files (logs) to the current folder
    assert list(plugins_order) == conf.GENERIC_EDITOR_PLUGINS_LIST
    conf.GENERIC_EDITOR_PLUGINS_FINDER._plugins.clear()

    container = StandAloneContainer(BaseEditor)
    editor = container._widget
    try:
        loaded = [module.__name__ for module in editor.plugins_classes]
        assert loaded == list(plugins_order), (
            f"PyBpod skipped a plugin: loaded {loaded}, listed {list(plugins_order)} "
            "(see the 'Skiping bad plugin' log record)"
        )
        _check_composition(plugins_order)
        container.show()
        qapp.processEvents()
        yield editor
    finally:
        # Closing asks "Save all projects?" in a modal box unless every project is saved.
        editor._confirm_exit = lambda: True
        container.close()
        container.deleteLater()
        qapp.processEvents()


# ---------------------------------------------------------------------------------------
# The Alyx plugin's GUI: a driver for its windows, pointed at the real local Alyx.
# ---------------------------------------------------------------------------------------
ALYX_WAIT_MS = 60_000  # a Get Subjects of alice's 262 subjects takes ~1-3 s here


@dataclass
class AlyxGui:
    """Drives the plugin's windows in a booted editor, as a user would (menus, buttons)."""

    editor: Any
    qtbot: Any
    server: Any

    @property
    def tree(self):
        return self.editor.model.tree

    def menu_labels(self, node) -> list[str]:
        """The visible labels of a tree node's right-click menu."""
        return [
            action.text()
            for action in self.tree._items.get(id(node), [])
            if action != "-" and action.isVisible()
        ]

    def trigger(self, node, label: str):
        actions = [a for a in self.tree._items.get(id(node), []) if a != "-" and a.text() == label]
        assert actions, f"no {label!r} in {self.menu_labels(node)}"
        actions[0].trigger()

    def new_project(self, name: str = "proj"):
        project = self.editor.model.create_project()
        project.name = name
        return project

    def open_connection(self, project):
        from pybpod_alyx_module.gui.project_state import state_of

        self.trigger(project.node, "Sync to Alyx")
        window = state_of(project).window
        assert window.isVisible()
        return window

    def connect(self, window, user: str = "alice", password: str | None = None) -> None:
        window._address.value = self.server.base_url
        window._user.value = user
        window._password.value = self.server.users[user] if password is None else password
        window._connect.click()
        self.qtbot.waitUntil(lambda: not window.busy, timeout=ALYX_WAIT_MS)

    def get_subjects(self, window) -> None:
        window._get_subjects.click()
        self.qtbot.waitUntil(lambda: not window.busy, timeout=ALYX_WAIT_MS)

    def subject_names(self, project) -> set[str]:
        node = project.subjects_node
        return {node.child(i).text(0) for i in range(node.childCount())}


@pytest.fixture
def alyx_gui(pybpod_editor, pybpod_user_settings, alyx_server, qtbot, tmp_path, monkeypatch):
    """The editor, with the plugin's settings pointing at the local Alyx and a temporary token file."""
    monkeypatch.setattr(
        pybpod_user_settings, "ALYX_PLUGIN_TOKEN_FILE", str(tmp_path / "tokens.json"), raising=False
    )
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_CONNECT_TIMEOUT", 2.0, raising=False)
    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_RETRIES", 0, raising=False)
    return AlyxGui(pybpod_editor, qtbot, alyx_server)


@pytest.fixture
def alyx_as_alice(alyx_server):
    """A REST client logged in as alice, for changing the server in a test (restore in a finalizer)."""
    from pybpod_alyx_module.alyx import AlyxClient

    client = AlyxClient(alyx_server.base_url, "alice", alyx_server.users["alice"], retries=0)
    yield client
    client.close()
