"""How long the Qt event loop stalls during "Get Subjects" in the real PyBpod GUI, beside PyBpod alone.

Run from the repository::

    .venv/bin/python benchmarks/gui_responsiveness.py [--subjects 3000] [--runs 2] [--readme]

It starts its own Alyx under ``--home`` (default ``<repo>/.alyx-bench-gui``, never the tests'
``.alyx-local`` nor the sync benchmark's ``.alyx-bench``) with the sync benchmark's
``BenchServer``, seeds ``--subjects`` subjects of user ``bench`` with ``scripts/alyxserver
bulk``, boots PyBpod 1.8.2 in-process and offscreen with this plugin, and measures, while a
10 ms ``QTimer`` records the gaps between its ticks (a gap well above 10 ms is the time the
GUI was frozen):

* **Connect**, then **Get Subjects** into a new project (the first sync: every subject added);
* **Re-sync, every subject changed**: every subject's saved ``age_weeks`` is put one week
  behind Alyx's (what a week passing on Alyx does), and Get Subjects runs again;
* **PyBpod + plugin opens the project from disk**: the synced project saved by PyBpod, closed,
  and opened again with ``open_project`` (PyBpod's load, with the plugin's hooks).

Side by side, the baseline: a fresh process running PyBpod **without this plugin** (same
offscreen editor, same timer) that first sits idle for as long as the first sync took, then
opens the same project from disk. ``--runs`` repeats the plugin's phases in the same process
(a later run meets the garbage the earlier ones left). The report (set-up, table, verdicts)
is printed, and with ``--readme`` also written between this script's markers in
benchmarks/README.md. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
for folder in ("scripts", "benchmarks"):
    sys.path.insert(0, str(ROOT / folder))

from pybpod_gui import boot_editor, wait  # noqa: E402
from readme_block import markdown_table, preamble, write_block  # noqa: E402
from sync_benchmark import PASSWORD, USER, BenchServer  # noqa: E402

SCRIPT = Path(__file__).name
PYBPOD_ALONE = ("pybpodgui_plugin",)
FIRST_SYNC = "Get Subjects, first sync (all added)"
RESYNC = "Re-sync, every subject changed"
OPEN = "opens the project from disk"
IDLE = "idle, as long as the first sync"
#: The issue's target for the plugin's longest stall at 3,000 subjects.
TARGET_MS = 100
#: Issue 18's targets for PyBpod + plugin opening a project from disk (s), by subjects.
OPEN_TARGET_S = {3000: 2.0, 10000: 7.0}


class GapRecorder:
    """A 10 ms timer; each tick records the time since the previous one."""

    def __init__(self, interval_ms: int = 10) -> None:
        from AnyQt.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._tick()  # the gap up to now counts too
        self._timer.stop()
        return self.gaps


def gaps_while(app, start: Callable[[], None], done: Callable[[], bool]) -> dict:
    """Run ``start()`` and the event loop until ``done()``: seconds, longest and p99 gap."""
    recorder = GapRecorder()
    started = time.perf_counter()
    recorder.start()
    start()
    wait(app, done)
    app.processEvents()
    gaps = recorder.stop()
    return {
        "seconds": time.perf_counter() - started,
        "longest_ms": max(gaps),
        "p99_ms": statistics.quantiles(gaps, n=100, method="inclusive")[98]
        if len(gaps) > 2
        else max(gaps),
    }


def idle(app, seconds: float) -> dict:
    """The event loop with nothing to do, for ``seconds``."""
    until = time.perf_counter() + seconds
    return gaps_while(app, lambda: None, lambda: time.perf_counter() >= until)


def open_from_disk(app, editor, folder: Path) -> tuple[dict, object]:
    """PyBpod's ``open_project`` of ``folder``, run on the GUI thread as its menu does."""
    opened = []
    row = gaps_while(
        app, lambda: opened.append(editor.model.open_project(str(folder))), lambda: True
    )
    return row, opened[0]


def plugin_run(app, editor, base_url: str, folder: Path) -> list[dict]:
    """Connect, first sync, re-sync with every subject changed, then save, close, reopen."""
    project = editor.model.create_project()
    project.name = folder.name
    window = editor.model.open_alyx_connection(project)
    window._address.value = base_url
    window._user.value = USER
    window._password.value = PASSWORD
    rows = []
    phases = (
        ("Connect", window._connect, None),
        (FIRST_SYNC, window._get_subjects, None),
        (RESYNC, window._get_subjects, _one_week_later),
    )
    for phase, button, prepare in phases:
        if prepare is not None:
            prepare(project)
        row = gaps_while(app, button.click, lambda: not window.busy)
        rows.append(dict(row, phase=phase, subjects=len(project.subjects), status=window.status))
    window.close()
    shutil.rmtree(folder, ignore_errors=True)
    project.save(str(folder))
    project.close(silent=True)
    app.processEvents()
    row, reopened = open_from_disk(app, editor, folder)
    count = len(reopened.subjects)
    rows.append(dict(row, phase=OPEN, subjects=count))
    reopened.close(silent=True)
    app.processEvents()
    return rows


def _one_week_later(project) -> None:
    """Put every subject's saved age one week behind Alyx's: the next sync updates them all."""
    for subject in project.subjects:
        subject.data["age_weeks"] = (subject.data.get("age_weeks") or 0) - 1


def baseline_child(folder: Path, idle_seconds: float) -> int:
    """In a fresh process: PyBpod without this plugin, idle, then opening ``folder``."""
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alone-"))
    app, container = boot_editor(scratch, plugins=PYBPOD_ALONE)
    editor = container._widget
    editor._confirm_exit = lambda: True
    rows = [dict(idle(app, idle_seconds), phase=IDLE, subjects=None)]
    row, project = open_from_disk(app, editor, folder)
    rows.append(dict(row, phase=OPEN, subjects=len(project.subjects)))
    print("RESULT " + json.dumps(rows), flush=True)
    container.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def baseline(folder: Path, idle_seconds: float) -> list[dict]:
    command = [sys.executable, str(Path(__file__).resolve()), "--baseline-child", str(folder)]
    command += ["--idle", f"{idle_seconds:.2f}"]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"the baseline (PyBpod alone) failed ({result.returncode})")
    return json.loads(lines[-1][len("RESULT ") :])


def report(rows: list[dict], argv: list[str], subjects: int) -> str:
    """What benchmarks/README.md shows between this script's markers: set-up, table, verdicts."""
    header = ["run", "who", "phase", "subjects", "total s", "longest gap ms", "p99 ms", "status"]
    table = [
        [
            str(row.get("run", "")),
            row["who"],
            row["phase"],
            "" if row["subjects"] is None else str(row["subjects"]),
            f"{row['seconds']:.2f}",
            f"{row['longest_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            row.get("status", ""),
        ]
        for row in rows
    ]
    lines = preamble(
        SCRIPT,
        argv,
        f"PyBpod 1.8.2 offscreen, a 10 ms QTimer; alyx-local 3.1.8 with {subjects} bench subjects",
    )
    lines += markdown_table(header, table)
    lines += ["", "The script's verdicts:", ""] + [f"- {v}" for v in _verdicts(rows, subjects)]
    return "\n".join(lines) + "\n"


def _verdicts(rows: list[dict], subjects: int) -> list[str]:
    alone = {row["phase"]: row for row in rows if row["who"] == "PyBpod alone"}
    idle_ms, open_ms = alone[IDLE]["longest_ms"], alone[OPEN]["longest_ms"]
    verdicts = []
    for phase in (FIRST_SYNC, RESYNC):
        worst = max((r for r in rows if r["phase"] == phase), key=lambda r: r["longest_ms"])
        met = "met" if worst["longest_ms"] <= TARGET_MS else "NOT met"
        verdicts.append(
            f"{phase} at {subjects} subjects: longest stall {worst['longest_ms']:.1f} ms (run "
            f"{worst['run']}; target <= {TARGET_MS} ms: {met}); PyBpod alone: idle "
            f"{idle_ms:.1f} ms, opening the same project {open_ms:.1f} ms"
        )
    ours = [r for r in rows if r["who"] == "PyBpod + plugin" and r["phase"] == OPEN]
    if ours:
        slowest = max(ours, key=lambda r: r["seconds"])
        target = OPEN_TARGET_S.get(subjects)
        met = (
            ""
            if target is None
            else f"; target <= {target:g} s: "
            + ("met" if slowest["seconds"] <= target else "NOT met")
        )
        verdicts.append(
            f"opening the project of {subjects} subjects from disk: PyBpod + plugin "
            f"{slowest['seconds']:.2f} s (run {slowest['run']}{met}), PyBpod alone "
            f"{alone[OPEN]['seconds']:.2f} s, {alone[OPEN]['seconds'] / slowest['seconds']:.1f}x"
        )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=3000, help="bench subjects (3000)")
    parser.add_argument("--runs", type=int, default=2, help="plugin runs in one process (2)")
    parser.add_argument("--home", type=Path, default=ROOT / ".alyx-bench-gui")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running")
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--idle", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--readme",
        action="store_true",
        help=f"also write the report into benchmarks/README.md, between {SCRIPT}'s markers",
    )
    options = parser.parse_args(argv)
    if options.baseline_child:
        return baseline_child(options.baseline_child, options.idle)
    if options.home.resolve() in {
        (ROOT / ".alyx-local").resolve(),
        (ROOT / ".alyx-test").resolve(),
        (ROOT / ".alyx-bench").resolve(),
    }:
        parser.error("--home must be this benchmark's own, not the tests' or the sync benchmark's")

    server = BenchServer(options.home, options.server_workers)
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alyx-gui-bench-"))
    rows: list[dict] = []
    try:
        print(f"[bench] starting the bench server in {options.home}", file=sys.stderr)
        server.start()
        server.bulk(options.subjects)
        server.warm_up()
        app, container = boot_editor(scratch)
        editor = container._widget
        editor._confirm_exit = lambda: True
        for run in range(1, options.runs + 1):
            folder = scratch / f"bench_project_{run}"
            for row in plugin_run(app, editor, server.url, folder):
                rows.append(dict(row, run=run, who="PyBpod + plugin"))
                print(
                    f"[bench] run {run}: {row['phase']}: {row['longest_ms']:.1f} ms",
                    file=sys.stderr,
                )
        container.close()
        first_sync = next(row for row in rows if row["phase"] == FIRST_SYNC)
        for row in baseline(folder, first_sync["seconds"]):
            rows.append(dict(row, who="PyBpod alone"))
    finally:
        if not options.keep_server:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    text = report(rows, [arg for arg in argv if arg != "--readme"], options.subjects)
    print("\n" + text, end="")
    if options.readme:
        write_block(SCRIPT, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
