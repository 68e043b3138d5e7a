"""Adds up the JUnit reports of scripts/test's phases into one closing line.

Prints, for each report, its test time and its slowest files (so that a phase that grows is
seen, and where), then ``tests: N passed, N failed, N skipped`` (errors count as failed).
Standard library only. Exits 1 when a report is missing or unreadable, so a phase that did
not run is seen.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

SLOWEST = 8  # files named per phase


def totals(paths: list[str]) -> tuple[int, int, int]:
    """(passed, failed, skipped) over every test suite of every report."""
    tests = failed = skipped = 0
    for path in paths:
        for suite in ElementTree.parse(path).getroot().iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def file_times(path: str) -> Counter:
    """Seconds per test file (set-up, call and tear-down), from the test cases' class names."""
    seconds: Counter = Counter()
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")
        while module and not module[-1].startswith("test_"):
            module.pop()  # a test class's name, after its module's
        seconds["/".join(module) + ".py"] += float(case.get("time", 0))
    return seconds


def time_line(path: str) -> str:
    seconds = file_times(path)
    slowest = ", ".join(f"{name} {time:.0f}" for name, time in seconds.most_common(SLOWEST))
    return f"{Path(path).stem}: {sum(seconds.values()):.0f} s in tests; slowest files: {slowest}"


def main(paths: list[str]) -> int:
    try:
        passed, failed, skipped = totals(paths)
        lines = [time_line(path) for path in paths]
    except (OSError, ElementTree.ParseError) as error:
        print(f"tests: a phase left no readable report ({error})", file=sys.stderr)
        return 1
    print("\n".join(lines))
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
