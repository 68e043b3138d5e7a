"""The README's screenshots, taken from the real PyBpod GUI on the demo's project and data.

Runs a local Alyx in its own home (``<repo>/.alyx-local-shots``, or ``$ALYX_LOCAL_HOME``),
back to the sample data and given the demo's welfare data (:mod:`alyxserver.seed_welfare`)
on each run, so the pictures are the same whoever takes them and the demo's own data is
never touched. Boots PyBpod 1.8.2 in-process and offscreen with this plugin and saves, with
``widget.grab()``:

* ``connection-window.png``: Connect as alice and Get Subjects on a new project;
* then on the demo project (synced with details, with the demo rig, as ``scripts/demo``
  builds it), through a proxy that can be stopped ("Alyx away"):
  ``project-tree-after-sync.png``; ``weigh-dialog.png`` (the rig's Run, a weight below 80 %
  typed); a real run of the demo task, registered; ``outbox-window.png`` (that run sent, a
  session of a user unknown to Alyx needing attention, and one registered after the proxy
  was stopped: pending, unless a kept-alive connection still reached Alyx);
  ``subject-details.png`` and ``subject-details-chart.png`` (the rig's subject after
  Refresh: weeks of weighings against the reference and threshold, water per day).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
os.environ.setdefault("ALYX_LOCAL_HOME", str(ROOT / ".alyx-local-shots"))
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests"), str(ROOT / "tests" / "gui")]

import demo_rig  # noqa: E402
from alyxserver import seed_data  # noqa: E402
from pybpod_gui import boot_editor, start_alyx, wait  # noqa: E402

USER = "alice"
#: The weight typed in "Weigh before the run" (below 80 % of SW_004's 25.4 g), then the run's.
LOW_G, RUN_G = "20.1", "21.2"


def settle(app, seconds: float = 0.3) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)


def fresh_alyx() -> dict:
    """The shots' Alyx, back to the sample data, with the demo's welfare data."""
    from alyxserver import seed_welfare
    from alyxserver.layout import Layout

    alyxserver = [sys.executable, str(ROOT / "scripts" / "alyxserver")]
    subprocess.run([*alyxserver, "reset"], check=True, stdout=subprocess.DEVNULL)
    server = start_alyx()
    seed_welfare.seed_welfare(Layout())
    return server


def main() -> None:
    from register_gui_support import StoppableProxy

    server = fresh_alyx()
    OUT.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="pybpod-alyx-shots-"))
    os.environ.update(HOME=str(folder), ALYX_PASSWORD=seed_data.USERS[USER])
    # PyBpod runs the task with the `python` on PATH: this venv's.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    app, container = boot_editor(folder, size=(1100, 760))
    editor = container._widget
    editor._confirm_exit = lambda: True
    proxy = StoppableProxy(server["base_url"])
    proxy.start()
    try:
        shots = [connection_shot(app, editor, server)]
        shots += demo_shots(app, container, proxy, folder)
    finally:
        proxy.stop()
    for path in shots:
        print(path)
    container.close()


def connection_shot(app, editor, server: dict) -> Path:
    project = editor.model.create_project()
    project.name = "rig_project"
    window = connect(app, editor, project, server["base_url"])
    window._get_subjects.click()
    wait(app, lambda: not window.busy)
    window.resize(560, 600)
    settle(app)
    path = save(window, "connection-window")
    window.close()
    project.node.setExpanded(False)  # the tree shot shows the demo project
    return path


def connect(app, editor, project, address: str):
    window = editor.model.open_alyx_connection(project)
    window._address.value = address
    window._user.value = USER
    window._password.value = seed_data.USERS[USER]
    window._connect.click()
    wait(app, lambda: not window.busy)
    return window


def demo_shots(app, container, proxy, folder: Path) -> list[Path]:
    """The demo project: tree, weigh dialog, a run, the outbox, the subject's details."""
    from pybpod_alyx_module.cli.main import main as pybpod_alyx

    editor = container._widget
    path = folder / "alyx-demo"
    sync = ["sync", str(path), "--address", proxy.base_url, "--username", USER, "--create"]
    assert pybpod_alyx([*sync, "--details", "--override", "yes"]) == 0
    demo_rig.add_rig(path)
    settings = sys.modules["user_settings"]
    settings.ALYX_PLUGIN_ADDRESS = proxy.base_url
    project = editor.model.open_project(str(path))
    connect(app, editor, project, proxy.base_url).close()
    setup = demo_rig.find_setup(project)
    subject = project.find_subject(demo_rig.SUBJECTS[0])

    editor.model.tree.setCurrentItem(setup.node)
    for node in (project.node, project.subjects_node, setup.node.parent(), setup.node):
        node.setExpanded(True)
    editor.model.tree.scrollToItem(project.node)
    settle(app)
    shots = [save(container, "project-tree-after-sync")]

    setup._run_task_btn.click()
    dialog = setup._alyx_weigh_dialog
    dialog.rows[0].weight.value = LOW_G
    dialog.resize(600, 240)
    settle(app)
    shots.append(save(dialog, "weigh-dialog"))
    dialog.rows[0].weight.value = RUN_G
    dialog._start.click()
    wait(app, lambda: len(setup.sessions) == 1 and setup.status == setup.STATUS_READY, 120)
    wait(app, lambda: setup._alyx_water_dialog is not None)
    setup._alyx_water_dialog.close()
    registrar = registrar_after_run(app, project)
    shots.append(outbox_shot(app, project, registrar, setup, proxy))

    details = subject.open_alyx_details()
    details._refresh.click()
    wait(app, lambda: not details.busy)
    details.resize(640, 860)
    settle(app, 1.0)
    shots.append(save(details, "subject-details-chart"))
    details.resize(640, 800)
    scroll_to_fields(details)
    settle(app)
    shots.append(save(details, "subject-details"))
    details.close()
    project.close(silent=True)
    return shots


def registrar_after_run(app, project):
    from pybpod_alyx_module.gui.registration import registrar_of

    registrar = registrar_of(project)
    wait(app, lambda: not registrar.busy and len(registrar.view.items) >= 1)
    return registrar


def outbox_shot(app, project, registrar, setup, proxy) -> Path:
    """Two more sessions by hand: one by a user Alyx does not know, one while Alyx is away."""
    from register_sessions import write_session

    from pybpod_alyx_module.gui.outbox_window import show_outbox_window

    subject = project.find_subject(demo_rig.SUBJECTS[0])
    pair = (subject.name, str(subject.uuid4))
    stranger = ("rig_operator", "00000000-0000-4000-8000-0000000000ff", "ALYX")
    alice = (USER, str(project.find_user(USER).uuid4), "ALYX")
    yesterday = datetime.datetime.combine(datetime.date.today(), datetime.time(7, 30))
    yesterday -= datetime.timedelta(days=1)
    days = [yesterday, yesterday + datetime.timedelta(minutes=45)]
    for day, creator in zip(days, (stranger, alice)):
        write_session(Path(setup.path), [pair], day, day + datetime.timedelta(minutes=30),
                      creator=creator, trials=12, project=project.name,
                      experiment=demo_rig.EXPERIMENT, setup=demo_rig.SETUP,
                      board=demo_rig.BOARD, protocol=demo_rig.TASK)  # fmt: skip
    for n, day in enumerate(days):
        if n == 1:
            proxy.stop()  # Alyx away: the last one waits
        csv = Path(setup.path) / "sessions" / day.strftime("%Y%m%d-%H%M%S")
        csv = csv / f"{csv.name}.csv"
        registrar.register_run(csv, project)
        wait(app, lambda n=n: len(registrar.view.items) == n + 2 and not registrar.busy)
    outbox = show_outbox_window(project)
    wait(app, lambda: not registrar.busy)
    outbox.resize(1000, 360)
    settle(app)
    path = save(outbox, "outbox-window")
    outbox.close()
    proxy.start()
    return path


def scroll_to_fields(details) -> None:
    """The record's fields, below the chart."""
    from AnyQt.QtWidgets import QScrollArea

    for area in details.findChildren(QScrollArea):
        area.verticalScrollBar().setValue(area.verticalScrollBar().maximum())


def save(widget, name: str) -> Path:
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    return path


if __name__ == "__main__":
    main()
