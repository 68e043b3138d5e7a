"""The report: the set-up, one table and the verdicts, exactly as benchmarks/README.md shows them."""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

# The rows the verdicts compare (benchmarks/README.md says what each includes).
OURS = "(a) ours, download_subjects"
FLOOR = "(f) server floor: login + the same list pages, plain parallel GETs"
N_PLUS_ONE = "(c) 1.1.2 way: list + 1 GET/subject"
OURS_DETAILS = "(d) ours + add_details: list + every subject's weighings and water, as (c)"
FLOOR_DETAILS = "(f+d) server floor: (d)'s requests, plain parallel GETs"
NOOP = "no-op re-sync, download excluded"
ALL_CHANGED = "weekly re-sync, every subject changed, download excluded"
DISK_FLOOR = "disk floor: the weekly re-sync's files created, flushed, renamed (no logic)"


def report(rows: list[dict], argv: list[str], server_workers: int) -> str:
    """What benchmarks/README.md shows, verbatim: the set-up, the table, the verdicts."""
    heap = any("heap_peak_mb" in row for row in rows)
    header = ["N", "approach", "subjects", "HTTP requests", "server log", "wall s", "peak RSS MB"]
    header += ["RSS growth MB"] + (["heap peak MB"] if heap else []) + ["notes"]
    lines = [header]
    for row in rows:
        kinds = row.get("by_kind", {})
        breakdown = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        line = [
            str(row["size"]),
            row["approach"],
            str(row.get("subjects", "")),
            f"{row['requests']}" + (f" ({breakdown})" if breakdown else ""),
            str(row["server_requests"]),
            f"{row['seconds']:.2f}",
            f"{row['peak_rss_mb']:.0f}",
            f"{row['rss_growth_mb']:.0f}",
        ]
        if heap:
            line.append(f"{row['heap_peak_mb']:.0f}" if "heap_peak_mb" in row else "")
        line.append(_notes(row))
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')}: {os.cpu_count()} CPUs (load average at "
        f"the end {os.getloadavg()[0]:.2f}), Python {sys.version.split()[0]}, alyx-local 3.1.8 "
        f"with {server_workers} gunicorn workers.",
        "Command: `.venv/bin/python benchmarks/sync_benchmark.py"
        + "".join(f" {arg}" for arg in argv)
        + "`",
        "",
    ]
    for i, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["", "The script's verdicts:", ""]
    out += [f"- {verdict}" for verdict in _targets(rows)]
    return "\n".join(out) + "\n"


def _notes(row: dict) -> str:
    notes = []
    runs = row.get("runs", [])
    if len(runs) > 1:
        notes.append(f"median of {len(runs)} (min {min(runs):.2f}, max {max(runs):.2f})")
    if "phases" in row:
        notes.append(", ".join(f"{k} {v:.2f}" for k, v in row["phases"].items()))
    if "written" in row:
        notes.append(f"{row['written']} paths written")
    return "; ".join(notes)


def _targets(rows: list[dict]) -> list[str]:
    def find(size: int, approach: str) -> dict | None:
        return next((r for r in rows if r["size"] == size and r["approach"] == approach), None)

    from pybpod_alyx_module.alyx.pagination import FIRST_PAGE_SIZE as first
    from pybpod_alyx_module.alyx.pagination import PAGE_SIZE as size_of_page

    verdicts = []
    for row in rows:
        if row["approach"] == OURS:
            pages = row["by_kind"].get("page", 0)
            # The client asks a small first page (it says how many there are), then pages of
            # PAGE_SIZE in parallel: 1 + ceil((N - first) / PAGE_SIZE) list requests.
            expected = 1 + math.ceil(max(row["subjects"] - first, 0) / size_of_page)
            verdicts.append(
                f"requests at N={row['size']}: {row['requests']} in all, {pages} list pages "
                f"(1 + ceil((N - {first})/{size_of_page}) = {expected}): "
                + ("grows with pages" if pages == expected else "NOT one request per page")
            )
    for size in sorted({r["size"] for r in rows}):
        a, f, c = find(size, OURS), find(size, FLOOR), find(size, N_PLUS_ONE)
        d, fd, z = find(size, OURS_DETAILS), find(size, FLOOR_DETAILS), find(size, NOOP)
        if a and f:
            verdicts.append(
                f"ours vs the server floor at N={size}: {a['seconds']:.2f} s vs "
                f"{f['seconds']:.2f} s, {a['seconds'] / f['seconds']:.2f}x the floor's time"
            )
        if a and c:
            ratio = c["seconds"] / a["seconds"]
            verdict = "met" if ratio >= 10 else "NOT met"
            verdicts.append(
                f"ours (list only) vs 1.1.2 (list + every detail) at N={size}: {ratio:.1f}x "
                f"faster (target >= 10x: {verdict}); not the same result, see the next line"
            )
        if d and c:
            verdicts.append(
                f"same result (every subject with its weighings and water) at N={size}: ours {d['seconds']:.2f} s vs the "
                f"1.1.2 way {c['seconds']:.2f} s, {c['seconds'] / d['seconds']:.1f}x faster"
                + (
                    f"; floor {fd['seconds']:.2f} s, ours {d['seconds'] / fd['seconds']:.2f}x "
                    "the floor's time"
                    if fd
                    else ""
                )
            )
        if z:
            total, reload = z["seconds"], z["phases"]["reload"]
            verdict = "met" if total < 2 else "NOT met"
            verdicts.append(
                f"no-op re-sync at N={size}, download excluded: {total:.2f} s, of which PyBpod's "
                f"reload {reload:.2f} s and plan+apply+save {total - reload:.2f} s "
                f"(target < 2 s: {verdict}); {z['written']} paths written"
            )
    return verdicts + all_changed_verdicts(rows)


def all_changed_verdicts(rows: list[dict]) -> list[str]:
    """Target of issue 8: plan+apply+save of N changed subjects in < 2 s at N = 10,000."""
    verdicts = []
    floors = {row["size"]: row for row in rows if row["approach"] == DISK_FLOOR}
    for row in rows:
        floor = floors.get(row["size"])
        if row["approach"] == ALL_CHANGED and floor:
            saves = [phases["save"] for phases in row.get("phase_runs", [row["phases"]])]
            paired = floor["runs"] if len(floor["runs"]) == len(saves) else [floor["seconds"]]
            ratios = [save / seconds for save, seconds in zip(saves, paired)]
            ratio = statistics.median(ratios)
            pairs = f", median of {len(ratios)} paired runs" if len(ratios) > 1 else ""
            verdicts.append(
                f"weekly re-sync's save at N={row['size']} vs the disk's floor: "
                f"{row['phases']['save']:.2f} s vs {floor['seconds']:.2f} s, {ratio:.2f}x{pairs} "
                f"(aim <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'})"
            )
        if row["approach"] != ALL_CHANGED:
            continue
        phases = row["phases"]
        local = phases["plan"] + phases["apply"] + phases["save"]
        updated = row["plan"]["update"]
        verdict = "met" if local < 2 or row["size"] < 10_000 else "NOT met"
        verdicts.append(
            f"weekly re-sync at N={row['size']}: {updated} subjects updated, plan "
            f"{phases['plan']:.2f} + apply {phases['apply']:.2f} + save {phases['save']:.2f} = "
            f"{local:.2f} s (target < 2 s at 10,000: {verdict}); PyBpod's reload "
            f"{phases['reload']:.2f} s; {row['written']} paths written"
        )
    return verdicts
