"""Screenshots of the plugin's windows, taken from the real PyBpod GUI against the local Alyx.

Boots PyBpod 1.8.2 in-process and offscreen with this plugin, connects as
alice to the local Alyx (``python scripts/alyxserver start``), runs Get
Subjects, opens a subject's details, and saves with ``widget.grab()``:

* ``docs/screenshots/connection-window.png``
* ``docs/screenshots/project-tree-after-sync.png``
* ``docs/screenshots/subject-details.png``
* ``docs/screenshots/weigh-dialog.png``, ``outbox-window.png``, ``subject-details-chart.png``
  (registering runs: :func:`registration_shots`, on the GUI tests' subject ``carol_mouse_3``,
  whose records are cleared before and after)

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import json
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
    for path in registration_shots(app, editor, server):
        print(path)
    container.close()


#: What the chart screenshot shows: a week of a water-restricted subject, as a sync stores it.
CHART_FIELDS = {
    "reference_weight": 24.5,
    "expected_water": 1.0,
    "remaining_water": 1.0,
    "weighings": [
        {"date_time": f"2026-01-{5 + n:02d}T09:00:00", "weight": grams}
        for n, grams in enumerate((24.3, 23.6, 22.4, 21.5, 20.6, 19.9, 19.4))
    ],
    "water_administration": [
        {"date_time": f"2026-01-{5 + n:02d}T11:00:00", "water_administered": ml}
        for n, ml in enumerate((1.0, 0.9, 1.0, 0.8, 1.1, 0.7, 0.6))
    ],
}


def registration_shots(app, editor, server: dict) -> list[Path]:
    """Weigh before the run, the Alyx outbox (sent, needs attention, pending) and the chart."""
    import datetime
    import os

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "gui")]
    from register_gui_support import (
        OWNER_PASSWORD,
        SETUP,
        SUBJECT,
        StoppableProxy,
        build_project,
        clear_records,
        subject_taken,
    )
    from register_sessions import write_session

    from pybpod_alyx_module.gui.outbox_window import show_outbox_window
    from pybpod_alyx_module.gui.registration import registrar_of, session_file_of

    home = Path(tempfile.mkdtemp(prefix="pybpod-alyx-register-shots-"))
    os.environ.update(HOME=str(home), ALYX_PASSWORD=OWNER_PASSWORD)
    proxy = StoppableProxy(server["base_url"])
    proxy.start()
    lock = subject_taken()
    clear_records()
    try:
        folder = build_project(home / "rig_project", proxy.base_url, water_ml=0.6)
        carol = ("carol", "00000000-0000-4000-8000-00000000ca01", "ALYX")
        stranger = ("rig_operator", "00000000-0000-4000-8000-0000000000ff", "ALYX")
        uuid4 = json.loads((folder / "subjects" / SUBJECT / f"{SUBJECT}.json").read_text())
        pair = (SUBJECT, uuid4["__UUID4__"])
        sessions = folder / "experiments" / "exp" / "setups" / SETUP
        days = [datetime.datetime(2026, 1, d, 9, 0) for d in (9, 10, 11)]
        for day, creator in zip(days, (carol, stranger, carol)):
            write_session(sessions, [pair], day, day + datetime.timedelta(minutes=35),
                          creator=creator, setup=SETUP,
                          values={"alyx_weight_g": 20.6, "alyx_water_ml": 0.7})  # fmt: skip
        settings = sys.modules["user_settings"]  # its token file is the one the sync used
        settings.ALYX_PLUGIN_ADDRESS = proxy.base_url
        project = editor.model.open_project(str(folder))
        setup = next(s for e in project.experiments for s in e.setups if s.name == SETUP)
        registrar = registrar_of(project)
        by_name = {s.name: s for s in setup.sessions}
        for n, day in enumerate(days):
            if n == 2:
                proxy.stop()  # Alyx away: the last one waits
            session = by_name[day.strftime("%Y%m%d-%H%M%S")]
            registrar.register_run(session_file_of(session), project)  # as the menu entry does
            wait(app, lambda n=n: len(registrar.view.items) == n + 1 and not registrar.busy)
        outbox = show_outbox_window(project)
        wait(app, lambda: not registrar.busy)
        outbox.resize(1000, 360)
        settle(app)
        outbox.grab().save(str(OUT / "outbox-window.png"))
        outbox.close()
        proxy.start()

        subject = project.find_subject(SUBJECT)
        for key, value in CHART_FIELDS.items():
            subject.data[key] = value
        project.save(project.path)
        setup._run_task_btn.click()
        dialog = setup._alyx_weigh_dialog
        dialog.rows[0].weight.value = "19.4"
        dialog.resize(600, 240)
        settle(app)
        dialog.grab().save(str(OUT / "weigh-dialog.png"))
        dialog.close()

        details = subject.open_alyx_details()
        details.resize(640, 860)
        settle(app)
        details.grab().save(str(OUT / "subject-details-chart.png"))
        details.close()
        project.close(silent=True)
    finally:
        proxy.stop()
        clear_records()
        lock.release()
    return [OUT / f"{name}.png" for name in ("weigh-dialog", "outbox-window",
                                             "subject-details-chart")]  # fmt: skip


if __name__ == "__main__":
    main()
