"""A benchmark's printed report, and its copy between the script's markers in README.md.

benchmarks/README.md shows each script's output verbatim, between two markers named after
the script (``<!-- register_benchmark.py output: begin -->`` ... ``end -->``), so that a
script's ``--readme`` option can replace its own block and leave the rest of the page as
it is. Standard library only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def markers(script: str) -> tuple[str, str]:
    """The two lines around ``script``'s block, e.g. ``script = "gui_registration.py"``."""
    return f"<!-- {script} output: begin -->", f"<!-- {script} output: end -->"


def write_block(script: str, text: str, readme: Path = README) -> None:
    """Replace what is between ``script``'s two markers in ``readme`` with ``text``."""
    begin, end = markers(script)
    old = readme.read_text(encoding="utf-8")
    if begin not in old or end not in old:
        raise SystemExit(f"{readme} has no {begin} ... {end} markers")
    head, rest = old.split(begin, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")


def preamble(script: str, argv: list[str], setting: str) -> list[str]:
    """When and where it was measured, and the command that printed the block.

    The load average is taken at the end: a busy machine slows every row alike, so rows
    compare within one run, not across runs.
    """
    return [
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')}: {os.cpu_count()} CPUs (load average at "
        f"the end {os.getloadavg()[0]:.2f}), Python {sys.version.split()[0]}, {setting}.",
        f"Command: `.venv/bin/python benchmarks/{script}" + "".join(f" {a}" for a in argv) + "`",
        "",
    ]


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table whose columns line up in plain text too (it is printed as well)."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return out
