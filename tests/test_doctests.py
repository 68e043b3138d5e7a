"""The examples in the package's docstrings run, and say what they print.

Every module with a ``>>>`` example is collected here (so a new one is run without being
listed), imported, and its examples run with :mod:`doctest`. An example must be
self-contained: no server, no network, no ``+SKIP`` — code that needs a server is shown
as a plain literal block instead, since it cannot be checked here.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pybpod_alyx_module"


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_package_has_examples_to_run():
    assert len(MODULES) >= 5, MODULES  # address, names, download, plan, token_store, …


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of_the_module_print_what_they_say(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name)
    skipped = [
        f"{test.name} line {example.lineno}: {example.source.strip()}"
        for test in tests
        for example in test.examples
        if example.options.get(doctest.SKIP)
    ]
    assert not skipped, "examples that never run (make them self-contained):\n" + "\n".join(skipped)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name} has '>>>' but no example doctest finds"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
