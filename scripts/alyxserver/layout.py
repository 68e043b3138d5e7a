"""Where everything lives, in one place, so each command agrees on the same paths.

A server's state goes under its home, ``ALYX_LOCAL_HOME``, so that deleting that one folder
is a complete clean-up and two homes never share a database. The demo's home is
``<repo>/.alyx-local`` (the default); the tests' is ``<repo>/.alyx-test`` (set by
``scripts/test``, ``.ci/run`` and ``tests/conftest.py``), so that tests never see or
change the demo's data. alyx-local's venv (about 930 MB) is the same for every home: it
lives once per alyx-local version in ``<repo>/.alyx-local-venv-<version>``
(``ALYX_LOCAL_VENV`` overrides it). All of these are ignored by git.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
CONSTRAINTS_FILE = PACKAGE_DIR / "constraints.txt"
DJANGO_SETTINGS_DIR = PACKAGE_DIR / "django_settings"
DJANGO_SETTINGS_MODULE = "alyx_local_settings"

ALYX_LOCAL_VERSION = "3.1.8"
DATABASE_NAME = "alyx"  # a migration grants on this very name: it cannot be changed
DB_USER = "postgres"
DEMO_HOME = REPO_ROOT / ".alyx-local"  # the default home
TESTS_HOME = REPO_ROOT / ".alyx-test"

log = logging.getLogger("alyxserver")


def setup_logging(verbose: bool = False) -> None:
    """Logs go to stderr: stdout is reserved for the JSON that callers parse."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="[alyxserver] %(message)s",
    )


class Layout:
    """The paths under one ALYX_LOCAL_HOME."""

    def __init__(self, home: Path | None = None) -> None:
        if home is None:
            env = os.environ.get("ALYX_LOCAL_HOME")
            home = Path(env) if env else DEMO_HOME
        self.home = home.resolve()
        self.venv = shared_venv()
        self.install_marker = self.venv / ".alyxserver-installed"
        self.install_lock = self.venv.with_name(self.venv.name + ".lock")
        self.pgdata = self.home / "pgdata"
        self.pg_socket_dir = self.home / "pgsocket"
        self.logs = self.home / "logs"
        self.pg_log = self.logs / "postgres.log"
        self.gunicorn_log = self.logs / "gunicorn.log"
        self.manage_log = self.logs / "manage.log"
        self.gunicorn_pid = self.home / "gunicorn.pid"
        self.data_dir = self.home / "data"
        self.uploaded_dir = self.home / "uploaded"
        self.password_file = self.home / "db-password"
        self.server_json = self.home / "server.json"
        self.last_port = self.home / "last-port"  # kept after a stop: the next start reuses it
        # Written by `start --keep-data`: every later start of this home keeps its database.
        self.keeps_data_marker = self.home / "keeps-data"
        # What the database in pgdata was made with; absent while it is being (re)made.
        self.database_record = self.home / "database.json"

    def venv_bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def dump_file(self, seed_hash: str) -> Path:
        return self.home / f"seed-{seed_hash}.dump"

    def old_dumps(self, keep: Path) -> list[Path]:
        return [p for p in self.home.glob("seed-*.dump") if p != keep]


def shared_venv() -> Path:
    """alyx-local's venv, one per version for every home (``ALYX_LOCAL_VENV`` overrides it)."""
    env = os.environ.get("ALYX_LOCAL_VENV")
    if env:
        return Path(env).resolve()
    return REPO_ROOT / f".alyx-local-venv-{ALYX_LOCAL_VERSION}"


@contextmanager
def file_lock(path: Path):
    """Held while the block runs, by one process at a time (e.g. two test sessions at once).

    The server itself is POSIX-only (PostgreSQL as its own user, /proc); importing this
    module is not, so that the tests import their seed and paths on Windows too.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def files_hash(paths: list[Path], extra: str = "") -> str:
    """A short hash of file contents, to notice when a cache no longer matches its source."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def seed_hash(postgres_major: str) -> str:
    """Everything that shapes the seeded dump: seed data and code, settings, pins, PostgreSQL.

    The PostgreSQL major version is in because pg_restore refuses dumps of newer versions.
    """
    sources = [
        PACKAGE_DIR / "seed_data.py",
        PACKAGE_DIR / "seed.py",
        PACKAGE_DIR / "alyxmanage.py",
        CONSTRAINTS_FILE,
        *sorted(DJANGO_SETTINGS_DIR.glob("*.py")),
    ]
    return files_hash(sources, extra=f"{ALYX_LOCAL_VERSION} postgres {postgres_major}")
