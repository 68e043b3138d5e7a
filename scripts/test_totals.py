"""Adds up the JUnit reports of scripts/test's phases into one closing line.

Prints ``tests: N passed, N failed, N skipped`` (errors count as failed). Standard library
only. Exits 1 when a report is missing or unreadable, so a phase that did not run is seen.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree


def totals(paths: list[str]) -> tuple[int, int, int]:
    """(passed, failed, skipped) over every test suite of every report."""
    tests = failed = skipped = 0
    for path in paths:
        for suite in ElementTree.parse(path).getroot().iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main(paths: list[str]) -> int:
    try:
        passed, failed, skipped = totals(paths)
    except (OSError, ElementTree.ParseError) as error:
        print(f"tests: a phase left no readable report ({error})", file=sys.stderr)
        return 1
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
