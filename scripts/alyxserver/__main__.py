"""Command line: ``python scripts/alyxserver {install,start,stop,status,reset,bulk}``.

``start`` prints the server's description (``server.json``) as JSON on stdout and logs on
stderr, so callers can parse its output. It is idempotent: with a server already answering
it only prints it. A start from stopped begins from the seed (restored from a cached dump
in well under a second once the seed has been built) unless the home keeps its data
(``start --keep-data``, the demo's home): then it serves the database of the last run.
Standard library only; runs under Python 3.9 to 3.12.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

# Run as a folder, Python puts this folder on sys.path; import as the package the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alyxserver import alyxmanage, bulk, database, server
from alyxserver.install import InstallError, install
from alyxserver.layout import Layout, file_lock, log, seed_hash, setup_logging
from alyxserver.postgres import Postgres, PostgresError
from alyxserver.seed import SeedError

EXPECTED_ERRORS = (
    InstallError,
    PostgresError,
    alyxmanage.ManageError,
    server.ServerError,
    SeedError,
)


def cmd_install(layout: Layout) -> int:
    install(layout)
    return 0


def cmd_start(layout: Layout, port: int | None = None, keep_data: bool = False) -> int:
    if keep_data:
        layout.home.mkdir(parents=True, exist_ok=True)
        layout.keeps_data_marker.touch()
    state = server.read_state(layout)
    pg = Postgres(layout, port=server.free_port())
    if state and server.answers(state["base_url"]):
        if port is not None and port != state["port"]:
            raise server.ServerError(
                f"already running on port {state['port']}: `stop` it first to serve on {port}"
            )
        if state.get("seed_hash") == seed_hash(pg.major_version()):
            log.info("already running at %s", state["base_url"])
            print(json.dumps(state, indent=2))
            return 0
        log.info("the seed, settings or pins changed since the server started: restarting it")
    stop_everything(layout, state)  # leftovers of a crashed or killed server
    started = time.monotonic()
    install(layout)
    pg.initdb()
    pg.start()
    pids = {}
    try:
        pids = database.populate_and_serve(layout, pg, port)
    except BaseException:
        stop_everything(layout, {"pids": pids})
        raise
    base_url = f"http://127.0.0.1:{pids['port']}"
    del pids["port"]
    pids["postgres"] = pg.postmaster_pid()
    state = server.describe(base_url, pg.port, pids, layout, seed_hash(pg.major_version()))
    state["keeps_data"] = database.keeps_data(layout)
    server.write_state(layout, state)
    log.info("Alyx is up at %s/api (%.1f s)", base_url, time.monotonic() - started)
    print(json.dumps(state, indent=2))
    return 0


def stop_everything(layout: Layout, state: dict | None) -> None:
    """Stop gunicorn and PostgreSQL if they run; quiet when nothing does."""
    pids = (state or {}).get("pids") or {}
    server.stop_gunicorn(layout, pids.get("gunicorn"))
    if (layout.pgdata / "PG_VERSION").is_file():
        Postgres(layout).stop()
    layout.server_json.unlink(missing_ok=True)


def cmd_stop(layout: Layout) -> int:
    stop_everything(layout, server.read_state(layout))
    log.info("stopped")
    return 0


def cmd_status(layout: Layout) -> int:
    state = server.read_state(layout)
    if state is None:
        log.info("not running (no %s)", layout.server_json)
        return 1
    up = server.answers(state["base_url"])
    print(json.dumps(dict(state, answering=up), indent=2))
    log.info("%s %s", state["base_url"], "answers" if up else "does NOT answer")
    return 0 if up else 1


def cmd_reset(layout: Layout) -> int:
    """Back to no database at all (the next start restores the seed); venv and cache stay."""
    stop_everything(layout, server.read_state(layout))
    database.forget(layout)
    if layout.pgdata.exists():
        shutil.rmtree(layout.pgdata)
        log.info("deleted %s", layout.pgdata)
    return 0


COMMANDS = {
    "install": (cmd_install, "create alyx-local's venv (fast when already there)"),
    "start": (cmd_start, "start (or find running) the server; print its JSON"),
    "stop": (cmd_stop, "stop gunicorn and PostgreSQL (a kept database stays)"),
    "status": (cmd_status, "print server.json; exit 1 if the server does not answer"),
    "reset": (cmd_reset, "stop, then delete the database: the next start restores the seed"),
    "bulk": (bulk.cmd_bulk, "benchmarks only: exactly N extra subjects of user bench"),
}

DESCRIPTION = """\
A real local Alyx (alyx-local on PostgreSQL), configured like the canonical cortex-lab
deployment (Europe/London naive times, its throttles, case-insensitive session subjects,
duplicate session numbers accepted). A server's state lives in its home, $ALYX_LOCAL_HOME:
<repo>/.alyx-local by default (the demo's), <repo>/.alyx-test for the tests (set by
scripts/test, .ci/run and tests/conftest.py). alyx-local's venv is shared by every home
($ALYX_LOCAL_VENV, default <repo>/.alyx-local-venv-<version>). `start --port N` (or
$ALYX_LOCAL_PORT) chooses the port; `start --help` says more."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/alyxserver",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    add_start_arguments(sub.choices["start"])
    bulk.add_arguments(sub.choices["bulk"])
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    layout = Layout()
    command = COMMANDS[args.command][0]
    try:
        with file_lock(layout.home / ".lock"):
            if args.command == "bulk":
                return command(layout, args.subjects)
            if args.command == "start":
                return command(layout, args.port, args.keep_data)
            return command(layout)
    except EXPECTED_ERRORS as error:
        log.error("%s failed: %s", args.command, error)
        return 1


def add_start_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("ALYX_LOCAL_PORT") or None,
        help="serve on this port (default: $ALYX_LOCAL_PORT, else the port of the last "
        "start when it is free, else a free one)",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="this home keeps its database from one start to the next, from now on (the "
        "demo's home); `reset` brings back the seed. Without it, each start from stopped "
        "begins from the seed (the tests' home)",
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number (1-65535), got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
