"""How long the Qt event loop stalls during a full "Get Subjects" in the real PyBpod GUI.

Boots PyBpod 1.8.2 in-process and offscreen with this plugin, connects to the
local Alyx (``python scripts/alyxserver start``) as alice, and clicks
Get Subjects in a new project, while a 10 ms ``QTimer`` records the gaps
between its ticks. A gap well above 10 ms is the time the GUI was frozen.
Then the weekly re-sync: every subject's saved ``age_weeks`` is put one week
behind Alyx's (what a week passing on Alyx does), and Get Subjects runs again,
updating every subject. Prints a table: phase, subjects, total time, the
longest and the 99th percentile gap. Not a test: numbers depend on the machine.

For the 3,000-subject figure, point it at a server filled by
``scripts/alyxserver bulk`` (``--address … --user bench``).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py [--user alice] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pybpod_gui import boot_editor, start_alyx, wait  # noqa: E402


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


def measure(app, editor, server: dict, user: str, password: str) -> list[tuple]:
    project = editor.model.create_project()
    project.name = f"bench_{int(time.time() * 1000)}"
    window = editor.model.open_alyx_connection(project)
    window._address.value = server["base_url"]
    window._user.value = user
    window._password.value = password
    rows = []
    phases = (
        ("Connect", window._connect, None),
        ("Get Subjects", window._get_subjects, None),
        ("Re-sync, all changed", window._get_subjects, _one_week_later),
    )
    for phase, button, prepare in phases:
        if prepare is not None:
            prepare(project)
        recorder = GapRecorder()
        started = time.perf_counter()
        recorder.start()
        button.click()
        wait(app, lambda: not window.busy)
        gaps = recorder.stop()
        elapsed = time.perf_counter() - started
        rows.append(
            (
                phase,
                len(project.subjects),
                elapsed,
                max(gaps),
                statistics.quantiles(gaps, n=100)[98] if len(gaps) > 2 else max(gaps),
                window.status,
            )
        )
    window.close()
    project.close(silent=True)
    return rows


def _one_week_later(project) -> None:
    """Put every subject's saved age one week behind Alyx's: the next sync updates them all."""
    for subject in project.subjects:
        subject.data["age_weeks"] = (subject.data.get("age_weeks") or 0) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", help="default: the seeded password of --user")
    parser.add_argument(
        "--address",
        help="another Alyx (e.g. a benchmark server filled by `alyxserver bulk`, user bench); "
        "default: start the seeded local one",
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from alyxserver import seed_data

    server = {"base_url": args.address} if args.address else start_alyx()
    password = args.password or seed_data.USERS[args.user]
    folder = Path(tempfile.mkdtemp(prefix="pybpod-alyx-bench-"))
    app, container = boot_editor(folder)
    editor = container._widget
    editor._confirm_exit = lambda: True
    print(f"Alyx {server['base_url']}, user {args.user}, PyBpod editor offscreen, timer 10 ms")
    print(
        f"{'run':>3}  {'phase':<20} {'subjects':>8} {'total s':>8} {'max gap ms':>10} {'p99 ms':>7}  status"
    )
    for run in range(1, args.runs + 1):
        for phase, count, elapsed, longest, p99, status in measure(
            app, editor, server, args.user, password
        ):
            print(
                f"{run:>3}  {phase:<20} {count:>8} {elapsed:>8.2f} {longest:>10.1f} {p99:>7.1f}  {status}"
            )
    container.close()


if __name__ == "__main__":
    main()
