"""Serving alyx-local with gunicorn, and ``server.json``, the record of what runs.

gunicorn runs detached (its own session, output to a log file, never our stdout: callers
such as the pytest fixture read our stdout until it closes). Readiness is "any HTTP
answer" from ``/api/server-info``, which answers 403 without a token. ``server.json``
tells later commands (and other tools) the URLs, ports and pids; a recorded server
counts as running only if it still answers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from alyxserver.alyxmanage import alyx_env
from alyxserver.layout import Layout, log

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
WORKERS = 2  # ALYX_LOCAL_WORKERS overrides it (benchmarks)


class ServerError(RuntimeError):
    """gunicorn did not come up; the message has the tail of its log."""


def free_port() -> int:
    """A port nobody listens on now (the tiny race with other programs is acceptable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_to_serve(layout: Layout, chosen: int | None = None) -> int:
    """The port chosen, else the port of the last start when it is free again, else a new one.

    A stable address keeps what users saved for it (settings, tokens) valid across restarts.
    """
    if chosen is not None:
        if not _is_free(chosen):
            raise ServerError(
                f"port {chosen} is in use: choose another with --port (or ALYX_LOCAL_PORT)"
            )
        return chosen
    last = _read_int(layout.last_port)
    if last and _is_free(last):
        return last
    return free_port()


def _is_free(port: int) -> bool:
    """Free as gunicorn will find it: SO_REUSEADDR, as it binds (TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def answers(base_url: str, timeout: float = 2.0) -> bool:
    """True if an HTTP server answers at ``base_url`` (whatever the status)."""
    try:
        with urllib.request.urlopen(base_url + "/api/server-info", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # 403 without a token: up
    except (OSError, ValueError):
        return False


def start_gunicorn(layout: Layout, pg_port: int, port: int) -> int:
    """Start gunicorn detached and return its master's pid."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.gunicorn_pid.unlink(missing_ok=True)
    cmd = [
        str(layout.venv_bin("gunicorn")),
        "alyx.base.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        os.environ.get("ALYX_LOCAL_WORKERS") or str(WORKERS),
        "--timeout",
        "120",
        "--pid",
        str(layout.gunicorn_pid),
    ]
    log.info("starting gunicorn on 127.0.0.1:%d (log: %s)", port, layout.gunicorn_log)
    with open(layout.gunicorn_log, "w", encoding="utf-8") as out:  # this start only
        process = subprocess.Popen(
            cmd,
            env=alyx_env(layout, pg_port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=str(layout.home),
            start_new_session=True,  # survives us; stop() can signal the whole group
        )
    return process.pid


def wait_ready(layout: Layout, base_url: str, pid: int, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(base_url):
            return
        if not pid_alive(pid):
            raise ServerError(f"gunicorn exited during start-up\n{log_tail(layout.gunicorn_log)}")
        time.sleep(0.2)
    raise ServerError(
        f"gunicorn did not answer at {base_url} within {timeout:.0f} s\n"
        f"{log_tail(layout.gunicorn_log)}"
    )


def stop_gunicorn(layout: Layout, recorded_pid: int | None = None) -> None:
    """Stop gunicorn's master (it stops its workers); kill the group if it lingers."""
    pids = {p for p in (recorded_pid, _read_int(layout.gunicorn_pid)) if p}
    for pid in pids:
        if not _is_our_gunicorn(pid, layout):
            continue
        log.info("stopping gunicorn (pid %d)", pid)
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            log.warning("gunicorn did not stop in %.0f s: killing it", STOP_TIMEOUT)
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _wait_group_gone(pid)
    layout.gunicorn_pid.unlink(missing_ok=True)


def _wait_group_gone(pgid: int) -> None:
    """Workers exit right after the master; do not report 'stopped' before they have."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not any(_pgid(int(p)) == pgid for p in os.listdir("/proc") if p.isdigit()):
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _pgid(pid: int) -> int | None:
    try:
        if _state(pid) == "Z":
            return None
        return os.getpgid(pid)
    except OSError:
        return None


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _read_int(path: Path) -> int | None:
    """The integer in a small file (a pid, a port), or None."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _state(pid: int) -> str:
    """The process state letter from /proc ('Z' for a zombie), or '' if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie (a detached child may be reaped late, or never, in containers)."""
    state = _state(pid)
    if state:
        return state != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not Path("/proc").is_dir()


def _is_our_gunicorn(pid: int, layout: Layout) -> bool:
    """Never signal a pid that was recycled by an unrelated process."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True  # no /proc to check against: trust our own pid file
    return "gunicorn" in cmdline and str(layout.gunicorn_pid) in cmdline


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


# -- server.json --------------------------------------------------------------------------
def write_state(layout: Layout, state: dict) -> None:
    layout.last_port.write_text(f"{state['port']}\n")
    partial = layout.server_json.with_suffix(".partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(layout.server_json)


def read_state(layout: Layout) -> dict | None:
    try:
        return json.loads(layout.server_json.read_text())
    except (OSError, ValueError):
        return None


def describe(base_url: str, pg_port: int, pids: dict, layout: Layout, seed_hash: str) -> dict:
    return {
        "url": base_url + "/api",
        "base_url": base_url,
        "port": int(base_url.rsplit(":", 1)[1]),
        "pg_port": pg_port,
        "pids": pids,
        "home": str(layout.home),
        "seed_hash": seed_hash,
        "gunicorn_log": str(layout.gunicorn_log),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
