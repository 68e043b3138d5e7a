"""Screenshots of the plugin's windows, taken from the real PyBpod GUI against the local Alyx.

Boots PyBpod 1.8.2 in-process and offscreen with this plugin, connects as
alice to the local Alyx (``python scripts/alyxserver start``), runs Get
Subjects, opens a subject's details, and saves with ``widget.grab()``:

* ``docs/screenshots/connection-window.png``
* ``docs/screenshots/project-tree-after-sync.png``
* ``docs/screenshots/subject-details.png``

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT / "scripts"))

from pybpod_gui import boot_editor, start_alyx, wait  # noqa: E402


def settle(app, seconds: float = 0.3) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)


def main() -> None:
    from alyxserver import seed_data

    server = start_alyx()
    OUT.mkdir(parents=True, exist_ok=True)
    app, container = boot_editor(
        Path(tempfile.mkdtemp(prefix="pybpod-alyx-shots-")), size=(1100, 760)
    )
    editor = container._widget
    editor._confirm_exit = lambda: True

    project = editor.model.create_project()
    project.name = "rig_project"
    window = editor.model.open_alyx_connection(project)
    window._address.value = server["base_url"]
    window._user.value = "alice"
    window._password.value = seed_data.USERS["alice"]
    window._connect.click()
    wait(app, lambda: not window.busy)
    window._get_subjects.click()
    wait(app, lambda: not window.busy)
    window.resize(560, 600)
    settle(app)
    window.grab().save(str(OUT / "connection-window.png"))
    print(window.status)

    subject = project.find_subject("SW_001")
    editor.model.tree.setCurrentItem(subject.node)
    project.subjects_node.setExpanded(True)
    editor.model.tree.scrollToItem(project.node)
    settle(app)
    container.grab().save(str(OUT / "project-tree-after-sync.png"))

    details = subject.open_alyx_details()
    details._refresh.click()
    wait(app, lambda: not details.busy)
    details.resize(640, 800)
    settle(app)
    details.grab().save(str(OUT / "subject-details.png"))
    for name in ("connection-window", "project-tree-after-sync", "subject-details"):
        print(OUT / f"{name}.png")
    container.close()


if __name__ == "__main__":
    main()
