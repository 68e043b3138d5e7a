"""The headless core imports and runs without PyBpod, pyforms or Qt (issue 17).

Each check runs in a fresh interpreter whose import system refuses PyBpod's packages (a
meta-path blocker installed before anything else), as on a machine where only the
plugin's headless dependencies (requests, urllib3, confapp) are installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: PyBpod, its GUI stack and Qt: none may be needed by the headless core.
BLOCKED = (
    "pybpodgui_api",
    "pybpodgui_plugin",
    "pybpodapi",
    "pyforms",
    "pyforms_gui",
    "pyforms_generic_editor",
    "sca",
    "AnyQt",
    "PyQt5",
    "loggingbootstrap",
)
#: The headless core: every module of these packages.
HEADLESS = ("alyx", "register", "sync", "cli")

BLOCKER = f"""
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_blocker_blocks():
    result = _run("import pybpodgui_api")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_every_headless_module_imports_without_pybpod():
    result = _run(
        f"""
        import importlib, pkgutil
        import pybpod_alyx_module, pybpod_alyx_module.pybpod_internals
        names = []
        for package in {HEADLESS!r}:
            module = importlib.import_module("pybpod_alyx_module." + package)
            names.append(module.__name__)
            for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
                importlib.import_module(info.name)
                names.append(info.name)
        print(len(names))
        """
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 40


def test_the_command_line_prints_its_help_without_pybpod():
    result = _run(
        """
        import runpy, sys
        sys.argv = ["pybpod-alyx", "--help"]
        runpy.run_module("pybpod_alyx_module.cli.main", run_name="__main__")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "call",
    [
        "from pybpod_alyx_module.sync.project_files import open_project; open_project(r'{folder}', create=True)",
        "from pybpod_alyx_module.pybpod_internals import render_document; render_document({{}})",
    ],
)
def test_needing_pybpod_without_it_is_one_line_naming_what_to_install(call, tmp_path):
    result = _run(
        f"""
        from pybpod_alyx_module.pybpod_internals import PyBpodMissing
        try:
            {call.format(folder=tmp_path / "proj")}
        except PyBpodMissing as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert "\\n" not in message and message.count("\n") == 0
    assert "pip install --no-deps pybpod-gui-api==1.8.2" in message
    assert "pip install pybpod-gui-plugin-alyx" not in message  # the dead 1.1.2
    assert "is not installed" in message
