"""The parent side: each row's runs, one child process each, and the order of the rows."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .report import (
    ALL_CHANGED,
    DISK_FLOOR,
    FLOOR,
    FLOOR_DETAILS,
    N_PLUS_ONE,
    NOOP,
    OURS,
    OURS_DETAILS,
)
from .server import BenchServer, log

#: The script each child runs (``--child KIND``).
SCRIPT = Path(__file__).resolve().parent.parent / "sync_benchmark.py"


class Runner:
    def __init__(self, server: BenchServer, scratch: Path, use_tracemalloc: bool) -> None:
        self.server = server
        self.scratch = scratch
        self.use_tracemalloc = use_tracemalloc
        self.rows: list[dict] = []

    def run(
        self,
        size: int,
        label: str,
        kind: str,
        *args: str,
        home: Path | None = None,
        repeat: int = 1,
    ) -> dict:
        """One child per run; with ``repeat``, the row holds the median time of the runs."""
        runs = [self.once(size, label, kind, *args, home=home, attempt=(n, repeat)) for n in
                range(1, repeat + 1)]  # fmt: skip
        return self.add_row(size, label, runs)

    def once(
        self, size: int, label: str, kind: str, *args: str, home: Path | None, attempt: tuple
    ) -> dict:
        """One run of ``kind`` in a child process: its result, with the server's log lines."""
        env = dict(os.environ, QT_API="pyqt5", QT_QPA_PLATFORM="offscreen")
        if home is not None:
            env["HOME"] = str(home)
        cmd = [sys.executable, str(SCRIPT), "--child", kind, *args]
        if self.use_tracemalloc:
            cmd.append("--tracemalloc")
        log(f"{size}: {label} ({attempt[0]}/{attempt[1]}) ...")
        before = self.server.requests_logged()
        result = subprocess.run(
            cmd, env=env, cwd=str(self.scratch), stdout=subprocess.PIPE, text=True
        )
        time.sleep(0.5)  # the access log line is written after the answer
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode != 0 or not lines:
            raise SystemExit(f"the {label} run failed ({result.returncode})")
        run = json.loads(lines[-1][len("RESULT ") :])
        run["server_requests"] = self.server.requests_logged() - before
        log(f"{size}: {label}: {run['seconds']:.2f} s, {run['requests']} requests")
        return run

    def add_row(self, size: int, label: str, runs: list[dict]) -> dict:
        """The row of ``runs``: median time (and median of each phase), largest memory."""
        row = dict(runs[0], size=size, approach=label)
        row["runs"] = [run["seconds"] for run in runs]
        row["seconds"] = statistics.median(row["runs"])
        if "phases" in row:
            row["phase_runs"] = [run["phases"] for run in runs]
            row["phases"] = {
                name: statistics.median(run["phases"][name] for run in runs)
                for name in row["phases"]
            }
        row["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
        row["rss_growth_mb"] = max(run["rss_growth_mb"] for run in runs)
        self.rows.append(row)
        return row


def bench_size(runner: Runner, size: int, options: argparse.Namespace) -> None:
    url = runner.server.url
    work = runner.scratch / f"n{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    records = work / "records.json"
    one_home = work / "one-home"
    one_home.mkdir()
    project = work / "bench_project"

    repeat, only = options.repeat, set(options.only)
    # (a) ours: the default first (it saves the records), then page sizes and concurrency.
    ours = ("--url", url, "--records", str(records))
    # with the weekly rows only, its row is just where the records come from: once
    runner.run(size, OURS, "ours", *ours, repeat=repeat if only - {"weekly"} else 1)
    if "floor" in only:
        runner.run(size, FLOOR, "floor", "--url", url, repeat=repeat)
    for workers in options.page_workers if "ours" in only else ():
        for limit in options.limits:
            label = f"(a) ours, limit={limit}, page_workers={workers}"
            runner.run(
                size,
                label,
                "ours",
                *("--url", url, "--limit", str(limit), "--page-workers", str(workers)),
                repeat=repeat,
            )
    # (b) ONE-api
    one_limits = [None, *[lim for lim in options.limits if lim != 250]]
    for limit in one_limits if "one" in only else ():
        label = "(b) ONE-api AlyxClient.get" + (f", limit={limit}" if limit else "")
        extra = ("--limit", str(limit)) if limit else ()
        runner.run(size, label, "one", "--url", url, *extra, home=one_home, repeat=repeat)
    # (c) 1.1.2's N+1
    skip = options.skip_n_plus_one_above
    if "n_plus_one" not in only:
        pass
    elif skip is not None and size > skip:
        log(f"{size}: (c) skipped (--skip-n-plus-one-above {skip})")
    else:
        runner.run(size, N_PLUS_ONE, "n_plus_one", "--url", url)
    # (d) the same work as (c) with ours, and its floor
    if "details" in only:
        runner.run(size, OURS_DETAILS, "ours_details", "--url", url)
        if "floor" in only:
            runner.run(size, FLOOR_DETAILS, "floor", "--url", url, "--details")
    if not {"sync", "weekly"} & only:
        return
    # The sync itself, into a fresh project, then twice as a no-op.
    common = ("--records", str(records), "--project", str(project))
    runner.run(size, "first sync: plan+apply+save", "first_sync", *common)
    if "sync" in only:
        runner.run(size, NOOP, "noop", *common, repeat=repeat)
        runner.run(
            size,
            "no-op re-sync, download included",
            "noop",
            *(*common, "--url", url, "--download"),
            repeat=repeat,
        )
    bench_all_changed(runner, size, common, repeat)


def bench_all_changed(runner: Runner, size: int, common: tuple, repeat: int) -> None:
    """The weekly re-sync rows, on the project the first sync made, and the disk's floor.

    Their runs alternate (re-sync, floor, re-sync, floor…): on a shared machine, each
    pair meets the same load, and the verdict compares each save with its own floor.
    """
    rows = {ALL_CHANGED: "all_changed", DISK_FLOOR: "disk_floor"}
    runs: dict[str, list[dict]] = {label: [] for label in rows}
    for attempt in range(1, repeat + 1):
        for label, kind in rows.items():
            run = runner.once(size, label, kind, *common, home=None, attempt=(attempt, repeat))
            runs[label].append(run)
    for label in rows:
        runner.add_row(size, label, runs[label])
