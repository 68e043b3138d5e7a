"""PyBpod starts even when the plugin is listed twice (1.x crashed: "duplicate base class").

A process of its own: PyBpod composes its classes once per process, from the list.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gui

BOOT = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, os.getcwd())
    from confapp import conf
    import user_settings
    conf += user_settings
    from AnyQt.QtWidgets import QApplication
    app = QApplication([])
    from pyforms_generic_editor.editor.base_editor import BaseEditor
    from pyforms_gui.appmanager import StandAloneContainer
    editor = StandAloneContainer(BaseEditor)._widget
    project = editor.model.create_project()
    labels = [a.text() for a in editor.model.tree._items[id(project.node)]]
    print("MENU", labels)
    print("LIST", conf.GENERIC_EDITOR_PLUGINS_LIST)
    """
)


def test_listing_the_plugin_twice_boots_pybpod_with_one_menu_entry(tmp_path):
    (tmp_path / "user_settings.py").write_text(
        "SETTINGS_PRIORITY = 0\n"
        "GENERIC_EDITOR_PLUGINS_LIST = "
        "['pybpod_alyx_module', 'pybpodgui_plugin', 'pybpod_alyx_module']\n"
        f"APP_LOG_FILENAME = {str(tmp_path / 'app.log')!r}\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyqt5")
    done = subprocess.run(
        [sys.executable, "-c", BOOT], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "duplicate base class" not in done.stderr
    menu = next(line for line in done.stdout.splitlines() if line.startswith("MENU"))
    assert menu.count("Sync to Alyx") == 1
    assert "['pybpod_alyx_module', 'pybpodgui_plugin']" in done.stdout
