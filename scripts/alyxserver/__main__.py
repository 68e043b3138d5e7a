"""Command line: ``python scripts/alyxserver {install,start,stop,status,reset}``.

``start`` prints the server's description (``server.json``) as JSON on stdout and logs on
stderr, so callers can parse its output. It is idempotent: with a server already answering
it only prints it. Each start from stopped begins from the same seeded database (restored
from a cached dump in well under a second once the seed has been built).
Standard library only; runs under Python 3.9 to 3.12.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# Run as a folder, Python puts this folder on sys.path; import as the package the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alyxserver import alyxmanage, bulk, server
from alyxserver.install import InstallError, install
from alyxserver.layout import Layout, log, seed_hash, setup_logging
from alyxserver.postgres import Postgres, PostgresError
from alyxserver.seed import SeedError, seed

EXPECTED_ERRORS = (
    InstallError,
    PostgresError,
    alyxmanage.ManageError,
    server.ServerError,
    SeedError,
)


@contextmanager
def locked(layout: Layout):
    """One command at a time per ALYX_LOCAL_HOME (e.g. two test sessions starting at once)."""
    layout.home.mkdir(parents=True, exist_ok=True)
    with open(layout.home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def cmd_install(layout: Layout) -> int:
    install(layout)
    return 0


def cmd_start(layout: Layout) -> int:
    state = server.read_state(layout)
    pg = Postgres(layout, port=server.free_port())
    if state and server.answers(state["base_url"]):
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
        pids = populate_and_serve(layout, pg)
    except BaseException:
        stop_everything(layout, {"pids": pids})
        raise
    base_url = f"http://127.0.0.1:{pids['port']}"
    del pids["port"]
    pids["postgres"] = pg.postmaster_pid()
    state = server.describe(base_url, pg.port, pids, layout, seed_hash(pg.major_version()))
    server.write_state(layout, state)
    log.info("Alyx is up at %s/api (%.1f s)", base_url, time.monotonic() - started)
    print(json.dumps(state, indent=2))
    return 0


def populate_and_serve(layout: Layout, pg: Postgres) -> dict:
    """Seeded database from the cached dump, or built (migrate, users, REST seed) and cached."""
    alyxmanage.prepare_folders(layout)
    pg.recreate_database()
    dump = layout.dump_file(seed_hash(pg.major_version()))
    port = server.port_to_serve(layout)
    base_url = f"http://127.0.0.1:{port}"
    if dump.is_file() and _restored(pg, dump):
        pid = server.start_gunicorn(layout, pg.port, port)
        server.wait_ready(layout, base_url, pid)
        return {"gunicorn": pid, "port": port}
    log.info("building the seeded database (under a minute; cached afterwards)")
    started = time.monotonic()
    alyxmanage.migrate(layout, pg.port)
    alyxmanage.create_users_and_fixtures(layout, pg.port)
    pid = server.start_gunicorn(layout, pg.port, port)
    server.wait_ready(layout, base_url, pid)
    seed(base_url + "/api")
    pg.dump(dump)
    for old in layout.old_dumps(keep=dump):
        old.unlink()
    log.info("built and cached the seeded database in %.1f s", time.monotonic() - started)
    return {"gunicorn": pid, "port": port}


def _restored(pg: Postgres, dump: Path) -> bool:
    """Restore the cached seed; a cache that cannot be restored is dropped, not fatal."""
    log.info("restoring the seeded database from %s", dump.name)
    try:
        pg.restore(dump)
        return True
    except PostgresError as error:
        log.warning("cannot restore %s (%s): rebuilding it", dump.name, error)
        dump.unlink()
        pg.recreate_database()
        return False


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
    """Back to no database at all; the venv and the seed dump cache stay."""
    stop_everything(layout, server.read_state(layout))
    if layout.pgdata.exists():
        shutil.rmtree(layout.pgdata)
        log.info("deleted %s", layout.pgdata)
    return 0


COMMANDS = {
    "install": (cmd_install, "create alyx-local's venv (fast when already there)"),
    "start": (cmd_start, "start (or find running) the seeded server; print its JSON"),
    "stop": (cmd_stop, "stop gunicorn and PostgreSQL"),
    "status": (cmd_status, "print server.json; exit 1 if the server does not answer"),
    "reset": (cmd_reset, "stop, then delete the database (keeps venv and seed cache)"),
    "bulk": (bulk.cmd_bulk, "benchmarks only: exactly N extra subjects of user bench"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/alyxserver",
        description="A real local Alyx (alyx-local on PostgreSQL) for tests and demos. "
        "State lives in $ALYX_LOCAL_HOME (default <repo>/.alyx-local).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    bulk.add_arguments(sub.choices["bulk"])
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    layout = Layout()
    command = COMMANDS[args.command][0]
    try:
        with locked(layout):
            if args.command == "bulk":
                return command(layout, args.subjects)
            return command(layout)
    except EXPECTED_ERRORS as error:
        log.error("%s failed: %s", args.command, error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
