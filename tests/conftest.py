"""Shared fixtures of the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS_DIR))

from alyxserver import seed_data  # noqa: E402
from alyxserver.layout import TESTS_HOME, Layout  # noqa: E402

# ---------------------------------------------------------------------------------------
# The real Alyx server (alyx-local on PostgreSQL, configured like the canonical cortex-lab
# deployment), seeded with alyxserver.seed_data, in the tests' own home: ALYX_LOCAL_HOME
# (as scripts/test and .ci/run set it), else <repo>/.alyx-test, never the demo's. Set here,
# at import, so that every Layout() of the tests and every process they start agree on it.
# Started by `python scripts/alyxserver start`, which reuses a server already running
# (e.g. one started by CI); stopped at the end only if we started it. Each start from
# stopped restores the seed.
# ---------------------------------------------------------------------------------------
os.environ.setdefault("ALYX_LOCAL_HOME", str(TESTS_HOME))
ALYX_SERVER_SCRIPT = SCRIPTS_DIR / "alyxserver"
ALYX_START_TIMEOUT = 15 * 60  # a first start builds a venv (~1 min) and the seed


@dataclass(frozen=True)
class AlyxServer:
    url: str  # API root, e.g. http://127.0.0.1:PORT/api
    base_url: str  # what a user types: http://127.0.0.1:PORT
    users: dict[str, str] = field(repr=False)  # seeded username -> password


def _alyxserver(command: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ALYX_SERVER_SCRIPT), command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stderr_tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def alyx_server():
    """The seeded local Alyx; fails (never skips) the tests that need it if it cannot start."""
    home = Layout()
    if home.keeps_data_marker.is_file():
        pytest.fail(
            f"ALYX_LOCAL_HOME={home.home} keeps a user's data (the demo's home): the tests "
            f"need a home of their own; unset ALYX_LOCAL_HOME to use {TESTS_HOME}",
            pytrace=False,
        )
    already_running = _alyxserver("status", timeout=60).returncode == 0
    try:
        result = _alyxserver("start", timeout=ALYX_START_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"`alyxserver start` timed out after {error.timeout} s", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"`python {ALYX_SERVER_SCRIPT} start` failed ({result.returncode}):\n"
            f"{_stderr_tail(result.stderr)}",
            pytrace=False,
        )
    description = json.loads(result.stdout)
    yield AlyxServer(description["url"], description["base_url"], dict(seed_data.USERS))
    if not already_running:
        _alyxserver("stop", timeout=120)


@pytest.fixture(scope="session")
def seed():
    """The seed definition (``scripts/alyxserver/seed_data.py``): what the server holds."""
    return seed_data


# ---------------------------------------------------------------------------------------
# Longest files first. scripts/test runs the parallel phase with `--dist loadfile
# --no-loadscope-reorder`: xdist hands the files to the two workers in collection order,
# one at a time as each finishes. Its own order (most tests first) put files of a few long
# tests (the README's install, the save kills, GUI runs) last, and one worker ran them
# alone. So the files are ordered by their seconds in the last measured run (each phase's
# slowest files are printed by scripts/test_totals.py), the others after them by their
# number of tests. A stale table only costs balance; each file keeps its tests' order.
# ---------------------------------------------------------------------------------------
LONGEST_FILES = {  # path -> seconds of a clean-clone run (2026-12-02), on a quiet 2-core machine
    "tests/gui/test_alyx_get_subjects.py": 318,
    "tests/test_sync_save_kill.py": 111,
    "tests/gui/test_register_runs.py": 101,
    "tests/gui/test_alyx_details.py": 81,
    "tests/gui/test_alyx_robustness.py": 70,
    "tests/test_cli.py": 59,
    "tests/test_readme_install.py": 54,
    "tests/gui/test_register_outbox.py": 43,
    "tests/test_sync_save_atomic.py": 42,
    "tests/test_register_real_alyx.py": 41,
    "tests/test_sync_real_alyx.py": 35,
    "tests/test_register_numbers_real_alyx.py": 33,
    "tests/test_client_real_alyx.py": 30,
    "tests/gui/test_register_chart.py": 26,
    "tests/test_download_details_real_alyx.py": 23,
    "tests/test_sync_cli_guards.py": 20,
    "tests/gui/test_plausibility_gui.py": 18,
    "tests/gui/test_demo_rig.py": 18,
    "tests/test_register_verify_faults.py": 16,
    "tests/test_register_cli.py": 15,
}


@pytest.hookimpl(trylast=True)  # after pytest grouped the tests by their session fixtures
def pytest_collection_modifyitems(config, items):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: keep pytest's order (one recomposition per plugin order)
    files = [item.nodeid.split("::", 1)[0] for item in items]
    counts = Counter(files)
    rank = {item: (-LONGEST_FILES.get(f, 0), -counts[f], f) for item, f in zip(items, files)}
    items.sort(key=rank.__getitem__)
