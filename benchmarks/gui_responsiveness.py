"""How long the Qt event loop stalls during "Get Subjects" in the real PyBpod GUI, beside PyBpod alone.

Run from the repository::

    .venv/bin/python benchmarks/gui_responsiveness.py [--subjects 3000 10000] [--runs 2] [--readme]

It starts its own Alyx under ``--home`` (default ``<repo>/.alyx-bench-gui``, never the tests'
``.alyx-local`` nor the sync benchmark's ``.alyx-bench``) with the sync benchmark's
``BenchServer``. For each size of ``--subjects`` (smallest first) it makes the server hold
exactly that many subjects of user ``bench`` (``scripts/alyxserver bulk``), then, each side in
a fresh process (:mod:`gui_phases`) booting PyBpod 1.8.2 offscreen, while a 10 ms ``QTimer``
records the gaps between its ticks (a gap well above 10 ms is the time the GUI was frozen):

* **PyBpod + plugin**, ``--runs`` times in one process (a later run meets the garbage the
  earlier ones left): **Connect**, **Get Subjects** into a new project (the first sync: every
  subject added), **Re-sync, every subject changed** (every subject's saved ``age_weeks`` put
  one week behind Alyx's), and **opens the project from disk** (the synced project saved by
  PyBpod, closed, and opened again with ``open_project``, the plugin's hooks included);
* **PyBpod alone** (without this plugin): idle for as long as the first sync took, then opens
  the same project. Its open is O(N²); after ``--alone-limit`` seconds it is stopped and
  reported as "> T s (stopped)".

Then, at the largest size, a third fresh process (:mod:`gui_memory`) runs the plugin's first sync
under ``tracemalloc``: what the Python heap holds after it, by who allocated it (this plugin,
PyBpod, pyforms, the rest), and the native remainder of its RSS growth (Qt's objects). It is
slowed by ``tracemalloc``: its time is not compared with the others.

Each row also gives the process's peak RSS at the phase's end and how much it grew during the
phase. The report (set-up, table, verdicts) is printed, and with ``--readme`` also written
between this script's markers in benchmarks/README.md. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in ("scripts", "benchmarks"):
    sys.path.insert(0, str(ROOT / folder))

from gui_memory import MEMORY, memory_child  # noqa: E402
from gui_phases import (  # noqa: E402
    FIRST_SYNC,
    IDLE,
    OPEN,
    RESYNC,
    STOPPED,
    baseline_child,
    plugin_child,
)
from readme_block import markdown_table, preamble, write_block  # noqa: E402
from sync_benchmark import BenchServer  # noqa: E402

SCRIPT = Path(__file__).name
PLUGIN, ALONE = "PyBpod + plugin", "PyBpod alone"
#: The issue's target for the plugin's longest stall, by subjects.
TARGET_MS = {3000: 100}
#: Issue 18's targets for PyBpod + plugin opening a project from disk (s), by subjects.
OPEN_TARGET_S = {3000: 2.0, 10000: 7.0}


def run_child(arguments: list[str], who: str, size: int) -> list[dict]:
    """Run this script as a child with ``arguments``: its rows (one ``RESULT`` line each)."""
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    rows = [
        dict(json.loads(line[len("RESULT ") :]), who=who, size=size)
        for line in result.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    stopped = result.returncode == STOPPED and rows and rows[-1].get("stopped")
    if (result.returncode != 0 and not stopped) or not rows:
        raise SystemExit(f"{who} at {size} subjects failed ({result.returncode})")
    return rows


def measure_size(server: BenchServer, size: int, options, scratch: Path) -> list[dict]:
    """Both sides at ``size`` subjects: the plugin's phases, then PyBpod alone on its project."""
    server.bulk(size)
    server.warm_up()
    folder = scratch / f"size_{size}" / "bench_project"
    folder.parent.mkdir(parents=True)
    print(f"[bench] {size} subjects: PyBpod + plugin", file=sys.stderr)
    rows = run_child(
        ["--plugin-child", str(folder), "--url", server.url, "--runs", str(options.runs)],
        PLUGIN,
        size,
    )
    first_sync = next(row for row in rows if row["phase"] == FIRST_SYNC)
    print(f"[bench] {size} subjects: PyBpod alone", file=sys.stderr)
    idle = f"{first_sync['seconds']:.2f}"
    limit = ["--alone-limit", str(options.alone_limit)]
    rows += run_child(["--baseline-child", str(folder), "--idle", idle, *limit], ALONE, size)
    shutil.rmtree(folder.parent, ignore_errors=True)
    return rows


def measure_memory(server: BenchServer, size: int, scratch: Path) -> list[dict]:
    """At ``size`` subjects (the server holds them): what the GUI's first sync holds."""
    folder = scratch / f"memory_{size}" / "bench_project"
    folder.parent.mkdir(parents=True)
    print(f"[bench] {size} subjects: the first sync's memory (tracemalloc)", file=sys.stderr)
    rows = run_child(["--memory-child", str(folder), "--url", server.url], PLUGIN, size)
    shutil.rmtree(folder.parent, ignore_errors=True)
    return rows


def _seconds(row: dict, unit: str = "") -> str:
    if row.get("stopped"):
        return f"> {row['seconds']:.0f}{unit} (stopped)"
    return f"{row['seconds']:.2f}{unit}"


def _met(value: float, target: float | None, unit: str) -> str:
    if target is None:
        return ""
    return f"; target <= {target:g} {unit}: " + ("met" if value <= target else "NOT met")


def report(rows: list[dict], argv: list[str]) -> str:
    """What benchmarks/README.md shows between this script's markers: set-up, table, verdicts."""
    header = ["size", "run", "who", "phase", "subjects", "total s", "longest gap ms", "p99 ms"]
    header += ["peak RSS MB", "RSS growth MB", "status"]
    table = [
        [
            str(row["size"]),
            str(row.get("run", "")),
            row["who"],
            row["phase"],
            "" if row["subjects"] is None else str(row["subjects"]),
            _seconds(row),
            "" if row.get("stopped") else f"{row['longest_ms']:.1f}",
            "" if row.get("stopped") else f"{row['p99_ms']:.1f}",
            f"{row['rss_mb']:.0f}",
            "" if row.get("stopped") else f"{row['rss_growth_mb']:+.0f}",
            row.get("status", ""),
        ]
        for row in rows
        if row["phase"] != MEMORY
    ]
    sizes = sorted({row["size"] for row in rows})
    setting = "PyBpod 1.8.2 offscreen, a 10 ms QTimer; alyx-local 3.1.8 with " + " and ".join(
        f"{size}" for size in sizes
    )
    lines = preamble(SCRIPT, argv, setting + " bench subjects")
    lines += markdown_table(header, table)
    verdicts = [v for size in sizes for v in _verdicts([r for r in rows if r["size"] == size])]
    lines += ["", "The script's verdicts:", ""] + [f"- {v}" for v in verdicts]
    for row in rows:
        if row["phase"] == MEMORY:
            lines += ["", *_memory_report(row)]
    return "\n".join(lines) + "\n"


def _memory_report(row: dict) -> list[str]:
    """What the GUI's first sync holds: the Python heap by who allocated it, then the rest."""
    traced = row["traced_mb"]
    table = [
        [owner, f"{size:.1f}", f"{100 * size / traced:.0f} %" if traced else ""]
        for owner, size in row["held_mb"].items()
    ]
    table.append(["Python heap, in all", f"{traced:.1f}", "100 %"])
    return [
        f"What the GUI's first sync of {row['subjects']} subjects holds once done (a fresh "
        f"process under tracemalloc: {row['seconds']:.1f} s, slowed; {row['status']}). Its RSS "
        f"grew {row['rss_growth_mb']:.0f} MB: {traced:.0f} MB of Python objects, by who "
        f"allocated them, and {row['native_mb']:.0f} MB of native memory (Qt's C++ objects "
        f"and the allocator's pages; tracemalloc's own bookkeeping left out). The heap's peak "
        f"during the sync: {row['traced_peak_mb']:.0f} MB.",
        "",
        *markdown_table(["allocated by", "MB held after the sync", "share"], table),
        "",
        "This plugin's largest allocation sites among them: "
        + "; ".join(f"`{site}` {size:.1f} MB" for site, size in row["plugin_sites_mb"].items())
        + ".",
    ]


def _verdicts(rows: list[dict]) -> list[str]:
    """One size's verdicts: the syncs' stalls, its first sync's memory, the opens."""
    size = rows[0]["size"]
    alone = {row["phase"]: row for row in rows if row["who"] == ALONE}
    alone_open = alone.get(OPEN)
    verdicts = []
    for phase in (FIRST_SYNC, RESYNC):
        worst = max((r for r in rows if r["phase"] == phase), key=lambda r: r["longest_ms"])
        met = _met(worst["longest_ms"], TARGET_MS.get(size), "ms")
        verdicts.append(
            f"{phase} at {size} subjects: longest stall {worst['longest_ms']:.1f} ms (run "
            f"{worst['run']}{met}); PyBpod alone idle: {alone[IDLE]['longest_ms']:.1f} ms"
        )
    first = [r for r in rows if r["phase"] == FIRST_SYNC]
    top = max(first, key=lambda r: r["rss_mb"])
    verdicts.append(
        f"peak RSS of the GUI's first sync of {size} subjects: {top['rss_mb']:.0f} MB (run "
        f"{top['run']}; it grew {top['rss_growth_mb']:.0f} MB during the sync)"
    )
    ours = [r for r in rows if r["who"] == PLUGIN and r["phase"] == OPEN]
    if ours and alone_open:
        slowest = max(ours, key=lambda r: r["seconds"])
        met = _met(slowest["seconds"], OPEN_TARGET_S.get(size), "s")
        ratio = alone_open["seconds"] / slowest["seconds"]
        more = "> " if alone_open.get("stopped") else ""
        verdicts.append(
            f"opening the project of {size} subjects from disk: PyBpod + plugin "
            f"{slowest['seconds']:.2f} s (run {slowest['run']}{met}), PyBpod alone "
            f"{_seconds(alone_open, ' s')}, {more}{ratio:.1f}x"
        )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[3000], help="sizes (3000)")
    parser.add_argument("--runs", type=int, default=2, help="plugin runs in one process (2)")
    parser.add_argument("--alone-limit", type=float, default=900.0,
                        help="seconds PyBpod alone may take to open before it is stopped (900)")  # fmt: skip
    parser.add_argument("--home", type=Path, default=ROOT / ".alyx-bench-gui")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running")
    parser.add_argument("--plugin-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--idle", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--readme",
        action="store_true",
        help=f"also write the report into benchmarks/README.md, between {SCRIPT}'s markers",
    )
    options = parser.parse_args(argv)
    if options.plugin_child:
        return plugin_child(options.url, options.plugin_child, options.runs)
    if options.memory_child:
        return memory_child(options.url, options.memory_child)
    if options.baseline_child:
        return baseline_child(options.baseline_child, options.idle, options.alone_limit)
    if options.home.resolve() in {
        (ROOT / ".alyx-local").resolve(),
        (ROOT / ".alyx-test").resolve(),
        (ROOT / ".alyx-bench").resolve(),
    }:
        parser.error("--home must be this benchmark's own, not the tests' or the sync benchmark's")

    server = BenchServer(options.home.resolve(), options.server_workers)
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alyx-gui-bench-"))
    rows: list[dict] = []
    try:
        print(f"[bench] starting the bench server in {options.home}", file=sys.stderr)
        server.start()
        for size in sorted(set(options.subjects)):
            rows += measure_size(server, size, options, scratch)
        rows += measure_memory(server, max(options.subjects), scratch)
    finally:
        if not options.keep_server:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    text = report(rows, [arg for arg in argv if arg != "--readme"])
    print("\n" + text, end="")
    if options.readme:
        write_block(SCRIPT, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
