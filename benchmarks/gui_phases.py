"""The phases ``gui_responsiveness.py`` measures, each in a child process of its own.

A child boots the real PyBpod 1.8.2 offscreen (with or without this plugin), runs its phases
while a 10 ms ``QTimer`` records the gaps between its ticks, and prints one ``RESULT`` line
(JSON) per phase as soon as it ends, so a child stopped at its time limit still reports the
phases it finished. Each row carries the process's peak RSS (``ru_maxrss``) at the phase's end
and how much that peak grew during the phase: a fresh process per size and per side, so one
size's peak is not another's.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from pybpod_gui import boot_editor, wait
from rss import peak_rss_mb
from sync_benchmark import PASSWORD, USER

PYBPOD_ALONE = ("pybpodgui_plugin",)
CONNECT = "Connect"
FIRST_SYNC = "Get Subjects, first sync (all added)"
RESYNC = "Re-sync, every subject changed"
OPEN = "opens the project from disk"
IDLE = "idle, as long as the first sync"


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
    """Run ``start()`` and the event loop until ``done()``: seconds, gaps, peak RSS."""
    recorder = GapRecorder()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    recorder.start()
    start()
    wait(app, done)
    app.processEvents()
    gaps = recorder.stop()
    p99 = statistics.quantiles(gaps, n=100, method="inclusive")[98] if len(gaps) > 2 else max(gaps)
    rss = peak_rss_mb()
    return {
        "seconds": time.perf_counter() - started,
        "longest_ms": max(gaps),
        "p99_ms": p99,
        "rss_mb": rss,
        "rss_growth_mb": rss - rss_before,
    }


def emit(row: dict) -> None:
    """One finished phase, for the parent (``RESULT <json>``)."""
    print("RESULT " + json.dumps(row), flush=True)


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


def _one_week_later(project) -> None:
    """Put every subject's saved age one week behind Alyx's: the next sync updates them all."""
    for subject in project.subjects:
        subject.data["age_weeks"] = (subject.data.get("age_weeks") or 0) - 1


def plugin_run(app, editor, base_url: str, folder: Path, run: int) -> None:
    """Connect, first sync, re-sync with every subject changed, then save, close, reopen."""
    project = editor.model.create_project()
    project.name = folder.name
    window = editor.model.open_alyx_connection(project)
    window._address.value = base_url
    window._user.value = USER
    window._password.value = PASSWORD
    phases = (
        (CONNECT, window._connect, None),
        (FIRST_SYNC, window._get_subjects, None),
        (RESYNC, window._get_subjects, _one_week_later),
    )
    for phase, button, prepare in phases:
        if prepare is not None:
            prepare(project)
        row = gaps_while(app, button.click, lambda: not window.busy)
        emit(dict(row, run=run, phase=phase, subjects=len(project.subjects), status=window.status))
    window.close()
    shutil.rmtree(folder, ignore_errors=True)
    project.save(str(folder))
    project.close(silent=True)
    app.processEvents()
    row, reopened = open_from_disk(app, editor, folder)
    emit(dict(row, run=run, phase=OPEN, subjects=len(reopened.subjects)))
    reopened.close(silent=True)
    app.processEvents()


def plugin_child(base_url: str, folder: Path, runs: int) -> int:
    """In a fresh process: PyBpod with this plugin, ``runs`` times; the last project stays."""
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alyx-"))
    app, container = boot_editor(scratch)
    editor = container._widget
    editor._confirm_exit = lambda: True
    for run in range(1, runs + 1):
        target = folder if run == runs else scratch / f"run_{run}"
        plugin_run(app, editor, base_url, target, run)
    container.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


#: The exit status of a baseline child stopped at its time limit (its last row says so).
STOPPED = 3


def baseline_child(folder: Path, idle_seconds: float, limit_s: float) -> int:
    """In a fresh process: PyBpod without this plugin, idle, then opening ``folder``.

    PyBpod alone opens in O(N²) (minutes at 10,000 subjects): after ``limit_s`` seconds of
    opening, a watchdog thread reports the open as stopped and ends the process.
    """
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alone-"))
    app, container = boot_editor(scratch, plugins=PYBPOD_ALONE)
    editor = container._widget
    editor._confirm_exit = lambda: True
    emit(dict(idle(app, idle_seconds), phase=IDLE, subjects=None))

    def stop() -> None:
        rss = peak_rss_mb()
        emit({"phase": OPEN, "subjects": None, "seconds": limit_s, "stopped": True, "rss_mb": rss})
        shutil.rmtree(scratch, ignore_errors=True)
        os._exit(STOPPED)

    watchdog = threading.Timer(limit_s, stop)
    watchdog.daemon = True
    watchdog.start()
    row, project = open_from_disk(app, editor, folder)
    watchdog.cancel()
    emit(dict(row, phase=OPEN, subjects=len(project.subjects)))
    container.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0
