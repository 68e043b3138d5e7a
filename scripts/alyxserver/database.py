"""The ``alyx`` database a start serves: the home's kept data, or the seed.

A home either begins each start from the seed (the tests' home: every run sees the same
data) or, once started with ``--keep-data`` (the demo's home), keeps its database from one
start to the next, so what a user did survives a stop; ``reset`` brings it back to the seed.
The seed is restored from a cached ``pg_dump`` in well under a second; without one it is
built (migrate, users, REST seed: under a minute) and cached.

``database.json`` records what the database in ``pgdata`` was made with. It is written once
the database is complete and deleted before it is remade, so a start that died halfway is
never mistaken for kept data. A kept database made before the pins or settings changed is
migrated and given the canonical schema again (both idempotent), never reseeded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from alyxserver import alyxmanage, server
from alyxserver.layout import Layout, log, seed_hash
from alyxserver.postgres import Postgres, PostgresError
from alyxserver.seed import seed


def populate_and_serve(layout: Layout, pg: Postgres, chosen_port: int | None) -> dict:
    """The database this start serves, and gunicorn serving it: ``{"gunicorn", "port"}``."""
    alyxmanage.prepare_folders(layout)
    port = server.port_to_serve(layout, chosen_port)
    base_url = f"http://127.0.0.1:{port}"
    made_with = seed_hash(pg.major_version())
    if keeps_data(layout) and _has_kept_database(layout, pg):
        if _record(layout).get("seed_hash") != made_with:
            alyxmanage.bring_schema_up_to_date(layout, pg.port)
            _write_record(layout, made_with)
        log.info("serving the kept database (`reset` brings back the seed)")
        return _serve(layout, pg, port)
    layout.database_record.unlink(missing_ok=True)
    pg.recreate_database()
    dump = layout.dump_file(made_with)
    if dump.is_file() and _restored(pg, dump):
        _write_record(layout, made_with)
        return _serve(layout, pg, port)
    log.info("building the seeded database (under a minute; cached afterwards)")
    started = time.monotonic()
    alyxmanage.migrate(layout, pg.port)
    alyxmanage.create_users_and_fixtures(layout, pg.port)
    pids = _serve(layout, pg, port)
    seed(base_url + "/api")
    pg.dump(dump)
    for old in layout.old_dumps(keep=dump):
        old.unlink()
    _write_record(layout, made_with)
    log.info("built and cached the seeded database in %.1f s", time.monotonic() - started)
    return pids


def keeps_data(layout: Layout) -> bool:
    """Whether this home keeps its database across starts (once started with --keep-data)."""
    return layout.keeps_data_marker.is_file()


def forget(layout: Layout) -> None:
    """The database is gone (``reset``): the next start restores the seed."""
    layout.database_record.unlink(missing_ok=True)


def _serve(layout: Layout, pg: Postgres, port: int) -> dict:
    pid = server.start_gunicorn(layout, pg.port, port)
    server.wait_ready(layout, f"http://127.0.0.1:{port}", pid)
    return {"gunicorn": pid, "port": port}


def _has_kept_database(layout: Layout, pg: Postgres) -> bool:
    return layout.database_record.is_file() and pg.has_database()


def _record(layout: Layout) -> dict:
    try:
        return json.loads(layout.database_record.read_text())
    except (OSError, ValueError):
        return {}


def _write_record(layout: Layout, made_with: str) -> None:
    layout.database_record.write_text(json.dumps({"seed_hash": made_with}) + "\n")


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
