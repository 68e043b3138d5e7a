"""How long the Qt event loop stalls while PyBpod runs a task and the plugin registers it in Alyx.

Boots PyBpod 1.8.2 in-process and offscreen with this plugin, builds a project with the GUI
tests' Alyx subject on a setup whose task writes its session through pybpodapi's own session
writer (as the GUI tests do), and presses Run again and again while a 10 ms ``QTimer``
records the gaps between its ticks. Side by side, in one process:

* ``PyBpod alone`` — ``ALYX_PLUGIN_REGISTER_SESSIONS = False``: PyBpod's own run path, the peer;
* ``registered, Alyx up`` — each run queued in the outbox and sent in the background;
* ``registered, Alyx away`` — the proxy in front of Alyx stopped: queued, left pending.

A run's window is from Run to the setup back at READY and the plugin's work done.
Prints the longest and the 99th-percentile gap per scenario. Not a test: numbers depend
on the machine. The subject's records are deleted from Alyx before and after.

Usage::

    .venv/bin/python benchmarks/gui_registration.py [--runs 5] [--readme]

The report (set-up, table) is printed, and with ``--readme`` also written between this
script's markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in ("scripts", "tests", "tests/gui", "benchmarks"):
    sys.path.insert(0, str(ROOT / folder))

from gui_phases import GapRecorder  # noqa: E402
from pybpod_gui import boot_editor, start_alyx, wait  # noqa: E402
from readme_block import markdown_table, preamble, write_block  # noqa: E402

SCRIPT = Path(__file__).name
SCENARIOS = ("PyBpod alone", "registered, Alyx up", "registered, Alyx away")


def one_run(app, setup, registrar) -> tuple[float, list[float]]:
    """Press Run; wait for the run's end and the plugin's work; (seconds, gaps in ms)."""
    before = len(setup.sessions)
    setup.project.save(setup.project.path)  # PyBpod runs only a saved project
    recorder = GapRecorder()
    started = time.perf_counter()
    recorder.start()
    setup._run_task_btn.click()
    wait(app, lambda: len(setup.sessions) > before, timeout=120)
    wait(app, lambda: setup.status == setup.STATUS_READY, timeout=120)
    wait(app, lambda: not registrar.busy, timeout=120)
    app.processEvents()
    gaps = recorder.stop()
    return time.perf_counter() - started, gaps


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario")
    parser.add_argument(
        "--readme",
        action="store_true",
        help=f"also write the report into benchmarks/README.md, between {SCRIPT}'s markers",
    )
    args = parser.parse_args(argv)

    from register_gui_support import (
        OWNER_PASSWORD,
        SETUP,
        StoppableProxy,
        build_project,
        clear_records,
        subject_taken,
    )

    server = start_alyx()
    home = Path(tempfile.mkdtemp(prefix="pybpod-alyx-register-bench-"))
    os.environ["HOME"] = str(home)
    os.environ["ALYX_PASSWORD"] = OWNER_PASSWORD
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    proxy = StoppableProxy(server["base_url"])
    proxy.start()
    lock = subject_taken()
    clear_records()
    try:
        folder = build_project(home / "proj", proxy.base_url, water_ml=0.5)
        app, container = boot_editor(home)
        editor = container._widget
        editor._confirm_exit = lambda: True
        settings = sys.modules["user_settings"]
        settings.ALYX_PLUGIN_TOKEN_FILE = str(home / ".pybpod_alyx" / "tokens.json")
        settings.ALYX_PLUGIN_ADDRESS = proxy.base_url
        settings.ALYX_PLUGIN_WEIGH_BEFORE_RUN = False  # the dialog waits for a person
        project = editor.model.open_project(str(folder))
        setup = next(s for e in project.experiments for s in e.setups if s.name == SETUP)
        from pybpod_alyx_module.gui.registration import registrar_of

        registrar = registrar_of(project)
        table = []
        for scenario in SCENARIOS:
            settings.ALYX_PLUGIN_REGISTER_SESSIONS = scenario != "PyBpod alone"
            if scenario.endswith("away"):
                proxy.stop()
            seconds, gaps = [], []
            for _ in range(args.runs):
                took, run_gaps = one_run(app, setup, registrar)
                seconds.append(took)
                gaps += run_gaps
            counts = registrar.view.counts()
            p99 = (
                statistics.quantiles(gaps, n=100, method="inclusive")[98]
                if len(gaps) > 1
                else max(gaps)
            )
            table.append(
                [
                    scenario,
                    str(args.runs),
                    f"{statistics.mean(seconds):.2f}",
                    f"{max(gaps):.1f}",
                    f"{p99:.1f}",
                    f"{counts['sent']} sent, {counts['pending']} pending",
                ]
            )
        container.close()
    finally:
        proxy.stop()
        clear_records()
        lock.release()
    header = ["scenario", "runs", "run s (mean)", "longest gap ms", "p99 ms", "outbox after"]
    lines = preamble(
        SCRIPT,
        [arg for arg in argv if arg != "--readme"],
        "PyBpod 1.8.2 offscreen, a 10 ms QTimer; the tests' alyx-local 3.1.8 behind a proxy",
    )
    text = "\n".join(lines + markdown_table(header, table)) + "\n"
    print("\n" + text, end="")
    if args.readme:
        write_block(SCRIPT, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
