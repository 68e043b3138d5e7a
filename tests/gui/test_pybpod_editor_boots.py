"""The real PyBpod 1.8.2 editor boots with this project's plugin listed, before or after
``pybpodgui_plugin``, and its basic project actions are there."""

import importlib.util
import sys

import pytest

pytestmark = pytest.mark.gui


def test_gui_stack_is_installed():
    """Fails (never skips) when the GUI stack is missing: run scripts/bootstrap.

    pybpodgui_plugin is only located, not imported: importing it opens its log file in the
    current folder, which the pybpod_editor fixture points at a temporary one first.
    """
    # AnyQt.USED_API is set when AnyQt first imports a binding.
    import AnyQt.QtWidgets
    import pybpodgui_api  # noqa: F401
    import pyforms_generic_editor  # noqa: F401
    import PyQt5.QtWidgets  # noqa: F401

    assert AnyQt.USED_API == "pyqt5"
    for name in ("pybpodgui_plugin", "pybpodgui_plugin_session_history", "pybpod_alyx_module"):
        assert importlib.util.find_spec(name) is not None, f"{name} is not installed"


def test_editor_boots_with_the_plugins_in_order(pybpod_editor, plugins_order):
    assert [m.__name__ for m in pybpod_editor.plugins_classes] == list(plugins_order)
    assert "pybpod_alyx_module" in sys.modules
    assert pybpod_editor.model is not None
    assert pybpod_editor.app_main_window.isVisible()


def test_new_project_has_a_tree_node_with_save_and_close(pybpod_editor):
    model = pybpod_editor.model
    project = model.create_project()

    assert project in model.projects
    tree = model.tree
    assert project.node is not None
    assert tree.topLevelItemCount() >= 1
    assert any(tree.topLevelItem(i) is project.node for i in range(tree.topLevelItemCount()))

    labels = [action.text() for action in tree._items[id(project.node)] if action != "-"]
    for label in ("Save", "Save as", "Close"):
        assert label in labels, labels


def test_user_settings_override_plugin_defaults(pybpod_editor, pybpod_user_settings, monkeypatch):
    from confapp import conf

    assert conf.PYFORMS_SILENT_PLUGINS_FINDER is False
    assert conf.ALYX_PLUGIN_ADDRESS == ""  # the plugin's default, from pybpod_alyx_module.settings
    monkeypatch.setattr(
        pybpod_user_settings, "ALYX_PLUGIN_ADDRESS", "http://127.0.0.1:8000", raising=False
    )
    assert conf.ALYX_PLUGIN_ADDRESS == "http://127.0.0.1:8000"
