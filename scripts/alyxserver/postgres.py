"""A private PostgreSQL cluster for alyx-local (SQLite fails one of its migrations).

The cluster lives in ``ALYX_LOCAL_HOME/pgdata`` on a free port, listens on 127.0.0.1 only,
trusts local connections (a throwaway test server) and runs with ``fsync=off`` because
durability is worthless for test data and fsync is most of a migration's time.
``initdb`` and ``postgres`` refuse to run as root, so as root the server-side programs run
as the ``postgres`` system user (``runuser``); client programs (``psql``, ``pg_dump``,
``pg_restore``) connect over TCP and run as whoever we are.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from alyxserver.layout import DATABASE_NAME, DB_USER, Layout, log

SERVER_USER = "postgres"
MAX_SOCKET_PATH = 100  # unix socket paths are limited to 107 bytes


class PostgresError(RuntimeError):
    """PostgreSQL is missing or misbehaved; the message says what to do."""


def find_bin_dir() -> Path:
    """Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<major>/bin."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True):
        if Path(candidate, "initdb").is_file():
            return Path(candidate)
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresError(
        "PostgreSQL server programs (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin "
        "or on PATH. Install them with: apt-get install -y postgresql"
    )


def _major(path: str) -> int:
    try:
        return int(Path(path).parent.name.split(".")[0])
    except ValueError:
        return 0


class Postgres:
    """One cluster: its data folder, port and the programs to drive it."""

    def __init__(self, layout: Layout, port: int | None = None) -> None:
        self.layout = layout
        self.bin_dir = find_bin_dir()
        self.port = port
        self.as_root = os.geteuid() == 0

    def major_version(self) -> str:
        """e.g. "15", from ``pg_ctl --version`` ("pg_ctl (PostgreSQL) 15.14 ...")."""
        out = subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "--version"], capture_output=True, text=True
        ).stdout
        words = out.split()
        return words[2].split(".")[0] if len(words) > 2 else out.strip()

    # -- server side ------------------------------------------------------------------
    def initdb(self) -> None:
        """Create the cluster once; ``reset`` deletes it."""
        if (self.layout.pgdata / "PG_VERSION").is_file():
            return
        log.info("initdb %s", self.layout.pgdata)
        self.layout.pgdata.mkdir(parents=True, exist_ok=True)
        self.check_reachable()
        self.layout.pg_socket_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user(self.layout.pgdata, self.layout.pg_socket_dir)
        os.chmod(self.layout.pgdata, 0o700)
        self._run_server_program(
            "initdb",
            "-D",
            str(self.layout.pgdata),
            "-U",
            DB_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def check_reachable(self) -> None:
        """As root, the ``postgres`` user must be able to reach ALYX_LOCAL_HOME."""
        if not self.as_root:
            return
        probe = ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(self.layout.home)]
        if subprocess.run(probe, stdin=subprocess.DEVNULL).returncode != 0:
            raise PostgresError(
                f"the '{SERVER_USER}' system user cannot reach {self.layout.home} (a parent "
                "folder is not world-executable); set ALYX_LOCAL_HOME to a folder it can reach"
            )

    def start(self) -> None:
        assert self.port is not None
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        self.layout.pg_socket_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user(self.layout.pg_socket_dir)
        self._prepare_log()
        socket_dir = str(self.layout.pg_socket_dir)
        if len(socket_dir) > MAX_SOCKET_PATH:
            socket_dir = ""  # TCP only; we never use the socket anyway
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off "
            f"-c unix_socket_directories='{socket_dir}'"
        )
        log.info("starting PostgreSQL on 127.0.0.1:%d", self.port)
        self._run_server_program(
            "pg_ctl",
            "start",
            "-D",
            str(self.layout.pgdata),
            "-l",
            str(self.layout.pg_log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )

    def is_running(self) -> bool:
        if not (self.layout.pgdata / "PG_VERSION").is_file():
            return False
        result = self._run_server_program(
            "pg_ctl", "status", "-D", str(self.layout.pgdata), check=False
        )
        return result.returncode == 0

    def postmaster_pid(self) -> int | None:
        pid_file = self.layout.pgdata / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if not self.is_running():
            return
        log.info("stopping PostgreSQL")
        self._run_server_program(
            "pg_ctl", "stop", "-D", str(self.layout.pgdata), "-m", "fast", "-w", "-t", "60"
        )

    # -- client side ------------------------------------------------------------------
    def recreate_database(self) -> None:
        """An empty ``alyx`` database, to restore the seed into."""
        self.psql(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{DATABASE_NAME}"')

    def has_database(self) -> bool:
        """Whether the cluster holds an ``alyx`` database (a kept one, or a stale one)."""
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        return self.psql(query).strip() == "1"

    def psql(self, sql: str) -> str:
        """Run ``sql`` in the ``postgres`` database; its unaligned output."""
        return self._run_client(
            "psql", "-v", "ON_ERROR_STOP=1", "-q", "-tA", "-d", "postgres", "-c", sql
        )

    def dump(self, target: Path) -> None:
        partial = target.with_suffix(".partial")
        self._run_client("pg_dump", "-Fc", "-d", DATABASE_NAME, "-f", str(partial))
        partial.replace(target)  # never leave a half-written cache behind

    def restore(self, source: Path) -> None:
        # --no-acl: a migration grants to the role readaccess, which a new cluster lacks.
        self._run_client("pg_restore", "--no-owner", "--no-acl", "-d", DATABASE_NAME, str(source))

    # -- helpers ----------------------------------------------------------------------
    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER]

    def _run_client(self, program: str, *args: str) -> str:
        cmd = [str(self.bin_dir / program), *self._client_args(), *args]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresError(f"{program} failed: {result.stderr.strip()}")
        return result.stdout

    def _run_server_program(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / program), *args]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        # Never hand our stdout to the daemon: a caller reading it would wait forever.
        result = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd="/"
        )
        if check and result.returncode != 0:
            tail = _tail(self.layout.pg_log)
            raise PostgresError(
                f"{program} failed ({result.returncode}): {result.stderr.strip()}\n"
                f"{result.stdout.strip()}\n--- {self.layout.pg_log} ---\n{tail}"
            )
        return result

    def _prepare_log(self) -> None:
        self.layout.pg_log.touch()
        self._give_to_server_user(self.layout.pg_log)

    def _give_to_server_user(self, *paths: Path) -> None:
        if not self.as_root:
            return
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise PostgresError(
                f"running as root, but there is no '{SERVER_USER}' system user to run "
                "PostgreSQL as (initdb refuses root). Install the server with: "
                "apt-get install -y postgresql"
            ) from None
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
