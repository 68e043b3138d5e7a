"""The real PyBpod GUI, in-process, for the scripts that drive it (screenshots, benchmarks).

Standard library at import time; Qt and PyBpod are imported when the editor boots.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyqt5"

SCRIPTS = Path(__file__).resolve().parent


def start_alyx() -> dict:
    """Start (or find running) the seeded local Alyx; its description (``url``, ``base_url``…)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "alyxserver"), "start"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


#: PyBpod's own plugin, then this one last, as a user's ``user_settings.py`` lists them.
WITH_ALYX = ("pybpodgui_plugin", "pybpod_alyx_module")


def boot_editor(
    folder: Path, size: tuple[int, int] | None = None, plugins: tuple[str, ...] = WITH_ALYX
):
    """PyBpod's editor with ``plugins`` (by default this one listed last).

    The settings, the log and the token file live in ``folder``. Returns ``(app, container)``;
    the editor is ``container._widget``. A benchmark's baseline passes
    ``plugins=("pybpodgui_plugin",)``: PyBpod without this plugin.
    """
    settings = folder / "user_settings.py"
    settings.write_text(
        textwrap.dedent(
            f"""\
            SETTINGS_PRIORITY = 0
            GENERIC_EDITOR_PLUGINS_LIST = {list(plugins)!r}
            PYFORMS_SILENT_PLUGINS_FINDER = True
            APP_LOG_FILENAME = {str(folder / "app.log")!r}
            ALYX_PLUGIN_TOKEN_FILE = {str(folder / "tokens.json")!r}
            """
        )
    )
    spec = importlib.util.spec_from_file_location("user_settings", settings)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["user_settings"] = module
    from confapp import conf

    conf += module
    os.chdir(folder)
    from AnyQt.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from pyforms_generic_editor.editor.base_editor import BaseEditor
    from pyforms_gui.appmanager import StandAloneContainer

    container = StandAloneContainer(BaseEditor)
    if size:
        container.resize(*size)
    container.show()
    app.processEvents()
    return app, container


def wait(app, condition, timeout: float = 300) -> None:
    """Run the event loop until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window stayed busy")
        app.processEvents()
        time.sleep(0.002)
